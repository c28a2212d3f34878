//! The screen's state and what keys do to it. No terminal, no I/O: actions that touch the
//! world (journal appends, probes, the clipboard, the draft file) come back as [`Effect`]s
//! for the event loop to carry out, so every behaviour here is testable with a TestBackend.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use crossterm::event::{KeyEvent, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;
use ratatui_textarea::TextArea;

use super::keys::{Action, KeyMap};
use super::theme::Theme;
use crate::checklist::{self, Checklist, ItemState};
use crate::incident::Incident;
use crate::journal::{Audience, EventBody, Milestone, Status};
use crate::monitor::{State, View};
use crate::probe::Outcome;

/// Results kept per check: the sparkline shows 12, the detail view 10, followers get 20.
/// (60 cost 13 MiB more with 1,000 checks: 75.7 -> 62.8 MiB, `cargo bench --bench app`.)
pub const HISTORY: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Checks,
    Timeline,
    Checklist,
    Notes,
}

impl Pane {
    pub const ALL: [Pane; 4] = [Pane::Checks, Pane::Timeline, Pane::Checklist, Pane::Notes];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Checks => "Checks",
            Pane::Timeline => "Timeline",
            Pane::Checklist => "Checklist",
            Pane::Notes => "Notes",
        }
    }

    fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    Help,
    CheckDetail(String),
    EventDetail(usize),
    /// A drill's scorecard, as text.
    Scorecard(String),
    /// The timeline filter being typed.
    Filter(String),
    ConfirmQuit,
    /// A message about to be sent: item id, channel, text.
    ConfirmSend {
        item: String,
        channel: String,
        text: String,
    },
}

/// What the event loop must do for the screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Write these events to the journal (as the operator).
    Append(Vec<EventBody>),
    RunNow(String),
    SetPaused(String, bool),
    /// The note draft changed: keep it on disk.
    SaveDraft(String),
    /// Put text on the clipboard (OSC 52).
    Copy(String),
    /// Send a checklist item's message on its channel.
    Send {
        item: String,
        channel: String,
        audience: Audience,
        text: String,
    },
    Quit,
}

/// One recent probe result.
#[derive(Debug, Clone)]
pub struct Sample {
    pub at: DateTime<Utc>,
    pub outcome: Arc<Outcome>,
}

/// A check row: configured here (with live results) or only known from the journal.
#[derive(Debug, Clone)]
pub struct CheckRow {
    pub name: String,
    pub kind: String,
    pub target: String,
    /// Present when this process probes the check.
    pub view: Option<View>,
    pub history: VecDeque<Sample>,
}

/// The clock the screen shows: now, and the local offset (tests fix both).
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
}

pub struct App {
    pub incident: Incident,
    pub checks: Vec<CheckRow>,
    pub checklist: Option<Checklist>,
    pub theme: Theme,
    pub keys: KeyMap,
    pub clock: Clock,
    /// Public update cadence for "next update due" when the checklist has no repeating public item.
    pub update_every: Option<Duration>,
    /// A banner above everything (e.g. "DEMO — no real services are checked").
    pub banner: Option<String>,
    /// Viewer mode: never writes.
    pub read_only: bool,
    pub focus: Pane,
    pub zoom: bool,
    pub overlay: Option<Overlay>,
    pub selected: [usize; 4],
    /// Timeline: follow new events unless the user scrolled up.
    pub follow: bool,
    pub filter: String,
    /// Timeline indices passing the filter (all, when no filter).
    pub filtered: Vec<usize>,
    filtered_upto: usize,
    pub notes: TextArea<'static>,
    pub editing: bool,
    /// One-line feedback in the footer.
    pub flash: Option<String>,
    pub write_error: Option<String>,
    /// Where each pane was last drawn, for mouse clicks.
    pub areas: [Rect; 4],
}

impl App {
    pub fn new(
        incident: Incident,
        checks: Vec<CheckRow>,
        checklist: Option<Checklist>,
        theme: Theme,
        keys: KeyMap,
        clock: Clock,
    ) -> App {
        let mut notes = TextArea::default();
        notes.set_placeholder_text("i: write a note · Ctrl-S saves it to the timeline");
        let mut app = App {
            incident,
            checks,
            checklist,
            theme,
            keys,
            clock,
            update_every: None,
            banner: None,
            read_only: false,
            focus: Pane::Checks,
            zoom: false,
            overlay: None,
            selected: [0; 4],
            follow: true,
            filter: String::new(),
            filtered: Vec::new(),
            filtered_upto: 0,
            notes,
            editing: false,
            flash: None,
            write_error: None,
            areas: [Rect::default(); 4],
        };
        app.restyle_notes();
        app.refresh_filter();
        app
    }

    pub fn set_draft(&mut self, text: &str) {
        self.notes = TextArea::new(text.lines().map(str::to_string).collect());
        self.notes.set_placeholder_text("i: write a note · Ctrl-S saves it to the timeline");
        self.restyle_notes();
    }

    fn restyle_notes(&mut self) {
        self.notes.set_style(self.theme.text);
        self.notes.set_placeholder_style(self.theme.muted);
        self.notes.set_cursor_line_style(ratatui::style::Style::default());
    }

    pub fn draft(&self) -> String {
        self.notes.lines().join("\n")
    }

    pub fn has_draft(&self) -> bool {
        self.notes.lines().iter().any(|l| !l.trim().is_empty())
    }

    // -----------------------------------------------------------------------------------
    // Data in

    /// New journal events (ours after they are on disk, or other operators').
    pub fn on_events(&mut self, events: Vec<crate::journal::Event>) {
        for e in events {
            if let EventBody::CheckChanged { check, .. } = &e.body
                && !self.checks.iter().any(|c| &c.name == check)
            {
                self.checks.push(CheckRow {
                    name: check.clone(),
                    kind: "journal".into(),
                    target: String::new(),
                    view: None,
                    history: VecDeque::new(),
                });
            }
            self.incident.apply(e);
        }
        self.refresh_filter();
    }

    /// A row a source started reporting (a Prometheus series, a firing alert).
    pub fn add_row(&mut self, row: CheckRow) {
        if !self.checks.iter().any(|c| c.name == row.name) {
            self.checks.push(row);
        }
    }

    pub fn on_sample(&mut self, check: &str, at: DateTime<Utc>, outcome: Arc<Outcome>) {
        if let Some(row) = self.checks.iter_mut().find(|c| c.name == check) {
            if row.history.len() == HISTORY {
                row.history.pop_front();
            }
            row.history.push_back(Sample { at, outcome });
        }
    }

    pub fn on_view(&mut self, check: &str, view: View) {
        if let Some(row) = self.checks.iter_mut().find(|c| c.name == check) {
            row.view = Some(view);
        }
    }

    // -----------------------------------------------------------------------------------
    // Derived views

    /// The state a row shows: live view if we probe it, else what the journal says.
    pub fn row_state(&self, row: &CheckRow) -> State {
        match &row.view {
            Some(v) if v.state != State::Unknown || v.no_connectivity => v.state,
            _ => self
                .incident
                .checks
                .get(&row.name)
                .map_or(State::Unknown, |c| crate::recorder::from_check_state(c.state)),
        }
    }

    /// Rows in display order: failing first (down, degraded, unknown), then by name.
    pub fn check_order(&self) -> Vec<usize> {
        let rank = |s: State| match s {
            State::Down => 0,
            State::Degraded => 1,
            State::Unknown => 2,
            State::Up => 3,
        };
        let mut order: Vec<usize> = (0..self.checks.len()).collect();
        order.sort_by_cached_key(|&i| (rank(self.row_state(&self.checks[i])), self.checks[i].name.clone()));
        order
    }

    pub fn selected_check(&self) -> Option<&CheckRow> {
        let order = self.check_order();
        order.get(self.selected[Pane::Checks.index()]).map(|&i| &self.checks[i])
    }

    /// Timeline index of the selected event.
    pub fn selected_event(&self) -> Option<usize> {
        if self.filtered.is_empty() {
            return None;
        }
        let i = if self.follow { self.filtered.len() - 1 } else { self.selected[Pane::Timeline.index()] };
        self.filtered.get(i.min(self.filtered.len() - 1)).copied()
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
        checklist::Context {
            title: self.incident.title.clone().unwrap_or_default(),
            status: self.incident.status.as_str().into(),
            severity: self.incident.severity.map(|s| s.to_string()).unwrap_or_default(),
            started_local: format!("{} (UTC{})", local(opened), self.clock.offset),
            started_utc: format!("{} UTC", opened.format("%H:%M")),
            elapsed: super::draw::human_duration(self.clock.now - opened),
            failing_checks: if failing.is_empty() { "none".into() } else { failing.join(", ") },
            commander: self.incident.role("commander").unwrap_or("(unassigned)").into(),
            next_update_local: self.next_update_due().map(local).unwrap_or_else(|| "(not scheduled)".into()),
        }
    }

    pub fn rendered_message(&self, item: &checklist::Item) -> Option<String> {
        item.template.as_ref().map(|t| checklist::render(t, &self.template_context()))
    }

    fn refresh_filter(&mut self) {
        let needle = self.filter.to_lowercase();
        if needle.is_empty() {
            self.filtered = (0..self.incident.timeline.len()).collect();
            self.filtered_upto = self.incident.timeline.len();
            return;
        }
        if self.filtered_upto > self.incident.timeline.len() {
            self.filtered.clear();
            self.filtered_upto = 0;
        }
        for i in self.filtered_upto..self.incident.timeline.len() {
            let line = self.incident.timeline[i].summary().to_lowercase();
            if line.contains(&needle) || self.incident.timeline[i].kind().contains(&needle) {
                self.filtered.push(i);
            }
        }
        self.filtered_upto = self.incident.timeline.len();
    }

    fn set_filter(&mut self, filter: String) {
        self.filter = filter;
        self.filtered.clear();
        self.filtered_upto = 0;
        self.refresh_filter();
        self.follow = true;
    }

    fn rows(&self, pane: Pane) -> usize {
        match pane {
            Pane::Checks => self.checks.len(),
            Pane::Timeline => self.filtered.len(),
            Pane::Checklist => self.checklist.as_ref().map_or(0, |c| c.items.len()),
            Pane::Notes => 0,
        }
    }

    // -----------------------------------------------------------------------------------
    // Input

    /// A key press. Returns what the world must do.
    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        self.flash = None;
        if let Some(overlay) = self.overlay.clone() {
            return self.on_overlay_key(overlay, key);
        }
        if self.editing {
            return self.on_editing_key(key);
        }
        let Some(action) = self.keys.action(&key) else { return Vec::new() };
        self.on_action(action)
    }

    fn on_overlay_key(&mut self, overlay: Overlay, key: KeyEvent) -> Vec<Effect> {
        use crossterm::event::KeyCode;
        match overlay {
            Overlay::Filter(mut text) => {
                match key.code {
                    KeyCode::Enter => {
                        self.overlay = None;
                        self.set_filter(text);
                    }
                    KeyCode::Esc => self.overlay = None,
                    KeyCode::Backspace => {
                        text.pop();
                        self.overlay = Some(Overlay::Filter(text));
                    }
                    KeyCode::Char(c) if !c.is_control() => {
                        text.push(c);
                        self.overlay = Some(Overlay::Filter(text));
                    }
                    _ => {}
                }
                Vec::new()
            }
            Overlay::ConfirmQuit => match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => vec![Effect::Quit],
                _ => {
                    self.overlay = None;
                    Vec::new()
                }
            },
            Overlay::ConfirmSend { item, channel, text } => {
                self.overlay = None;
                match key.code {
                    KeyCode::Char('y') | KeyCode::Char('Y') => {
                        let audience = self
                            .checklist
                            .iter()
                            .flat_map(|c| c.items.iter())
                            .find(|i| i.id == item)
                            .map_or(Audience::Internal, |i| i.audience);
                        self.flash = Some(format!("sending on {channel}…"));
                        vec![Effect::Send { item, channel, audience, text }]
                    }
                    _ => {
                        self.flash = Some("not sent".into());
                        Vec::new()
                    }
                }
            }
            Overlay::Help | Overlay::CheckDetail(_) | Overlay::EventDetail(_) | Overlay::Scorecard(_) => {
                match self.keys.action(&key) {
                    Some(Action::Quit) => return self.on_action(Action::Quit),
                    Some(Action::Help) if overlay != Overlay::Help => self.overlay = Some(Overlay::Help),
                    _ => self.overlay = None,
                }
                Vec::new()
            }
        }
    }

    fn on_editing_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        match self.keys.action(&key) {
            Some(Action::Commit) => return self.commit_note(),
            Some(Action::Close) => {
                self.editing = false;
                return Vec::new();
            }
            _ => {}
        }
        if self.notes.input(key) { vec![Effect::SaveDraft(self.draft())] } else { Vec::new() }
    }

    fn commit_note(&mut self) -> Vec<Effect> {
        let text = self.draft().trim().to_string();
        self.editing = false;
        if text.is_empty() {
            self.flash = Some("nothing to save".into());
            return Vec::new();
        }
        if self.read_only {
            self.flash = Some("read-only: notes are not saved".into());
            return Vec::new();
        }
        self.set_draft("");
        self.flash = Some("note saved to the timeline".into());
        vec![Effect::Append(vec![EventBody::NoteAdded { text }]), Effect::SaveDraft(String::new())]
    }

    fn write(&mut self, body: EventBody) -> Vec<Effect> {
        if self.read_only {
            self.flash = Some("read-only viewer: nothing is written".into());
            return Vec::new();
        }
        vec![Effect::Append(vec![body])]
    }

    pub fn on_action(&mut self, action: Action) -> Vec<Effect> {
        let pane = self.focus;
        let rows = self.rows(pane);
        let sel = self.selected[pane.index()];
        match action {
            Action::Quit => {
                if self.has_draft() && !self.read_only {
                    self.overlay = Some(Overlay::ConfirmQuit);
                    return Vec::new();
                }
                return vec![Effect::Quit];
            }
            Action::Help => self.overlay = Some(Overlay::Help),
            Action::NextPane => self.focus = Pane::ALL[(pane.index() + 1) % 4],
            Action::PrevPane => self.focus = Pane::ALL[(pane.index() + 3) % 4],
            Action::FocusChecks => self.focus = Pane::Checks,
            Action::FocusTimeline => self.focus = Pane::Timeline,
            Action::FocusChecklist => self.focus = Pane::Checklist,
            Action::FocusNotes => self.focus = Pane::Notes,
            Action::Zoom => self.zoom = !self.zoom,
            Action::Close => {
                self.zoom = false;
                if pane == Pane::Timeline && !self.filter.is_empty() {
                    self.set_filter(String::new());
                }
            }
            Action::Down | Action::Up | Action::PageDown | Action::PageUp | Action::Top | Action::Bottom => {
                let last = rows.saturating_sub(1);
                let from = if pane == Pane::Timeline && self.follow { last } else { sel };
                let page = 10;
                let to = match action {
                    Action::Down => (from + 1).min(last),
                    Action::Up => from.saturating_sub(1),
                    Action::PageDown => (from + page).min(last),
                    Action::PageUp => from.saturating_sub(page),
                    Action::Top => 0,
                    _ => last,
                };
                self.selected[pane.index()] = to;
                if pane == Pane::Timeline {
                    self.follow = to >= last;
                }
            }
            Action::Open => match pane {
                Pane::Checks => {
                    if let Some(row) = self.selected_check() {
                        self.overlay = Some(Overlay::CheckDetail(row.name.clone()));
                    }
                }
                Pane::Timeline => {
                    if let Some(i) = self.selected_event() {
                        self.overlay = Some(Overlay::EventDetail(i));
                    }
                }
                Pane::Notes => self.editing = true,
                Pane::Checklist => {}
            },
            Action::Edit => {
                self.focus = Pane::Notes;
                self.editing = true;
            }
            Action::Commit => return self.commit_note(),
            Action::Toggle if pane == Pane::Checklist => {
                let items = self.checklist_items();
                if let Some((item, view)) = items.get(sel) {
                    let id = item.id.clone();
                    // Repeating items tick again once they are due again.
                    let body = if view.state == ItemState::Done {
                        EventBody::ChecklistItemUndone { item: id }
                    } else {
                        EventBody::ChecklistItemDone { item: id }
                    };
                    return self.write(body);
                }
            }
            Action::RunNow if pane == Pane::Checks => {
                if let Some(name) = self.selected_check().filter(|r| r.view.is_some()).map(|r| r.name.clone()) {
                    self.flash = Some(format!("probing {name} now"));
                    return vec![Effect::RunNow(name)];
                }
                self.flash = Some("this check is probed by another warroom".into());
            }
            Action::Pause if pane == Pane::Checks => {
                if let Some(row) = self.selected_check() {
                    if let Some(view) = &row.view {
                        return vec![Effect::SetPaused(row.name.clone(), !view.paused)];
                    }
                    self.flash = Some("this check is probed by another warroom".into());
                }
            }
            Action::Acknowledge if pane == Pane::Checks => {
                if let Some(row) = self.selected_check() {
                    if !self.row_state(row).is_failing() {
                        self.flash = Some(format!("{} is not failing", row.name));
                        return Vec::new();
                    }
                    let check = Some(row.name.clone());
                    return self.write(EventBody::MilestoneReached {
                        milestone: Milestone::Acknowledged,
                        at: None,
                        check,
                    });
                }
            }
            Action::Pin if pane == Pane::Timeline => {
                if let Some(i) = self.selected_event() {
                    let id = self.incident.timeline[i].id.clone();
                    return self.write(EventBody::EventPinned { event: id });
                }
            }
            Action::CycleStatus => {
                let next = self.incident.status.next();
                let mut effects = self.write(EventBody::StatusChanged { status: next });
                if next == Status::Resolved && !effects.is_empty() {
                    effects = vec![Effect::Append(vec![
                        EventBody::StatusChanged { status: next },
                        EventBody::MilestoneReached { milestone: Milestone::Resolved, at: None, check: None },
                    ])];
                }
                return effects;
            }
            Action::CycleSeverity => {
                let current = self.incident.severity.unwrap_or(3);
                // 3 → 2 → 1 → 5 → 4 → 3: escalation first, the usual direction under stress.
                let next = if current <= 1 { 5 } else { current - 1 };
                return self.write(EventBody::SeverityChanged { severity: next });
            }
            Action::Filter => {
                self.focus = Pane::Timeline;
                self.overlay = Some(Overlay::Filter(self.filter.clone()));
            }
            Action::Copy | Action::EditMessage | Action::Send if pane == Pane::Checklist => {
                let items = self.checklist_items();
                let Some((item, _)) = items.get(sel) else { return Vec::new() };
                let Some(text) = self.rendered_message(item) else {
                    self.flash = Some("this item has no message template".into());
                    return Vec::new();
                };
                let (id, channel) = (item.id.clone(), item.channel.clone());
                let prepared =
                    |via: &str| EventBody::MessagePrepared { item: id.clone(), text: text.clone(), via: via.into() };
                match action {
                    Action::Copy => {
                        self.flash = Some("message copied to the clipboard".into());
                        let mut effects = vec![Effect::Copy(text.clone())];
                        effects.extend(self.write(prepared("clipboard")));
                        return effects;
                    }
                    Action::EditMessage => {
                        let mut effects = self.write(prepared("notes"));
                        self.set_draft(&text);
                        self.focus = Pane::Notes;
                        self.editing = true;
                        effects.push(Effect::SaveDraft(text));
                        return effects;
                    }
                    _ => match channel {
                        Some(channel) if !self.read_only => {
                            self.overlay = Some(Overlay::ConfirmSend { item: id, channel, text })
                        }
                        Some(_) => self.flash = Some("read-only viewer: nothing is sent".into()),
                        None => self.flash = Some("this item has no channel; copy (c) or edit (e) it".into()),
                    },
                }
            }
            _ => {}
        }
        Vec::new()
    }

    pub fn on_mouse(&mut self, m: MouseEvent) -> Vec<Effect> {
        let hit = Pane::ALL.into_iter().find(|p| {
            let a = self.areas[p.index()];
            m.column >= a.x && m.column < a.x + a.width && m.row >= a.y && m.row < a.y + a.height
        });
        let Some(pane) = hit else { return Vec::new() };
        match m.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                self.focus = pane;
                let area = self.areas[pane.index()];
                let row = m.row.saturating_sub(area.y + 1) as usize;
                let offset = super::draw::scroll_offset(self, pane, area.height.saturating_sub(2) as usize);
                let rows = self.rows(pane);
                if pane != Pane::Notes && offset + row < rows {
                    self.selected[pane.index()] = offset + row;
                    if pane == Pane::Timeline {
                        self.follow = offset + row + 1 >= rows;
                    }
                }
                Vec::new()
            }
            MouseEventKind::ScrollDown => {
                self.focus = pane;
                self.on_action(Action::Down)
            }
            MouseEventKind::ScrollUp => {
                self.focus = pane;
                self.on_action(Action::Up)
            }
            _ => Vec::new(),
        }
    }

    /// Keeps the timeline selection on the newest event while following.
    pub fn settle(&mut self) {
        let rows = self.rows(Pane::Timeline);
        if self.follow {
            self.selected[Pane::Timeline.index()] = rows.saturating_sub(1);
        }
        for pane in [Pane::Checks, Pane::Checklist] {
            let rows = self.rows(pane);
            let sel = &mut self.selected[pane.index()];
            *sel = (*sel).min(rows.saturating_sub(1));
        }
    }
}
