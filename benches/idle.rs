//! Idle cost of the real binary: bytes written to the terminal per minute and CPU use, with
//! N http checks at a 10 s interval against a local nginx, all up, nobody typing.
//!
//! Run: `cargo bench --bench idle` (50 checks, 60 s; needs nginx and tmux: `bash .ci/install-deps`).
//! `WARROOM_IDLE_CHECKS=200 cargo bench --bench idle` for the 200-check figure.
//! Targets: under 30 KB per minute to the terminal; under 1 % of one core.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let checks: usize = std::env::var("WARROOM_IDLE_CHECKS").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let measure = if full { Duration::from_secs(60) } else { Duration::from_secs(3) };
    let Some(nginx) = support::nginx(None) else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut config = String::from("[incident]\ntitle = \"idle\"\n");
    for i in 0..checks {
        config.push_str(&format!(
            "[[check]]\nname = \"web-{i:03}\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{}/ok\"\ninterval = \"10s\"\n",
            nginx.server.port
        ));
    }
    std::fs::write(dir.path().join("warroom.toml"), config).unwrap();
    let bin = env!("CARGO_BIN_EXE_warroom");
    let pid_file = dir.path().join("warroom.pid");
    let program = format!("env HOME={0} {bin} -c warroom.toml -j j.jsonl", dir.path().display());
    let cmd = support::proc::exec_recording_pid(&pid_file, &program);
    let Some(t) = support::tmux::Tmux::start(200, 60, &cmd, dir.path()) else { return };
    t.wait_for(&format!("{checks} all up"), Duration::from_secs(30));
    // Let start-up settle (first probes, journal writes), then measure.
    std::thread::sleep(Duration::from_secs(if full { 12 } else { 1 }));
    let pid = support::proc::recorded_pid(&pid_file);
    let log = dir.path().join("pty.log");
    t.pipe_pane(&log);
    let ticks0 = support::proc::cpu_ticks(pid).unwrap();
    let t0 = Instant::now();
    std::thread::sleep(measure);
    let ticks = support::proc::cpu_ticks(pid).unwrap() - ticks0;
    let wall = t0.elapsed().as_secs_f64();
    t.stop_pipe();
    let bytes = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0) as f64;
    let hz = 100.0; // USER_HZ on Linux
    println!(
        "idle/{checks}_checks: {:.1} KB per minute to the terminal (target < 30), CPU {:.2} % of one core (target < 1) over {:.0} s",
        bytes / wall * 60.0 / 1024.0,
        ticks as f64 / hz / wall * 100.0,
        wall
    );
    drop(t);
    drop(nginx);
}
