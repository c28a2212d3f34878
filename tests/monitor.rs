//! The monitor against real servers: confirmation speed, isolation, control.

mod support;

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedReceiver;
use warroom::monitor::{self, MonitorEvent, Options, State};
use warroom::probe::Prober;

fn checks(toml: &str) -> Vec<monitor::CheckDef> {
    warroom::config::parse(toml, Path::new("test.toml")).unwrap_or_else(|e| panic!("{e}")).checks
}

async fn next_change(rx: &mut UnboundedReceiver<MonitorEvent>, within: Duration) -> Option<monitor::Change> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(MonitorEvent::Changed(c))) => return Some(c),
            Ok(Some(_)) => continue,
            _ => return None,
        }
    }
}

/// How many results arrive within `within`.
async fn samples_within(rx: &mut UnboundedReceiver<MonitorEvent>, within: Duration) -> usize {
    let deadline = tokio::time::Instant::now() + within;
    let mut samples = 0;
    while let Ok(Some(e)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        samples += usize::from(matches!(e, MonitorEvent::Sample { .. }));
    }
    samples
}

/// A check of nginx (interval 30 s, timeout 1 s, then `more` settings) seen up; nginx stopped
/// and the check probed at once (the TUI's `r`: the next scheduled probe is 30 s away). The
/// confirmed change down, within `within`, and when the probe was asked for.
async fn stop_while_up(n: &mut support::Nginx, more: &str, within: Duration) -> (monitor::Change, Instant) {
    let defs = checks(&format!(
        "[[check]]\nname = \"web\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{}/ok\"\ninterval = \"30s\"\ntimeout = \"1s\"\n{more}",
        n.server.port
    ));
    let (control, mut rx) = monitor::spawn(defs, &HashMap::new(), Options::default(), Prober::new());
    let up = next_change(&mut rx, Duration::from_secs(5)).await.expect("first result");
    assert_eq!((up.from, up.to), (State::Unknown, State::Up));
    n.server.stop();
    control.run_now(0);
    let started = Instant::now();
    let down = next_change(&mut rx, within).await.expect("confirmed down");
    assert_eq!((down.from, down.to), (State::Up, State::Down));
    (down, started)
}

#[tokio::test]
async fn a_stopped_server_is_confirmed_down_at_the_retry_pace_not_the_interval() {
    let Some(mut n) = support::nginx(None) else { return };
    // The 200 ms retry pace must confirm the three failures within a second or so.
    let (down, started) =
        stop_while_up(&mut n, "retry_interval = \"200ms\"\nfail_after = 3\n", Duration::from_secs(5)).await;
    assert!(down.detail.contains("connect failed"), "{}", down.detail);
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn a_stuck_target_never_delays_another_check() {
    let silent = support::fake::silent().await;
    let Some(n) = support::nginx(None) else { return };
    let defs = checks(&format!(
        "[[check]]\nname = \"stuck\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{}/\"\ntimeout = \"20s\"\n\
         [[check]]\nname = \"fast\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{}/ok\"\ninterval = \"100ms\"\n",
        silent.port, n.server.port
    ));
    let (_control, mut rx) =
        monitor::spawn(defs, &HashMap::new(), Options { max_concurrent: 4, canary: None }, Prober::new());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    let mut fast_samples = 0;
    while let Ok(Some(e)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        if let MonitorEvent::Sample { check: 1, .. } = e {
            fast_samples += 1;
        }
        if let MonitorEvent::Sample { check: 0, .. } = e {
            panic!("the stuck check answered");
        }
    }
    // A loaded 2-core machine gave 27: a third of that still tells a fast check from a starved one.
    assert!(fast_samples >= 9, "only {fast_samples} results from the fast check while the other was stuck");
}

#[tokio::test]
async fn a_check_waiting_for_the_only_place_is_probed_once_it_frees() {
    let silent = support::fake::silent().await;
    let Some(n) = support::nginx(None) else { return };
    let defs = checks(&format!(
        "[[check]]\nname = \"stuck\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{}/\"\ninterval = \"100ms\"\ntimeout = \"1s\"\n\
         [[check]]\nname = \"fast\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{}/ok\"\ninterval = \"100ms\"\n",
        silent.port, n.server.port
    ));
    let (_control, mut rx) =
        monitor::spawn(defs, &HashMap::new(), Options { max_concurrent: 1, canary: None }, Prober::new());
    // One place: the two take turns, the stuck one holding it for its whole timeout. Two
    // turns each take about 2.3 s.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(8);
    let mut samples = [0, 0];
    while samples.iter().any(|&s| s < 2)
        && let Ok(Some(e)) = tokio::time::timeout_at(deadline, rx.recv()).await
    {
        if let MonitorEvent::Sample { check, .. } = e {
            samples[check] += 1;
        }
    }
    assert!(samples.iter().all(|&s| s >= 2), "results (stuck, fast): {samples:?}");
}

/// Many hung targets against few places: once each has hung once, the hung ones wait for
/// places of their own, and the check that answers is probed at its interval again. In one
/// lane, 2,500 black-holed checks kept a healthy check's outage off the screen for 3 minutes.
#[tokio::test]
async fn hung_targets_wait_for_places_of_their_own() {
    let silent = support::fake::silent().await;
    let Some(n) = support::nginx(None) else { return };
    let mut config = String::new();
    for i in 0..8 {
        config += &format!(
            "[[check]]\nname = \"hung{i}\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{}/\"\ninterval = \"500ms\"\ntimeout = \"1s\"\n",
            silent.port
        );
    }
    config += &format!(
        "[[check]]\nname = \"fast\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{}/ok\"\ninterval = \"100ms\"\n",
        n.server.port
    );
    let (_control, mut rx) =
        monitor::spawn(checks(&config), &HashMap::new(), Options { max_concurrent: 4, canary: None }, Prober::new());
    // The first round: every check in one lane, the eight hung ones holding the four places
    // for a second each. Then 3 s in which they wait for their own.
    let settled = tokio::time::Instant::now() + Duration::from_secs(3);
    while tokio::time::timeout_at(settled, rx.recv()).await.is_ok_and(|e| e.is_some()) {}
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    let mut fast = 0;
    let mut told = None;
    while let Ok(Some(e)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        match e {
            MonitorEvent::Sample { check: 8, .. } => fast += 1,
            MonitorEvent::Notice(text) => told = Some(text),
            _ => {}
        }
    }
    // About 30 at its 100 ms interval; sharing the places with the hung ones it got 3.
    assert!(fast >= 10, "only {fast} results in 3 s from the check that answers");
    assert!(told.is_none(), "nothing waits long once the lanes are apart: {told:?}");
}

/// Checks kept waiting for a place get late results: the operator is told, with the setting
/// to raise, rather than left to read it as a slow outage.
#[tokio::test]
async fn checks_kept_waiting_for_a_place_are_reported() {
    let silent = support::fake::silent().await;
    let mut config = String::new();
    for i in 0..6 {
        config += &format!(
            "[[check]]\nname = \"hung{i}\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{}/\"\ntimeout = \"2s\"\n",
            silent.port
        );
    }
    let (_control, mut rx) =
        monitor::spawn(checks(&config), &HashMap::new(), Options { max_concurrent: 1, canary: None }, Prober::new());
    // One place, six hung checks of 2 s each in the first round: the last waits 10 s.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let told = loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(MonitorEvent::Notice(text))) => break text,
            Ok(Some(_)) => continue,
            _ => panic!("never told that checks wait for places"),
        }
    };
    assert!(told.contains("probes are late") && told.contains("raise max_concurrent_probes"), "{told}");
}

/// A service failing every other request (a round-robin with one bad backend) was never
/// recorded: each failure's quick re-probe landed on the good backend, so no streak reached
/// `fail_after`. It is recorded degraded, as intermittent, with the failure's own words.
#[tokio::test]
async fn a_service_failing_every_other_request_is_recorded_degraded() {
    let Some(n) = support::nginx(None) else { return };
    let defs = checks(&format!(
        "[[check]]\nname = \"half\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{}/half\"\ninterval = \"200ms\"\n",
        n.server.port
    ));
    let (_control, mut rx) = monitor::spawn(defs, &HashMap::new(), Options::default(), Prober::new());
    let up = next_change(&mut rx, Duration::from_secs(10)).await.expect("a first result");
    assert_eq!(up.to, State::Up, "{up:?}");
    // Ten results at 200 ms and the quick re-probes: about 3 s.
    let change = next_change(&mut rx, Duration::from_secs(20)).await.expect("recorded as failing");
    assert_eq!((change.from, change.to), (State::Up, State::Degraded), "{change:?}");
    assert!(change.detail.starts_with("intermittent, "), "{}", change.detail);
    assert!(change.detail.contains(" of the last 10 probes failed: HTTP 500"), "{}", change.detail);
}

#[tokio::test]
async fn run_now_during_a_probe_probes_once_more_when_it_ends() {
    // Answers each request after a second.
    let slow = support::fake::serve(|mut stream| async move {
        use tokio::io::AsyncWriteExt;
        let _ = support::fake::read_request_head(&mut stream).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await;
    })
    .await;
    let defs = checks(&format!(
        "[[check]]\nname = \"slow\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{}/\"\ninterval = \"30s\"\ntimeout = \"5s\"\n",
        slow.port
    ));
    let (control, mut rx) = monitor::spawn(defs, &HashMap::new(), Options::default(), Prober::new());
    next_change(&mut rx, Duration::from_secs(10)).await.expect("first result");
    control.run_now(0);
    // Asked twice more while that probe waits its second: owed once, not twice.
    tokio::time::sleep(Duration::from_millis(100)).await;
    control.run_now(0);
    control.run_now(0);
    let samples = samples_within(&mut rx, Duration::from_secs(6)).await;
    assert_eq!(samples, 2, "the probe asked for, then one more for the asks during it");
}

/// A check of nginx probed every 100 ms, once its first result is in.
async fn probed_every_100ms(n: &support::Nginx) -> (monitor::MonitorControl, UnboundedReceiver<MonitorEvent>) {
    let defs = checks(&format!(
        "[[check]]\nname = \"web\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{}/ok\"\ninterval = \"100ms\"\n",
        n.server.port
    ));
    let (control, mut rx) = monitor::spawn(defs, &HashMap::new(), Options::default(), Prober::new());
    next_change(&mut rx, Duration::from_secs(5)).await.expect("first result");
    (control, rx)
}

#[tokio::test]
async fn paused_checks_stop_probing_and_resume() {
    let Some(n) = support::nginx(None) else { return };
    let (control, mut rx) = probed_every_100ms(&n).await;
    control.pause(control.index("web").unwrap());
    // Drain what was in flight, then expect silence.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut saw_paused_view = false;
    while let Ok(e) = rx.try_recv() {
        if let MonitorEvent::View { view, .. } = e {
            saw_paused_view |= view.paused;
        }
    }
    assert!(saw_paused_view);
    let quiet = tokio::time::timeout(Duration::from_millis(500), async {
        loop {
            if let Some(MonitorEvent::Sample { .. }) = rx.recv().await {
                return;
            }
        }
    })
    .await;
    assert!(quiet.is_err(), "a paused check was probed");
    control.resume(0);
    let resumed = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            if let Some(MonitorEvent::Sample { .. }) = rx.recv().await {
                return;
            }
        }
    })
    .await;
    assert!(resumed.is_ok(), "no probe after resume");
}

#[tokio::test]
async fn run_now_on_a_paused_check_probes_once_and_it_stays_paused() {
    let Some(n) = support::nginx(None) else { return };
    let (control, mut rx) = probed_every_100ms(&n).await;
    control.pause(0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    while rx.try_recv().is_ok() {}
    control.run_now(0);
    // Ten intervals: a check that had resumed would be probed about ten times.
    let samples = samples_within(&mut rx, Duration::from_secs(1)).await;
    assert_eq!(samples, 1, "run now probes a paused check once");
}

/// Samples of check 0 (health and arrival time) until `within` has passed; panics on a change.
async fn samples_without_change(
    rx: &mut UnboundedReceiver<MonitorEvent>,
    within: Duration,
) -> Vec<(warroom::probe::Health, Instant)> {
    let deadline = tokio::time::Instant::now() + within;
    let mut out = Vec::new();
    while let Ok(Some(e)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        match e {
            MonitorEvent::Sample { check: 0, outcome, .. } => out.push((outcome.health, Instant::now())),
            MonitorEvent::Changed(c) => panic!("unexpected change {c:?} after {out:?}"),
            _ => {}
        }
    }
    out
}

#[tokio::test]
async fn a_refused_connection_is_confirmed_down_in_a_fraction_of_a_second() {
    let Some(mut n) = support::nginx(None) else { return };
    // Defaults for fail_after (2), first_retry and retry_interval (5 s): before quick
    // confirmation this took the interval plus the 5 s retry_interval.
    let (_, started) = stop_while_up(&mut n, "", Duration::from_secs(10)).await;
    // About 250 ms (the first retry) plus two refused connections; the old pace was 5 s.
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1500), "confirming took {took:?}, the default first retry is 250 ms");
}

#[tokio::test]
async fn a_single_failure_followed_by_success_is_not_confirmed() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::AsyncWriteExt;
    // The second request gets a 503 (one lost answer); every other one a 200.
    let served = Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    let fake = support::fake::serve(move |mut stream| {
        let count = count.clone();
        async move {
            while support::fake::read_request_head(&mut stream).await.is_ok() {
                let reply: &[u8] = if count.fetch_add(1, Ordering::SeqCst) == 1 {
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\ndown"
                } else {
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                };
                if stream.write_all(reply).await.is_err() {
                    return;
                }
            }
        }
    })
    .await;
    let defs = checks(&format!(
        "[[check]]\nname = \"web\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{}/\"\ninterval = \"30s\"\ntimeout = \"1s\"\n",
        fake.port
    ));
    let (control, mut rx) = monitor::spawn(defs, &HashMap::new(), Options::default(), Prober::new());
    let up = next_change(&mut rx, Duration::from_secs(5)).await.expect("first result");
    assert_eq!(up.to, State::Up);
    control.run_now(0);
    // The 503, then a quick re-probe that succeeds: two samples, no change recorded.
    let samples = samples_without_change(&mut rx, Duration::from_secs(3)).await;
    let health: Vec<_> = samples.iter().map(|(h, _)| *h).collect();
    use warroom::probe::Health;
    assert_eq!(health, vec![Health::Down, Health::Up], "one failure, then the quick re-probe");
    let retry_after = samples[1].1 - samples[0].1;
    assert!(retry_after < Duration::from_millis(1500), "re-probed after {retry_after:?}");
    assert_eq!(served.load(Ordering::SeqCst), 3);
}
