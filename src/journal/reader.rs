//! Reading journal lines: bounded in length, tolerant of damage, precise about where.

use std::io::{self, BufRead};
use std::path::Path;

use super::JournalError;
use super::event::{Event, SCHEMA_VERSION};
use super::recent::RecentIds;
use crate::sanitize::sanitize_str;

/// Longest line accepted. A journal shared between users may hold a forged giant line;
/// it is skipped and reported, never loaded whole into memory. Appends refuse longer lines,
/// so nothing acknowledged as written is skipped by a reader.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Skipped lines kept in full (and shown as warnings); later ones are only counted, so a
/// journal of a million garbage lines costs no memory and no screenful of warnings.
pub const KEPT_PROBLEMS: usize = 20;

/// Longest reason kept for a corrupt line: decoder messages quote the offending value, which
/// may be most of a 1 MiB line.
const MAX_REASON_CHARS: usize = 200;

/// A line that was skipped, and why. Displayed as `path:line: reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineProblem {
    pub line: usize,
    pub kind: ProblemKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// The last line has no newline: a writer died mid-append.
    Torn { bytes: usize },
    /// The line is not a valid event.
    Corrupt { reason: String },
    /// The line is longer than [`MAX_LINE_BYTES`].
    TooLong { bytes: usize },
    /// The line was written by a newer warroom, with a schema this build cannot read.
    Newer { version: u32 },
}

impl LineProblem {
    /// The warning, sanitised: paths and reasons quote bytes from the journal and the command
    /// line, and warnings go to terminals.
    pub fn describe(&self, path: &Path) -> String {
        sanitize_str(&self.describe_raw(path), 1000)
    }

    fn describe_raw(&self, path: &Path) -> String {
        let where_ = format!("{}:{}", path.display(), self.line);
        match &self.kind {
            ProblemKind::Torn { bytes } => format!(
                "{where_}: last line is incomplete ({bytes} bytes, no newline; a writer stopped mid-append) — skipped"
            ),
            ProblemKind::Corrupt { reason } => format!("{where_}: not a valid event ({reason}) — skipped"),
            ProblemKind::TooLong { bytes } => {
                format!("{where_}: line is {bytes} bytes, over the {MAX_LINE_BYTES}-byte limit — skipped")
            }
            ProblemKind::Newer { version } => format!(
                "{where_}: written by a newer warroom (journal schema v{version}; this build reads up to \
                 v{SCHEMA_VERSION}) — skipped; upgrade warroom to see it"
            ),
        }
    }
}

/// The result of reading a stretch of journal.
#[derive(Debug, Default)]
pub struct Scan {
    pub events: Vec<Event>,
    /// The first [`KEPT_PROBLEMS`] skipped lines, in file order.
    pub problems: Vec<LineProblem>,
    /// Every skipped line, those past [`KEPT_PROBLEMS`] included (the torn tail excluded).
    pub problem_count: usize,
    /// Skipped lines written by a newer warroom: the screen asks for an upgrade.
    pub newer: usize,
    /// Byte offset just past the last complete line read; a follower resumes here.
    pub end_offset: u64,
    /// Number of complete lines read so far (the next line's number is this + 1).
    pub lines: usize,
    /// Bytes after `end_offset` that did not end in a newline (torn or still being written).
    pub partial_tail: usize,
    /// The ids read last: an event written again by a retried write is delivered once.
    pub(super) recent: RecentIds,
}

impl Scan {
    /// Records a skipped line: counted always, kept while fewer than [`KEPT_PROBLEMS`] are.
    pub(super) fn skip(&mut self, line: usize, kind: ProblemKind) {
        self.problem_count += 1;
        if matches!(kind, ProblemKind::Newer { .. }) {
            self.newer += 1;
        }
        if self.problems.len() < KEPT_PROBLEMS {
            let kind = match kind {
                ProblemKind::Corrupt { reason } => {
                    ProblemKind::Corrupt { reason: sanitize_str(&reason, MAX_REASON_CHARS) }
                }
                other => other,
            };
            self.problems.push(LineProblem { line, kind });
        }
    }

    /// What the screen shows while lines from a newer warroom are skipped; `None` if there are none.
    pub fn newer_banner(&self) -> Option<String> {
        match self.newer {
            0 => None,
            1 => Some("1 entry from a newer warroom was skipped — upgrade".to_string()),
            n => Some(format!("{n} entries from a newer warroom were skipped — upgrade")),
        }
    }
}

enum RawLine {
    Complete(usize),
    TooLong(usize),
    Partial(usize),
    Eof,
}

/// Reads one line into `buf` (without its newline), keeping at most `cap` bytes.
fn next_line<R: BufRead>(r: &mut R, buf: &mut Vec<u8>, cap: usize) -> io::Result<RawLine> {
    buf.clear();
    let mut total = 0usize;
    loop {
        let avail = match r.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok(if total == 0 { RawLine::Eof } else { RawLine::Partial(total) });
        }
        let (chunk, found) = match memchr::memchr(b'\n', avail) {
            Some(i) => (i, true),
            None => (avail.len(), false),
        };
        let room = cap.saturating_sub(buf.len());
        buf.extend_from_slice(&avail[..chunk.min(room)]);
        total += chunk;
        r.consume(if found { chunk + 1 } else { chunk });
        if found {
            return Ok(if total > cap { RawLine::TooLong(total) } else { RawLine::Complete(total) });
        }
    }
}

/// Decodes one line (without its newline). `Ok(None)` for a blank line.
pub fn decode_line(line: &[u8]) -> Result<Option<Event>, LineDecodeError> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    // Validating UTF-8 once up front is cheaper than serde_json checking each string.
    let text = std::str::from_utf8(line).map_err(|e| LineDecodeError::Invalid(format!("not UTF-8: {e}")))?;
    match serde_json::from_str::<Event>(text) {
        Ok(event) => check_version(event),
        Err(e) => {
            // A newer schema may not even parse as today's events: look at `v` alone so
            // the operator is told to upgrade rather than that the journal is corrupt.
            #[derive(serde::Deserialize)]
            struct VersionOnly {
                v: u32,
            }
            match serde_json::from_str::<VersionOnly>(text) {
                Ok(VersionOnly { v }) if v > SCHEMA_VERSION => Err(LineDecodeError::NewerSchema(v)),
                _ => Err(LineDecodeError::Invalid(e.to_string())),
            }
        }
    }
}

fn check_version(event: Event) -> Result<Option<Event>, LineDecodeError> {
    if event.v > SCHEMA_VERSION { Err(LineDecodeError::NewerSchema(event.v)) } else { Ok(Some(event)) }
}

#[derive(Debug)]
pub enum LineDecodeError {
    NewerSchema(u32),
    Invalid(String),
}

/// Reads complete lines from `r`, which is positioned at `scan.end_offset`, appending to `scan`.
/// A trailing line without newline is left unconsumed and measured in `partial_tail`.
pub fn scan_into<R: BufRead>(r: &mut R, path: &Path, scan: &mut Scan) -> Result<(), JournalError> {
    let mut buf = Vec::with_capacity(512);
    scan.partial_tail = 0;
    loop {
        let raw = next_line(r, &mut buf, MAX_LINE_BYTES).map_err(|e| JournalError::io(path, e))?;
        let consumed = match raw {
            RawLine::Eof => return Ok(()),
            RawLine::Partial(n) => {
                scan.partial_tail = n;
                return Ok(());
            }
            RawLine::TooLong(n) => {
                scan.lines += 1;
                scan.skip(scan.lines, ProblemKind::TooLong { bytes: n });
                n + 1
            }
            RawLine::Complete(n) => {
                scan.lines += 1;
                match decode_line(&buf) {
                    Ok(Some(event)) if scan.recent.first_sighting(&event.id) => scan.events.push(event),
                    // The same event again: a write that failed after this line landed was retried.
                    Ok(Some(_)) => {}
                    Ok(None) => {}
                    Err(LineDecodeError::NewerSchema(version)) => scan.skip(scan.lines, ProblemKind::Newer { version }),
                    Err(LineDecodeError::Invalid(reason)) => scan.skip(scan.lines, ProblemKind::Corrupt { reason }),
                }
                n + 1
            }
        };
        scan.end_offset += consumed as u64;
    }
}

#[cfg(test)]
impl Scan {
    /// Panics, saying `context`, unless both scans read the same lines with the same outcome.
    pub(super) fn assert_same(&self, expected: &Scan, context: &str) {
        assert_eq!(self.events, expected.events, "{context}");
        assert_eq!(self.problems, expected.problems, "{context}");
        assert_eq!(
            (self.lines, self.end_offset, self.partial_tail, self.problem_count, self.newer),
            (expected.lines, expected.end_offset, expected.partial_tail, expected.problem_count, expected.newer),
            "{context}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::EventBody;

    fn journal_bytes() -> Vec<u8> {
        let mut bytes = Vec::new();
        for i in 0..40 {
            let event = Event::new("alice@bastion1", EventBody::NoteAdded { text: format!("note {i} ✓ \"quoted\"") });
            serde_json::to_writer(&mut bytes, &event).unwrap();
            bytes.extend_from_slice(if i % 3 == 0 { b"\r\n" } else { b"\n" });
            match i {
                5 => bytes.extend_from_slice(b"   \n"),
                9 => bytes.extend_from_slice(b"{\"v\":1,\"kind\":\"nonsense\"}\n"),
                17 => bytes
                    .extend_from_slice(&[b'x'; MAX_LINE_BYTES + 3].iter().chain(b"\n").copied().collect::<Vec<_>>()),
                _ => {}
            }
        }
        bytes.extend_from_slice(b"{\"v\":1,\"id\":\"torn");
        bytes
    }

    /// Lines are read in place from the reader's buffer when they fit and gathered across
    /// refills when they do not; both ways must give the same scan, whatever the buffer size.
    #[test]
    fn the_scan_does_not_depend_on_where_buffer_refills_fall() {
        let bytes = journal_bytes();
        let scan_with = |capacity: usize| {
            let mut scan = Scan::default();
            let mut reader = io::BufReader::with_capacity(capacity, &bytes[..]);
            scan_into(&mut reader, Path::new("j.jsonl"), &mut scan).unwrap();
            scan
        };
        let reference = scan_with(4 << 20);
        assert_eq!(reference.events.len(), 40);
        assert_eq!(reference.problems.iter().map(|p| p.line).collect::<Vec<_>>(), vec![12, 21]);
        assert_eq!(reference.problems[1].kind, ProblemKind::TooLong { bytes: MAX_LINE_BYTES + 3 });
        assert_eq!(reference.partial_tail, b"{\"v\":1,\"id\":\"torn".len());
        assert_eq!(reference.end_offset as usize, bytes.len() - reference.partial_tail);
        for capacity in [1, 2, 7, 64, 333, 4096, MAX_LINE_BYTES] {
            scan_with(capacity).assert_same(&reference, &format!("buffer of {capacity} bytes"));
        }
    }
}
