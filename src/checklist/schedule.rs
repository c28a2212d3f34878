//! Where each item stands now: pending, due soon, overdue or done — over any clock.

use chrono::{DateTime, Duration as Span, Utc};

use super::file::Item;
use crate::incident::Incident;
use crate::journal::{EventBody, Status};

/// How long before its deadline an item shows as "due soon".
pub const DUE_SOON: std::time::Duration = std::time::Duration::from_secs(5 * 60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemState {
    /// Its `when` does not hold for this incident (yet), or the incident is resolved and
    /// the item is not one owed after that (`after_resolve`).
    NotApplicable,
    Pending,
    DueSoon,
    Overdue,
    Done,
}

impl ItemState {
    pub fn glyph(self) -> &'static str {
        match self {
            ItemState::NotApplicable => "–",
            ItemState::Pending => "☐",
            ItemState::DueSoon => "◔",
            ItemState::Overdue => "⚠",
            ItemState::Done => "☑",
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            ItemState::NotApplicable => "n/a",
            ItemState::Pending => "pending",
            ItemState::DueSoon => "due soon",
            ItemState::Overdue => "OVERDUE",
            ItemState::Done => "done",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ItemView {
    pub state: ItemState,
    /// The deadline now in force (the next one, for a repeating item).
    pub due_at: DateTime<Utc>,
    /// Last completion: who and when.
    pub done_by: Option<(String, DateTime<Utc>)>,
    /// Completions so far (repeating items count each one).
    pub count: usize,
}

fn span(d: std::time::Duration) -> Span {
    Span::from_std(d).unwrap_or(Span::MAX)
}

/// When the item's conditions first held: its deadline counts from then (an all-clear due
/// "0s after the incident is resolved" is due at the resolution, not at the start).
pub fn applies_since(item: &Item, incident: &Incident) -> Option<DateTime<Utc>> {
    let opened = incident.opened_at?;
    if item.when.is_empty() {
        return Some(opened);
    }
    let (mut severity, mut status) = (None, Status::Investigating);
    for entry in &incident.timeline {
        match &entry.body {
            EventBody::IncidentOpened { severity: s, .. } | EventBody::SeverityChanged { severity: s } => {
                severity = Some(*s)
            }
            EventBody::StatusChanged { status: s } => status = *s,
            _ => continue,
        }
        if item.when.iter().all(|c| c.holds(severity, status)) {
            return Some(entry.ts.max(opened));
        }
    }
    None
}

/// The roles `item` needs recorded that the journal does not record yet, in the item's order.
pub fn missing_roles<'a>(item: &'a Item, incident: &Incident) -> Vec<&'a str> {
    item.needs_roles.iter().map(String::as_str).filter(|role| incident.role(role).is_none()).collect()
}

/// The state of `item` in `incident` at `now`.
pub fn evaluate(item: &Item, incident: &Incident, now: DateTime<Utc>) -> ItemView {
    let opened = incident.opened_at.unwrap_or(now);
    let mark = incident.checklist.get(&item.id);
    let count = mark.map_or(0, |m| m.completions.len());
    let last = mark.and_then(|m| m.completions.last().cloned());
    let done_now = mark.is_some_and(|m| m.done);
    let applies = item.when.iter().all(|c| c.holds(incident.severity, incident.status));
    let base = if applies { applies_since(item, incident).unwrap_or(opened) } else { opened };
    let first_due = base + span(item.due);
    let resolved = incident.status == Status::Resolved;

    let (due_at, state) = match item.repeat {
        Some(every) => {
            let due_at = match (&last, done_now) {
                (Some((_, at)), true) => *at + span(every),
                _ => first_due,
            };
            let state = if resolved && !item.after_resolve {
                // "Until resolved": nothing more is owed.
                if count > 0 { ItemState::Done } else { ItemState::NotApplicable }
            } else if !applies {
                ItemState::NotApplicable
            } else if done_now && now < due_at - span(DUE_SOON) {
                ItemState::Done
            } else {
                by_deadline(now, due_at)
            };
            (due_at, state)
        }
        None => {
            let state = if done_now {
                ItemState::Done
            } else if !applies || (resolved && !item.after_resolve) {
                // Resolved: what was owed during the outage no longer applies.
                ItemState::NotApplicable
            } else {
                by_deadline(now, first_due)
            };
            (first_due, state)
        }
    };
    ItemView { state, due_at, done_by: last.filter(|_| done_now || item.repeat.is_some()), count }
}

/// The order the screen lists a checklist in (`[screen] checklist_order`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// What is still owed first, soonest deadline first; then done; then n/a.
    #[default]
    Due,
    /// As the checklist file lists them.
    File,
}

/// Positions of `views` (in file order) in the order `order` lists them. In due order the
/// overdue lead (their deadlines are the earliest); ties, and the items that do not apply,
/// keep file order.
pub fn display_order(views: &[ItemView], order: Order) -> Vec<usize> {
    let mut positions: Vec<usize> = (0..views.len()).collect();
    if order == Order::Due {
        let rank = |s: ItemState| match s {
            ItemState::Overdue | ItemState::DueSoon | ItemState::Pending => 0,
            ItemState::Done => 1,
            ItemState::NotApplicable => 2,
        };
        // An item that does not apply has no deadline that means anything: file order.
        let due = |v: &ItemView| (v.state != ItemState::NotApplicable).then_some(v.due_at);
        positions.sort_by_key(|&i| (rank(views[i].state), due(&views[i])));
    }
    positions
}

/// How an item went, looking back: its first deadline against its first completion.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemOutcome {
    /// "on time", "late", "missed", "not due" (the incident ended first) or "not applicable".
    pub verdict: &'static str,
    pub due_at: Option<DateTime<Utc>>,
    pub done: Option<(String, DateTime<Utc>)>,
}

/// How `item` went in an incident that ended at `end` (an item owed after the resolution:
/// by the journal's last entry).
pub fn outcome(item: &Item, incident: &Incident, end: DateTime<Utc>) -> ItemOutcome {
    // What is owed after the resolution is owed for as long as the journal went on.
    let last = incident.timeline.last().map(|e| e.ts);
    let end = if item.after_resolve { last.map_or(end, |l| l.max(end)) } else { end };
    let due_at = applies_since(item, incident).map(|b| b + span(item.due));
    let done = incident.checklist.get(&item.id).and_then(|m| m.completions.first().cloned());
    let verdict = match (&done, due_at) {
        (Some((_, at)), Some(due)) if *at <= due => "on time",
        (Some(_), Some(_)) => "late",
        // Done though its condition never held: done, and nothing was late.
        (Some(_), None) => "on time",
        (None, Some(due)) if due > end => "not due",
        (None, Some(_)) => "missed",
        (None, None) => "not applicable",
    };
    ItemOutcome { verdict, due_at, done }
}

fn by_deadline(now: DateTime<Utc>, due: DateTime<Utc>) -> ItemState {
    if now > due {
        ItemState::Overdue
    } else if due - now <= span(DUE_SOON) {
        ItemState::DueSoon
    } else {
        ItemState::Pending
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::checklist::parse;
    use crate::journal::{Event, EventBody, Mode};

    fn t(mins: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 2, 0, 0).unwrap() + Span::minutes(mins)
    }

    fn items() -> Vec<Item> {
        parse(
            r#"
[[item]]
id = "ack"
title = "First public acknowledgement"
due = "15m"
[[item]]
id = "update"
title = "Public update"
due = "30m"
repeat = "30m"
[[item]]
id = "execs"
title = "Brief executives"
due = "20m"
when = "severity <= 2"
[[item]]
id = "all-clear"
title = "All-clear"
due = "10m"
when = "status == resolved"
"#,
            std::path::Path::new("t.toml"),
        )
        .unwrap()
        .items
    }

    fn incident(severity: u8, events: Vec<(i64, EventBody)>) -> Incident {
        let mut all = vec![Event::at(
            t(0),
            "a",
            EventBody::IncidentOpened { title: "x".into(), severity, mode: Mode::Real, checklist: None },
        )];
        all.extend(events.into_iter().map(|(m, b)| Event::at(t(m), "bob", b)));
        Incident::from_events(all)
    }

    fn done(item: &str) -> EventBody {
        EventBody::ChecklistItemDone { item: item.into() }
    }

    #[test]
    fn one_off_item_goes_pending_due_soon_overdue_done() {
        let item = &items()[0];
        let i = incident(3, vec![]);
        assert_eq!(evaluate(item, &i, t(0)).state, ItemState::Pending);
        assert_eq!(evaluate(item, &i, t(10)).state, ItemState::DueSoon);
        assert_eq!(evaluate(item, &i, t(15)).state, ItemState::DueSoon);
        assert_eq!(evaluate(item, &i, t(16)).state, ItemState::Overdue);
        assert_eq!(evaluate(item, &i, t(16)).due_at, t(15));
        let i = incident(3, vec![(17, done("ack"))]);
        let v = evaluate(item, &i, t(60));
        assert_eq!((v.state, v.count), (ItemState::Done, 1));
        assert_eq!(v.done_by, Some(("bob".into(), t(17))));
    }

    #[test]
    fn repeating_item_comes_back_after_each_period_and_counts() {
        let item = &items()[1];
        let i = incident(3, vec![(20, done("update"))]);
        assert_eq!(evaluate(item, &i, t(21)).state, ItemState::Done);
        assert_eq!(evaluate(item, &i, t(21)).due_at, t(50));
        assert_eq!(evaluate(item, &i, t(46)).state, ItemState::DueSoon);
        assert_eq!(evaluate(item, &i, t(51)).state, ItemState::Overdue);
        let i = incident(3, vec![(20, done("update")), (48, done("update"))]);
        let v = evaluate(item, &i, t(50));
        assert_eq!((v.state, v.count, v.due_at), (ItemState::Done, 2, t(78)));
        // Resolved: nothing more is owed.
        let i = incident(3, vec![(20, done("update")), (40, EventBody::StatusChanged { status: Status::Resolved })]);
        assert_eq!(evaluate(item, &i, t(200)).state, ItemState::Done);
    }

    #[test]
    fn undo_takes_back_a_completion() {
        let item = &items()[0];
        let i = incident(3, vec![(5, done("ack")), (6, EventBody::ChecklistItemUndone { item: "ack".into() })]);
        let v = evaluate(item, &i, t(7));
        assert_eq!((v.state, v.count, v.done_by), (ItemState::Pending, 0, None));
    }

    #[test]
    fn when_conditions_follow_severity() {
        let item = &items()[2];
        assert_eq!(evaluate(item, &incident(3, vec![]), t(30)).state, ItemState::NotApplicable);
        assert_eq!(evaluate(item, &incident(2, vec![]), t(30)).state, ItemState::Overdue);
        // Raised to SEV1 at 10m: due 20 minutes after that, not after the start.
        let raised = incident(3, vec![(10, EventBody::SeverityChanged { severity: 1 })]);
        assert_eq!(evaluate(item, &raised, t(12)).state, ItemState::Pending);
        assert_eq!(evaluate(item, &raised, t(12)).due_at, t(30));
        assert_eq!(evaluate(item, &raised, t(31)).state, ItemState::Overdue);
    }

    #[test]
    fn a_conditional_deadline_counts_from_when_the_condition_first_held() {
        let item = &items()[3];
        let resolved = incident(3, vec![(180, EventBody::StatusChanged { status: Status::Resolved })]);
        let v = evaluate(item, &resolved, t(181));
        assert_eq!((v.state, v.due_at), (ItemState::Pending, t(190)));
        assert_eq!(evaluate(item, &resolved, t(191)).state, ItemState::Overdue);
        assert_eq!(evaluate(item, &incident(3, vec![]), t(181)).state, ItemState::NotApplicable);
    }

    #[test]
    fn after_resolve_only_post_resolution_items_stay_owed() {
        let list = items();
        let resolved = |extra: Vec<(i64, EventBody)>| {
            let mut events = extra;
            events.push((40, EventBody::StatusChanged { status: Status::Resolved }));
            incident(2, events)
        };
        // Overdue before the resolution (ack, due 15m), not yet due (execs, due 20m after SEV2
        // at 0 → overdue too): neither is owed any more.
        let i = resolved(vec![]);
        let state = |n: usize, at: i64| evaluate(&list[n], &i, t(at)).state;
        assert_eq!(state(0, 41), ItemState::NotApplicable, "a missed acknowledgement is no longer owed");
        assert_eq!(state(2, 41), ItemState::NotApplicable);
        assert_eq!(state(1, 41), ItemState::NotApplicable, "never done, repeating: nothing owed");
        // The all-clear is the point of resolving: it stays live, due from the resolution.
        assert_eq!(state(3, 41), ItemState::Pending);
        assert_eq!(state(3, 51), ItemState::Overdue);
        // Done stays done.
        let i = resolved(vec![(10, done("ack"))]);
        assert_eq!(evaluate(&list[0], &i, t(41)).state, ItemState::Done);
        // Reopened: owed again.
        let mut reopened = resolved(vec![]);
        reopened.apply(Event::at(t(50), "bob", EventBody::StatusChanged { status: Status::Investigating }));
        assert_eq!(evaluate(&list[0], &reopened, t(51)).state, ItemState::Overdue);
    }

    #[test]
    fn after_resolve_can_be_said_explicitly_and_not_contradicted() {
        let list = parse(
            "[[item]]\nid = \"supervisor\"\ntitle = \"S\"\ndue = \"30m\"\nafter_resolve = true\n",
            std::path::Path::new("t.toml"),
        )
        .unwrap()
        .items;
        assert!(list[0].after_resolve);
        let i = incident(3, vec![(10, EventBody::StatusChanged { status: Status::Resolved })]);
        assert_eq!(evaluate(&list[0], &i, t(31)).state, ItemState::Overdue);
        assert!(items()[3].after_resolve && !items()[0].after_resolve, "defaults follow `when`");
        let e = parse(
            "[[item]]\nid = \"x\"\ntitle = \"X\"\ndue = \"1m\"\nwhen = \"status == resolved\"\nafter_resolve = false\n",
            std::path::Path::new("t.toml"),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("t.toml:6: item \"x\": after_resolve = false"), "{e}");
    }

    #[test]
    fn due_order_puts_overdue_first_then_soonest_then_done_then_not_applicable() {
        let list = items();
        // SEV3 at 20m: ack (15m) overdue, update (30m) pending, execs n/a, all-clear n/a.
        let i = incident(3, vec![]);
        let views: Vec<ItemView> = list.iter().map(|item| evaluate(item, &i, t(20))).collect();
        assert_eq!(display_order(&views, Order::Due), vec![0, 1, 2, 3]);
        assert_eq!(display_order(&views, Order::File), vec![0, 1, 2, 3]);
        // ack done; SEV2: execs (20m) overdue at 25m, update (30m) due soon.
        let i = incident(2, vec![(5, done("ack"))]);
        let views: Vec<ItemView> = list.iter().map(|item| evaluate(item, &i, t(25))).collect();
        let states: Vec<ItemState> = views.iter().map(|v| v.state).collect();
        assert_eq!(states, [ItemState::Done, ItemState::DueSoon, ItemState::Overdue, ItemState::NotApplicable]);
        assert_eq!(display_order(&views, Order::Due), vec![2, 1, 0, 3]);
        assert_eq!(display_order(&views, Order::File), vec![0, 1, 2, 3]);
    }

    #[test]
    fn looking_back_what_is_owed_after_the_resolution_counts_until_the_journal_ends() {
        let list = items();
        let resolved_at = 40;
        let resolve = (resolved_at, EventBody::StatusChanged { status: Status::Resolved });
        // The journal ends at the resolution: the all-clear was not due yet.
        let i = incident(3, vec![resolve.clone()]);
        assert_eq!(outcome(&list[3], &i, t(resolved_at)).verdict, "not due");
        // It went on for an hour without one: the all-clear was missed, whatever the report's end.
        let i = incident(3, vec![resolve, (100, EventBody::NoteAdded { text: "still no all-clear".into() })]);
        assert_eq!(outcome(&list[3], &i, t(resolved_at)).verdict, "missed");
        // Owed during the outage only: judged at the resolution, as before.
        assert_eq!(outcome(&list[0], &i, t(resolved_at)).verdict, "missed", "due at 15m, never done");
        assert_eq!(outcome(&list[1], &i, t(resolved_at)).verdict, "missed", "due at 30m, never done");
    }
}
