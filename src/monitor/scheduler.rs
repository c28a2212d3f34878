//! The monitor's one task: every check's next probe in one queue of due times; the probes that
//! are due run side by side in it, and their results are confirmed and handed to the
//! coordinator in the order they end.
//!
//! One task and one timer for the whole monitor, not a task and a timer per check: at 10,000
//! checks the tasks held 14 MB, and tokio's timer wheel re-filing 10,000 sleeping timers as
//! they came due was a visible part of the poller's CPU (BENCHMARKS.md, issue 22). A probe
//! still never waits for another: each is its own future, polled when its socket is ready,
//! and a stuck target holds one of the `max_concurrent` places, no more.
//!
//! The places come in two lanes of `max_concurrent` each. A check whose last probe hung (took
//! half its timeout or more) waits in the slow lane: hundreds of dead targets, each holding a
//! place for its whole timeout, then wait for each other, not in front of the checks that
//! answer (3,000 checks, 2,500 of them black-holed, kept a healthy check's outage off the
//! screen for 3 minutes at a 10 s interval when they shared one lane).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::FutureExt;
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::mpsc;
use tokio::time::{Duration, Instant};

use super::{CheckDef, Confirmer, Control, Coordinator, MonitorEvent, RowResult, State, align};
use crate::probe::{Health, Outcome, Prober};

/// What the monitor's task is asked to do.
pub enum Order {
    /// A command for one check, by index.
    Check(usize, Control),
    Stop,
}

/// Asks the monitor to probe one check now: how a webhook receiver says "look again".
#[derive(Clone)]
pub struct Doorbell {
    check: usize,
    orders: mpsc::UnboundedSender<Order>,
}

impl Doorbell {
    pub fn new(check: usize, orders: mpsc::UnboundedSender<Order>) -> Doorbell {
        Doorbell { check, orders }
    }

    pub fn ring(&self) {
        let _ = self.orders.send(Order::Check(self.check, Control::RunNow));
    }
}

/// Where a check is between two probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Nothing planned: paused, or not yet rescheduled.
    Idle,
    /// The next probe, at this time (its entry in the queue of due times).
    Due(Instant),
    /// Due, waiting for one of the `max_concurrent` places.
    Waiting,
    Probing,
}

/// Which places a check waits for: the checks that answer never wait behind the ones that hang.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lane {
    Answering = 0,
    Hanging = 1,
}

struct Check {
    def: Arc<CheckDef>,
    lane: Lane,
    confirmer: Confirmer,
    /// Confirmers of a source's rows, by key.
    subs: HashMap<String, Confirmer>,
    stage: Stage,
    paused: bool,
    /// A probe asked for while one was running: another as soon as it ends.
    owed: bool,
}

/// A probe that ended.
struct Probed {
    check: usize,
    lane: Lane,
    at: DateTime<Utc>,
    outcome: Outcome,
}

/// How often the operator is told that checks wait for places.
const BACKLOG_NOTICE_EVERY: Duration = Duration::from_secs(60);
/// Waiting this long for a place is worth telling (a probe normally starts when it is due).
const BACKLOG_WORTH_TELLING: Duration = Duration::from_secs(5);

pub struct Scheduler {
    checks: Vec<Check>,
    coordinator: Coordinator,
    prober: Prober,
    /// Probes running at once in each lane, at most.
    places: usize,
    due: BinaryHeap<Reverse<(Instant, usize)>>,
    /// By lane: the checks in line for a place, each with when it got in line.
    waiting: [VecDeque<(usize, Instant)>; 2],
    running: [usize; 2],
    probing: FuturesUnordered<BoxFuture<'static, Probed>>,
    /// When the operator was last told that checks wait for places.
    told_backlog: Option<Instant>,
    out: mpsc::UnboundedSender<MonitorEvent>,
}

impl Scheduler {
    /// Every check starting from the state the journal recorded, its first probe spread over
    /// up to a second (or its interval, if shorter) so a thousand checks do not all fire at once.
    pub fn new(
        checks: Vec<Arc<CheckDef>>,
        initial: &[State],
        coordinator: Coordinator,
        prober: Prober,
        places: usize,
        out: mpsc::UnboundedSender<MonitorEvent>,
    ) -> Scheduler {
        let now = Instant::now();
        let mut due = BinaryHeap::with_capacity(checks.len());
        let checks: Vec<Check> = checks
            .into_iter()
            .zip(initial)
            .enumerate()
            .map(|(i, (def, &state))| {
                let at = now + def.schedule.interval.min(Duration::from_secs(1)).mul_f64(fastrand::f64());
                due.push(Reverse((at, i)));
                Check {
                    def,
                    lane: Lane::Answering,
                    confirmer: Confirmer::starting_at(state),
                    subs: HashMap::new(),
                    stage: Stage::Due(at),
                    paused: false,
                    owed: false,
                }
            })
            .collect();
        Scheduler {
            checks,
            coordinator,
            prober,
            places: places.max(1),
            due,
            waiting: [VecDeque::new(), VecDeque::new()],
            running: [0, 0],
            probing: FuturesUnordered::new(),
            told_backlog: None,
            out,
        }
    }

    /// Runs until told to stop, or until nobody listens to its events.
    pub async fn run(mut self, mut inbox: mpsc::UnboundedReceiver<Order>) {
        // One timer, moved to the earliest due time whenever that changes.
        let timer = tokio::time::sleep_until(Instant::now());
        tokio::pin!(timer);
        let mut armed = None;
        loop {
            let next = self.due.peek().map(|Reverse((at, _))| *at);
            if next != armed {
                if let Some(at) = next {
                    timer.as_mut().reset(at);
                }
                armed = next;
            }
            tokio::select! {
                biased;
                order = inbox.recv() => match order {
                    Some(Order::Check(check, control)) => self.obey(check, control),
                    Some(Order::Stop) | None => return,
                },
                Some(probed) = self.probing.next(), if !self.probing.is_empty() => self.finished(probed),
                () = &mut timer, if armed.is_some() => self.start_due(),
            }
            if self.out.is_closed() {
                return;
            }
        }
    }

    /// Pausing is a state; resuming also probes at once, as running now does (even while
    /// paused: the operator asked to see it, and it stays paused).
    fn obey(&mut self, check: usize, control: Control) {
        let Some(c) = self.checks.get_mut(check) else { return };
        match control {
            Control::Pause => {
                c.paused = true;
                if matches!(c.stage, Stage::Due(_) | Stage::Waiting) {
                    c.stage = Stage::Idle;
                }
            }
            Control::Resume => {
                c.paused = false;
                self.probe_soon(check);
            }
            Control::RunNow => self.probe_soon(check),
        }
        if control != Control::RunNow {
            let events = self.coordinator.set_paused(check, control == Control::Pause);
            self.send(events);
        }
    }

    fn probe_soon(&mut self, check: usize) {
        let c = &mut self.checks[check];
        match c.stage {
            Stage::Probing => c.owed = true,
            Stage::Waiting => {}
            Stage::Idle | Stage::Due(_) => {
                self.wait_for_place(check);
                self.start_waiting();
            }
        }
    }

    /// In line for one of its lane's places; [`Scheduler::start_waiting`] takes it from there.
    fn wait_for_place(&mut self, check: usize) {
        let c = &mut self.checks[check];
        c.stage = Stage::Waiting;
        self.waiting[c.lane as usize].push_back((check, Instant::now()));
    }

    /// Every check whose time has come (entries a pause or an earlier probe made stale are
    /// dropped as they come up).
    fn start_due(&mut self) {
        let now = Instant::now();
        while let Some(&Reverse((at, check))) = self.due.peek() {
            if at > now {
                break;
            }
            self.due.pop();
            if self.checks[check].stage == Stage::Due(at) {
                self.wait_for_place(check);
            }
        }
        self.start_waiting();
    }

    fn start_waiting(&mut self) {
        for lane in [Lane::Answering, Lane::Hanging] {
            while self.running[lane as usize] < self.places {
                let Some((check, _)) = self.waiting[lane as usize].pop_front() else { break };
                if self.checks[check].stage == Stage::Waiting {
                    self.start(check, lane);
                }
            }
        }
        self.tell_backlog();
    }

    /// Checks that wait long for a place get their results late: said (once a minute at most)
    /// with what to change, rather than left to look like a slow outage.
    fn tell_backlog(&mut self) {
        // Called as every probe ends: nothing waiting is the common case, and costs no clock.
        let Some(&(_, since)) = self.waiting[Lane::Answering as usize].front() else { return };
        let now = Instant::now();
        let oldest = now - since;
        if oldest < BACKLOG_WORTH_TELLING || self.told_backlog.is_some_and(|t| now - t < BACKLOG_NOTICE_EVERY) {
            return;
        }
        let answering = self.waiting[Lane::Answering as usize].len();
        let hanging = self.waiting[Lane::Hanging as usize].len();
        self.told_backlog = Some(now);
        let _ = self.out.send(MonitorEvent::Notice(format!(
            "probes are late: {answering} checks wait for one of {} places (the oldest for {}s), and {hanging} whose \
             targets hang for places of their own; raise max_concurrent_probes",
            self.places,
            oldest.as_secs()
        )));
    }

    fn start(&mut self, check: usize, lane: Lane) {
        self.running[lane as usize] += 1;
        let c = &mut self.checks[check];
        c.stage = Stage::Probing;
        let def = c.def.clone();
        let prober = self.prober.clone();
        let at = Utc::now();
        self.probing.push(Box::pin(async move {
            let probe = prober.run(&def.probe, def.schedule.timeout);
            // A probe that panics is a bug of ours: it fails its own check, not the monitor.
            let outcome = AssertUnwindSafe(probe).catch_unwind().await.unwrap_or_else(|_| {
                Outcome::new(
                    Health::Down,
                    Duration::ZERO,
                    "the probe crashed inside warroom (a bug): see its standard error",
                )
            });
            Probed { check, lane, at, outcome }
        }));
    }

    fn finished(&mut self, Probed { check, lane, at, mut outcome }: Probed) {
        self.running[lane as usize] -= 1;
        let c = &mut self.checks[check];
        c.stage = Stage::Idle;
        c.lane = if outcome.latency * 2 >= c.def.schedule.timeout { Lane::Hanging } else { Lane::Answering };
        c.confirmer.observe(outcome.health, &c.def.schedule);
        // Degraded for a pattern, not this one result: the detail says which.
        if let Some((failed, of)) = c.confirmer.intermittent().filter(|_| outcome.health != Health::Up) {
            outcome.detail = format!("intermittent, {failed} of the last {of} probes failed: {}", outcome.detail);
        }
        let confirmed = c.confirmer.state;
        let rows = c.confirm_rows(&outcome, &self.coordinator);
        let observed = self.coordinator.observe(check, &outcome, confirmed);
        let rows = if rows.is_empty() { Vec::new() } else { self.coordinator.observe_rows(check, at, rows) };
        // The sample first, then what it changed.
        let _ = self.out.send(MonitorEvent::Sample { check, at, outcome: Arc::new(outcome) });
        self.send(observed);
        self.send(rows);
        let c = &mut self.checks[check];
        if std::mem::take(&mut c.owed) {
            self.wait_for_place(check);
        } else if !c.paused {
            let at = c.next_due();
            c.stage = Stage::Due(at);
            self.due.push(Reverse((at, check)));
        }
        self.start_waiting();
    }

    fn send(&self, events: Vec<MonitorEvent>) {
        for event in events {
            let _ = self.out.send(event);
        }
    }
}

impl Check {
    /// Confirms each row a source reported; a row it no longer reports has recovered. Only
    /// when the source itself answered: an unreachable Alertmanager resolves nothing.
    fn confirm_rows(&mut self, outcome: &Outcome, coordinator: &Coordinator) -> Vec<RowResult> {
        if outcome.health == Health::Down && outcome.rows.is_empty() {
            return Vec::new();
        }
        let schedule = &self.def.schedule;
        let mut out = Vec::new();
        for row in &outcome.rows {
            let confirmer = self.subs.entry(row.key.clone()).or_insert_with(|| {
                Confirmer::starting_at(coordinator.recorded(&Coordinator::row_name(&self.def.name, &row.key)))
            });
            confirmer.observe(row.health, schedule);
            out.push(RowResult {
                key: row.key.clone(),
                outcome: Outcome::new(row.health, outcome.latency, row.detail.clone()),
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
