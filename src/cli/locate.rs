//! Which journal file is "the current incident".
//!
//! In order: `-j FILE`, the config's `journal`, else the newest journal in the journal
//! directory (config `journal_dir`, default the user data dir) whose incident is not yet
//! resolved. Starting the dashboard with none open begins a new incident file there.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::Utc;

use crate::cli::GlobalArgs;
use crate::config::Config;
use crate::incident::Incident;
use crate::journal::{Event, EventBody, Journal, Mode, Scan, Status};

/// Default folder for incident journals: the user data dir's `journals/`.
pub fn default_journal_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "warroom").map(|d| d.data_dir().join("journals"))
}

fn journal_dir(config: &Config) -> anyhow::Result<PathBuf> {
    config
        .journal_dir
        .clone()
        .or_else(default_journal_dir)
        .context("no journal directory: set `journal_dir` in the config or pass -j FILE")
}

/// The journal named explicitly, or the newest unresolved one in the journal directory.
pub fn current_journal(global: &GlobalArgs, config: &Config) -> anyhow::Result<Option<PathBuf>> {
    if let Some(path) = global.journal.clone().or_else(|| config.journal.clone()) {
        return Ok(Some(path));
    }
    let dir = journal_dir(config)?;
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(None);
    };
    let mut journals: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    // Names start with the opening time, so the newest sorts last.
    journals.sort();
    Ok(journals.pop().filter(|newest| !is_resolved(newest)))
}

fn is_resolved(path: &Path) -> bool {
    Journal::read(path).map(|scan| Incident::from_events(scan.events).status == Status::Resolved).unwrap_or(false)
}

/// Opens the current incident's journal, or starts a new incident if there is none.
pub fn open_or_start_incident(global: &GlobalArgs, config: &Config, author: &str) -> anyhow::Result<(Journal, Scan)> {
    let checklist = global.checklist.as_deref();
    let path = match current_journal(global, config)? {
        Some(p) => p,
        None => {
            let now = Utc::now();
            let title = config.incident_title.clone().unwrap_or_else(|| "Incident".to_string());
            journal_dir(config)?.join(format!("{}-{}.jsonl", now.format("%Y-%m-%dT%H%M%SZ"), slug(&title)))
        }
    };
    let (journal, mut scan) = Journal::open_shared(&path, config.journal_group.as_deref())?;
    if !journal.writable() {
        return Ok((journal, scan));
    }
    crate::session::election::check(journal.path(), journal.sharing())?;
    if !scan.events.iter().any(|e| matches!(e.body, EventBody::IncidentOpened { .. })) {
        let opened = Event::new(
            author,
            EventBody::IncidentOpened {
                title: config.incident_title.clone().unwrap_or_else(|| "Incident".to_string()),
                severity: config.incident_severity.unwrap_or(3),
                mode: Mode::Real,
                checklist: Some(checklist.unwrap_or(config.checklist.as_deref().unwrap_or("default")).to_string()),
            },
        );
        journal.append(&opened)?;
        scan = journal.read_from(scan)?;
    }
    Ok((journal, scan))
}

/// A file-name-safe form of a title: `API outage!` → `api-outage`.
pub fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() { "incident".into() } else { trimmed.chars().take(40).collect() }
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs() {
        assert_eq!(super::slug("API outage: EU!"), "api-outage-eu");
        assert_eq!(super::slug("¡¡!!"), "incident");
    }
}
