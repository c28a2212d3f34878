//! The commander's verbs on the screen: roles, status and severity (pick, then confirm),
//! milestones, unpinning, striking and correcting notes, follow-ups, and the brief. Each
//! writes the events [`crate::commands`] builds (the command line writes the same), as an
//! [`Effect::Append`] the session journals.

use crossterm::event::KeyEvent;

use super::app::{App, Effect, Overlay, Pane};
use super::keys::Action;
use super::picker::{Ask, Choice, Picked, Picker};
use crate::commands;
use crate::journal::{EventBody, Milestone, Status};
use crate::sanitize::sanitize_str;

impl App {
    /// Opens a picker, unless this screen never writes.
    fn ask(&mut self, picker: Picker) -> Vec<Effect> {
        if self.read_only {
            self.flash = Some("read-only viewer: nothing is written".into());
        } else {
            self.overlay = Some(Overlay::Picker(picker));
        }
        Vec::new()
    }

    /// An event of this session already on its way to the disk, so a second key press in
    /// the meantime does not write it twice.
    fn is_pending(&self, body: &EventBody) -> bool {
        self.pending.iter().any(|e| &e.body == body)
    }

    /// Writes the bodies, or says why not (refused, already so, or already on its way).
    fn write_all(&mut self, bodies: Result<Vec<EventBody>, String>, done: String) -> Vec<Effect> {
        match bodies {
            Err(why) => {
                self.flash = Some(sanitize_str(&why, 200));
                Vec::new()
            }
            Ok(bodies) if bodies.is_empty() || bodies.iter().all(|b| self.is_pending(b)) => {
                self.flash = Some(format!("{done}: already so, nothing written"));
                Vec::new()
            }
            Ok(bodies) if self.read_only => {
                let _ = bodies;
                self.flash = Some("read-only viewer: nothing is written".into());
                Vec::new()
            }
            Ok(bodies) => {
                self.flash = Some(done);
                vec![Effect::Append(bodies)]
            }
        }
    }

    /// The verbs' keys; `None` for an action that is not one of them.
    pub(super) fn on_verb(&mut self, action: Action) -> Option<Vec<Effect>> {
        Some(match action {
            Action::Role => self.ask(self.role_picker()),
            Action::SetStatus => self.ask(self.status_picker()),
            Action::SetSeverity => self.ask(self.severity_picker()),
            Action::Milestone => self.milestone_key(),
            Action::Pin if self.focus == Pane::Timeline => self.pin_key(),
            Action::Strike if self.focus == Pane::Timeline => self.strike_key(),
            Action::Correct if self.focus == Pane::Timeline => self.correct_key(),
            Action::FollowUp => self.follow_up_key(),
            Action::Brief => {
                self.open_brief();
                Vec::new()
            }
            Action::Strike | Action::Correct => {
                self.flash = Some("select a note in the Timeline (2) first".into());
                Vec::new()
            }
            _ => return None,
        })
    }

    // ---------------------------------------------------------------------------------
    // Roles

    fn role_picker(&self) -> Picker {
        let choices = commands::ROLES
            .iter()
            .map(|role| {
                let holder = self.board.incident.role(role).map_or("nobody".into(), |p| sanitize_str(p, 40));
                Choice::new(format!("{role:<10} now: {holder}"), *role)
            })
            .collect();
        Picker::list(Ask::Role, "Assign a role", choices, Some("a named expert (type the role)…"))
    }

    /// The operators present first, then everyone else the journal knows, then free text.
    fn person_picker(&self, role: String) -> Picker {
        let present: Vec<String> = self.board.present().into_iter().map(str::to_string).collect();
        let mut choices: Vec<Choice> =
            present.iter().map(|p| Choice::new(format!("{} (here)", sanitize_str(p, 60)), p.clone())).collect();
        for known in self.board.incident.people().into_iter().filter(|k| !present.iter().any(|p| p == k)) {
            choices.push(Choice::new(sanitize_str(known, 60), known));
        }
        let holder = self.board.incident.role(&role).map(|p| format!("now: {}", sanitize_str(p, 60)));
        let title = format!("Who is {}?", sanitize_str(&role, 40));
        Picker::list(Ask::RolePerson { role }, title, choices, Some("someone else (type the name)…"))
            .with_context(holder.into_iter().collect())
    }

    fn assign(&mut self, role: &str, person: &str) -> Vec<Effect> {
        let body = commands::assign_role(&self.board.incident, role, person);
        let done = format!("{}: {}", sanitize_str(&role.to_lowercase(), 40), sanitize_str(person, 60));
        self.write_all(body.map(|b| b.into_iter().collect()), done)
    }

    // ---------------------------------------------------------------------------------
    // Status and severity: pick the target, then confirm

    fn status_picker(&self) -> Picker {
        let now = self.board.incident.status;
        let choices = Status::ALL
            .iter()
            .map(|s| Choice::new(format!("{}{}", s.as_str(), if *s == now { " (now)" } else { "" }), s.as_str()))
            .collect();
        let mut p = Picker::list(Ask::Status, "Set the status", choices, None);
        p.selected = Status::ALL.iter().position(|s| *s == now.next()).unwrap_or(0);
        p
    }

    fn severity_picker(&self) -> Picker {
        let now = self.board.incident.severity;
        let choices = (1..=5u8)
            .map(|n| {
                let what = match n {
                    1 => " (worst)",
                    5 => " (least)",
                    _ => "",
                };
                let mark = if Some(n) == now { " (now)" } else { "" };
                Choice::new(format!("SEV{n}{what}{mark}"), n.to_string())
            })
            .collect();
        let mut p = Picker::list(Ask::Severity, "Set the severity", choices, None);
        p.selected = usize::from(now.unwrap_or(3).saturating_sub(1));
        p
    }

    fn confirm_status(&mut self, status: Status) -> Vec<Effect> {
        let incident = &self.board.incident;
        let bodies = commands::change_status(incident, status);
        if bodies.is_empty() {
            self.flash = Some(format!("the status is already {}", status.as_str()));
            return Vec::new();
        }
        let mut lines = vec![format!("{} → {}", incident.status.as_str(), status.as_str())];
        let failing = if status == Status::Resolved { commands::failing_for_resolve(incident) } else { Vec::new() };
        let title = if failing.is_empty() {
            "Change the status?".to_string()
        } else {
            lines.push(String::new());
            lines.push(format!("The journal still records {} failing:", failing.len()));
            lines.extend(failing.iter().map(|f| format!("  ✖ {f}")));
            "Resolve while checks fail?".to_string()
        };
        let open = incident.open_follow_ups().count();
        if status == Status::Resolved && open > 0 {
            lines.push(format!("{open} follow-up(s) still open."));
        }
        lines.push(String::new());
        lines.push(
            if failing.is_empty() {
                "y confirms · any other key cancels"
            } else {
                "y resolves anyway · any other key cancels"
            }
            .into(),
        );
        self.overlay = Some(Overlay::Confirm { title, lines, bodies });
        Vec::new()
    }

    fn confirm_severity(&mut self, severity: u8) -> Vec<Effect> {
        match commands::change_severity(&self.board.incident, severity) {
            Ok(Some(body)) => {
                let from = self.board.incident.severity.map_or("—".into(), |s| format!("SEV{s}"));
                let lines =
                    vec![format!("{from} → SEV{severity}"), String::new(), "y confirms · any other key cancels".into()];
                self.overlay =
                    Some(Overlay::Confirm { title: "Change the severity?".into(), lines, bodies: vec![body] });
            }
            Ok(None) => self.flash = Some(format!("the severity is already SEV{severity}")),
            Err(why) => self.flash = Some(why),
        }
        Vec::new()
    }

    pub(super) fn on_confirm_key(&mut self, bodies: Vec<EventBody>, key: KeyEvent) -> Vec<Effect> {
        use crossterm::event::KeyCode;
        self.overlay = None;
        if matches!(key.code, KeyCode::Char('y') | KeyCode::Char('Y')) {
            let done =
                bodies.first().map_or(String::new(), |b| crate::journal::Event::new(&self.me, b.clone()).summary());
            return self.write_all(Ok(bodies), done);
        }
        self.flash = Some("nothing changed".into());
        Vec::new()
    }

    // ---------------------------------------------------------------------------------
    // Milestones: acknowledged and mitigated, each once

    fn milestone_key(&mut self) -> Vec<Effect> {
        let missing: Vec<Milestone> = commands::missing_milestones(&self.board.incident)
            .into_iter()
            .filter(|m| *m != Milestone::Detected)
            .filter(|m| !self.is_pending(&EventBody::MilestoneReached { milestone: *m, at: None, check: None }))
            .collect();
        if missing.is_empty() {
            self.flash = Some("acknowledged and mitigated are both recorded".into());
            return Vec::new();
        }
        let choices = missing.iter().map(|m| Choice::new(format!("{} now", m.as_str()), m.as_str())).collect();
        self.ask(Picker::list(Ask::Milestone, "Record a milestone", choices, None))
    }

    fn reach(&mut self, milestone: Milestone) -> Vec<Effect> {
        let body = commands::reach_milestone(&self.board.incident, milestone);
        self.write_all(body.map(|b| vec![b]), format!("{}: recorded", milestone.as_str()))
    }

    // ---------------------------------------------------------------------------------
    // Pins, strikes, corrections

    fn pin_key(&mut self) -> Vec<Effect> {
        let Some(i) = self.selected_event() else { return Vec::new() };
        let pin = self.board.incident.pinned_by(i).is_none();
        let body = commands::set_pinned(&self.board.incident, i, pin);
        self.write_all(Ok(body.into_iter().collect()), if pin { "pinned as a key event" } else { "unpinned" }.into())
    }

    /// The selected timeline note, if it may be amended; otherwise says why.
    fn amendable(&mut self) -> Option<(usize, String)> {
        let i = self.selected_event()?;
        match commands::amendable_note(&self.board.incident, i) {
            Ok(text) => Some((i, text.to_string())),
            Err(why) => {
                self.flash = Some(sanitize_str(&why, 200));
                None
            }
        }
    }

    fn strike_key(&mut self) -> Vec<Effect> {
        let Some((i, text)) = self.amendable() else { return Vec::new() };
        let event = self.board.incident.timeline[i].id.clone();
        let mut p = Picker::prompt(Ask::StrikeReason { event }, "Strike this note? Why (optional), Enter strikes", "")
            .with_context(vec![format!("✎ {}", sanitize_str(&text, 200))]);
        p.empty_ok = true;
        self.ask(p)
    }

    fn strike(&mut self, event: &str, reason: &str) -> Vec<Effect> {
        let Some(i) = self.board.incident.find(event) else { return Vec::new() };
        let body = commands::strike_note(&self.board.incident, i, Some(reason));
        self.write_all(body.map(|b| vec![b]), "note struck".into())
    }

    /// Puts the note's text in the editor; saving it writes a correction, not a new note.
    fn correct_key(&mut self) -> Vec<Effect> {
        if self.read_only {
            self.flash = Some("read-only viewer: nothing is written".into());
            return Vec::new();
        }
        if self.has_draft() && self.correcting.is_none() {
            self.flash = Some("a note is being written: save it (Ctrl-s) or clear it first".into());
            return Vec::new();
        }
        let Some((i, text)) = self.amendable() else { return Vec::new() };
        self.correcting = Some(self.board.incident.timeline[i].id.clone());
        self.set_draft(&text);
        self.focus = Pane::Notes;
        self.editing = true;
        self.flash = Some("correcting the note: Ctrl-s saves the correction, Esc abandons it".into());
        Vec::new()
    }

    /// Ctrl-s while correcting: the correction, referring to the original.
    pub(super) fn commit_correction(&mut self, event: String) -> Vec<Effect> {
        let text = self.draft().trim().to_string();
        let Some(i) = self.board.incident.find(&event) else {
            self.correcting = None;
            return Vec::new();
        };
        match commands::correct_note(&self.board.incident, i, &text) {
            Ok(body) => {
                self.correcting = None;
                self.editing = false;
                self.set_draft("");
                self.flash = Some("correction saved".into());
                vec![Effect::Append(vec![body]), Effect::SaveDraft(self.draft_to_keep())]
            }
            Err(why) => {
                self.flash = Some(sanitize_str(&why, 200));
                Vec::new()
            }
        }
    }

    /// Esc while correcting: the correction is abandoned, and the original text leaves the editor.
    pub(super) fn abandon_correction(&mut self) -> Vec<Effect> {
        self.correcting = None;
        self.editing = false;
        self.set_draft("");
        self.flash = Some("correction abandoned".into());
        vec![Effect::SaveDraft(self.draft_to_keep())]
    }

    // ---------------------------------------------------------------------------------
    // Follow-ups

    /// From the selected note when the timeline has one, else typed.
    fn follow_up_key(&mut self) -> Vec<Effect> {
        let from_note = (self.focus == Pane::Timeline)
            .then(|| self.selected_event())
            .flatten()
            .and_then(|i| commands::amendable_note(&self.board.incident, i).ok().map(str::to_string));
        let text = from_note.as_deref().map(|t| t.replace('\n', " ")).unwrap_or_default();
        self.ask(Picker::prompt(Ask::FollowUpText, "Follow-up: what must be done? Enter, then its owner", &text))
    }

    fn owner_picker(&self, text: String) -> Picker {
        let mut choices = vec![Choice::new("(no owner yet)", "")];
        let present: Vec<String> = self.board.present().into_iter().map(str::to_string).collect();
        choices.extend(present.iter().map(|p| Choice::new(format!("{} (here)", sanitize_str(p, 60)), p.clone())));
        for known in self.board.incident.people().into_iter().filter(|k| !present.iter().any(|p| p == k)) {
            choices.push(Choice::new(sanitize_str(known, 60), known));
        }
        let context = vec![format!("→ {}", sanitize_str(&text, 200))];
        Picker::list(Ask::FollowUpOwner { text }, "Who owns it?", choices, Some("someone else (type the name)…"))
            .with_context(context)
    }

    // ---------------------------------------------------------------------------------
    // The picker's answers

    pub(super) fn on_picker_key(&mut self, mut picker: Picker, key: KeyEvent) -> Vec<Effect> {
        self.overlay = None;
        match picker.on_key(key) {
            Picked::Open => {
                self.overlay = Some(Overlay::Picker(picker));
                Vec::new()
            }
            Picked::Cancelled => {
                self.flash = Some("nothing changed".into());
                Vec::new()
            }
            Picked::Chose(value) => self.on_picked(picker.ask, value),
        }
    }

    fn on_picked(&mut self, ask: Ask, value: String) -> Vec<Effect> {
        match ask {
            Ask::Role => match commands::plain_name("role", &value, 40) {
                Ok(role) => self.ask(self.person_picker(role.to_lowercase())),
                Err(why) => {
                    self.flash = Some(why);
                    Vec::new()
                }
            },
            Ask::RolePerson { role } => self.assign(&role, &value),
            Ask::Status => match Status::ALL.into_iter().find(|s| s.as_str() == value) {
                Some(status) => self.confirm_status(status),
                None => Vec::new(),
            },
            Ask::Severity => match value.parse() {
                Ok(n) => self.confirm_severity(n),
                Err(_) => Vec::new(),
            },
            Ask::Milestone => match commands::SETTABLE_MILESTONES.into_iter().find(|m| m.as_str() == value) {
                Some(m) => self.reach(m),
                None => Vec::new(),
            },
            Ask::FollowUpText => self.ask(self.owner_picker(value)),
            Ask::FollowUpOwner { text } => {
                let owner = (!value.is_empty()).then_some(value.as_str());
                let body = commands::add_follow_up(&text, owner);
                self.write_all(body.map(|b| vec![b]), "follow-up added".into())
            }
            Ask::StrikeReason { event } => self.strike(&event, &value),
        }
    }

    // ---------------------------------------------------------------------------------
    // The brief

    /// Shows the brief for this operator, at the board's clock.
    pub fn open_brief(&mut self) {
        let text = crate::brief::render(&self.board, &self.me);
        self.overlay = Some(Overlay::Brief { text, scroll: 0 });
    }

    pub(super) fn on_brief_key(&mut self, text: String, scroll: usize, key: KeyEvent) -> Vec<Effect> {
        let last = text.lines().count().saturating_sub(1);
        let to = match self.keys.action(&key) {
            Some(Action::Copy) => {
                self.overlay = Some(Overlay::Brief { text: text.clone(), scroll });
                return vec![Effect::Copy { what: "brief", text }];
            }
            Some(Action::Down) => (scroll + 1).min(last),
            Some(Action::Up) => scroll.saturating_sub(1),
            Some(Action::PageDown) => (scroll + 10).min(last),
            Some(Action::PageUp) => scroll.saturating_sub(10),
            Some(Action::Top) => 0,
            Some(Action::Quit) => return self.on_action(Action::Quit),
            _ => {
                self.overlay = None;
                return Vec::new();
            }
        };
        self.overlay = Some(Overlay::Brief { text, scroll: to });
        Vec::new()
    }

    /// Scrolls the help if the key is a movement; false for any other key (which closes it).
    pub(super) fn scroll_help(&mut self, key: KeyEvent) -> bool {
        let last = Action::ALL.len();
        self.help_scroll = match self.keys.action(&key) {
            Some(Action::Down) => (self.help_scroll + 1).min(last),
            Some(Action::Up) => self.help_scroll.saturating_sub(1),
            Some(Action::PageDown) => (self.help_scroll + 10).min(last),
            Some(Action::PageUp) => self.help_scroll.saturating_sub(10),
            _ => return false,
        };
        true
    }

    /// This operator was handed the commander role: the brief, unless they are in the middle
    /// of answering something (a picker, a confirmation), which it would throw away.
    pub(super) fn on_handed_command(&mut self) {
        let busy = matches!(
            self.overlay,
            Some(
                Overlay::Picker(_)
                    | Overlay::Confirm { .. }
                    | Overlay::ConfirmSend { .. }
                    | Overlay::ConfirmQuit
                    | Overlay::ConfirmPromote { .. }
            )
        );
        if busy {
            let key = self.keys.keys_for(Action::Brief);
            self.flash = Some(format!("you are now the incident commander: {key} shows the brief"));
        } else {
            self.open_brief();
        }
    }

    /// Whether these entries hand the commander role to this operator: then the brief opens,
    /// so whoever takes over starts from the whole picture.
    pub(super) fn handed_command(&self, events: &[crate::journal::Event]) -> bool {
        let me = self.me.as_str();
        let user = me.split('@').next().unwrap_or(me);
        !self.read_only
            && !me.is_empty()
            && events.iter().any(|e| {
                matches!(&e.body, EventBody::RoleAssigned { role, person }
                    if role == "commander" && (person == me || person == user))
            })
    }
}
