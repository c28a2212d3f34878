//! Key bindings: what each key does, remappable in `[keys]`, shown by `?` from the same table
//! (so the help is never stale).

use std::collections::HashMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

macro_rules! actions {
    ($($action:ident = $name:literal, $help:literal, [$($key:literal),*];)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action { $($action),* }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$action),*];

            /// The name used in the config's `[keys]` table.
            pub fn name(self) -> &'static str {
                match self { $(Action::$action => $name),* }
            }

            pub fn help(self) -> &'static str {
                match self { $(Action::$action => $help),* }
            }

            fn default_keys(self) -> &'static [&'static str] {
                match self { $(Action::$action => &[$($key),*]),* }
            }
        }
    };
}

actions! {
    NextPane = "next_pane", "next pane", ["Tab"];
    PrevPane = "prev_pane", "previous pane", ["Shift-Tab"];
    FocusChecks = "pane_checks", "go to Checks", ["1"];
    FocusTimeline = "pane_timeline", "go to Timeline", ["2"];
    FocusChecklist = "pane_checklist", "go to Checklist", ["3"];
    FocusNotes = "pane_notes", "go to Notes", ["4"];
    Down = "down", "move down", ["j", "Down"];
    Up = "up", "move up", ["k", "Up"];
    PageDown = "page_down", "page down", ["PageDown", "Ctrl-d"];
    PageUp = "page_up", "page up", ["PageUp", "Ctrl-u"];
    Top = "top", "first row", ["g", "Home"];
    Bottom = "bottom", "last row (timeline: back to the newest entry)", ["G", "End"];
    Open = "open", "open detail (Notes: start editing)", ["Enter"];
    Close = "close", "close / stop editing", ["Esc"];
    Zoom = "zoom", "zoom the pane to full screen", ["z"];
    Edit = "edit", "write a note", ["i"];
    Commit = "commit", "save the note to the timeline", ["Ctrl-s"];
    Toggle = "toggle", "tick / untick checklist item", ["Space"];
    RunNow = "run_now", "run the selected check now", ["r"];
    Pause = "pause", "pause / resume the selected check", ["p"];
    Acknowledge = "acknowledge", "acknowledge the selected failing check", ["a"];
    Declare = "declare", "declare from the failing check or alert", ["D"];
    Pin = "pin", "pin / unpin the selected event as key", ["*"];
    SetStatus = "status", "set the incident status (pick, then confirm)", ["s"];
    SetSeverity = "severity", "set the severity, 1 worst … 5 (pick, confirm)", ["S"];
    Role = "role", "assign a role or hand it over", ["R"];
    Milestone = "milestone", "record acknowledged / mitigated", ["M"];
    Strike = "strike", "strike the selected note (Timeline)", ["x"];
    Correct = "correct", "correct the selected note in Notes (Timeline)", ["C"];
    FollowUp = "follow_up", "add a follow-up (Timeline: from the note)", ["f"];
    Brief = "brief", "the brief for joining or taking over", ["b"];
    Filter = "filter", "filter the timeline", ["/"];
    StateTimeline = "state_timeline", "state timeline; again: 15 min, 1 h, all", ["T"];
    Copy = "copy", "copy the item's message (OSC 52)", ["c"];
    EditMessage = "edit_message", "edit the item's message in Notes", ["e"];
    Send = "send", "send the item's message on its channel", ["m"];
    Promote = "promote", "promote a mirror's copy to primary (y/n)", ["P"];
    Help = "help", "this help", ["?", "F1"];
    Quit = "quit", "quit", ["q"];
}

/// One key with its modifiers, normalised (a typed `S` is `S`, not Shift-s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

impl Key {
    pub fn from_event(e: &KeyEvent) -> Key {
        Key {
            code: match e.code {
                KeyCode::Char(c) if e.modifiers.contains(KeyModifiers::CONTROL) => {
                    KeyCode::Char(c.to_ascii_lowercase())
                }
                other => other,
            },
            ctrl: e.modifiers.contains(KeyModifiers::CONTROL),
            alt: e.modifiers.contains(KeyModifiers::ALT),
        }
    }

    pub fn parse(text: &str) -> Result<Key, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = text.trim();
        loop {
            let lower = rest.to_ascii_lowercase();
            if let Some(r) =
                ["ctrl-", "ctrl+", "c-"].iter().find_map(|p| lower.strip_prefix(p).map(|_| &rest[p.len()..]))
            {
                ctrl = true;
                rest = r;
            } else if let Some(r) =
                ["alt-", "alt+", "m-"].iter().find_map(|p| lower.strip_prefix(p).map(|_| &rest[p.len()..]))
            {
                alt = true;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest.to_ascii_lowercase().as_str() {
            "tab" => KeyCode::Tab,
            "shift-tab" | "shift+tab" | "backtab" => KeyCode::BackTab,
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "space" => KeyCode::Char(' '),
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pageup" => KeyCode::PageUp,
            "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            f if f.len() >= 2 && f.starts_with('f') && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) => {
                KeyCode::F(f[1..].parse().unwrap_or(1))
            }
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if !c.is_control() => KeyCode::Char(if ctrl { c.to_ascii_lowercase() } else { c }),
                    _ => return Err(format!("\"{text}\" is not a key (e.g. \"q\", \"Ctrl-s\", \"Tab\", \"F1\")")),
                }
            }
        };
        Ok(Key { code, ctrl, alt })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            write!(f, "Ctrl-")?;
        }
        if self.alt {
            write!(f, "Alt-")?;
        }
        match self.code {
            KeyCode::Char(' ') => write!(f, "Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::BackTab => write!(f, "Shift-Tab"),
            KeyCode::F(n) => write!(f, "F{n}"),
            KeyCode::PageUp => write!(f, "PgUp"),
            KeyCode::PageDown => write!(f, "PgDn"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct KeyMap {
    map: HashMap<Key, Action>,
    keys: Vec<(Action, Vec<Key>)>,
}

impl KeyMap {
    pub fn defaults() -> KeyMap {
        Self::with_overrides(&[]).unwrap_or_else(|(_, e)| panic!("the default bindings conflict: {e}"))
    }

    /// Defaults with rebindings from the config, errors located at the `[keys]` line.
    pub fn from_config(config: &crate::config::Config) -> Result<KeyMap, String> {
        let overrides: Vec<(String, Vec<String>)> =
            config.keys.iter().map(|b| (b.action.clone(), b.keys.clone())).collect();
        Self::with_overrides(&overrides).map_err(|(action, message)| {
            let file = config.source.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "config".into());
            let line = action.and_then(|a| config.keys.iter().find(|b| b.action == a)).map_or(0, |b| b.line);
            format!("{file}:{line}: [keys]: {message}")
        })
    }

    /// Defaults with some actions rebound: `(action name, keys)`. Rejects unknown actions,
    /// bad key names, and any key bound to two actions; the error names the rebound action.
    pub fn with_overrides(overrides: &[(String, Vec<String>)]) -> Result<KeyMap, (Option<String>, String)> {
        let mut keys: Vec<(Action, Vec<Key>)> = Action::ALL
            .iter()
            .map(|a| (*a, a.default_keys().iter().map(|k| Key::parse(k).expect("default keys parse")).collect()))
            .collect();
        for (name, texts) in overrides {
            let action = Action::ALL.iter().find(|a| a.name() == name).ok_or_else(|| {
                let known = Action::ALL.iter().map(|a| a.name()).collect::<Vec<_>>().join(", ");
                (Some(name.clone()), format!("unknown action `{name}`; actions are {known}"))
            })?;
            let parsed = texts
                .iter()
                .map(|t| Key::parse(t).map_err(|e| (Some(name.clone()), format!("`{name}`: {e}"))))
                .collect::<Result<Vec<_>, _>>()?;
            keys.iter_mut().find(|(a, _)| a == action).expect("every action listed").1 = parsed;
        }
        let mut map = HashMap::new();
        for (action, ks) in &keys {
            for k in ks {
                if let Some(other) = map.insert(*k, *action)
                    && other != *action
                {
                    let rebound = [other, *action].into_iter().find(|a| overrides.iter().any(|(n, _)| n == a.name()));
                    let message = format!("key {k} is bound to both `{}` and `{}`", other.name(), action.name());
                    return Err((rebound.map(|a| a.name().to_string()), message));
                }
            }
        }
        Ok(KeyMap { map, keys })
    }

    pub fn action(&self, e: &KeyEvent) -> Option<Action> {
        self.map.get(&Key::from_event(e)).copied()
    }

    /// The keys for an action, as shown to people: `j/Down`.
    pub fn keys_for(&self, action: Action) -> String {
        self.keys
            .iter()
            .find(|(a, _)| *a == action)
            .map(|(_, ks)| ks.iter().map(Key::to_string).collect::<Vec<_>>().join("/"))
            .unwrap_or_default()
    }

    /// Every binding, for the help overlay.
    pub fn help(&self) -> Vec<(String, &'static str)> {
        self.keys.iter().map(|(a, _)| (self.keys_for(*a), a.help())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn defaults_match_the_documented_keys() {
        let k = KeyMap::defaults();
        assert_eq!(k.action(&ev(KeyCode::Char('q'), KeyModifiers::NONE)), Some(Action::Quit));
        assert_eq!(k.action(&ev(KeyCode::Char('s'), KeyModifiers::CONTROL)), Some(Action::Commit));
        assert_eq!(k.action(&ev(KeyCode::Char('S'), KeyModifiers::SHIFT)), Some(Action::SetSeverity));
        assert_eq!(k.action(&ev(KeyCode::Char('s'), KeyModifiers::NONE)), Some(Action::SetStatus));
        assert_eq!(k.action(&ev(KeyCode::BackTab, KeyModifiers::SHIFT)), Some(Action::PrevPane));
        assert_eq!(k.action(&ev(KeyCode::Char(' '), KeyModifiers::NONE)), Some(Action::Toggle));
        assert_eq!(k.keys_for(Action::Down), "j/Down");
    }

    #[test]
    fn rebinding_replaces_and_duplicates_are_rejected() {
        let k = KeyMap::with_overrides(&[("quit".into(), vec!["Ctrl-q".into()])]).unwrap();
        assert_eq!(k.action(&ev(KeyCode::Char('q'), KeyModifiers::CONTROL)), Some(Action::Quit));
        assert_eq!(k.action(&ev(KeyCode::Char('q'), KeyModifiers::NONE)), None);
        assert!(k.help().iter().any(|(keys, what)| keys == "Ctrl-q" && *what == "quit"));
        let e = KeyMap::with_overrides(&[("quit".into(), vec!["z".into()])]).unwrap_err();
        assert_eq!(e, (Some("quit".into()), "key z is bound to both `zoom` and `quit`".into()));
        let e = KeyMap::with_overrides(&[("explode".into(), vec!["x".into()])]).unwrap_err();
        assert!(e.1.starts_with("unknown action `explode`"));
        let e = KeyMap::with_overrides(&[("quit".into(), vec!["Hyper-q".into()])]).unwrap_err();
        assert!(e.1.contains("is not a key"), "{e:?}");
    }
}
