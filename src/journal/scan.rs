//! Reading a stretch of the journal file, on every core when it is long.
//!
//! Lines are independent, so a long stretch (the replay at start-up, the moment an operator
//! waits for the screen) is cut at line boundaries and each part decoded on its own thread;
//! the parts are then joined in file order, with line numbers as a serial read gives them.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::num::NonZero;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::JournalError;
use super::reader::{KEPT_PROBLEMS, LineProblem, Scan, scan_into};
use super::recent::{Sighting, WINDOW};

/// Below this many bytes one thread is quicker than starting others (about 20,000 events).
const PARALLEL_MIN_BYTES: u64 = 4 << 20;
/// Enough to use a bastion host's cores without a thread per core on a large server.
const MAX_PARTS: usize = 8;
/// Journal lines are 150–300 bytes. Reserving for lines a little shorter allocates the event
/// vector once; what it over-reserves is address space that is never touched.
const SHORT_LINE_BYTES: u64 = 128;
const READ_BUFFER_BYTES: usize = 256 * 1024;

/// Reads the complete lines between `scan.end_offset` and the file's current end into `scan`.
/// On an error, `scan` holds what was read before it: its position never goes backwards.
pub fn scan_file(path: &Path, file: &File, scan: &mut Scan) -> Result<(), JournalError> {
    let end = file.metadata().map_err(|e| JournalError::io(path, e))?.len();
    let parts = if end.saturating_sub(scan.end_offset) < PARALLEL_MIN_BYTES {
        1
    } else {
        std::thread::available_parallelism().map_or(1, NonZero::get).min(MAX_PARTS)
    };
    scan_in_parts(path, file, scan, end, parts)
}

fn scan_in_parts(path: &Path, file: &File, scan: &mut Scan, end: u64, parts: usize) -> Result<(), JournalError> {
    let start = scan.end_offset.min(end);
    scan.events.reserve(events_in(end - start));
    let bounds = line_aligned_bounds(file, start..end, parts).map_err(|e| JournalError::io(path, e))?;
    let (first, rest) = bounds.split_first().expect("at least one part");
    let (first, rest) = std::thread::scope(|threads| {
        let workers: Vec<_> = rest
            .iter()
            .map(|range| {
                let range = range.clone();
                threads.spawn(move || {
                    let mut part = Scan { end_offset: range.start, ..Scan::default() };
                    part.events.reserve(events_in(range.end - range.start));
                    scan_range(path, file, range, &mut part).map(|()| part)
                })
            })
            .collect();
        let first = scan_range(path, file, first.clone(), scan);
        let rest: Vec<_> =
            workers.into_iter().map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect();
        (first, rest)
    });
    first?;
    for part in rest {
        scan.join(part?);
    }
    Ok(())
}

/// At least as many events as `bytes` of journal hold (lines are rarely this short).
fn events_in(bytes: u64) -> usize {
    usize::try_from(bytes / SHORT_LINE_BYTES).unwrap_or(0)
}

fn scan_range(path: &Path, file: &File, range: Range<u64>, scan: &mut Scan) -> Result<(), JournalError> {
    let mut reader = BufReader::with_capacity(READ_BUFFER_BYTES, RangeReader { file, range });
    scan_into(&mut reader, path, scan)
}

impl Scan {
    /// Appends the scan of the stretch that follows this one, renumbering its lines. Of the
    /// problems, the first [`KEPT_PROBLEMS`] of the whole stretch are kept, as a serial read keeps them.
    fn join(&mut self, next: Scan) {
        let base = self.lines;
        let room = KEPT_PROBLEMS.saturating_sub(self.problems.len());
        self.problems.extend(next.problems.into_iter().take(room).map(|p| LineProblem { line: p.line + base, ..p }));
        self.problem_count += next.problem_count;
        self.newer += next.newer;
        // Each part skipped the repeats within itself. Its events are checked against the
        // stretch before until WINDOW new ids of its own have pushed that stretch's out of the
        // window; from there the part's own window is the whole scan's.
        let mut events = next.events.into_iter();
        let mut new = 0;
        for event in events.by_ref() {
            match self.recent.sighting(&event.id) {
                Sighting::Repeat => continue,
                Sighting::New => new += 1,
                Sighting::NotAnId => {}
            }
            self.events.push(event);
            if new == WINDOW {
                break;
            }
        }
        self.events.extend(events);
        if new == WINDOW {
            self.recent = next.recent;
        }
        self.lines += next.lines;
        self.end_offset = next.end_offset;
        self.partial_tail = next.partial_tail;
    }
}

/// Cuts `range` into at most `parts` non-empty ranges, each starting at the start of a line.
fn line_aligned_bounds(file: &File, range: Range<u64>, parts: usize) -> io::Result<Vec<Range<u64>>> {
    let mut starts = vec![range.start];
    for k in 1..parts as u64 {
        let target = range.start + (range.end - range.start) * k / parts as u64;
        let from = target.max(*starts.last().expect("non-empty"));
        let start = next_line_start(file, from, range.end)?;
        if start < range.end && start > *starts.last().expect("non-empty") {
            starts.push(start);
        }
    }
    let ends = starts.iter().skip(1).copied().chain([range.end]);
    Ok(starts.iter().zip(ends).map(|(&s, e)| s..e).collect())
}

/// The offset just past the first newline at or after `from`, or `end` if there is none.
fn next_line_start(file: &File, from: u64, end: u64) -> io::Result<u64> {
    let mut block = vec![0u8; 64 * 1024];
    let mut pos = from;
    while pos < end {
        let want = block.len().min(usize::try_from(end - pos).unwrap_or(usize::MAX));
        let n = file.read_at(&mut block[..want], pos)?;
        if n == 0 {
            break;
        }
        if let Some(i) = memchr::memchr(b'\n', &block[..n]) {
            return Ok(pos + i as u64 + 1);
        }
        pos += n as u64;
    }
    Ok(end)
}

/// Reads one byte range of a file with positioned reads, so parts can be read at once from
/// one descriptor (a cloned descriptor would share, and race on, the file offset).
struct RangeReader<'a> {
    file: &'a File,
    range: Range<u64>,
}

impl Read for RangeReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = usize::try_from(self.range.end.saturating_sub(self.range.start)).unwrap_or(usize::MAX);
        let want = buf.len().min(left);
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.range.start)?;
        self.range.start += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::journal::reader::{MAX_LINE_BYTES, ProblemKind};
    use crate::journal::{Event, EventBody};

    /// A journal with the damage a real one collects: blank, corrupt, oversized, newer and torn lines.
    fn damaged_journal(dir: &Path, events: usize) -> std::path::PathBuf {
        let path = dir.join("journal.jsonl");
        let mut out = io::BufWriter::new(File::create(&path).unwrap());
        for i in 0..events {
            let event = Event::new("alice@bastion1", EventBody::NoteAdded { text: format!("note {i}") });
            serde_json::to_writer(&mut out, &event).unwrap();
            out.write_all(b"\n").unwrap();
            match i % 97 {
                3 => out.write_all(b"\n").unwrap(),
                50 => out.write_all(b"{\"v\":1,\"kind\":\"no such kind\"}\n").unwrap(),
                _ => {}
            }
            if i % 997 == 70 {
                out.write_all(b"{\"v\":2,\"id\":\"x\",\"kind\":\"from_the_future\"}\n").unwrap();
            }
            if i == events / 2 {
                out.write_all(&vec![b'x'; MAX_LINE_BYTES + 10]).unwrap();
                out.write_all(b"\n").unwrap();
            }
        }
        // A writer killed mid-line: the first half of a real event, no newline.
        let torn =
            serde_json::to_vec(&Event::new("alice@bastion1", EventBody::NoteAdded { text: "torn".into() })).unwrap();
        out.write_all(&torn[..torn.len() / 2]).unwrap();
        out.flush().unwrap();
        path
    }

    fn scan_with(path: &Path, parts: usize) -> Result<Scan, JournalError> {
        let file = File::open(path).unwrap();
        let end = file.metadata().unwrap().len();
        let mut scan = Scan::default();
        scan_in_parts(path, &file, &mut scan, end, parts).map(|()| scan)
    }

    #[test]
    fn a_scan_in_parts_equals_a_serial_scan() {
        let dir = tempfile::tempdir().unwrap();
        let path = damaged_journal(dir.path(), 3_000);
        let serial = scan_with(&path, 1).unwrap();
        assert_eq!(serial.events.len(), 3_000);
        assert!(serial.problems.iter().any(|p| matches!(p.kind, ProblemKind::TooLong { .. })));
        assert_eq!(serial.problems.len(), KEPT_PROBLEMS);
        // 31 corrupt, 1 oversized and 3 newer lines.
        assert_eq!((serial.problem_count, serial.newer), (31 + 1 + 3, 3));
        assert!(serial.partial_tail > 0);
        for parts in [2, 3, 5, 8, 5_000] {
            scan_with(&path, parts).unwrap().assert_same(&serial, &format!("{parts} parts"));
        }
    }

    /// Repeats (a retried write) are skipped within the window, across part boundaries too,
    /// exactly as a serial scan skips them; a repeat from beyond the window is read again.
    #[test]
    fn a_scan_in_parts_skips_repeated_events_as_a_serial_scan_does() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let mut out = io::BufWriter::new(File::create(&path).unwrap());
        let events: Vec<Event> =
            (0..150_000).map(|i| Event::new("alice@bastion1", EventBody::NoteAdded { text: format!("{i}") })).collect();
        let mut lines = 0;
        for (i, event) in events.iter().enumerate() {
            let mut write = |e: &Event| {
                serde_json::to_writer(&mut out, e).unwrap();
                out.write_all(b"\n").unwrap();
                lines += 1;
            };
            write(event);
            if i % 1_000 == 999 {
                write(&events[i - 3]);
            }
            if i == 120_000 {
                write(&events[100]);
            }
        }
        out.flush().unwrap();
        drop(out);
        let serial = scan_with(&path, 1).unwrap();
        assert_eq!(serial.lines, lines);
        assert_eq!(serial.events.len(), 150_001, "150 near repeats skipped, the far one read again");
        for parts in [2, 3, 5] {
            scan_with(&path, parts).unwrap().assert_same(&serial, &format!("{parts} parts"));
        }
    }

    #[test]
    fn a_follower_continues_where_a_scan_in_parts_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let path = damaged_journal(dir.path(), 500);
        let whole = scan_with(&path, 1).unwrap();
        let file = File::open(&path).unwrap();
        let half = whole.end_offset / 2;
        let mut scan = Scan::default();
        scan_in_parts(&path, &file, &mut scan, half, 3).unwrap();
        let first_events = std::mem::take(&mut scan.events).len();
        scan_in_parts(&path, &file, &mut scan, whole.end_offset + whole.partial_tail as u64, 4).unwrap();
        assert_eq!(scan.lines, whole.lines);
        assert_eq!(scan.end_offset, whole.end_offset);
        assert_eq!((scan.problems.last(), scan.problem_count), (whole.problems.last(), whole.problem_count));
        assert_eq!(first_events + scan.events.len(), whole.events.len());
    }

    #[test]
    fn a_newer_schema_in_a_later_part_is_skipped_and_named_by_its_line_in_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let mut out = io::BufWriter::new(File::create(&path).unwrap());
        for i in 0..1_000 {
            let event = Event::new("alice@bastion1", EventBody::NoteAdded { text: format!("note {i}") });
            serde_json::to_writer(&mut out, &event).unwrap();
            out.write_all(b"\n").unwrap();
        }
        out.write_all(b"{\"v\":9,\"id\":\"x\",\"kind\":\"from_the_future\"}\n").unwrap();
        out.flush().unwrap();
        drop(out);
        for parts in [1, 2, 4] {
            let scan = scan_with(&path, parts).unwrap();
            assert_eq!(scan.events.len(), 1_000, "{parts} parts");
            assert_eq!(scan.problems, vec![LineProblem { line: 1_001, kind: ProblemKind::Newer { version: 9 } }]);
            assert_eq!((scan.newer, scan.lines), (1, 1_001), "{parts} parts");
            assert_eq!(scan.end_offset, std::fs::metadata(&path).unwrap().len(), "{parts} parts");
        }
    }
}
