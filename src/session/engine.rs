//! The session's task: one loop that gathers what happened into [`Message`]s, drains
//! whatever else is queued, and handles each in turn.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use tokio::sync::{mpsc, watch};

use super::drill::{DrillRun, score_and_save};
use super::election::{self, PollerLock};
use super::facts::Facts;
use super::figures::{self, Figures};
use super::presence::Heart;
use super::protocol::{Command, Reading, ReplayControl, ReplayPosition, Role, RowInfo, Update};
use super::{Opening, Purpose, Settings};
use crate::drill::ScaledClock;
use crate::journal::{Ack, Event, EventBody, Journal, Moved, PathState, Retry, Scan, Warned, Writer};
use crate::monitor::{MonitorControl, MonitorEvent, RowId};
use crate::probe::Prober;
use crate::recorder;
use crate::replay::Replayer;

/// How often the journal's size is looked at, the poller's figures read, and a poller that
/// stopped replaced: a takeover happens within this period of the lock's release.
const WATCH_EVERY: Duration = Duration::from_millis(250);
/// Followers' figures are at most this old (plus the watch period).
const PUBLISH_EVERY: Duration = Duration::from_secs(2);
const REPLAY_TICK: Duration = Duration::from_millis(100);
/// Leaving waits this long at most for the departure to reach the disk.
const LEAVE_WITHIN: Duration = Duration::from_secs(3);

/// Everything the session's task reacts to.
enum Message {
    Command(Command),
    Monitor(MonitorEvent),
    /// The monitor's results ended: the monitor (or a drill's script) is gone.
    ResultsEnded,
    /// What the writer did: entries on disk, a failed attempt, a journal file taken up again.
    Written(Ack),
    /// A drill's scripted message (`who`, what).
    Scripted(String, EventBody),
    /// Time to look at the journal, the figures and the election.
    Watch,
    /// A second of the session's clock passed.
    Second,
    ReplayTick,
}

/// A drill in play.
struct Play {
    run: DrillRun,
    /// Turns true once every step has run and every check recovered.
    done: watch::Receiver<bool>,
    ended: bool,
}

pub struct Engine {
    journal: Arc<Journal>,
    /// How far the journal has been read.
    scan: Scan,
    /// The skipped lines already warned about (those at opening by the front-end).
    warned: Warned,
    /// Lines from a newer warroom the front-end was last told of.
    newer_told: usize,
    writer: Writer,
    author: String,
    /// Who signs check changes: the operator, or "drill" for a drill's injected faults.
    change_author: String,
    time: ScaledClock,
    role: Role,
    /// May become the poller: not a second operator in a drill, whose player plays the checks.
    may_poll: bool,
    /// Said once the front-end has [`Update::Opened`], which always comes first.
    early_notices: Vec<String>,
    settings: Settings,
    lock: Option<PollerLock>,
    monitor: Option<MonitorControl>,
    /// Rows of the monitor (or the drill), by the monitor's index: each row and its place
    /// in the figures.
    rows: Vec<(RowId, usize)>,
    figures: Figures,
    figures_seen: figures::Watch,
    /// When the figures were last published (`None`: not yet, so the first goes out at once).
    published: Option<Instant>,
    /// This session's heartbeat and everybody else's: who is here, whether anybody probes.
    heart: Heart,
    known_size: u64,
    /// What was last seen at the journal's path (a deleted or replaced journal is shown once).
    path_seen: String,
    facts: Facts,
    play: Option<Play>,
    replay: Option<Replayer>,
    results: mpsc::UnboundedReceiver<MonitorEvent>,
    /// `results` has ended; not polled again until a new monitor replaces it.
    results_ended: bool,
    scripted: mpsc::UnboundedReceiver<(String, EventBody)>,
    written: mpsc::UnboundedReceiver<Ack>,
    updates: mpsc::UnboundedSender<Update>,
    /// Shipping to the mirrors (if elected) and how they stand.
    station: Option<crate::mirror::Station>,
}

impl Engine {
    pub fn open(opening: Opening, updates: mpsc::UnboundedSender<Update>) -> Engine {
        let Opening { journal, mut scan, settings, purpose, author } = opening;
        let journal = Arc::new(journal);
        let (written_tx, written) = mpsc::unbounded_channel();
        let writer = Writer::spawn(journal.clone(), written_tx, Retry::UntilWritten);
        let entries = std::mem::take(&mut scan.events);
        let mut facts = Facts::default();
        // What opening the journal found (its directory's permissions, why it is only viewed)
        // and what its entries say (a stray drill start), then what taking up the purpose finds.
        let early_notices: Vec<String> =
            journal.notices().iter().cloned().chain(entries.iter().filter_map(|e| facts.learn(e))).collect();
        let known_size = journal.size().unwrap_or(0);
        let heart = Heart::new(journal.path(), &author, journal.sharing().clone());
        let warned = scan.warned();
        let mut engine = Engine {
            journal,
            scan,
            warned,
            newer_told: 0,
            writer,
            change_author: author.clone(),
            author,
            time: ScaledClock::real(),
            role: Role::Viewer,
            may_poll: true,
            early_notices,
            settings,
            lock: None,
            monitor: None,
            rows: Vec::new(),
            figures: Figures::default(),
            figures_seen: figures::Watch::default(),
            published: None,
            heart,
            known_size,
            path_seen: PathState::Same.describe(),
            facts,
            play: None,
            replay: None,
            results: mpsc::unbounded_channel().1,
            results_ended: false,
            scripted: mpsc::unbounded_channel().1,
            written,
            updates,
            station: None,
        };
        let watched = matches!(purpose, Purpose::Monitor | Purpose::View);
        let rows = engine.begin(purpose);
        if watched {
            engine.station = Some(engine.open_station());
        }
        let opened =
            Update::Opened { journal: engine.journal.path().display().to_string(), role: engine.role, rows, entries };
        // Opened is always the first update; what begin had to say follows it.
        engine.tell(opened);
        std::mem::take(&mut engine.early_notices).into_iter().for_each(|n| engine.tell(Update::Notice(n)));
        engine.tell_newer_skipped();
        if engine.role != Role::Viewer {
            engine.append(vec![EventBody::OperatorJoined {}]);
        }
        engine
    }

    /// Takes up the purpose: elects, starts the monitor or the drill. Returns the rows known.
    fn begin(&mut self, purpose: Purpose) -> Vec<RowInfo> {
        match purpose {
            // A journal this user may only read is viewed: nothing is written, no lock taken.
            Purpose::Monitor if !self.journal.writable() => self.configured_rows(),
            Purpose::Monitor => {
                self.role = Role::Follower;
                match election::try_acquire(self.journal.path(), self.journal.sharing()) {
                    Ok(Some(lock)) => self.become_poller(lock),
                    Ok(None) => {}
                    Err(e) => self.early_notices.push(format!("cannot take part in the poller election: {e}")),
                }
                self.configured_rows()
            }
            Purpose::View => self.configured_rows(),
            Purpose::Replay { events, speed } => {
                self.replay = Some(Replayer::new(events, speed, Instant::now()));
                Vec::new()
            }
            Purpose::JoinDrill => self.join_drill(),
            Purpose::Drill(run) => {
                self.role = Role::Poller;
                // Held while the scenario plays: figures are published for the operators who
                // join, and `warroom drill --running` knows the player is still there.
                match election::try_acquire(self.journal.path(), self.journal.sharing()) {
                    Ok(lock) => self.lock = lock,
                    Err(e) => self.early_notices.push(format!("cannot hold the drill's poller lock: {e}")),
                }
                self.time = run.clock;
                self.change_author = crate::drill::DRILL_AUTHOR.to_string();
                let (results, scripted, done) = crate::drill::spawn(run.scenario.clone(), run.clock);
                self.results = results;
                self.scripted = scripted;
                let rows: Vec<RowInfo> = run
                    .scenario
                    .checks
                    .iter()
                    .map(|c| row_info(RowId::check(&c.name), &c.kind, c.target.clone()))
                    .collect();
                self.play = Some(Play { run, done, ended: false });
                self.adopt_rows(&rows);
                rows
            }
        }
    }

    /// A second operator in a drill: the drill's clock from its journal, the scenario's rows
    /// when it is a built-in one (the player's figures bring them otherwise).
    fn join_drill(&mut self) -> Vec<RowInfo> {
        self.may_poll = false;
        let Some((origin, speed)) = self.facts.drill_clock.filter(|_| self.facts.drill) else {
            self.early_notices.push("not a drill's journal: following it as a viewer".into());
            return Vec::new();
        };
        self.role = Role::Follower;
        self.time = ScaledClock::resumed(origin, speed);
        self.change_author = crate::drill::DRILL_AUTHOR.to_string();
        let built_in = self.facts.scenario.as_deref().filter(|n| crate::drill::BUILT_IN.iter().any(|(b, _)| b == n));
        let Some(scenario) = built_in.and_then(|n| crate::drill::load(n).ok()) else { return Vec::new() };
        let rows: Vec<RowInfo> =
            scenario.checks.iter().map(|c| row_info(RowId::check(&c.name), &c.kind, c.target.clone())).collect();
        self.adopt_rows(&rows);
        rows
    }

    fn become_poller(&mut self, lock: PollerLock) {
        let (control, results) = self.spawn_monitor();
        self.rows.clear();
        self.adopt_rows(&self.configured_rows());
        self.monitor = Some(control);
        self.results = results;
        self.results_ended = false;
        self.lock = Some(lock);
        self.role = Role::Poller;
    }

    /// The local monitor, and the vantages when checks run from elsewhere too.
    fn spawn_monitor(&mut self) -> (MonitorControl, mpsc::UnboundedReceiver<MonitorEvent>) {
        let ssh = crate::ssh::Ssh::from_env().unwrap_or_else(|e| {
            self.early_notices.push(format!("vantages: {e}; using plain ssh"));
            crate::ssh::Ssh::new(vec!["ssh".into()], crate::ssh::Timing::default())
        });
        let s = &self.settings;
        crate::vantage::spawn(
            s.checks.clone(),
            &s.vantage,
            &self.facts.recorded,
            &self.facts.places,
            s.monitor.clone(),
            Prober::new(),
            ssh,
        )
    }

    fn configured_rows(&self) -> Vec<RowInfo> {
        self.settings.checks.iter().map(|c| row_info(RowId::check(&c.name), c.probe.kind(), c.probe.target())).collect()
    }

    fn adopt_rows(&mut self, rows: &[RowInfo]) {
        // Exactly: 10,000 rows grown by doubling take room for 16,384.
        self.rows.reserve_exact(rows.len());
        self.figures.reserve(rows.len());
        for row in rows {
            let place = self.figures.add(row.clone());
            self.rows.push((row.id.clone(), place));
        }
    }

    pub async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let mut watch = tokio::time::interval(WATCH_EVERY);
        watch.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut second = tokio::time::interval(Duration::from_secs(1));
        second.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut replay_tick = tokio::time::interval(REPLAY_TICK);
        replay_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let replaying = self.replay.is_some();
        loop {
            let first = tokio::select! {
                command = commands.recv() => Message::Command(command.unwrap_or(Command::Leave)),
                event = self.results.recv(), if !self.results_ended => match event {
                    Some(event) => Message::Monitor(event),
                    None => Message::ResultsEnded,
                },
                Some(result) = self.written.recv() => Message::Written(result),
                Some((who, body)) = self.scripted.recv() => Message::Scripted(who, body),
                _ = watch.tick(), if !replaying => Message::Watch,
                _ = second.tick(), if !replaying => Message::Second,
                _ = replay_tick.tick(), if replaying => Message::ReplayTick,
            };
            let mut batch = vec![first];
            self.drain(&mut commands, &mut batch);
            for message in batch {
                if let Message::Command(Command::Leave) = message {
                    self.leave().await;
                    return;
                }
                self.handle(message).await;
            }
            self.end_drill_when_done().await;
        }
    }

    /// Whatever else is already queued, so it is all handled before the front-end redraws.
    fn drain(&mut self, commands: &mut mpsc::UnboundedReceiver<Command>, batch: &mut Vec<Message>) {
        while let Ok(event) = self.results.try_recv() {
            batch.push(Message::Monitor(event));
        }
        while let Ok(result) = self.written.try_recv() {
            batch.push(Message::Written(result));
        }
        while let Ok(command) = commands.try_recv() {
            batch.push(Message::Command(command));
        }
    }

    async fn handle(&mut self, message: Message) {
        match message {
            Message::Command(command) => self.obey(command),
            Message::Monitor(event) => self.on_monitor(event),
            Message::ResultsEnded => self.results_ended(),
            Message::Written(ack) => self.on_ack(ack),
            Message::Scripted(who, body) => {
                drop(self.writer.submit(vec![Event::at(self.time.now(), &who, body)]));
            }
            Message::Watch => self.watch(),
            Message::Second => self.tell(Update::Clock(self.time.now())),
            Message::ReplayTick => self.replay_tick(),
        }
    }

    fn obey(&mut self, command: Command) {
        match command {
            Command::Append(bodies) => self.append(bodies),
            Command::Send { item, channel, audience, text, next_update, .. } => {
                self.send(item, channel, audience, text, next_update)
            }
            Command::RunNow(row) => match self.monitor_index(&row) {
                Some((monitor, i)) => monitor.run_now(i),
                None => self.not_the_poller(),
            },
            Command::SetPaused { row, paused } => match self.monitor_index(&row) {
                Some((monitor, i)) if paused => monitor.pause(i),
                Some((monitor, i)) => monitor.resume(i),
                None => self.not_the_poller(),
            },
            Command::TakeOver => self.try_take_over(),
            Command::Replay(control) => self.steer_replay(control),
            // Every reading reaches the front-end in full already.
            Command::Inspect(_) => {}
            // Handled by the loop, which ends with it.
            Command::Leave => {}
        }
    }

    fn monitor_index(&self, row: &RowId) -> Option<(&MonitorControl, usize)> {
        let monitor = self.monitor.as_ref()?;
        Some((monitor, monitor.index(&row.name())?))
    }

    fn not_the_poller(&self) {
        self.tell(Update::Notice("another warroom probes this journal's checks: ask its operator".into()));
    }

    /// Appends as this session's author, at the session's time. The entries are
    /// [`Update::Pending`] at once (or [`Update::Refused`]), [`Update::Written`] once on disk,
    /// and come back as entries once read back from the disk.
    fn append(&self, bodies: Vec<EventBody>) {
        if self.role == Role::Viewer {
            self.tell(Update::Notice("read-only viewer: nothing is written".into()));
            return;
        }
        let now = self.time.now();
        self.queue(bodies.into_iter().map(|b| Event::at(now, &self.author, b)).collect());
    }

    fn queue(&self, events: Vec<Event>) {
        match self.writer.queue(events.clone()) {
            Ok(()) => self.tell(Update::Pending(events)),
            Err(e) => self.tell(Update::Refused { events, error: e.to_string() }),
        }
    }

    fn on_ack(&mut self, ack: Ack) {
        match ack {
            Ack::Written(ids) => {
                self.tell(Update::Written { ids, error: None });
                self.read_new_entries();
            }
            Ack::Failing { error, .. } => self.tell(Update::Written { ids: Vec::new(), error: Some(error) }),
            Ack::Moved(moved) => {
                self.tell(Update::Notice(moved.describe(self.journal.path())));
                if let Moved::Adopted { read_from, .. } | Moved::Edited { read_from, .. } = moved {
                    // Another file's history is not this incident's: follow it from here on.
                    self.scan.end_offset = read_from;
                    self.scan.partial_tail = 0;
                    self.known_size = read_from;
                }
                self.path_seen = PathState::Same.describe();
            }
        }
    }

    /// A journal deleted or replaced under this session: said once; a writer takes up the
    /// file at the path (copying the history into a new one if it was deleted).
    fn watch_path(&mut self) {
        let state = self.journal.path_state();
        let seen = state.describe();
        if seen == self.path_seen {
            return;
        }
        self.path_seen = seen;
        if matches!(state, PathState::Same) {
            return;
        }
        let path = self.journal.path().display();
        if self.role == Role::Viewer {
            self.tell(Update::Notice(format!("{path}: {}; still showing what was read", self.path_seen)));
        } else {
            self.tell(Update::Notice(format!("{path}: {}", self.path_seen)));
            self.writer.look();
        }
    }

    /// Delivers off the loop; the outcome (and on success the item ticked) is journaled
    /// and shows up like any other entry.
    fn send(
        &self,
        item: String,
        channel: String,
        audience: crate::journal::Audience,
        text: String,
        next_update: Option<DateTime<Utc>>,
    ) {
        if self.role == Role::Viewer {
            self.tell(Update::Notice("read-only viewer: nothing is sent".into()));
            return;
        }
        let channels = self.settings.channels.clone();
        let writer = self.writer.clone();
        let author = self.author.clone();
        let title = self.facts.title.clone();
        let drill = self.facts.drill;
        // The session's clock, not the wall's: in a drill a send carries drill time like
        // every other entry, or the scorecard measures it against the wrong origin.
        let clock = self.time;
        let updates = self.updates.clone();
        tokio::spawn(async move {
            let outgoing =
                crate::comms::Outgoing { channel: &channel, audience, item: Some(&item), text: &text, next_update };
            let bodies = crate::comms::deliver_outgoing(&channels, &outgoing, &title, drill).await;
            let now = clock.now();
            let events = bodies.into_iter().map(|b| Event::at(now, &author, b)).collect();
            // Unwritten, the outcome would never reach a screen: say so instead.
            if let Err(e) = writer.write(events).await {
                let _ = updates
                    .send(Update::Notice(format!("the outcome of the send on {channel} was not journaled: {e}")));
            }
        });
    }

    fn on_monitor(&mut self, event: MonitorEvent) {
        match event {
            MonitorEvent::Row { id, .. } => {
                // An alert or a series, as the check that reports it says.
                let parent = self.settings.checks.iter().find(|c| c.name == id.check);
                let info = row_info(id, parent.map_or("row", |c| c.probe.row_kind()), String::new());
                self.adopt_rows(std::slice::from_ref(&info));
                self.tell(Update::Row(info));
            }
            MonitorEvent::Sample { check, at, outcome } => {
                let Some((row, place)) = self.rows.get(check).cloned() else { return };
                let reading = Reading::of_shared(at, outcome);
                self.figures.reading(place, &reading);
                self.tell(Update::Reading { row, reading });
            }
            MonitorEvent::View { check, view } => {
                let Some((row, place)) = self.rows.get(check).cloned() else { return };
                self.figures.view(place, view.clone());
                self.tell(Update::View { row, view });
            }
            // Confirmed changes are written first and shown once on disk.
            MonitorEvent::Changed(change) => {
                let event = recorder::change_event(&change, &self.change_author, self.time.now());
                self.queue(vec![event]);
            }
            event @ (MonitorEvent::PlaceChanged { .. } | MonitorEvent::Vantage { .. }) => {
                let events = recorder::vantage_event(event, &self.change_author, self.time.now());
                self.queue(events.into_iter().collect());
            }
            MonitorEvent::Notice(text) => self.tell(Update::Notice(text)),
        }
    }

    /// Other sessions' entries, the poller's figures, the election, who is here.
    fn watch(&mut self) {
        self.watch_path();
        let size = self.journal.size().unwrap_or(self.known_size);
        if size != self.known_size {
            self.known_size = size;
            self.read_new_entries();
        }
        match self.role {
            Role::Follower | Role::Viewer => {
                if let Some(snapshot) = figures::read_if_newer(self.journal.path(), &mut self.figures_seen) {
                    self.tell(Update::Figures(snapshot.figures));
                }
                if self.role == Role::Follower {
                    self.try_take_over();
                }
            }
            Role::Poller => self.publish(),
        }
        let beat = match self.role {
            Role::Viewer => None,
            role => Some(role == Role::Poller),
        };
        for update in self.heart.tick(beat) {
            self.tell(update);
        }
        self.watch_mirrors();
    }

    /// Ships to the mirrors when elected to (a session that writes the journal); every
    /// session shows how they stand.
    fn open_station(&self) -> crate::mirror::Station {
        let mirrors = self.settings.mirrors.clone();
        let config = self.settings.shipped_config.clone();
        let may_ship = self.role != Role::Viewer;
        crate::mirror::Station::new(self.journal.path(), self.journal.sharing(), mirrors, config, may_ship)
    }

    fn watch_mirrors(&mut self) {
        let Some(station) = self.station.as_mut() else { return };
        match station.tick() {
            Ok(Some(lines)) => self.tell(Update::Mirrors(lines)),
            Ok(None) => {}
            Err(e) => self.tell(Update::Notice(format!("cannot ship to the mirrors: {e}"))),
        }
    }

    /// The monitor ended while this session still polls: only a bug does that (a panic in
    /// a probe or the vantage combiner). Holding the poller lock without probing would leave
    /// the team blind with nobody told, so this session says so and steps down; the election
    /// then hands probing to a follower, or back to this session with a fresh monitor.
    fn results_ended(&mut self) {
        self.results_ended = true;
        if self.monitor.take().is_none() || self.role != Role::Poller {
            return;
        }
        self.lock = None;
        self.role = Role::Follower;
        let why = "the monitor stopped unexpectedly (a bug: see the log); stepping down so probing starts again";
        self.tell(Update::Role { role: Role::Follower, why: why.into() });
    }

    fn try_take_over(&mut self) {
        if self.role != Role::Follower || !self.may_poll {
            return;
        }
        if let Ok(Some(lock)) = election::try_acquire(self.journal.path(), self.journal.sharing()) {
            // Start from what the journal recorded last, so nothing is recorded twice.
            self.read_new_entries();
            self.become_poller(lock);
            // The others learn at once that somebody probes again.
            self.heart.hurry();
            let why = "the previous poller is gone: this warroom now probes the checks".to_string();
            self.tell(Update::Role { role: Role::Poller, why });
        }
    }

    /// The figures for the other sessions, at most every [`PUBLISH_EVERY`]: much less often
    /// while no other session beats (see [`figures::publish_every`]), and at that pace again
    /// on the tick after one is seen.
    fn publish(&mut self) {
        if self.lock.is_none() || !self.figures.dirty {
            return;
        }
        let every = self.figures.publish_every(PUBLISH_EVERY, self.heart.others_here());
        if self.published.is_some_and(|at| at.elapsed() < every) {
            return;
        }
        let _ = self.figures.publish(self.journal.path(), self.time.now(), self.journal.sharing());
        self.published = Some(Instant::now());
    }

    fn read_new_entries(&mut self) {
        if self.replay.is_some() {
            return;
        }
        // On an error the read position stays where it was: nothing is delivered twice.
        if let Err(e) = self.journal.read_more(&mut self.scan) {
            self.tell(Update::Written { ids: Vec::new(), error: Some(e.to_string()) });
        }
        // A read may have skipped lines only (a newer warroom's): warned about all the same.
        self.warn_skipped();
        let entries = std::mem::take(&mut self.scan.events);
        if entries.is_empty() {
            return;
        }
        let was_over = self.facts.drill_ended;
        let warnings: Vec<String> = entries.iter().filter_map(|e| self.facts.learn(e)).collect();
        self.tell(Update::Entries(entries));
        warnings.into_iter().for_each(|w| self.tell(Update::Notice(w)));
        if !was_over && self.facts.drill_ended && self.play.is_none() {
            let (_, card) = super::scorecard_paths(self.journal.path());
            self.tell(Update::Notice(format!("the drill is over: its scorecard is saved in {}", card.display())));
        }
    }

    /// Lines this read skipped: one warning each (what and where; the first few, then a
    /// count), and the newer-warroom banner if it changed. Reading goes on past them.
    fn warn_skipped(&mut self) {
        for warning in self.scan.warnings_since(self.journal.path(), self.warned) {
            self.tell(Update::Notice(warning));
        }
        self.warned = self.scan.warned();
        self.tell_newer_skipped();
    }

    fn tell_newer_skipped(&mut self) {
        if self.scan.newer != self.newer_told
            && let Some(banner) = self.scan.newer_banner()
        {
            self.newer_told = self.scan.newer;
            self.tell(Update::NewerSkipped(banner));
        }
    }

    fn replay_tick(&mut self) {
        let Some(replayer) = self.replay.as_mut() else { return };
        let now = Instant::now();
        let due = replayer.due(now);
        if due.is_empty() && replayer.paused {
            return;
        }
        let clock = replayer.clock(now);
        let position = replay_position(replayer);
        if !due.is_empty() {
            self.tell(Update::Entries(due));
        }
        self.tell(Update::Clock(clock));
        self.tell(Update::Replay(position));
    }

    fn steer_replay(&mut self, control: ReplayControl) {
        let Some(replayer) = self.replay.as_mut() else { return };
        let now = Instant::now();
        let stepped = match control {
            ReplayControl::TogglePause => {
                replayer.toggle_pause(now);
                None
            }
            ReplayControl::NextEvent => {
                replayer.jump_to_next(now);
                None
            }
            ReplayControl::Step => replayer.step(now),
            ReplayControl::Faster => {
                replayer.faster(now);
                None
            }
            ReplayControl::Slower => {
                replayer.slower(now);
                None
            }
        };
        let (clock, position) = (replayer.clock(now), replay_position(replayer));
        if let Some(event) = stepped {
            self.tell(Update::Entries(vec![event]));
        }
        self.tell(Update::Clock(clock));
        self.tell(Update::Replay(position));
    }

    /// A drill ends once every fault has recovered and the incident is resolved.
    async fn end_drill_when_done(&mut self) {
        let due = self.play.as_ref().is_some_and(|p| !p.ended && *p.done.borrow() && self.facts.resolved);
        if due && let Some(card) = self.end_drill().await {
            self.tell(Update::Scorecard(card));
        }
    }

    async fn end_drill(&mut self) -> Option<String> {
        let play = self.play.as_mut().filter(|p| !p.ended)?;
        play.ended = true;
        let now = self.time.now();
        let ended = Event::at(now, &self.author, EventBody::DrillEnded { scenario: play.run.scenario.name.clone() });
        let run = play.run.clone();
        // While the journal cannot be written the end stays pending: score what is on disk.
        if let Ok(Err(e)) = tokio::time::timeout(LEAVE_WITHIN, self.writer.write(vec![ended])).await {
            self.tell(Update::Written { ids: Vec::new(), error: Some(e.to_string()) });
        }
        self.read_new_entries();
        Some(score_and_save(&self.journal, &run, self.settings.checklist.as_ref(), now))
    }

    /// The departure: a drill scored, the poller role released, "left" on disk.
    async fn leave(&mut self) {
        self.end_drill().await;
        self.monitor = None;
        self.lock = None;
        if self.role != Role::Viewer {
            let left = Event::at(self.time.now(), &self.author, EventBody::OperatorLeft {});
            let _ = tokio::time::timeout(LEAVE_WITHIN, self.writer.write(vec![left])).await;
        }
        // Gone only once departed: removing the heartbeat first could free the very room a
        // full disk lacked, and let the departure carry notes the front-end keeps as drafts.
        self.heart.stop();
        // Whatever was pending may have gone in with the departure: the front-end must know,
        // or it keeps in its draft a note the journal already has.
        while let Ok(ack) = self.written.try_recv() {
            self.on_ack(ack);
        }
        self.tell(Update::Ended);
    }

    fn tell(&self, update: Update) {
        // Nobody listening: the front-end is gone, and so is the point of telling.
        let _ = self.updates.send(update);
    }
}

fn row_info(id: RowId, kind: &str, target: String) -> RowInfo {
    RowInfo { id, kind: kind.to_string(), target }
}

fn replay_position(replayer: &Replayer) -> ReplayPosition {
    let (at, of) = replayer.position();
    ReplayPosition { at, of, paused: replayer.paused, speed: replayer.speed }
}
