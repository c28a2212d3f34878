//! Live figures for followers: the poller publishes each check's recent results in a small
//! sidecar file (`<journal>.samples`, replaced atomically); followers read it when it changes.
//! State changes travel through the journal; only latency and details travel here.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{State, View};
use crate::probe::{Health, Outcome};

/// Results kept per check in the sidecar.
pub const SHARED_SAMPLES: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub written: DateTime<Utc>,
    pub checks: Vec<SharedCheck>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedCheck {
    pub name: String,
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<String>,
    #[serde(default)]
    pub no_connectivity: bool,
    #[serde(default)]
    pub paused: bool,
    #[serde(default)]
    pub silenced: bool,
    /// Oldest first.
    pub samples: Vec<SharedSample>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedSample {
    pub at: DateTime<Utc>,
    pub health: String,
    pub latency_ms: f64,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<DateTime<Utc>>,
}

impl SharedCheck {
    /// What followers get of one check: its view and these recent results (oldest first).
    pub fn new<'a>(name: &str, view: &View, results: impl Iterator<Item = (DateTime<Utc>, &'a Outcome)>) -> Self {
        SharedCheck {
            name: name.to_string(),
            state: view.state.as_str().into(),
            blocked_by: view.blocked_by.clone(),
            no_connectivity: view.no_connectivity,
            paused: view.paused,
            silenced: view.silenced,
            samples: results.map(|(at, o)| sample(at, o)).collect(),
        }
    }
}

pub fn path(journal: &Path) -> PathBuf {
    let mut name = journal.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".samples");
    journal.with_file_name(name)
}

pub fn sample(at: DateTime<Utc>, o: &Outcome) -> SharedSample {
    SharedSample {
        at,
        health: o.health.as_str().into(),
        latency_ms: o.latency.as_secs_f64() * 1000.0,
        detail: o.detail.clone(),
        retry_after: o.retry_after,
    }
}

pub fn outcome(s: &SharedSample) -> Outcome {
    let health = match s.health.as_str() {
        "up" => Health::Up,
        "degraded" => Health::Degraded,
        _ => Health::Down,
    };
    let mut o = Outcome::new(health, Duration::from_secs_f64(s.latency_ms.max(0.0) / 1000.0), s.detail.clone());
    o.retry_after = s.retry_after;
    o
}

pub fn view_of(c: &SharedCheck) -> View {
    let state = match c.state.as_str() {
        "up" => State::Up,
        "degraded" => State::Degraded,
        "down" => State::Down,
        _ => State::Unknown,
    };
    View {
        state,
        blocked_by: c.blocked_by.clone(),
        no_connectivity: c.no_connectivity,
        paused: c.paused,
        silenced: c.silenced,
    }
}

/// Replaces the sidecar atomically (write aside, rename).
pub fn write(journal: &Path, snapshot: &Snapshot) -> std::io::Result<()> {
    let target = path(journal);
    let tmp = target.with_extension("samples.tmp");
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
    f.write_all(&serde_json::to_vec(snapshot).map_err(std::io::Error::other)?)?;
    drop(f);
    std::fs::rename(tmp, target)
}

/// Reads the sidecar if it changed since `seen` (its modification time). A missing or
/// half-understood file is simply not news: live figures are best-effort, states are not.
pub fn read_if_newer(journal: &Path, seen: &mut Option<std::time::SystemTime>) -> Option<Snapshot> {
    let target = path(journal);
    let modified = std::fs::metadata(&target).and_then(|m| m.modified()).ok()?;
    if Some(modified) == *seen {
        return None;
    }
    *seen = Some(modified);
    // Bounded: a hostile sidecar cannot make a follower read gigabytes.
    let bytes = std::fs::read(&target).ok().filter(|b| b.len() <= 8 << 20)?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_round_trips_through_the_sidecar() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("j.jsonl");
        let mut o = Outcome::new(Health::Degraded, Duration::from_millis(812), "slow");
        o.retry_after = Some(Utc::now());
        let snap = Snapshot {
            written: Utc::now(),
            checks: vec![SharedCheck {
                name: "web".into(),
                state: "degraded".into(),
                blocked_by: None,
                no_connectivity: false,
                paused: true,
                silenced: false,
                samples: vec![sample(Utc::now(), &o)],
            }],
        };
        write(&journal, &snap).unwrap();
        let mut seen = None;
        let back = read_if_newer(&journal, &mut seen).unwrap();
        assert_eq!(back, snap);
        assert!(read_if_newer(&journal, &mut seen).is_none(), "unchanged: nothing new");
        let again = outcome(&back.checks[0].samples[0]);
        assert_eq!(
            (again.health, again.latency.as_millis(), again.retry_after),
            (Health::Degraded, 812, o.retry_after)
        );
        assert!(view_of(&back.checks[0]).paused);
    }
}
