//! `warroom check`: every check once, concurrently; a table or JSON; Nagios exit codes.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;

use crate::cli::GlobalArgs;
use crate::config;
use crate::monitor::CheckDef;
use crate::probe::{Health, Outcome, Prober};
use crate::sanitize::sanitize_str;

#[derive(Serialize)]
struct Row<'a> {
    name: &'a str,
    kind: &'static str,
    target: String,
    status: &'static str,
    latency_ms: u64,
    detail: &'a str,
    steps: Vec<StepRow<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cert_days_left: Option<i64>,
}

#[derive(Serialize)]
struct StepRow<'a> {
    name: &'a str,
    ms: f64,
}

pub fn run(global: &GlobalArgs, json: bool) -> anyhow::Result<ExitCode> {
    let path = config::locate(global.config.as_deref())
        .context("no config file found; create one with `warroom init` or pass --config FILE")?;
    let config = config::load(&path)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let outcomes = runtime.block_on(run_all(&config.checks));
    let rows: Vec<Row> = config.checks.iter().zip(&outcomes).map(|(c, o)| row(c, o)).collect();
    if json {
        println!("{}", crate::sanitize::json_for_terminal(&serde_json::to_string_pretty(&rows)?));
    } else {
        print_table(&rows);
    }
    let worst = outcomes.iter().map(|o| o.health).max();
    Ok(ExitCode::from(match worst {
        None | Some(Health::Up) => 0,
        Some(Health::Degraded) => 1,
        Some(Health::Down) => 2,
    }))
}

/// Runs every check once, all at the same time: the whole run takes about the longest timeout.
pub async fn run_all(checks: &[CheckDef]) -> Vec<Outcome> {
    let prober = Prober::new();
    futures::future::join_all(checks.iter().map(|c| prober.run(&c.probe, c.schedule.timeout))).await
}

fn row<'a>(check: &'a CheckDef, o: &'a Outcome) -> Row<'a> {
    Row {
        name: &check.name,
        kind: check.probe.kind(),
        target: check.probe.target(),
        status: o.health.as_str(),
        latency_ms: o.latency.as_millis() as u64,
        detail: &o.detail,
        steps: o.steps.iter().map(|s| StepRow { name: &s.name, ms: ms(s.took) }).collect(),
        retry_after: o.retry_after.map(|t| crate::journal::format_ts(&t)),
        cert_days_left: o.cert_days_left,
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

/// One line per check. Names come from a config that may be shared or generated, details from
/// servers: both are sanitised (and kept to one line) before they reach the terminal.
fn print_table(rows: &[Row]) {
    let names: Vec<String> = rows.iter().map(|r| sanitize_str(r.name, 200)).collect();
    let name_w = names.iter().map(|n| n.chars().count()).max().unwrap_or(4).max(4);
    println!("{:<10} {:<name_w$} {:<8} {:>8}  DETAIL", "STATUS", "NAME", "KIND", "LATENCY");
    for (r, name) in rows.iter().zip(&names) {
        let glyph = match r.status {
            "up" => "✔ up",
            "degraded" => "▲ degraded",
            _ => "✖ down",
        };
        let detail = sanitize_str(r.detail, 2000);
        println!("{:<10} {:<name_w$} {:<8} {:>6}ms  {}", glyph, name, r.kind, r.latency_ms, detail);
    }
}
