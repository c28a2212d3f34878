//! `warroom agent`: the far end of a vantage. Needs no config and writes nothing: the war
//! room sends the checks, the agent probes and confirms them with the same monitor as the
//! war room's (timeouts, limits, sanitizer, `depends_on`, canary, all judged here) and
//! streams what it sees. It ends when its stdin closes, or goes silent, and its probes end
//! with it.

use std::collections::HashMap;
use std::path::Path;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;

use super::wire::{FromAgent, Sample, ToAgent};
use crate::monitor::{self, CheckDef, MonitorControl, MonitorEvent, Options};
use crate::probe::{ProbeSpec, Prober};
use crate::ssh::{LinkError, Reader, Timing, Writer, accept};

/// The verb the war room asks the far side for.
pub const VERB: &str = "agent";

/// The argument that lets `command` checks run here. It is on the agent's command line, so
/// a key restricted in `authorized_keys` to `command="warroom agent"` never runs them.
pub const ALLOW_COMMAND: &str = "--allow-command";

/// Serves one war room on `read`/`write` until it closes the link.
pub async fn serve<R, W>(read: R, write: W, allow_command: bool, timing: Timing) -> Result<(), LinkError>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (mut reader, writer, _peer) = accept(read, write, VERB, timing).await?;
    let Some(ToAgent::Setup { config, recorded, once }) = reader.next::<ToAgent>("waiting for the setup").await? else {
        return Err(LinkError::Protocol {
            step: "waiting for the setup",
            detail: "the first message was not a setup".into(),
        });
    };
    let parsed = match crate::config::parse_all(&config, Path::new("(checks sent by the war room)")) {
        Ok(parsed) => parsed,
        Err(errors) => {
            let error = errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
            writer.send(&FromAgent::Failed { error }).await?;
            return drain(reader).await;
        }
    };
    let checks = refuse_commands(parsed.checks, allow_command, &writer).await?;
    writer.send(&FromAgent::Ready { checks: checks.iter().map(|c| c.name.clone()).collect() }).await?;
    let incoming = forward(reader);
    if once {
        probe_once(&checks, &writer).await?;
        writer.send(&FromAgent::Done {}).await?;
        let mut incoming = incoming;
        while incoming.recv().await.is_some() {}
        return Ok(());
    }
    let recorded: HashMap<_, _> = recorded.into_iter().collect();
    let options = Options { max_concurrent: parsed.max_concurrent_probes, canary: parsed.canary };
    let (control, events) = monitor::spawn(checks.clone(), &recorded, options, Prober::new());
    let names = checks.into_iter().map(|c| c.name).collect();
    relay(control, events, incoming, names, writer).await
}

/// `command` checks are refused unless this agent was started with [`ALLOW_COMMAND`]; the
/// others no longer depend on them.
async fn refuse_commands(checks: Vec<CheckDef>, allowed: bool, writer: &Writer) -> Result<Vec<CheckDef>, LinkError> {
    if allowed {
        return Ok(checks);
    }
    let (refused, mut kept): (Vec<_>, Vec<_>) =
        checks.into_iter().partition(|c| matches!(c.probe, ProbeSpec::Command(_)));
    for check in &refused {
        let reason =
            format!("command checks do not run on this vantage (the agent was started without {ALLOW_COMMAND})");
        writer.send(&FromAgent::Refused { check: check.name.clone(), reason }).await?;
        for other in &mut kept {
            other.depends_on.retain(|p| p != &check.name);
        }
    }
    Ok(kept)
}

/// `check --json` from a vantage: each check probed once, all at once.
async fn probe_once(checks: &[CheckDef], writer: &Writer) -> Result<(), LinkError> {
    let prober = Prober::new();
    let probes = checks.iter().map(|c| {
        let prober = prober.clone();
        async move {
            let at = chrono::Utc::now();
            let outcome = prober.run(&c.probe, c.schedule.timeout).await;
            Sample::of(&c.name, at, &outcome)
        }
    });
    for sample in futures::future::join_all(probes).await {
        writer.send(&FromAgent::Sample(sample)).await?;
    }
    Ok(())
}

/// The war room's messages, read on a task of their own (a read is not cancel-safe); the
/// channel closes when the link closes or goes silent.
fn forward<R: AsyncRead + Unpin + Send + 'static>(mut reader: Reader<R>) -> mpsc::Receiver<ToAgent> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        while let Ok(Some(message)) = reader.next::<ToAgent>("reading the war room's messages").await {
            if tx.send(message).await.is_err() {
                return;
            }
        }
    });
    rx
}

/// Streams the monitor's events until the war room goes; dropping the control then stops
/// the monitor.
async fn relay(
    control: MonitorControl,
    mut events: mpsc::UnboundedReceiver<MonitorEvent>,
    mut incoming: mpsc::Receiver<ToAgent>,
    mut names: Vec<String>,
    writer: Writer,
) -> Result<(), LinkError> {
    loop {
        tokio::select! {
            event = events.recv() => {
                let Some(event) = event else { return Ok(()) };
                if let Some(message) = message_of(event, &mut names) {
                    writer.send(&message).await?;
                }
            }
            message = incoming.recv() => match message {
                Some(ToAgent::RunNow { check }) => control.index(&check).into_iter().for_each(|i| control.run_now(i)),
                Some(ToAgent::Pause { check }) => control.index(&check).into_iter().for_each(|i| control.pause(i)),
                Some(ToAgent::Resume { check }) => control.index(&check).into_iter().for_each(|i| control.resume(i)),
                Some(ToAgent::Setup { .. }) => {}
                None => return Ok(()),
            },
        }
    }
}

fn message_of(event: MonitorEvent, names: &mut Vec<String>) -> Option<FromAgent> {
    let name = |i: usize, names: &[String]| names.get(i).cloned();
    Some(match event {
        MonitorEvent::Sample { check, at, outcome } => {
            FromAgent::Sample(Sample::of(&name(check, names)?, at, &outcome))
        }
        MonitorEvent::View { check, view } => FromAgent::View { check: name(check, names)?, view },
        MonitorEvent::Changed(c) => FromAgent::Changed { check: c.check, from: c.from, to: c.to, detail: c.detail },
        MonitorEvent::Row { id, .. } => {
            names.push(id.name().into_owned());
            FromAgent::Row { check: id.check, key: id.key.unwrap_or_default() }
        }
        _ => return None,
    })
}

/// Reads until the war room closes the link (after a setup that failed).
async fn drain<R: AsyncRead + Unpin>(mut reader: Reader<R>) -> Result<(), LinkError> {
    while reader.next::<serde_json::Value>("waiting for the war room to close").await?.is_some() {}
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::ssh::Hello;

    /// An agent on in-memory pipes, as the war room talks to it: its greeting, ours, a setup.
    async fn agent(
        allow_command: bool,
        config: &str,
        once: bool,
    ) -> (Reader<tokio::io::ReadHalf<tokio::io::DuplexStream>>, Writer) {
        let (war_room, far) = tokio::io::duplex(1 << 16);
        let (far_read, far_write) = tokio::io::split(far);
        let timing = Timing { beat: Duration::from_millis(100), silence: Duration::from_secs(5), ..Timing::default() };
        tokio::spawn(serve(far_read, far_write, allow_command, timing));
        let (ours_read, ours_write) = tokio::io::split(war_room);
        let mut reader = Reader::new(ours_read, timing.silence);
        let writer = Writer::spawn(ours_write, timing.beat);
        let hello: serde_json::Value = reader.next("greeting").await.unwrap().unwrap();
        assert_eq!(hello["hello"]["verb"], "agent");
        writer.send(&serde_json::json!({ "hello": Hello::ours("agent") })).await.unwrap();
        let setup = ToAgent::Setup { config: config.to_string(), recorded: Default::default(), once };
        writer.send(&setup).await.unwrap();
        (reader, writer)
    }

    const CHECKS: &str = "[[check]]\nname = \"disk\"\nkind = \"command\"\ncommand = [\"true\"]\n\n\
                          [[check]]\nname = \"closed\"\nkind = \"tcp\"\nhost = \"127.0.0.1\"\nport = 9\nfail_after = 1\n";

    async fn messages_until<R: AsyncRead + Unpin>(
        reader: &mut Reader<R>,
        last: impl Fn(&FromAgent) -> bool,
    ) -> Vec<FromAgent> {
        let mut out = Vec::new();
        loop {
            let message = reader.next::<FromAgent>("test").await.unwrap().expect("the agent ended early");
            let done = last(&message);
            out.push(message);
            if done {
                return out;
            }
        }
    }

    #[tokio::test]
    async fn command_checks_are_refused_without_allow_command_and_the_rest_run() {
        let (mut reader, _writer) = agent(false, CHECKS, true).await;
        let got = messages_until(&mut reader, |m| matches!(m, FromAgent::Done {})).await;
        let refused = got.iter().find_map(|m| match m {
            FromAgent::Refused { check, reason } => Some((check.clone(), reason.clone())),
            _ => None,
        });
        let (check, reason) = refused.expect("a refusal");
        assert_eq!(check, "disk");
        assert!(reason.contains("--allow-command"), "{reason}");
        assert!(got.iter().any(|m| matches!(m, FromAgent::Ready { checks } if checks == &["closed"])), "{got:?}");
        let sample = got.iter().find_map(|m| match m {
            FromAgent::Sample(s) => Some(s.clone()),
            _ => None,
        });
        assert_eq!(sample.map(|s| (s.check, s.health)), Some(("closed".into(), crate::probe::Health::Down)));
    }

    #[tokio::test]
    async fn with_allow_command_the_agent_confirms_and_reports_changes() {
        let (mut reader, writer) = agent(true, CHECKS, false).await;
        let got =
            messages_until(&mut reader, |m| matches!(m, FromAgent::Changed { check, .. } if check == "closed")).await;
        assert!(got.iter().any(|m| matches!(m, FromAgent::Ready { checks } if checks.len() == 2)), "{got:?}");
        assert!(!got.iter().any(|m| matches!(m, FromAgent::Refused { .. })), "{got:?}");
        let Some(FromAgent::Changed { to, .. }) = got.last() else { unreachable!() };
        assert_eq!(*to, crate::monitor::State::Down);
        // The war room asks for a probe now: it happens there, and its result comes back.
        writer.send(&ToAgent::RunNow { check: "disk".into() }).await.unwrap();
        messages_until(&mut reader, |m| matches!(m, FromAgent::Sample(s) if s.check == "disk")).await;
    }

    #[tokio::test]
    async fn a_setup_that_does_not_parse_is_answered_with_why() {
        let (mut reader, _writer) = agent(false, "[[check]]\nname = \"x\"\nkind = \"gopher\"\n", false).await;
        let got = messages_until(&mut reader, |m| matches!(m, FromAgent::Failed { .. })).await;
        let Some(FromAgent::Failed { error }) = got.last() else { unreachable!() };
        assert!(error.contains("unknown kind \"gopher\""), "{error}");
    }
}
