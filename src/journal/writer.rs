//! The journal's writer task: appends are queued, written in batches (one lock, one fsync),
//! and each caller learns when its events are on disk. Every writer of the journal — the
//! screen, `--headless`, `warroom log` — appends through here.
//!
//! An event counts as done only once on disk. A session's writer ([`Retry::UntilWritten`])
//! keeps what it could not write (disk full, file system read-only, journal replaced by a
//! stranger's file) and tries again with backoff, everything pending in one batch, in order,
//! until it lands; `warroom log` ([`Retry::Never`]) is told at once and exits non-zero.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::{Event, EventBody, Journal, JournalError, Moved};

/// Why events were not written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// An event was refused as it stands (too large): retrying cannot help, shortening can.
    #[error("{0}")]
    Refused(String),
    /// The journal could not be written (disk full, file gone, writer stopped).
    #[error("{0}")]
    Failed(String),
}

impl From<JournalError> for WriteError {
    fn from(e: JournalError) -> Self {
        match e {
            JournalError::TooLarge { .. } => WriteError::Refused(e.to_string()),
            e => WriteError::Failed(e.to_string()),
        }
    }
}

pub type WriteResult = Result<(), WriteError>;
type Reply = oneshot::Sender<WriteResult>;

/// What to do with events that could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Keep them, in order, and try again with backoff until they are on disk (sessions).
    UntilWritten,
    /// Fail them at once (`warroom log`: the caller is told and exits non-zero).
    Never,
}

/// Pending work kept before check changes are collapsed to the latest per check.
pub const MAX_PENDING_EVENTS: usize = 10_000;
pub const MAX_PENDING_BYTES: usize = 16 << 20;
/// Backoff between attempts while the journal cannot be written.
const FIRST_RETRY: Duration = Duration::from_millis(250);
const LAST_RETRY: Duration = Duration::from_secs(5);

/// What the writer tells its owner, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ack {
    /// These events are on disk (ids in journal order, with those of check changes they
    /// superseded while pending).
    Written(Vec<String>),
    /// Nothing could be written: why, and how many events wait for the next attempt.
    Failing { error: String, pending: usize },
    /// The file at the journal's path changed, and writing continues in the one there now.
    Moved(Moved),
}

/// A handle to the writer task. Cheap to clone; the task ends when every handle is dropped
/// (and, for a retrying writer, nothing is pending any more).
#[derive(Clone)]
pub struct Writer {
    journal: Arc<Journal>,
    tx: mpsc::UnboundedSender<Job>,
}

enum Job {
    Write(Vec<Event>, Option<Reply>),
    /// Look at the journal's path now (a watcher saw it change).
    Look,
}

impl Writer {
    /// Starts the writer. `acks` hears about every batch written, every failed attempt and a
    /// journal file taken up again, so a screen can mark what is pending and clear it.
    pub fn spawn(journal: Arc<Journal>, acks: mpsc::UnboundedSender<Ack>, retry: Retry) -> Writer {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = Task { journal: journal.clone(), acks, retry, pending: Pending::default() };
        tokio::spawn(task.run(rx));
        Writer { journal, tx }
    }

    /// Refuses, alone, events the journal would refuse (so they never fail a batch they
    /// share with somebody else's events); queues the rest. Their outcome comes as [`Ack`]s.
    pub fn queue(&self, events: Vec<Event>) -> Result<(), WriteError> {
        self.enqueue(events, None)
    }

    fn enqueue(&self, events: Vec<Event>, reply: Option<Reply>) -> Result<(), WriteError> {
        events.iter().try_for_each(|e| self.journal.check_size(e)).map_err(WriteError::from)?;
        if let Err(mpsc::error::SendError(Job::Write(_, Some(reply)))) = self.tx.send(Job::Write(events, reply)) {
            let _ = reply.send(Err(WriteError::Failed("journal writer stopped".into())));
        }
        Ok(())
    }

    /// Queues events; the receiver resolves once they are on disk (or refused, or failed
    /// for a writer that does not retry).
    pub fn submit(&self, events: Vec<Event>) -> oneshot::Receiver<WriteResult> {
        let (reply, rx) = oneshot::channel();
        let (tell, refused) = oneshot::channel();
        if let Err(e) = self.enqueue(events, Some(reply)) {
            let _ = tell.send(Err(e));
            return refused;
        }
        rx
    }

    /// Writes events and waits until they are on disk.
    pub async fn write(&self, events: Vec<Event>) -> WriteResult {
        self.submit(events).await.unwrap_or_else(|_| Err(WriteError::Failed("journal writer stopped".into())))
    }

    /// Asks the writer to look at the journal's path now and take up a new file there.
    pub fn look(&self) {
        let _ = self.tx.send(Job::Look);
    }
}

/// One event waiting for the disk.
struct Queued {
    event: Event,
    bytes: usize,
    replies: Vec<Reply>,
    /// Check changes this one replaced while pending: written when it is.
    superseded: Vec<String>,
}

#[derive(Default)]
struct Pending {
    queue: VecDeque<Queued>,
    bytes: usize,
}

impl Pending {
    fn push(&mut self, events: Vec<Event>, reply: Option<Reply>) {
        let last = events.len().saturating_sub(1);
        let mut reply = reply;
        for (i, event) in events.into_iter().enumerate() {
            let bytes = serde_json::to_vec(&event).map_or(0, |b| b.len() + 1);
            // A caller's reply resolves with its last event: a batch lands whole or not at all.
            let replies = if i == last { reply.take().into_iter().collect() } else { Vec::new() };
            self.bytes += bytes;
            self.queue.push_back(Queued { event, bytes, replies, superseded: Vec::new() });
        }
        if let Some(reply) = reply {
            // An empty submission is written as soon as it is asked for.
            let _ = reply.send(Ok(()));
        }
    }

    fn over_bound(&self) -> bool {
        self.queue.len() > MAX_PENDING_EVENTS || self.bytes > MAX_PENDING_BYTES
    }

    /// Past the bound: each check's pending changes become one, from the state the journal
    /// has to the latest, in the latest one's place (a check that flapped back says so: `up`
    /// to `up`). Notes and everything else a person did stay (notes are also in the draft).
    fn collapse(&mut self) {
        let mut latest: HashMap<String, usize> = HashMap::new();
        for (i, q) in self.queue.iter().enumerate() {
            if let EventBody::CheckChanged { check, .. } = &q.event.body {
                latest.insert(check.clone(), i);
            }
        }
        let mut first_from = HashMap::new();
        let mut carried: HashMap<String, (Vec<Reply>, Vec<String>)> = HashMap::new();
        let mut kept = VecDeque::with_capacity(self.queue.len());
        for (i, mut q) in std::mem::take(&mut self.queue).into_iter().enumerate() {
            let EventBody::CheckChanged { check, from, .. } = &q.event.body else {
                kept.push_back(q);
                continue;
            };
            let check = check.clone();
            first_from.entry(check.clone()).or_insert(*from);
            if latest[&check] != i {
                let (replies, ids) = carried.entry(check).or_default();
                replies.append(&mut q.replies);
                ids.append(&mut q.superseded);
                ids.push(q.event.id);
                continue;
            }
            if let EventBody::CheckChanged { from, .. } = &mut q.event.body {
                *from = first_from[&check];
            }
            if let Some((mut replies, mut ids)) = carried.remove(&check) {
                q.replies.append(&mut replies);
                ids.append(&mut q.superseded);
                q.superseded = ids;
            }
            kept.push_back(q);
        }
        self.queue = kept;
        self.bytes = self.queue.iter().map(|q| q.bytes).sum();
    }
}

struct Task {
    journal: Arc<Journal>,
    acks: mpsc::UnboundedSender<Ack>,
    retry: Retry,
    pending: Pending,
}

impl Task {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Job>) {
        let mut backoff = FIRST_RETRY;
        let mut failing = false;
        let mut open = true;
        loop {
            let mut look = false;
            if failing {
                // Keep taking work while waiting, so nothing queued waits on a full channel.
                let wait = tokio::time::sleep(backoff);
                tokio::pin!(wait);
                loop {
                    tokio::select! {
                        _ = &mut wait => break,
                        job = rx.recv(), if open => match job {
                            Some(job) => look |= self.take(job),
                            None => open = false,
                        },
                    }
                }
            } else {
                match rx.recv().await {
                    Some(job) => look |= self.take(job),
                    None => return,
                }
            }
            while let Ok(job) = rx.try_recv() {
                look |= self.take(job);
            }
            if self.pending.queue.is_empty() && !look {
                continue;
            }
            match self.attempt(failing).await {
                Ok(()) => {
                    failing = false;
                    backoff = FIRST_RETRY;
                }
                Err(e) => {
                    // The first retry after FIRST_RETRY, each next one twice as late, up to LAST_RETRY.
                    backoff = if failing { (backoff * 2).min(LAST_RETRY) } else { FIRST_RETRY };
                    failing = self.retry == Retry::UntilWritten && !self.pending.queue.is_empty();
                    if self.retry == Retry::Never {
                        self.fail_all(&e);
                    } else if self.pending.over_bound() {
                        self.pending.collapse();
                    }
                    let pending = self.pending.queue.len();
                    let _ = self.acks.send(Ack::Failing { error: e.to_string(), pending });
                }
            }
            if !open && !failing {
                return;
            }
        }
    }

    /// Takes a job in; true if it asks to look at the journal's path.
    fn take(&mut self, job: Job) -> bool {
        match job {
            Job::Write(events, reply) => {
                self.pending.push(events, reply);
                false
            }
            Job::Look => true,
        }
    }

    /// Takes up a new journal file if the path changed, then writes everything pending.
    /// After a failure, success is said even with nothing written: the fault is over.
    async fn attempt(&mut self, after_failure: bool) -> Result<(), WriteError> {
        let events: Vec<Event> = self.pending.queue.iter().map(|q| q.event.clone()).collect();
        let journal = self.journal.clone();
        // A new file taken up is said even when the write into it then fails.
        let (moved, written) = tokio::task::spawn_blocking(move || match journal.reattach() {
            Err(e) => (None, Err(e)),
            Ok(moved) if events.is_empty() => (moved, Ok(())),
            Ok(moved) => (moved, journal.append_all(&events)),
        })
        .await
        .map_err(|e| WriteError::Failed(format!("journal writer stopped: {e}")))?;
        let written = written.map_err(WriteError::from);
        let moved_too = moved.is_some();
        if let Some(moved) = moved {
            let _ = self.acks.send(Ack::Moved(moved));
        }
        written?;
        let mut ids = Vec::with_capacity(self.pending.queue.len());
        let mut replies = Vec::new();
        for q in std::mem::take(&mut self.pending).queue {
            ids.extend(q.superseded);
            ids.push(q.event.id);
            replies.extend(q.replies);
        }
        // The ack first: whoever awaits a reply (a session leaving) then finds it queued.
        if !ids.is_empty() || after_failure || moved_too {
            let _ = self.acks.send(Ack::Written(ids));
        }
        replies.into_iter().for_each(|r| drop(r.send(Ok(()))));
        Ok(())
    }

    fn fail_all(&mut self, error: &WriteError) {
        for q in std::mem::take(&mut self.pending).queue {
            q.replies.into_iter().for_each(|r| drop(r.send(Err(error.clone()))));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::CheckState;

    fn change(check: &str, from: CheckState, to: CheckState) -> Event {
        Event::new("poller", EventBody::CheckChanged { check: check.into(), from, to, detail: String::new() })
    }

    #[test]
    fn past_the_bound_check_changes_collapse_to_the_latest_per_check_and_notes_stay() {
        use CheckState::{Down, Up};
        let mut pending = Pending::default();
        let note = Event::new("alice", EventBody::NoteAdded { text: "db failover".into() });
        let flaps: Vec<Event> = (0..MAX_PENDING_EVENTS)
            .map(|i| if i % 2 == 0 { change("web", Up, Down) } else { change("web", Down, Up) })
            .collect();
        let (reply, mut told) = oneshot::channel();
        pending.push(vec![change("dns", Up, Down)], Some(reply));
        pending.push(vec![note.clone()], None);
        pending.push(flaps.clone(), None);
        pending.push(vec![change("dns", Down, Up), change("dns", Up, Down)], None);
        assert!(pending.over_bound());
        pending.collapse();
        let kept: Vec<&EventBody> = pending.queue.iter().map(|q| &q.event.body).collect();
        // web flapped back to where it began; dns ends down, from up.
        assert_eq!(kept.len(), 3, "{kept:?}");
        assert_eq!(kept[0], &note.body);
        assert!(matches!(kept[1], EventBody::CheckChanged { check, from: Up, to: Up, .. } if check == "web"));
        assert!(matches!(kept[2], EventBody::CheckChanged { check, from: Up, to: Down, .. } if check == "dns"));
        assert_eq!(pending.queue[2].superseded.len(), 2, "the first two dns changes are written with the last");
        assert_eq!(pending.queue[2].replies.len(), 1, "their callers are told when it is");
        assert!(told.try_recv().is_err());
        assert!(!pending.over_bound());
    }
}
