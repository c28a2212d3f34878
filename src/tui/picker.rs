//! A small chooser for the commander's verbs: a list to pick from, optionally ending in
//! "type…" for free text, or a text prompt alone. It only chooses; what the choice means
//! (which event it writes) is [`super::app`]'s, through [`crate::commands`].

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a picker is asking for, and what was chosen before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// Which role to assign.
    Role,
    /// Who takes `role`.
    RolePerson { role: String },
    /// The status to move to.
    Status,
    /// The severity to set.
    Severity,
    /// A milestone to record.
    Milestone,
    /// A follow-up's text.
    FollowUpText,
    /// The owner of the follow-up `text`.
    FollowUpOwner { text: String },
    /// Why the note with this id is struck (optional).
    StrikeReason { event: String },
}

/// One choice: what is shown, and what it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub label: String,
    pub value: String,
}

impl Choice {
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Choice {
        Choice { label: label.into(), value: value.into() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picker {
    pub ask: Ask,
    pub title: String,
    /// Said above the choices (what is being decided, e.g. the note being struck).
    pub context: Vec<String>,
    pub choices: Vec<Choice>,
    /// The label of a last "type it" choice, when free text is allowed.
    pub free: Option<String>,
    /// Text being typed (free text, or a prompt with no choices).
    pub typing: Option<String>,
    /// An empty typed answer is a valid one (an optional reason).
    pub empty_ok: bool,
    pub selected: usize,
}

/// What a key did to a picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Picked {
    /// Still choosing.
    Open,
    Cancelled,
    /// The value chosen or typed.
    Chose(String),
}

/// The most text a prompt takes (a journal line holds far more; a one-line prompt is not
/// the place for an essay: that is what notes are for).
const MAX_TYPED: usize = 500;

impl Picker {
    /// A list of choices, with a last "type…" choice when `free` names it.
    pub fn list(ask: Ask, title: impl Into<String>, choices: Vec<Choice>, free: Option<&str>) -> Picker {
        Picker {
            ask,
            title: title.into(),
            context: Vec::new(),
            choices,
            free: free.map(str::to_string),
            typing: None,
            empty_ok: false,
            selected: 0,
        }
    }

    /// A text prompt, starting with `text`.
    pub fn prompt(ask: Ask, title: impl Into<String>, text: &str) -> Picker {
        let mut p = Picker::list(ask, title, Vec::new(), None);
        p.typing = Some(text.chars().take(MAX_TYPED).collect());
        p
    }

    pub fn with_context(mut self, lines: Vec<String>) -> Picker {
        self.context = lines;
        self
    }

    /// How many rows the list has (the "type…" row included).
    pub fn rows(&self) -> usize {
        self.choices.len() + usize::from(self.free.is_some())
    }

    pub fn on_key(&mut self, key: KeyEvent) -> Picked {
        match &mut self.typing {
            Some(text) => match key.code {
                KeyCode::Enter if self.empty_ok || !text.trim().is_empty() => Picked::Chose(text.trim().to_string()),
                KeyCode::Esc if self.choices.is_empty() => Picked::Cancelled,
                KeyCode::Esc => {
                    self.typing = None;
                    Picked::Open
                }
                KeyCode::Backspace => {
                    text.pop();
                    Picked::Open
                }
                KeyCode::Char(c) if !c.is_control() && text.chars().count() < MAX_TYPED => {
                    text.push(c);
                    Picked::Open
                }
                _ => Picked::Open,
            },
            None => self.on_list_key(key),
        }
    }

    fn on_list_key(&mut self, key: KeyEvent) -> Picked {
        let last = self.rows().saturating_sub(1);
        // Where a name may be typed, typing it is what a tired hand does: the first letter
        // starts the typed answer (arrows and digits still choose from the list).
        if let KeyCode::Char(c) = key.code
            && self.free.is_some()
            && !c.is_ascii_digit()
            && !c.is_control()
            && !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        {
            self.typing = Some(c.to_string());
            return Picked::Open;
        }
        match key.code {
            KeyCode::Down | KeyCode::Char('j') | KeyCode::Tab => self.selected = (self.selected + 1).min(last),
            KeyCode::Up | KeyCode::Char('k') | KeyCode::BackTab => self.selected = self.selected.saturating_sub(1),
            KeyCode::Home | KeyCode::Char('g') => self.selected = 0,
            KeyCode::End | KeyCode::Char('G') => self.selected = last,
            // A digit picks the row it numbers, as drawn.
            KeyCode::Char(c @ '1'..='9') => {
                let row = c as usize - '1' as usize;
                if row <= last {
                    self.selected = row;
                    return self.choose();
                }
            }
            KeyCode::Enter => return self.choose(),
            KeyCode::Esc | KeyCode::Char('q') => return Picked::Cancelled,
            _ => {}
        }
        Picked::Open
    }

    fn choose(&mut self) -> Picked {
        match self.choices.get(self.selected) {
            Some(choice) => Picked::Chose(choice.value.clone()),
            None if self.free.is_some() => {
                self.typing = Some(String::new());
                Picked::Open
            }
            None => Picked::Open,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(p: &mut Picker, code: KeyCode) -> Picked {
        p.on_key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    #[test]
    fn choose_by_moving_by_digit_or_by_typing() {
        let choices = vec![Choice::new("alice (here)", "alice"), Choice::new("bob", "bob")];
        let mut p = Picker::list(Ask::Status, "who", choices, Some("someone else…"));
        assert_eq!(key(&mut p, KeyCode::Down), Picked::Open);
        assert_eq!(key(&mut p, KeyCode::Enter), Picked::Chose("bob".into()));
        assert_eq!(key(&mut p, KeyCode::Char('1')), Picked::Chose("alice".into()));
        assert_eq!(key(&mut p, KeyCode::Char('3')), Picked::Open, "the free-text row starts typing");
        for c in "carol".chars() {
            key(&mut p, KeyCode::Char(c));
        }
        assert_eq!(key(&mut p, KeyCode::Enter), Picked::Chose("carol".into()));
        assert_eq!(key(&mut p, KeyCode::Esc), Picked::Open, "Esc leaves typing for the list");
        assert_eq!(key(&mut p, KeyCode::Esc), Picked::Cancelled);
    }

    /// "f", a follow-up, Enter, "bob", Enter saved it with no owner: the letters were
    /// ignored and Enter took the first row. Where a name may be typed, a letter starts it;
    /// a list with no free text keeps j and k for moving.
    #[test]
    fn a_letter_starts_the_typed_answer_where_one_is_allowed() {
        let choices = vec![Choice::new("(no owner yet)", ""), Choice::new("alice (here)", "alice")];
        let mut p = Picker::list(Ask::Status, "who", choices.clone(), Some("someone else…"));
        for c in "bob".chars() {
            assert_eq!(key(&mut p, KeyCode::Char(c)), Picked::Open);
        }
        assert_eq!(key(&mut p, KeyCode::Enter), Picked::Chose("bob".into()));
        let mut p = Picker::list(Ask::Status, "who", choices.clone(), Some("someone else…"));
        assert_eq!(key(&mut p, KeyCode::Char('2')), Picked::Chose("alice".into()), "digits still choose");
        let mut p = Picker::list(Ask::Status, "status", choices, None);
        assert_eq!(key(&mut p, KeyCode::Char('j')), Picked::Open);
        assert_eq!(key(&mut p, KeyCode::Enter), Picked::Chose("alice".into()), "j moves where nothing is typed");
    }

    #[test]
    fn a_prompt_wants_text_unless_empty_is_allowed() {
        let mut p = Picker::prompt(Ask::FollowUpText, "what", "");
        assert_eq!(key(&mut p, KeyCode::Enter), Picked::Open);
        p.empty_ok = true;
        assert_eq!(key(&mut p, KeyCode::Enter), Picked::Chose(String::new()));
        assert_eq!(key(&mut p, KeyCode::Esc), Picked::Cancelled);
    }
}
