//! End to end: a commanded incident, two operators on real terminals (tmux) sharing one
//! journal — the commander is assigned, a second operator takes the role over and is shown
//! the brief, an edited message goes out edited through a command channel, and resolving
//! while a check fails asks first, naming it.

mod support;

use std::time::{Duration, Instant};

use support::tmux::Tmux;
use warroom::journal::{EventBody, Journal, Status};

const BIN: &str = env!("CARGO_BIN_EXE_warroom");

fn quit(t: &Tmux) {
    t.keys(&["Escape"]);
    t.keys(&["q"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while t.alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn resolved(dir: &std::path::Path) -> bool {
    let scan = Journal::read(dir.join("j.jsonl")).unwrap();
    scan.events.iter().any(|e| matches!(e.body, EventBody::StatusChanged { status: Status::Resolved }))
}

#[test]
fn a_commanded_incident_handed_over_then_resolved_with_a_failing_check() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("status-page.txt");
    std::fs::write(
        dir.path().join("warroom.toml"),
        format!(
            "[incident]\ntitle = \"Relay outage\"\nseverity = 2\n\
             [channel.status-page]\nkind = \"command\"\ncommand = [\"sh\", \"-c\", \"cat >> {}\"]\n\
             [[check]]\nname = \"relay\"\nkind = \"command\"\ncommand = [\"false\"]\ninterval = \"1s\"\nretry_interval = \"300ms\"\n",
            outbox.display()
        ),
    )
    .unwrap();
    let run = |who: &str| format!("HOME={0} {BIN} -c warroom.toml -j j.jsonl --as {who}", dir.path().display());
    let Some(alice) = Tmux::start(100, 30, &run("alice"), dir.path()) else { return };
    alice.wait_for("▲ degraded relay", Duration::from_secs(15));

    // alice makes herself commander: the first person offered is the one present.
    alice.keys(&["R"]);
    alice.wait_for("Assign a role", Duration::from_secs(5));
    alice.keys(&["1"]);
    alice.wait_for("alice (here)", Duration::from_secs(5));
    alice.keys(&["1"]);
    alice.wait_for("Brief — c copies", Duration::from_secs(5));
    alice.keys(&["Escape"]);
    alice.wait_for("IC alice", Duration::from_secs(5));

    // bob joins and takes the role over, typing his name: his screen shows him the brief.
    let Some(bob) = Tmux::start(100, 30, &run("bob"), dir.path()) else { return };
    bob.wait_for("IC alice", Duration::from_secs(15));
    bob.keys(&["R"]);
    bob.keys(&["1"]);
    bob.wait_for("Who is commander?", Duration::from_secs(5));
    // Not listed under "bob": typing his name types it.
    bob.type_text("bob");
    bob.keys(&["Enter"]);
    let brief = bob.wait_for("Brief — c copies", Duration::from_secs(5));
    assert!(brief.contains("commander bob"), "{brief}");
    alice.wait_for("IC bob", Duration::from_secs(10));
    assert!(!alice.screen().contains("Brief —"), "the outgoing commander keeps the screen");
    bob.keys(&["Escape"]);

    // The new commander edits the status-page message and sends it: the channel gets the
    // edited text, and so does the journal.
    let checklist = warroom::checklist::load("default").unwrap();
    let at = checklist.items.iter().position(|i| i.id == "status-page").unwrap();
    bob.keys(&["3", "g"]);
    (0..at).for_each(|_| bob.keys(&["j"]));
    bob.keys(&["e"]);
    bob.wait_for("MESSAGE for status-page", Duration::from_secs(5));
    bob.type_text(" Relay traffic is queued, none lost.");
    bob.keys(&["C-s"]);
    bob.wait_for("Send on channel", Duration::from_secs(5));
    bob.keys(&["y"]);
    let deadline = Instant::now() + Duration::from_secs(15);
    while !std::fs::read_to_string(&outbox).is_ok_and(|t| t.contains("Relay traffic is queued, none lost.")) {
        assert!(Instant::now() < deadline, "the edited message never arrived:\n{}", bob.screen());
        std::thread::sleep(Duration::from_millis(100));
    }

    // Resolving while relay fails: asked first, naming it; n leaves the status alone.
    bob.keys(&["s"]);
    bob.wait_for("Set the status", Duration::from_secs(5));
    bob.keys(&["4"]);
    let asked = bob.wait_for("Resolve while checks fail?", Duration::from_secs(5));
    assert!(asked.contains("✖ relay (degraded since"), "{asked}");
    bob.keys(&["n"]);
    bob.wait_for("nothing changed", Duration::from_secs(5));
    assert!(!resolved(dir.path()), "nothing is resolved before the answer is y");
    bob.keys(&["s"]);
    bob.keys(&["4"]);
    bob.wait_for("Resolve while checks fail?", Duration::from_secs(5));
    bob.keys(&["y"]);
    alice.wait_for("RESOLVED", Duration::from_secs(10));

    quit(&bob);
    quit(&alice);
    let scan = Journal::read(dir.path().join("j.jsonl")).unwrap();
    let roles: Vec<(&str, &str)> = scan
        .events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::RoleAssigned { role, person } if role == "commander" => {
                Some((e.author.as_str(), person.as_str()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(roles, vec![("alice", "alice"), ("bob", "bob")]);
    let sent = scan.events.iter().find_map(|e| match &e.body {
        EventBody::MessageSent { text, .. } => Some(text.clone()),
        _ => None,
    });
    assert_eq!(sent.map(|t| format!("{t}\n")), std::fs::read_to_string(&outbox).ok(), "journal and channel differ");
    let resolve = scan.events.iter().find(|e| matches!(e.body, EventBody::StatusChanged { status: Status::Resolved }));
    assert_eq!(resolve.expect("resolved").author, "bob");
}
