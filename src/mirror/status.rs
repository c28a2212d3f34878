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
    /// The mirror's copy and this journal disagree: nothing more is shipped to it.
    pub diverged: Option<String>,
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
            return format!("mirror {name}: NOT SHIPPING — {}", crate::sanitize::sanitize_str(why, 160));
        }
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

pub fn read<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
    let bytes = dir::read_bounded(path, MAX_STATUS_BYTES).ok()?;
    serde_json::from_slice(&bytes).ok()
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
    read::<Copy>(&copy_path(journal)).is_some() && read::<Promoted>(&promoted_path(journal)).is_none()
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
