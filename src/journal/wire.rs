//! Fast decoding of a journal line: one flat struct with every field any kind uses, borrowed
//! from the line where no unescaping is needed, then checked per kind. Unknown fields are
//! ignored, so a newer warroom's extra fields do not break an older reader of the same `v`.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::event::{Audience, CheckState, Event, EventBody, Milestone, Mode, Status, parse_ts};

#[derive(Deserialize)]
pub(super) struct WireEvent<'a> {
    v: u32,
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    ts: Cow<'a, str>,
    #[serde(borrow)]
    author: Cow<'a, str>,
    #[serde(default, borrow)]
    account: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    owner: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    reason: Option<Cow<'a, str>>,
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    title: Option<Cow<'a, str>>,
    severity: Option<u8>,
    mode: Option<Mode>,
    status: Option<Status>,
    milestone: Option<Milestone>,
    #[serde(default, borrow)]
    at: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    check: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    role: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    person: Option<Cow<'a, str>>,
    from: Option<CheckState>,
    to: Option<CheckState>,
    #[serde(default, borrow)]
    detail: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    event: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    item: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    channel: Option<Cow<'a, str>>,
    audience: Option<Audience>,
    #[serde(default, borrow)]
    error: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    scenario: Option<Cow<'a, str>>,
    speed: Option<f64>,
    #[serde(default)]
    simulated: bool,
    #[serde(default, borrow)]
    via: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    next_update: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    checklist: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    vantage: Option<Cow<'a, str>>,
}

fn need<T>(value: Option<T>, kind: &str, field: &str) -> Result<T, String> {
    value.ok_or_else(|| format!("{kind} event lacks `{field}`"))
}

/// The account of a line, shared with the lines before it that named the same one: a journal
/// has a handful of accounts, and a million events need not hold a million copies. The few
/// most recent are remembered per decoding thread, so a hostile journal naming a new account
/// on every line costs a short scan, never unbounded memory.
fn interned(account: Option<Cow<'_, str>>) -> Option<Arc<str>> {
    const REMEMBERED: usize = 16;
    thread_local! {
        static SEEN: RefCell<Vec<Arc<str>>> = const { RefCell::new(Vec::new()) };
    }
    let account = account?;
    SEEN.with(|seen| {
        let mut seen = seen.borrow_mut();
        if let Some(known) = seen.iter().find(|a| ***a == *account) {
            return Some(known.clone());
        }
        let fresh: Arc<str> = Arc::from(&*account);
        if seen.len() == REMEMBERED {
            seen.remove(0);
        }
        seen.push(fresh.clone());
        Some(fresh)
    })
}

fn owned(c: Option<Cow<'_, str>>) -> Option<String> {
    c.map(Cow::into_owned)
}

impl WireEvent<'_> {
    pub(super) fn into_event(self) -> Result<Event, String> {
        let ts: DateTime<Utc> = parse_ts(&self.ts)?;
        let k = &*self.kind;
        let s = |c: Option<Cow<'_, str>>, field: &str| need(owned(c), k, field);
        let body = match k {
            "incident_opened" => EventBody::IncidentOpened {
                title: s(self.title, "title")?,
                severity: need(self.severity, k, "severity")?,
                mode: self.mode.unwrap_or_default(),
                checklist: owned(self.checklist),
            },
            "status_changed" => EventBody::StatusChanged { status: need(self.status, k, "status")? },
            "milestone_reached" => EventBody::MilestoneReached {
                milestone: need(self.milestone, k, "milestone")?,
                at: self.at.as_deref().map(parse_ts).transpose()?,
                check: owned(self.check),
            },
            "severity_changed" => EventBody::SeverityChanged { severity: need(self.severity, k, "severity")? },
            "role_assigned" => {
                EventBody::RoleAssigned { role: s(self.role, "role")?, person: s(self.person, "person")? }
            }
            "check_changed" => EventBody::CheckChanged {
                check: s(self.check, "check")?,
                from: need(self.from, k, "from")?,
                to: need(self.to, k, "to")?,
                detail: owned(self.detail).unwrap_or_default(),
            },
            "note_added" => EventBody::NoteAdded { text: s(self.text, "text")? },
            "event_pinned" => EventBody::EventPinned { event: s(self.event, "event")? },
            "checklist_item_done" => EventBody::ChecklistItemDone { item: s(self.item, "item")? },
            "checklist_item_undone" => EventBody::ChecklistItemUndone { item: s(self.item, "item")? },
            "message_sent" => EventBody::MessageSent {
                channel: s(self.channel, "channel")?,
                audience: need(self.audience, k, "audience")?,
                text: s(self.text, "text")?,
                error: owned(self.error),
                item: owned(self.item),
                simulated: self.simulated,
                next_update: self.next_update.as_deref().map(parse_ts).transpose()?,
            },
            "message_prepared" => EventBody::MessagePrepared {
                item: s(self.item, "item")?,
                text: s(self.text, "text")?,
                via: s(self.via, "via")?,
            },
            "operator_joined" => EventBody::OperatorJoined {},
            "operator_left" => EventBody::OperatorLeft {},
            "drill_started" => {
                EventBody::DrillStarted { scenario: s(self.scenario, "scenario")?, speed: self.speed.unwrap_or(1.0) }
            }
            "drill_ended" => EventBody::DrillEnded { scenario: s(self.scenario, "scenario")? },
            "correction" => EventBody::Correction { event: s(self.event, "event")?, text: s(self.text, "text")? },
            "event_unpinned" => EventBody::EventUnpinned { event: s(self.event, "event")? },
            "entry_struck" => EventBody::EntryStruck { event: s(self.event, "event")?, reason: owned(self.reason) },
            "follow_up_added" => EventBody::FollowUpAdded { text: s(self.text, "text")?, owner: owned(self.owner) },
            "follow_up_closed" => EventBody::FollowUpClosed { event: s(self.event, "event")? },
            "vantage_check_changed" => EventBody::VantageCheckChanged {
                check: s(self.check, "check")?,
                vantage: s(self.vantage, "vantage")?,
                from: need(self.from, k, "from")?,
                to: need(self.to, k, "to")?,
                detail: owned(self.detail).unwrap_or_default(),
            },
            "vantage_unreachable" => EventBody::VantageUnreachable {
                vantage: s(self.vantage, "vantage")?,
                detail: owned(self.detail).unwrap_or_default(),
            },
            "vantage_reachable" => EventBody::VantageReachable {
                vantage: s(self.vantage, "vantage")?,
                detail: owned(self.detail).unwrap_or_default(),
            },
            other => return Err(format!("unknown event kind \"{other}\"")),
        };
        Ok(Event {
            v: self.v,
            id: self.id.into_owned(),
            ts,
            author: self.author.into_owned(),
            account: interned(self.account),
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::Event;

    fn line(id: &str, account: &str) -> Event {
        serde_json::from_str(&format!(
            r#"{{"v":1,"id":"{id}","ts":"2026-11-21T00:00:00.000Z","author":"x","account":"{account}","kind":"note_added","text":"t"}}"#
        ))
        .unwrap()
    }

    #[test]
    fn lines_naming_one_account_share_one_copy() {
        let (a, b, other) = (line("a", "root@h"), line("b", "root@h"), line("c", "alice@h"));
        assert_eq!((a.account.as_deref(), other.account.as_deref()), (Some("root@h"), Some("alice@h")));
        assert!(Arc::ptr_eq(a.account.as_ref().unwrap(), b.account.as_ref().unwrap()));
        // Many accounts: each still decodes to its own, and the cache stays bounded.
        for i in 0..100 {
            let name = format!("user{i}@h");
            assert_eq!(line("d", &name).account.as_deref(), Some(name.as_str()));
        }
    }

    #[test]
    fn a_public_promise_goes_to_disk_and_back() {
        use chrono::TimeZone;

        use crate::journal::{Audience, EventBody};
        let promised = chrono::Utc.with_ymd_and_hms(2026, 11, 21, 14, 11, 0).unwrap();
        let body = EventBody::MessageSent {
            channel: "status-page".into(),
            audience: Audience::Public,
            text: "Next update by 14:11 UTC.".into(),
            error: None,
            item: Some("public-update".into()),
            simulated: false,
            next_update: Some(promised),
        };
        let event = Event::new("carol@h", body);
        let wire = serde_json::to_string(&event).unwrap();
        assert!(wire.contains(r#""next_update":"2026-11-21T14:11:00Z""#), "{wire}");
        assert_eq!(serde_json::from_str::<Event>(&wire).unwrap(), event);
        // A message that promised nothing says nothing about it.
        let plain = wire.replace(r#","next_update":"2026-11-21T14:11:00Z""#, "");
        let EventBody::MessageSent { next_update, .. } = serde_json::from_str::<Event>(&plain).unwrap().body else {
            panic!("not a message")
        };
        assert_eq!(next_update, None);
    }
}
