//! Live figures: each row's view and recent readings. The poller keeps them and publishes
//! them in a sidecar file (`<journal>.samples`, replaced atomically); the other sessions on
//! the journal read it when it changes. States travel through the journal; only latency and
//! details travel here, so the file is best-effort and never trusted.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::protocol::{Figure, KEPT, Reading, RowInfo};
use crate::monitor::{RowId, View};

/// A sidecar larger than this is not read: a hostile file cannot make a session read
/// gigabytes. 1,000 rows of 20 readings take about 2 MiB.
const MAX_FILE_BYTES: u64 = 8 << 20;

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
}

impl Figures {
    pub fn add(&mut self, row: RowInfo) {
        if self.index.contains_key(&row.id) {
            return;
        }
        self.index.insert(row.id.clone(), self.rows.len());
        self.rows.push(Figure { row, view: View::default(), readings: Vec::new() });
    }

    pub fn reading(&mut self, row: &RowId, reading: Reading) {
        if let Some(&i) = self.index.get(row) {
            let readings = &mut self.rows[i].readings;
            if readings.len() == KEPT {
                readings.remove(0);
            }
            readings.push(reading);
            self.dirty = true;
        }
    }

    pub fn view(&mut self, row: &RowId, view: View) {
        if let Some(&i) = self.index.get(row) {
            self.rows[i].view = view;
            self.dirty = true;
        }
    }

    pub fn snapshot(&self, written: DateTime<Utc>) -> Snapshot {
        Snapshot { written, figures: self.rows.clone() }
    }
}

pub fn path(journal: &Path) -> PathBuf {
    let mut name = journal.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".samples");
    journal.with_file_name(name)
}

/// Replaces the sidecar atomically: written to a temporary file of our own (an exclusive,
/// unpredictable name, so nobody can plant a link where we write), then renamed.
pub fn write(journal: &Path, snapshot: &Snapshot) -> std::io::Result<()> {
    let target = path(journal);
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new().prefix(".samples-").tempfile_in(dir)?;
    tmp.write_all(&serde_json::to_vec(snapshot).map_err(std::io::Error::other)?)?;
    tmp.persist(target).map(drop).map_err(|e| e.error)
}

/// Reads the sidecar if it changed since `seen` (its modification time). A missing,
/// oversized, linked, special or half-understood file is simply not news.
pub fn read_if_newer(journal: &Path, seen: &mut Option<std::time::SystemTime>) -> Option<Snapshot> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path(journal))
        .ok()?;
    // Judged on the open file, not the path: nothing can be swapped in between.
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
        return None;
    }
    let modified = meta.modified().ok()?;
    if Some(modified) == *seen {
        return None;
    }
    *seen = Some(modified);
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    (&mut file).take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).ok()?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return None;
    }
    let mut snapshot: Snapshot = serde_json::from_slice(&bytes).ok()?;
    for figure in &mut snapshot.figures {
        let keep = figure.readings.len().saturating_sub(KEPT);
        figure.readings.drain(..keep);
    }
    Some(snapshot)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

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
        figures.add(RowInfo { id: id.clone(), kind: "http".into(), target: "http://x/".into() });
        figures.reading(&id, Reading::of(Utc::now(), &o));
        figures.view(&id, View { state: crate::monitor::State::Degraded, paused: true, ..View::default() });
        let snap = figures.snapshot(Utc::now());
        write(&journal, &snap).unwrap();
        let mut seen = None;
        let back = read_if_newer(&journal, &mut seen).unwrap();
        assert_eq!(back, snap);
        assert!(read_if_newer(&journal, &mut seen).is_none(), "unchanged: nothing new");
        let reading = &back.figures[0].readings[0];
        assert_eq!(
            (reading.health, reading.latency().as_millis(), reading.retry_after),
            (Health::Degraded, 812, o.retry_after)
        );
        assert!(back.figures[0].view.paused);
    }

    #[test]
    fn only_the_newest_readings_are_kept() {
        let mut figures = Figures::default();
        let id = RowId::check("web");
        figures.add(RowInfo { id: id.clone(), kind: "http".into(), target: String::new() });
        for i in 0..KEPT + 5 {
            let o = Outcome::new(Health::Up, Duration::from_millis(i as u64), "ok");
            figures.reading(&id, Reading::of(Utc::now(), &o));
        }
        let snap = figures.snapshot(Utc::now());
        assert_eq!(snap.figures[0].readings.len(), KEPT);
        assert_eq!(snap.figures[0].readings[0].latency(), Duration::from_millis(5));
    }
}
