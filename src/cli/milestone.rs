//! `warroom milestone detected|acknowledged|mitigated [--at TIME] [--check NAME]`: a
//! milestone set by hand, possibly after the fact. Detection needs no hand when a check saw
//! it (the fold derives it); resolving is `warroom status resolved`.

use std::process::ExitCode;

use chrono::{DateTime, NaiveTime, Utc};

use crate::cli::GlobalArgs;
use crate::cli::current::{self, refuse};
use crate::journal::{EventBody, Milestone};
use crate::sanitize::sanitize_str;

const SETTABLE: [Milestone; 3] = crate::commands::SETTABLE_MILESTONES;

pub fn run(global: &GlobalArgs, name: &str, at: Option<&str>, check: Option<&str>) -> anyhow::Result<ExitCode> {
    let milestone = parse(name)?;
    let current = current::open(global)?;
    let now = current.now();
    let at = at.map(|t| parse_time(t, now)).transpose()?;
    let incident = &current.incident;
    if let Some(check) = check {
        if !incident.checks.contains_key(check) {
            return Err(refuse(format!("the journal records no check \"{}\"", sanitize_str(check, 60))));
        }
    } else {
        // The first recording counts: a second one would change nothing.
        crate::commands::reach_milestone(incident, milestone).map_err(refuse)?;
    }
    if check.is_none()
        && let Some(warning) = out_of_order(incident, milestone, at.unwrap_or(now))
    {
        eprintln!("warroom: warning: {warning}");
    }
    let body = EventBody::MilestoneReached { milestone, at, check: check.map(str::to_string) };
    let ids = current.append(vec![body])?;
    let when = at.unwrap_or(now).format("%H:%M:%S UTC");
    println!("{}: {when} ({})", milestone.as_str(), ids[0]);
    Ok(ExitCode::SUCCESS)
}

/// A milestone set at a time that puts it out of order with one recorded (mitigated before
/// acknowledged): said, not refused, since either time may be the wrong one; the report lists
/// them in time order.
fn out_of_order(incident: &crate::incident::Incident, milestone: Milestone, at: DateTime<Utc>) -> Option<String> {
    let stage = |m: Milestone| SETTABLE.iter().position(|s| *s == m);
    let mine = stage(milestone)?;
    SETTABLE.iter().filter(|&&other| other != milestone).find_map(|&other| {
        let recorded = incident.milestone(other)?;
        let wrong = if stage(other)? < mine { at < recorded } else { at > recorded };
        wrong.then(|| {
            let (first, then) = if at < recorded { (milestone, other) } else { (other, milestone) };
            format!(
                "{} at {} puts {} before {} (recorded at {}); the report lists them in that order",
                milestone.as_str(),
                at.format("%H:%M:%S UTC"),
                first.as_str(),
                then.as_str(),
                recorded.format("%H:%M:%S UTC")
            )
        })
    })
}

fn parse(given: &str) -> anyhow::Result<Milestone> {
    let given = given.trim().to_lowercase();
    if given == "resolved" {
        return Err(refuse("resolving is a status: `warroom status resolved`"));
    }
    SETTABLE.into_iter().find(|m| m.as_str() == given).ok_or_else(|| {
        let known: Vec<&str> = SETTABLE.iter().map(|m| m.as_str()).collect();
        refuse(format!("no milestone \"{}\"; one of: {}", sanitize_str(&given, 40), known.join(", ")))
    })
}

/// RFC 3339, or `HH:MM[:SS]` in UTC today. Never in the future: a milestone is a fact.
pub fn parse_time(given: &str, now: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
    let given = given.trim();
    let parsed = DateTime::parse_from_rfc3339(given).map(|t| t.with_timezone(&Utc)).ok().or_else(|| {
        ["%H:%M:%S", "%H:%M"]
            .iter()
            .find_map(|f| NaiveTime::parse_from_str(given, f).ok())
            .map(|t| now.date_naive().and_time(t).and_utc())
    });
    let Some(at) = parsed else {
        return Err(refuse(format!(
            "--at \"{}\" is not a time: give HH:MM (UTC, today) or an RFC 3339 time",
            sanitize_str(given, 40)
        )));
    };
    if at > now {
        return Err(refuse(format!("--at {} is in the future", at.format("%Y-%m-%d %H:%M:%S UTC"))));
    }
    Ok(at)
}
