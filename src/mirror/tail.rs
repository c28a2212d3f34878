//! Reading the journal's raw lines for shipping: where a mirror's copy ends in this file,
//! and the complete lines after a position.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::journal::{chain, dir};

/// A place in the journal: just after line `lines`, `offset` bytes in, whose link is `link`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub offset: u64,
    pub lines: usize,
    pub link: String,
    /// The id of the last line up to here that has one.
    pub last_id: Option<String>,
}

impl Position {
    pub fn start() -> Position {
        Position { offset: 0, lines: 0, link: chain::start(), last_id: None }
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
