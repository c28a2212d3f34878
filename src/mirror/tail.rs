//! Reading the journal's raw lines for shipping: where a mirror's copy ends in this file,
//! and the complete lines after a position.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::journal::{chain, dir};

/// A place in the journal: just after line `lines`, `offset` bytes in, whose link is `link`;
/// that line begins `start` bytes in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub offset: u64,
    pub start: u64,
    pub lines: usize,
    pub link: String,
    /// The id of the last line up to here that has one.
    pub last_id: Option<String>,
}

impl Position {
    pub fn start() -> Position {
        Position { offset: 0, start: 0, lines: 0, link: chain::start(), last_id: None }
    }
}

pub fn open(path: &Path) -> io::Result<File> {
    dir::open_read(path, u64::MAX).map_err(|e| io::Error::other(e.to_string()))
}

/// Where line `lines` ends (the position a copy holding that many lines resumes from), or
/// `None` if the journal has fewer complete lines.
pub fn after_lines(file: &File, lines: usize) -> io::Result<Option<Position>> {
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    reader.seek(SeekFrom::Start(0))?;
    let mut at = Position::start();
    let mut line = Vec::new();
    while at.lines < lines {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 || line.last() != Some(&b'\n') {
            return Ok(None);
        }
        line.pop();
        at.start = at.offset;
        at.offset += n as u64;
        at.lines += 1;
        at.link = chain::link(&line);
        if let Some(id) = chain::head_of(&line).id {
            at.last_id = Some(id.into_owned());
        }
    }
    Ok(Some(at))
}

/// The complete lines after `from`, up to about `max_bytes`, and the position after them.
pub fn read_after(file: &File, from: &Position, max_bytes: usize) -> io::Result<(Vec<Vec<u8>>, Position)> {
    let len = file.metadata()?.len();
    let mut at = from.clone();
    let mut lines = Vec::new();
    if len <= from.offset {
        return Ok((lines, at));
    }
    let want = ((len - from.offset) as usize).min(max_bytes.max(crate::journal::MAX_LINE_BYTES + 1));
    let mut bytes = vec![0u8; want];
    file.read_exact_at(&mut bytes, from.offset)?;
    let mut rest = &bytes[..];
    let mut taken = 0usize;
    while let Some(end) = memchr::memchr(b'\n', rest) {
        if taken > 0 && taken + end > max_bytes {
            break;
        }
        let line = &rest[..end];
        at.start = at.offset;
        at.offset += end as u64 + 1;
        at.lines += 1;
        at.link = chain::link(line);
        if let Some(id) = chain::head_of(line).id {
            at.last_id = Some(id.into_owned());
        }
        lines.push(line.to_vec());
        taken += end + 1;
        rest = &rest[end + 1..];
    }
    Ok((lines, at))
}

/// Whether `file` still holds, at `at`, the line shipped last: its bytes end `at.offset`
/// bytes in and still hash to `at.link`. A journal edited in place before that point (a line
/// made longer shifts everything after it) or replaced by an edited copy does not: reading on
/// from the old offset would ship pieces of other lines.
pub fn still_holds(file: &File, at: &Position) -> io::Result<bool> {
    if at.lines == 0 {
        return Ok(true);
    }
    if file.metadata()?.len() < at.offset || at.offset <= at.start {
        return Ok(false);
    }
    let mut bytes = vec![0u8; (at.offset - at.start) as usize];
    file.read_exact_at(&mut bytes, at.start)?;
    let ends_line = bytes.pop() == Some(b'\n');
    let begins_line = at.start == 0 || {
        let mut before = [0u8; 1];
        file.read_exact_at(&mut before, at.start - 1)?;
        before[0] == b'\n'
    };
    Ok(ends_line && begins_line && chain::link(&bytes) == at.link)
}

/// Whether the file at `path` is no longer `file` (replaced, as `sed -i` or an editor saving
/// does): `Some(the new file)` to ship from, if it can be opened.
pub fn replaced(path: &Path, file: &File) -> Option<File> {
    use std::os::unix::fs::MetadataExt;
    let (ours, now) = (file.metadata().ok()?, std::fs::metadata(path).ok()?);
    if (ours.dev(), ours.ino()) == (now.dev(), now.ino()) {
        return None;
    }
    open(path).ok()
}

/// Complete lines between `offset` and the end of the file: counting, to know the lag.
pub fn count_lines(file: &File, offset: u64) -> io::Result<(usize, u64)> {
    let len = file.metadata()?.len();
    let mut block = vec![0u8; 256 * 1024];
    let (mut at, mut lines, mut end) = (offset, 0usize, offset);
    while at < len {
        let n = ((len - at) as usize).min(block.len());
        file.read_exact_at(&mut block[..n], at)?;
        for i in memchr::memchr_iter(b'\n', &block[..n]) {
            lines += 1;
            end = at + i as u64 + 1;
        }
        at += n as u64;
    }
    Ok((lines, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(lines: &[&str]) -> (tempfile::NamedTempFile, File) {
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(tmp.path(), lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
        let file = File::open(tmp.path()).unwrap();
        (tmp, file)
    }

    #[test]
    fn the_last_shipped_line_is_found_again_unless_bytes_before_it_changed() {
        let lines = [r#"{"id":"a"}"#, r#"{"id":"b"}"#, r#"{"id":"c"}"#];
        let (tmp, file) = journal(&lines);
        let (read, at) = read_after(&file, &Position::start(), 1 << 20).unwrap();
        assert_eq!(read.len(), 3);
        assert_eq!((at.start, at.lines, at.last_id.as_deref()), (22, 3, Some("c")));
        assert_eq!(after_lines(&file, 3).unwrap().as_ref(), Some(&at));
        assert!(still_holds(&file, &at).unwrap());
        // Appended to: still holds.
        std::fs::write(tmp.path(), format!("{}\n{}\n{}\n{{\"id\":\"d\"}}\n", lines[0], lines[1], lines[2])).unwrap();
        assert!(still_holds(&file, &at).unwrap());
        // The first line made longer, in place: the shipped line is no longer where it was.
        std::fs::write(tmp.path(), format!("{{\"id\":\"aa\"}}\n{}\n{}\n", lines[1], lines[2])).unwrap();
        assert!(!still_holds(&file, &at).unwrap());
        // Cut short.
        std::fs::write(tmp.path(), format!("{}\n", lines[0])).unwrap();
        assert!(!still_holds(&file, &at).unwrap());
        assert!(still_holds(&file, &Position::start()).unwrap());
    }

    #[test]
    fn a_file_replaced_at_the_path_is_noticed() {
        let (tmp, file) = journal(&[r#"{"id":"a"}"#]);
        assert!(replaced(tmp.path(), &file).is_none());
        let other = tmp.path().with_extension("new");
        std::fs::write(&other, "{\"id\":\"a\"}\n").unwrap();
        std::fs::rename(&other, tmp.path()).unwrap();
        assert!(replaced(tmp.path(), &file).is_some());
    }
}
