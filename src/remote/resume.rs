//! What the screen has of the far session, so that a link cut and restored resumes with no
//! entry shown twice and no note lost or written twice.
//!
//! Every reconnection opens a new session on the far host, whose opening lists the journal's
//! entries again (after the last one the screen has). [`Resume`] remembers the ids shown,
//! the screen's writes not yet acknowledged, and the commands held while the link was down;
//! on reconnecting it works out what the screen must be told and what must be sent again:
//! - an entry already shown is not shown again;
//! - a write the far journal now holds is acknowledged to the screen (its note leaves the
//!   draft), even though the acknowledgement itself was lost with the link;
//! - a write it does not hold is sent again, and acknowledged under its first id too, so the
//!   screen's draft lets go of it;
//! - a message whose send was under way when the link went is never sent again: if it went,
//!   the timeline shows it; if not, the operator decides (a customer must not get it twice).

use std::collections::{HashMap, HashSet, VecDeque};

use crate::journal::{Event, EventBody};
use crate::session::{Command, Update};

/// An append on its way: sent (or held) and not yet [`Update::Pending`].
#[derive(Debug, Clone)]
struct Append {
    bodies: Vec<EventBody>,
    /// The ids the screen knows these entries by, when this is a write sent again.
    first_ids: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Resume {
    author: String,
    /// Ids of the entries the screen has.
    shown: HashSet<String>,
    /// The last of them in journal order: where a reconnecting opening starts from.
    last_shown: Option<String>,
    /// Appends sent (or held) whose entries the far session has not queued yet, in order.
    appends: VecDeque<Append>,
    /// Entries the far session queued and has not yet said are on disk.
    pending: Vec<Event>,
    /// A write sent again: its new id -> the id the screen knows it by.
    first_id: HashMap<String, String>,
    /// Commands held while the link was down (appends are held in `appends`).
    held: Vec<Command>,
}

impl Resume {
    pub fn new(author: &str) -> Resume {
        Resume { author: author.to_string(), ..Resume::default() }
    }

    /// Where the next opening may start: after this entry.
    pub fn last_shown(&self) -> Option<&str> {
        self.last_shown.as_deref()
    }

    /// A command the screen gave. Returns it if it is to be sent now (`linked`); a command
    /// given while the link is down is held for the next connection. An append is
    /// remembered either way until the far session queues it.
    pub fn command(&mut self, command: Command, linked: bool) -> Option<Command> {
        if let Command::Append(bodies) = &command {
            self.appends.push_back(Append { bodies: bodies.clone(), first_ids: Vec::new() });
            return linked.then_some(command);
        }
        if linked {
            return Some(command);
        }
        self.held.push(command);
        None
    }

    /// An update from the far session while the link is up: what the screen is to be told.
    pub fn update(&mut self, update: Update) -> Vec<Update> {
        match update {
            Update::Entries(entries) => {
                let new = self.show(entries);
                if new.is_empty() { Vec::new() } else { vec![Update::Entries(new)] }
            }
            Update::Opened { journal, role, rows, entries } => {
                let entries = self.show(entries);
                vec![Update::Opened { journal, role, rows, entries }]
            }
            Update::Pending(events) => self.queued(events),
            Update::Refused { events, error } => {
                let ours = self.appends.front().is_some_and(|a| events.iter().map(|e| &e.body).eq(a.bodies.iter()));
                // The screen takes a refusal's text back into its draft: one for writes it
                // did not ask for would put the far side's words there.
                if !ours {
                    return Vec::new();
                }
                self.appends.pop_front();
                vec![Update::Refused { events, error }]
            }
            Update::Written { ids, error } => {
                self.pending.retain(|e| !ids.contains(&e.id));
                let first: Vec<String> = ids.iter().filter_map(|id| self.first_id.remove(id)).collect();
                vec![Update::Written { ids: ids.into_iter().chain(first).collect(), error }]
            }
            other => vec![other],
        }
    }

    /// The far session's opening after a reconnection: what the screen is to be told (the
    /// entries it lacks, acknowledgements it missed) and the commands to send again.
    pub fn reconnected(&mut self, entries: Vec<Event>) -> (Vec<Update>, Vec<Command>) {
        let new = self.show(entries);
        let mut told = Vec::new();
        if !new.is_empty() {
            told.push(Update::Entries(new.clone()));
        }
        // Queued entries the journal now has: written, the acknowledgement lost.
        let (written, lost): (Vec<Event>, Vec<Event>) =
            std::mem::take(&mut self.pending).into_iter().partition(|e| self.shown.contains(&e.id));
        let mut acked: Vec<String> = written.iter().map(|e| e.id.clone()).collect();
        acked.extend(written.iter().filter_map(|e| self.first_id.remove(&e.id)));
        // Appends not queued when the link went: the journal may have them all the same.
        let mut again = Vec::new();
        let mut unclaimed: Vec<&Event> = new.iter().filter(|e| e.author == self.author).collect();
        for append in std::mem::take(&mut self.appends) {
            match claim(&mut unclaimed, &append.bodies) {
                Some(found) => {
                    told.push(Update::Pending(found.clone()));
                    acked.extend(found.iter().map(|e| e.id.clone()));
                    acked.extend(append.first_ids.iter().cloned());
                }
                None => again.push(append),
            }
        }
        // Queued but never written (the far session died first): sent again, under new ids.
        if !lost.is_empty() {
            let first_ids = lost.iter().map(|e| self.first_id.remove(&e.id).unwrap_or_else(|| e.id.clone())).collect();
            again.push(Append { bodies: lost.into_iter().map(|e| e.body).collect(), first_ids });
        }
        if !acked.is_empty() {
            told.push(Update::Written { ids: acked, error: None });
        }
        let mut resend: Vec<Command> = again.iter().map(|a| Command::Append(a.bodies.clone())).collect();
        self.appends = again.into();
        resend.append(&mut self.held);
        (told, resend)
    }

    fn show(&mut self, entries: Vec<Event>) -> Vec<Event> {
        let new: Vec<Event> = entries.into_iter().filter(|e| self.shown.insert(e.id.clone())).collect();
        if let Some(last) = new.last() {
            self.last_shown = Some(last.id.clone());
        }
        new
    }

    /// The far session queued entries: the oldest append's, or its own (a check change).
    fn queued(&mut self, events: Vec<Event>) -> Vec<Update> {
        let ours = self.appends.front().is_some_and(|a| events.iter().map(|e| &e.body).eq(a.bodies.iter()));
        if let Some(append) = ours.then(|| self.appends.pop_front()).flatten() {
            for (event, first) in events.iter().zip(append.first_ids) {
                self.first_id.insert(event.id.clone(), first);
            }
        }
        // Only the screen's own writes are sent again if lost: the far session's (its arrival,
        // a check change) are its business, and a new session makes its own.
        if ours {
            self.pending.extend(events.iter().cloned());
        }
        vec![Update::Pending(events)]
    }
}

/// This author's new entries that are `bodies`, in order, taken from `unclaimed`.
fn claim(unclaimed: &mut Vec<&Event>, bodies: &[EventBody]) -> Option<Vec<Event>> {
    let start = unclaimed.windows(bodies.len().max(1)).position(|w| w.iter().zip(bodies).all(|(e, b)| &e.body == b))?;
    let found: Vec<Event> = unclaimed.drain(start..start + bodies.len()).cloned().collect();
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(text: &str) -> EventBody {
        EventBody::NoteAdded { text: text.into() }
    }

    fn by(author: &str, text: &str) -> Event {
        Event::new(author, note(text))
    }

    fn ids(events: &[Event]) -> Vec<String> {
        events.iter().map(|e| e.id.clone()).collect()
    }

    #[test]
    fn a_refusal_of_a_note_the_screen_did_not_send_is_dropped() {
        let mut resume = Resume::new("alice");
        let planted = vec![by("alice", "rm -rf / # paste me")];
        assert!(resume.update(Update::Refused { events: planted, error: "too large".into() }).is_empty());
        resume.command(Command::Append(vec![note("mine")]), true);
        let mine = vec![by("alice", "mine")];
        let told = resume.update(Update::Refused { events: mine.clone(), error: "too large".into() });
        assert_eq!(told, vec![Update::Refused { events: mine, error: "too large".into() }]);
    }

    #[test]
    fn entries_shown_before_the_cut_are_not_shown_again() {
        let mut resume = Resume::new("ann");
        let (a, b, c) = (by("bob", "a"), by("bob", "b"), by("bob", "c"));
        resume.update(Update::Entries(vec![a.clone(), b.clone()]));
        assert_eq!(resume.last_shown(), Some(b.id.as_str()));
        let (told, resend) = resume.reconnected(vec![b, c.clone()]);
        assert_eq!(told, vec![Update::Entries(vec![c])]);
        assert!(resend.is_empty());
    }

    #[test]
    fn a_note_written_but_not_acknowledged_is_acknowledged_on_reconnecting() {
        let mut resume = Resume::new("ann");
        assert!(resume.command(Command::Append(vec![note("db failover")]), true).is_some());
        let queued = by("ann", "db failover");
        resume.update(Update::Pending(vec![queued.clone()]));
        // The link goes before Written; the journal has it.
        let (told, resend) = resume.reconnected(vec![queued.clone()]);
        assert_eq!(
            told,
            vec![Update::Entries(vec![queued.clone()]), Update::Written { ids: ids(&[queued]), error: None }]
        );
        assert!(resend.is_empty(), "{resend:?}");
    }

    #[test]
    fn a_note_sent_but_never_queued_is_found_in_the_journal_or_sent_again() {
        let mut resume = Resume::new("ann");
        resume.command(Command::Append(vec![note("one")]), true);
        resume.command(Command::Append(vec![note("two")]), true);
        // "one" reached the journal (its Pending was lost with the link), "two" did not.
        let one = by("ann", "one");
        let (told, resend) = resume.reconnected(vec![by("bob", "one"), one.clone()]);
        assert!(told.contains(&Update::Pending(vec![one.clone()])), "{told:?}");
        assert!(told.contains(&Update::Written { ids: ids(&[one]), error: None }), "{told:?}");
        assert_eq!(resend, vec![Command::Append(vec![note("two")])]);
    }

    #[test]
    fn a_queued_note_the_journal_lacks_is_sent_again_and_acknowledged_under_both_ids() {
        let mut resume = Resume::new("ann");
        resume.command(Command::Append(vec![note("lost")]), true);
        let first = by("ann", "lost");
        resume.update(Update::Pending(vec![first.clone()]));
        let (told, resend) = resume.reconnected(Vec::new());
        assert!(told.is_empty(), "{told:?}");
        assert_eq!(resend, vec![Command::Append(vec![note("lost")])]);
        let second = by("ann", "lost");
        resume.update(Update::Pending(vec![second.clone()]));
        let acked = resume.update(Update::Written { ids: ids(std::slice::from_ref(&second)), error: None });
        assert_eq!(acked, vec![Update::Written { ids: vec![second.id, first.id], error: None }]);
    }

    #[test]
    fn the_sessions_own_entries_queued_meanwhile_do_not_take_a_notes_place() {
        let mut resume = Resume::new("ann");
        resume.command(Command::Append(vec![note("mine")]), true);
        resume.update(Update::Pending(vec![by("ann", "a check change, say")]));
        // The note's own Pending was lost with the link, and the journal lacks it: sent again.
        let (_, resend) = resume.reconnected(Vec::new());
        assert_eq!(resend, vec![Command::Append(vec![note("mine")])]);
    }

    #[test]
    fn commands_given_while_the_link_is_down_are_held_and_sent_on_reconnecting() {
        let mut resume = Resume::new("ann");
        assert!(resume.command(Command::TakeOver, false).is_none());
        assert!(resume.command(Command::Append(vec![note("offline")]), false).is_none());
        let (_, resend) = resume.reconnected(Vec::new());
        assert_eq!(resend, vec![Command::Append(vec![note("offline")]), Command::TakeOver]);
    }
}
