//! `warroom --remote DEST`: the dashboard here over a war room on another host, and its far
//! end, `warroom serve-session` (started there by ssh, never by hand).

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::GlobalArgs;
use crate::remote::bridge::{self, Remote};
use crate::remote::serve::{greet, refuse, serve};
use crate::remote::wire::{ChecklistSource, FarConfig, FarSetup};
use crate::session::{Opening, Purpose, Settings};
use crate::ssh::{Destination, Ssh};
use crate::tui::{KeyMap, Look, Setup, Theme};

/// The screen: connects (errors are said before the terminal is taken), then draws.
pub fn screen(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let name = global.remote.clone().unwrap_or_default();
    // This host's config gives the screen its theme, keys and attention; the war room's own
    // (checks, channels, checklist) is the far host's.
    let config = super::load_config(global)?;
    let theme = Theme::load(global.theme.as_deref().or(config.theme.as_deref()).unwrap_or("dark"))
        .map_err(anyhow::Error::msg)?;
    let keys = KeyMap::from_config(&config).map_err(anyhow::Error::msg)?;
    let mut ssh = Ssh::from_env().map_err(anyhow::Error::msg)?;
    ssh.timing = crate::remote::TIMING;
    // Small JSON lines, much alike, for as long as the screen is open.
    ssh.compression = true;
    let remote = Remote {
        dest: Destination { name: name.clone(), ssh: name.clone(), command: global.remote_command.clone() },
        journal: global.journal.as_ref().map(|j| j.display().to_string()),
        config: global.remote_config.clone(),
        author: super::author(global),
    };
    let drafts = drafts_beside(&name, global.journal.as_deref());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let (far, session) = bridge::connect(ssh, remote).await?;
        let checklist = far.checklist.map(|c| c.parse(&name)).transpose().map_err(anyhow::Error::msg)?;
        let setup = Setup {
            theme,
            keys,
            checklist,
            attention: config.attention,
            checklist_order: config.screen.checklist_order,
            // The far config says where its checks run; its journal shows each place.
            places: Default::default(),
        };
        let look = Look {
            banner: far.config.as_ref().map(|c| c.describe(&name)),
            update_every: far.update_every,
            public_offset: chrono::FixedOffset::east_opt(far.public_offset_secs),
        };
        crate::tui::run_session(session, setup, look, Some(drafts), false).await
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The draft of a remote screen stays on this host (the far journal's directory is not
/// here): in the user's data directory, by destination and journal.
fn drafts_beside(dest: &str, journal: Option<&std::path::Path>) -> PathBuf {
    let base = directories::ProjectDirs::from("", "", "warroom")
        .map(|d| d.data_local_dir().to_path_buf())
        .unwrap_or_else(std::env::temp_dir);
    let safe = |text: &str| -> String {
        text.chars().map(|c| if c.is_ascii_alphanumeric() || "@.-_".contains(c) { c } else { '_' }).collect()
    };
    let journal = journal.map_or_else(|| "current".to_string(), |j| safe(&j.display().to_string()));
    base.join("remote").join(safe(dest)).join(journal)
}

/// The far end: a session on this host's journal, as the account ssh logged into and under
/// the author the screen chose (`--as`), served on stdin/stdout. The screen's greeting is
/// checked before anything is opened or written here; the process ends with the session
/// (a read of stdin left blocked by a silent cut must not keep it alive).
pub fn serve_session(global: &GlobalArgs, after: Option<String>) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let served = runtime.block_on(async {
        let (reader, writer) = greet(tokio::io::stdin(), tokio::io::stdout()).await?;
        let (opening, setup) = match open_far(global) {
            Ok(opened) => opened,
            Err(e) => {
                refuse(writer, &format!("{e:#}")).await;
                return Err(e);
            }
        };
        serve(opening, setup, after, reader, writer).await.map_err(anyhow::Error::from)
    });
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    served.map(|()| ExitCode::SUCCESS)
}

/// This host's war room for a screen: its incident (never a new one: a screen names it with
/// `-j` or joins the open one), its checklist and its config, said to the screen.
fn open_far(global: &GlobalArgs) -> anyhow::Result<(Opening, FarSetup)> {
    let config_path = crate::config::locate(global.config.as_deref());
    let config = super::load_config(global)?;
    let author = super::author(global);
    if global.journal.is_none() && super::current_journal(global, &config)?.is_none() {
        let host = hostname();
        let place = config_path.as_ref().map_or("no config".to_string(), |p| format!("config {}", p.display()));
        anyhow::bail!(
            "no open incident on {host} ({place}): name one with -j (a remote screen never opens a new incident)"
        );
    }
    let (journal, scan) = super::open_or_start_incident(global, &config, &author)?;
    // Said on stderr: ssh carries it to the screen's error message if the link fails.
    super::tell_notices(&journal);
    for warning in scan.warnings(journal.path()) {
        eprintln!("warroom: {}", crate::sanitize::for_terminal(&warning));
    }
    let purpose = if journal.writable() { Purpose::Monitor } else { Purpose::View };
    let name = global.checklist.as_deref().or(config.checklist.as_deref()).unwrap_or("default");
    let source = ChecklistSource::find(name).map_err(anyhow::Error::msg)?;
    let checklist = source.parse("here").map_err(anyhow::Error::msg)?;
    let setup = FarSetup {
        checklist: Some(source),
        update_every: config.update_every,
        public_offset_secs: config.public_offset.local_minus_utc(),
        config: Some(FarConfig {
            path: config_path.map(|p| p.display().to_string()),
            checks: config.checks.len(),
            channels: config.channels.len(),
        }),
    };
    let settings = Settings::from_config(&config, Some(checklist));
    Ok((Opening { journal, scan, settings, purpose, author }, setup))
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "this host".into())
}
