//! `warroom --headless`: the monitor and the journal without a screen. Several may run on one
//! journal; one probes, the others wait to take over. Each says what it is doing on stdout,
//! one line at a time (`role: poller`, `role: follower`, `changed: …`).

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::signal::unix::{SignalKind, signal};

use crate::cli::GlobalArgs;
use crate::incident::Incident;
use crate::journal::{Event, EventBody, Writer};
use crate::monitor::{self, MonitorEvent};
use crate::probe::Prober;
use crate::recorder;

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

pub fn run(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let config = super::load_config(global)?;
    let author = super::author(global);
    let (journal, mut scan) = super::open_or_start_incident(global, &config, &author)?;
    for warning in scan.warnings(journal.path()) {
        eprintln!("warroom: {warning}");
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let journal = Arc::new(journal);
        let (written_tx, mut written) = tokio::sync::mpsc::unbounded_channel();
        let writer = Writer::spawn(journal.clone(), written_tx);
        writer.write(vec![Event::new(&author, EventBody::OperatorJoined {})]).await.map_err(anyhow::Error::msg)?;
        say(&format!("joined {}", journal.path().display()));
        let mut sigterm = signal(SignalKind::terminate())?;
        let mut sigint = signal(SignalKind::interrupt())?;
        let mut retry = tokio::time::interval(Duration::from_millis(500));
        let mut lock = None;
        let mut results = tokio::sync::mpsc::unbounded_channel().1;
        let mut _control = None;
        let n = config.checks.len();
        let mut shared = Shared {
            names: config.checks.iter().map(|c| c.name.clone()).collect(),
            views: vec![Default::default(); n],
            history: vec![Default::default(); n],
            dirty: false,
        };
        let mut last_publish = Instant::now();
        say("role: follower");
        loop {
            tokio::select! {
                _ = retry.tick(), if lock.is_none() => {
                    if let Some(l) = monitor::election::try_acquire(journal.path())? {
                        // Start from what the journal says now, so nothing is recorded twice.
                        scan = journal.read_from(scan)?;
                        let incident = Incident::from_events(scan.events.clone());
                        let opts = monitor::Options { max_concurrent: config.max_concurrent_probes, canary: config.canary.clone() };
                        let (control, rx) = monitor::spawn(config.checks.clone(), &recorder::recorded_states(&incident), opts, Prober::new());
                        _control = Some(control);
                        results = rx;
                        lock = Some(l);
                        say("role: poller");
                    }
                }
                Some(event) = results.recv() => match event {
                    MonitorEvent::Changed(change) => {
                        let e = recorder::change_event(&change, &author, chrono::Utc::now());
                        match writer.write(vec![e]).await {
                            Ok(()) => say(&format!("changed: {} {} -> {}: {}", change.check, change.from.as_str(), change.to.as_str(), change.detail)),
                            Err(err) => eprintln!("warroom: journal write failed: {err}"),
                        }
                    }
                    MonitorEvent::Sample { check, at, outcome } => {
                        let h = &mut shared.history[check];
                        if h.len() == monitor::share::SHARED_SAMPLES {
                            h.pop_front();
                        }
                        h.push_back((at, outcome));
                        shared.dirty = true;
                        if last_publish.elapsed() >= Duration::from_secs(2) {
                            shared.publish(&journal);
                            last_publish = Instant::now();
                        }
                    }
                    MonitorEvent::View { check, view } => {
                        shared.views[check] = view;
                        shared.dirty = true;
                    }
                    MonitorEvent::Row { name, .. } => {
                        say(&format!("row: {name}"));
                        shared.names.push(name);
                        shared.views.push(Default::default());
                        shared.history.push(Default::default());
                    }
                },
                Some(result) = written.recv() => {
                    if let Err(e) = result {
                        eprintln!("warroom: journal write failed: {e}");
                    }
                }
                _ = sigterm.recv() => break,
                _ = sigint.recv() => break,
            }
        }
        let _ = writer.write(vec![Event::new(&author, EventBody::OperatorLeft {})]).await;
        say("left");
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// What followers see of this poller: each check's view and recent results.
struct Shared {
    names: Vec<String>,
    views: Vec<monitor::View>,
    history: Vec<std::collections::VecDeque<(chrono::DateTime<chrono::Utc>, Arc<crate::probe::Outcome>)>>,
    dirty: bool,
}

impl Shared {
    fn publish(&mut self, journal: &crate::journal::Journal) {
        use monitor::share::{SharedCheck, Snapshot};
        if !self.dirty {
            return;
        }
        let checks = self
            .names
            .iter()
            .zip(self.views.iter().zip(&self.history))
            .map(|(name, (view, history))| SharedCheck::new(name, view, history.iter().map(|(at, o)| (*at, &**o))))
            .collect();
        let _ = monitor::share::write(journal.path(), &Snapshot { written: chrono::Utc::now(), checks });
        self.dirty = false;
    }
}
