//! Off-site mirrors over a real OpenSSH server: a primary's headless session ships its
//! journal to `warroom ingest` on the far side, through cuts, kills and edits; promotion of
//! the mirror; merge of diverged journals (a golden test).
//!
//! "Shown as mirrored" is the primary's `<journal>.mirrors` file, which every session on the
//! primary reads for its header: a mirror's `acked_lines` are the lines of the journal the
//! mirror has acknowledged on its disk.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::sshd::{Netns, SshClient, Sshd};

const BIN: &str = env!("CARGO_BIN_EXE_warroom");
/// Every wait here is for something that takes a second or two; the bound keeps more than
/// 3x margin on a loaded machine.
const WITHIN: Duration = Duration::from_secs(60);

/// A primary journal and its config on this host, and the mirror's copy "on" the sshd's.
struct Room {
    dir: tempfile::TempDir,
    primary: PathBuf,
    copy: PathBuf,
    config: PathBuf,
    env: (&'static str, String),
}

impl Room {
    fn new(client: &SshClient, extra: &str) -> Room {
        let dir = tempfile::tempdir().unwrap();
        let primary = dir.path().join("primary").join("incident.jsonl");
        let copy = dir.path().join("fra").join("incident.jsonl");
        let config = dir.path().join("warroom.toml");
        std::fs::write(
            &config,
            format!(
                "{extra}\n[[mirror]]\nname = \"fra\"\nssh = \"fra\"\njournal = {:?}\ncommand = {BIN:?}\n",
                copy.display().to_string()
            ),
        )
        .unwrap();
        let room = Room { dir, primary, copy, config, env: client.env() };
        let out = room.warroom(&["open", "Datacenter", "fire"]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        room
    }

    fn warroom(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("-c").arg(&self.config).arg("-j").arg(&self.primary).args(args).env(self.env.0, &self.env.1);
        c
    }

    /// The primary's headless session (it ships), its output in a file, its notices (stderr)
    /// in another.
    fn start_primary(&self) -> Child {
        let out = std::fs::File::create(self.dir.path().join("primary.out")).unwrap();
        let err = std::fs::File::create(self.dir.path().join("primary.err")).unwrap();
        self.warroom(&["--headless"]).stdin(Stdio::null()).stdout(out).stderr(err).spawn().unwrap()
    }

    /// `n` notes through `warroom log --stdin`, as a script would write them.
    fn log(&self, prefix: &str, n: usize) {
        let mut child = self.warroom(&["log", "--stdin"]).stdin(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        for i in 0..n {
            writeln!(stdin, "{prefix} {i}").unwrap();
        }
        drop(stdin);
        assert!(child.wait().unwrap().success());
    }

    /// Waits until the copy holds exactly the primary's bytes: every line once, in order.
    fn wait_in_step(&self) {
        let deadline = Instant::now() + WITHIN;
        loop {
            let bytes = |p: &Path| std::fs::read(p).unwrap_or_default();
            let (p, c) = (bytes(&self.primary), bytes(&self.copy));
            if !p.is_empty() && p == c {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the copy never caught up: primary {} lines, copy {} lines; shipping: {}",
                p.split(|b| *b == b'\n').count() - 1,
                c.split(|b| *b == b'\n').count() - 1,
                read(&mirrors_path(&self.primary))
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The mirror's line as the primary shows it (its status file), once it says `want`.
    fn wait_status(&self, want: &str) -> serde_json::Value {
        let deadline = Instant::now() + WITHIN;
        loop {
            let text = read(&mirrors_path(&self.primary));
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
                && text.contains(want)
            {
                return v["mirrors"][0].clone();
            }
            assert!(Instant::now() < deadline, "the primary never showed {want:?}: {text}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn mirrors_path(journal: &Path) -> PathBuf {
    journal.with_file_name(format!("{}.mirrors", journal.file_name().unwrap().to_string_lossy()))
}

fn stop(mut child: Child) {
    // SAFETY: kill(2) on a child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
}

fn ids(path: &Path) -> Vec<String> {
    read(path)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_str().unwrap().to_string())
        .collect()
}

fn setup(ns: Option<&Netns>) -> Option<(SshClient, Sshd)> {
    let mut client = SshClient::new()?;
    let server = Sshd::start(&mut client, "fra", ns)?;
    Some((client, server))
}

#[test]
fn a_mirror_stays_in_step_over_a_thousand_events() {
    let Some((client, _server)) = setup(None) else { return };
    let room = Room::new(&client, "");
    let primary = room.start_primary();
    room.log("note", 1000);
    room.wait_in_step();
    let status = room.wait_status("\"behind_since\":null");
    assert_eq!(status["acked_lines"].as_u64().unwrap() as usize, read(&room.primary).lines().count(), "{status}");
    // The copy is a whole journal there: validate proves its chain whole.
    let out = Command::new(BIN).args(["validate", "-j"]).arg(&room.copy).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && said.contains("chain whole"), "{said}");
    stop(primary);
}

/// Lines keep coming while the link is cut (for `hold`, long enough for the link to be
/// given up); it comes back, and the copy ends exactly as the primary: nothing twice,
/// nothing missing, over a new connection.
fn cut_mid_stream(server: &Sshd, client: &SshClient, hold: Duration, cut: impl FnOnce(), restore: impl FnOnce()) {
    let room = Room::new(client, "");
    let primary = room.start_primary();
    room.log("before", 200);
    room.wait_in_step();
    let before = server.connection_pids();
    assert!(!before.is_empty());
    std::thread::scope(|s| {
        let writing = s.spawn(|| {
            for i in 0..30 {
                room.log(&format!("during {i}"), 10);
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        std::thread::sleep(Duration::from_millis(300));
        cut();
        std::thread::sleep(hold);
        restore();
        writing.join().unwrap();
    });
    room.log("after", 200);
    room.wait_in_step();
    let copy = ids(&room.copy);
    let unique: std::collections::HashSet<&String> = copy.iter().collect();
    assert_eq!(unique.len(), copy.len(), "an event was written twice on the mirror");
    assert_eq!(copy, ids(&room.primary));
    // The old connection's ingest gave up on its silent link and is gone; a new one carries on.
    let deadline = Instant::now() + WITHIN;
    loop {
        let after = server.connection_pids();
        if !after.is_empty() && after.iter().all(|p| !before.contains(p)) {
            break;
        }
        assert!(Instant::now() < deadline, "the old connection is still there: {before:?} {after:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    stop(primary);
}

#[test]
fn a_killed_connection_mid_stream_catches_up_without_duplicate_or_gap() {
    let Some(ns) = Netns::create() else { return };
    let Some((client, server)) = setup(Some(&ns)) else { return };
    cut_mid_stream(&server, &client, Duration::from_millis(500), || server.kill_connections(), || {});
}

#[test]
fn dropped_packets_mid_stream_catch_up_without_duplicate_or_gap() {
    let Some(ns) = Netns::create() else { return };
    let Some((client, server)) = setup(Some(&ns)) else { return };
    // Longer than the link's silence bound (5 s): the shipper gives the link up and reconnects.
    cut_mid_stream(&server, &client, Duration::from_secs(8), || ns.drop_packets(), || ns.pass_packets());
}

/// The primary killed with -9 while lines stream: every line its status file showed as
/// mirrored is on the mirror's disk, byte for byte.
#[test]
fn kill_9_of_the_primary_loses_nothing_it_showed_as_mirrored() {
    let Some((client, _server)) = setup(None) else { return };
    let room = Room::new(&client, "");
    let mut primary = room.start_primary();
    room.log("before", 50);
    room.wait_in_step();
    std::thread::scope(|s| {
        let writing = s.spawn(|| {
            for i in 0..40 {
                room.log(&format!("stream {i}"), 10);
            }
        });
        // Killed once the mirror has acknowledged a good part of the stream.
        let deadline = Instant::now() + WITHIN;
        while room.wait_status("acked_lines")["acked_lines"].as_u64().unwrap() < 200 {
            assert!(Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(10));
        }
        primary.kill().unwrap();
        primary.wait().unwrap();
        let shown = room.wait_status("acked_lines");
        let acked = shown["acked_lines"].as_u64().unwrap() as usize;
        writing.join().unwrap();
        let primary_lines: Vec<String> = read(&room.primary).lines().map(String::from).collect();
        assert!(acked < primary_lines.len(), "the kill came mid-stream: {acked} of {}", primary_lines.len());
        // The ingest may still be writing what was in flight: what was shown is there already.
        let copy: Vec<String> = read(&room.copy).lines().map(String::from).collect();
        assert!(copy.len() >= acked, "shown as mirrored: {acked}; on the mirror's disk: {}", copy.len());
        assert_eq!(copy[..acked], primary_lines[..acked]);
        assert_eq!(
            shown["acked_id"].as_str().unwrap(),
            serde_json::from_str::<serde_json::Value>(&copy[acked - 1]).unwrap()["id"]
        );
    });
}

fn edit_line(path: &Path, line: usize) {
    let text = read(path);
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    // An earlier time on the line: still a valid event, not the one that was written.
    lines[line - 1] = lines[line - 1].replacen(r#""ts":"20"#, r#""ts":"19"#, 1);
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// A line edited in the middle of the primary's journal is found by `validate`; the last
/// line the mirror holds, edited on the primary, is found by the mirror: both ends say so.
#[test]
fn an_edited_line_on_the_primary_is_reported_by_validate_and_by_the_mirror() {
    let Some((client, _server)) = setup(None) else { return };
    let room = Room::new(&client, "");
    let primary = room.start_primary();
    room.log("note", 20);
    room.wait_in_step();
    stop(primary);
    let held = read(&room.copy).lines().count();
    edit_line(&room.primary, 5);
    edit_line(&room.primary, held);

    let out = room.warroom(&["validate"]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{said}");
    let at = format!("{}:6: chain broken", room.primary.display());
    assert!(said.contains(&at), "{said}");

    let primary = room.start_primary();
    let status = room.wait_status("diverged\":\"line");
    assert!(
        status["diverged"].as_str().unwrap().starts_with(&format!("line {held} differs from the mirror's copy")),
        "{status}"
    );
    stop(primary);
    // The mirror host's screen says so, from what ingest recorded.
    let out = std::fs::File::create(room.dir.path().join("mirror.out")).unwrap();
    let viewer =
        Command::new(BIN).args(["--headless", "-j"]).arg(&room.copy).stdout(out).stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + WITHIN;
    while !read(&room.dir.path().join("mirror.out")).contains("DIFFERS from this copy") {
        assert!(Instant::now() < deadline, "{}", read(&room.dir.path().join("mirror.out")));
        std::thread::sleep(Duration::from_millis(50));
    }
    stop(viewer);
    // Nothing was shipped over the edited line, and the copy is still whole.
    assert_eq!(read(&room.copy).lines().count(), held);
}

/// Two journals that went their own ways, merged: checked-in inputs and the expected output.
#[test]
fn merge_of_two_diverged_journals_matches_the_golden_file() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/merge");
    let dir = tempfile::tempdir().unwrap();
    // Copied beside each other, with the mirror's state (its measured clock skew).
    for name in ["bastion.jsonl", "fra.jsonl", "fra.jsonl.mirrored"] {
        std::fs::copy(data.join(name), dir.path().join(name)).unwrap();
    }
    let merged = dir.path().join("merged.jsonl");
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args(["merge", "bastion.jsonl", "fra.jsonl", "-o", "merged.jsonl"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(said, read(&data.join("merged.out")));
    assert_eq!(read(&merged), read(&data.join("merged.jsonl")));
    // Its chain holds, and every event is there once.
    let out = Command::new(BIN).args(["validate", "-j"]).arg(&merged).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let all = ids(&merged);
    assert_eq!(all.iter().collect::<std::collections::HashSet<_>>().len(), all.len());
    // A merge never overwrites.
    let again = Command::new(BIN)
        .current_dir(dir.path())
        .args(["merge", "bastion.jsonl", "fra.jsonl", "-o", "merged.jsonl"])
        .output()
        .unwrap();
    assert!(!again.status.success());
}

fn wait_for(path: &Path, want: &str) {
    let deadline = Instant::now() + WITHIN;
    while !read(path).contains(want) {
        assert!(Instant::now() < deadline, "{} never said {want:?}: {}", path.display(), read(path));
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The primary dies; the mirror's screen says so; it is promoted by hand, then polls and
/// sends with the config the primary shipped; the primary comes back, is refused by the
/// promoted mirror, and the merge of the two holds every event once.
#[test]
fn a_promoted_mirror_polls_and_sends_and_the_merge_holds_every_event_once() {
    let Some((client, _server)) = setup(None) else { return };
    let closed = support::closed_port();
    let dir = tempfile::tempdir().unwrap();
    let sent = dir.path().join("sent.txt");
    // A checklist file of the war room's own: shipped too, so the mirror can send its items.
    let list = dir.path().join("our-checklist.toml");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("checklists/default.toml"), &list).unwrap();
    let extra = format!(
        "checklist = {:?}\n[[check]]\nname = \"db\"\nkind = \"tcp\"\nhost = \"127.0.0.1\"\nport = {}\ninterval = \"1s\"\ntimeout = \"1s\"\n\
         [channel.staff]\nkind = \"command\"\ncommand = [\"sh\", \"-c\", \"cat >> {}\"]\n",
        list.display().to_string(),
        closed.port,
        sent.display()
    );
    let room = Room::new(&client, &extra);
    let mut primary = room.start_primary();
    room.log("before the fire", 20);
    room.wait_in_step();
    primary.kill().unwrap();
    primary.wait().unwrap();

    // The mirror host's screen: a viewer, never a poller, saying the primary is silent.
    let seen = room.dir.path().join("mirror.out");
    let viewer = Command::new(BIN)
        .args(["--headless", "-j"])
        .arg(&room.copy)
        .stdout(std::fs::File::create(&seen).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&seen, "primary silent since");
    assert!(read(&seen).contains("role: viewer"), "{}", read(&seen));
    stop(viewer);

    let out = Command::new(BIN).args(["promote", "--as", "bob@fra", "-j"]).arg(&room.copy).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    let config = room.copy.with_file_name("incident.jsonl.config.toml");
    assert!(said.contains(&config.display().to_string()), "{said}");
    let shipped = read(&config);
    assert!(shipped.contains("incident.jsonl.checklist.toml") && !shipped.contains("mirror"), "{shipped}");

    // Promoted: it polls (the db check, from the shipped config) and sends (its channel).
    let carried = room.dir.path().join("promoted.out");
    let promoted = Command::new(BIN)
        .args(["--headless", "-c"])
        .arg(&config)
        .arg("-j")
        .arg(&room.copy)
        .stdout(std::fs::File::create(&carried).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&carried, "role: poller");
    wait_for(&room.copy, r#""kind":"check_changed","check":"db""#);
    let send = Command::new(BIN)
        .args(["send", "staff", "--text", "We carry on from fra.", "--yes", "-c"])
        .arg(&config)
        .arg("-j")
        .arg(&room.copy)
        .output()
        .unwrap();
    assert!(send.status.success(), "{}", String::from_utf8_lossy(&send.stderr));
    assert_eq!(read(&sent), "We carry on from fra.\n");
    stop(promoted);

    // The primary returns: the promoted mirror takes nothing more from it.
    let primary = room.start_primary();
    let status = room.wait_status(r#""promoted":"#);
    assert!(status["promoted"].is_string(), "{status}");
    wait_for(&room.dir.path().join("primary.out"), "mirror: mirror fra was promoted to a primary at ");
    room.log("back on the bastion", 5);
    stop(primary);

    let merged = room.dir.path().join("merged.jsonl");
    let out =
        Command::new(BIN).arg("merge").arg(&room.primary).arg(&room.copy).arg("-o").arg(&merged).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let all = ids(&merged);
    let unique: std::collections::HashSet<String> = all.iter().cloned().collect();
    assert_eq!(unique.len(), all.len(), "an event twice in the merge");
    let both: std::collections::HashSet<String> = ids(&room.primary).into_iter().chain(ids(&room.copy)).collect();
    assert_eq!(unique, both, "the merge holds every event of both sides");
    let text = read(&merged);
    assert!(text.contains(r#""origin":"incident.jsonl""#) || text.contains(r#""origin":"a""#), "{text}");
}

/// The header's line for a mirror (printed by `--headless` as the screen shows it): how far
/// behind it is and since when while it is away, and "in step" once it caught up.
#[test]
fn the_header_says_how_far_behind_an_away_mirror_is_and_when_it_is_in_step_again() {
    let Some(ns) = Netns::create() else { return };
    let Some((client, _server)) = setup(Some(&ns)) else { return };
    let room = Room::new(&client, "");
    let primary = room.start_primary();
    let shown = room.dir.path().join("primary.out");
    room.log("before", 10);
    room.wait_in_step();
    // Acknowledged too (the copy's bytes are there before its ack is): else an ack lost to
    // the cut adds to the lines behind.
    let lines = read(&room.primary).lines().count();
    room.wait_status(&format!("\"acked_lines\":{lines},"));
    wait_for(&shown, "mirror: mirror fra: in step");
    ns.drop_packets();
    room.log("away", 37);
    wait_for(&shown, "mirror: mirror fra: 37 behind since ");
    ns.pass_packets();
    room.wait_in_step();
    let deadline = Instant::now() + WITHIN;
    loop {
        let said = read(&shown);
        let behind = said.find("37 behind since").unwrap();
        if said[behind..].contains("mirror: mirror fra: in step") {
            break;
        }
        assert!(Instant::now() < deadline, "{said}");
        std::thread::sleep(Duration::from_millis(50));
    }
    stop(primary);
}

/// On the mirror host's screen: the primary goes silent, the screen says so, `P` and `y`
/// promote the copy, and the same screen carries on as the primary, polling.
#[test]
fn on_the_mirror_s_screen_p_promotes_the_copy_and_it_polls() {
    let Some((client, _server)) = setup(None) else { return };
    // Down until the flag exists: created once the mirror is promoted, the recovery can only
    // be recorded by the promoted copy's own poller.
    let flags = tempfile::tempdir().unwrap();
    let flag = flags.path().join("db-is-back");
    let extra = format!(
        "[[check]]\nname = \"db\"\nkind = \"command\"\ncommand = [\"sh\", \"-c\", \"test -e {} || exit 2\"]\n\
         interval = \"1s\"\nfail_after = 1\nrecover_after = 1\n",
        flag.display()
    );
    let room = Room::new(&client, &extra);
    let mut primary = room.start_primary();
    room.log("before the fire", 10);
    room.wait_in_step();
    // The poller's first check change is on both sides before the primary dies.
    wait_for(&room.copy, r#""check":"db""#);
    primary.kill().unwrap();
    primary.wait().unwrap();

    let command = format!("{BIN} -j {}", room.copy.display());
    let Some(t) = support::tmux::Tmux::start(120, 30, &command, room.dir.path()) else { return };
    t.wait_for("primary silent since", WITHIN);
    t.keys(&["P"]);
    t.wait_for("Promote?", WITHIN);
    t.keys(&["y"]);
    t.wait_for("promoted from mirror at", WITHIN);
    wait_for(&room.copy, "promoted this mirror to primary");
    // It polls now: the db comes back, and the promoted copy records it.
    std::fs::write(&flag, "").unwrap();
    wait_for(&room.copy, r#""check":"db","from":"down","to":"up""#);
    t.keys(&["q"]);
}

fn beside(journal: &Path, suffix: &str) -> PathBuf {
    journal.with_file_name(format!("{}{suffix}", journal.file_name().unwrap().to_string_lossy()))
}

/// A `.promoted` mark appears beside the copy (a mistake, or planted): the mirror refuses
/// lines and the header says why; once it is gone, shipping takes up again by itself.
#[test]
fn a_refusing_mirror_is_asked_again_and_catches_up_once_it_takes_lines() {
    let Some((client, _server)) = setup(None) else { return };
    let room = Room::new(&client, "");
    let primary = room.start_primary();
    room.log("before", 3);
    room.wait_in_step();
    let mark = beside(&room.copy, ".promoted");
    std::fs::write(&mark, r#"{"at":"2026-11-26T01:00:00Z","by":"mallory"}"#).unwrap();
    room.log("refused", 2);
    room.wait_status("was promoted to a primary");
    std::fs::remove_file(&mark).unwrap();
    room.log("after", 2);
    room.wait_in_step();
    room.wait_status("\"diverged\":null");
    stop(primary);
}

/// A member of the journal's group appends a line by hand (`echo x >> journal`), and one that
/// is not even UTF-8: shipping carries on, the copy keeps them byte for byte (so its chain
/// reads as the primary's), and the header says where they are.
#[test]
fn lines_written_into_the_journal_by_hand_do_not_stop_the_mirror() {
    let Some((client, _server)) = setup(None) else { return };
    let room = Room::new(&client, "");
    let primary = room.start_primary();
    room.log("before", 3);
    room.wait_in_step();
    let mut file = std::fs::OpenOptions::new().append(true).open(&room.primary).unwrap();
    file.write_all(b"x\n\xff\xfe not text\n").unwrap();
    drop(file);
    room.log("after", 3);
    room.wait_in_step();
    let bad = std::fs::read(&room.primary).unwrap().split(|b| *b == b'\n').count() - 1 - 3;
    room.wait_status(&format!("line {bad} of this journal is not a journal line"));
    // `validate` finds the same on both sides: the lines by hand, and the chain whole after.
    for journal in [&room.primary, &room.copy] {
        let out = Command::new(BIN).args(["validate", "-j"]).arg(journal).output().unwrap();
        let said = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        assert!(said.contains(&format!(":{}:", bad - 1)), "{}: {said}", journal.display());
    }
    stop(primary);
}

/// The shipping session freezes (SIGSTOP): another session on the primary must not go on
/// saying "in step" from the frozen shipper's record while the journal grows.
#[test]
fn other_sessions_say_when_the_shipper_went_silent() {
    let Some((client, _server)) = setup(None) else { return };
    let room = Room::new(&client, "");
    let shipper = room.start_primary();
    room.log("before", 3);
    room.wait_in_step();
    room.wait_status("\"behind_since\":null");
    let shown = room.dir.path().join("other.out");
    let out = std::fs::File::create(&shown).unwrap();
    let other = room.warroom(&["--headless"]).stdin(Stdio::null()).stdout(out).stderr(Stdio::null()).spawn().unwrap();
    wait_for(&shown, "mirror: mirror fra: in step");
    // SAFETY: kill(2) on a child this test started.
    unsafe { libc::kill(shipper.id() as i32, libc::SIGSTOP) };
    room.log("frozen", 7);
    // Behind by the 7 notes (and this session's own "joined", if the shipper froze first).
    wait_for(&shown, " behind since ");
    wait_for(&shown, "mirror: mirror fra: shipper silent since");
    let lines = read(&room.primary).lines().count();
    assert!(read(&shown).contains(&format!("of this journal's {lines} lines then")), "{}", read(&shown));
    // SAFETY: as above.
    unsafe { libc::kill(shipper.id() as i32, libc::SIGCONT) };
    stop(other);
    stop(shipper);
}

/// A far end that acknowledges what it was never sent, claiming a million lines: the
/// primary does not show it as in step.
#[test]
fn a_mirror_acknowledging_what_it_was_not_sent_is_not_believed() {
    let Some((client, _server)) = setup(None) else { return };
    let room = Room::new(&client, "");
    let liar = room.dir.path().join("liar-ingest");
    std::fs::write(
        &liar,
        concat!(
            "#!/bin/sh\n",
            r#"echo '{"hello":{"protocol":1,"verb":"ingest","version":"x","pid":1,"account":"m@x"}}'"#,
            "\nread _\n",
            r#"echo '{"holding":{"lines":0,"last_id":null,"head":"e3b0c44298fc1c149afbf4c8996fb924"}}'"#,
            "\nwhile read _; do echo '{\"ack\":{\"id\":\"never-sent\",\"lines\":1000000}}'; done\n",
        ),
    )
    .unwrap();
    std::fs::set_permissions(&liar, <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755))
        .unwrap();
    let config = read(&room.config)
        .replace(&format!("command = {BIN:?}"), &format!("command = {:?}", liar.display().to_string()));
    std::fs::write(&room.config, config).unwrap();
    let primary = room.start_primary();
    room.log("note", 3);
    let status = room.wait_status("was not sent to it: not believed");
    assert!(status["acked_lines"].as_u64().unwrap() < 1000, "{status}");
    stop(primary);
}

fn copy_state(journal: &Path) -> PathBuf {
    journal.with_file_name(format!("{}.mirrored", journal.file_name().unwrap().to_string_lossy()))
}

/// Every line of the copy is one of the primary's events, each once.
fn assert_whole_copy(copy: &Path, lines: usize) {
    let ids = ids(copy);
    assert_eq!(ids.len(), lines, "{}", read(copy));
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "an event twice in the copy");
}

/// A line in the middle of the live journal made longer in place (same file), then a note
/// logged: the shipper finds its last shipped line moved and stops, saying where to look —
/// on the primary's header (printed by --headless), and on the mirror, which keeps its copy
/// as it was.
#[test]
fn a_journal_edited_in_place_under_the_shipper_stops_shipping_and_says_where() {
    let Some((client, _server)) = setup(None) else { return };
    let room = Room::new(&client, "");
    let primary = room.start_primary();
    room.log("note", 50);
    room.wait_in_step();
    let held = read(&room.copy).lines().count();
    let text = read(&room.primary);
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[41] = lines[41].replacen("note ", "note, with a longer text, ", 1);
    std::fs::write(&room.primary, lines.join("\n") + "\n").unwrap();
    room.log("x", 1);

    let why = format!("the journal was edited at or before line {held}: shipping stopped");
    let status = room.wait_status(&why);
    assert!(status["diverged"].as_str().unwrap().starts_with(&why), "{status}");
    let shown = room.dir.path().join("primary.out");
    wait_for(&shown, &format!("mirror: mirror fra: NOT SHIPPING — {why}"));
    // The mirror records it with the line, for its own screen.
    wait_for(&copy_state(&room.copy), &format!("line {held}"));
    let state = read(&copy_state(&room.copy));
    assert!(state.contains("diverged") && state.contains("the primary says: the journal was edited"), "{state}");
    stop(primary);
    assert_eq!(read(&shown).matches("NOT SHIPPING").count(), 1, "said once: {}", read(&shown));
    assert!(!read(&shown).contains("not a journal line"), "{}", read(&shown));
    assert_whole_copy(&room.copy, held);
}

/// `sed -i` on the live journal replaces the file with an edited copy: the running warroom
/// writes on in it without adding the old lines again (every event once), says the file was
/// replaced, and the shipper, finding the lines it shipped changed, stops and says so.
#[test]
fn sed_i_on_the_live_journal_keeps_every_event_once_and_stops_shipping() {
    let Some((client, _server)) = setup(None) else { return };
    let room = Room::new(&client, "");
    let primary = room.start_primary();
    room.log("note", 6);
    room.wait_in_step();
    let held = read(&room.copy).lines().count();
    let before = ids(&room.primary);
    let sed = Command::new("sed").arg("-i").arg("s/note 2/note 2, edited/").arg(&room.primary).status().unwrap();
    assert!(sed.success());
    let shown = room.dir.path().join("primary.out");
    wait_for(
        &room.dir.path().join("primary.err"),
        "the journal file was replaced while open (edited by another program?)",
    );
    room.log("after", 1);

    let after = ids(&room.primary);
    assert_eq!(after.len(), before.len() + 1, "{}", read(&room.primary));
    assert_eq!(after[..before.len()], before[..]);
    let unique: std::collections::HashSet<&String> = after.iter().collect();
    assert_eq!(unique.len(), after.len(), "an event twice: {}", read(&room.primary));
    assert!(read(&room.primary).contains("note 2, edited"));

    let why = format!("the journal was edited at or before line {held}");
    room.wait_status(&why);
    wait_for(&shown, &format!("mirror: mirror fra: NOT SHIPPING — {why}"));
    stop(primary);
    // Behind for a moment (the replacement gets a moment to prove a merge), not for good.
    let said = read(&shown);
    let last = said.lines().rfind(|l| l.starts_with("mirror: "));
    assert_eq!(
        last,
        Some(
            format!("mirror: mirror fra: NOT SHIPPING — {why}: shipping stopped; `warroom validate -j` shows where")
                .as_str()
        ),
        "{said}"
    );
    assert_whole_copy(&room.copy, held);
}

/// `warroom promote` while the primary still ships is refused, saying when it was heard;
/// `--force` promotes, and the primary then says plainly it ships there no more.
#[test]
fn promotion_is_refused_while_the_primary_is_heard_unless_forced() {
    let Some((client, _server)) = setup(None) else { return };
    let room = Room::new(&client, "");
    let primary = room.start_primary();
    room.log("note", 5);
    room.wait_in_step();
    let promote = |force: bool| {
        let mut c = Command::new(BIN);
        c.args(["promote", "--as", "bob@fra"]);
        if force {
            c.arg("--force");
        }
        c.arg("-j").arg(&room.copy).output().unwrap()
    };
    let out = promote(false);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("the primary (") && said.contains(" s ago") && said.contains("--force"), "{said}");
    assert!(!room.copy.with_file_name("incident.jsonl.promoted").exists());
    assert!(!read(&room.copy).contains("promoted this mirror"));

    let out = promote(true);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    room.log("still on the bastion", 1);
    let status = room.wait_status(r#""promoted":"#);
    assert!(status["promoted"].is_string(), "{status}");
    wait_for(&room.dir.path().join("primary.out"), "mirror: mirror fra was promoted to a primary at ");
    stop(primary);
    assert!(!read(&room.dir.path().join("primary.out")).contains("DIFFERS"));
}

/// The live journal deleted and at once started anew by `warroom log` (before or after the
/// running warroom recreates it from its history): not an edit, so shipping goes on, and the
/// copy ends holding the primary's bytes.
#[test]
fn a_journal_deleted_and_started_anew_keeps_shipping() {
    let Some((client, _server)) = setup(None) else { return };
    let room = Room::new(&client, "");
    let primary = room.start_primary();
    room.log("note", 10);
    room.wait_in_step();
    std::fs::remove_file(&room.primary).unwrap();
    room.log("from a shell", 1);
    wait_for(&room.dir.path().join("primary.err"), "deleted");
    room.log("after", 5);
    room.wait_in_step();
    let text = read(&room.primary);
    assert!(text.contains("from a shell") && text.contains("after 4"), "{text}");
    stop(primary);
    assert!(
        !read(&room.dir.path().join("primary.out")).contains("NOT SHIPPING"),
        "{}",
        read(&room.dir.path().join("primary.out"))
    );
}
