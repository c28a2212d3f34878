//! Remote screens: `warroom --remote DEST` draws the dashboard here over a session that runs
//! on another host (`ssh DEST warroom serve-session`), so only events cross the link, never
//! frames.
//!
//! The far side ([`serve`]) runs a real session on its own journal, as the account ssh logged
//! into and under the author name the screen chose; it sends the engine's own [`Update`]s
//! (live readings gathered and packed, see [`wire`]) and obeys the [`Command`]s the screen
//! sends. This side ([`bridge`]) stands in for a local session: the screen runs unchanged
//! over it. When the link is cut the bridge says so, reconnects with backoff and resumes
//! without duplicates ([`resume`]); the draft stays on this host until the far journal has
//! each note.
//!
//! [`Update`]: crate::session::Update
//! [`Command`]: crate::session::Command

pub mod bridge;
pub mod gate;
pub mod resume;
pub mod serve;
pub mod wire;

use std::time::Duration;

use crate::ssh::Timing;

/// A screen's link is mostly quiet (no clock, no frames, readings every 10 s): a beat every
/// 15 s keeps both sides sure of it for a few hundred bytes a minute, and 45 s of silence is a
/// cut link (a link cut with a reset or a closed connection is noticed at once).
pub const TIMING: Timing =
    Timing { beat: Duration::from_secs(15), silence: Duration::from_secs(45), connect: Duration::from_secs(20) };

/// The verb the far side serves.
pub const VERB: &str = "serve-session";
