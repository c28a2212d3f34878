//! End to end: the real binary in tmux, driven by keys, checked on screen and in the journal.

mod support;

use std::time::{Duration, Instant};

use support::tmux::Tmux;
use warroom::journal::{EventBody, Journal};

const BIN: &str = env!("CARGO_BIN_EXE_warroom");

fn config(dir: &std::path::Path, checks: &str) {
    std::fs::write(dir.join("warroom.toml"), format!("[incident]\ntitle = \"Test outage\"\nseverity = 2\n{checks}"))
        .unwrap();
}

#[test]
fn type_a_note_tick_an_item_quit_and_find_both_in_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), "[[check]]\nname = \"local\"\nkind = \"command\"\ncommand = [\"true\"]\n");
    let cmd = format!("HOME={0} {BIN} -c warroom.toml -j j.jsonl --as tester", dir.path().display());
    let Some(t) = Tmux::start(100, 30, &cmd, dir.path()) else { return };
    t.wait_for("✔ up", Duration::from_secs(10));

    t.keys(&["i"]);
    t.type_text("relay restarted at 03:10");
    t.keys(&["C-s"]);
    t.wait_for("note saved to the timeline", Duration::from_secs(5));
    t.keys(&["2"]);
    t.wait_for("✎ relay restarted at 03:10", Duration::from_secs(5));

    t.keys(&["3"]);
    t.keys(&["Space"]);
    t.wait_for("☑ done", Duration::from_secs(5));
    t.keys(&["q"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while t.alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }

    let scan = Journal::read(dir.path().join("j.jsonl")).unwrap();
    let note = scan
        .events
        .iter()
        .find(|e| matches!(&e.body, EventBody::NoteAdded { text } if text == "relay restarted at 03:10"));
    assert_eq!(note.expect("note in the journal").author, "tester");
    assert!(scan.events.iter().any(|e| matches!(&e.body, EventBody::ChecklistItemDone { item } if item == "roles")));
    assert!(scan.events.iter().any(|e| matches!(e.body, EventBody::OperatorLeft {})), "a clean quit says goodbye");
}

#[test]
fn a_stopped_server_turns_the_check_down_on_screen() {
    let Some(mut nginx) = support::nginx(None) else { return };
    let dir = tempfile::tempdir().unwrap();
    config(
        dir.path(),
        &format!(
            "[[check]]\nname = \"web\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{}/ok\"\ninterval = \"1s\"\nretry_interval = \"300ms\"\ntimeout = \"1s\"\n",
            nginx.server.port
        ),
    );
    let cmd = format!("HOME={0} {BIN} -c warroom.toml -j j.jsonl", dir.path().display());
    let Some(t) = Tmux::start(100, 30, &cmd, dir.path()) else { return };
    t.wait_for("✔ up       web", Duration::from_secs(10));
    nginx.server.stop();
    let screen = t.wait_for("✖ down     web", Duration::from_secs(10));
    assert!(screen.contains("web → down: connect failed: connection refused"), "{screen}");
}
