//! Probes against real servers (nginx, aiosmtpd, dnsmasq, TLS with a generated certificate)
//! and in-process misbehaving ones. Every probe must end in a clear outcome, never a panic,
//! never a hang past its timeout.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::fake;
use warroom::monitor::CheckDef;
use warroom::probe::{Health, Outcome, Prober};

/// One check from a TOML snippet, through the real config parser.
fn check(toml: &str) -> CheckDef {
    let text = format!("[[check]]\nname = \"t\"\n{toml}");
    warroom::config::parse(&text, Path::new("test.toml")).unwrap_or_else(|e| panic!("{e}")).checks.remove(0)
}

async fn probe(toml: &str) -> Outcome {
    let c = check(toml);
    let started = Instant::now();
    let o = Prober::new().run(&c.probe, c.schedule.timeout).await;
    // Ended by the timeout, not left hanging (a trickling or silent server would keep it for
    // ever). Three times the timeout, and a second for starting processes, leaves room for a
    // loaded 2-core machine; the outcome's own words ("timed out after 1s during …") say that
    // the timeout is what ended it.
    assert!(started.elapsed() < c.schedule.timeout * 3 + Duration::from_secs(1), "probe overran: {o:?}");
    o
}

fn assert_outcome(o: &Outcome, health: Health, words: &[&str]) {
    assert_eq!(o.health, health, "{o:#?}");
    for w in words {
        assert!(o.detail.contains(w), "detail lacks {w:?}: {}", o.detail);
    }
}

// ---------------------------------------------------------------------------------------
// http against nginx

#[tokio::test]
async fn http_against_nginx() {
    let Some(n) = support::nginx(None) else { return };
    let base = format!("http://127.0.0.1:{}", n.server.port);

    let o = probe(&format!("kind = \"http\"\nurl = \"{base}/ok\"\nbody_contains = \"ok\"")).await;
    assert_outcome(&o, Health::Up, &["HTTP 200 OK in"]);
    assert!(o.steps.iter().any(|s| s.name.starts_with("GET ")), "{:?}", o.steps);

    // 503 with Retry-After: down, and when the server says it will be back.
    let before = chrono::Utc::now();
    let o = probe(&format!("kind = \"http\"\nurl = \"{base}/busy\"")).await;
    assert_outcome(
        &o,
        Health::Down,
        &[
            // nginx's own reason phrase, not the standard one.
            "HTTP 503 Service Temporarily Unavailable",
            "status 503 not in expected 200-399",
            "Retry-After: back at",
            "down for maintenance",
        ],
    );
    let back = o.retry_after.expect("Retry-After recorded");
    let secs = (back - before).num_seconds();
    assert!((118..=125).contains(&secs), "back in {secs}s");

    // Redirects: followed by default; reported as such when not followed.
    assert_outcome(
        &probe(&format!("kind = \"http\"\nurl = \"{base}/moved\"\nexpect_status = [200]")).await,
        Health::Up,
        &["HTTP 200"],
    );
    let o = probe(&format!("kind = \"http\"\nurl = \"{base}/moved\"\nfollow_redirects = false\nexpect_status = [200]"))
        .await;
    assert_outcome(&o, Health::Down, &["HTTP 301", "status 301 not in expected 200"]);
    let o = probe(&format!("kind = \"http\"\nurl = \"{base}/moved\"\nfollow_redirects = false")).await;
    assert_outcome(&o, Health::Up, &["HTTP 301"]);

    // JSON fields and headers.
    let health =
        format!("kind = \"http\"\nurl = \"{base}/health\"\nheader = {{ \"content-type\" = \"application/json\" }}");
    let ok = format!("{health}\njson = {{ \"status\" = \"ok\", \"db.state\" = \"up\", \"db.replicas\" = 2 }}");
    assert_outcome(&probe(&ok).await, Health::Up, &["HTTP 200"]);
    let bad = format!("{health}\njson = {{ \"db.state\" = \"down\", \"queue\" = 1 }}");
    assert_outcome(
        &probe(&bad).await,
        Health::Down,
        &["JSON db.state is \"up\" (expected \"down\")", "JSON queue missing"],
    );
    let wrong_header = format!(
        "kind = \"http\"\nurl = \"{base}/ok\"\nheader = {{ \"content-type\" = \"application/json\" }}\nheader_present = [\"x-served-by\"]"
    );
    assert_outcome(
        &probe(&wrong_header).await,
        Health::Down,
        &["header content-type is \"text/plain\"", "header x-served-by missing"],
    );
    let o = probe(&format!("kind = \"http\"\nurl = \"{base}/ok\"\nbody_not_contains = \"ok\"")).await;
    assert_outcome(&o, Health::Down, &["body contains \"ok\""]);

    // Slow: degraded over the threshold; down at the timeout, naming the step.
    let o = probe(&format!("kind = \"http\"\nurl = \"{base}/slow.txt\"\ndegraded_over = \"300ms\"\ntimeout = \"10s\""))
        .await;
    assert_outcome(&o, Health::Degraded, &["slow:"]);
    let o = probe(&format!("kind = \"http\"\nurl = \"{base}/slow.txt\"\ntimeout = \"700ms\"")).await;
    assert_outcome(&o, Health::Down, &["timed out after 700ms during"]);

    // Body cap.
    let o = probe(&format!("kind = \"http\"\nurl = \"{base}/slow.txt\"\nmax_body = 10\nbody_contains = \"sss\"")).await;
    assert_outcome(&o, Health::Up, &["body truncated at 10 bytes"]);
}

#[tokio::test]
async fn tls_and_https_with_a_self_signed_certificate() {
    let Some(n) = support::nginx(Some(5)) else { return };
    let port = n.tls_port.unwrap();

    let o = probe(&format!("kind = \"tls\"\nhost = \"localhost\"\nport = {port}")).await;
    assert_outcome(&o, Health::Down, &["certificate not trusted: self-signed certificate", "expires in 4 days"]);
    assert_eq!(o.cert_days_left, Some(4));

    let o = probe(&format!("kind = \"tls\"\nhost = \"localhost\"\nport = {port}\nallow_invalid_cert = true")).await;
    assert_outcome(&o, Health::Degraded, &["expires in 4 days", "allowed by config", "expires within 14 days"]);
    let o = probe(&format!(
        "kind = \"tls\"\nhost = \"localhost\"\nport = {port}\nallow_invalid_cert = true\ncert_warn_days = 3"
    ))
    .await;
    assert_outcome(&o, Health::Up, &["expires in 4 days"]);

    let url = format!("https://localhost:{port}/");
    let o = probe(&format!("kind = \"http\"\nurl = \"{url}\"")).await;
    assert_outcome(&o, Health::Down, &["certificate not trusted: self-signed certificate (it expires in 4 days)"]);
    let o = probe(&format!("kind = \"http\"\nurl = \"{url}\"\nallow_invalid_cert = true")).await;
    assert_outcome(
        &o,
        Health::Degraded,
        &["HTTP 200", "certificate not trusted: self-signed certificate (allowed by config)", "expires in 4 days"],
    );
    assert_eq!(o.cert_days_left, Some(4));

    // Plain TCP to a TLS port is not a TLS server: handshake against the HTTP port fails clearly.
    let o = probe(&format!("kind = \"tls\"\nhost = \"127.0.0.1\"\nport = {}", n.server.port)).await;
    assert_outcome(
        &o,
        Health::Down,
        &["TLS handshake failed: the server did not answer TLS (is this a plain-text port?)"],
    );
}

// ---------------------------------------------------------------------------------------
// smtp against aiosmtpd

const SMTP: &str = "kind = \"smtp\"\nhost = \"127.0.0.1\"\nhelo = \"warroom.test\"\nmail_from = \"probe@example.com\"\nrcpt_to = [\"support@example.com\"]";

#[tokio::test]
async fn smtp_finds_the_rcpt_failure_a_tcp_check_misses() {
    let Some(healthy) = support::smtpd(false) else { return };
    let Some(broken) = support::smtpd(true) else { return };

    let o = probe(&format!("{SMTP}\nport = {}", healthy.port)).await;
    assert_outcome(&o, Health::Up, &["transaction ok through RCPT TO (1 recipient)", "no STARTTLS offered"]);
    let names: Vec<&str> = o.steps.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"banner") && names.contains(&"RCPT TO <support@example.com>"), "{names:?}");

    let o = probe(&format!("{SMTP}\nport = {}", broken.port)).await;
    assert_outcome(&o, Health::Down, &[]);
    assert_eq!(o.detail, "RCPT TO <support@example.com>: 451 4.3.0 Temporary lookup failure");

    // The shallow check on the same port stays green: exactly the four-hour blind spot.
    let o = probe(&format!("kind = \"tcp\"\nhost = \"127.0.0.1\"\nport = {}", broken.port)).await;
    assert_outcome(&o, Health::Up, &["connected"]);
    let o =
        probe(&format!("kind = \"tcp\"\nhost = \"127.0.0.1\"\nport = {}\nexpect_reply = \"^220 \"", broken.port)).await;
    assert_outcome(&o, Health::Up, &["reply matches"]);

    let o = probe(&format!("{SMTP}\nport = {}\nstarttls = \"required\"", healthy.port)).await;
    assert_outcome(&o, Health::Down, &["EHLO warroom.test: server does not offer STARTTLS"]);
    let o = probe(&format!("{SMTP}\nport = {}\ndata = \"Subject: probe\\n\\n.hidden dot\\nbye\"", healthy.port)).await;
    assert_outcome(&o, Health::Up, &["through DATA"]);
}

// ---------------------------------------------------------------------------------------
// dns against dnsmasq

#[tokio::test]
async fn dns_against_dnsmasq() {
    let Some(d) = support::dnsmasq() else { return };
    let server = format!("server = \"127.0.0.1:{}\"", d.port);
    let dns = |q: &str| format!("kind = \"dns\"\n{server}\ntimeout = \"3s\"\n{q}");

    assert_outcome(
        &probe(&dns("query = \"web.test\"\nexpect = [\"127.0.0.1\"]")).await,
        Health::Up,
        &["NOERROR: 127.0.0.1"],
    );
    assert_outcome(
        &probe(&dns("query = \"mail.test\"\nrecord = \"MX\"\nexpect = [\"mx1.mail.test\"]")).await,
        Health::Up,
        &["10 mx1.mail.test"],
    );
    assert_outcome(
        &probe(&dns("query = \"mail.test\"\nrecord = \"TXT\"\nexpect = [\"v=spf1 -all\"]")).await,
        Health::Up,
        &["v=spf1 -all"],
    );
    assert_outcome(
        &probe(&dns("query = \"mail.test\"\nrecord = \"MX\"\nexpect = [\"mx2.mail.test\"]")).await,
        Health::Down,
        &["answer lacks mx2.mail.test; got 10 mx1.mail.test"],
    );
    assert_outcome(
        &probe(&dns("query = \"nowhere.test\"")).await,
        Health::Down,
        &["rcode NXDOMAIN (expected NOERROR)"],
    );
    assert_outcome(&probe(&dns("query = \"nowhere.test\"\nrcode = \"NXDOMAIN\"")).await, Health::Up, &["NXDOMAIN"]);
    let o = probe(&dns("query = \"evil.test\"\nrecord = \"TXT\"")).await;
    assert_outcome(&o, Health::Up, &["before"]);
    assert!(!o.detail.chars().any(|c| c.is_control()) && !o.detail.contains("PWNED"), "{:?}", o.detail);
}

// ---------------------------------------------------------------------------------------
// Bad targets and misbehaving servers

#[tokio::test]
async fn bad_targets_end_in_clear_outcomes() {
    let closed = support::closed_port();
    let refused = closed.port;
    let o = probe(&format!("kind = \"tcp\"\nhost = \"127.0.0.1\"\nport = {refused}")).await;
    assert_outcome(&o, Health::Down, &["connection refused"]);
    let o = probe(&format!("kind = \"http\"\nurl = \"http://127.0.0.1:{refused}/\"")).await;
    assert_outcome(&o, Health::Down, &["connect failed"]);
    let o = probe(&format!("{SMTP}\nport = {refused}")).await;
    assert_outcome(&o, Health::Down, &["connection refused"]);
    let o = probe("kind = \"http\"\nurl = \"http://no-such-host.invalid/\"").await;
    assert_outcome(&o, Health::Down, &[]);
    let o = probe("kind = \"tcp\"\nhost = \"no-such-host.invalid\"\nport = 80").await;
    assert_outcome(&o, Health::Down, &["no such host"]);
    let o = probe("kind = \"command\"\ncommand = [\"/nonexistent/program\"]").await;
    assert_outcome(&o, Health::Down, &["cannot run /nonexistent/program"]);
    let o = probe("kind = \"command\"\ncommand = [\"sleep\", \"30\"]\ntimeout = \"500ms\"").await;
    assert_outcome(&o, Health::Down, &["timed out after 500ms during run sleep"]);
    let o = probe(
        "kind = \"command\"\ncommand = [\"sh\", \"-c\", \"printf 'warn: \\\\033]0;x\\\\007disk 91%%\\\\n'; exit 1\"]",
    )
    .await;
    assert_outcome(&o, Health::Degraded, &["warn: disk 91% (exit 1"]);
}

#[tokio::test]
async fn misbehaving_servers_end_at_their_timeout_with_the_step_named() {
    let silent = fake::silent().await;
    let o = probe(&format!("kind = \"http\"\nurl = \"http://127.0.0.1:{}/\"\ntimeout = \"1s\"", silent.port)).await;
    assert_outcome(&o, Health::Down, &["timed out after 1s during GET"]);
    let o = probe(&format!("{SMTP}\nport = {}\ntimeout = \"1s\"", silent.port)).await;
    assert_outcome(&o, Health::Down, &["timed out after 1s during banner"]);

    // One byte per second: the banner never completes within the timeout.
    let trickle = fake::trickle(b"220 slow.test ESMTP\r\n", Duration::from_secs(1)).await;
    let o = probe(&format!("{SMTP}\nport = {}\ntimeout = \"2500ms\"", trickle.port)).await;
    assert_outcome(&o, Health::Down, &["timed out after 2s 500ms during banner"]);

    let o = probe(&format!("kind = \"http\"\nurl = \"https://127.0.0.1:{}/\"\ntimeout = \"1s\"", silent.port)).await;
    assert_outcome(&o, Health::Down, &["timed out after 1s during TLS handshake with 127.0.0.1"]);

    let trickle = fake::http_trickle_body(Duration::from_millis(100)).await;
    let o = probe(&format!("kind = \"http\"\nurl = \"http://127.0.0.1:{}/\"\ntimeout = \"1s\"", trickle.port)).await;
    assert_outcome(&o, Health::Down, &["timed out after 1s during read body"]);

    let cut = fake::http_reply_and_close(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial").await;
    let o = probe(&format!("kind = \"http\"\nurl = \"http://127.0.0.1:{}/\"", cut.port)).await;
    assert_outcome(&o, Health::Down, &["connection failed while reading the body"]);

    let cut = fake::reply_and_close(b"220-first line\r\n220-second").await;
    let o = probe(&format!("{SMTP}\nport = {}", cut.port)).await;
    assert_outcome(&o, Health::Down, &["banner: connection closed mid-reply"]);

    let garbage = fake::reply_and_close(b"SSH-2.0-OpenSSH_9.2\r\n").await;
    let o = probe(&format!("{SMTP}\nport = {}", garbage.port)).await;
    assert_outcome(&o, Health::Down, &["banner: malformed reply line \"SSH-2.0-OpenSSH_9.2\""]);

    let endless = fake::smtp_endless_ehlo().await;
    let o = probe(&format!("{SMTP}\nport = {}\ntimeout = \"5s\"", endless.port)).await;
    assert_outcome(&o, Health::Down, &["EHLO warroom.test: reply longer than 200 lines"]);

    let huge = fake::huge_http_body().await;
    let o = probe(&format!("kind = \"http\"\nurl = \"http://127.0.0.1:{}/\"\nbody_contains = \"A\"", huge.port)).await;
    assert_outcome(&o, Health::Up, &["body truncated at 1048576 bytes"]);

    let hostile = fake::http_response(500, b"\x1b]0;owned\x07\x1b[2J\xff\xfeerror page").await;
    let o = probe(&format!("kind = \"http\"\nurl = \"http://127.0.0.1:{}/\"", hostile.port)).await;
    assert_outcome(&o, Health::Down, &["status 500", "\u{fffd}\u{fffd}error page"]);
    assert!(!o.detail.chars().any(|c| c.is_control()), "control characters reached the detail: {:?}", o.detail);
}

#[tokio::test]
async fn smtp_multi_line_replies_split_across_packets() {
    static SCRIPT: &[Option<&[&str]>] = &[
        Some(&["220-mx.test ESMTP\r\n220-", "no UCE\r\n", "220 ready\r\n"]),
        Some(&["250-mx.test\r\n250-SIZE 10240000\r\n25", "0-8BITMIME\r", "\n250 HELP\r\n"]),
        Some(&["250 2.1.0 Ok\r\n"]),
        Some(&["250 2.1.5 Ok\r\n"]),
        Some(&["250 2.0.0 Ok\r\n"]),
    ];
    let server = fake::smtp_script(SCRIPT).await;
    let o = probe(&format!("{SMTP}\nport = {}", server.port)).await;
    assert_outcome(&o, Health::Up, &["transaction ok through RCPT TO"]);

    static NO_REPLY_TO_RCPT: &[Option<&[&str]>] =
        &[Some(&["220 mx.test\r\n"]), Some(&["250 mx.test\r\n"]), Some(&["250 Ok\r\n"]), None];
    let server = fake::smtp_script(NO_REPLY_TO_RCPT).await;
    let o = probe(&format!("{SMTP}\nport = {}\ntimeout = \"1s\"", server.port)).await;
    assert_outcome(&o, Health::Down, &["timed out after 1s during RCPT TO <support@example.com>"]);

    // An unexpected code fails at once, not at the timeout.
    static REJECT_MAIL: &[Option<&[&str]>] = &[
        Some(&["220 mx.test\r\n"]),
        Some(&["250 mx.test\r\n"]),
        Some(&["550-5.7.1 Sender rejected\r\n550 5.7.1 see policy\r\n"]),
    ];
    let server = fake::smtp_script(REJECT_MAIL).await;
    let started = Instant::now();
    let o = probe(&format!("{SMTP}\nport = {}\ntimeout = \"10s\"", server.port)).await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(o.detail, "MAIL FROM <probe@example.com>: 550 5.7.1 Sender rejected / 5.7.1 see policy");
}

#[tokio::test]
async fn every_http_probe_opens_a_fresh_connection() {
    let (server, connections) = fake::http_counting_connections().await;
    let c = check(&format!("kind = \"http\"\nurl = \"http://127.0.0.1:{}/\"", server.port));
    let prober = Prober::new();
    for _ in 0..5 {
        assert_eq!(prober.run(&c.probe, c.schedule.timeout).await.health, Health::Up);
    }
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 5, "a pooled connection hides a dead listener");
}

/// Each probe's connection ends with a reset: at 1,000 probes a second, connections closed
/// the polite way would leave tens of thousands in TIME_WAIT, more than the ephemeral ports
/// towards one server.
#[tokio::test]
async fn http_probes_leave_no_connection_in_time_wait() {
    let Some(n) = support::nginx(None) else { return };
    let c = check(&format!("kind = \"http\"\nurl = \"http://127.0.0.1:{}/ok\"", n.server.port));
    let prober = Prober::new();
    for _ in 0..20 {
        assert_eq!(prober.run(&c.probe, c.schedule.timeout).await.health, Health::Up);
    }
    // /proc/net/tcp: local and remote address:port in hex, then the state (06 is TIME_WAIT).
    let port = format!(":{:04X}", n.server.port);
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let waiting: Vec<&str> = table
        .lines()
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 3 && f[3] == "06" && (f[1].ends_with(&port) || f[2].ends_with(&port))
        })
        .collect();
    assert!(waiting.is_empty(), "connections left in TIME_WAIT: {waiting:#?}");
}

/// Redirects as browsers follow them: a 303 turns a POST into a GET without its body (a HEAD
/// stays a HEAD), a 307 keeps both, credentials and a configured Host never go to another
/// server, a Location in UTF-8 is followed, and what goes wrong after a redirect says so.
#[tokio::test]
async fn redirects_keep_or_drop_the_method_body_and_credentials_as_they_should() {
    let (other, at_other) = fake::http_recording(|head| {
        let status = if head.contains("/broken") { "500 Internal Server Error" } else { "200 OK" };
        format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n")
    })
    .await;
    let elsewhere = format!("http://127.0.0.1:{}", other.port);
    let (here, at_here) = fake::http_recording(move |head| {
        let to = match head.split_whitespace().nth(1).unwrap_or("") {
            "/see-other" => format!("303 See Other\r\nLocation: {elsewhere}/landing"),
            "/to-broken" => format!("302 Found\r\nLocation: {elsewhere}/broken"),
            "/temporary" => "307 Temporary Redirect\r\nLocation: /kept".into(),
            "/loop" => "302 Found\r\nLocation: /loop".into(),
            "/to-file" => "302 Found\r\nLocation: file:///etc/passwd".into(),
            "/to-closed" => "302 Found\r\nLocation: http://127.0.0.1:9/".into(),
            "/accent" => "302 Found\r\nLocation: /caf\u{e9}".into(),
            "/nowhere" => "302 Found".into(),
            "/empty" => "301 Moved Permanently\r\nLocation:  ".into(),
            _ => "200 OK".into(),
        };
        format!("HTTP/1.1 {to}\r\nContent-Length: 0\r\n\r\n")
    })
    .await;
    let with = |method: &str, path: &str| {
        format!(
            "kind = \"http\"\nurl = \"http://127.0.0.1:{}{path}\"\nmethod = \"{method}\"\nbody = \"page=1\"\n\
             headers = {{ Authorization = \"Bearer s3cret\", Host = \"intranet.test\", Content-Type = \"text/plain\" }}",
            here.port
        )
    };
    let last = |seen: &fake::Requests| seen.lock().unwrap().last().cloned().unwrap();
    assert_outcome(&probe(&with("POST", "/see-other")).await, Health::Up, &["HTTP 200"]);
    let landed = last(&at_other);
    assert!(landed.starts_with("GET /landing HTTP/1.1\r\n"), "{landed:?}");
    let lower = landed.to_ascii_lowercase();
    assert!(!lower.contains("authorization") && !lower.contains("intranet.test"), "sent to another server: {landed:?}");
    assert!(!landed.contains("page=1") && !lower.contains("content-type"), "the body went along a 303: {landed:?}");
    let head = probe(&with("HEAD", "/see-other")).await;
    assert_outcome(&head, Health::Up, &["HTTP 200"]);
    assert!(!head.steps.iter().any(|s| s.name == "read body"), "a HEAD has no body to read: {:?}", head.steps);
    assert!(last(&at_other).starts_with("HEAD /landing"), "a HEAD stays a HEAD");

    assert_outcome(&probe(&with("POST", "/temporary")).await, Health::Up, &["HTTP 200"]);
    let kept = last(&at_here);
    assert!(kept.starts_with("POST /kept HTTP/1.1\r\n") && kept.ends_with("page=1"), "{kept:?}");
    assert!(kept.contains("Bearer s3cret") && kept.contains("intranet.test"), "same server, same headers: {kept:?}");

    assert_outcome(&probe(&with("GET", "/accent")).await, Health::Up, &["HTTP 200"]);
    assert!(last(&at_here).starts_with("GET /caf%C3%A9 "), "{:?}", last(&at_here));

    assert_outcome(&probe(&with("GET", "/loop")).await, Health::Down, &["too many redirects"]);
    assert_outcome(
        &probe(&with("GET", "/nowhere")).await,
        Health::Down,
        &["HTTP 302 Found: a redirect without a Location"],
    );
    // An empty Location is none (not the same page again, until the redirect limit).
    let empty = probe(&with("GET", "/empty")).await;
    assert_outcome(&empty, Health::Down, &["HTTP 301 Moved Permanently: a redirect without a Location"]);
    let unfollowed =
        format!("kind = \"http\"\nurl = \"http://127.0.0.1:{}/nowhere\"\nfollow_redirects = false", here.port);
    assert_outcome(&probe(&unfollowed).await, Health::Up, &["HTTP 302 Found in"]);
    assert_outcome(&probe(&with("GET", "/to-file")).await, Health::Down, &["to a file: URL", "http and https only"]);
    assert_outcome(
        &probe(&with("GET", "/to-closed")).await,
        Health::Down,
        &["connect failed", "after a redirect to http://127.0.0.1:9/"],
    );
    let broken = format!("after redirects to http://127.0.0.1:{}/broken", other.port);
    assert_outcome(&probe(&with("GET", "/to-broken")).await, Health::Down, &["HTTP 500", &broken]);
}

/// The server's own reason phrase is what the detail shows (a standard one only when it gave
/// none), and a header sent twice is judged on its values together.
#[tokio::test]
async fn the_server_s_own_words_and_every_value_of_a_header_count() {
    let (server, _) = fake::http_recording(|head| {
        let line = match head.split_whitespace().nth(1).unwrap_or("") {
            "/varnish" => "503 Backend fetch failed",
            "/edge" => "521 Web Server Is Down",
            "/bare" => "503 ",
            _ => "200 OK",
        };
        format!("HTTP/1.1 {line}\r\nCache-Control: no-cache\r\nCache-Control: no-store\r\nContent-Length: 0\r\n\r\n")
    })
    .await;
    let at = |path: &str| format!("kind = \"http\"\nurl = \"http://127.0.0.1:{}{path}\"", server.port);
    assert_outcome(&probe(&at("/varnish")).await, Health::Down, &["HTTP 503 Backend fetch failed: status 503"]);
    assert_outcome(&probe(&at("/edge")).await, Health::Down, &["HTTP 521 Web Server Is Down: status 521"]);
    assert_outcome(&probe(&at("/bare")).await, Health::Down, &["HTTP 503 Service Unavailable: status 503"]);
    let both = format!("{}\nheader = {{ Cache-Control = \"no-cache, no-store\" }}", at("/"));
    assert_outcome(&probe(&both).await, Health::Up, &["HTTP 200 OK in"]);
    let first = format!("{}\nheader = {{ Cache-Control = \"no-cache\" }}", at("/"));
    assert_outcome(&probe(&first).await, Health::Down, &["header Cache-Control is \"no-cache, no-store\""]);
}

/// A server that answers in something other than HTTP is named as such, with what it said.
#[tokio::test]
async fn a_server_that_does_not_speak_http_is_named_as_such() {
    let smtp = fake::reply_and_close(b"220 mail.test ESMTP ready\r\n").await;
    let o = probe(&format!("kind = \"http\"\nurl = \"http://127.0.0.1:{}/\"", smtp.port)).await;
    assert_outcome(&o, Health::Down, &["the server did not answer in HTTP (it began: 220 mail.test ESMTP ready)"]);
}

/// `http://user:secret@host/` is Basic authentication, as curl reads it; the secret is in no
/// request line and in no step of the outcome.
#[tokio::test]
async fn a_url_with_a_user_and_password_is_basic_authentication() {
    let (server, seen) = fake::http_recording(|_| "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".into()).await;
    let o = probe(&format!("kind = \"http\"\nurl = \"http://ops:p%40ss@127.0.0.1:{}/health\"", server.port)).await;
    assert_outcome(&o, Health::Up, &["HTTP 200"]);
    let head = seen.lock().unwrap()[0].clone();
    // base64("ops:p@ss")
    assert!(head.starts_with("GET /health HTTP/1.1\r\n") && head.contains("Basic b3BzOnBAc3M="), "{head:?}");
    assert!(o.steps.iter().all(|s| !s.name.contains("p%40ss")), "the password in a step: {:?}", o.steps);
    let c = check(&format!("kind = \"http\"\nurl = \"http://ops:p%40ss@127.0.0.1:{}/health\"", server.port));
    assert_eq!(c.probe.target(), format!("http://ops:***@127.0.0.1:{}/health", server.port), "shown without it");
}

#[tokio::test]
async fn all_addresses_names_the_failing_backend() {
    let Some(n) = support::nginx(None) else { return };
    // `localhost` resolves to 127.0.0.1 (and ::1 where configured); nginx listens on 127.0.0.1 only.
    let o =
        probe(&format!("kind = \"http\"\nurl = \"http://localhost:{}/ok\"\nall_addresses = true", n.server.port)).await;
    let resolved: Vec<_> = tokio::net::lookup_host(("localhost", n.server.port)).await.unwrap().collect();
    if resolved.len() == 1 {
        assert_outcome(&o, Health::Up, &["all 1 addresses up"]);
    } else {
        assert_outcome(&o, Health::Down, &["of 2 addresses failing", "[::1]"]);
    }
}

#[tokio::test]
async fn alertmanager_rows_map_severity_and_mark_silenced_alerts() {
    static ALERTS: &[u8] = br#"[
      {"labels":{"alertname":"DiskFull","instance":"db1","severity":"warning"},"annotations":{"summary":"disk 95% full"},"status":{"state":"active","silencedBy":[],"inhibitedBy":[]}},
      {"labels":{"alertname":"HostDown","instance":"db2","severity":"critical"},"annotations":{"summary":"db2 unreachable"},"status":{"state":"active","silencedBy":[],"inhibitedBy":[]}},
      {"labels":{"alertname":"Flapping","instance":"web1","severity":"critical"},"annotations":{},"status":{"state":"suppressed","silencedBy":["abc"],"inhibitedBy":[]}}
    ]"#;
    let server = fake::http_response(200, ALERTS).await;
    let url = format!("http://127.0.0.1:{}", server.port);
    let o = probe(&format!("kind = \"alertmanager\"\nurl = \"{url}\"\nlabels = [\"alertname\", \"instance\"]")).await;
    assert_outcome(&o, Health::Up, &["2 firing, 1 silenced"]);
    let rows: Vec<(&str, Health, bool)> = o.rows.iter().map(|r| (r.key.as_str(), r.health, r.silenced)).collect();
    assert_eq!(
        rows,
        vec![
            ("DiskFull db1", Health::Degraded, false),
            ("Flapping web1", Health::Down, true),
            ("HostDown db2", Health::Down, false)
        ]
    );
    assert_eq!(o.rows[2].detail, "[critical] db2 unreachable");
    let o = probe(&format!("kind = \"alertmanager\"\nurl = \"{url}\"\nshow_silenced = false")).await;
    assert_eq!(o.rows.len(), 2, "hidden by option");
}

/// A severity label is cleaned and capped like every label shown, and rated as it is shown:
/// one of a megabyte made every journal entry about its row too long to be written; one with
/// an escape in it read "critical" on the screen and was rated degraded.
#[tokio::test]
async fn an_alerts_severity_is_cleaned_capped_and_rated_as_shown() {
    let huge = "x".repeat(1 << 20);
    let alerts = format!(
        r#"[{{"labels":{{"alertname":"Huge","severity":"{huge}"}},"annotations":{{}},"status":{{"state":"active","silencedBy":[],"inhibitedBy":[]}}}},
            {{"labels":{{"alertname":"Spoof","severity":"crit\u001b[0mical\u009b2J"}},"annotations":{{}},"status":{{"state":"active","silencedBy":[],"inhibitedBy":[]}}}}]"#
    );
    let server = fake::http_response(200, Box::leak(alerts.into_bytes().into_boxed_slice())).await;
    let url = format!("http://127.0.0.1:{}", server.port);
    let o = probe(&format!("kind = \"alertmanager\"\nurl = \"{url}\"\nlabels = [\"alertname\"]")).await;
    let huge =
        o.rows.iter().find(|r| r.key == "Huge").unwrap_or_else(|| panic!("no row for the huge alert: {}", o.detail));
    assert!(huge.detail.chars().count() < 40, "{:?}", &huge.detail[..80.min(huge.detail.len())]);
    let spoof = o.rows.iter().find(|r| r.key == "Spoof").expect("the spoofing alert is a row");
    assert_eq!(spoof.detail, "[critical] ");
    assert_eq!(spoof.health, Health::Down, "shown critical, rated critical");
}
