//! One JSON object per line, bounded, with heartbeats both ways.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use super::{LinkError, MAX_LINE};

/// The line a side writes when it has had nothing to say for a beat. Readers skip it.
const BEAT: &str = r#"{"beat":{}}"#;

/// Reads messages, skipping heartbeats, and notices silence.
pub struct Reader<R> {
    inner: BufReader<R>,
    silence: Duration,
    line: Vec<u8>,
}

impl<R: AsyncRead + Unpin> Reader<R> {
    pub fn new(inner: R, silence: Duration) -> Self {
        Reader { inner: BufReader::new(inner), silence, line: Vec::new() }
    }

    /// The next message: `Ok(None)` when the far side closed the link cleanly;
    /// [`LinkError::Silent`] when not even a heartbeat came for the silence allowed.
    pub async fn next<T: DeserializeOwned>(&mut self, step: &'static str) -> Result<Option<T>, LinkError> {
        loop {
            let Some(line) = self.next_line().await? else { return Ok(None) };
            if line == BEAT {
                continue;
            }
            return serde_json::from_str(line).map(Some).map_err(|e| LinkError::Protocol {
                step,
                detail: format!("{e} in {}", crate::sanitize::sanitize_str(line, 120)),
            });
        }
    }

    /// The next raw line (heartbeats included), without its newline.
    pub async fn next_line(&mut self) -> Result<Option<&str>, LinkError> {
        self.line.clear();
        match tokio::time::timeout(self.silence, read_bounded(&mut self.inner, &mut self.line)).await {
            Err(_) => Err(LinkError::Silent(self.silence)),
            Ok(Err(e)) => Err(e),
            Ok(Ok(0)) => Ok(None),
            Ok(Ok(_)) => {
                let text = std::str::from_utf8(&self.line).map_err(|_| LinkError::Protocol {
                    step: "reading a line",
                    detail: "a line that is not UTF-8".into(),
                })?;
                Ok(Some(text.trim_end_matches(['\n', '\r'])))
            }
        }
    }
}

/// Reads up to and including a newline, refusing lines over [`MAX_LINE`] before buffering
/// them. Returns the bytes read; 0 at end of stream. A last line without a newline (the far
/// side died mid-write) is not a message: it is reported as the link closing.
async fn read_bounded<R: AsyncRead + Unpin>(reader: &mut BufReader<R>, line: &mut Vec<u8>) -> Result<usize, LinkError> {
    loop {
        let available = reader.fill_buf().await.map_err(|e| LinkError::Closed(format!(": {e}")))?;
        if available.is_empty() {
            return if line.is_empty() { Ok(0) } else { Err(LinkError::Closed(" in the middle of a line".into())) };
        }
        let (take, done) = match memchr::memchr(b'\n', available) {
            Some(at) => (at + 1, true),
            None => (available.len(), false),
        };
        if line.len() + take > MAX_LINE {
            return Err(LinkError::Protocol {
                step: "reading a line",
                detail: format!("a line longer than {} MiB", MAX_LINE >> 20),
            });
        }
        line.extend_from_slice(&available[..take]);
        reader.consume(take);
        if done {
            return Ok(line.len());
        }
    }
}

/// Sends messages from any task; a background task writes them in order and fills every
/// quiet beat with a heartbeat. Cloning gives another handle on the same stream.
#[derive(Clone)]
pub struct Writer {
    lines: mpsc::Sender<String>,
    /// Closed by the writing task as it ends: what [`Writer::close`] waits for.
    done: tokio::sync::watch::Receiver<()>,
}

impl Writer {
    /// Starts the writing task on `inner`. It ends when every handle is dropped (closing the
    /// stream, which is how the far side learns we are done) or when a write fails.
    pub fn spawn<W: AsyncWrite + Unpin + Send + 'static>(inner: W, beat: Duration) -> Writer {
        // Bounded: a far side that stops reading slows its senders down instead of growing
        // our memory; heartbeats stop too, and its own silence timer notices.
        let (lines, queue) = mpsc::channel(1024);
        let (ended, done) = tokio::sync::watch::channel(());
        tokio::spawn(async move {
            write_lines(inner, queue, beat).await;
            drop(ended);
        });
        Writer { lines, done }
    }

    /// Drops this handle and waits (up to `within`) for what was sent to be written and the
    /// stream closed: a process about to exit would otherwise lose its last words. Other
    /// handles still held keep the stream open, and the wait then runs out.
    pub async fn close(self, within: Duration) {
        let mut done = self.done.clone();
        drop(self);
        let _ = tokio::time::timeout(within, done.changed()).await;
    }

    pub async fn send<T: Serialize>(&self, message: &T) -> Result<(), LinkError> {
        let line = serde_json::to_string(message)
            .map_err(|e| LinkError::Protocol { step: "encoding a message", detail: e.to_string() })?;
        self.send_line(line).await
    }

    /// Sends a line already encoded as one JSON object (no newline inside).
    pub async fn send_line(&self, line: String) -> Result<(), LinkError> {
        debug_assert!(!line.contains('\n'));
        self.lines.send(line).await.map_err(|_| LinkError::Closed(" (writing failed)".into()))
    }
}

async fn write_lines<W: AsyncWrite + Unpin>(mut inner: W, mut queue: mpsc::Receiver<String>, beat: Duration) {
    loop {
        let line = match tokio::time::timeout(beat, queue.recv()).await {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(_) => BEAT.to_string(),
        };
        // A line and its newline in one write (a process ending at once still ends its last
        // line), and everything queued in the same flush: a burst of events is one write.
        let mut batch = line.into_bytes();
        batch.push(b'\n');
        while let Ok(more) = queue.try_recv() {
            batch.extend_from_slice(more.as_bytes());
            batch.push(b'\n');
        }
        let written = async {
            inner.write_all(&batch).await?;
            inner.flush().await
        };
        if written.await.is_err() {
            break;
        }
    }
    let _ = inner.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn heartbeats_are_skipped_and_silence_is_noticed() {
        let (ours, theirs) = tokio::io::duplex(4096);
        let (their_read, their_write) = tokio::io::split(theirs);
        let writer = Writer::spawn(their_write, Duration::from_millis(20));
        let mut reader = Reader::new(ours, Duration::from_millis(500));
        // Quiet for several beats: only heartbeats cross, and the message after them arrives.
        tokio::time::sleep(Duration::from_millis(100)).await;
        writer.send(&serde_json::json!({"n": 1})).await.unwrap();
        let got: serde_json::Value = reader.next("test").await.unwrap().unwrap();
        assert_eq!(got["n"], 1);
        drop((writer, their_read));
        // A peer that holds the stream open but says nothing, not even a beat: silence.
        let (quiet, _held_open) = tokio::io::duplex(64);
        let mut silent = Reader::new(quiet, Duration::from_millis(50));
        assert!(matches!(silent.next::<serde_json::Value>("test").await, Err(LinkError::Silent(_))));
    }

    #[tokio::test]
    async fn a_line_over_the_bound_is_refused_without_buffering_it() {
        let (mut ours, theirs) = tokio::io::duplex(1 << 16);
        let writing = tokio::spawn(async move {
            let chunk = vec![b'x'; 1 << 16];
            for _ in 0..(MAX_LINE / chunk.len() + 2) {
                if ours.write_all(&chunk).await.is_err() {
                    break;
                }
            }
        });
        let mut reader = Reader::new(theirs, Duration::from_secs(10));
        let err = reader.next::<serde_json::Value>("test").await.unwrap_err();
        assert!(err.to_string().contains("longer than 4 MiB"), "{err}");
        drop(reader);
        writing.await.unwrap();
    }

    #[tokio::test]
    async fn a_torn_last_line_is_a_closed_link_not_a_message() {
        let mut reader = Reader::new(&b"{\"n\":1}\n{\"n\":"[..], Duration::from_secs(1));
        assert!(reader.next::<serde_json::Value>("test").await.unwrap().is_some());
        assert!(matches!(reader.next::<serde_json::Value>("test").await, Err(LinkError::Closed(_))));
    }
}
