//! Tamper evidence: each journal line carries `prev`, the hash of the line before it, so a
//! line edited, removed or inserted anywhere but at the very end breaks the chain at the
//! line after it — and a mirror holding the chain head notices even an edit at the end.
//!
//! `prev` is the first 16 bytes, in hex, of the SHA-256 of the previous line's bytes as they
//! are in the file (without the newline); the first line's is that of the empty string. The
//! field is written after the event's own fields and ignored by every reader that does not
//! verify, so journals stay readable by older warroom. Lines from before the chain existed
//! (no `prev`) are accepted as unchained until the first chained line; after it, every line
//! must carry the right one.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{JournalError, MAX_LINE_BYTES, dir};

/// Hex digits of a link: 16 bytes of SHA-256, enough that no edit finds a collision.
pub const LINK_HEX: usize = 32;

/// What attaching a link adds to a line: `,"prev":"…"`.
pub const ATTACHED_BYTES: usize = r#","prev":"""#.len() + LINK_HEX;

/// The link to a line: what the line after it carries as `prev`.
pub fn link(line: &[u8]) -> String {
    hex(&Sha256::digest(line)[..LINK_HEX / 2])
}

/// The `prev` of a journal's first line.
pub fn start() -> String {
    link(b"")
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Adds `"prev"` as the last field of the JSON object `line` (as serde writes an event: no
/// whitespace after its closing brace).
pub fn attach(line: &mut Vec<u8>, prev: &str) {
    debug_assert_eq!(line.last(), Some(&b'}'));
    line.pop();
    line.extend_from_slice(br#","prev":""#);
    line.extend_from_slice(prev.as_bytes());
    line.extend_from_slice(b"\"}");
}

/// The fields of a line the chain and the mirrors look at.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Head<'a> {
    #[serde(default, borrow)]
    pub id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub prev: Option<Cow<'a, str>>,
}

/// The id and `prev` of a line; both absent for a line that is not a JSON object.
pub fn head_of(line: &[u8]) -> Head<'_> {
    serde_json::from_slice(line).unwrap_or_default()
}

/// A place where the chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// 1-based line number.
    pub line: usize,
    pub why: String,
}

impl Break {
    pub fn describe(&self, path: &Path) -> String {
        crate::sanitize::sanitize_str(&format!("{}:{}: {}", path.display(), self.line, self.why), 400)
    }
}

/// Follows the chain line by line.
#[derive(Debug, Clone)]
pub struct Verifier {
    /// The link to the last line fed (the `prev` the next line must carry).
    head: String,
    lines: usize,
    /// The line the chain began at (the first carrying `prev`).
    chained_from: Option<usize>,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier { head: start(), lines: 0, chained_from: None }
    }
}

impl Verifier {
    /// Takes the next line (without its newline): `Err` if it breaks the chain. Either way
    /// the chain goes on from this line, so a single edit is reported once.
    pub fn feed(&mut self, line: &[u8]) -> Result<(), Break> {
        let prev = head_of(line).prev.map(Cow::into_owned);
        self.feed_with(prev.as_deref(), link(line))
    }

    /// As [`Verifier::feed`], with the line's `prev` and link already known.
    pub fn feed_with(&mut self, prev: Option<&str>, own: String) -> Result<(), Break> {
        self.lines += 1;
        let n = self.lines;
        let expected = std::mem::replace(&mut self.head, own);
        match (prev, self.chained_from) {
            (Some(p), _) if p == expected => {
                self.chained_from.get_or_insert(n);
                Ok(())
            }
            (Some(p), _) => {
                self.chained_from.get_or_insert(n);
                let what = if n == 1 { "the start of the journal" } else { "the line before" };
                Err(Break {
                    line: n,
                    why: format!(
                        "chain broken: `prev` is {}, but {what} hashes to {expected}: \
                         the line before was edited, or lines were removed or inserted here",
                        crate::sanitize::sanitize_str(p, LINK_HEX + 8)
                    ),
                })
            }
            (None, Some(from)) => Err(Break {
                line: n,
                why: format!(
                    "chain broken: no `prev`, though every line from line {from} carries one: \
                     inserted by hand or by a warroom older than the chain"
                ),
            }),
            (None, None) => Ok(()),
        }
    }

    /// Carries on after `lines` lines whose last links to `head` (a copy being extended).
    pub fn resume(&mut self, lines: usize, head: String, chained_from: Option<usize>) {
        *self = Verifier { head, lines, chained_from };
    }

    /// The link to the last line: the chain head.
    pub fn head(&self) -> &str {
        &self.head
    }

    pub fn lines(&self) -> usize {
        self.lines
    }

    pub fn chained_from(&self) -> Option<usize> {
        self.chained_from
    }
}

/// What [`verify`] found.
#[derive(Debug, Default)]
pub struct Report {
    pub lines: usize,
    pub chained_from: Option<usize>,
    /// The first few breaks, in file order.
    pub breaks: Vec<Break>,
    pub break_count: usize,
    pub head: String,
    /// The id of the last line (if it has one).
    pub last_id: Option<String>,
}

/// Follows the chain through the complete lines of the journal at `path`. Lines are hashed as
/// they stream by: a line of any length costs a bounded buffer.
pub fn verify(path: &Path) -> Result<Report, JournalError> {
    let file = dir::open_read(path, u64::MAX)?;
    verify_file(path, file)
}

fn verify_file(path: &Path, file: File) -> Result<Report, JournalError> {
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let mut verifier = Verifier::default();
    let mut report = Report::default();
    let mut line = Vec::new();
    while let Some((hash, kept)) = next_line(&mut reader, &mut line).map_err(|e| JournalError::io(path, e))? {
        let head = if kept { head_of(&line) } else { Head::default() };
        report.last_id = head.id.map(Cow::into_owned);
        let prev = head.prev.map(Cow::into_owned);
        if let Err(b) = verifier.feed_with(prev.as_deref(), hash) {
            report.break_count += 1;
            if report.breaks.len() < super::KEPT_PROBLEMS {
                report.breaks.push(b);
            }
        }
    }
    report.lines = verifier.lines();
    report.chained_from = verifier.chained_from();
    report.head = verifier.head().to_string();
    Ok(report)
}

/// The next complete line's link, its first [`MAX_LINE_BYTES`] kept in `line` (`true` if
/// that is all of it). `None` at the end, a torn last line included (it is not a line yet).
fn next_line<R: BufRead>(r: &mut R, line: &mut Vec<u8>) -> io::Result<Option<(String, bool)>> {
    line.clear();
    let mut hasher = Sha256::new();
    let mut whole = true;
    loop {
        let avail = r.fill_buf()?;
        if avail.is_empty() {
            return Ok(None);
        }
        let (chunk, found) = match memchr::memchr(b'\n', avail) {
            Some(i) => (i, true),
            None => (avail.len(), false),
        };
        hasher.update(&avail[..chunk]);
        let room = MAX_LINE_BYTES.saturating_sub(line.len());
        whole &= chunk <= room;
        line.extend_from_slice(&avail[..chunk.min(room)]);
        r.consume(if found { chunk + 1 } else { chunk });
        if found {
            return Ok(Some((hex(&hasher.finalize()[..LINK_HEX / 2]), whole)));
        }
    }
}

/// The link to the last line of `file`, which is `len` bytes long and ends with a newline
/// (or is empty): what the next appended line carries. Reads back only as far as that line.
pub(super) fn link_to_last_line(file: &File, len: u64) -> io::Result<String> {
    use std::os::unix::fs::FileExt;
    if len == 0 {
        return Ok(start());
    }
    let end = len - 1;
    let mut block = vec![0u8; 4096];
    let mut from = end;
    let begin = loop {
        if from == 0 {
            break 0;
        }
        let start = from.saturating_sub(block.len() as u64);
        let chunk = &mut block[..(from - start) as usize];
        file.read_exact_at(chunk, start)?;
        if let Some(i) = memchr::memrchr(b'\n', chunk) {
            break start + i as u64 + 1;
        }
        from = start;
        if block.len() < 256 * 1024 {
            block.resize(block.len() * 4, 0);
        }
    };
    let mut hasher = Sha256::new();
    let mut at = begin;
    while at < end {
        let n = ((end - at) as usize).min(block.len());
        file.read_exact_at(&mut block[..n], at)?;
        hasher.update(&block[..n]);
        at += n as u64;
    }
    Ok(hex(&hasher.finalize()[..LINK_HEX / 2]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_is_the_sha256_prefix_of_the_line() {
        // SHA-256("") = e3b0c44298fc1c149afbf4c8996fb924...
        assert_eq!(start(), "e3b0c44298fc1c149afbf4c8996fb924");
        let mut line = br#"{"v":1,"id":"a"}"#.to_vec();
        attach(&mut line, &start());
        assert_eq!(line, br#"{"v":1,"id":"a","prev":"e3b0c44298fc1c149afbf4c8996fb924"}"#.to_vec());
        assert_eq!(line.len(), br#"{"v":1,"id":"a"}"#.len() + ATTACHED_BYTES);
        let head = head_of(&line);
        assert_eq!((head.id.as_deref(), head.prev.as_deref()), (Some("a"), Some(start().as_str())));
    }

    #[test]
    fn unchained_lines_pass_until_the_chain_begins_and_then_every_line_must_link() {
        let mut lines: Vec<Vec<u8>> = vec![br#"{"id":"old1"}"#.to_vec(), br#"{"id":"old2"}"#.to_vec()];
        for id in ["a", "b", "c"] {
            let mut line = format!(r#"{{"id":"{id}"}}"#).into_bytes();
            attach(&mut line, &link(lines.last().unwrap()));
            lines.push(line);
        }
        let mut v = Verifier::default();
        assert!(lines.iter().all(|l| v.feed(l).is_ok()));
        assert_eq!(v.chained_from(), Some(3));
        // An edit of line 4 breaks line 5, once; a line without `prev` after the start breaks too.
        let mut edited = lines.clone();
        edited[3] = String::from_utf8(edited[3].clone()).unwrap().replace(r#""id":"b""#, r#""id":"B""#).into_bytes();
        edited.push(br#"{"id":"sneaked"}"#.to_vec());
        let mut v = Verifier::default();
        let breaks: Vec<usize> = edited.iter().filter_map(|l| v.feed(l).err()).map(|b| b.line).collect();
        assert_eq!(breaks, [5, 6]);
    }

    #[test]
    fn the_last_line_is_found_however_long() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let long = vec![b'x'; 10_000];
        std::fs::write(&path, [&b"first\n"[..], &long, b"\n"].concat()).unwrap();
        let file = File::open(&path).unwrap();
        let len = file.metadata().unwrap().len();
        assert_eq!(link_to_last_line(&file, len).unwrap(), link(&long));
        std::fs::write(&path, b"only\n").unwrap();
        assert_eq!(link_to_last_line(&File::open(&path).unwrap(), 5).unwrap(), link(b"only"));
        assert_eq!(link_to_last_line(&File::open(&path).unwrap(), 0).unwrap(), start());
    }

    #[test]
    fn appends_from_two_handles_on_an_old_journal_chain_on_each_other() {
        use crate::journal::{Event, EventBody, Journal};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        // Two lines from before the chain, as an older warroom wrote them.
        let old = || serde_json::to_string(&Event::new("old", EventBody::NoteAdded { text: "before".into() })).unwrap();
        std::fs::write(&path, format!("{}\n{}\n", old(), old())).unwrap();
        let (a, _) = Journal::open(&path).unwrap();
        let (b, _) = Journal::open(&path).unwrap();
        let note = |t: &str| Event::new("x", EventBody::NoteAdded { text: t.into() });
        a.append_all(&[note("1"), note("2")]).unwrap();
        b.append(&note("3")).unwrap();
        a.append(&note("4")).unwrap();
        let report = verify(&path).unwrap();
        assert_eq!((report.lines, report.chained_from, report.break_count), (6, Some(3), 0), "{report:?}");
        // Every reader still reads every line.
        assert_eq!(Journal::read(&path).unwrap().events.len(), 6);
        // Line 4 edited in place: line 5 no longer links to it.
        let text = std::fs::read_to_string(&path).unwrap().replacen(r#""text":"2""#, r#""text":"X""#, 1);
        std::fs::write(&path, text).unwrap();
        let report = verify(&path).unwrap();
        assert_eq!(report.breaks.iter().map(|b| b.line).collect::<Vec<_>>(), [5], "{report:?}");
    }
}
