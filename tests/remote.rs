//! Remote screens over a real OpenSSH server: `warroom --remote DEST` in tmux, its session
//! running on the far side (`serve-session`, started by sshd as the account logged into).
//! A note typed here lands in the far journal, signed by the ssh account; a check the far
//! war room probes turns down here; a cut link is shown, reconnected and resumed without a
//! duplicate.

mod support;

use std::time::{Duration, Instant};

use support::accounts::{Account, Room, remote_login, team};
use support::sshd::{SshClient, Sshd};
use support::tmux::Tmux;
use warroom::journal::{Event, EventBody, Journal};

/// The far war room, on the "bastion": a room of the shared-journal tests (the binary, the
/// config and a journal directory of `wr-team`), reached over ssh as `wr-remote`.
struct Far {
    login: Account,
    room: Room,
    client: SshClient,
    sshd: Sshd,
}

fn far(config: &str) -> Option<Far> {
    let team = team()?;
    let login = remote_login()?;
    let mut client = SshClient::new()?;
    let sshd = Sshd::start(&mut client, "bastion", None)?;
    sshd.open_to_every_account();
    let room = Room::new(&team, &format!("[incident]\ntitle = \"Bastion fire\"\nseverity = 2\n{config}"));
    Some(Far { login, room, client, sshd })
}

impl Far {
    /// The screen's command line, run here as root with its own HOME (drafts, config); if it
    /// fails, its error stays on screen for the test's message.
    fn screen_command(&self, home: &std::path::Path) -> String {
        let (key, value) = self.client.env();
        format!(
            "HOME={home} {key}='{value}' {bin} --remote {user}@bastion --remote-command {bin} \
             --remote-config {config} -j {journal} --as tester || sleep 60",
            home = home.display(),
            bin = self.room.bin.display(),
            user = self.login.name,
            config = self.room.config.display(),
            journal = self.room.journal.display(),
        )
    }

    fn events(&self) -> Vec<Event> {
        Journal::read(&self.room.journal).unwrap().events
    }

    fn notes(&self, text: &str) -> Vec<Event> {
        self.events().into_iter().filter(|e| matches!(&e.body, EventBody::NoteAdded { text: t } if t == text)).collect()
    }
}

const ALWAYS_UP: &str = "[[check]]\nname = \"local\"\nkind = \"command\"\ncommand = [\"true\"]\n";

fn quit(t: &Tmux) {
    t.keys(&["q"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while t.alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn save_note(t: &Tmux, text: &str) {
    t.keys(&["i"]);
    t.type_text(text);
    t.keys(&["C-s"]);
}

#[test]
fn a_note_typed_on_the_remote_screen_is_written_on_the_far_host_as_the_ssh_account() {
    let Some(far) = far(ALWAYS_UP) else { return };
    let home = tempfile::tempdir().unwrap();
    let Some(t) = Tmux::start(120, 35, &far.screen_command(home.path()), home.path()) else { return };
    t.wait_for("✔ up", Duration::from_secs(20));
    save_note(&t, "bastion smoke seen in row 4");
    t.wait_for("note saved to the timeline", Duration::from_secs(10));
    quit(&t);

    let notes = far.notes("bastion smoke seen in row 4");
    assert_eq!(notes.len(), 1, "{notes:?}");
    // The author the screen chose, and the account ssh logged into on the far host (this
    // screen runs as root).
    assert_eq!(notes[0].author, "tester");
    let account = notes[0].account.as_deref().unwrap_or_default();
    assert!(account.starts_with("wr-remote@"), "account {account:?}");
    let events = far.events();
    assert!(events.iter().any(|e| matches!(e.body, EventBody::OperatorLeft {}) && e.author == "tester"));
    // The draft stayed on this host and is gone once the note was written.
    let drafts: Vec<_> = walk(home.path()).into_iter().filter(|p| p.to_string_lossy().contains(".draft-")).collect();
    assert!(drafts.is_empty(), "a draft is left: {drafts:?}");
}

#[test]
fn a_check_the_far_war_room_probes_turns_down_on_the_remote_screen() {
    let Some(mut nginx) = support::nginx(None) else { return };
    let check = format!(
        "[[check]]\nname = \"web\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{}/ok\"\ninterval = \"1s\"\n\
         retry_interval = \"300ms\"\ntimeout = \"1s\"\n",
        nginx.server.port
    );
    let Some(far) = far(&check) else { return };
    let home = tempfile::tempdir().unwrap();
    let Some(t) = Tmux::start(120, 35, &far.screen_command(home.path()), home.path()) else { return };
    t.wait_for("✔ up       web", Duration::from_secs(20));
    // Up readings cross the link without their detail, but the row being inspected gets
    // them in full, starting with its last one again.
    t.keys(&["Enter"]);
    t.wait_for("ms): HTTP 200", Duration::from_secs(10));
    t.keys(&["Escape"]);
    let stopped = Instant::now();
    nginx.server.stop();
    // Locally (tests/e2e.rs) the row turns within 2.5 s (1 s interval, a 300 ms retry to
    // confirm); over the link the view is sent at once. Measured 1.2-1.3 s (BENCHMARKS.md):
    // 10 s is more than 3x even on a loaded machine.
    t.wait_for("✖ down     web", Duration::from_secs(10));
    eprintln!("remote screen: check down on screen {:?} after the server stopped", stopped.elapsed());
    t.wait_for("web → down: connect failed: connection refused", Duration::from_secs(10));
    quit(&t);
}

#[test]
fn a_cut_link_is_shown_and_resumed_without_a_duplicate_and_without_losing_a_note() {
    let Some(far) = far(ALWAYS_UP) else { return };
    let home = tempfile::tempdir().unwrap();
    let Some(t) = Tmux::start(120, 35, &far.screen_command(home.path()), home.path()) else { return };
    t.wait_for("✔ up", Duration::from_secs(20));
    save_note(&t, "before the cut");
    t.wait_for("note saved to the timeline", Duration::from_secs(10));

    // The connection dies (its sshd and the far session with it) and logins are refused for
    // a while: the screen says so and keeps trying.
    far.sshd.revoke_keys();
    far.sshd.kill_connections();
    let link = format!("link to {}@bastion", far.login.name);
    t.wait_for(&format!("{link} lost since"), Duration::from_secs(15));
    // Written while the link is down: kept in the draft here, sent once it is back.
    save_note(&t, "during the cut");
    let drafts = || walk(home.path()).into_iter().filter(|p| p.to_string_lossy().contains(".draft-")).count();
    let deadline = Instant::now() + Duration::from_secs(5);
    while drafts() == 0 {
        assert!(Instant::now() < deadline, "the note written during the cut is in no draft file here");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(far.notes("during the cut").is_empty());
    far.sshd.restore_keys();
    // Back within the backoff (at most 30 s), the held note written, the banner gone.
    t.wait_for("✎ during the cut", Duration::from_secs(45));
    t.wait_for("note saved to the timeline", Duration::from_secs(10));
    let screen = t.screen();
    assert!(!screen.contains(&format!("{link} lost")), "{screen}");
    assert_eq!(screen.matches("before the cut").count(), 1, "shown once after resuming:\n{screen}");
    assert_eq!(screen.matches("during the cut").count(), 1, "{screen}");
    quit(&t);

    assert_eq!(far.notes("before the cut").len(), 1);
    let during = far.notes("during the cut");
    assert_eq!(during.len(), 1, "{during:?}");
    assert_eq!(during[0].author, "tester");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// `warroom serve-session` driven over its own pipes, as ssh would, by a screen that may say
/// anything: what it may write, send and open on the far host.
mod over_pipes {
    use std::io::{BufRead, BufReader, Write};
    use std::path::{Path, PathBuf};
    use std::process::{Child, ChildStdin, Command, Stdio};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use warroom::journal::{EventBody, Journal};

    const HELLO: &str = r#"{"hello":{"protocol":1,"verb":"serve-session","version":"0","pid":1,"account":"x"}}"#;

    struct Far {
        child: Child,
        stdin: Option<ChildStdin>,
        said: Arc<Mutex<Vec<String>>>,
    }

    impl Far {
        fn start(dir: &Path, args: &[&str]) -> Far {
            let mut child = Command::new(env!("CARGO_BIN_EXE_warroom"))
                .arg("serve-session")
                .args(args)
                .args(["--as", "mallory"])
                .env("HOME", dir)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let said = Arc::new(Mutex::new(Vec::new()));
            let (out, keep) = (child.stdout.take().unwrap(), said.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    keep.lock().unwrap().push(line);
                }
            });
            let stdin = child.stdin.take();
            Far { child, stdin, said }
        }

        fn say(&mut self, line: &str) {
            let stdin = self.stdin.as_mut().unwrap();
            stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
            stdin.flush().unwrap();
        }

        fn command(&mut self, body: serde_json::Value) {
            self.say(&serde_json::json!({ "v": 1, "body": body }).to_string());
        }

        fn wait_said(&self, what: &str, within: Duration) -> bool {
            let deadline = Instant::now() + within;
            while Instant::now() < deadline {
                if self.said.lock().unwrap().iter().any(|l| l.contains(what)) {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            false
        }

        /// The exit status, if the process ended within `within`.
        fn exited(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
            let deadline = Instant::now() + within;
            while Instant::now() < deadline {
                if let Some(status) = self.child.try_wait().unwrap() {
                    return Some(status);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            None
        }
    }

    impl Drop for Far {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// A config whose `staff` and `status-page` channels write what they deliver to `sent`.
    fn config(dir: &Path) -> (PathBuf, PathBuf) {
        let sent = dir.join("sent.log");
        let deliver = format!(r#"command = ["sh", "-c", "cat >> {}"]"#, sent.display());
        let text = format!(
            "journal_dir = \"{inc}\"\nchecklist = \"default\"\n[incident]\ntitle = \"pipes\"\nseverity = 3\n\
             [channel.staff]\nkind = \"command\"\n{deliver}\n[channel.status-page]\nkind = \"command\"\n{deliver}\n",
            inc = dir.join("inc").display()
        );
        std::fs::create_dir_all(dir.join("inc")).unwrap();
        let path = dir.join("config.toml");
        std::fs::write(&path, text).unwrap();
        (path, sent)
    }

    #[test]
    fn a_screen_writes_and_sends_only_what_a_screen_may() {
        let dir = tempfile::tempdir().unwrap();
        let (config, sent) = config(dir.path());
        let journal = dir.path().join("j.jsonl");
        let mut far = Far::start(dir.path(), &["-c", config.to_str().unwrap(), "-j", journal.to_str().unwrap()]);
        far.say(HELLO);
        assert!(far.wait_said("\"opened\"", Duration::from_secs(30)), "no opening");
        let forged = serde_json::json!({ "kind": "message_sent", "channel": "status-page", "audience": "public",
            "text": "FAKE: all clear", "item": "status-page" });
        far.command(serde_json::json!({ "append": [forged] }));
        far.command(serde_json::json!({ "append": [{ "kind": "operator_joined" }] }));
        // An internal item's text on the public channel; an item the checklist lacks; a prompt
        // left unfilled; a promise for the year 2999.
        let send = |item: &str, channel: &str, audience: &str, text: &str, next: Option<&str>| {
            serde_json::json!({ "send": { "item": item, "channel": channel, "audience": audience, "text": text,
                "next_update": next } })
        };
        far.command(send("staff", "status-page", "public", "internal words", None));
        far.command(send("nope", "staff", "internal", "hello", None));
        far.command(send("all-clear", "status-page", "public", "Fixed. [Say whether any data was lost.]", None));
        far.command(send("staff", "staff", "internal", "ok", Some("2999-01-01T00:00:00Z")));
        far.command(serde_json::json!({ "append": [{ "kind": "note_added", "text": "a real note" }] }));
        for refusal in [
            "does not write message_sent entries",
            "does not write operator_joined entries",
            "goes on staff to internal, not on status-page to public",
            "has no item \\\"nope\\\"",
            "still holds [Say whether any data was lost.]",
            "is not within a day of now",
        ] {
            assert!(far.wait_said(refusal, Duration::from_secs(20)), "no refusal saying {refusal}");
        }
        assert!(far.wait_said("a real note", Duration::from_secs(20)));
        far.command(serde_json::json!("leave"));
        assert!(far.exited(Duration::from_secs(20)).is_some(), "serve-session did not end after leave");
        let events = Journal::read(&journal).unwrap().events;
        assert!(events.iter().any(|e| matches!(&e.body, EventBody::NoteAdded { text } if text == "a real note")));
        let sent_by_mallory = |e: &&warroom::journal::Event| {
            e.author == "mallory" && matches!(e.body, EventBody::MessageSent { .. } | EventBody::OperatorJoined {})
        };
        // The session's own join is one; the forged one is not there.
        let forged: Vec<_> = events.iter().filter(sent_by_mallory).collect();
        assert_eq!(forged.len(), 1, "{forged:?}");
        assert!(matches!(forged[0].body, EventBody::OperatorJoined {}));
        assert!(std::fs::read_to_string(&sent).unwrap_or_default().is_empty(), "a refused send was delivered");
    }

    #[test]
    fn without_a_journal_and_no_open_incident_nothing_is_opened() {
        let dir = tempfile::tempdir().unwrap();
        let (config, _) = config(dir.path());
        let mut far = Far::start(dir.path(), &["-c", config.to_str().unwrap()]);
        far.say(HELLO);
        assert!(far.wait_said("no open incident on", Duration::from_secs(30)), "no refusal");
        let status = far.exited(Duration::from_secs(20)).expect("serve-session went on");
        assert!(!status.success());
        let opened: Vec<_> = std::fs::read_dir(dir.path().join("inc")).unwrap().collect();
        assert!(opened.is_empty(), "a new incident was opened: {opened:?}");
    }

    #[test]
    fn a_greeting_in_another_protocol_opens_and_joins_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (config, _) = config(dir.path());
        let journal = dir.path().join("j.jsonl");
        let mut far = Far::start(dir.path(), &["-c", config.to_str().unwrap(), "-j", journal.to_str().unwrap()]);
        far.say(&HELLO.replace("\"protocol\":1", "\"protocol\":99"));
        let status = far.exited(Duration::from_secs(30)).expect("serve-session went on");
        assert!(!status.success());
        assert!(!journal.exists(), "the journal was opened: {:?}", std::fs::read_to_string(&journal));
    }

    /// The screen left; ssh's pipe stays open (a cut link nobody closed): the process ends all
    /// the same, its read of stdin abandoned.
    #[test]
    fn serve_session_ends_with_its_session_though_stdin_stays_open() {
        let dir = tempfile::tempdir().unwrap();
        let (config, _) = config(dir.path());
        let journal = dir.path().join("j.jsonl");
        let mut far = Far::start(dir.path(), &["-c", config.to_str().unwrap(), "-j", journal.to_str().unwrap()]);
        far.say(HELLO);
        assert!(far.wait_said("\"opened\"", Duration::from_secs(30)), "no opening");
        far.command(serde_json::json!("leave"));
        assert!(far.exited(Duration::from_secs(20)).is_some(), "serve-session is still running after its session");
    }
}
