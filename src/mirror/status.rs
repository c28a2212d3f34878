//! The small files beside a journal that say how its mirrors stand, and the lines the
//! screen shows from them.
//!
//! - `<journal>.mirrors`, on the primary: written by the shipping session, read by every
//!   session there for the header ("mirror fra: in step", "mirror fra: 37 behind since 14:02").
//! - `<journal>.mirrored`, on the mirror host: written by `warroom ingest` as the primary
//!   speaks, read there for "primary silent since 14:02" and the clock skew.
//! - `<journal>.promoted`, on the mirror host: written by `warroom promote`; from then on
//!   ingest takes nothing more, and the copy is a primary.
//!
//! Each is written whole by replacing it ([`dir::replace`]: a temporary of our own, renamed)
//! and read bounded, never through a link; a file that does not parse is ignored.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::journal::{Sharing, dir};

/// Status files are small; anything bigger is not ours.
const MAX_STATUS_BYTES: u64 = 64 * 1024;
/// A mirror this little behind for this long is in step: an event takes a round trip.
const IN_STEP_WITHIN: chrono::TimeDelta = chrono::TimeDelta::seconds(2);
/// Without a word from the primary for this long, it is silent (it beats every second).
pub const SILENT_AFTER: chrono::TimeDelta = chrono::TimeDelta::seconds(5);
/// Clock skew worth showing.
const SKEW_SHOWN_MS: i64 = 2000;

/// One mirror, as the shipper sees it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MirrorStatus {
    pub name: String,
    /// Lines of this journal the mirror has on disk (acknowledged), and the last one's id.
    pub acked_lines: usize,
    pub acked_id: Option<String>,
    /// Lines in this journal.
    pub lines: usize,
    /// Since when the mirror has been behind, if it is.
    pub behind_since: Option<DateTime<Utc>>,
    /// Why the last attempt to reach it failed, while it is away.
    pub error: Option<String>,
    /// The mirror's copy and this journal disagree, or it refuses lines: nothing is shipped
    /// to it until it takes them again (it is asked again, less and less often).
    pub diverged: Option<String>,
    /// Something wrong that does not stop shipping (the mirror could not keep the config, a
    /// line here is not a journal line), said after the mirror's state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// The mirror was promoted to a primary (then): nothing more is shipped to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promoted: Option<DateTime<Utc>>,
}

impl MirrorStatus {
    /// What the header says about this mirror.
    pub fn line(&self, now: DateTime<Utc>) -> String {
        let name = crate::sanitize::sanitize_str(&self.name, 40);
        if let Some(at) = self.promoted {
            let at = at.format("%H:%M");
            return format!("mirror {name} was promoted to a primary at {at}: not shipping to it any more");
        }
        if let Some(why) = &self.diverged {
            return format!("mirror {name}: NOT SHIPPING — {}", crate::sanitize::sanitize_str(why, 200));
        }
        let state = self.state(&name, now);
        match &self.warning {
            Some(w) => format!("{state} — {}", crate::sanitize::sanitize_str(w, 160)),
            None => state,
        }
    }

    fn state(&self, name: &str, now: DateTime<Utc>) -> String {
        let behind = self.lines.saturating_sub(self.acked_lines);
        match self.behind_since {
            Some(since) if behind > 0 && now - since >= IN_STEP_WITHIN => {
                let away = self.error.as_deref().map(|e| format!(" ({})", crate::sanitize::sanitize_str(e, 80)));
                format!("mirror {name}: {behind} behind since {}{}", since.format("%H:%M"), away.unwrap_or_default())
            }
            _ => format!("mirror {name}: in step"),
        }
    }
}

/// `<journal>.mirrors`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Shipping {
    pub at: DateTime<Utc>,
    pub mirrors: Vec<MirrorStatus>,
}

/// The shipping session rewrites its record at least this often, changed or not.
pub const RECORD_EVERY: std::time::Duration = std::time::Duration::from_secs(5);
/// A record older than this: its shipper stopped (killed, frozen, its host hung).
pub const SHIPPER_SILENT_AFTER: chrono::TimeDelta = chrono::TimeDelta::seconds(15);

impl Shipping {
    /// The header's mirror lines in a session that does not ship: the record measured
    /// against the `lines` this session counts in the journal itself, and aged, so a
    /// shipper that stopped cannot leave "in step" on every screen.
    pub fn lines_seen_by_others(&self, lines: usize, now: DateTime<Utc>) -> Vec<String> {
        self.mirrors
            .iter()
            .map(|m| {
                let mut m = m.clone();
                m.lines = m.lines.max(lines);
                if now - self.at > SHIPPER_SILENT_AFTER {
                    return format!(
                        "mirror {}: shipper silent since {} — the mirror held {} of this journal's {} lines then",
                        crate::sanitize::sanitize_str(&m.name, 40),
                        self.at.format("%H:%M:%S"),
                        m.acked_lines,
                        m.lines
                    );
                }
                if m.lines > m.acked_lines {
                    m.behind_since.get_or_insert(self.at);
                }
                m.line(now)
            })
            .collect()
    }
}

/// `<journal>.mirrored`: the copy on a mirror host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Copy {
    /// The primary's account (`user@host`), as its greeting said.
    pub primary: String,
    /// When the primary last spoke (this host's clock).
    pub heard: DateTime<Utc>,
    /// This host's clock minus the primary's, measured on its heartbeats (milliseconds).
    pub skew_ms: i64,
    pub lines: usize,
    pub head: String,
    /// The primary's journal no longer continues this copy: what was found.
    pub diverged: Option<String>,
}

impl Copy {
    /// What the mirror host's screen says about its primary.
    pub fn line(&self, now: DateTime<Utc>) -> String {
        let primary = crate::sanitize::sanitize_str(&self.primary, 60);
        if let Some(why) = &self.diverged {
            return format!("primary {primary} DIFFERS from this copy — {}", crate::sanitize::sanitize_str(why, 160));
        }
        let skew = if self.skew_ms.abs() > SKEW_SHOWN_MS {
            format!(" (clock skew {:+.1} s)", self.skew_ms as f64 / 1000.0)
        } else {
            String::new()
        };
        // The key part first: at 80 columns the end may be cut.
        if now - self.heard > SILENT_AFTER {
            format!(
                "MIRROR of {primary} — primary silent since {} — P (or `warroom promote`) carries on here{skew}",
                self.heard.format("%H:%M")
            )
        } else {
            format!("MIRROR of {primary} — read-only until promoted (P) — in step{skew}")
        }
    }
}

/// `<journal>.promoted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Promoted {
    pub at: DateTime<Utc>,
    pub by: String,
}

fn beside(journal: &Path, suffix: &str) -> PathBuf {
    let mut name = journal.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(suffix);
    journal.with_file_name(name)
}

pub fn shipping_path(journal: &Path) -> PathBuf {
    beside(journal, ".mirrors")
}

pub fn copy_path(journal: &Path) -> PathBuf {
    beside(journal, ".mirrored")
}

pub fn promoted_path(journal: &Path) -> PathBuf {
    beside(journal, ".promoted")
}

/// The shipper's election lock.
pub fn shipper_lock_path(journal: &Path) -> PathBuf {
    beside(journal, ".shipper")
}

/// One `warroom ingest` per copy at a time.
pub fn ingest_lock_path(journal: &Path) -> PathBuf {
    beside(journal, ".ingest")
}

/// The checklist file the primary's config named.
pub fn checklist_path(journal: &Path) -> PathBuf {
    beside(journal, ".checklist.toml")
}

/// The config the primary shipped, secrets removed.
pub fn config_path(journal: &Path) -> PathBuf {
    beside(journal, ".config.toml")
}

/// The largest config or checklist file a mirror keeps.
pub const MAX_SHIPPED_BYTES: u64 = 1 << 20;

/// The copy a shipped config or checklist sits beside, if `path` is one: it is named
/// `<journal>.config.toml` (or `.checklist.toml`) and that journal is a mirror's copy.
pub fn shipped_beside(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let journal = [".config.toml", ".checklist.toml"].iter().find_map(|s| name.strip_suffix(s))?;
    let journal = path.with_file_name(journal);
    let marked = |p: PathBuf| std::fs::symlink_metadata(p).is_ok();
    (marked(copy_path(&journal)) || marked(promoted_path(&journal))).then_some(journal)
}

/// The config and checklist kept beside the copy at `journal` are run as whoever promotes
/// it, so they must be that user's own: in a shared directory another member could have put
/// theirs under these names (ingest could not then replace them). `Err` says which and why.
pub fn own_shipped_files(journal: &Path) -> Result<(), String> {
    for path in [config_path(journal), checklist_path(journal)] {
        if std::fs::symlink_metadata(&path).is_err() {
            continue;
        }
        dir::open_owned(&path, MAX_SHIPPED_BYTES)
            .map_err(|e| format!("{e} (it is what a promoted mirror would run: warroom only runs its own user's)"))?;
    }
    Ok(())
}

pub fn read<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
    let bytes = dir::read_bounded(path, MAX_STATUS_BYTES).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// A mark beside the copy at `journal` (`.mirrored`, `.promoted`) that changes what warroom
/// does with it: trusted only if its owner is the user running warroom or the journal's
/// owner, and it has no other name. Any member of a shared directory could plant one to stop
/// probing, or to make the copy refuse every line.
pub fn read_mark<T: for<'de> Deserialize<'de>>(path: &Path, journal: &Path) -> Option<T> {
    use std::os::unix::fs::MetadataExt;
    let file = dir::open_read(path, MAX_STATUS_BYTES).ok()?;
    let meta = file.metadata().ok()?;
    let journal_owner = std::fs::symlink_metadata(journal).ok().map(|m| m.uid());
    let trusted_owner = meta.uid() == dir::euid() || Some(meta.uid()) == journal_owner;
    if !trusted_owner || meta.nlink() != 1 {
        return None;
    }
    let bytes = dir::read_open(path, file, MAX_STATUS_BYTES).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The copy's state file, if it is a mark to trust ([`read_mark`]).
pub fn read_copy(journal: &Path) -> Option<Copy> {
    read_mark(&copy_path(journal), journal)
}

/// The copy's promotion, if it is a mark to trust ([`read_mark`]).
pub fn read_promoted(journal: &Path) -> Option<Promoted> {
    read_mark(&promoted_path(journal), journal)
}

pub fn write<T: Serialize>(path: &Path, value: &T, sharing: &Sharing) -> Result<(), String> {
    let bytes = serde_json::to_vec(value).map_err(|e| e.to_string())?;
    dir::replace(path, &bytes, sharing).map_err(|e| e.to_string())
}

/// Whether a line of [`Copy::line`]: the screen is on a mirror's copy.
pub fn is_copy_line(line: &str) -> bool {
    line.starts_with("MIRROR") || (line.starts_with("primary ") && line.contains("DIFFERS"))
}

/// A copy on a mirror host not promoted yet: sessions on it only view.
pub fn is_unpromoted_copy(journal: &Path) -> bool {
    read_copy(journal).is_some() && read_promoted(journal).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        use chrono::TimeZone;
        Utc.with_ymd_and_hms(2026, 11, 26, h, m, s).unwrap()
    }

    #[test]
    fn a_mirror_is_in_step_or_so_many_behind_since_when() {
        let mut m = MirrorStatus { name: "fra".into(), acked_lines: 100, lines: 100, ..MirrorStatus::default() };
        assert_eq!(m.line(at(14, 5, 0)), "mirror fra: in step");
        m.lines = 137;
        m.behind_since = Some(at(14, 2, 0));
        // A moment behind is still in step: an event takes a round trip.
        assert_eq!(m.line(at(14, 2, 1)), "mirror fra: in step");
        assert_eq!(m.line(at(14, 5, 0)), "mirror fra: 37 behind since 14:02");
        m.warning = Some("the mirror could not keep the config".into());
        assert_eq!(m.line(at(14, 5, 0)), "mirror fra: 37 behind since 14:02 — the mirror could not keep the config");
    }

    #[test]
    fn other_sessions_age_the_record_and_count_the_journal_themselves() {
        // The shipper froze (kill -STOP) after the mirror had 3 lines: its record says in step.
        let record = Shipping {
            at: at(14, 2, 0),
            mirrors: vec![MirrorStatus { name: "fra".into(), acked_lines: 3, lines: 3, ..MirrorStatus::default() }],
        };
        assert_eq!(record.lines_seen_by_others(3, at(14, 2, 3)), ["mirror fra: in step"]);
        // The journal has 10 lines now: behind, whatever the record said.
        assert_eq!(record.lines_seen_by_others(10, at(14, 2, 5)), ["mirror fra: 7 behind since 14:02"]);
        // And once the record is old, the shipper is silent.
        assert_eq!(
            record.lines_seen_by_others(10, at(14, 3, 0)),
            ["mirror fra: shipper silent since 14:02:00 — the mirror held 3 of this journal's 10 lines then"]
        );
    }

    #[test]
    fn marks_planted_by_another_user_or_hard_linked_are_not_trusted() {
        if dir::euid() != 0 {
            eprintln!("SKIPPED: planting another user's file needs root");
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let journal = tmp.path().join("incident.jsonl");
        std::fs::write(&journal, "").unwrap();
        let copy =
            Copy { primary: "p".into(), heard: at(1, 0, 0), skew_ms: 0, lines: 0, head: String::new(), diverged: None };
        let promoted = Promoted { at: at(1, 0, 0), by: "mallory".into() };
        // Another member (uid 65534) plants `.mirrored` beside a journal that is ours: the
        // sessions must not take it for a mirror's copy and stop probing.
        write(&copy_path(&journal), &copy, &Sharing::PRIVATE).unwrap();
        std::os::unix::fs::chown(copy_path(&journal), Some(65534), None).unwrap();
        assert!(!is_unpromoted_copy(&journal));
        assert!(read_copy(&journal).is_none());
        // The journal's owner (ingest's user) writes it: trusted.
        std::os::unix::fs::chown(&journal, Some(65534), None).unwrap();
        assert!(is_unpromoted_copy(&journal));
        std::os::unix::fs::chown(&journal, Some(0), None).unwrap();
        std::os::unix::fs::chown(copy_path(&journal), Some(0), None).unwrap();
        assert!(is_unpromoted_copy(&journal));
        // A planted `.promoted` would make ingest refuse every line.
        write(&promoted_path(&journal), &promoted, &Sharing::PRIVATE).unwrap();
        std::os::unix::fs::chown(promoted_path(&journal), Some(65534), None).unwrap();
        assert!(read_promoted(&journal).is_none() && is_unpromoted_copy(&journal));
        // Ours, but with a second name someone made: not trusted either.
        std::os::unix::fs::chown(promoted_path(&journal), Some(0), None).unwrap();
        assert!(read_promoted(&journal).is_some());
        std::fs::hard_link(promoted_path(&journal), tmp.path().join("elsewhere")).unwrap();
        assert!(read_promoted(&journal).is_none());
    }

    #[test]
    fn a_stopped_or_promoted_mirror_is_said_from_the_primary_s_side() {
        let mut m = MirrorStatus { name: "par".into(), ..MirrorStatus::default() };
        m.diverged = Some("the journal was edited at or before line 50: shipping stopped".into());
        assert_eq!(
            m.line(at(1, 40, 0)),
            "mirror par: NOT SHIPPING — the journal was edited at or before line 50: shipping stopped"
        );
        // Promoted wins over the mirror's own words about it.
        m.diverged = Some("/srv/j was promoted to a primary at 2026-11-26T01:35:00Z by bob: it takes no more".into());
        m.promoted = Some(at(1, 35, 0));
        assert_eq!(m.line(at(1, 40, 0)), "mirror par was promoted to a primary at 01:35: not shipping to it any more");
    }

    #[test]
    fn the_mirror_host_says_when_the_primary_went_silent_and_a_skew_over_two_seconds() {
        let copy = Copy {
            primary: "root@bastion".into(),
            heard: at(14, 2, 0),
            skew_ms: 3200,
            lines: 10,
            head: String::new(),
            diverged: None,
        };
        assert_eq!(
            copy.line(at(14, 2, 2)),
            "MIRROR of root@bastion — read-only until promoted (P) — in step (clock skew +3.2 s)"
        );
        assert!(
            copy.line(at(14, 3, 0)).starts_with("MIRROR of root@bastion — primary silent since 14:02"),
            "{}",
            copy.line(at(14, 3, 0))
        );
        let close = Copy { skew_ms: 900, ..copy };
        assert!(!close.line(at(14, 2, 2)).contains("skew"));
    }
}
