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
    let copy = status::read_copy(path).with_context(|| {
        format!("{}: not a mirror's copy (no {} beside it)", path.display(), status::copy_path(path).display())
    })?;
    status::own_shipped_files(path).map_err(anyhow::Error::msg)?;
    if status::read_promoted(path).is_some() {
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

/// What a promoted copy's config runs on this host, for the operator to review before
/// carrying on with it: each check of kind command and each command channel, by name.
pub fn what_runs(config: &crate::config::Config) -> Vec<String> {
    let checks = config.checks.iter().filter_map(|c| match &c.probe {
        crate::probe::ProbeSpec::Command(spec) => Some(format!("check {}: {}", c.name, spec.command.join(" "))),
        _ => None,
    });
    let channels = config.channels.iter().filter_map(|(name, channel)| match channel {
        crate::comms::Channel::Command { command, .. } => Some(format!("channel {name}: {}", command.join(" "))),
        _ => None,
    });
    checks.chain(channels).collect()
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// A copy as ingest leaves it: the journal, its state file, and a shipped config.
    fn copy(dir: &Path, config: &str) -> PathBuf {
        let path = dir.join("incident.jsonl");
        let (journal, _) = Journal::open(&path).unwrap();
        journal.append(&Event::new("alice", EventBody::NoteAdded { text: "one".into() })).unwrap();
        let state = status::Copy {
            primary: "root@bastion".into(),
            heard: chrono::Utc::now(),
            skew_ms: 0,
            lines: 1,
            head: String::new(),
            diverged: None,
        };
        status::write(&status::copy_path(&path), &state, &crate::journal::Sharing::PRIVATE).unwrap();
        std::fs::write(status::config_path(&path), config).unwrap();
        std::fs::set_permissions(status::config_path(&path), std::fs::Permissions::from_mode(0o600)).unwrap();
        path
    }

    const COMMANDS: &str = r#"
[[check]]
name = "disk"
kind = "command"
command = ["/usr/local/bin/check-disk", "-x"]
[[check]]
name = "web"
kind = "http"
url = "http://127.0.0.1/"
[channel.pager]
kind = "command"
command = ["/usr/local/bin/page"]
"#;

    #[test]
    fn promote_says_which_commands_the_shipped_config_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = copy(dir.path(), COMMANDS);
        let done = promote(&path, "alice", true).unwrap();
        let config = crate::config::load(&done.config).unwrap();
        assert_eq!(
            what_runs(&config),
            ["check disk: /usr/local/bin/check-disk -x", "channel pager: /usr/local/bin/page"]
        );
    }

    #[test]
    fn a_shipped_config_others_may_write_is_refused_by_promote_and_by_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = copy(dir.path(), COMMANDS);
        let config = status::config_path(&path);
        // Group-writable: another member could have written it (a file of theirs, or ours
        // they were let write) — so it is not run.
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o660)).unwrap();
        let err = promote(&path, "alice", true).err().expect("promote refuses it").to_string();
        assert!(err.contains("lets others write it"), "{err}");
        assert!(status::read::<status::Promoted>(&status::promoted_path(&path)).is_none());
        let err = crate::config::load(&config).unwrap_err().to_string();
        assert!(err.contains("lets others write it"), "{err}");
        // A second name (a hard link another member made) is refused too.
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::hard_link(&config, dir.path().join("other")).unwrap();
        assert!(crate::config::load(&config).unwrap_err().to_string().contains("hard link"));
    }

    #[test]
    fn a_shipped_config_owned_by_another_user_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = copy(dir.path(), COMMANDS);
        let config = status::config_path(&path);
        if crate::journal::dir::euid() != 0 {
            eprintln!("SKIPPED: changing a file's owner needs root");
            return;
        }
        std::os::unix::fs::chown(&config, Some(65534), None).unwrap();
        let err = promote(&path, "alice", true).err().expect("promote refuses it").to_string();
        assert!(err.contains("not to you"), "{err}");
        assert!(crate::config::load(&config).unwrap_err().to_string().contains("not to you"));
    }
}
