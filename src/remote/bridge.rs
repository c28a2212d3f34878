//! This side of a remote screen: a [`Session`] whose engine runs on another host.
//!
//! [`connect`] opens the link (errors name the step and ssh's words, before any terminal is
//! touched) and returns the far setup and a session the screen runs over unchanged. A task
//! then carries updates in and commands out; when the link goes it tells the screen
//! ([`Update::Link`]), keeps the screen's clock ticking, holds commands, and reconnects with
//! backoff, resuming where it was ([`Resume`]).

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::process::ChildStdout;
use tokio::sync::mpsc;

use super::resume::Resume;
use super::wire::{Down, DownLine, FarSetup, Unpacker, UpLine, bounded, bounded_entries};
use crate::sanitize::sanitize_str;
use crate::session::{Command, LinkState, Session, Update};
use crate::ssh::{Destination, Link, LinkError, Process, Reader, Ssh, Writer};

/// The first wait before reconnecting, doubled after each failure up to [`BACKOFF_MAX`].
const BACKOFF_FIRST: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// How long leaving waits for the far session to journal the departure.
const LEAVE_WITHIN: Duration = Duration::from_secs(4);

/// Where the screen's session runs.
#[derive(Debug, Clone)]
pub struct Remote {
    pub dest: Destination,
    /// The journal there (`-j`); default: that host's current incident.
    pub journal: Option<String>,
    /// The config there (`-c`); default: found there as warroom finds it.
    pub config: Option<String>,
    pub author: String,
}

impl Remote {
    fn args(&self, after: Option<&str>) -> Vec<String> {
        let mut args = vec!["--as".to_string(), self.author.clone()];
        if let Some(journal) = &self.journal {
            args.extend(["-j".to_string(), journal.clone()]);
        }
        if let Some(config) = &self.config {
            args.extend(["-c".to_string(), config.clone()]);
        }
        if let Some(after) = after {
            args.extend(["--after".to_string(), after.to_string()]);
        }
        args
    }
}

/// A link that has said its setup: messages come on `incoming`.
struct Connected {
    writer: Writer,
    process: Process,
    incoming: mpsc::UnboundedReceiver<Result<Down, LinkError>>,
    setup: FarSetup,
}

/// Connects to the far session: its setup, and the session the screen runs over. The first
/// update is [`Update::Opened`], as from a local session.
pub async fn connect(ssh: Ssh, remote: Remote) -> Result<(FarSetup, Session), LinkError> {
    let mut connected = open(&ssh, &remote, None).await?;
    let (session, updates, commands) = Session::bridged(remote.author.clone());
    let setup = connected.setup.clone();
    let mut bridge =
        Bridge { resume: Resume::new(&remote.author), unpacker: Unpacker::default(), ssh, remote, updates, commands };
    // The opening comes first, before the task starts, so an error here is the caller's.
    let opened = next_down(&mut connected.incoming, "waiting for the session to open").await?;
    let Down::Update(opened @ Update::Opened { .. }) = opened else {
        return Err(protocol("waiting for the session to open", "the first update is not the opening"));
    };
    bridge.tell(bounded(opened));
    tokio::spawn(bridge.run(connected));
    Ok((setup, session))
}

/// Starts `warroom serve-session` there and reads its setup.
async fn open(ssh: &Ssh, remote: &Remote, after: Option<&str>) -> Result<Connected, LinkError> {
    let args = remote.args(after);
    let Link { reader, writer, process, .. } = Link::open(ssh, &remote.dest, super::VERB, &args).await?;
    let mut incoming = spawn_reader(reader);
    match next_down(&mut incoming, "reading the far setup").await? {
        Down::Setup(setup) => Ok(Connected { writer, process, incoming, setup }),
        // The far side will not serve (no open incident there, its config in error).
        Down::Update(Update::Notice(why)) => {
            Err(LinkError::Protocol { step: "opening the far session", detail: sanitize_str(&why, 500) })
        }
        _ => Err(protocol("reading the far setup", "the first message is not the setup")),
    }
}

fn protocol(step: &'static str, detail: &str) -> LinkError {
    LinkError::Protocol { step, detail: detail.to_string() }
}

async fn next_down(
    incoming: &mut mpsc::UnboundedReceiver<Result<Down, LinkError>>,
    step: &'static str,
) -> Result<Down, LinkError> {
    incoming.recv().await.unwrap_or_else(|| Err(LinkError::Closed(format!(" ({step})"))))
}

/// The far side's messages, read on their own task (a line half read must not be lost to a
/// `select!` choosing another branch), version checked first.
fn spawn_reader(mut reader: Reader<ChildStdout>) -> mpsc::UnboundedReceiver<Result<Down, LinkError>> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let down = match reader.next::<DownLine>("reading the far session's updates").await {
                Ok(Some(line)) => {
                    line.open().map_err(|detail| LinkError::Protocol { step: "reading an update", detail })
                }
                Ok(None) => Err(LinkError::Closed(String::new())),
                Err(e) => Err(e),
            };
            let failed = down.is_err();
            if tx.send(down).is_err() || failed {
                break;
            }
        }
    });
    rx
}

struct Bridge {
    resume: Resume,
    unpacker: Unpacker,
    ssh: Ssh,
    remote: Remote,
    updates: mpsc::UnboundedSender<Update>,
    commands: mpsc::UnboundedReceiver<Command>,
}

/// How a connection ended.
enum Ended {
    /// The screen left.
    Left,
    Lost(LinkError),
}

impl Bridge {
    async fn run(mut self, mut connected: Connected) {
        let mut ticks = clock();
        loop {
            match self.pump(&mut connected, &mut ticks).await {
                Ended::Left => {
                    self.leave(connected).await;
                    return;
                }
                Ended::Lost(why) => {
                    connected.process.close(Duration::from_millis(200)).await;
                    match self.reconnect(why, &mut ticks).await {
                        Some(next) => connected = next,
                        None => {
                            self.tell(Update::Ended);
                            return;
                        }
                    }
                }
            }
        }
    }

    fn tell(&mut self, update: Update) {
        for update in self.resume.update(update) {
            let _ = self.updates.send(update);
        }
    }

    /// Carries updates in and commands out until the link goes or the screen leaves.
    async fn pump(&mut self, connected: &mut Connected, ticks: &mut tokio::time::Interval) -> Ended {
        loop {
            tokio::select! {
                down = connected.incoming.recv() => {
                    let down = down.unwrap_or_else(|| Err(LinkError::Closed(String::new())));
                    if let Err(e) = down.and_then(|down| self.down(down)) {
                        return Ended::Lost(e);
                    }
                }
                command = self.commands.recv() => {
                    let Some(command) = command.filter(|c| *c != Command::Leave) else { return Ended::Left };
                    if let Some(command) = self.resume.command(command, true)
                        && let Err(e) = connected.writer.send(&UpLine::new(command)).await
                    {
                        return Ended::Lost(e);
                    }
                }
                _ = ticks.tick() => { let _ = self.updates.send(Update::Clock(Utc::now())); }
            }
        }
    }

    fn down(&mut self, down: Down) -> Result<(), LinkError> {
        let bad = |detail: String| LinkError::Protocol { step: "reading the far session's updates", detail };
        match down {
            Down::Update(Update::Ended) => return Err(LinkError::Closed(" (its session ended)".into())),
            Down::Update(update) if !far_side_says(&update) => {}
            Down::Update(update) => self.tell(bounded(update)),
            Down::Rows(rows) => self.unpacker.rows(rows).map_err(bad)?,
            Down::Readings(batch) => {
                for p in batch.r {
                    let update = self.unpacker.unpack(batch.at, p).map_err(bad)?;
                    let _ = self.updates.send(update);
                }
            }
            Down::Setup(_) => return Err(bad("a second setup".into())),
        }
        Ok(())
    }

    /// Says the link is down, then tries again with backoff until it is back (or the screen
    /// leaves, or the far side will never do: another protocol). Commands meanwhile are held.
    async fn reconnect(&mut self, why: LinkError, ticks: &mut tokio::time::Interval) -> Option<Connected> {
        let since = lost_since(&why, Utc::now());
        let mut wait = BACKOFF_FIRST;
        let mut why = why;
        loop {
            let retrying = why.is_transient();
            self.link_state(Some(since), &why.to_string(), retrying);
            if !retrying {
                // Stay on screen (the last state stays readable) until the operator leaves.
                while let Some(command) = self.commands.recv().await {
                    if command == Command::Leave {
                        return None;
                    }
                }
                return None;
            }
            let until = tokio::time::Instant::now() + wait;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(until) => break,
                    command = self.commands.recv() => match command {
                        Some(Command::Leave) | None => return None,
                        Some(command) => { self.resume.command(command, false); }
                    },
                    _ = ticks.tick() => { let _ = self.updates.send(Update::Clock(Utc::now())); }
                }
            }
            wait = (wait * 2).min(BACKOFF_MAX);
            match self.resume_on(since, ticks).await {
                Some(Ok(connected)) => return Some(connected),
                Some(Err(e)) => why = e,
                None => return None,
            }
        }
    }

    /// A new connection, picking up after the last entry shown; `None`: the screen left while
    /// connecting. The clock ticks on meanwhile (connecting may take the whole connect time).
    async fn resume_on(
        &mut self,
        since: DateTime<Utc>,
        ticks: &mut tokio::time::Interval,
    ) -> Option<Result<Connected, LinkError>> {
        let after = self.resume.last_shown().map(str::to_string);
        let opened = {
            let (ssh, remote) = (&self.ssh, &self.remote);
            let opening = async {
                let mut connected = open(ssh, remote, after.as_deref()).await?;
                let opened = next_down(&mut connected.incoming, "waiting for the session to open").await?;
                Ok::<_, LinkError>((connected, opened))
            };
            tokio::pin!(opening);
            loop {
                tokio::select! {
                    opened = &mut opening => break opened,
                    command = self.commands.recv() => match command {
                        Some(Command::Leave) | None => return None,
                        Some(command) => { self.resume.command(command, false); }
                    },
                    _ = ticks.tick() => { let _ = self.updates.send(Update::Clock(Utc::now())); }
                }
            }
        };
        Some(self.resumed(since, opened).await)
    }

    async fn resumed(
        &mut self,
        since: DateTime<Utc>,
        opened: Result<(Connected, Down), LinkError>,
    ) -> Result<Connected, LinkError> {
        let (connected, opened) = opened?;
        let Down::Update(Update::Opened { role, entries, rows, .. }) = opened else {
            return Err(protocol("waiting for the session to open", "the first update is not the opening"));
        };
        self.unpacker = Unpacker::default();
        let (told, resend) = self.resume.reconnected(bounded_entries(entries));
        rows.into_iter().for_each(|row| drop(self.updates.send(Update::Row(row))));
        told.into_iter().for_each(|update| drop(self.updates.send(update)));
        for command in resend {
            connected.writer.send(&UpLine::new(command)).await?;
        }
        let down_for = (Utc::now() - since).num_seconds();
        self.link_state(None, &format!("down {down_for} s; this session is {} there", role.as_str()), true);
        let _ = self.updates.send(Update::Role { role, why: format!("link to {} is back", self.dest_name()) });
        Ok(connected)
    }

    fn dest_name(&self) -> String {
        sanitize_str(&self.remote.dest.name, 60)
    }

    fn link_state(&mut self, lost_since: Option<DateTime<Utc>>, detail: &str, retrying: bool) {
        let state = LinkState { to: self.remote.dest.name.clone(), lost_since, detail: detail.to_string(), retrying };
        let _ = self.updates.send(Update::Link(state));
    }

    /// The screen leaves: the far session journals the departure, and what it says while
    /// leaving (the last acknowledgements) reaches the screen before it ends.
    async fn leave(mut self, mut connected: Connected) {
        let _ = connected.writer.send(&UpLine::new(Command::Leave)).await;
        let _ = tokio::time::timeout(LEAVE_WITHIN, async {
            while let Some(Ok(down)) = connected.incoming.recv().await {
                if self.down(down).is_err() {
                    break;
                }
            }
        })
        .await;
        drop(connected.writer);
        connected.process.close(Duration::from_secs(2)).await;
        self.tell(Update::Ended);
    }
}

/// Whether an update is the far session's to give: the link's state and the clock are this
/// side's own, and a far side serves no drill or replay (their scorecard and position).
fn far_side_says(update: &Update) -> bool {
    !matches!(update, Update::Link(_) | Update::Clock(_) | Update::Scorecard(_) | Update::Replay(_))
}

/// When the link went quiet: a link found silent was lost when the silence began, not when
/// it was noticed; a closed or reset one when it was noticed.
fn lost_since(why: &LinkError, noticed: DateTime<Utc>) -> DateTime<Utc> {
    match why {
        LinkError::Silent(silence) => noticed - chrono::TimeDelta::from_std(*silence).unwrap_or_default(),
        _ => noticed,
    }
}

/// The screen's clock: a tick on each second, as a local session's.
fn clock() -> tokio::time::Interval {
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    ticks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ssh::Timing;

    #[test]
    fn a_silent_link_was_lost_when_it_went_quiet() {
        let noticed = Utc::now();
        let silent = LinkError::Silent(Duration::from_secs(45));
        assert_eq!(lost_since(&silent, noticed), noticed - chrono::TimeDelta::seconds(45));
        assert_eq!(lost_since(&LinkError::Closed(String::new()), noticed), noticed);
    }

    #[test]
    fn the_screens_own_updates_from_the_far_side_are_dropped() {
        let link = LinkState { to: "x".into(), lost_since: None, detail: "fine".into(), retrying: true };
        for update in [Update::Link(link), Update::Clock(Utc::now()), Update::Scorecard("10/10".into())] {
            assert!(!far_side_says(&update), "{update:?}");
        }
        assert!(far_side_says(&Update::Notice("hello".into())));
    }

    /// A far host that takes its time to answer: the screen's clock goes on meanwhile.
    #[tokio::test]
    async fn the_clock_ticks_while_connecting() {
        let timing =
            Timing { beat: Duration::from_secs(15), silence: Duration::from_secs(45), connect: Duration::from_secs(3) };
        // "ssh" that never answers: the connect time runs out.
        let words = ["sh", "-c", "sleep 20", "never-answers"].map(String::from).to_vec();
        let remote = Remote {
            dest: Destination { name: "slow".into(), ssh: "slow".into(), command: None },
            journal: None,
            config: None,
            author: "alice".into(),
        };
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (_commands_tx, commands_rx) = mpsc::unbounded_channel();
        let mut bridge = Bridge {
            resume: Resume::new("alice"),
            unpacker: Unpacker::default(),
            ssh: Ssh::new(words, timing),
            remote,
            updates: tx,
            commands: commands_rx,
        };
        let mut ticks = clock();
        let outcome = bridge.resume_on(Utc::now(), &mut ticks).await;
        assert!(matches!(outcome, Some(Err(_))), "a far side that never answers is not a connection");
        let mut clocks = 0;
        while let Ok(update) = rx.try_recv() {
            clocks += usize::from(matches!(update, Update::Clock(_)));
        }
        assert!(clocks >= 2, "{clocks} ticks in 3 s of connecting");
    }
}
