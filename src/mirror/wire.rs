//! What a shipper and `warroom ingest` say to each other after the link's greeting.
//!
//! The ingest side speaks first, with what its copy holds ([`FromMirror::Holding`]); the
//! shipper then sends lines from the one after that, and ingest acknowledges each batch
//! once it is on disk.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Journal lines in one message at most (bytes, before JSON escaping): with escaping, well
/// within the link's line bound.
pub const BATCH_BYTES: usize = 1 << 20;

/// From the shipper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToMirror {
    /// The next journal lines, as they are in the primary's file (without newlines).
    Lines(Vec<String>),
    /// The war room's config, secrets removed, so the mirror can carry on when promoted, and
    /// the checklist file it names (a built-in one is in every warroom).
    Config {
        toml: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        checklist: Option<String>,
    },
    /// This journal does not continue the mirror's copy (its last line was edited or deleted
    /// here): nothing more is shipped, and the mirror's screen says so.
    Differs { why: String },
    /// Said every beat: the primary is alive, its clock, and how many lines it holds.
    Alive { at: DateTime<Utc>, lines: usize },
}

/// From `warroom ingest`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FromMirror {
    /// What the copy holds: its line count, the id of its last event and its chain head.
    Holding { lines: usize, last_id: Option<String>, head: String },
    /// Everything up to this event is on the mirror's disk; it holds `lines` lines.
    Ack { id: String, lines: usize },
    /// The mirror takes no more: why (promoted, or the primary's chain differs from its copy),
    /// and when it was promoted, if that is why.
    Refused {
        why: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        promoted: Option<DateTime<Utc>>,
    },
}
