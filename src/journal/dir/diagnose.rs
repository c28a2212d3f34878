//! Explaining a permission problem: which path is in the way, its owner, group and mode,
//! and the fix. Only called once an operation has failed: it explains, it never decides.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::ids::{euid, group_name, in_group, user_name};
use super::{DirError, Sharing, file_name, parent, shown};

/// What warroom was trying to do when the system said no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Enter (search) a directory.
    Enter,
    /// Create a file or directory.
    Create,
    /// Read a file.
    Read,
    /// Write (append to) a file.
    Write,
}

/// The permission problem behind `e` when warroom tried to `access` `path`: which path is in
/// the way (the file, or the directory above it), its owner, group and mode, and the fix.
/// Called only after an operation failed: it explains, it never decides.
pub fn diagnose(path: &Path, e: io::Error, sharing: &Sharing, access: Access) -> DirError {
    if !matches!(e.raw_os_error(), Some(libc::EACCES | libc::EPERM)) {
        return DirError::io(path, e);
    }
    // The nearest directory above that this user cannot enter is the one in the way.
    for ancestor in path.ancestors().skip(1).filter(|a| !a.as_os_str().is_empty()) {
        if let Ok(meta) = std::fs::metadata(ancestor)
            && !accessible(ancestor, libc::X_OK)
        {
            return permission(ancestor, &meta, "you cannot enter this directory".into(), sharing);
        }
    }
    let (target, problem) = match access {
        Access::Create => (parent(path), format!("you cannot create {} in this directory", file_name(path))),
        Access::Enter => (path, "you cannot enter this directory".to_string()),
        Access::Read => (path, "you cannot read this file".to_string()),
        Access::Write => (path, "you cannot write this file".to_string()),
    };
    match std::fs::metadata(target) {
        Ok(meta) => permission(target, &meta, problem, sharing),
        Err(_) => DirError::io(path, e),
    }
}

fn permission(path: &Path, meta: &std::fs::Metadata, problem: String, sharing: &Sharing) -> DirError {
    let (uid, gid, mode) = (meta.uid(), meta.gid(), meta.mode() & 0o7777);
    let me = user_name(euid());
    let fix = if !in_group(gid) && mode & 0o070 != 0 {
        format!(
            "it is shared with group {}, and you ({me}) are not a member: ask an administrator to run \
             `usermod -aG {} {me}`, then log in again",
            group_name(gid),
            group_name(gid)
        )
    } else if let Some(name) = sharing.group_name() {
        let chmod = if meta.is_dir() { "3770" } else { "660" };
        format!(
            "the owner ({}) or an administrator runs `chgrp {name} {} && chmod {chmod} {}`",
            user_name(uid),
            shown(path),
            shown(path)
        )
    } else {
        format!(
            "set journal_group in the config to a group you share with {} (for example \"{}\"), \
             and have them run `chmod g+rw {}`",
            user_name(uid),
            group_name(gid),
            shown(path)
        )
    };
    DirError::Permission { path: path.to_path_buf(), problem, owner: user_name(uid), group: group_name(gid), mode, fix }
}

/// Whether this process (its effective ids) may `mode` the path. For messages only.
fn accessible(path: &Path, mode: libc::c_int) -> bool {
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()) else { return false };
    // SAFETY: a valid NUL-terminated path; faccessat only reads it.
    unsafe { libc::faccessat(libc::AT_FDCWD, c.as_ptr(), mode, libc::AT_EACCESS) == 0 }
}
