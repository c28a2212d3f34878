//! `warroom check`: every check once, concurrently; every row the screen would show (a
//! source's series and alerts too), as a table or JSON; Nagios exit codes counting them all.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;

use crate::cli::GlobalArgs;
use crate::config;
use crate::monitor::{CheckDef, RowId};
use crate::probe::{Health, Outcome, Prober};
use crate::sanitize::sanitize_str;

/// One row of the board: a configured check, or one a source reports (a Prometheus series,
/// an Alertmanager alert), each with its own status.
#[derive(Serialize)]
struct Row<'a> {
    name: String,
    kind: &'static str,
    target: String,
    status: &'static str,
    latency_ms: u64,
    detail: &'a str,
    steps: Vec<StepRow<'a>>,
    /// For a source's row: the check that reports it.
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a str>,
    /// A failing check whose dependency is down: part of that outage.
    #[serde(skip_serializing_if = "Option::is_none")]
    blocked_by: Option<&'a str>,
    /// Silenced or inhibited upstream: listed, not counted.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    silenced: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cert_days_left: Option<i64>,
    #[serde(skip)]
    health: Health,
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
    let rows = every_row(&config.checks, &outcomes);
    if json {
        println!("{}", crate::sanitize::json_for_terminal(&serde_json::to_string_pretty(&rows)?));
    } else {
        print_table(&rows);
    }
    // Every row counts, a source's too: one critical alert makes the run critical.
    let worst = rows.iter().filter(|r| !r.silenced).map(|r| r.health).max();
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

/// Each check's own row, followed by the rows it reports, in config order.
fn every_row<'a>(checks: &'a [CheckDef], outcomes: &'a [Outcome]) -> Vec<Row<'a>> {
    let down = |name: &str| checks.iter().zip(outcomes).any(|(c, o)| c.name == name && o.health == Health::Down);
    let mut rows = Vec::new();
    for (check, o) in checks.iter().zip(outcomes) {
        let blocked_by =
            (o.health != Health::Up).then(|| check.depends_on.iter().find(|p| down(p))).flatten().map(String::as_str);
        rows.push(Row {
            name: check.name.clone(),
            kind: check.probe.kind(),
            target: check.probe.target(),
            status: o.health.as_str(),
            latency_ms: o.latency.as_millis() as u64,
            detail: &o.detail,
            steps: o.steps.iter().map(|s| StepRow { name: &s.name, ms: ms(s.took) }).collect(),
            source: None,
            blocked_by,
            silenced: false,
            retry_after: o.retry_after.map(|t| crate::journal::format_ts(&t)),
            cert_days_left: o.cert_days_left,
            health: o.health,
        });
        rows.extend(o.rows.iter().map(|sub| Row {
            name: RowId::row(&check.name, &sub.key).name(),
            kind: check.probe.kind(),
            target: check.probe.target(),
            status: sub.health.as_str(),
            latency_ms: o.latency.as_millis() as u64,
            detail: &sub.detail,
            steps: Vec::new(),
            source: Some(&check.name),
            blocked_by: None,
            silenced: sub.silenced,
            retry_after: None,
            cert_days_left: None,
            health: sub.health,
        }));
    }
    rows
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

/// One line per check. Names come from a config that may be shared or generated, details from
/// servers: both are sanitised (and kept to one line) before they reach the terminal.
fn print_table(rows: &[Row]) {
    let names: Vec<String> = rows.iter().map(|r| sanitize_str(&r.name, 200)).collect();
    let name_w = names.iter().map(|n| n.chars().count()).max().unwrap_or(4).max(4);
    println!("{:<10} {:<name_w$} {:<8} {:>8}  DETAIL", "STATUS", "NAME", "KIND", "LATENCY");
    for (r, name) in rows.iter().zip(&names) {
        let glyph = match r.status {
            "up" => "✔ up",
            "degraded" => "▲ degraded",
            _ => "✖ down",
        };
        let mut detail = sanitize_str(r.detail, 2000);
        if let Some(parent) = r.blocked_by {
            detail = format!("blocked by {}: {detail}", sanitize_str(parent, 200));
        }
        if r.silenced {
            detail = format!("(silenced, not counted) {detail}");
        }
        println!("{:<10} {:<name_w$} {:<8} {:>6}ms  {}", glyph, name, r.kind, r.latency_ms, detail);
    }
}
