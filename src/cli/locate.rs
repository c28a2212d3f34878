//! Which journal file is "the current incident".
//!
//! In order: `-j FILE`, the config's `journal`, else the newest journal in the journal
//! directory (config `journal_dir`, default the user data dir) whose incident is not yet
//! resolved. Starting the dashboard with none open begins a new incident file there.
//!
//! Drills never are the current incident: their journals live apart, in the journal
//! directory's `drills/`, and a drill journal left in the directory itself (older warrooms
//! put them there) is passed over.

use std::path::PathBuf;

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

pub fn journal_dir(config: &Config) -> anyhow::Result<PathBuf> {
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
    // Newest first; the first real incident decides: open, or resolved (then none is).
    for path in crate::journal::journals_in(&dir).into_iter().rev() {
        let Ok(scan) = Journal::read(&path) else {
            // Unreadable: chosen all the same, so opening it says why rather than silently
            // falling back to an older incident.
            return Ok(Some(path));
        };
        let incident = Incident::from_events(scan.events);
        if incident.is_drill() {
            continue;
        }
        return Ok((incident.status != Status::Resolved).then_some(path));
    }
    Ok(None)
}

/// Where drill journals are kept: the journal directory's `drills/`, created on first use
/// with the journal directory's own permissions and group, so a shared war room's drills are
/// as shared (and as private) as its incidents. A `drills` that is not a real directory (a
/// symlink planted there) is refused.
pub fn drills_dir(config: &Config) -> anyhow::Result<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
    let parent = journal_dir(config)?;
    std::fs::create_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
    let dir = parent.join("drills");
    let like = std::fs::metadata(&parent).with_context(|| parent.display().to_string())?;
    let mode = like.mode() & 0o7777;
    // Made private, given its group, and only then opened up: never readable by a wrong group.
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {
            // Opened without following a link, so what is adjusted is the directory just made.
            let made = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
                .open(&dir)
                .with_context(|| dir.display().to_string())?;
            if made.metadata()?.gid() != like.gid() {
                std::os::unix::fs::fchown(&made, None, Some(like.gid())).with_context(|| dir.display().to_string())?;
            }
            made.set_permissions(std::fs::Permissions::from_mode(mode)).with_context(|| dir.display().to_string())?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("creating {}", dir.display())),
    }
    let meta = std::fs::symlink_metadata(&dir).with_context(|| dir.display().to_string())?;
    anyhow::ensure!(
        meta.is_dir(),
        "{} is not a directory (a link or a file is in its place): drills are not kept there",
        dir.display()
    );
    Ok(dir)
}

/// Opens the current incident's journal, or starts a new incident if there is none.
pub fn open_or_start_incident(global: &GlobalArgs, config: &Config, author: &str) -> anyhow::Result<(Journal, Scan)> {
    let checklist = global.checklist.as_deref();
    let path = match current_journal(global, config)? {
        Some(p) => p,
        None => {
            let now = Utc::now();
            let title = config.incident_title.clone().unwrap_or_else(|| crate::incident::UNTITLED.to_string());
            journal_dir(config)?.join(format!("{}-{}.jsonl", now.format("%Y-%m-%dT%H%M%SZ"), slug(&title)))
        }
    };
    let (journal, mut scan) = Journal::open_shared(&path, config.journal_group.as_deref())?;
    // Monitoring a drill's journal would record real checks in a rehearsal (and its player
    // plays the checks): a second operator joins it instead.
    if let Some(EventBody::IncidentOpened { mode: Mode::Drill, .. }) =
        scan.events.iter().map(|e| &e.body).find(|b| matches!(b, EventBody::IncidentOpened { .. }))
    {
        anyhow::bail!("{} is a drill's journal: take part with `warroom drill --join {0}`", path.display());
    }
    if !journal.writable() {
        return Ok((journal, scan));
    }
    crate::session::election::check(journal.path(), journal.sharing())?;
    if !scan.events.iter().any(|e| matches!(e.body, EventBody::IncidentOpened { .. })) {
        let opened = Event::new(
            author,
            EventBody::IncidentOpened {
                title: config.incident_title.clone().unwrap_or_else(|| crate::incident::UNTITLED.to_string()),
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
