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

    // The second item: the first records the roles and ticks only once they are recorded.
    t.keys(&["3"]);
    t.keys(&["j"]);
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
    assert!(scan.events.iter().any(|e| matches!(&e.body, EventBody::ChecklistItemDone { item } if item == "staff")));
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
    // The second item: the first records the roles and ticks only once they are recorded.
    t.keys(&["3"]);
    t.keys(&["j"]);
    t.keys(&["Space"]);
    t.wait_for("☑ done", Duration::from_secs(5));
    // Resolve: pick the status, then confirm (the check may still be down: y resolves anyway).
    t.keys(&["s"]);
    t.keys(&["4"]);
    t.keys(&["y"]);
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

/// A line from a newer warroom (`"v":2`), as a teammate's newer build would append it.
fn newer_line(n: u32) -> String {
    format!(
        "{{\"v\":2,\"id\":\"newer-{n}\",\"ts\":\"2026-11-21T03:00:00.000Z\",\"author\":\"dana\",\"kind\":\"status_set\",\"status\":\"monitoring\"}}\n"
    )
}

fn append(path: &std::path::Path, text: &str) {
    use std::io::Write;
    std::fs::OpenOptions::new().append(true).open(path).unwrap().write_all(text.as_bytes()).unwrap();
}

/// Entries a newer warroom wrote may be a teammate's status change: the screen says how many
/// it skipped for as long as it runs, counts the ones that arrive while it runs, warns about
/// each (what and where), and goes on reading what it can.
#[test]
fn entries_from_a_newer_warroom_keep_an_upgrade_banner_on_screen_that_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), "");
    let journal = dir.path().join("j.jsonl");
    let log = |text: &str| {
        let out = std::process::Command::new(BIN)
            .args(["log", "-c", "warroom.toml", "-j", "j.jsonl", "--as", "carol", text])
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    log("before the newer entry");
    append(&journal, &newer_line(1));
    let cmd = format!("HOME={0} {BIN} -c warroom.toml -j j.jsonl --as tester", dir.path().display());
    let Some(t) = Tmux::start(100, 30, &cmd, dir.path()) else { return };
    let screen = t.wait_for("⚠ 1 entry from a newer warroom was skipped — upgrade", Duration::from_secs(10));
    assert!(screen.contains("before the newer entry"), "{screen}");
    // A viewer writes nothing, so it learns of them only from opening the journal.
    let viewer = format!("HOME={0} {BIN} --read-only -j j.jsonl --as viewer", dir.path().display());
    let Some(v) = Tmux::start(100, 30, &viewer, dir.path()) else { return };
    v.wait_for("⚠ 1 entry from a newer warroom was skipped — upgrade", Duration::from_secs(10));

    append(&journal, &newer_line(2));
    t.wait_for("⚠ 2 entries from a newer warroom were skipped — upgrade", Duration::from_secs(10));
    // The warning for the line read while running names the file and the line.
    t.wait_for("written by a newer warroom (journal schema v2", Duration::from_secs(5));
    // Reading goes on past them: a later entry is shown, and the banner stays.
    log("after the newer entries");
    let screen = t.wait_for("after the newer entries", Duration::from_secs(10));
    assert!(screen.contains("2 entries from a newer warroom were skipped"), "{screen}");
    v.wait_for("⚠ 2 entries from a newer warroom were skipped — upgrade", Duration::from_secs(10));
    t.keys(&["q"]);
    v.keys(&["q"]);
}

/// `--headless` says it once, then one warning per newer line it reads while running.
#[test]
fn headless_prints_the_upgrade_banner_once_and_a_warning_per_later_line() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), "");
    let journal = dir.path().join("j.jsonl");
    std::fs::write(&journal, newer_line(1)).unwrap();
    let mut child = std::process::Command::new(BIN)
        .args(["--headless", "-c", "warroom.toml", "-j", "j.jsonl", "--as", "tester"])
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut lines: Vec<String> = Vec::new();
    let warnings = |lines: &[String]| lines.iter().filter(|l| l.contains("written by a newer warroom")).count();
    let mut wait_until = |done: &dyn Fn(&[String]) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done(&lines) {
            let left = deadline.saturating_duration_since(Instant::now());
            lines.push(rx.recv_timeout(left).unwrap_or_else(|_| panic!("waited in vain: {lines:#?}")));
        }
    };
    wait_until(&|l| l.iter().any(|l| l.contains("1 entry from a newer warroom was skipped — upgrade")));
    append(&journal, &newer_line(2));
    wait_until(&|l| warnings(l) == 2);
    // SAFETY: plain kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert!(child.wait().unwrap().success());
    lines.extend(rx.try_iter());
    let banners = lines.iter().filter(|l| l.contains("from a newer warroom")).count();
    assert_eq!((banners, warnings(&lines)), (1, 2), "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("j.jsonl:1: written by a newer warroom")), "{lines:#?}");
}

/// Issue 19: the first key after a resize was lost, three times out of three. crossterm saw
/// the resize only with that key, returned the resize, and its edge-triggered poll never
/// reported the key's bytes again until the next key came.
#[test]
fn the_first_key_after_a_resize_acts() {
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), "[[check]]\nname = \"local\"\nkind = \"command\"\ncommand = [\"true\"]\n");
    let cmd = format!("HOME={0} {BIN} -c warroom.toml -j j.jsonl --as tester", dir.path().display());
    let Some(t) = Tmux::start(100, 30, &cmd, dir.path()) else { return };
    t.wait_for("✔ up", Duration::from_secs(10));
    // One key first, so crossterm's reader (and its resize watch) exists.
    t.keys(&["2"]);
    for (i, (w, h)) in [(120, 40), (90, 28), (110, 35)].into_iter().enumerate() {
        t.tmux(&["resize-window", "-t", "t", "-x", &w.to_string(), "-y", &h.to_string()]);
        // tmux may defer a pane's resize: the key comes once the pane has its new size, and
        // time for the resize to be seen, on its own.
        let deadline = Instant::now() + Duration::from_secs(5);
        while t.pane_format("pane_height") != h.to_string() {
            assert!(Instant::now() < deadline, "tmux never resized the pane to {h} rows");
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(500));
        t.keys(&["/"]);
        let shown = t.wait_for("Filter the timeline", Duration::from_secs(5));
        assert!(shown.lines().count() >= h as usize - 1, "resize {i} not drawn:\n{shown}");
        t.keys(&["Escape"]);
        let deadline = Instant::now() + Duration::from_secs(5);
        while t.screen().contains("Filter the timeline") {
            assert!(Instant::now() < deadline, "Esc after resize {i} did nothing:\n{}", t.screen());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Issue 19: under tmux's default `set-clipboard external` tmux drops a program's OSC 52, yet
/// the footer said "copied". Inside tmux, `c` loads tmux's paste buffer too.
#[test]
fn c_under_tmux_default_settings_fills_the_tmux_buffer() {
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), "[[check]]\nname = \"local\"\nkind = \"command\"\ncommand = [\"true\"]\n");
    let cmd = format!("HOME={0} {BIN} -c warroom.toml -j j.jsonl --as tester", dir.path().display());
    let Some(t) = Tmux::start(120, 35, &cmd, dir.path()) else { return };
    assert_eq!(t.tmux(&["show", "-s", "set-clipboard"]).trim(), "set-clipboard external", "not tmux's default");
    t.wait_for("✔ up", Duration::from_secs(10));
    t.keys(&["3"]);
    t.keys(&["j"]); // staff: an internal message
    t.keys(&["c"]);
    t.wait_for("copied into tmux's paste buffer", Duration::from_secs(5));
    let deadline = Instant::now() + Duration::from_secs(5);
    let prepared = loop {
        let scan = Journal::read(dir.path().join("j.jsonl")).unwrap();
        let found = scan.events.into_iter().find_map(|e| match e.body {
            EventBody::MessagePrepared { text, via, .. } if via == "clipboard" => Some(text),
            _ => None,
        });
        if let Some(text) = found {
            break text;
        }
        assert!(Instant::now() < deadline, "the copy was never journaled");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(!prepared.is_empty());
    assert_eq!(t.tmux(&["show-buffer"]), prepared, "tmux's buffer holds the message");
}

/// `[attention] title`: a check confirmed down after opening sets the window title, as
/// warroom writes it; history on opening does not; quitting puts the operator's title back.
#[test]
fn attention_sets_the_window_title_on_a_new_failure() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("warroom.toml"),
        "[incident]\ntitle = \"Test outage\"\nseverity = 2\n[attention]\ntitle = true\n\
         [[check]]\nname = \"local\"\nkind = \"command\"\ncommand = [\"test\", \"!\", \"-e\", \"down\"]\n\
         interval = \"1s\"\nretry_interval = \"300ms\"\n",
    )
    .unwrap();
    // The shell stays after warroom quits, so that the title it leaves behind can be read.
    let cmd = format!("HOME={0} {BIN} -c warroom.toml -j j.jsonl --as tester; sleep 60", dir.path().display());
    let Some(t) = Tmux::start(100, 30, &cmd, dir.path()) else { return };
    t.tmux(&["select-pane", "-t", "t", "-T", "before"]);
    t.wait_for("✔ up", Duration::from_secs(10));
    assert_eq!(t.pane_format("pane_title"), "before");
    std::fs::write(dir.path().join("down"), "").unwrap();
    t.wait_for("local → degraded: exit 1", Duration::from_secs(10));
    let deadline = Instant::now() + Duration::from_secs(5);
    while !t.pane_format("pane_title").contains("local failing") {
        assert!(Instant::now() < deadline, "title never set: {:?}", t.pane_format("pane_title"));
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(t.pane_format("pane_title"), "⚠ local failing — Test outage — warroom");
    // Quitting gives the operator's title back.
    t.keys(&["q"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while t.pane_format("pane_title") != "before" {
        assert!(Instant::now() < deadline, "title not restored on quit: {:?}", t.pane_format("pane_title"));
        std::thread::sleep(Duration::from_millis(100));
    }
}
