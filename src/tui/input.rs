//! Keys, mouse and paste from the terminal, read on a thread of their own.
//!
//! crossterm's reader retries for ever once its terminal is gone: a hung-up terminal stays
//! readable while every read returns nothing (crossterm issue #793). Read from the screen's
//! event loop, as `EventStream` does, that froze the loop inside the read — hangup handling,
//! the clock and the probes with it — and burned a core while still holding the poller lock,
//! so no other operator could take over. Here a thread of its own waits with `poll(2)`, which
//! does report a hangup, and asks crossterm to read only when input is there. A vanished
//! terminal ends the stream with [`Input::HungUp`]; the screen's loop never blocks on input.
//!
//! The thread also wakes on SIGWINCH and lets crossterm take the resize at once. Left
//! pending, the resize came out of crossterm together with the next key: crossterm returned
//! the resize, and its edge-triggered poll never reported the key's bytes again until another
//! key came — the first key after every resize was lost (issue 19). For crossterm to have the
//! resize when the thread wakes, its SIGWINCH handler must run before ours: handlers run in
//! the order they were registered, so crossterm's reader is made first.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
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
    let (resized, on_resize) = UnixStream::pair()?;
    resized.set_nonblocking(true)?;
    on_resize.set_nonblocking(true)?;
    // crossterm makes its reader, and registers its SIGWINCH handler, on its first poll.
    // Made later, its handler ran after ours: woken by ours, the thread could ask crossterm
    // before crossterm's pipe had the signal, and the resize stayed pending for the next key.
    event::poll(Duration::ZERO)?;
    // Chained after crossterm's own SIGWINCH handler (and before tokio's), not instead of them.
    signal_hook::low_level::pipe::register(libc::SIGWINCH, on_resize)?;
    let tty = Watched { tty, resized };
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
fn read_until_closed(tty: &Watched, tx: &mpsc::Sender<Input>) -> Result<(), Input> {
    loop {
        let first = match tty.wait()? {
            // One blocking read: a key is there.
            Woken::Readable => Some(event::read().map_err(failed)?),
            // The resize crossterm has by now, if its reader exists yet; nothing else.
            Woken::Resized => next_at_once()?,
        };
        // Then whatever crossterm has already parsed or can read at once: a single read of
        // the terminal may hold several keys.
        let mut next = first;
        while let Some(ev) = next.take() {
            if tx.blocking_send(Input::Event(ev)).is_err() {
                return Ok(());
            }
            next = next_at_once()?;
        }
    }
}

/// An event crossterm can give without waiting, if any.
fn next_at_once() -> Result<Option<Event>, Input> {
    if event::poll(Duration::ZERO).map_err(failed)? { event::read().map(Some).map_err(failed) } else { Ok(None) }
}

/// What woke the input thread.
enum Woken {
    Readable,
    Resized,
}

/// The terminal, and the pipe SIGWINCH writes to.
struct Watched {
    tty: Tty,
    resized: UnixStream,
}

impl Watched {
    /// Blocks until input is waiting or the window was resized; `Err` once the terminal has
    /// hung up or failed.
    fn wait(&self) -> Result<Woken, Input> {
        let mut fds = [
            libc::pollfd { fd: self.tty.fd, events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: self.resized.as_raw_fd(), events: libc::POLLIN, revents: 0 },
        ];
        loop {
            // SAFETY: two valid pollfds, for the duration of the call.
            let rc = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
            if rc < 0 {
                let err = io::Error::last_os_error();
                if err.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(Input::Failed(format!("waiting for the terminal failed: {err}")));
            }
            let tty = fds[0].revents;
            if tty & libc::POLLHUP != 0 {
                return Err(Input::HungUp);
            }
            if tty & (libc::POLLERR | libc::POLLNVAL) != 0 {
                return Err(Input::Failed(format!("the terminal reported an error (poll revents {tty:#x})")));
            }
            if fds[1].revents & libc::POLLIN != 0 {
                // Several signals, one wake: empty the pipe.
                let mut sink = [0u8; 64];
                while matches!((&self.resized).read(&mut sink), Ok(n) if n > 0) {}
                return Ok(Woken::Resized);
            }
            if tty & libc::POLLIN != 0 {
                return Ok(Woken::Readable);
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
}
