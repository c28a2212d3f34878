//! Who is here. Every writing session keeps a heartbeat file beside the journal
//! (`<journal>.here-<session id>`: its author, and whether it probes), sets its time every
//! [`BEAT_EVERY`] from the engine's watch tick (no timer of its own), and reads everybody's. A session that stops beating (killed, frozen, cut off) is
//! shown gone after [`GONE_AFTER`], without waiting for a "left" entry that never comes. A
//! poller's beat says that it probes, so followers and viewers know when nobody does.
//!
//! Read-only viewers write no heartbeat (they may not be allowed to write there) and so are
//! not listed. The files lie in a shared directory: they are read as the live figures are
//! (no link followed, regular files only, size-bounded), and believed no further than "a
//! session of this author beat at this time".

use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::protocol::{Person, Presence, Probing, Update};
use crate::journal::dir::{self, Sharing};

pub const BEAT_EVERY: Duration = Duration::from_secs(1);
/// Three missed beats: a session silent this long is shown gone.
pub const GONE_AFTER: Duration = Duration::from_secs(3);
/// A session silent this long is no longer listed at all; its author's next session removes
/// the file.
pub const FORGET_AFTER: Duration = Duration::from_secs(600);
/// A heartbeat is a few dozen bytes; a larger file is not one.
const MAX_BEAT_BYTES: u64 = 4096;
/// Heartbeat files looked at per scan: a directory stuffed with them costs a bounded read.
const MAX_BEATS: usize = 256;

/// A heartbeat file's contents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Beat {
    author: String,
    #[serde(default)]
    probing: bool,
}

/// A heartbeat as found: whose, whether it probes, when it was last written.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub author: String,
    pub probing: bool,
    pub at: SystemTime,
    /// This session's own beat.
    pub own: bool,
}

/// This session's side of presence: its own beat, and what it last told its front-end.
pub struct Heart {
    journal: PathBuf,
    own: PathBuf,
    author: String,
    /// Heartbeats are shared like the journal, so every member sees who is here.
    sharing: Sharing,
    last_beat: Option<Instant>,
    told: Option<Presence>,
    /// This session's heartbeat file as written, and whether it says that it probes.
    written: Option<(std::fs::File, bool)>,
    /// The newest beat seen from a probing session, even one since gone.
    probed_at: Option<SystemTime>,
    /// At the last scan, the newest beat of another session (`Err`: the directory could not
    /// be listed, so nobody can be said to be absent).
    others_at: Result<Option<SystemTime>, ()>,
    /// Whether the front-end was told that this session's beat cannot be written.
    warned: bool,
}

impl Heart {
    pub fn new(journal: &Path, author: &str, sharing: Sharing) -> Heart {
        let id = uuid::Uuid::now_v7().simple().to_string();
        Heart {
            journal: journal.to_path_buf(),
            own: sibling(journal, &format!(".here-{id}")),
            author: author.to_string(),
            sharing,
            last_beat: None,
            told: None,
            written: None,
            probed_at: None,
            others_at: Ok(None),
            warned: false,
        }
    }

    /// Beats again and rescans at the next tick (a role changed: others must know now).
    pub fn hurry(&mut self) {
        self.last_beat = None;
    }

    /// Called on every watch tick; does its work once per [`BEAT_EVERY`]: writes this
    /// session's beat (`beat`: `None` for a viewer, else whether it probes), reads everybody's,
    /// and returns what the front-end must hear.
    pub fn tick(&mut self, beat: Option<bool>) -> Vec<Update> {
        if self.last_beat.is_some_and(|at| at.elapsed() < BEAT_EVERY) {
            return Vec::new();
        }
        self.last_beat = Some(Instant::now());
        let mut updates = Vec::new();
        if let Some(probing) = beat
            && let Err(e) = self.beat(probing)
            && !std::mem::replace(&mut self.warned, true)
        {
            updates.push(Update::Notice(format!("others cannot see you as here: cannot write the heartbeat: {e}")));
        }
        // A directory this session may not list tells nothing: better no presence (the
        // journal's joined/left entries stand in) than "nobody is here, nobody probes".
        let Some(seen) = self.scan() else {
            self.others_at = Err(());
            return updates;
        };
        self.others_at = Ok(seen.iter().filter(|s| !s.own).map(|s| s.at).max());
        let now = SystemTime::now();
        self.probed_at = seen.iter().filter(|s| s.probing).map(|s| s.at).chain(self.probed_at).max();
        let presence = assess(&seen, now, self.probed_at);
        if self.told.as_ref() != Some(&presence) {
            self.told = Some(presence.clone());
            updates.push(Update::Presence(presence));
        }
        updates
    }

    /// Whether another session (not this one's own beat) beat freshly at the last scan, or
    /// who is here could not be told: somebody may be reading what this session publishes.
    pub fn others_here(&self) -> bool {
        let fresh = |at: SystemTime| SystemTime::now().duration_since(at).unwrap_or_default() < GONE_AFTER;
        match self.others_at {
            Err(()) => true,
            Ok(at) => at.is_some_and(fresh),
        }
    }

    /// A beat is the file's modification time, set on the file this session wrote, through
    /// the descriptor kept open (one syscall, where rewriting it cost 1.9 ms). The file is
    /// written again when what it says changes, or when the time cannot be set on it or it is
    /// no longer in the directory (removed, or replaced by a rename).
    fn beat(&mut self, probing: bool) -> std::io::Result<()> {
        use std::os::unix::fs::MetadataExt;
        if let Some((file, said)) = &self.written
            && *said == probing
            && file.metadata().is_ok_and(|m| m.nlink() > 0)
            && file.set_modified(SystemTime::now()).is_ok()
        {
            return Ok(());
        }
        let beat = Beat { author: self.author.clone(), probing };
        let bytes = serde_json::to_vec(&beat).map_err(std::io::Error::other)?;
        dir::replace(&self.own, &bytes, &self.sharing).map_err(std::io::Error::other)?;
        self.written = Some((open_beat(&self.own)?, probing));
        Ok(())
    }

    /// Everybody's heartbeats (`None` if the directory cannot be listed); this author's
    /// long-silent ones are removed on the way.
    ///
    /// Every entry with the prefix is judged by its own `lstat` first (a regular file, small
    /// enough, written within [`FORGET_AFTER`]), and only the [`MAX_BEATS`] newest are read: a
    /// member who stuffs the directory with thousands of empty "heartbeats" costs a listing,
    /// and cannot push the real poller's beat out of the few that are read.
    fn scan(&self) -> Option<Vec<Seen>> {
        use std::os::unix::fs::MetadataExt;
        let prefix = sibling(&self.journal, ".here-");
        let prefix = prefix.file_name()?.as_bytes().to_vec();
        let entries = std::fs::read_dir(dir_of(&self.journal)).ok()?;
        let now = SystemTime::now();
        // SAFETY: geteuid cannot fail.
        let me = unsafe { libc::geteuid() };
        let (mut recent, mut stale_own) = (Vec::new(), Vec::new());
        for entry in entries.filter_map(Result::ok).filter(|e| e.file_name().as_bytes().starts_with(&prefix)) {
            // DirEntry::metadata does not follow a link.
            let Ok(meta) = entry.metadata() else { continue };
            let Ok(at) = meta.modified() else { continue };
            // A beat is never empty: `: > $J.here-junk` files are not worth a read.
            if !meta.file_type().is_file() || meta.len() == 0 || meta.len() > MAX_BEAT_BYTES {
                continue;
            }
            if now.duration_since(at).unwrap_or_default() <= FORGET_AFTER {
                recent.push((at, entry.path()));
            } else if meta.uid() == me {
                stale_own.push(entry.path());
            }
        }
        recent.sort_by_key(|b| std::cmp::Reverse(b.0));
        recent.truncate(MAX_BEATS);
        stale_own.truncate(MAX_BEATS);
        for path in stale_own {
            // A killed session of ours left it; nobody else will ever remove it.
            if read_beat(&path)
                .and_then(|(bytes, _)| serde_json::from_slice::<Beat>(&bytes).ok())
                .is_some_and(|beat| beat.author == self.author)
            {
                let _ = std::fs::remove_file(&path);
            }
        }
        let seen = recent
            .into_iter()
            .filter_map(|(_, path)| {
                let (bytes, at) = read_beat(&path)?;
                let beat: Beat = serde_json::from_slice(&bytes).ok()?;
                // By name: the listing joins the directory to it (`./j.jsonl.here-…` for `j.jsonl`).
                Some(Seen {
                    author: beat.author,
                    probing: beat.probing,
                    at,
                    own: path.file_name() == self.own.file_name(),
                })
            })
            .collect();
        Some(seen)
    }

    /// The session ends: its heartbeat goes (its "left" entry says the rest).
    pub fn stop(&mut self) {
        if self.written.take().is_some() {
            let _ = std::fs::remove_file(&self.own);
        }
    }
}

/// Presence from the heartbeats found, at `now`: an author is here while any of their
/// sessions' beats is fresh, gone (since their newest beat) once all are older than
/// [`GONE_AFTER`], and forgotten after [`FORGET_AFTER`]. Nobody probes once the newest probing
/// beat, found now or earlier (`probed_at`: a poller that left took its file along), is as old.
pub fn assess(seen: &[Seen], now: SystemTime, probed_at: Option<SystemTime>) -> Presence {
    let silent = |s: &Seen| now.duration_since(s.at).unwrap_or_default();
    let mut newest: BTreeMap<&str, (bool, SystemTime)> = BTreeMap::new();
    for s in seen.iter().filter(|s| silent(s) <= FORGET_AFTER) {
        let fresh = silent(s) < GONE_AFTER;
        let entry = newest.entry(&s.author).or_insert((fresh, s.at));
        *entry = (entry.0 || fresh, entry.1.max(s.at));
    }
    let people = newest
        .into_iter()
        .map(|(author, (here, at))| Person {
            author: author.to_string(),
            gone_since: (!here).then(|| DateTime::<Utc>::from(at)),
        })
        .collect();
    let probed_at = seen.iter().filter(|s| s.probing).map(|s| s.at).chain(probed_at).max();
    let probing = match probed_at {
        Some(at) if now.duration_since(at).unwrap_or_default() < GONE_AFTER => Probing::Yes,
        since => Probing::Nobody { since: since.map(DateTime::<Utc>::from) },
    };
    Presence { people, probing }
}

fn dir_of(journal: &Path) -> &Path {
    journal.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// `<journal>` + `suffix`, beside the journal.
fn sibling(journal: &Path, suffix: &str) -> PathBuf {
    let mut name = journal.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(suffix);
    journal.with_file_name(name)
}

/// Opens a heartbeat for reading (never through a link, never blocking on a FIFO, a regular
/// file of at most [`MAX_BEAT_BYTES`]).
fn open_beat(path: &Path) -> std::io::Result<std::fs::File> {
    dir::open_read(path, MAX_BEAT_BYTES).map_err(std::io::Error::other)
}

/// A heartbeat's bytes and when it was written. A missing, oversized, linked or special
/// file is no heartbeat.
fn read_beat(path: &Path) -> Option<(Vec<u8>, SystemTime)> {
    let file = open_beat(path).ok()?;
    let at = file.metadata().ok()?.modified().ok()?;
    Some((dir::read_open(path, file, MAX_BEAT_BYTES).ok()?, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(author: &str, probing: bool, secs_ago: u64, now: SystemTime) -> Seen {
        Seen { author: author.into(), probing, at: now - Duration::from_secs(secs_ago), own: false }
    }

    fn people(p: &Presence) -> Vec<(&str, bool)> {
        p.people.iter().map(|p| (p.author.as_str(), p.is_here())).collect()
    }

    #[test]
    fn an_author_is_here_while_any_session_beats_and_gone_once_all_are_silent() {
        let now = SystemTime::now();
        let beats = [
            seen("alice", true, 5, now),
            seen("bob", false, 0, now),
            // Bob's other session was killed: one fresh beat is enough.
            seen("bob", false, 30, now),
            seen("carol", false, 2, now),
            seen("dave", false, 601, now),
        ];
        let p = assess(&beats, now, None);
        assert_eq!(people(&p), vec![("alice", false), ("bob", true), ("carol", true)]);
        let alice_beat = DateTime::<Utc>::from(now - Duration::from_secs(5));
        assert_eq!(p.people[0].gone_since, Some(alice_beat));
        assert_eq!(p.probing, Probing::Nobody { since: Some(alice_beat) });
        // Her file gone too (she left, or it was removed): the time is remembered.
        let remembered = assess(&beats[1..], now, Some(now - Duration::from_secs(5)));
        assert_eq!(remembered.probing, Probing::Nobody { since: Some(alice_beat) });
    }

    #[test]
    fn a_fresh_probing_beat_means_somebody_probes() {
        let now = SystemTime::now();
        let p = assess(&[seen("alice", false, 0, now), seen("bob", true, 1, now)], now, None);
        assert_eq!(p.probing, Probing::Yes);
        // A poller that just left took its file along: three beats pass before anyone says so
        // (a follower takes over well within them).
        let just_left = Some(now - Duration::from_secs(1));
        assert_eq!(assess(&[seen("alice", false, 0, now)], now, just_left).probing, Probing::Yes);
        assert_eq!(assess(&[], now, None), Presence { people: Vec::new(), probing: Probing::Nobody { since: None } });
        // A clock step backwards (a beat "from the future") counts as fresh, not as a panic.
        let future = Seen { author: "eve".into(), probing: true, at: now + Duration::from_secs(60), own: false };
        assert_eq!(assess(&[future], now, None).probing, Probing::Yes);
    }

    #[test]
    fn sessions_see_each_other_and_a_stopped_one_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("j.jsonl");
        let mut alice = Heart::new(&journal, "alice", Sharing::PRIVATE);
        let mut bob = Heart::new(&journal, "bob", Sharing::PRIVATE);
        alice.tick(Some(true));
        let told = bob.tick(Some(false));
        let Some(Update::Presence(p)) = told.last() else { panic!("{told:?}") };
        assert_eq!((people(p), p.probing), (vec![("alice", true), ("bob", true)], Probing::Yes));
        bob.hurry();
        assert!(bob.tick(Some(false)).is_empty(), "nothing changed: nothing told");
        alice.stop();
        bob.hurry();
        let told = bob.tick(Some(false));
        let Some(Update::Presence(p)) = told.last() else { panic!("{told:?}") };
        assert_eq!((people(p), p.probing), (vec![("bob", true)], Probing::Yes), "alice probed a moment ago");
        // A viewer beats not, and so is not listed.
        let mut viewer = Heart::new(&journal, "carol", Sharing::PRIVATE);
        let told = viewer.tick(None);
        let Some(Update::Presence(p)) = told.last() else { panic!("{told:?}") };
        assert_eq!(people(p), vec![("bob", true)]);
    }

    #[test]
    fn others_are_here_while_another_sessions_beat_is_fresh_not_ones_own() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("j.jsonl");
        let mut poller = Heart::new(&journal, "alice", Sharing::PRIVATE);
        poller.tick(Some(true));
        assert!(!poller.others_here(), "its own beat is nobody else");
        // Another session of the same author counts: it reads the figures too.
        let mut other = Heart::new(&journal, "alice", Sharing::PRIVATE);
        other.tick(Some(false));
        poller.hurry();
        poller.tick(Some(true));
        assert!(poller.others_here());
        // Killed: its beat goes stale, and it is absent once GONE_AFTER passes.
        let stale = SystemTime::now() - GONE_AFTER - Duration::from_secs(1);
        std::fs::File::options().write(true).open(&other.own).unwrap().set_modified(stale).unwrap();
        poller.hurry();
        poller.tick(Some(true));
        assert!(!poller.others_here());
        // Leaving takes the file along.
        other.hurry();
        other.tick(Some(false));
        poller.hurry();
        poller.tick(Some(true));
        assert!(poller.others_here());
        other.stop();
        poller.hurry();
        poller.tick(Some(true));
        assert!(!poller.others_here());
    }

    #[test]
    fn a_beat_touches_the_file_and_a_removed_or_replaced_one_is_written_again() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("j.jsonl");
        let mut heart = Heart::new(&journal, "alice", Sharing::PRIVATE);
        heart.beat(false).unwrap();
        let old = SystemTime::now() - Duration::from_secs(60);
        std::fs::File::options().write(true).open(&heart.own).unwrap().set_modified(old).unwrap();
        heart.beat(false).unwrap();
        assert!(std::fs::metadata(&heart.own).unwrap().modified().unwrap() > old, "the beat moved the time on");
        std::fs::remove_file(&heart.own).unwrap();
        heart.beat(false).unwrap();
        assert_eq!(std::fs::read(&heart.own).unwrap(), br#"{"author":"alice","probing":false}"#);
        std::fs::write(dir.path().join("planted"), br#"{"author":"mallory"}"#).unwrap();
        std::fs::rename(dir.path().join("planted"), &heart.own).unwrap();
        heart.beat(false).unwrap();
        assert_eq!(std::fs::read(&heart.own).unwrap(), br#"{"author":"alice","probing":false}"#);
        heart.beat(true).unwrap();
        assert_eq!(std::fs::read(&heart.own).unwrap(), br#"{"author":"alice","probing":true}"#, "a new role is said");
        heart.stop();
        assert!(!heart.own.exists());
    }

    #[test]
    fn links_fifos_oversized_and_garbled_files_are_no_heartbeat() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("j.jsonl");
        let real = dir.path().join("elsewhere");
        std::fs::write(&real, br#"{"author":"mallory"}"#).unwrap();
        std::os::unix::fs::symlink(&real, sibling(&journal, ".here-link")).unwrap();
        let fifo = std::ffi::CString::new(sibling(&journal, ".here-fifo").as_os_str().as_bytes()).unwrap();
        // SAFETY: a NUL-terminated path; mkfifo(3) reads it only.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let big = format!(r#"{{"author":"{}"}}"#, "x".repeat(MAX_BEAT_BYTES as usize));
        std::fs::write(sibling(&journal, ".here-big"), big).unwrap();
        std::fs::write(sibling(&journal, ".here-garbled"), b"\x1b[2J not json").unwrap();
        std::fs::write(sibling(&journal, ".here-ok"), br#"{"author":"zed","probing":true}"#).unwrap();
        let heart = Heart::new(&journal, "me", Sharing::PRIVATE);
        let found: Vec<String> = heart.scan().unwrap().into_iter().map(|s| s.author).collect();
        assert_eq!(found, vec!["zed".to_string()]);
    }

    #[test]
    fn a_flood_of_junk_heartbeats_hides_nobody() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("j.jsonl");
        // The poller beats first: the flood comes after it in the listing.
        let mut poller = Heart::new(&journal, "alice", Sharing::PRIVATE);
        poller.beat(true).unwrap();
        let a_while_ago = SystemTime::now() - Duration::from_secs(5);
        for i in 0..3000 {
            let path = sibling(&journal, &format!(".here-junk{i}"));
            // Not empty (an empty file is passed over unread): only its age puts it behind.
            std::fs::write(&path, "x").unwrap();
            std::fs::File::options().write(true).open(&path).unwrap().set_modified(a_while_ago).unwrap();
        }
        // Writing the flood may take longer than a beat on a loaded machine: the poller goes on
        // beating meanwhile, as a live one does (its file stays first in the listing).
        poller.beat(true).unwrap();
        let mut bob = Heart::new(&journal, "bob", Sharing::PRIVATE);
        let told = bob.tick(Some(false));
        let Some(Update::Presence(p)) = told.last() else { panic!("{told:?}") };
        assert_eq!((people(p), p.probing), (vec![("alice", true), ("bob", true)], Probing::Yes));
    }

    #[test]
    fn a_long_silent_heartbeat_of_ones_own_is_removed_and_an_unlistable_directory_tells_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("j.jsonl");
        let long_ago = SystemTime::now() - FORGET_AFTER - Duration::from_secs(60);
        for (name, author) in [("mine", "alice"), ("theirs", "bob")] {
            let path = sibling(&journal, &format!(".here-{name}"));
            std::fs::write(&path, format!(r#"{{"author":"{author}"}}"#)).unwrap();
            std::fs::File::options().write(true).open(&path).unwrap().set_modified(long_ago).unwrap();
        }
        let mut alice = Heart::new(&journal, "alice", Sharing::PRIVATE);
        let told = alice.tick(None);
        assert_eq!(
            told,
            vec![Update::Presence(Presence { people: Vec::new(), probing: Probing::Nobody { since: None } })]
        );
        assert!(!sibling(&journal, ".here-mine").exists(), "a killed session of alice's left it");
        assert!(sibling(&journal, ".here-theirs").exists(), "bob's is bob's business");
        let mut lost = Heart::new(&dir.path().join("no-such-dir/j.jsonl"), "alice", Sharing::PRIVATE);
        assert!(lost.tick(None).is_empty());
        assert!(lost.others_here(), "nobody can be said to be absent");
    }
}
