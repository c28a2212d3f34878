//! Alertmanager's webhook, pushed to the poller: a real Debian prometheus-alertmanager with a
//! webhook receiver pointing at the session that polls. The source's interval is an hour, so
//! only the push can explain an alert reaching the journal; when the poller leaves, the
//! session that takes over receives the pushes.

mod support;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use warroom::journal::{EventBody, Journal};
use warroom::session::{Opening, Purpose, Role, Session, Settings, Update};

const WITHIN: Duration = Duration::from_secs(30);
const TOKEN_ENV: &str = "WARROOM_TEST_PUSH_TOKEN";
const TOKEN: &str = "push-s3cret";

fn set_token() {
    // Every test sets the same value, so the order they run in does not matter.
    unsafe { std::env::set_var(TOKEN_ENV, TOKEN) };
}

/// Alertmanager sending every alert at once (group_wait 0s) to the webhook on `hook_port`.
fn alertmanager(hook_port: u16) -> Option<support::Server> {
    let server = support::alertmanager(&format!(
        "route:\n  receiver: warroom\n  group_by: ['alertname']\n  group_wait: 0s\n  group_interval: 1s\n  repeat_interval: 1h\n\
             receivers:\n  - name: warroom\n    webhook_configs:\n      - url: 'http://127.0.0.1:{hook_port}/'\n        send_resolved: true\n\
             \x20       http_config:\n          authorization:\n            credentials: '{TOKEN}'\n"
    ))?;
    assert!(support::wait_http_ok(server.port, "/-/ready", Duration::from_secs(20)), "Alertmanager never ready");
    Some(server)
}

fn settings(am_port: u16, hook_port: u16) -> Settings {
    let text = format!(
        "[[check]]\nname = \"alerts\"\nkind = \"alertmanager\"\nurl = \"http://127.0.0.1:{am_port}\"\ninterval = \"1h\"\n\
         listen = \"127.0.0.1:{hook_port}\"\ntoken_env = \"{TOKEN_ENV}\"\n"
    );
    let config = warroom::config::parse(&text, std::path::Path::new("t.toml")).unwrap();
    Settings::from_config(&config, None)
}

fn start(path: &std::path::Path, settings: Settings, author: &str) -> Session {
    let (journal, scan) = Journal::open(path).unwrap();
    Session::start(Opening { journal, scan, settings, purpose: Purpose::Monitor, author: author.into() })
}

async fn wait_for(session: &mut Session, what: &str, want: impl Fn(&Update) -> bool) -> Update {
    support::updates::wait_for(session, what, WITHIN, want).await
}

/// A raw HTTP/1.0 request; returns the status line and the rest.
fn http(port: u16, request: &str) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut reply = String::new();
    let _ = s.read_to_string(&mut reply);
    reply
}

/// The status code of a reply.
fn status(reply: &str) -> u16 {
    reply.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or_else(|| panic!("not an HTTP reply: {reply:?}"))
}

fn post(port: u16, path: &str, auth: Option<&str>, body: &str) -> String {
    let auth = auth.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    http(
        port,
        &format!(
            "POST {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
}

/// Fires an alert at Alertmanager, as Prometheus would.
fn fire(am_port: u16, name: &str) {
    let body = format!(
        r#"[{{"labels":{{"alertname":"{name}","instance":"db1","severity":"critical"}},"annotations":{{"summary":"{name} fired"}}}}]"#
    );
    let reply = post(am_port, "/api/v2/alerts", None, &body);
    assert_eq!(status(&reply), 200, "{reply}");
}

/// Waits until the session's journal entries record `row` as down.
async fn recorded_down(session: &mut Session, row: &str) {
    wait_for(session, &format!("{row} recorded down"), |u| match u {
        Update::Entries(events) => events.iter().any(
            |e| matches!(&e.body, EventBody::CheckChanged { check, to, .. } if check == row && to.as_str() == "down"),
        ),
        _ => false,
    })
    .await;
}

/// Waits for the session's first reading of the source: its start-up poll, after which the
/// next scheduled one is an hour away.
async fn first_poll(session: &mut Session) {
    wait_for(session, "the first poll", |u| matches!(u, Update::Reading { row, .. } if row.check == "alerts")).await;
}

/// An Alertmanager sending to a webhook port, and a journal for the sessions that listen on it.
struct Rig {
    hook: u16,
    am: support::Server,
    path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Rig {
    fn new() -> Option<Rig> {
        set_token();
        let hook = support::free_port();
        let am = alertmanager(hook)?;
        let dir = tempfile::tempdir().unwrap();
        Some(Rig { hook, am, path: dir.path().join("j.jsonl"), _dir: dir })
    }

    fn start(&self, who: &str) -> Session {
        start(&self.path, settings(self.am.port, self.hook), who)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_reaches_the_pollers_journal_through_the_webhook() {
    let Some(rig) = Rig::new() else { return };
    let (hook, am) = (rig.hook, &rig.am);
    let mut alice = rig.start("alice");
    first_poll(&mut alice).await;

    // The receiver is the poller's, and it wants the token and Alertmanager's body.
    let reply = post(hook, "/", None, r#"{"version":"4","status":"firing","alerts":[]}"#);
    assert_eq!(status(&reply), 401, "{reply}");
    let reply = post(hook, "/", Some("wrong"), r#"{"version":"4","status":"firing","alerts":[]}"#);
    assert_eq!(status(&reply), 401, "{reply}");
    let reply = post(hook, "/", Some(TOKEN), "{\"version\": \x1b[2J");
    assert_eq!(status(&reply), 400, "{reply}");
    let notice = wait_for(&mut alice, "a notice of the refusal", |u| matches!(u, Update::Notice(_))).await;
    let Update::Notice(text) = notice else { unreachable!() };
    assert!(text.contains("alerts") && text.contains("refused"), "{text}");
    assert!(!text.contains('\x1b'), "{text:?}");
    // A group too large to read (thousands of alerts in a big outage) still means "poll now":
    // answered before the body is sent (so no reset can lose the reply), and with the source's
    // interval an hour, only the doorbell explains the poll that follows. The scheme's name
    // is case-insensitive.
    let reply =
        http(hook, &format!("POST / HTTP/1.0\r\nAuthorization: bearer {TOKEN}\r\nContent-Length: {}\r\n\r\n", 2 << 20));
    assert_eq!(status(&reply), 200, "{reply}");
    assert!(reply.contains("body not read: too large"), "{reply}");
    wait_for(
        &mut alice,
        "the poll the large body rang for",
        |u| matches!(u, Update::Reading { row, .. } if row.check == "alerts"),
    )
    .await;
    // Anyone on the host can open connections and send nothing: 64 of them took every slot,
    // and no webhook got through until they were dropped. They are fewer than the slots now:
    // the webhook is answered at once (milliseconds), long before the idle ones are dropped
    // (2 s after they open), which is the only way it could have got a slot before.
    let idle: Vec<std::net::TcpStream> =
        (0..64).map(|_| std::net::TcpStream::connect(("127.0.0.1", hook)).unwrap()).collect();
    let asked = Instant::now();
    let reply = post(hook, "/", Some(TOKEN), r#"{"version":"4","status":"firing","alerts":[]}"#);
    assert_eq!(status(&reply), 200, "{reply}");
    assert!(asked.elapsed() < Duration::from_secs(1), "waited {:?} for a slot", asked.elapsed());
    drop(idle);

    let fired = Instant::now();
    fire(am.port, "PushTest");
    recorded_down(&mut alice, "alerts / PushTest db1").await;
    println!("alert fired at Alertmanager to entry on disk: {:?}", fired.elapsed());
    alice.leave(WITHIN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_receiver_moves_with_a_takeover() {
    let Some(rig) = Rig::new() else { return };
    let (am, path) = (&rig.am, &rig.path);
    let mut alice = rig.start("alice");
    assert!(matches!(alice.recv().await, Some(Update::Opened { role: Role::Poller, .. })));
    let mut bob = rig.start("bob");
    assert!(matches!(bob.recv().await, Some(Update::Opened { role: Role::Follower, .. })));
    first_poll(&mut alice).await;

    // The poller ends; the follower takes over, and with it the webhook.
    alice.leave(WITHIN).await;
    wait_for(&mut bob, "takeover", |u| matches!(u, Update::Role { role: Role::Poller, .. })).await;
    first_poll(&mut bob).await;
    fire(am.port, "AfterTakeover");
    recorded_down(&mut bob, "alerts / AfterTakeover db1").await;
    bob.leave(WITHIN).await;

    let authors: Vec<String> = Journal::read(path)
        .unwrap()
        .events
        .iter()
        .filter(|e| matches!(&e.body, EventBody::CheckChanged { check, .. } if check.contains("AfterTakeover")))
        .map(|e| e.author.clone())
        .collect();
    assert_eq!(authors.len(), 1, "{authors:?}");
}
