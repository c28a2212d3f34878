//! Live figures: each row's view and recent readings. The poller keeps them and publishes
//! them in a sidecar file (`<journal>.samples`, replaced atomically); the other sessions on
//! the journal read it when it changes. States travel through the journal; only latency and
//! details travel here, so the file is best-effort and never trusted.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::protocol::{Figure, KEPT, Reading, RowInfo};
use crate::journal::{Sharing, dir};
use crate::monitor::{RowId, View};

/// A sidecar larger than this is not read: a hostile file cannot make a session read
/// gigabytes. 1,000 rows of 20 readings take about 2 MiB.
const MAX_FILE_BYTES: u64 = 8 << 20;
/// Rows read from the file at most: ten times the 1,000 checks of the largest room measured
/// (`cargo bench --bench app`). Each row becomes a row on every follower's board, so a file
/// of 42,000 tiny rows (8 MiB) must not be taken whole.
const MAX_ROWS: usize = 10_000;
/// Longest text (a detail, a step, a row's name or target) kept from the file, in characters.
const MAX_TEXT_CHARS: usize = 4096;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub written: DateTime<Utc>,
    pub figures: Vec<Figure>,
}

/// Every row's figures, in the order rows became known.
#[derive(Debug, Default)]
pub struct Figures {
    rows: Vec<Figure>,
    index: HashMap<RowId, usize>,
    /// Changed since last published.
    pub dirty: bool,
    /// How long the last publication took (serialising and writing the file).
    last_cost: Duration,
}

/// Publishing takes at most about 1/PUBLISH_PACE of the poller's time: a room of thousands
/// of rows publishes less often than every 2 s (the engine's `PUBLISH_EVERY`) rather than spend
/// percents of a core on a file (10,000 rows: 20-50 ms a time on the shared 2-core machine).
const PUBLISH_PACE: u32 = 50;
/// With no other session beating, publishing takes at most about 1/ALONE_PACE of the poller's
/// time: nobody who beats reads the file, and it was still 17 % of a 10,000-check poller's CPU
/// (perf, 2026-11-26). A room of a few hundred rows (a millisecond a time) is hardly slowed.
const ALONE_PACE: u32 = 1000;
/// ...yet figures are never older than this while alone: read-only viewers write no heartbeat
/// and still read the file. A minute is what a 10,000-row room takes anyway at ALONE_PACE (20-60
/// ms a time); it binds only on a slow disk, where it keeps publishing under 0.2 % of the time.
/// States are not delayed: they travel through the journal.
pub const ALONE_AT_LEAST_EVERY: Duration = Duration::from_secs(60);

/// The least time between two publications: `every`, or longer for a file that is costly to
/// write (`last_cost`), and much longer when no other session beats (`others_here` false).
pub fn publish_every(every: Duration, last_cost: Duration, others_here: bool) -> Duration {
    let read = every.max(last_cost * PUBLISH_PACE);
    if others_here { read } else { read.max((last_cost * ALONE_PACE).min(ALONE_AT_LEAST_EVERY)) }
}

impl Figures {
    /// Room for `more` rows, exactly (a large room is mostly known at once).
    pub fn reserve(&mut self, more: usize) {
        self.rows.reserve_exact(more);
        self.index.reserve(more);
    }

    /// A row's place in the figures, added if it is new: what [`Figures::reading`] and
    /// [`Figures::view`] take, so a reading costs no search.
    pub fn add(&mut self, row: RowInfo) -> usize {
        if let Some(&i) = self.index.get(&row.id) {
            return i;
        }
        self.index.insert(row.id.clone(), self.rows.len());
        self.rows.push(Figure { row, view: View::default(), readings: Vec::new() });
        self.rows.len() - 1
    }

    /// Keeps a copy of `reading` as the row's newest. In a full row the oldest reading's room
    /// is reused for it, and the previous newest's steps for its steps (older readings keep
    /// none: only the newest's are shown, and steps were most of a kept reading's memory at
    /// 10,000 checks): at 1,000 readings a second, a fresh copy was five allocations each.
    pub fn reading(&mut self, place: usize, reading: &Reading) {
        // The poller keeps only what it publishes (all KEPT but in rooms of thousands).
        let keep = published_per_row(self.rows.len());
        let Some(figure) = self.rows.get_mut(place) else { return };
        let readings = &mut figure.readings;
        if readings.len() > keep {
            readings.drain(..readings.len() - keep);
        }
        let room = (readings.len() == keep).then(|| readings.remove(0));
        let steps = readings.last_mut().map(|last| std::mem::take(&mut last.steps));
        let copy = match room {
            Some(mut room) => {
                room.steps = steps.unwrap_or_default();
                room.copy_from(reading);
                room
            }
            None => reading.clone(),
        };
        readings.push(copy);
        self.dirty = true;
    }

    pub fn view(&mut self, place: usize, view: View) {
        if let Some(figure) = self.rows.get_mut(place) {
            figure.view = view;
            self.dirty = true;
        }
    }

    /// The least time between two publications (see [`publish_every`]).
    pub fn publish_every(&self, every: Duration, others_here: bool) -> Duration {
        publish_every(every, self.last_cost, others_here)
    }

    /// Writes the figures for the other sessions (see [`write`]), and learns what it cost.
    /// The cost is this thread's CPU time, not the time that passed: waiting on a slow disk's
    /// flush, or for a busy core, costs the poller nothing, and on the wall clock it spaced
    /// publications out to a minute, leaving read-only viewers with stale latencies.
    pub fn publish(&mut self, journal: &Path, written: DateTime<Utc>, sharing: &Sharing) -> std::io::Result<()> {
        let started = thread_cpu();
        let result = write(journal, &self.snapshot(written), sharing);
        self.last_cost = thread_cpu().saturating_sub(started);
        self.dirty = false;
        result
    }

    /// The figures as published, borrowed: with thousands of rows a copy was most of the
    /// cost of publishing, and a passing peak of memory.
    pub fn snapshot(&self, written: DateTime<Utc>) -> SnapshotRef<'_> {
        SnapshotRef { written, figures: &self.rows }
    }
}

/// The CPU time this thread has used (user and system).
fn thread_cpu() -> Duration {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec, which lives for the duration of the call.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(now.tv_sec.max(0) as u64, now.tv_nsec.clamp(0, 999_999_999) as u32)
}

/// A [`Snapshot`] borrowed from the poller's figures, to write without copying them.
#[derive(Debug)]
pub struct SnapshotRef<'a> {
    pub written: DateTime<Utc>,
    pub figures: &'a [Figure],
}

/// Readings published in all, at most: a file of 10,000 rows with every kept reading would be
/// over [`MAX_FILE_BYTES`], unreadable by the sessions it is written for, and serialising it
/// was the largest part of a 10,000-check poller's CPU. Rooms of up to 2,000 rows publish
/// all [`KEPT`]; larger ones each row's newest (10,000 rows: 4 each).
const PUBLISHED_READINGS: usize = 40_000;

fn published_per_row(rows: usize) -> usize {
    (PUBLISHED_READINGS / rows.max(1)).clamp(1, KEPT)
}

#[derive(Serialize)]
struct FigureRef<'a> {
    row: &'a RowInfo,
    view: &'a View,
    readings: &'a [Reading],
}

impl SnapshotRef<'_> {
    fn published(&self) -> impl Iterator<Item = FigureRef<'_>> {
        let keep = published_per_row(self.figures.len());
        self.figures.iter().map(move |f| FigureRef {
            row: &f.row,
            view: &f.view,
            readings: &f.readings[f.readings.len().saturating_sub(keep)..],
        })
    }

    /// What a reader gets back from the file.
    pub fn to_owned(&self) -> Snapshot {
        let figures = self
            .published()
            .map(|f| Figure { row: f.row.clone(), view: f.view.clone(), readings: f.readings.to_vec() })
            .collect();
        Snapshot { written: self.written, figures }
    }
}

impl Serialize for SnapshotRef<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            written: DateTime<Utc>,
            figures: Vec<FigureRef<'a>>,
        }
        Wire { written: self.written, figures: self.published().collect() }.serialize(serializer)
    }
}

pub fn path(journal: &Path) -> PathBuf {
    let mut name = journal.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".samples");
    journal.with_file_name(name)
}

/// Replaces the sidecar atomically with a temporary file of our own (see [`dir::replace`]),
/// shared as the journal is. In a sticky directory another member's file cannot be replaced
/// (after a takeover, the previous poller's): it is then rewritten in place, never through a
/// link; readers take a half-written file for "no news".
pub fn write(journal: &Path, snapshot: &SnapshotRef<'_>, sharing: &Sharing) -> std::io::Result<()> {
    let target = path(journal);
    // Serialised straight into the file: at 10,000 rows a 7 MB buffer first was a passing
    // peak of resident memory at every publication.
    let serialise = |out: &mut dyn Write| serde_json::to_writer(out, snapshot).map_err(std::io::Error::other);
    match dir::replace_with(&target, sharing, serialise) {
        Err(dir::DirError::Io { source, .. }) if source.kind() == std::io::ErrorKind::PermissionDenied => {
            let file = dir::open_write(&target, sharing)?;
            file.set_len(0)?;
            let mut out = std::io::BufWriter::new(file);
            serialise(&mut out)?;
            out.flush()
        }
        other => other.map_err(Into::into),
    }
}

/// What a reader of the sidecar remembers between looks.
#[derive(Debug, Default)]
pub struct Watch {
    /// The file's modification time when last looked at.
    modified: Option<SystemTime>,
    /// A digest of its content when last read: a file rewritten with the same bytes is no news.
    digest: Option<u64>,
    /// No look before this: see [`read_if_newer`].
    not_before: Option<Instant>,
}

/// How much longer than the last read and parse took (in CPU time) a reader waits before the
/// next: a file rewritten every few milliseconds (by a member, or a poller of thousands of
/// rows) costs a follower at most about a tenth of a core.
const PACE: u32 = 10;

/// Reads the sidecar if it changed since last looked at (`watch`: its modification time, then
/// its content). A missing, oversized, linked, special or half-understood file is simply not
/// news; readings with a value no probe can have measured are dropped, and rows beyond
/// [`MAX_ROWS`] are not taken.
pub fn read_if_newer(journal: &Path, watch: &mut Watch) -> Option<Snapshot> {
    use std::hash::{Hash, Hasher};
    if watch.not_before.is_some_and(|at| Instant::now() < at) {
        return None;
    }
    let target = path(journal);
    // Judged on the open descriptor, not the path: nothing can be swapped in between.
    let file = dir::open_read(&target, MAX_FILE_BYTES).ok()?;
    let modified = file.metadata().and_then(|m| m.modified()).ok()?;
    if Some(modified) == watch.modified {
        return None;
    }
    watch.modified = Some(modified);
    let started = thread_cpu();
    let bytes = dir::read_open(&target, file, MAX_FILE_BYTES).ok()?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    let digest = Some(hasher.finish());
    let unchanged = std::mem::replace(&mut watch.digest, digest) == digest;
    let snapshot = (!unchanged).then(|| parse(&bytes)).flatten();
    watch.not_before = Some(Instant::now() + thread_cpu().saturating_sub(started) * PACE);
    snapshot
}

fn parse(bytes: &[u8]) -> Option<Snapshot> {
    let mut snapshot: Snapshot = serde_json::from_slice(bytes).ok()?;
    snapshot.figures.truncate(MAX_ROWS);
    for figure in &mut snapshot.figures {
        figure.readings.retain_mut(plausible);
        let keep = figure.readings.len().saturating_sub(KEPT);
        figure.readings.drain(..keep);
        let Figure { row, view, .. } = figure;
        [&mut row.id.check, &mut row.kind, &mut row.target].into_iter().for_each(cut);
        row.id.key.iter_mut().chain(view.blocked_by.iter_mut()).for_each(cut);
    }
    Some(snapshot)
}

/// Whether a reading from the file could have come from a probe; long texts are cut.
fn plausible(reading: &mut Reading) -> bool {
    // A time beyond a day was not measured, it was written: the reading is dropped.
    let time = |ms: f64| ms.is_finite() && (0.0..=crate::probe::MAX_MILLIS).contains(&ms);
    if !time(reading.latency_ms) || !reading.steps.iter().all(|(_, ms)| time(*ms)) {
        return false;
    }
    cut(&mut reading.detail);
    reading.steps.iter_mut().for_each(|(name, _)| cut(name));
    true
}

fn cut(text: &mut String) {
    if let Some((at, _)) = text.char_indices().nth(MAX_TEXT_CHARS) {
        text.truncate(at);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn alone_the_poller_publishes_at_a_slow_cost_based_pace_never_slower_than_a_minute() {
        let ms = Duration::from_millis;
        let every = Duration::from_secs(2);
        // Read by others: every 2 s, or 50 times what a publication costs.
        assert_eq!(super::publish_every(every, ms(1), true), every);
        assert_eq!(super::publish_every(every, ms(30), true), Duration::from_millis(1500).max(every));
        assert_eq!(super::publish_every(every, ms(100), true), Duration::from_secs(5));
        // Alone: a thousand times the cost, between the pace read and a minute.
        assert_eq!(super::publish_every(every, ms(1), false), every, "a small room is hardly slowed");
        assert_eq!(super::publish_every(every, ms(30), false), Duration::from_secs(30));
        assert_eq!(super::publish_every(every, ms(100), false), Duration::from_secs(60), "at least every minute");
        // Never faster alone than read: a file costing seconds keeps the read pace.
        assert_eq!(super::publish_every(every, Duration::from_secs(2), false), Duration::from_secs(100));
        assert_eq!(super::publish_every(every, Duration::ZERO, false), every);
    }

    use super::*;
    use crate::probe::{Health, Outcome};

    #[test]
    fn figures_round_trip_through_the_sidecar() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("j.jsonl");
        let mut o = Outcome::new(Health::Degraded, Duration::from_millis(812), "slow");
        o.retry_after = Some(Utc::now());
        let mut figures = Figures::default();
        let id = RowId::check("web");
        let place = figures.add(RowInfo { id: id.clone(), kind: "http".into(), target: "http://x/".into() });
        figures.reading(place, &Reading::of(Utc::now(), &o));
        figures.view(place, View { state: crate::monitor::State::Degraded, paused: true, ..View::default() });
        let snap = figures.snapshot(Utc::now());
        write(&journal, &snap, &Sharing::PRIVATE).unwrap();
        let mut seen = Watch::default();
        let back = read_if_newer(&journal, &mut seen).unwrap();
        assert_eq!(back, snap.to_owned());
        assert!(read_if_newer(&journal, &mut seen).is_none(), "unchanged: nothing new");
        let reading = &back.figures[0].readings[0];
        assert_eq!(
            (reading.health, reading.latency().as_millis(), reading.retry_after),
            (Health::Degraded, 812, o.retry_after)
        );
        assert!(back.figures[0].view.paused);
    }

    #[test]
    fn the_same_figures_rewritten_are_no_news_and_rows_past_the_cap_are_not_taken() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("j.jsonl");
        let row = |i: usize| {
            format!(
                r#"{{"row":{{"id":{{"check":"r{i}"}},"kind":"http","target":""}},"view":{{"state":"up","blocked_by":null,"no_connectivity":false,"paused":false,"silenced":false}},"readings":[]}}"#
            )
        };
        let rows: Vec<String> = (0..MAX_ROWS + 500).map(row).collect();
        let text = format!(r#"{{"written":"2026-01-01T00:00:00Z","figures":[{}]}}"#, rows.join(","));
        std::fs::write(path(&journal), &text).unwrap();
        let mut watch = Watch::default();
        let snap = read_if_newer(&journal, &mut watch).expect("the file is read");
        assert_eq!(snap.figures.len(), MAX_ROWS);
        // Rewritten with the same bytes (a new modification time): nothing to apply again.
        let later = SystemTime::now() + Duration::from_secs(5);
        std::fs::write(path(&journal), &text).unwrap();
        std::fs::File::options().write(true).open(path(&journal)).unwrap().set_modified(later).unwrap();
        watch.not_before = None;
        assert!(read_if_newer(&journal, &mut watch).is_none(), "the same content applied again");
        assert_eq!(watch.modified, Some(later), "looked at");
    }

    #[test]
    fn only_the_newest_readings_are_kept() {
        let mut figures = Figures::default();
        let id = RowId::check("web");
        let place = figures.add(RowInfo { id: id.clone(), kind: "http".into(), target: String::new() });
        for i in 0..KEPT + 5 {
            let o = Outcome::new(Health::Up, Duration::from_millis(i as u64), "ok");
            figures.reading(place, &Reading::of(Utc::now(), &o));
        }
        let snap = figures.snapshot(Utc::now());
        assert_eq!(snap.figures[0].readings.len(), KEPT);
        assert_eq!(snap.figures[0].readings[0].latency(), Duration::from_millis(5));
    }

    #[test]
    fn a_room_of_ten_thousand_rows_publishes_a_file_its_followers_can_read() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("j.jsonl");
        let mut figures = Figures::default();
        let mut o = Outcome::new(Health::Up, Duration::from_millis(3), "HTTP 200 OK in 3.0 ms");
        o.steps =
            vec![crate::probe::Step { name: "GET http://127.0.0.1:8080/ok".into(), took: Duration::from_millis(2) }];
        for i in 0..MAX_ROWS {
            let id = RowId::check(format!("web-{i:05}"));
            let place =
                figures.add(RowInfo { id: id.clone(), kind: "http".into(), target: "http://127.0.0.1:8080/ok".into() });
            for ms in 0..KEPT as u64 {
                o.latency = Duration::from_millis(ms);
                figures.reading(place, &Reading::of(Utc::now(), &o));
            }
        }
        write(&journal, &figures.snapshot(Utc::now()), &Sharing::PRIVATE).unwrap();
        assert!(std::fs::metadata(path(&journal)).unwrap().len() < MAX_FILE_BYTES);
        let back = read_if_newer(&journal, &mut Watch::default()).expect("readable");
        assert_eq!(back.figures.len(), MAX_ROWS);
        let newest: Vec<f64> = back.figures[7].readings.iter().map(|r| r.latency_ms).collect();
        let last = KEPT as f64 - 1.0;
        assert_eq!(newest, vec![last - 3.0, last - 2.0, last - 1.0, last], "each row's newest readings");
        assert_eq!(back.figures[7].readings[3].steps.len(), 1, "the newest keeps its steps");
        assert!(back.figures[7].readings[2].steps.is_empty(), "older ones do not");
    }

    #[test]
    fn readings_no_probe_can_have_measured_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("j.jsonl");
        let reading = |latency: &str, step: &str| {
            format!(
                r#"{{"at":"2026-01-01T00:00:00Z","health":"up","latency_ms":{latency},"detail":"ok","steps":[["connect",{step}]]}}"#
            )
        };
        let readings = [reading("12.5", "1"), reading("1e300", "1"), reading("-4", "1"), reading("7", "1e300")];
        let text = format!(
            r#"{{"written":"2026-01-01T00:00:00Z","figures":[{{"row":{{"id":{{"check":"web"}},"kind":"http","target":""}},"view":{{"state":"up","blocked_by":null,"no_connectivity":false,"paused":false,"silenced":false}},"readings":[{}]}}]}}"#,
            readings.join(",")
        );
        std::fs::write(path(&journal), text).unwrap();
        let snap = read_if_newer(&journal, &mut Watch::default()).expect("the file is read");
        let kept: Vec<f64> = snap.figures[0].readings.iter().map(|r| r.latency_ms).collect();
        assert_eq!(kept, vec![12.5]);
    }
}
