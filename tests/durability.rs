//! Nothing acknowledged is lost: faults injected on real file systems under a real session.
//!
//! A full disk is a tmpfs of a few pages mounted by the test and filled to the brim (tmpfs
//! says ENOSPC on write); a deleted journal and a journal replaced by a stranger's file are
//! the real thing on the test's own directory. (A read-only remount cannot stand in: Linux
//! refuses it, EBUSY, while a file on it is open for writing, which a running warroom's
//! journal always is; and `chattr +i` does not stop a descriptor that is already open.)

mod support;

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::Duration;

use support::tmux::Tmux;
use warroom::journal::{CheckState, Event, EventBody, Journal};
use warroom::session::{Command, Opening, Purpose, Session, Settings, Update};

const BIN: &str = env!("CARGO_BIN_EXE_warroom");
/// Generous: a loaded two-core machine; the writer's backoff reaches 5 s.
const WITHIN: Duration = Duration::from_secs(20);

/// A tmpfs mounted on a directory of its own, unmounted when dropped, even by a failing test.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// `None` (the skip said, or with `CI=true` a failure) where mounting is not permitted.
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let out = Process::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0755"), "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs { dir }),
            other => {
                let why = match other {
                    Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
                    Err(e) => e.to_string(),
                };
                let msg = format!("cannot mount a tmpfs to fill (needs root): {why}");
                assert!(!support::in_ci(), "CI=true: {msg}");
                support::announce_skip(&msg);
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the file system to the brim; returns the filler, whose removal ends the fault.
    fn fill(&self) -> PathBuf {
        let filler = self.path().join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        loop {
            match f.write(&block) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => break,
                Err(e) => panic!("filling the tmpfs: {e}"),
            }
        }
        let err = f.write_all(&[0u8; 1]).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOSPC), "the tmpfs is not full: {err}");
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: a session of the test may still hold the journal open.
        let _ = Process::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

/// tmpfs allocates whole pages: a journal whose last page has room still takes a short line
/// on a "full" disk. A note that ends exactly on a page boundary leaves it none.
fn fill_the_journals_last_page(path: &Path) {
    // SAFETY: sysconf only reads a constant.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64;
    let line = |text: &str| {
        let event = Event::new("padding", EventBody::NoteAdded { text: text.into() });
        // The line as written: the event, the chain's `prev`, the newline.
        (serde_json::to_vec(&event).unwrap().len() + warroom::journal::chain::ATTACHED_BYTES + 1) as u64
    };
    let size = std::fs::metadata(path).unwrap().len();
    let mut room = (page - size % page) % page;
    if room == 0 {
        return;
    }
    if room < line("") {
        room += page;
    }
    let text = "p".repeat((room - line("")) as usize);
    let (journal, _) = Journal::open(path).unwrap();
    journal.append(&Event::new("padding", EventBody::NoteAdded { text })).unwrap();
    assert_eq!(std::fs::metadata(path).unwrap().len() % page, 0);
}

/// A check that is down until `flag` exists, probed every second.
fn flag_check(flag: &Path) -> Settings {
    let text = format!(
        "[[check]]\nname = \"relay\"\nkind = \"command\"\ncommand = [\"sh\", \"-c\", \"test -e {} || exit 2\"]\n\
         interval = \"1s\"\nfail_after = 1\n",
        flag.display()
    );
    let config = warroom::config::parse(&text, Path::new("t.toml")).unwrap();
    Settings::from_config(&config, None)
}

fn start(path: &Path, settings: Settings) -> Session {
    let (journal, scan) = Journal::open(path).unwrap();
    Session::start(Opening { journal, scan, settings, purpose: Purpose::Monitor, author: "alice".into() })
}

/// Waits for the first update `want` picks something from; panics with what came instead.
async fn wait_for<T>(session: &mut Session, what: &str, want: impl Fn(&Update) -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + WITHIN;
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, session.recv()).await {
            Ok(Some(update)) => match want(&update) {
                Some(found) => return found,
                None => seen.push(format!("{update:?}").chars().take(160).collect::<String>()),
            },
            _ => panic!("no {what} within {WITHIN:?}; saw {seen:#?}"),
        }
    }
}

fn pending_id(update: &Update, pick: impl Fn(&EventBody) -> bool) -> Option<String> {
    match update {
        Update::Pending(events) => events.iter().find(|e| pick(&e.body)).map(|e| e.id.clone()),
        _ => None,
    }
}

fn failure(update: &Update) -> Option<String> {
    match update {
        Update::Written { error: Some(e), .. } => Some(e.clone()),
        _ => None,
    }
}

fn written(update: &Update, id: &str) -> Option<()> {
    match update {
        Update::Written { ids, error: None } if ids.iter().any(|i| i == id) => Some(()),
        _ => None,
    }
}

/// How many lines of the file hold this id, and where the journal (as read) has it.
fn lines_with(path: &Path, id: &str) -> usize {
    std::fs::read_to_string(path).unwrap().lines().filter(|l| l.contains(id)).count()
}

fn position(events: &[Event], id: &str) -> Option<usize> {
    events.iter().position(|e| e.id == id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_and_a_check_change_made_while_the_disk_is_full_reach_the_journal_once_in_order_after() {
    let Some(fs) = Tmpfs::mount("256k") else { return };
    let outside = tempfile::tempdir().unwrap();
    let flag = outside.path().join("relay-is-up");
    let path = fs.path().join("j.jsonl");
    let mut session = start(&path, flag_check(&flag));
    // The relay is down, and the journal says so, before the fault.
    let down = wait_for(&mut session, "relay down pending", |u| {
        pending_id(u, |b| matches!(b, EventBody::CheckChanged { to: CheckState::Down, .. }))
    })
    .await;
    wait_for(&mut session, "relay down written", |u| written(u, &down)).await;

    fill_the_journals_last_page(&path);
    let filler = fs.fill();
    let size_in_fault = std::fs::metadata(&path).unwrap().len();
    // During the fault: the relay recovers (recorded by the poller) and a note is saved.
    std::fs::write(&flag, "").unwrap();
    let up = wait_for(&mut session, "relay up pending", |u| {
        pending_id(u, |b| matches!(b, EventBody::CheckChanged { to: CheckState::Up, .. }))
    })
    .await;
    session.send(Command::Append(vec![EventBody::NoteAdded { text: "written while the disk was full".into() }]));
    let note =
        wait_for(&mut session, "note pending", |u| pending_id(u, |b| matches!(b, EventBody::NoteAdded { .. }))).await;
    let error = wait_for(&mut session, "a failed write", failure).await;
    assert!(error.contains("No space left on device"), "{error}");
    // Retried, and still not written (nor half written) while the disk is full.
    wait_for(&mut session, "another failed attempt", failure).await;
    assert_eq!(std::fs::metadata(&path).unwrap().len(), size_in_fault);

    std::fs::remove_file(&filler).unwrap();
    wait_for(&mut session, "the note written", |u| written(u, &note)).await;
    let scan = Journal::read(&path).unwrap();
    assert!(scan.problems.is_empty() && scan.torn_tail().is_none(), "{:?}", scan.warnings(&path));
    let (at_up, at_note) = (position(&scan.events, &up), position(&scan.events, &note));
    assert!(at_up.is_some() && at_note.is_some(), "both are in the journal after the fault");
    assert!(at_up < at_note, "in the order they were made");
    assert!(position(&scan.events, &down) < at_up);
    assert_eq!((lines_with(&path, &up), lines_with(&path, &note)), (1, 1), "exactly once");
    session.leave(WITHIN).await;
}

/// A write the disk cut short: its complete line stays (a reader may have read it), its
/// torn line is cut; the retry writes both again, and readers see each event once.
#[test]
fn a_write_that_partly_landed_is_retried_without_a_torn_line_or_a_double() {
    let Some(fs) = Tmpfs::mount("64k") else { return };
    let path = fs.path().join("j.jsonl");
    let (journal, _) = Journal::open(&path).unwrap();
    journal.append(&Event::new("alice", EventBody::NoteAdded { text: "before".into() })).unwrap();
    fill_the_journals_last_page(&path);
    let one = Event::new("alice", EventBody::NoteAdded { text: "one".into() });
    let two = Event::new("alice", EventBody::NoteAdded { text: "two ".repeat(100) });
    // Room for the first line and a little of the second: one more page, then full.
    let chained = warroom::journal::chain::ATTACHED_BYTES;
    let one_line = (serde_json::to_vec(&one).unwrap().len() + chained) as u64 + 1;
    let page = std::fs::metadata(&path).unwrap().len();
    let filler = fs.fill();
    std::fs::remove_file(&filler).unwrap();
    let mut f = std::fs::File::create(&filler).unwrap();
    let free = fs2_free(fs.path());
    f.write_all(&vec![0u8; (free - 4096) as usize]).unwrap();
    drop(f);
    assert_eq!(fs2_free(fs.path()), 4096, "one page free");
    // Fill the new page but for the first line and 40 bytes.
    let pad = 4096 - one_line - 40;
    let pad_text = "q".repeat(pad as usize - (serde_json::to_vec(&pad_event("")).unwrap().len() + chained + 1));
    journal.append(&pad_event(&pad_text)).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), page + pad);

    let err = journal.append_all(&[one.clone(), two.clone()]).unwrap_err();
    assert!(err.to_string().contains("No space left on device"), "{err}");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.ends_with('\n'), "the torn line was cut");
    assert_eq!(lines_with(&path, &one.id), 1, "the complete line stays");
    assert_eq!(lines_with(&path, &two.id), 0);

    std::fs::remove_file(&filler).unwrap();
    journal.append_all(&[one.clone(), two.clone()]).unwrap();
    assert_eq!(lines_with(&path, &one.id), 2, "written again by the retry");
    let scan = Journal::read(&path).unwrap();
    let texts: Vec<&EventBody> = scan.events.iter().map(|e| &e.body).collect();
    assert_eq!(&texts[texts.len() - 2..], &[&one.body, &two.body], "in order");
    assert_eq!(scan.events.iter().filter(|e| e.id == one.id).count(), 1, "once");
    assert!(scan.problems.is_empty() && scan.torn_tail().is_none());
}

fn pad_event(text: &str) -> Event {
    Event::new("padding", EventBody::NoteAdded { text: text.into() })
}

/// Free bytes on the file system at `dir`.
fn fs2_free(dir: &Path) -> u64 {
    let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: statvfs writes into the struct it is given.
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut s) }, 0);
    s.f_bavail * s.f_frsize
}

#[test]
fn warroom_log_exits_non_zero_when_the_disk_is_full() {
    let Some(fs) = Tmpfs::mount("64k") else { return };
    let path = fs.path().join("j.jsonl");
    let log =
        |text: &str| Process::new(BIN).args(["log", "-j"]).arg(&path).args(["--as", "bob", text]).output().unwrap();
    assert!(log("before").status.success());
    fill_the_journals_last_page(&path);
    let filler = fs.fill();
    let out = log("while full");
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("No space left on device"));
    assert!(out.stdout.is_empty(), "no id is printed for a note that was not written");
    std::fs::remove_file(filler).unwrap();
    assert!(log("after").status.success());
    let texts: Vec<String> = Journal::read(&path)
        .unwrap()
        .events
        .into_iter()
        .filter_map(|e| match e.body {
            EventBody::NoteAdded { text } if e.author == "bob" => Some(text),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["before", "after"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_deleted_under_a_session_is_recreated_with_its_history_and_its_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let (journal, _) = Journal::open(&path).unwrap();
    for text in ["first", "second", "third"] {
        journal.append(&Event::new("bob", EventBody::NoteAdded { text: text.into() })).unwrap();
    }
    drop(journal);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let history = std::fs::read(&path).unwrap();
    let mut session = start(&path, Settings::default());
    let joined = wait_for(&mut session, "joined pending", |u| pending_id(u, |_| true)).await;
    wait_for(&mut session, "joined written", |u| written(u, &joined)).await;
    let ino = std::fs::metadata(&path).unwrap().ino();

    std::fs::remove_file(&path).unwrap();
    let notice = wait_for(&mut session, "the deletion shown", |u| match u {
        Update::Notice(text) if text.contains("copied into a new file") => Some(text.clone()),
        _ => None,
    })
    .await;
    assert!(notice.contains("deleted"), "{notice}");
    assert!(std::fs::read(&path).unwrap().starts_with(&history), "copied before anything is written");
    session.send(Command::Append(vec![EventBody::NoteAdded { text: "after the deletion".into() }]));
    let note =
        wait_for(&mut session, "note pending", |u| pending_id(u, |b| matches!(b, EventBody::NoteAdded { .. }))).await;
    wait_for(&mut session, "note written", |u| written(u, &note)).await;
    // `warroom log` writes into the same new file, and the session sees it.
    let out =
        Process::new(BIN).args(["log", "-j"]).arg(&path).args(["--as", "carol", "from a shell"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    wait_for(&mut session, "carol's note read", |u| match u {
        Update::Entries(events) => events.iter().any(|e| e.author == "carol").then_some(()),
        _ => None,
    })
    .await;
    session.leave(WITHIN).await;

    let meta = std::fs::metadata(&path).unwrap();
    assert_ne!(meta.ino(), ino, "a new file");
    assert_eq!(meta.permissions().mode() & 0o777, 0o640, "with the journal's mode");
    let now = std::fs::read(&path).unwrap();
    assert!(now.starts_with(&history), "the history is still there");
    let scan = Journal::read(&path).unwrap();
    let texts: Vec<&str> = scan
        .events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::NoteAdded { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["first", "second", "third", "after the deletion", "from a shell"]);
    assert!(position(&scan.events, &joined).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_written_into_a_strangers_file_put_in_the_journals_place() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = dir.path().join("j.jsonl");
    let mut session = start(&path, Settings::default());
    let joined = wait_for(&mut session, "joined pending", |u| pending_id(u, |_| true)).await;
    wait_for(&mut session, "joined written", |u| written(u, &joined)).await;
    let history = std::fs::read(&path).unwrap();

    // Somebody else's world-writable file, renamed over the journal.
    let planted = dir.path().join("planted");
    std::fs::write(&planted, "not yours\n").unwrap();
    std::os::unix::fs::chown(&planted, Some(65534), Some(65534)).unwrap();
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o666)).unwrap();
    std::fs::rename(&planted, &path).unwrap();
    wait_for(&mut session, "the replacement shown", |u| match u {
        Update::Notice(text) if text.contains("replaced by another file") => Some(()),
        _ => None,
    })
    .await;
    session.send(Command::Append(vec![EventBody::NoteAdded { text: "kept until a journal is back".into() }]));
    let note =
        wait_for(&mut session, "note pending", |u| pending_id(u, |b| matches!(b, EventBody::NoteAdded { .. }))).await;
    // Refused, and retried (a stale refusal from before the note may come first).
    for _ in 0..2 {
        let error = wait_for(&mut session, "the refusal", failure).await;
        assert!(error.contains("nothing is written into it") && error.contains("65534"), "{error}");
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "not yours\n");

    // The stranger's file goes: the journal comes back from the open descriptor, note included.
    std::fs::remove_file(&path).unwrap();
    wait_for(&mut session, "the note written", |u| written(u, &note)).await;
    let now = std::fs::read(&path).unwrap();
    assert!(now.starts_with(&history));
    assert_eq!(lines_with(&path, &note), 1);
    assert_eq!(std::fs::metadata(&path).unwrap().uid(), unsafe { libc::geteuid() });
    session.leave(WITHIN).await;
}

/// The screen: a note saved during the fault is marked pending and, on quitting or a hang-up,
/// stays in the draft file; the next warroom restores it, and once the disk has room saves it.
#[test]
fn quitting_or_hanging_up_during_the_fault_keeps_the_note_in_the_draft() {
    for hang_up in [false, true] {
        let Some(fs) = Tmpfs::mount("256k") else { return };
        let dir = fs.path();
        std::fs::write(dir.join("warroom.toml"), "[incident]\ntitle = \"t\"\n").unwrap();
        let pid_file = dir.join("warroom.pid");
        let warroom = format!("env HOME={0} {BIN} -c warroom.toml -j j.jsonl --as tester", dir.display());
        let cmd = format!("sh -c '{}'; sleep 60", support::proc::exec_recording_pid(&pid_file, &warroom));
        let Some(t) = Tmux::start(100, 30, &cmd, dir) else { return };
        t.wait_for("1 Checks", Duration::from_secs(10));
        let pid = support::proc::recorded_pid(&pid_file) as i32;
        t.keys(&["i"]);
        t.type_text("the relay is back after the reboot");
        t.wait_for("the relay is back after the reboot", Duration::from_secs(5));
        // Keystrokes are gathered before the draft is written: the fault starts once it is.
        let draft = dir.join("j.jsonl.draft-tester");
        wait_until("the draft on disk", || {
            std::fs::read_to_string(&draft).is_ok_and(|d| d == "the relay is back after the reboot")
        });
        let journal = dir.join("j.jsonl");
        fill_the_journals_last_page(&journal);
        let filler = fs.fill();
        t.keys(&["C-s"]);
        t.wait_for("JOURNAL WRITE FAILED", WITHIN);
        t.wait_for("⧗ pending: the relay is back", Duration::from_secs(5));
        if hang_up {
            // SAFETY: plain kill(2) on the warroom process this test started.
            unsafe { libc::kill(pid, libc::SIGHUP) };
        } else {
            t.keys(&["q"]);
            t.wait_for("not in the journal yet", Duration::from_secs(5));
            t.keys(&["y"]);
        }
        let deadline = std::time::Instant::now() + WITHIN;
        // SAFETY: kill(pid, 0) only probes whether the process this test started exists.
        while unsafe { libc::kill(pid, 0) } == 0 {
            assert!(std::time::Instant::now() < deadline, "warroom did not exit (hang-up: {hang_up})");
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(
            std::fs::read_to_string(&draft).unwrap(),
            "the relay is back after the reboot",
            "hang-up: {hang_up}"
        );
        assert!(!std::fs::read_to_string(&journal).unwrap().contains("the relay is back"));
        drop(t);

        std::fs::remove_file(filler).unwrap();
        let t = Tmux::start(100, 30, &warroom, dir).unwrap();
        t.wait_for("your unsaved note draft was restored", Duration::from_secs(10));
        t.keys(&["4", "Enter"]);
        t.keys(&["C-s"]);
        t.wait_for("note saved to the timeline", WITHIN);
        let scan = Journal::read(&journal).unwrap();
        let saved = scan
            .events
            .iter()
            .filter(
                |e| matches!(&e.body, EventBody::NoteAdded { text } if text == "the relay is back after the reboot"),
            )
            .count();
        assert_eq!(saved, 1);
        wait_until("the draft cleared once the journal has the note", || !draft.exists());
    }
}

/// Polls `done` until it holds (10 s at most).
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A note written and saved once the disk is full, where the operator's own data directory is
/// full too: no disk takes the draft. The quit prompt says so, and once the terminal is
/// restored the note is printed to be copied — never silently dropped.
#[test]
fn a_note_no_disk_takes_is_printed_on_quitting_not_dropped() {
    let Some(fs) = Tmpfs::mount("256k") else { return };
    let dir = fs.path();
    std::fs::write(dir.join("warroom.toml"), "[incident]\ntitle = \"t\"\n").unwrap();
    // HOME on the same full disk: the spare place for the draft refuses it as well.
    let warroom =
        format!("env HOME={0} XDG_DATA_HOME={0}/data {BIN} -c warroom.toml -j j.jsonl --as tester", dir.display());
    let Some(t) = Tmux::start(100, 30, &format!("{warroom}; sleep 60"), dir) else { return };
    t.wait_for("1 Checks", Duration::from_secs(10));
    fill_the_journals_last_page(&dir.join("j.jsonl"));
    let filler = fs.fill();
    t.keys(&["i"]);
    t.type_text("db1 failed over by hand");
    t.keys(&["C-s"]);
    t.wait_for("JOURNAL WRITE FAILED", WITHIN);
    t.wait_for("could not keep the draft on disk", WITHIN);
    t.keys(&["q"]);
    t.wait_for("on NO disk: quitting prints it", Duration::from_secs(5));
    t.keys(&["y"]);
    let shown = t.wait_for("these notes are NOT saved anywhere", WITHIN);
    assert!(shown.contains("db1 failed over by hand"), "{shown}");
    std::fs::remove_file(filler).unwrap();
}

/// Two warrooms on a journal that is deleted: one copies the history into a new file, the
/// other finds that copy and joins it; each sees the other's next note.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sessions_on_a_deleted_journal_end_up_writing_one_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let mut alice = start(&path, Settings::default());
    let (journal, scan) = Journal::open(&path).unwrap();
    let mut bob = Session::start(Opening {
        journal,
        scan,
        settings: Settings::default(),
        purpose: Purpose::Monitor,
        author: "bob".into(),
    });
    for s in [&mut alice, &mut bob] {
        let joined = wait_for(s, "joined pending", |u| pending_id(u, |_| true)).await;
        wait_for(s, "joined written", |u| written(u, &joined)).await;
    }
    std::fs::remove_file(&path).unwrap();
    let mut ids = Vec::new();
    for (s, text) in [(&mut alice, "from alice"), (&mut bob, "from bob")] {
        s.send(Command::Append(vec![EventBody::NoteAdded { text: text.into() }]));
        let id = wait_for(s, "note pending", |u| pending_id(u, |b| matches!(b, EventBody::NoteAdded { .. }))).await;
        wait_for(s, "note written", |u| written(u, &id)).await;
        ids.push(id);
    }
    // Each now reads the other's entries from the one new file.
    ids.push(note_read_by_the_other(&mut alice, &mut bob, "alice again").await);
    ids.push(note_read_by_the_other(&mut bob, &mut alice, "bob again").await);
    let scan = Journal::read(&path).unwrap();
    for id in &ids {
        assert_eq!(scan.events.iter().filter(|e| &e.id == id).count(), 1);
    }
    let joins = scan.events.iter().filter(|e| matches!(e.body, EventBody::OperatorJoined {})).count();
    assert_eq!(joins, 2, "the history, both arrivals, is in the new file");
    alice.leave(WITHIN).await;
    bob.leave(WITHIN).await;
}

async fn note_read_by_the_other(writer: &mut Session, reader: &mut Session, text: &str) -> String {
    writer.send(Command::Append(vec![EventBody::NoteAdded { text: text.into() }]));
    let id = wait_for(writer, "note pending", |u| pending_id(u, |b| matches!(b, EventBody::NoteAdded { .. }))).await;
    wait_for(reader, "the other's note read", |u| match u {
        Update::Entries(events) => events.iter().any(|e| e.id == id).then_some(()),
        _ => None,
    })
    .await;
    id
}

/// `warroom log` creates the journal it does not find: if it does so between the deletion
/// and a running warroom noticing it, the one file at the path ends up holding both.
#[test]
fn a_journal_started_anew_after_a_deletion_is_merged_with_the_history() {
    use warroom::journal::Moved;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let (journal, _) = Journal::open(&path).unwrap();
    let first = Event::new("alice", EventBody::NoteAdded { text: "first".into() });
    journal.append(&first).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let history = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let out =
        Process::new(BIN).args(["log", "-j"]).arg(&path).args(["--as", "carol", "from a shell"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let theirs = std::fs::read(&path).unwrap();

    let late = Event::new("alice", EventBody::NoteAdded { text: "late".into() });
    let err = journal.append(&late).unwrap_err();
    assert!(err.to_string().contains("was deleted") || err.to_string().contains("replaced"), "{err}");
    let moved = journal.reattach().unwrap();
    assert_eq!(moved, Some(Moved::Merged { history: history.len() as u64, theirs: theirs.len() as u64 }));
    journal.append(&late).unwrap();
    let now = std::fs::read(&path).unwrap();
    assert!(now.starts_with(&history), "history first");
    // Then theirs, each line chained on (a journal started anew begins its own chain): the
    // merged journal's chain holds, so a mirror takes it.
    let report = warroom::journal::chain::verify(&path).unwrap();
    assert!(report.breaks.is_empty(), "{:?}", report.breaks);
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
    let texts: Vec<String> = Journal::read(&path)
        .unwrap()
        .events
        .into_iter()
        .filter_map(|e| match e.body {
            EventBody::NoteAdded { text } => Some(text),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["first", "from a shell", "late"]);
    assert!(
        std::fs::read_dir(dir.path()).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().contains("merge")),
        "no temporary file left"
    );
}
