//! Prometheus and Alertmanager as sources, with the real Debian packages: blackbox_exporter
//! probes a local nginx, Prometheus scrapes it and fires an alert rule, Alertmanager holds the
//! alert. warroom's `prometheus` check and `alertmanager` source must turn down when nginx
//! stops and recover when it comes back.

mod support;

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedReceiver;
use warroom::monitor::{self, MonitorEvent, Options, State};
use warroom::probe::{Health, Prober};

struct Stack {
    _blackbox: support::Server,
    prometheus: support::Server,
    alertmanager: support::Server,
}

fn stack(target_port: u16) -> Option<Stack> {
    let alertmanager = support::alertmanager(
        "route:\n  receiver: nobody\n  group_wait: 1s\n  group_interval: 1s\nreceivers:\n  - name: nobody\n",
    )?;
    let am_port = alertmanager.port;

    let blackbox = support::blackbox_exporter("2s")?;
    let bb_port = blackbox.port;

    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {{rules}}\nalerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:{am_port}']\n\
             scrape_configs:\n  - job_name: blackbox\n    metrics_path: /probe\n    params:\n      module: [http_2xx]\n    static_configs:\n      - targets: ['http://127.0.0.1:{target_port}/ok']\n    relabel_configs:\n      - source_labels: [__address__]\n        target_label: __param_target\n      - source_labels: [__param_target]\n        target_label: instance\n      - target_label: __address__\n        replacement: 127.0.0.1:{bb_port}\n"
    );
    let prometheus = support::prometheus(
        &config,
        "groups:\n  - name: web\n    interval: 1s\n    rules:\n      - alert: EndpointDown\n        expr: probe_success == 0\n        labels:\n          severity: critical\n        annotations:\n          summary: \"{{ $labels.instance }} does not answer\"\n",
    )?;
    Some(Stack { _blackbox: blackbox, prometheus, alertmanager })
}

fn checks(toml: &str) -> Vec<monitor::CheckDef> {
    warroom::config::parse(toml, Path::new("test.toml")).unwrap_or_else(|e| panic!("{e}")).checks
}

/// Waits until every named row has been recorded in the wanted state.
async fn wait_states(
    rx: &mut UnboundedReceiver<MonitorEvent>,
    names: &mut Vec<String>,
    want: &[(&str, State)],
    within: Duration,
) -> HashMap<String, State> {
    let deadline = tokio::time::Instant::now() + within;
    let mut recorded: HashMap<String, State> = HashMap::new();
    loop {
        if want.iter().all(|(n, s)| recorded.get(*n) == Some(s)) {
            return recorded;
        }
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(MonitorEvent::Row { id, .. })) => names.push(id.name().into_owned()),
            Ok(Some(MonitorEvent::Changed(c))) => {
                recorded.insert(c.check, c.to);
            }
            Ok(Some(_)) => {}
            _ => panic!("never reached {want:?}; recorded {recorded:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_check_and_alertmanager_source_follow_a_real_outage() {
    let Some(mut nginx) = support::nginx(None) else { return };
    let web_port = nginx.server.port;
    let Some(stack) = stack(web_port) else { return };
    let prom = format!("http://127.0.0.1:{}", stack.prometheus.port);
    let am = format!("http://127.0.0.1:{}", stack.alertmanager.port);
    let defs = checks(&format!(
        "[[check]]\nname = \"probe success\"\nkind = \"prometheus\"\nurl = \"{prom}\"\nquery = 'probe_success{{job=\"blackbox\"}}'\ndown_below = 1\ninterval = \"1s\"\nretry_interval = \"500ms\"\n\
         [[check]]\nname = \"per instance\"\nkind = \"prometheus\"\nurl = \"{prom}\"\nquery = 'probe_success'\ndown_below = 1\nfor_each_series = \"{{{{instance}}}}\"\ninterval = \"1s\"\nretry_interval = \"500ms\"\n\
         [[check]]\nname = \"alerts\"\nkind = \"alertmanager\"\nurl = \"{am}\"\nlabels = [\"alertname\", \"instance\"]\ninterval = \"1s\"\n"
    ));
    let (_control, mut rx) = monitor::spawn(defs, &HashMap::new(), Options::default(), Prober::new());
    let mut names = vec!["probe success".to_string(), "per instance".to_string(), "alerts".to_string()];
    let series_row = format!("per instance / http://127.0.0.1:{web_port}/ok");
    let alert_row = format!("alerts / EndpointDown http://127.0.0.1:{web_port}/ok");

    // Prometheus needs a few scrapes before the series exists.
    wait_states(
        &mut rx,
        &mut names,
        &[("probe success", State::Up), ("alerts", State::Up), (series_row.as_str(), State::Up)],
        Duration::from_secs(40),
    )
    .await;

    let started = Instant::now();
    nginx.server.stop();
    let states = wait_states(
        &mut rx,
        &mut names,
        &[("probe success", State::Down), (series_row.as_str(), State::Down), (alert_row.as_str(), State::Down)],
        Duration::from_secs(40),
    )
    .await;
    println!("outage seen by every source after {:?}: {states:?}", started.elapsed());

    // nginx back on the same port: everything recovers, and the alert resolves.
    let _nginx_again = support::nginx_on(web_port, None).expect("nginx restarts");
    wait_states(
        &mut rx,
        &mut names,
        &[("probe success", State::Up), (series_row.as_str(), State::Up), (alert_row.as_str(), State::Up)],
        Duration::from_secs(60),
    )
    .await;
}

#[tokio::test]
async fn clear_errors_for_an_unreachable_server_a_bad_query_and_a_wrong_api() {
    let Some(nginx) = support::nginx(None) else { return };
    let Some(stack) = stack(nginx.server.port) else { return };
    let probe = |toml: String| async move {
        let c = checks(&format!("[[check]]\nname = \"p\"\n{toml}")).remove(0);
        Prober::new().run(&c.probe, Duration::from_secs(5)).await
    };
    let prom = format!("http://127.0.0.1:{}", stack.prometheus.port);
    let o = probe(format!("kind = \"prometheus\"\nurl = \"{prom}\"\nquery = 'sum(rate(x[5m]'\ndown_above = 1")).await;
    assert_eq!(o.health, Health::Down);
    assert!(
        o.detail.starts_with("query rejected by Prometheus (bad_data):") && o.detail.contains("parse error"),
        "{}",
        o.detail
    );
    let closed = support::closed_port();
    let refused = closed.port;
    let o = probe(format!("kind = \"prometheus\"\nurl = \"http://127.0.0.1:{refused}\"\nquery = 'up'\ndown_below = 1"))
        .await;
    assert!(o.detail.starts_with("Prometheus unreachable: connect failed"), "{}", o.detail);
    // nginx is not a Prometheus: the reply is not what the API documents.
    let o = probe(format!(
        "kind = \"prometheus\"\nurl = \"http://127.0.0.1:{}\"\nquery = 'up'\ndown_below = 1",
        nginx.server.port
    ))
    .await;
    assert!(o.detail.contains("not a Prometheus API reply"), "{}", o.detail);
    let o = probe(format!("kind = \"alertmanager\"\nurl = \"http://127.0.0.1:{}\"", nginx.server.port)).await;
    assert!(o.detail.starts_with("Alertmanager answered HTTP 404"), "{}", o.detail);
    let o = probe(format!("kind = \"alertmanager\"\nurl = \"http://127.0.0.1:{refused}\"")).await;
    assert!(o.detail.starts_with("Alertmanager unreachable"), "{}", o.detail);
    // A metric that does not exist is not a healthy one.
    let o = probe(format!("kind = \"prometheus\"\nurl = \"{prom}\"\nquery = 'no_such_metric'\ndown_below = 1")).await;
    assert!(o.detail.contains("returned no data"), "{}", o.detail);
    let o = probe(format!(
        "kind = \"prometheus\"\nurl = \"{prom}\"\nquery = 'vector(0.02)'\ndegraded_above = 0.01\ndown_above = 0.05"
    ))
    .await;
    let said = o.detail.starts_with("0.0200, above the degraded threshold 0.0100 (1 series");
    assert_eq!((o.health, said), (Health::Degraded, true), "{}", o.detail);
}

/// POSTs JSON to a local server; panics unless it answers 200.
fn post_json(port: u16, path: &str, body: &str) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.0 200") || reply.starts_with("HTTP/1.1 200"), "{path}: {reply}");
}

/// A process of ours, killed (and reaped) on drop.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The screen line showing `row`; panics with the screen if none does.
fn line_of<'a>(screen: &'a str, row: &str) -> &'a str {
    screen.lines().find(|l| l.contains(row)).unwrap_or_else(|| panic!("no row {row:?} on:\n{screen}"))
}

/// A read-only viewer shows what the poller shows: an Alertmanager source's rows (one of them
/// silenced, so only the poller's figures know it, never the journal), each with its latency
/// and sparkline. When the poller is killed, the viewer says nobody probes any more, since
/// when, and that a writing warroom would take over; and it shows the poller gone.
#[test]
fn a_viewer_shows_alert_rows_live_and_says_when_the_poller_is_gone() {
    let Some(am) = alertmanager() else { return };
    let am_port = am.port;
    assert!(support::wait_http_ok(am_port, "/-/ready", Duration::from_secs(20)), "Alertmanager never ready");
    let now = chrono::Utc::now();
    let alert = |name: &str, instance: &str, severity: &str| {
        format!(
            r#"{{"labels":{{"alertname":"{name}","instance":"{instance}","severity":"{severity}"}},"annotations":{{"summary":"{name} on {instance}"}},"startsAt":"{}"}}"#,
            now.to_rfc3339()
        )
    };
    post_json(
        am_port,
        "/api/v2/alerts",
        &format!("[{},{}]", alert("HostDown", "db1", "critical"), alert("DiskFull", "db2", "warning")),
    );
    let silence = format!(
        r#"{{"matchers":[{{"name":"alertname","value":"DiskFull","isRegex":false,"isEqual":true}}],"startsAt":"{}","endsAt":"{}","createdBy":"test","comment":"known"}}"#,
        now.to_rfc3339(),
        (now + chrono::Duration::hours(1)).to_rfc3339()
    );
    post_json(am_port, "/api/v2/silences", &silence);

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("warroom.toml"),
        format!(
            "[incident]\ntitle = \"Alerts\"\n[[check]]\nname = \"alerts\"\nkind = \"alertmanager\"\nurl = \"http://127.0.0.1:{am_port}\"\nlabels = [\"alertname\", \"instance\"]\ninterval = \"1s\"\n"
        ),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_warroom");
    let alice = Reaped(
        std::process::Command::new(bin)
            .args(["--headless", "-c", "warroom.toml", "-j", "j.jsonl", "--as", "alice"])
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !dir.path().join("j.jsonl").exists() {
        assert!(Instant::now() < deadline, "alice never opened the journal");
        std::thread::sleep(Duration::from_millis(50));
    }
    let viewer = format!("HOME={0} {bin} --read-only -c warroom.toml -j j.jsonl --as viewer", dir.path().display());
    let Some(screen) = support::tmux::Tmux::start(160, 40, &viewer, dir.path()) else { return };
    // Four readings at least, so the sparkline is the poller's history, not one sample.
    let latency_and_spark = regex::Regex::new(r"\d+ms +[▁▂▃▄▅▆▇█✕]{4}").unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let shown = loop {
        let shown = screen.screen();
        if shown.lines().any(|l| l.contains("alerts / DiskFull db2") && latency_and_spark.is_match(l)) {
            break shown;
        }
        assert!(Instant::now() < deadline, "no silenced alert row with latency and sparkline:\n{shown}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(line_of(&shown, "alerts / DiskFull db2").contains("silenced"), "{shown}");
    let journal = std::fs::read_to_string(dir.path().join("j.jsonl")).unwrap();
    assert!(!journal.contains("DiskFull"), "a silenced alert is never journaled: the row came from the figures");
    let down = line_of(&shown, "alerts / HostDown db1");
    assert!(down.contains("down") && regex::Regex::new(r"\d+ms +✕+").unwrap().is_match(down), "{down}\n{shown}");
    assert!(line_of(&shown, "IC unassigned").contains("on: alice"), "{shown}");
    assert!(!shown.contains("nobody is probing"), "{shown}");

    // SAFETY: plain kill(2) on our own child, not yet reaped.
    unsafe { libc::kill(alice.0.id() as i32, libc::SIGKILL) };
    let killed = Instant::now();
    let shown = screen.wait_for("a warroom without --read-only would take over", Duration::from_secs(15));
    println!("viewer warned {:?} after the poller was killed", killed.elapsed());
    let banner = regex::Regex::new(r"⚠ nobody is probing since \d\d:\d\d — a warroom without --read-only").unwrap();
    assert!(banner.is_match(&shown), "{shown}");
    assert!(line_of(&shown, "IC unassigned").contains("gone: alice"), "{shown}");
    // The rows stay, frozen as the poller left them, under the warning.
    line_of(&shown, "alerts / DiskFull db2");
}

/// Alertmanager alone, on a free port.
fn alertmanager() -> Option<support::Server> {
    support::alertmanager("route:\n  receiver: nobody\nreceivers:\n  - name: nobody\n")
}

/// Prometheus with nothing to scrape: enough to evaluate a query.
fn prometheus_alone() -> Option<support::Server> {
    let server = support::prometheus("global:\n  evaluation_interval: 1s\n", "")?;
    assert!(support::wait_http_ok(server.port, "/-/ready", Duration::from_secs(60)), "Prometheus never became ready");
    Some(server)
}

/// One HTTP/1.0 exchange; the whole response.
fn http(port: u16, request: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    response
}

/// `warroom check` with this config: exit code, standard output.
fn warroom_check(toml: &str, json: bool) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("warroom.toml"), toml).unwrap();
    let mut args = vec!["check"];
    if json {
        args.push("--json");
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(&args)
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
}

fn row<'a>(rows: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    rows.as_array().unwrap().iter().find(|r| r["name"] == name).unwrap_or_else(|| panic!("no row {name}: {rows}"))
}

/// `warroom check` lists every row a source reports, and its exit code counts them: a firing
/// critical alert in a real Alertmanager exits 2 though the Alertmanager itself is up, and so
/// does a failing Prometheus series.
#[test]
fn check_lists_every_alert_and_series_row_and_its_exit_code_counts_them() {
    let Some(am) = alertmanager() else { return };
    let Some(prom) = prometheus_alone() else { return };
    let alert = r#"[{"labels":{"alertname":"HighErrorRate","instance":"api-1","severity":"critical"},"annotations":{"summary":"5% of requests fail"}}]"#;
    let posted = http(
        am.port,
        &format!(
            "POST /api/v2/alerts HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{alert}",
            alert.len()
        ),
    );
    assert!(posted.starts_with("HTTP/1.0 200") || posted.starts_with("HTTP/1.1 200"), "{posted}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !http(am.port, "GET /api/v2/alerts HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").contains("HighErrorRate") {
        assert!(Instant::now() < deadline, "Alertmanager never listed the alert");
        std::thread::sleep(Duration::from_millis(200));
    }

    let alerts = format!(
        "[[check]]\nname = \"alerts\"\nkind = \"alertmanager\"\nurl = \"http://127.0.0.1:{}\"\nlabels = [\"alertname\", \"instance\"]\n",
        am.port
    );
    let (code, out) = warroom_check(&alerts, true);
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(code, Some(2), "a firing critical alert is critical: {out}");
    assert_eq!(row(&rows, "alerts")["status"], "up", "the source itself answered");
    let firing = row(&rows, "alerts / HighErrorRate api-1");
    assert_eq!((firing["status"].as_str(), firing["source"].as_str()), (Some("down"), Some("alerts")));
    assert!(firing["detail"].as_str().unwrap().contains("[critical]"), "{firing}");
    assert_eq!((row(&rows, "alerts")["kind"].as_str(), firing["kind"].as_str()), (Some("alertmanager"), Some("alert")));
    let (code, table) = warroom_check(&alerts, false);
    assert_eq!(code, Some(2));
    assert!(table.lines().any(|l| l.starts_with("✖ down") && l.contains("alerts / HighErrorRate api-1")), "{table}");

    let series = format!(
        "[[check]]\nname = \"per instance\"\nkind = \"prometheus\"\nurl = \"http://127.0.0.1:{}\"\n\
         query = 'label_replace(vector(0), \"instance\", \"db1\", \"\", \"\")'\ndown_below = 1\nfor_each_series = \"{{{{instance}}}}\"\n",
        prom.port
    );
    let (code, out) = warroom_check(&series, true);
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(code, Some(2), "a failing series is critical: {out}");
    let db1 = row(&rows, "per instance / db1");
    assert_eq!((db1["status"].as_str(), db1["source"].as_str()), (Some("down"), Some("per instance")));
    assert_eq!(db1["detail"], "0, below the down threshold 1", "{db1}");
    assert_eq!(db1["kind"], "series", "a series row is a series, not a prometheus check: {db1}");
}
