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
    let am_dir = tempfile::tempdir().unwrap();
    std::fs::write(
        am_dir.path().join("am.yml"),
        "route:\n  receiver: nobody\n  group_wait: 1s\n  group_interval: 1s\nreceivers:\n  - name: nobody\n",
    )
    .unwrap();
    let am_path = am_dir.path().to_path_buf();
    let am_args = move |port: u16| {
        vec![
            format!("--config.file={}", am_path.join("am.yml").display()),
            format!("--storage.path={}", am_path.join("data").display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
            // No gossip: it would listen on every interface.
            "--cluster.listen-address=".to_string(),
        ]
    };
    let alertmanager = support::prometheus_stack_program(
        "prometheus-alertmanager",
        "prometheus-alertmanager",
        am_args,
        "alertmanager",
        am_dir,
    )?;
    let am_port = alertmanager.port;

    let blackbox = support::blackbox_exporter("2s")?;
    let bb_port = blackbox.port;

    let prom_dir = tempfile::tempdir().unwrap();
    std::fs::write(
        prom_dir.path().join("rules.yml"),
        "groups:\n  - name: web\n    interval: 1s\n    rules:\n      - alert: EndpointDown\n        expr: probe_success == 0\n        labels:\n          severity: critical\n        annotations:\n          summary: \"{{ $labels.instance }} does not answer\"\n",
    )
    .unwrap();
    std::fs::write(
        prom_dir.path().join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {rules}\nalerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:{am_port}']\n\
             scrape_configs:\n  - job_name: blackbox\n    metrics_path: /probe\n    params:\n      module: [http_2xx]\n    static_configs:\n      - targets: ['http://127.0.0.1:{target_port}/ok']\n    relabel_configs:\n      - source_labels: [__address__]\n        target_label: __param_target\n      - source_labels: [__param_target]\n        target_label: instance\n      - target_label: __address__\n        replacement: 127.0.0.1:{bb_port}\n",
            rules = prom_dir.path().join("rules.yml").display()
        ),
    )
    .unwrap();
    let prom_path = prom_dir.path().to_path_buf();
    let prom_args = move |port: u16| {
        vec![
            format!("--config.file={}", prom_path.join("prometheus.yml").display()),
            format!("--storage.tsdb.path={}", prom_path.join("data").display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
        ]
    };
    let prometheus = support::prometheus_stack_program("prometheus", "prometheus", prom_args, "prometheus", prom_dir)?;
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
            Ok(Some(MonitorEvent::Row { id, .. })) => names.push(id.name()),
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
    assert_eq!((o.health, o.detail.starts_with("0.0200 > 0.0100")), (Health::Degraded, true), "{}", o.detail);
}
