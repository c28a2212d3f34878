//! The war-room session: everything about taking part in an incident that is not drawing it.
//!
//! A session owns the journal writer and its acknowledgements, the operator's arrival and
//! departure, its role (poller, follower or viewer) with the poller election and taking
//! over when the poller stops, reading entries other sessions append, the live-figures
//! exchange, presence by heartbeat (who is here, who is gone, whether anybody probes), and
//! the drill and replay clocks. The screen, `--headless` and any later
//! front-end hold a [`Session`]: a channel pair of [`Update`]s out and [`Command`]s in,
//! plain data that could as well cross an SSH link.
//!
//! Inside, one task gathers everything that happened into [`Message`]s, drains whatever
//! else is queued, and handles the lot before waiting again.

mod drill;
pub mod drills;
pub mod election;
mod engine;
mod facts;
pub mod figures;
pub mod presence;
pub mod protocol;

use std::collections::BTreeMap;

use tokio::sync::mpsc;

pub use drill::{DrillRun, score_and_save, scorecard_paths};
pub use protocol::{
    Command, Figure, LinkState, Person, Presence, Probing, Reading, ReplayControl, ReplayPosition, Role, RowInfo,
    Update, VERSION, Versioned,
};

use crate::checklist::Checklist;
use crate::comms::Channel;
use crate::config::Config;
use crate::journal::{Event, Journal, Scan};
use crate::monitor::{self, CheckDef};

/// What a session is opened for. (Not the journal's own real/drill `Mode`: a drill journal
/// can be opened by a replay, for one.)
#[derive(Debug, Clone)]
pub enum Purpose {
    /// Probe the configured checks, or follow the session that does and take over from it.
    Monitor,
    /// Play a scenario in its own journal, on its own clock, and score it.
    Drill(DrillRun),
    /// Take part in a drill another session plays: on the drill's clock (read from its
    /// journal), writing notes, ticks and simulated sends, never probing nor playing.
    JoinDrill,
    /// Play these journal events back at `speed` times real time; write nothing.
    Replay { events: Vec<Event>, speed: f64 },
    /// Follow the journal and the poller's figures; write nothing.
    View,
}

/// What a session needs of the configuration.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Shared with the monitor's tasks, not copied (4 MB at 10,000 checks).
    pub checks: Vec<std::sync::Arc<CheckDef>>,
    /// Vantages, and the checks that run from them.
    pub vantage: crate::vantage::Plan,
    pub monitor: monitor::Options,
    pub channels: BTreeMap<String, Channel>,
    /// Scores a drill.
    pub checklist: Option<Checklist>,
    /// `[[mirror]]`s the journal is shipped to, and the config they are sent (no secrets).
    pub mirrors: Vec<crate::config::Mirror>,
    pub shipped_config: Option<String>,
}

impl Settings {
    pub fn from_config(config: &Config, checklist: Option<Checklist>) -> Settings {
        Settings {
            checks: config.checks.iter().cloned().map(std::sync::Arc::new).collect(),
            vantage: config.vantage.clone(),
            monitor: monitor::Options { max_concurrent: config.max_concurrent_probes, canary: config.canary.clone() },
            channels: config.channels.clone(),
            checklist,
            mirrors: config.mirrors.clone(),
            shipped_config: (!config.mirrors.is_empty()).then(|| crate::mirror::shipped_config(config)).flatten(),
        }
    }
}

/// Everything a session is started from.
pub struct Opening {
    pub journal: Journal,
    /// What was read of the journal so far.
    pub scan: Scan,
    pub settings: Settings,
    pub purpose: Purpose,
    /// The name the session's entries are signed with.
    pub author: String,
}

impl Opening {
    pub fn is_replay(&self) -> bool {
        matches!(self.purpose, Purpose::Replay { .. })
    }
}

/// A front-end's end of a running session.
pub struct Session {
    pub author: String,
    updates: mpsc::UnboundedReceiver<Update>,
    commands: mpsc::UnboundedSender<Command>,
}

impl Session {
    /// Starts a session on the current tokio runtime. The first update is always
    /// [`Update::Opened`].
    pub fn start(opening: Opening) -> Session {
        let (updates_tx, updates) = mpsc::unbounded_channel();
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let author = opening.author.clone();
        let engine = engine::Engine::open(opening, updates_tx);
        tokio::spawn(engine.run(commands_rx));
        Session { author, updates, commands }
    }

    /// A session whose engine runs elsewhere (a remote screen's, on another host): the
    /// front-end's end, and the ends a bridge feeds updates into and takes commands from.
    pub fn bridged(author: String) -> (Session, mpsc::UnboundedSender<Update>, mpsc::UnboundedReceiver<Command>) {
        let (updates_tx, updates) = mpsc::unbounded_channel();
        let (commands, commands_rx) = mpsc::unbounded_channel();
        (Session { author, updates, commands }, updates_tx, commands_rx)
    }

    pub fn send(&self, command: Command) {
        // A session that has ended takes no more commands; its last update said so.
        let _ = self.commands.send(command);
    }

    /// The next update; `None` once the session has ended and everything was received.
    pub async fn recv(&mut self) -> Option<Update> {
        self.updates.recv().await
    }

    /// An update already waiting, if any.
    pub fn try_recv(&mut self) -> Option<Update> {
        self.updates.try_recv().ok()
    }

    /// Asks the session to end and waits (at most `within`) until it has.
    pub async fn leave(&mut self, within: std::time::Duration) -> Vec<Update> {
        self.send(Command::Leave);
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(within, async {
            while let Some(update) = self.updates.recv().await {
                let ended = update == Update::Ended;
                rest.push(update);
                if ended {
                    break;
                }
            }
        })
        .await;
        rest
    }
}
