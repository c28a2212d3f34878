//! `warroom ingest` (a mirror's far end), `warroom promote` and `warroom merge`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::GlobalArgs;
use crate::journal::{Event, EventBody, Journal};
use crate::mirror::{merge as merging, status};
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
pub fn promote(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let path = global.journal.clone().context("promote needs -j PATH: the mirror's copy")?;
    let copy: status::Copy = status::read(&status::copy_path(&path)).with_context(|| {
        format!("{}: not a mirror's copy (no {} beside it)", path.display(), status::copy_path(&path).display())
    })?;
    if let Some(p) = status::read::<status::Promoted>(&status::promoted_path(&path)) {
        println!("{}: already promoted at {}", path.display(), crate::journal::format_ts(&p.at));
        return Ok(ExitCode::SUCCESS);
    }
    let author = super::author(global);
    let (journal, _) = Journal::open(&path)?;
    let promoted = status::Promoted { at: chrono::Utc::now(), by: author.clone() };
    // The mark first: from now on ingest takes nothing more, so the note is the copy's last
    // word from the old primary's time.
    status::write(&status::promoted_path(&path), &promoted, journal.sharing()).map_err(anyhow::Error::msg)?;
    let text = format!(
        "promoted this mirror to primary (the primary, {}, last heard at {} UTC)",
        copy.primary,
        copy.heard.format("%H:%M:%S")
    );
    journal.append(&Event::new(&author, EventBody::NoteAdded { text }))?;
    let config = status::config_path(&path);
    println!("{}: promoted; carry on here with:", for_terminal(&path.display().to_string()));
    println!(
        "  warroom -c {} -j {}",
        for_terminal(&config.display().to_string()),
        for_terminal(&path.display().to_string())
    );
    Ok(ExitCode::SUCCESS)
}

/// `warroom merge A B -o C`.
pub fn merge(a: &Path, b: &Path, output: &Path) -> anyhow::Result<ExitCode> {
    let merged = merging::merge(a, b, output)?;
    for line in merged.summary() {
        println!("{}", for_terminal(&line));
    }
    Ok(ExitCode::SUCCESS)
}
