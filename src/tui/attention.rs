//! `[attention]`: the terminal bell and/or the window title, once per new confirmed failure
//! and once when a public update becomes overdue. Opt-in: both are off unless configured.
//!
//! The title is written by warroom only, from sanitised text: nothing from the journal or the
//! network reaches the terminal's title as it came.

use std::collections::BTreeSet;

use crate::board::Board;
use crate::config::Attention;
use crate::journal::CheckState;
use crate::sanitize::sanitize_str;

/// What the screen has already called attention to.
pub struct Watch {
    wanted: Attention,
    /// Checks confirmed failing (down or degraded, as the board counts them), as last seen.
    failing: BTreeSet<String>,
    overdue: bool,
    /// The first look only records: history on opening is not news.
    primed: bool,
}

impl Watch {
    pub fn new(wanted: Attention) -> Watch {
        Watch { wanted, failing: BTreeSet::new(), overdue: false, primed: false }
    }

    /// Whether looking at all is worth it.
    pub fn wanted(&self) -> bool {
        self.wanted.bell || self.wanted.title
    }

    /// After the board changed: the bytes to write to the terminal (bell, title), if any.
    pub fn look(&mut self, board: &Board) -> Vec<u8> {
        if !self.wanted() || board.incident.timeline.is_empty() {
            return Vec::new();
        }
        let failing: BTreeSet<String> = board
            .incident
            .checks
            .iter()
            .filter(|(_, s)| matches!(s.state, CheckState::Down | CheckState::Degraded))
            .map(|(n, _)| n.clone())
            .collect();
        let overdue = board.next_update_due().is_some_and(|due| board.clock.now > due);
        let new_failures: Vec<&String> = failing.difference(&self.failing).collect();
        let news = match (new_failures.first(), overdue && !self.overdue) {
            _ if !self.primed => None,
            (Some(_), _) => {
                Some(format!("{} failing", new_failures.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ")))
            }
            (None, true) => Some("public update OVERDUE".to_string()),
            (None, false) => None,
        };
        self.failing = failing;
        self.overdue = overdue;
        self.primed = true;
        news.map(|what| self.signal(board, &what)).unwrap_or_default()
    }

    fn signal(&self, board: &Board, what: &str) -> Vec<u8> {
        let mut out = Vec::new();
        if self.wanted.bell {
            out.push(0x07);
        }
        if self.wanted.title {
            let incident = board.incident.title.as_deref().unwrap_or("incident");
            out.extend_from_slice(&title(&format!("⚠ {what} — {incident} — warroom")));
        }
        out
    }
}

/// OSC 2 with the text sanitised: no control byte can end the sequence early.
pub fn title(text: &str) -> Vec<u8> {
    let clean: String = sanitize_str(text, 120).chars().filter(|c| !c.is_control()).collect();
    let mut seq = b"\x1b]2;".to_vec();
    seq.extend_from_slice(clean.as_bytes());
    seq.push(0x07);
    seq
}
