//! The append-only incident journal: the single source of truth.
//!
//! One JSON event per line. Appends from any number of processes are serialised with an
//! exclusive `flock`, and an append returns only once the line is on disk (`fsync`), so
//! anything shown as saved survives a crash. Reading never fails on damage it can skip:
//! torn, corrupt, oversized lines and lines from a newer warroom are reported with their line
//! numbers and skipped, so no line can stop a journal from opening or being appended to.

mod author;
pub mod dir;
mod event;
mod reader;
mod scan;
mod wire;
mod writer;

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

pub use author::default_author;
pub use dir::{DirError, Sharing};
pub use event::{Audience, CheckState, Event, EventBody, Milestone, Mode, SCHEMA_VERSION, Status, format_ts};
pub use reader::{KEPT_PROBLEMS, LineProblem, MAX_LINE_BYTES, ProblemKind, Scan, decode_line};
pub use writer::{WriteError, WriteResult, Writer};

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
    /// Opening refused: a link or special file, a permission problem (with its fix).
    #[error(transparent)]
    Dir(Box<DirError>),
}

impl From<DirError> for JournalError {
    fn from(e: DirError) -> Self {
        JournalError::Dir(Box::new(e))
    }
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
    /// Who shares the files beside it (the poller lock, live figures, scorecards).
    sharing: Sharing,
    /// False for a viewer's journal: opened for reading only.
    writable: bool,
    /// Worth telling the operator on opening: the directory's permissions, or why this
    /// journal is only viewed.
    notices: Vec<String>,
    /// For a journal opened read-only because this user may not write it: the permission
    /// problem, with its fix.
    why_read_only: Option<String>,
}

impl Journal {
    /// Opens (creating with mode 0600 if needed) and replays the journal at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<(Journal, Scan), JournalError> {
        Self::open_with(path, &Sharing::PRIVATE)
    }

    /// As [`Journal::open`], sharing the files as `sharing` says. A missing directory is
    /// created (0700, or 3770 and group-owned when shared); a journal this call creates gets
    /// the sharing's mode and group. Never through a link; a permission problem is an error
    /// that names the path, what was found there and the fix.
    pub fn open_with(path: impl AsRef<Path>, sharing: &Sharing) -> Result<(Journal, Scan), JournalError> {
        let path = path.as_ref().to_path_buf();
        let mut notices = Vec::new();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            notices = dir::prepare_dir(dir, sharing)?;
        }
        let (file, _) = dir::open_shared_rw(&path, sharing, true)?;
        let journal = Journal { path, file, sharing: sharing.clone(), writable: true, notices, why_read_only: None };
        let mut scan = Scan::default();
        journal.read_more(&mut scan)?;
        Ok((journal, scan))
    }

    /// Opens an existing journal for following only: appends fail (read-only viewers).
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<(Journal, Scan), JournalError> {
        let path = path.as_ref().to_path_buf();
        let file = dir::open_read(&path, u64::MAX)?;
        let journal = Journal {
            path,
            file,
            sharing: Sharing::PRIVATE,
            writable: false,
            notices: Vec::new(),
            why_read_only: None,
        };
        let mut scan = Scan::default();
        journal.read_more(&mut scan)?;
        Ok((journal, scan))
    }

    /// Bytes in the file now: a follower checks this before reading.
    pub fn size(&self) -> Result<u64, JournalError> {
        self.file.metadata().map(|m| m.len()).map_err(|e| JournalError::io(&self.path, e))
    }

    /// As [`Journal::open`] for a war room shared with `group` (the config's `journal_group`):
    /// files are created 0660 and group-owned, so every member can append. A user who may
    /// read the journal but not write it gets it opened read-only ([`Journal::writable`] is
    /// false), with a notice saying why.
    pub fn open_shared(path: impl AsRef<Path>, group: Option<&str>) -> Result<(Journal, Scan), JournalError> {
        let path = path.as_ref();
        let sharing = Sharing::from_config(group)?;
        match Self::open_with(path, &sharing) {
            Err(JournalError::Dir(denied)) if matches!(*denied, DirError::Permission { .. }) => {
                let Ok((mut journal, scan)) = Self::open_read_only(path) else { return Err(JournalError::Dir(denied)) };
                journal.sharing = sharing;
                journal.notices.push(format!("{denied}; you can read this journal: opened as a read-only viewer"));
                journal.why_read_only = Some(denied.to_string());
                Ok((journal, scan))
            }
            other => other,
        }
    }

    /// Reads a journal without creating or writing it (reports, validation, read-only viewers).
    pub fn read(path: impl AsRef<Path>) -> Result<Scan, JournalError> {
        let path = path.as_ref();
        let file = dir::open_read(path, u64::MAX)?;
        let mut scan = Scan::default();
        read_settled(path, &file, &mut scan)?;
        Ok(scan)
    }

    /// Who shares the files beside this journal.
    pub fn sharing(&self) -> &Sharing {
        &self.sharing
    }

    /// False when this journal was opened for reading only.
    pub fn writable(&self) -> bool {
        self.writable
    }

    /// Why a journal opened by [`Journal::open_shared`] is read-only, if it is.
    pub fn why_read_only(&self) -> Option<&str> {
        self.why_read_only.as_deref()
    }

    /// What the operator should be told on opening (already plain text, one item each).
    pub fn notices(&self) -> &[String] {
        &self.notices
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
        if !self.writable {
            let why = io::Error::new(io::ErrorKind::PermissionDenied, "opened read-only: nothing is written");
            return Err(JournalError::io(&self.path, why));
        }
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
