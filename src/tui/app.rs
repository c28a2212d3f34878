//! The screen's state and what keys do to it. No terminal, no I/O: actions that touch the
//! world (journal appends, probes, the clipboard, the draft file) come back as [`Effect`]s
//! for the event loop to carry out, so every behaviour here is testable with a TestBackend.

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;
use ratatui_textarea::TextArea;

use super::keys::{Action, KeyMap};
use super::theme::Theme;
use crate::board::{Board, Row};
use crate::checklist::ItemState;
use crate::journal::{Audience, CheckState, Event, EventBody, Milestone};
use crate::monitor::RowId;
use crate::session::{ReplayPosition, Role, Update};

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

    /// The pane's key: 1 to 4.
    pub fn number(self) -> usize {
        match self {
            Pane::Checks => 1,
            Pane::Timeline => 2,
            Pane::Checklist => 3,
            Pane::Notes => 4,
        }
    }

    pub fn next(self) -> Pane {
        match self {
            Pane::Checks => Pane::Timeline,
            Pane::Timeline => Pane::Checklist,
            Pane::Checklist => Pane::Notes,
            Pane::Notes => Pane::Checks,
        }
    }

    pub fn prev(self) -> Pane {
        match self {
            Pane::Checks => Pane::Notes,
            Pane::Timeline => Pane::Checks,
            Pane::Checklist => Pane::Timeline,
            Pane::Notes => Pane::Checklist,
        }
    }
}

/// One value per pane, reached by the pane itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Panes<T> {
    pub checks: T,
    pub timeline: T,
    pub checklist: T,
    pub notes: T,
}

impl<T> std::ops::Index<Pane> for Panes<T> {
    type Output = T;
    fn index(&self, pane: Pane) -> &T {
        match pane {
            Pane::Checks => &self.checks,
            Pane::Timeline => &self.timeline,
            Pane::Checklist => &self.checklist,
            Pane::Notes => &self.notes,
        }
    }
}

impl<T> std::ops::IndexMut<Pane> for Panes<T> {
    fn index_mut(&mut self, pane: Pane) -> &mut T {
        match pane {
            Pane::Checks => &mut self.checks,
            Pane::Timeline => &mut self.timeline,
            Pane::Checklist => &mut self.checklist,
            Pane::Notes => &mut self.notes,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    Help,
    CheckDetail(String),
    EventDetail(usize),
    /// A checklist item whole, by id: its title, deadline, hint and message.
    ItemDetail(String),
    /// A drill's scorecard, as text.
    Scorecard(String),
    /// The timeline filter being typed.
    Filter(String),
    ConfirmQuit,
    /// On a mirror's copy: promote it to primary? With how many seconds ago the primary was
    /// heard, when that is recent enough that it may be alive.
    ConfirmPromote {
        heard_secs: Option<i64>,
    },
    /// A message about to be sent: item id, channel, text, and the next-update time it promises.
    ConfirmSend {
        item: String,
        channel: String,
        text: String,
        next_update: Option<DateTime<Utc>>,
    },
    /// A commander's verb asking for its target (a role, a person, a status…).
    Picker(super::picker::Picker),
    /// Entries written only on `y`: what would change, said in lines.
    Confirm {
        title: String,
        lines: Vec<String>,
        bodies: Vec<EventBody>,
    },
    /// The state timeline (`T`), showing this span.
    StateTimeline(crate::report::timeline::Window),
    /// The brief (for joining or taking over), scrolled down `scroll` lines.
    Brief {
        text: String,
        scroll: usize,
    },
}

/// What the event loop must do for the screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Write these events to the journal (as the operator).
    Append(Vec<EventBody>),
    RunNow(RowId),
    SetPaused(RowId, bool),
    /// The note draft changed: keep it on disk (with the notes not yet on disk).
    SaveDraft(String),
    /// Put text on the clipboard (OSC 52, and tmux's paste buffer inside tmux); `what` names
    /// it in the footer, which says what was actually done.
    Copy {
        what: &'static str,
        text: String,
    },
    /// Send a checklist item's message on its channel.
    Send {
        item: String,
        channel: String,
        audience: Audience,
        text: String,
        /// The next-update time the text promises.
        next_update: Option<DateTime<Utc>>,
    },
    Quit,
}

/// A checklist item's message being edited in Notes: Ctrl-S (or `m` on the item) sends the
/// edited text, not the template.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageDraft {
    pub item: String,
    pub channel: Option<String>,
    /// The next-update time the message was filled in with; it stands if the text keeps it.
    pub next_update: Option<DateTime<Utc>>,
}

/// A note saved with Ctrl-S that the journal does not have yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsavedNote {
    /// Its event id, once the session queued it.
    pub id: Option<String>,
    pub text: String,
}

/// The screen's state: the board it shows and how it is being looked at.
pub struct App {
    pub board: Board,
    pub theme: Theme,
    pub keys: KeyMap,
    /// A banner above everything (e.g. "DEMO — no real services are checked").
    pub banner: Option<String>,
    /// How the journal's mirrors stand, or on a mirror host its primary (one line each).
    pub mirrors: Vec<String>,
    /// The operator confirmed promoting this mirror's copy: done once the screen is closed.
    pub promote_on_exit: bool,
    /// The journal's path on this host (how recently a mirror's primary spoke is beside it).
    pub journal: Option<std::path::PathBuf>,
    /// Entries from a newer warroom were skipped: asks for an upgrade, for as long as it runs.
    pub upgrade: Option<String>,
    /// A remote screen's link is down: said above everything until it is back.
    pub link_lost: Option<String>,
    /// Viewer mode: never writes.
    pub read_only: bool,
    pub focus: Pane,
    pub zoom: bool,
    pub overlay: Option<Overlay>,
    pub selected: Panes<usize>,
    /// Timeline: stay on the newest entry unless the user scrolled up.
    pub at_newest: bool,
    pub filter: String,
    /// Timeline indices passing the filter (all, when no filter).
    pub filtered: Vec<usize>,
    filtered_upto: usize,
    pub notes: TextArea<'static>,
    pub editing: bool,
    /// Notes holds an item's message, not a note, while this is set.
    pub message_draft: Option<MessageDraft>,
    /// One-line feedback in the footer.
    pub flash: Option<String>,
    pub write_error: Option<String>,
    /// This session's entries not yet on disk, in order (from [`Update::Pending`]).
    pub pending: Vec<Event>,
    /// Notes saved with Ctrl-S and not yet on disk: kept in the draft file until they are.
    pub unsaved: Vec<UnsavedNote>,
    /// The draft file must be written again (a note reached the disk or was refused).
    draft_changed: bool,
    /// Why the draft reached no disk the last time it was written (both places refused it).
    pub draft_failed: Option<String>,
    /// Where each pane was last drawn, for mouse clicks.
    pub areas: Panes<Rect>,
    /// This operator's author string (whose brief, who is handed the commander role).
    pub me: String,
    /// The id of the note the editor is correcting: Ctrl-s saves a correction of it.
    pub correcting: Option<String>,
    /// Lines of the help scrolled past (the help is longer than a small screen).
    pub help_scroll: usize,
    /// Sends on their way (item, channel): their outcome replaces "sending on …" once journaled.
    pub sending: Vec<(String, String)>,
    /// `[screen] checklist_order`: by due time (the default) or as the file lists them.
    pub checklist_order: crate::checklist::Order,
    /// The checklist selection as last seen (position, item id): when the order changes under
    /// it (an item ticked, another falling due) the selection stays on the same item.
    checklist_anchor: Option<(usize, String)>,
}

impl App {
    pub fn new(board: Board, theme: Theme, keys: KeyMap) -> App {
        let mut notes = TextArea::default();
        notes.set_placeholder_text("i: write a note · Ctrl-S saves it to the timeline");
        let mut app = App {
            board,
            theme,
            keys,
            banner: None,
            upgrade: None,
            mirrors: Vec::new(),
            promote_on_exit: false,
            journal: None,
            link_lost: None,
            read_only: false,
            focus: Pane::Checks,
            zoom: false,
            overlay: None,
            selected: Panes::default(),
            at_newest: true,
            filter: String::new(),
            filtered: Vec::new(),
            filtered_upto: 0,
            notes,
            editing: false,
            message_draft: None,
            flash: None,
            write_error: None,
            pending: Vec::new(),
            unsaved: Vec::new(),
            draft_changed: false,
            draft_failed: None,
            areas: Panes::default(),
            me: String::new(),
            correcting: None,
            help_scroll: 0,
            sending: Vec::new(),
            checklist_order: crate::checklist::Order::default(),
            checklist_anchor: None,
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

    /// Whether quitting would leave anything in the draft: text being written, or notes
    /// that are not on disk yet.
    pub fn has_draft(&self) -> bool {
        self.notes.lines().iter().any(|l| !l.trim().is_empty()) || !self.unsaved.is_empty()
    }

    /// What the draft file must hold: every note not yet on disk, then the text being written.
    /// A note leaves it only once the journal has it, so a fault, a quit or a hang-up never
    /// loses one.
    pub fn draft_to_keep(&self) -> String {
        let typed = self.draft();
        // A correction being written is not a note: restored as one, it would be saved as one.
        let typed = (!typed.trim().is_empty() && self.correcting.is_none()).then_some(typed.as_str());
        self.unsaved.iter().map(|n| n.text.as_str()).chain(typed).collect::<Vec<_>>().join("\n\n")
    }

    /// True once if the draft file must be written again since the last call.
    pub fn take_draft_changed(&mut self) -> bool {
        std::mem::take(&mut self.draft_changed)
    }

    /// Entries of this session now waiting for the disk; a note among them is bound to its id.
    fn on_pending(&mut self, events: Vec<Event>) {
        for event in &events {
            if let EventBody::NoteAdded { text } = &event.body
                && let Some(note) = self.unsaved.iter_mut().find(|n| n.id.is_none() && &n.text == text)
            {
                note.id = Some(event.id.clone());
            }
        }
        self.pending.extend(events);
    }

    fn on_written(&mut self, ids: Vec<String>, error: Option<String>) {
        self.write_error = error;
        if ids.is_empty() {
            return;
        }
        let ids: std::collections::HashSet<String> = ids.into_iter().collect();
        self.pending.retain(|e| !ids.contains(&e.id));
        let before = self.unsaved.len();
        self.unsaved.retain(|n| n.id.as_ref().is_none_or(|id| !ids.contains(id)));
        if self.unsaved.len() < before {
            self.draft_changed = true;
            self.flash = Some("note saved to the timeline".into());
        }
    }

    /// Entries refused as they stand: a note goes back into the editor, for shortening.
    fn on_refused(&mut self, events: Vec<Event>, error: String) {
        for event in events {
            let EventBody::NoteAdded { text } = event.body else {
                self.flash = Some(format!("not written: {error}"));
                continue;
            };
            if let Some(i) = self.unsaved.iter().position(|n| n.id.is_none() && n.text == text) {
                self.unsaved.remove(i);
            }
            let typed = self.draft();
            let back = if typed.trim().is_empty() { text } else { format!("{text}\n\n{typed}") };
            self.set_draft(&back);
            self.focus = Pane::Notes;
            self.draft_changed = true;
            self.flash = Some(format!(
                "note too long (journal lines hold {} KiB at most): it stays in the draft",
                crate::journal::MAX_LINE_BYTES / 1024
            ));
        }
    }

    // -----------------------------------------------------------------------------------
    // Data in

    /// What the session said. Returns whether the screen must be drawn at once: a new
    /// reading alone waits for the next clock frame (figures, not meaning).
    pub fn on_update(&mut self, update: Update) -> bool {
        let urgent = !matches!(update, Update::Reading { .. });
        let handed_command = matches!(&update, Update::Entries(events) if self.handed_command(events));
        if let Update::Entries(events) = &update {
            self.on_send_outcomes(events);
        }
        match update {
            Update::Role { why, .. } => self.flash = Some(why),
            Update::Opened { role: Role::Follower, .. } => {
                self.flash = Some("another warroom probes the checks for this journal; this one follows it".into());
                self.board.apply(update);
            }
            Update::Pending(events) => self.on_pending(events),
            Update::Written { ids, error } => self.on_written(ids, error),
            Update::Refused { events, error } => self.on_refused(events, error),
            Update::Notice(text) => self.flash = Some(text),
            Update::NewerSkipped(text) => self.upgrade = Some(text),
            Update::Mirrors(lines) => self.mirrors = lines,
            Update::Link(state) => self.on_link(state),
            Update::Replay(position) => self.banner = Some(replay_banner(&position, self.board.clock.now)),
            Update::Scorecard(text) => self.overlay = Some(Overlay::Scorecard(text)),
            Update::Ended => {}
            update => self.board.apply(update),
        }
        if handed_command {
            self.on_handed_command();
        }
        self.refresh_filter();
        urgent
    }

    /// A remote screen's link went down (the banner says so, and since when) or came back.
    fn on_link(&mut self, state: crate::session::LinkState) {
        let to = crate::sanitize::sanitize_str(&state.to, 60);
        let detail = crate::sanitize::sanitize_str(&state.detail, 200);
        match state.lost_since {
            None => {
                self.link_lost = None;
                self.flash = Some(format!("link to {to} is back: {detail}"));
            }
            Some(since) => {
                let at = since.with_timezone(&self.board.clock.offset).format("%H:%M");
                let next = if state.retrying { "reconnecting" } else { "NOT retrying" };
                self.link_lost = Some(format!("link to {to} lost since {at}, {next} ({detail})"));
            }
        }
    }

    /// A send of this screen's reached the journal: the footer says how it went, so
    /// "sending on …" never outlives the outcome.
    fn on_send_outcomes(&mut self, events: &[Event]) {
        for event in events {
            let EventBody::MessageSent { channel, item: Some(item), error, text, next_update, .. } = &event.body else {
                continue;
            };
            let Some(i) = self.sending.iter().position(|(i, c)| i == item && c == channel) else { continue };
            self.sending.remove(i);
            let shown = crate::sanitize::sanitize_str(channel, 30);
            let Some(why) = error else {
                self.flash = Some(format!("sent on {shown}"));
                continue;
            };
            let why = crate::sanitize::sanitize_str(why, 200);
            // A message worked on is not to be typed again after a failed send: back into
            // Notes with it, unless Notes holds something else by now.
            if self.message_draft.is_none() && self.draft().trim().is_empty() {
                self.set_draft(text);
                let draft =
                    MessageDraft { item: item.clone(), channel: Some(channel.clone()), next_update: *next_update };
                self.message_draft = Some(draft);
                self.flash = Some(format!(
                    "send on {shown} FAILED: {why} — the message is back in Notes (i to edit it, Ctrl-S to send it again)"
                ));
            } else {
                self.flash = Some(format!("send on {shown} FAILED: {why}"));
            }
        }
    }

    /// New journal entries, as from the session.
    pub fn on_events(&mut self, events: Vec<crate::journal::Event>) {
        self.on_update(Update::Entries(events));
    }

    // -----------------------------------------------------------------------------------
    // Derived views

    /// The checklist's items as the screen lists them: by due time, or in file order.
    pub fn checklist_rows(&self) -> Vec<(&crate::checklist::Item, crate::checklist::ItemView)> {
        let mut items: Vec<_> = self.board.checklist_items().into_iter().map(Some).collect();
        let views: Vec<_> = items.iter().flatten().map(|(_, v)| v.clone()).collect();
        crate::checklist::display_order(&views, self.checklist_order)
            .into_iter()
            .filter_map(|i| items[i].take())
            .collect()
    }

    /// Keeps the checklist selection on the item it was on when the order moved it; a
    /// selection the operator moved stays where they put it.
    fn anchor_checklist(&mut self) {
        let ids: Vec<String> = self.checklist_rows().into_iter().map(|(item, _)| item.id.clone()).collect();
        let sel = &mut self.selected[Pane::Checklist];
        if let Some((at, id)) = &self.checklist_anchor
            && *at == *sel
            && let Some(now) = ids.iter().position(|i| i == id)
        {
            *sel = now;
        }
        self.checklist_anchor = ids.get(*sel).map(|id| (*sel, id.clone()));
    }

    pub fn selected_check(&self) -> Option<&Row> {
        let order = self.board.check_order();
        order.get(self.selected[Pane::Checks]).map(|&i| &self.board.rows[i])
    }

    /// Timeline index of the selected event.
    pub fn selected_event(&self) -> Option<usize> {
        if self.filtered.is_empty() {
            return None;
        }
        let i = if self.at_newest { self.filtered.len() - 1 } else { self.selected[Pane::Timeline] };
        self.filtered.get(i.min(self.filtered.len() - 1)).copied()
    }

    /// Extends the timeline's filtered list by the entries added since: called on every
    /// update (a thousand readings a second at scale), so it only looks at what is new.
    fn refresh_filter(&mut self) {
        let timeline = &self.board.incident.timeline;
        if self.filtered_upto > timeline.len() {
            self.filtered.clear();
            self.filtered_upto = 0;
        }
        let needle = self.filter.to_lowercase();
        for (i, entry) in timeline.iter().enumerate().skip(self.filtered_upto) {
            if needle.is_empty() || entry.summary().to_lowercase().contains(&needle) || entry.kind().contains(&needle) {
                self.filtered.push(i);
            }
        }
        self.filtered_upto = timeline.len();
    }

    fn set_filter(&mut self, filter: String) {
        self.filter = filter;
        self.filtered.clear();
        self.filtered_upto = 0;
        self.refresh_filter();
        self.at_newest = true;
    }

    fn rows(&self, pane: Pane) -> usize {
        match pane {
            Pane::Checks => self.board.rows.len(),
            Pane::Timeline => self.filtered.len(),
            Pane::Checklist => self.board.checklist.as_ref().map_or(0, |c| c.items.len()),
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
        let Some(action) = self.keys.action(&key) else {
            // Raw mode makes Ctrl-C a key like any other; a reflex should not end a war room,
            // but it should not meet silence either.
            if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
                let quit = self.keys.keys_for(Action::Quit);
                self.flash =
                    Some(format!("Ctrl-C does not quit, so a stray one cannot end the war room: {quit} quits"));
            }
            return Vec::new();
        };
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
            Overlay::ConfirmPromote { .. } => {
                self.overlay = None;
                if matches!(key.code, KeyCode::Char('y') | KeyCode::Char('Y')) {
                    self.promote_on_exit = true;
                    return vec![Effect::Quit];
                }
                self.flash = Some("not promoted".into());
                Vec::new()
            }
            Overlay::ConfirmSend { item, channel, text, next_update } => {
                self.overlay = None;
                match key.code {
                    KeyCode::Char('y') | KeyCode::Char('Y') => {
                        let audience = self
                            .board
                            .checklist
                            .iter()
                            .flat_map(|c| c.items.iter())
                            .find(|i| i.id == item)
                            .map_or(Audience::Internal, |i| i.audience);
                        self.flash = Some(format!("sending on {channel}…"));
                        self.sending.push((item.clone(), channel.clone()));
                        let mut effects = self.message_sent_from_draft(&item);
                        effects.insert(0, Effect::Send { item, channel, audience, text, next_update });
                        effects
                    }
                    // The text as it stood in the question, edited in Notes (Ctrl-S asks again).
                    KeyCode::Char('e') | KeyCode::Char('E') if !self.read_only => {
                        self.edit_message(item, Some(channel), text, next_update)
                    }
                    _ => {
                        self.flash = Some("not sent".into());
                        Vec::new()
                    }
                }
            }
            Overlay::StateTimeline(window) => {
                match self.keys.action(&key) {
                    Some(Action::Quit) => return self.on_action(Action::Quit),
                    Some(Action::StateTimeline) => self.overlay = Some(Overlay::StateTimeline(window.next())),
                    _ => self.overlay = None,
                }
                Vec::new()
            }
            Overlay::Help if self.scroll_help(key) => Vec::new(),
            Overlay::Picker(picker) => self.on_picker_key(picker, key),
            Overlay::Confirm { bodies, .. } => self.on_confirm_key(bodies, key),
            Overlay::Brief { text, scroll } => self.on_brief_key(text, scroll, key),
            Overlay::Help
            | Overlay::CheckDetail(_)
            | Overlay::EventDetail(_)
            | Overlay::ItemDetail(_)
            | Overlay::Scorecard(_) => {
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
        match (self.keys.action(&key), self.correcting.clone()) {
            (Some(Action::Commit), Some(event)) => return self.commit_correction(event),
            (Some(Action::Close), Some(_)) => return self.abandon_correction(),
            _ => {}
        }
        match self.keys.action(&key) {
            Some(Action::Commit) if self.message_draft.is_some() => return self.send_message_draft(),
            Some(Action::Commit) => return self.commit_note(),
            Some(Action::Close) => {
                self.editing = false;
                return Vec::new();
            }
            _ => {}
        }
        if self.notes.input(key) { vec![Effect::SaveDraft(self.draft_to_keep())] } else { Vec::new() }
    }

    /// Ctrl-S on an item's message: ask, then send the text as edited. An item with no
    /// channel has nowhere to send it: its text is saved as a note, as before.
    fn send_message_draft(&mut self) -> Vec<Effect> {
        let Some(draft) = self.message_draft.clone() else { return Vec::new() };
        let text = self.draft().trim().to_string();
        self.editing = false;
        if text.is_empty() {
            self.message_draft = None;
            self.flash = Some("the message is empty: nothing to send".into());
            return Vec::new();
        }
        let Some(channel) = draft.channel else {
            self.message_draft = None;
            return self.commit_note();
        };
        if self.read_only {
            self.flash = Some("read-only viewer: nothing is sent".into());
            return Vec::new();
        }
        let next_update = self.board.promise_kept_in(draft.next_update, &text);
        self.overlay = Some(Overlay::ConfirmSend { item: draft.item, channel, text, next_update });
        Vec::new()
    }

    /// Once an item's edited message is on its way, Notes is free for notes again.
    fn message_sent_from_draft(&mut self, item: &str) -> Vec<Effect> {
        if self.message_draft.as_ref().is_none_or(|d| d.item != item) {
            return Vec::new();
        }
        self.message_draft = None;
        self.set_draft("");
        vec![Effect::SaveDraft(self.draft_to_keep())]
    }

    /// The edited text of `item`'s message, when Notes holds it.
    fn edited_message(&self, item: &str) -> Option<String> {
        let draft = self.message_draft.as_ref().filter(|d| d.item == item)?;
        let text = self.draft().trim().to_string();
        (!text.is_empty()).then_some(text).filter(|_| draft.channel.is_some())
    }

    /// Prompts a template leaves for the operator (`[Say whether any data was lost.]`) that
    /// are still in `text`: sending them to customers is almost always a mistake.
    pub fn unfilled(&self, item: &str, text: &str) -> Vec<String> {
        let items = self.board.checklist.iter().flat_map(|c| c.items.iter());
        let template = items.filter(|i| i.id == item).find_map(|i| i.template.as_deref()).unwrap_or("");
        crate::checklist::unfilled(template, text)
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
        // Off the editor, but in the draft file until the journal has it.
        self.set_draft("");
        self.unsaved.push(UnsavedNote { id: None, text: text.clone() });
        self.flash = Some("saving the note…".into());
        vec![Effect::Append(vec![EventBody::NoteAdded { text }]), Effect::SaveDraft(self.draft_to_keep())]
    }

    pub(super) fn write(&mut self, body: EventBody) -> Vec<Effect> {
        if self.read_only {
            self.flash = Some("read-only viewer: nothing is written".into());
            return Vec::new();
        }
        vec![Effect::Append(vec![body])]
    }

    pub fn on_action(&mut self, action: Action) -> Vec<Effect> {
        if let Some(effects) = self.on_verb(action) {
            return effects;
        }
        let pane = self.focus;
        match action {
            Action::Quit => self.quit(),
            Action::Promote => {
                self.ask_to_promote();
                Vec::new()
            }
            Action::Down | Action::Up | Action::PageDown | Action::PageUp | Action::Top | Action::Bottom => {
                self.move_selection(action);
                Vec::new()
            }
            Action::Open => {
                self.open_selected();
                Vec::new()
            }
            Action::Commit => self.commit_note(),
            Action::Toggle if pane == Pane::Checklist => self.toggle_checklist_item(),
            Action::RunNow if pane == Pane::Checks => self.run_selected_now(),
            Action::Pause if pane == Pane::Checks => self.toggle_selected_paused(),
            Action::Acknowledge if pane == Pane::Checks => self.acknowledge_selected(),
            Action::Declare if pane == Pane::Checks => self.declare_from_signal(),
            Action::Copy | Action::EditMessage | Action::Send if pane == Pane::Checklist => {
                self.on_message_action(action)
            }
            _ => {
                self.on_view_action(action);
                Vec::new()
            }
        }
    }

    /// On a mirror's copy, asks whether to make it the primary; elsewhere says why not.
    fn ask_to_promote(&mut self) {
        if self.mirrors.iter().any(|l| crate::mirror::status::is_copy_line(l)) {
            let heard = self.journal.as_deref().and_then(crate::mirror::heard_recently);
            self.overlay = Some(Overlay::ConfirmPromote { heard_secs: heard.map(|ago| ago.num_seconds()) });
        } else {
            self.flash = Some("not a mirror's copy: P promotes a mirror when its primary is gone".into());
        }
    }

    /// Quits at once, or asks first when a draft would be lost.
    fn quit(&mut self) -> Vec<Effect> {
        if self.has_draft() && !self.read_only {
            self.overlay = Some(Overlay::ConfirmQuit);
            return Vec::new();
        }
        vec![Effect::Quit]
    }

    /// Actions that change only what is shown: focus, zoom, help, the filter.
    fn on_view_action(&mut self, action: Action) {
        let pane = self.focus;
        match action {
            Action::Help => {
                self.help_scroll = 0;
                self.overlay = Some(Overlay::Help);
            }
            Action::NextPane => self.focus = pane.next(),
            Action::PrevPane => self.focus = pane.prev(),
            Action::FocusChecks => self.focus = Pane::Checks,
            Action::FocusTimeline => self.focus = Pane::Timeline,
            Action::FocusChecklist => self.focus = Pane::Checklist,
            Action::FocusNotes => self.focus = Pane::Notes,
            Action::Zoom => self.zoom = !self.zoom,
            Action::StateTimeline => {
                self.overlay = Some(Overlay::StateTimeline(crate::report::timeline::Window::Whole));
            }
            Action::Close => {
                self.zoom = false;
                if pane == Pane::Timeline && !self.filter.is_empty() {
                    self.set_filter(String::new());
                }
            }
            Action::Edit => {
                self.focus = Pane::Notes;
                self.start_editing();
            }
            Action::Filter => {
                self.focus = Pane::Timeline;
                self.overlay = Some(Overlay::Filter(self.filter.clone()));
            }
            _ => {}
        }
    }

    /// Moves the focused pane's selection by a row, a page, or to either end.
    fn move_selection(&mut self, action: Action) {
        let pane = self.focus;
        let last = self.rows(pane).saturating_sub(1);
        let from = if pane == Pane::Timeline && self.at_newest { last } else { self.selected[pane] };
        let page = 10;
        let to = match action {
            Action::Down => (from + 1).min(last),
            Action::Up => from.saturating_sub(1),
            Action::PageDown => (from + page).min(last),
            Action::PageUp => from.saturating_sub(page),
            Action::Top => 0,
            _ => last,
        };
        self.selected[pane] = to;
        if pane == Pane::Timeline {
            self.at_newest = to >= last;
        }
    }

    /// Enter: the selected check or event in detail, or the notes for typing.
    fn open_selected(&mut self) {
        match self.focus {
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
            Pane::Notes => self.start_editing(),
            Pane::Checklist => {
                let items = self.checklist_rows();
                if let Some((item, _)) = items.get(self.selected[Pane::Checklist]) {
                    self.overlay = Some(Overlay::ItemDetail(item.id.clone()));
                }
            }
        }
    }

    /// Into the note editor; not in a viewer or a replay, where nothing typed could be kept
    /// (and a replay's keys were taken as text: "note in replay" became "oteireplay").
    fn start_editing(&mut self) {
        if self.read_only {
            self.flash = Some("read-only: notes cannot be written here".into());
        } else {
            self.editing = true;
        }
    }

    /// Ticks the selected checklist item, or unticks it, once its roles are filled.
    fn toggle_checklist_item(&mut self) -> Vec<Effect> {
        self.anchor_checklist();
        let items = self.checklist_rows();
        let Some((item, view)) = items.get(self.selected[Pane::Checklist]) else { return Vec::new() };
        let id = item.id.clone();
        let missing = crate::checklist::missing_roles(item, &self.board.incident);
        if view.state != ItemState::Done && !missing.is_empty() {
            self.flash = Some(roles_first(&missing));
            return Vec::new();
        }
        // Repeating items tick again once they are due again.
        let body = if view.state == ItemState::Done {
            EventBody::ChecklistItemUndone { item: id }
        } else {
            EventBody::ChecklistItemDone { item: id }
        };
        self.write(body)
    }

    fn run_selected_now(&mut self) -> Vec<Effect> {
        if let Some(row) = self.selected_check().filter(|r| r.view.is_some()) {
            let (id, name) = (row.id.clone(), row.name.clone());
            self.flash = Some(format!("probing {name} now"));
            return vec![Effect::RunNow(id)];
        }
        self.flash = Some("this check is probed by another warroom".into());
        Vec::new()
    }

    fn toggle_selected_paused(&mut self) -> Vec<Effect> {
        if let Some(row) = self.selected_check() {
            if let Some(view) = &row.view {
                return vec![Effect::SetPaused(row.id.clone(), !view.paused)];
            }
            self.flash = Some("this check is probed by another warroom".into());
        }
        Vec::new()
    }

    fn acknowledge_selected(&mut self) -> Vec<Effect> {
        let Some(row) = self.selected_check() else { return Vec::new() };
        if !self.board.row_state(row).is_failing() {
            self.flash = Some(format!("{} is not failing", row.name));
            return Vec::new();
        }
        let check = Some(row.name.clone());
        self.write(EventBody::MilestoneReached { milestone: Milestone::Acknowledged, at: None, check })
    }

    /// Copy, edit or send the selected checklist item's prepared message.
    fn on_message_action(&mut self, action: Action) -> Vec<Effect> {
        self.anchor_checklist();
        let items = self.checklist_rows();
        let Some((item, _)) = items.get(self.selected[Pane::Checklist]) else { return Vec::new() };
        let Some(prepared) = self.board.prepared_message(item) else {
            self.flash = Some("this item has no message template".into());
            return Vec::new();
        };
        let (id, channel) = (item.id.clone(), item.channel.clone());
        // Once edited, the edited text is the message: `m` sends that.
        let edited = self.edited_message(&id);
        let next_update = match &edited {
            Some(text) => {
                let promised = self.message_draft.as_ref().and_then(|d| d.next_update);
                self.board.promise_kept_in(promised, text)
            }
            None => prepared.next_update,
        };
        let text = match (action, edited) {
            (Action::Send, Some(edited)) => edited,
            _ => prepared.text,
        };
        match action {
            Action::Copy => self.copy_message(id, text),
            Action::EditMessage => self.edit_message(id, channel, text, next_update),
            _ => {
                self.confirm_send(id, channel, text, next_update);
                Vec::new()
            }
        }
    }

    fn copy_message(&mut self, item: String, text: String) -> Vec<Effect> {
        let mut effects = vec![Effect::Copy { what: "message", text: text.clone() }];
        effects.extend(self.write(EventBody::MessagePrepared { item, text, via: "clipboard".into() }));
        effects
    }

    /// Puts the message in the notes to be finished there.
    fn edit_message(
        &mut self,
        id: String,
        channel: Option<String>,
        text: String,
        next_update: Option<DateTime<Utc>>,
    ) -> Vec<Effect> {
        let mut effects =
            self.write(EventBody::MessagePrepared { item: id.clone(), text: text.clone(), via: "notes".into() });
        self.set_draft(&text);
        // Ready to add to the end, where the detail usually goes.
        self.notes.move_cursor(ratatui_textarea::CursorMove::Bottom);
        self.notes.move_cursor(ratatui_textarea::CursorMove::End);
        self.focus = Pane::Notes;
        self.editing = true;
        self.message_draft = Some(MessageDraft { item: id.clone(), channel: channel.clone(), next_update });
        self.flash = Some(match &channel {
            Some(channel) => format!("editing the message for {id}: Ctrl-S sends it on {channel}"),
            None => format!("editing the message for {id}: Ctrl-S saves it as a note"),
        });
        effects.push(Effect::SaveDraft(self.draft_to_keep()));
        effects
    }

    /// Asks before sending, when there is a channel and this viewer may send.
    fn confirm_send(
        &mut self,
        item: String,
        channel: Option<String>,
        text: String,
        next_update: Option<DateTime<Utc>>,
    ) {
        match channel {
            Some(channel) if !self.read_only => {
                self.overlay = Some(Overlay::ConfirmSend { item, channel, text, next_update })
            }
            Some(_) => self.flash = Some("read-only viewer: nothing is sent".into()),
            None => self.flash = Some("this item has no channel; copy (c) or edit (e) it".into()),
        }
    }

    pub fn on_mouse(&mut self, m: MouseEvent) -> Vec<Effect> {
        let hit = Pane::ALL.into_iter().find(|p| {
            let a = self.areas[*p];
            m.column >= a.x && m.column < a.x + a.width && m.row >= a.y && m.row < a.y + a.height
        });
        let Some(pane) = hit else { return Vec::new() };
        match m.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                self.focus = pane;
                let area = self.areas[pane];
                let row = m.row.saturating_sub(area.y + 1) as usize;
                let offset = super::draw::scroll_offset(self, pane, area.height.saturating_sub(2) as usize);
                let rows = self.rows(pane);
                if pane != Pane::Notes && offset + row < rows {
                    self.selected[pane] = offset + row;
                    if pane == Pane::Timeline {
                        self.at_newest = offset + row + 1 >= rows;
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
        if self.at_newest {
            self.selected[Pane::Timeline] = rows.saturating_sub(1);
        }
        for pane in [Pane::Checks, Pane::Checklist] {
            let rows = self.rows(pane);
            let sel = &mut self.selected[pane];
            *sel = (*sel).min(rows.saturating_sub(1));
        }
        self.anchor_checklist();
    }
}

impl App {
    /// One key on a failing check or an alert row adopts it as the incident's signal: its
    /// journaled failure becomes a pinned key event and, while the incident has no title of
    /// its own, the incident takes the alert's title and severity.
    fn declare_from_signal(&mut self) -> Vec<Effect> {
        let Some(row) = self.selected_check() else { return Vec::new() };
        let name = row.name.clone();
        if !self.board.row_state(row).is_failing() {
            self.flash = Some(format!("{name} is not failing: nothing to declare from"));
            return Vec::new();
        }
        let incident = &self.board.incident;
        let failure = incident.timeline.iter().enumerate().rev().find(|(_, e)| {
            matches!(&e.body, EventBody::CheckChanged { check, to, .. }
                if *check == name && matches!(to, CheckState::Down | CheckState::Degraded))
        });
        let Some((at, event)) = failure else {
            self.flash = Some(format!("{name}'s failure is not in the journal yet (still being confirmed): try again"));
            return Vec::new();
        };
        let EventBody::CheckChanged { to, detail, .. } = &event.body else { return Vec::new() };
        let mut bodies = Vec::new();
        if !incident.has_own_title() {
            let (title, severity) = signal_title(row, detail, *to);
            self.flash = Some(format!("declared from {name}: \"{title}\", SEV{severity}; pinned as a key event"));
            bodies.push(EventBody::IncidentOpened {
                title,
                severity,
                mode: incident.mode,
                checklist: incident.checklist_name.clone(),
            });
        } else {
            self.flash = Some(format!("{name} attached as a key event"));
        }
        if incident.pinned_by(at).is_none() {
            bodies.push(EventBody::EventPinned { event: event.id.clone() });
        }
        if bodies.is_empty() {
            self.flash = Some(format!("{name} is already a key event"));
            return Vec::new();
        }
        if self.read_only {
            self.flash = Some("read-only viewer: nothing is written".into());
            return Vec::new();
        }
        vec![Effect::Append(bodies)]
    }
}

/// The incident's title and severity from a signal: an alert's name and summary and its
/// `[severity]` label; a check's name and state.
fn signal_title(row: &Row, detail: &str, to: CheckState) -> (String, u8) {
    let label = detail.strip_prefix('[').and_then(|rest| rest.split_once("] "));
    let (severity_label, summary) = label.map_or(("", detail), |(label, summary)| (label, summary));
    let severity = match severity_label.to_ascii_lowercase().as_str() {
        "critical" | "page" | "emergency" => 1,
        "high" | "error" | "major" => 2,
        "warning" | "warn" | "medium" => 3,
        "info" | "low" | "minor" => 4,
        _ if to == CheckState::Down => 2,
        _ => 3,
    };
    let summary = summary.trim_end_matches(" (silenced)").trim();
    let title = match &row.id.key {
        Some(alert) if !summary.is_empty() => format!("{alert}: {summary}"),
        Some(alert) => alert.clone(),
        None => format!("{} {}", row.id.check, to.as_str()),
    };
    (crate::sanitize::sanitize_str(&title, 100), severity)
}

/// Why an item that needs roles recorded cannot be ticked yet, and how to record them.
fn roles_first(missing: &[&str]) -> String {
    format!(
        "record the roles first — nobody is recorded as {} (warroom role ROLE PERSON)",
        missing.iter().map(|r| crate::sanitize::sanitize_str(r, 30)).collect::<Vec<_>>().join(", ")
    )
}

/// What a replay's banner says: where it stands and its keys.
fn replay_banner(position: &ReplayPosition, now: DateTime<Utc>) -> String {
    let state = if position.paused {
        "⏸ paused"
    } else if position.finished() {
        "■ end"
    } else {
        "▶ playing"
    };
    format!(
        "REPLAY ×{} {state} · {}/{} events · {} UTC · Space pause · n next · . step · +/- speed",
        position.speed,
        position.at,
        position.of,
        now.format("%H:%M:%S")
    )
}
