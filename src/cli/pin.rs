//! `warroom pin EVENT` and `warroom unpin EVENT`: mark an entry as a key event, or take the
//! mark back. Pinning a key event again writes nothing.

use std::process::ExitCode;

use crate::cli::GlobalArgs;
use crate::cli::current;
use crate::journal::EventBody;

pub fn run(global: &GlobalArgs, event: &str, pin: bool) -> anyhow::Result<ExitCode> {
    let current = current::open(global)?;
    let i = current.entry(event)?;
    let id = current.incident.timeline[i].id.clone();
    let pinned = current.incident.pinned_by(i).is_some();
    if pinned == pin {
        let state = if pin { "already a key event" } else { "not a key event" };
        eprintln!("warroom: {id} is {state}; nothing written");
        return Ok(ExitCode::SUCCESS);
    }
    let body =
        if pin { EventBody::EventPinned { event: id.clone() } } else { EventBody::EventUnpinned { event: id.clone() } };
    let ids = current.append(vec![body])?;
    println!(
        "{} {id}: {} ({})",
        if pin { "pinned" } else { "unpinned" },
        current.incident.timeline[i].summary(),
        ids[0]
    );
    Ok(ExitCode::SUCCESS)
}
