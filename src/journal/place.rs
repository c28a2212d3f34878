//! The journal's place: is the file at the journal's path still the one this process has
//! open? A journal deleted under a running warroom would otherwise swallow every later
//! entry (they vanish with the last descriptor), and one replaced by somebody else's file
//! would receive them. Compared by device and inode.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

use std::borrow::Cow;
use std::collections::HashSet;

use super::{FileLock, Journal, JournalError, chain};

/// What is at the journal's path now.
#[derive(Debug)]
pub enum PathState {
    /// The file this process has open.
    Same,
    /// Nothing: the journal was deleted (or renamed away).
    Deleted,
    /// Another file.
    Replaced(Metadata),
}

impl PathState {
    pub fn describe(&self) -> String {
        match self {
            PathState::Same => "the journal is in place".into(),
            PathState::Deleted => "the journal file was deleted".into(),
            PathState::Replaced(m) => format!(
                "the journal file was replaced by another file (owner uid {}, group gid {}, mode {:04o})",
                m.uid(),
                m.gid(),
                m.mode() & 0o7777
            ),
        }
    }
}

/// What [`Journal::reattach`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Moved {
    /// The journal was deleted: its history, still readable through the open descriptor, was
    /// copied into a new file at the path (same mode and group); writing continues there.
    Recreated { bytes: u64 },
    /// Another warroom had already put the copy there: writing continues in it.
    Joined,
    /// The journal was deleted and another file created at the path before this process
    /// noticed (`warroom log` creates a journal it does not find): a file holding our history
    /// and then that file's lines took its place; writing continues there.
    /// It begins with the same bytes as the old file, so a reader keeps its place.
    Merged { history: u64, theirs: u64 },
    /// The journal was replaced by an edited copy of itself (`sed -i`, an editor saving): a
    /// file holding its events (some of them changed). Writing continues in it as it is — the
    /// old lines are not added again — after the `appended` lines only the old file held
    /// (written while the editor had its copy open), chained on. The session has read every
    /// event up to `read_from` already.
    Edited { appended: usize, read_from: u64 },
    /// The path holds another file that this process may write to (see [`acceptable`]);
    /// its history is not ours, so reading continues from `read_from`.
    Adopted { read_from: u64, why: String },
}

impl Moved {
    /// The notice for the operator. The path's file name is anybody's text in a shared
    /// directory: shown without its control characters.
    pub fn describe(&self, path: &Path) -> String {
        let path = super::dir::shown(path);
        match self {
            Moved::Recreated { bytes } => format!(
                "{path}: the journal file was deleted while open; its history ({bytes} bytes) was copied \
                 into a new file at the same path, and writing continues there"
            ),
            Moved::Joined => {
                format!(
                    "{path}: the journal file was deleted and recreated by another warroom; writing continues there"
                )
            }
            Moved::Merged { history, theirs, .. } => format!(
                "{path}: the journal file was deleted while open and a new one started there; the history \
                 ({history} bytes) and the new file's entries ({theirs} bytes) now make one journal at that path"
            ),
            Moved::Edited { appended, .. } => {
                let kept = match appended {
                    0 => String::new(),
                    n => format!("; {n} entries only the old file held were added at its end"),
                };
                format!(
                    "the journal file was replaced while open (edited by another program?): {path} — writing \
                     continues in the new file, its lines as they are{kept}; restart warroom to see the edit"
                )
            }
            Moved::Adopted { why, .. } => format!(
                "{path}: {why}; it is acceptable (owner and mode), so writing continues in it — restart warroom to \
                 see its history"
            ),
        }
    }
}

pub(super) fn path_state(path: &Path, file: &File) -> PathState {
    let Ok(ours) = file.metadata() else { return PathState::Same };
    // Followed: a journal named through a link of the operator's own is still in place. A
    // link planted in its place points at another file, and that is only ever opened without
    // following links (see `adopt`).
    match std::fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => PathState::Deleted,
        // Cannot tell (a directory made unreadable): the next write says what is wrong.
        Err(_) => PathState::Same,
        Ok(m) if m.dev() == ours.dev() && m.ino() == ours.ino() && ours.nlink() > 0 => PathState::Same,
        Ok(m) => PathState::Replaced(m),
    }
}

/// Whether this process may write into `new`, found where its journal `old` was: a regular
/// file (never a link) with no other name, owned by this user or the journal's owner, or — in a shared war room,
/// whose journal is group-writable — by anyone of the journal's group; with no permission bit
/// the journal did not have (so never world-writable unless the journal was, never setuid).
pub fn acceptable(new: &Metadata, old: &Metadata) -> Result<(), String> {
    if !new.file_type().is_file() {
        return Err("it is not a regular file".into());
    }
    // A second name means the file lives somewhere else too, maybe as somebody's own file
    // linked in here (`ln bobs-file $J`): whatever the kernel's rules on linking, a file is
    // taken up only when the journal's path is its one name.
    if new.nlink() != 1 {
        return Err(format!("it has {} names (a hard link to a file kept elsewhere)", new.nlink()));
    }
    // SAFETY: geteuid cannot fail.
    let me = unsafe { libc::geteuid() };
    let shared = old.mode() & 0o020 != 0 && new.gid() == old.gid();
    if new.uid() != me && new.uid() != old.uid() && !shared {
        return Err(format!("it belongs to uid {}, a stranger to this journal", new.uid()));
    }
    let extra = new.mode() & 0o7777 & !(old.mode() & 0o777);
    if extra != 0 {
        return Err(format!(
            "its mode {:04o} allows more than the journal's {:04o}",
            new.mode() & 0o7777,
            old.mode() & 0o777
        ));
    }
    Ok(())
}

impl Journal {
    /// What is at the journal's path now (a `stat`, cheap enough for every watch tick).
    pub fn path_state(&self) -> PathState {
        path_state(&self.path, &self.file())
    }

    /// Takes up the file at the journal's path if it is no longer the one open: recreates a
    /// deleted journal from the open descriptor, or adopts a replacement that passes
    /// [`acceptable`]. `Ok(None)` when nothing changed; an error when the path holds a file
    /// this process must not write to (nothing is written anywhere until that changes).
    pub fn reattach(&self) -> Result<Option<Moved>, JournalError> {
        let old = self.file();
        let io_err = |e| JournalError::io(&self.path, e);
        // Under the old file's lock: whoever copies the history does so before anybody else
        // (holding this lock to append) notices that the path changed, so the copy is whole.
        let _old_lock = FileLock::exclusive(&old).map_err(io_err)?;
        let moved = match path_state(&self.path, &old) {
            PathState::Same => return Ok(None),
            PathState::Deleted => match self.recreate(&old) {
                Ok((file, bytes)) => Some((file, Moved::Recreated { bytes })),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => None,
                Err(e) => return Err(io_err(e)),
            },
            PathState::Replaced(_) => None,
        };
        let (file, moved) = match moved {
            Some(done) => done,
            None => self.adopt(&old)?,
        };
        *self.file.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(file);
        self.forget_tail();
        Ok(Some(moved))
    }

    /// A new file at the path (created exclusively, never through a link) holding the old
    /// one's complete lines, with its mode and group.
    fn recreate(&self, old: &File) -> io::Result<(File, u64)> {
        let meta = old.metadata()?;
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW)
            .mode(meta.mode() & 0o777)
            .open(&self.path)?;
        let copied = (|| {
            let _lock = FileLock::exclusive(&file)?;
            // The creation mode went through the umask; the group is the directory's.
            file.set_permissions(std::fs::Permissions::from_mode(meta.mode() & 0o777))?;
            if file.metadata()?.gid() != meta.gid() {
                std::os::unix::fs::fchown(&file, None, Some(meta.gid()))?;
            }
            let bytes = copy_complete_lines(old, &file)?;
            file.sync_all()?;
            Ok(bytes)
        })();
        match copied {
            Ok(bytes) => Ok((file, bytes)),
            Err(e) => {
                // Leave no half copy behind: the next attempt starts over.
                let _ = std::fs::remove_file(&self.path);
                Err(e)
            }
        }
    }

    /// The file now at the path, if this process may write to it.
    fn adopt(&self, old: &File) -> Result<(File, Moved), JournalError> {
        let refuse = |why: String| JournalError::Moved { path: self.path.clone(), why };
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&self.path)
            .map_err(|e| refuse(format!("the journal file was replaced, and the new one cannot be opened: {e}")))?;
        let io_err = |e| JournalError::io(&self.path, e);
        let (new, was) = (file.metadata().map_err(io_err)?, old.metadata().map_err(io_err)?);
        let state = PathState::Replaced(new.clone()).describe();
        acceptable(&new, &was).map_err(|why| refuse(format!("{state}; nothing is written into it: {why}")))?;
        // A copy another warroom made holds exactly our history first: then nothing changes
        // for a reader. (Its lock is held while it copies.)
        // Held while comparing (a copy is made under it) and while merging (nobody appends).
        enum Found {
            Same,
            Edited(usize),
            Merged(File, u64, u64),
            Other,
        }
        let found = {
            let _lock = FileLock::exclusive(&file).map_err(io_err)?;
            if starts_with_same_bytes(&file, old, was.len()).map_err(io_err)? {
                Found::Same
            } else if let Some(appended) = take_up_edit(old, &file).map_err(io_err)? {
                Found::Edited(appended)
            } else if was.nlink() == 0 {
                let (merged, history, theirs) = self.merge(old, &file).map_err(io_err)?;
                Found::Merged(merged, history, theirs)
            } else {
                Found::Other
            }
        };
        Ok(match found {
            Found::Same => (file, Moved::Joined),
            Found::Edited(appended) => {
                let read_from = file.metadata().map_err(io_err)?.len();
                (file, Moved::Edited { appended, read_from })
            }
            Found::Merged(merged, history, theirs) => (merged, Moved::Merged { history, theirs }),
            Found::Other => (file, Moved::Adopted { read_from: new.len(), why: state }),
        })
    }

    /// Puts in the path's place a file holding `old`'s complete lines, then `found`'s (unless
    /// `found` only holds a part of them, like a restored copy): nothing of either is lost.
    /// Call holding `found`'s exclusive lock.
    fn merge(&self, old: &File, found: &File) -> io::Result<(File, u64, u64)> {
        let meta = old.metadata()?;
        let dir = self.path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        // Our own name, unpredictable and exclusive: nobody can plant a link where we write.
        let tmp = tempfile::Builder::new().prefix(".journal-merge-").tempfile_in(dir)?;
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(meta.mode() & 0o777))?;
        if tmp.as_file().metadata()?.gid() != meta.gid() {
            std::os::unix::fs::fchown(tmp.as_file(), None, Some(meta.gid()))?;
        }
        let history = copy_complete_lines(old, tmp.as_file())?;
        let theirs_len = found.metadata()?.len();
        let contained = theirs_len <= history && starts_with_same_bytes(old, found, theirs_len)?;
        let theirs = if contained { 0 } else { copy_chained(found, tmp.as_file(), old, history)? };
        tmp.as_file().sync_all()?;
        let placed = tmp.persist(&self.path).map_err(|e| e.error)?;
        // Appends need O_APPEND: reopen what was just put in place, and check it is that.
        let file = OpenOptions::new().read(true).append(true).custom_flags(libc::O_NOFOLLOW).open(&self.path)?;
        let (a, b) = (file.metadata()?, placed.metadata()?);
        if (a.dev(), a.ino()) != (b.dev(), b.ino()) {
            return Err(io::Error::other("the journal file was replaced again while being merged"));
        }
        Ok((file, history, theirs))
    }
}

/// Whether `found`, now at the journal's path, is the journal `old` edited by another program:
/// it holds an event of `old`'s. If so, `old`'s events it lacks (written while the editor had
/// its copy open) are appended to it, chained onto its last line, and their number returned;
/// its own lines stay as they are, so no event stands twice. Call holding `found`'s lock.
fn take_up_edit(old: &File, found: &File) -> io::Result<Option<usize>> {
    let theirs = ids_in(found)?;
    let mut shared = false;
    let mut missing = Vec::new();
    each_complete_line(old, |line| {
        match chain::head_of(line).id {
            Some(id) if theirs.contains(id.as_ref()) => shared = true,
            Some(_) => missing.push(line.to_vec()),
            None => {}
        }
        Ok(())
    })?;
    if !shared {
        return Ok(None);
    }
    if missing.is_empty() {
        return Ok(Some(0));
    }
    // An editor may leave the last line without its newline: it is a line all the same.
    let len = found.metadata()?.len();
    let end = super::last_line_end(found, len, 0)?.unwrap_or(0);
    let mut bytes = if end < len { b"\n".to_vec() } else { Vec::new() };
    let mut head = if end < len {
        let mut last = vec![0u8; (len - end) as usize];
        found.read_exact_at(&mut last, end)?;
        chain::link(&last)
    } else {
        chain::link_to_last_line(found, len)?
    };
    let appended = missing.len();
    for mut line in missing.into_iter().map(without_prev) {
        chain::attach(&mut line, &head);
        head = chain::link(&line);
        bytes.extend_from_slice(&line);
        bytes.push(b'\n');
    }
    (&*found).write_all(&bytes)?;
    found.sync_data()?;
    Ok(Some(appended))
}

/// A line's event without the `prev` warroom attached last, to be chained anew.
fn without_prev(mut line: Vec<u8>) -> Vec<u8> {
    let tail = chain::ATTACHED_BYTES + 1;
    if line.len() > tail && line[line.len() - tail..].starts_with(br#","prev":""#) && line.ends_with(b"\"}") {
        line.truncate(line.len() - tail);
        line.push(b'}');
    }
    line
}

/// The event ids of a file's complete lines.
fn ids_in(file: &File) -> io::Result<HashSet<String>> {
    let mut ids = HashSet::new();
    each_complete_line(file, |line| {
        ids.extend(chain::head_of(line).id.map(Cow::into_owned));
        Ok(())
    })?;
    Ok(ids)
}

fn each_complete_line(file: &File, mut each: impl FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
    use std::io::{BufRead, BufReader, Seek};
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    reader.seek(io::SeekFrom::Start(0))?;
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 || line.pop() != Some(b'\n') {
            return Ok(());
        }
        each(&line)?;
    }
}

fn copy_complete_lines(from: &File, to: &File) -> io::Result<u64> {
    let len = from.metadata()?.len();
    let end = super::last_line_end(from, len, 0)?.unwrap_or(len);
    let mut block = vec![0u8; 1 << 20];
    let mut at = 0;
    while at < end {
        let n = block.len().min((end - at) as usize);
        from.read_exact_at(&mut block[..n], at)?;
        (&*to).write_all(&block[..n])?;
        at += n as u64;
    }
    Ok(end)
}

/// `from`'s lines after the history copied from `old` (`history` bytes): each chained onto the
/// one before, the first onto the history's last line, so the merged journal's chain holds
/// (a journal started anew begins its own chain) and a mirror takes it. A torn last line is
/// copied as it is. Returns the bytes written.
fn copy_chained(from: &File, to: &File, old: &File, history: u64) -> io::Result<u64> {
    let mut head = chain::link_to_last_line(old, history)?;
    let mut bytes = Vec::new();
    each_complete_line(from, |line| {
        let mut line = without_prev(line.to_vec());
        if line.last() == Some(&b'}') {
            chain::attach(&mut line, &head);
        }
        head = chain::link(&line);
        bytes.extend_from_slice(&line);
        bytes.push(b'\n');
        Ok(())
    })?;
    let len = from.metadata()?.len();
    let end = super::last_line_end(from, len, 0)?.unwrap_or(0);
    if end < len {
        let mut torn = vec![0u8; (len - end) as usize];
        from.read_exact_at(&mut torn, end)?;
        bytes.extend_from_slice(&torn);
    }
    (&*to).write_all(&bytes)?;
    Ok(bytes.len() as u64)
}

/// Whether `new` begins with the first `len` bytes of `old` (up to its last complete line).
fn starts_with_same_bytes(new: &File, old: &File, len: u64) -> io::Result<bool> {
    let end = super::last_line_end(old, len, 0)?.unwrap_or(len);
    if new.metadata()?.len() < end {
        return Ok(false);
    }
    let (mut a, mut b) = (vec![0u8; 256 * 1024], vec![0u8; 256 * 1024]);
    let mut at = 0;
    while at < end {
        let n = a.len().min((end - at) as usize);
        old.read_exact_at(&mut a[..n], at)?;
        new.read_exact_at(&mut b[..n], at)?;
        if a[..n] != b[..n] {
            return Ok(false);
        }
        at += n as u64;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replacement_with_another_name_elsewhere_is_not_written_into() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let (journal, _) = Journal::open(&path).unwrap();
        journal
            .append(&crate::journal::Event::new("alice", crate::journal::EventBody::NoteAdded { text: "a".into() }))
            .unwrap();
        // Somebody else's file of the group, linked in where the journal was.
        let victim = dir.path().join("bobs-file");
        std::fs::write(&victim, "bob's\n").unwrap();
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::hard_link(&path, dir.path().join(".keep")).unwrap();
        std::fs::remove_file(&path).unwrap();
        std::fs::hard_link(&victim, &path).unwrap();
        let err = journal.reattach().unwrap_err().to_string();
        assert!(err.contains("2 names"), "{err}");
        let late = crate::journal::Event::new("alice", crate::journal::EventBody::OperatorLeft {});
        assert!(journal.append(&late).is_err());
        assert_eq!(std::fs::read(&victim).unwrap(), b"bob's\n");
    }

    /// `sed -i` on the live journal: the edited copy takes the journal's place; the event
    /// written while sed had its copy open is added once at its end, chained; nothing twice.
    #[test]
    fn a_journal_replaced_by_an_edited_copy_is_written_on_without_its_lines_again() {
        use crate::journal::{Event, EventBody};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let (journal, _) = Journal::open(&path).unwrap();
        let note = |text: &str| Event::new("alice", EventBody::NoteAdded { text: text.into() });
        for i in 0..6 {
            journal.append(&note(&format!("note {i}"))).unwrap();
        }
        // The editor's copy, line 3 made longer.
        let text = std::fs::read_to_string(&path).unwrap();
        let edited = text.replacen("note 2", "note 2, edited by hand", 1);
        let late = note("written while sed worked");
        journal.append(&late).unwrap();
        let tmp = dir.path().join("sedXYZ");
        std::fs::write(&tmp, &edited).unwrap();
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::rename(&tmp, &path).unwrap();

        let moved = journal.reattach().unwrap().unwrap();
        let Moved::Edited { appended, read_from } = moved.clone() else { panic!("{moved:?}") };
        assert_eq!(appended, 1);
        assert_eq!(read_from, std::fs::metadata(&path).unwrap().len());
        let said = moved.describe(&path);
        assert!(said.starts_with("the journal file was replaced while open (edited by another program?)"), "{said}");
        journal.append(&note("after")).unwrap();

        let scan = Journal::read(&path).unwrap();
        let texts: Vec<String> = scan
            .events
            .iter()
            .map(|e| match &e.body {
                EventBody::NoteAdded { text } => text.clone(),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(texts.len(), 8, "every event once: {texts:?}");
        assert_eq!(texts[2], "note 2, edited by hand");
        assert_eq!(&texts[6..], ["written while sed worked", "after"]);
        let ids: HashSet<&str> = scan.events.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids.len(), 8);
        assert_eq!(scan.events[6].id, late.id);
        // The chain breaks at the edit only (line 4); the lines added after it continue it.
        let report = chain::verify(&path).unwrap();
        let at: Vec<usize> = report.breaks.iter().map(|b| b.line).collect();
        assert_eq!(at, [4], "{:?}", report.breaks);
    }

    #[test]
    fn a_notice_shows_a_hostile_path_without_its_escapes() {
        let path = Path::new("/j/2099-01-01T000000Z-\u{1b}]0;OWNED\u{7}x\u{1b}[2J.jsonl");
        for moved in [
            Moved::Recreated { bytes: 1 },
            Moved::Joined,
            Moved::Merged { history: 1, theirs: 2 },
            Moved::Adopted { read_from: 0, why: "replaced".into() },
            Moved::Edited { appended: 1, read_from: 0 },
        ] {
            let text = moved.describe(path);
            assert!(text.contains("/j/2099-01-01T000000Z-x.jsonl"), "{text:?}");
            assert!(!text.chars().any(char::is_control), "{text:?}");
        }
    }
}
