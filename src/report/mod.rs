//! After the outage: the post-incident report, written from the journal, not from memory.
//!
//! [`build`] turns a folded incident into a [`Report`]; the same structure is the JSON format
//! (schema `warroom-report/1`, documented in the README) and is rendered to Markdown (for a
//! wiki) and to one self-contained HTML file. Times are UTC; nothing depends on the clock of
//! the machine that writes the report, so the same journal always gives the same report.

mod html;
mod markdown;
mod sections;
pub mod status_page;
mod svg;
pub mod timeline;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::checklist::{self, Checklist};
use crate::incident::Incident;
use crate::journal::{Audience, CheckState, Event, EventBody, Milestone, Status};

pub use html::render as html;
pub use markdown::render as markdown;

pub const SCHEMA: &str = "warroom-report/1";

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub title: String,
    /// True for a rehearsal: every rendering says so first.
    pub drill: bool,
    pub scenario: Option<String>,
    pub severity: Option<u8>,
    /// The worst (lowest number) severity reached.
    pub worst_severity: Option<u8>,
    pub status: String,
    pub started: Option<DateTime<Utc>>,
    pub ended: Option<DateTime<Utc>>,
    pub duration_s: Option<i64>,
    pub commanders: Vec<String>,
    pub handovers: Vec<Handover>,
    pub key_times: Vec<KeyTime>,
    pub key_events: Vec<Line>,
    pub outages: Vec<Outage>,
    pub notes: Vec<Line>,
    pub checklist: Option<ChecklistReport>,
    pub messages: Vec<Message>,
    /// Action items, open and done (absent when there are none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub follow_ups: Vec<FollowUp>,
    pub timeline: Vec<Line>,
    /// The shape of the outage: each check's states over time and the milestones, status
    /// changes and messages on the same axis (what the pictures are drawn from).
    pub shape: timeline::Shape,
}

#[derive(Debug, Clone, Serialize)]
pub struct FollowUp {
    pub id: String,
    pub text: String,
    pub owner: Option<String>,
    pub added_at: DateTime<Utc>,
    pub added_by: String,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<String>,
}

pub use crate::incident::Handover;

#[derive(Debug, Clone, Serialize)]
pub struct KeyTime {
    pub name: &'static str,
    pub at: Option<DateTime<Utc>>,
    /// Seconds after the start.
    pub after_start_s: Option<i64>,
    /// Seconds since the previous key time that happened.
    pub since_previous_s: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub at: DateTime<Utc>,
    pub author: String,
    pub kind: &'static str,
    pub text: String,
    pub key: bool,
    /// The account that wrote it, where it is not the same string as `author`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Withdrawn: shown struck through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub struck: Option<Strike>,
    /// What replaced it: its latest correction's text (the original is shown struck through).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrected: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Strike {
    pub by: String,
    pub at: DateTime<Utc>,
    pub reason: Option<String>,
}

impl Line {
    /// Struck or corrected: it no longer stands as written.
    pub fn superseded(&self) -> bool {
        self.struck.is_some() || self.corrected.is_some()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Outage {
    pub check: String,
    /// The state in this span: "down" or "degraded" (a change between them starts a new span).
    pub state: &'static str,
    pub from: DateTime<Utc>,
    /// `None` while still failing at the end of the journal.
    pub to: Option<DateTime<Utc>>,
    pub duration_s: Option<i64>,
    /// What failed first, as the probe said it (the step and the server's reply).
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChecklistReport {
    pub name: String,
    pub items: Vec<ItemLine>,
    pub on_time: usize,
    pub late: usize,
    pub missed: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemLine {
    pub id: String,
    pub title: String,
    pub owner: Option<String>,
    pub verdict: &'static str,
    pub due_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<String>,
    pub times_done: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub at: DateTime<Utc>,
    pub author: String,
    pub channel: String,
    pub audience: &'static str,
    pub text: String,
    pub error: Option<String>,
    pub simulated: bool,
    /// The account that sent it, where it is not the same string as `author`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

fn audience(a: Audience) -> &'static str {
    if a == Audience::Public { "public" } else { "internal" }
}

fn secs(a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    (b - a).num_seconds()
}

/// Builds the report from a folded journal, and the checklist it followed (if known).
pub fn build(incident: &Incident, checklist: Option<&Checklist>) -> Report {
    let started = incident.opened_at;
    let ended = ended(incident);
    // Deadlines after this were never owed.
    let end = ended.or_else(|| incident.timeline.last().map(|e| e.ts)).unwrap_or_else(Utc::now);
    let to_line = |position_event| line(incident, position_event);
    Report {
        schema: SCHEMA,
        title: incident.title.clone().unwrap_or_else(|| "(untitled incident)".into()),
        drill: incident.is_drill(),
        scenario: incident.drill.as_ref().map(|d| d.scenario.clone()),
        severity: incident.severity,
        worst_severity: worst_severity(incident),
        status: incident.status.as_str().into(),
        started,
        ended,
        duration_s: started.zip(ended).map(|(s, e)| secs(s, e)),
        commanders: commanders(incident),
        handovers: incident.handovers.clone(),
        key_times: key_times(incident, started, ended),
        key_events: incident.key_events().map(to_line).collect(),
        outages: outages(incident),
        notes: incident
            .timeline
            .iter()
            .enumerate()
            .filter(|(_, e)| matches!(e.body, EventBody::NoteAdded { .. }))
            .map(to_line)
            .collect(),
        checklist: checklist.map(|c| checklist_report(c, incident, end)),
        messages: messages(incident),
        follow_ups: follow_ups(incident),
        timeline: incident.timeline.iter().enumerate().map(to_line).collect(),
        shape: timeline::build(incident),
    }
}

/// When it ended: the resolved milestone, or else the first time the status said resolved.
fn ended(incident: &Incident) -> Option<DateTime<Utc>> {
    incident.milestone(Milestone::Resolved).or_else(|| {
        incident.timeline.iter().find_map(|e| match e.body {
            EventBody::StatusChanged { status: Status::Resolved } => Some(e.ts),
            _ => None,
        })
    })
}

/// One timeline entry as the report shows it. `position` is the event's place in the
/// timeline, where pins are recorded.
fn line(incident: &Incident, (position, event): (usize, &Event)) -> Line {
    Line {
        at: event.ts,
        author: event.author.clone(),
        kind: event.kind(),
        text: event.summary(),
        key: incident.pinned_by(position).is_some(),
        account: event.other_account().map(str::to_string),
        struck: incident.struck(position).map(|s| Strike { by: s.by.clone(), at: s.at, reason: s.reason.clone() }),
        corrected: incident.corrected_text(position).map(|t| crate::sanitize::sanitize_str(t, 2000)),
    }
}

/// The key times, in the order they happened, each with the time since the one before.
fn key_times(incident: &Incident, started: Option<DateTime<Utc>>, ended: Option<DateTime<Utc>>) -> Vec<KeyTime> {
    let first = |pred: &dyn Fn(&EventBody) -> bool| incident.timeline.iter().find(|e| pred(&e.body)).map(|e| e.ts);
    let first_failing =
        first(&|b| matches!(b, EventBody::CheckChanged { to: CheckState::Down | CheckState::Degraded, .. }));
    let first_message =
        |a: Audience| first(&|b| matches!(b, EventBody::MessageSent { audience, error: None, .. } if *audience == a));
    let mut key_times = vec![
        ("first failing check", first_failing),
        ("detected", incident.milestone(Milestone::Detected)),
        ("acknowledged", incident.milestone(Milestone::Acknowledged)),
        ("first internal message", first_message(Audience::Internal)),
        ("first customer message", first_message(Audience::Public)),
        ("mitigated", incident.milestone(Milestone::Mitigated)),
        ("resolved", ended),
    ];
    // Durations count from the earliest point, never negative: a "detected" backdated to
    // before the opening (or a failure before it) is the start, and the opening then has a
    // row of its own, after it.
    let origin = key_times.iter().filter_map(|(_, at)| *at).chain(started).min();
    if let Some(opened) = started.filter(|s| origin < Some(*s)) {
        key_times.push(("incident opened", Some(opened)));
    }
    let mut key_times: Vec<KeyTime> = key_times
        .into_iter()
        .map(|(name, at)| KeyTime {
            name,
            at,
            after_start_s: at.zip(origin).map(|(a, s)| secs(s, a)),
            since_previous_s: None,
        })
        .collect();
    // In the order they happened (stable: ties keep the list's order), those that did first.
    key_times.sort_by_key(|k| (k.at.is_none(), k.at));
    let mut previous = origin;
    for k in &mut key_times {
        if let Some(at) = k.at {
            k.since_previous_s = previous.map(|p| secs(p, at));
            previous = Some(at);
        }
    }
    key_times
}

/// Each span in which a check was failing in one state, with the cause the probe gave when it
/// entered that state: a check degraded then down has two rows, each honest about its own
/// state, start and cause (never a "down" row dated from the start of its degradation with
/// the degradation's cause).
fn outages(incident: &Incident) -> Vec<Outage> {
    let mut outages: Vec<Outage> = Vec::new();
    let mut open: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let close = |o: &mut Outage, at: DateTime<Utc>| {
        o.to = Some(at);
        o.duration_s = Some(secs(o.from, at));
    };
    for e in &incident.timeline {
        let EventBody::CheckChanged { check, to, detail, .. } = &e.body else { continue };
        let state = match to {
            CheckState::Down => Some("down"),
            CheckState::Degraded => Some("degraded"),
            CheckState::Up | CheckState::Unknown => None,
        };
        let current = open.get(check.as_str()).copied();
        if let (Some(i), Some(state)) = (current, state)
            && outages[i].state == state
        {
            continue;
        }
        if let Some(i) = current {
            close(&mut outages[i], e.ts);
            open.remove(check.as_str());
        }
        if let Some(state) = state {
            open.insert(check, outages.len());
            outages.push(Outage {
                check: check.clone(),
                state,
                from: e.ts,
                to: None,
                duration_s: None,
                detail: detail.clone(),
            });
        }
    }
    outages
}

/// Every checklist item's verdict against the deadlines owed before `end`.
fn checklist_report(c: &Checklist, incident: &Incident, end: DateTime<Utc>) -> ChecklistReport {
    let items: Vec<ItemLine> = c
        .items
        .iter()
        .map(|item| {
            let o = checklist::outcome(item, incident, end);
            ItemLine {
                id: item.id.clone(),
                title: item.title.clone(),
                owner: item.role.clone(),
                verdict: o.verdict,
                due_at: o.due_at,
                done_at: o.done.as_ref().map(|(_, at)| *at),
                done_by: o.done.map(|(who, _)| who),
                times_done: incident.checklist.get(&item.id).map_or(0, |m| m.completions.len()),
            }
        })
        .collect();
    let count = |v: &str| items.iter().filter(|i| i.verdict == v).count();
    ChecklistReport {
        name: c.name.clone(),
        on_time: count("on time"),
        late: count("late"),
        missed: count("missed"),
        items,
    }
}

/// Everyone who held the commander role, in the order they first took it.
fn commanders(incident: &Incident) -> Vec<String> {
    let mut commanders = Vec::new();
    for h in incident.handovers.iter().filter(|h| h.role == "commander") {
        if !commanders.contains(&h.to) {
            commanders.push(h.to.clone());
        }
    }
    commanders
}

/// The worst (lowest number) severity the incident was opened with or changed to.
fn worst_severity(incident: &Incident) -> Option<u8> {
    incident
        .timeline
        .iter()
        .filter_map(|e| match e.body {
            EventBody::IncidentOpened { severity, .. } | EventBody::SeverityChanged { severity } => Some(severity),
            _ => None,
        })
        .min()
}

/// Every message sent, or tried, in journal order.
fn messages(incident: &Incident) -> Vec<Message> {
    incident
        .timeline
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::MessageSent { channel, audience: a, text, error, simulated, .. } => Some(Message {
                at: e.ts,
                author: e.author.clone(),
                channel: channel.clone(),
                audience: audience(*a),
                text: text.clone(),
                error: error.clone(),
                simulated: *simulated,
                account: e.other_account().map(str::to_string),
            }),
            _ => None,
        })
        .collect()
}

/// The action items, open and done, in the order they were added.
fn follow_ups(incident: &Incident) -> Vec<FollowUp> {
    incident
        .follow_ups
        .iter()
        .map(|f| FollowUp {
            id: f.id.clone(),
            text: f.text.clone(),
            owner: f.owner.clone(),
            added_at: f.at,
            added_by: f.added_by.clone(),
            done_at: f.closed.as_ref().map(|(_, at)| *at),
            done_by: f.closed.as_ref().map(|(who, _)| who.clone()),
        })
        .collect()
}

/// A name with the account behind it where they differ: `alice (account root@bastion)`.
pub fn who(author: &str, account: Option<&str>) -> String {
    match account {
        Some(account) => format!("{author} (account {account})"),
        None => author.to_string(),
    }
}

/// `1h 05m 12s`, `4m 03s`, `12s`.
pub fn duration(s: i64) -> String {
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    match (h, m) {
        (0, 0) => format!("{sec}s"),
        (0, _) => format!("{m}m {sec:02}s"),
        _ => format!("{h}h {m:02}m {sec:02}s"),
    }
}

/// `2026-11-21 00:51:40 UTC`. Written by hand: a report formats a timestamp per timeline line,
/// and chrono's `format` re-reads its pattern on every call (a third of a 1,000,000-event report).
pub fn ts(t: &DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    let mut out = String::with_capacity(23);
    let mut two = |n: u32, sep: char| {
        out.push(char::from(b'0' + (n / 10 % 10) as u8));
        out.push(char::from(b'0' + (n % 10) as u8));
        out.push(sep);
    };
    let year = t.year();
    if !(0..=9999).contains(&year) {
        return t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    }
    two(year as u32 / 100, '\0');
    two(year as u32 % 100, '-');
    two(t.month(), '-');
    two(t.day(), ' ');
    two(t.hour(), ':');
    two(t.minute(), ':');
    two(t.second(), ' ');
    out.retain(|c| c != '\0');
    out.push_str("UTC");
    out
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;
    use crate::journal::Mode;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 1, 40, 0).unwrap() + Duration::seconds(s)
    }

    fn incident(mut events: Vec<Event>) -> Incident {
        let open = EventBody::IncidentOpened { title: "t".into(), severity: 2, mode: Mode::Real, checklist: None };
        events.insert(0, Event::at(t(0), "alice", open));
        Incident::from_events(events)
    }

    fn changed(s: i64, to: CheckState, detail: &str) -> Event {
        let body =
            EventBody::CheckChanged { check: "site".into(), from: CheckState::Unknown, to, detail: detail.into() };
        Event::at(t(s), "poller", body)
    }

    #[test]
    fn key_times_count_from_a_detection_backdated_before_the_opening() {
        let detected = EventBody::MilestoneReached { milestone: Milestone::Detected, at: Some(t(-32)), check: None };
        let incident = incident(vec![changed(40, CheckState::Down, "503"), Event::at(t(471), "alice", detected)]);
        let report = build(&incident, None);
        let rows: Vec<(&str, Option<i64>, Option<i64>)> = report
            .key_times
            .iter()
            .filter(|k| k.at.is_some())
            .map(|k| (k.name, k.after_start_s, k.since_previous_s))
            .collect();
        assert_eq!(
            rows,
            [
                ("detected", Some(0), Some(0)),
                ("incident opened", Some(32), Some(32)),
                ("first failing check", Some(72), Some(40))
            ]
        );
        let md = markdown(&report);
        assert!(!md.contains("| -"), "no negative duration:\n{md}");
    }

    #[test]
    fn a_check_degraded_then_down_has_one_row_per_state_with_its_own_cause() {
        let incident = incident(vec![
            changed(40, CheckState::Degraded, "slow: 1800 ms > 800 ms"),
            changed(161, CheckState::Down, "HTTP 503 Service Unavailable"),
            changed(170, CheckState::Down, "connection refused"),
            changed(2410, CheckState::Up, ""),
        ]);
        let outages = outages(&incident);
        let rows: Vec<_> = outages.iter().map(|o| (o.state, o.from, o.to, o.detail.as_str())).collect();
        assert_eq!(
            rows,
            [
                ("degraded", t(40), Some(t(161)), "slow: 1800 ms > 800 ms"),
                ("down", t(161), Some(t(2410)), "HTTP 503 Service Unavailable"),
            ]
        );
    }

    #[test]
    fn timestamps_match_chrono() {
        use chrono::TimeZone;
        for t in [
            chrono::Utc.with_ymd_and_hms(2026, 11, 21, 0, 51, 40).unwrap(),
            chrono::Utc.with_ymd_and_hms(999, 1, 2, 3, 4, 5).unwrap(),
        ] {
            assert_eq!(super::ts(&t), t.format("%Y-%m-%d %H:%M:%S UTC").to_string());
        }
    }
}
