//! Links to warroom on other hosts, over the system OpenSSH client.
//!
//! As git and rsync do, warroom reaches another host by running itself there:
//! `ssh -T -o BatchMode=yes DEST warroom VERB …`, with JSON lines on the child's stdin and
//! stdout. The user's keys, agent, `ProxyJump` and `known_hosts` apply as they set them;
//! nothing of ours listens on a port. Vantage agents, mirrors and remote screens each speak
//! their own messages over a [`Link`]; this module gives them what they share:
//! - the greeting: each side's first line is a [`Hello`] naming the protocol version, and a
//!   mismatch is an error naming both versions;
//! - framing: one JSON object per line, each line bounded ([`MAX_LINE`]), so a hostile or
//!   broken peer cannot make us buffer without end;
//! - heartbeats: a side with nothing to say sends a beat every [`Timing::beat`], so a link
//!   whose packets are dropped (no FIN, no RST) is noticed as [`LinkError::Silent`] within
//!   [`Timing::silence`] instead of when TCP gives up minutes later.

mod destination;
mod frame;
mod link;

pub use destination::{Destination, SSH_ENV, Ssh};
pub use frame::{Reader, Writer};
pub use link::{Link, Process, accept};

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The version of the messages warroom exchanges over a link. Raised on any change a peer
/// built from an older version would misread.
pub const PROTOCOL: u32 = 1;

/// The longest line either side accepts: a note of 1 MiB, escaped as JSON, fits.
pub const MAX_LINE: usize = 4 << 20;

/// Each side's first line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// [`PROTOCOL`] of the side that wrote it.
    pub protocol: u32,
    /// The verb this side serves or asks for (`agent`, `ingest`, `serve-session`…).
    pub verb: String,
    /// The warroom release, for the error message when protocols differ.
    pub version: String,
    /// The process id on its own host: tests and operators can check it is gone after.
    pub pid: u32,
    /// The operating-system account it runs as, `login@host`: a remote screen's events record
    /// the SSH account, whatever author name the far side chose.
    #[serde(default)]
    pub account: String,
}

impl Hello {
    pub fn ours(verb: &str) -> Hello {
        Hello {
            protocol: PROTOCOL,
            verb: verb.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            pid: std::process::id(),
            account: crate::journal::os_account().to_string(),
        }
    }
}

/// How often each side speaks when it has nothing to say, and how long a silence means the
/// link is gone. The ssh client's own `ServerAliveInterval` is set from `beat` too, so a cut
/// link ends the ssh process as well.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub beat: Duration,
    pub silence: Duration,
    /// How long connecting, authenticating and starting warroom on the far side may take.
    pub connect: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing { beat: Duration::from_secs(1), silence: Duration::from_secs(5), connect: Duration::from_secs(20) }
    }
}

/// What went wrong on a link, by the step it went wrong at. Each kind tells the caller what
/// to do: reconnect with backoff ([`LinkError::is_transient`]) or report and stop.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// ssh could not be started, could not connect or authenticate, or warroom could not be
    /// started on the far side. `detail` is ssh's own last words, sanitised: said first, as
    /// the part a reader needs (a banner cut to the screen's width keeps it).
    #[error("{detail} — while {step}")]
    Unreachable { step: String, detail: String },
    /// Nothing, not even a heartbeat, for longer than the silence allowed.
    #[error("no word from the far side for {0:?} (link cut or host frozen)")]
    Silent(Duration),
    /// The link ended: the far side closed it, or our own ssh ended (its words follow).
    #[error("the link ended{0}")]
    Closed(String),
    /// The far side speaks another protocol version.
    #[error(
        "{peer} speaks warroom protocol {theirs} (warroom {their_version}); this warroom speaks protocol {ours} ({our_version})"
    )]
    Mismatch { peer: String, theirs: u32, their_version: String, ours: u32, our_version: String },
    /// A line that is not what the protocol allows at this step.
    #[error("{step}: {detail}")]
    Protocol { step: &'static str, detail: String },
}

impl LinkError {
    /// Worth trying again later: the network or the far host may come back. A protocol
    /// mismatch or a malformed message will not mend by itself.
    pub fn is_transient(&self) -> bool {
        matches!(self, LinkError::Unreachable { .. } | LinkError::Silent(_) | LinkError::Closed(_))
    }
}
