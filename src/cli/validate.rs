//! `warroom validate`: every problem in the config and the journal, located; non-zero if any.

use std::process::ExitCode;

use crate::cli::GlobalArgs;
use crate::config;
use crate::journal::Journal;

/// Prints one message, sanitised: validation quotes config values and journal bytes, and a
/// shared config or journal may carry escape sequences meant for the reader's terminal.
macro_rules! say {
    ($($arg:tt)*) => {
        println!("{}", crate::sanitize::for_terminal(&format!($($arg)*)))
    };
}

pub fn run(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let mut ok = true;
    let config = match config::locate(global.config.as_deref()) {
        None => {
            say!(
                "no config file found (looked for --config, ./{}, the user config dir); defaults apply",
                config::FILE_NAME
            );
            config::Config::default()
        }
        Some(path) => match config::load(&path) {
            Ok(c) => {
                say!("{}: ok, {} check{}", path.display(), c.checks.len(), if c.checks.len() == 1 { "" } else { "s" });
                c
            }
            Err(e) => {
                say!("{e}");
                ok = false;
                config::Config::default()
            }
        },
    };
    for missing in crate::comms::missing_env(&config.channels) {
        say!("warning: {missing} (sending on it will fail until it is)");
    }
    // What the screen would refuse at start: theme, key bindings, checklist.
    match crate::tui::Setup::from_config(&config, global.theme.as_deref(), global.checklist.as_deref()) {
        Ok(setup) => say!(
            "theme {}, checklist {} ({} items), key bindings: ok",
            setup.theme.name,
            setup.checklist.as_ref().map_or("none", |c| c.name.as_str()),
            setup.checklist.as_ref().map_or(0, |c| c.items.len())
        ),
        Err(e) => {
            say!("{e}");
            ok = false;
        }
    }
    if let Some(path) = global.journal.clone().or_else(|| config.journal.clone()) {
        match Journal::read(&path) {
            Ok(scan) => {
                let warnings = scan.warnings(&path);
                for w in &warnings {
                    say!("{w}");
                }
                stray_drill_lines(&path, &scan.events);
                if warnings.is_empty() {
                    say!("{}: ok, {} events", path.display(), scan.events.len());
                } else {
                    ok = false;
                }
            }
            Err(e) => {
                say!("{e}");
                ok = false;
            }
        }
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// `drill_started` entries in a journal opened as a real incident: ignored (the incident stays
/// real, its messages are really sent), and worth a word.
fn stray_drill_lines(path: &std::path::Path, events: &[crate::journal::Event]) {
    let incident = crate::incident::Incident::from_events(events.to_vec());
    for &i in &incident.stray_drill_starts {
        let e = &incident.timeline[i];
        say!(
            "warning: {}: event {} (id {}, by {}): drill_started in a journal opened as a real incident is ignored; \
             the incident stays real and its messages are sent",
            path.display(),
            i + 1,
            e.id,
            e.author
        );
    }
}
