//! The append-only incident journal: the single source of truth.
//!
//! One JSON event per line. Appends from any number of processes are serialised with an
//! exclusive `flock`, and an append returns only once the line is on disk (`fsync`), so
//! anything shown as saved survives a crash. Reading never fails on damage it can skip:
//! torn, corrupt, oversized lines and lines from a newer warroom are reported with their line
//! numbers and skipped, so no line can stop a journal from opening or being appended to.

mod author;
mod event;
mod reader;
mod scan;
mod wire;
mod writer;

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

pub use author::default_author;
pub use event::{Audience, CheckState, Event, EventBody, Milestone, Mode, SCHEMA_VERSION, Status, format_ts};
pub use reader::{KEPT_PROBLEMS, LineProblem, MAX_LINE_BYTES, ProblemKind, Scan, decode_line};
pub use writer::{WriteError, WriteResult, Writer};

/// Permissions for a new journal: the operator's alone, unless a shared war room asks for group access.
pub const PRIVATE_MODE: u32 = 0o600;
pub const SHARED_MODE: u32 = 0o660;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: cannot encode event: {source}", path.display())]
    Encode { path: PathBuf, source: serde_json::Error },
    #[error(
        "{}: not written: the entry would be a {bytes}-byte journal line, over the {limit}-byte limit \
         every reader enforces; shorten it or split it",
        path.display()
    )]
    TooLarge { path: PathBuf, bytes: usize, limit: usize },
}

impl JournalError {
    pub(crate) fn io(path: &Path, source: io::Error) -> Self {
        JournalError::Io { path: path.to_path_buf(), source }
    }
}

/// An open journal, ready for appending and for following other writers.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
}

impl Journal {
    /// Opens (creating with mode 0600 if needed) and replays the journal at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<(Journal, Scan), JournalError> {
        Self::open_with_mode(path, PRIVATE_MODE)
    }

    /// As [`Journal::open`], with the permission bits used if the file is created.
    pub fn open_with_mode(path: impl AsRef<Path>, mode: u32) -> Result<(Journal, Scan), JournalError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| JournalError::io(dir, e))?;
        }
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(mode)
            .open(&path)
            .map_err(|e| JournalError::io(&path, e))?;
        let journal = Journal { path, file };
        let mut scan = Scan::default();
        journal.read_more(&mut scan)?;
        Ok((journal, scan))
    }

    /// Opens an existing journal for following only: appends fail (read-only viewers).
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<(Journal, Scan), JournalError> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).map_err(|e| JournalError::io(&path, e))?;
        let journal = Journal { path, file };
        let mut scan = Scan::default();
        journal.read_more(&mut scan)?;
        Ok((journal, scan))
    }

    /// Bytes in the file now: a follower checks this before reading.
    pub fn size(&self) -> Result<u64, JournalError> {
        self.file.metadata().map(|m| m.len()).map_err(|e| JournalError::io(&self.path, e))
    }

    /// As [`Journal::open`] for a shared war room: a journal this call creates is readable and
    /// writable by `group` (mode 0660, group-owned), so every on-call operator can append.
    pub fn open_shared(path: impl AsRef<Path>, group: Option<&str>) -> Result<(Journal, Scan), JournalError> {
        let path = path.as_ref();
        let Some(group) = group else { return Self::open(path) };
        let gid = group_id(group).ok_or_else(|| {
            JournalError::io(
                path,
                io::Error::new(io::ErrorKind::NotFound, format!("no such group \"{group}\" (journal_group)")),
            )
        })?;
        let existed = path.exists();
        let (journal, scan) = Self::open_with_mode(path, SHARED_MODE)?;
        if !existed {
            use std::os::unix::fs::PermissionsExt;
            std::os::unix::fs::fchown(&journal.file, None, Some(gid)).map_err(|e| JournalError::io(path, e))?;
            // The creation mode passes through the umask (usually dropping group write).
            journal
                .file
                .set_permissions(std::fs::Permissions::from_mode(SHARED_MODE))
                .map_err(|e| JournalError::io(path, e))?;
        }
        Ok((journal, scan))
    }

    /// Reads a journal without creating or writing it (reports, validation, read-only viewers).
    pub fn read(path: impl AsRef<Path>) -> Result<Scan, JournalError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| JournalError::io(path, e))?;
        let mut scan = Scan::default();
        read_settled(path, &file, &mut scan)?;
        Ok(scan)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Continues a previous scan: reads the lines other writers appended since `scan.end_offset`.
    /// Problems and events found are added to those already in `scan`; pass a scan whose
    /// `events` were drained to receive only the new ones. On an error the scan is lost:
    /// followers use [`Journal::read_more`], which keeps it.
    pub fn read_from(&self, mut scan: Scan) -> Result<Scan, JournalError> {
        self.read_more(&mut scan)?;
        Ok(scan)
    }

    /// As [`Journal::read_from`], in place. On an error (the disk, not the journal's content:
    /// unreadable lines are skipped) `scan` keeps every line read before it, so a follower's
    /// position never goes backwards and nothing is delivered twice.
    pub fn read_more(&self, scan: &mut Scan) -> Result<(), JournalError> {
        read_settled(&self.path, &self.file, scan)
    }

    /// Refuses an event whose line would be over [`MAX_LINE_BYTES`], without writing.
    pub fn check_size(&self, event: &Event) -> Result<(), JournalError> {
        let bytes =
            serde_json::to_vec(event).map_err(|source| JournalError::Encode { path: self.path.clone(), source })?.len();
        if bytes > MAX_LINE_BYTES {
            return Err(JournalError::TooLarge { path: self.path.clone(), bytes, limit: MAX_LINE_BYTES });
        }
        Ok(())
    }

    /// Appends one event and returns once it is on disk.
    pub fn append(&self, event: &Event) -> Result<(), JournalError> {
        self.append_all(std::slice::from_ref(event))
    }

    /// Appends several events with one lock and one `fsync`; all or, on error, none are reported
    /// written. An event whose line would be over [`MAX_LINE_BYTES`] is refused before anything
    /// is written: every reader would skip it, so it must never be acknowledged.
    pub fn append_all(&self, events: &[Event]) -> Result<(), JournalError> {
        let mut bytes = Vec::with_capacity(256 * events.len());
        for event in events {
            let start = bytes.len();
            serde_json::to_writer(&mut bytes, event)
                .map_err(|source| JournalError::Encode { path: self.path.clone(), source })?;
            let line = bytes.len() - start;
            if line > MAX_LINE_BYTES {
                return Err(JournalError::TooLarge { path: self.path.clone(), bytes: line, limit: MAX_LINE_BYTES });
            }
            bytes.push(b'\n');
        }
        let io_err = |e| JournalError::io(&self.path, e);
        let _guard = FileLock::exclusive(&self.file).map_err(io_err)?;
        // A writer killed mid-line leaves a torn tail; start on a fresh line so the torn
        // bytes stay one skippable line and never corrupt this event.
        let len = self.file.metadata().map_err(io_err)?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            self.file.read_exact_at(&mut last, len - 1).map_err(io_err)?;
            if last[0] != b'\n' {
                bytes.insert(0, b'\n');
            }
        }
        // O_APPEND plus the exclusive lock: the whole batch lands contiguously at the end.
        (&self.file).write_all(&bytes).map_err(io_err)?;
        self.file.sync_data().map_err(io_err)?;
        Ok(())
    }
}

/// Reads from `scan.end_offset` to the end. A partial last line may be a writer still at
/// work: wait for the writers' lock and look again before calling it torn.
fn read_settled(path: &Path, file: &File, scan: &mut Scan) -> Result<(), JournalError> {
    scan::scan_file(path, file, scan)?;
    if scan.partial_tail == 0 {
        return Ok(());
    }
    let _shared = FileLock::shared(file).map_err(|e| JournalError::io(path, e))?;
    scan::scan_file(path, file, scan)
}

impl Scan {
    /// The torn-tail report, if the scan ended on an incomplete line (call after a settled read).
    pub fn torn_tail(&self) -> Option<LineProblem> {
        (self.partial_tail > 0)
            .then(|| LineProblem { line: self.lines + 1, kind: ProblemKind::Torn { bytes: self.partial_tail } })
    }

    /// The skipped lines, torn tail included, as sanitised `path:line: reason` messages: the first
    /// [`KEPT_PROBLEMS`], then one line counting the rest, so garbage never floods a terminal.
    pub fn warnings(&self, path: &Path) -> Vec<String> {
        let torn = self.torn_tail();
        let skipped = self.problem_count + usize::from(torn.is_some());
        let mut warnings: Vec<String> =
            self.problems.iter().chain(torn.as_ref()).take(KEPT_PROBLEMS).map(|p| p.describe(path)).collect();
        if skipped > warnings.len() {
            let more = skipped - warnings.len();
            warnings
                .push(crate::sanitize::sanitize_str(&format!("{}: and {more} more like these", path.display()), 1000));
        }
        warnings
    }
}

/// How many of a scan's skipped lines a follower has already warned about, so that each
/// skipped line is warned about once however many reads it takes to reach it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Warned {
    /// Of [`Scan::problem_count`].
    count: usize,
    /// Of [`Scan::problems`] (the kept ones).
    kept: usize,
}

impl Scan {
    /// Everything skipped so far, as warned about.
    pub fn warned(&self) -> Warned {
        Warned { count: self.problem_count, kept: self.problems.len() }
    }

    /// The warnings for lines skipped since `before` (the torn tail aside: a follower's last
    /// line may still be being written): each kept one in full, then one line counting the rest.
    pub fn warnings_since(&self, path: &Path, before: Warned) -> Vec<String> {
        let kept = self.problems.get(before.kept..).unwrap_or_default();
        let mut warnings: Vec<String> = kept.iter().map(|p| p.describe(path)).collect();
        let skipped = self.problem_count.saturating_sub(before.count);
        if skipped > warnings.len() {
            let more = skipped - warnings.len();
            warnings
                .push(crate::sanitize::sanitize_str(&format!("{}: and {more} more like these", path.display()), 1000));
        }
        warnings
    }
}

/// An OS advisory lock on the journal file, released on drop.
struct FileLock<'a>(&'a File);

impl<'a> FileLock<'a> {
    fn exclusive(file: &'a File) -> io::Result<Self> {
        file.lock()?;
        Ok(FileLock(file))
    }

    fn shared(file: &'a File) -> io::Result<Self> {
        file.lock_shared()?;
        Ok(FileLock(file))
    }
}

impl Drop for FileLock<'_> {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// The numeric id of a group name.
fn group_id(name: &str) -> Option<u32> {
    let cname = std::ffi::CString::new(name).ok()?;
    // SAFETY: getgrnam returns null or a pointer to static storage that is read at once.
    let gr = unsafe { libc::getgrnam(cname.as_ptr()) };
    // SAFETY: checked non-null just above.
    (!gr.is_null()).then(|| unsafe { (*gr).gr_gid })
}
