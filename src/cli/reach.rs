//! `warroom reach DEST`: is warroom on that host reachable over SSH, and which one is it?
//! The first thing to try when adding a vantage or a mirror, and what their setup errors
//! point to.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::sanitize::sanitize_str;
use crate::ssh::{Destination, Link, LinkError, Ssh, Timing, accept};
use crate::vantage::agent::VERB;
use crate::vantage::wire::{FromAgent, ToAgent};

/// The message `reach` sends and `answer` sends back.
#[derive(Serialize, Deserialize)]
struct Echo {
    echo: u64,
}

pub fn run(global: &super::GlobalArgs, destination: &str, command: Option<String>) -> anyhow::Result<ExitCode> {
    let mut dest = configured_vantage(global, destination).unwrap_or_else(|| Destination {
        name: destination.to_string(),
        ssh: destination.to_string(),
        command: None,
    });
    if command.is_some() {
        dest.command = command;
    }
    super::current::runtime()?.block_on(reach(&dest))
}

/// `warroom reach paris` where the config has a `[[vantage]]` named paris: its destination
/// and warroom path, so what is checked is what the war room will run.
fn configured_vantage(global: &super::GlobalArgs, name: &str) -> Option<Destination> {
    let path = crate::config::locate(global.config.as_deref())?;
    let config = crate::config::load(&path).ok()?;
    config.vantage.vantages.iter().find(|v| v.name == name).map(|v| v.destination())
}

async fn reach(dest: &Destination) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let ssh = Ssh::from_env().map_err(anyhow::Error::msg)?;
    let mut link = match Link::open(&ssh, dest, "answer", &[]).await {
        Ok(link) => link,
        Err(e) => {
            eprintln!("warroom: {}", crate::sanitize::for_terminal(&e.to_string()));
            return Ok(ExitCode::from(1));
        }
    };
    let connected = started.elapsed();
    let sent = Instant::now();
    // A key restricted in authorized_keys (`command="warroom agent"`) runs that verb whatever
    // we ask: its greeting says so, and the agent's own messages make the round trip.
    let note = match link.peer.verb.as_str() {
        "answer" => {
            link.writer.send(&Echo { echo: 1 }).await?;
            let back: Option<Echo> = link.reader.next("waiting for the echo").await?;
            anyhow::ensure!(back.is_some_and(|b| b.echo == 1), "{}: the echo did not come back", dest.name);
            ""
        }
        VERB => {
            agent_round_trip(&mut link).await.map_err(|e| anyhow::anyhow!("{}: {e}", dest.name))?;
            "; restricted to warroom agent: fine for a vantage"
        }
        other => {
            let other = sanitize_str(other, 40);
            eprintln!(
                "warroom: {}: the far side runs `warroom {other}` whatever is asked (a key restricted in \
                 authorized_keys?): reachable, but not usable as a vantage",
                sanitize_str(&dest.name, 80)
            );
            return Ok(ExitCode::from(1));
        }
    };
    let round_trip = sent.elapsed();
    let peer = &link.peer;
    println!(
        "{}: warroom {} (protocol {}) as {}, pid {}; connected in {} ms, round trip {:.1} ms{note}",
        sanitize_str(&dest.name, 80),
        sanitize_str(&peer.version, 40),
        peer.protocol,
        sanitize_str(&peer.account, 120),
        peer.pid,
        connected.as_millis(),
        round_trip.as_secs_f64() * 1000.0
    );
    drop(link.writer);
    link.process.close(Duration::from_secs(5)).await;
    Ok(ExitCode::SUCCESS)
}

/// An agent's round trip: a setup with no checks, to be probed once, answered with `ready`
/// (and then `done`).
async fn agent_round_trip(link: &mut Link) -> Result<(), LinkError> {
    let setup = ToAgent::Setup { config: String::new(), recorded: Default::default(), once: true };
    link.writer.send(&setup).await?;
    loop {
        match link.reader.next::<FromAgent>("waiting for the agent's answer").await? {
            Some(FromAgent::Ready { .. }) => return Ok(()),
            Some(FromAgent::Failed { error }) => {
                return Err(LinkError::Protocol { step: "the agent's answer", detail: sanitize_str(&error, 400) });
            }
            Some(_) => {}
            None => return Err(LinkError::Closed(" before the agent answered".into())),
        }
    }
}

/// Serves `reach` on stdin/stdout until stdin closes.
pub fn answer() -> anyhow::Result<ExitCode> {
    super::current::runtime()?.block_on(async {
        let (mut reader, writer, _peer) =
            accept(tokio::io::stdin(), tokio::io::stdout(), "answer", Timing::default()).await?;
        while let Some(echo) = reader.next::<Echo>("reading an echo").await? {
            writer.send(&echo).await?;
        }
        Ok(ExitCode::SUCCESS)
    })
}
