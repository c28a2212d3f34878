//! The one place that opens files in a journal directory.
//!
//! A shared journal directory is hostile ground: any member of the group can put a symbolic
//! link, a FIFO, a device or a huge file where warroom expects its own file. So nothing here
//! checks a path and opens it afterwards (the path can change in between). Every open uses
//! `O_NOFOLLOW` (a link is refused, never followed) and, for reads, `O_NONBLOCK` (a FIFO never
//! blocks the open); then the open descriptor is judged with `fstat`: a regular file, of a
//! bounded size, owned by whom it must be. Temporaries are unique and created exclusively
//! (the tempfile crate), so no author ever writes through a name another can predict.
//!
//! Files are private (0600, directory 0700) unless the config names a `journal_group`:
//! then the shared files get that group and group read/write (0660), and the recommended
//! directory is group-owned with mode 3770 (setgid: new files get its group; sticky: members
//! cannot delete or replace each other's files).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

mod diagnose;
mod ids;

pub use diagnose::{Access, diagnose};
pub use ids::{euid, group_id, group_name, user_id, user_name};

/// Who shares the files warroom writes beside a journal.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sharing {
    /// The `journal_group`: its name (for messages) and id.
    group: Option<(String, u32)>,
}

impl Sharing {
    /// The operator's alone: files 0600, directory 0700.
    pub const PRIVATE: Sharing = Sharing { group: None };

    /// Shared with the members of `name`: files 0660 and group-owned, directory 3770.
    pub fn group(name: &str) -> Result<Sharing, DirError> {
        let gid = group_id(name).ok_or_else(|| DirError::NoSuchGroup { name: name.to_string() })?;
        Ok(Sharing { group: Some((name.to_string(), gid)) })
    }

    /// From the config's `journal_group`.
    pub fn from_config(journal_group: Option<&str>) -> Result<Sharing, DirError> {
        journal_group.map_or(Ok(Sharing::PRIVATE), Sharing::group)
    }

    pub fn gid(&self) -> Option<u32> {
        self.group.as_ref().map(|(_, gid)| *gid)
    }

    pub fn group_name(&self) -> Option<&str> {
        self.group.as_ref().map(|(name, _)| name.as_str())
    }

    /// Permission bits of a shared file (the journal, the poller lock, live figures, scorecards).
    pub fn file_mode(&self) -> u32 {
        if self.group.is_some() { 0o660 } else { 0o600 }
    }

    /// Permission bits of a journal directory warroom creates.
    pub fn dir_mode(&self) -> u32 {
        if self.group.is_some() { 0o3770 } else { 0o700 }
    }

    /// Gives a file this process created its group and mode, on the descriptor (the creation
    /// mode passes through the umask, which usually drops group write).
    pub fn apply(&self, file: &File) -> io::Result<()> {
        if let Some(gid) = self.gid() {
            std::os::unix::fs::fchown(file, None, Some(gid))?;
        }
        file.set_permissions(std::fs::Permissions::from_mode(self.file_mode()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DirError {
    #[error("{}: {source}", shown(path))]
    Io { path: PathBuf, source: io::Error },
    #[error("no such group \"{name}\" (journal_group in the config); create it or fix the name")]
    NoSuchGroup { name: String },
    #[error(
        "{}: {what}; refused: in a journal directory warroom never follows a link, reads a special \
         file or trusts another user's file (somebody may have put it there): remove it, or name the real file",
        shown(path)
    )]
    Unsafe { path: PathBuf, what: String },
    #[error("{}: {bytes} bytes, over the {limit}-byte limit for this file; not read", shown(path))]
    TooBig { path: PathBuf, bytes: u64, limit: u64 },
    #[error("{}: {problem} (found: owner {owner}, group {group}, mode {mode:04o}); fix: {fix}", shown(path))]
    Permission { path: PathBuf, problem: String, owner: String, group: String, mode: u32, fix: String },
}

impl DirError {
    fn io(path: &Path, source: io::Error) -> DirError {
        DirError::Io { path: path.to_path_buf(), source }
    }

    fn unsafe_file(path: &Path, what: impl Into<String>) -> DirError {
        DirError::Unsafe { path: path.to_path_buf(), what: what.into() }
    }

    /// True for a refusal to open or read (a link, a special or oversized file, someone
    /// else's file), as opposed to an operating-system error.
    pub fn is_refusal(&self) -> bool {
        matches!(self, DirError::Unsafe { .. } | DirError::TooBig { .. })
    }
}

impl From<DirError> for io::Error {
    fn from(e: DirError) -> io::Error {
        let kind = match &e {
            DirError::Io { source, .. } => source.kind(),
            DirError::Permission { .. } => io::ErrorKind::PermissionDenied,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, e.to_string())
    }
}

/// Opens a file for reading without following a link or blocking on a FIFO, and checks the
/// open descriptor: a regular file of at most `limit` bytes.
pub fn open_read(path: &Path, limit: u64) -> Result<File, DirError> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| opened_error(path, e, &Sharing::PRIVATE, Access::Read))?;
    let meta = regular(path, &file)?;
    if meta.len() > limit {
        return Err(DirError::TooBig { path: path.to_path_buf(), bytes: meta.len(), limit });
    }
    Ok(file)
}

/// The whole content of a file opened as [`open_read`] does: never more than `limit` bytes
/// are read, even from a file that grows while it is read.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, DirError> {
    read_open(path, open_read(path, limit)?, limit)
}

/// As [`read_bounded`], for a file that must belong to the user running warroom (a note
/// draft): another member's file, planted under this user's name, is refused.
pub fn read_owned(path: &Path, limit: u64) -> Result<Vec<u8>, DirError> {
    let file = open_owned(path, limit)?;
    read_open(path, file, limit)
}

/// Opens a file as [`open_read`] does, if it is this user's own: owned by the user running
/// warroom, with no other name, and writable by nobody else (see [`read_owned`]).
pub fn open_owned(path: &Path, limit: u64) -> Result<File, DirError> {
    let file = open_read(path, limit)?;
    let meta = file.metadata().map_err(|e| DirError::io(path, e))?;
    let me = euid();
    if meta.uid() != me {
        let what = format!("belongs to {}, not to you ({})", user_name(meta.uid()), user_name(me));
        return Err(DirError::unsafe_file(path, what));
    }
    // Owned is not enough: a file of ours that others may write (the live figures, 0660) can
    // be hard-linked under our draft's name by any member, then filled with their text. A
    // draft is ours only if nobody else can write it and it has no other name.
    if meta.nlink() != 1 {
        return Err(DirError::unsafe_file(path, format!("has {} names (a hard link)", meta.nlink())));
    }
    if meta.mode() & 0o022 != 0 {
        let what = format!("mode {:04o} lets others write it", meta.mode() & 0o7777);
        return Err(DirError::unsafe_file(path, what));
    }
    Ok(file)
}

/// Reads a file opened with [`open_read`] to its end, failing past `limit` bytes.
pub fn read_open(path: &Path, file: File, limit: u64) -> Result<Vec<u8>, DirError> {
    let mut bytes = Vec::with_capacity(file.metadata().map(|m| m.len().min(limit)).unwrap_or(0) as usize);
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| DirError::io(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(DirError::TooBig { path: path.to_path_buf(), bytes: bytes.len() as u64, limit });
    }
    Ok(bytes)
}

/// Replaces `path` with `bytes` atomically (see [`replace_with`]).
pub fn replace(path: &Path, bytes: &[u8], sharing: &Sharing) -> Result<(), DirError> {
    replace_with(path, sharing, |out| out.write_all(bytes))
}

/// Replaces `path` with what `fill` writes, atomically: written (buffered) to a temporary file
/// of this process's own (unique name, created exclusively, so nobody can plant a link where it
/// writes), given the sharing's mode and group on its descriptor, flushed, then renamed over
/// `path`. Writing as it goes, a large file (the live figures of 10,000 rows: 7 MB) needs no
/// copy of itself in memory first.
pub fn replace_with(
    path: &Path,
    sharing: &Sharing,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), DirError> {
    let dir = parent(path);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut tmp =
        tempfile::Builder::new().prefix(&format!(".{name}.")).tempfile_in(dir).map_err(|e| DirError::io(dir, e))?;
    sharing.apply(tmp.as_file()).map_err(|e| DirError::io(tmp.path(), e))?;
    let written = {
        let mut out = std::io::BufWriter::new(tmp.as_file_mut());
        fill(&mut out).and_then(|()| out.flush())
    };
    written.map_err(|e| DirError::io(tmp.path(), e))?;
    tmp.as_file().sync_data().map_err(|e| DirError::io(tmp.path(), e))?;
    // On failure the temporary is removed when the error drops it.
    tmp.persist(path).map(drop).map_err(|e| DirError::io(path, e.error))
}

/// Opens (creating if needed) a file that only serves as a lock: read/write, never through a
/// link, and a regular file. A file this call creates gets the sharing's mode and group.
pub fn open_lock(path: &Path, sharing: &Sharing) -> Result<File, DirError> {
    open_shared_rw(path, sharing, false).map(|(file, _)| file)
}

/// Opens a shared file for writing in place (the live figures, when the sticky directory does
/// not let this user replace another's file). Created with the sharing's mode and group if
/// missing; an existing one must be a regular file (a second name: see [`Linking`]).
pub fn open_write(path: &Path, sharing: &Sharing) -> Result<File, DirError> {
    open_shared_rw(path, sharing, false).map(|(file, _)| file)
}

/// Opens a file read/write (appending if `append`), creating it exclusively with the
/// sharing's mode and group if it does not exist. Returns the file and whether it was created.
pub fn open_shared_rw(path: &Path, sharing: &Sharing, append: bool) -> Result<(File, bool), DirError> {
    open_shared_rw_linking(path, sharing, append, Linking::from_kernel())
}

/// What a hard link to a shared file can mean, by the kernel's `fs.protected_hardlinks`.
///
/// A hard link is a danger when anybody may link any file they can name: then a member could
/// link another user's private file under the journal's name (or the lock's) and have that
/// user's warroom write into it. With `protected_hardlinks = 1` the kernel only lets a user
/// link a file they own or could already read and write, so a second name adds no power:
/// whoever made it could write the file anyway. And refusing it would hand every member a
/// lock-out nobody else can undo (`ln $J ~carol/hide/j`: the victims cannot remove a name in
/// carol's directory). So: second names of the shared files (journal, poller lock, live
/// figures) are accepted when the kernel protects hard links, and refused when it does not
/// or cannot be asked. Files that must be this user's alone (drafts) and a journal taken up
/// after a replacement ([`super::place::acceptable`]) need exactly one name in every case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Linking {
    /// `protected_hardlinks` reads 1.
    Protected,
    /// It reads 0, or could not be read: any file may be linked by anyone.
    Unprotected,
}

impl Linking {
    fn from_kernel() -> Linking {
        let setting = std::fs::read_to_string("/proc/sys/fs/protected_hardlinks");
        if setting.is_ok_and(|s| s.trim() == "1") { Linking::Protected } else { Linking::Unprotected }
    }
}

fn open_shared_rw_linking(
    path: &Path,
    sharing: &Sharing,
    append: bool,
    linking: Linking,
) -> Result<(File, bool), DirError> {
    let flags = libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // Two rounds: the file may be removed or created by someone else in between.
    for _ in 0..2 {
        let existing =
            OpenOptions::new().read(true).write(true).append(append).custom_flags(flags | libc::O_NONBLOCK).open(path);
        match existing {
            Ok(file) => {
                let meta = regular(path, &file)?;
                if meta.nlink() != 1 && linking == Linking::Unprotected {
                    let what = format!(
                        "has {} names (a hard link), and this kernel lets anyone link any file \
                         (fs.protected_hardlinks is not 1)",
                        meta.nlink()
                    );
                    return Err(DirError::unsafe_file(path, what));
                }
                expected_owner(path, &meta, sharing)?;
                return Ok((file, false));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(opened_error(path, e, sharing, Access::Write)),
        }
        let created = OpenOptions::new()
            .read(true)
            .write(true)
            .append(append)
            .create_new(true)
            .mode(sharing.file_mode())
            .custom_flags(flags)
            .open(path);
        match created {
            Ok(file) => {
                sharing.apply(&file).map_err(|e| DirError::io(path, e))?;
                return Ok((file, true));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(opened_error(path, e, sharing, Access::Create)),
        }
    }
    Err(DirError::io(path, io::Error::other("created and removed again while opening; try again")))
}

/// A shared file may be any member's (it has the group); any other file must be this user's.
fn expected_owner(path: &Path, meta: &std::fs::Metadata, sharing: &Sharing) -> Result<(), DirError> {
    if meta.uid() == euid() || sharing.gid() == Some(meta.gid()) {
        return Ok(());
    }
    let whose = format!("belongs to {} (group {})", user_name(meta.uid()), group_name(meta.gid()));
    let what = match sharing.group_name() {
        Some(group) => format!("{whose}: neither yours nor group {group}'s"),
        None => format!("{whose}, not to you; a war room shared between users needs journal_group in the config"),
    };
    Err(DirError::unsafe_file(path, what))
}

/// Makes sure the journal directory exists (creating it with the sharing's mode and group)
/// and that this user can work in it. Returns warnings worth showing: a directory where
/// members can replace each other's files, or one the group cannot write.
pub fn prepare_dir(dir: &Path, sharing: &Sharing) -> Result<Vec<String>, DirError> {
    let meta = match std::fs::metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return create_dir(dir, sharing).map(|()| Vec::new()),
        Err(e) => return Err(diagnose(dir, e, sharing, Access::Enter)),
    };
    if !meta.is_dir() {
        return Err(DirError::unsafe_file(dir, "is not a directory"));
    }
    Ok(dir_warnings(dir, &meta, sharing))
}

fn create_dir(dir: &Path, sharing: &Sharing) -> Result<(), DirError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(sharing.dir_mode() & 0o777)
        .create(dir)
        .map_err(|e| diagnose(dir, e, sharing, Access::Create))?;
    // Opened as a directory, never through a link, to set its group and mode on the descriptor.
    let handle = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(dir)
        .map_err(|e| DirError::io(dir, e))?;
    if let Some(gid) = sharing.gid() {
        std::os::unix::fs::fchown(&handle, None, Some(gid)).map_err(|e| DirError::io(dir, e))?;
    }
    handle.set_permissions(std::fs::Permissions::from_mode(sharing.dir_mode())).map_err(|e| DirError::io(dir, e))
}

fn dir_warnings(dir: &Path, meta: &std::fs::Metadata, sharing: &Sharing) -> Vec<String> {
    let mode = meta.mode() & 0o7777;
    let mut warnings = Vec::new();
    let others_write = mode & 0o022 != 0;
    if others_write && mode & 0o1000 == 0 {
        warnings.push(format!(
            "{}: other users can delete or replace each other's files here (mode {mode:04o}, no sticky bit); \
             fix: chmod {} {}",
            shown(dir),
            if sharing.gid().is_some() { "3770" } else { "+t" },
            shown(dir)
        ));
    }
    // A directory others may write in, and no journal_group: this journal will be private,
    // and the team that shares the directory locked out of it.
    // (A user's private group, named after them, shares nothing.)
    if sharing.group.is_none() && mode & 0o020 != 0 && group_name(meta.gid()) != user_name(euid()) {
        let group = group_name(meta.gid());
        warnings.push(format!(
            "{}: the directory is shared with group {group} (mode {mode:04o}) but journal_group is not set, \
             so journals made here are yours alone; fix: journal_group = \"{group}\" in the config",
            shown(dir)
        ));
    }
    if let Some((name, gid)) = &sharing.group
        && (meta.gid() != *gid || mode & 0o070 != 0o070)
    {
        warnings.push(format!(
            "{}: journal_group is \"{name}\", but the directory is group {} with mode {mode:04o}; \
             fix: chgrp {name} {} && chmod 3770 {}",
            shown(dir),
            group_name(meta.gid()),
            shown(dir),
            shown(dir)
        ));
    }
    warnings
}

/// Turns a failed open into an error that says what is wrong: a refused link, or for a
/// permission problem the path, the owner and mode found, and the fix.
fn opened_error(path: &Path, e: io::Error, sharing: &Sharing, access: Access) -> DirError {
    match e.raw_os_error() {
        Some(libc::ELOOP) => DirError::unsafe_file(path, "is a symbolic link"),
        Some(libc::EACCES | libc::EPERM) => diagnose(path, e, sharing, access),
        _ => DirError::io(path, e),
    }
}

/// Judges an open descriptor: a regular file, or an error naming what it is instead.
fn regular(path: &Path, file: &File) -> Result<std::fs::Metadata, DirError> {
    let meta = file.metadata().map_err(|e| DirError::io(path, e))?;
    let kind = meta.file_type();
    use std::os::unix::fs::FileTypeExt;
    let what = if kind.is_file() {
        return Ok(meta);
    } else if kind.is_dir() {
        "is a directory"
    } else if kind.is_fifo() {
        "is a FIFO (named pipe)"
    } else if kind.is_char_device() || kind.is_block_device() {
        "is a device"
    } else if kind.is_socket() {
        "is a socket"
    } else {
        "is not a regular file"
    };
    Err(DirError::unsafe_file(path, what))
}

/// A path as a message shows it: a file name in a shared directory is anybody's text, so
/// its control characters never reach a terminal.
pub fn shown(path: &Path) -> String {
    crate::sanitize::sanitize_str(&path.display().to_string(), 4096)
}

fn parent(path: &Path) -> &Path {
    path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| crate::sanitize::sanitize_str(&n.to_string_lossy(), 4096)).unwrap_or_else(|| shown(path))
}

/// The `*.jsonl` regular files directly in `dir`, sorted by name (names start with the
/// opening time, so the newest sorts last). The type is the entry's own (`lstat`), never
/// what a link points at: in a shared journal directory a symlink or a FIFO named like a
/// journal is somebody's trap, not a journal.
pub fn journals_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut journals: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    journals.sort();
    journals
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_jsonl_files_count() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("2026-01-01T000000Z-a.jsonl"), "").unwrap();
        std::fs::write(d.join("notes.txt"), "").unwrap();
        std::fs::create_dir(d.join("drills.jsonl")).unwrap();
        std::os::unix::fs::symlink(d.join("notes.txt"), d.join("zz-link.jsonl")).unwrap();
        let fifo = std::ffi::CString::new(d.join("zz-fifo.jsonl").into_os_string().into_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        assert_eq!(super::journals_in(d), vec![d.join("2026-01-01T000000Z-a.jsonl")]);
    }

    #[test]
    fn a_link_a_fifo_and_an_oversized_file_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "private").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&secret, &link).unwrap();
        let err = read_bounded(&link, 100).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = read_bounded(&fifo, 100).unwrap_err();
        assert!(err.to_string().contains("FIFO"), "{err}");
        let err = read_bounded(Path::new("/dev/zero"), 100).unwrap_err();
        assert!(err.to_string().contains("device"), "{err}");
        let err = read_bounded(&secret, 3).unwrap_err();
        assert!(matches!(err, DirError::TooBig { bytes: 7, limit: 3, .. }), "{err}");
        assert_eq!(read_owned(&secret, 100).unwrap(), b"private");
    }

    #[test]
    fn an_own_file_others_can_write_or_linked_under_a_second_name_is_not_owned_text() {
        let dir = tempfile::tempdir().unwrap();
        let samples = dir.path().join("j.jsonl.samples");
        std::fs::write(&samples, "carol's text").unwrap();
        std::fs::set_permissions(&samples, std::fs::Permissions::from_mode(0o600)).unwrap();
        let draft = dir.path().join("j.jsonl.draft-alice");
        std::fs::hard_link(&samples, &draft).unwrap();
        let err = read_owned(&draft, 100).unwrap_err().to_string();
        assert!(err.contains("2 names"), "{err}");
        std::fs::remove_file(&samples).unwrap();
        std::fs::set_permissions(&draft, std::fs::Permissions::from_mode(0o660)).unwrap();
        let err = read_owned(&draft, 100).unwrap_err().to_string();
        assert!(err.contains("mode 0660"), "{err}");
        std::fs::set_permissions(&draft, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_owned(&draft, 100).unwrap(), b"carol's text");
    }

    #[test]
    fn replace_never_writes_through_a_planted_link_and_sets_the_mode() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "untouched").unwrap();
        let target = dir.path().join("j.jsonl.samples");
        // Every name an older warroom would have written through.
        for name in ["j.jsonl.samples.tmp", "j.jsonl.tmp", ".j.jsonl.samples.tmp"] {
            std::os::unix::fs::symlink(&victim, dir.path().join(name)).unwrap();
        }
        replace(&target, b"new", &Sharing::PRIVATE).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"untouched");
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert_eq!(std::fs::metadata(&target).unwrap().mode() & 0o777, 0o600);
    }

    #[test]
    fn a_lock_through_a_link_is_refused_and_a_new_one_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("j.poller");
        open_lock(&lock, &Sharing::PRIVATE).unwrap();
        assert_eq!(std::fs::metadata(&lock).unwrap().mode() & 0o777, 0o600);
        let link = dir.path().join("k.poller");
        std::os::unix::fs::symlink(&lock, &link).unwrap();
        assert!(open_lock(&link, &Sharing::PRIVATE).unwrap_err().to_string().contains("symbolic link"));
    }

    #[test]
    fn a_second_name_of_a_shared_file_is_refused_only_where_the_kernel_lets_anyone_link() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("j.jsonl");
        std::fs::write(&journal, "").unwrap();
        std::fs::set_permissions(&journal, std::fs::Permissions::from_mode(0o600)).unwrap();
        // A member's link in a directory of theirs, which nobody else can remove.
        std::fs::hard_link(&journal, dir.path().join("hidden")).unwrap();
        let sharing = Sharing::PRIVATE;
        open_shared_rw_linking(&journal, &sharing, true, Linking::Protected).unwrap();
        let err = open_shared_rw_linking(&journal, &sharing, true, Linking::Unprotected).unwrap_err().to_string();
        assert!(err.contains("2 names") && err.contains("protected_hardlinks"), "{err}");
    }

    #[test]
    fn a_shared_directory_and_its_files_are_the_groups() {
        // This process's own primary group: always one it may give files to.
        // SAFETY: getegid cannot fail.
        let gid = unsafe { libc::getegid() };
        let sharing = Sharing::group(&group_name(gid)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let journals = dir.path().join("incidents");
        assert!(prepare_dir(&journals, &sharing).unwrap().is_empty());
        let meta = std::fs::metadata(&journals).unwrap();
        assert_eq!((meta.mode() & 0o7777, meta.gid()), (0o3770, gid));
        let figures = journals.join("j.jsonl.samples");
        replace(&figures, b"{}", &sharing).unwrap();
        let meta = std::fs::metadata(&figures).unwrap();
        assert_eq!((meta.mode() & 0o777, meta.gid()), (0o660, gid));
    }

    #[test]
    fn a_new_directory_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let journals = dir.path().join("a/journals");
        assert!(prepare_dir(&journals, &Sharing::PRIVATE).unwrap().is_empty());
        assert_eq!(std::fs::metadata(&journals).unwrap().mode() & 0o7777, 0o700);
        std::fs::set_permissions(&journals, std::fs::Permissions::from_mode(0o777)).unwrap();
        let warnings = prepare_dir(&journals, &Sharing::PRIVATE).unwrap();
        assert!(warnings[0].contains("replace each other's files"), "{warnings:?}");
    }
}
