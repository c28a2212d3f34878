//! The commander's verbs as events: what each one writes, given the incident as it stands.
//! Pure (no journal, no terminal), shared by the command line ([`crate::cli`]) and the
//! screen ([`crate::tui`]), so both write the same entries and refuse the same things.
//!
//! A refusal is a sentence for the person who asked; `Ok(None)` means "already so: nothing
//! to write".

use crate::incident::Incident;
use crate::journal::{CheckState, EventBody, Milestone, Status};
use crate::sanitize::sanitize_str;

/// The roles every incident has; any other name is a named expert's role ("dns", "database").
pub const ROLES: [&str; 4] = ["commander", "deputy", "scribe", "comms"];

/// Milestones set by hand (detection is derived from the checks; resolving is a status).
pub const SETTABLE_MILESTONES: [Milestone; 3] = [Milestone::Detected, Milestone::Acknowledged, Milestone::Mitigated];

/// A name given by a person (a role, a person, an owner): one line of printable text, so
/// that it shows the same on every screen and in every report.
pub fn plain_name(what: &str, given: &str, max: usize) -> Result<String, String> {
    let name = given.trim();
    if name.is_empty() {
        return Err(format!("the {what} is empty"));
    }
    if name.chars().any(char::is_control) || name.chars().count() > max {
        return Err(format!(
            "the {what} \"{}\" must be one line of at most {max} printable characters",
            sanitize_str(name, 60)
        ));
    }
    Ok(name.to_string())
}

/// Assigning `role` to `person` (or handing it over). Names are checked; `None` if that
/// person already holds it.
pub fn assign_role(incident: &Incident, role: &str, person: &str) -> Result<Option<EventBody>, String> {
    let role = plain_name("role", &role.to_lowercase(), 40)?;
    let person = plain_name("person", person, 80)?;
    // The login name the screens show stands for the author the journal knows.
    let person = incident.person(&person).map_or(person, str::to_string);
    if incident.role(&role) == Some(person.as_str()) {
        return Ok(None);
    }
    Ok(Some(EventBody::RoleAssigned { role, person }))
}

/// Moving the incident to `status`: the change, and the resolved milestone with it when it
/// is not recorded yet. Empty if the incident already stands there.
pub fn change_status(incident: &Incident, status: Status) -> Vec<EventBody> {
    if incident.status == status {
        return Vec::new();
    }
    let mut bodies = vec![EventBody::StatusChanged { status }];
    if status == Status::Resolved && !incident.milestones.contains_key(&Milestone::Resolved) {
        bodies.push(EventBody::MilestoneReached { milestone: Milestone::Resolved, at: None, check: None });
    }
    bodies
}

/// Checks the journal records as down or degraded, with since when: what resolving would
/// hide, so resolving asks first and names them.
pub fn failing_for_resolve(incident: &Incident) -> Vec<String> {
    incident
        .failing_checks()
        .into_iter()
        .filter(|(_, c)| matches!(c.state, CheckState::Down | CheckState::Degraded))
        .map(|(name, c)| {
            format!("{} ({} since {})", sanitize_str(name, 60), c.state.as_str(), c.since.format("%H:%M:%S UTC"))
        })
        .collect()
}

/// Setting the severity; `None` if it is already that level.
pub fn change_severity(incident: &Incident, severity: u8) -> Result<Option<EventBody>, String> {
    if !(1..=5).contains(&severity) {
        return Err(format!("severity {severity} is not 1 to 5"));
    }
    Ok((incident.severity != Some(severity)).then_some(EventBody::SeverityChanged { severity }))
}

/// An incident-wide milestone set by hand, now. The first recording counts: a second one
/// is refused, naming when and by whom.
pub fn reach_milestone(incident: &Incident, milestone: Milestone) -> Result<EventBody, String> {
    if let Some((when, who)) = incident.milestones.get(&milestone) {
        return Err(format!(
            "{} was already recorded at {} by {}",
            milestone.as_str(),
            when.format("%Y-%m-%d %H:%M:%S UTC"),
            sanitize_str(who, 80)
        ));
    }
    Ok(EventBody::MilestoneReached { milestone, at: None, check: None })
}

/// Settable milestones not recorded yet, in order.
pub fn missing_milestones(incident: &Incident) -> Vec<Milestone> {
    SETTABLE_MILESTONES.into_iter().filter(|m| !incident.milestones.contains_key(m)).collect()
}

/// Pinning (`pin`) or unpinning the entry at timeline position `i`; `None` if it already is so.
pub fn set_pinned(incident: &Incident, i: usize, pin: bool) -> Option<EventBody> {
    let event = incident.timeline.get(i)?.id.clone();
    if incident.pinned_by(i).is_some() == pin {
        return None;
    }
    Some(if pin { EventBody::EventPinned { event } } else { EventBody::EventUnpinned { event } })
}

/// The note at position `i`, as one that may still be corrected or struck: its current text
/// (its latest correction's, if corrected).
pub fn amendable_note(incident: &Incident, i: usize) -> Result<&str, String> {
    let Some(target) = incident.timeline.get(i) else { return Err("no such entry".into()) };
    let EventBody::NoteAdded { text } = &target.body else {
        return Err(format!("{} is a {} entry: only notes are corrected or struck", target.id, target.kind()));
    };
    if incident.struck(i).is_some() {
        return Err(format!("{} is already struck", target.id));
    }
    Ok(incident.corrected_text(i).unwrap_or(text))
}

/// A correction of the note at position `i`: a new entry referring to it.
pub fn correct_note(incident: &Incident, i: usize, text: &str) -> Result<EventBody, String> {
    let current = amendable_note(incident, i)?;
    if text.trim().is_empty() {
        return Err("nothing to correct with: the corrected text is empty".into());
    }
    if text.trim() == current.trim() {
        return Err("the text is unchanged: nothing to correct".into());
    }
    Ok(EventBody::Correction { event: incident.timeline[i].id.clone(), text: text.to_string() })
}

/// Striking the note at position `i` (withdrawing it), with an optional reason.
pub fn strike_note(incident: &Incident, i: usize, reason: Option<&str>) -> Result<EventBody, String> {
    amendable_note(incident, i)?;
    Ok(EventBody::EntryStruck {
        event: incident.timeline[i].id.clone(),
        reason: reason.map(str::trim).filter(|r| !r.is_empty()).map(str::to_string),
    })
}

/// A follow-up (action item), with its owner if named.
pub fn add_follow_up(text: &str, owner: Option<&str>) -> Result<EventBody, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the follow-up's text is empty".into());
    }
    let owner = owner.map(|o| plain_name("owner", o, 80)).transpose()?;
    Ok(EventBody::FollowUpAdded { text: text.to_string(), owner })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::Event;

    fn incident(bodies: Vec<EventBody>) -> Incident {
        Incident::from_events(bodies.into_iter().map(|b| Event::new("alice", b)).collect())
    }

    #[test]
    fn resolving_adds_the_milestone_once_and_the_same_status_writes_nothing() {
        let i = incident(vec![]);
        assert_eq!(change_status(&i, Status::Resolved).len(), 2);
        let i = incident(vec![EventBody::MilestoneReached { milestone: Milestone::Resolved, at: None, check: None }]);
        assert_eq!(change_status(&i, Status::Resolved), vec![EventBody::StatusChanged { status: Status::Resolved }]);
        assert!(change_status(&i, Status::Investigating).is_empty(), "investigating is the default");
    }

    #[test]
    fn a_milestone_is_never_written_twice() {
        let i = incident(vec![EventBody::MilestoneReached { milestone: Milestone::Mitigated, at: None, check: None }]);
        let e = reach_milestone(&i, Milestone::Mitigated).unwrap_err();
        assert!(e.starts_with("mitigated was already recorded at"), "{e}");
        assert_eq!(missing_milestones(&i), vec![Milestone::Detected, Milestone::Acknowledged]);
    }

    #[test]
    fn only_live_notes_are_amended() {
        let i = incident(vec![
            EventBody::NoteAdded { text: "relay down".into() },
            EventBody::StatusChanged { status: Status::Identified },
        ]);
        assert!(correct_note(&i, 0, "relay up").is_ok());
        assert!(correct_note(&i, 0, " relay down ").unwrap_err().contains("unchanged"));
        assert!(strike_note(&i, 1, None).unwrap_err().contains("only notes"));
        let note = Event::new("alice", EventBody::NoteAdded { text: "relay down".into() });
        let strike = Event::new("bob", EventBody::EntryStruck { event: note.id.clone(), reason: None });
        let i = Incident::from_events(vec![note, strike]);
        assert!(strike_note(&i, 0, Some("wrong host")).unwrap_err().contains("already struck"));
    }

    #[test]
    fn names_are_one_printable_line() {
        assert!(plain_name("person", "bob\x1b[2J", 80).is_err());
        assert!(assign_role(&incident(vec![]), "Commander", "  ").is_err());
        let i = incident(vec![EventBody::RoleAssigned { role: "commander".into(), person: "bob".into() }]);
        assert_eq!(assign_role(&i, "Commander", "bob"), Ok(None));
        assert!(add_follow_up("fix it", Some("a\nb")).is_err());
    }
}
