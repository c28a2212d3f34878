//! Seeing from several places, with real OpenSSH: two vantages, each a network namespace
//! with its own sshd, and a web server started inside one of them only. From "paris" it is
//! up, from "fra" (and from here) nothing listens: partial and down verdicts by quorum, each
//! place's change in the journal, `check --json`'s vantages, the screen's glyphs, and a
//! vantage whose connection is killed or whose packets are dropped: its own state, never its
//! checks', back once reachable, and no agent left on the far side after the war room ends.

mod support;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::proc::{exited, signal_to_exit};
use support::sshd::{Netns, SshClient, Sshd};
use support::tmux::Tmux;
use warroom::journal::{CheckState, Event, EventBody};

const BIN: &str = env!("CARGO_BIN_EXE_warroom");

/// Two vantages and a web server inside paris's namespace only.
struct Places {
    // Dropped in this order: servers and their connections first, then the namespaces.
    target: Child,
    paris: Sshd,
    _fra: Sshd,
    client: SshClient,
    paris_ns: Netns,
    fra_ns: Netns,
    port: u16,
    /// Bound here, never listening: from the war room's own host the shop refuses.
    _closed_here: support::ClosedPort,
    dir: tempfile::TempDir,
}

impl Drop for Places {
    fn drop(&mut self) {
        let _ = self.target.kill();
        let _ = self.target.wait();
    }
}

fn places() -> Option<Places> {
    let python = support::need("python3", "python3")?;
    let paris_ns = Netns::create()?;
    let fra_ns = Netns::create()?;
    let mut client = SshClient::new()?;
    let paris = Sshd::start(&mut client, "paris", Some(&paris_ns))?;
    let fra = Sshd::start(&mut client, "fra", Some(&fra_ns))?;
    let closed_here = support::closed_port();
    let port = closed_here.port;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "shop is open\n").unwrap();
    let target = paris_ns
        .command(&python)
        .args(["-m", "http.server", &port.to_string(), "--bind", "127.0.0.1", "--directory"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let places = Places { target, paris, _fra: fra, client, paris_ns, fra_ns, port, _closed_here: closed_here, dir };
    let ready = format!("exec 3<>/dev/tcp/127.0.0.1/{port}");
    let deadline = Instant::now() + Duration::from_secs(15);
    while !places.paris_ns.command("bash").args(["-c", &ready]).stderr(Stdio::null()).status().unwrap().success() {
        assert!(Instant::now() < deadline, "the web server in paris did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(places)
}

impl Places {
    fn journal(&self) -> PathBuf {
        self.dir.path().join("incident.jsonl")
    }

    /// `shop` from paris and fra (down when down from both), `shop any` down when down from
    /// one, `shop two` from everywhere (here too) down when down from two.
    fn config(&self) -> PathBuf {
        let url = format!("http://127.0.0.1:{}/", self.port);
        let check = |name: &str, from: &str, down_when: &str| {
            format!(
                "[[check]]\nname = \"{name}\"\nkind = \"http\"\nurl = \"{url}\"\nfrom = {from}\n{down_when}\
                 interval = \"1s\"\ntimeout = \"2s\"\nretry_interval = \"300ms\"\n\n"
            )
        };
        let vantage = |name: &str| format!("[[vantage]]\nname = \"{name}\"\nssh = \"{name}\"\ncommand = \"{BIN}\"\n\n");
        let text = format!(
            "journal = \"{}\"\n\n{}{}{}{}{}",
            self.journal().display(),
            vantage("paris"),
            vantage("fra"),
            check("shop", "[\"paris\", \"fra\"]", ""),
            check("shop any", "[\"paris\", \"fra\"]", "down_when = \"any\"\n"),
            check("shop two", "\"all\"", "down_when = 2\n"),
        );
        let path = self.dir.path().join("warroom.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    fn warroom(&self, args: &[&str]) -> Command {
        let (key, value) = self.client.env();
        let mut command = Command::new(BIN);
        command.arg("-c").arg(self.config()).args(args).env(key, value);
        command
    }

    /// The poller: `--headless`, probing from here and from both vantages.
    fn poller(&self) -> Child {
        self.warroom(&["--headless", "--as", "poller"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap()
    }

    fn events(&self) -> Vec<Event> {
        let text = std::fs::read_to_string(self.journal()).unwrap_or_default();
        text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    /// Waits for the `n`th event (counting from 1) that `want` accepts; returns it and its position.
    fn wait_for(&self, what: &str, within: Duration, want: impl Fn(&EventBody) -> bool) -> (usize, Event) {
        let deadline = Instant::now() + within;
        loop {
            let events = self.events();
            if let Some(found) = events.iter().enumerate().find(|(_, e)| want(&e.body)) {
                return (found.0, found.1.clone());
            }
            assert!(Instant::now() < deadline, "no {what} within {within:?}; journal:\n{}", summaries(&events));
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn summaries(events: &[Event]) -> String {
    events.iter().map(|e| format!("  {} {}", e.kind(), e.summary())).collect::<Vec<_>>().join("\n")
}

fn verdict(body: &EventBody, name: &str, state: CheckState) -> bool {
    matches!(body, EventBody::CheckChanged { check, to, .. } if check == name && *to == state)
}

fn seen_from(body: &EventBody, name: &str, place: &str, state: CheckState) -> bool {
    matches!(body, EventBody::VantageCheckChanged { check, vantage, to, .. }
        if check == name && vantage == place && *to == state)
}

fn link(body: &EventBody, place: &str, reachable: bool) -> bool {
    match body {
        EventBody::VantageReachable { vantage, .. } => reachable && vantage == place,
        EventBody::VantageUnreachable { vantage, .. } => !reachable && vantage == place,
        _ => false,
    }
}

/// The far agents' pids, as each `vantage_reachable` names its agent.
fn agent_pids(events: &[Event]) -> Vec<u32> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::VantageReachable { detail, .. } => {
                detail.strip_prefix("warroom pid ")?.split(' ').next()?.parse().ok()
            }
            _ => None,
        })
        .collect()
}

fn end(mut poller: Child) {
    assert!(signal_to_exit(poller.id(), libc::SIGTERM, Duration::from_secs(15)).is_some(), "the poller did not end");
    let _ = poller.wait();
}

/// Every agent the war room started is gone once it has ended: nothing of ours stays behind
/// on a vantage.
fn assert_agents_gone(places: &Places) {
    let pids = agent_pids(&places.events());
    assert!(!pids.is_empty(), "no vantage_reachable named its agent:\n{}", summaries(&places.events()));
    let deadline = Instant::now() + Duration::from_secs(15);
    for pid in pids {
        while !exited(pid) {
            assert!(Instant::now() < deadline, "agent pid {pid} still runs after the war room ended");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

const WITHIN: Duration = Duration::from_secs(30);

#[test]
fn verdicts_by_quorum_are_journaled_listed_and_shown_place_by_place() {
    let Some(places) = places() else { return };
    let poller = places.poller();
    use CheckState::{Degraded, Down, Up};
    // Each place's own confirmed change, then the verdict across them.
    places.wait_for("shop up from paris", WITHIN, |b| seen_from(b, "shop", "paris", Up));
    places.wait_for("shop down from fra", WITHIN, |b| seen_from(b, "shop", "fra", Down));
    let (at, partial) = places.wait_for("shop partial", WITHIN, |b| verdict(b, "shop", Degraded));
    let EventBody::CheckChanged { detail, .. } = &partial.body else { unreachable!() };
    assert_eq!(detail, "down from fra; up from paris", "the partial verdict names the places");
    // The place's change that caused the verdict is written before it.
    let (cause, _) = places.wait_for("shop down from fra", WITHIN, |b| seen_from(b, "shop", "fra", Down));
    assert!(cause < at, "the verdict came before its cause:\n{}", summaries(&places.events()));
    places.wait_for("shop any down", WITHIN, |b| verdict(b, "shop any", Down));
    // From here, fra and paris: down from two (here and fra) is down with a quorum of two.
    places.wait_for("shop two down from here", WITHIN, |b| seen_from(b, "shop two", "local", Down));
    let (_, two) = places.wait_for("shop two down", WITHIN, |b| verdict(b, "shop two", Down));
    assert!(two.summary().contains("down from local, fra"), "{}", two.summary());
    let events = places.events();
    assert!(!events.iter().any(|e| verdict(&e.body, "shop", Down)), "partial is not down:\n{}", summaries(&events));
    // No verdict from the first place to speak, taken back when the next one does.
    let first = events.iter().find(|e| matches!(&e.body, EventBody::CheckChanged { check, .. } if check == "shop any"));
    assert!(first.is_some_and(|e| verdict(&e.body, "shop any", Down)), "{}", summaries(&events));

    // `warroom reach paris` goes where the war room goes: the vantage's destination and path.
    let out = places.warroom(&["reach", "paris"]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.starts_with("paris: warroom "),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // `validate` names the vantages it knows, as the war room reaches them.
    let out = places.warroom(&["validate"]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    let line = format!("vantages: paris (ssh paris, warroom at {BIN}), fra (ssh fra, warroom at {BIN})");
    assert!(said.lines().any(|l| l == line), "{said}{}", String::from_utf8_lossy(&out.stderr));

    // `check --json` asks the vantages too.
    let out = places.warroom(&["check", "--json"]).output().unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    let shop = rows.as_array().unwrap().iter().find(|r| r["name"] == "shop").expect("a shop row");
    assert_eq!(shop["status"], "degraded", "{shop}");
    let vantages = shop["vantages"].as_array().expect("a vantages array");
    let place = |name: &str| vantages.iter().find(|v| v["name"] == name).unwrap_or_else(|| panic!("{name} in {shop}"));
    assert_eq!(place("paris")["status"], "up", "{shop}");
    assert_eq!(place("fra")["status"], "down", "{shop}");
    assert!(place("fra")["detail"].as_str().unwrap().contains("refused"), "{shop}");
    assert_eq!(out.status.code(), Some(2), "shop any and shop two are down");

    // A second operator's screen: the glyph and name of each place beside the verdict.
    let (key, value) = places.client.env();
    let command = format!("{key}='{value}' {BIN} -c {} --as viewer", places.config().display());
    if let Some(tmux) = Tmux::start(200, 30, &command, places.dir.path()) {
        let screen = tmux.wait_for("✖ fra ✔ paris", WITHIN);
        let line = screen.lines().find(|l| l.contains("▲ degraded")).unwrap_or_default();
        assert!(line.contains("▲ degraded ✖ fra ✔ paris") && line.contains(" shop "), "{screen}");
        tmux.wait_for("✖ fra ✖ local ✔ paris", WITHIN);
        tmux.keys(&["q"]);
    }

    // The target stops: down from everywhere is down.
    let mut places = places;
    let _ = places.target.kill();
    places.wait_for("shop down", WITHIN, |b| verdict(b, "shop", Down));
    end(poller);
    assert_agents_gone(&places);
}

/// A vantage that cannot be reached has no word (the lead's decision): its link is journaled
/// as its own state, and the verdict follows the places that can still answer; back, it
/// counts again.
#[test]
fn an_unreachable_vantage_is_its_own_state_and_comes_back() {
    let Some(places) = places() else { return };
    let poller = places.poller();
    use CheckState::{Degraded, Down, Up};
    places.wait_for("shop partial", WITHIN, |b| verdict(b, "shop", Degraded));
    let after = |from: usize, what: &str, within: Duration, want: &dyn Fn(&EventBody) -> bool| -> (usize, Event) {
        let deadline = Instant::now() + within;
        loop {
            let events = places.events();
            if let Some((i, e)) = events.iter().enumerate().skip(from).find(|(_, e)| want(&e.body)) {
                return (i, e.clone());
            }
            assert!(Instant::now() < deadline, "no {what} within {within:?}; journal:\n{}", summaries(&events));
            std::thread::sleep(Duration::from_millis(50));
        }
    };

    // Its sshd connection killed: unreachable at once. Only fra has a word, and shop is down
    // from there: down from every place that can answer is down under "all".
    let cut = Instant::now();
    places.paris.kill_connections();
    let (at, _) = places.wait_for("paris unreachable", WITHIN, |b| link(b, "paris", false));
    // Seconds, not TCP's minutes: 3x margin over the link's 5 s of silence.
    assert!(cut.elapsed() < Duration::from_secs(15), "noticed after {:?}", cut.elapsed());
    let (_, down) = after(at, "shop down from fra alone", WITHIN, &|b| verdict(b, "shop", Down));
    assert!(down.summary().contains("down from fra; no word from paris (unreachable)"), "{}", down.summary());
    let (back, _) = after(at, "paris back", WITHIN, &|b| link(b, "paris", true));
    after(back, "shop partial again", WITHIN, &|b| verdict(b, "shop", Degraded));

    // Every packet dropped in fra's namespace: no FIN, only silence. Only paris has a word.
    let cut = Instant::now();
    places.fra_ns.drop_packets();
    let (at, _) = places.wait_for("fra unreachable", WITHIN, |b| link(b, "fra", false));
    assert!(cut.elapsed() < Duration::from_secs(20), "noticed after {:?}", cut.elapsed());
    let (_, up) = after(at, "shop up from paris alone", WITHIN, &|b| verdict(b, "shop", Up));
    assert!(up.summary().contains("up from paris; no word from fra (unreachable)"), "{}", up.summary());
    places.fra_ns.pass_packets();
    let (back, _) = after(at, "fra back", Duration::from_secs(90), &|b| link(b, "fra", true));
    after(back, "shop partial again", WITHIN, &|b| verdict(b, "shop", Degraded));
    let unreachable = places.events().iter().filter(|e| link(&e.body, "fra", false)).count();
    assert_eq!(unreachable, 1, "journaled once per change, not per attempt:\n{}", summaries(&places.events()));
    end(poller);
    assert_agents_gone(&places);
}

/// fra's packets dropped before the war room starts: its first connection fails, and it is
/// journaled unreachable like any other (within the vantage's connect timeout, with ssh's
/// words first), its checks judged from the others meanwhile; once packets pass, it is back.
#[test]
fn a_vantage_unreachable_from_the_start_is_journaled_and_judged_without() {
    let Some(places) = places() else { return };
    places.fra_ns.drop_packets();
    let started = Instant::now();
    let poller = places.poller();
    use CheckState::{Degraded, Up};
    let (_, unreachable) = places.wait_for("fra unreachable", WITHIN, |b| link(b, "fra", false));
    // A 10 s connect timeout, with 3x margin.
    assert!(started.elapsed() < Duration::from_secs(30), "noticed after {:?}", started.elapsed());
    let EventBody::VantageUnreachable { detail, .. } = &unreachable.body else { unreachable!() };
    assert!(!detail.starts_with("connecting to"), "ssh's words before our step: {detail}");
    let (_, up) = places.wait_for("shop up from paris alone", WITHIN, |b| verdict(b, "shop", Up));
    assert!(up.summary().contains("up from paris; no word from fra (unreachable)"), "{}", up.summary());
    places.fra_ns.pass_packets();
    places.wait_for("fra reachable", Duration::from_secs(90), |b| link(b, "fra", true));
    places.wait_for("shop partial", WITHIN, |b| verdict(b, "shop", Degraded));
    end(poller);
    assert_agents_gone(&places);
}

/// An Alertmanager reachable only from paris (inside its namespace): the source runs from the
/// vantage, and each alert it reports is a row judged from there, journaled as paris's change
/// and as the row's verdict.
#[test]
fn a_source_reachable_only_from_a_vantage_runs_there() {
    let Some(alertmanager) = support::need("prometheus-alertmanager", "prometheus-alertmanager") else { return };
    let Some(python) = support::need("python3", "python3") else { return };
    let Some(places) = places() else { return };
    let dir = places.dir.path();
    std::fs::write(dir.join("am.yml"), "route:\n  receiver: nobody\nreceivers:\n  - name: nobody\n").unwrap();
    let am_log = std::fs::File::create(dir.join("am.log")).unwrap();
    let mut am = places
        .paris_ns
        .command(&alertmanager)
        .arg(format!("--config.file={}", dir.join("am.yml").display()))
        .arg(format!("--storage.path={}", dir.join("am-data").display()))
        .args(["--web.listen-address=127.0.0.1:9093", "--cluster.listen-address="])
        .stdout(Stdio::null())
        .stderr(am_log)
        .spawn()
        .unwrap();
    // Ready, then one critical alert, from inside paris: nothing outside it reaches 9093.
    let post = r#"
import json, time, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen("http://127.0.0.1:9093/-/ready", timeout=1); break
    except Exception:
        time.sleep(0.1)
alert = [{"labels": {"alertname": "HostDown", "instance": "db1", "severity": "critical"},
          "annotations": {"summary": "db1 is down"}}]
request = urllib.request.Request("http://127.0.0.1:9093/api/v2/alerts", json.dumps(alert).encode(),
                                 {"Content-Type": "application/json"})
urllib.request.urlopen(request, timeout=5)
"#;
    let posted = places.paris_ns.command(&python).args(["-c", post]).status().unwrap();
    assert!(
        posted.success(),
        "posting the alert inside paris: {}",
        std::fs::read_to_string(dir.join("am.log")).unwrap()
    );
    let config = dir.join("sources.toml");
    std::fs::write(
        &config,
        format!(
            "journal = \"{}\"\n[[vantage]]\nname = \"paris\"\nssh = \"paris\"\ncommand = \"{BIN}\"\n\n\
             [[check]]\nname = \"alerts\"\nkind = \"alertmanager\"\nurl = \"http://127.0.0.1:9093\"\n\
             labels = [\"alertname\", \"instance\"]\nfrom = [\"paris\"]\ninterval = \"1s\"\n",
            places.journal().display()
        ),
    )
    .unwrap();
    let (key, value) = places.client.env();
    let poller = Command::new(BIN)
        .arg("-c")
        .arg(&config)
        .args(["--headless", "--as", "poller"])
        .env(key, value)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    use CheckState::{Down, Up};
    let row = "alerts / HostDown db1";
    places.wait_for("the source up from paris", WITHIN, |b| seen_from(b, "alerts", "paris", Up));
    places.wait_for("the alert down from paris", WITHIN, |b| seen_from(b, row, "paris", Down));
    let (_, down) = places.wait_for("the alert's verdict", WITHIN, |b| verdict(b, row, Down));
    assert!(down.summary().contains("down from paris"), "{}", down.summary());
    end(poller);
    let _ = am.kill();
    let _ = am.wait();
    assert_agents_gone(&places);
}
