//! The little a session must know of the incident to act on its own: what each check was
//! last recorded as (a new poller starts from there), whether the incident is a drill (its
//! sends are simulated), its title (for messages) and whether it is resolved (a drill ends).
//! The full fold is the front-end's board; this one costs a few bytes per check.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::journal::{Event, EventBody, Mode, Status, format_ts};
use crate::monitor::State;
use crate::recorder::from_check_state;
use crate::sanitize::sanitize_str;

#[derive(Debug, Default)]
pub struct Facts {
    pub recorded: HashMap<String, State>,
    /// Each place's recorded state of checks run from several places: (check, place) → state.
    pub places: crate::vantage::PlaceStates,
    /// Decided by the journal's opening alone (see [`crate::incident::Incident::mode`]): a real
    /// incident's messages are never simulated, whatever a later line says.
    pub drill: bool,
    opened: bool,
    pub title: String,
    pub resolved: bool,
    /// A drill journal's clock, from its `drill_started`: scenario-time origin and speed.
    pub drill_clock: Option<(DateTime<Utc>, f64)>,
    /// The scenario a drill journal plays.
    pub scenario: Option<String>,
    /// A drill journal's `drill_ended` was read.
    pub drill_ended: bool,
}

impl Facts {
    /// Learns from one entry; returns a warning for the operator when the entry is ignored.
    pub fn learn(&mut self, event: &Event) -> Option<String> {
        match &event.body {
            EventBody::IncidentOpened { title, mode, .. } => {
                self.title.clone_from(title);
                if !self.opened {
                    self.opened = true;
                    self.drill = *mode == Mode::Drill;
                }
            }
            EventBody::DrillStarted { .. } if !self.drill => {
                return Some(format!(
                    "ignored a drill_started entry by {} at {}: this journal was opened as a real incident, \
                     so it stays one and its messages are really sent",
                    sanitize_str(&event.author, 60),
                    format_ts(&event.ts)
                ));
            }
            EventBody::DrillStarted { scenario, speed } if self.drill_clock.is_none() => {
                self.drill_clock = Some((event.ts, *speed));
                self.scenario = Some(scenario.clone());
            }
            EventBody::DrillEnded { .. } => self.drill_ended = self.drill,
            EventBody::StatusChanged { status } => self.resolved = *status == Status::Resolved,
            EventBody::CheckChanged { check, to, .. } => {
                self.recorded.insert(check.clone(), from_check_state(*to));
            }
            EventBody::VantageCheckChanged { check, vantage, to, .. } => {
                self.places.insert((check.clone(), vantage.clone()), from_check_state(*to));
            }
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opened(mode: Mode) -> Event {
        Event::new("a", EventBody::IncidentOpened { title: "t".into(), severity: 2, mode, checklist: None })
    }

    #[test]
    fn a_later_line_never_makes_a_real_incident_a_drill() {
        let mut facts = Facts::default();
        assert_eq!(facts.learn(&opened(Mode::Real)), None);
        let stray = Event::new("m\x1b[2J", EventBody::DrillStarted { scenario: "x".into(), speed: 1.0 });
        let warning = facts.learn(&stray).expect("a stray drill_started is reported");
        assert!(warning.contains("really sent") && !warning.contains('\x1b'), "{warning}");
        facts.learn(&opened(Mode::Drill));
        assert!(!facts.drill);
        let mut drill = Facts::default();
        drill.learn(&opened(Mode::Drill));
        assert_eq!(drill.learn(&Event::new("a", EventBody::DrillStarted { scenario: "x".into(), speed: 1.0 })), None);
        assert!(drill.drill);
    }
}
