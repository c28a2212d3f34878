//! `warroom status [STATUS]`: say where the incident stands, or move it there. No cycling:
//! the target is named. Resolving while the journal records failing checks is refused unless
//! confirmed (`--yes`), naming them; resolving lists the follow-ups still open.

use std::process::ExitCode;

use crate::cli::GlobalArgs;
use crate::cli::current::{self, refuse};
use crate::incident::Incident;
use crate::journal::Status;
use crate::sanitize::sanitize_str;

pub fn run(global: &GlobalArgs, target: Option<&str>, confirmed: bool) -> anyhow::Result<ExitCode> {
    let current = current::open(global)?;
    let incident = &current.incident;
    let Some(target) = target else {
        print_summary(incident);
        return Ok(ExitCode::SUCCESS);
    };
    let status = parse(target)?;
    if incident.status == status {
        eprintln!("warroom: the status is already {}; nothing written", status.as_str());
        return Ok(ExitCode::SUCCESS);
    }
    if status == Status::Resolved {
        let failing = failing(incident);
        if !failing.is_empty() && !confirmed {
            return Err(refuse(format!(
                "not resolved: the journal records {} failing: {}; resolve anyway with --yes",
                plural(failing.len(), "check"),
                failing.join(", ")
            )));
        }
    }
    let bodies = crate::commands::change_status(incident, status);
    let ids = current.append(bodies)?;
    println!("status: {} ({})", status.as_str(), ids[0]);
    if status == Status::Resolved {
        print_open_follow_ups(incident);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn parse(given: &str) -> anyhow::Result<Status> {
    Status::ALL.into_iter().find(|s| s.as_str() == given.trim().to_lowercase()).ok_or_else(|| {
        let known: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
        refuse(format!("no status \"{}\"; one of: {}", sanitize_str(given, 40), known.join(", ")))
    })
}

/// Checks the journal records as down or degraded, with since when: what resolving would hide.
fn failing(incident: &Incident) -> Vec<String> {
    crate::commands::failing_for_resolve(incident)
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

fn print_open_follow_ups(incident: &Incident) {
    let open: Vec<_> = incident.open_follow_ups().collect();
    if open.is_empty() {
        return;
    }
    println!("{} still open:", plural(open.len(), "follow-up"));
    for f in open {
        let owner = f.owner.as_deref().map(|o| format!(" [{}]", sanitize_str(o, 40))).unwrap_or_default();
        println!("  {} {}{owner}", f.id, sanitize_str(&f.text, 200));
    }
}

fn print_summary(incident: &Incident) {
    let title = incident.title.as_deref().map_or("(untitled incident)".into(), |t| sanitize_str(t, 120));
    let severity = incident.severity.map_or("—".into(), |s| format!("SEV{s}"));
    println!("{title}: {} · {severity}", incident.status.as_str());
    for (role, holder) in &incident.roles {
        println!("  {}: {}", sanitize_str(role, 40), sanitize_str(&holder.person, 80));
    }
    for line in failing(incident) {
        println!("  failing: {line}");
    }
}
