//! The command line, run as a user would: init, validate, check, log.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_warroom");

fn warroom(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        // Keep the user's own config and data dirs out of the test.
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("xdg-config"))
        .env("XDG_DATA_HOME", dir.join("xdg-data"))
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `warroom validate -c NAME` on `text` written as NAME in `dir`: what it printed, and the
/// lines of it that are errors located in NAME.
fn validate(dir: &Path, name: &str, text: &str) -> (Output, String, Vec<String>) {
    std::fs::write(dir.join(name), text).unwrap();
    let o = warroom(dir, &["validate", "-c", name]);
    let out = stdout(&o);
    let errors = out.lines().filter(|l| l.starts_with(&format!("{name}:"))).map(str::to_string).collect();
    (o, out, errors)
}

#[test]
fn version_and_help() {
    let dir = tempfile::tempdir().unwrap();
    let o = warroom(dir.path(), &["--version"]);
    assert!(stdout(&o).starts_with("warroom "), "{}", stdout(&o));
    for sub in [&["--help"][..], &["check", "--help"], &["log", "--help"], &["init", "--help"], &["validate", "--help"]]
    {
        let o = warroom(dir.path(), sub);
        assert!(o.status.success(), "{sub:?}");
        assert!(stdout(&o).contains("Usage: warroom"), "{sub:?}");
    }
}

#[test]
fn init_writes_a_config_that_validates_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    assert!(warroom(dir.path(), &["init"]).status.success());
    let o = warroom(dir.path(), &["validate"]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(stdout(&o).contains("warroom.toml: ok, 2 checks"), "{}", stdout(&o));
    let again = warroom(dir.path(), &["init"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert!(warroom(dir.path(), &["init", "--force"]).status.success());
}

#[test]
fn validate_reports_bad_config_and_bad_journal_lines_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[[check]]\nname = \"a\"\nkind = \"tcp\"\nhost = \"h\"\nport = \"x\"\n",
    )
    .unwrap();
    let o = warroom(dir.path(), &["validate", "-c", "bad.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("bad.toml:5:8: field `port`"), "{}", stdout(&o));

    std::fs::write(
        dir.path().join("j.jsonl"),
        "{\"v\":1,\"id\":\"a\",\"ts\":\"2026-11-21T00:00:00.000Z\",\"author\":\"x\",\"kind\":\"note_added\",\"text\":\"ok\"}\n{oops\n",
    )
    .unwrap();
    let o = warroom(dir.path(), &["validate", "-j", "j.jsonl"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("j.jsonl:2: not a valid event"), "{}", stdout(&o));
}

#[test]
fn log_appends_a_note_under_the_callers_name() {
    let dir = tempfile::tempdir().unwrap();
    let o = warroom(dir.path(), &["log", "-j", "j.jsonl", "--as", "carol", "restarted", "the", "relay"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let line = std::fs::read_to_string(dir.path().join("j.jsonl")).unwrap();
    let v: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(
        (v["kind"].as_str(), v["author"].as_str(), v["text"].as_str()),
        (Some("note_added"), Some("carol"), Some("restarted the relay"))
    );
    assert_eq!(stdout(&o).trim(), v["id"].as_str().unwrap());
}

#[test]
fn log_without_an_open_incident_says_how_to_open_one() {
    let dir = tempfile::tempdir().unwrap();
    let o = warroom(dir.path(), &["log", "hello"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no open incident journal"));
}

#[test]
fn check_json_follows_the_nagios_exit_convention() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = |checks: &str| std::fs::write(dir.path().join("warroom.toml"), checks).unwrap();
    let cmd = |name: &str, code: u8| {
        format!(
            "[[check]]\nname = \"{name}\"\nkind = \"command\"\ncommand = [\"sh\", \"-c\", \"echo {name} says hi; exit {code}\"]\n"
        )
    };
    cfg(&cmd("fine", 0));
    let o = warroom(dir.path(), &["check", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rows[0]["name"], "fine");
    assert_eq!(rows[0]["kind"], "command");
    assert_eq!(rows[0]["status"], "up");
    assert!(rows[0]["latency_ms"].is_u64());
    assert!(rows[0]["detail"].as_str().unwrap().starts_with("fine says hi"));

    cfg(&(cmd("fine", 0) + &cmd("slowish", 1)));
    assert_eq!(warroom(dir.path(), &["check", "--json"]).status.code(), Some(1));
    cfg(&(cmd("fine", 0) + &cmd("slowish", 1) + &cmd("broken", 2)));
    let o = warroom(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).contains("✖ down"), "{}", stdout(&o));
    cfg("[[check]]\nname = 1\n");
    assert_eq!(warroom(dir.path(), &["check"]).status.code(), Some(3));
}

/// `validate` reports every problem in one run, and cross-checks names: a checklist item's
/// channel, `depends_on`, the canary.
#[test]
fn validate_reports_every_problem_and_cross_checks_names() {
    let dir = tempfile::tempdir().unwrap();
    let (o, out, errors) = validate(
        dir.path(),
        "three.toml",
        "canary = \"nosuch\"\n\
         [[check]]\nname = \"a\"\nkind = \"tcp\"\nhost = \"h\"\n\
         [[check]]\nname = \"b\"\nkind = \"command\"\ncommand = [\"true\"]\ndepends_on = [\"ghost\"]\n\
         [channel.staff]\nkind = \"command\"\ncommand = [\"cat\"]\n",
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(errors.len(), 3, "three errors, each said:\n{out}");
    assert!(errors[0].contains("field `canary`: \"nosuch\" is not a configured check"), "{out}");
    assert!(errors[1].contains("check \"a\"") && errors[1].contains("port"), "{out}");
    assert!(errors[2].contains("depends on \"ghost\""), "{out}");

    std::fs::write(dir.path().join("channels.toml"), "[channel.staff]\nkind = \"command\"\ncommand = [\"cat\"]\n")
        .unwrap();
    let o = warroom(dir.path(), &["validate", "-c", "channels.toml"]);
    let out = stdout(&o);
    assert!(
        out.contains(
            "warning: checklist default: item \"status-page\" sends on channel \"status-page\", which is not configured"
        ),
        "{out}"
    );
    assert!(!out.contains("item \"staff\" sends"), "{out}");
}

/// Values of the wrong type are all named in one run too, each at its own line, though serde
/// stops at the first: three mistakes in two checks and the top level.
#[test]
fn validate_names_every_value_of_the_wrong_type() {
    let dir = tempfile::tempdir().unwrap();
    let (o, out, errors) = validate(
        dir.path(),
        "types.toml",
        "max_concurrent_probes = \"many\"\n\
         [[check]]\nname = \"web\"\nkind = \"http\"\nurl = 12\ninterval = \"abc\"\n\
         [[check]]\nname = \"db\"\nkind = \"tcp\"\nhost = \"h\"\nport = 70000\n",
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(errors.len(), 4, "four errors, each said:\n{out}");
    assert!(errors[0].starts_with("types.toml:1:25: field `max_concurrent_probes`: invalid type"), "{out}");
    assert!(errors[1].starts_with("types.toml:5:7: field `url`: invalid type: integer `12`"), "{out}");
    assert!(errors[2].starts_with("types.toml:6:12: field `interval`: \"abc\" is not a duration"), "{out}");
    assert!(errors[3].starts_with("types.toml:11:8: field `port`: invalid value: integer `70000`"), "{out}");

    // A command that stops at the first says how many follow.
    let o = warroom(dir.path(), &["check", "-c", "types.toml"]);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("(3 more problems after it: `warroom validate` lists them all)"), "{err}");
}

/// What would fail quietly during the outage is said beforehand: a webhook receiver whose token
/// is not in the environment (it would not start, and alerts would come only by polling), a
/// public message that fills in the incident's internal title. A config that does not read
/// brings no false "no channel is configured" with it; the bundled checklists pass clean.
#[test]
fn validate_warns_of_what_would_fail_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let (_, out, _) = validate(
        dir.path(),
        "push.toml",
        "[[check]]\nname = \"alerts\"\nkind = \"alertmanager\"\nurl = \"http://127.0.0.1:9093\"\n\
         listen = \"127.0.0.1:9097\"\ntoken_env = \"WR_TEST_UNSET_WEBHOOK_TOKEN\"\n\
         [channel.staff]\nkind = \"command\"\ncommand = [\"cat\"]\n",
    );
    assert!(
        out.contains(
            "warning: check \"alerts\": environment variable WR_TEST_UNSET_WEBHOOK_TOKEN (token_env) is not set: \
             the webhook receiver on 127.0.0.1:9097 will not start"
        ),
        "{out}"
    );
    assert!(!out.contains("is public but"), "the bundled checklist fills in nothing internal:\n{out}");

    std::fs::write(
        dir.path().join("leaky.toml"),
        "name = \"leaky\"\n[[item]]\nid = \"tweet\"\ntitle = \"Tweet\"\ndue = \"10m\"\naudience = \"public\"\n\
         template = \"We are fixing {title}\"\n",
    )
    .unwrap();
    let o = warroom(dir.path(), &["validate", "-c", "push.toml", "--checklist", "leaky.toml"]);
    let out = stdout(&o);
    assert!(
        out.contains("warning: checklist leaky: item \"tweet\" is public but its message fills in {title}, the incident's own title"),
        "{out}"
    );

    // A config that does not read: its channels are unknown, not absent.
    let broken = "max_concurrent_probes = \"x\"\n[channel.staff]\nkind = \"command\"\ncommand = [\"cat\"]\n";
    let (_, out, errors) = validate(dir.path(), "broken.toml", broken);
    assert_eq!(errors.len(), 1, "{out}");
    assert!(!out.contains("no channel is configured"), "{out}");
}

/// Mistakes are said in the user's words: what a tcp check takes instead of `expect`, and a
/// config file that is not there (not a place "0:0" in it).
#[test]
fn config_mistakes_are_said_in_the_users_words() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tcp.toml"),
        "[[check]]\nname = \"redis\"\nkind = \"tcp\"\nhost = \"127.0.0.1\"\nport = 6379\nsend = \"PING\\r\\n\"\nexpect = \"PONG\"\n",
    )
    .unwrap();
    let o = warroom(dir.path(), &["validate", "-c", "tcp.toml"]);
    let out = stdout(&o);
    assert!(!out.contains("invalid type"), "{out}");
    assert!(
        out.contains("tcp.toml:7:1: field `expect`: check \"redis\": `expect` does not apply to a tcp check; a tcp check takes `expect_reply"),
        "{out}"
    );

    let o = warroom(dir.path(), &["check", "-c", "/nonexistent.toml"]);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim(), "warroom: /nonexistent.toml: no such file", "{err}");
    let o = warroom(dir.path(), &["validate", "-c", "/nonexistent.toml"]);
    assert!(stdout(&o).contains("/nonexistent.toml: no such file\n"), "{}", stdout(&o));
}
