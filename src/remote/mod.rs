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
pub mod resume;
pub mod serve;
pub mod wire;

use std::time::Duration;

use crate::ssh::Timing;

/// A screen's link is mostly quiet (no clock, no frames): a beat every 10 s keeps ssh and
/// both sides sure of it for a few dozen bytes a minute, and 35 s of silence is a cut link.
pub const TIMING: Timing =
    Timing { beat: Duration::from_secs(10), silence: Duration::from_secs(35), connect: Duration::from_secs(20) };

/// The verb the far side serves.
pub const VERB: &str = "serve-session";
