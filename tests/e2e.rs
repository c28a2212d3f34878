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
    t.wait_for("✖ down     web", Duration::from_secs(10));
    // The timeline shows the change once it is on disk, a moment after the row turns.
    t.wait_for("web → down: connect failed: connection refused", Duration::from_secs(5));
}

#[test]
fn a_drill_at_high_speed_is_scored_and_the_scorecard_saved() {
    let dir = tempfile::tempdir().unwrap();
    // 40 s of scenario at ×20: the fault at 2 s, recovery at 6 s of real time.
    std::fs::write(
        dir.path().join("quick.toml"),
        "name = \"quick\"\ntitle = \"Quick drill\"\ndescription = \"test\"\nchecklist = \"drill\"\n\
         [[check]]\nname = \"web\"\nlatency = \"20ms\"\n\
         [[step]]\nat = \"40s\"\ncheck = \"web\"\nstate = \"down\"\ndetail = \"connect failed\"\n\
         [[step]]\nat = \"50s\"\nfrom = \"support\"\nmessage = \"customers cannot log in\"\n\
         [[step]]\nat = \"2m\"\ncheck = \"web\"\nstate = \"up\"\n",
    )
    .unwrap();
    let cmd = format!("HOME={0} {BIN} drill quick.toml --speed 20 -j drill.jsonl --as tester", dir.path().display());
    let Some(t) = Tmux::start(120, 40, &cmd, dir.path()) else { return };
    t.wait_for("✖ down     web", Duration::from_secs(10));
    t.keys(&["a"]);
    t.wait_for("acknowledged web", Duration::from_secs(5));
    t.keys(&["3"]);
    t.keys(&["Space"]);
    t.wait_for("☑ done", Duration::from_secs(5));
    t.keys(&["s"]);
    t.keys(&["s"]);
    t.keys(&["s"]);
    let screen = t.wait_for("Drill over — scorecard", Duration::from_secs(20));
    assert!(screen.contains("Quick drill"), "{screen}");
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("drill.scorecard.json")).unwrap()).unwrap();
    assert_eq!(card["scenario"], "quick");
    assert_eq!(card["speed"], 20.0);
    assert_eq!(card["faults"].as_array().unwrap().len(), 1);
    assert_eq!(card["faults"][0]["check"], "web");
    assert_eq!(card["faults"][0]["acknowledged_by"], "tester");
    assert!(card["faults"][0]["acknowledged_after_s"].as_f64().unwrap() > 0.0);
    assert_eq!(card["items_on_time"], 1, "{card:#}");
    assert_eq!(card["notes"], 0);
    assert!(card["previous"].is_null());
    assert!(
        std::fs::read_to_string(dir.path().join("drill.scorecard.txt"))
            .unwrap()
            .contains("DRILL SCORECARD — Quick drill")
    );
    let scan = Journal::read(dir.path().join("drill.jsonl")).unwrap();
    assert!(scan.events.iter().any(|e| matches!(&e.body, EventBody::DrillEnded { scenario } if scenario == "quick")));
    assert!(scan.events.iter().any(|e| e.author == "support (drill)"));
    t.keys(&["Escape"]);
    t.keys(&["q"]);
}

#[test]
fn drill_lists_scenarios_without_network_or_config() {
    let dir = tempfile::tempdir().unwrap();
    let out =
        std::process::Command::new(BIN).arg("drill").env("HOME", dir.path()).current_dir(dir.path()).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for name in ["datacenter-fire", "mail-rcpt-failure", "storage-cascade", "friday-night"] {
        assert!(text.contains(name), "{text}");
    }
}

#[test]
fn with_no_config_anywhere_warroom_starts_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = format!("HOME={0} XDG_CONFIG_HOME={0}/c XDG_DATA_HOME={0}/d {BIN}", dir.path().display());
    let Some(t) = Tmux::start(100, 30, &cmd, dir.path()) else { return };
    let screen = t.wait_for("DEMO — no real services are checked", Duration::from_secs(10));
    assert!(screen.contains("warroom init") && screen.contains(" DRILL "), "{screen}");
    assert!(screen.contains("Datacenter fire"), "{screen}");
    t.keys(&["q"]);
}
