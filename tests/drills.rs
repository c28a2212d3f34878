//! Drills stay drills and a team rehearses together (issue 16): drill journals are never the
//! current incident, only a journal's opening makes it a drill, a second operator joins a
//! running drill; and the current-journal lookup is not fooled by links or FIFOs.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use warroom::comms::Channel;
use warroom::drill::ScaledClock;
use warroom::incident::Incident;
use warroom::journal::{Audience, Event, EventBody, Journal, Mode};
use warroom::session::{Command as Do, DrillRun, Opening, Purpose, Role, Session, Settings, Update};

const BIN: &str = env!("CARGO_BIN_EXE_warroom");
/// Generous: a loaded two-core machine; the journal is looked at every 250 ms.
const WITHIN: Duration = Duration::from_secs(10);

/// Waits for the first update `want` accepts (see [`support::updates::wait_for`]).
async fn wait_for(session: &mut Session, what: &str, want: impl Fn(&Update) -> bool) -> Update {
    support::updates::wait_for(session, what, WITHIN, want).await
}

fn has_note(update: &Update, author: &str, text: &str) -> bool {
    matches!(update, Update::Entries(es) if es.iter().any(|e| e.author == author
        && matches!(&e.body, EventBody::NoteAdded { text: t } if t == text)))
}

fn opened(mode: Mode) -> EventBody {
    EventBody::IncidentOpened { title: "Fire".into(), severity: 1, mode, checklist: Some("drill".into()) }
}

/// Alice plays the datacenter fire ten times faster, as `warroom drill` does.
fn play_drill(path: &Path) -> (Session, chrono::DateTime<Utc>) {
    let scenario = warroom::drill::load("datacenter-fire").unwrap();
    let (journal, _) = Journal::open(path).unwrap();
    let clock = ScaledClock::new(Utc::now(), 10.0);
    let start = clock.now();
    let started = EventBody::DrillStarted { scenario: scenario.name.clone(), speed: 10.0 };
    journal.append_all(&[Event::at(start, "alice", opened(Mode::Drill)), Event::at(start, "alice", started)]).unwrap();
    let scan = journal.read_from(Default::default()).unwrap();
    let purpose = Purpose::Drill(DrillRun { scenario, clock });
    (Session::start(Opening { journal, scan, settings: Settings::default(), purpose, author: "alice".into() }), start)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_operator_joins_a_running_drill_and_each_sees_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("drill.jsonl");
    let (mut alice, origin) = play_drill(&path);
    assert!(matches!(alice.recv().await, Some(Update::Opened { role: Role::Poller, .. })));
    // The first simulated results are on disk before Bob arrives.
    wait_for(
        &mut alice,
        "the drill's first check change",
        |u| matches!(u, Update::Entries(es) if es.iter().any(|e| e.kind() == "check_changed")),
    )
    .await;

    let (journal, scan) = Journal::open(&path).unwrap();
    let opening =
        Opening { journal, scan, settings: Settings::default(), purpose: Purpose::JoinDrill, author: "bob".into() };
    let mut bob = Session::start(opening);
    let Some(Update::Opened { role, rows, .. }) = bob.recv().await else { panic!("bob's session did not open") };
    assert_eq!(role, Role::Follower);
    assert!(rows.iter().any(|r| r.id.check == "voice-api"), "the scenario's rows: {rows:?}");

    alice.send(Do::Append(vec![EventBody::NoteAdded { text: "failing over to the standby".into() }]));
    wait_for(&mut bob, "alice's note", |u| has_note(u, "alice", "failing over to the standby")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let real_at_send = (Utc::now() - origin).num_milliseconds();
    bob.send(Do::Append(vec![
        EventBody::NoteAdded { text: "standby is taking writes".into() },
        EventBody::ChecklistItemDone { item: "declare".into() },
    ]));
    wait_for(&mut alice, "bob's note", |u| has_note(u, "bob", "standby is taking writes")).await;
    let real_when_read = (Utc::now() - origin).num_milliseconds();
    // Bob's ticks and sends are in the drill too: on the drill's clock, simulated.
    bob.send(Do::Send {
        item: "staff".into(),
        channel: "chat".into(),
        audience: Audience::Internal,
        text: "drill!".into(),
        next_update: None,
        confirmed: false,
    });
    wait_for(&mut alice, "bob's simulated message", |u| {
        matches!(u, Update::Entries(es) if es.iter().any(|e| e.author == "bob"
            && matches!(e.body, EventBody::MessageSent { simulated: true, error: None, .. })))
    })
    .await;
    // The player's live figures reach the operator who joined.
    wait_for(&mut bob, "the player's figures", |u| matches!(u, Update::Figures(f) if !f.is_empty())).await;

    alice.leave(WITHIN).await;
    wait_for(
        &mut bob,
        "word that the drill is over",
        |u| matches!(u, Update::Notice(n) if n.contains("drill is over")),
    )
    .await;
    bob.leave(WITHIN).await;

    let events = Journal::read(&path).unwrap().events;
    let bobs_note = events.iter().find(|e| e.author == "bob" && e.kind() == "note_added").unwrap();
    // Ten times real time: bob's note is stamped on the drill's clock, not the wall clock.
    let drill_elapsed = (bobs_note.ts - origin).num_milliseconds();
    assert!(
        drill_elapsed >= real_at_send * 5 && drill_elapsed <= real_when_read * 20,
        "bob's note at drill T+{drill_elapsed} ms, sent at real T+{real_at_send} ms (x10 expected)"
    );
    // One scenario player: each simulated check came up once, not once per operator.
    let first_ups = events.iter().filter(|e| {
        matches!(&e.body, EventBody::CheckChanged { check, from, .. } if check == "voice-api" && from.as_str() == "unknown")
    });
    assert_eq!(first_ups.count(), 1, "a second player injected the scenario again");
    let incident = Incident::from_events(events);
    assert!(incident.is_drill() && incident.drill.as_ref().is_some_and(|d| d.ended.is_some()));
    assert!(incident.checklist["declare"].done);
}

/// A command channel that appends each message it is given to `out`.
fn settings_with_command_channel(out: &Path) -> Settings {
    let command = vec!["sh".to_string(), "-c".to_string(), format!("cat >> '{}'", out.display())];
    let channels = BTreeMap::from([("pager".to_string(), Channel::Command { command, timeout: WITHIN })]);
    Settings { channels, ..Settings::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_incident_with_a_stray_drill_started_line_still_sends_for_real() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("real.jsonl");
    let out = dir.path().join("sent.txt");
    let (journal, _) = Journal::open(&path).unwrap();
    let stray = || EventBody::DrillStarted { scenario: "datacenter-fire".into(), speed: 1.0 };
    journal.append_all(&[Event::new("alice", opened(Mode::Real)), Event::new("mallory", stray())]).unwrap();
    let (journal, scan) = Journal::open(&path).unwrap();
    let settings = settings_with_command_channel(&out);
    let mut session =
        Session::start(Opening { journal, scan, settings, purpose: Purpose::Monitor, author: "alice".into() });
    wait_for(
        &mut session,
        "a warning about the stray line",
        |u| matches!(u, Update::Notice(n) if n.contains("mallory")),
    )
    .await;
    // Another stray line while the session runs changes nothing either.
    Journal::open(&path).unwrap().0.append(&Event::new("eve", stray())).unwrap();
    wait_for(
        &mut session,
        "a warning about the second stray line",
        |u| matches!(u, Update::Notice(n) if n.contains("eve")),
    )
    .await;

    session.send(Do::Send {
        item: "staff".into(),
        channel: "pager".into(),
        audience: Audience::Internal,
        text: "db primary is down".into(),
        next_update: None,
        confirmed: false,
    });
    let sent = wait_for(
        &mut session,
        "the message's outcome",
        |u| matches!(u, Update::Entries(es) if es.iter().any(|e| e.kind() == "message_sent")),
    )
    .await;
    session.leave(WITHIN).await;
    let Update::Entries(entries) = sent else { unreachable!() };
    let message = entries.iter().find(|e| e.kind() == "message_sent").unwrap();
    assert!(
        matches!(&message.body, EventBody::MessageSent { simulated: false, error: None, .. }),
        "a real incident's message was not really sent: {:?}",
        message.body
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "db primary is down\n", "the command channel got nothing");
    let incident = Incident::from_events(Journal::read(&path).unwrap().events);
    assert!(!incident.is_drill() && incident.drill.is_none());
    assert_eq!(incident.stray_drill_starts.len(), 2);
    let validated = ok(run_bounded(warroom(dir.path(), &["validate", "-j", "real.jsonl"]), WITHIN));
    let warned = validated.lines().filter(|l| l.contains("drill_started in a journal opened as a real incident"));
    assert_eq!(warned.count(), 2, "{validated}");
}

// The real binary, as operators run it.

fn warroom(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args).current_dir(dir).env("HOME", dir).stdin(Stdio::null());
    command
}

/// Runs to the end, or fails the test (after killing it) if it has not ended `within`.
fn run_bounded(mut command: Command, within: Duration) -> Output {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + within;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("warroom did not finish within {within:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A process of this test's own, stopped (SIGTERM, as an operator would) on drop.
struct Running(Child);

impl Running {
    fn stop(&mut self) {
        // SAFETY: a plain kill(2) of this test's own child, still unreaped.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + WITHIN;
        while self.0.try_wait().unwrap().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WITHIN;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {WITHIN:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn real_incident(path: &Path) {
    let (journal, _) = Journal::open(path).unwrap();
    journal.append(&Event::new("alice", opened(Mode::Real))).unwrap();
}

/// A config naming `j/` as the journal directory, and an open real incident in it.
fn room_with_a_real_incident(d: &Path) -> PathBuf {
    std::fs::write(d.join("warroom.toml"), "journal_dir = \"j\"\n").unwrap();
    std::fs::create_dir(d.join("j")).unwrap();
    let real = d.join("j/2026-11-25T080000Z-mail-down.jsonl");
    real_incident(&real);
    real
}

fn notes(path: &Path) -> Vec<String> {
    let events = Journal::read(path).map(|s| s.events).unwrap_or_default();
    events
        .into_iter()
        .filter_map(|e| if let EventBody::NoteAdded { text } = e.body { Some(text) } else { None })
        .collect()
}

fn drill_journals(dir: &Path) -> Vec<PathBuf> {
    warroom::journal::journals_in(&dir.join("j/drills"))
}

#[test]
fn a_drill_left_running_is_never_the_current_incident_and_a_teammate_joins_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let real = room_with_a_real_incident(d);
    // An older warroom kept drill journals beside the incidents: "drill-…" sorts after them.
    let legacy = d.join("j/drill-2026-11-25T090000Z-datacenter-fire.jsonl");
    Journal::open(&legacy).unwrap().0.append(&Event::new("carol", opened(Mode::Drill))).unwrap();

    let alice = warroom(d, &["drill", "datacenter-fire", "--headless", "--speed", "10", "--as", "alice"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut alice = Running(alice);
    wait_until("alice's drill journal", || drill_journals(d).len() == 1);
    let drill = drill_journals(d).remove(0);
    wait_until("alice in the drill", || {
        Incident::from_events(Journal::read(&drill).unwrap().events).operators.contains_key("alice")
    });

    ok(run_bounded(warroom(d, &["log", "the", "relay", "is", "back"]), WITHIN));
    assert_eq!(notes(&real), vec!["the relay is back"], "the note went to the wrong journal");
    assert!(notes(&drill).is_empty() && notes(&legacy).is_empty(), "a drill took a real incident's note");

    let listed = ok(run_bounded(warroom(d, &["drill", "--running"]), WITHIN));
    assert!(listed.contains("datacenter-fire") && listed.contains("in it: alice"), "{listed}");
    assert!(listed.contains(&drill.file_name().unwrap().to_string_lossy().to_string()), "{listed}");

    let bob = warroom(d, &["drill", "--join", "datacenter-fire", "--headless", "--as", "bob"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut bob = Running(bob);
    wait_until("bob in the drill", || {
        Incident::from_events(Journal::read(&drill).unwrap().events).operators.contains_key("bob")
    });
    let listed = ok(run_bounded(warroom(d, &["drill", "--running"]), WITHIN));
    assert!(listed.contains("in it: alice, bob"), "{listed}");
    // Bob is a follower of the drill, not a second player, and not a poller of real checks.
    let dashboard_on_drill = run_bounded(warroom(d, &["--headless", "-j", drill.to_str().unwrap()]), WITHIN);
    assert!(!dashboard_on_drill.status.success());
    assert!(String::from_utf8_lossy(&dashboard_on_drill.stderr).contains("drill --join"));

    bob.stop();
    alice.stop();
    let listed = ok(run_bounded(warroom(d, &["drill", "--running"]), WITHIN));
    assert!(listed.starts_with("No drill in progress"), "{listed}");
    let incident = Incident::from_events(Journal::read(&drill).unwrap().events);
    assert!(incident.drill.is_some_and(|d| d.ended.is_some()), "alice's drill was not ended on SIGTERM");
    assert_eq!(incident.timeline.iter().filter(|e| e.author == "bob" && e.kind() == "operator_left").count(), 1);
}

/// A drill whose player was killed never ends by itself: it is listed as such, cannot be
/// joined (the refusal says what to do instead), and `--end` ends and scores it on its clock.
#[test]
fn a_drill_whose_player_was_killed_is_ended_with_end_and_scored() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("warroom.toml"), "journal_dir = \"j\"\n").unwrap();
    let mut alice = warroom(d, &["drill", "datacenter-fire", "--headless", "--speed", "10", "--as", "alice"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("alice's drill journal", || drill_journals(d).len() == 1);
    let drill = drill_journals(d).remove(0);
    wait_until("alice in the drill", || {
        Incident::from_events(Journal::read(&drill).unwrap().events).operators.contains_key("alice")
    });
    let refused = run_bounded(warroom(d, &["drill", "--end"]), WITHIN);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no drill whose player is gone"), "{refused:?}");
    alice.kill().unwrap();
    alice.wait().unwrap();

    let listed = ok(run_bounded(warroom(d, &["drill", "--running"]), WITHIN));
    assert!(listed.contains("Never ended, their player gone") && listed.contains("datacenter-fire"), "{listed}");
    let join = run_bounded(warroom(d, &["drill", "--join", drill.to_str().unwrap(), "--headless"]), WITHIN);
    assert!(String::from_utf8_lossy(&join.stderr).contains("warroom drill --end"), "{join:?}");

    let ended = ok(run_bounded(warroom(d, &["drill", "--end", "--as", "bob"]), WITHIN));
    assert!(ended.contains("Ended the drill") && ended.contains("Saved:"), "{ended}");
    let incident = Incident::from_events(Journal::read(&drill).unwrap().events);
    let summary = incident.drill.as_ref().unwrap();
    let ended_at = summary.ended.expect("drill_ended journaled");
    // On the drill's clock (ten times real time), never before the last thing that happened.
    assert!(incident.timeline.iter().all(|e| e.ts <= ended_at), "ended before its last entry");
    assert!(warroom::session::scorecard_paths(&drill).1.exists(), "no scorecard");
    let listed = ok(run_bounded(warroom(d, &["drill", "--running"]), WITHIN));
    assert!(listed.starts_with("No drill in progress") && !listed.contains("Never ended"), "{listed}");
}

#[test]
fn the_current_journal_lookup_never_follows_a_link_nor_waits_on_a_fifo() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let real = room_with_a_real_incident(d);
    // Another user's private file, and a link to it planted where it sorts newest.
    let private = tempfile::tempdir().unwrap();
    let victim = private.path().join("notes.jsonl");
    std::fs::write(&victim, "my own private notes\n").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
    // SAFETY: chown(2) on a path we made; as root it gives the file to `nobody`.
    let path = std::ffi::CString::new(victim.to_str().unwrap()).unwrap();
    unsafe { libc::chown(path.as_ptr(), 65534, 65534) };
    let link = d.join("j/2026-12-31T235959Z-zz.jsonl");
    std::os::unix::fs::symlink(&victim, &link).unwrap();

    ok(run_bounded(warroom(d, &["log", "through", "the", "link?"]), WITHIN));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "my own private notes\n", "the note went through the link");
    assert_eq!(notes(&real), vec!["through the link?"]);
    // Named outright, the link is refused as well.
    let refused = run_bounded(warroom(d, &["log", "-j", link.to_str().unwrap(), "x"]), WITHIN);
    assert!(!refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("symbolic link"));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "my own private notes\n");

    // A FIFO named like the newest journal: a reader that opens it waits for a writer forever.
    std::fs::remove_file(&link).unwrap();
    let fifo = std::ffi::CString::new(link.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo(3) with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o666) }, 0);
    ok(run_bounded(warroom(d, &["log", "past", "the", "fifo"]), WITHIN));
    assert_eq!(notes(&real), vec!["through the link?", "past the fifo"]);
    let refused = run_bounded(warroom(d, &["log", "-j", link.to_str().unwrap(), "x"]), WITHIN);
    assert!(!refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("is a FIFO"));
}

#[test]
fn drills_are_kept_as_private_or_as_shared_as_the_journal_directory_never_through_a_link() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        assert!(!support::in_ci(), "CI=true: this test gives a directory to another group, which needs root");
        support::announce_skip("not root: cannot give the journal directory to another group");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("warroom.toml"), "journal_dir = \"j\"\n").unwrap();
    std::fs::create_dir(d.join("j")).unwrap();
    // A war room shared with the `users` group (gid 100 on Debian), closed to everyone else.
    std::os::unix::fs::chown(d.join("j"), None, Some(100)).unwrap();
    std::fs::set_permissions(d.join("j"), std::fs::Permissions::from_mode(0o750)).unwrap();
    let drill = |d: &Path| {
        warroom(d, &["drill", "datacenter-fire", "--headless", "--speed", "10"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut player = Running(drill(d));
    wait_until("the drill's journal", || drill_journals(d).len() == 1);
    player.stop();
    let made = std::fs::symlink_metadata(d.join("j/drills")).unwrap();
    assert!(made.is_dir());
    assert_eq!((made.mode() & 0o7777, made.gid()), (0o750, 100), "drills/ is not as shared as the journal directory");

    // A `drills` planted as a link to somewhere else is refused, and nothing is written there.
    std::fs::remove_dir_all(d.join("j/drills")).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), d.join("j/drills")).unwrap();
    let refused = run_bounded(warroom(d, &["drill", "datacenter-fire", "--headless"]), WITHIN);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is not a directory"), "{refused:?}");
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
}

/// Seconds from the drill's start to an entry, as the scorecard counts them.
fn drill_secs(start: chrono::DateTime<Utc>, at: chrono::DateTime<Utc>) -> f64 {
    (at - start).num_milliseconds() as f64 / 1000.0
}

/// Issue 18: sends (and the ticks they bring) were stamped with the wall's time in a drill
/// while every other entry carried drill time, so the scorecard put a message sent minutes
/// into a ×30 drill at T+0m46s. Here a scripted operator sends from the session and names a
/// commander from the command line during a ×30 drill: every scorecard time is the journal's
/// drill time, and that time is thirty times the real time elapsed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drill_at_speed_30_stamps_sends_and_verbs_with_drill_time_and_the_scorecard_agrees() {
    const SPEED: f64 = 30.0;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("drill.jsonl");
    let scenario = warroom::drill::load("datacenter-fire").unwrap();
    let (journal, _) = Journal::open(&path).unwrap();
    let clock = ScaledClock::new(Utc::now(), SPEED);
    let origin = clock.now();
    let started = EventBody::DrillStarted { scenario: scenario.name.clone(), speed: SPEED };
    journal
        .append_all(&[Event::at(origin, "alice", opened(Mode::Drill)), Event::at(origin, "alice", started)])
        .unwrap();
    let scan = journal.read_from(Default::default()).unwrap();
    let settings = Settings { checklist: Some(warroom::checklist::load("drill").unwrap()), ..Settings::default() };
    let purpose = Purpose::Drill(DrillRun { scenario, clock });
    let mut alice = Session::start(Opening { journal, scan, settings, purpose, author: "alice".into() });
    assert!(matches!(alice.recv().await, Some(Update::Opened { role: Role::Poller, .. })));
    let real = || (Utc::now() - origin).num_milliseconds() as f64 / 1000.0;

    tokio::time::sleep(Duration::from_secs(1)).await;
    let before_send = real();
    alice.send(Do::Send {
        item: "status-page".into(),
        channel: "status-page".into(),
        audience: Audience::Public,
        text: "We are investigating.".into(),
        next_update: None,
        confirmed: false,
    });
    wait_for(
        &mut alice,
        "the simulated public message",
        |u| matches!(u, Update::Entries(es) if es.iter().any(|e| e.kind() == "message_sent")),
    )
    .await;
    let after_send = real();
    let before_verb = real();
    ok(run_bounded(warroom(dir.path(), &["-j", "drill.jsonl", "--as", "carol", "role", "commander", "bob"]), WITHIN));
    let after_verb = real();
    // Leaving ends the drill: it is scored and the scorecard saved beside the journal.
    alice.leave(WITHIN).await;

    let events = Journal::read(&path).unwrap().events;
    let sent = events.iter().find(|e| e.kind() == "message_sent").unwrap();
    let ticked = events
        .iter()
        .find(|e| matches!(&e.body, EventBody::ChecklistItemDone { item } if item == "status-page"))
        .expect("the send ticked its item");
    let named = events.iter().find(|e| e.kind() == "role_assigned").unwrap();
    let in_window = |what: &str, at: f64, from: f64, to: f64| {
        let (low, high) = (from * SPEED * 0.9, to * SPEED * 1.1 + 1.0);
        assert!(
            (low..=high).contains(&at),
            "{what} at drill T+{at:.1}s, done between real T+{from:.2}s and T+{to:.2}s: expected ×{SPEED}"
        );
    };
    in_window("the message", drill_secs(origin, sent.ts), before_send, after_send);
    in_window("its tick", drill_secs(origin, ticked.ts), before_send, after_send);
    in_window("the commander", drill_secs(origin, named.ts), before_verb, after_verb);

    // The scorecard counts from the drill_started entry (the journal keeps milliseconds).
    let origin = events.iter().find(|e| e.kind() == "drill_started").unwrap().ts;
    let (json, _) = warroom::session::scorecard_paths(&path);
    let card: serde_json::Value = serde_json::from_slice(&std::fs::read(json).unwrap()).unwrap();
    let scored = |field: &str| card[field].as_f64().unwrap_or_else(|| panic!("scorecard has no {field}: {card}"));
    assert_eq!(scored("first_public_message_s"), drill_secs(origin, sent.ts));
    assert_eq!(scored("commander_s"), drill_secs(origin, named.ts));
    let item = card["items"].as_array().unwrap().iter().find(|i| i["id"] == "status-page").unwrap();
    assert_eq!(item["done_s"].as_f64(), Some(drill_secs(origin, ticked.ts)), "{item}");
}
