//! The scorecard: how the team did, computed from the scenario and the drill's journal alone
//! (so a past run can be scored again to compare).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::DRILL_AUTHOR;
use super::scenario::Scenario;
use crate::checklist::{self, Checklist};
use crate::incident::Incident;
use crate::journal::{Audience, CheckState, EventBody, Journal, Milestone};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaultScore {
    pub check: String,
    /// Scenario seconds after the start.
    pub at_s: f64,
    /// Seconds from the fault to the first acknowledgement of that check.
    pub acknowledged_after_s: Option<f64>,
    pub acknowledged_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemScore {
    pub id: String,
    pub title: String,
    /// "on time", "late", "missed" or "not applicable".
    pub verdict: &'static str,
    pub due_s: Option<f64>,
    pub done_s: Option<f64>,
    pub done_by: Option<String>,
}

/// A role assigned or handed over during the drill.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleScore {
    pub role: String,
    pub person: String,
    /// Scenario seconds after the start.
    pub at_s: f64,
    pub by: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scorecard {
    pub scenario: String,
    pub title: String,
    pub speed: f64,
    pub started: DateTime<Utc>,
    pub ended: Option<DateTime<Utc>>,
    pub duration_s: f64,
    pub faults: Vec<FaultScore>,
    pub mean_acknowledge_s: Option<f64>,
    pub first_internal_message_s: Option<f64>,
    pub first_public_message_s: Option<f64>,
    pub items_on_time: usize,
    pub items_late: usize,
    pub items_missed: usize,
    pub items: Vec<ItemScore>,
    pub notes: usize,
    /// Every role assignment and hand-over, in order.
    pub roles: Vec<RoleScore>,
    /// When a commander was first named.
    pub commander_s: Option<f64>,
    /// The same figures for the previous run of this scenario, when there is one.
    pub previous: Option<Box<Scorecard>>,
    pub previous_journal: Option<PathBuf>,
}

fn secs(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds() as f64 / 1000.0
}

/// Scores a drill from its journal (folded) at `now` (the end of the drill).
pub fn score(scenario: &Scenario, incident: &Incident, checklist: Option<&Checklist>, now: DateTime<Utc>) -> Scorecard {
    let started = incident.drill.as_ref().map(|d| d.started).or(incident.opened_at).unwrap_or(now);
    let ended = incident.drill.as_ref().and_then(|d| d.ended);
    let end = ended.unwrap_or(now);
    let mut faults = Vec::new();
    for e in &incident.timeline {
        if let EventBody::CheckChanged { check, to, .. } = &e.body
            && matches!(to, CheckState::Down | CheckState::Degraded)
            && e.author == DRILL_AUTHOR
        {
            let ack = incident.timeline.iter().find(|x| {
                x.ts >= e.ts
                    && matches!(&x.body, EventBody::MilestoneReached { milestone: Milestone::Acknowledged, check: Some(c), .. } if c == check)
            });
            faults.push(FaultScore {
                check: check.clone(),
                at_s: secs(started, e.ts),
                acknowledged_after_s: ack.map(|a| secs(e.ts, a.ts)),
                acknowledged_by: ack.map(|a| a.author.clone()),
            });
        }
    }
    let acks: Vec<f64> = faults.iter().filter_map(|f| f.acknowledged_after_s).collect();
    let first_message = |audience: Audience| {
        incident.timeline.iter().find_map(|x| match &x.body {
            EventBody::MessageSent { audience: a, error: None, .. } if *a == audience => Some(secs(started, x.ts)),
            _ => None,
        })
    };
    let mut items = Vec::new();
    for item in checklist.iter().flat_map(|c| c.items.iter()) {
        let o = checklist::outcome(item, incident, end);
        items.push(ItemScore {
            id: item.id.clone(),
            title: item.title.clone(),
            verdict: o.verdict,
            due_s: o.due_at.map(|d| secs(started, d)),
            done_s: o.done.as_ref().map(|(_, at)| secs(started, *at)),
            done_by: o.done.map(|(who, _)| who),
        });
    }
    let count = |v: &str| items.iter().filter(|i| i.verdict == v).count();
    let notes = incident
        .timeline
        .iter()
        .filter(|x| matches!(x.body, EventBody::NoteAdded { .. }) && !x.author.ends_with("(drill)"))
        .count();
    Scorecard {
        scenario: scenario.name.clone(),
        title: scenario.title.clone(),
        speed: incident.drill.as_ref().map_or(1.0, |d| d.speed),
        started,
        ended,
        duration_s: secs(started, end),
        mean_acknowledge_s: (!acks.is_empty()).then(|| acks.iter().sum::<f64>() / acks.len() as f64),
        faults,
        first_internal_message_s: first_message(Audience::Internal),
        first_public_message_s: first_message(Audience::Public),
        items_on_time: count("on time"),
        items_late: count("late"),
        items_missed: count("missed"),
        items,
        notes,
        commander_s: incident.handovers.iter().find(|h| h.role == "commander").map(|h| secs(started, h.at)),
        roles: incident
            .handovers
            .iter()
            .map(|h| RoleScore {
                role: h.role.clone(),
                person: h.to.clone(),
                at_s: secs(started, h.at),
                by: h.by.clone(),
            })
            .collect(),
        previous: None,
        previous_journal: None,
    }
}

/// The newest earlier drill of the same scenario among the journals in `dir`.
pub fn previous_run(dir: &Path, scenario: &str, before: DateTime<Utc>, except: &Path) -> Option<(PathBuf, Incident)> {
    let mut best: Option<(PathBuf, Incident)> = None;
    for path in crate::journal::journals_in(dir) {
        if path == except {
            continue;
        }
        let Ok(scan) = Journal::read(&path) else { continue };
        let incident = Incident::from_events(scan.events);
        let Some(drill) = &incident.drill else { continue };
        if drill.scenario != scenario || drill.started >= before {
            continue;
        }
        if best.as_ref().is_none_or(|(_, b)| b.drill.as_ref().is_some_and(|d| d.started < drill.started)) {
            best = Some((path, incident));
        }
    }
    best
}

fn mmss(s: Option<f64>) -> String {
    match s {
        Some(s) => format!("{}m{:02}s", (s / 60.0).floor() as i64, (s % 60.0).round() as i64),
        None => "not done".into(),
    }
}

/// When something happened, as time into the drill; "not done" if it never was.
fn at_t(s: Option<f64>) -> String {
    s.map_or_else(|| "not done".into(), |s| format!("T+{}", mmss(Some(s))))
}

fn delta(now: Option<f64>, before: Option<f64>) -> String {
    match (now, before) {
        (Some(a), Some(b)) => {
            let d = a - b;
            format!(" (previous {}, {}{:.0}s)", mmss(Some(b)), if d <= 0.0 { "−" } else { "+" }, d.abs())
        }
        (_, None) => String::new(),
        (None, Some(b)) => format!(" (previous {})", mmss(Some(b))),
    }
}

/// The scorecard as text, for the screen and the `.txt` file.
pub fn compare(card: &Scorecard) -> String {
    let prev = card.previous.as_deref();
    let mut out = vec![
        format!("DRILL SCORECARD — {} ({})", card.title, card.scenario),
        format!(
            "started {} UTC, ran {} of scenario time at ×{}",
            card.started.format("%Y-%m-%d %H:%M:%S"),
            mmss(Some(card.duration_s)),
            card.speed
        ),
        String::new(),
        "Faults, time to acknowledge:".into(),
    ];
    for f in &card.faults {
        out.push(format!(
            "  {:<20} at T+{}  acknowledged: {}",
            f.check,
            mmss(Some(f.at_s)),
            match (&f.acknowledged_after_s, &f.acknowledged_by) {
                (Some(s), Some(by)) => format!("after {} by {by}", mmss(Some(*s))),
                _ => "not done".into(),
            }
        ));
    }
    out.push(format!(
        "  mean {}{}",
        card.mean_acknowledge_s.map_or_else(|| "not done".into(), |s| mmss(Some(s))),
        delta(card.mean_acknowledge_s, prev.and_then(|p| p.mean_acknowledge_s))
    ));
    out.push(String::new());
    out.push(format!(
        "First internal message: {}{}",
        at_t(card.first_internal_message_s),
        delta(card.first_internal_message_s, prev.and_then(|p| p.first_internal_message_s))
    ));
    out.push(format!(
        "First customer message: {}{}",
        at_t(card.first_public_message_s),
        delta(card.first_public_message_s, prev.and_then(|p| p.first_public_message_s))
    ));
    out.push(format!(
        "Checklist: {} on time, {} late, {} missed{}",
        card.items_on_time,
        card.items_late,
        card.items_missed,
        prev.map(|p| format!(
            " (previous: {} on time, {} late, {} missed)",
            p.items_on_time, p.items_late, p.items_missed
        ))
        .unwrap_or_default()
    ));
    for i in card.items.iter().filter(|i| i.verdict == "late" || i.verdict == "missed") {
        out.push(format!("  {:<7} {}", i.verdict, i.title));
    }
    out.push(format!(
        "Commander named: {}{}",
        at_t(card.commander_s),
        delta(card.commander_s, prev.and_then(|p| p.commander_s))
    ));
    for r in &card.roles {
        out.push(format!("  {:<12} {} at T+{} (by {})", r.role, r.person, mmss(Some(r.at_s)), r.by));
    }
    out.push(format!("Notes: {}{}", card.notes, prev.map(|p| format!(" (previous: {})", p.notes)).unwrap_or_default()));
    if prev.is_none() {
        out.push("No previous run of this scenario in this folder to compare with.".into());
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::drill::parse;
    use crate::journal::{Event, Mode, Status};

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap() + chrono::Duration::seconds(secs)
    }

    fn event(secs: i64, who: &str, body: EventBody) -> Event {
        Event::at(t(secs), who, body)
    }

    fn down(secs: i64, check: &str) -> Event {
        let body = EventBody::CheckChanged {
            check: check.into(),
            from: CheckState::Up,
            to: CheckState::Down,
            detail: "x".into(),
        };
        event(secs, "drill", body)
    }

    fn acknowledged(secs: i64, check: &str) -> Event {
        let body =
            EventBody::MilestoneReached { milestone: Milestone::Acknowledged, at: None, check: Some(check.into()) };
        event(secs, "bob@h", body)
    }

    fn message(secs: i64, audience: Audience, error: Option<&str>) -> Event {
        let body = EventBody::MessageSent {
            channel: "c".into(),
            audience,
            text: "t".into(),
            error: error.map(String::from),
            item: None,
            simulated: error.is_none(),
            next_update: None,
        };
        event(secs, "carol@h", body)
    }

    /// A rehearsal of the "mail" scenario, 1,600 s long: two faults (smtp acknowledged, web
    /// not), roles named, an internal message, a failed then a sent public one, resolved.
    fn rehearsal() -> Incident {
        Incident::from_events(vec![
            event(
                0,
                "a@h",
                EventBody::IncidentOpened { title: "Mail".into(), severity: 2, mode: Mode::Drill, checklist: None },
            ),
            event(0, "a@h", EventBody::DrillStarted { scenario: "mail".into(), speed: 10.0 }),
            down(30, "smtp"),
            down(60, "web"),
            // An acknowledgement before a fault does not count for it.
            acknowledged(90, "smtp"),
            event(120, "support (drill)", EventBody::NoteAdded { text: "customers complain".into() }),
            event(200, "bob@h", EventBody::NoteAdded { text: "relay restarted".into() }),
            event(200, "bob@h", EventBody::RoleAssigned { role: "commander".into(), person: "bob@h".into() }),
            event(230, "bob@h", EventBody::RoleAssigned { role: "scribe".into(), person: "carol@h".into() }),
            event(240, "bob@h", EventBody::ChecklistItemDone { item: "roles".into() }),
            message(300, Audience::Internal, None),
            message(400, Audience::Public, Some("HTTP 500")),
            message(1200, Audience::Public, None),
            event(1200, "carol@h", EventBody::ChecklistItemDone { item: "public".into() }),
            event(1500, "a@h", EventBody::StatusChanged { status: Status::Resolved }),
            event(1560, "a@h", EventBody::ChecklistItemDone { item: "clear".into() }),
            event(1600, "a@h", EventBody::DrillEnded { scenario: "mail".into() }),
        ])
    }

    /// The rehearsal's scorecard, at a `now` long after it ended.
    fn rehearsal_card() -> Scorecard {
        let scenario = parse(
            "title = \"Mail\"\nname = \"mail\"\n[[check]]\nname = \"smtp\"\n[[check]]\nname = \"web\"\n",
            std::path::Path::new("s.toml"),
        )
        .unwrap();
        let checklist = crate::checklist::parse(
            "[[item]]\nid = \"roles\"\ntitle = \"Roles\"\ndue = \"5m\"\n\
             [[item]]\nid = \"public\"\ntitle = \"Public\"\ndue = \"15m\"\n\
             [[item]]\nid = \"exec\"\ntitle = \"Exec\"\ndue = \"10m\"\n\
             [[item]]\nid = \"clear\"\ntitle = \"All-clear\"\ndue = \"2m\"\nwhen = \"status == resolved\"\n",
            std::path::Path::new("c.toml"),
        )
        .unwrap();
        score(&scenario, &rehearsal(), Some(&checklist), t(5000))
    }

    #[test]
    fn scorecard_arithmetic() {
        let card = rehearsal_card();
        assert_eq!(card.duration_s, 1600.0, "ends at drill_ended, not at `now`");
        assert_eq!(card.speed, 10.0);
        assert_eq!(card.faults.len(), 2);
        assert_eq!(
            (card.faults[0].check.as_str(), card.faults[0].at_s, card.faults[0].acknowledged_after_s),
            ("smtp", 30.0, Some(60.0))
        );
        assert_eq!(card.faults[0].acknowledged_by.as_deref(), Some("bob@h"));
        assert_eq!(card.faults[1].acknowledged_after_s, None);
        assert_eq!(card.mean_acknowledge_s, Some(60.0));
        assert_eq!(card.first_internal_message_s, Some(300.0));
        assert_eq!(card.first_public_message_s, Some(1200.0), "a failed send is not a message");
        let verdicts: Vec<(&str, &str)> = card.items.iter().map(|i| (i.id.as_str(), i.verdict)).collect();
        assert_eq!(verdicts, vec![("roles", "on time"), ("public", "late"), ("exec", "missed"), ("clear", "on time")]);
        assert_eq!((card.items_on_time, card.items_late, card.items_missed), (2, 1, 1));
        assert_eq!(card.notes, 1, "the drill's injected messages are not the team's notes");
        assert_eq!(card.commander_s, Some(200.0));
        let roles: Vec<(&str, &str, f64)> =
            card.roles.iter().map(|r| (r.role.as_str(), r.person.as_str(), r.at_s)).collect();
        assert_eq!(roles, vec![("commander", "bob@h", 200.0), ("scribe", "carol@h", 230.0)]);
        let text = compare(&card);
        assert!(text.contains("Commander named: T+3m20s"), "{text}");
        assert!(text.contains("  scribe       carol@h at T+"), "{text}");
    }

    #[test]
    fn the_comparison_says_how_each_figure_moved_since_the_previous_run() {
        let card = rehearsal_card();
        let mut with_previous = card.clone();
        let mut before = card.clone();
        before.first_public_message_s = Some(1800.0);
        with_previous.previous = Some(Box::new(before));
        let text = compare(&with_previous);
        assert!(text.contains("First customer message: T+20m00s (previous 30m00s, −600s)"), "{text}");
        assert!(
            text.contains("Checklist: 2 on time, 1 late, 1 missed (previous: 2 on time, 1 late, 1 missed)"),
            "{text}"
        );
        assert!(text.contains("web                  at T+1m00s  acknowledged: not done"), "{text}");
    }

    /// What was never done is said so, never as a time ("T+never", "mean never").
    #[test]
    fn what_was_never_done_is_said_so() {
        let mut undone = rehearsal_card();
        undone.mean_acknowledge_s = None;
        undone.first_internal_message_s = None;
        undone.commander_s = None;
        let text = compare(&undone);
        assert!(text.contains("  mean not done\n"), "{text}");
        assert!(text.contains("First internal message: not done\n"), "{text}");
        assert!(text.contains("Commander named: not done\n"), "{text}");
        assert!(!text.contains("never"), "{text}");
    }

    #[test]
    fn the_previous_run_is_the_newest_earlier_drill_of_the_same_scenario() {
        let dir = tempfile::tempdir().unwrap();
        let write = |file: &str, scenario: &str, start: i64| {
            let (j, _) = Journal::open(dir.path().join(file)).unwrap();
            j.append_all(&[
                Event::at(
                    t(start),
                    "a",
                    EventBody::IncidentOpened { title: "x".into(), severity: 2, mode: Mode::Drill, checklist: None },
                ),
                Event::at(t(start), "a", EventBody::DrillStarted { scenario: scenario.into(), speed: 1.0 }),
            ])
            .unwrap();
        };
        write("a.jsonl", "mail", 0);
        write("b.jsonl", "mail", 100);
        write("c.jsonl", "fire", 150);
        write("d.jsonl", "mail", 300);
        let current = dir.path().join("d.jsonl");
        let (path, incident) = previous_run(dir.path(), "mail", t(300), &current).unwrap();
        assert_eq!(path, dir.path().join("b.jsonl"));
        assert_eq!(incident.drill.unwrap().started, t(100));
        assert!(previous_run(dir.path(), "mail", t(0), &current).is_none());
        assert!(previous_run(dir.path(), "storage", t(999), &current).is_none());
    }
}
