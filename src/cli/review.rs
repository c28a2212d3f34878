//! After the outage: `warroom report`, `warroom status-page` and `warroom replay`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::GlobalArgs;
use crate::incident::Incident;
use crate::journal::Journal;
use crate::report;
use crate::sanitize;
use crate::session::{Opening, Purpose, Settings};

/// The journal a review verb reads: the one named (as its argument or with -j), else the
/// current incident, found as `log`, `validate` and `check` find it, else the newest
/// incident, resolved.
fn journal_to_review(global: &GlobalArgs, named: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(path) = named {
        return Ok(path.to_path_buf());
    }
    let config = super::load_config(global)?;
    if let Some(open) = super::current_journal(global, &config)? {
        return Ok(open);
    }
    // Reports are mostly written once it is over: then the newest incident is the one meant.
    if let Some(newest) = super::locate::newest_incident(&config)? {
        let shown = crate::journal::dir::shown(&newest);
        eprintln!("warroom: no open incident; reading the newest, which is resolved: {shown}");
        return Ok(newest);
    }
    let dir = super::locate::journal_dir(&config)?;
    let dir = crate::journal::dir::shown(&dir);
    anyhow::bail!("no incident journal in {dir}: name one, as an argument or with -j FILE")
}

fn fold(path: &Path) -> anyhow::Result<Incident> {
    let scan = Journal::read(path)?;
    for w in scan.warnings(path) {
        eprintln!("warroom: {w}");
    }
    Ok(Incident::from_events(scan.events))
}

pub fn report(
    global: &GlobalArgs,
    journal: Option<&Path>,
    format: &str,
    output: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let journal = journal_to_review(global, journal)?;
    let incident = fold(&journal)?;
    let name = report_checklist_name(global, &journal, incident.checklist_name.as_deref());
    let checklist = match crate::checklist::load(&name) {
        Ok(c) => Some(c),
        Err(e) => {
            eprintln!("warroom: {}; the report has no checklist section", sanitize::for_terminal(&e.to_string()));
            None
        }
    };
    let r = report::build(&incident, checklist.as_ref());
    let text = match format {
        // Lossless: C1 and bidi characters become \u escapes, in a file as on a terminal.
        "json" => sanitize::json_for_terminal(&serde_json::to_string_pretty(&r)?) + "\n",
        "html" => report::html(&r),
        _ => report::markdown(&r),
    };
    match output {
        Some(path) => std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?,
        // The renderers sanitise what they quote; this keeps a terminal safe from any they miss.
        None => std::io::stdout().lock().write_all(sanitize::for_terminal(&text).as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The checklist a report judges the incident against: the one the journal says it followed
/// if that is a built-in name, else the one asked for on the command line or configured.
/// A journal is data, possibly another user's: a path it names (`/dev/zero`, someone's
/// private file) is never opened.
fn report_checklist_name(global: &GlobalArgs, journal: &Path, recorded: Option<&str>) -> String {
    if let Some(name) = recorded {
        if crate::checklist::is_built_in(name) {
            return name.to_string();
        }
        eprintln!(
            "warroom: {}",
            sanitize::sanitize_str(
                &format!(
                    "{}: the journal names checklist \"{name}\", which is not a built-in one; a checklist \
                     file is read only when named by --checklist or the config",
                    journal.display()
                ),
                1000
            )
        );
    }
    global
        .checklist
        .clone()
        .or_else(|| super::load_config(global).ok().and_then(|c| c.checklist))
        .unwrap_or_else(|| "default".into())
}

/// What the command line chose for a status page: its components and its heading.
pub struct PageChoice<'a> {
    pub components: &'a [String],
    pub title: Option<&'a str>,
}

pub fn status_page(
    global: &GlobalArgs,
    journal: Option<&Path>,
    dir: &Path,
    choice: PageChoice<'_>,
    publish: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let journal = journal_to_review(global, journal)?;
    let incident = fold(&journal)?;
    let components = choice.components;
    // The config is read only when the command line leaves something to it.
    let config = if components.is_empty() || choice.title.is_none() { Some(super::load_config(global)?) } else { None };
    // The incident's title is internal: the page is headed by a public title or a neutral one.
    let title = choice
        .title
        .map(str::to_string)
        .or_else(|| config.as_ref().and_then(|c| c.public_title.clone()))
        .unwrap_or_else(|| report::status_page::NEUTRAL_TITLE.to_string());
    let public = if components.is_empty() {
        let chosen = config.map(|c| c.public_components).unwrap_or_default();
        if chosen.is_empty() {
            eprintln!(
                "warroom: no component is public, so the page shows updates only: mark checks `public = true` \
                 (or list them in `public_components`) in the config, or name them with --component"
            );
        }
        report::status_page::Public::Configured(chosen)
    } else {
        report::status_page::Public::Named(components.to_vec())
    };
    let page = report::status_page::build(&incident, &public, &title).map_err(anyhow::Error::msg)?;
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

pub fn replay(global: &GlobalArgs, journal: Option<&Path>, speed: f64) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(speed > 0.0 && speed.is_finite(), "--speed must be a positive number");
    let journal = &journal_to_review(global, journal)?;
    let mut scan = Journal::read(journal)?;
    for w in scan.warnings(journal) {
        eprintln!("warroom: {w}");
    }
    let events = std::mem::take(&mut scan.events);
    let config = super::load_config(global)?;
    let setup = crate::tui::Setup::from_config(&config, global.theme.as_deref(), global.checklist.as_deref())?;
    let (handle, _) = Journal::open_read_only(journal)?;
    let settings = Settings::from_config(&config, setup.checklist.clone());
    let purpose = Purpose::Replay { events, speed };
    // The scan without its events: what was skipped (the newer-warroom banner), not what is replayed.
    let opening = Opening { journal: handle, scan, settings, purpose, author: super::author(global) };
    let look =
        crate::tui::Look { banner: None, update_every: config.update_every, public_offset: Some(config.public_offset) };
    crate::tui::run(opening, setup, look)?;
    Ok(ExitCode::SUCCESS)
}
