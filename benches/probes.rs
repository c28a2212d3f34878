//! Probe cost against a local nginx: CPU-seconds per 10,000 HTTP probes (each on a fresh
//! connection, as a health check must be), sustained probes per second, and the resident
//! memory of a monitor running 1,000 checks.
//!
//! Run: `cargo bench --bench probes` (needs nginx: `bash .ci/install-deps`).
//! Reference: Prometheus' blackbox_exporter spends about 5.7 CPU-s per 10,000 such probes on
//! a 2-core machine; the target here is at most half of that.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use futures::StreamExt;
use warroom::monitor::{self, MonitorEvent, Options};
use warroom::probe::{ProbeSpec, Prober};

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct we pass; RUSAGE_SELF covers every thread.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: f64 =
        status.lines().find(|l| l.starts_with("VmRSS:")).unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    kb / 1024.0
}

fn http_spec(port: u16) -> ProbeSpec {
    let text = format!("[[check]]\nname = \"web\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{port}/ok\"\n");
    warroom::config::parse(&text, Path::new("bench.toml")).unwrap().checks.remove(0).probe
}

fn main() {
    // `cargo test --benches` runs bench binaries with no `--bench`: keep that quick.
    let full = std::env::args().any(|a| a == "--bench");
    let Some(nginx) = support::nginx(None) else { return };
    let port = nginx.server.port;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let probes: usize = if full { 10_000 } else { 200 };

    runtime.block_on(async {
        let prober = Prober::new();
        let spec = http_spec(port);
        // Warm-up: build the shared client once.
        prober.run(&spec, Duration::from_secs(5)).await;
        let cpu0 = cpu_seconds();
        let t0 = Instant::now();
        let outcomes: Vec<_> = futures::stream::iter(0..probes)
            .map(|_| prober.run(&spec, Duration::from_secs(5)))
            .buffer_unordered(16)
            .collect()
            .await;
        let wall = t0.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu0;
        let up = outcomes.iter().filter(|o| o.health == warroom::probe::Health::Up).count();
        assert_eq!(up, probes, "every probe against nginx should be up");
        println!(
            "probes/http_fresh_connection: {probes} probes, {:.2} CPU-s per 10,000 (target <= 2.8), {:.0} probes/s sustained, {:.3} ms CPU per probe",
            cpu * 10_000.0 / probes as f64,
            probes as f64 / wall,
            cpu * 1000.0 / probes as f64
        );
    });

    let checks: usize = if full { 1_000 } else { 50 };
    runtime.block_on(async {
        let mut text = String::new();
        for i in 0..checks {
            text.push_str(&format!(
                "[[check]]\nname = \"web-{i}\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{port}/ok\"\ninterval = \"10s\"\n"
            ));
        }
        let defs = warroom::config::parse(&text, Path::new("bench.toml")).unwrap().checks;
        let (_control, mut rx) = monitor::spawn(defs, &HashMap::new(), Options::default(), Prober::new());
        let mut seen = std::collections::HashSet::new();
        while seen.len() < checks {
            if let Some(MonitorEvent::Sample { check, .. }) = rx.recv().await {
                seen.insert(check);
            }
        }
        println!("probes/monitor_rss: {checks} checks running, RSS {:.1} MiB (target < 50)", rss_mib());
    });
    drop(nginx);
}
