//! The incident as the screen and the reports see it: a pure fold over journal events.
//!
//! No I/O, no clock: everything time-dependent takes `now` as an argument, so the fold is
//! tested as a plain function and a replay ends exactly where a live session did.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};

use crate::journal::{Audience, CheckState, Event, EventBody, Milestone, Mode, Status};

/// What later events said about an earlier one.
#[derive(Debug, Clone, PartialEq, Default)]
struct Annotations {
    pinned_by: Option<(String, DateTime<Utc>)>,
    corrections: Vec<String>,
    /// Withdrawn without a replacement: by whom, when, why.
    struck: Option<Struck>,
}

/// An entry withdrawn: shown struck through, never removed.
#[derive(Debug, Clone, PartialEq)]
pub struct Struck {
    pub by: String,
    pub at: DateTime<Utc>,
    pub reason: Option<String>,
}

/// An action item, open until a `follow_up_closed` refers to it.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUp {
    /// The id of the `follow_up_added` event: what closing it refers to.
    pub id: String,
    pub text: String,
    pub owner: Option<String>,
    pub added_by: String,
    pub at: DateTime<Utc>,
    pub closed: Option<(String, DateTime<Utc>)>,
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

/// A vantage's link as the journal last recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct VantageStatus {
    pub reachable: bool,
    pub since: DateTime<Utc>,
    pub detail: String,
}

/// Who holds a role now, and since when.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleHolder {
    pub person: String,
    pub since: DateTime<Utc>,
    pub assigned_by: String,
}

/// A role changing hands; the first assignment has `from: None`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Handover {
    pub role: String,
    pub from: Option<String>,
    pub to: String,
    pub at: DateTime<Utc>,
    pub by: String,
    /// The account that recorded it, where it is not the same string as `by`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

/// Progress of one checklist item. Repeating items count every completion.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChecklistMark {
    pub done: bool,
    /// Every time it was marked done: (who, when).
    pub completions: Vec<(String, DateTime<Utc>)>,
    pub last_change: Option<(String, DateTime<Utc>)>,
}

/// The title of an incident opened before anyone named it.
pub const UNTITLED: &str = "Incident";

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
    /// The checklist the incident follows, as recorded when it opened.
    pub checklist_name: Option<String>,
    pub status: Status,
    pub opened_at: Option<DateTime<Utc>>,
    /// First time each milestone was reached (the `at` of the event when given).
    pub milestones: BTreeMap<Milestone, (DateTime<Utc>, String)>,
    /// The first confirmed failure of any check: "detected" when nobody set it by hand.
    pub first_failure: Option<DateTime<Utc>>,
    pub roles: BTreeMap<String, RoleHolder>,
    pub handovers: Vec<Handover>,
    pub checks: BTreeMap<String, CheckStatus>,
    /// Vantages whose link the journal mentions, by name: reachable or not, since when.
    pub vantages: BTreeMap<String, VantageStatus>,
    /// For checks run from several places: each place's confirmed state, by check then place.
    pub vantage_checks: BTreeMap<String, BTreeMap<String, CheckState>>,
    pub checklist: BTreeMap<String, ChecklistMark>,
    /// Action items, in the order they were added.
    pub follow_ups: Vec<FollowUp>,
    /// Every event, in journal order, unchanged.
    pub timeline: Vec<Event>,
    /// Pins and corrections by timeline position. Kept beside the timeline rather than in it,
    /// so the decoded events become the timeline as they are: a replay's vector is adopted,
    /// not copied into a second one (17 MiB for 100,000 events).
    annotations: BTreeMap<usize, Annotations>,
    /// Last successfully sent message per audience.
    pub last_message: HashMap<Audience, DateTime<Utc>>,
    /// The next-update time the last public message promised, if it stated one: the
    /// deadline the team must keep, whatever cadence the checklist follows.
    pub promised_update: Option<DateTime<Utc>>,
    /// Operators present now (joined and not yet left), with join time.
    pub operators: BTreeMap<String, DateTime<Utc>>,
    pub drill: Option<DrillInfo>,
    /// Timeline positions of `drill_started` entries in a journal not opened as a drill:
    /// ignored, and worth a warning.
    pub stray_drill_starts: Vec<usize>,
    /// Timeline position by event id, for pins and corrections (a cache: not compared). Built lazily: most journals
    /// have few references, and hashing every id would double the cost of a replay.
    index: HashMap<String, usize>,
    indexed: usize,
}

impl Incident {
    /// Folds a whole sequence of events; the vector becomes the timeline.
    pub fn from_events(events: Vec<Event>) -> Self {
        let mut incident = Incident::default();
        for i in 0..events.len() {
            incident.absorb(&events, i);
        }
        incident.timeline = events;
        incident
    }

    /// Applies one event. Events arrive in journal order.
    pub fn apply(&mut self, event: Event) {
        let mut timeline = std::mem::take(&mut self.timeline);
        timeline.push(event);
        self.absorb(&timeline, timeline.len() - 1);
        self.timeline = timeline;
    }

    /// Folds `timeline[i]` into the state; `timeline[..i]` are the events before it.
    fn absorb(&mut self, timeline: &[Event], i: usize) {
        let event = &timeline[i];
        match &event.body {
            EventBody::IncidentOpened { title, severity, mode, checklist } => {
                self.open(event, title, *severity, *mode, checklist);
            }
            EventBody::StatusChanged { status } => self.status = *status,
            EventBody::MilestoneReached { milestone, at, check } => {
                self.reach_milestone(event, *milestone, *at, check.as_deref());
            }
            EventBody::SeverityChanged { severity } => self.severity = Some(*severity),
            EventBody::CheckChanged { check, to, detail, .. } => self.change_check(event, check, *to, detail),
            EventBody::RoleAssigned { role, person } => self.assign_role(event, role, person),
            EventBody::OperatorJoined {} => {
                self.operators.insert(event.author.clone(), event.ts);
            }
            EventBody::OperatorLeft {} => {
                self.operators.remove(&event.author);
            }
            EventBody::ChecklistItemDone { item } => self.mark_done(event, item),
            EventBody::ChecklistItemUndone { item } => self.mark_undone(event, item),
            EventBody::MessageSent { audience, error, next_update, .. } => {
                self.message_sent(event, *audience, error.is_none(), *next_update);
            }
            EventBody::NoteAdded { .. } | EventBody::MessagePrepared { .. } => {}
            EventBody::EventPinned { event: target }
            | EventBody::EventUnpinned { event: target }
            | EventBody::Correction { event: target, .. }
            | EventBody::EntryStruck { event: target, .. } => self.annotate(timeline, i, target),
            EventBody::FollowUpAdded { text, owner } => self.add_follow_up(event, text, owner),
            EventBody::FollowUpClosed { event: target } => self.close_follow_up(event, target),
            EventBody::DrillStarted { scenario, speed } => self.start_drill(event, i, scenario, *speed),
            EventBody::DrillEnded { .. } => {
                if let Some(drill) = &mut self.drill {
                    drill.ended = Some(event.ts);
                }
            }
            EventBody::VantageCheckChanged { check, vantage, to, .. } => {
                self.vantage_checks.entry(check.clone()).or_default().insert(vantage.clone(), *to);
            }
            EventBody::VantageUnreachable { vantage, detail } => self.vantage_link(event, vantage, false, detail),
            EventBody::VantageReachable { vantage, detail } => self.vantage_link(event, vantage, true, detail),
        }
    }

    /// `vantage_unreachable` / `vantage_reachable`: since when, kept across repeats.
    fn vantage_link(&mut self, event: &Event, vantage: &str, reachable: bool, detail: &str) {
        let status = VantageStatus { reachable, since: event.ts, detail: detail.to_owned() };
        match self.vantages.get_mut(vantage) {
            Some(known) if known.reachable == reachable => known.detail = status.detail,
            _ => {
                self.vantages.insert(vantage.to_owned(), status);
            }
        }
    }

    /// `incident_opened`: title, severity and checklist; the first one also fixes the mode.
    fn open(&mut self, event: &Event, title: &str, severity: u8, mode: Mode, checklist: &Option<String>) {
        if checklist.is_some() {
            self.checklist_name.clone_from(checklist);
        }
        self.title = Some(title.to_owned());
        self.severity = Some(severity);
        // How the journal was opened decides real or drill, once: a later line can
        // neither make a real incident a drill nor a drill pass for a real one.
        if self.opened_at.is_none() {
            self.mode = mode;
        }
        self.opened_at.get_or_insert(event.ts);
    }

    /// `milestone_reached`: the first time counts; an acknowledgement naming a check marks it.
    fn reach_milestone(&mut self, event: &Event, milestone: Milestone, at: Option<DateTime<Utc>>, check: Option<&str>) {
        let when = at.unwrap_or(event.ts);
        self.milestones.entry(milestone).or_insert((when, event.author.clone()));
        if let (Milestone::Acknowledged, Some(name)) = (milestone, check)
            && let Some(check) = self.checks.get_mut(name)
        {
            check.acknowledged = Some((event.author.clone(), event.ts));
        }
    }

    /// `check_changed`: the check's new state, and the first confirmed failure.
    fn change_check(&mut self, event: &Event, check: &str, to: CheckState, detail: &str) {
        let ts = event.ts;
        if !self.checks.contains_key(check) {
            let fresh =
                CheckStatus { state: CheckState::Unknown, since: ts, detail: String::new(), acknowledged: None };
            self.checks.insert(check.to_owned(), fresh);
        }
        if matches!(to, CheckState::Down | CheckState::Degraded) {
            // The recorder journals a change only once the monitor confirmed it.
            self.first_failure.get_or_insert(ts);
        }
        let entry = self.checks.get_mut(check).expect("inserted above");
        if entry.state != to {
            entry.since = ts;
            // An acknowledgement covers one failure; a new failure needs a new one.
            entry.acknowledged = None;
        }
        entry.state = to;
        // What `String::clone_from` does: the old buffer is reused, not reallocated.
        entry.detail.clear();
        entry.detail.push_str(detail);
    }

    /// `role_assigned`: the new holder, and the handover from the previous one.
    fn assign_role(&mut self, event: &Event, role: &str, person: &str) {
        let holder = RoleHolder { person: person.to_owned(), since: event.ts, assigned_by: event.author.clone() };
        let previous = self.roles.insert(role.to_owned(), holder);
        self.handovers.push(Handover {
            role: role.to_owned(),
            from: previous.map(|p| p.person),
            to: person.to_owned(),
            at: event.ts,
            by: event.author.clone(),
            account: event.other_account().map(str::to_string),
        });
    }

    /// `checklist_item_done`: one more completion.
    fn mark_done(&mut self, event: &Event, item: &str) {
        let mark = self.checklist.entry(item.to_owned()).or_default();
        mark.done = true;
        mark.completions.push((event.author.clone(), event.ts));
        mark.last_change = Some((event.author.clone(), event.ts));
    }

    /// `checklist_item_undone`.
    fn mark_undone(&mut self, event: &Event, item: &str) {
        let mark = self.checklist.entry(item.to_owned()).or_default();
        mark.done = false;
        // Undo takes back the latest completion, so counts stay honest.
        mark.completions.pop();
        mark.last_change = Some((event.author.clone(), event.ts));
    }

    /// `message_sent`: only a message that went out counts.
    fn message_sent(&mut self, event: &Event, audience: Audience, sent: bool, next_update: Option<DateTime<Utc>>) {
        if sent {
            self.last_message.insert(audience, event.ts);
            if audience == Audience::Public {
                // A public message that promises nothing withdraws the last promise.
                self.promised_update = next_update;
            }
        }
    }

    /// Pins, unpins, corrections and strikes: what `timeline[i]` says about the earlier entry
    /// `target`. Nothing when the target is not in the journal before it.
    fn annotate(&mut self, timeline: &[Event], i: usize, target: &str) {
        let event = &timeline[i];
        let (author, ts) = (&event.author, event.ts);
        let Some(at) = self.position(&timeline[..i], target) else { return };
        match &event.body {
            EventBody::EventPinned { .. } => {
                self.annotations.entry(at).or_default().pinned_by = Some((author.clone(), ts));
            }
            EventBody::EventUnpinned { .. } => {
                if let Some(a) = self.annotations.get_mut(&at) {
                    a.pinned_by = None;
                }
            }
            EventBody::Correction { .. } => {
                self.annotations.entry(at).or_default().corrections.push(event.id.clone());
            }
            EventBody::EntryStruck { reason, .. } => {
                let struck = Struck { by: author.clone(), at: ts, reason: reason.clone() };
                self.annotations.entry(at).or_default().struck = Some(struck);
            }
            // Only the four kinds above are routed here.
            _ => {}
        }
    }

    /// `follow_up_added`: an open action item, known by the id of this event.
    fn add_follow_up(&mut self, event: &Event, text: &str, owner: &Option<String>) {
        self.follow_ups.push(FollowUp {
            id: event.id.clone(),
            text: text.to_owned(),
            owner: owner.clone(),
            added_by: event.author.clone(),
            at: event.ts,
            closed: None,
        });
    }

    /// `follow_up_closed`: closes the open item it refers to.
    fn close_follow_up(&mut self, event: &Event, target: &str) {
        if let Some(f) = self.follow_ups.iter_mut().find(|f| f.id == *target && f.closed.is_none()) {
            f.closed = Some((event.author.clone(), event.ts));
        }
    }

    /// `drill_started` at timeline position `i`: counts only in a journal opened as a drill.
    fn start_drill(&mut self, event: &Event, i: usize, scenario: &str, speed: f64) {
        if self.mode != Mode::Drill {
            // A stray line in a real incident: kept in the timeline, and changes nothing.
            self.stray_drill_starts.push(i);
        } else if self.drill.is_none() {
            self.drill = Some(DrillInfo { scenario: scenario.to_owned(), speed, started: event.ts, ended: None });
        }
    }

    /// Time since the incident opened (until it was resolved), or `None` before it opened.
    pub fn elapsed(&self, now: DateTime<Utc>) -> Option<Duration> {
        let until = match self.status {
            Status::Resolved => self.milestone(Milestone::Resolved).unwrap_or(now),
            _ => now,
        };
        self.opened_at.map(|t| (until - t).max(Duration::zero()))
    }

    /// When a milestone was reached, if it was. Detection set by hand wins; otherwise it is
    /// the first confirmed failure, derived here rather than written by every session.
    pub fn milestone(&self, m: Milestone) -> Option<DateTime<Utc>> {
        match self.milestones.get(&m) {
            Some((t, _)) => Some(*t),
            None if m == Milestone::Detected => self.first_failure,
            None => None,
        }
    }

    /// Follow-ups not yet closed.
    pub fn open_follow_ups(&self) -> impl Iterator<Item = &FollowUp> {
        self.follow_ups.iter().filter(|f| f.closed.is_none())
    }

    /// The entry at timeline position `i` was withdrawn: by whom, when, why.
    pub fn struck(&self, i: usize) -> Option<&Struck> {
        self.annotations.get(&i)?.struck.as_ref()
    }

    /// The text that replaces the entry at position `i`: its latest correction's, if any.
    pub fn corrected_text(&self, i: usize) -> Option<&str> {
        let id = self.corrections(i).last()?;
        match &self.event(id)?.body {
            EventBody::Correction { text, .. } => Some(text),
            _ => None,
        }
    }

    /// Time from the incident opening to a milestone (time-to-detect, -acknowledge, …).
    pub fn time_to(&self, m: Milestone) -> Option<Duration> {
        Some(self.milestone(m)? - self.opened_at?)
    }

    /// Whether someone named this incident: a dashboard started with nothing to go on opens
    /// it as [`UNTITLED`], and the first signal declared from names it instead.
    pub fn has_own_title(&self) -> bool {
        self.title.as_deref().is_some_and(|t| t != UNTITLED)
    }

    pub fn is_drill(&self) -> bool {
        self.mode == Mode::Drill
    }

    /// The author string a person goes by here: `name` itself if entries carry it, else the
    /// one author whose login part (before `@host`) is `name` — screens show the login part,
    /// so that is what people type.
    pub fn person(&self, name: &str) -> Option<&str> {
        let authors =
            || self.timeline.iter().map(|e| e.author.as_str()).chain(self.operators.keys().map(String::as_str));
        if let Some(exact) = authors().find(|a| *a == name) {
            return Some(exact);
        }
        let mut found = authors().filter(|a| a.split('@').next() == Some(name) && a.contains('@'));
        let first = found.next()?;
        found.all(|a| a == first).then_some(first)
    }

    /// Everyone this journal knows: who joined on a screen, who wrote an entry (`warroom log`
    /// from a shell counts), who holds a role; not the drill's script. For the pickers that ask
    /// "who?", which must not offer only the people on a screen right now.
    pub fn people(&self) -> std::collections::BTreeSet<&str> {
        let authors = self.timeline.iter().map(|e| e.author.as_str());
        let holders = self.roles.values().map(|h| h.person.as_str());
        self.operators
            .keys()
            .map(String::as_str)
            .chain(authors)
            .chain(holders)
            .filter(|p| *p != crate::drill::DRILL_AUTHOR && !p.trim().is_empty())
            .collect()
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

    /// Position of an event id in `earlier`, indexing whatever arrived since the last look-up.
    fn position(&mut self, earlier: &[Event], id: &str) -> Option<usize> {
        for (i, event) in earlier.iter().enumerate().skip(self.indexed) {
            self.index.insert(event.id.clone(), i);
        }
        self.indexed = self.indexed.max(earlier.len());
        self.index.get(id).copied()
    }

    /// Timeline position of an event, by id.
    pub fn find(&self, id: &str) -> Option<usize> {
        match self.index.get(id) {
            Some(&i) => Some(i),
            None => self.timeline.iter().skip(self.indexed).position(|e| e.id == id).map(|i| i + self.indexed),
        }
    }

    /// An event, by id.
    pub fn event(&self, id: &str) -> Option<&Event> {
        self.find(id).map(|i| &self.timeline[i])
    }

    /// Pinned as a key event: by whom, when (`i` is a timeline position).
    pub fn pinned_by(&self, i: usize) -> Option<&(String, DateTime<Utc>)> {
        self.annotations.get(&i)?.pinned_by.as_ref()
    }

    /// Ids of the corrections that refer to the event at timeline position `i`, in order.
    pub fn corrections(&self, i: usize) -> &[String] {
        self.annotations.get(&i).map_or(&[], |a| &a.corrections)
    }

    /// Key (pinned) events with their timeline positions, in timeline order.
    pub fn key_events(&self) -> impl Iterator<Item = (usize, &Event)> {
        self.annotations.iter().filter(|(_, a)| a.pinned_by.is_some()).map(|(&i, _)| (i, &self.timeline[i]))
    }
}

/// Two folds are equal when everything they show is equal; the id index is only a cache.
impl PartialEq for Incident {
    fn eq(&self, o: &Self) -> bool {
        self.title == o.title
            && self.severity == o.severity
            && self.mode == o.mode
            && self.checklist_name == o.checklist_name
            && self.status == o.status
            && self.opened_at == o.opened_at
            && self.milestones == o.milestones
            && self.first_failure == o.first_failure
            && self.follow_ups == o.follow_ups
            && self.roles == o.roles
            && self.handovers == o.handovers
            && self.checks == o.checks
            && self.checklist == o.checklist
            && self.timeline == o.timeline
            && self.annotations == o.annotations
            && self.last_message == o.last_message
            && self.promised_update == o.promised_update
            && self.operators == o.operators
            && self.drill == o.drill
            && self.stray_drill_starts == o.stray_drill_starts
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::journal::EventBody as B;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_790_000_000 + secs, 0).unwrap()
    }

    fn ev(secs: i64, who: &str, body: B) -> Event {
        Event::at(t(secs), who, body)
    }

    fn opened() -> Event {
        ev(
            0,
            "alice@h",
            B::IncidentOpened { title: "Mail down".into(), severity: 2, mode: Mode::Real, checklist: None },
        )
    }

    #[test]
    fn each_place_and_each_vantage_link_is_folded_and_read_back_from_disk() {
        let events = vec![
            opened(),
            ev(1, "p", B::VantageReachable { vantage: "paris".into(), detail: "warroom pid 7".into() }),
            ev(
                2,
                "p",
                B::VantageCheckChanged {
                    check: "shop".into(),
                    vantage: "paris".into(),
                    from: CheckState::Unknown,
                    to: CheckState::Down,
                    detail: "refused".into(),
                },
            ),
            ev(3, "p", B::VantageUnreachable { vantage: "paris".into(), detail: "closed".into() }),
            ev(9, "p", B::VantageUnreachable { vantage: "paris".into(), detail: "still closed".into() }),
        ];
        // Through the journal's own encoding, as a follower reads them.
        let lines: Vec<String> = events.iter().map(|e| serde_json::to_string(e).unwrap()).collect();
        let read: Vec<Event> = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(read, events);
        let i = Incident::from_events(read);
        assert_eq!(i.vantage_checks["shop"]["paris"], CheckState::Down);
        let paris = &i.vantages["paris"];
        // Unreachable since the first time it was said, with the latest words.
        assert_eq!((paris.reachable, paris.since, paris.detail.as_str()), (false, t(3), "still closed"));
        // Nothing of a check's own verdict: that is its check_changed.
        assert!(i.checks.is_empty() && i.first_failure.is_none());
    }

    fn check(secs: i64, name: &str, from: CheckState, to: CheckState) -> Event {
        ev(
            secs,
            "poller@h",
            B::CheckChanged { check: name.into(), from, to, detail: format!("{name} is {}", to.as_str()) },
        )
    }

    #[test]
    fn empty_journal_is_an_empty_incident() {
        let i = Incident::from_events(Vec::new());
        assert_eq!(i.title, None);
        assert_eq!(i.status, Status::Investigating);
        assert_eq!(i.elapsed(t(10)), None);
        assert!(i.timeline.is_empty());
    }

    #[test]
    fn opening_sets_title_severity_start_and_elapsed() {
        let i = Incident::from_events(vec![opened()]);
        assert_eq!(i.title.as_deref(), Some("Mail down"));
        assert_eq!(i.severity, Some(2));
        assert_eq!(i.opened_at, Some(t(0)));
        assert_eq!(i.elapsed(t(4325)), Some(Duration::seconds(4325)));
        assert!(!i.is_drill());
    }

    #[test]
    fn status_severity_and_milestones_fold_with_time_to_figures() {
        let i = Incident::from_events(vec![
            opened(),
            ev(60, "bob@h", B::MilestoneReached { milestone: Milestone::Detected, at: Some(t(30)), check: None }),
            ev(120, "bob@h", B::MilestoneReached { milestone: Milestone::Acknowledged, at: None, check: None }),
            ev(130, "bob@h", B::StatusChanged { status: Status::Identified }),
            ev(140, "bob@h", B::SeverityChanged { severity: 1 }),
            // A second "detected" does not move the first.
            ev(150, "bob@h", B::MilestoneReached { milestone: Milestone::Detected, at: None, check: None }),
        ]);
        assert_eq!(i.status, Status::Identified);
        assert_eq!(i.severity, Some(1));
        assert_eq!(i.time_to(Milestone::Detected), Some(Duration::seconds(30)));
        assert_eq!(i.time_to(Milestone::Acknowledged), Some(Duration::seconds(120)));
        assert_eq!(i.time_to(Milestone::Resolved), None);
        assert_eq!(i.milestones[&Milestone::Acknowledged].1, "bob@h");
    }

    #[test]
    fn roles_record_handovers() {
        let i = Incident::from_events(vec![
            opened(),
            ev(10, "alice@h", B::RoleAssigned { role: "commander".into(), person: "alice".into() }),
            ev(20, "alice@h", B::RoleAssigned { role: "scribe".into(), person: "carol".into() }),
            ev(900, "alice@h", B::RoleAssigned { role: "commander".into(), person: "bob".into() }),
        ]);
        assert_eq!(i.role("commander"), Some("bob"));
        assert_eq!(i.role("scribe"), Some("carol"));
        assert_eq!(i.roles["commander"].since, t(900));
        let commander: Vec<_> = i.handovers.iter().filter(|h| h.role == "commander").collect();
        assert_eq!(commander.len(), 2);
        assert_eq!(commander[1].from.as_deref(), Some("alice"));
        assert_eq!(commander[1].to, "bob");
    }

    #[test]
    fn checks_track_state_since_and_acknowledgement() {
        let mut i = Incident::from_events(vec![
            opened(),
            check(5, "smtp", CheckState::Unknown, CheckState::Up),
            check(5, "web", CheckState::Unknown, CheckState::Up),
            check(50, "smtp", CheckState::Up, CheckState::Down),
        ]);
        assert_eq!(i.checks["smtp"].state, CheckState::Down);
        assert_eq!(i.checks["smtp"].since, t(50));
        assert_eq!(i.checks["web"].since, t(5));
        i.apply(ev(
            70,
            "bob@h",
            B::MilestoneReached { milestone: Milestone::Acknowledged, at: None, check: Some("smtp".into()) },
        ));
        assert_eq!(i.checks["smtp"].acknowledged, Some(("bob@h".to_string(), t(70))));
        // Same state again: detail changes, "since" and the acknowledgement do not.
        i.apply(check(80, "smtp", CheckState::Down, CheckState::Down));
        assert_eq!(i.checks["smtp"].since, t(50));
        assert!(i.checks["smtp"].acknowledged.is_some());
        // Recovery clears it; the next failure needs a new acknowledgement.
        i.apply(check(90, "smtp", CheckState::Down, CheckState::Up));
        i.apply(check(95, "smtp", CheckState::Up, CheckState::Degraded));
        assert_eq!(i.checks["smtp"].acknowledged, None);
        assert_eq!(i.failing_checks().iter().map(|(n, _)| *n).collect::<Vec<_>>(), vec!["smtp"]);
    }

    #[test]
    fn failing_checks_sort_down_first() {
        let i = Incident::from_events(vec![
            check(1, "a-degraded", CheckState::Up, CheckState::Degraded),
            check(1, "b-down", CheckState::Up, CheckState::Down),
            check(1, "c-up", CheckState::Unknown, CheckState::Up),
            check(1, "d-unknown", CheckState::Up, CheckState::Unknown),
        ]);
        let names: Vec<_> = i.failing_checks().iter().map(|(n, _)| *n).collect();
        assert_eq!(names, vec!["b-down", "a-degraded", "d-unknown"]);
    }

    #[test]
    fn checklist_done_undone_counts_completions() {
        let i = Incident::from_events(vec![
            ev(1, "a@h", B::ChecklistItemDone { item: "update".into() }),
            ev(2, "a@h", B::ChecklistItemDone { item: "update".into() }),
            ev(3, "b@h", B::ChecklistItemUndone { item: "update".into() }),
            ev(4, "b@h", B::ChecklistItemDone { item: "staff".into() }),
        ]);
        assert!(!i.checklist["update"].done);
        assert_eq!(i.checklist["update"].completions, vec![("a@h".to_string(), t(1))]);
        assert_eq!(i.checklist["update"].last_change, Some(("b@h".to_string(), t(3))));
        assert!(i.checklist["staff"].done);
    }

    #[test]
    fn last_message_per_audience_ignores_failed_sends() {
        let msg = |secs, audience, error: Option<&str>| {
            ev(
                secs,
                "c@h",
                B::MessageSent {
                    channel: "ch".into(),
                    audience,
                    text: "x".into(),
                    error: error.map(str::to_string),
                    item: None,
                    simulated: false,
                    next_update: None,
                },
            )
        };
        let i = Incident::from_events(vec![
            msg(10, Audience::Internal, None),
            msg(20, Audience::Public, None),
            msg(30, Audience::Public, Some("HTTP 500")),
        ]);
        assert_eq!(i.last_message[&Audience::Internal], t(10));
        assert_eq!(i.last_message[&Audience::Public], t(20));
    }

    #[test]
    fn pins_and_corrections_refer_to_earlier_events() {
        let note = ev(10, "a@h", B::NoteAdded { text: "relay restarted at 02:10".into() });
        let id = note.id.clone();
        let pin = ev(20, "b@h", B::EventPinned { event: id.clone() });
        let fix = ev(30, "a@h", B::Correction { event: id.clone(), text: "it was 02:15".into() });
        let fix_id = fix.id.clone();
        let i = Incident::from_events(vec![opened(), note, pin, fix]);
        let at = i.find(&id).unwrap();
        assert_eq!(at, 1);
        assert_eq!(i.pinned_by(at), Some(&("b@h".to_string(), t(20))));
        assert_eq!(i.corrections(at), &[fix_id][..]);
        assert_eq!(i.key_events().map(|(k, _)| k).collect::<Vec<_>>(), vec![1]);
        // The original is never changed, only annotated.
        assert!(matches!(&i.event(&id).unwrap().body, B::NoteAdded { text } if text == "relay restarted at 02:10"));
        assert_eq!(i.timeline.len(), 4);
        // Applied one at a time, the same fold.
        let mut live = Incident::default();
        for e in i.timeline.clone() {
            live.apply(e);
        }
        assert_eq!(live, i);
    }

    #[test]
    fn pin_of_unknown_event_is_kept_but_marks_nothing() {
        let i = Incident::from_events(vec![opened(), ev(5, "a@h", B::EventPinned { event: "nope".into() })]);
        assert_eq!(i.key_events().count(), 0);
        assert_eq!(i.timeline.len(), 2);
    }

    #[test]
    fn operators_join_and_leave() {
        let i = Incident::from_events(vec![
            ev(1, "a@h", B::OperatorJoined {}),
            ev(2, "b@h", B::OperatorJoined {}),
            ev(3, "a@h", B::OperatorLeft {}),
        ]);
        assert_eq!(i.operators.keys().collect::<Vec<_>>(), vec!["b@h"]);
    }

    #[test]
    fn drill_marks_incident_as_drill() {
        let i = Incident::from_events(vec![
            ev(0, "a@h", B::IncidentOpened { title: "Fire".into(), severity: 1, mode: Mode::Drill, checklist: None }),
            ev(0, "a@h", B::DrillStarted { scenario: "datacenter-fire".into(), speed: 10.0 }),
            ev(60, "a@h", B::DrillEnded { scenario: "datacenter-fire".into() }),
        ]);
        assert!(i.is_drill());
        let d = i.drill.unwrap();
        assert_eq!((d.scenario.as_str(), d.speed, d.ended), ("datacenter-fire", 10.0, Some(t(60))));
    }

    #[test]
    fn only_the_opening_decides_drill_or_real() {
        let stray = ev(30, "m@h", B::DrillStarted { scenario: "datacenter-fire".into(), speed: 1.0 });
        let reopened = ev(
            40,
            "m@h",
            B::IncidentOpened { title: "Mail down".into(), severity: 2, mode: Mode::Drill, checklist: None },
        );
        let i = Incident::from_events(vec![opened(), stray, reopened]);
        assert!(!i.is_drill(), "a later line flipped a real incident into a drill");
        assert_eq!(i.drill, None);
        assert_eq!(i.stray_drill_starts, vec![1]);
        // Nor does a real opening after a drill's make the drill real.
        let drill =
            ev(0, "a@h", B::IncidentOpened { title: "Fire".into(), severity: 1, mode: Mode::Drill, checklist: None });
        let i = Incident::from_events(vec![drill, opened()]);
        assert!(i.is_drill());
        // A drill_started before any opening is stray too: the journal was not opened as a drill.
        let early = ev(0, "m@h", B::DrillStarted { scenario: "x".into(), speed: 1.0 });
        let i = Incident::from_events(vec![early, opened()]);
        assert!(!i.is_drill() && i.drill.is_none());
        assert_eq!(i.stray_drill_starts, vec![0]);
    }

    #[test]
    fn detected_is_the_first_confirmed_failure_unless_set_by_hand() {
        let mut i = Incident::from_events(vec![
            opened(),
            check(5, "web", CheckState::Unknown, CheckState::Up),
            check(40, "smtp", CheckState::Up, CheckState::Degraded),
            check(90, "web", CheckState::Up, CheckState::Down),
        ]);
        assert_eq!(i.milestone(Milestone::Detected), Some(t(40)));
        assert_eq!(i.time_to(Milestone::Detected), Some(Duration::seconds(40)));
        assert!(i.milestones.is_empty(), "derived, never written");
        // A customer called before any check saw it: the hand-set time wins.
        i.apply(ev(120, "bob@h", B::MilestoneReached { milestone: Milestone::Detected, at: Some(t(20)), check: None }));
        assert_eq!(i.milestone(Milestone::Detected), Some(t(20)));
        // Nothing failing, nothing detected.
        let quiet = Incident::from_events(vec![opened(), check(5, "web", CheckState::Unknown, CheckState::Up)]);
        assert_eq!(quiet.milestone(Milestone::Detected), None);
    }

    #[test]
    fn unpin_takes_back_a_pin_and_a_second_pin_brings_it_back() {
        let note = ev(10, "a@h", B::NoteAdded { text: "relay restarted".into() });
        let id = note.id.clone();
        let mut i = Incident::from_events(vec![opened(), note, ev(20, "b@h", B::EventPinned { event: id.clone() })]);
        assert_eq!(i.key_events().count(), 1);
        i.apply(ev(30, "b@h", B::EventUnpinned { event: id.clone() }));
        assert_eq!(i.key_events().count(), 0);
        assert_eq!(i.pinned_by(1), None);
        i.apply(ev(40, "c@h", B::EventPinned { event: id.clone() }));
        assert_eq!(i.pinned_by(1), Some(&("c@h".to_string(), t(40))));
        // Unpinning what was never pinned, or nothing known, changes nothing.
        i.apply(ev(50, "c@h", B::EventUnpinned { event: "nope".into() }));
        assert_eq!(i.key_events().count(), 1);
    }

    #[test]
    fn a_struck_note_stays_in_the_timeline_marked_and_a_correction_replaces_its_text() {
        let wrong = ev(10, "a@h", B::NoteAdded { text: "db01 is the primary".into() });
        let typo = ev(11, "a@h", B::NoteAdded { text: "relay restarted at 02:10".into() });
        let (wrong_id, typo_id) = (wrong.id.clone(), typo.id.clone());
        let i = Incident::from_events(vec![
            opened(),
            wrong,
            typo,
            ev(20, "b@h", B::EntryStruck { event: wrong_id.clone(), reason: Some("db02 is".into()) }),
            ev(30, "a@h", B::Correction { event: typo_id.clone(), text: "relay restarted at 02:15".into() }),
            ev(40, "a@h", B::Correction { event: typo_id.clone(), text: "relay restarted at 02:16".into() }),
        ]);
        let struck = i.struck(1).expect("struck");
        assert_eq!((struck.by.as_str(), struck.at, struck.reason.as_deref()), ("b@h", t(20), Some("db02 is")));
        assert_eq!(i.corrected_text(1), None);
        assert_eq!(i.struck(2), None);
        assert_eq!(i.corrected_text(2), Some("relay restarted at 02:16"), "the latest correction stands");
        assert!(matches!(&i.timeline[1].body, B::NoteAdded { text } if text == "db01 is the primary"));
    }

    #[test]
    fn follow_ups_open_until_closed_once() {
        let first = ev(10, "a@h", B::FollowUpAdded { text: "alert on relay queue".into(), owner: Some("bob".into()) });
        let second = ev(11, "a@h", B::FollowUpAdded { text: "runbook for DNS".into(), owner: None });
        let first_id = first.id.clone();
        let mut i = Incident::from_events(vec![opened(), first, second]);
        assert_eq!(i.open_follow_ups().count(), 2);
        i.apply(ev(20, "bob@h", B::FollowUpClosed { event: first_id.clone() }));
        i.apply(ev(30, "carol@h", B::FollowUpClosed { event: first_id.clone() }));
        let open: Vec<_> = i.open_follow_ups().map(|f| f.text.as_str()).collect();
        assert_eq!(open, vec!["runbook for DNS"]);
        assert_eq!(i.follow_ups[0].closed, Some(("bob@h".to_string(), t(20))), "the first close counts");
        assert_eq!(i.follow_ups[0].owner.as_deref(), Some("bob"));
    }

    #[test]
    fn every_new_event_records_the_account_that_wrote_it() {
        let e = ev(1, "incident-commander", B::NoteAdded { text: "x".into() });
        assert_eq!(e.account.as_deref(), Some(crate::journal::os_account()));
        assert_eq!(e.other_account(), Some(crate::journal::os_account()));
        let same = ev(1, crate::journal::os_account(), B::NoteAdded { text: "x".into() });
        assert_eq!(same.other_account(), None);
    }
}
