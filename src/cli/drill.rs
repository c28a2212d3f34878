//! `warroom drill` and the demo: a scenario played on the real screen, in a journal of its own;
//! the drills in progress (`--running`), taking part in one as another operator (`--join`), and
//! ending one whose player is gone (`--end`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use chrono::Utc;

use crate::cli::GlobalArgs;
use crate::config::Config;
use crate::drill::{self, ScaledClock, Scenario};
use crate::incident::Incident;
use crate::journal::{Event, EventBody, Journal, Mode, Scan};
use crate::sanitize::for_terminal;
use crate::session::drills::{self, Player, RunningDrill};
use crate::session::{DrillRun, Opening, Purpose, Settings, score_and_save, scorecard_paths};
use crate::tui::{self, Look, Setup};

pub fn run(global: &GlobalArgs, scenario: Option<&str>, speed: f64) -> anyhow::Result<ExitCode> {
    let Some(name) = scenario else {
        println!("Built-in scenarios (warroom drill NAME [--speed N]):");
        for (name, _) in drill::BUILT_IN {
            let s = drill::load(name)?;
            println!("  {name:<18} {}", s.description);
        }
        println!("\nOr give a scenario file of your own (see drills/ for the format).");
        println!("Drills in progress: warroom drill --running; take part in one: warroom drill --join.");
        return Ok(ExitCode::SUCCESS);
    };
    anyhow::ensure!(speed > 0.0 && speed.is_finite(), "--speed must be a positive number");
    let scenario = drill::load(name)?;
    let config = super::load_config(global)?;
    let journal = match &global.journal {
        Some(path) => path.clone(),
        None => fresh_path(&super::drills_dir(&config)?, "drill", &scenario.name),
    };
    play(global, scenario, speed, journal, None)
}

/// What `warroom` shows when there is no config anywhere: the datacenter fire, live.
pub fn demo(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let scenario = drill::load("datacenter-fire")?;
    let dir = super::default_journal_dir()
        .map(|d| d.with_file_name("demo"))
        .unwrap_or_else(|| std::env::temp_dir().join("warroom-demo"));
    let journal = fresh_path(&dir, "demo", &scenario.name);
    let banner = "DEMO — no real services are checked · `warroom init` writes a real config".to_string();
    play(global, scenario, 1.0, journal, Some(banner))
}

/// A journal name nobody has taken: the scenario's name is the scenario file's to choose, so
/// only its slug goes into the path.
fn fresh_path(dir: &Path, prefix: &str, name: &str) -> PathBuf {
    let stem = format!("{prefix}-{}-{}", Utc::now().format("%Y-%m-%dT%H%M%SZ"), super::locate::slug(name));
    (1..)
        .map(|n| if n == 1 { dir.join(format!("{stem}.jsonl")) } else { dir.join(format!("{stem}-{n}.jsonl")) })
        .find(|p| std::fs::symlink_metadata(p).is_err())
        .expect("an unused name")
}

fn play(
    global: &GlobalArgs,
    scenario: Scenario,
    speed: f64,
    path: PathBuf,
    banner: Option<String>,
) -> anyhow::Result<ExitCode> {
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
    let opening = Opening { journal, scan, settings, purpose, author };
    if global.headless {
        eprintln!("Drill journal: {}", path.display());
        return super::headless::serve(opening);
    }
    let look = Look { banner, update_every: config.update_every, public_offset: Some(config.public_offset) };
    tui::run(opening, setup, look)?;
    let (_, text) = scorecard_paths(&path);
    if text.exists() {
        eprintln!("Drill journal: {}\nScorecard: {}", path.display(), text.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `warroom drill --running`: the drills in progress, and those whose player is gone.
pub fn list_running(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let config = super::load_config(global)?;
    let dir = running_dir(&config)?;
    let (gone, live): (Vec<RunningDrill>, Vec<RunningDrill>) =
        drills::running(&dir).into_iter().partition(|d| d.player == Player::Gone);
    if live.is_empty() {
        println!("No drill in progress in {}.", for_terminal(&dir.display().to_string()));
    } else {
        println!(
            "Drills in progress in {} (join one: warroom drill --join NAME):",
            for_terminal(&dir.display().to_string())
        );
        live.iter().for_each(|d| println!("{}", describe(d)));
    }
    if !gone.is_empty() {
        println!("\nNever ended, their player gone (a warroom stopped without ending the drill):");
        gone.iter().for_each(|d| println!("{}", describe(d)));
    }
    Ok(ExitCode::SUCCESS)
}

/// Never through a link, never somebody else's (see [`super::locate::existing_drills_dir`]).
fn running_dir(config: &Config) -> anyhow::Result<PathBuf> {
    super::locate::existing_drills_dir(config)
}

/// Two lines: scenario, start, drill time, who is in it; then the journal.
fn describe(d: &RunningDrill) -> String {
    let elapsed = ScaledClock::resumed(d.started, d.speed).elapsed().as_secs();
    let who = if d.operators.is_empty() { "nobody".to_string() } else { d.operators.join(", ") };
    let line = format!(
        "  {}  \"{}\"  started {} (drill time T+{:02}:{:02}:{:02}, ×{})  in it: {}{}\n    {}",
        d.scenario,
        d.title,
        d.started.format("%Y-%m-%d %H:%M:%S UTC"),
        elapsed / 3600,
        elapsed / 60 % 60,
        elapsed % 60,
        d.speed,
        who,
        if d.player == Player::Unknown { " (player not visible from here)" } else { "" },
        d.path.display()
    );
    for_terminal(&line)
}

/// `warroom drill --join [NAME|PATH]`: the drill's screen (or `--headless`), as one more operator.
pub fn join(global: &GlobalArgs, which: Option<&str>) -> anyhow::Result<ExitCode> {
    let config = super::load_config(global)?;
    let drill = pick(global, &config, which, Want::Played)?;
    let (journal, scan) = Journal::open_shared(&drill.path, config.journal_group.as_deref())?;
    for warning in scan.warnings(journal.path()) {
        eprintln!("warroom: {warning}");
    }
    let checklist = global
        .checklist
        .clone()
        .or_else(|| Incident::from_events(scan.events.clone()).checklist_name)
        .unwrap_or_else(|| "drill".into());
    let setup = Setup::from_config(&config, global.theme.as_deref(), Some(&checklist))?;
    // Nothing real is probed in a drill: the player's simulated checks are the rows.
    let settings = Settings { checklist: setup.checklist.clone(), ..Settings::default() };
    let author = super::author(global);
    let opening = Opening { journal, scan, settings, purpose: Purpose::JoinDrill, author };
    if global.headless {
        return super::headless::serve(opening);
    }
    let banner = for_terminal(&format!("DRILL — you joined \"{}\" as another operator", drill.scenario));
    tui::run(
        opening,
        setup,
        Look { banner: Some(banner), update_every: config.update_every, public_offset: Some(config.public_offset) },
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Which drills a verb acts on: those being played (to join), or those whose player is gone
/// (to end).
#[derive(Clone, Copy, PartialEq)]
enum Want {
    Played,
    Abandoned,
}

impl Want {
    fn fits(self, d: &RunningDrill) -> bool {
        match self {
            Want::Played => d.player != Player::Gone,
            Want::Abandoned => d.player != Player::Playing,
        }
    }
}

/// The drill to act on: `-j FILE` or a path, else the one such drill with that scenario or
/// file name, else the only one.
fn pick(global: &GlobalArgs, config: &Config, which: Option<&str>, want: Want) -> anyhow::Result<RunningDrill> {
    let named_path = global.journal.clone().or_else(|| which.filter(|w| w.contains('/')).map(PathBuf::from));
    let drill = match named_path {
        Some(path) => drills::running_drill(&path)
            .with_context(|| format!("{} is not a drill in progress (see warroom drill --running)", path.display()))?,
        None => {
            let dir = running_dir(config)?;
            let mut found: Vec<RunningDrill> = drills::running(&dir).into_iter().filter(|d| want.fits(d)).collect();
            if let Some(name) = which {
                found.retain(|d| d.scenario == name || file_named(&d.path, name));
            }
            let what = if want == Want::Played { "in progress" } else { "whose player is gone" };
            match found.len() {
                0 => anyhow::bail!(
                    "no drill{} {what} in {} (see warroom drill --running)",
                    which.map(|n| format!(" named \"{n}\"")).unwrap_or_default(),
                    dir.display()
                ),
                1 => found.remove(0),
                n => anyhow::bail!(
                    "{n} drills {what}: name one (its journal file name or path):\n{}",
                    found.iter().map(describe).collect::<Vec<_>>().join("\n")
                ),
            }
        }
    };
    match want {
        Want::Played => anyhow::ensure!(
            drill.player != Player::Gone,
            "the drill in {} has no player any more (its warroom stopped without ending it): nothing to \
             join; end it with `warroom drill --end {0}`",
            drill.path.display()
        ),
        Want::Abandoned => anyhow::ensure!(
            drill.player != Player::Playing,
            "the drill in {} is still being played: it ends on its player's screen (or when it is stopped)",
            drill.path.display()
        ),
    }
    Ok(drill)
}

/// `warroom drill --end [NAME|PATH]`: a drill whose player was killed never ends by itself.
/// Records its end at its drill time and saves its scorecard, as its player would have.
pub fn end(global: &GlobalArgs, which: Option<&str>) -> anyhow::Result<ExitCode> {
    let config = super::load_config(global)?;
    let drill = pick(global, &config, which, Want::Abandoned)?;
    let (journal, scan) = Journal::open_shared(&drill.path, config.journal_group.as_deref())?;
    anyhow::ensure!(journal.writable(), "{}: you may read this drill but not end it", drill.path.display());
    let clock = ScaledClock::resumed(drill.started, drill.speed);
    let now = clock.now();
    let author = super::author(global);
    let ended = Event::at(now, &author, EventBody::DrillEnded { scenario: drill.scenario.clone() });
    journal.append(&ended)?;
    println!(
        "Ended the drill \"{}\" in {}.",
        for_terminal(&drill.scenario),
        for_terminal(&drill.path.display().to_string())
    );
    let checklist_name = Incident::from_events(scan.events).checklist_name.unwrap_or_else(|| "drill".into());
    match drill::load(&drill.scenario) {
        Ok(scenario) => {
            let checklist = crate::checklist::load(&checklist_name).ok();
            let run = DrillRun { scenario, clock };
            println!("{}", for_terminal(&score_and_save(&journal, &run, checklist.as_ref(), now)));
        }
        Err(e) => println!("No scorecard: the scenario cannot be loaded here ({})", for_terminal(&e.to_string())),
    }
    Ok(ExitCode::SUCCESS)
}

fn file_named(path: &Path, name: &str) -> bool {
    path.file_name().is_some_and(|f| f == name) || path.file_stem().is_some_and(|f| f == name)
}
