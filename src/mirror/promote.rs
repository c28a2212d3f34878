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

/// Marks the copy at `path` as a primary (ingest then takes no more lines from the old one)
/// and journals it, signed by `author`.
pub fn promote(path: &Path, author: &str) -> anyhow::Result<Promotion> {
    let config = status::config_path(path);
    let copy: status::Copy = status::read(&status::copy_path(path)).with_context(|| {
        format!("{}: not a mirror's copy (no {} beside it)", path.display(), status::copy_path(path).display())
    })?;
    if status::read::<status::Promoted>(&status::promoted_path(path)).is_some() {
        return Ok(Promotion { config, already: true });
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
