//! `warroom drill` and the demo: a scenario played on the real screen, in a journal of its own.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::Utc;

use crate::cli::GlobalArgs;
use crate::drill::{self, ScaledClock, Scenario};
use crate::journal::{Event, EventBody, Journal, Mode, Scan};
use crate::session::{DrillRun, Opening, Purpose, Settings, scorecard_paths};
use crate::tui::{self, Look, Setup};

pub fn run(global: &GlobalArgs, scenario: Option<&str>, speed: f64) -> anyhow::Result<ExitCode> {
    let Some(name) = scenario else {
        println!("Built-in scenarios (warroom drill NAME [--speed N]):");
        for (name, _) in drill::BUILT_IN {
            let s = drill::load(name)?;
            println!("  {name:<18} {}", s.description);
        }
        println!("\nOr give a scenario file of your own (see drills/ for the format).");
        return Ok(ExitCode::SUCCESS);
    };
    anyhow::ensure!(speed > 0.0 && speed.is_finite(), "--speed must be a positive number");
    let scenario = drill::load(name)?;
    let dir = super::load_config(global)?
        .journal_dir
        .or_else(super::default_journal_dir)
        .context("no journal directory: pass -j FILE")?;
    let journal = global.journal.clone().unwrap_or_else(|| fresh_path(&dir, "drill", &scenario.name));
    play(global, scenario, speed, journal, None)?;
    Ok(ExitCode::SUCCESS)
}

/// What `warroom` shows when there is no config anywhere: the datacenter fire, live.
pub fn demo(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let scenario = drill::load("datacenter-fire")?;
    let dir = super::default_journal_dir()
        .map(|d| d.with_file_name("demo"))
        .unwrap_or_else(|| std::env::temp_dir().join("warroom-demo"));
    let journal = fresh_path(&dir, "demo", &scenario.name);
    let banner = "DEMO — no real services are checked · `warroom init` writes a real config".to_string();
    play(global, scenario, 1.0, journal, Some(banner))?;
    Ok(ExitCode::SUCCESS)
}

fn fresh_path(dir: &std::path::Path, prefix: &str, name: &str) -> PathBuf {
    dir.join(format!("{prefix}-{}-{name}.jsonl", Utc::now().format("%Y-%m-%dT%H%M%SZ")))
}

fn play(
    global: &GlobalArgs,
    scenario: Scenario,
    speed: f64,
    path: PathBuf,
    banner: Option<String>,
) -> anyhow::Result<()> {
    let author = super::author(global);
    let config = super::load_config(global)?;
    let checklist = global.checklist.clone().or_else(|| scenario.checklist.clone()).unwrap_or_else(|| "drill".into());
    let setup = Setup::from_config(&config, global.theme.as_deref(), Some(&checklist))?;
    let (journal, scan) = Journal::open_shared(&path, config.journal_group.as_deref())?;
    anyhow::ensure!(
        scan.events.is_empty(),
        "{} already holds events; a drill starts in a fresh journal",
        path.display()
    );
    let clock = ScaledClock::new(Utc::now(), speed);
    let start = clock.now();
    journal.append_all(&[
        Event::at(
            start,
            &author,
            EventBody::IncidentOpened {
                title: scenario.title.clone(),
                severity: scenario.severity,
                mode: Mode::Drill,
                checklist: Some(checklist.clone()),
            },
        ),
        Event::at(start, &author, EventBody::DrillStarted { scenario: scenario.name.clone(), speed }),
    ])?;
    let scan = journal.read_from(Scan::default())?;
    let settings = Settings::from_config(&config, setup.checklist.clone());
    let purpose = Purpose::Drill(DrillRun { scenario, clock });
    let look = Look { banner, update_every: config.update_every };
    tui::run(Opening { journal, scan, settings, purpose, author }, setup, look)?;
    let (_, text) = scorecard_paths(&path);
    if text.exists() {
        eprintln!("Drill journal: {}\nScorecard: {}", path.display(), text.display());
    }
    Ok(())
}
