//! Looking at processes from outside: CPU ticks, resident memory, whether and when one exited.

/// User plus system CPU time of `pid`, in clock ticks (100 per second on Linux).
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// CPU time (user and system) of this process (`libc::RUSAGE_SELF`: every thread) or of the
/// calling thread alone (`libc::RUSAGE_THREAD`).
pub fn cpu_time(who: libc::c_int) -> std::time::Duration {
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(who, &mut usage);
        usage
    };
    let time = |t: libc::timeval| std::time::Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// Resident memory of `pid` ("self" for this process), in MiB.
pub fn rss_mib(pid: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: f64 =
        status.lines().find(|l| l.starts_with("VmRSS:")).unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    kb / 1024.0
}

/// A shell command line that writes its process id to `pid_file`, then becomes `program` (a
/// command line of its own) with `exec`, so the id is the program's: a test knows its own
/// process by pid, whatever else (other tests, other people's warroom) runs on the machine.
pub fn exec_recording_pid(pid_file: &std::path::Path, program: &str) -> String {
    format!("echo $$ > {}; exec {program}", pid_file.display())
}

/// The pid written by [`exec_recording_pid`], once it is there.
pub fn recorded_pid(pid_file: &std::path::Path) -> u32 {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        // The shell creates the file before it writes the number: wait for a whole line.
        let text = std::fs::read_to_string(pid_file).unwrap_or_default();
        if let Some(pid) = text.strip_suffix('\n').and_then(|t| t.parse().ok()) {
            return pid;
        }
        assert!(std::time::Instant::now() < deadline, "no pid in {} after 30 s", pid_file.display());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Whether `pid` has exited: no longer there, or a zombie its parent has yet to reap.
pub fn exited(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state is the first field after the command name, which ends with the last ')'.
        Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => true,
    }
}

/// Sends `signal` to `pid` (a process the caller started) and returns how long it took to exit,
/// looked at every millisecond; `None` if it still ran after `within`.
pub fn signal_to_exit(pid: u32, signal: i32, within: std::time::Duration) -> Option<std::time::Duration> {
    let sent = std::time::Instant::now();
    // SAFETY: plain kill(2) on a process the caller started and knows by its recorded pid.
    assert_eq!(unsafe { libc::kill(pid as i32, signal) }, 0, "kill({pid}, {signal})");
    while sent.elapsed() < within {
        if exited(pid) {
            return Some(sent.elapsed());
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    None
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

/// What a command printed, how it ended, and its peak resident memory.
pub struct Measured {
    pub output: std::process::Output,
    pub peak_rss_mib: f64,
    /// True if it was killed for going over the cap (its `peak_rss_mib` is then at least that).
    pub killed_over_cap: bool,
}

/// Runs `command` to its end with stdin closed, measuring its peak resident memory exactly (the
/// kernel's own high-water mark for this child, from wait4). A child whose memory passes
/// `cap_mib` is killed at once, so a regression fails the test instead of exhausting a shared
/// machine.
// The child is reaped by wait4 (for its rusage), not by Child::wait.
#[allow(clippy::zombie_processes)]
pub fn run_with_memory_cap(command: &mut std::process::Command, cap_mib: f64) -> Measured {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    let mut child =
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("command starts");
    let pid = child.id() as i32;
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).unwrap();
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let mut killed_over_cap = false;
    let (status, usage) = loop {
        let mut status = 0;
        // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: wait4 on our own child's pid, with valid out-pointers; WNOHANG never blocks.
        let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        assert!(reaped >= 0, "wait4: {}", std::io::Error::last_os_error());
        if reaped == pid {
            break (status, usage);
        }
        if !killed_over_cap && resident_mib(pid).is_some_and(|mib| mib > cap_mib) {
            // SAFETY: plain kill(2) on our own child, not yet reaped, so the pid is still its.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            killed_over_cap = true;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let output = std::process::Output {
        status: std::process::ExitStatus::from_raw(status),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    };
    // ru_maxrss is in KiB on Linux.
    Measured { output, peak_rss_mib: usage.ru_maxrss as f64 / 1024.0, killed_over_cap }
}

/// Resident memory of a running process in MiB; `None` once it is gone.
fn resident_mib(pid: i32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
