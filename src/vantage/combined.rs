//! The local monitor and the vantages as one monitor: the engine gets a [`MonitorControl`]
//! and [`MonitorEvent`]s as from [`monitor::spawn`], with each check judged across its
//! places. A check that runs here only passes through untouched.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use super::link::{LinkTask, Report};
use super::quorum::{self, Verdict};
use super::wire::{FromAgent, Sample, ToAgent, safe_name};
use super::{LOCAL, Plan, Quorum};
use crate::monitor::{self, Change, CheckDef, Control, MonitorControl, MonitorEvent, Options, RowId, State, View};
use crate::probe::{Health, Outcome, Prober};
use crate::ssh::Ssh;

/// Each check's state per place as the journal last recorded it: (check, place) → state.
pub type PlaceStates = HashMap<(String, String), State>;

/// Starts the local monitor for the checks that run here and a link task per vantage.
/// Without any check from elsewhere, it is [`monitor::spawn`] itself.
pub fn spawn(
    checks: Vec<Arc<CheckDef>>,
    plan: &Plan,
    recorded: &HashMap<String, State>,
    places: &PlaceStates,
    options: Options,
    prober: Prober,
    ssh: Ssh,
) -> (MonitorControl, mpsc::UnboundedReceiver<MonitorEvent>) {
    if plan.is_local_only() {
        return monitor::spawn(checks, recorded, options, prober);
    }
    let place_recorded = |check: &str, place: &str| places.get(&(check.to_string(), place.to_string())).copied();
    let mut local_recorded = recorded.clone();
    for name in plan.placements.keys() {
        local_recorded.insert(name.clone(), place_recorded(name, LOCAL).unwrap_or_default());
    }
    let canary = options.canary.clone();
    let local_checks = plan.checks_at(LOCAL, &checks);
    let local_names = local_checks.iter().map(|c| c.name.clone()).collect();
    let (local, local_events) = monitor::spawn(local_checks, &local_recorded, options, prober);
    let (reports_tx, reports) = mpsc::unbounded_channel();
    let mut vantages = Vec::new();
    for (i, def) in plan.vantages.iter().enumerate() {
        let theirs: Vec<String> =
            plan.placements.iter().filter(|(_, p)| p.from.contains(&def.name)).map(|(n, _)| n.clone()).collect();
        if theirs.is_empty() {
            continue;
        }
        let known: BTreeMap<String, State> =
            theirs.iter().filter_map(|c| Some((c.clone(), place_recorded(c, &def.name)?))).collect();
        let recorded = Arc::new(Mutex::new(known));
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let task = LinkTask {
            vantage: i,
            def: def.clone(),
            ssh: ssh.clone(),
            config: plan.agent_config(&def.name, canary.as_deref()),
            recorded: recorded.clone(),
            reports: reports_tx.clone(),
        };
        tokio::spawn(task.run(commands_rx));
        vantages.push(Side { name: def.name.clone(), index: i, commands, recorded, reachable: None, checks: theirs });
    }
    let names: Vec<String> = checks.iter().map(|c| c.name.clone()).collect();
    let (control, relayed) = MonitorControl::relayed(names.clone());
    let (out, events) = mpsc::unbounded_channel();
    let judged = names
        .iter()
        .enumerate()
        .filter(|(_, n)| plan.is_remote(n))
        .map(|(g, n)| (g, Judged::new(plan, n, n, recorded, places)))
        .collect();
    let combiner = Combiner {
        plan: plan.clone(),
        recorded: recorded.clone(),
        places: places.clone(),
        index: names.iter().enumerate().map(|(i, n)| (n.clone(), i)).collect(),
        rows: names,
        local_names,
        local,
        vantages,
        judged,
        out,
    };
    tokio::spawn(combiner.run(local_events, reports, relayed));
    (control, events)
}

/// Whether a monitor that shows `view` for a check it recorded as `recorded` records a
/// change next (as [`monitor`]'s coordinator decides what the journal should say: blocked
/// and silenced checks keep their record, no connectivity is recorded as unknown).
fn a_change_follows(view: &View, recorded: State) -> bool {
    let to_record = if view.silenced || (view.blocked_by.is_some() && !view.no_connectivity) {
        recorded
    } else if view.no_connectivity {
        State::Unknown
    } else if view.state == State::Unknown {
        recorded
    } else {
        view.state
    };
    to_record != recorded
}

/// A vantage as the combiner knows it.
struct Side {
    name: String,
    /// Its index in the plan's vantages (as link reports name it).
    index: usize,
    commands: mpsc::UnboundedSender<ToAgent>,
    recorded: Arc<Mutex<BTreeMap<String, State>>>,
    /// Last said reachable or not; `None` before the first word.
    reachable: Option<bool>,
    checks: Vec<String>,
}

/// One place's part in a check's verdict.
#[derive(Debug, Clone)]
struct Place {
    name: String,
    /// Its confirmed state as its monitor shows it (unknown under no connectivity).
    state: State,
    /// As the journal last recorded it for this place.
    recorded: State,
    /// Reachable and running the check.
    live: bool,
    /// Its link is known to be down (not merely not up yet).
    unreachable: bool,
    /// Its monitor has shown a state since it (re)started.
    heard: bool,
    refused: Option<String>,
    last: Option<Sample>,
}

impl Place {
    fn pending(&self) -> bool {
        self.refused.is_none() && !self.unreachable && !self.heard && self.state == State::Unknown
    }
}

/// A check (or a source's row) judged across places.
struct Judged {
    name: String,
    /// Waits for every place's first word: a configured check does; a source's row (an
    /// alert) may never be reported by some places, and does not.
    waits: bool,
    quorum: Quorum,
    places: Vec<Place>,
    /// The verdict as the journal last recorded it.
    recorded: State,
    view: View,
}

impl Judged {
    fn new(plan: &Plan, parent: &str, name: &str, recorded: &HashMap<String, State>, places: &PlaceStates) -> Judged {
        let places = plan
            .places(parent)
            .into_iter()
            .map(|p| {
                let was = places.get(&(name.to_string(), p.clone())).copied().unwrap_or_default();
                Place {
                    live: p == LOCAL,
                    unreachable: false,
                    heard: false,
                    name: p,
                    state: was,
                    recorded: was,
                    refused: None,
                    last: None,
                }
            })
            .collect();
        let recorded = recorded.get(name).copied().unwrap_or_default();
        Judged {
            name: name.to_string(),
            waits: name == parent,
            quorum: plan.quorum(parent),
            places,
            recorded,
            view: View { state: recorded, ..View::default() },
        }
    }

    fn place(&mut self, name: &str) -> Option<&mut Place> {
        self.places.iter_mut().find(|p| p.name == name)
    }

    /// Each place's state as the verdict counts it. A place that cannot be reached has no
    /// word, as one refusing the check or without a confirmed result: the verdict follows
    /// the places that can still answer (down from every reachable place is down under
    /// `down_when = "all"`), and when none can, [`quorum::judge`] leaves it as it was.
    /// Its last confirmed state stays recorded as that place's, shown beside `⌁`.
    fn counted(&self, raw: bool) -> Vec<(String, State)> {
        self.places
            .iter()
            .map(|p| {
                let state = match &p.last {
                    _ if p.refused.is_some() || p.unreachable => State::Unknown,
                    Some(last) if raw && p.live => State::from(last.health),
                    _ => p.state,
                };
                let name = if p.unreachable { format!("{} (unreachable)", p.name) } else { p.name.clone() };
                (name, state)
            })
            .collect()
    }

    /// `None` while a place that will have a word has not had it yet (starting, connecting,
    /// confirming its first result): a verdict from the first place to speak would be
    /// journaled, then taken back a moment later.
    fn verdict(&self) -> Option<Verdict> {
        if self.waits && self.places.iter().any(Place::pending) {
            return None;
        }
        quorum::judge(&self.counted(false), self.quorum)
    }

    /// What the row shows between confirmations: the latest result from each place, the
    /// slowest latency, and each place's last words.
    fn reading(&self) -> Outcome {
        let raw = quorum::judge(&self.counted(true), self.quorum);
        let health = match raw.map(|v| v.state) {
            Some(State::Down) => Health::Down,
            Some(State::Degraded) => Health::Degraded,
            _ => Health::Up,
        };
        let latency = self
            .places
            .iter()
            .filter(|p| p.live)
            .filter_map(|p| p.last.as_ref().map(|l| l.latency_ms))
            .fold(0.0_f64, f64::max);
        let latency = std::time::Duration::from_secs_f64(latency / 1000.0);
        Outcome::new(health, latency, self.places_detail())
    }

    /// `local: up 3 ms; paris: down 1002 ms, connect refused; fra: unreachable`.
    fn places_detail(&self) -> String {
        let one = |p: &Place| match (&p.refused, &p.last) {
            (Some(why), _) => format!("{}: refused, {why}", p.name),
            _ if p.unreachable => format!("{}: unreachable", p.name),
            _ if !p.live => format!("{}: not connected yet", p.name),
            (None, None) => format!("{}: no result yet", p.name),
            (None, Some(l)) => {
                format!("{}: {} {:.0} ms, {}", p.name, l.health.as_str(), l.latency_ms, l.outcome().detail)
            }
        };
        self.places.iter().map(one).collect::<Vec<_>>().join("; ")
    }
}

struct Combiner {
    plan: Plan,
    /// The verdicts the journal recorded, for rows that appear later.
    recorded: HashMap<String, State>,
    places: PlaceStates,
    /// The engine's rows: configured checks first, then sources' rows as they appear.
    rows: Vec<String>,
    index: HashMap<String, usize>,
    /// The local monitor's rows, by its own index.
    local_names: Vec<String>,
    local: MonitorControl,
    vantages: Vec<Side>,
    judged: HashMap<usize, Judged>,
    out: mpsc::UnboundedSender<MonitorEvent>,
}

impl Combiner {
    async fn run(
        mut self,
        mut local: mpsc::UnboundedReceiver<MonitorEvent>,
        mut reports: mpsc::UnboundedReceiver<Report>,
        mut commands: mpsc::UnboundedReceiver<(usize, Control)>,
    ) {
        loop {
            tokio::select! {
                Some(event) = local.recv() => self.on_local(event),
                Some(report) = reports.recv() => self.on_vantage(report),
                command = commands.recv() => match command {
                    Some((check, control)) => self.obey(check, control),
                    // The engine dropped its control: stop every check and every link.
                    None => return,
                },
            }
            if self.out.is_closed() {
                return;
            }
        }
    }

    fn emit(&self, event: MonitorEvent) {
        let _ = self.out.send(event);
    }

    fn obey(&mut self, check: usize, control: Control) {
        if let Some(j) = self.judged.get_mut(&check)
            && control != Control::RunNow
        {
            // Paused everywhere it runs: the row says so, as a local check's does.
            j.view.paused = control == Control::Pause;
            let view = j.view.clone();
            self.emit(MonitorEvent::View { check, view });
        }
        let Some(name) = self.rows.get(check) else { return };
        if let Some(i) = self.local.index(name) {
            match control {
                Control::RunNow => self.local.run_now(i),
                Control::Pause => self.local.pause(i),
                Control::Resume => self.local.resume(i),
            }
        }
        for side in self.vantages.iter().filter(|s| s.checks.contains(name)) {
            let check = name.clone();
            let _ = side.commands.send(match control {
                Control::RunNow => ToAgent::RunNow { check },
                Control::Pause => ToAgent::Pause { check },
                Control::Resume => ToAgent::Resume { check },
            });
        }
    }

    /// The engine's index for a row, announcing it the first time.
    fn row(&mut self, id: &RowId) -> usize {
        let name = id.name().into_owned();
        if let Some(&g) = self.index.get(&name) {
            return g;
        }
        let g = self.rows.len();
        self.rows.push(name.clone());
        self.index.insert(name.clone(), g);
        if self.plan.is_remote(&id.check) {
            let judged = Judged::new(&self.plan, &id.check, &name, &self.recorded, &self.places);
            self.judged.insert(g, judged);
        }
        self.emit(MonitorEvent::Row { check: g, id: id.clone() });
        g
    }

    fn on_local(&mut self, event: MonitorEvent) {
        match event {
            MonitorEvent::Row { id, .. } => {
                self.local_names.push(id.name().into_owned());
                self.row(&id);
            }
            MonitorEvent::Sample { check, at, outcome } => {
                let Some(g) = self.local_row(check) else { return };
                if self.judged.contains_key(&g) {
                    self.place_sample(g, LOCAL, Sample::of(&self.rows[g], at, &outcome));
                } else {
                    self.emit(MonitorEvent::Sample { check: g, at, outcome });
                }
            }
            MonitorEvent::View { check, view } => {
                let Some(g) = self.local_row(check) else { return };
                if self.judged.contains_key(&g) {
                    self.place_view(g, LOCAL, &view);
                } else {
                    self.emit(MonitorEvent::View { check: g, view });
                }
            }
            MonitorEvent::Changed(change) => match self.index.get(&change.check) {
                Some(g) if self.judged.contains_key(g) => self.place_changed(LOCAL, change),
                _ => self.emit(MonitorEvent::Changed(change)),
            },
            other => self.emit(other),
        }
    }

    fn local_row(&self, local: usize) -> Option<usize> {
        self.index.get(self.local_names.get(local)?).copied()
    }

    fn on_vantage(&mut self, report: Report) {
        match report {
            Report::Up { vantage, pid, account } => {
                let detail = format!("warroom pid {pid} as {}", safe_name(&account));
                self.set_reachable(vantage, true, detail);
            }
            Report::Down { vantage, detail } => self.set_reachable(vantage, false, detail),
            Report::Message { vantage, message } => {
                let Some(place) = self.vantages.iter().find(|s| s.index == vantage).map(|s| s.name.clone()) else {
                    return;
                };
                self.on_agent(&place, message);
            }
        }
    }

    /// A link came up or went down: the vantage's places count again, or no longer (the
    /// verdicts stand on the others), and the journal hears of it once per change.
    fn set_reachable(&mut self, vantage: usize, reachable: bool, detail: String) {
        let Some(side) = self.vantages.iter_mut().find(|s| s.index == vantage) else { return };
        let changed = side.reachable != Some(reachable);
        side.reachable = Some(reachable);
        let name = side.name.clone();
        let affected: Vec<usize> = self
            .judged
            .iter_mut()
            .filter_map(|(&g, j)| {
                let place = j.place(&name)?;
                place.live = reachable;
                place.unreachable = !reachable;
                if reachable {
                    // A new agent starts from what the journal says for this place.
                    place.state = place.recorded;
                    place.heard = false;
                    place.refused = None;
                }
                Some(g)
            })
            .collect();
        if changed {
            self.emit(MonitorEvent::Vantage { name, reachable, detail: crate::sanitize::sanitize_str(&detail, 400) });
        }
        for g in affected {
            self.judge(g);
            self.show_reading(g, Utc::now());
        }
    }

    fn on_agent(&mut self, place: &str, message: FromAgent) {
        match message {
            FromAgent::Row { check, key } => {
                let id = RowId::row(safe_name(&check), safe_name(&key));
                if self.plan.places(&id.check).iter().any(|p| p == place) {
                    self.row(&id);
                }
            }
            FromAgent::Sample(sample) => {
                if let Some(g) = self.judged_row(&sample.check, place) {
                    self.place_sample(g, place, sample);
                }
            }
            FromAgent::View { check, view } => {
                if let Some(g) = self.judged_row(&check, place) {
                    self.place_view(g, place, &view);
                }
            }
            FromAgent::Changed { check, from, to, detail } => {
                if self.judged_row(&check, place).is_some() {
                    let detail = crate::sanitize::sanitize_str(&detail, crate::probe::MAX_DETAIL_CHARS);
                    self.place_changed(place, Change { check: safe_name(&check), from, to, detail });
                }
            }
            FromAgent::Refused { check, reason } => {
                if let Some(g) = self.judged_row(&check, place) {
                    let reason = crate::sanitize::sanitize_str(&reason, 200);
                    if let Some(p) = self.judged.get_mut(&g).and_then(|j| j.place(place)) {
                        p.refused = Some(reason);
                    }
                    self.judge(g);
                    self.show_reading(g, Utc::now());
                }
            }
            FromAgent::Ready { .. } | FromAgent::Failed { .. } | FromAgent::Done {} => {}
        }
    }

    /// The row of a check judged across places that `place` runs; `None` for anything a
    /// (possibly hostile) agent has no business reporting.
    fn judged_row(&self, check: &str, place: &str) -> Option<usize> {
        let g = *self.index.get(&safe_name(check))?;
        self.judged.get(&g)?.places.iter().any(|p| p.name == place).then_some(g)
    }

    fn place_sample(&mut self, g: usize, place: &str, sample: Sample) {
        let at = sample.at;
        if let Some(p) = self.judged.get_mut(&g).and_then(|j| j.place(place)) {
            p.last = Some(sample);
        }
        self.show_reading(g, at);
    }

    fn show_reading(&self, g: usize, at: DateTime<Utc>) {
        if let Some(j) = self.judged.get(&g) {
            self.emit(MonitorEvent::Sample { check: g, at, outcome: Arc::new(j.reading()) });
        }
    }

    fn place_view(&mut self, g: usize, place: &str, view: &View) {
        let state = if view.no_connectivity { State::Unknown } else { view.state };
        let Some(p) = self.judged.get_mut(&g).and_then(|j| j.place(place)) else { return };
        p.state = state;
        p.heard = true;
        // A monitor shows a confirmed change, then records it: the place's change is
        // journaled first and judged then, so the verdict never comes before its cause.
        if !a_change_follows(view, p.recorded) {
            self.judge(g);
        }
    }

    /// A place confirmed a change: journaled as that place's, then the verdict follows.
    fn place_changed(&mut self, place: &str, change: Change) {
        let Some(&g) = self.index.get(&change.check) else { return };
        if let Some(p) = self.judged.get_mut(&g).and_then(|j| j.place(place)) {
            p.recorded = change.to;
            p.heard = true;
            if change.to != State::Unknown {
                p.state = change.to;
            }
        }
        self.places.insert((change.check.clone(), place.to_string()), change.to);
        if let Some(side) = self.vantages.iter().find(|s| s.name == place) {
            side.recorded.lock().unwrap_or_else(|e| e.into_inner()).insert(change.check.clone(), change.to);
        }
        self.emit(MonitorEvent::PlaceChanged {
            check: change.check,
            place: place.to_string(),
            from: change.from,
            to: change.to,
            detail: change.detail,
        });
        self.judge(g);
    }

    /// The verdict across places; a change of it is the check's own journal entry.
    fn judge(&mut self, g: usize) {
        let Some(j) = self.judged.get_mut(&g) else { return };
        let Some(verdict) = j.verdict() else { return };
        let view = View { state: verdict.state, ..j.view.clone() };
        let mut events = Vec::new();
        if view != j.view {
            j.view = view.clone();
            events.push(MonitorEvent::View { check: g, view });
        }
        if verdict.state != j.recorded {
            events.push(MonitorEvent::Changed(Change {
                check: j.name.clone(),
                from: j.recorded,
                to: verdict.state,
                detail: verdict.detail,
            }));
            j.recorded = verdict.state;
        }
        events.into_iter().for_each(|e| self.emit(e));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(name: &str, state: State, unreachable: bool) -> Place {
        Place {
            name: name.into(),
            state,
            recorded: state,
            live: !unreachable,
            unreachable,
            heard: !unreachable,
            refused: None,
            last: None,
        }
    }

    fn judged(places: Vec<Place>) -> Judged {
        Judged {
            name: "shop".into(),
            waits: true,
            quorum: Quorum::All,
            places,
            recorded: State::Unknown,
            view: View::default(),
        }
    }

    #[test]
    fn an_unreachable_place_has_no_word_and_the_others_decide() {
        // Down from every place that can answer, under "all": down, whatever paris last said.
        let j = judged(vec![place("local", State::Down, false), place("paris", State::Up, true)]);
        let v = j.verdict().expect("a verdict from local alone");
        assert_eq!((v.state, v.partial), (State::Down, false), "{}", v.detail);
        assert_eq!(v.detail, "down from local; no word from paris (unreachable)");
        // No place with a word: no verdict, the recorded one stands.
        let j = judged(vec![place("paris", State::Down, true), place("fra", State::Up, true)]);
        assert_eq!(j.verdict(), None);
        // A place unreachable from the start is not waited for.
        let mut fra = place("fra", State::Unknown, true);
        fra.heard = false;
        let j = judged(vec![place("local", State::Up, false), fra]);
        assert_eq!(j.verdict().map(|v| v.state), Some(State::Up));
    }

    #[test]
    fn a_view_that_will_be_recorded_waits_for_its_change() {
        let down = View { state: State::Down, ..View::default() };
        assert!(a_change_follows(&down, State::Up));
        assert!(!a_change_follows(&down, State::Down));
        let blocked = View { blocked_by: Some("db".into()), ..down.clone() };
        assert!(!a_change_follows(&blocked, State::Up), "a blocked check keeps its record");
        let offline = View { state: State::Unknown, no_connectivity: true, ..View::default() };
        assert!(a_change_follows(&offline, State::Up), "no connectivity is recorded as unknown");
        let unconfirmed = View::default();
        assert!(!a_change_follows(&unconfirmed, State::Up));
    }
}
