//! `command`: run a local program; Nagios plugin convention for the result.

use std::process::Stdio;

use tokio::io::AsyncReadExt;

use super::MAX_DETAIL_CHARS;
use super::outcome::{Health, Outcome, fmt_ms};
use super::spec::CommandSpec;
use super::trace::Trace;
use crate::sanitize::sanitize;

/// Most output read from a command; the rest is discarded (the pipe closes).
const MAX_OUTPUT: u64 = 64 * 1024;

pub async fn probe(spec: &CommandSpec, trace: &Trace) -> Outcome {
    let (program, args) = spec.command.split_first().expect("config guarantees a program");
    trace.step(format!("run {program}"));
    let mut child = match tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // The probe's timeout drops this future; the child must not outlive it.
        .kill_on_drop(true)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return trace.finish(Health::Down, format!("cannot run {program}: {e}")),
    };
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let out = child.stdout.take();
    let err = child.stderr.take();
    let read_out = async {
        if let Some(o) = out {
            let _ = o.take(MAX_OUTPUT).read_to_end(&mut stdout).await;
        }
    };
    let read_err = async {
        if let Some(e) = err {
            let _ = e.take(MAX_OUTPUT).read_to_end(&mut stderr).await;
        }
    };
    tokio::join!(read_out, read_err);
    let status = match child.wait().await {
        Ok(s) => s,
        Err(e) => return trace.finish(Health::Down, format!("waiting for {program}: {e}")),
    };
    let first_line =
        |bytes: &[u8]| bytes.split(|b| *b == b'\n').map(|l| sanitize(l, MAX_DETAIL_CHARS)).find(|l| !l.is_empty());
    let said = first_line(&stdout).or_else(|| first_line(&stderr)).unwrap_or_default();
    let (health, how) = match status.code() {
        Some(0) => (Health::Up, "exit 0".to_string()),
        Some(1) => (Health::Degraded, "exit 1".to_string()),
        Some(code) => (Health::Down, format!("exit {code}")),
        None => (Health::Down, "killed by a signal".to_string()),
    };
    let mut outcome = trace.finish(health, String::new());
    outcome.detail = if said.is_empty() {
        format!("{how} in {}", fmt_ms(outcome.latency))
    } else {
        format!("{said} ({how}, {})", fmt_ms(outcome.latency))
    };
    outcome
}
