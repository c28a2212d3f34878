//! The real binary, measured from outside:
//! - startup to first frame with a 100,000-event journal (target < 150 ms), median and max;
//! - fault-to-screen: from stopping a local nginx to the screen showing the check down, for a
//!   1 s interval check with fail_after 2 (target <= 1 s x 2 + 200 ms);
//! - resident memory with 1,000 checks and a 100,000-event journal (target < 60 MiB);
//! - SIGHUP and SIGTERM to exit, with a note draft and a check running: the draft and the
//!   departure flushed, the terminal restored (target 300 ms), median and max.
//!
//! Run: `cargo bench --bench app` (needs nginx and tmux: `bash .ci/install-deps`).

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use warroom::journal::{CheckState, Event, EventBody, Mode};

const BIN: &str = env!("CARGO_BIN_EXE_warroom");

fn journal_of(path: &Path, n: usize) {
    use std::io::Write;
    let start = Utc.with_ymd_and_hms(2026, 11, 21, 1, 0, 0).unwrap();
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let first = Event::at(
        start,
        "a@h",
        EventBody::IncidentOpened { title: "Load".into(), severity: 2, mode: Mode::Real, checklist: None },
    );
    serde_json::to_writer(&mut out, &first).unwrap();
    out.write_all(b"\n").unwrap();
    for i in 1..n {
        let ts = start + chrono::Duration::milliseconds(i as i64 * 50);
        let body = if i % 4 == 0 {
            EventBody::CheckChanged {
                check: format!("web-{:03}", i % 300),
                from: CheckState::Up,
                to: CheckState::Down,
                detail: "HTTP 503".into(),
            }
        } else {
            EventBody::NoteAdded { text: format!("note {i}: queue draining, 4k messages left") }
        };
        serde_json::to_writer(&mut out, &Event::at(ts, "scribe@h", body)).unwrap();
        out.write_all(b"\n").unwrap();
    }
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// Time from spawning the binary on a fresh pty (a real size: an operator's terminal has one)
/// to the first frame it writes.
fn startup(dir: &Path) -> Duration {
    let command = format!("HOME={0} exec {BIN} -c {0}/empty.toml -j {0}/big.jsonl", dir.display());
    let (mut script, took) = support::proc::first_frame_on_pty(&command, 60, 200, dir);
    let _ = script.kill();
    let _ = script.wait();
    took
}

/// From sending `signal` to the real binary on a terminal (tmux), with an unsaved note draft
/// and a check running, to its exit (the draft saved, the departure fsync'd, the terminal restored).
fn signal_to_exit(signal: i32) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("warroom.toml"),
        "[incident]\ntitle = \"t\"\n[[check]]\nname = \"local\"\nkind = \"command\"\ncommand = [\"true\"]\ninterval = \"1s\"\n",
    )
    .unwrap();
    let pid_file = dir.path().join("warroom.pid");
    let program = format!("env HOME={0} {BIN} -c warroom.toml -j j.jsonl --as bench", dir.path().display());
    let cmd = format!("sh -c '{}'; sleep 60", support::proc::exec_recording_pid(&pid_file, &program));
    let t = support::tmux::Tmux::start(100, 30, &cmd, dir.path()).expect("tmux");
    t.wait_for("✔ up", Duration::from_secs(10));
    t.keys(&["i"]);
    t.type_text("a draft to keep");
    t.wait_for("a draft to keep", Duration::from_secs(5));
    let pid = support::proc::recorded_pid(&pid_file);
    support::proc::signal_to_exit(pid, signal, Duration::from_secs(10)).expect("warroom exited within 10 s")
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    // `cargo bench --bench app -- to_exit` runs only the figures whose name contains the word.
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wanted = |name: &str| only.as_deref().is_none_or(|o| name.contains(o));
    let dir = tempfile::tempdir().unwrap();
    let events = if full { 100_000 } else { 2_000 };
    journal_of(&dir.path().join("big.jsonl"), events);
    std::fs::write(dir.path().join("empty.toml"), "[incident]\ntitle = \"t\"\n").unwrap();

    if wanted("app/startup_to_first_frame") {
        // 1. Startup to first frame.
        let runs = if full { 15 } else { 2 };
        let times: Vec<f64> = (0..runs).map(|_| startup(dir.path()).as_secs_f64() * 1000.0).collect();
        println!(
            "app/startup_to_first_frame: {events}-event journal, median {:.0} ms, max {:.0} ms over {runs} runs (target < 150 ms)",
            percentile(times.clone(), 0.5),
            percentile(times, 1.0)
        );
    }

    if wanted("app/sighup_to_exit app/sigterm_to_exit") {
        // 2. Signal to exit.
        let rounds = if full { 15 } else { 1 };
        for (name, signal) in [("sighup", libc::SIGHUP), ("sigterm", libc::SIGTERM)] {
            let times: Vec<f64> = (0..rounds).map(|_| signal_to_exit(signal).as_secs_f64() * 1000.0).collect();
            println!(
                "app/{name}_to_exit: draft and departure flushed, terminal restored: median {:.0} ms, max {:.0} ms over {rounds} runs (target 300 ms)",
                percentile(times.clone(), 0.5),
                percentile(times, 1.0)
            );
        }
    }

    if !wanted("app/fault_to_screen") && !wanted("app/rss") {
        return;
    }
    let Some(mut nginx) = support::nginx(None) else { return };
    let port = nginx.server.port;

    if wanted("app/fault_to_screen") {
        // 3. Fault to screen.
        let fault_dir = tempfile::tempdir().unwrap();
        std::fs::write(
            fault_dir.path().join("warroom.toml"),
            format!("[[check]]\nname = \"web\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{port}/ok\"\ninterval = \"1s\"\nfail_after = 2\ntimeout = \"1s\"\n"),
        )
        .unwrap();
        let cmd = format!("HOME={0} exec {BIN} -c warroom.toml -j j.jsonl", fault_dir.path().display());
        let Some(t) = support::tmux::Tmux::start(100, 30, &cmd, fault_dir.path()) else { return };
        let rounds = if full { 7 } else { 1 };
        let mut latencies = Vec::new();
        for round in 0..rounds {
            t.wait_for("✔ up       web", Duration::from_secs(15));
            let log = fault_dir.path().join(format!("pty-{round}.log"));
            t.pipe_pane(&log);
            // Land the fault at a different point of the probe cycle each round.
            std::thread::sleep(Duration::from_millis(1000 + 137 * round as u64));
            nginx.server.stop();
            let stopped = Instant::now();
            loop {
                let bytes = std::fs::read(&log).unwrap_or_default();
                if bytes.windows("✖ down".len()).any(|w| w == "✖ down".as_bytes()) {
                    latencies.push(stopped.elapsed().as_secs_f64() * 1000.0);
                    break;
                }
                assert!(stopped.elapsed() < Duration::from_secs(10), "the screen never showed the outage");
                std::thread::sleep(Duration::from_millis(5));
            }
            t.stop_pipe();
            nginx = support::nginx_on(port, None).unwrap();
        }
        println!(
            "app/fault_to_screen: 1 s interval, fail_after 2: median {:.0} ms, max {:.0} ms over {rounds} faults (target <= 2200 ms)",
            percentile(latencies.clone(), 0.5),
            percentile(latencies, 1.0)
        );
        drop(t);
    }

    if !wanted("app/rss") {
        return;
    }
    // 4. Memory with 1,000 checks and the big journal.
    let checks = if full { 1_000 } else { 20 };
    let mem_dir = dir.path();
    let mut config = String::from("[incident]\ntitle = \"t\"\n");
    for i in 0..checks {
        config.push_str(&format!("[[check]]\nname = \"web-{i:04}\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{port}/ok\"\ninterval = \"10s\"\n"));
    }
    std::fs::write(mem_dir.join("many.toml"), config).unwrap();
    let pid_file = mem_dir.join("many.pid");
    let program = format!("env HOME={0} {BIN} -c many.toml -j big.jsonl", mem_dir.display());
    let cmd = support::proc::exec_recording_pid(&pid_file, &program);
    let Some(t) = support::tmux::Tmux::start(200, 60, &cmd, mem_dir) else { return };
    // The big journal's own rows (web-NNN) stay down on screen: wait instead for every configured
    // check's first result to be on disk (its change to up).
    let first_results = || {
        let scan = warroom::journal::Journal::read(mem_dir.join("big.jsonl")).unwrap();
        let up = |e: &Event| matches!(&e.body, EventBody::CheckChanged { check, to: CheckState::Up, .. } if check.starts_with("web-") && check.len() == 8);
        scan.events.iter().filter(|e| up(e)).count()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while first_results() < checks {
        assert!(Instant::now() < deadline, "{} of {checks} checks up after 60 s:\n{}", first_results(), t.screen());
        std::thread::sleep(Duration::from_millis(500));
    }
    std::thread::sleep(Duration::from_secs(if full { 15 } else { 1 }));
    let pid = support::proc::recorded_pid(&pid_file).to_string();
    // Resident memory moves with the probe cycle and the allocator's purges: sample one
    // interval of the checks (10 s) rather than trust one reading.
    let samples: Vec<f64> = (0..if full { 20 } else { 2 })
        .map(|_| {
            std::thread::sleep(Duration::from_millis(500));
            support::proc::rss_mib(&pid)
        })
        .collect();
    println!(
        "app/rss: {checks} checks running, {events}-event journal: median {:.1} MiB, max {:.1} MiB over {} samples 0.5 s apart (target < 60)",
        percentile(samples.clone(), 0.5),
        percentile(samples.clone(), 1.0),
        samples.len()
    );
}
