//! What the commander's verbs share: the current incident's journal and its fold, an entry
//! named by its id, and appending through the same writer every session uses.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use chrono::DateTime;
use chrono::Utc;

use crate::cli::GlobalArgs;
use crate::config::Config;
use crate::drill::ScaledClock;
use crate::incident::Incident;
use crate::journal::{Event, EventBody, Journal, Retry, WriteError, Writer};
use crate::sanitize::sanitize_str;

/// The caller asked for something that cannot be done as asked: exit 1 with the reason.
/// Anything else going wrong is warroom's failure (exit 3).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

pub fn refuse(why: impl Into<String>) -> anyhow::Error {
    Refused(why.into()).into()
}

/// The incident a verb acts on, as the journal has it now.
pub struct Current {
    pub config: Config,
    pub author: String,
    pub incident: Incident,
    journal: Arc<Journal>,
}

/// Opens the current incident's journal (`-j`, the config's, or the newest open one). Unlike
/// the dashboard, a verb never starts an incident: `warroom open` does.
pub fn open(global: &GlobalArgs) -> anyhow::Result<Current> {
    let config = super::load_config(global)?;
    let author = super::author(global);
    let path = super::current_journal(global, &config)?
        .context("no open incident journal: start one with `warroom open TITLE`, or name it with -j FILE")?;
    if std::fs::symlink_metadata(&path).is_err() {
        return Err(refuse(format!(
            "{}: no such journal; start an incident with `warroom open TITLE`",
            path.display()
        )));
    }
    let (journal, scan) = Journal::open_shared(&path, config.journal_group.as_deref())?;
    super::tell_notices(&journal);
    for warning in scan.warnings(journal.path()) {
        eprintln!("warroom: {warning}");
    }
    let incident = Incident::from_events(scan.events);
    Ok(Current { config, author, incident, journal: Arc::new(journal) })
}

impl Current {
    /// A journal opened by other means (`warroom open` creates its own).
    pub fn adopt(config: Config, author: String, incident: Incident, journal: Journal) -> Current {
        Current { config, author, incident, journal: Arc::new(journal) }
    }

    /// Now, as this incident's entries are stamped: in a drill, scenario time (its clock runs
    /// from its `drill_started` at its speed, as the player's does), so a verb typed during a
    /// drill lands where the scorecard measures it; else the wall's time.
    pub fn now(&self) -> DateTime<Utc> {
        clock_of(&self.incident).now()
    }

    pub fn path(&self) -> &Path {
        self.journal.path()
    }

    /// Appends the bodies as one batch, signed by this author and stamped now, and returns
    /// their ids once they are on disk. An entry the journal refuses (too large) is the
    /// caller's to shorten: [`Refused`].
    pub fn append(&self, bodies: Vec<EventBody>) -> anyhow::Result<Vec<String>> {
        let now = self.now();
        self.append_events(bodies.into_iter().map(|b| Event::at(now, &self.author, b)).collect())
    }

    /// As [`Current::append`], for events already made.
    pub fn append_events(&self, events: Vec<Event>) -> anyhow::Result<Vec<String>> {
        let ids = events.iter().map(|e| e.id.clone()).collect();
        let journal = self.journal.clone();
        let written = runtime()?.block_on(async move {
            let writer = Writer::spawn(journal, tokio::sync::mpsc::unbounded_channel().0, Retry::Never);
            writer.write(events).await
        });
        match written {
            Ok(()) => Ok(ids),
            Err(WriteError::Refused(why)) => Err(refuse(why)),
            Err(WriteError::Failed(why)) => Err(anyhow::anyhow!(why)),
        }
    }

    /// The timeline position of the entry named by `given`: its whole id, or a part of it
    /// (six characters or more) that begins or ends exactly one id.
    pub fn entry(&self, given: &str) -> anyhow::Result<usize> {
        let given = given.trim();
        if let Some(i) = self.incident.find(given) {
            return Ok(i);
        }
        let shown = sanitize_str(given, 60);
        if given.chars().count() < 6 {
            return Err(refuse(format!(
                "no entry has the id \"{shown}\" (give the whole id, or six characters or more of it)"
            )));
        }
        let mut found = self
            .incident
            .timeline
            .iter()
            .enumerate()
            .filter(|(_, e)| e.id.starts_with(given) || e.id.ends_with(given))
            .map(|(i, _)| i);
        match (found.next(), found.count()) {
            (Some(i), 0) => Ok(i),
            (None, _) => Err(refuse(format!("no entry in {} has an id like \"{shown}\"", self.path().display()))),
            (Some(_), more) => {
                Err(refuse(format!("\"{shown}\" is part of {} entries' ids: give more of the id", more + 1)))
            }
        }
    }
}

/// The clock an incident's entries are stamped by: a drill's scenario clock, else real time.
pub fn clock_of(incident: &Incident) -> ScaledClock {
    match &incident.drill {
        Some(drill) if incident.is_drill() => ScaledClock::resumed(drill.started, drill.speed),
        _ => ScaledClock::real(),
    }
}

/// A runtime for one verb's asynchronous steps (the writer, a delivery).
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

/// A name typed on the command line (a role, a person, an owner): one line of printable
/// text, so that it shows the same on every screen and in every report.
pub fn plain_name(what: &str, given: &str, max: usize) -> anyhow::Result<String> {
    crate::commands::plain_name(what, given, max).map_err(refuse)
}

/// The checklist the screen would follow: `--checklist`, the config's, else the one the
/// incident recorded if it is built in (a journal never makes warroom open a file it names).
pub fn checklist(
    global: &GlobalArgs,
    config: &Config,
    incident: &Incident,
) -> anyhow::Result<crate::checklist::Checklist> {
    let recorded = incident.checklist_name.as_deref().filter(|n| crate::checklist::is_built_in(n));
    let name = global.checklist.as_deref().or(config.checklist.as_deref()).or(recorded).unwrap_or("default");
    Ok(crate::checklist::load(name)?)
}
