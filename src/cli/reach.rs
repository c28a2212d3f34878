//! `warroom reach DEST`: is warroom on that host reachable over SSH, and which one is it?
//! The first thing to try when adding a vantage or a mirror, and what their setup errors
//! point to.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::sanitize::sanitize_str;
use crate::ssh::{Destination, Link, Ssh, Timing, accept};

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
    link.writer.send(&Echo { echo: 1 }).await?;
    let back: Option<Echo> = link.reader.next("waiting for the echo").await?;
    anyhow::ensure!(back.is_some_and(|b| b.echo == 1), "{}: the echo did not come back", dest.name);
    let round_trip = sent.elapsed();
    let peer = &link.peer;
    println!(
        "{}: warroom {} (protocol {}) as {}, pid {}; connected in {} ms, round trip {:.1} ms",
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
