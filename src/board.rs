//! The board: what a front-end knows of the incident — the fold of the journal, the live
//! rows and what follows from both (the order rows are shown in, when the next public
//! update is due, the values message templates are filled with). It is fed a session's
//! [`Update`]s and knows nothing of screens, keys or selections.

mod history;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, DurationRound, FixedOffset, Utc};

use crate::checklist::{self, Checklist, ItemState};
use crate::incident::Incident;
use crate::journal::{Audience, Event, EventBody, Status};
use crate::monitor::{RowId, State, View};
use crate::session::{Figure, Presence, Probing, Reading, RowInfo, Update};

pub use history::{History, Sample};

/// A row: a configured check, a source's row, or a name only the journal knows.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: RowId,
    /// As the journal records it: `alerts / HighErrorRate api-1`.
    pub name: String,
    pub kind: String,
    pub target: String,
    /// How the probing session shows the row, once it has said.
    pub view: Option<View>,
    /// Whether `view` came from the live-figures file (another session's, which any member
    /// can rewrite) rather than from this session's own probes.
    pub view_from_file: bool,
    /// Recent readings, oldest first.
    pub history: History,
    /// The state the journal records for the row, kept by the board as entries come in: a
    /// frame orders 10,000 rows by state without searching the incident once per row.
    recorded: Option<State>,
}

impl Row {
    pub fn new(info: RowInfo) -> Row {
        Row {
            name: info.id.name().into_owned(),
            id: info.id,
            kind: info.kind,
            target: info.target,
            view: None,
            view_from_file: false,
            history: History::default(),
            recorded: None,
        }
    }
}

/// The clock the board is read at: now, and the local offset (tests fix both).
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub now: DateTime<Utc>,
    pub offset: FixedOffset,
}

impl Clock {
    pub fn system() -> Clock {
        let local = chrono::Local::now();
        Clock { now: local.with_timezone(&Utc), offset: *local.offset() }
    }

    /// `now`, in this clock's local offset.
    pub fn at(now: DateTime<Utc>) -> Clock {
        Clock { now, offset: *chrono::Local::now().offset() }
    }
}

pub struct Board {
    pub incident: Incident,
    pub rows: Vec<Row>,
    /// Row positions by journal name.
    index: HashMap<String, usize>,
    pub checklist: Option<Checklist>,
    pub clock: Clock,
    /// Public update cadence for "next update due" when the checklist has no repeating public item.
    pub update_every: Option<Duration>,
    /// The time zone public text states its times in (UTC unless configured): a customer
    /// reading "by 14:11" must know whose 14:11.
    pub public_offset: FixedOffset,
    /// Who is here by heartbeat, once a live session said; until then (and in a replay) the
    /// journal's joined/left entries tell.
    pub presence: Option<Presence>,
    /// Where each check runs, by check, as configured: a place with no recorded state yet (a
    /// vantage unreachable from the start) is still shown beside the verdict.
    pub places: BTreeMap<String, Vec<String>>,
}

impl Board {
    pub fn new(incident: Incident, rows: Vec<Row>, checklist: Option<Checklist>, clock: Clock) -> Board {
        let mut board = Board {
            incident,
            rows: Vec::new(),
            index: HashMap::new(),
            checklist,
            clock,
            update_every: None,
            public_offset: FixedOffset::east_opt(0).expect("UTC is an offset"),
            presence: None,
            places: BTreeMap::new(),
        };
        rows.into_iter().for_each(|row| board.add_row(row));
        board
    }

    /// Takes in what the session says. Updates that are not the board's (roles, notices,
    /// write results, replay positions: the front-end's business) are left alone.
    pub fn apply(&mut self, update: Update) {
        match update {
            Update::Opened { rows, entries, .. } => {
                // Exactly: 10,000 rows grown by doubling take room for 16,384 (1.9 MB).
                self.rows.reserve_exact(rows.len());
                self.index.reserve(rows.len());
                rows.into_iter().for_each(|info| self.add_row(Row::new(info)));
                self.apply_entries(entries);
            }
            Update::Entries(entries) => self.apply_entries(entries),
            Update::Row(info) => self.add_row(Row::new(info)),
            Update::Reading { row, reading } => self.on_reading(&row, reading),
            Update::View { row, view } => self.on_view(&row, view),
            Update::Figures(figures) => self.apply_figures(figures),
            Update::Clock(now) => self.clock = Clock { now, offset: self.clock.offset },
            Update::Presence(presence) => self.presence = Some(presence),
            _ => {}
        }
    }

    /// New journal entries (ours after they are on disk, or other operators').
    pub fn apply_entries(&mut self, events: Vec<Event>) {
        for e in events {
            if let EventBody::CheckChanged { check, .. } = &e.body
                && !self.index.contains_key(check)
            {
                let info = RowInfo { id: RowId::check(check.clone()), kind: "journal".into(), target: String::new() };
                self.add_row(Row::new(info));
            }
            let changed = match &e.body {
                EventBody::CheckChanged { check, .. } => self.index.get(check).copied(),
                _ => None,
            };
            self.incident.apply(e);
            if let Some(i) = changed {
                self.rows[i].recorded = self.recorded(&self.rows[i].name);
            }
        }
    }

    /// A row a source started reporting (a Prometheus series, a firing alert).
    pub fn add_row(&mut self, mut row: Row) {
        if !self.index.contains_key(&row.name) {
            row.recorded = self.recorded(&row.name);
            self.index.insert(row.name.clone(), self.rows.len());
            self.rows.push(row);
        }
    }

    /// The state the journal records for a row, from the incident (the rows keep it).
    fn recorded(&self, name: &str) -> Option<State> {
        self.incident.checks.get(name).map(|c| crate::recorder::from_check_state(c.state))
    }

    fn row_mut(&mut self, id: &RowId) -> Option<&mut Row> {
        let i = *self.index.get(id.name().as_ref())?;
        self.rows.get_mut(i)
    }

    pub fn on_reading(&mut self, id: &RowId, reading: Reading) {
        if let Some(row) = self.row_mut(id) {
            row.history.push(reading);
        }
    }

    pub fn on_view(&mut self, id: &RowId, view: View) {
        if let Some(row) = self.row_mut(id) {
            row.view = Some(view);
            row.view_from_file = false;
        }
    }

    /// Another session's figures, whole: rows it knows that this board does not are added.
    pub fn apply_figures(&mut self, figures: Vec<Figure>) {
        for figure in figures {
            if self.row_mut(&figure.row.id).is_none() {
                self.add_row(Row::new(figure.row.clone()));
            }
            let row = self.row_mut(&figure.row.id).expect("added above");
            row.view = Some(figure.view);
            row.view_from_file = true;
            row.history = figure.readings.into();
        }
    }

    // -----------------------------------------------------------------------------------
    // What follows from it

    /// The state a row shows: the live view if this session probes it, else what the journal
    /// says. A view from the live-figures file decides only for rows the journal has never
    /// recorded (a silenced alert): the file is anybody's in the group to rewrite, and the
    /// journal is the truth (`✔ up` from a forged file must not hide a recorded outage).
    pub fn row_state(&self, row: &Row) -> State {
        debug_assert_eq!(row.recorded, self.recorded(&row.name), "{} keeps a stale state", row.name);
        match (&row.view, row.recorded) {
            (Some(_), Some(state)) if row.view_from_file => state,
            (Some(v), _) if v.state != State::Unknown || v.no_connectivity => v.state,
            (_, recorded) => recorded.unwrap_or(State::Unknown),
        }
    }

    /// Who is here: authors whose sessions beat, or, without heartbeats (a replay), those
    /// the journal says joined and have not left.
    pub fn present(&self) -> Vec<&str> {
        match &self.presence {
            Some(p) => p.people.iter().filter(|p| p.is_here()).map(|p| p.author.as_str()).collect(),
            None => self.incident.operators.keys().map(String::as_str).collect(),
        }
    }

    /// Authors whose sessions stopped beating without leaving, and since when.
    pub fn gone(&self) -> Vec<(&str, DateTime<Utc>)> {
        let people = self.presence.iter().flat_map(|p| &p.people);
        people.filter_map(|p| Some((p.author.as_str(), p.gone_since?))).collect()
    }

    /// `Some` while no session probes this journal's checks: since when (if one ever did).
    /// The figures shown are then frozen.
    pub fn unprobed(&self) -> Option<Option<DateTime<Utc>>> {
        match self.presence.as_ref()?.probing {
            Probing::Yes => None,
            Probing::Nobody { since } => Some(since),
        }
    }

    /// Rows in display order: failing first (down, degraded, unknown), then by name.
    pub fn check_order(&self) -> Vec<usize> {
        self.ordered_rows().into_iter().map(|(i, _)| i).collect()
    }

    /// Rows in display order, each with the state it shows. Each row keeps its recorded state
    /// (see [`Row::recorded`]): at 10,000 rows, finding every row's state in the incident was
    /// most of a frame.
    pub fn ordered_rows(&self) -> Vec<(usize, State)> {
        let rank = |s: State| match s {
            State::Down => 0,
            State::Degraded => 1,
            State::Unknown => 2,
            State::Up => 3,
        };
        let mut order: Vec<(usize, State)> = self.rows.iter().map(|row| self.row_state(row)).enumerate().collect();
        // Stable, and rows usually come in name order already: nearly one pass.
        order.sort_by(|(a, sa), (b, sb)| {
            rank(*sa).cmp(&rank(*sb)).then_with(|| self.rows[*a].name.cmp(&self.rows[*b].name))
        });
        order
    }

    pub fn checklist_items(&self) -> Vec<(&checklist::Item, checklist::ItemView)> {
        self.checklist
            .iter()
            .flat_map(|c| c.items.iter())
            .map(|item| (item, checklist::evaluate(item, &self.incident, self.clock.now)))
            .collect()
    }

    /// When the next public update is due: the earliest open public item of the checklist
    /// (a repeating one is due its period after it was last done, i.e. after the last
    /// update), else `update_every` after the last public message or the start.
    pub fn next_update_due(&self) -> Option<DateTime<Utc>> {
        if self.incident.status == Status::Resolved {
            return None;
        }
        // What the last public message promised is what customers wait for.
        if let Some(promised) = self.incident.promised_update {
            return Some(promised);
        }
        let open = [ItemState::Pending, ItemState::DueSoon, ItemState::Overdue];
        let from_checklist = self
            .checklist_items()
            .into_iter()
            .filter(|(item, view)| item.audience == Audience::Public && open.contains(&view.state))
            .map(|(_, view)| view.due_at)
            .min();
        if from_checklist.is_some() {
            return from_checklist;
        }
        let cadence = chrono::Duration::from_std(self.update_every?).ok()?;
        let since = self.incident.last_message.get(&Audience::Public).copied().or(self.incident.opened_at)?;
        Some(since + cadence)
    }

    /// Placeholder values for message templates, from the live incident.
    pub fn template_context(&self) -> checklist::Context {
        let local = |t: DateTime<Utc>| t.with_timezone(&self.clock.offset).format("%H:%M").to_string();
        let opened = self.incident.opened_at.unwrap_or(self.clock.now);
        let failing: Vec<&str> = self.incident.failing_checks().iter().map(|(n, _)| *n).collect();
        let holder = |role: &str| self.incident.role(role).unwrap_or("(unassigned)").to_string();
        checklist::Context {
            title: self.incident.title.clone().unwrap_or_default(),
            status: self.incident.status.as_str().into(),
            severity: self.incident.severity.map(|s| s.to_string()).unwrap_or_default(),
            started_local: format!("{} (UTC{})", local(opened), self.clock.offset),
            started_utc: format!("{} UTC", opened.format("%H:%M")),
            elapsed: human_duration(self.clock.now - opened),
            failing_checks: if failing.is_empty() { "none".into() } else { failing.join(", ") },
            commander: holder("commander"),
            next_update_local: self.next_update_due().map(local).unwrap_or_else(|| "(not scheduled)".into()),
            deputy: holder("deputy"),
            scribe: holder("scribe"),
            comms: holder("comms"),
        }
    }

    pub fn rendered_message(&self, item: &checklist::Item) -> Option<String> {
        self.prepared_message(item).map(|m| m.text)
    }

    /// An item's message filled in, with the next-update time it promises. A public message
    /// states that time in the public time zone, and promises the next update one public
    /// cadence from now (the one after this message, not the deadline this message meets).
    pub fn prepared_message(&self, item: &checklist::Item) -> Option<Prepared> {
        let template = item.template.as_ref()?;
        let mut context = self.template_context();
        let mut next_update = None;
        if item.audience == Audience::Public {
            let promise = self.next_promise();
            context.next_update_local = promise.map_or_else(|| "(not scheduled)".into(), |t| self.public_time(t));
            next_update = promise.filter(|_| template.contains("{next_update_local}"));
        }
        Some(Prepared { text: checklist::render(template, &context), next_update })
    }

    /// The promise a message's text still makes: `promised`, if the text (perhaps edited)
    /// still states that time; an operator who rewrote the time promised something else.
    pub fn promise_kept_in(&self, promised: Option<DateTime<Utc>>, text: &str) -> Option<DateTime<Utc>> {
        promised.filter(|t| text.contains(&self.public_time(*t)))
    }

    /// `14:11 UTC`, `14:11 UTC+01:00`: a time as public text states it.
    pub fn public_time(&self, t: DateTime<Utc>) -> String {
        let offset = self.public_offset;
        let zone = if offset.local_minus_utc() == 0 { "UTC".to_string() } else { format!("UTC{offset}") };
        format!("{} {zone}", t.with_timezone(&offset).format("%H:%M"))
    }

    /// When a public message sent now should promise the next one: the checklist's public
    /// cadence (else `update_every`) from now, to the minute stated (rounded down, so the
    /// text never promises later than the deadline recorded).
    fn next_promise(&self) -> Option<DateTime<Utc>> {
        let repeats = self.checklist.iter().flat_map(|c| c.items.iter());
        let public_repeat = repeats.filter(|i| i.audience == Audience::Public).filter_map(|i| i.repeat).min();
        let cadence = chrono::Duration::from_std(public_repeat.or(self.update_every)?).ok()?;
        let at = self.clock.now + cadence;
        at.duration_trunc(chrono::Duration::minutes(1)).ok()
    }
}

/// A checklist item's message as it will go out.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub text: String,
    /// The next-update time the text states, recorded with the message when it is sent.
    pub next_update: Option<DateTime<Utc>>,
}

/// `45s`, `12m`, `2h 05m`.
pub fn human_duration(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        _ => format!("{}h {:02}m", s / 3600, s / 60 % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::CheckState;
    use crate::session::Figure;

    fn figure(name: &str, state: State) -> Figure {
        let row = RowInfo { id: RowId::check(name), kind: "http".into(), target: String::new() };
        Figure { row, view: View { state, ..View::default() }, readings: Vec::new() }
    }

    #[test]
    fn the_figures_file_cannot_overrule_the_state_the_journal_recorded() {
        let down = Event::new(
            "alice",
            EventBody::CheckChanged {
                check: "web".into(),
                from: CheckState::Up,
                to: CheckState::Down,
                detail: "503".into(),
            },
        );
        let incident = Incident::from_events(vec![down]);
        let mut board = Board::new(incident, Vec::new(), None, Clock::system());
        board.apply(Update::Figures(vec![figure("web", State::Up), figure("alerts / Silenced", State::Degraded)]));
        let state = |board: &Board, name: &str| board.row_state(&board.rows[board.index[name]]);
        assert_eq!(state(&board, "web"), State::Down, "the journal recorded web down");
        assert_eq!(state(&board, "alerts / Silenced"), State::Degraded, "never recorded: the figures tell");
        // This session's own probes still show what they see.
        board.apply(Update::View { row: RowId::check("web"), view: View { state: State::Up, ..View::default() } });
        assert_eq!(state(&board, "web"), State::Up);
    }
}
