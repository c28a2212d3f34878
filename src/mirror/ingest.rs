//! `warroom ingest -j PATH`: the far end of a mirror link, on the mirror host.
//!
//! Everything it gets comes from the network, so each line is checked before it touches the
//! disk: its size, that it is one JSON object (no raw control byte can then reach a
//! terminal that shows the copy; fields are sanitised where shown, as for any journal), its
//! id, and that it continues the copy's chain. An id the copy already holds is acknowledged
//! and not written again. One ingest per copy at a time (a lock beside it); a promoted copy
//! takes nothing more.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::io::{AsyncRead, AsyncWrite};

use super::status::{self, Copy};
use super::wire::{FromMirror, ToMirror};
use crate::journal::{Journal, MAX_LINE_BYTES, Sharing, chain, dir};
use crate::ssh::{Hello, LinkError, Reader, Timing, Writer, accept};

/// The longest id accepted (warroom's are 36-character UUIDs).
const MAX_ID: usize = 128;
/// A previous ingest of a link that was cut holds the lock until it notices the silence.
const LOCK_WAIT: Duration = Duration::from_secs(20);
/// The state file is rewritten at most this often while lines stream in.
const STATE_EVERY: Duration = Duration::from_millis(500);

/// Serves one link until the primary closes it or goes silent.
pub async fn serve<R, W>(read: R, write: W, path: &Path, timing: Timing) -> anyhow::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (mut reader, writer, peer) = accept(read, write, "ingest", timing).await?;
    let _lock = lock(path).await?;
    if let Some(why) = promoted(path) {
        writer.send(&refusal(path, why.clone())).await?;
        linger(&mut reader).await;
        anyhow::bail!("{why}");
    }
    let mut copy = Ingest::open(path, &peer)?;
    writer.send(&copy.holding()).await?;
    copy.save_state(true);
    let result = copy.follow(&mut reader, &writer).await;
    copy.save_state(true);
    result
}

/// Waits for the ingest lock of the copy at `path`.
async fn lock(path: &Path) -> anyhow::Result<std::fs::File> {
    if let Some(parent) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        dir::prepare_dir(parent, &Sharing::PRIVATE)?;
    }
    let lock_path = status::ingest_lock_path(path);
    let file = dir::open_lock(&lock_path, &Sharing::PRIVATE)?;
    let waited = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) if waited.elapsed() < LOCK_WAIT => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                anyhow::bail!("{}: another ingest keeps this copy busy", lock_path.display())
            }
            Err(std::fs::TryLockError::Error(e)) => anyhow::bail!("{}: {e}", lock_path.display()),
        }
    }
}

fn promoted(path: &Path) -> Option<String> {
    let p: status::Promoted = status::read(&status::promoted_path(path))?;
    Some(format!(
        "{} was promoted to a primary at {} by {}: it takes no more lines",
        path.display(),
        crate::journal::format_ts(&p.at),
        crate::sanitize::sanitize_str(&p.by, 60)
    ))
}

/// A refusal, saying when the copy was promoted if it was (the primary says so plainly).
fn refusal(path: &Path, why: String) -> FromMirror {
    let promoted = status::read::<status::Promoted>(&status::promoted_path(path)).map(|p| p.at);
    FromMirror::Refused { why, promoted }
}

/// After a refusal: lets the primary read why and hang up (bounded), so the reason is not
/// lost in a pipe when this process ends.
async fn linger<R: AsyncRead + Unpin>(reader: &mut Reader<R>) {
    let hung_up = async { while let Ok(Some(_)) = reader.next::<serde::de::IgnoredAny>("after a refusal").await {} };
    let _ = tokio::time::timeout(Duration::from_secs(5), hung_up).await;
}

/// The copy being written.
struct Ingest {
    path: PathBuf,
    journal: Journal,
    ids: HashSet<String>,
    verifier: chain::Verifier,
    last_id: Option<String>,
    state: Copy,
    saved: Option<Instant>,
}

impl Ingest {
    fn open(path: &Path, peer: &Hello) -> anyhow::Result<Ingest> {
        let (journal, scan) = Journal::open(path)?;
        let ids = scan.events.iter().map(|e| e.id.clone()).collect();
        let report = chain::verify(path)?;
        // The verifier resumes from the copy's head: the next line must link to it.
        let mut verifier = chain::Verifier::default();
        verifier.resume(report.lines, report.head.clone(), report.chained_from);
        let state = Copy {
            primary: peer.account.clone(),
            heard: Utc::now(),
            skew_ms: 0,
            lines: report.lines,
            head: report.head,
            diverged: None,
        };
        Ok(Ingest { path: path.to_path_buf(), journal, ids, verifier, last_id: report.last_id, state, saved: None })
    }

    fn holding(&self) -> FromMirror {
        FromMirror::Holding { lines: self.state.lines, last_id: self.last_id.clone(), head: self.state.head.clone() }
    }

    async fn follow<R: AsyncRead + Unpin>(&mut self, reader: &mut Reader<R>, writer: &Writer) -> anyhow::Result<()> {
        loop {
            let message = match reader.next::<ToMirror>("reading what the primary ships").await {
                Ok(Some(message)) => message,
                // Closed or silent: the primary (or the link) is gone; the state file says
                // when it last spoke.
                Ok(None) => return Ok(()),
                Err(e @ (LinkError::Silent(_) | LinkError::Closed(_))) => return Err(e.into()),
                Err(e) => return Err(e.into()),
            };
            self.state.heard = Utc::now();
            match message {
                ToMirror::Lines(lines) => {
                    if let Err(why) = self.take(lines, writer).await {
                        let _ = writer.send(&refusal(&self.path, why.clone())).await;
                        self.save_state(true);
                        linger(reader).await;
                        anyhow::bail!("{why}");
                    }
                }
                ToMirror::Config { toml, checklist } => self.keep_config(&toml, checklist.as_deref()),
                ToMirror::Differs { why } => {
                    let why = format!("the primary says: {why}");
                    self.state.diverged = Some(crate::sanitize::sanitize_str(&why, 400));
                    self.save_state(true);
                    anyhow::bail!("{why}");
                }
                ToMirror::Alive { at, .. } => self.state.skew_ms = (Utc::now() - at).num_milliseconds(),
            }
            self.save_state(false);
        }
    }

    /// Checks, writes and acknowledges a batch; `Err` (why) when the copy takes it no more.
    async fn take(&mut self, lines: Vec<String>, writer: &Writer) -> Result<(), String> {
        if let Some(why) = promoted(&self.path) {
            return Err(why);
        }
        let Some(last) = lines.last().map(|l| chain::head_of(l.as_bytes()).id.map(|c| c.into_owned())) else {
            return Ok(());
        };
        let mut verifier = self.verifier.clone();
        let mut fresh = Vec::new();
        let mut fresh_ids = Vec::new();
        for line in lines {
            let id = admit(&line).map_err(|why| format!("line {} from the primary: {why}", verifier.lines() + 1))?;
            if id.as_ref().is_some_and(|id| self.ids.contains(id) || fresh_ids.contains(id)) {
                continue;
            }
            verifier.feed(line.as_bytes()).map_err(|b| self.diverged(b))?;
            fresh_ids.extend(id);
            fresh.push(line.into_bytes());
        }
        if !fresh.is_empty() {
            let head = self.journal.append_lines(&fresh).map_err(|e| e.to_string())?;
            self.state.lines += fresh.len();
            self.state.head = head;
            self.verifier = verifier;
            self.last_id = fresh_ids.last().cloned().or(self.last_id.take());
            self.ids.extend(fresh_ids);
        }
        let id = last.unwrap_or_default();
        let ack = FromMirror::Ack { id, lines: self.state.lines };
        writer.send(&ack).await.map_err(|e| e.to_string())
    }

    /// The primary's line does not continue this copy: recorded for the screen here.
    fn diverged(&mut self, b: chain::Break) -> String {
        let why = format!(
            "the primary's line {} does not continue this copy ({}): entries were edited or deleted on the primary",
            b.line, b.why
        );
        self.state.diverged = Some(crate::sanitize::sanitize_str(&why, 400));
        why
    }

    /// The primary's config (and checklist file) kept beside the copy, if they are a config
    /// and a checklist at all; the config then names the checklist kept here.
    fn keep_config(&mut self, toml: &str, checklist: Option<&str>) {
        let path = status::config_path(&self.path);
        let Ok(mut table) = toml::from_str::<toml::Table>(toml) else { return };
        let list_path = status::checklist_path(&self.path);
        if let Some(text) = checklist
            && crate::checklist::parse(text, &list_path).is_ok()
            && dir::replace(&list_path, text.as_bytes(), &Sharing::PRIVATE).is_ok()
        {
            table.insert("checklist".into(), toml::Value::String(list_path.display().to_string()));
        }
        let Ok(text) = toml::to_string(&table) else { return };
        if crate::config::parse(&text, &path).is_ok() {
            let _ = dir::replace(&path, text.as_bytes(), &Sharing::PRIVATE);
        }
    }

    fn save_state(&mut self, now: bool) {
        if now || self.saved.is_none_or(|t| t.elapsed() >= STATE_EVERY) {
            let _ = status::write(&status::copy_path(&self.path), &self.state, &Sharing::PRIVATE);
            self.saved = Some(Instant::now());
        }
    }
}

/// A line fit for the copy: bounded, one JSON object, a bounded id. Returns the id.
fn admit(line: &str) -> Result<Option<String>, String> {
    if line.len() > MAX_LINE_BYTES {
        return Err(format!("{} bytes, over the {MAX_LINE_BYTES}-byte limit", line.len()));
    }
    if !line.starts_with('{') || serde_json::from_str::<serde::de::IgnoredAny>(line).is_err() {
        return Err("not a journal line (one JSON object)".into());
    }
    match chain::head_of(line.as_bytes()).id {
        Some(id) if id.len() > MAX_ID || id.chars().any(char::is_control) => Err("an id that is not one".into()),
        id => Ok(id.map(|c| c.into_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::admit;

    #[test]
    fn only_bounded_json_objects_with_sane_ids_are_admitted() {
        assert_eq!(admit(r#"{"v":1,"id":"a"}"#).unwrap().as_deref(), Some("a"));
        assert!(admit("not json").is_err());
        assert!(admit(r#"["a"]"#).is_err());
        assert!(admit(&format!(r#"{{"id":"{}"}}"#, "x".repeat(200))).is_err());
        assert!(admit(r#"{"id":"a\u001b[2J"}"#).is_err());
    }
}
