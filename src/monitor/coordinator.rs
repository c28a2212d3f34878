//! From confirmed states to what is shown and what is written down.
//!
//! Pure and synchronous: the monitor's task feeds it, tests drive it directly.

use super::check::CheckDef;
use super::{MonitorEvent, State};
use crate::probe::{Health, Outcome};

/// How a check is shown.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct View {
    /// The state to show; for a blocked check, its own (failing) state.
    pub state: State,
    /// Failing while this parent is down: part of the parent's outage, not a separate one.
    pub blocked_by: Option<String>,
    /// Failing while the connectivity canary fails: shown as unknown.
    pub no_connectivity: bool,
    pub paused: bool,
    /// Silenced or inhibited upstream (Alertmanager): shown dimmed, never recorded.
    pub silenced: bool,
}

/// A change worth one journal entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub check: String,
    pub from: State,
    pub to: State,
    pub detail: String,
}

struct Slot {
    name: String,
    parents: Vec<usize>,
    children: Vec<usize>,
    confirmed: State,
    /// Health of the latest result (the canary is judged on it, unconfirmed, to act first).
    latest: Option<Health>,
    detail: String,
    /// What the journal says now.
    recorded: State,
    view: View,
    /// Whether `view` was ever sent. A restarted monitor starts from what the journal
    /// records, so its first view may equal that and still be news: the screen has none yet,
    /// and without one it takes the row for another session's. (An unknown first view is not
    /// sent: that is no word yet, and vantages wait for every place's word before a verdict.)
    announced: bool,
}

pub struct Coordinator {
    slots: Vec<Slot>,
    canary: Option<usize>,
    /// Rows created on demand (series, alerts), by full name.
    by_name: std::collections::HashMap<String, usize>,
    /// What the journal recorded for every name, for rows that appear later.
    recorded: std::collections::HashMap<String, State>,
}

/// One sub-row result from a source, already confirmed by the monitor.
pub struct RowResult {
    pub key: String,
    pub outcome: Outcome,
    pub confirmed: State,
    pub silenced: bool,
}

impl Coordinator {
    pub fn new(checks: &[impl std::borrow::Borrow<CheckDef>], recorded: &[State], canary: Option<&str>) -> Self {
        let checks: Vec<&CheckDef> = checks.iter().map(std::borrow::Borrow::borrow).collect();
        let index = |name: &str| checks.iter().position(|c| c.name == name);
        let mut slots: Vec<Slot> = checks
            .iter()
            .zip(recorded)
            .map(|(c, r)| Slot {
                name: c.name.clone(),
                parents: c.depends_on.iter().filter_map(|p| index(p)).collect(),
                children: Vec::new(),
                confirmed: *r,
                latest: None,
                detail: String::new(),
                recorded: *r,
                view: View { state: *r, ..View::default() },
                announced: false,
            })
            .collect();
        for i in 0..slots.len() {
            for p in slots[i].parents.clone() {
                slots[p].children.push(i);
            }
        }
        let by_name = slots.iter().enumerate().map(|(i, s)| (s.name.clone(), i)).collect();
        Coordinator { slots, canary: canary.and_then(index), by_name, recorded: std::collections::HashMap::new() }
    }

    /// States the journal recorded for rows that may appear later.
    pub fn with_recorded(mut self, recorded: std::collections::HashMap<String, State>) -> Self {
        self.recorded = recorded;
        self
    }

    /// What the journal recorded for a name (a source's row that appears later).
    pub fn recorded(&self, name: &str) -> State {
        self.recorded.get(name).copied().unwrap_or_default()
    }

    /// The full name of a source's row: `alerts / HighErrorRate api-1`.
    pub fn row_name(parent: &str, key: &str) -> String {
        super::RowId::row(parent, key).name().into_owned()
    }

    /// Results for a source's rows: rows appear on first sight (announced with
    /// `MonitorEvent::Row`), then go through the same reconciliation as any check.
    pub fn observe_rows(
        &mut self,
        parent: usize,
        at: chrono::DateTime<chrono::Utc>,
        rows: Vec<RowResult>,
    ) -> Vec<MonitorEvent> {
        let mut events = Vec::new();
        let mut touched = Vec::new();
        for row in rows {
            let name = Self::row_name(&self.slots[parent].name, &row.key);
            let i = match self.by_name.get(&name) {
                Some(&i) => i,
                None => {
                    let recorded = self.recorded.get(&name).copied().unwrap_or_default();
                    let i = self.slots.len();
                    self.slots.push(Slot {
                        name: name.clone(),
                        parents: Vec::new(),
                        children: Vec::new(),
                        confirmed: recorded,
                        latest: None,
                        detail: String::new(),
                        recorded,
                        view: View { state: recorded, ..View::default() },
                        announced: false,
                    });
                    self.by_name.insert(name.clone(), i);
                    events.push(MonitorEvent::Row {
                        check: i,
                        id: super::RowId::row(&self.slots[parent].name, &row.key),
                    });
                    i
                }
            };
            let slot = &mut self.slots[i];
            slot.latest = Some(row.outcome.health);
            slot.detail.clone_from(&row.outcome.detail);
            slot.confirmed = row.confirmed;
            slot.view.silenced = row.silenced;
            events.push(MonitorEvent::Sample { check: i, at, outcome: std::sync::Arc::new(row.outcome) });
            touched.push(i);
        }
        events.extend(self.reconcile(&touched));
        events
    }

    /// One probe result with the check's confirmed state; returns the views and journal
    /// changes it causes, for this check and any it affects.
    pub fn observe(&mut self, check: usize, outcome: &Outcome, confirmed: State) -> Vec<MonitorEvent> {
        let slot = &mut self.slots[check];
        slot.latest = Some(outcome.health);
        slot.detail.clone_from(&outcome.detail);
        slot.confirmed = confirmed;
        if Some(check) == self.canary {
            let all: Vec<usize> = (0..self.slots.len()).collect();
            return self.reconcile(&all);
        }
        let children = &self.slots[check].children;
        if children.is_empty() {
            // Most checks: nothing to gather (a probe result is a thousand of these a second).
            return self.reconcile(&[check]);
        }
        let affected: Vec<usize> = std::iter::once(check).chain(children.iter().copied()).collect();
        self.reconcile(&affected)
    }

    pub fn set_paused(&mut self, check: usize, paused: bool) -> Vec<MonitorEvent> {
        let Some(slot) = self.slots.get_mut(check) else { return Vec::new() };
        if slot.view.paused == paused {
            return Vec::new();
        }
        slot.view.paused = paused;
        slot.announced = true;
        vec![MonitorEvent::View { check, view: slot.view.clone() }]
    }

    fn offline(&self) -> Option<&Slot> {
        let canary = &self.slots[self.canary?];
        canary.latest.filter(|h| *h != Health::Up).map(|_| canary)
    }

    fn reconcile(&mut self, affected: &[usize]) -> Vec<MonitorEvent> {
        let mut events = Vec::new();
        let offline = self.offline().map(|c| (c.name.clone(), c.detail.clone()));
        for &i in affected {
            let slot = &self.slots[i];
            let failing = slot.confirmed.is_failing();
            let blocked_by = slot
                .parents
                .iter()
                .find(|&&p| self.slots[p].confirmed == State::Down)
                .map(|&p| self.slots[p].name.clone())
                .filter(|_| failing);
            let no_connectivity = failing && offline.is_some() && Some(i) != self.canary;
            let silenced = slot.view.silenced;
            let view = View {
                state: if no_connectivity { State::Unknown } else { slot.confirmed },
                blocked_by: blocked_by.clone(),
                no_connectivity,
                paused: slot.view.paused,
                silenced,
            };
            // What the journal should say: blocked checks stay as recorded (the parent's entry
            // speaks for them), so do silenced alerts; "unknown" from a lack of results is never
            // written.
            let to_record = match (&blocked_by, no_connectivity, slot.confirmed) {
                _ if silenced => slot.recorded,
                (Some(_), false, _) => slot.recorded,
                (_, true, _) => State::Unknown,
                (None, false, State::Unknown) => slot.recorded,
                (None, false, s) => s,
            };
            let change = (to_record != slot.recorded).then(|| {
                let detail = match (&offline, no_connectivity) {
                    (Some((canary, why)), true) => format!("unknown — no connectivity (canary \"{canary}\": {why})"),
                    _ => self.detail_with_blocked_children(i),
                };
                Change { check: slot.name.clone(), from: slot.recorded, to: to_record, detail }
            });
            let slot = &mut self.slots[i];
            // Unknown is no news: a place's first word to a combiner across vantages, or a
            // screen's first sight of a row, is a state.
            if slot.view != view || (!slot.announced && view.state != State::Unknown) {
                slot.view = view.clone();
                slot.announced = true;
                events.push(MonitorEvent::View { check: i, view });
            }
            if let Some(change) = change {
                slot.recorded = change.to;
                events.push(MonitorEvent::Changed(change));
            }
        }
        events
    }

    fn detail_with_blocked_children(&self, i: usize) -> String {
        let slot = &self.slots[i];
        let blocked: Vec<&str> = slot
            .children
            .iter()
            .filter(|&&c| self.slots[c].confirmed.is_failing())
            .map(|&c| self.slots[c].name.as_str())
            .collect();
        if slot.confirmed == State::Down && !blocked.is_empty() {
            format!("{} (dependent checks also failing: {})", slot.detail, blocked.join(", "))
        } else {
            slot.detail.clone()
        }
    }

    pub fn name(&self, check: usize) -> &str {
        &self.slots[check].name
    }

    pub fn view(&self, check: usize) -> &View {
        &self.slots[check].view
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::monitor::Schedule;
    use crate::probe::{CommandSpec, ProbeSpec};

    fn def(name: &str, parents: &[&str]) -> CheckDef {
        CheckDef {
            name: name.into(),
            probe: ProbeSpec::Command(CommandSpec { command: vec!["true".into()] }),
            schedule: Schedule::default(),
            depends_on: parents.iter().map(|p| p.to_string()).collect(),
        }
    }

    fn result(h: Health, detail: &str) -> Outcome {
        Outcome::new(h, Duration::from_millis(3), detail)
    }

    fn changes(events: &[MonitorEvent]) -> Vec<(String, State, State)> {
        events
            .iter()
            .filter_map(|e| match e {
                MonitorEvent::Changed(c) => Some((c.check.clone(), c.from, c.to)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn confirmed_changes_are_recorded_once() {
        let mut c = Coordinator::new(&[def("web", &[])], &[State::Unknown], None);
        assert_eq!(
            changes(&c.observe(0, &result(Health::Up, "ok"), State::Up)),
            vec![("web".into(), State::Unknown, State::Up)]
        );
        assert!(changes(&c.observe(0, &result(Health::Up, "ok"), State::Up)).is_empty());
        // An unconfirmed failure is a sample, not a change.
        assert!(changes(&c.observe(0, &result(Health::Down, "refused"), State::Up)).is_empty());
        let e = c.observe(0, &result(Health::Down, "refused"), State::Down);
        assert_eq!(changes(&e), vec![("web".into(), State::Up, State::Down)]);
    }

    #[test]
    fn a_restarted_monitor_does_not_repeat_what_the_journal_says() {
        let mut c = Coordinator::new(&[def("web", &[])], &[State::Down], None);
        assert!(changes(&c.observe(0, &result(Health::Down, "refused"), State::Down)).is_empty());
        // Unknown (no confirmed result yet) is never written over a recorded state.
        assert!(changes(&c.observe(0, &result(Health::Up, "ok"), State::Unknown)).is_empty());
    }

    /// The first result after a restart shows the row even when its state is what the journal
    /// already says; a screen with no view takes the check for another session's and refuses
    /// "run now" and pause on it. After that, only changes are sent.
    #[test]
    fn a_restarted_monitor_shows_a_state_the_journal_already_records() {
        let mut c = Coordinator::new(&[def("web", &[])], &[State::Down], None);
        let views = |events: &[MonitorEvent]| -> Vec<State> {
            events
                .iter()
                .filter_map(|e| match e {
                    MonitorEvent::View { view, .. } => Some(view.state),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(views(&c.observe(0, &result(Health::Down, "refused"), State::Down)), [State::Down]);
        assert!(views(&c.observe(0, &result(Health::Down, "refused"), State::Down)).is_empty());

        // A first result that confirms nothing yet is no word: combiners across vantages wait
        // for every place's first state before a verdict.
        let mut fresh = Coordinator::new(&[def("web", &[])], &[State::Unknown], None);
        assert!(views(&fresh.observe(0, &result(Health::Down, "refused"), State::Unknown)).is_empty());

        let recorded = std::collections::HashMap::from([("alerts / Fire".to_string(), State::Down)]);
        let mut c = Coordinator::new(&[def("alerts", &[])], &[State::Up], None).with_recorded(recorded);
        let row = RowResult {
            key: "Fire".into(),
            outcome: result(Health::Down, "firing"),
            confirmed: State::Down,
            silenced: false,
        };
        assert_eq!(views(&c.observe_rows(0, chrono::Utc::now(), vec![row])), [State::Down]);
    }

    #[test]
    fn children_of_a_down_parent_are_blocked_not_recorded() {
        let checks = [def("db", &[]), def("api", &["db"]), def("web", &["db"])];
        let mut c = Coordinator::new(&checks, &[State::Up; 3], None);
        let e = c.observe(0, &result(Health::Down, "db refused"), State::Down);
        assert_eq!(changes(&e), vec![("db".into(), State::Up, State::Down)]);
        for child in [1, 2] {
            let e = c.observe(child, &result(Health::Down, "502"), State::Down);
            assert!(changes(&e).is_empty(), "a blocked child must not add a journal entry");
            assert_eq!(c.view(child).blocked_by.as_deref(), Some("db"));
            assert_eq!(c.view(child).state, State::Down);
        }
        // The parent recovers; a child still failing is now its own outage.
        let e = c.observe(0, &result(Health::Up, "ok"), State::Up);
        assert_eq!(
            changes(&e),
            vec![
                ("db".into(), State::Down, State::Up),
                ("api".into(), State::Up, State::Down),
                ("web".into(), State::Up, State::Down)
            ]
        );
        assert_eq!(c.view(1).blocked_by, None);
    }

    #[test]
    fn parent_entry_names_children_already_failing() {
        let checks = [def("db", &[]), def("api", &["db"])];
        let mut c = Coordinator::new(&checks, &[State::Up; 2], None);
        c.observe(1, &result(Health::Down, "502"), State::Down);
        let e = c.observe(0, &result(Health::Down, "db refused"), State::Down);
        let MonitorEvent::Changed(change) = e.iter().find(|e| matches!(e, MonitorEvent::Changed(_))).unwrap() else {
            unreachable!()
        };
        assert_eq!(change.detail, "db refused (dependent checks also failing: api)");
    }

    #[test]
    fn no_connectivity_turns_failures_into_unknown() {
        let checks = [def("gateway", &[]), def("web", &[]), def("mail", &[])];
        let mut c = Coordinator::new(&checks, &[State::Up; 3], Some("gateway"));
        c.observe(0, &result(Health::Down, "network unreachable"), State::Up);
        let e = c.observe(1, &result(Health::Down, "timed out"), State::Down);
        assert_eq!(changes(&e), vec![("web".into(), State::Up, State::Unknown)]);
        assert!(c.view(1).no_connectivity);
        assert_eq!(c.view(1).state, State::Unknown);
        let MonitorEvent::Changed(ch) = &e[1] else { panic!("{e:?}") };
        assert!(ch.detail.starts_with("unknown — no connectivity (canary \"gateway\""), "{}", ch.detail);
        // Back online: the real state is recorded.
        let e = c.observe(0, &result(Health::Up, "ok"), State::Up);
        assert_eq!(changes(&e), vec![("web".into(), State::Unknown, State::Down)]);
    }

    #[test]
    fn pausing_is_a_view_change_only() {
        let mut c = Coordinator::new(&[def("web", &[])], &[State::Up], None);
        let e = c.set_paused(0, true);
        assert!(matches!(&e[..], [MonitorEvent::View { view: View { paused: true, .. }, .. }]));
        assert!(c.set_paused(0, true).is_empty());
    }

    #[test]
    fn source_rows_appear_on_demand_and_silenced_ones_are_never_recorded() {
        let mut c = Coordinator::new(&[def("alerts", &[])], &[State::Up], None);
        let row = |key: &str, h: Health, confirmed: State, silenced: bool| RowResult {
            key: key.into(),
            outcome: result(h, "x"),
            confirmed,
            silenced,
        };
        let at = chrono::Utc::now();
        let e = c.observe_rows(
            0,
            at,
            vec![
                row("HostDown db2", Health::Down, State::Down, false),
                row("Flap web1", Health::Down, State::Down, true),
            ],
        );
        let announced: Vec<String> = e
            .iter()
            .filter_map(|e| if let MonitorEvent::Row { id, .. } = e { Some(id.name().into_owned()) } else { None })
            .collect();
        assert_eq!(announced, vec!["alerts / HostDown db2", "alerts / Flap web1"]);
        assert_eq!(changes(&e), vec![("alerts / HostDown db2".into(), State::Unknown, State::Down)]);
        assert!(c.view(2).silenced);
        // Seen again: no new row, no new entry; resolved: recorded.
        let e = c.observe_rows(0, at, vec![row("HostDown db2", Health::Down, State::Down, false)]);
        assert!(changes(&e).is_empty() && !e.iter().any(|e| matches!(e, MonitorEvent::Row { .. })));
        let e = c.observe_rows(0, at, vec![row("HostDown db2", Health::Up, State::Up, false)]);
        assert_eq!(changes(&e), vec![("alerts / HostDown db2".into(), State::Down, State::Up)]);
    }

    #[test]
    fn rows_that_reappear_after_a_restart_start_from_the_journal() {
        let recorded = std::collections::HashMap::from([("alerts / HostDown db2".to_string(), State::Down)]);
        let mut c = Coordinator::new(&[def("alerts", &[])], &[State::Up], None).with_recorded(recorded);
        let e = c.observe_rows(
            0,
            chrono::Utc::now(),
            vec![RowResult {
                key: "HostDown db2".into(),
                outcome: result(Health::Down, "x"),
                confirmed: State::Down,
                silenced: false,
            }],
        );
        assert!(changes(&e).is_empty(), "already recorded down: {e:?}");
    }
}
