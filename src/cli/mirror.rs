//! `warroom ingest` (a mirror's far end), `warroom promote` and `warroom merge`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::GlobalArgs;
use crate::mirror::merge as merging;
use crate::sanitize::for_terminal;

/// Serves one mirror link on stdin/stdout for the copy at -j.
pub fn ingest(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let path = global.journal.clone().context("ingest needs -j PATH: where this host keeps the copy")?;
    let runtime = super::current::runtime()?;
    let served = runtime.block_on(crate::mirror::ingest::serve(
        tokio::io::stdin(),
        tokio::io::stdout(),
        &path,
        crate::ssh::Timing::default(),
    ));
    // Reading stdin blocks a thread the runtime would wait for: a link that went silent
    // would keep this process (and its copy's lock) until the far side's TCP gives up.
    runtime.shutdown_background();
    served?;
    Ok(ExitCode::SUCCESS)
}

/// Marks the copy at -j as a primary, journals it, and says how to carry on.
pub fn promote(global: &GlobalArgs, force: bool) -> anyhow::Result<ExitCode> {
    let path = global.journal.clone().context("promote needs -j PATH: the mirror's copy")?;
    let done = crate::mirror::promote(&path, &super::author(global), force)?;
    let shown = |p: &Path| for_terminal(&p.display().to_string());
    if done.already {
        println!("{}: already promoted", shown(&path));
    } else {
        println!("{}: promoted; carry on here with:", shown(&path));
    }
    println!("  warroom -c {} -j {}", shown(&done.config), shown(&path));
    say_what_runs(&done.config)?;
    Ok(ExitCode::SUCCESS)
}

/// The commands the shipped config would run here, for the operator to review first.
fn say_what_runs(config: &Path) -> anyhow::Result<()> {
    if std::fs::symlink_metadata(config).is_err() {
        println!("(the primary shipped no config: warroom -c needs one of yours)");
        return Ok(());
    }
    let runs = crate::mirror::what_runs(&crate::config::load(config)?);
    if runs.is_empty() {
        println!("it runs no command on this host (no check of kind command, no command channel)");
    } else {
        println!("review first: it runs these commands on this host, as you:");
        runs.iter().for_each(|r| println!("  {}", for_terminal(r)));
    }
    Ok(())
}

/// `warroom merge A B -o C`.
pub fn merge(a: &Path, b: &Path, output: &Path, force: bool) -> anyhow::Result<ExitCode> {
    let merged = merging::merge(a, b, output, force)?;
    for line in merged.summary() {
        println!("{}", for_terminal(&line));
    }
    Ok(ExitCode::SUCCESS)
}
