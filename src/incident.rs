//! The incident as the screen and the reports see it: a pure fold over journal events.
//!
//! No I/O, no clock: everything time-dependent takes `now` as an argument, so the fold is
//! tested as a plain function and a replay ends exactly where a live session did.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};

use crate::journal::{Audience, CheckState, Event, EventBody, Milestone, Mode, Status};

/// One entry of the timeline: the event plus what later events said about it.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEntry {
    pub event: Event,
    /// Pinned as a key event (by whom, when).
    pub pinned_by: Option<(String, DateTime<Utc>)>,
    /// Ids of corrections that refer to this event, in order.
    pub corrections: Vec<String>,
}

/// The current state of one check, as recorded in the journal.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckStatus {
    pub state: CheckState,
    pub since: DateTime<Utc>,
    pub detail: String,
    /// The last time someone acknowledged this check while it was failing.
    pub acknowledged: Option<(String, DateTime<Utc>)>,
}

/// Who holds a role now, and since when.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleHolder {
    pub person: String,
    pub since: DateTime<Utc>,
    pub assigned_by: String,
}

/// A role changing hands; the first assignment has `from: None`.
#[derive(Debug, Clone, PartialEq)]
pub struct Handover {
    pub role: String,
    pub from: Option<String>,
    pub to: String,
    pub at: DateTime<Utc>,
    pub by: String,
}

/// Progress of one checklist item. Repeating items count every completion.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChecklistMark {
    pub done: bool,
    /// Every time it was marked done: (who, when).
    pub completions: Vec<(String, DateTime<Utc>)>,
    pub last_change: Option<(String, DateTime<Utc>)>,
}

/// A running or finished drill.
#[derive(Debug, Clone, PartialEq)]
pub struct DrillInfo {
    pub scenario: String,
    pub speed: f64,
    pub started: DateTime<Utc>,
    pub ended: Option<DateTime<Utc>>,
}

/// Everything the screen needs, folded from the journal.
#[derive(Debug, Clone, Default)]
pub struct Incident {
    pub title: Option<String>,
    pub severity: Option<u8>,
    pub mode: Mode,
    pub status: Status,
    pub opened_at: Option<DateTime<Utc>>,
    /// First time each milestone was reached (the `at` of the event when given).
    pub milestones: BTreeMap<Milestone, (DateTime<Utc>, String)>,
    pub roles: BTreeMap<String, RoleHolder>,
    pub handovers: Vec<Handover>,
    pub checks: BTreeMap<String, CheckStatus>,
    pub checklist: BTreeMap<String, ChecklistMark>,
    pub timeline: Vec<TimelineEntry>,
    /// Last successfully sent message per audience.
    pub last_message: HashMap<Audience, DateTime<Utc>>,
    /// Operators present now (joined and not yet left), with join time.
    pub operators: BTreeMap<String, DateTime<Utc>>,
    pub drill: Option<DrillInfo>,
    /// Timeline position by event id, for pins and corrections. Built lazily: most journals
    /// have few references, and hashing every id would double the cost of a replay.
    index: HashMap<String, usize>,
    indexed: usize,
}

impl Incident {
    /// Folds a whole sequence of events.
    pub fn from_events<I: IntoIterator<Item = Event>>(events: I) -> Self {
        let mut incident = Incident::default();
        for event in events {
            incident.apply(event);
        }
        incident
    }

    /// Applies one event. Events arrive in journal order.
    pub fn apply(&mut self, event: Event) {
        let ts = event.ts;
        let author = &event.author;
        match &event.body {
            EventBody::IncidentOpened { title, severity, mode } => {
                self.title = Some(title.clone());
                self.severity = Some(*severity);
                self.mode = *mode;
                self.opened_at.get_or_insert(ts);
            }
            EventBody::StatusChanged { status } => self.status = *status,
            EventBody::MilestoneReached { milestone, at, check } => {
                let when = at.unwrap_or(ts);
                self.milestones.entry(*milestone).or_insert((when, author.clone()));
                if let (Milestone::Acknowledged, Some(name)) = (milestone, check)
                    && let Some(check) = self.checks.get_mut(name)
                {
                    check.acknowledged = Some((author.clone(), ts));
                }
            }
            EventBody::SeverityChanged { severity } => self.severity = Some(*severity),
            EventBody::RoleAssigned { role, person } => {
                let previous = self.roles.insert(
                    role.clone(),
                    RoleHolder { person: person.clone(), since: ts, assigned_by: author.clone() },
                );
                self.handovers.push(Handover {
                    role: role.clone(),
                    from: previous.map(|p| p.person),
                    to: person.clone(),
                    at: ts,
                    by: author.clone(),
                });
            }
            EventBody::CheckChanged { check, to, detail, .. } => {
                if !self.checks.contains_key(check) {
                    let fresh = CheckStatus {
                        state: CheckState::Unknown,
                        since: ts,
                        detail: String::new(),
                        acknowledged: None,
                    };
                    self.checks.insert(check.clone(), fresh);
                }
                let entry = self.checks.get_mut(check).expect("inserted above");
                if entry.state != *to {
                    entry.since = ts;
                    // An acknowledgement covers one failure; a new failure needs a new one.
                    entry.acknowledged = None;
                }
                entry.state = *to;
                entry.detail.clone_from(detail);
            }
            EventBody::NoteAdded { .. } => {}
            EventBody::EventPinned { event: target } => {
                if let Some(i) = self.position(target) {
                    self.timeline[i].pinned_by = Some((author.clone(), ts));
                }
            }
            EventBody::ChecklistItemDone { item } => {
                let mark = self.checklist.entry(item.clone()).or_default();
                mark.done = true;
                mark.completions.push((author.clone(), ts));
                mark.last_change = Some((author.clone(), ts));
            }
            EventBody::ChecklistItemUndone { item } => {
                let mark = self.checklist.entry(item.clone()).or_default();
                mark.done = false;
                // Undo takes back the latest completion, so counts stay honest.
                mark.completions.pop();
                mark.last_change = Some((author.clone(), ts));
            }
            EventBody::MessageSent { audience, error, .. } => {
                if error.is_none() {
                    self.last_message.insert(*audience, ts);
                }
            }
            EventBody::OperatorJoined {} => {
                self.operators.insert(author.clone(), ts);
            }
            EventBody::OperatorLeft {} => {
                self.operators.remove(author);
            }
            EventBody::DrillStarted { scenario, speed } => {
                self.mode = Mode::Drill;
                self.drill = Some(DrillInfo { scenario: scenario.clone(), speed: *speed, started: ts, ended: None });
            }
            EventBody::DrillEnded { .. } => {
                if let Some(drill) = &mut self.drill {
                    drill.ended = Some(ts);
                }
            }
            EventBody::Correction { event: target, .. } => {
                if let Some(i) = self.position(target) {
                    self.timeline[i].corrections.push(event.id.clone());
                }
            }
        }
        self.timeline.push(TimelineEntry { event, pinned_by: None, corrections: Vec::new() });
    }

    /// Time since the incident opened, or `None` before it has.
    pub fn elapsed(&self, now: DateTime<Utc>) -> Option<Duration> {
        self.opened_at.map(|t| (now - t).max(Duration::zero()))
    }

    /// When a milestone was reached, if it was.
    pub fn milestone(&self, m: Milestone) -> Option<DateTime<Utc>> {
        self.milestones.get(&m).map(|(t, _)| *t)
    }

    /// Time from the incident opening to a milestone (time-to-detect, -acknowledge, …).
    pub fn time_to(&self, m: Milestone) -> Option<Duration> {
        Some(self.milestone(m)? - self.opened_at?)
    }

    pub fn is_drill(&self) -> bool {
        self.mode == Mode::Drill
    }

    /// The person holding `role`, if anyone does.
    pub fn role(&self, role: &str) -> Option<&str> {
        self.roles.get(role).map(|h| h.person.as_str())
    }

    /// Checks that are not up (down first, then degraded, then unknown), by name.
    pub fn failing_checks(&self) -> Vec<(&str, &CheckStatus)> {
        let mut failing: Vec<_> =
            self.checks.iter().filter(|(_, c)| c.state != CheckState::Up).map(|(n, c)| (n.as_str(), c)).collect();
        failing.sort_by_key(|(name, c)| (std::cmp::Reverse(c.state), *name));
        failing
    }

    /// Timeline position of an event id, indexing whatever arrived since the last look-up.
    fn position(&mut self, id: &str) -> Option<usize> {
        for (i, entry) in self.timeline.iter().enumerate().skip(self.indexed) {
            self.index.insert(entry.event.id.clone(), i);
        }
        self.indexed = self.timeline.len();
        self.index.get(id).copied()
    }

    /// Looks up an event by id.
    pub fn event(&self, id: &str) -> Option<&TimelineEntry> {
        match self.index.get(id) {
            Some(&i) => self.timeline.get(i),
            None => self.timeline[self.indexed.min(self.timeline.len())..].iter().find(|e| e.event.id == id),
        }
    }

    /// Key (pinned) events, in timeline order.
    pub fn key_events(&self) -> impl Iterator<Item = &TimelineEntry> {
        self.timeline.iter().filter(|e| e.pinned_by.is_some())
    }
}
