//! The screen: one event loop over keys, probe results, journal writes and the clock.
//!
//! Everything queued is drained, then the screen is drawn once — and only if something
//! changed. At idle the clock is the only change, once a second, and ratatui sends only the
//! cells that differ: a few bytes per second over SSH.

pub mod app;
pub mod draw;
mod input;
pub mod keys;
pub mod terminal;
pub mod theme;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event as TermEvent, KeyEventKind};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

pub use app::{App, CheckRow, Clock, Effect, Overlay, Pane};
use input::Input;
pub use keys::KeyMap;
pub use theme::Theme;

use crate::checklist::{self, Checklist};
use crate::config::Config;
use crate::incident::Incident;
use crate::journal::{Event, EventBody, Journal, Scan, Writer};
use crate::monitor::{self, MonitorControl, MonitorEvent};
use crate::probe::Prober;
use crate::recorder;

/// How the screen runs.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Never write to the journal (wall screens, screen-sharing).
    pub read_only: bool,
    /// Shown above everything.
    pub banner: Option<String>,
    /// Probe the configured checks from this process.
    pub monitor: bool,
    /// Play this scenario instead of probing anything.
    pub drill: Option<DrillRun>,
    /// Play these journal events back instead of following the journal.
    pub replay: Option<ReplayRun>,
}

#[derive(Debug, Clone)]
pub struct ReplayRun {
    pub events: Vec<Event>,
    pub speed: f64,
}

/// A drill being played: the scenario and its clock (scenario time, possibly sped up).
#[derive(Debug, Clone)]
pub struct DrillRun {
    pub scenario: crate::drill::Scenario,
    pub clock: crate::drill::ScaledClock,
}

/// Where a drill's scorecard is saved: beside its journal.
pub fn scorecard_paths(journal: &Path) -> (PathBuf, PathBuf) {
    (journal.with_extension("scorecard.json"), journal.with_extension("scorecard.txt"))
}

/// Everything the screen needs that can fail, checked before the terminal is touched.
pub struct Setup {
    pub theme: Theme,
    pub keys: KeyMap,
    pub checklist: Option<Checklist>,
}

impl Setup {
    pub fn from_config(
        config: &Config,
        theme_override: Option<&str>,
        checklist_override: Option<&str>,
    ) -> anyhow::Result<Setup> {
        let theme =
            Theme::load(theme_override.or(config.theme.as_deref()).unwrap_or("dark")).map_err(anyhow::Error::msg)?;
        let keys = KeyMap::from_config(config).map_err(anyhow::Error::msg)?;
        let checklist = checklist::load(checklist_override.or(config.checklist.as_deref()).unwrap_or("default"))?;
        Ok(Setup { theme, keys, checklist: Some(checklist) })
    }
}

/// The rows for configured checks, before any result.
pub fn check_rows(config: &Config) -> Vec<CheckRow> {
    config
        .checks
        .iter()
        .map(|c| CheckRow {
            name: c.name.clone(),
            kind: c.probe.kind().to_string(),
            target: c.probe.target(),
            view: None,
            history: Default::default(),
        })
        .collect()
}

/// Where this operator's note draft is kept: beside the journal, one per author.
pub fn draft_path(journal: &Path, author: &str) -> PathBuf {
    let who: String =
        author.chars().map(|c| if c.is_ascii_alphanumeric() || "@.-_".contains(c) { c } else { '_' }).collect();
    let mut name = journal.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".draft-{who}"));
    journal.with_file_name(name)
}

fn save_draft(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if text.is_empty() {
        return match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    // Write aside and rename, so a crash never leaves half a draft.
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_data()?;
    std::fs::rename(&tmp, path)
}

pub fn run(
    journal: Journal,
    scan: Scan,
    config: &Config,
    setup: Setup,
    author: &str,
    options: Options,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(event_loop(Arc::new(journal), scan, config, setup, author, options))
}

struct Live {
    time: crate::drill::ScaledClock,
    /// Who signs check changes: the operator, or "drill" for injected faults.
    change_author: String,
    channels: Arc<std::collections::BTreeMap<String, crate::comms::Channel>>,
    journal: Arc<Journal>,
    writer: Writer,
    author: String,
    draft: PathBuf,
    monitor: Option<MonitorControl>,
}

impl Live {
    fn append(&self, bodies: Vec<EventBody>) {
        let now = self.time.now();
        let events = bodies.into_iter().map(|b| Event::at(now, &self.author, b)).collect();
        // The result arrives on the `written` channel: shown once on disk, or as an error.
        drop(self.writer.submit(events));
    }
}

async fn event_loop(
    journal: Arc<Journal>,
    mut scan: Scan,
    config: &Config,
    setup: Setup,
    author: &str,
    options: Options,
) -> anyhow::Result<()> {
    let incident = Incident::from_events(std::mem::take(&mut scan.events));
    let mut replayer = options
        .replay
        .as_ref()
        .map(|r| crate::replay::Replayer::new(r.events.clone(), r.speed, std::time::Instant::now()));
    let (written_tx, mut written) = mpsc::unbounded_channel();
    let writer = Writer::spawn(journal.clone(), written_tx);
    let time = options.drill.as_ref().map_or_else(crate::drill::ScaledClock::real, |d| d.clock);
    let mut injected = mpsc::unbounded_channel().1;
    let mut drill_done = None;
    // Only one process per journal probes: the others follow (and take over if it dies).
    let mut poller_lock = None;
    let mut follower = false;
    let (monitor, mut results) = if let Some(d) = options.drill.as_ref().filter(|_| !options.read_only) {
        let (rx, messages, done) = crate::drill::spawn(d.scenario.clone(), d.clock);
        injected = messages;
        drill_done = Some(done);
        (None, rx)
    } else if options.monitor && !options.read_only {
        match monitor::election::try_acquire(journal.path())? {
            Some(lock) => {
                poller_lock = Some(lock);
                let (control, rx) = start_monitor(config, &incident);
                (Some(control), rx)
            }
            None => {
                follower = true;
                (None, mpsc::unbounded_channel().1)
            }
        }
    } else {
        (None, mpsc::unbounded_channel().1)
    };
    let rows = match &options.drill {
        Some(d) => d
            .scenario
            .checks
            .iter()
            .map(|c| CheckRow {
                name: c.name.clone(),
                kind: c.kind.clone(),
                target: c.target.clone(),
                view: None,
                history: Default::default(),
            })
            .collect(),
        None => check_rows(config),
    };
    let mut names: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
    let mut live = Live {
        time,
        change_author: if options.drill.is_some() {
            crate::drill::DRILL_AUTHOR.to_string()
        } else {
            author.to_string()
        },
        channels: Arc::new(config.channels.clone()),
        journal: journal.clone(),
        writer,
        author: author.to_string(),
        draft: draft_path(journal.path(), author),
        monitor,
    };

    let mut app = App::new(incident, rows, setup.checklist, setup.theme, setup.keys, clock_at(&time));
    app.read_only = options.read_only;
    app.banner = options.banner;
    app.update_every = config.update_every;
    if options.read_only && replayer.is_none() {
        app.banner.get_or_insert_with(|| "READ-ONLY VIEWER — nothing is written".into());
    }
    let mut replay_tick = tokio::time::interval(Duration::from_millis(100));
    replay_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    if let Ok(text) = std::fs::read_to_string(&live.draft) {
        app.set_draft(&text);
        app.flash = Some("your unsaved note draft was restored".into());
    }
    app.on_events(Vec::new());
    if !options.read_only {
        live.append(vec![EventBody::OperatorJoined {}]);
    }

    if follower {
        app.flash = Some("another warroom probes the checks for this journal; this one follows it".into());
    }
    let mut term = terminal::enter()?;
    let mut keys = input::spawn()?;
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // Other operators' entries: a cheap size check four times a second, a read only on growth.
    let mut follow_tick = tokio::time::interval(Duration::from_millis(250));
    follow_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut known_size = journal.size().unwrap_or(0);
    let mut samples_seen = None;
    let mut last_publish = std::time::Instant::now();
    let mut unpublished = false;
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    // Input comes from its own thread, which does not see resizes: redraw on SIGWINCH here.
    let mut resized = signal(SignalKind::window_change())?;
    let mut dirty = true;
    let mut drill_ended = false;
    let outcome: anyhow::Result<()> = loop {
        if dirty {
            if let Err(e) = terminal::draw(&mut term, |f| draw::draw(f, &mut app)) {
                break Err(e.into());
            }
            dirty = false;
            // Test builds only: prove the terminal is restored after a panic.
            #[cfg(debug_assertions)]
            if std::env::var_os("WARROOM_TEST_PANIC").is_some() {
                panic!("forced panic (WARROOM_TEST_PANIC)");
            }
        }
        let mut effects = Vec::new();
        // Probe results that change only figures (latency, sparkline) wait for the next clock
        // frame, once a second; anything that changes meaning (a state, an event, a key)
        // draws at once.
        let mut urgent = true;
        tokio::select! {
            input = keys.recv() => match input {
                Some(Input::Event(TermEvent::Key(k))) if k.kind != KeyEventKind::Release => {
                    let handled = replayer.as_mut().is_some_and(|r| replay_key(r, &mut app, k));
                    if !handled {
                        effects.extend(app.on_key(k));
                    }
                }
                Some(Input::Event(TermEvent::Mouse(m))) => effects.extend(app.on_mouse(m)),
                Some(Input::Event(TermEvent::Paste(text))) if app.editing => {
                    app.notes.insert_str(&text);
                    effects.push(Effect::SaveDraft(app.draft()));
                }
                Some(Input::Event(TermEvent::Resize(..))) => {}
                Some(Input::Event(_)) => continue,
                // Nobody is left to see the screen: leave as on SIGHUP.
                Some(Input::HungUp) | None => break Ok(()),
                Some(Input::Failed(why)) => break Err(anyhow::anyhow!(why)),
            },
            _ = resized.recv() => {}
            Some(event) = results.recv() => {
                urgent = !matches!(event, MonitorEvent::Sample { .. });
                unpublished = true;
                on_monitor(&mut app, &live, &mut names, event);
            }
            _ = replay_tick.tick(), if replayer.is_some() => {
                let r = replayer.as_mut().expect("guarded");
                let now = std::time::Instant::now();
                let due = r.due(now);
                urgent = !due.is_empty() || !r.paused;
                app.on_events(due);
                app.clock = Clock { now: r.clock(now), offset: *chrono::Local::now().offset() };
                let (at, of) = r.position();
                let state = if r.paused { "⏸ paused" } else if r.finished() { "■ end" } else { "▶ playing" };
                app.banner = Some(format!(
                    "REPLAY ×{} {state} · {at}/{of} events · {} UTC · Space pause · n next · . step · +/- speed",
                    r.speed,
                    r.clock(now).format("%H:%M:%S")
                ));
            }
            _ = follow_tick.tick(), if replayer.is_none() => {
                urgent = false;
                let size = live.journal.size().unwrap_or(known_size);
                if size != known_size {
                    known_size = size;
                    urgent = true;
                    if let Err(e) = follow(&mut app, &live.journal, &mut scan) {
                        app.write_error = Some(e.to_string());
                    }
                }
                if follower {
                    // The poller's live figures; states come through the journal.
                    if let Some(snapshot) = monitor::share::read_if_newer(live.journal.path(), &mut samples_seen) {
                        apply_snapshot(&mut app, &snapshot);
                    }
                    // Take over if the poller is gone, starting from what the journal recorded.
                    if let Ok(Some(lock)) = monitor::election::try_acquire(live.journal.path()) {
                        let _ = follow(&mut app, &live.journal, &mut scan);
                        let (control, rx) = start_monitor(config, &app.incident);
                        live.monitor = Some(control);
                        results = rx;
                        poller_lock = Some(lock);
                        follower = false;
                        app.flash = Some("the previous poller is gone: this warroom now probes the checks".into());
                        urgent = true;
                    }
                } else if poller_lock.is_some() && unpublished && last_publish.elapsed() >= Duration::from_secs(2) {
                    let _ = monitor::share::write(live.journal.path(), &snapshot_of(&app, live.time.now()));
                    last_publish = std::time::Instant::now();
                    unpublished = false;
                }
            }
            Some(result) = written.recv() => on_written(&mut app, &live, &mut scan, result),
            Some((who, body)) = injected.recv() => {
                drop(live.writer.submit(vec![Event::at(live.time.now(), &who, body)]));
            }
            _ = clock.tick(), if replayer.is_none() => {
                app.clock = clock_at(&live.time);
                // Other operators' entries arrive through the journal file.
                if let Err(e) = follow(&mut app, &live.journal, &mut scan) {
                    app.write_error = Some(e.to_string());
                }
            }
            _ = sigterm.recv() => break Ok(()),
            _ = sighup.recv() => break Ok(()),
        }
        // Drain whatever else is queued, then draw once.
        while let Ok(event) = results.try_recv() {
            urgent |= !matches!(event, MonitorEvent::Sample { .. });
            on_monitor(&mut app, &live, &mut names, event);
        }
        while let Ok(result) = written.try_recv() {
            on_written(&mut app, &live, &mut scan, result);
        }
        dirty |= urgent;
        let mut quit = false;
        for effect in effects {
            quit |= carry_out(&mut app, &live, effect, &mut term);
        }
        // A drill ends when every fault has recovered and the incident is resolved (or on q).
        if let (Some(d), Some(done)) = (&options.drill, &drill_done)
            && !drill_ended
            && (quit || (*done.borrow() && app.incident.status == crate::journal::Status::Resolved))
        {
            drill_ended = true;
            let text = end_drill(&mut app, &live, d).await;
            if !quit {
                app.overlay = Some(Overlay::Scorecard(text));
                dirty = true;
            }
        }
        if quit {
            break Ok(());
        }
    };
    drop(poller_lock);
    // Flush before restoring: the draft is on disk already; the journal gets the departure.
    let _ = save_draft(&live.draft, &app.draft());
    if !options.read_only {
        let _ = tokio::time::timeout(
            Duration::from_secs(3),
            live.writer.write(vec![Event::new(author, EventBody::OperatorLeft {})]),
        )
        .await;
    }
    drop(term);
    terminal::leave();
    outcome
}

fn on_monitor(app: &mut App, live: &Live, names: &mut Vec<String>, event: MonitorEvent) {
    match event {
        MonitorEvent::Row { name, .. } => {
            app.add_row(CheckRow {
                name: name.clone(),
                kind: "row".into(),
                target: String::new(),
                view: None,
                history: Default::default(),
            });
            names.push(name);
        }
        MonitorEvent::Sample { check, at, outcome } => app.on_sample(&names[check], at, outcome),
        MonitorEvent::View { check, view } => app.on_view(&names[check], view),
        // Confirmed changes are written first and shown once on disk.
        MonitorEvent::Changed(change) => {
            drop(live.writer.submit(vec![recorder::change_event(&change, &live.change_author, live.time.now())]))
        }
    }
}

/// Replay's own keys; everything else goes to the screen (which is read-only).
fn replay_key(r: &mut crate::replay::Replayer, app: &mut App, k: crossterm::event::KeyEvent) -> bool {
    use crossterm::event::KeyCode;
    if app.overlay.is_some() {
        return false;
    }
    let now = std::time::Instant::now();
    match k.code {
        KeyCode::Char(' ') => r.toggle_pause(now),
        KeyCode::Char('n') => r.jump_to_next(now),
        KeyCode::Char('.') => {
            if let Some(e) = r.step(now) {
                app.on_events(vec![e]);
            }
        }
        KeyCode::Char('+') | KeyCode::Char('=') => r.faster(now),
        KeyCode::Char('-') => r.slower(now),
        _ => return false,
    }
    true
}

fn start_monitor(config: &Config, incident: &Incident) -> (MonitorControl, mpsc::UnboundedReceiver<MonitorEvent>) {
    let opts = monitor::Options { max_concurrent: config.max_concurrent_probes, canary: config.canary.clone() };
    monitor::spawn(config.checks.clone(), &recorder::recorded_states(incident), opts, Prober::new())
}

/// What this poller tells followers: each row's view and recent results.
fn snapshot_of(app: &App, now: chrono::DateTime<chrono::Utc>) -> monitor::share::Snapshot {
    use monitor::share::{SHARED_SAMPLES, SharedCheck};
    let checks = app
        .checks
        .iter()
        .filter_map(|row| {
            let view = row.view.as_ref()?;
            let skip = row.history.len().saturating_sub(SHARED_SAMPLES);
            Some(SharedCheck::new(&row.name, view, row.history.iter().skip(skip).map(|s| (s.at, &*s.outcome))))
        })
        .collect();
    monitor::share::Snapshot { written: now, checks }
}

fn apply_snapshot(app: &mut App, snapshot: &monitor::share::Snapshot) {
    for shared in &snapshot.checks {
        let Some(row) = app.checks.iter_mut().find(|r| r.name == shared.name) else { continue };
        row.view = Some(monitor::share::view_of(shared));
        row.history = shared
            .samples
            .iter()
            .map(|s| app::Sample { at: s.at, outcome: Arc::new(monitor::share::outcome(s)) })
            .collect();
    }
}

fn clock_at(time: &crate::drill::ScaledClock) -> Clock {
    Clock { now: time.now(), offset: *chrono::Local::now().offset() }
}

/// Records the end of a drill, scores it (against the previous run of the same scenario in
/// the same folder) and saves the scorecard beside the journal. Returns it as text.
async fn end_drill(app: &mut App, live: &Live, drill: &DrillRun) -> String {
    let now = live.time.now();
    let ended = Event::at(now, &live.author, EventBody::DrillEnded { scenario: drill.scenario.name.clone() });
    if let Err(e) = live.writer.write(vec![ended.clone()]).await {
        app.write_error = Some(e);
    }
    let mut incident = app.incident.clone();
    if !incident.timeline.iter().any(|t| t.id == ended.id) {
        incident.apply(ended);
    }
    let mut card = crate::drill::score(&drill.scenario, &incident, app.checklist.as_ref(), now);
    let path = live.journal.path();
    if let Some((prev_path, prev)) =
        path.parent().and_then(|dir| crate::drill::previous_run(dir, &drill.scenario.name, card.started, path))
    {
        let prev_end = prev.drill.as_ref().and_then(|d| d.ended).or(prev.timeline.last().map(|t| t.ts)).unwrap_or(now);
        card.previous = Some(Box::new(crate::drill::score(&drill.scenario, &prev, app.checklist.as_ref(), prev_end)));
        card.previous_journal = Some(prev_path);
    }
    let text = crate::drill::compare(&card);
    let (json_path, text_path) = scorecard_paths(path);
    let saved = serde_json::to_vec_pretty(&card)
        .map_err(std::io::Error::other)
        .and_then(|json| std::fs::write(&json_path, json))
        .and_then(|_| std::fs::write(&text_path, format!("{text}\n")));
    match saved {
        Ok(()) => format!("{text}\n\nSaved: {}", text_path.display()),
        Err(e) => format!("{text}\n\nCould not save the scorecard: {e}"),
    }
}

fn on_written(app: &mut App, live: &Live, scan: &mut Scan, result: Result<(), String>) {
    match result {
        Ok(()) => app.write_error = None,
        Err(e) => app.write_error = Some(e),
    }
    if let Err(e) = follow(app, &live.journal, scan) {
        app.write_error = Some(e.to_string());
    }
}

fn follow(app: &mut App, journal: &Journal, scan: &mut Scan) -> Result<(), crate::journal::JournalError> {
    let mut next = journal.read_from(std::mem::take(scan))?;
    let events = std::mem::take(&mut next.events);
    *scan = next;
    if !events.is_empty() {
        app.on_events(events);
    }
    Ok(())
}

/// Does what the screen asked. Returns true to quit.
fn carry_out(app: &mut App, live: &Live, effect: Effect, term: &mut terminal::Term) -> bool {
    let index = |name: &str| live.monitor.as_ref().and_then(|m| m.index(name).map(|i| (m, i)));
    match effect {
        Effect::Quit => return true,
        Effect::Append(bodies) => live.append(bodies),
        Effect::RunNow(name) => match index(&name) {
            Some((m, i)) => m.run_now(i),
            None => app.flash = Some("another warroom probes this journal's checks: ask its operator".into()),
        },
        Effect::SetPaused(name, paused) => match index(&name) {
            Some((m, i)) if paused => m.pause(i),
            Some((m, i)) => m.resume(i),
            None => app.flash = Some("another warroom probes this journal's checks: ask its operator".into()),
        },
        Effect::SaveDraft(text) => {
            if let Err(e) = save_draft(&live.draft, &text) {
                app.flash = Some(format!("could not keep the draft on disk: {e}"));
            }
        }
        Effect::Copy(text) => {
            let out = term.backend_mut();
            let _ = out.write_all(&terminal::osc52(&text)).and_then(|_| out.flush());
        }
        Effect::Send { item, channel, audience, text } => {
            // Sent off the screen's loop; the outcome (and, on success, the item ticked) is
            // journaled and shows up like any other entry.
            let channels = live.channels.clone();
            let writer = live.writer.clone();
            let author = live.author.clone();
            let title = app.incident.title.clone().unwrap_or_default();
            let drill = app.incident.is_drill();
            tokio::spawn(async move {
                let bodies =
                    crate::comms::deliver(&channels, &channel, audience, Some(&item), &text, &title, drill).await;
                let events = bodies.into_iter().map(|b| Event::new(&author, b)).collect();
                let _ = writer.write(events).await;
            });
        }
    }
    false
}
