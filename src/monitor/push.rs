//! Alertmanager's webhook, received by the poller: a doorbell for the `alertmanager` source.
//!
//! Polling Alertmanager every interval puts an alert on the screen up to an interval late.
//! With `listen` set, the poller also listens for Alertmanager's webhook; a valid, authorised
//! notification makes the source poll Alertmanager's API at once. The API stays the one
//! source of truth: a webhook carries only its own group's alerts, so rows still come from
//! the full list (and a lost or forged webhook can do no more than cause an early poll).
//! Polling goes on at the check's interval as the fallback.
//!
//! The receiver belongs to the monitor, which only the poller runs: it starts when a session
//! becomes the poller and stops when its monitor is dropped, so it moves with a takeover.
//! Everything received is network input: bodies are size-limited, read under a deadline,
//! parsed as Alertmanager's webhook or refused with a logged reason (sanitised), and nothing
//! is read without the bearer token.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;

use super::MonitorEvent;
use super::scheduler::Doorbell;
use crate::probe::PushSpec;
use crate::sanitize::sanitize_str;

/// The largest body taken: Alertmanager sends one group per request, and even a group of a
/// thousand alerts with long annotations fits.
pub const MAX_BODY: usize = 1 << 20;
/// A connection must send its request head and body within these, or is dropped.
/// Alertmanager sends its request as soon as it connects: a connection silent for longer is
/// only holding a slot.
const HEAD_DEADLINE: Duration = Duration::from_secs(2);
const BODY_DEADLINE: Duration = Duration::from_secs(10);
/// Connections served at once; more wait to be accepted. Anyone on the host can connect, so
/// there are many (a few KiB each), and the operator is told when they are all taken.
const MAX_CONNECTIONS: usize = 256;
/// A refused request is reported at most this often (the rest are counted).
const NOTICE_EVERY: Duration = Duration::from_secs(10);
/// Delay between attempts to listen when the address is taken (e.g. by a poller on its way out).
const BIND_RETRY: Duration = Duration::from_secs(2);

/// Alertmanager's webhook body (version 4), as much of it as is checked.
#[derive(Deserialize)]
struct Webhook {
    version: String,
    status: String,
    alerts: Vec<WebhookAlert>,
}

#[derive(Deserialize)]
struct WebhookAlert {
    status: String,
}

/// What a valid webhook said: how many alerts, and whether the group fires or resolved.
#[derive(Debug, PartialEq, Eq)]
pub struct Received {
    pub status: String,
    pub alerts: usize,
}

/// Checks a body is Alertmanager's webhook; the error says why not, sanitised for a terminal.
pub fn parse(body: &[u8]) -> Result<Received, String> {
    let hook: Webhook = serde_json::from_slice(body)
        .map_err(|e| format!("not an Alertmanager webhook body ({})", sanitize_str(&e.to_string(), 160)))?;
    if hook.version != "4" {
        return Err(format!("webhook version \"{}\", expected \"4\"", sanitize_str(&hook.version, 16)));
    }
    let known = |s: &str| matches!(s, "firing" | "resolved");
    if !known(&hook.status) || hook.alerts.iter().any(|a| !known(&a.status)) {
        return Err("webhook status other than \"firing\" or \"resolved\"".into());
    }
    Ok(Received { status: hook.status, alerts: hook.alerts.len() })
}

/// Compares without stopping at the first difference, so timing does not spell the token out.
fn same_secret(given: &[u8], token: &[u8]) -> bool {
    given.len() == token.len() && given.iter().zip(token).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

fn authorised(req: &Request<Incoming>, token: &str) -> bool {
    let Some(value) = req.headers().get(hyper::header::AUTHORIZATION) else { return false };
    // The scheme's name is case-insensitive (RFC 9110, 11.1).
    let value = value.as_bytes();
    let Some((scheme, given)) = value.split_at_checked(7) else { return false };
    scheme.eq_ignore_ascii_case(b"Bearer ") && same_secret(given, token.as_bytes())
}

/// Reports refused requests to the operator, at most one per [`NOTICE_EVERY`].
struct Notices {
    check: String,
    out: mpsc::UnboundedSender<MonitorEvent>,
    last: Mutex<(Option<Instant>, u32)>,
}

impl Notices {
    fn now(&self, text: String) {
        let _ = self.out.send(MonitorEvent::Notice(format!("{} webhook: {text}", self.check)));
    }

    fn limited(&self, text: String) {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if last.0.is_some_and(|at| at.elapsed() < NOTICE_EVERY) {
            last.1 += 1;
            return;
        }
        let more = std::mem::take(&mut last.1);
        last.0 = Some(Instant::now());
        let also = if more > 0 { format!(" ({more} more refused since the last report)") } else { String::new() };
        self.now(format!("{text}{also}"));
    }
}

struct Receiver {
    token: String,
    doorbell: Doorbell,
    notices: Notices,
}

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, text: &'static str) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *r.status_mut() = status;
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(hyper::header::WWW_AUTHENTICATE, hyper::header::HeaderValue::from_static("Bearer"));
    }
    r
}

impl Receiver {
    async fn handle(&self, req: Request<Incoming>, peer: SocketAddr) -> Result<Reply, Infallible> {
        if req.method() != Method::POST {
            return Ok(reply(StatusCode::METHOD_NOT_ALLOWED, "POST Alertmanager's webhook here\n"));
        }
        if !authorised(&req, &self.token) {
            self.notices.limited(format!("refused a request from {peer} without the bearer token"));
            return Ok(reply(StatusCode::UNAUTHORIZED, "bearer token required\n"));
        }
        // The body is only checked, never used (the alerts come from the API): a group too
        // large to read — a big outage, thousands of alerts — still means "poll now". Refusing
        // it left the new alerts to the next poll while Alertmanager kept resending.
        let too_large = || {
            self.doorbell.ring();
            self.notices.limited(format!("a body over {MAX_BODY} bytes from {peer}: not read, Alertmanager polled"));
            Ok(reply(StatusCode::OK, "ok (body not read: too large)\n"))
        };
        if hyper::body::Body::size_hint(req.body()).lower() > MAX_BODY as u64 {
            return too_large();
        }
        let body = match tokio::time::timeout(BODY_DEADLINE, Limited::new(req.into_body(), MAX_BODY).collect()).await {
            Ok(Ok(b)) => b.to_bytes(),
            Ok(Err(e)) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => return too_large(),
            Ok(Err(_)) => {
                self.notices.limited(format!("refused a body from {peer}: cut short"));
                return Ok(reply(StatusCode::BAD_REQUEST, "body incomplete\n"));
            }
            Err(_) => {
                self.notices.limited(format!("refused a body from {peer}: not sent within {BODY_DEADLINE:?}"));
                return Ok(reply(StatusCode::REQUEST_TIMEOUT, "body too slow\n"));
            }
        };
        match parse(&body) {
            Ok(_) => {
                // Poll Alertmanager now, as a `run now` does.
                self.doorbell.ring();
                Ok(reply(StatusCode::OK, "ok\n"))
            }
            Err(why) => {
                self.notices.limited(format!("refused a body from {peer}: {why}"));
                Ok(reply(StatusCode::BAD_REQUEST, "not an Alertmanager webhook body\n"))
            }
        }
    }
}

/// Starts the receiver for one alertmanager check; it runs until the returned task is aborted
/// (the monitor does so when it is dropped).
pub(super) fn spawn(
    check: &str,
    spec: &PushSpec,
    doorbell: Doorbell,
    out: mpsc::UnboundedSender<MonitorEvent>,
) -> tokio::task::JoinHandle<()> {
    let notices = Notices { check: format!("alertmanager check \"{check}\""), out, last: Mutex::new((None, 0)) };
    let spec = spec.clone();
    tokio::spawn(async move {
        let token = match std::env::var(&spec.token_env) {
            Ok(t) if !t.is_empty() => t,
            _ => {
                notices
                    .now(format!("not receiving: the environment variable {} (token_env) is not set", spec.token_env));
                return;
            }
        };
        let listener = bind(&spec, &notices).await;
        if !spec.listen.ip().is_loopback() {
            notices.now(format!(
                "listening on {}, which is not a loopback address: reachable from the network (the token is still required)",
                spec.listen
            ));
        }
        serve(listener, Arc::new(Receiver { token, doorbell, notices })).await;
    })
}

/// Listens on the address, retrying while it is taken (a poller that was just replaced may
/// still hold it for a moment).
async fn bind(spec: &PushSpec, notices: &Notices) -> TcpListener {
    let mut told = false;
    loop {
        match TcpListener::bind(spec.listen).await {
            Ok(l) => return l,
            Err(e) if !told => {
                notices.now(format!("cannot listen on {}: {e}; trying again every {BIND_RETRY:?}", spec.listen));
                told = true;
            }
            Err(_) => {}
        }
        tokio::time::sleep(BIND_RETRY).await;
    }
}

async fn serve(listener: TcpListener, receiver: Arc<Receiver>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    // Connections end with the receiver: dropping the set aborts them.
    let mut connections = tokio::task::JoinSet::new();
    loop {
        if slots.available_permits() == 0 {
            receiver.notices.limited(format!(
                "all {MAX_CONNECTIONS} connections are taken (each is dropped {HEAD_DEADLINE:?} after it opens if it \
                 sends nothing); webhooks wait until one is free"
            ));
        }
        let Ok(slot) = slots.clone().acquire_owned().await else { return };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(_) => {
                // Out of file descriptors, say: do not spin.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let receiver = receiver.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let receiver = receiver.clone();
                async move { receiver.handle(req, peer).await }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEAD_DEADLINE)
                .max_buf_size(64 << 10)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            drop(slot);
        });
        while connections.try_join_next().is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alertmanagers_webhook_is_accepted() {
        let body =
            br#"{"receiver":"warroom","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"Down"},
            "annotations":{},"startsAt":"2026-11-26T00:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"",
            "fingerprint":"1"}],"groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"",
            "version":"4","groupKey":"{}:{}","truncatedAlerts":0}"#;
        assert_eq!(parse(body), Ok(Received { status: "firing".into(), alerts: 1 }));
    }

    #[test]
    fn anything_else_is_refused_with_a_reason_a_terminal_can_show() {
        let bad = parse(b"{\"version\":\"4\",\"status\":\"firing\",\"alerts\":[{\"status\":\"\x1b[2Jboom\"}]}");
        assert!(bad.is_err());
        let err = parse(b"{\"version\":\"\x1b]0;pwn\x07\",\"status\":\"firing\",\"alerts\":[]}").unwrap_err();
        assert!(!err.contains('\x1b') && !err.contains('\x07'), "{err:?}");
        let err = parse(b"not json \x1b[31m").unwrap_err();
        assert!(err.starts_with("not an Alertmanager webhook body"), "{err}");
        assert!(!err.contains('\x1b'), "{err:?}");
        assert!(parse(br#"{"version":"4","status":"firing"}"#).is_err(), "alerts are required");
    }

    #[test]
    fn the_token_must_match_exactly() {
        assert!(same_secret(b"s3cret", b"s3cret"));
        assert!(!same_secret(b"s3cre", b"s3cret"));
        assert!(!same_secret(b"s3cret!", b"s3cret"));
        assert!(!same_secret(b"S3cret", b"s3cret"));
    }
}
