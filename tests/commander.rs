//! The commander's verbs from a shell, run as the real binary: `open`, `role`, `status`,
//! `severity`, `milestone`, `pin`/`unpin`, `correct`, `follow-up`, `send`. Each test checks
//! what reached the journal and what the report then says.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_warroom");

struct Room {
    dir: tempfile::TempDir,
}

impl Room {
    fn new() -> Room {
        Room { dir: tempfile::tempdir().unwrap() }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn journal(&self) -> PathBuf {
        self.path().join("incident.jsonl")
    }

    /// Runs warroom in the room, on its journal, as `author`.
    fn run_as(&self, author: &str, args: &[&str]) -> Output {
        let journal = self.journal();
        let mut all = vec!["-j", journal.to_str().unwrap(), "--as", author];
        all.extend_from_slice(args);
        self.bare(&all)
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_as("alice@bastion", args)
    }

    /// Runs warroom with exactly these arguments, the user's own config and data kept out.
    fn bare(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .current_dir(self.path())
            .env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path().join("xdg-config"))
            .env("XDG_DATA_HOME", self.path().join("xdg-data"))
            .output()
            .unwrap()
    }

    /// An incident opened with `warroom open`, as the journal of this room.
    fn opened(self) -> Room {
        let o = self.run(&["open", "Mail", "delivery", "failing", "--severity", "2"]);
        assert!(o.status.success(), "{}", err(&o));
        self
    }

    fn lines(&self) -> Vec<Value> {
        std::fs::read_to_string(self.journal())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    fn of_kind(&self, kind: &str) -> Vec<Value> {
        self.lines().into_iter().filter(|l| l["kind"] == kind).collect()
    }

    /// A line as the poller's recorder writes it.
    fn record_check(&self, ts: &str, check: &str, from: &str, to: &str) {
        use std::io::Write;
        let line = format!(
            "{{\"v\":1,\"id\":\"chk-{check}-{to}-{ts}\",\"ts\":\"{ts}\",\"author\":\"poller@mon1\",\"kind\":\"check_changed\",\"check\":\"{check}\",\"from\":\"{from}\",\"to\":\"{to}\",\"detail\":\"{check} is {to}\"}}\n"
        );
        let mut f = std::fs::OpenOptions::new().append(true).open(self.journal()).unwrap();
        f.write_all(line.as_bytes()).unwrap();
    }

    fn report(&self, format: &str) -> String {
        let o = self.bare(&["report", "--format", format, self.journal().to_str().unwrap()]);
        assert!(o.status.success(), "{}", err(&o));
        out(&o)
    }

    fn report_json(&self) -> Value {
        serde_json::from_str(&self.report("json")).unwrap()
    }
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The account this test process (and so the binary it starts) runs as, `login@host`.
fn account() -> String {
    let login = Command::new("id").arg("-un").output().unwrap();
    let host = Command::new("hostname").output().unwrap();
    format!("{}@{}", out(&login).trim(), out(&host).trim())
}

#[test]
fn open_starts_an_incident_journal_and_refuses_a_second_one() {
    let room = Room::new();
    let o = room.bare(&["--as", "alice@bastion", "open", "API", "outage", "--severity", "1"]);
    assert!(o.status.success(), "{}", err(&o));
    let path = PathBuf::from(out(&o).trim());
    assert!(path.starts_with(room.path().join("xdg-data")), "in the journal directory: {}", path.display());
    assert!(path.file_name().unwrap().to_str().unwrap().ends_with("-api-outage.jsonl"));
    let line: Value = serde_json::from_str(std::fs::read_to_string(&path).unwrap().trim()).unwrap();
    assert_eq!(line["kind"], "incident_opened");
    assert_eq!((line["title"].as_str(), line["severity"].as_u64()), (Some("API outage"), Some(1)));
    assert_eq!((line["mode"].as_str(), line["checklist"].as_str()), (Some("real"), Some("default")));
    assert_eq!(line["author"], "alice@bastion");
    assert_eq!(line["account"].as_str(), Some(account().as_str()), "the OS account beside the chosen name");

    // The open incident is the current one: the next verb acts on it without -j.
    let o = room.bare(&["--as", "bob@bastion", "severity", "2"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(std::fs::read_to_string(&path).unwrap().contains("\"kind\":\"severity_changed\",\"severity\":2"));

    let again = room.bare(&["open", "Second", "thing"]);
    assert_eq!(again.status.code(), Some(1), "{}", err(&again));
    assert!(err(&again).contains("an incident is already open"), "{}", err(&again));
    assert_eq!(std::fs::read_dir(path.parent().unwrap()).unwrap().count(), 1, "no second journal");

    // A journal that already holds an incident is not opened twice either.
    let room = Room::new().opened();
    let o = room.run(&["open", "Another"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("already holds an incident: Mail delivery failing"), "{}", err(&o));
    assert_eq!(room.of_kind("incident_opened").len(), 1);
    let md = room.report("md");
    assert!(md.starts_with("# Post-incident report: Mail delivery failing\n"), "{md}");
    assert!(md.contains("| Severity | SEV2 (worst SEV2) |"), "{md}");
}

#[test]
fn a_verb_never_starts_an_incident() {
    let room = Room::new();
    let o = room.run(&["role", "commander", "alice@bastion"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("no such journal; start an incident with `warroom open TITLE`"), "{}", err(&o));
    assert!(!room.journal().exists());
}

#[test]
fn roles_are_assigned_and_handed_over_with_the_account_beside_the_name() {
    let room = Room::new().opened();
    let o = room.run(&["role", "commander", "alice@bastion"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).starts_with("commander: alice@bastion ("), "{}", out(&o));
    let o = room.run_as("alice@bastion", &["role", "scribe", "carol@bastion"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(err(&o).contains("nobody has written to this incident as \"carol@bastion\""), "{}", err(&o));
    let o = room.run_as("alice@bastion", &["role", "Commander", "bob@laptop"]);
    assert!(out(&o).starts_with("commander: handed over from alice@bastion to bob@laptop"), "{}", out(&o));
    // Assigning the holder again writes nothing.
    let o = room.run(&["role", "commander", "bob@laptop"]);
    assert!(o.status.success() && err(&o).contains("already commander"), "{}", err(&o));
    let o = room.run(&["role", "dns", "dave@bastion"]);
    assert!(err(&o).contains("recorded as a named expert's role"), "{}", err(&o));

    let roles = room.of_kind("role_assigned");
    let pairs: Vec<(&str, &str)> =
        roles.iter().map(|r| (r["role"].as_str().unwrap(), r["person"].as_str().unwrap())).collect();
    assert_eq!(
        pairs,
        vec![
            ("commander", "alice@bastion"),
            ("scribe", "carol@bastion"),
            ("commander", "bob@laptop"),
            ("dns", "dave@bastion")
        ]
    );
    assert!(roles.iter().all(|r| r["author"] == "alice@bastion" && r["account"] == account().as_str()));

    let o = room.run(&["status"]);
    assert!(
        out(&o).contains("  commander: bob@laptop\n") && out(&o).contains("  scribe: carol@bastion\n"),
        "{}",
        out(&o)
    );
    let md = room.report("md");
    assert!(md.contains("| Commanders | alice@bastion, bob@laptop |"), "{md}");
    let by = format!("alice@bastion (account {})", account());
    assert!(md.contains(&format!("| commander | alice@bastion | bob@laptop | {by} |")), "{md}");
    let json = room.report_json();
    assert_eq!(json["handovers"][2]["from"], "alice@bastion");
    assert_eq!(json["handovers"][2]["account"].as_str(), Some(account().as_str()));
}

#[test]
fn resolving_over_failing_checks_is_refused_naming_them_unless_confirmed() {
    let room = Room::new().opened();
    room.record_check("2026-11-21T00:51:40.000Z", "smtp", "up", "down");
    room.record_check("2026-11-21T00:52:00.000Z", "imap", "up", "degraded");
    room.record_check("2026-11-21T00:52:10.000Z", "web", "unknown", "up");
    let o = room.run(&["follow-up", "alert", "on", "the", "relay", "queue", "--owner", "bob@laptop"]);
    assert!(o.status.success(), "{}", err(&o));

    let o = room.run(&["status", "identified"]);
    assert!(o.status.success(), "{}", err(&o));
    let before = room.lines().len();
    let o = room.run(&["status", "resolved"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(
        err(&o).contains("2 checks failing: smtp (down since 00:51:40 UTC), imap (degraded since 00:52:00 UTC); resolve anyway with --yes"),
        "{}",
        err(&o)
    );
    assert_eq!(room.lines().len(), before, "nothing written");

    let o = room.run(&["status", "resolved", "--yes"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("1 follow-up still open:") && out(&o).contains("alert on the relay queue [bob@laptop]"));
    let statuses: Vec<Value> = room.of_kind("status_changed").iter().map(|l| l["status"].clone()).collect();
    assert_eq!(statuses, vec!["identified", "resolved"]);
    assert_eq!(room.of_kind("milestone_reached")[0]["milestone"], "resolved");
    // Already resolved: nothing more.
    let o = room.run(&["status", "resolved"]);
    assert!(o.status.success() && err(&o).contains("already resolved"));
    let o = room.run(&["status", "fixed"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("one of: investigating, identified, monitoring, resolved"), "{}", err(&o));

    let json = room.report_json();
    assert_eq!(json["status"], "resolved");
    assert!(json["ended"].is_string());
}

#[test]
fn severity_journals_only_the_level_named() {
    let room = Room::new().opened();
    let o = room.run(&["severity", "4"]);
    assert!(o.status.success(), "{}", err(&o));
    let o = room.run(&["severity", "4"]);
    assert!(o.status.success() && err(&o).contains("already SEV4"));
    assert_eq!(room.bare(&["-j", room.journal().to_str().unwrap(), "severity", "9"]).status.code(), Some(2));
    let levels: Vec<Value> = room.of_kind("severity_changed").iter().map(|l| l["severity"].clone()).collect();
    assert_eq!(levels, vec![4], "from SEV2 to SEV4 journals SEV4 and nothing on the way");
    assert!(room.report("md").contains("| Severity | SEV4 (worst SEV2) |"));
}

#[test]
fn detection_is_derived_from_the_first_failure_or_set_by_hand_and_milestones_are_recorded_once() {
    let room = Room::new().opened();
    room.record_check("2026-11-21T00:51:40.000Z", "smtp", "up", "down");
    let json = room.report_json();
    let detected = |json: &Value| {
        json["key_times"].as_array().unwrap().iter().find(|k| k["name"] == "detected").unwrap()["at"].clone()
    };
    assert_eq!(detected(&json), "2026-11-21T00:51:40Z", "derived, nothing written");
    assert!(room.of_kind("milestone_reached").is_empty());

    let o = room.run(&["milestone", "detected", "--at", "2026-11-21T00:45:00Z"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(detected(&room.report_json()), "2026-11-21T00:45:00Z", "set by hand, it wins");
    let o = room.run(&["milestone", "detected"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("detected was already recorded at 2026-11-21 00:45:00 UTC by alice@bastion"),
        "{}",
        err(&o)
    );

    let o = room.run(&["milestone", "mitigated"]);
    assert!(o.status.success(), "{}", err(&o));
    let o = room.run(&["milestone", "acknowledged", "--check", "smtp"]);
    assert!(o.status.success(), "{}", err(&o));
    for (args, says) in [
        (&["milestone", "resolved"][..], "`warroom status resolved`"),
        (&["milestone", "acknowledged", "--check", "nope"], "no check \"nope\""),
        (&["milestone", "mitigated", "--at", "soon"], "is not a time"),
        (&["milestone", "mitigated", "--at", "2999-01-01T00:00:00Z"], "in the future"),
    ] {
        let o = room.run(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(err(&o).contains(says), "{args:?}: {}", err(&o));
    }
    let kinds: Vec<(Value, Value)> =
        room.of_kind("milestone_reached").iter().map(|l| (l["milestone"].clone(), l["check"].clone())).collect();
    assert_eq!(
        kinds,
        vec![
            ("detected".into(), Value::Null),
            ("mitigated".into(), Value::Null),
            ("acknowledged".into(), "smtp".into())
        ]
    );
    let md = room.report("md");
    assert!(md.contains("| detected | 2026-11-21 00:45:00 UTC |"), "{md}");
    assert!(!md.contains("| mitigated | — |"), "{md}");
}

#[test]
fn pins_are_set_once_and_taken_back() {
    let room = Room::new().opened();
    let o = room.run(&["log", "relay", "restarted"]);
    let id = out(&o).trim().to_string();
    let suffix = &id[id.len() - 8..];
    let o = room.run(&["pin", suffix]);
    assert!(o.status.success(), "{}", err(&o));
    let o = room.run(&["pin", &id]);
    assert!(o.status.success() && err(&o).contains("already a key event"), "{}", err(&o));
    assert_eq!(room.of_kind("event_pinned").len(), 1, "pinning twice pins once");
    assert_eq!(room.of_kind("event_pinned")[0]["event"], id.as_str());
    assert!(room.report("md").contains("## Key events\n\n- "), "pinned");
    assert!(room.report("md").contains("★ relay restarted"));

    let o = room.run(&["unpin", &id]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(room.of_kind("event_unpinned")[0]["event"], id.as_str());
    let md = room.report("md");
    assert!(md.contains("## Key events\n\nNone pinned."), "{md}");
    assert!(!md.contains("★ relay restarted"));

    for bad in ["nope", "zzzzzzzz"] {
        let o = room.run(&["pin", bad]);
        assert_eq!(o.status.code(), Some(1), "{bad}");
    }
}

#[test]
fn a_wrong_note_is_corrected_or_struck_and_the_report_shows_both() {
    let room = Room::new().opened();
    let typo = out(&room.run(&["log", "relay", "restarted", "at", "02:10"])).trim().to_string();
    let wrong = out(&room.run(&["log", "db01", "is", "the", "primary"])).trim().to_string();
    let o = room.run_as("bob@laptop", &["correct", &typo, "relay", "restarted", "at", "02:15"]);
    assert!(o.status.success(), "{}", err(&o));
    let o = room.run_as("bob@laptop", &["correct", &wrong, "--strike", "--reason", "db02 is"]);
    assert!(o.status.success(), "{}", err(&o));
    let o = room.run(&["correct", &wrong, "--strike"]);
    assert_eq!(o.status.code(), Some(1), "already struck");
    let opened = room.of_kind("incident_opened")[0]["id"].as_str().unwrap().to_string();
    let o = room.run(&["correct", &opened, "something"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("only notes are corrected or struck"), "{}", err(&o));

    let fix = &room.of_kind("correction")[0];
    assert_eq!((fix["event"].as_str(), fix["text"].as_str()), (Some(typo.as_str()), Some("relay restarted at 02:15")));
    let strike = &room.of_kind("entry_struck")[0];
    assert_eq!((strike["event"].as_str(), strike["reason"].as_str()), (Some(wrong.as_str()), Some("db02 is")));
    assert_eq!(room.of_kind("note_added").len(), 2, "the originals stay");

    let md = room.report("md");
    let by = format!("**alice@bastion (account {})**", account());
    assert!(md.contains(&format!("{by}: ~~relay restarted at 02:10~~ → relay restarted at 02:15")), "{md}");
    assert!(md.contains("~~db01 is the primary~~ (struck by bob@laptop at "), "{md}");
    assert!(md.contains(": db02 is)"), "{md}");
    let html = room.report("html");
    assert!(html.contains("<del>relay restarted at 02:10</del> → <ins>relay restarted at 02:15</ins>"), "{html}");
    let json = room.report_json();
    let note = json["notes"].as_array().unwrap().iter().find(|n| n["text"] == "db01 is the primary").unwrap();
    assert_eq!(note["struck"]["by"], "bob@laptop");
}

#[test]
fn follow_ups_are_added_closed_listed_and_reported() {
    let room = Room::new().opened();
    let note = out(&room.run(&["log", "page", "the", "DNS", "team", "earlier", "next", "time"])).trim().to_string();
    let first =
        out(&room.run(&["follow-up", "alert", "on", "relay", "queue", "--owner", "bob@laptop"])).trim().to_string();
    let second = room.run(&["follow-up", "--from", &note]);
    assert!(second.status.success(), "{}", err(&second));
    let listed = out(&room.run(&["follow-up"]));
    assert!(listed.contains(&format!("{first} alert on relay queue [bob@laptop]")), "{listed}");
    assert!(listed.contains("page the DNS team earlier next time"), "{listed}");

    let o = room.run_as("bob@laptop", &["follow-up", "--done", &first]);
    assert!(o.status.success(), "{}", err(&o));
    let o = room.run(&["follow-up", "--done", &first]);
    assert!(o.status.success() && err(&o).contains("already done"), "{}", err(&o));
    let o = room.run(&["follow-up", "--done", &note]);
    assert_eq!(o.status.code(), Some(1), "a note is not a follow-up");
    assert!(!out(&room.run(&["follow-up"])).contains("relay queue"), "closed ones are not listed");
    assert_eq!(room.run(&["follow-up", "--owner", "bob@laptop"]).status.code(), Some(1), "an owner of nothing");

    let added = room.of_kind("follow_up_added");
    assert_eq!(added[0]["owner"], "bob@laptop");
    assert_eq!(added[1]["text"], "page the DNS team earlier next time");
    assert_eq!(room.of_kind("follow_up_closed").len(), 1);
    let md = room.report("md");
    assert!(md.contains("## Follow-ups — 1 open"), "{md}");
    assert!(md.contains("| alert on relay queue | bob@laptop | "), "{md}");
    assert!(md.contains(" by bob@laptop |"), "{md}");
    assert!(md.contains("| page the DNS team earlier next time | — | ") && md.contains("| **open** |"), "{md}");
    let json = room.report_json();
    assert_eq!(json["follow_ups"].as_array().unwrap().len(), 2);
    assert!(json["follow_ups"][1]["done_at"].is_null());
}

#[test]
fn send_delivers_an_items_message_on_its_channel_and_journals_it() {
    let room = Room::new().opened();
    let outbox = room.path().join("outbox.txt");
    std::fs::write(
        room.path().join("warroom.toml"),
        format!(
            "[channel.staff]\nkind = \"command\"\ncommand = [\"sh\", \"-c\", \"cat >> {}\"]\n\
             [channel.status-page]\nkind = \"command\"\ncommand = [\"sh\", \"-c\", \"echo 'page refused' >&2; exit 75\"]\n",
            outbox.display()
        ),
    )
    .unwrap();
    room.run(&["role", "commander", "alice@bastion"]);
    room.run(&["role", "deputy", "bob@laptop"]);
    let o = room.run(&["send", "staff"]);
    assert!(o.status.success(), "{}", err(&o));
    let sent = std::fs::read_to_string(&outbox).unwrap();
    assert!(sent.starts_with("[Mail delivery failing] We have an outage (severity 2)"), "{sent}");
    assert!(sent.contains("Commander: alice@bastion."), "the role reaches the template: {sent}");

    let o = room.run(&["send", "staff", "--text", "Edited: commander alice, deputy bob."]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(std::fs::read_to_string(&outbox).unwrap().ends_with("Edited: commander alice, deputy bob.\n"));

    let messages = room.of_kind("message_sent");
    assert_eq!(messages.len(), 2);
    assert_eq!((messages[0]["channel"].as_str(), messages[0]["item"].as_str()), (Some("staff"), Some("staff")));
    assert_eq!(messages[0]["audience"], "internal");
    assert!(messages[0]["error"].is_null());
    assert_eq!(messages[1]["text"], "Edited: commander alice, deputy bob.");
    assert_eq!(room.of_kind("checklist_item_done").len(), 2);

    // A refused delivery is recorded with its reason and is warroom's failure: exit 3.
    let o = room.run(&["send", "status-page"]);
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    assert!(err(&o).contains("not delivered on status-page: sh exited with 75: page refused"), "{}", err(&o));
    let failed = room.of_kind("message_sent").pop().unwrap();
    assert_eq!(failed["error"], "sh exited with 75: page refused");
    assert_eq!(room.of_kind("checklist_item_done").len(), 2, "not ticked");

    let o = room.run(&["send", "no-such-item"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("has no item \"no-such-item\"; items with a message: staff, "), "{}", err(&o));
    let o = room.run(&["send", "roles"]);
    assert_eq!(o.status.code(), Some(1), "an item with no channel");

    let md = room.report("md");
    assert!(md.contains("| staff | internal | alice@bastion (account "), "{md}");
    assert!(md.contains("FAILED: sh exited with 75: page refused"), "{md}");
}

#[test]
fn brief_shows_a_newcomer_the_incident_and_someone_back_what_changed() {
    let room = Room::new().opened();
    room.record_check("2026-11-21T00:51:40.000Z", "smtp", "up", "down");
    room.run(&["role", "commander", "alice@bastion"]);
    let note = out(&room.run(&["log", "relay", "restarted"])).trim().to_string();
    room.run(&["pin", &note]);
    room.run(&["follow-up", "alert", "on", "queue", "depth", "--owner", "bob@laptop"]);
    let before = room.lines().len();
    let o = room.run_as("dave@laptop", &["brief"]);
    assert!(o.status.success(), "{}", err(&o));
    let brief = out(&o);
    for expected in [
        "Mail delivery failing — SEV2 — investigating\n",
        "Roles: commander alice@bastion, deputy (unassigned)",
        "Failing checks (1):\n  smtp down since 00:51 UTC",
        "Last public message: none sent\n",
        "Key events:\n",
        "relay restarted — alice@bastion\n",
        "Open follow-ups (1):\n  alert on queue depth [bob@laptop]\n",
        "dave@laptop has not been in this incident before",
    ] {
        assert!(brief.contains(expected), "missing {expected:?} in:\n{brief}");
    }
    assert_eq!(room.lines().len(), before, "a brief writes nothing");
}

/// Screens show login names: `role deputy alice` and `brief --as alice` find the
/// `alice@bastion` the journal knows, rather than naming a second person.
#[test]
fn a_login_name_finds_the_person_the_journal_knows() {
    let room = Room::new().opened();
    let o = room.run_as("alice@bastion", &["log", "on it"]);
    assert!(o.status.success(), "{}", err(&o));
    let o = room.run(&["role", "deputy", "alice"]);
    assert!(o.status.success() && !err(&o).contains("nobody has written"), "{}", err(&o));
    let roles = room.of_kind("role_assigned");
    assert_eq!(roles.last().unwrap()["person"], "alice@bastion");
    let o = room.run(&["role", "deputy", "alice@bastion"]);
    assert!(err(&o).contains("already deputy"), "the same person, however named: {}", err(&o));
    let o = room.run_as("alice", &["brief"]);
    assert!(!out(&o).contains("has not been in this incident before"), "{}", out(&o));
}

/// Issue 18: a public message states its next-update time in the public zone and records
/// it; `warroom send` does as the screen does (the same filling-in, the same promise).
#[test]
fn send_records_the_public_promise_its_text_states() {
    let room = Room::new().opened();
    let outbox = room.path().join("outbox.txt");
    std::fs::write(
        room.path().join("warroom.toml"),
        format!(
            "public_time_zone = \"+01:00\"\n[channel.status-page]\nkind = \"command\"\ncommand = [\"sh\", \"-c\", \"cat >> {}\"]\n",
            outbox.display()
        ),
    )
    .unwrap();
    // --yes: the default update asks for the public's words ("[Say …]"), which this test of
    // the promise leaves as they are.
    let o = room.run(&["send", "public-update", "--yes"]);
    assert!(o.status.success(), "{}", err(&o));
    let message = room.of_kind("message_sent").pop().unwrap();
    let sent_at: chrono::DateTime<chrono::Utc> = message["ts"].as_str().unwrap().parse().unwrap();
    let promised: chrono::DateTime<chrono::Utc> =
        message["next_update"].as_str().expect("the promise is recorded").parse().unwrap();
    // The default plan's public cadence is 30 minutes, stated to the minute (never later).
    let ahead = (promised - sent_at).num_seconds();
    assert!((29 * 60..=30 * 60).contains(&ahead) && promised.timestamp() % 60 == 0, "{sent_at} → {promised}");
    let stated = promised.with_timezone(&chrono::FixedOffset::east_opt(3600).unwrap()).format("%H:%M UTC+01:00");
    let text = std::fs::read_to_string(&outbox).unwrap();
    assert!(text.contains(&format!("We will post the next update by {stated}.")), "{text}");
    assert_eq!(message["text"].as_str().map(|t| format!("{t}\n")), Some(text));

    // Rewritten so that it no longer states the time: no promise is recorded.
    let o = room.run(&["send", "public-update", "--text", "Next update when we know more."]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(room.of_kind("message_sent").pop().unwrap()["next_update"].is_null());

    std::fs::write(room.path().join("warroom.toml"), "public_time_zone = \"Mars/Olympus\"\n").unwrap();
    let o = room.run(&["send", "public-update", "--yes"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(err(&o).contains("public_time_zone") && err(&o).contains("Mars/Olympus"), "{}", err(&o));
}

/// The all-clear went out reading "[Say whether any data was lost.] A review will follow."
/// A command line cannot ask, so it refuses until the prompt is filled in (or --yes).
#[test]
fn send_refuses_a_message_with_a_prompt_left_unfilled() {
    let room = Room::new().opened();
    let outbox = room.path().join("outbox.txt");
    std::fs::write(
        room.path().join("warroom.toml"),
        format!(
            "[channel.status-page]\nkind = \"command\"\ncommand = [\"sh\", \"-c\", \"cat >> {}\"]\n",
            outbox.display()
        ),
    )
    .unwrap();
    assert!(room.run(&["status", "resolved"]).status.success());
    let o = room.run(&["send", "all-clear"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("still holds [Say whether any data was lost.]"), "{}", err(&o));
    assert!(room.of_kind("message_sent").is_empty() && !outbox.exists(), "nothing sent, nothing journaled");
    let o = room.run(&["send", "all-clear", "--text", "Resolved. No data was lost. A review will follow."]);
    assert!(o.status.success(), "{}", err(&o));
    let o = room.run(&["send", "all-clear", "--yes"]);
    assert!(o.status.success(), "{}", err(&o));
    let sent = std::fs::read_to_string(&outbox).unwrap();
    assert!(sent.starts_with("Resolved. No data was lost.") && sent.contains("[Say whether"), "{sent}");
}

/// Once the incident is resolved, `warroom report` with nothing named reports it (saying
/// which), rather than "no open incident"; with no incident at all, it names the directory
/// it looked in.
#[test]
fn report_reads_the_newest_incident_once_it_is_resolved() {
    let room = Room::new();
    let journals = room.path().join("journals");
    std::fs::write(room.path().join("warroom.toml"), format!("journal_dir = \"{}\"\n", journals.display())).unwrap();
    let o = room.bare(&["report"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(err(&o).contains(&format!("no incident journal in {}", journals.display())), "{}", err(&o));

    for args in [&["open", "Relay", "down"][..], &["status", "resolved", "--yes"]] {
        let o = room.bare(&[&["--as", "alice@bastion"][..], args].concat());
        assert!(o.status.success(), "{args:?}: {}", err(&o));
    }
    let o = room.bare(&["report"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(err(&o).contains("no open incident; reading the newest, which is resolved:"), "{}", err(&o));
    assert!(out(&o).contains("Relay down"), "{}", out(&o));
}

/// A milestone set at a time out of order with one recorded (mitigated before detected) is
/// written, since either time may be the wrong one, and said: the report lists them in time
/// order.
#[test]
fn a_milestone_out_of_order_is_written_and_said() {
    let room = Room::new().opened();
    let o = room.run(&["milestone", "detected", "--at", "2026-11-21T00:45:00Z"]);
    assert!(o.status.success() && err(&o).is_empty(), "{}", err(&o));
    let o = room.run(&["milestone", "mitigated", "--at", "2026-11-21T00:40:00Z"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        err(&o).contains(
            "warning: mitigated at 00:40:00 UTC puts mitigated before detected (recorded at 00:45:00 UTC); \
             the report lists them in that order"
        ),
        "{}",
        err(&o)
    );
    assert_eq!(room.of_kind("milestone_reached").len(), 2);
}
