//! The session engine in-process: no screen, no child process. Two sessions on one journal
//! stand for two operators' warrooms (the screen and `--headless` run this same code).

mod support;

use std::time::Duration;

use chrono::Utc;
use warroom::journal::{Audience, Event, EventBody, Journal};
use warroom::monitor::{RowId, State, View};
use warroom::probe::{Health, Outcome};
use warroom::session::{
    Command, Figure, Opening, Person, Presence, Probing, Purpose, Reading, ReplayControl, ReplayPosition, Role,
    RowInfo, Session, Settings, Update, Versioned,
};

/// Generous: a loaded two-core machine, and the takeover period is 250 ms.
const WITHIN: Duration = Duration::from_secs(10);

fn settings(port: u16) -> Settings {
    let text =
        format!("[[check]]\nname = \"web\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{port}/\"\ninterval = \"1s\"\n");
    let config = warroom::config::parse(&text, std::path::Path::new("t.toml")).unwrap();
    Settings::from_config(&config, None)
}

fn start(path: &std::path::Path, settings: Settings, purpose: Purpose, author: &str) -> Session {
    let (journal, scan) = match purpose {
        Purpose::View => Journal::open_read_only(path).unwrap(),
        _ => Journal::open(path).unwrap(),
    };
    Session::start(Opening { journal, scan, settings, purpose, author: author.into() })
}

/// Waits for the first update `want` accepts (see [`support::updates::wait_for`]).
async fn wait_for(session: &mut Session, what: &str, want: impl Fn(&Update) -> bool) -> Update {
    support::updates::wait_for(session, what, WITHIN, want).await
}

fn opened_role(update: &Update) -> Role {
    match update {
        Update::Opened { role, .. } => *role,
        other => panic!("the first update must be Opened, not {other:?}"),
    }
}

/// Alice's session opens first and probes; Bob's follows.
async fn poller_and_follower(path: &std::path::Path, port: u16) -> (Session, Session) {
    let mut alice = start(path, settings(port), Purpose::Monitor, "alice");
    assert_eq!(opened_role(&alice.recv().await.unwrap()), Role::Poller);
    let mut bob = start(path, settings(port), Purpose::Monitor, "bob");
    assert_eq!(opened_role(&bob.recv().await.unwrap()), Role::Follower);
    (alice, bob)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_takes_over_when_the_pollers_session_ends() {
    let switch = support::fake::http_switch().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let (mut alice, mut bob) = poller_and_follower(&path, switch.fake.port).await;

    let rest = alice.leave(WITHIN).await;
    assert_eq!(rest.last(), Some(&Update::Ended), "alice's session ended: {rest:?}");
    let update = wait_for(&mut bob, "takeover", |u| matches!(u, Update::Role { .. })).await;
    assert!(matches!(update, Update::Role { role: Role::Poller, .. }), "{update:?}");
    // The new poller probes: its own readings arrive.
    wait_for(
        &mut bob,
        "a reading from the new poller",
        |u| matches!(u, Update::Reading { row, .. } if row.check == "web"),
    )
    .await;
    bob.leave(WITHIN).await;

    let kinds: Vec<(String, &str)> =
        Journal::read(&path).unwrap().events.iter().map(|e| (e.author.clone(), e.kind())).collect();
    assert!(kinds.contains(&("alice".into(), "operator_left")), "{kinds:?}");
    let ups = kinds.iter().filter(|(_, k)| *k == "check_changed").count();
    assert_eq!(ups, 1, "web came up once and was recorded once, not again by the new poller: {kinds:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_receives_new_entries_and_live_figures() {
    let switch = support::fake::http_switch().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let (mut alice, mut bob) = poller_and_follower(&path, switch.fake.port).await;

    alice.send(Command::Append(vec![EventBody::NoteAdded { text: "db failover started".into() }]));
    wait_for(&mut bob, "alice's note", |u| {
        matches!(u, Update::Entries(es) if es.iter().any(|e| e.author == "alice" && matches!(&e.body, EventBody::NoteAdded { text } if text == "db failover started")))
    })
    .await;
    let figures = wait_for(
        &mut bob,
        "the poller's figures",
        |u| matches!(u, Update::Figures(f) if f.iter().any(|f| f.row.id.check == "web" && !f.readings.is_empty())),
    )
    .await;
    let Update::Figures(figures) = figures else { unreachable!() };
    let web = figures.iter().find(|f| f.row.id.check == "web").unwrap();
    assert_eq!(web.row.kind, "http");
    assert!(web.readings.iter().all(|r| r.health == Health::Up), "{web:?}");
    alice.leave(WITHIN).await;
    bob.leave(WITHIN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_appends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let (journal, _) = Journal::open(&path).unwrap();
    journal.append(&Event::new("alice", EventBody::NoteAdded { text: "before".into() })).unwrap();
    drop(journal);
    let before = std::fs::read(&path).unwrap();

    let mut viewer = start(&path, Settings::default(), Purpose::View, "carol");
    let opened = viewer.recv().await.unwrap();
    assert_eq!(opened_role(&opened), Role::Viewer);
    assert!(matches!(&opened, Update::Opened { entries, .. } if entries.len() == 1));
    viewer.send(Command::Append(vec![EventBody::NoteAdded { text: "from the viewer".into() }]));
    let notice = wait_for(&mut viewer, "a refusal", |u| matches!(u, Update::Notice(_))).await;
    assert_eq!(notice, Update::Notice("read-only viewer: nothing is written".into()));
    viewer.send(Command::Send {
        item: "staff".into(),
        channel: "chat".into(),
        audience: Audience::Internal,
        text: "hello".into(),
        next_update: None,
        confirmed: false,
    });
    viewer.leave(WITHIN).await;
    assert_eq!(std::fs::read(&path).unwrap(), before, "the viewer wrote to the journal");
}

#[test]
fn updates_and_commands_round_trip_through_serde() {
    let row = RowId::row("alerts", "HostDown db2");
    let info = RowInfo { id: row.clone(), kind: "row".into(), target: String::new() };
    let mut outcome = Outcome::new(Health::Down, Duration::from_millis(1500), "HTTP 503 at step GET /");
    outcome.retry_after = Some(Utc::now());
    outcome.steps.push(warroom::probe::Step { name: "connect".into(), took: Duration::from_micros(1200) });
    let reading = Reading::of(Utc::now(), &outcome);
    let view = View { state: State::Down, blocked_by: Some("db".into()), ..View::default() };
    let note = Event::new("alice", EventBody::NoteAdded { text: "a \"quoted\" note\nover two lines".into() });
    let updates = vec![
        Update::Opened {
            journal: "/j.jsonl".into(),
            role: Role::Follower,
            rows: vec![info.clone()],
            entries: vec![note.clone()],
        },
        Update::Entries(vec![note.clone()]),
        Update::Row(info.clone()),
        Update::Reading { row: row.clone(), reading: reading.clone() },
        Update::View { row: row.clone(), view: view.clone() },
        Update::Figures(vec![Figure { row: info, view, readings: vec![reading] }]),
        Update::Presence(Presence {
            people: vec![
                Person { author: "alice".into(), gone_since: Some(Utc::now()) },
                Person { author: "bob".into(), gone_since: None },
            ],
            probing: Probing::Nobody { since: Some(Utc::now()) },
        }),
        Update::Presence(Presence { people: Vec::new(), probing: Probing::Yes }),
        Update::Role { role: Role::Poller, why: "the previous poller is gone".into() },
        Update::Pending(vec![note.clone()]),
        Update::Written { ids: vec![note.id.clone()], error: None },
        Update::Written { ids: Vec::new(), error: Some("No space left on device".into()) },
        Update::Refused { events: vec![note.clone()], error: "too large".into() },
        Update::Notice("hello".into()),
        Update::NewerSkipped("2 entries from a newer warroom were skipped — upgrade".into()),
        Update::Clock(Utc::now()),
        Update::Replay(ReplayPosition { at: 3, of: 9, paused: true, speed: 60.0 }),
        Update::Scorecard("DRILL SCORECARD".into()),
        Update::Ended,
    ];
    for update in updates {
        let line = serde_json::to_string(&Versioned::new(update.clone())).unwrap();
        assert!(!line.contains('\n'), "one JSON line per message: {line}");
        let back: Versioned<Update> = serde_json::from_str(&line).unwrap();
        assert_eq!(back.open().unwrap(), update, "{line}");
    }
    let commands = vec![
        Command::Append(vec![
            EventBody::NoteAdded { text: "n".into() },
            EventBody::ChecklistItemDone { item: "staff".into() },
        ]),
        Command::Send {
            item: "staff".into(),
            channel: "chat".into(),
            audience: Audience::Public,
            text: "t".into(),
            next_update: None,
            confirmed: true,
        },
        Command::RunNow(row.clone()),
        Command::SetPaused { row, paused: true },
        Command::TakeOver,
        Command::Replay(ReplayControl::Step),
        Command::Leave,
    ];
    for command in commands {
        let line = serde_json::to_string(&Versioned::new(command.clone())).unwrap();
        let back: Versioned<Command> = serde_json::from_str(&line).unwrap();
        assert_eq!(back.open().unwrap(), command, "{line}");
    }
    let newer: Versioned<Command> = serde_json::from_str(r#"{"v":99,"body":"take_over"}"#).unwrap();
    assert_eq!(newer.open().unwrap_err(), "protocol version 1 here, 99 from the other side");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_golden_journals_open_whole_through_a_session() {
    for name in ["incident.jsonl", "drill.jsonl", "sources.jsonl"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        let (journal, scan) = Journal::open_read_only(&path).unwrap();
        assert!(scan.problems.is_empty(), "{name}: {:?}", scan.problems);
        let opening =
            Opening { journal, scan, settings: Settings::default(), purpose: Purpose::View, author: "t".into() };
        let mut session = Session::start(opening);
        match session.recv().await.unwrap() {
            Update::Opened { role: Role::Viewer, entries, .. } => assert_eq!(entries.len(), lines, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
        session.leave(WITHIN).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_hears_who_is_here_and_when_nobody_probes_any_more() {
    let switch = support::fake::http_switch().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let (mut alice, mut bob) = poller_and_follower(&path, switch.fake.port).await;
    let mut viewer = start(&path, Settings::default(), Purpose::View, "carol");
    fn here(u: &Update) -> Vec<(&str, bool)> {
        match u {
            Update::Presence(p) => p.people.iter().map(|p| (p.author.as_str(), p.is_here())).collect(),
            _ => Vec::new(),
        }
    }
    wait_for(&mut viewer, "alice and bob here, somebody probing", |u| {
        here(u) == [("alice", true), ("bob", true)] && matches!(u, Update::Presence(p) if p.probing == Probing::Yes)
    })
    .await;
    alice.leave(WITHIN).await;
    bob.leave(WITHIN).await;
    // Both left (their heartbeats went with them): nobody listed, and, three beats after the
    // last poller's, nobody probing. The viewer itself is never listed.
    let update =
        wait_for(&mut viewer, "nobody probing", |u| matches!(u, Update::Presence(p) if p.probing != Probing::Yes))
            .await;
    let Update::Presence(p) = update else { unreachable!() };
    assert!(p.people.is_empty() && matches!(p.probing, Probing::Nobody { since: Some(_) }), "{p:?}");
    viewer.leave(WITHIN).await;
}
