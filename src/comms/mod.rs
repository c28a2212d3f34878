//! Sending the checklist's messages: a webhook (Slack/Mattermost-compatible or generic JSON)
//! or a local command that reads the message on stdin (`mail`, `sendmail`, a status-page CLI).
//!
//! Secrets (webhook URLs, tokens) come from environment variables named in the config; they
//! are never written to the journal, and error texts are stripped of URLs before they are.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::journal::{Audience, EventBody};
use crate::sanitize::sanitize;

#[derive(Debug, Clone, PartialEq)]
pub enum Channel {
    Webhook {
        /// The URL, or the name of the environment variable holding it.
        url: Secret,
        format: Format,
        /// Sent as `Authorization: Bearer …`.
        token_env: Option<String>,
        timeout: Duration,
    },
    Command {
        command: Vec<String>,
        timeout: Duration,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Secret {
    Plain(String),
    Env(String),
}

impl Secret {
    fn resolve(&self) -> Result<String, String> {
        match self {
            Secret::Plain(v) => Ok(v.clone()),
            Secret::Env(var) => read_env(var),
        }
    }
}

fn read_env(var: &str) -> Result<String, String> {
    std::env::var(var).ok().filter(|v| !v.is_empty()).ok_or_else(|| format!("environment variable {var} is not set"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `{"text": "…"}`: Slack and Mattermost incoming webhooks.
    Text,
    /// `{"text", "channel", "audience", "item", "incident", "drill"}` for anything else.
    Json,
}

/// What is being sent, with enough context for a generic receiver.
#[derive(Debug, Clone, Serialize)]
pub struct Message<'a> {
    pub text: &'a str,
    pub channel: &'a str,
    pub audience: &'static str,
    pub item: Option<&'a str>,
    pub incident: &'a str,
    pub drill: bool,
}

/// Names environment variables a channel needs that are not set (for `warroom validate`).
pub fn missing_env(channels: &BTreeMap<String, Channel>) -> Vec<String> {
    let mut missing = Vec::new();
    for (name, channel) in channels {
        if let Channel::Webhook { url, token_env, .. } = channel {
            for var in [if let Secret::Env(v) = url { Some(v) } else { None }, token_env.as_ref()].into_iter().flatten()
            {
                if read_env(var).is_err() {
                    missing.push(format!("channel \"{name}\": environment variable {var} is not set"));
                }
            }
        }
    }
    missing
}

/// Sends one message. The error says what failed in words fit for the journal (no secrets).
pub async fn send(channel: &Channel, message: &Message<'_>) -> Result<(), String> {
    match channel {
        Channel::Webhook { url, format, token_env, timeout } => {
            let url = url.resolve()?;
            let body = match format {
                Format::Text => serde_json::json!({ "text": message.text }),
                Format::Json => serde_json::to_value(message).map_err(|e| e.to_string())?,
            };
            let client = reqwest::Client::builder().timeout(*timeout).build().map_err(|e| e.to_string())?;
            let mut request = client
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(&body).map_err(|e| e.to_string())?);
            if let Some(var) = token_env {
                request = request.bearer_auth(read_env(var)?);
            }
            let response = request.send().await.map_err(|e| describe(e.without_url()))?;
            let status = response.status();
            if status.is_success() {
                return Ok(());
            }
            let text = response.text().await.unwrap_or_default();
            Err(format!("HTTP {status}: {}", sanitize(text.as_bytes(), 160)))
        }
        Channel::Command { command, timeout } => {
            let (program, args) = command.split_first().ok_or("empty command")?;
            let run = async {
                let mut child = tokio::process::Command::new(program)
                    .args(args)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .kill_on_drop(true)
                    .spawn()
                    .map_err(|e| format!("cannot run {program}: {e}"))?;
                let mut stdin = child.stdin.take().ok_or("no stdin")?;
                // A command that exits early (a refused relay) closes its stdin: its exit status
                // and stderr say why, so a broken pipe is only reported if it claims success.
                let mut text = message.text.as_bytes().to_vec();
                text.push(b'\n');
                let written = stdin.write_all(&text).await;
                drop(stdin);
                let mut err = Vec::new();
                if let Some(stderr) = child.stderr.take() {
                    let _ = stderr.take(8192).read_to_end(&mut err).await;
                }
                let status = child.wait().await.map_err(|e| e.to_string())?;
                if status.success() {
                    written.map_err(|e| format!("{program} exited without reading the whole message ({e})"))
                } else {
                    let said = err
                        .split(|b| *b == b'\n')
                        .map(|l| sanitize(l, 160))
                        .find(|l| !l.is_empty())
                        .unwrap_or_default();
                    Err(format!(
                        "{program} exited with {}{}",
                        status.code().map_or("a signal".into(), |c| c.to_string()),
                        if said.is_empty() { String::new() } else { format!(": {said}") }
                    ))
                }
            };
            tokio::time::timeout(*timeout, run).await.unwrap_or_else(|_| {
                Err(format!("{program} did not finish within {}", humantime::format_duration(*timeout)))
            })
        }
    }
}

fn describe(e: reqwest::Error) -> String {
    let what = if e.is_connect() {
        "connect failed"
    } else if e.is_timeout() {
        "timed out"
    } else {
        "request failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() { what.to_string() } else { format!("{what}: {}", sanitize(cause.as_bytes(), 160)) }
}

/// One send attempt, as journal events: the message (with the failure, if any), and on
/// success the checklist item done. In a drill nothing leaves the machine: the message is
/// recorded as simulated.
pub async fn deliver(
    channels: &BTreeMap<String, Channel>,
    channel: &str,
    audience: Audience,
    item: Option<&str>,
    text: &str,
    incident_title: &str,
    drill: bool,
) -> Vec<EventBody> {
    let outgoing = Outgoing { channel, audience, item, text, next_update: None };
    deliver_outgoing(channels, &outgoing, incident_title, drill).await
}

/// A message about to be sent, with the next-update time its text promises.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    pub channel: &'a str,
    pub audience: Audience,
    pub item: Option<&'a str>,
    pub text: &'a str,
    pub next_update: Option<DateTime<Utc>>,
}

/// As [`deliver`], recording the promise the message makes with it: the screen's send and
/// `warroom send` both come here.
pub async fn deliver_outgoing(
    channels: &BTreeMap<String, Channel>,
    outgoing: &Outgoing<'_>,
    incident_title: &str,
    drill: bool,
) -> Vec<EventBody> {
    let Outgoing { channel, audience, item, text, next_update } = *outgoing;
    let result = if drill {
        Ok(())
    } else {
        match channels.get(channel) {
            None => Err(format!("channel \"{channel}\" is not in the config this warroom read when it started")),
            Some(ch) => {
                let message = Message {
                    text,
                    channel,
                    audience: if audience == Audience::Public { "public" } else { "internal" },
                    item,
                    incident: incident_title,
                    drill,
                };
                send(ch, &message).await
            }
        }
    };
    let ok = result.is_ok();
    let mut events = vec![EventBody::MessageSent {
        channel: channel.to_string(),
        audience,
        text: text.to_string(),
        error: result.err(),
        item: item.map(str::to_string),
        simulated: drill,
        next_update,
    }];
    if let (true, Some(item)) = (ok, item) {
        events.push(EventBody::ChecklistItemDone { item: item.to_string() });
    }
    events
}
