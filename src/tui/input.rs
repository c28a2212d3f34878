//! Keys, mouse and paste from the terminal, read on a thread of their own.
//!
//! crossterm's reader retries for ever once its terminal is gone: a hung-up terminal stays
//! readable while every read returns nothing (crossterm issue #793). Read from the screen's
//! event loop, as `EventStream` does, that froze the loop inside the read — hangup handling,
//! the clock and the probes with it — and burned a core while still holding the poller lock,
//! so no other operator could take over. Here a thread of its own waits with `poll(2)`, which
//! does report a hangup, and asks crossterm to read only when input is there. A vanished
//! terminal ends the stream with [`Input::HungUp`]; the screen's loop never blocks on input.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use crossterm::event::{self, Event};
use tokio::sync::mpsc;

/// What the input thread reports.
#[derive(Debug)]
pub enum Input {
    Event(Event),
    /// The terminal hung up: the operator's session is gone.
    HungUp,
    /// The terminal can no longer be read: why, in words.
    Failed(String),
}

/// Starts reading the terminal. Events arrive in order; after `HungUp` or `Failed` nothing more.
pub fn spawn() -> io::Result<mpsc::Receiver<Input>> {
    let tty = Tty::open()?;
    let (tx, rx) = mpsc::channel(64);
    std::thread::Builder::new().name("warroom-input".into()).spawn(move || {
        // Ends with the receiver dropped (nothing to say) or with the terminal's last word.
        if let Err(last) = read_until_closed(&tty, &tx) {
            let _ = tx.blocking_send(last);
        }
    })?;
    Ok(rx)
}

fn failed(e: io::Error) -> Input {
    Input::Failed(format!("reading the terminal failed: {e}"))
}

/// Forwards events until the receiver is dropped (`Ok`) or the terminal closes (`Err` with
/// [`Input::HungUp`] or [`Input::Failed`]).
fn read_until_closed(tty: &Tty, tx: &mpsc::Sender<Input>) -> Result<(), Input> {
    loop {
        tty.wait_readable()?;
        // One blocking read, then whatever crossterm has already parsed or can read at once:
        // a single read of the terminal may hold several keys.
        let mut next = Some(event::read().map_err(failed)?);
        while let Some(ev) = next.take() {
            if tx.blocking_send(Input::Event(ev)).is_err() {
                return Ok(());
            }
            if event::poll(Duration::ZERO).map_err(failed)? {
                next = Some(event::read().map_err(failed)?);
            }
        }
    }
}

/// The descriptor crossterm reads: standard input when it is a terminal, else `/dev/tty`.
struct Tty {
    fd: RawFd,
    _owned: Option<File>,
}

impl Tty {
    fn open() -> io::Result<Tty> {
        // SAFETY: isatty only inspects the descriptor.
        if unsafe { libc::isatty(libc::STDIN_FILENO) } == 1 {
            return Ok(Tty { fd: libc::STDIN_FILENO, _owned: None });
        }
        let file = File::options().read(true).open("/dev/tty")?;
        Ok(Tty { fd: file.as_raw_fd(), _owned: Some(file) })
    }

    /// Blocks until input is waiting; `Err` once the terminal has hung up or failed.
    fn wait_readable(&self) -> Result<(), Input> {
        let mut pfd = libc::pollfd { fd: self.fd, events: libc::POLLIN, revents: 0 };
        loop {
            // SAFETY: one valid pollfd, for the duration of the call.
            let rc = unsafe { libc::poll(&mut pfd, 1, -1) };
            if rc < 0 {
                let err = io::Error::last_os_error();
                if err.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(Input::Failed(format!("waiting for the terminal failed: {err}")));
            }
            if pfd.revents & libc::POLLHUP != 0 {
                return Err(Input::HungUp);
            }
            if pfd.revents & (libc::POLLERR | libc::POLLNVAL) != 0 {
                return Err(Input::Failed(format!("the terminal reported an error (poll revents {:#x})", pfd.revents)));
            }
            if pfd.revents & libc::POLLIN != 0 {
                return Ok(());
            }
        }
    }
}
