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
