//! The operator's note draft, kept on disk so a crash, a cut link or a quit during a disk
//! fault never loses what was typed or saved but not yet journaled.
//!
//! The draft lives beside the journal, private to its author. When that disk refuses it (the
//! very fault that keeps notes out of the journal), a second copy goes to the operator's own
//! data directory, usually on another file system; and if both fail, the screen says so
//! before quitting and the notes are printed on the terminal once it is restored.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::time::Instant;

use super::App;
use crate::journal::{DirError, Sharing, dir};

/// A draft larger than this is not restored: notes are journal lines, and no line is longer.
const MAX_DRAFT_BYTES: u64 = crate::journal::MAX_LINE_BYTES as u64;

/// Keystrokes are gathered this long before the draft is written: one write per burst of
/// typing, not one per key (a failing disk makes each write slow).
const GATHER: Duration = Duration::from_millis(250);

/// Where this operator's note draft is kept: beside the journal, one per author.
pub fn draft_path(journal: &Path, author: &str) -> PathBuf {
    let mut name = journal.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".draft-{}", file_safe(author)));
    journal.with_file_name(name)
}

/// The second place: the operator's own data directory, named after the journal's path.
fn spare_path(journal: &Path, author: &str) -> Option<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "warroom")?;
    let journal = std::path::absolute(journal).unwrap_or_else(|_| journal.to_path_buf());
    let name = format!("{}.draft-{}", file_safe(&journal.display().to_string()), file_safe(author));
    Some(dirs.data_local_dir().join("drafts").join(name))
}

fn file_safe(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() || "@.-_".contains(c) { c } else { '_' }).collect()
}

/// Keeps the draft on disk: writes are gathered, then made to the first place that takes
/// them; remembers whether the last write reached any.
pub struct Keeper {
    path: PathBuf,
    spare: Option<PathBuf>,
    /// The text to write, and when.
    due: Option<(String, Instant)>,
    /// Why the last write reached neither place.
    pub failed: Option<String>,
    /// The text one of the places holds now: writing it again would change nothing (and, on
    /// a full disk, would fail for nothing).
    written: Option<String>,
}

impl Keeper {
    pub fn new(journal: &Path, author: &str) -> Keeper {
        Keeper {
            path: draft_path(journal, author),
            spare: spare_path(journal, author),
            due: None,
            failed: None,
            written: None,
        }
    }

    /// The draft changed: written once typing pauses.
    pub fn keep(&mut self, text: String) {
        let at = self.due.as_ref().map_or_else(|| Instant::now() + GATHER, |(_, at)| *at);
        self.due = Some((text, at));
    }

    /// When a gathered draft is to be written, if one waits.
    pub fn due_at(&self) -> Option<Instant> {
        self.due.as_ref().map(|(_, at)| *at)
    }

    /// Writes a waiting draft now. Returns the failure to show, if it reached no place.
    pub fn flush(&mut self) -> Option<String> {
        let (text, _) = self.due.take()?;
        self.write(&text)
    }

    /// Writes `text` (the final draft, on leaving) to the first place that takes it, and
    /// clears the other so an old copy is never restored.
    pub fn write(&mut self, text: &str) -> Option<String> {
        self.due = None;
        if self.written.as_deref() == Some(text) {
            return None;
        }
        let first = save(&self.path, text);
        let outcome = match (&first, &self.spare) {
            (Ok(()), Some(spare)) => save(spare, "").or(Ok(())),
            (Ok(()), None) => Ok(()),
            (Err(e), Some(spare)) => save(spare, text).map_err(|e2| format!("{e}; and {}: {e2}", spare.display())),
            (Err(e), None) => Err(e.to_string()),
        };
        self.written = outcome.is_ok().then(|| text.to_string());
        self.failed = outcome.err().map(|why| format!("could not keep the draft on disk: {why}"));
        self.failed.clone()
    }

    /// Puts the draft this user left back in the notes: beside the journal, else the spare.
    pub fn restore(&mut self, app: &mut App) {
        for (i, place) in std::iter::once(&self.path).chain(&self.spare).enumerate() {
            match read_owned(place) {
                Ok(Some(text)) => {
                    app.set_draft(&text);
                    self.written = Some(text);
                    let from =
                        if i == 0 { "" } else { " (from your own data directory: the journal's disk refused it)" };
                    app.flash = Some(format!("your unsaved note draft was restored{from}"));
                    return;
                }
                Ok(None) => {}
                Err(e) => app.flash = Some(crate::sanitize::sanitize_str(&format!("draft not restored: {e}"), 1000)),
            }
        }
    }
}

/// Keeps the draft private to its author (0600): written to a temporary file of our own
/// (unique, created exclusively, so nobody can plant a link where we write), then renamed, so
/// a crash never leaves half a draft. An empty draft removes the file.
fn save(path: &Path, text: &str) -> std::io::Result<()> {
    if text.is_empty() {
        return match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty() && !p.exists()) {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(parent)?;
    }
    Ok(dir::replace(path, text.as_bytes(), &Sharing::PRIVATE)?)
}

/// Only a regular file owned by the user running warroom is read, never through a link: in a
/// shared directory another member could plant a "draft" (or a link to this user's private
/// file) under this user's name.
fn read_owned(path: &Path) -> Result<Option<String>, DirError> {
    match dir::read_owned(path, MAX_DRAFT_BYTES) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(DirError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_the_journal_disk_refuses_goes_to_the_spare_and_comes_back_from_it() {
        let dir = tempfile::tempdir().unwrap();
        let spare = dir.path().join("own/drafts/j.draft-alice");
        // A journal directory that refuses the draft: a plain file stands where it should be.
        let mut keeper = Keeper {
            path: dir.path().join("not-a-dir/j.jsonl.draft-alice"),
            spare: Some(spare.clone()),
            due: None,
            failed: None,
            written: None,
        };
        std::fs::write(dir.path().join("not-a-dir"), "").unwrap();
        assert_eq!(keeper.write("the relay is back"), None);
        assert_eq!(std::fs::read_to_string(&spare).unwrap(), "the relay is back");
        keeper.spare = None;
        assert!(keeper.write("more").unwrap().starts_with("could not keep the draft on disk"), "no place took it");
    }

    #[test]
    fn keystrokes_are_gathered_into_one_write() {
        let mut keeper = Keeper::new(Path::new("/nonexistent/j.jsonl"), "alice");
        keeper.keep("a".into());
        let (_, first) = keeper.due.clone().unwrap();
        keeper.keep("ab".into());
        assert_eq!(keeper.due.clone().unwrap(), ("ab".to_string(), first), "the latest text, at the first due time");
    }
}
