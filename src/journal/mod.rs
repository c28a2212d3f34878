//! The append-only incident journal: the single source of truth.
//!
//! One JSON event per line. Appends from any number of processes are serialised with an
//! exclusive `flock`, and an append returns only once the line is on disk (`fsync`), so
//! anything shown as saved survives a crash. Reading never fails on damage it can skip:
//! torn, corrupt, oversized lines and lines from a newer warroom are reported with their line
//! numbers and skipped, so no line can stop a journal from opening or being appended to.

mod author;
pub mod chain;
pub mod dir;
mod event;
mod place;
mod reader;
mod recent;
mod scan;
mod wire;
mod writer;

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

pub use author::{default_author, os_account};
pub use dir::{DirError, Sharing, journals_in};
pub use event::{Audience, CheckState, Event, EventBody, Milestone, Mode, SCHEMA_VERSION, Status, format_ts};
pub use place::{Moved, PathState};
pub use reader::{KEPT_PROBLEMS, LineProblem, MAX_LINE_BYTES, ProblemKind, Scan, decode_line};
pub use writer::{Ack, MAX_PENDING_BYTES, MAX_PENDING_EVENTS, Retry, WriteError, WriteResult, Writer};

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
    /// The file at the journal's path is no longer the one this process opened.
    #[error("{}: {why}", path.display())]
    Moved { path: PathBuf, why: String },
    /// Lines from elsewhere (a mirror's primary) that do not continue this journal's chain.
    #[error("{}: {why}", path.display())]
    Chain { path: PathBuf, why: String },
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
    /// The open file. Replaced only when the file at `path` was deleted or replaced and a
    /// new one taken up (see [`Journal::reattach`]); readers and the writer take a clone.
    file: RwLock<Arc<File>>,
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
    /// The file's length after this process's last append and the link to its last line: the
    /// next append chains on without reading the file back, unless someone else appended.
    tail: Mutex<Option<(u64, String)>>,
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
        let mut journal = Journal::of(path, file);
        journal.sharing = sharing.clone();
        journal.notices = notices;
        let mut scan = Scan::default();
        journal.read_more(&mut scan)?;
        Ok((journal, scan))
    }

    fn of(path: PathBuf, file: File) -> Journal {
        Journal {
            path,
            file: RwLock::new(Arc::new(file)),
            sharing: Sharing::PRIVATE,
            writable: true,
            notices: Vec::new(),
            why_read_only: None,
            tail: Mutex::new(None),
        }
    }

    /// The file now open (see [`Journal::reattach`]).
    fn file(&self) -> Arc<File> {
        self.file.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Opens an existing journal for following only: appends fail (read-only viewers).
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<(Journal, Scan), JournalError> {
        let path = path.as_ref().to_path_buf();
        let file = dir::open_read(&path, u64::MAX)?;
        let mut journal = Journal::of(path, file);
        journal.writable = false;
        let mut scan = Scan::default();
        journal.read_more(&mut scan)?;
        Ok((journal, scan))
    }

    /// Bytes in the file now: a follower checks this before reading.
    pub fn size(&self) -> Result<u64, JournalError> {
        self.file().metadata().map(|m| m.len()).map_err(|e| JournalError::io(&self.path, e))
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
        read_settled(&self.path, &self.file(), scan)
    }

    /// An event's line as written: JSON with every character a terminal could act on escaped
    /// (serde_json escapes C0 controls only; C1 and bidirectional overrides from a probed
    /// server or an alert's labels would reach whoever runs `tail -f` on the journal).
    fn encode(&self, event: &Event) -> Result<Vec<u8>, JournalError> {
        let json =
            serde_json::to_string(event).map_err(|source| JournalError::Encode { path: self.path.clone(), source })?;
        Ok(crate::sanitize::json_for_terminal(&json).into_bytes())
    }

    /// Refuses an event whose line would be over [`MAX_LINE_BYTES`], without writing.
    pub fn check_size(&self, event: &Event) -> Result<(), JournalError> {
        let bytes = self.encode(event)?.len() + chain::ATTACHED_BYTES;
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
    ///
    /// A write that fails may have partly landed. Complete lines that landed stay (a reader may
    /// have read them already; the retry writes them again and readers skip an id they have
    /// seen); a torn last line is cut off, now or before the next append, so a retry never
    /// glues onto it. Nothing is ever written into a file no longer at the journal's path:
    /// that is [`JournalError::Moved`], and [`Journal::reattach`] takes up the file there.
    pub fn append_all(&self, events: &[Event]) -> Result<(), JournalError> {
        if !self.writable {
            let why = io::Error::new(io::ErrorKind::PermissionDenied, "opened read-only: nothing is written");
            return Err(JournalError::io(&self.path, why));
        }
        let mut lines = Vec::with_capacity(events.len());
        for event in events {
            let line = self.encode(event)?;
            let bytes = line.len() + chain::ATTACHED_BYTES;
            if bytes > MAX_LINE_BYTES {
                return Err(JournalError::TooLarge { path: self.path.clone(), bytes, limit: MAX_LINE_BYTES });
            }
            lines.push(line);
        }
        self.append_locked(|file, len| {
            let (bytes, head) = self.chained(lines, file, len).map_err(|e| JournalError::io(&self.path, e))?;
            Ok((bytes, head, ()))
        })
    }

    /// Appends what `build` makes, given the file and its length once a torn tail is cut,
    /// under the exclusive lock, with one `fsync`; remembers the chain head `build` returns.
    /// A file no longer at the journal's path is [`JournalError::Moved`].
    fn append_locked<T>(
        &self,
        build: impl FnOnce(&File, u64) -> Result<(Vec<u8>, String, T), JournalError>,
    ) -> Result<T, JournalError> {
        let file = self.file();
        let io_err = |e| JournalError::io(&self.path, e);
        let _guard = FileLock::exclusive(&file).map_err(io_err)?;
        if let state @ (PathState::Deleted | PathState::Replaced(_)) = place::path_state(&self.path, &file) {
            return Err(JournalError::Moved { path: self.path.clone(), why: state.describe() });
        }
        // A writer killed (or failed) mid-line left a torn tail: nobody was told it was written.
        let len = cut_torn_tail(&file).map_err(io_err)?;
        let (bytes, head, out) = build(&file, len)?;
        // O_APPEND plus the exclusive lock: the whole batch lands contiguously at the end.
        let written = (&*file).write_all(&bytes).and_then(|()| file.sync_data());
        let mut tail = self.tail.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = written {
            *tail = None;
            let _ = cut_torn_tail_after(&file, len);
            return Err(io_err(e));
        }
        *tail = Some((len + bytes.len() as u64, head));
        Ok(out)
    }

    /// Appends lines written elsewhere, byte for byte (a mirror's copy of its primary), with
    /// one lock and one `fsync`. A line carrying `prev` must continue the chain; each line
    /// must be a complete journal line (the caller checks). Returns the link to the last
    /// line: the new chain head.
    pub fn append_lines(&self, lines: &[Vec<u8>]) -> Result<String, JournalError> {
        self.append_locked(|file, len| {
            let mut head = self.last_link(file, len).map_err(|e| JournalError::io(&self.path, e))?;
            let mut bytes = Vec::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
            for line in lines {
                if let Some(prev) = chain::head_of(line).prev
                    && prev != head
                {
                    let why =
                        format!("a line does not continue the chain: its `prev` is {prev}, the journal's head {head}");
                    let why = crate::sanitize::sanitize_str(&why, 200);
                    return Err(JournalError::Chain { path: self.path.clone(), why });
                }
                head = chain::link(line);
                bytes.extend_from_slice(line);
                bytes.push(b'\n');
            }
            Ok((bytes, head.clone(), head))
        })
    }

    /// The link to the last line of the file, `len` bytes long: cached after our own appends.
    fn last_link(&self, file: &File, len: u64) -> io::Result<String> {
        let cached = self.tail.lock().unwrap_or_else(|e| e.into_inner()).take();
        match cached {
            Some((end, head)) if end == len => Ok(head),
            _ => chain::link_to_last_line(file, len),
        }
    }

    /// The lines to append, each carrying the link to the one before it (the file's last
    /// line, `len` bytes in, for the first), and the link to the last. Call under the lock.
    fn chained(&self, lines: Vec<Vec<u8>>, file: &File, len: u64) -> io::Result<(Vec<u8>, String)> {
        let mut prev = self.last_link(file, len)?;
        let mut bytes = Vec::with_capacity(lines.iter().map(|l| l.len() + chain::ATTACHED_BYTES + 1).sum());
        for mut line in lines {
            chain::attach(&mut line, &prev);
            prev = chain::link(&line);
            bytes.extend_from_slice(&line);
            bytes.push(b'\n');
        }
        Ok((bytes, prev))
    }

    /// Forgets the chain head cached by the last append (the file was replaced).
    fn forget_tail(&self) {
        *self.tail.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// Cuts the file back to its last complete line, when what follows it could be a torn
/// journal line (at most [`MAX_LINE_BYTES`]); anything longer is not a line a writer tore,
/// so it is left alone and a newline ends it instead. Returns the length of the file, which
/// then ends with a newline (or is empty). Call under the exclusive lock.
fn cut_torn_tail(file: &File) -> io::Result<u64> {
    let len = file.metadata()?.len();
    let mut last = [0u8; 1];
    if len == 0 || (file.read_exact_at(&mut last, len - 1).is_ok() && last[0] == b'\n') {
        return Ok(len);
    }
    match last_line_end(file, len, 0)? {
        Some(end) if end == len => Ok(len),
        Some(end) => {
            file.set_len(end)?;
            Ok(end)
        }
        None => {
            (&*file).write_all(b"\n")?;
            Ok(len + 1)
        }
    }
}

/// After a failed write that began at `from`: cuts a torn line it left (the complete lines
/// it wrote stay).
fn cut_torn_tail_after(file: &File, from: u64) -> io::Result<()> {
    let len = file.metadata()?.len();
    if len > from
        && let Some(end) = last_line_end(file, len, from)?
        && end < len
    {
        file.set_len(end)?;
    }
    Ok(())
}

/// The offset just past the last newline before `len`, looking back no further than `floor`
/// nor than one journal line: `Some(floor)` when there is none after `floor` within that
/// reach, `None` when a newline is out of reach.
fn last_line_end(file: &File, len: u64, floor: u64) -> io::Result<Option<u64>> {
    let reach = len.saturating_sub(MAX_LINE_BYTES as u64 + 1).max(floor);
    let mut block = vec![0u8; 64 * 1024];
    let mut end = len;
    while end > reach {
        let start = end.saturating_sub(block.len() as u64).max(reach);
        let chunk = &mut block[..(end - start) as usize];
        file.read_exact_at(chunk, start)?;
        if let Some(i) = memchr::memrchr(b'\n', chunk) {
            return Ok(Some(start + i as u64 + 1));
        }
        end = start;
    }
    Ok((reach == floor).then_some(floor))
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
