//! The far end of a remote screen (`warroom serve-session`, run by ssh): a real session on
//! this host's journal, its updates sent down the link and the screen's commands obeyed.
//!
//! The session is this host's like any other: its entries are written here (recording the
//! account ssh logged into), its messages go out on this host's channels, it takes part in
//! the poller election. It ends, journaling the departure, when the screen leaves or the link
//! is cut.

use std::collections::HashMap;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;

use super::gate::Gate;
use super::wire::{Down, DownLine, FarSetup, GATHER, Packer, UpLine};
use crate::journal::EventBody;
use crate::monitor::{RowId, View};
use crate::session::{Command, Figure, Opening, Session, Update, Versioned};
use crate::ssh::{LinkError, Reader, Writer, accept};

/// How long leaving waits for the departure to reach the disk.
const LEAVE_WITHIN: Duration = Duration::from_secs(3);

/// Commands read ahead of the session: when it is slow (its writer waits for the disk, or
/// the screen does not read what it is sent), reading stops and the screen is held back
/// (backpressure), instead of its commands piling up in memory.
const COMMANDS_AHEAD: usize = 16;

/// Entries this screen asked for that are not on disk yet: beyond this, its next commands
/// wait for the disk to catch up.
const UNWRITTEN_MAX: usize = 256;

/// Greets the screen on `read`/`write` (ssh's stdin and stdout): the greeting is checked
/// before anything is opened or written on this host.
pub async fn greet<R, W>(read: R, write: W) -> Result<(Reader<R>, Writer), LinkError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (reader, writer, _peer) = accept(read, write, super::VERB, super::TIMING).await?;
    Ok((reader, writer))
}

/// Tells a greeted screen why no session is served (no open incident, a config error): it
/// says so instead of its setup.
pub async fn refuse(writer: Writer, why: &str) {
    let _ = writer.send(&DownLine::new(Down::Update(Update::Notice(why.to_string())))).await;
    writer.close(LEAVE_WITHIN).await;
}

/// Serves one greeted screen until it leaves or the link goes. `after`: the last entry the
/// screen already has (a reconnecting screen): the opening sends only the entries after it.
pub async fn serve<R>(
    opening: Opening,
    setup: FarSetup,
    after: Option<String>,
    reader: Reader<R>,
    writer: Writer,
) -> Result<(), LinkError>
where
    R: AsyncRead + Unpin + Send + 'static,
{
    writer.send(&Versioned::new(Down::Setup(setup))).await?;
    let mut gate = Gate::new(opening.settings.checklist.clone());
    let author = opening.author.clone();
    let mut commands = spawn_reader(reader);
    let mut session = Session::start(opening);
    let mut down = Downstream {
        writer,
        packer: Packer::default(),
        figures: Figures::default(),
        after,
        inspected: None,
        latest: HashMap::new(),
    };
    let mut unwritten = 0usize;
    let mut gathered: Option<tokio::time::Instant> = None;
    let outcome = loop {
        tokio::select! {
            update = session.recv() => match update {
                Some(Update::Ended) | None => break Ok(()),
                Some(update) => {
                    unwritten = unwritten_after(unwritten, &update);
                    if sends_finished(&update, &author) {
                        gate.send_finished();
                    }
                    if let Err(e) = down.update(update).await {
                        break Err(e);
                    }
                    if gathered.is_none() && !down.packer.is_empty() {
                        gathered = Some(tokio::time::Instant::now() + GATHER);
                    }
                }
            },
            _ = until(gathered) => {
                gathered = None;
                if let Err(e) = down.flush().await {
                    break Err(e);
                }
            }
            command = commands.recv(), if unwritten < UNWRITTEN_MAX => match command {
                Some(Ok(Command::Leave)) | None => break Ok(()),
                Some(Ok(Command::Inspect(row))) => {
                    if let Err(e) = down.inspect(row).await {
                        break Err(e);
                    }
                }
                Some(Ok(command)) => match gate.check(command, tokio::time::Instant::now()) {
                    Ok(command) => session.send(command),
                    Err(why) => {
                        if let Err(e) = down.send(Update::Notice(why)).await {
                            break Err(e);
                        }
                    }
                },
                Some(Err(e)) => break Err(e),
            },
        }
    };
    // Whatever the session says while leaving goes down too, if the link still takes it: the
    // screen waits for the departure to be written.
    for update in session.leave(LEAVE_WITHIN).await {
        let _ = down.update(update).await;
    }
    let _ = down.flush().await;
    down.writer.close(LEAVE_WITHIN).await;
    outcome
}

/// Entries waiting for the disk, after this update: counted up as they are queued, down as
/// they are written or refused.
fn unwritten_after(unwritten: usize, update: &Update) -> usize {
    match update {
        Update::Pending(events) => unwritten.saturating_add(events.len()),
        Update::Written { ids, .. } => unwritten.saturating_sub(ids.len()),
        Update::Refused { events, .. } => unwritten.saturating_sub(events.len()),
        _ => unwritten,
    }
}

/// Whether this update says one of this session's sends finished: each journals its outcome.
fn sends_finished(update: &Update, author: &str) -> bool {
    match update {
        Update::Entries(entries) => {
            entries.iter().any(|e| e.author == author && matches!(e.body, EventBody::MessageSent { .. }))
        }
        Update::Notice(text) => text.starts_with("the outcome of the send on"),
        _ => false,
    }
}

/// The screen's commands, read on their own task (a line half read must not be lost to a
/// `select!` choosing another branch). Ends after the first error or the link's end. At
/// most [`COMMANDS_AHEAD`] wait: then the task stops reading until the session takes some.
fn spawn_reader<R: AsyncRead + Unpin + Send + 'static>(
    mut reader: Reader<R>,
) -> mpsc::Receiver<Result<Command, LinkError>> {
    let (tx, rx) = mpsc::channel(COMMANDS_AHEAD);
    tokio::spawn(async move {
        loop {
            let line = match reader.next::<UpLine>("reading the screen's commands").await {
                Ok(Some(line)) => line,
                Ok(None) => break,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    break;
                }
            };
            let command = line.open().map_err(|detail| LinkError::Protocol { step: "reading a command", detail });
            let failed = command.is_err();
            if tx.send(command).await.is_err() || failed {
                break;
            }
        }
    });
    rx
}

async fn until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// What goes down the link, made small: no clock (the screen has its own), readings packed
/// and gathered, a follower's whole figures reduced to what changed.
struct Downstream {
    writer: Writer,
    packer: Packer,
    figures: Figures,
    after: Option<String>,
    /// The row whose details the screen shows: its readings go in full.
    inspected: Option<String>,
    /// Each row's last reading, sent again in full when the row is inspected.
    latest: HashMap<RowId, crate::session::Reading>,
}

impl Downstream {
    async fn update(&mut self, update: Update) -> Result<(), LinkError> {
        match update {
            // A monitoring session's clock is the wall clock: the screen ticks its own.
            Update::Clock(_) => Ok(()),
            Update::Reading { row, reading } => {
                self.figures.seen(&row, &reading);
                self.pack(row, reading);
                Ok(())
            }
            Update::Figures(figures) => {
                for update in self.figures.changes(figures) {
                    match update {
                        Update::Reading { row, reading } => self.pack(row, reading),
                        other => self.send(other).await?,
                    }
                }
                Ok(())
            }
            Update::Opened { journal, role, rows, mut entries } => {
                if let Some(after) = self.after.take()
                    && let Some(at) = entries.iter().position(|e| e.id == after)
                {
                    entries.drain(..=at);
                }
                self.send(Update::Opened { journal, role, rows, entries }).await
            }
            // The session's own check changes: the screen shows them once on disk, as entries.
            Update::Pending(events) if events.iter().all(|e| matches!(e.body, EventBody::CheckChanged { .. })) => {
                Ok(())
            }
            update => {
                if let Update::View { row, view } = &update {
                    self.figures.view(row, view);
                }
                self.send(update).await
            }
        }
    }

    fn pack(&mut self, row: RowId, reading: crate::session::Reading) {
        let inspected = self.inspected.as_ref().is_some_and(|name| *name == row.name());
        self.packer.push(&row, &reading, inspected);
        self.latest.insert(row, reading);
    }

    /// The screen shows this row's details now: its last reading goes again, in full, at once
    /// (the screen puts it in place of the lean one), and the next ones in full.
    async fn inspect(&mut self, row: Option<String>) -> Result<(), LinkError> {
        self.inspected = row;
        let Some(name) = &self.inspected else { return Ok(()) };
        let Some((id, reading)) = self.latest.iter().find(|(id, _)| id.name() == *name) else { return Ok(()) };
        self.packer.push(id, reading, true);
        self.flush().await
    }

    async fn send(&self, update: Update) -> Result<(), LinkError> {
        self.writer.send(&DownLine::new(Down::Update(update))).await
    }

    async fn flush(&mut self) -> Result<(), LinkError> {
        for down in self.packer.take() {
            self.writer.send(&DownLine::new(down)).await?;
        }
        Ok(())
    }
}

/// What the screen was last sent of each row: a follower's session hands over the poller's
/// figures whole every few seconds, and only what is new in them crosses the link.
#[derive(Default)]
struct Figures {
    rows: HashMap<RowId, (Option<View>, Option<chrono::DateTime<chrono::Utc>>)>,
}

impl Figures {
    fn seen(&mut self, row: &RowId, reading: &crate::session::Reading) {
        self.rows.entry(row.clone()).or_default().1 = Some(reading.at);
    }

    fn view(&mut self, row: &RowId, view: &View) {
        self.rows.entry(row.clone()).or_default().0 = Some(view.clone());
    }

    /// New rows, changed views and readings newer than the last sent, as single updates.
    fn changes(&mut self, figures: Vec<Figure>) -> Vec<Update> {
        let mut out = Vec::new();
        for figure in figures {
            let known = self.rows.contains_key(&figure.row.id);
            let (view, last_at) = self.rows.entry(figure.row.id.clone()).or_default();
            if !known {
                out.push(Update::Row(figure.row.clone()));
            }
            if view.as_ref() != Some(&figure.view) {
                *view = Some(figure.view.clone());
                out.push(Update::View { row: figure.row.id.clone(), view: figure.view });
            }
            let newer_than = *last_at;
            for reading in figure.readings.into_iter().filter(|r| newer_than.is_none_or(|at| r.at > at)) {
                *last_at = Some(reading.at);
                out.push(Update::Reading { row: figure.row.id.clone(), reading });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::State;
    use crate::probe::Health;
    use crate::session::{Reading, RowInfo};

    fn figure(name: &str, state: State, at_secs: &[i64]) -> Figure {
        let readings = at_secs
            .iter()
            .map(|&s| Reading {
                at: chrono::DateTime::from_timestamp(s, 0).unwrap(),
                health: Health::Up,
                latency_ms: 1.0,
                detail: String::new(),
                retry_after: None,
                steps: Vec::new(),
                cert_days_left: None,
            })
            .collect();
        let row = RowInfo { id: RowId::check(name), kind: "http".into(), target: String::new() };
        Figure { row, view: View { state, ..View::default() }, readings }
    }

    #[tokio::test]
    async fn commands_the_session_does_not_take_stop_the_reading() {
        use tokio::io::AsyncWriteExt;
        let (mut screen, far) = tokio::io::duplex(4096);
        // Never received from: a session stuck on its disk or on a screen that does not read.
        let _commands = spawn_reader(crate::ssh::Reader::new(far, Duration::from_secs(60)));
        let note = EventBody::NoteAdded { text: "z".repeat(100) };
        let line = serde_json::to_string(&UpLine::new(Command::Append(vec![note]))).unwrap() + "\n";
        let mut written = 0;
        let all = tokio::time::timeout(Duration::from_secs(5), async {
            for _ in 0..10_000 {
                screen.write_all(line.as_bytes()).await.unwrap();
                written += 1;
            }
        })
        .await;
        assert!(all.is_err(), "10,000 commands were all taken in while none was obeyed");
        // What waits: the channel, the reader's buffer and the pipe's.
        let ahead = COMMANDS_AHEAD + (8192 + 4096) / line.len() + 2;
        assert!(written <= ahead, "{written} commands taken in, more than {ahead}");
    }

    #[test]
    fn whole_figures_are_reduced_to_what_changed() {
        let mut figures = Figures::default();
        let first = figures.changes(vec![figure("web", State::Up, &[10, 20])]);
        assert_eq!(first.len(), 4, "row, view and two readings: {first:?}");
        // The same figures again: nothing; one more reading: that reading only.
        assert!(figures.changes(vec![figure("web", State::Up, &[10, 20])]).is_empty());
        let next = figures.changes(vec![figure("web", State::Up, &[10, 20, 30])]);
        assert!(matches!(&next[..], [Update::Reading { reading, .. }] if reading.at.timestamp() == 30), "{next:?}");
        let down = figures.changes(vec![figure("web", State::Down, &[20, 30])]);
        assert!(matches!(&down[..], [Update::View { view, .. }] if view.state == State::Down), "{down:?}");
    }
}
