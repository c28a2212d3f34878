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
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(!names.iter().any(|n| n.to_string_lossy().contains(".here-")), "a viewer beats no heartbeat: {names:?}");
}

type Said = (String, String, Instant);

/// Gathers every line said into `log` until `done` holds; panics with the log after `within`.
fn wait_until(
    rx: &mpsc::Receiver<Said>,
    log: &mut Vec<Said>,
    what: &str,
    within: Duration,
    done: impl Fn(&[Said]) -> bool,
) {
    let deadline = Instant::now() + within;
    while !done(log) {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(said) => log.push(said),
            Err(_) => {
                let lines: Vec<String> = log.iter().map(|(who, line, _)| format!("{who}: {line}")).collect();
                panic!("not within {within:?}: {what}; said: {lines:#?}");
            }
        }
    }
}

/// When `who` first said a line starting with `line`, after `since`.
fn said(log: &[Said], who: &str, line: &str, since: Instant) -> Option<Instant> {
    log.iter().find(|(w, l, at)| w == who && l.starts_with(line) && *at >= since).map(|s| s.2)
}

fn signal(process: &Headless, signal: i32) {
    // SAFETY: plain kill(2) on our own child, which has not been reaped (Drop reaps it).
    assert_eq!(unsafe { libc::kill(process.child.id() as i32, signal) }, 0);
}

/// Presence by heartbeat, with the real binary: the poller killed, a follower takes over and
/// everyone shows it gone without any "left" entry; a frozen (SIGSTOPped) follower is shown
/// gone and back; a frozen poller, which keeps its lock, is shown gone and nobody probing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_or_frozen_session_is_shown_gone_and_the_poller_replaced() {
    let switch = support::fake::http_switch().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("warroom.toml"),
        format!(
            "[[check]]\nname = \"web\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{}/\"\ninterval = \"1s\"\n",
            switch.fake.port
        ),
    )
    .unwrap();
    let (tx, rx) = mpsc::channel();
    let mut log = Vec::new();
    let start = Instant::now();
    let alice = spawn(dir.path(), "alice", tx.clone());
    wait_until(&rx, &mut log, "alice polls", Duration::from_secs(10), |l| {
        said(l, "alice", "role: poller", start).is_some()
    });
    let others = [spawn(dir.path(), "bob", tx.clone()), spawn(dir.path(), "carol", tx.clone())];
    wait_until(&rx, &mut log, "everyone sees everyone", Duration::from_secs(15), |l| {
        ["alice", "bob", "carol"]
            .iter()
            .all(|who| ["alice", "bob", "carol"].iter().all(|x| said(l, who, &format!("here: {x}"), start).is_some()))
    });

    signal(&alice, libc::SIGKILL);
    let killed = Instant::now();
    wait_until(&rx, &mut log, "a follower polls and both show alice gone", Duration::from_secs(15), |l| {
        (said(l, "bob", "role: poller", killed).is_some() || said(l, "carol", "role: poller", killed).is_some())
            && said(l, "bob", "gone: alice", killed).is_some()
            && said(l, "carol", "gone: alice", killed).is_some()
    });
    let (poller, follower) = if said(&log, "bob", "role: poller", killed).is_some() {
        (&others[0], &others[1])
    } else {
        (&others[1], &others[0])
    };
    let took = said(&log, &poller.name, "role: poller", killed).unwrap() - killed;
    let gone = said(&log, &poller.name, "gone: alice", killed)
        .unwrap()
        .max(said(&log, &follower.name, "gone: alice", killed).unwrap())
        - killed;
    println!("alice killed: {} polls after {took:?}, alice shown gone by both after {gone:?}", poller.name);
    assert!(took < Duration::from_secs(5), "takeover took {took:?}");
    assert!(
        !log.iter().any(|(_, line, at)| *at >= killed && line.starts_with("probing: nobody")),
        "somebody probed all along: {log:?}"
    );

    signal(follower, libc::SIGSTOP);
    let frozen = Instant::now();
    let (p, f) = (poller.name.clone(), follower.name.clone());
    wait_until(&rx, &mut log, "the frozen follower shown gone", Duration::from_secs(15), |l| {
        said(l, &p, &format!("gone: {f}"), frozen).is_some()
    });
    println!("{f} frozen: shown gone after {:?}", said(&log, &p, "gone:", frozen).unwrap() - frozen);
    signal(follower, libc::SIGCONT);
    let thawed = Instant::now();
    wait_until(&rx, &mut log, "the follower back", Duration::from_secs(15), |l| {
        said(l, &p, &format!("back: {f}"), thawed).is_some()
    });

    // A frozen poller keeps its lock: nobody can take over, and the others are told so.
    signal(poller, libc::SIGSTOP);
    let frozen = Instant::now();
    wait_until(&rx, &mut log, "the frozen poller shown gone, nobody probing", Duration::from_secs(15), |l| {
        said(l, &f, &format!("gone: {p}"), frozen).is_some() && said(l, &f, "probing: nobody since ", frozen).is_some()
    });
    signal(poller, libc::SIGCONT);
    let thawed = Instant::now();
    wait_until(&rx, &mut log, "the poller back, probing again", Duration::from_secs(15), |l| {
        said(l, &f, &format!("back: {p}"), thawed).is_some() && said(l, &f, "probing: yes", thawed).is_some()
    });
    let entries = Journal::read(dir.path().join("j.jsonl")).unwrap().events;
    assert!(
        !entries.iter().any(|e| e.author == "alice" && matches!(e.body, EventBody::OperatorLeft {})),
        "alice never left: her absence was seen from the heartbeat alone"
    );
}

/// Every line `name` printed until it said `left`.
fn lines_until_left(rx: &mpsc::Receiver<(String, String, Instant)>, name: &str, within: Duration) -> Vec<String> {
    let deadline = Instant::now() + within;
    let mut said = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((who, line, _)) if who == name => {
                let done = line == "left";
                said.push(line);
                if done {
                    return said;
                }
            }
            Ok(_) => continue,
            Err(_) => panic!("{name} did not leave within {within:?}; said {said:?}"),
        }
    }
}

#[test]
fn headless_says_its_role_once_the_election_settles() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("warroom.toml"), "[incident]\ntitle = \"Quiet\"\n").unwrap();
    let stop = |h: &Headless| {
        support::proc::signal_to_exit(h.child.id(), libc::SIGTERM, Duration::from_secs(30)).expect("left on SIGTERM")
    };
    let roles = |said: &[String]| said.iter().filter(|l| l.starts_with("role:")).cloned().collect::<Vec<_>>();
    let (tx, rx) = mpsc::channel();
    // A free journal: the first is the poller, and says so once, from its first line to its last.
    let first = spawn(dir.path(), "first", tx.clone());
    let (_, mut first_said) = wait_line_keeping(&rx, "role: poller", Duration::from_secs(20));
    // Held by the first: the second is a follower, and says so once, after the settling.
    let second = spawn(dir.path(), "second", tx.clone());
    let (who, mut second_said) = wait_line_keeping(&rx, "role: follower", Duration::from_secs(20));
    assert_eq!(who, "second");
    // Longer than the settling: a line held back would have come by now.
    std::thread::sleep(Duration::from_millis(1500));
    stop(&second);
    second_said.extend(lines_until_left(&rx, "second", Duration::from_secs(10)));
    stop(&first);
    first_said.extend(lines_until_left(&rx, "first", Duration::from_secs(10)));
    // Lines of both arrive on one channel: keep each one's own.
    assert_eq!(roles(&first_said), ["role: poller"], "{first_said:?}");
    assert_eq!(roles(&second_said), ["role: follower"], "{second_said:?}");
}

/// Like [`wait_line`], returning every line its sayer said up to and including `want`.
fn wait_line_keeping(
    rx: &mpsc::Receiver<(String, String, Instant)>,
    want: &str,
    within: Duration,
) -> (String, Vec<String>) {
    let deadline = Instant::now() + within;
    let mut said = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((who, line, _)) => {
                let found = line == want;
                said.push((who, line));
                if found {
                    let who = said.last().unwrap().0.clone();
                    let own = said.into_iter().filter(|(w, _)| *w == who).map(|(_, l)| l).collect();
                    return (who, own);
                }
            }
            Err(_) => panic!("nobody said {want:?} within {within:?}; said {said:?}"),
        }
    }
}
