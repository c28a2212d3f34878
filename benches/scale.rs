//! Scale: the real binary on a terminal (tmux) with 10,000 HTTP checks every 10 s against a
//! local nginx (1,000 probes a second, each on a fresh connection): start-up to first frame,
//! CPU (over one minute), resident memory, and key-to-frame latency while they run.
//!
//! Run: `cargo bench --bench scale` (about 6 minutes: measured once the rows are full) (needs nginx and tmux: `bash .ci/install-deps`).
//! `WARROOM_SCALE_CHECKS=2000` for another count.
//! Targets (issue 22): < 5 % of one core, < 80 MiB resident, key-to-frame < 50 ms.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_warroom");

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn config(dir: &Path, checks: usize, port: u16) {
    let mut text = String::from("[incident]\ntitle = \"scale\"\n");
    for i in 0..checks {
        text.push_str(&format!(
            "[[check]]\nname = \"web-{i:05}\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{port}/ok\"\ninterval = \"10s\"\n"
        ));
    }
    std::fs::write(dir.join("scale.toml"), text).unwrap();
}

/// Times keys to the frame that answers them: `?` opens the help (its text is in no other
/// frame), `Esc` closes it. Timed from just before tmux is asked to send the key, so tmux's
/// own start-up is included: an upper bound.
fn key_to_frame(t: &support::tmux::Tmux, log: &Path, rounds: usize) -> Vec<f64> {
    let mut out = Vec::new();
    for _ in 0..rounds {
        let before = std::fs::metadata(log).map(|m| m.len()).unwrap_or(0) as usize;
        let sent = Instant::now();
        t.tmux(&["send-keys", "-t", "t", "?"]);
        loop {
            let bytes = std::fs::read(log).unwrap_or_default();
            if bytes.get(before..).is_some_and(|new| new.windows(8).any(|w| w == b"next pan")) {
                out.push(sent.elapsed().as_secs_f64() * 1000.0);
                break;
            }
            assert!(sent.elapsed() < Duration::from_secs(10), "no help frame after 10 s");
            std::thread::sleep(Duration::from_millis(1));
        }
        t.tmux(&["send-keys", "-t", "t", "Escape"]);
        std::thread::sleep(Duration::from_millis(300 + fastrand::u64(0..400)));
    }
    out
}

/// The floor, measured beside warroom in the same minute: a thread of this bench makes the same
/// fresh connections at the same pace (a quarter of the checks every 250 ms) with nothing but
/// sockets (connect, one write of `GET /ok`, one read, close with a reset, as warroom's probes
/// do): no HTTP library, no schedule, no journal, no screen. Its own CPU time (RUSAGE_THREAD),
/// as % of a core, is what the kernel charges for the connections themselves.
fn bare_connections(port: u16, per_second: usize, measure: Duration) -> std::thread::JoinHandle<f64> {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let request = format!("GET /ok HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n");
            let before = support::proc::cpu_time(libc::RUSAGE_THREAD);
            let started = Instant::now();
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            while started.elapsed() < measure {
                tick.tick().await;
                let batch = (0..per_second / 4).map(|_| bare_probe(port, &request));
                together(batch).await;
            }
            (support::proc::cpu_time(libc::RUSAGE_THREAD) - before).as_secs_f64() / started.elapsed().as_secs_f64()
                * 100.0
        })
    })
}

async fn bare_probe(port: u16, request: &str) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_zero_linger().unwrap();
    let mut stream = socket.connect(([127, 0, 0, 1], port).into()).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = [0u8; 1024];
    assert!(stream.read(&mut answer).await.unwrap() > 0, "nginx said nothing");
}

/// Runs the futures together on this thread (no task spawned: the floor has no scheduling).
async fn together<F: std::future::Future<Output = ()>>(futures: impl Iterator<Item = F>) {
    let mut set: Vec<std::pin::Pin<Box<F>>> = futures.map(Box::pin).collect();
    std::future::poll_fn(|cx| {
        set.retain_mut(|f| f.as_mut().poll(cx).is_pending());
        if set.is_empty() { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    })
    .await
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let checks: usize = std::env::var("WARROOM_SCALE_CHECKS").ok().and_then(|v| v.parse().ok()).unwrap_or(if full {
        10_000
    } else {
        100
    });
    // A poller alone publishes its figures for read-only viewers once a minute (tens of
    // milliseconds at 10,000 rows): a window of exactly that period holds one publication,
    // where 30 s held one or none and moved the figure by a tenth of a percent either way.
    let measure = if full { warroom::session::figures::ALONE_AT_LEAST_EVERY } else { Duration::from_secs(3) };
    let Some(nginx) = support::nginx(None) else { return };
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), checks, nginx.server.port);

    let command = format!("HOME={0} exec {BIN} -c {0}/scale.toml -j {0}/first.jsonl", dir.path().display());
    let (mut script, first_frame) = support::proc::first_frame_on_pty(&command, 60, 200, dir.path());
    let _ = script.kill();
    let _ = script.wait();

    let pid_file = dir.path().join("warroom.pid");
    let program = format!("env HOME={0} {BIN} -c scale.toml -j j.jsonl", dir.path().display());
    let cmd = support::proc::exec_recording_pid(&pid_file, &program);
    let Some(t) = support::tmux::Tmux::start(200, 60, &cmd, dir.path()) else { return };
    t.wait_for(&format!("{checks} all up"), Duration::from_secs(120));
    // Measured once every row holds all the readings it keeps (20, one every 10 s): the steady
    // state of a room that has been up a while, not the first seconds after start-up, when
    // rows hold a few readings and the memory looks smaller than it will be.
    let settle = if full { 10 * warroom::session::protocol::KEPT as u64 + 10 } else { 1 };
    std::thread::sleep(Duration::from_secs(settle));
    let pid = support::proc::recorded_pid(&pid_file);
    // WARROOM_SCALE_PERF=out.data: a CPU profile of the running binary first (perf record).
    if let Ok(out) = std::env::var("WARROOM_SCALE_PERF") {
        let status = std::process::Command::new("perf")
            .args([
                "record",
                "-F",
                "499",
                "--call-graph",
                "dwarf,16384",
                "-o",
                &out,
                "-p",
                &pid.to_string(),
                "--",
                "sleep",
                "10",
            ])
            .status()
            .unwrap();
        assert!(status.success(), "perf record failed");
    }
    let floor = bare_connections(nginx.server.port, checks / 10, measure);
    let ticks0 = support::proc::cpu_ticks(pid).unwrap();
    let t0 = Instant::now();
    let mut rss = Vec::new();
    while t0.elapsed() < measure {
        std::thread::sleep(Duration::from_millis(500));
        rss.push(support::proc::rss_mib(&pid.to_string()));
    }
    let ticks = support::proc::cpu_ticks(pid).unwrap() - ticks0;
    let wall = t0.elapsed().as_secs_f64();
    let cpu = ticks as f64 / 100.0 / wall * 100.0;
    let probes = checks as f64 / 10.0;
    let floor = floor.join().unwrap();
    let log = dir.path().join("pty.log");
    t.pipe_pane(&log);
    let keys = key_to_frame(&t, &log, if full { 20 } else { 3 });
    t.stop_pipe();
    println!(
        "scale/{checks}_checks_every_10s: CPU {cpu:.2} % of one core over {wall:.0} s ({:.3} ms per probe; target < 5 %), \
         RSS median {:.1} MiB, max {:.1} MiB (target < 80), first frame {:.0} ms, key-to-frame median {:.1} ms, max {:.1} ms \
         over {} keys (target < 50); the same connections with bare sockets, measured beside it: {floor:.2} % \
         (warroom / bare {:.2})",
        cpu * 10.0 / probes,
        percentile(rss.clone(), 0.5),
        percentile(rss, 1.0),
        first_frame.as_secs_f64() * 1000.0,
        percentile(keys.clone(), 0.5),
        percentile(keys.clone(), 1.0),
        keys.len(),
        cpu / floor
    );
    drop(t);
    drop(nginx);
}
