//! One poller per journal: several operators' warroom processes on one incident must not
//! multiply the probe load. Whoever holds an exclusive lock on `<journal>.poller` probes; the
//! others follow the journal. The kernel releases the lock when its holder exits or is killed,
//! so a follower that keeps trying takes over within its retry period.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

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

/// Becomes the poller if nobody else is. Never blocks.
pub fn try_acquire(journal: &Path) -> io::Result<Option<PollerLock>> {
    let file = OpenOptions::new().create(true).truncate(false).write(true).mode(0o600).open(lock_path(journal))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(PollerLock { _file: file })),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_holder_at_a_time_and_release_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("j.jsonl");
        let first = super::try_acquire(&journal).unwrap();
        assert!(first.is_some());
        assert!(super::try_acquire(&journal).unwrap().is_none());
        drop(first);
        assert!(super::try_acquire(&journal).unwrap().is_some());
    }
}
