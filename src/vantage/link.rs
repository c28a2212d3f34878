//! One vantage's link from the war room: open it, send the setup, pass the agent's messages
//! on, and when it breaks, say so and open it again with backoff. The task ends, killing
//! ssh (and with it the agent, whose stdin closes), when the war room drops its commands.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::process::ChildStdout;
use tokio::sync::mpsc;

use super::VantageDef;
use super::agent::{ALLOW_COMMAND, VERB};
use super::wire::{FromAgent, ToAgent};
use crate::monitor::State;
use crate::ssh::{Link, LinkError, Reader, Ssh};

/// First wait before opening a link again; doubled after each failure up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How long connecting to a vantage may take before it counts as unreachable: shorter than
/// a link's default, so a vantage whose packets are dropped from the start is on screen as
/// unreachable within seconds, not with its checks waiting for its first word.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What a link task tells the war room.
#[derive(Debug)]
pub enum Report {
    /// The agent greeted us and has its setup.
    Up {
        vantage: usize,
        pid: u32,
        account: String,
    },
    /// The link could not be opened, or broke, and why.
    Down {
        vantage: usize,
        detail: String,
    },
    Message {
        vantage: usize,
        message: FromAgent,
    },
}

/// A vantage's link task: what it needs to (re)open the link.
pub struct LinkTask {
    pub vantage: usize,
    pub def: VantageDef,
    pub ssh: Ssh,
    /// The agent's checks, as config text ([`super::Plan::agent_config`]).
    pub config: String,
    /// Each of its checks' state as this place last recorded it, kept current by the war
    /// room, so a reconnected agent does not record a change twice.
    pub recorded: Arc<Mutex<BTreeMap<String, State>>>,
    pub reports: mpsc::UnboundedSender<Report>,
}

impl LinkTask {
    pub async fn run(self, mut commands: mpsc::UnboundedReceiver<ToAgent>) {
        let mut backoff = FIRST_BACKOFF;
        let mut ssh = self.ssh.clone();
        ssh.timing.connect = ssh.timing.connect.min(CONNECT_TIMEOUT);
        loop {
            let args: Vec<String> = if self.def.allow_command { vec![ALLOW_COMMAND.into()] } else { Vec::new() };
            let detail = match Link::open(&ssh, &self.def.destination(), VERB, &args).await {
                Ok(link) => match self.serve(link, &mut commands).await {
                    None => return,
                    Some(why) => {
                        backoff = FIRST_BACKOFF;
                        why
                    }
                },
                Err(e) => e.to_string(),
            };
            if self.reports.send(Report::Down { vantage: self.vantage, detail }).is_err() {
                return;
            }
            // Commands that arrive while the link is down are for an agent that is not
            // there: the next agent starts from its setup.
            let wait = tokio::time::sleep(backoff);
            tokio::pin!(wait);
            loop {
                tokio::select! {
                    _ = &mut wait => break,
                    command = commands.recv() => if command.is_none() { return },
                }
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// Sets the agent up and relays until the link breaks (`Some(why)`) or the war room is
    /// done with it (`None`: dropping the link kills ssh).
    async fn serve(&self, link: Link, commands: &mut mpsc::UnboundedReceiver<ToAgent>) -> Option<String> {
        let Link { reader, writer, peer, process } = link;
        let recorded = self.recorded.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let setup = ToAgent::Setup { config: self.config.clone(), recorded, once: false };
        if let Err(e) = writer.send(&setup).await {
            return Some(e.to_string());
        }
        let up = Report::Up { vantage: self.vantage, pid: peer.pid, account: peer.account.clone() };
        self.reports.send(up).ok()?;
        let mut incoming = forward(reader);
        let why = loop {
            tokio::select! {
                message = incoming.recv() => match message {
                    Some(Ok(FromAgent::Failed { error })) => break format!("the agent could not use its checks: {error}"),
                    Some(Ok(message)) => self.reports.send(Report::Message { vantage: self.vantage, message }).ok()?,
                    Some(Err(e)) => break e.to_string(),
                    None => break "the link ended".to_string(),
                },
                command = commands.recv() => match command {
                    Some(command) => if let Err(e) = writer.send(&command).await { break e.to_string() },
                    None => return None,
                },
            }
        };
        drop(writer);
        // ssh's own words say more than "ended" (a killed connection, a timeout): first.
        let said = process.stderr_tail();
        process.close(Duration::from_millis(200)).await;
        Some(if said.is_empty() { why } else { format!("{said} ({why})") })
    }
}

/// The agent's messages, read on a task of their own (a read is not cancel-safe). Ends
/// with an error, or `None` when the link closed cleanly.
fn forward(mut reader: Reader<ChildStdout>) -> mpsc::Receiver<Result<FromAgent, LinkError>> {
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(async move {
        loop {
            let message = match reader.next::<FromAgent>("reading the agent's messages").await {
                Ok(Some(message)) => Ok(message),
                Ok(None) => return,
                Err(e) => Err(e),
            };
            let failed = message.is_err();
            if tx.send(message).await.is_err() || failed {
                return;
            }
        }
    });
    rx
}
