//! `warroom ingest -j PATH`: the far end of a mirror link, on the mirror host.
//!
//! Everything it gets comes from the network, so each line is checked before it touches the
//! disk: its size, that it is one JSON object (no raw control byte can then reach a
//! terminal that shows the copy; fields are sanitised where shown, as for any journal), its
//! id, and that it continues the copy's chain. An id the copy already holds is acknowledged
//! and not written again. One ingest per copy at a time (a lock beside it); a promoted copy
//! takes nothing more.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::io::{AsyncRead, AsyncWrite};

use super::status::{self, Copy};
use super::wire::{FromMirror, Shipped, ToMirror, is_journal_line};
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
    let p = status::read_promoted(path)?;
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
    /// Each line's link by its id: a line sent again must be the same.
    links: HashMap<String, String>,
    verifier: chain::Verifier,
    last_id: Option<String>,
    state: Copy,
    saved: Option<Instant>,
}

impl Ingest {
    fn open(path: &Path, peer: &Hello) -> anyhow::Result<Ingest> {
        let (journal, _) = Journal::open(path)?;
        let links = links_by_id(path)?;
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
        Ok(Ingest { path: path.to_path_buf(), journal, links, verifier, last_id: report.last_id, state, saved: None })
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
                ToMirror::Config { toml, checklist } => {
                    if let Err(why) = self.keep_config(&toml, checklist.as_deref()) {
                        writer.send(&FromMirror::Trouble { why }).await?;
                    }
                }
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
    async fn take(&mut self, lines: Vec<Shipped>, writer: &Writer) -> Result<(), String> {
        if let Some(why) = promoted(&self.path) {
            return Err(why);
        }
        let lines = lines.into_iter().map(Shipped::bytes).collect::<Result<Vec<_>, _>>();
        let lines = lines.map_err(|why| format!("from the primary: {why}"))?;
        let Some(last) = lines.last().map(|l| chain::head_of(l).id.unwrap_or_default().into_owned()) else {
            return Ok(());
        };
        let mut verifier = self.verifier.clone();
        let mut fresh = Vec::new();
        let mut fresh_links = HashMap::new();
        let mut last_fresh_id = None;
        for line in lines {
            let n = verifier.lines() + 1;
            match admit(&line).map_err(|why| format!("line {n} from the primary: {why}"))? {
                // Kept as the primary's file has it, so both chains read the same: the
                // break it makes is the primary's, shown by `warroom validate` on either.
                Admitted::Quarantined => {
                    let _ = verifier.feed(&line);
                }
                Admitted::Event(id) => {
                    let link = chain::link(&line);
                    if let Some(id) = &id
                        && let Some(held) = self.links.get(id).or(fresh_links.get(id))
                    {
                        if *held != link {
                            return Err(self.differs_from_held(id));
                        }
                        continue;
                    }
                    verifier.feed(&line).map_err(|b| self.diverged(b))?;
                    if let Some(id) = id {
                        fresh_links.insert(id.clone(), link);
                        last_fresh_id = Some(id);
                    }
                }
            }
            fresh.push(line);
        }
        if !fresh.is_empty() {
            let head = self.journal.append_lines(&fresh).map_err(|e| e.to_string())?;
            self.state.lines += fresh.len();
            self.state.head = head;
            self.verifier = verifier;
            self.last_id = last_fresh_id.or(self.last_id.take());
            self.links.extend(fresh_links);
        }
        let ack = FromMirror::Ack { id: last, lines: self.state.lines };
        writer.send(&ack).await.map_err(|e| e.to_string())
    }

    /// The primary sent an event this copy holds, with other content: said, not acknowledged.
    fn differs_from_held(&mut self, id: &str) -> String {
        let why = format!(
            "the primary's event {} differs from the copy's: edited on the primary after it was mirrored",
            crate::sanitize::sanitize_str(id, 60)
        );
        self.state.diverged = Some(crate::sanitize::sanitize_str(&why, 400));
        why
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
    /// and a checklist at all; the config then names the checklist kept here. `Err` when they
    /// could not be kept (say, another member's file under that name in a shared directory):
    /// the primary's header says so, since promoting would otherwise run stale or foreign ones.
    fn keep_config(&mut self, toml: &str, checklist: Option<&str>) -> Result<(), String> {
        let path = status::config_path(&self.path);
        let not_kept = |what: &str, e: String| format!("the mirror could not keep the {what}: {e}");
        let mut table = toml::from_str::<toml::Table>(toml).map_err(|e| not_kept("config", e.to_string()))?;
        let list_path = status::checklist_path(&self.path);
        if let Some(text) = checklist {
            crate::checklist::parse(text, &list_path).map_err(|e| not_kept("checklist", e.to_string()))?;
            dir::replace(&list_path, text.as_bytes(), &Sharing::PRIVATE)
                .map_err(|e| not_kept("checklist", e.to_string()))?;
            table.insert("checklist".into(), toml::Value::String(list_path.display().to_string()));
        }
        let text = toml::to_string(&table).map_err(|e| not_kept("config", e.to_string()))?;
        crate::config::parse(&text, &path).map_err(|e| not_kept("config", e.to_string()))?;
        dir::replace(&path, text.as_bytes(), &Sharing::PRIVATE).map_err(|e| not_kept("config", e.to_string()))
    }

    fn save_state(&mut self, now: bool) {
        if now || self.saved.is_none_or(|t| t.elapsed() >= STATE_EVERY) {
            let _ = status::write(&status::copy_path(&self.path), &self.state, &Sharing::PRIVATE);
            self.saved = Some(Instant::now());
        }
    }
}

/// What the copy does with a line from the primary.
#[derive(Debug, PartialEq)]
enum Admitted {
    /// A journal line, with its id if it has one.
    Event(Option<String>),
    /// Not a journal line (written into the primary's file by hand): kept as it is.
    Quarantined,
}

/// A line fit for the copy: bounded and one line; a JSON object with a bounded id, or else
/// kept as it is, quarantined.
fn admit(line: &[u8]) -> Result<Admitted, String> {
    if line.len() > MAX_LINE_BYTES {
        return Err(format!("{} bytes, over the {MAX_LINE_BYTES}-byte limit", line.len()));
    }
    if line.contains(&b'\n') {
        return Err("a line with a newline inside".into());
    }
    if !is_journal_line(line) {
        return Ok(Admitted::Quarantined);
    }
    match chain::head_of(line).id {
        Some(id) if id.len() > MAX_ID || id.chars().any(char::is_control) => Err("an id that is not one".into()),
        id => Ok(Admitted::Event(id.map(|c| c.into_owned()))),
    }
}

/// The link (hash) of each line of the copy with an id, by id: a line sent again must be
/// the same line.
fn links_by_id(path: &Path) -> anyhow::Result<HashMap<String, String>> {
    use std::io::BufRead;
    let file = dir::open_read(path, u64::MAX)?;
    let mut reader = std::io::BufReader::with_capacity(256 * 1024, file);
    let (mut links, mut line) = (HashMap::new(), Vec::new());
    while reader.read_until(b'\n', &mut line)? > 0 {
        if line.pop() == Some(b'\n')
            && let Some(id) = chain::head_of(&line).id
        {
            links.insert(id.into_owned(), chain::link(&line));
        }
        line.clear();
    }
    Ok(links)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line linked to `prev`, as the primary's writer makes it.
    fn line(id: &str, text: &str, prev: &str) -> String {
        let mut line = format!(r#"{{"v":1,"id":"{id}","text":"{text}"}}"#).into_bytes();
        chain::attach(&mut line, prev);
        String::from_utf8(line).unwrap()
    }

    /// A copy, a writer to a far end the test reads, and that far end.
    fn copy_and_link(path: &Path) -> (Ingest, Writer, Reader<tokio::io::DuplexStream>) {
        let copy = Ingest::open(path, &Hello::ours("ship")).unwrap();
        let (ours, theirs) = tokio::io::duplex(1 << 16);
        (copy, Writer::spawn(ours, Duration::from_secs(60)), Reader::new(theirs, Duration::from_secs(30)))
    }

    #[tokio::test]
    async fn an_event_sent_again_with_other_content_is_divergence_not_an_ack() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("incident.jsonl");
        let (mut copy, writer, mut primary) = copy_and_link(&path);
        let first = line("a", "one", &chain::start());
        copy.take(vec![Shipped::Text(first.clone())], &writer).await.unwrap();
        let ack: Option<FromMirror> = primary.next("ack").await.unwrap();
        assert_eq!(ack, Some(FromMirror::Ack { id: "a".into(), lines: 1 }));
        // The same line again (a resend) is acknowledged and not written twice.
        copy.take(vec![Shipped::Text(first.clone())], &writer).await.unwrap();
        assert_eq!(
            primary.next::<FromMirror>("ack").await.unwrap(),
            Some(FromMirror::Ack { id: "a".into(), lines: 1 })
        );
        // Event `a` edited on the primary and sent again: not silently dropped and acked.
        let edited = line("a", "edited", &chain::start());
        let why = copy.take(vec![Shipped::Text(edited)], &writer).await.unwrap_err();
        assert!(why.contains("event a differs from the copy"), "{why}");
        assert!(copy.state.diverged.as_deref().is_some_and(|d| d.contains("differs")));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), format!("{first}\n"));
    }

    #[tokio::test]
    async fn lines_that_are_not_journal_lines_are_kept_as_they_are_and_the_chain_reads_as_the_primary_s() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("incident.jsonl");
        let (mut copy, writer, mut primary) = copy_and_link(&path);
        let a = line("a", "one", &chain::start());
        let junk = b"x \xff\x1b[2J".to_vec();
        let b = line("b", "two", &chain::link(&junk));
        let lines = vec![Shipped::Text(a.clone()), Shipped::of(&junk), Shipped::Text(b.clone())];
        copy.take(lines, &writer).await.unwrap();
        assert_eq!(
            primary.next::<FromMirror>("ack").await.unwrap(),
            Some(FromMirror::Ack { id: "b".into(), lines: 3 })
        );
        let mut want = format!("{a}\n").into_bytes();
        want.extend_from_slice(&junk);
        want.extend_from_slice(format!("\n{b}\n").as_bytes());
        assert_eq!(std::fs::read(&path).unwrap(), want);
        // As on the primary: the one break is the junk line's own; the line after links.
        let report = chain::verify(&path).unwrap();
        assert_eq!(report.breaks.iter().map(|b| b.line).collect::<Vec<_>>(), [2]);
        // The copy reopened (a new link) carries on after it.
        drop(copy);
        let (mut copy, writer, mut primary) = copy_and_link(&path);
        let c = line("c", "three", &chain::link(b.as_bytes()));
        copy.take(vec![Shipped::Text(c)], &writer).await.unwrap();
        assert_eq!(
            primary.next::<FromMirror>("ack").await.unwrap(),
            Some(FromMirror::Ack { id: "c".into(), lines: 4 })
        );
    }

    #[test]
    fn a_config_that_cannot_be_kept_is_an_error_to_report_not_silence() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("incident.jsonl");
        let mut copy = Ingest::open(&path, &Hello::ours("ship")).unwrap();
        let config = "[[check]]\nname = \"web\"\nkind = \"http\"\nurl = \"http://127.0.0.1/\"\n";
        copy.keep_config(config, None).unwrap();
        assert!(std::fs::read_to_string(status::config_path(&path)).unwrap().contains("web"));
        // Something that will not be replaced holds the name (in a shared sticky directory:
        // another member's file): the primary must hear of it.
        std::fs::remove_file(status::config_path(&path)).unwrap();
        std::fs::create_dir(status::config_path(&path)).unwrap();
        let why = copy.keep_config(config, None).unwrap_err();
        assert!(why.contains("could not keep the config"), "{why}");
    }

    #[test]
    fn journal_lines_with_sane_ids_are_admitted_and_other_bounded_lines_quarantined() {
        assert_eq!(admit(br#"{"v":1,"id":"a"}"#).unwrap(), Admitted::Event(Some("a".into())));
        assert_eq!(admit(b"not json").unwrap(), Admitted::Quarantined);
        assert_eq!(admit(br#"["a"]"#).unwrap(), Admitted::Quarantined);
        assert_eq!(admit(b"\xff\xfe\x1b[2J").unwrap(), Admitted::Quarantined);
        assert!(admit(b"two\nlines").is_err());
        assert!(admit(&vec![b'x'; MAX_LINE_BYTES + 1]).is_err());
        assert!(admit(format!(r#"{{"id":"{}"}}"#, "x".repeat(200)).as_bytes()).is_err());
        assert!(admit(br#"{"id":"a\u001b[2J"}"#).is_err());
    }
}
