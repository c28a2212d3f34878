//! `warroom validate`: every problem in the config and the journal, located; non-zero if any.

use std::process::ExitCode;

use crate::cli::GlobalArgs;
use crate::config;
use crate::journal::Journal;
use crate::sanitize::sanitize_str;

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
        Some(path) => match config::load_all(&path) {
            Ok(c) => {
                say!("{}: ok, {} check{}", path.display(), c.checks.len(), if c.checks.len() == 1 { "" } else { "s" });
                c
            }
            Err(errors) => {
                errors.iter().for_each(|e| say!("{e}"));
                ok = false;
                config::Config::default()
            }
        },
    };
    if let Some(line) = vantages_line(&config.vantage) {
        say!("{line}");
    }
    for missing in crate::comms::missing_env(&config.channels) {
        say!("warning: {missing} (sending on it will fail until it is)");
    }
    // What the screen would refuse at start, each said on its own: theme (and its roles),
    // key bindings, checklist (and the channels its items name).
    let theme = global.theme.as_deref().or(config.theme.as_deref()).unwrap_or("dark");
    let mut setup_ok = true;
    match crate::tui::Theme::load(theme) {
        Ok(t) => say!("theme {}: ok", t.name),
        Err(e) => {
            say!("{e}");
            setup_ok = false;
        }
    }
    if let Err(e) = crate::tui::KeyMap::from_config(&config) {
        say!("{e}");
        setup_ok = false;
    }
    let checklist = global.checklist.as_deref().or(config.checklist.as_deref()).unwrap_or("default");
    match crate::checklist::load(checklist) {
        Ok(list) => {
            say!("checklist {} ({} items)", list.name, list.items.len());
            // A warning, not a failure: such a message can still be copied and sent by hand.
            for warning in unconfigured_channels(&list, &config) {
                say!("warning: {warning}");
            }
        }
        Err(e) => {
            say!("{e:#}");
            setup_ok = false;
        }
    }
    if setup_ok {
        say!("key bindings: ok");
    }
    ok &= setup_ok;
    if let Some(path) = global.journal.clone().or_else(|| config.journal.clone()) {
        match Journal::read(&path) {
            Ok(scan) => {
                let warnings = scan.warnings(&path);
                for w in &warnings {
                    say!("{w}");
                }
                stray_drill_lines(&path, &scan.events);
                let whole = chain_holds(&path);
                if warnings.is_empty() && whole {
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

/// `vantages: paris (ssh wr@paris), fra (ssh fra, command checks allowed)`: the places the
/// checks can run from, as the war room will reach them; `None` without any.
fn vantages_line(plan: &crate::vantage::Plan) -> Option<String> {
    if plan.vantages.is_empty() {
        return None;
    }
    let each: Vec<String> = plan
        .vantages
        .iter()
        .map(|v| {
            let mut how = format!("ssh {}", sanitize_str(&v.ssh, 80));
            if let Some(command) = &v.command {
                how.push_str(&format!(", warroom at {}", sanitize_str(command, 80)));
            }
            if v.allow_command {
                how.push_str(", command checks allowed");
            }
            format!("{} ({how})", sanitize_str(&v.name, 40))
        })
        .collect();
    Some(format!("vantages: {}", each.join(", ")))
}

/// Checklist items that send on a channel the config does not define: `m` on them would fail
/// in the middle of an incident.
fn unconfigured_channels(list: &crate::checklist::Checklist, config: &config::Config) -> Vec<String> {
    let missing: Vec<(&str, &str)> = list
        .items
        .iter()
        .filter_map(|item| item.channel.as_deref().map(|c| (item.id.as_str(), c)))
        .filter(|(_, channel)| !config.channels.contains_key(*channel))
        .collect();
    if config.channels.is_empty() {
        if missing.is_empty() {
            return Vec::new();
        }
        let items: Vec<&str> = missing.iter().map(|(id, _)| *id).collect();
        return vec![format!(
            "checklist {}: no channel is configured, so items {} name channels that do not exist; \
             their messages must be copied and sent by hand (configure [channel.NAME] to send them)",
            list.name,
            items.join(", ")
        )];
    }
    let configured: Vec<&str> = config.channels.keys().map(String::as_str).collect();
    missing
        .iter()
        .map(|(id, channel)| {
            format!(
                "checklist {}: item \"{id}\" sends on channel \"{channel}\", which is not configured \
                 ([channel.{channel}]); configured: {}",
                list.name,
                configured.join(", ")
            )
        })
        .collect()
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

/// Follows the journal's chain (each line's `prev`): every break, located; true if whole.
fn chain_holds(path: &std::path::Path) -> bool {
    let report = match crate::journal::chain::verify(path) {
        Ok(report) => report,
        Err(e) => {
            say!("{e}");
            return false;
        }
    };
    for b in &report.breaks {
        say!("{}", b.describe(path));
    }
    if report.break_count > report.breaks.len() {
        say!("{}: and {} more chain breaks", path.display(), report.break_count - report.breaks.len());
    }
    match report.chained_from {
        _ if report.break_count > 0 => {}
        None if report.lines > 0 => say!("{}: unchained (written before warroom chained its lines)", path.display()),
        Some(from) if from > 1 => {
            say!("{}: chain whole from line {from} (lines before it are from before the chain)", path.display())
        }
        _ => say!("{}: chain whole, head {}", path.display(), report.head),
    }
    report.break_count == 0
}
