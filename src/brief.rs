//! The brief: what someone joining or taking over needs, on one screen, as plain text that
//! can be copied as it is — status, severity, duration, roles, failing checks and since when,
//! the last messages and when the next is due, overdue and due-soon items, key events, open
//! follow-ups, and what changed since this person was last present.
//!
//! Pure: it reads a [`Board`] (the fold and the clock), so `warroom brief` and a key on the
//! screen can show the same text, and tests pin the clock.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use crate::board::{Board, human_duration};
use crate::checklist::ItemState;
use crate::incident::Incident;
use crate::journal::{Audience, Event, EventBody};
use crate::sanitize::{name_as_written, sanitize_str};

/// The standard roles, listed even when nobody holds them: an empty one is news.
const ROLES: [&str; 4] = ["commander", "deputy", "scribe", "comms"];

/// How many of the changes since someone was last present are listed one by one.
const CHANGES_SHOWN: usize = 15;

/// The brief for `person` (an author string), at the board's clock.
pub fn render(board: &Board, person: &str) -> String {
    let mut out = String::new();
    headline(&mut out, board);
    roles(&mut out, &board.incident);
    failing(&mut out, board);
    messages(&mut out, board);
    deadlines(&mut out, board);
    key_events(&mut out, board);
    follow_ups(&mut out, &board.incident);
    changes(&mut out, board, person);
    out
}

fn hhmm(board: &Board, t: DateTime<Utc>) -> String {
    format!("{} UTC ({} local)", t.format("%H:%M"), local(board, t))
}

fn local(board: &Board, t: DateTime<Utc>) -> String {
    t.with_timezone(&board.clock.offset).format("%H:%M").to_string()
}

fn ago(board: &Board, t: DateTime<Utc>) -> String {
    format!("{} ago", human_duration(board.clock.now - t))
}

fn headline(out: &mut String, board: &Board) {
    let i = &board.incident;
    let title = sanitize_str(i.title.as_deref().unwrap_or("(untitled incident)"), 120);
    let drill = if i.is_drill() { "DRILL — " } else { "" };
    let severity = i.severity.map_or("SEV?".into(), |s| format!("SEV{s}"));
    let _ = writeln!(out, "{drill}{title} — {severity} — {}", i.status.as_str());
    if let (Some(opened), Some(elapsed)) = (i.opened_at, i.elapsed(board.clock.now)) {
        let _ = writeln!(out, "Open since {}: {}", hhmm(board, opened), human_duration(elapsed));
    }
}

fn roles(out: &mut String, i: &Incident) {
    let mut held: Vec<String> = ROLES
        .iter()
        .map(|r| format!("{r} {}", i.role(r).map_or("(unassigned)".into(), |p| name_as_written(p, 60))))
        .collect();
    held.extend(
        i.roles
            .iter()
            .filter(|(r, _)| !ROLES.contains(&r.as_str()))
            .map(|(r, h)| format!("{} {}", name_as_written(r, 30), name_as_written(&h.person, 60))),
    );
    let _ = writeln!(out, "\nRoles: {}", held.join(", "));
}

fn failing(out: &mut String, board: &Board) {
    let failing = board.incident.failing_checks();
    let failing: Vec<_> = failing.iter().filter(|(_, c)| c.state.as_str() != "unknown").collect();
    if failing.is_empty() {
        let _ = writeln!(out, "\nFailing checks: none recorded");
        return;
    }
    let _ = writeln!(out, "\nFailing checks ({}):", failing.len());
    for (name, c) in failing {
        let _ = writeln!(
            out,
            "  {} {} since {} ({}) — {}",
            sanitize_str(name, 60),
            c.state.as_str(),
            hhmm(board, c.since),
            ago(board, c.since),
            sanitize_str(&c.detail, 160)
        );
    }
}

/// The newest successful message to an audience: when, and its text.
fn last_message(i: &Incident, audience: Audience) -> Option<(&Event, &str)> {
    i.timeline.iter().rev().find_map(|e| match &e.body {
        EventBody::MessageSent { audience: a, text, error: None, .. } if *a == audience => Some((e, text.as_str())),
        _ => None,
    })
}

fn messages(out: &mut String, board: &Board) {
    let _ = writeln!(out);
    for (audience, name) in [(Audience::Public, "public"), (Audience::Internal, "internal")] {
        match last_message(&board.incident, audience) {
            Some((e, text)) => {
                let _ = writeln!(
                    out,
                    "Last {name} message: {} ({}) by {}: {}",
                    hhmm(board, e.ts),
                    ago(board, e.ts),
                    sanitize_str(&e.author, 60),
                    sanitize_str(text, 200)
                );
            }
            None => {
                let _ = writeln!(out, "Last {name} message: none sent");
            }
        }
    }
    match board.next_update_due() {
        Some(due) if due < board.clock.now => {
            let _ = writeln!(
                out,
                "Next public update: OVERDUE by {} (was due {})",
                human_duration(board.clock.now - due),
                hhmm(board, due)
            );
        }
        Some(due) => {
            let _ = writeln!(
                out,
                "Next public update: due {} (in {})",
                hhmm(board, due),
                human_duration(due - board.clock.now)
            );
        }
        None => {}
    }
}

fn deadlines(out: &mut String, board: &Board) {
    let items = board.checklist_items();
    let pressing: Vec<_> =
        items.iter().filter(|(_, v)| matches!(v.state, ItemState::Overdue | ItemState::DueSoon)).collect();
    if pressing.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nChecklist, overdue and due soon:");
    for (item, view) in pressing {
        let (word, when) = if view.state == ItemState::Overdue {
            ("OVERDUE", format!("by {}", human_duration(board.clock.now - view.due_at)))
        } else {
            ("due soon", format!("in {}", human_duration(view.due_at - board.clock.now)))
        };
        let owner = item.role.as_deref().map(|r| format!(" [{}]", sanitize_str(r, 30))).unwrap_or_default();
        let _ = writeln!(out, "  {word} {when}: {}{owner}", sanitize_str(&item.title, 120));
    }
}

fn key_events(out: &mut String, board: &Board) {
    let i = &board.incident;
    let keys: Vec<_> = i.key_events().collect();
    if keys.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nKey events:");
    for (_, e) in keys {
        let _ = writeln!(out, "  {} {} — {}", local(board, e.ts), e.summary(), sanitize_str(&e.author, 60));
    }
}

fn follow_ups(out: &mut String, i: &Incident) {
    let open: Vec<_> = i.open_follow_ups().collect();
    if open.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nOpen follow-ups ({}):", open.len());
    for f in open {
        let owner = f.owner.as_deref().map(|o| format!(" [{}]", sanitize_str(o, 60))).unwrap_or_default();
        let _ = writeln!(out, "  {}{owner}", sanitize_str(&f.text, 200));
    }
}

/// When `person` last left this incident; `None` if they never were in it (or never left).
fn last_left(i: &Incident, person: &str) -> Option<DateTime<Utc>> {
    i.timeline.iter().rev().find(|e| e.author == person && matches!(e.body, EventBody::OperatorLeft {})).map(|e| e.ts)
}

/// When `person` joined again after leaving at `left`.
fn back_after(i: &Incident, person: &str, left: DateTime<Utc>) -> Option<DateTime<Utc>> {
    i.timeline
        .iter()
        .find(|e| e.ts > left && e.author == person && matches!(e.body, EventBody::OperatorJoined {}))
        .map(|e| e.ts)
}

/// Worth telling someone coming back: not comings and goings, nor their own entries.
fn newsworthy(e: &Event, person: &str) -> bool {
    e.author != person
        && !matches!(
            e.body,
            EventBody::OperatorJoined {} | EventBody::OperatorLeft {} | EventBody::MessagePrepared { .. }
        )
}

fn changes(out: &mut String, board: &Board, person: &str) {
    let i = &board.incident;
    let who = sanitize_str(person, 60);
    let Some(left) = last_left(i, person) else {
        if !i.timeline.iter().any(|e| e.author == person) {
            let _ = writeln!(out, "\n{who} has not been in this incident before: all of the above is new.");
        }
        return;
    };
    // Back since (on a screen now, or brief from a shell after): what they missed is what came
    // while they were away; after that they saw it come.
    let back = back_after(i, person, left);
    let missed = |e: &&Event| e.ts > left && back.is_none_or(|b| e.ts < b) && newsworthy(e, person);
    let since: Vec<&Event> = i.timeline.iter().filter(missed).collect();
    let _ = match back {
        Some(back) => writeln!(
            out,
            "\nWhile {who} was away, from {} to {}: {} entries by others",
            hhmm(board, left),
            local(board, back),
            since.len()
        ),
        None => writeln!(
            out,
            "\nSince {who} left at {} ({}): {} entries by others",
            hhmm(board, left),
            ago(board, left),
            since.len()
        ),
    };
    let skipped = since.len().saturating_sub(CHANGES_SHOWN);
    if skipped > 0 {
        let _ = writeln!(out, "  … {skipped} earlier ones");
    }
    for e in since.iter().skip(skipped) {
        let _ = writeln!(out, "  {} {} — {}", local(board, e.ts), e.summary(), sanitize_str(&e.author, 60));
    }
}

#[cfg(test)]
mod tests {
    use chrono::{FixedOffset, TimeZone};

    use super::*;
    use crate::board::Clock;
    use crate::journal::{CheckState, Mode, Status};

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 2, 50, 0).unwrap() + chrono::Duration::seconds(secs)
    }

    fn ev(secs: i64, who: &str, body: EventBody) -> Event {
        Event::at(t(secs), who, body)
    }

    fn board(events: Vec<Event>, now: i64) -> Board {
        let checklist = crate::checklist::load("default").unwrap();
        let clock = Clock { now: t(now), offset: FixedOffset::east_opt(3600).unwrap() };
        Board::new(Incident::from_events(events), Vec::new(), Some(checklist), clock)
    }

    fn incident() -> Vec<Event> {
        let note = ev(400, "alice@h", EventBody::NoteAdded { text: "relay restarted".into() });
        let pin = EventBody::EventPinned { event: note.id.clone() };
        vec![
            ev(
                0,
                "alice@h",
                EventBody::IncidentOpened { title: "Mail down".into(), severity: 2, mode: Mode::Real, checklist: None },
            ),
            ev(10, "bob@h", EventBody::OperatorJoined {}),
            ev(
                30,
                "poller@h",
                EventBody::CheckChanged {
                    check: "smtp".into(),
                    from: CheckState::Up,
                    to: CheckState::Down,
                    detail: "RCPT 451".into(),
                },
            ),
            ev(60, "alice@h", EventBody::RoleAssigned { role: "commander".into(), person: "alice@h".into() }),
            ev(
                120,
                "carol@h",
                EventBody::MessageSent {
                    channel: "status-page".into(),
                    audience: Audience::Public,
                    text: "We are investigating.".into(),
                    error: None,
                    item: Some("status-page".into()),
                    simulated: false,
                    next_update: None,
                },
            ),
            ev(300, "bob@h", EventBody::OperatorLeft {}),
            note,
            ev(410, "alice@h", pin),
            ev(500, "alice@h", EventBody::StatusChanged { status: Status::Identified }),
            ev(
                510,
                "alice@h",
                EventBody::FollowUpAdded { text: "alert on queue depth".into(), owner: Some("bob@h".into()) },
            ),
        ]
    }

    #[test]
    fn a_brief_has_everything_a_newcomer_needs() {
        let b = render(&board(incident(), 2460), "dave@h");
        for expected in [
            "Mail down — SEV2 — identified\n",
            "Open since 02:50 UTC (03:50 local): 41m\n",
            "Roles: commander alice@h, deputy (unassigned), scribe (unassigned), comms (unassigned)\n",
            "Failing checks (1):\n  smtp down since 02:50 UTC (03:50 local) (40m ago) — RCPT 451\n",
            "Last public message: 02:52 UTC (03:52 local) (39m ago) by carol@h: We are investigating.\n",
            "Last internal message: none sent\n",
            "Next public update: OVERDUE by ",
            "Checklist, overdue and due soon:\n  OVERDUE by ",
            "Key events:\n  03:56 relay restarted — alice@h\n",
            "Open follow-ups (1):\n  alert on queue depth [bob@h]\n",
            "dave@h has not been in this incident before",
        ] {
            assert!(b.contains(expected), "missing {expected:?} in:\n{b}");
        }
    }

    #[test]
    fn someone_coming_back_sees_what_changed_since_they_left() {
        let b = render(&board(incident(), 2460), "bob@h");
        assert!(b.contains("Since bob@h left at 02:55 UTC (03:55 local) (36m ago): 4 entries by others\n"), "{b}");
        assert!(b.contains("  03:58 status → identified — alice@h\n"), "{b}");
        assert!(!b.contains("has not been in this incident before"), "{b}");
        let before: Vec<&str> = b.lines().skip_while(|l| !l.starts_with("Since bob@h")).collect();
        assert!(!before.iter().any(|l| l.contains("is now commander")), "only what came after: {b}");
    }

    /// A forged journal line naming a role `commander` + an escape sequence, cleaned, read as
    /// a second commander; such a name is shown escaped instead.
    #[test]
    fn a_role_with_an_escape_in_its_name_cannot_pass_for_a_standard_one() {
        let mut events = incident();
        let role = "commander\u{1b}]52;c;bWFsbG9yeQ==\u{7}".to_string();
        events.push(ev(520, "malory@h", EventBody::RoleAssigned { role, person: "malory@h".into() }));
        let b = render(&board(events, 2460), "dave@h");
        assert!(!b.contains("commander malory"), "{b}");
        assert!(b.contains("commander\\u{1b}]52;c;bWFsbG9ye… malory@h"), "{b}");
    }

    /// Back on a screen, the brief said "Since bob left at 02:55" as if he were still away:
    /// it now says when he was away, and lists what came while he was.
    #[test]
    fn someone_back_sees_what_came_while_they_were_away() {
        let mut events = incident();
        // bob is back before the status change (500 s) and the follow-up (510 s).
        events.push(ev(450, "bob@h", EventBody::OperatorJoined {}));
        events.sort_by_key(|e| e.ts);
        let b = render(&board(events, 2460), "bob@h");
        assert!(
            b.contains("While bob@h was away, from 02:55 UTC (03:55 local) to 03:57: 2 entries by others\n"),
            "{b}"
        );
        assert!(!b.contains("status → identified"), "seen live, not missed: {b}");
        assert!(!b.contains("Since bob@h left"), "{b}");
    }
}
