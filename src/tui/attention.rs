//! `[attention]`: the terminal bell and/or the window title, once per new confirmed failure
//! and once when a public update becomes overdue. Opt-in: both are off unless configured.
//!
//! The title is written by warroom only, from sanitised text: nothing from the journal or the
//! network reaches the terminal's title as it came.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

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
            // The operator's own title is kept on the terminal's title stack, the first time.
            if !TITLE_SET.swap(true, Ordering::SeqCst) {
                out.extend_from_slice(PUSH_TITLE);
            }
            let incident = board.incident.title.as_deref().unwrap_or("incident");
            out.extend_from_slice(&title(&format!("⚠ {what} — {incident} — warroom")));
        }
        out
    }
}

/// XTWINOPS: save the window title on the terminal's stack / restore it (xterm, tmux, VTE…).
const PUSH_TITLE: &[u8] = b"\x1b[22;2t";
const POP_TITLE: &[u8] = b"\x1b[23;2t";

/// Whether this process changed the window title (and pushed the operator's first).
static TITLE_SET: AtomicBool = AtomicBool::new(false);

/// The bytes that give the operator their window title back, if warroom changed it: an empty
/// title first (a terminal without a title stack at least loses the alarm), then the pop.
/// Once only: a second call has nothing to undo.
pub fn restore_title() -> Vec<u8> {
    if !TITLE_SET.swap(false, Ordering::SeqCst) {
        return Vec::new();
    }
    let mut out = title("");
    out.extend_from_slice(POP_TITLE);
    out
}

/// Writes [`restore_title`] to `out`: on every way out of the screen (quit, signal, panic).
pub fn write_restore_title(out: &mut dyn Write) {
    let bytes = restore_title();
    if !bytes.is_empty() {
        let _ = out.write_all(&bytes).and_then(|_| out.flush());
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The one test in this binary that sets the title: the flag is the process's.
    #[test]
    fn the_title_is_pushed_once_and_given_back_once() {
        let mut board = Board::new(
            crate::incident::Incident::default(),
            Vec::new(),
            None,
            crate::board::Clock { now: chrono::Utc::now(), offset: chrono::FixedOffset::east_opt(0).unwrap() },
        );
        board.incident.title = Some("Mail down".into());
        let watch = Watch::new(Attention { bell: false, title: true });
        assert!(restore_title().is_empty(), "nothing to give back before any title");
        let first = watch.signal(&board, "smtp failing");
        assert!(first.starts_with(PUSH_TITLE), "{first:?}");
        assert!(first.ends_with("⚠ smtp failing — Mail down — warroom\x07".as_bytes()), "{first:?}");
        let second = watch.signal(&board, "web failing");
        assert!(!second.starts_with(PUSH_TITLE), "pushed twice, popped once: the stack would grow");
        assert_eq!(restore_title(), b"\x1b]2;\x07\x1b[23;2t".to_vec());
        assert!(restore_title().is_empty(), "popped twice: the terminal's own title would go too");
        let mut out = Vec::new();
        write_restore_title(&mut out);
        assert!(out.is_empty());
    }
}
