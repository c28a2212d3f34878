//! End to end: a commanded incident, two operators on real terminals (tmux) sharing one
//! journal — the commander is assigned, a second operator takes the role over and is shown
//! the brief, and resolving while a check fails asks first, naming it.

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
    std::fs::write(
        dir.path().join("warroom.toml"),
        "[incident]\ntitle = \"Relay outage\"\nseverity = 2\n\
         [[check]]\nname = \"relay\"\nkind = \"command\"\ncommand = [\"false\"]\ninterval = \"1s\"\nretry_interval = \"300ms\"\n",
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
    bob.keys(&["G", "Enter"]);
    bob.type_text("bob");
    bob.keys(&["Enter"]);
    let brief = bob.wait_for("Brief — c copies", Duration::from_secs(5));
    assert!(brief.contains("commander bob"), "{brief}");
    alice.wait_for("IC bob", Duration::from_secs(10));
    assert!(!alice.screen().contains("Brief —"), "the outgoing commander keeps the screen");
    bob.keys(&["Escape"]);

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
    let resolve = scan.events.iter().find(|e| matches!(e.body, EventBody::StatusChanged { status: Status::Resolved }));
    assert_eq!(resolve.expect("resolved").author, "bob");
}
