//! Which journal file is "the current incident".
//!
//! In order: `-j FILE`, the config's `journal`, else the newest journal in the journal
//! directory (config `journal_dir`, default the user data dir) whose incident is not yet
//! resolved. Starting the dashboard with none open begins a new incident file there.
//!
//! Drills never are the current incident: their journals live apart, in the journal
//! directory's `drills/`, and a drill journal left in the directory itself (older warrooms
//! put them there) is passed over.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::Utc;

use crate::cli::GlobalArgs;
use crate::config::Config;
use crate::journal::{Event, EventBody, Journal, MAX_LINE_BYTES, Mode, Scan, Status, decode_line, dir};

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
    let (found, skipped) = newest_unresolved(&dir);
    // Nothing found may be a directory this user may not enter, which hides every incident
    // in it: said as the permission problem it is (with its fix), never as "no open incident".
    if found.is_none()
        && let Err(e) = std::fs::read_dir(&dir)
        && e.kind() == std::io::ErrorKind::PermissionDenied
    {
        let sharing = dir::Sharing::from_config(config.journal_group.as_deref())?;
        return Err(dir::diagnose(&dir, e, &sharing, dir::Access::Enter).into());
    }
    if !skipped.is_empty() {
        let what = if found.is_some() { "passed over" } else { "no open incident found; passed over" };
        eprintln!(
            "warroom: {what} {} journal file(s) that may be an open incident: {}",
            skipped.len(),
            skipped.join("; ")
        );
    }
    Ok(found)
}

/// How much of a journal's end is read to learn whether it is resolved: a status change is
/// a short line, written near the end of an incident's life.
const STATUS_TAIL_BYTES: u64 = 1 << 20;

/// What a look at one candidate journal found.
enum Candidate {
    Open,
    Resolved,
    Drill,
    /// Not considered, and why (to tell the operator).
    Skipped(String),
}

/// Walks the directory's journals from the newest to the oldest and returns the first not
/// resolved, with the files passed over on the way that might have been it (unreadable, or
/// of an owner the directory does not explain).
///
/// The directory may be shared: any member can put a file there with a newer name. So one
/// resolved or unreadable file never decides (a planted resolved "incident" would otherwise
/// make every member start an incident of their own), and each is read in bounded pieces:
/// its first line (a drill?) and its tail (resolved?), never the whole of it.
fn newest_unresolved(dir: &Path) -> (Option<PathBuf>, Vec<String>) {
    let Ok(dir_meta) = std::fs::metadata(dir) else { return (None, Vec::new()) };
    let mut skipped = Vec::new();
    for path in crate::journal::journals_in(dir).into_iter().rev() {
        match look_at(&path, &dir_meta) {
            Candidate::Open => return (Some(path), skipped),
            Candidate::Resolved | Candidate::Drill => {}
            Candidate::Skipped(why) => skipped.push(why),
        }
    }
    (None, skipped)
}

/// The newest incident in the journal directory, resolved or not (drills are kept apart):
/// what a report is about once the incident is over. Files passed over as
/// [`newest_unresolved`] passes them (unreadable, a stranger's) are passed over here too.
pub fn newest_incident(config: &Config) -> anyhow::Result<Option<PathBuf>> {
    let dir = journal_dir(config)?;
    let Ok(dir_meta) = std::fs::metadata(&dir) else { return Ok(None) };
    let newest = crate::journal::journals_in(&dir)
        .into_iter()
        .rev()
        .find(|path| matches!(look_at(path, &dir_meta), Candidate::Open | Candidate::Resolved));
    Ok(newest)
}

fn look_at(path: &Path, dir_meta: &std::fs::Metadata) -> Candidate {
    use std::os::unix::fs::MetadataExt;
    let file = match dir::open_read(path, u64::MAX) {
        Ok(file) => file,
        Err(e) => return Candidate::Skipped(e.to_string()),
    };
    let meta = match file.metadata() {
        Ok(meta) => meta,
        Err(e) => return Candidate::Skipped(format!("{}: {e}", dir::shown(path))),
    };
    // SAFETY: geteuid cannot fail.
    let me = unsafe { libc::geteuid() };
    let shared = dir_meta.mode() & 0o020 != 0 && meta.gid() == dir_meta.gid();
    if meta.uid() != me && meta.uid() != dir_meta.uid() && !shared {
        let what = format!("{}: belongs to uid {}, a stranger to this directory", dir::shown(path), meta.uid());
        return Candidate::Skipped(what);
    }
    let bounded = (|| -> std::io::Result<Candidate> {
        if opened_as_drill(&file)? {
            return Ok(Candidate::Drill);
        }
        Ok(match last_status(&file, meta.len())? {
            Some(Status::Resolved) => Candidate::Resolved,
            _ => Candidate::Open,
        })
    })();
    bounded.unwrap_or_else(|e| Candidate::Skipped(format!("{}: {e}", dir::shown(path))))
}

/// Whether the journal's first line opens a drill (read up to one line's limit, no more).
fn opened_as_drill(file: &std::fs::File) -> std::io::Result<bool> {
    use std::io::BufRead;
    let mut first = Vec::new();
    std::io::BufReader::new(file.take(MAX_LINE_BYTES as u64 + 1)).read_until(b'\n', &mut first)?;
    Ok(matches!(
        decode_line(first.strip_suffix(b"\n").unwrap_or(&first)),
        Ok(Some(Event { body: EventBody::IncidentOpened { mode: Mode::Drill, .. }, .. }))
    ))
}

/// The last status change in the journal's last [`STATUS_TAIL_BYTES`] (the whole journal
/// when it is smaller). None found: not resolved.
fn last_status(file: &std::fs::File, len: u64) -> std::io::Result<Option<Status>> {
    use std::os::unix::fs::FileExt;
    let start = len.saturating_sub(STATUS_TAIL_BYTES);
    let mut tail = vec![0u8; (len - start) as usize];
    file.read_exact_at(&mut tail, start)?;
    // A tail that starts mid-line: its first piece is no line.
    let lines = if start > 0 { tail.splitn(2, |&b| b == b'\n').nth(1).unwrap_or(&[]) } else { &tail[..] };
    Ok(lines.split(|&b| b == b'\n').rev().find_map(|line| match decode_line(line) {
        Ok(Some(Event { body: EventBody::StatusChanged { status }, .. })) => Some(status),
        _ => None,
    }))
}

/// Where drill journals are kept: the journal directory's `drills/`, created on first use
/// with the journal directory's own permissions and group, so a shared war room's drills are
/// as shared (and as private) as its incidents. It must be a real directory (a symlink
/// planted there is refused) owned by the journal directory's owner (see [`checked_drills`]).
pub fn drills_dir(config: &Config) -> anyhow::Result<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
    let parent = journal_dir(config)?;
    std::fs::create_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
    let dir = parent.join("drills");
    let like = std::fs::metadata(&parent).with_context(|| parent.display().to_string())?;
    let mode = like.mode() & 0o7777;
    // SAFETY: geteuid cannot fail.
    let me = unsafe { libc::geteuid() };
    let missing = matches!(std::fs::symlink_metadata(&dir), Err(e) if e.kind() == std::io::ErrorKind::NotFound);
    if missing && like.uid() != me {
        // Made by this user it would be theirs: free to empty of other members' drills.
        anyhow::bail!(
            "{} does not exist, and made by you it would be yours alone to delete from; \
             ask the owner of {} ({}) to create it: sudo install -d -o {} -g {} -m {mode:o} {0}",
            dir::shown(&dir),
            dir::shown(&parent),
            user_name(like.uid()),
            user_name(like.uid()),
            group_name(like.gid()),
        );
    }
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
    checked_drills(&dir, &like)?;
    Ok(dir)
}

/// The journal directory's `drills/` for looking at (`--running`, `--join`): never created,
/// and never taken if it is a link or somebody else's (see [`checked_drills`]).
pub fn existing_drills_dir(config: &Config) -> anyhow::Result<PathBuf> {
    let parent = journal_dir(config)?;
    let dir = parent.join("drills");
    match std::fs::symlink_metadata(&dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(dir),
        _ => {
            let like = std::fs::metadata(&parent).with_context(|| parent.display().to_string())?;
            checked_drills(&dir, &like)?;
            Ok(dir)
        }
    }
}

/// `drills/` is taken only as a real directory (its own `lstat`, never a link's target)
/// owned by the journal directory's owner. A member who made it would own it, and a
/// directory's owner may delete anybody's files in it despite the sticky bit, or close it to
/// the others (0700): so a member's `drills/` is refused, naming who owns it and the fix.
fn checked_drills(dir: &Path, parent: &std::fs::Metadata) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(dir).with_context(|| dir::shown(dir))?;
    anyhow::ensure!(
        meta.is_dir(),
        "{} is not a directory (a link or a file is in its place): drills are not kept there",
        dir::shown(dir)
    );
    anyhow::ensure!(
        meta.uid() == parent.uid(),
        "{} belongs to {}, not to {} who owns the journal directory: {} could delete or hide the \
         others' drills; fix: sudo chown {} {0} (or remove it and let its owner create it)",
        dir::shown(dir),
        user_name(meta.uid()),
        user_name(parent.uid()),
        user_name(meta.uid()),
        user_name(parent.uid()),
    );
    Ok(())
}

fn user_name(uid: u32) -> String {
    crate::journal::dir::user_name(uid)
}

fn group_name(gid: u32) -> String {
    crate::journal::dir::group_name(gid)
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
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn journal(dir: &Path, name: &str, mode: Mode, statuses: &[Status]) -> PathBuf {
        let opened = EventBody::IncidentOpened { title: name.into(), severity: 2, mode, checklist: None };
        let bodies = std::iter::once(opened).chain(statuses.iter().map(|&status| EventBody::StatusChanged { status }));
        let text: String = bodies.map(|b| serde_json::to_string(&Event::new("alice", b)).unwrap() + "\n").collect();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn a_newer_resolved_or_strangers_journal_does_not_hide_the_open_incident() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700)).unwrap();
        journal(d, "2026-01-01T000000Z-old.jsonl", Mode::Real, &[Status::Resolved]);
        let open = journal(d, "2026-06-01T000000Z-db.jsonl", Mode::Real, &[Status::Identified]);
        // Planted by a member: newer, and resolved at once.
        journal(d, "2099-01-01T000000Z-zz.jsonl", Mode::Real, &[Status::Resolved]);
        assert_eq!(newest_unresolved(d), (Some(open.clone()), Vec::new()));
        // Newer still: a drill, and an open "incident" of a uid this directory knows nothing of.
        journal(d, "2099-02-01T000000Z-drill.jsonl", Mode::Drill, &[]);
        let stranger = journal(d, "2099-03-01T000000Z-x.jsonl", Mode::Real, &[]);
        std::os::unix::fs::chown(&stranger, Some(54321), Some(54321)).unwrap();
        let (found, skipped) = newest_unresolved(d);
        assert_eq!(found, Some(open));
        assert_eq!(skipped.len(), 1, "{skipped:?}");
        assert!(skipped[0].contains("2099-03-01T000000Z-x.jsonl") && skipped[0].contains("uid 54321"), "{skipped:?}");
    }

    fn config_for(dir: &Path) -> Config {
        Config { journal_dir: Some(dir.to_path_buf()), ..Config::default() }
    }

    #[test]
    fn drills_are_kept_only_in_a_real_directory_of_the_journal_directorys_owner() {
        let base = tempfile::tempdir().unwrap();
        let journals = base.path().join("incidents");
        std::fs::create_dir(&journals).unwrap();
        let config = config_for(&journals);
        let drills = journals.join("drills");
        // A member's drills/: they could delete or hide everybody else's drills.
        std::fs::create_dir(&drills).unwrap();
        std::os::unix::fs::chown(&drills, Some(54321), None).unwrap();
        for err in [drills_dir(&config).unwrap_err(), existing_drills_dir(&config).unwrap_err()] {
            let err = format!("{err:#}");
            assert!(err.contains("belongs to") && err.contains("54321") && err.contains("chown"), "{err}");
        }
        // A link to somewhere else: never followed, not even to list drills.
        std::fs::remove_dir(&drills).unwrap();
        let elsewhere = base.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &drills).unwrap();
        for err in [drills_dir(&config).unwrap_err(), existing_drills_dir(&config).unwrap_err()] {
            assert!(format!("{err:#}").contains("not a directory"), "{err:#}");
        }
        std::fs::remove_file(&drills).unwrap();
        assert_eq!(existing_drills_dir(&config).unwrap(), drills, "missing: nothing to list, nothing made");
        assert!(!drills.exists());
        assert_eq!(drills_dir(&config).unwrap(), drills);
        assert!(std::fs::symlink_metadata(&drills).unwrap().is_dir());
        // A journal directory of somebody else's (root's, in a shared room): a member does not
        // make drills/ (it would be theirs), and is told who can.
        std::fs::remove_dir(&drills).unwrap();
        std::os::unix::fs::chown(&journals, Some(54321), None).unwrap();
        let err = format!("{:#}", drills_dir(&config).unwrap_err());
        assert!(err.contains("install -d -o") && err.contains("drills"), "{err}");
        assert!(!drills.exists());
    }

    #[test]
    fn a_status_is_found_in_a_tail_that_starts_mid_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal(dir.path(), "j.jsonl", Mode::Real, &[]);
        let note = Event::new("alice", EventBody::NoteAdded { text: "x".repeat(4000) });
        let mut text = std::fs::read_to_string(&path).unwrap();
        for _ in 0..400 {
            text += &(serde_json::to_string(&note).unwrap() + "\n");
        }
        text += &(serde_json::to_string(&Event::new("a", EventBody::StatusChanged { status: Status::Resolved }))
            .unwrap()
            + "\n");
        std::fs::write(&path, &text).unwrap();
        assert!(text.len() as u64 > STATUS_TAIL_BYTES);
        let file = std::fs::File::open(&path).unwrap();
        assert_eq!(last_status(&file, text.len() as u64).unwrap(), Some(Status::Resolved));
        assert!(!opened_as_drill(&file).unwrap());
    }

    #[test]
    fn slugs() {
        assert_eq!(super::slug("API outage: EU!"), "api-outage-eu");
        assert_eq!(super::slug("¡¡!!"), "incident");
    }
}
