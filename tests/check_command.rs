//! `warroom check --json` against every kind of real server at once.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

#[tokio::test]
async fn check_json_against_real_servers_reports_each_status_and_exits_2() {
    let Some(n) = support::nginx(Some(30)) else { return };
    let Some(good_mail) = support::smtpd(false) else { return };
    let Some(bad_mail) = support::smtpd(true) else { return };
    let Some(dns) = support::dnsmasq() else { return };
    let silent = support::fake::silent().await;
    let (web, tls) = (n.server.port, n.tls_port.unwrap());
    let smtp = |name: &str, port: u16| {
        format!(
            "[[check]]\nname = \"{name}\"\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\nmail_from = \"probe@example.com\"\nrcpt_to = [\"support@example.com\"]\n"
        )
    };
    let config = format!(
        "[[check]]\nname = \"web\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{web}/health\"\njson = {{ \"status\" = \"ok\" }}\n\
         [[check]]\nname = \"maintenance\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{web}/busy\"\n\
         [[check]]\nname = \"slow\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{web}/slow.txt\"\ndegraded_over = \"300ms\"\n\
         [[check]]\nname = \"cert\"\nkind = \"tls\"\nhost = \"localhost\"\nport = {tls}\nallow_invalid_cert = true\n\
         [[check]]\nname = \"untrusted\"\nkind = \"tls\"\nhost = \"localhost\"\nport = {tls}\n\
         {}{}\
         [[check]]\nname = \"mail-port\"\nkind = \"tcp\"\nhost = \"127.0.0.1\"\nport = {}\n\
         [[check]]\nname = \"mx\"\nkind = \"dns\"\nserver = \"127.0.0.1:{}\"\nquery = \"mail.test\"\nrecord = \"MX\"\nexpect = [\"mx1.mail.test\"]\n\
         [[check]]\nname = \"hung\"\nkind = \"tcp\"\nhost = \"127.0.0.1\"\nport = {}\nsend = \"PING\\r\\n\"\nexpect_reply = \"PONG\"\ntimeout = \"2s\"\n\
         [[check]]\nname = \"postfix\"\nkind = \"command\"\ncommand = [\"true\"]\n\
         {}{}",
        smtp("mail", good_mail.port),
        smtp("mail-rcpt", bad_mail.port),
        bad_mail.port,
        dns.port,
        silent.port,
        stopwatch("overlap-a"),
        stopwatch("overlap-b"),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("warroom.toml"), config).unwrap();
    let started = Instant::now();
    let out = tokio::task::spawn_blocking({
        let dir = dir.path().to_path_buf();
        move || {
            let mut warroom = Command::new(env!("CARGO_BIN_EXE_warroom"));
            // A local zone of UTC: a time is said once, in UTC.
            warroom.args(["check", "--json"]).current_dir(dir).env("TZ", "UTC").output().unwrap()
        }
    })
    .await
    .unwrap();
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let status: std::collections::HashMap<&str, &str> =
        rows.iter().map(|r| (r["name"].as_str().unwrap(), r["status"].as_str().unwrap())).collect();
    let expected = [
        ("web", "up"),
        ("maintenance", "down"),
        ("slow", "degraded"),
        ("cert", "up"),
        ("untrusted", "down"),
        ("mail", "up"),
        ("mail-rcpt", "down"),
        ("mail-port", "up"),
        ("mx", "up"),
        ("hung", "down"),
        ("postfix", "up"),
    ];
    for (name, want) in expected {
        assert_eq!(status.get(name), Some(&want), "{name}: {}", serde_json::to_string_pretty(&rows).unwrap());
    }
    let rcpt = rows.iter().find(|r| r["name"] == "mail-rcpt").unwrap();
    assert_eq!(rcpt["detail"], "RCPT TO <support@example.com>: 451 4.3.0 Temporary lookup failure");
    let maintenance = rows.iter().find(|r| r["name"] == "maintenance").unwrap();
    assert!(maintenance["retry_after"].is_string());
    // One clear time, not `back at 14:02:16 +00:00 (14:02:16 UTC)`.
    // (Dated when the time falls after midnight.)
    let back = regex::Regex::new(r"Retry-After: back at (\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d UTC$").unwrap();
    assert!(back.is_match(maintenance["detail"].as_str().unwrap()), "{maintenance}");
    assert_eq!(rows.iter().find(|r| r["name"] == "cert").unwrap()["cert_days_left"], 29);
    // All at once, shown without a clock bound: each stopwatch check was still running when the
    // other started (one after the other, each would end before the next began).
    let (a, b) = (stopwatch_times(dir.path(), "overlap-a"), stopwatch_times(dir.path(), "overlap-b"));
    assert!(a.0 < b.1 && b.0 < a.1, "the checks ran one after the other: {a:?} {b:?}");
    // A run that hangs is caught with room to spare: it takes about the slowest check (slow.txt,
    // about 3 s), and this bound is 5 times that, for a loaded 2-core machine.
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

/// A command check that writes when it started and ended (nanoseconds since the epoch) beside
/// the config, running for a second in between.
fn stopwatch(name: &str) -> String {
    format!(
        "[[check]]\nname = \"{name}\"\nkind = \"command\"\n\
         command = [\"sh\", \"-c\", \"date +%s%N > {name}.start; sleep 1; date +%s%N > {name}.end\"]\n"
    )
}

fn stopwatch_times(dir: &std::path::Path, name: &str) -> (u128, u128) {
    let read = |end: &str| {
        let text = std::fs::read_to_string(dir.join(format!("{name}.{end}"))).unwrap();
        text.trim().parse::<u128>().unwrap_or_else(|e| panic!("{name}.{end}: {text:?}: {e}"))
    };
    (read("start"), read("end"))
}

/// A failing check whose dependency is down says so: "blocked by" in JSON and in the table.
#[test]
fn a_check_behind_a_down_dependency_is_listed_as_blocked_by_it() {
    let closed_port = support::closed_port();
    let closed = closed_port.port;
    let config = format!(
        "[[check]]\nname = \"db\"\nkind = \"tcp\"\nhost = \"127.0.0.1\"\nport = {closed}\ntimeout = \"2s\"\n\
         [[check]]\nname = \"app\"\nkind = \"tcp\"\nhost = \"127.0.0.1\"\nport = {closed}\ntimeout = \"2s\"\ndepends_on = [\"db\"]\n\
         [[check]]\nname = \"other\"\nkind = \"command\"\ncommand = [\"false\"]\n"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("warroom.toml"), config).unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_warroom")).args(args).current_dir(dir.path()).output().unwrap()
    };
    let out = run(&["check", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let blocked: Vec<(&str, Option<&str>)> =
        rows.iter().map(|r| (r["name"].as_str().unwrap(), r["blocked_by"].as_str())).collect();
    assert_eq!(blocked, vec![("db", None), ("app", Some("db")), ("other", None)]);
    let table = String::from_utf8_lossy(&run(&["check"]).stdout).into_owned();
    assert!(table.lines().any(|l| l.contains(" app ") && l.contains("blocked by db: ")), "{table}");
}
