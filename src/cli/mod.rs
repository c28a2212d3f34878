//! The command line: parse it, find the config and the journal, run the verb asked for.

mod agent;
mod args;
mod brief;
mod check;
mod correct;
mod current;
mod drill;
mod follow_up;
mod headless;
mod init;
mod locate;
mod log;
mod milestone;
mod mirror;
mod open;
mod pin;
mod reach;
mod remote;
mod review;
mod role;
mod send;
mod severity;
mod status;
mod validate;

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use crate::config::{self, Config};
use crate::journal;
use crate::session::{Opening, Purpose, Settings};
pub use args::{Cli, GlobalArgs, Verb};

pub use locate::{current_journal, default_journal_dir, drills_dir, open_or_start_incident};

/// Process entry point.
pub fn main() -> ExitCode {
    crate::release_freed_memory_soon();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // Errors quote configs, journals and servers: nothing in them may steer the terminal.
            eprintln!("warroom: {}", crate::sanitize::for_terminal(&format!("{e:#}")));
            // The caller asked for what cannot be done as asked: the reason was just said.
            if e.downcast_ref::<current::Refused>().is_some() {
                return ExitCode::FAILURE;
            }
            // 3 is "unknown/internal" in the Nagios convention `check` follows; elsewhere it is
            // simply non-zero.
            ExitCode::from(3)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let global = cli.global;
    match cli.verb {
        None if global.remote.is_some() => remote::screen(&global),
        None if global.headless => headless::run(&global),
        None => dashboard(&global),
        Some(Verb::Init { dir, force }) => init::run(&dir, force),
        Some(Verb::Validate) => validate::run(&global),
        Some(Verb::Check { json }) => check::run(&global, json),
        Some(Verb::Log { text, stdin }) => log::run(&global, text, stdin),
        Some(Verb::Drill { running: true, .. }) => drill::list_running(&global),
        Some(Verb::Drill { join: Some(which), .. }) => drill::join(&global, which.as_deref()),
        Some(Verb::Drill { end: Some(which), .. }) => drill::end(&global, which.as_deref()),
        Some(Verb::Drill { scenario, speed, .. }) => drill::run(&global, scenario.as_deref(), speed),
        Some(Verb::Report { journal, format, output }) => {
            review::report(&global, journal.as_deref(), &format, output.as_deref())
        }
        Some(Verb::StatusPage { journal, output, components, title, publish_cmd }) => {
            let chosen = review::PageChoice { components: &components, title: title.as_deref() };
            review::status_page(&global, journal.as_deref(), &output, chosen, publish_cmd.as_deref())
        }
        Some(Verb::Replay { journal, speed }) => review::replay(&global, journal.as_deref(), speed),
        Some(Verb::Reach { destination, command }) => reach::run(&global, &destination, command),
        Some(Verb::Answer) => reach::answer(),
        Some(Verb::Agent { allow_command }) => agent::run(allow_command),
        Some(Verb::Ingest) => mirror::ingest(&global),
        Some(Verb::Promote { force }) => mirror::promote(&global, force),
        Some(Verb::Merge { a, b, output, force }) => mirror::merge(&a, &b, &output, force),
        Some(Verb::ServeSession { after }) => remote::serve_session(&global, after),
        Some(verb) => command(&global, verb),
    }
}

/// The commander's verbs, and the brief: each acts on the current incident's journal itself,
/// appending through the same writer as a session.
fn command(global: &GlobalArgs, verb: Verb) -> anyhow::Result<ExitCode> {
    match verb {
        Verb::Open { title, severity } => open::run(global, &title.join(" "), severity),
        Verb::Role { role, person } => role::run(global, &role, &person),
        Verb::Status { status, yes } => status::run(global, status.as_deref(), yes),
        Verb::Severity { severity } => severity::run(global, severity),
        Verb::Milestone { milestone, at, check } => milestone::run(global, &milestone, at.as_deref(), check.as_deref()),
        Verb::Pin { event } => pin::run(global, &event, true),
        Verb::Unpin { event } => pin::run(global, &event, false),
        Verb::Correct { event, text, strike, reason } => {
            correct::run(global, &event, &text.join(" "), strike, reason.as_deref())
        }
        Verb::FollowUp { text, owner, from, done } => {
            let text = text.join(" ");
            let asked =
                follow_up::Asked { text: &text, owner: owner.as_deref(), from: from.as_deref(), done: done.as_deref() };
            follow_up::run(global, asked)
        }
        Verb::Send { item, text, yes } => send::run(global, &item, text.as_deref(), yes),
        Verb::Brief => brief::run(global),
        other => anyhow::bail!("{other:?} is not a commander's verb"),
    }
}

/// The config named on the command line or found in the usual places; defaults if none.
pub fn load_config(global: &GlobalArgs) -> anyhow::Result<Config> {
    match config::locate(global.config.as_deref()) {
        Some(path) => Ok(config::load(&path)?),
        None => Ok(Config::default()),
    }
}

pub fn author(global: &GlobalArgs) -> String {
    global.author.clone().filter(|a| !a.trim().is_empty()).unwrap_or_else(journal::default_author)
}

fn dashboard(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    // A newcomer with no config anywhere gets a live demo rather than an empty screen.
    if global.journal.is_none() && config::locate(global.config.as_deref()).is_none() {
        return drill::demo(global);
    }
    if !global.read_only && unpromoted_copy(global) {
        return dashboard(&GlobalArgs { read_only: true, ..global.clone() });
    }
    let copy = unpromoted_copy(global);
    let config = load_config(global)?;
    let author = author(global);
    let (journal, scan, purpose) = if global.read_only {
        let path = current_journal(global, &config)?.context("no incident journal to view: name it with -j FILE")?;
        let (journal, scan) = crate::journal::Journal::open_read_only(&path)?;
        (journal, scan, Purpose::View)
    } else {
        let (journal, scan) = open_or_start_incident(global, &config, &author)?;
        let purpose = if journal.writable() { Purpose::Monitor } else { Purpose::View };
        (journal, scan, purpose)
    };
    tell_notices(&journal);
    for warning in scan.warnings(journal.path()) {
        eprintln!("warroom: {warning}");
    }
    let journal_writable = journal.writable();
    let setup = crate::tui::Setup::from_config(&config, global.theme.as_deref(), global.checklist.as_deref())?;
    let settings = Settings::from_config(&config, setup.checklist.clone());
    let banner = if copy {
        // The mirror's own line says it all ("MIRROR of … — read-only until promoted (P)").
        None
    } else if global.read_only {
        Some("READ-ONLY VIEWER — nothing is written".to_string())
    } else if !journal_writable {
        Some("READ-ONLY VIEWER — you may read this journal but not write it (see the message on exit)".to_string())
    } else {
        None
    };
    let look =
        crate::tui::Look { banner, update_every: config.update_every, public_offset: Some(config.public_offset) };
    // The settings hold what the session needs of it: with 10,000 checks the parsed config
    // was 4 MB more resident for as long as the screen ran.
    drop(config);
    let notices: Vec<String> = journal.notices().to_vec();
    crate::tui::run(Opening { journal, scan, settings, purpose, author }, setup, look)?;
    // Said again once the screen is gone: the alternate screen hid it.
    if !journal_writable {
        notices.iter().for_each(|n| eprintln!("warroom: {}", crate::sanitize::for_terminal(n)));
    }
    Ok(ExitCode::SUCCESS)
}

/// A mirror's copy (`-j`) not promoted: viewed only, so nothing is written beside the
/// primary's lines and nothing polls or sends by itself.
pub fn unpromoted_copy(global: &GlobalArgs) -> bool {
    global.journal.as_deref().is_some_and(crate::mirror::status::is_unpromoted_copy)
}

/// What opening the journal found worth saying: the directory's permissions, or why this
/// user only views it.
pub fn tell_notices(journal: &journal::Journal) {
    for notice in journal.notices() {
        eprintln!("warroom: {}", crate::sanitize::for_terminal(notice));
    }
}
