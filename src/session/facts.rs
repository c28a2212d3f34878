//! The little a session must know of the incident to act on its own: what each check was
//! last recorded as (a new poller starts from there), whether the incident is a drill (its
//! sends are simulated), its title (for messages) and whether it is resolved (a drill ends).
//! The full fold is the front-end's board; this one costs a few bytes per check.

use std::collections::HashMap;

use crate::journal::{EventBody, Mode, Status};
use crate::monitor::State;
use crate::recorder::from_check_state;

#[derive(Debug, Default)]
pub struct Facts {
    pub recorded: HashMap<String, State>,
    pub drill: bool,
    pub title: String,
    pub resolved: bool,
}

impl Facts {
    pub fn learn(&mut self, body: &EventBody) {
        match body {
            EventBody::IncidentOpened { title, mode, .. } => {
                self.title.clone_from(title);
                self.drill = *mode == Mode::Drill;
            }
            EventBody::DrillStarted { .. } => self.drill = true,
            EventBody::StatusChanged { status } => self.resolved = *status == Status::Resolved,
            EventBody::CheckChanged { check, to, .. } => {
                self.recorded.insert(check.clone(), from_check_state(*to));
            }
            _ => {}
        }
    }
}
