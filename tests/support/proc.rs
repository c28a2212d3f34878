//! Looking at processes from outside: CPU ticks, resident memory, finding a pid.

/// User plus system CPU time of `pid`, in clock ticks (100 per second on Linux).
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Resident memory of `pid` ("self" for this process), in MiB.
pub fn rss_mib(pid: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: f64 =
        status.lines().find(|l| l.starts_with("VmRSS:")).unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    kb / 1024.0
}

/// The newest process whose command line contains `pattern`.
pub fn pid_of(pattern: &str) -> u32 {
    let out = std::process::Command::new("pgrep").args(["-n", "-f", pattern]).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().parse().expect("the process is running")
}

/// Runs `command` (a shell command line) under `script` on a fresh pseudo-terminal of
/// `rows` x `cols`, as an operator's terminal would run it, and returns once it has drawn its
/// first frame (the first synchronized-update marker): the `script` process, which owns the
/// terminal (kill it and the terminal vanishes), and how long the first frame took.
pub fn first_frame_on_pty(
    command: &str,
    rows: u16,
    cols: u16,
    dir: &std::path::Path,
) -> (std::process::Child, std::time::Duration) {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let started = std::time::Instant::now();
    let mut script = Command::new("script")
        .args(["-qfec", &format!("stty rows {rows} cols {cols}; {command}"), "/dev/null"])
        .current_dir(dir)
        .env("TERM", "xterm-256color")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = script.stdout.take().unwrap();
    let (mut seen, mut buf) = (Vec::new(), [0u8; 4096]);
    while !seen.windows(8).any(|w| w == b"\x1b[?2026h") {
        let n = out.read(&mut buf).unwrap();
        assert!(n > 0, "the program exited before drawing: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    (script, started.elapsed())
}
