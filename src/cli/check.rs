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
use crate::vantage::once::PlaceResult;
use crate::vantage::wire::Sample;
use std::collections::HashMap;

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
    /// For a check run from several places: what each one saw.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    vantages: Vec<PlaceRow>,
    #[serde(skip)]
    health: Health,
}

/// One place's result for a check run from several: `local` or a vantage's name, and its
/// status (`up`/`degraded`/`down`, or `unreachable` with why in `detail`).
#[derive(Serialize)]
struct PlaceRow {
    name: String,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    latency_ms: Option<u64>,
    detail: String,
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
    let (outcomes, places) = runtime.block_on(run_everywhere(&config));
    let mut rows = every_row(&config.checks, &outcomes);
    for row in &mut rows {
        if let Some(found) = places.get(&row.name) {
            row.vantages = found.iter().map(place_row).collect();
        }
    }
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

/// Every check once from every place it runs: here, and on each vantage at the same time.
/// A check run from several places gets the verdict across them (one probe each, nothing
/// to confirm) and each place's result.
async fn run_everywhere(config: &config::Config) -> (Vec<Outcome>, HashMap<String, Vec<(String, PlaceResult)>>) {
    use crate::vantage::LOCAL;
    let plan = &config.vantage;
    let here: Vec<bool> = config.checks.iter().map(|c| plan.places(&c.name).iter().any(|p| p == LOCAL)).collect();
    let local_checks: Vec<CheckDef> =
        config.checks.iter().zip(&here).filter(|(_, h)| **h).map(|(c, _)| c.clone()).collect();
    let within = config.checks.iter().map(|c| c.schedule.timeout).max().unwrap_or_default() + Duration::from_secs(30);
    let ssh = crate::ssh::Ssh::from_env().map_err(|e| eprintln!("warroom: {e}")).ok();
    let (local, remote) = tokio::join!(run_all(&local_checks), async {
        match &ssh {
            Some(ssh) if !plan.is_local_only() => {
                crate::vantage::once::probe_all(plan, config.canary.as_deref(), ssh, within).await
            }
            _ => Default::default(),
        }
    });
    let mut local = local.into_iter();
    let mut outcomes = Vec::new();
    let mut places = HashMap::new();
    for (check, here) in config.checks.iter().zip(here) {
        let mine = here.then(|| local.next()).flatten();
        if !plan.is_remote(&check.name) {
            outcomes.push(mine.unwrap_or_else(|| Outcome::new(Health::Down, Duration::ZERO, "not run")));
            continue;
        }
        let mut found: Vec<(String, PlaceResult)> = Vec::new();
        for place in plan.places(&check.name) {
            let result = if place == LOCAL {
                mine.as_ref().map(|o| Ok(Sample::of(&check.name, chrono::Utc::now(), o)))
            } else {
                remote.get(&place).and_then(|r| r.get(&check.name)).cloned()
            };
            found.push((place, result.unwrap_or_else(|| Err("no result".into()))));
        }
        outcomes.push(verdict_across(&found, plan.quorum(&check.name), mine));
        places.insert(check.name.clone(), found);
    }
    (outcomes, places)
}

/// The verdict across places from one result each: `down from fra; up from local, paris`.
fn verdict_across(found: &[(String, PlaceResult)], quorum: crate::vantage::Quorum, local: Option<Outcome>) -> Outcome {
    use crate::monitor::State;
    let states: Vec<(String, State)> =
        found.iter().map(|(p, r)| (p.clone(), r.as_ref().map_or(State::Unknown, |s| State::from(s.health)))).collect();
    let latency = found.iter().filter_map(|(_, r)| r.as_ref().ok()).map(|s| s.latency_ms).fold(0.0, f64::max);
    let latency = Duration::from_secs_f64(latency / 1000.0);
    let Some(verdict) = crate::vantage::quorum::judge(&states, quorum) else {
        return Outcome::new(
            Health::Down,
            latency,
            "no place could run it: ".to_string() + &crate::vantage::quorum::describe(&states),
        );
    };
    let health = match verdict.state {
        State::Up => Health::Up,
        State::Down => Health::Down,
        _ => Health::Degraded,
    };
    let mut outcome = local.unwrap_or_else(|| Outcome::new(health, latency, ""));
    outcome.health = health;
    outcome.latency = latency;
    outcome.detail = verdict.detail;
    outcome.rows.clear();
    outcome
}

fn place_row((place, result): &(String, PlaceResult)) -> PlaceRow {
    match result {
        Ok(s) => PlaceRow {
            name: place.clone(),
            status: s.health.as_str(),
            latency_ms: Some(s.latency_ms.round() as u64),
            detail: s.outcome().detail.clone(),
        },
        Err(why) => PlaceRow {
            name: place.clone(),
            status: if why.starts_with("refused") { "refused" } else { "unreachable" },
            latency_ms: None,
            detail: sanitize_str(why, 400),
        },
    }
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
            vantages: Vec::new(),
            health: o.health,
        });
        rows.extend(o.rows.iter().map(|sub| Row {
            name: RowId::row(&check.name, &sub.key).name().into_owned(),
            kind: check.probe.row_kind(),
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
            vantages: Vec::new(),
            health: sub.health,
        }));
    }
    rows
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

/// One line per check, each column as wide as its widest cell (measured in terminal cells,
/// so a wide character in a name cannot push the columns after it out of line). Names come
/// from a config that may be shared or generated, details from servers: both are sanitised
/// (and kept to one line) before they reach the terminal.
fn print_table(rows: &[Row]) {
    for line in table_lines(rows) {
        println!("{line}");
    }
}

/// Terminal cells a string takes, measured as the screen measures it.
fn width(s: &str) -> usize {
    ratatui::text::Span::raw(s).width()
}

fn table_lines(rows: &[Row]) -> Vec<String> {
    let header = ["STATUS", "NAME", "KIND", "LATENCY"].map(String::from);
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|r| {
            let glyph = match r.status {
                "up" => "✔ up",
                "degraded" => "▲ degraded",
                _ => "✖ down",
            };
            [glyph.to_string(), sanitize_str(&r.name, 200), r.kind.to_string(), format!("{}ms", r.latency_ms)]
        })
        .collect();
    let widths: [usize; 4] =
        std::array::from_fn(|i| std::iter::once(&header).chain(&cells).map(|c| width(&c[i])).max().unwrap_or(0));
    let line = |c: &[String; 4], detail: &str| {
        let pad = |s: &str, w: usize| " ".repeat(w - width(s));
        format!(
            "{}{} {}{} {}{} {}{}  {detail}",
            c[0],
            pad(&c[0], widths[0]),
            c[1],
            pad(&c[1], widths[1]),
            c[2],
            pad(&c[2], widths[2]),
            // Latency is a number: right-aligned.
            pad(&c[3], widths[3]),
            c[3]
        )
    };
    let mut out = vec![line(&header, "DETAIL")];
    for (r, c) in rows.iter().zip(&cells) {
        let mut detail = sanitize_str(r.detail, 2000);
        if let Some(parent) = r.blocked_by {
            detail = format!("blocked by {}: {detail}", sanitize_str(parent, 200));
        }
        if r.silenced {
            detail = format!("(silenced, not counted) {detail}");
        }
        out.push(line(c, &detail));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, kind: &'static str, status: &'static str, latency_ms: u64) -> Row<'static> {
        Row {
            name: name.into(),
            kind,
            target: String::new(),
            status,
            latency_ms,
            detail: "d",
            steps: Vec::new(),
            source: None,
            blocked_by: None,
            silenced: false,
            retry_after: None,
            cert_days_left: None,
            vantages: Vec::new(),
            health: Health::Up,
        }
    }

    /// Every column starts at the same terminal cell on every line, whatever the kind's length
    /// (`alertmanager`), a wide name or a long latency.
    #[test]
    fn the_table_columns_line_up() {
        let rows = [
            row("web", "http", "up", 12),
            row("alerts", "alertmanager", "degraded", 1234567),
            row("metrics", "prometheus", "down", 3),
            row("名前", "tcp", "up", 0),
        ];
        let lines = table_lines(&rows);
        let starts = |line: &str| -> Vec<usize> {
            // The cell where each run of non-space text begins after two or one spaces.
            let mut out = Vec::new();
            let mut col = 0;
            let mut prev_space = true;
            for ch in line.chars() {
                let w = width(&ch.to_string());
                if ch != ' ' && prev_space {
                    out.push(col);
                }
                prev_space = ch == ' ';
                col += w;
            }
            out
        };
        // STATUS, NAME, KIND start where the header's do; DETAIL too; LATENCY ends at one place.
        let header = starts(&lines[0]);
        for line in &lines[1..] {
            let s = starts(line);
            let (glyph_and_word, rest) = s.split_at(2);
            assert_eq!(glyph_and_word[0], header[0], "{lines:#?}");
            assert_eq!(rest[0], header[1], "NAME: {lines:#?}");
            assert_eq!(rest[1], header[2], "KIND: {lines:#?}");
            assert_eq!(rest[3], header[4], "DETAIL: {lines:#?}");
            let latency_end = |l: &str| width(&l[..l.find("  d").or_else(|| l.find("  DETAIL")).unwrap()]);
            assert_eq!(latency_end(line), latency_end(&lines[0]), "LATENCY right-aligned: {lines:#?}");
        }
        assert!(lines[2].contains("alertmanager 1234567ms"), "{lines:#?}");
    }
}
