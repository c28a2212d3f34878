//! The drills in a directory that have not ended: what `warroom drill --running` lists and
//! `warroom drill --join` picks from.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::election::lock_path;
use crate::incident::Incident;
use crate::journal::Journal;

/// A drill journal with no `drill_ended` yet.
#[derive(Debug, Clone, PartialEq)]
pub struct RunningDrill {
    pub path: PathBuf,
    pub scenario: String,
    pub title: String,
    pub started: DateTime<Utc>,
    pub speed: f64,
    /// Operators in it now (joined and not left), as the journal says.
    pub operators: Vec<String>,
    pub player: Player,
}

/// Whether the session playing the scenario is still there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Player {
    /// It holds the drill's poller lock.
    Playing,
    /// Nobody holds the lock: the player went away without ending the drill (killed).
    Gone,
    /// The lock cannot be looked at (another operator's, not readable here).
    Unknown,
}

/// Every drill journal in `dir` that has not ended, oldest first.
pub fn running(dir: &Path) -> Vec<RunningDrill> {
    crate::journal::journals_in(dir).into_iter().filter_map(|path| running_drill(&path)).collect()
}

/// The drill in the journal at `path`, if it is a drill's and has not ended.
pub fn running_drill(path: &Path) -> Option<RunningDrill> {
    let incident = Incident::from_events(Journal::read(path).ok()?.events);
    let drill = incident.drill.as_ref().filter(|d| incident.is_drill() && d.ended.is_none())?;
    Some(RunningDrill {
        path: path.to_path_buf(),
        scenario: drill.scenario.clone(),
        title: incident.title.clone().unwrap_or_default(),
        started: drill.started,
        speed: drill.speed,
        operators: incident.operators.keys().cloned().collect(),
        player: player(path),
    })
}

/// Looks at the drill's poller lock without taking it for more than an instant, and without
/// creating it or following a link planted in its place.
fn player(journal: &Path) -> Player {
    let opened = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(lock_path(journal))
        .and_then(|f| if f.metadata()?.is_file() { Ok(f) } else { Err(std::io::Error::other("not a file")) });
    let file = match opened {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Player::Gone,
        Err(_) => return Player::Unknown,
    };
    match file.try_lock_shared() {
        Ok(()) => Player::Gone,
        Err(std::fs::TryLockError::WouldBlock) => Player::Playing,
        Err(std::fs::TryLockError::Error(_)) => Player::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{Event, EventBody, Mode};

    fn journal(path: &Path, mode: Mode, ended: bool) {
        let (j, _) = Journal::open(path).unwrap();
        let opened = EventBody::IncidentOpened { title: "Fire".into(), severity: 1, mode, checklist: None };
        j.append(&Event::new("alice", opened)).unwrap();
        j.append(&Event::new("alice", EventBody::DrillStarted { scenario: "fire".into(), speed: 10.0 })).unwrap();
        j.append(&Event::new("alice", EventBody::OperatorJoined {})).unwrap();
        if ended {
            j.append(&Event::new("alice", EventBody::DrillEnded { scenario: "fire".into() })).unwrap();
        }
    }

    #[test]
    fn lists_drills_not_ended_and_whether_their_player_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let (live, over, real) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"), dir.path().join("c.jsonl"));
        journal(&live, Mode::Drill, false);
        journal(&over, Mode::Drill, true);
        journal(&real, Mode::Real, false);
        let found = running(dir.path());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].path.as_path(), found[0].scenario.as_str()), (live.as_path(), "fire"));
        assert_eq!(found[0].operators, vec!["alice".to_string()]);
        assert_eq!(found[0].player, Player::Gone);
        let lock = super::super::election::try_acquire(&live, &crate::journal::Sharing::PRIVATE).unwrap().unwrap();
        assert_eq!(running(dir.path())[0].player, Player::Playing);
        drop(lock);
        assert_eq!(running(dir.path())[0].player, Player::Gone);
    }
}
