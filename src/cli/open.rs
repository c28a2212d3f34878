//! `warroom open TITLE… [--severity N]`: start a new incident journal from the command line.

use std::process::ExitCode;

use chrono::Utc;

use crate::cli::GlobalArgs;
use crate::cli::current::{plain_name, refuse};
use crate::cli::locate::{current_journal, journal_dir, slug};
use crate::incident::Incident;
use crate::journal::{Event, EventBody, Journal, Mode};
use crate::sanitize::sanitize_str;

pub fn run(global: &GlobalArgs, title: &str, severity: Option<u8>) -> anyhow::Result<ExitCode> {
    let title = plain_name("title", title, 200)?;
    let config = super::load_config(global)?;
    let author = super::author(global);
    let named = global.journal.clone().or_else(|| config.journal.clone());
    // One incident per journal, and one open incident per journal directory: a second would
    // split the team's entries between two files.
    if named.is_none()
        && let Some(open) = current_journal(global, &config)?
    {
        return Err(refuse(format!(
            "an incident is already open: {}; resolve it first (`warroom status resolved`), or name a new journal with -j",
            open.display()
        )));
    }
    let path = match named {
        Some(path) => path,
        None => journal_dir(&config)?.join(format!("{}-{}.jsonl", Utc::now().format("%Y-%m-%dT%H%M%SZ"), slug(&title))),
    };
    let (journal, scan) = Journal::open_shared(&path, config.journal_group.as_deref())?;
    super::tell_notices(&journal);
    let existing = Incident::from_events(scan.events);
    if existing.opened_at.is_some() {
        return Err(refuse(format!(
            "{} already holds an incident: {}",
            path.display(),
            sanitize_str(existing.title.as_deref().unwrap_or(""), 120)
        )));
    }
    let checklist = global.checklist.clone().or(config.checklist.clone()).unwrap_or_else(|| "default".into());
    let opened = EventBody::IncidentOpened {
        title,
        severity: severity.or(config.incident_severity).unwrap_or(3),
        mode: Mode::Real,
        checklist: Some(checklist),
    };
    let event = Event::new(&author, opened);
    let current = super::current::Current::adopt(config, author, existing, journal);
    let ids = current.append_events(vec![event])?;
    eprintln!("warroom: incident opened ({})", ids[0]);
    println!("{}", path.display());
    Ok(ExitCode::SUCCESS)
}
