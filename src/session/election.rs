//! One poller per journal: several operators' warroom processes on one incident must not
//! multiply the probe load. Whoever holds an exclusive lock on `<journal>.poller` probes; the
//! others follow the journal. The kernel releases the lock when its holder exits or is killed,
//! so a follower that keeps trying takes over within its retry period.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::journal::{DirError, Sharing, dir};

/// Held while this process is the poller; dropping it hands the role on.
#[derive(Debug)]
pub struct PollerLock {
    _file: File,
}

pub fn lock_path(journal: &Path) -> PathBuf {
    let mut name = journal.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".poller");
    journal.with_file_name(name)
}

/// Checks, before anything is journaled, that this user can take part in the election: the
/// lock file opens (is created if missing). A permission problem names the path and the fix.
pub fn check(journal: &Path, sharing: &Sharing) -> Result<(), DirError> {
    dir::open_lock(&lock_path(journal), sharing).map(drop)
}

/// Becomes the poller if nobody else is. Never blocks. The lock file is shared as the
/// journal is (every member must be able to open it to take over), never opened through a
/// link; a permission problem says what was found and the fix.
pub fn try_acquire(journal: &Path, sharing: &Sharing) -> Result<Option<PollerLock>, DirError> {
    let path = lock_path(journal);
    let file = dir::open_lock(&path, sharing)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(PollerLock { _file: file })),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(DirError::Io { path, source: e }),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_holder_at_a_time_and_release_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("j.jsonl");
        let private = &super::Sharing::PRIVATE;
        let first = super::try_acquire(&journal, private).unwrap();
        assert!(first.is_some());
        assert!(super::try_acquire(&journal, private).unwrap().is_none());
        drop(first);
        assert!(super::try_acquire(&journal, private).unwrap().is_some());
    }
}
