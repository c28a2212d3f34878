//! Sending messages for real: a webhook to a local receiver, a command channel, and channels
//! that fail — which must leave the checklist item undone and the failure in the journal.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use warroom::comms::{self, Channel};
use warroom::incident::Incident;
use warroom::journal::{Audience, Event, EventBody, Mode};

/// What a receiver saw of one request.
#[derive(Debug, Default, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A local HTTP receiver that answers every request with `status` and records what it got.
async fn receiver(status: u16) -> (u16, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut reader = BufReader::new(read);
                let mut line = String::new();
                reader.read_line(&mut line).await.unwrap();
                let mut parts = line.split_whitespace();
                let mut seen = Seen {
                    method: parts.next().unwrap_or("").into(),
                    path: parts.next().unwrap_or("").into(),
                    ..Seen::default()
                };
                let mut length = 0usize;
                loop {
                    line.clear();
                    reader.read_line(&mut line).await.unwrap();
                    let l = line.trim_end();
                    if l.is_empty() {
                        break;
                    }
                    let (n, v) = l.split_once(':').unwrap();
                    if n.eq_ignore_ascii_case("content-length") {
                        length = v.trim().parse().unwrap();
                    }
                    seen.headers.push((n.to_string(), v.trim().to_string()));
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).await.unwrap();
                seen.body = String::from_utf8(body).unwrap();
                log.lock().unwrap().push(seen);
                let reply =
                    format!("HTTP/1.1 {status} X\r\nContent-Length: 12\r\nConnection: close\r\n\r\nreceiver err");
                let _ = write.write_all(reply.as_bytes()).await;
            });
        }
    });
    (port, seen)
}

fn channels(toml: &str) -> BTreeMap<String, Channel> {
    warroom::config::parse(toml, Path::new("warroom.toml")).unwrap_or_else(|e| panic!("{e}")).channels
}

fn fold(bodies: Vec<EventBody>) -> Incident {
    let mut events = vec![Event::new(
        "a@h",
        EventBody::IncidentOpened { title: "t".into(), severity: 2, mode: Mode::Real, checklist: None },
    )];
    events.extend(bodies.into_iter().map(|b| Event::new("comms@h", b)));
    Incident::from_events(events)
}

#[tokio::test]
async fn webhook_posts_slack_compatible_json_with_the_token_from_the_environment() {
    let (port, seen) = receiver(200).await;
    // SAFETY: set before any thread reads it; only this test uses this variable name.
    unsafe { std::env::set_var("WARROOM_TEST_STATUS_TOKEN", "s3cret-token") };
    let chans = channels(&format!(
        "[channel.status-page]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:{port}/hooks/abc\"\ntoken_env = \"WARROOM_TEST_STATUS_TOKEN\"\n"
    ));
    let bodies = comms::deliver(
        &chans,
        "status-page",
        Audience::Public,
        Some("status-page"),
        "We are investigating.",
        "Mail",
        false,
    )
    .await;
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert!(matches!(&bodies[0], EventBody::MessageSent { error: None, simulated: false, .. }));
    assert_eq!(bodies[1], EventBody::ChecklistItemDone { item: "status-page".into() });
    let seen = seen.lock().unwrap()[0].clone();
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.path, "/hooks/abc");
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(seen.header("authorization"), Some("Bearer s3cret-token"));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&seen.body).unwrap(),
        serde_json::json!({ "text": "We are investigating." })
    );
    // The journal keeps the channel's name and the text, never the token.
    let line = serde_json::to_string(&Event::new("x", bodies[0].clone())).unwrap();
    assert!(!line.contains("s3cret") && !line.contains("/hooks/abc"), "{line}");
}

#[tokio::test]
async fn generic_json_webhook_carries_the_context() {
    let (port, seen) = receiver(204).await;
    let chans = channels(&format!(
        "[channel.ops]\nkind = \"webhook\"\nformat = \"json\"\nurl = \"http://127.0.0.1:{port}/\"\n"
    ));
    let bodies =
        comms::deliver(&chans, "ops", Audience::Internal, Some("staff"), "heads up", "Mail outage", false).await;
    assert!(matches!(&bodies[0], EventBody::MessageSent { error: None, .. }));
    let body: serde_json::Value = serde_json::from_str(&seen.lock().unwrap()[0].body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"text": "heads up", "channel": "ops", "audience": "internal", "item": "staff", "incident": "Mail outage", "drill": false})
    );
}

#[tokio::test]
async fn command_channel_gets_the_message_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sent.txt");
    let chans = channels(&format!(
        "[channel.customer-email]\nkind = \"command\"\ncommand = [\"sh\", \"-c\", \"cat > {}\"]\n",
        out.display()
    ));
    let text = "Subject: Service disruption\n\nWe are on it. Next update by 03:30.";
    let bodies =
        comms::deliver(&chans, "customer-email", Audience::Public, Some("email-customers"), text, "Mail", false).await;
    assert!(matches!(&bodies[0], EventBody::MessageSent { error: None, .. }), "{bodies:?}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), format!("{text}\n"));
    let incident = fold(bodies);
    assert!(incident.checklist["email-customers"].done);
    assert!(incident.last_message.contains_key(&Audience::Public));
}

#[tokio::test]
async fn failing_channels_leave_the_item_undone_and_say_why() {
    let (port, _) = receiver(500).await;
    let closed = support::closed_port();
    let refused = closed.port;
    let chans = channels(&format!(
        "[channel.broken]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:{port}/\"\n\
         [channel.gone]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:{refused}/\"\n\
         [channel.mailer]\nkind = \"command\"\ncommand = [\"sh\", \"-c\", \"echo 'relay refused' >&2; exit 75\"]\n\
         [channel.slow]\nkind = \"command\"\ncommand = [\"sleep\", \"10\"]\ntimeout = \"300ms\"\n\
         [channel.secret]\nkind = \"webhook\"\nurl_env = \"WARROOM_TEST_UNSET_HOOK\"\n"
    ));
    let cases = [
        ("broken", "HTTP 500 Internal Server Error: receiver err"),
        ("gone", "connect failed"),
        ("mailer", "sh exited with 75: relay refused"),
        ("slow", "sleep did not finish within 300ms"),
        ("secret", "environment variable WARROOM_TEST_UNSET_HOOK is not set"),
        ("nowhere", "channel \"nowhere\" is not in the config this warroom read when it started"),
    ];
    for (channel, words) in cases {
        let bodies = comms::deliver(&chans, channel, Audience::Public, Some("status-page"), "text", "t", false).await;
        assert_eq!(bodies.len(), 1, "{channel}: a failed send must not tick the item: {bodies:?}");
        let EventBody::MessageSent { error: Some(e), .. } = &bodies[0] else { panic!("{channel}: {bodies:?}") };
        assert!(e.contains(words), "{channel}: {e}");
        let incident = fold(bodies);
        assert!(!incident.checklist.contains_key("status-page"));
        assert!(!incident.last_message.contains_key(&Audience::Public), "a failed send is not the last update");
    }
}

#[tokio::test]
async fn drills_never_send() {
    let (port, seen) = receiver(200).await;
    let chans = channels(&format!("[channel.status-page]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:{port}/\"\n"));
    let bodies =
        comms::deliver(&chans, "status-page", Audience::Public, Some("status-page"), "[DRILL] x", "t", true).await;
    assert!(matches!(&bodies[0], EventBody::MessageSent { error: None, simulated: true, .. }));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(seen.lock().unwrap().is_empty(), "a drill reached the real channel");
    let _ = Utc::now();
}

#[test]
fn channel_config_errors_are_located() {
    let e = warroom::config::parse("[channel.x]\nkind = \"webhook\"\n", Path::new("w.toml")).unwrap_err();
    assert!(e.to_string().starts_with("w.toml:1:1: field `url`: channel \"x\": a webhook channel needs `url`"), "{e}");
    let e = warroom::config::parse("[channel.x]\nkind = \"pigeon\"\n", Path::new("w.toml")).unwrap_err();
    assert!(e.to_string().contains("unknown channel kind \"pigeon\""), "{e}");
    let e = warroom::config::parse(
        "[channel.x]\nkind = \"webhook\"\nurl = \"http://h/\"\nformat = \"xml\"\n",
        Path::new("w.toml"),
    )
    .unwrap_err();
    assert_eq!((e.line, e.field.as_deref()), (4, Some("format")));
}

/// Issue 18: the all-clear went out reading the template although it had been edited. Here
/// the screen edits an item's message and the real session delivers it through a command
/// channel: the edited text arrives, and the journal records that text with its promise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_message_sent_through_a_command_channel_arrives_edited() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use warroom::board::{Board, Clock};
    use warroom::journal::Journal;
    use warroom::session::{Command, Opening, Purpose, Session, Settings, Update};
    use warroom::tui::{App, Effect, KeyMap, Theme};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("incident.jsonl");
    let out = dir.path().join("status-page.txt");
    let opened = EventBody::IncidentOpened { title: "Mail".into(), severity: 2, mode: Mode::Real, checklist: None };
    Journal::open(&path).unwrap().0.append(&Event::new("alice@h", opened)).unwrap();
    let checklist = warroom::checklist::load("default").unwrap();
    let command = vec!["sh".to_string(), "-c".to_string(), format!("cat >> '{}'", out.display())];
    let channels =
        BTreeMap::from([("status-page".to_string(), Channel::Command { command, timeout: Duration::from_secs(10) })]);
    let settings = Settings { channels, checklist: Some(checklist.clone()), ..Settings::default() };
    let (journal, scan) = Journal::open(&path).unwrap();
    let board = Board::new(Incident::from_events(scan.events.clone()), Vec::new(), Some(checklist), Clock::system());
    let mut app = App::new(board, Theme::built_in("dark"), KeyMap::defaults());
    let mut session =
        Session::start(Opening { journal, scan, settings, purpose: Purpose::Monitor, author: "alice@h".into() });

    let press = |app: &mut App, code: KeyCode, modifiers: KeyModifiers| app.on_key(KeyEvent::new(code, modifiers));
    press(&mut app, KeyCode::Char('3'), KeyModifiers::NONE);
    let at = app.board.checklist_items().iter().position(|(i, _)| i.id == "status-page").unwrap();
    app.selected[warroom::tui::Pane::Checklist] = at;
    press(&mut app, KeyCode::Char('e'), KeyModifiers::NONE);
    for c in " Mail to Gmail is delayed.".chars() {
        press(&mut app, KeyCode::Char(c), KeyModifiers::NONE);
    }
    press(&mut app, KeyCode::Char('s'), KeyModifiers::CONTROL);
    let effects = press(&mut app, KeyCode::Char('y'), KeyModifiers::NONE);
    let Some(Effect::Send { item, channel, audience, text, next_update }) = effects.into_iter().next() else {
        panic!("the screen sent nothing")
    };
    assert!(text.ends_with("Mail to Gmail is delayed."), "{text}");
    let promised = next_update.expect("the message states its next update");
    let edited = text.clone();
    session.send(Command::Send { item, channel, audience, text, next_update, confirmed: false });

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, session.recv()).await {
            Ok(Some(Update::Entries(es))) if es.iter().any(|e| e.kind() == "message_sent") => break,
            Ok(Some(_)) => {}
            _ => panic!("no message_sent within 10 s"),
        }
    }
    session.leave(Duration::from_secs(10)).await;
    assert_eq!(std::fs::read_to_string(&out).unwrap(), format!("{edited}\n"), "the channel got another text");
    let incident = Incident::from_events(Journal::read(&path).unwrap().events);
    let sent = incident.timeline.iter().find_map(|e| match &e.body {
        EventBody::MessageSent { text, next_update, error: None, .. } => Some((text.clone(), *next_update)),
        _ => None,
    });
    assert_eq!(sent, Some((edited, Some(promised))));
    assert_eq!(incident.promised_update, Some(promised));
    assert!(incident.checklist["status-page"].done);
}
