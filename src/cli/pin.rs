//! `warroom pin EVENT` and `warroom unpin EVENT`: mark an entry as a key event, or take the
//! mark back. Pinning a key event again writes nothing.

use std::process::ExitCode;

use crate::cli::GlobalArgs;
use crate::cli::current;

pub fn run(global: &GlobalArgs, event: &str, pin: bool) -> anyhow::Result<ExitCode> {
    let current = current::open(global)?;
    let i = current.entry(event)?;
    let id = current.incident.timeline[i].id.clone();
    let Some(body) = crate::commands::set_pinned(&current.incident, i, pin) else {
        let state = if pin { "already a key event" } else { "not a key event" };
        eprintln!("warroom: {id} is {state}; nothing written");
        return Ok(ExitCode::SUCCESS);
    };
    let ids = current.append(vec![body])?;
    println!(
        "{} {id}: {} ({})",
        if pin { "pinned" } else { "unpinned" },
        current.incident.timeline[i].summary(),
        ids[0]
    );
    Ok(ExitCode::SUCCESS)
}
