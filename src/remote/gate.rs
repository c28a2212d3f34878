//! What the far side of a remote screen lets through: the commands a screen sends, checked
//! as the screen and the command line check them, since anything may speak on the link.
//!
//! Entries: only the kinds a screen writes (a note, a tick, a role, a milestone, a pin, a
//! correction…), never what the session itself records (check changes, messages sent,
//! openings, joins, drills). Sends: a checklist item of the far war room, on that item's own
//! channel and audience, its prompts filled in (or the operator confirmed them as they
//! stand), a promised next update within a day, a few at a time. Run-now: once in a while
//! per row, so a flood of them cannot start a flood of probes.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use crate::checklist::Checklist;
use crate::journal::{Audience, EventBody};
use crate::monitor::RowId;
use crate::sanitize::sanitize_str;
use crate::session::Command;

/// Sends under way at once: a channel's delivery takes a process or a request each.
pub const MAX_SENDS: usize = 4;
/// A send not seen finishing within this is taken as finished (its outcome was lost).
const SEND_FORGOTTEN: Duration = Duration::from_secs(120);
/// How often one row may be run now.
pub const RUN_NOW_EVERY: Duration = Duration::from_secs(5);
/// How far ahead a promised next update may be.
const NEXT_UPDATE_WITHIN: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// The checks, with what they remember: sends under way, each row's last run-now.
pub struct Gate {
    checklist: Option<Checklist>,
    sends: Vec<Instant>,
    run_now: HashMap<RowId, Instant>,
}

impl Gate {
    pub fn new(checklist: Option<Checklist>) -> Gate {
        Gate { checklist, sends: Vec::new(), run_now: HashMap::new() }
    }

    /// The command if it may go to the session; else why not, for the screen to read.
    pub fn check(&mut self, command: Command, now: Instant) -> Result<Command, String> {
        match &command {
            Command::Append(bodies) => bodies.iter().try_for_each(screen_writes)?,
            Command::Send { item, channel, audience, text, next_update, confirmed } => {
                self.may_send(item, channel, *audience, text, *next_update, *confirmed, now)?;
                self.sends.push(now);
            }
            Command::RunNow(row) => {
                if let Some(last) = self.run_now.get(row)
                    && now.duration_since(*last) < RUN_NOW_EVERY
                {
                    return Err(format!(
                        "{} was run a moment ago: once every {} s",
                        sanitize_str(&row.name(), 60),
                        RUN_NOW_EVERY.as_secs()
                    ));
                }
                self.run_now.insert(row.clone(), now);
            }
            _ => {}
        }
        Ok(command)
    }

    /// A send finished (its outcome was journaled, or said not to be).
    pub fn send_finished(&mut self) {
        if !self.sends.is_empty() {
            self.sends.remove(0);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn may_send(
        &mut self,
        item_id: &str,
        channel: &str,
        audience: Audience,
        text: &str,
        next_update: Option<DateTime<Utc>>,
        confirmed: bool,
        now: Instant,
    ) -> Result<(), String> {
        let shown = sanitize_str(item_id, 60);
        let checklist = self.checklist.as_ref().ok_or("this war room has no checklist: nothing to send")?;
        let item = checklist
            .items
            .iter()
            .find(|i| i.id == item_id)
            .ok_or_else(|| format!("checklist {} has no item \"{shown}\": not sent", checklist.name))?;
        if item.channel.as_deref() != Some(channel) || item.audience != audience {
            return Err(format!(
                "item {shown} goes on {} to {}, not on {} to {}: not sent",
                sanitize_str(item.channel.as_deref().unwrap_or("no channel"), 60),
                audience_name(item.audience),
                sanitize_str(channel, 60),
                audience_name(audience)
            ));
        }
        if text.trim().is_empty() {
            return Err(format!("the message for {shown} is empty: not sent"));
        }
        let unfilled = crate::checklist::unfilled(item.template.as_deref().unwrap_or(""), text);
        if !unfilled.is_empty() && !confirmed {
            return Err(format!(
                "the message for {shown} still holds {}: fill it in, or confirm it as it stands",
                sanitize_str(&unfilled.join(" "), 200)
            ));
        }
        if let Some(at) = next_update {
            let wall = Utc::now();
            if at > wall + NEXT_UPDATE_WITHIN || at < wall - NEXT_UPDATE_WITHIN {
                return Err(format!(
                    "the next update promised for {shown} ({}) is not within a day of now: not sent",
                    at.format("%Y-%m-%d %H:%M UTC")
                ));
            }
        }
        self.sends.retain(|started| now.duration_since(*started) < SEND_FORGOTTEN);
        if self.sends.len() >= MAX_SENDS {
            return Err(format!("{MAX_SENDS} messages are being sent already: {shown} not sent, try again shortly"));
        }
        Ok(())
    }
}

fn audience_name(audience: Audience) -> &'static str {
    match audience {
        Audience::Internal => "internal",
        Audience::Public => "public",
    }
}

/// The entries a screen writes; the others are the session's own to record.
fn screen_writes(body: &EventBody) -> Result<(), String> {
    match body {
        EventBody::NoteAdded { .. }
        | EventBody::ChecklistItemDone { .. }
        | EventBody::ChecklistItemUndone { .. }
        | EventBody::RoleAssigned { .. }
        | EventBody::MilestoneReached { .. }
        | EventBody::EventPinned { .. }
        | EventBody::EventUnpinned { .. }
        | EventBody::Correction { .. }
        | EventBody::EntryStruck { .. }
        | EventBody::FollowUpAdded { .. }
        | EventBody::FollowUpClosed { .. }
        | EventBody::StatusChanged { .. }
        | EventBody::SeverityChanged { .. }
        | EventBody::MessagePrepared { .. } => Ok(()),
        other => Err(format!("a remote screen does not write {} entries: nothing written", other.kind())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checklist() -> Checklist {
        let text = r#"
name = "t"
[[item]]
id = "status-page"
title = "Post on the status page"
due = "15m"
channel = "status-page"
audience = "public"
template = "We are investigating. [Say what is affected.]"
[[item]]
id = "internal"
title = "Tell the team"
due = "5m"
channel = "chat"
audience = "internal"
template = "Looking into it."
"#;
        crate::checklist::parse(text, std::path::Path::new("t.toml")).unwrap()
    }

    fn send(item: &str, channel: &str, audience: Audience, text: &str) -> Command {
        Command::Send {
            item: item.into(),
            channel: channel.into(),
            audience,
            text: text.into(),
            next_update: None,
            confirmed: false,
        }
    }

    #[test]
    fn only_the_entries_a_screen_writes_are_let_through() {
        let mut gate = Gate::new(None);
        let now = Instant::now();
        assert!(gate.check(Command::Append(vec![EventBody::NoteAdded { text: "hi".into() }]), now).is_ok());
        let forged = EventBody::MessageSent {
            channel: "status-page".into(),
            audience: Audience::Public,
            text: "FAKE".into(),
            error: None,
            item: None,
            simulated: false,
            next_update: None,
        };
        let joined = EventBody::OperatorJoined {};
        for body in [forged, joined] {
            let kind = body.kind();
            let refused = gate.check(Command::Append(vec![EventBody::NoteAdded { text: "ok".into() }, body]), now);
            assert!(refused.unwrap_err().contains(&format!("does not write {kind} entries")));
        }
    }

    #[test]
    fn a_send_must_be_the_items_own_filled_in_and_a_few_at_a_time() {
        let mut gate = Gate::new(Some(checklist()));
        let now = Instant::now();
        let err = |gate: &mut Gate, c| gate.check(c, now).unwrap_err();
        assert!(err(&mut gate, send("nope", "chat", Audience::Internal, "x")).contains("no item \"nope\""));
        let wrong = send("internal", "status-page", Audience::Public, "Looking into it.");
        assert!(err(&mut gate, wrong).contains("goes on chat to internal"));
        let prompt =
            send("status-page", "status-page", Audience::Public, "We are investigating. [Say what is affected.]");
        assert!(err(&mut gate, prompt.clone()).contains("still holds [Say what is affected.]"));
        let Command::Send { item, channel, audience, text, .. } = prompt else { unreachable!() };
        let confirmed = Command::Send { item, channel, audience, text, next_update: None, confirmed: true };
        assert!(gate.check(confirmed, now).is_ok());
        let far = Command::Send {
            item: "internal".into(),
            channel: "chat".into(),
            audience: Audience::Internal,
            text: "Looking into it.".into(),
            next_update: Some(Utc::now() + chrono::TimeDelta::days(365 * 900)),
            confirmed: false,
        };
        assert!(err(&mut gate, far).contains("not within a day"));
        for _ in 1..MAX_SENDS {
            assert!(gate.check(send("internal", "chat", Audience::Internal, "x"), now).is_ok());
        }
        assert!(err(&mut gate, send("internal", "chat", Audience::Internal, "x")).contains("being sent already"));
        gate.send_finished();
        assert!(gate.check(send("internal", "chat", Audience::Internal, "x"), now).is_ok());
        // A send whose outcome never came is forgotten after a while.
        assert!(gate.check(send("internal", "chat", Audience::Internal, "x"), now + SEND_FORGOTTEN).is_ok());
    }

    #[test]
    fn a_row_is_run_now_once_in_a_while() {
        let mut gate = Gate::new(None);
        let now = Instant::now();
        let web = RowId::check("web");
        assert!(gate.check(Command::RunNow(web.clone()), now).is_ok());
        assert!(gate.check(Command::RunNow(web.clone()), now).unwrap_err().contains("once every 5 s"));
        assert!(gate.check(Command::RunNow(RowId::check("mail")), now).is_ok());
        assert!(gate.check(Command::RunNow(web), now + RUN_NOW_EVERY).is_ok());
    }
}
