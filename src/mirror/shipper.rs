//! Shipping the journal to one mirror: connect, learn what it holds, send every line after
//! that in order, hear its acknowledgements; reconnect with backoff when the link goes.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::mpsc;

use super::acks::Unacked;
use super::status::MirrorStatus;
use super::tail::{self, Position};
use super::wire::{BATCH_BYTES, FromMirror, Shipped, ToMirror, is_journal_line};
use crate::config::Mirror;
use crate::journal::chain;
use crate::ssh::{Link, LinkError, Ssh};

/// How often the journal is looked at for new lines while a link is up.
const LOOK_EVERY: Duration = Duration::from_millis(100);
const FIRST_RETRY: Duration = Duration::from_millis(500);
const LAST_RETRY: Duration = Duration::from_secs(5);
/// A mirror that refused (promoted, or its copy differs) is asked again this often at
/// first, then less often: a person may put it right (a planted mark removed, say), and the
/// disaster copy must not stop for good.
const FIRST_REFUSED_RETRY: Duration = Duration::from_secs(5);
const LAST_REFUSED_RETRY: Duration = Duration::from_secs(60);
/// How long a replaced journal that does not hold the lines shipped may take to become one
/// that does (see `still_in_place`).
const SETTLE: Duration = Duration::from_secs(2);

/// The statuses of every mirror, shared with the station that shows and records them.
#[derive(Default)]
pub(super) struct Shared {
    pub statuses: Mutex<Vec<MirrorStatus>>,
}

impl Shared {
    fn update(&self, index: usize, f: impl FnOnce(&mut MirrorStatus)) {
        let mut statuses = self.statuses.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(status) = statuses.get_mut(index) {
            f(status);
        }
    }
}

/// Why a link to a mirror ended.
enum Ended {
    /// Gone for now: try again.
    Away(String),
    /// The mirror's copy and this journal disagree, or it was promoted: a person must look
    /// (asked again, less often).
    Stop(String),
    /// The mirror was promoted to a primary (at; its words): it takes nothing more from here.
    Promoted(chrono::DateTime<Utc>, String),
    /// This journal was edited under the shipper (bytes it had shipped changed): shipping
    /// stops until a person has looked and warroom starts again; asking the mirror again
    /// would find its last line unchanged and carry on as if nothing had happened.
    Edited(String),
}

/// The mirror's refusal, as the primary's operator reads it: the mirror's own words are
/// about "this copy" and "the primary", so they are quoted as the mirror's.
fn refused(why: String, promoted: Option<chrono::DateTime<Utc>>) -> Ended {
    match promoted {
        Some(at) => Ended::Promoted(at, why),
        None => Ended::Stop(format!("the mirror refused what was shipped; it says: {why}")),
    }
}

impl From<LinkError> for Ended {
    fn from(e: LinkError) -> Self {
        Ended::Away(e.to_string())
    }
}

impl From<std::io::Error> for Ended {
    fn from(e: std::io::Error) -> Self {
        Ended::Away(e.to_string())
    }
}

/// What one mirror's shipping works with.
struct Job<'a> {
    journal: &'a Path,
    mirror: &'a Mirror,
    ssh: &'a Ssh,
    config: Option<&'a str>,
    checklist: Option<String>,
    index: usize,
    shared: &'a Shared,
}

impl Job<'_> {
    fn update(&self, f: impl FnOnce(&mut MirrorStatus)) {
        self.shared.update(self.index, f);
    }
}

/// Ships to one mirror until the task is dropped; a mirror that refuses is asked again.
pub(super) async fn ship(
    journal: PathBuf,
    mirror: Mirror,
    ssh: Ssh,
    config: Option<String>,
    index: usize,
    shared: Arc<Shared>,
) {
    let checklist = config.as_deref().and_then(checklist_file);
    let job = Job {
        journal: &journal,
        mirror: &mirror,
        ssh: &ssh,
        config: config.as_deref(),
        checklist,
        index,
        shared: &shared,
    };
    let mut backoff = FIRST_RETRY;
    let mut refused_backoff = FIRST_REFUSED_RETRY;
    loop {
        let began = Instant::now();
        let wait = match session(&job).await {
            Ended::Stop(why) => {
                job.update(|s| s.diverged = Some(format!("{why} (asked again now and then)")));
                let wait = refused_backoff;
                refused_backoff = (refused_backoff * 2).min(LAST_REFUSED_RETRY);
                wait
            }
            // Asked again too, as a refusal is: a `.promoted` mark may be a mistake, put right.
            Ended::Promoted(at, why) => {
                job.update(|s| {
                    s.promoted = Some(at);
                    s.diverged = Some(why);
                });
                let wait = refused_backoff;
                refused_backoff = (refused_backoff * 2).min(LAST_REFUSED_RETRY);
                wait
            }
            Ended::Edited(why) => {
                job.update(|s| s.diverged = Some(why));
                return;
            }
            Ended::Away(why) => {
                job.update(|s| s.error = Some(why));
                if began.elapsed() > LAST_RETRY * 2 {
                    backoff = FIRST_RETRY;
                }
                let wait = backoff;
                backoff = (backoff * 2).min(LAST_RETRY);
                wait
            }
        };
        tokio::time::sleep(wait).await;
    }
}

async fn session(job: &Job<'_>) -> Ended {
    let args = ["-j".to_string(), job.mirror.journal.display().to_string()];
    let link = match Link::open(job.ssh, &job.mirror.destination, "ingest", &args).await {
        Ok(link) => link,
        Err(e) => return Ended::Away(e.to_string()),
    };
    let Link { mut reader, writer, process, .. } = link;
    // Its own task: a read cut short by `select!` would lose half a line.
    let (heard_tx, mut heard) = mpsc::channel(256);
    let listening = tokio::spawn(async move {
        loop {
            let message = reader.next::<FromMirror>("reading the mirror's acknowledgements").await;
            let last = !matches!(message, Ok(Some(_)));
            if heard_tx.send(message).await.is_err() || last {
                return;
            }
        }
    });
    let ended = stream(job, &writer, &mut heard).await;
    listening.abort();
    drop(writer);
    process.close(Duration::from_secs(1)).await;
    ended
}

type Heard = mpsc::Receiver<Result<Option<FromMirror>, LinkError>>;

async fn next(heard: &mut Heard) -> Result<FromMirror, Ended> {
    match heard.recv().await {
        Some(Ok(Some(message))) => Ok(message),
        Some(Err(e)) => Err(e.into()),
        _ => Err(Ended::Away("the mirror closed the link".into())),
    }
}

/// Where shipping resumes: just after the mirror's last line, which must be ours, unchanged.
fn resume_at(file: &std::fs::File, holding: FromMirror) -> Result<Position, Ended> {
    let (lines, last_id, head) = match holding {
        FromMirror::Holding { lines, last_id, head } => (lines, last_id, head),
        FromMirror::Refused { why, promoted } => return Err(refused(why, promoted)),
        FromMirror::Ack { .. } | FromMirror::Trouble { .. } => {
            return Err(Ended::Away("the mirror acknowledged before saying what it holds".into()));
        }
    };
    let at = tail::after_lines(file, lines)?.ok_or_else(|| {
        Ended::Stop(format!(
            "the mirror holds {lines} lines, more than this journal: entries were deleted here, or it copies another journal"
        ))
    })?;
    if last_id.is_some() && at.last_id != last_id {
        return Err(Ended::Stop(format!(
            "the mirror's last event {} is not this journal's at line {lines}: it copies another journal, or entries changed here",
            crate::sanitize::sanitize_str(last_id.as_deref().unwrap_or_default(), 60)
        )));
    }
    if at.link != head {
        return Err(Ended::Stop(format!(
            "line {} differs from the mirror's copy: edited here after it was mirrored (or lines before it changed)",
            at.lines
        )));
    }
    Ok(at)
}

/// Before each read: the file at the journal's path (a replacement is followed) must still
/// hold the line shipped last where it was, or reading on from its offset would ship pieces
/// of other lines. An edit at or before it stops shipping: the mirror keeps the journal as
/// it was, and a person looks.
///
/// A replacement that does not hold it may be a moment's: a journal deleted and started anew
/// by `warroom log` is merged by the running warroom, history first, within a quarter second.
/// Until [`SETTLE`] has passed since it was seen, shipping goes on from the old file.
fn still_in_place(
    path: &Path,
    file: &mut std::fs::File,
    sent: &Position,
    replaced_since: &mut Option<Instant>,
) -> Result<(), Ended> {
    if let Some(new) = tail::replaced(path, file)
        && (tail::still_holds(&new, sent)? || replaced_since.get_or_insert_with(Instant::now).elapsed() >= SETTLE)
    {
        *file = new;
    }
    if tail::replaced(path, file).is_none() {
        *replaced_since = None;
    }
    if tail::still_holds(file, sent)? {
        return Ok(());
    }
    Err(Ended::Edited(edited_at(sent.lines)))
}

/// Why shipping stopped when the journal changed under the shipper.
fn edited_at(line: usize) -> String {
    format!("the journal was edited at or before line {line}: shipping stopped; `warroom validate -j` shows where")
}

/// Sends the lines after what the mirror holds, then each new one, and hears the acks.
async fn stream(job: &Job<'_>, writer: &crate::ssh::Writer, heard: &mut Heard) -> Ended {
    let mut file = match tail::open(job.journal) {
        Ok(file) => file,
        Err(e) => return Ended::Away(e.to_string()),
    };
    let holding = match next(heard).await {
        Ok(h) => h,
        Err(e) => return e,
    };
    let mut sent = match resume_at(&file, holding) {
        Ok(at) => at,
        Err(Ended::Stop(why)) => {
            // The mirror's screen says so too.
            let _ = writer.send(&ToMirror::Differs { why: why.clone() }).await;
            return Ended::Stop(why);
        }
        Err(e) => return e,
    };
    job.update(|s| {
        s.error = None;
        s.diverged = None;
        s.warning = None;
        s.promoted = None;
        s.acked_lines = sent.lines;
        s.acked_id = sent.last_id.clone();
    });
    if let Some(toml) = job.config
        && let Err(e) =
            writer.send(&ToMirror::Config { toml: toml.to_string(), checklist: job.checklist.clone() }).await
    {
        return e.into();
    }
    let mut look = tokio::time::interval(LOOK_EVERY);
    look.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut spoke = Instant::now();
    let mut unacked = Unacked::default();
    let mut replaced_since = None;
    loop {
        tokio::select! {
            message = next(heard) => match message {
                Ok(FromMirror::Ack { id, lines }) => {
                    if let Err(why) = unacked.ack(&id, lines) {
                        return Ended::Stop(why);
                    }
                    job.update(|s| {
                        s.acked_lines = lines;
                        s.acked_id = Some(id);
                    })
                }
                Ok(FromMirror::Trouble { why }) => job.update(|s| s.warning = Some(why)),
                Ok(FromMirror::Refused { why, promoted }) => return refused(why, promoted),
                Ok(FromMirror::Holding { .. }) => return Ended::Away("the mirror spoke out of turn".into()),
                Err(e) => return e,
            },
            _ = look.tick() => {
                if let Err(ended) = still_in_place(job.journal, &mut file, &sent, &mut replaced_since) {
                    if let Ended::Stop(why) | Ended::Edited(why) = &ended {
                        // The mirror's screen says so too, and ingest records it.
                        let _ = writer.send(&ToMirror::Differs { why: why.clone() }).await;
                    }
                    return ended;
                }
                let (lines, after) = match tail::read_after(&file, &sent, BATCH_BYTES) {
                    Ok(read) => read,
                    Err(e) => return e.into(),
                };
                let message = if let Some(last) = lines.last() {
                    unacked.sent(chain::head_of(last).id.unwrap_or_default().into_owned(), after.lines);
                    warn_of_foreign_lines(job, &lines, sent.lines);
                    sent = after;
                    ToMirror::Lines(lines.iter().map(|l| Shipped::of(l)).collect())
                } else if spoke.elapsed() >= job.ssh.timing.beat {
                    ToMirror::Alive { at: Utc::now(), lines: sent.lines }
                } else {
                    continue;
                };
                if let Err(e) = writer.send(&message).await {
                    return e.into();
                }
                spoke = Instant::now();
            }
        }
    }
}

/// A line of the file that is not a journal line (`echo x >> journal` by hand) is shipped as
/// it is, so the copy's chain holds as the primary's does, and kept apart on the mirror; the
/// header says where it is so a person can look.
fn warn_of_foreign_lines(job: &Job<'_>, lines: &[Vec<u8>], before: usize) {
    if let Some(i) = lines.iter().rposition(|l| !is_journal_line(l)) {
        let why = format!(
            "line {} of this journal is not a journal line (put there by hand?): shipped as it is, \
             kept quarantined by the mirror; `warroom validate` shows it",
            before + i + 1
        );
        job.update(|s| s.warning = Some(why));
    }
}

/// The war room's config as a mirror may keep it: checks, channels and the checklist, with
/// every secret and this host's paths removed (a webhook's `url` may hold a token; `url_env`
/// and the like name variables the mirror host sets for itself). `None` without a file.
pub fn shipped_config(config: &crate::config::Config) -> Option<String> {
    let path = config.source.as_ref()?;
    let bytes = crate::journal::dir::read_bounded(path, 1 << 20).ok()?;
    let mut table: toml::Table = toml::from_str(std::str::from_utf8(&bytes).ok()?).ok()?;
    for key in ["mirror", "journal", "journal_dir", "journal_group"] {
        table.remove(key);
    }
    if let Some(toml::Value::Table(channels)) = table.get_mut("channel") {
        for (name, channel) in channels.iter_mut() {
            // A written-out URL becomes a variable the mirror host sets for itself.
            if let toml::Value::Table(c) = channel
                && c.remove("url").is_some()
            {
                c.insert("url_env".into(), toml::Value::String(url_variable(name)));
            }
        }
    }
    strip_secrets(&mut table);
    toml::to_string(&table).ok()
}

/// The text of the checklist file the shipped config names, if it names a file.
fn checklist_file(toml: &str) -> Option<String> {
    let table: toml::Table = toml::from_str(toml).ok()?;
    let name = table.get("checklist")?.as_str()?;
    let path = Path::new(name);
    if !path.is_file() {
        return None;
    }
    let bytes = crate::journal::dir::read_bounded(path, 1 << 20).ok()?;
    String::from_utf8(bytes).ok()
}

/// `WARROOM_CHAT_URL` for the channel `chat`.
fn url_variable(channel: &str) -> String {
    let name: String =
        channel.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format!("WARROOM_{name}_URL")
}

/// Removes, at any depth, values whose key says they are a secret (names of variables that
/// hold one, `…_env`, stay).
fn strip_secrets(table: &mut toml::Table) {
    let secret = |k: &str| {
        let k = k.to_ascii_lowercase();
        !k.ends_with("_env")
            && ["password", "token", "secret", "authorization", "api_key"].iter().any(|s| k.contains(s))
    };
    table.retain(|k, _| !secret(k));
    for (_, value) in table.iter_mut() {
        match value {
            toml::Value::Table(t) => strip_secrets(t),
            toml::Value::Array(items) => items.iter_mut().for_each(|v| {
                if let toml::Value::Table(t) = v {
                    strip_secrets(t)
                }
            }),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_shipped_config_keeps_checks_and_channels_but_no_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("warroom.toml");
        std::fs::write(
            &path,
            r#"
journal = "/srv/wr/j.jsonl"
[[check]]
name = "web"
kind = "http"
url = "http://127.0.0.1/"
[channel.chat]
kind = "webhook"
url = "https://hooks.example/T0KEN"
token_env = "CHAT_TOKEN"
[[mirror]]
name = "fra"
ssh = "wr@fra"
journal = "/srv/wr/j.jsonl"
"#,
        )
        .unwrap();
        let config = crate::config::load(&path).unwrap();
        let shipped = super::shipped_config(&config).unwrap();
        assert!(!shipped.contains("T0KEN") && !shipped.contains("mirror") && !shipped.contains("/srv/wr"), "{shipped}");
        assert!(shipped.contains("CHAT_TOKEN") && shipped.contains(r#"name = "web""#), "{shipped}");
        // The mirror takes it as a config; the webhook's URL comes from its own environment.
        assert!(shipped.contains(r#"url_env = "WARROOM_CHAT_URL""#), "{shipped}");
        assert!(crate::config::parse(&shipped, &path).is_ok());
    }
}
