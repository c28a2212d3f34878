//! Seeing from several places: vantage agents over SSH, and a verdict across them.
//!
//! A `[[vantage]]` is a host the war room reaches with the user's own ssh; there the same
//! binary runs as `warroom agent`, is sent the checks that run from that place, probes and
//! confirms them with the same monitor as here (timeouts, limits, sanitizer, `depends_on`,
//! canary) and streams what it sees back as JSON lines. Here, one task per vantage holds its
//! link and reconnects with backoff; a vantage that cannot be reached is its own state, never
//! its checks going down. Each check's places' confirmed states meet in a [`quorum`].
//!
//! - [`plan`]: the config's vantages, and where each check runs;
//! - [`wire`]: the messages on the link;
//! - [`agent`]: the far end (`warroom agent`);
//! - [`link`]: one vantage's link from the war room, reconnecting;
//! - [`quorum`]: the verdict across places;
//! - [`combined`]: the local monitor and the vantages as one monitor for the engine.

pub mod agent;
pub mod combined;
pub mod link;
pub mod once;
pub mod plan;
pub mod quorum;
pub mod wire;

pub use combined::PlaceStates;
pub use combined::spawn;
pub use plan::{LOCAL, Placement, Plan, Quorum, VantageDef};
