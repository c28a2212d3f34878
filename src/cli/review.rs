//! After the outage: `warroom report`, `warroom status-page` and `warroom replay`.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::GlobalArgs;
use crate::incident::Incident;
use crate::journal::{Journal, Scan};
use crate::report;
use crate::session::{Opening, Purpose, Settings};

fn fold(path: &Path) -> anyhow::Result<Incident> {
    let scan = Journal::read(path)?;
    for w in scan.warnings(path) {
        eprintln!("warroom: {w}");
    }
    Ok(Incident::from_events(scan.events))
}

pub fn report(global: &GlobalArgs, journal: &Path, format: &str, output: Option<&Path>) -> anyhow::Result<ExitCode> {
    let incident = fold(journal)?;
    // The checklist the incident recorded it followed; else the one asked for or configured.
    let name = incident
        .checklist_name
        .clone()
        .or_else(|| global.checklist.clone())
        .or_else(|| super::load_config(global).ok().and_then(|c| c.checklist))
        .unwrap_or_else(|| "default".into());
    let checklist = match crate::checklist::load(&name) {
        Ok(c) => Some(c),
        Err(e) => {
            eprintln!("warroom: {e}; the report has no checklist section");
            None
        }
    };
    let r = report::build(&incident, checklist.as_ref());
    let text = match format {
        "json" => serde_json::to_string_pretty(&r)? + "\n",
        "html" => report::html(&r),
        _ => report::markdown(&r),
    };
    match output {
        Some(path) => std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

pub fn status_page(
    journal: &Path,
    dir: &Path,
    components: &[String],
    publish: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let incident = fold(journal)?;
    let page = report::status_page::build(&incident, components);
    report::status_page::write(&page, dir).with_context(|| format!("writing {}", dir.display()))?;
    println!("wrote {} and {}", dir.join("index.html").display(), dir.join("status.json").display());
    if let Some(cmd) = publish {
        let status = std::process::Command::new("sh")
            .args(["-c", cmd])
            .env("WARROOM_STATUS_DIR", dir)
            .status()
            .with_context(|| format!("running --publish-cmd {cmd:?}"))?;
        anyhow::ensure!(status.success(), "--publish-cmd failed ({status}); the page is written but not published");
        println!("published with: {cmd}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn replay(global: &GlobalArgs, journal: &Path, speed: f64) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(speed > 0.0 && speed.is_finite(), "--speed must be a positive number");
    let scan = Journal::read(journal)?;
    let config = super::load_config(global)?;
    let setup = crate::tui::Setup::from_config(&config, global.theme.as_deref(), global.checklist.as_deref())?;
    let (handle, _) = Journal::open_read_only(journal)?;
    let settings = Settings::from_config(&config, setup.checklist.clone());
    let purpose = Purpose::Replay { events: scan.events, speed };
    let opening = Opening { journal: handle, scan: Scan::default(), settings, purpose, author: super::author(global) };
    let look = crate::tui::Look { banner: None, update_every: config.update_every };
    crate::tui::run(opening, setup, look)?;
    Ok(ExitCode::SUCCESS)
}
