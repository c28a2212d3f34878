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
    Lines(Vec<Shipped>),
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
    /// Something the primary's screen should say, though the copy goes on (the shipped
    /// config could not be kept, say).
    Trouble { why: String },
    /// The mirror takes no more: why (promoted, or the primary's chain differs from its copy),
    /// and when it was promoted, if that is why.
    Refused {
        why: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        promoted: Option<DateTime<Utc>>,
    },
}

/// One line of the primary's file, byte for byte: the copy must hash as the primary does,
/// whatever a line holds, so its chain verifies the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Shipped {
    /// A line that is text (a journal line, or text that is not one).
    Text(String),
    /// A line that is not UTF-8 (written into the file by something other than warroom),
    /// in base64.
    Bytes { base64: String },
}

impl Shipped {
    pub fn of(line: &[u8]) -> Shipped {
        use base64::Engine;
        match std::str::from_utf8(line) {
            Ok(text) => Shipped::Text(text.to_string()),
            Err(_) => Shipped::Bytes { base64: base64::engine::general_purpose::STANDARD.encode(line) },
        }
    }

    /// The line's bytes; `Err` for base64 that is not.
    pub fn bytes(self) -> Result<Vec<u8>, String> {
        use base64::Engine;
        match self {
            Shipped::Text(text) => Ok(text.into_bytes()),
            Shipped::Bytes { base64 } => base64::engine::general_purpose::STANDARD
                .decode(base64)
                .map_err(|e| format!("a line in base64 that is not: {e}")),
        }
    }
}

/// Whether a line is one JSON object: a journal line (anything else in a journal file was
/// put there by hand, and is shipped and kept as it is, quarantined).
pub fn is_journal_line(line: &[u8]) -> bool {
    line.first() == Some(&b'{') && serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok()
}
