//! Appending from async code: a task that owns the fsync, so neither the screen nor the
//! pollers wait on the disk. Queued events are written in batches (one lock, one fsync),
//! and each caller learns when its events are on disk. Every writer of the journal — the
//! screen, `--headless`, `warroom log` — appends through here.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::{Event, Journal, JournalError};

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

/// A handle to the writer task. Cheap to clone; the task ends when every handle is dropped.
#[derive(Clone)]
pub struct Writer {
    journal: Arc<Journal>,
    written: mpsc::UnboundedSender<WriteResult>,
    tx: mpsc::UnboundedSender<(Vec<Event>, Option<Reply>)>,
}

impl Writer {
    /// Starts the writer. `written` receives each batch's result once it reached the disk (or
    /// failed to), so a screen can re-read the journal at once, or show that a write failed.
    pub fn spawn(journal: Arc<Journal>, written: mpsc::UnboundedSender<WriteResult>) -> Writer {
        let (tx, mut rx) = mpsc::unbounded_channel::<(Vec<Event>, Option<Reply>)>();
        let (disk, told) = (journal.clone(), written.clone());
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while let Ok(more) = rx.try_recv() {
                    batch.push(more);
                }
                let events: Vec<Event> = batch.iter().flat_map(|(e, _)| e.iter().cloned()).collect();
                let journal = disk.clone();
                let result = tokio::task::spawn_blocking(move || journal.append_all(&events))
                    .await
                    .map_err(|e| WriteError::Failed(format!("journal writer stopped: {e}")))
                    .and_then(|r| r.map_err(WriteError::from));
                for (_, reply) in batch {
                    if let Some(reply) = reply {
                        let _ = reply.send(result.clone());
                    }
                }
                let _ = told.send(result);
            }
        });
        Writer { journal, written, tx }
    }

    /// Queues events; the receiver resolves once they are on disk (or failed to be). Events
    /// the journal would refuse are refused here, alone, so that they never fail a batch
    /// they share with somebody else's events.
    pub fn submit(&self, events: Vec<Event>) -> oneshot::Receiver<WriteResult> {
        let (reply, rx) = oneshot::channel();
        if let Err(e) = events.iter().try_for_each(|e| self.journal.check_size(e)) {
            let refused = Err(WriteError::from(e));
            let _ = self.written.send(refused.clone());
            let _ = reply.send(refused);
            return rx;
        }
        if let Err(mpsc::error::SendError((_, Some(reply)))) = self.tx.send((events, Some(reply))) {
            let _ = reply.send(Err(WriteError::Failed("journal writer stopped".into())));
        }
        rx
    }

    /// Writes events and waits until they are on disk.
    pub async fn write(&self, events: Vec<Event>) -> WriteResult {
        self.submit(events).await.unwrap_or_else(|_| Err(WriteError::Failed("journal writer stopped".into())))
    }
}
