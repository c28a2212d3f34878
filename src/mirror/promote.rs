//! Promotion: a mirror's copy made a primary, by a person, when the primary is gone.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::status;
use crate::journal::{Event, EventBody, Journal};

/// What promoting did.
pub struct Promotion {
    /// The config the primary shipped (secrets removed): what the copy carries on with.
    pub config: PathBuf,
    /// It had been promoted before: nothing was done.
    pub already: bool,
}

/// How long ago the primary last spoke to the copy at `path` (this host's clock), if it is
/// a mirror's copy.
pub fn primary_heard(path: &Path) -> Option<chrono::TimeDelta> {
    let copy: status::Copy = status::read(&status::copy_path(path))?;
    Some((chrono::Utc::now() - copy.heard).max(chrono::TimeDelta::zero()))
}

/// Whether the primary spoke too recently to promote without `--force`: it is silent once
/// the mirror's screen says so ([`status::SILENT_AFTER`], five heartbeats). Promoting a copy
/// whose primary still ships makes two primaries of one incident.
pub fn heard_recently(path: &Path) -> Option<chrono::TimeDelta> {
    primary_heard(path).filter(|ago| *ago < status::SILENT_AFTER)
}

/// Marks the copy at `path` as a primary (ingest then takes no more lines from the old one)
/// and journals it, signed by `author`. Refused while the primary is heard, unless `force`.
pub fn promote(path: &Path, author: &str, force: bool) -> anyhow::Result<Promotion> {
    let config = status::config_path(path);
    let copy: status::Copy = status::read(&status::copy_path(path)).with_context(|| {
        format!("{}: not a mirror's copy (no {} beside it)", path.display(), status::copy_path(path).display())
    })?;
    if status::read::<status::Promoted>(&status::promoted_path(path)).is_some() {
        return Ok(Promotion { config, already: true });
    }
    if let Some(ago) = heard_recently(path).filter(|_| !force) {
        anyhow::bail!(
            "{}: the primary ({}) was heard {} s ago: promoting now makes two primaries of one incident. \
             Wait until it has been silent for {} s (the mirror's screen then says \"primary silent since\"), \
             or promote --force",
            crate::journal::dir::shown(path),
            crate::sanitize::sanitize_str(&copy.primary, 60),
            ago.num_seconds(),
            status::SILENT_AFTER.num_seconds()
        );
    }
    let (journal, _) = Journal::open(path)?;
    let promoted = status::Promoted { at: chrono::Utc::now(), by: author.to_string() };
    // The mark first: from now on ingest takes nothing more, so the note is the copy's
    // first line of its own.
    status::write(&status::promoted_path(path), &promoted, journal.sharing()).map_err(anyhow::Error::msg)?;
    let text = format!(
        "promoted this mirror to primary (the primary, {}, last heard at {} UTC)",
        copy.primary,
        copy.heard.format("%H:%M:%S")
    );
    journal.append(&Event::new(author, EventBody::NoteAdded { text }))?;
    Ok(Promotion { config, already: false })
}
