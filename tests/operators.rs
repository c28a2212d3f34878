//! Several warroom processes on one journal: one poller, fast takeover, no duplicate entries,
//! everyone sees everyone's notes.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use warroom::journal::{CheckState, EventBody, Journal};

const BIN: &str = env!("CARGO_BIN_EXE_warroom");

struct Headless {
    child: Child,
    name: String,
}

impl Drop for Headless {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(dir: &std::path::Path, name: &str, lines: mpsc::Sender<(String, String, Instant)>) -> Headless {
    let mut child = Command::new(BIN)
        .args(["--headless", "-c", "warroom.toml", "-j", "j.jsonl", "--as", name])
        .current_dir(dir)
        .env("HOME", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let who = name.to_string();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = lines.send((who.clone(), line, Instant::now()));
        }
    });
    Headless { child, name: name.into() }
}

fn wait_line(rx: &mpsc::Receiver<(String, String, Instant)>, want: &str, within: Duration) -> (String, Instant) {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((who, line, at)) if line == want => return (who, at),
            Ok(_) => continue,
            Err(_) => panic!("nobody said {want:?} within {within:?}"),
        }
    }
}

fn changes(dir: &std::path::Path) -> Vec<(CheckState, CheckState, String)> {
    Journal::read(dir.join("j.jsonl"))
        .unwrap()
        .events
        .into_iter()
        .filter_map(|e| match e.body {
            EventBody::CheckChanged { from, to, .. } => Some((from, to, e.author)),
            _ => None,
        })
        .collect()
}

/// Probes in 5 s of a check at a 1 s interval when exactly one process probes it.
const ONE_POLLER: std::ops::RangeInclusive<usize> = 1..=8;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_one_poller_takeover_after_sigkill_no_duplicates() {
    let switch = support::fake::http_switch().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("warroom.toml"),
        format!(
            "[[check]]\nname = \"web\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{}/\"\ninterval = \"1s\"\nretry_interval = \"300ms\"\nfail_after = 2\n",
            switch.fake.port
        ),
    )
    .unwrap();
    let (tx, rx) = mpsc::channel();
    let mut procs: Vec<Headless> = ["op1", "op2", "op3"].iter().map(|n| spawn(dir.path(), n, tx.clone())).collect();
    let (poller, _) = wait_line(&rx, "role: poller", Duration::from_secs(10));

    // One poller's load: about one probe per second (5 in 5 s), not two pollers' (10) or three.
    // A loaded machine delays probes by milliseconds, so 5 s hold 4 to 6; the upper bound
    // catches a second poller, and the lower one only asks that somebody probes (5x margin).
    let before = switch.requests.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let probes = switch.requests.load(Ordering::SeqCst) - before;
    assert!(ONE_POLLER.contains(&probes), "{probes} probes in 5 s with three processes at a 1 s interval");

    // An outage, recorded once.
    switch.healthy.store(false, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !changes(dir.path()).iter().any(|(_, to, _)| *to == CheckState::Down) {
        assert!(Instant::now() < deadline, "the outage was never recorded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The poller dies hard; another takes over within 5 s.
    let victim = procs.iter_mut().find(|p| p.name == poller).unwrap();
    // SAFETY: plain kill(2) on our own child.
    unsafe { libc::kill(victim.child.id() as i32, libc::SIGKILL) };
    let killed_at = Instant::now();
    let (successor, at) = wait_line(&rx, "role: poller", Duration::from_secs(10));
    assert_ne!(successor, poller);
    let took = at - killed_at;
    assert!(took < Duration::from_secs(5), "takeover took {took:?}");

    // Still down: the new poller must not record "down" again. Then recovery, recorded once.
    tokio::time::sleep(Duration::from_secs(3)).await;
    switch.healthy.store(true, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(10);
    while changes(dir.path()).last().is_none_or(|(_, to, _)| *to != CheckState::Up) || changes(dir.path()).len() < 3 {
        assert!(Instant::now() < deadline, "recovery never recorded: {:?}", changes(dir.path()));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let before = switch.requests.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let probes = switch.requests.load(Ordering::SeqCst) - before;
    assert!(ONE_POLLER.contains(&probes), "{probes} probes in 5 s after the takeover");

    let recorded = changes(dir.path());
    let states: Vec<(CheckState, CheckState)> = recorded.iter().map(|(f, t, _)| (*f, *t)).collect();
    assert_eq!(
        states,
        vec![
            (CheckState::Unknown, CheckState::Up),
            (CheckState::Up, CheckState::Down),
            (CheckState::Down, CheckState::Up)
        ],
        "no state change recorded twice: {recorded:?}"
    );
    assert_eq!(recorded[2].2, successor, "the recovery was recorded by the new poller");
}

#[test]
fn two_screens_on_one_journal_see_each_others_notes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("warroom.toml"), "[incident]\ntitle = \"Shared\"\n").unwrap();
    let cmd = |who: &str| format!("HOME={0} {BIN} -c warroom.toml -j j.jsonl --as {who}", dir.path().display());
    let Some(alice) = support::tmux::Tmux::start(100, 30, &cmd("alice"), dir.path()) else { return };
    let Some(bob) = support::tmux::Tmux::start(100, 30, &cmd("bob"), dir.path()) else { return };
    alice.wait_for("Shared", Duration::from_secs(10));
    bob.wait_for("on: alice, bob", Duration::from_secs(10));
    alice.keys(&["i"]);
    alice.type_text("db failover started by alice");
    alice.keys(&["C-s"]);
    let started = Instant::now();
    let screen = bob.wait_for("✎ db failover started by alice", Duration::from_secs(5));
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    assert!(screen.contains("— alice"), "{screen}");
}

#[test]
fn a_read_only_viewer_never_writes() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["log", "-j", "j.jsonl", "first entry"])
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let before = std::fs::read(dir.path().join("j.jsonl")).unwrap();
    let cmd = format!("HOME={0} {BIN} --read-only -j j.jsonl --as viewer", dir.path().display());
    let Some(t) = support::tmux::Tmux::start(100, 30, &cmd, dir.path()) else { return };
    t.wait_for("READ-ONLY VIEWER", Duration::from_secs(10));
    t.wait_for("first entry", Duration::from_secs(5));
    t.keys(&["s"]);
    t.wait_for("read-only", Duration::from_secs(5));
    t.keys(&["q"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while t.alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(std::fs::read(dir.path().join("j.jsonl")).unwrap(), before, "the viewer wrote to the journal");
    assert!(!dir.path().join("j.jsonl.poller").exists() && !dir.path().join("j.jsonl.samples").exists());
}
