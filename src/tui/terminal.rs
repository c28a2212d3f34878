//! The terminal: raw mode and the alternate screen in, everything restored out — on quit, on
//! a signal and on a panic. Frames are wrapped in synchronized-update markers and written
//! through one buffer, so a frame reaches an SSH client whole, without tearing.

use std::io::{self, BufWriter, Stdout, Write};

use crossterm::cursor::{Hide, Show};
use crossterm::event::{DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture};
use crossterm::terminal::{
    BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode,
    enable_raw_mode,
};
use crossterm::{execute, queue};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Term = Terminal<CrosstermBackend<BufWriter<Stdout>>>;

pub fn enter() -> io::Result<Term> {
    install_panic_hook();
    enable_raw_mode()?;
    let mut out = BufWriter::with_capacity(64 * 1024, io::stdout());
    execute!(out, EnterAlternateScreen, EnableMouseCapture, EnableBracketedPaste, Hide)?;
    Terminal::new(CrosstermBackend::new(out))
}

/// Puts the terminal back as it was, the window title included. Safe to call more than once.
pub fn leave() {
    let mut out = io::stdout();
    super::attention::write_restore_title(&mut out);
    let _ = execute!(out, DisableBracketedPaste, DisableMouseCapture, LeaveAlternateScreen, Show);
    let _ = disable_raw_mode();
}

fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        leave();
        previous(info);
    }));
}

/// Draws one frame as one synchronized update.
pub fn draw(term: &mut Term, f: impl FnOnce(&mut ratatui::Frame)) -> io::Result<()> {
    queue!(term.backend_mut(), BeginSynchronizedUpdate)?;
    term.draw(f)?;
    queue!(term.backend_mut(), EndSynchronizedUpdate)?;
    term.backend_mut().flush()
}

/// The OSC 52 sequence that asks the terminal (through SSH and tmux) to put `text` on the
/// clipboard.
pub fn osc52(text: &str) -> Vec<u8> {
    use base64::Engine;
    let mut seq = b"\x1b]52;c;".to_vec();
    seq.extend_from_slice(base64::engine::general_purpose::STANDARD.encode(text.as_bytes()).as_bytes());
    seq.push(0x07);
    seq
}

#[cfg(test)]
mod tests {
    #[test]
    fn osc52_is_exact() {
        assert_eq!(super::osc52("We are investigating."), b"\x1b]52;c;V2UgYXJlIGludmVzdGlnYXRpbmcu\x07".to_vec());
        assert_eq!(super::osc52(""), b"\x1b]52;c;\x07".to_vec());
    }
}
