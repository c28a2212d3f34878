//! Copying: OSC 52 to the terminal and, inside tmux, tmux's own paste buffer.
//!
//! Under tmux's default `set-clipboard external` tmux drops a program's OSC 52, so the
//! sequence alone copied nothing while the footer said it had (issue 19). Inside tmux the
//! text is also loaded with `tmux load-buffer -w -`: the paste buffer gets it, and tmux passes
//! it on to the outer terminal's clipboard itself where it may. The footer says what was done.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long tmux may take to take the buffer: the screen waits for it.
const TMUX_WITHIN: Duration = Duration::from_secs(2);

/// What became of loading tmux's buffer: `None` outside tmux.
pub type TmuxOutcome = Option<Result<(), String>>;

/// Loads `text` into tmux's paste buffer when running inside tmux.
pub fn to_tmux(text: &str) -> TmuxOutcome {
    std::env::var_os("TMUX").filter(|v| !v.is_empty())?;
    Some(load_buffer(text))
}

fn load_buffer(text: &str) -> Result<(), String> {
    let mut child = Command::new("tmux")
        .args(["load-buffer", "-w", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("tmux could not be run: {e}"))?;
    let written = child.stdin.take().map(|mut stdin| stdin.write_all(text.as_bytes()));
    let deadline = Instant::now() + TMUX_WITHIN;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => {
                return written.unwrap_or(Ok(())).map_err(|e| format!("tmux took no text: {e}"));
            }
            Ok(Some(status)) => return Err(format!("tmux load-buffer failed ({status})")),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("tmux load-buffer did not answer within {} s", TMUX_WITHIN.as_secs()));
            }
            Err(e) => return Err(format!("tmux load-buffer: {e}")),
        }
    }
}

/// The footer's account of a copy: only what was actually done.
pub fn said(what: &str, osc52_written: bool, tmux: TmuxOutcome) -> String {
    let osc = if osc52_written { "sent to the terminal as OSC 52" } else { "could not be sent to the terminal" };
    match tmux {
        Some(Ok(())) => format!("{what} copied into tmux's paste buffer (prefix ] pastes it) and {osc}"),
        Some(Err(why)) => {
            format!("{what} NOT in tmux's buffer ({why}); {osc}, which tmux passes on only with set-clipboard on")
        }
        None if osc52_written => format!("{what} {osc} (OSC 52): the terminal's clipboard has it if it allows that"),
        None => format!("{what} not copied: it {osc}"),
    }
}

#[cfg(test)]
mod tests {
    use super::said;

    #[test]
    fn the_footer_claims_only_what_was_done() {
        assert!(said("message", true, Some(Ok(()))).starts_with("message copied into tmux's paste buffer"));
        let failed = said("brief", true, Some(Err("tmux load-buffer failed (exit status: 1)".into())));
        assert!(failed.starts_with("brief NOT in tmux's buffer") && !failed.contains("copied"), "{failed}");
        assert!(!said("message", true, None).contains("copied"));
        assert!(said("message", false, None).contains("not copied"));
    }
}
