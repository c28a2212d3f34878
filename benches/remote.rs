//! Bytes over the SSH link for a dashboard on another host: `warroom --remote DEST` (events
//! only) against the same dashboard run over `ssh -t DEST warroom` in a pty (frames).
//!
//! The far war room has 50 HTTP checks every 10 s against a local nginx; the link goes to a
//! real sshd on 127.0.0.1, and every byte of that TCP connection is counted by nftables (IP
//! packets both ways, headers included), over a minute idle and a minute "during an
//! incident": nginx stopped for the middle third (50 checks down, 50 entries, and 50 more
//! on recovery) and a note typed on the screen.
//!
//! Run: `cargo bench --bench remote` (needs sshd, nft, nginx and tmux: `bash .ci/install-deps`;
//! root for nftables). Target: `--remote` at most a fifth of the pty's bytes.

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::sshd::{SshClient, Sshd};
use support::tmux::Tmux;

const CHECKS: usize = 50;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Screen {
    /// `ssh -t bastion warroom …`: the dashboard runs there, its frames cross the link.
    Pty,
    /// `warroom --remote bastion …`: the dashboard runs here, events cross the link.
    Remote,
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let measure = if full { Duration::from_secs(60) } else { Duration::from_secs(6) };
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        support::announce_skip("counting a connection's bytes with nftables needs root");
        return;
    }
    let Some(nft) = support::need("nft", "nftables") else { return };
    let Some(mut client) = SshClient::new() else { return };
    let Some(sshd) = Sshd::start(&mut client, "bastion", None) else { return };
    for incident in [false, true] {
        let what = if incident { "incident" } else { "idle" };
        let mut per_minute = Vec::new();
        for screen in [Screen::Pty, Screen::Remote] {
            let Some(bytes) = run(screen, incident, measure, &client, &sshd, &nft) else { return };
            let kb = bytes / 1024.0;
            println!(
                "remote/{what}/{screen:?}: {kb:.1} KB per minute over the SSH connection ({CHECKS} checks / 10 s)"
            );
            per_minute.push(kb);
        }
        println!(
            "remote/{what}: --remote is {:.3} of the pty's bytes (target at most 0.2)",
            per_minute[1] / per_minute[0]
        );
    }
}

/// Runs one screen over the link and returns the bytes per minute counted on it.
fn run(
    screen: Screen,
    incident: bool,
    measure: Duration,
    client: &SshClient,
    sshd: &Sshd,
    nft: &std::path::Path,
) -> Option<f64> {
    let mut nginx = support::nginx(None)?;
    let port = nginx.server.port;
    let dir = tempfile::tempdir().unwrap();
    let mut config = String::from("[incident]\ntitle = \"link bytes\"\nseverity = 2\n");
    for i in 0..CHECKS {
        config.push_str(&format!(
            "[[check]]\nname = \"web-{i:03}\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{port}/ok\"\ninterval = \"10s\"\n"
        ));
    }
    let config_path = dir.path().join("warroom.toml");
    std::fs::write(&config_path, config).unwrap();
    let bin = env!("CARGO_BIN_EXE_warroom");
    let journal = dir.path().join("j.jsonl");
    let (key, ssh) = client.env();
    let (config_path, journal, home) = (config_path.display(), journal.display(), dir.path().display());
    let command = match screen {
        Screen::Pty => format!("HOME={home} {ssh} -t bastion {bin} -c {config_path} -j {journal} --as bench"),
        Screen::Remote => format!(
            "HOME={home} {key}='{ssh}' {bin} --remote bastion --remote-command {bin} --remote-config {config_path} \
             -j {journal} --as bench"
        ),
    };
    let t = Tmux::start(200, 60, &command, dir.path())?;
    t.wait_for(&format!("{CHECKS} all up"), Duration::from_secs(60));
    // Start-up settles (first probes, journal writes) before counting.
    std::thread::sleep(Duration::from_secs(12).min(measure * 2));
    let counter = Counter::start(nft, sshd.port);
    let started = Instant::now();
    if incident {
        std::thread::sleep(measure / 3);
        nginx.server.stop();
        t.keys(&["i"]);
        t.type_text("nginx on the bastion stopped answering; looking");
        t.keys(&["C-s"]);
        std::thread::sleep(measure / 3);
        nginx = support::nginx_on(port, None)?;
        std::thread::sleep(measure.saturating_sub(started.elapsed()));
    } else {
        std::thread::sleep(measure);
    }
    let bytes = counter.bytes();
    let minutes = started.elapsed().as_secs_f64() / 60.0;
    t.keys(&["q"]);
    drop(t);
    drop(nginx);
    Some(bytes as f64 / minutes)
}

/// An nftables table of our own counting every IP packet of the connections to sshd's port,
/// both ways (on the loopback each packet passes the output hook once). Deleted on drop.
struct Counter {
    nft: std::path::PathBuf,
    table: String,
}

impl Counter {
    fn start(nft: &std::path::Path, port: u16) -> Counter {
        let table = format!("wrbytes{}", std::process::id());
        let rules = format!(
            "table inet {table} {{\n chain out {{ type filter hook output priority 0; policy accept;\n  \
             tcp dport {port} counter\n  tcp sport {port} counter\n }}\n}}\n"
        );
        let mut child = Command::new(nft).args(["-f", "-"]).stdin(std::process::Stdio::piped()).spawn().expect("nft");
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), rules.as_bytes()).unwrap();
        drop(child.stdin.take());
        assert!(child.wait().unwrap().success(), "nft -f: counting bytes");
        Counter { nft: nft.to_path_buf(), table }
    }

    /// The bytes counted so far, both ways.
    fn bytes(&self) -> u64 {
        let out = Command::new(&self.nft).args(["list", "table", "inet", &self.table]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        text.split("bytes ").skip(1).filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok()).sum()
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        let _ = Command::new(&self.nft).args(["delete", "table", "inet", &self.table]).status();
    }
}
