//! Monitor changes as journal events, and journal states as the monitor's starting point.

use std::collections::HashMap;

use crate::incident::Incident;
use crate::journal::{CheckState, Event, EventBody};
use crate::monitor::{Change, State};

pub fn to_check_state(s: State) -> CheckState {
    match s {
        State::Unknown => CheckState::Unknown,
        State::Up => CheckState::Up,
        State::Degraded => CheckState::Degraded,
        State::Down => CheckState::Down,
    }
}

pub fn from_check_state(s: CheckState) -> State {
    match s {
        CheckState::Unknown => State::Unknown,
        CheckState::Up => State::Up,
        CheckState::Degraded => State::Degraded,
        CheckState::Down => State::Down,
    }
}

/// The `check_changed` event for a confirmed change, stamped `ts`.
pub fn change_event(change: &Change, author: &str, ts: chrono::DateTime<chrono::Utc>) -> Event {
    Event::at(
        ts,
        author,
        EventBody::CheckChanged {
            check: change.check.clone(),
            from: to_check_state(change.from),
            to: to_check_state(change.to),
            detail: change.detail.clone(),
        },
    )
}

/// The journal entry for a vantage's own news: a place's confirmed change, or its link
/// going down or coming back.
pub fn vantage_event(
    event: crate::monitor::MonitorEvent,
    author: &str,
    ts: chrono::DateTime<chrono::Utc>,
) -> Option<Event> {
    use crate::monitor::MonitorEvent;
    let body = match event {
        MonitorEvent::PlaceChanged { check, place, from, to, detail } => EventBody::VantageCheckChanged {
            check,
            vantage: place,
            from: to_check_state(from),
            to: to_check_state(to),
            detail,
        },
        MonitorEvent::Vantage { name, reachable: false, detail } => {
            EventBody::VantageUnreachable { vantage: name, detail }
        }
        MonitorEvent::Vantage { name, reachable: true, detail } => {
            EventBody::VantageReachable { vantage: name, detail }
        }
        _ => return None,
    };
    Some(Event::at(ts, author, body))
}

/// Each check's state as the journal last recorded it: a new poller starts from here, so it
/// never records the same change twice.
pub fn recorded_states(incident: &Incident) -> HashMap<String, State> {
    incident.checks.iter().map(|(name, c)| (name.clone(), from_check_state(c.state))).collect()
}
