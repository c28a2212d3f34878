//! The cost of seeing from several places: 200 http checks run from 2 vantages (each a
//! network namespace with its own sshd, as in `tests/vantage.rs`), every 10 s, all up.
//! Measures, on the war-room host, the CPU of the poller and of its ssh clients per probe
//! result received, and the bytes per minute over each SSH link (both directions, counted on
//! the vantage's network interface: the only traffic on it is the SSH connection).
//!
//! Run: `cargo bench --bench vantage` (needs root, sshd, ip, nft, python3: `bash .ci/install-deps`).

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use support::sshd::{Netns, SshClient, Sshd, descendants};

const CHECKS: usize = 200;
const TARGET_PORT: u16 = 8080;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let measure = if full { Duration::from_secs(60) } else { Duration::from_secs(5) };
    let Some(python) = support::need("python3", "python3") else { return };
    let (Some(paris_ns), Some(fra_ns)) = (Netns::create(), Netns::create()) else { return };
    let Some(mut client) = SshClient::new() else { return };
    let (Some(_paris), Some(_fra)) =
        (Sshd::start(&mut client, "paris", Some(&paris_ns)), Sshd::start(&mut client, "fra", Some(&fra_ns)))
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let logs = [dir.path().join("paris.log"), dir.path().join("fra.log")];
    let mut targets: Vec<Child> =
        [&paris_ns, &fra_ns].iter().zip(&logs).map(|(ns, log)| target(ns, &python, log)).collect();
    std::thread::sleep(Duration::from_secs(1));

    let bin = env!("CARGO_BIN_EXE_warroom");
    let mut config = format!("journal = \"{}\"\n", dir.path().join("j.jsonl").display());
    for name in ["paris", "fra"] {
        config.push_str(&format!("[[vantage]]\nname = \"{name}\"\nssh = \"{name}\"\ncommand = \"{bin}\"\n"));
    }
    for i in 0..CHECKS {
        config.push_str(&format!(
            "[[check]]\nname = \"web-{i:03}\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{TARGET_PORT}/\"\n\
             from = [\"paris\", \"fra\"]\ninterval = \"10s\"\n"
        ));
    }
    std::fs::write(dir.path().join("warroom.toml"), config).unwrap();
    let (key, value) = client.env();
    let mut poller = std::process::Command::new(bin)
        .args(["-c", "warroom.toml", "--headless", "--as", "bench"])
        .current_dir(dir.path())
        .env(key, value)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Links up, first verdicts journaled, start-up settled.
    std::thread::sleep(Duration::from_secs(if full { 20 } else { 8 }));
    let family = |pid: u32| std::iter::once(pid).chain(descendants(pid)).collect::<Vec<u32>>();
    let pids = family(poller.id());
    let ticks = |pids: &[u32]| pids.iter().filter_map(|p| support::proc::cpu_ticks(*p)).sum::<u64>();
    let results = || logs.iter().map(|l| std::fs::read_to_string(l).unwrap_or_default().lines().count()).sum::<usize>();
    let bytes = |ns: &Netns| link_bytes(ns);
    let (ticks0, results0, paris0, fra0) = (ticks(&pids), results(), bytes(&paris_ns), bytes(&fra_ns));
    let t0 = Instant::now();
    std::thread::sleep(measure);
    let (ticks1, results1, paris1, fra1) = (ticks(&pids), results(), bytes(&paris_ns), bytes(&fra_ns));
    let wall = t0.elapsed().as_secs_f64();
    let cpu_s = (ticks1 - ticks0) as f64 / 100.0; // USER_HZ
    let received = (results1 - results0).max(1);
    println!(
        "vantage/{CHECKS}_checks_from_2: {} probe results in {wall:.0} s; war-room CPU (poller + {} ssh clients) {:.2} s = \
         {:.0} µs per result, {:.2} % of one core",
        received,
        pids.len() - 1,
        cpu_s,
        cpu_s / received as f64 * 1e6,
        cpu_s / wall * 100.0
    );
    for (name, (b0, b1)) in [("paris", (paris0, paris1)), ("fra", (fra0, fra1))] {
        println!(
            "vantage/link_{name}: {:.1} KB per minute over the SSH link (both directions)",
            (b1 - b0) as f64 / wall * 60.0 / 1024.0
        );
    }
    let _ = support::proc::signal_to_exit(poller.id(), libc::SIGTERM, Duration::from_secs(10));
    let _ = poller.wait();
    for t in &mut targets {
        let _ = t.kill();
        let _ = t.wait();
    }
}

/// A web server on 127.0.0.1 inside `ns`, logging each request it answers (one line each).
fn target(ns: &Netns, python: &Path, log: &Path) -> Child {
    let log = std::fs::File::create(log).unwrap();
    ns.command(python)
        .args(["-m", "http.server", &TARGET_PORT.to_string(), "--bind", "127.0.0.1"])
        .current_dir("/")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// Bytes received plus sent on the namespace's link to us: its SSH connection and nothing else.
fn link_bytes(ns: &Netns) -> u64 {
    let out = ns.command("cat").arg("/proc/net/dev").output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(name, _)| name.trim() != "lo")
        .filter_map(|(_, figures)| {
            let f: Vec<u64> = figures.split_whitespace().filter_map(|n| n.parse().ok()).collect();
            Some(f.first()? + f.get(8)?)
        })
        .sum()
}
