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
    // A config that does not read is replaced by the defaults for what follows; what follows
    // then says nothing about channels or checks the file may well have.
    let mut config_read = true;
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
                config_read = false;
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
    for missing in unset_check_env(&config.checks) {
        say!("warning: {missing}");
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
            if config_read {
                for warning in unconfigured_channels(&list, &config) {
                    say!("warning: {warning}");
                }
            }
            for warning in internal_facts_in_public(&list) {
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

/// The environment variables a check reads its secrets from that are not set here, each with
/// what fails without it. Read when the poller starts, so validate run as the same user in the
/// same environment tells before the outage does.
fn unset_check_env(checks: &[crate::monitor::CheckDef]) -> Vec<String> {
    use crate::probe::ProbeSpec;
    let unset = |var: &str| std::env::var(var).map_or(true, |v| v.is_empty());
    let mut out = Vec::new();
    for check in checks {
        let (auth, push) = match &check.probe {
            ProbeSpec::Prometheus(p) => (&p.auth, None),
            ProbeSpec::Alertmanager(a) => (&a.auth, a.push.as_ref()),
            _ => continue,
        };
        let fields = [
            (auth.bearer_token_env.as_deref(), "bearer_token_env"),
            (auth.basic_user_env.as_deref(), "basic_auth_user_env"),
            (auth.basic_password_env.as_deref(), "basic_auth_password_env"),
        ];
        for (var, field) in fields.into_iter().filter_map(|(var, field)| var.map(|v| (v, field))) {
            if unset(var) {
                out.push(format!(
                    "check \"{}\": environment variable {var} ({field}) is not set: every query will fail until it is",
                    check.name
                ));
            }
        }
        if let Some(push) = push.filter(|p| unset(&p.token_env)) {
            out.push(format!(
                "check \"{}\": environment variable {} (token_env) is not set: the webhook receiver on {} will not \
                 start, and alerts arrive only as often as Alertmanager is polled",
                check.name, push.token_env, push.listen
            ));
        }
    }
    out
}

/// Public messages whose template fills in what is internal: the incident's own title (it
/// may name a cause or a customer) and the failing checks (internal names). Said, not refused:
/// a team may name its incidents for the public on purpose.
fn internal_facts_in_public(list: &crate::checklist::Checklist) -> Vec<String> {
    let internal =
        [("{title}", "the incident's own title"), ("{failing_checks}", "the internal names of the failing checks")];
    let mut out = Vec::new();
    for item in list.items.iter().filter(|i| i.audience == crate::journal::Audience::Public) {
        let Some(template) = &item.template else { continue };
        for (placeholder, what) in internal.iter().filter(|(p, _)| template.contains(p)) {
            out.push(format!(
                "checklist {}: item \"{}\" is public but its message fills in {placeholder}, {what}, which the \
                 public should not see; write the public's words there",
                list.name, item.id
            ));
        }
    }
    out
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
