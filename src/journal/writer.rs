//! Appending from async code: a task that owns the fsync, so neither the screen nor the
//! pollers wait on the disk. Queued events are written in batches (one lock, one fsync),
//! and each caller learns when its events are on disk.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::{Event, Journal};

type Reply = oneshot::Sender<Result<(), String>>;

/// A handle to the writer task. Cheap to clone; the task ends when every handle is dropped.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::UnboundedSender<(Vec<Event>, Option<Reply>)>,
}

impl Writer {
    /// Starts the writer. `written` receives each batch's result once it reached the disk (or
    /// failed to), so a screen can re-read the journal at once, or show that a write failed.
    pub fn spawn(journal: Arc<Journal>, written: mpsc::UnboundedSender<Result<(), String>>) -> Writer {
        let (tx, mut rx) = mpsc::unbounded_channel::<(Vec<Event>, Option<Reply>)>();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while let Ok(more) = rx.try_recv() {
                    batch.push(more);
                }
                let events: Vec<Event> = batch.iter().flat_map(|(e, _)| e.iter().cloned()).collect();
                let journal = journal.clone();
                let result = tokio::task::spawn_blocking(move || journal.append_all(&events))
                    .await
                    .map_err(|e| format!("journal writer stopped: {e}"))
                    .and_then(|r| r.map_err(|e| e.to_string()));
                for (_, reply) in batch {
                    if let Some(reply) = reply {
                        let _ = reply.send(result.clone());
                    }
                }
                let _ = written.send(result);
            }
        });
        Writer { tx }
    }

    /// Queues events; the receiver resolves once they are on disk (or failed to be).
    pub fn submit(&self, events: Vec<Event>) -> oneshot::Receiver<Result<(), String>> {
        let (reply, rx) = oneshot::channel();
        if let Err(mpsc::error::SendError((_, Some(reply)))) = self.tx.send((events, Some(reply))) {
            let _ = reply.send(Err("journal writer stopped".into()));
        }
        rx
    }

    /// Writes events and waits until they are on disk.
    pub async fn write(&self, events: Vec<Event>) -> Result<(), String> {
        self.submit(events).await.unwrap_or_else(|_| Err("journal writer stopped".into()))
    }
}
