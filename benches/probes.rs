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
    support::proc::cpu_time(libc::RUSAGE_SELF).as_secs_f64()
}

fn paced(runtime: &tokio::runtime::Runtime, name: &str, port: u16, n: usize) {
    runtime.block_on(async {
        let prober = Prober::new();
        let spec = http_spec(port);
        prober.run(&spec, Duration::from_secs(5)).await;
        let cpu0 = cpu_seconds();
        for _ in 0..n {
            prober.run(&spec, Duration::from_secs(5)).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        println!("probes/{name}: {n} probes, {:.3} ms CPU per probe", (cpu_seconds() - cpu0) * 1000.0 / n as f64);
    });
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

    let mut warroom_cpu_per_10k = None;
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
        warroom_cpu_per_10k = Some(cpu * 10_000.0 / probes as f64);
        println!(
            "probes/http_fresh_connection: {probes} probes, {:.2} CPU-s per 10,000 (target <= 2.8), {:.0} probes/s sustained, {:.3} ms CPU per probe",
            cpu * 10_000.0 / probes as f64,
            probes as f64 / wall,
            cpu * 1000.0 / probes as f64
        );
    });

    // The same probes through Prometheus' blackbox_exporter, driven over its /probe endpoint
    // in the same run; its own CPU is read from /proc (the driver's is not counted).
    if let Some(bb) = support::blackbox_exporter("5s") {
        let pid = bb.child.as_ref().map(|c| c.id()).unwrap();
        let url = format!("http://127.0.0.1:{}/probe?module=http_2xx&target=http://127.0.0.1:{port}/ok", bb.port);
        runtime.block_on(async {
            let client = reqwest::Client::builder().no_proxy().build().unwrap();
            let ask = |client: reqwest::Client, url: String| async move {
                let body = client.get(&url).send().await.unwrap().text().await.unwrap();
                assert!(body.contains("probe_success 1"), "blackbox probe failed: {body}");
            };
            ask(client.clone(), url.clone()).await;
            let ticks0 = support::proc::cpu_ticks(pid).unwrap();
            let t0 = Instant::now();
            futures::stream::iter(0..probes).map(|_| ask(client.clone(), url.clone())).buffer_unordered(16).collect::<Vec<_>>().await;
            let wall = t0.elapsed().as_secs_f64();
            let cpu = (support::proc::cpu_ticks(pid).unwrap() - ticks0) as f64 / 100.0;
            let per_10k = cpu * 10_000.0 / probes as f64;
            println!(
                "probes/blackbox_exporter_same_probes: {probes} probes, {per_10k:.2} CPU-s per 10,000, {:.0} probes/s; warroom/blackbox CPU ratio {:.2}",
                probes as f64 / wall,
                warroom_cpu_per_10k.unwrap_or(f64::NAN) / per_10k
            );
        });
    }

    // The same probe at a monitor's pace (one every 50 ms): idle-to-busy wake-ups included,
    // on the two-worker runtime and on the current-thread one warroom uses.
    let n = if full { 400 } else { 20 };
    paced(&runtime, "http_paced_50ms", port, n);
    let single = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    paced(&single, "http_paced_50ms_current_thread", port, n);

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
        println!("probes/monitor_rss: {checks} checks running, RSS {:.1} MiB (target < 50)", support::proc::rss_mib("self"));
    });
    drop(nginx);
}
