//! warroom against the alerting chain, side by side in one run on one machine (issue 22):
//! Prometheus + blackbox_exporter + Alertmanager, the Debian packages.
//!
//! - `chain/fault_to_screen_{1,10}s_{refused,black_hole}`: one nginx, probed by both at the
//!   same interval; it is stopped (connection refused), or its packets are dropped (nginx in a
//!   network namespace of the bench's own, an nft drop rule there), at a random point of the cycle. Timed from the stop to
//!   warroom's screen (the real binary in tmux) showing the check down (`fail_after = 2`), and
//!   to Alertmanager holding the alert (its API polled every 10 ms; scrape and evaluation at
//!   the interval, `for:` one interval, `group_wait: 0s`).
//! - `chain/alert_push`: the same Alertmanager also sends its webhook to warroom's receiver;
//!   timed from Alertmanager holding the alert to the alert's row on warroom's screen.
//! - `chain/probe_cpu_{200,1000}`: N HTTP checks every second against nginx, `warroom
//!   --headless` against blackbox_exporter scraped by its own Prometheus (N targets, 1 s), both
//!   at once for 30 s: CPU per probe from /proc.
//!
//! Run: `cargo bench --bench chain` (needs nginx, tmux, prometheus, prometheus-alertmanager,
//! prometheus-blackbox-exporter: `bash .ci/install-deps`); `cargo bench --bench chain -- cpu`
//! runs only the figures whose name contains the word.

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_warroom");
const TOKEN: &str = "bench-token";

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn http_get(port: u16, path: &str) -> String {
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return String::new() };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// A webhook receiver of the bench's own: notes when each notification arrives, so that
/// warroom's push can be timed from Alertmanager's send rather than from a poll of its API.
struct Arrivals {
    port: u16,
    times: std::sync::Arc<std::sync::Mutex<Vec<Instant>>>,
}

fn arrivals() -> Arrivals {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let times = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = times.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let at = Instant::now();
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = [0u8; 65536];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            seen.lock().unwrap().push(at);
        }
    });
    Arrivals { port, times }
}

/// Alertmanager with every alert sent at once to warroom's webhook on `hook`, and to the
/// bench's own on `witness`.
fn alertmanager(hook: u16, witness: u16) -> support::Server {
    let am = support::alertmanager(&format!(
            "route:\n  receiver: warroom\n  group_wait: 0s\n  group_interval: 1s\n  repeat_interval: 1h\n\
             receivers:\n  - name: warroom\n    webhook_configs:\n      - url: 'http://127.0.0.1:{hook}/'\n\
             \x20       http_config:\n          authorization:\n            credentials: '{TOKEN}'\n      - url: 'http://127.0.0.1:{witness}/'\n"
    ))
    .expect("prometheus-alertmanager");
    assert!(support::wait_http_ok(am.port, "/-/ready", Duration::from_secs(30)));
    am
}

/// Prometheus scraping blackbox_exporter's probes of `targets` every `every` seconds, with an
/// alert rule firing after `for_` seconds, sent to Alertmanager on `am` (if any).
fn prometheus(bb: u16, targets: &[String], every: u64, for_: u64, am: Option<u16>) -> support::Server {
    let alerting = am
        .map(|p| format!("alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:{p}']\n"))
        .unwrap_or_default();
    let list = targets.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(", ");
    let rules = format!(
        "groups:\n  - name: web\n    interval: {every}s\n    rules:\n      - alert: EndpointDown\n        expr: probe_success == 0\n        for: {for_}s\n        labels:\n          severity: critical\n"
    );
    let config = format!(
        "global:\n  scrape_interval: {every}s\n  evaluation_interval: {every}s\n  scrape_timeout: 1s\nrule_files:\n  - {{rules}}\n{alerting}\
             scrape_configs:\n  - job_name: blackbox\n    metrics_path: /probe\n    params:\n      module: [http_2xx]\n    static_configs:\n      - targets: [{list}]\n    relabel_configs:\n      - source_labels: [__address__]\n        target_label: __param_target\n      - source_labels: [__param_target]\n        target_label: instance\n      - target_label: __address__\n        replacement: 127.0.0.1:{bb}\n"
    );
    let p = support::prometheus(&config, &rules).expect("prometheus");
    assert!(support::wait_http_ok(p.port, "/-/ready", Duration::from_secs(60)));
    p
}

fn alert_active(am: u16) -> bool {
    http_get(am, "/api/v2/alerts?active=true&silenced=false&inhibited=false").contains("EndpointDown")
}

/// Whether the journal, past `from`, records the alert's row going down.
fn alert_recorded(journal: &Path, from: usize) -> bool {
    let bytes = std::fs::read(journal).unwrap_or_default();
    let text = String::from_utf8_lossy(bytes.get(from..).unwrap_or_default());
    text.lines().any(|l| l.contains("EndpointDown") && l.contains("check_changed") && l.contains("\"to\":\"down\""))
}

fn contains(log: &Path, from: usize, needle: &str) -> bool {
    std::fs::read(log)
        .unwrap_or_default()
        .get(from..)
        .is_some_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
}

/// What is probed, and how it fails.
enum Target {
    /// nginx on loopback, stopped: connection refused.
    Refused(support::Nginx),
    /// nginx in a network namespace of the bench's own, its packets dropped (nft): a black hole.
    BlackHole(Netns),
}

/// A network namespace with a veth pair to it and an nginx inside; removed on drop.
struct Netns {
    name: String,
    nginx: std::process::Child,
    _dir: tempfile::TempDir,
}

const NS_ADDR: &str = "10.213.77.2";

fn sh(command: &str) -> bool {
    std::process::Command::new("sh").args(["-c", command]).status().is_ok_and(|s| s.success())
}

impl Netns {
    fn start() -> Option<Netns> {
        let name = format!("wrb{}", std::process::id());
        let ok = sh(&format!(
            "ip netns add {name} && ip link add {name}a type veth peer name {name}b && ip link set {name}b netns {name} \
             && ip addr add 10.213.77.1/30 dev {name}a && ip link set {name}a up \
             && ip netns exec {name} ip addr add {NS_ADDR}/30 dev {name}b && ip netns exec {name} ip link set {name}b up \
             && ip netns exec {name} ip link set lo up"
        ));
        if !ok {
            sh(&format!("ip netns del {name} 2>/dev/null; ip link del {name}a 2>/dev/null"));
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        std::fs::write(
            dir.path().join("nginx.conf"),
            format!(
                "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
                 events {{ worker_connections 512; }}\nhttp {{ access_log off; client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;\n\
                 fastcgi_temp_path {d}/fcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
                 server {{ listen {NS_ADDR}:8080; location = /ok {{ default_type text/plain; return 200 \"ok\\n\"; }} }} }}\n"
            ),
        )
        .unwrap();
        let nginx = std::process::Command::new("ip")
            .args(["netns", "exec", &name, "nginx", "-p"])
            .arg(dir.path())
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let ns = Netns { name, nginx, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect((NS_ADDR, 8080)).is_err() {
            assert!(Instant::now() < deadline, "nginx in the namespace never answered");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(ns)
    }

    fn drop_packets(&self, drop: bool) {
        let name = &self.name;
        let ok = if drop {
            sh(&format!(
                "ip netns exec {name} nft add table inet wrb && ip netns exec {name} nft add chain inet wrb in \
                 '{{ type filter hook input priority 0; }}' && ip netns exec {name} nft add rule inet wrb in tcp dport 8080 drop"
            ))
        } else {
            sh(&format!("ip netns exec {name} nft delete table inet wrb"))
        };
        assert!(ok, "nft in {name} failed");
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = self.nginx.kill();
        let _ = self.nginx.wait();
        sh(&format!("ip netns del {0}; ip link del {0}a 2>/dev/null", self.name));
    }
}

impl Target {
    fn url(&self) -> String {
        match self {
            Target::Refused(n) => format!("http://127.0.0.1:{}/ok", n.server.port),
            Target::BlackHole(_) => format!("http://{NS_ADDR}:8080/ok"),
        }
    }

    fn fail(&mut self) {
        match self {
            Target::Refused(n) => n.server.stop(),
            Target::BlackHole(ns) => ns.drop_packets(true),
        }
    }

    fn heal(&mut self) {
        match self {
            Target::Refused(n) => *n = support::nginx_on(n.server.port, None).unwrap(),
            Target::BlackHole(ns) => ns.drop_packets(false),
        }
    }
}

/// Fault-to-screen at one interval, with the alert-push latency measured on the way.
fn fault_to_screen(interval: u64, rounds: usize, black_hole: bool) {
    let mut fault = if black_hole {
        match Netns::start() {
            Some(ns) => Target::BlackHole(ns),
            None => return support::announce_skip("no network namespace (needs root, iproute2 and nftables)"),
        }
    } else {
        match support::nginx(None) {
            Some(n) => Target::Refused(n),
            None => return,
        }
    };
    let kind = if black_hole { "black_hole" } else { "refused" };
    let target = fault.url();
    let hook = support::free_port();
    let witness = arrivals();
    let am = alertmanager(hook, witness.port);
    let bb = support::blackbox_exporter("1s").expect("blackbox_exporter");
    let prom = prometheus(bb.port, std::slice::from_ref(&target), interval, interval, Some(am.port));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("warroom.toml"),
        format!(
            "[incident]\ntitle = \"bench\"\n[[check]]\nname = \"web\"\nkind = \"http\"\nurl = \"{target}\"\ninterval = \"{interval}s\"\n\
             fail_after = 2\ntimeout = \"1s\"\n[[check]]\nname = \"alerts\"\nkind = \"alertmanager\"\nurl = \"http://127.0.0.1:{}\"\n\
             interval = \"1h\"\nlisten = \"127.0.0.1:{hook}\"\ntoken_env = \"BENCH_TOKEN\"\n",
            am.port
        ),
    )
    .unwrap();
    let cmd = format!("env HOME={0} BENCH_TOKEN={TOKEN} {BIN} -c warroom.toml -j j.jsonl", dir.path().display());
    let t = support::tmux::Tmux::start(160, 30, &cmd, dir.path()).expect("tmux");
    let (mut ours, mut chain, mut push) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        t.wait_for("✔ up       web", Duration::from_secs(60));
        let settle = Instant::now() + Duration::from_secs(120);
        while alert_active(am.port) {
            assert!(Instant::now() < settle, "the alert never resolved:\n{}", t.screen());
            std::thread::sleep(Duration::from_millis(200));
        }
        // Two more scrapes and evaluations of the healthy target, then a random point of the cycle.
        std::thread::sleep(Duration::from_millis(2 * interval * 1000 + fastrand::u64(0..interval * 1000)));
        let log = dir.path().join(format!("pty-{round}.log"));
        t.pipe_pane(&log);
        std::thread::sleep(Duration::from_millis(100));
        let journal = dir.path().join("j.jsonl");
        let journal_from = std::fs::metadata(&journal).map(|m| m.len() as usize).unwrap_or(0);
        witness.times.lock().unwrap().clear();
        fault.fail();
        let stopped = Instant::now();
        let (mut seen_ours, mut seen_chain, mut seen_push) = (None, None, None);
        let mut polled = Instant::now() - Duration::from_secs(1);
        while seen_ours.is_none() || seen_chain.is_none() || seen_push.is_none() {
            assert!(stopped.elapsed() < Duration::from_secs(30 * interval.max(2)), "round {round} never finished");
            if seen_ours.is_none() && contains(&log, 0, "✖ down") {
                seen_ours = Some(stopped.elapsed());
            }
            if seen_chain.is_none() && polled.elapsed() >= Duration::from_millis(10) {
                polled = Instant::now();
                if alert_active(am.port) {
                    seen_chain = Some(stopped.elapsed());
                }
            }
            if seen_push.is_none() && alert_recorded(&journal, journal_from) {
                let recorded = Instant::now();
                let sent = witness.times.lock().unwrap().first().copied();
                seen_push = Some(sent.map_or(Duration::ZERO, |s| recorded.saturating_duration_since(s)));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        t.stop_pipe();
        let ms = |d: Option<Duration>| d.unwrap().as_secs_f64() * 1000.0;
        println!(
            "  round {round}: warroom {:.0} ms, chain {:.0} ms, alert in warroom's journal {:.1} ms after Alertmanager's webhook reached the bench's receiver",
            ms(seen_ours),
            ms(seen_chain),
            ms(seen_push)
        );
        ours.push(ms(seen_ours));
        chain.push(ms(seen_chain));
        push.push(ms(seen_push));
        fault.heal();
    }
    // The target is for a refused connection; a black hole is reported beside it.
    let target = if black_hole { "no target: reported beside the refused row" } else { "target <= 0.5" };
    println!(
        "chain/fault_to_screen_{interval}s_{kind}: median warroom {:.0} ms (range {:.0}-{:.0}), chain {:.0} ms \
         (range {:.0}-{:.0}), ratio {:.2} over {rounds} faults ({target})",
        percentile(ours.clone(), 0.5),
        percentile(ours.clone(), 0.0),
        percentile(ours.clone(), 1.0),
        percentile(chain.clone(), 0.5),
        percentile(chain.clone(), 0.0),
        percentile(chain.clone(), 1.0),
        percentile(ours, 0.5) / percentile(chain, 0.5)
    );
    println!(
        "chain/alert_push: Alertmanager's webhook (arrival at the bench's own receiver) to the alert's entry in warroom's \
         journal (shown on screen once there): median {:.1} ms, max {:.1} ms (target < 100 ms)",
        percentile(push.clone(), 0.5),
        percentile(push, 1.0)
    );
    drop((t, prom, bb, fault));
}

/// CPU per probe at monitor pace, both probing `n` checks every second at once.
fn probe_cpu(n: usize, seconds: u64) {
    let Some(nginx) = support::nginx(None) else { return };
    let port = nginx.server.port;
    let targets: Vec<String> = (0..n).map(|i| format!("http://127.0.0.1:{port}/ok?{i}")).collect();
    let bb = support::blackbox_exporter("1s").expect("blackbox_exporter");
    let prom = prometheus(bb.port, &targets, 1, 1, None);
    let dir = tempfile::tempdir().unwrap();
    let mut config = String::from("[incident]\ntitle = \"cpu\"\n");
    for (i, t) in targets.iter().enumerate() {
        config.push_str(&format!(
            "[[check]]\nname = \"web-{i:04}\"\nkind = \"http\"\nurl = \"{t}\"\ninterval = \"1s\"\n"
        ));
    }
    std::fs::write(dir.path().join("cpu.toml"), config).unwrap();
    let mut warroom = std::process::Command::new(BIN)
        .args(["--headless", "-c", "cpu.toml", "-j", "j.jsonl"])
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Both reach their pace: Prometheus' first scrapes, warroom's first results.
    std::thread::sleep(Duration::from_secs(10));
    let pids = [warroom.id(), bb.child.as_ref().unwrap().id(), prom.child.as_ref().unwrap().id()];
    let ticks0: Vec<u64> = pids.iter().map(|p| support::proc::cpu_ticks(*p).unwrap()).collect();
    let scrapes0 = scrape_count(prom.port);
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    let wall = t0.elapsed().as_secs_f64();
    let scrapes = scrape_count(prom.port) - scrapes0;
    let cpu: Vec<f64> =
        pids.iter().zip(&ticks0).map(|(p, t0)| (support::proc::cpu_ticks(*p).unwrap() - t0) as f64 / 100.0).collect();
    let _ = warroom.kill();
    let _ = warroom.wait();
    // warroom's checks run every second, ±10 %: n per second on average.
    let ours = cpu[0] * 1000.0 / (n as f64 * wall);
    let theirs = cpu[1] * 1000.0 / scrapes;
    let with_prom = (cpu[1] + cpu[2]) * 1000.0 / scrapes;
    println!(
        "chain/probe_cpu_{n}: {n} checks every 1 s for {wall:.0} s: warroom {ours:.3} ms CPU per probe ({:.1} % of a core), \
         blackbox_exporter {theirs:.3} ms ({scrapes:.0} probes scraped), {with_prom:.3} ms with Prometheus: \
         ratio {:.2} ({:.2} counting Prometheus; target <= 0.2)",
        cpu[0] / wall * 100.0,
        ours / theirs,
        ours / with_prom
    );
    drop((prom, bb, nginx));
}

/// Scrapes Prometheus has made so far (each one a blackbox probe), from its own metrics.
fn scrape_count(prom: u16) -> f64 {
    let reply = http_get(prom, "/metrics");
    let line = reply.lines().find(|l| l.starts_with("prometheus_target_interval_length_seconds_count"));
    let value = line.and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse().ok());
    value.unwrap_or_else(|| panic!("no scrape count in Prometheus' metrics"))
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wanted = |name: &str| only.as_deref().is_none_or(|o| name.contains(o));
    if support::need("prometheus", "prometheus").is_none() || support::need("tmux", "tmux").is_none() {
        return;
    }
    if wanted("chain/fault_to_screen_1s_refused chain/alert_push") {
        // Fifteen faults: each lands anywhere in the 1 s cycle, so seven gave medians from
        // 0.6 to 1.0 s on one build (ratios 0.27 to 0.56 against the chain's own spread).
        fault_to_screen(1, if full { 15 } else { 1 }, false);
    }
    if wanted("chain/fault_to_screen_10s_refused") && full {
        fault_to_screen(10, 4, false);
    }
    if wanted("chain/fault_to_screen_1s_black_hole") {
        fault_to_screen(1, if full { 5 } else { 1 }, true);
    }
    if wanted("chain/fault_to_screen_10s_black_hole") && full {
        fault_to_screen(10, 3, true);
    }
    if wanted("chain/probe_cpu_200") {
        probe_cpu(200, if full { 30 } else { 5 });
    }
    if wanted("chain/probe_cpu_1000") && full {
        probe_cpu(1000, 30);
    }
}
