//! The monitor: runs each check on its schedule, confirms changes, and reports them.
//!
//! Each check is its own task (a stuck target delays nobody else) with a hard timeout, and
//! all probes share one concurrency limit. Results go to a coordinator that decides what a
//! change *means* before anyone writes it down: a child failing under a down parent is
//! "blocked" (one journal entry for the group, not a storm), and failures while the
//! connectivity canary is failing are "unknown — no connectivity", not a wall of false downs.

mod check;
mod confirm;
mod coordinator;
mod orders;
pub mod push;
mod row;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;

pub use check::{CheckDef, Schedule};
pub use confirm::Confirmer;
pub use coordinator::{Change, Coordinator, RowResult, View};
use orders::Orders;
pub use row::RowId;

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

/// Commands to a running monitor. Dropping it stops every check task.
pub struct MonitorControl {
    orders: Vec<Arc<Orders>>,
    names: Vec<String>,
    coordinator: mpsc::UnboundedSender<CoordinatorInput>,
    /// For a monitor made of others (the local one and vantages): every command on one channel.
    relay: Option<mpsc::UnboundedSender<(usize, Control)>>,
    /// Webhook receivers: they belong to the poller, so they stop with its monitor.
    receivers: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for MonitorControl {
    fn drop(&mut self) {
        self.receivers.iter().for_each(tokio::task::JoinHandle::abort);
        self.orders.iter().for_each(|o| o.stop());
    }
}

impl MonitorControl {
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    pub fn pause(&self, check: usize) {
        self.send(check, Control::Pause, true);
    }

    pub fn resume(&self, check: usize) {
        self.send(check, Control::Resume, false);
    }

    /// A control that passes every command on, with the check's index, to whoever reads the
    /// channel: a monitor built from others (see [`crate::vantage`]).
    pub fn relayed(names: Vec<String>) -> (MonitorControl, mpsc::UnboundedReceiver<(usize, Control)>) {
        let (relay, commands) = mpsc::unbounded_channel();
        let control = MonitorControl {
            orders: Vec::new(),
            names,
            coordinator: mpsc::unbounded_channel().0,
            relay: Some(relay),
            // The local monitor's receivers live in the one the combiner holds.
            receivers: Vec::new(),
        };
        (control, commands)
    }

    /// Probes the check now, whatever its schedule.
    pub fn run_now(&self, check: usize) {
        if let Some(relay) = &self.relay {
            let _ = relay.send((check, Control::RunNow));
        }
        if let Some(orders) = self.orders.get(check) {
            orders.give(Control::RunNow);
        }
    }

    fn send(&self, check: usize, control: Control, paused: bool) {
        if let Some(relay) = &self.relay {
            let _ = relay.send((check, control));
        }
        if let Some(orders) = self.orders.get(check) {
            orders.give(control);
            let _ = self.coordinator.send(CoordinatorInput::Paused { check, paused });
        }
    }
}

enum CoordinatorInput {
    Result { check: usize, at: DateTime<Utc>, outcome: Outcome, confirmed: State },
    Rows { parent: usize, at: DateTime<Utc>, rows: Vec<RowResult> },
    Paused { check: usize, paused: bool },
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
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    let (in_tx, mut in_rx) = mpsc::unbounded_channel::<CoordinatorInput>();
    let initial: Vec<State> = checks.iter().map(|c| recorded.get(&c.name).copied().unwrap_or_default()).collect();
    let mut coordinator =
        Coordinator::new(&checks, &initial, options.canary.as_deref()).with_recorded(recorded.clone());
    let recorded = Arc::new(recorded.clone());
    let semaphore = Arc::new(Semaphore::new(options.max_concurrent.max(1)));
    let names: Vec<String> = checks.iter().map(|c| c.name.clone()).collect();
    let mut every_orders = Vec::with_capacity(checks.len());
    let mut receivers = Vec::new();
    for (index, (def, state)) in checks.into_iter().zip(initial).enumerate() {
        let orders = Arc::new(Orders::default());
        if let crate::probe::ProbeSpec::Alertmanager(crate::probe::AlertmanagerSpec { push: Some(push), .. }) =
            &def.probe
        {
            receivers.push(push::spawn(&def.name, push, orders.clone(), out_tx.clone()));
        }
        every_orders.push(orders.clone());
        let task = CheckTask {
            index,
            recorded: recorded.clone(),
            subs: HashMap::new(),
            def,
            confirmer: Confirmer::starting_at(state),
            prober: prober.clone(),
            semaphore: semaphore.clone(),
            results: in_tx.clone(),
            orders,
        };
        tokio::spawn(task.run());
    }
    let out = out_tx.clone();
    tokio::spawn(async move {
        while let Some(input) = in_rx.recv().await {
            let events = match input {
                CoordinatorInput::Result { check, at, outcome, confirmed } => {
                    let outcome = Arc::new(outcome);
                    let mut events = vec![MonitorEvent::Sample { check, at, outcome: outcome.clone() }];
                    events.extend(coordinator.observe(check, &outcome, confirmed));
                    events
                }
                CoordinatorInput::Rows { parent, at, rows } => coordinator.observe_rows(parent, at, rows),
                CoordinatorInput::Paused { check, paused } => coordinator.set_paused(check, paused),
            };
            for e in events {
                if out.send(e).is_err() {
                    return;
                }
            }
        }
    });
    (MonitorControl { orders: every_orders, names, coordinator: in_tx, relay: None, receivers }, out_rx)
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

struct CheckTask {
    index: usize,
    /// States the journal recorded, to seed the confirmers of rows that appear later.
    recorded: Arc<HashMap<String, State>>,
    /// Confirmers of a source's rows, by key.
    subs: HashMap<String, Confirmer>,
    def: Arc<CheckDef>,
    confirmer: Confirmer,
    prober: Prober,
    semaphore: Arc<Semaphore>,
    results: mpsc::UnboundedSender<CoordinatorInput>,
    orders: Arc<Orders>,
}

impl CheckTask {
    /// Confirms each row a source reported; a row it no longer reports has recovered. Only
    /// when the source itself answered: an unreachable Alertmanager resolves nothing.
    fn confirm_rows(&mut self, outcome: &Outcome) -> Vec<RowResult> {
        if outcome.health == Health::Down && outcome.rows.is_empty() {
            return Vec::new();
        }
        let schedule = &self.def.schedule;
        let mut out = Vec::new();
        for row in &outcome.rows {
            let name = Coordinator::row_name(&self.def.name, &row.key);
            let confirmer = self
                .subs
                .entry(row.key.clone())
                .or_insert_with(|| Confirmer::starting_at(self.recorded.get(&name).copied().unwrap_or_default()));
            confirmer.observe(row.health, schedule);
            let mut o = Outcome::new(row.health, outcome.latency, row.detail.clone());
            o.steps.clear();
            out.push(RowResult {
                key: row.key.clone(),
                outcome: o,
                confirmed: confirmer.state,
                silenced: row.silenced,
            });
        }
        let gone: Vec<String> =
            self.subs.keys().filter(|k| !outcome.rows.iter().any(|r| &r.key == *k)).cloned().collect();
        for key in gone {
            let confirmer = self.subs.get_mut(&key).expect("listed above");
            confirmer.observe(Health::Up, schedule);
            let state = confirmer.state;
            if state == State::Up {
                self.subs.remove(&key);
            }
            let o = Outcome::new(Health::Up, outcome.latency, "resolved: no longer reported");
            out.push(RowResult { key, outcome: o, confirmed: state, silenced: false });
        }
        out
    }

    async fn run(mut self) {
        // Spread the first probes over up to a second (or the interval, if shorter) so a
        // thousand checks do not all fire at once.
        let spread = self.def.schedule.interval.min(Duration::from_secs(1));
        let mut due = Some(Instant::now() + spread.mul_f64(fastrand::f64()));
        loop {
            let wake = async {
                match due {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = wake => {}
                _ = self.orders.changed() => {
                    let orders = self.orders.read();
                    if orders.stopped {
                        return;
                    }
                    if !orders.probe_now {
                        due = due.filter(|_| !orders.paused);
                        continue;
                    }
                }
            }
            let Ok(permit) = self.semaphore.acquire().await else { return };
            let at = Utc::now();
            // Boxed: a probe's future is kilobytes (reqwest's), and inline it would make every
            // waiting check's task that large; only the few probes running hold one.
            let outcome = Box::pin(self.prober.run(&self.def.probe, self.def.schedule.timeout)).await;
            drop(permit);
            self.confirmer.observe(outcome.health, &self.def.schedule);
            let confirmed = self.confirmer.state;
            let rows = self.confirm_rows(&outcome);
            if self.results.send(CoordinatorInput::Result { check: self.index, at, outcome, confirmed }).is_err() {
                return;
            }
            if !rows.is_empty() && self.results.send(CoordinatorInput::Rows { parent: self.index, at, rows }).is_err() {
                return;
            }
            // A paused check probed on request stays paused.
            due = (!self.orders.paused()).then(|| self.next_due());
        }
    }

    /// When to probe next. ±10% so checks with one interval drift apart instead of marching
    /// together. A source's unconfirmed rows hurry it along like its own unconfirmed change.
    /// Re-probes that confirm a change keep their precision; the rest share wake-ups.
    fn next_due(&self) -> Instant {
        let schedule = &self.def.schedule;
        let retry =
            std::iter::once(&self.confirmer).chain(self.subs.values()).filter_map(|c| c.retry_delay(schedule)).min();
        let jitter = |d: Duration| d.mul_f64(0.9 + 0.2 * fastrand::f64());
        match retry {
            Some(delay) => Instant::now() + jitter(delay),
            None => align(Instant::now() + jitter(schedule.interval), schedule.interval),
        }
    }
}
