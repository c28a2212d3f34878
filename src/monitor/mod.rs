//! The monitor: runs each check on its schedule, confirms changes, and reports them.
//!
//! One task runs every check on its schedule (see [`scheduler`]); each probe is its own
//! future with a hard timeout (a stuck target delays nobody else), and all probes share one
//! concurrency limit. Results go to a coordinator that decides what a change *means* before
//! anyone writes it down: a child failing under a down parent is "blocked" (one journal entry
//! for the group, not a storm), and failures while the connectivity canary is failing are
//! "unknown — no connectivity", not a wall of false downs.

mod check;
mod confirm;
mod coordinator;
pub mod push;
mod row;
mod scheduler;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio::time::Instant;

pub use check::{CheckDef, Schedule};
pub use confirm::Confirmer;
pub use coordinator::{Change, Coordinator, RowResult, View};
pub use row::RowId;
use scheduler::{Doorbell, Order, Scheduler};

use crate::probe::{Health, Outcome, Prober};

/// A check's confirmed state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    #[default]
    Unknown,
    Up,
    Degraded,
    Down,
}

impl State {
    pub fn is_failing(self) -> bool {
        matches!(self, State::Degraded | State::Down)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            State::Unknown => "unknown",
            State::Up => "up",
            State::Degraded => "degraded",
            State::Down => "down",
        }
    }
}

impl From<Health> for State {
    fn from(h: Health) -> Self {
        match h {
            Health::Up => State::Up,
            Health::Degraded => State::Degraded,
            Health::Down => State::Down,
        }
    }
}

/// Monitor-wide settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Probes running at once, across all checks.
    pub max_concurrent: usize,
    /// Name of the check whose failure means this host has lost the network.
    pub canary: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options { max_concurrent: 64, canary: None }
    }
}

/// What the monitor tells its owner.
#[derive(Debug, Clone)]
pub enum MonitorEvent {
    /// Every probe result, for history and sparklines.
    Sample { check: usize, at: DateTime<Utc>, outcome: Arc<Outcome> },
    /// How a check should be shown changed (blocked, no connectivity, paused, …).
    View { check: usize, view: View },
    /// A change worth a journal entry.
    Changed(Change),
    /// A source (Prometheus series, Alertmanager alerts) reported a row not seen before;
    /// later events refer to it by this index.
    Row { check: usize, id: RowId },
    /// For a check judged across places (vantages): one place's own confirmed change, worth
    /// a journal entry of its own beside the verdict's [`MonitorEvent::Changed`].
    PlaceChanged { check: String, place: String, from: State, to: State, detail: String },
    /// A vantage's link came up or went down (once per change): its own state, never its
    /// checks going down.
    Vantage { name: String, reachable: bool, detail: String },
    /// Something the operator should know that is not a check's result (a webhook refused,
    /// a receiver that cannot listen). Already sanitised.
    Notice(String),
}

/// A command to one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Pause,
    Resume,
    RunNow,
}

/// Commands to a running monitor. Dropping it stops the monitor.
pub struct MonitorControl {
    names: Vec<String>,
    /// The monitor's task; none for a monitor made of others.
    orders: Option<mpsc::UnboundedSender<Order>>,
    /// For a monitor made of others (the local one and vantages): every command on one channel.
    relay: Option<mpsc::UnboundedSender<(usize, Control)>>,
    /// Webhook receivers: they belong to the poller, so they stop with its monitor.
    receivers: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for MonitorControl {
    fn drop(&mut self) {
        self.receivers.iter().for_each(tokio::task::JoinHandle::abort);
        if let Some(orders) = &self.orders {
            let _ = orders.send(Order::Stop);
        }
    }
}

impl MonitorControl {
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    pub fn pause(&self, check: usize) {
        self.send(check, Control::Pause);
    }

    pub fn resume(&self, check: usize) {
        self.send(check, Control::Resume);
    }

    /// Probes the check now, whatever its schedule.
    pub fn run_now(&self, check: usize) {
        self.send(check, Control::RunNow);
    }

    /// A control that passes every command on, with the check's index, to whoever reads the
    /// channel: a monitor built from others (see [`crate::vantage`]).
    pub fn relayed(names: Vec<String>) -> (MonitorControl, mpsc::UnboundedReceiver<(usize, Control)>) {
        let (relay, commands) = mpsc::unbounded_channel();
        let control = MonitorControl {
            names,
            orders: None,
            relay: Some(relay),
            // The local monitor's receivers live in the one the combiner holds.
            receivers: Vec::new(),
        };
        (control, commands)
    }

    fn send(&self, check: usize, control: Control) {
        if let Some(relay) = &self.relay {
            let _ = relay.send((check, control));
        }
        if let Some(orders) = &self.orders {
            let _ = orders.send(Order::Check(check, control));
        }
    }
}

/// Starts every check. `recorded` holds each check's state as the journal last recorded it,
/// so a restarted (or newly elected) poller does not record the same change twice.
pub fn spawn(
    checks: impl IntoIterator<Item = impl Into<Arc<CheckDef>>>,
    recorded: &HashMap<String, State>,
    options: Options,
    prober: Prober,
) -> (MonitorControl, mpsc::UnboundedReceiver<MonitorEvent>) {
    // Shared with the session's settings: at 10,000 checks a copy each was 4 MB.
    let checks: Vec<Arc<CheckDef>> = checks.into_iter().map(Into::into).collect();
    let (out, events) = mpsc::unbounded_channel();
    let (orders, inbox) = mpsc::unbounded_channel();
    let initial: Vec<State> = checks.iter().map(|c| recorded.get(&c.name).copied().unwrap_or_default()).collect();
    let coordinator = Coordinator::new(&checks, &initial, options.canary.as_deref()).with_recorded(recorded.clone());
    let names: Vec<String> = checks.iter().map(|c| c.name.clone()).collect();
    let mut receivers = Vec::new();
    for (index, def) in checks.iter().enumerate() {
        if let crate::probe::ProbeSpec::Alertmanager(crate::probe::AlertmanagerSpec { push: Some(push), .. }) =
            &def.probe
        {
            let doorbell = Doorbell::new(index, orders.clone());
            receivers.push(push::spawn(&def.name, push, doorbell, out.clone()));
        }
    }
    let scheduler = Scheduler::new(checks, &initial, coordinator, prober, options.max_concurrent, out);
    tokio::spawn(scheduler.run(inbox));
    (MonitorControl { names, orders: Some(orders), relay: None, receivers }, events)
}

/// Slot that due times are rounded up to, so that probes spread over an interval share
/// wake-ups: waking an idle process costs more than the probe itself (measured: 1.7 ms of CPU
/// per probe paced 50 ms apart on a two-thread runtime, 0.13 ms in a batch).
const WAKE_SLOT: Duration = Duration::from_millis(250);

fn align(at: Instant, interval: Duration) -> Instant {
    // A twentieth of the interval at most (50 ms for a 1 s check): a probe is never late by
    // more than 5 % of its interval. Re-probes that confirm a change are not aligned at all.
    let slot = WAKE_SLOT.min(interval / 20).as_nanos().max(1);
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    let since = at.saturating_duration_since(epoch).as_nanos();
    epoch + Duration::from_nanos((since.div_ceil(slot) * slot) as u64)
}
