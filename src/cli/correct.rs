//! `warroom correct NOTE TEXT…` and `warroom correct NOTE --strike [--reason WHY]`: a wrong
//! note is never edited; a new entry refers to it, and screen and reports show the original
//! struck through with what replaced it.

use std::process::ExitCode;

use crate::cli::GlobalArgs;
use crate::cli::current::{self, refuse};

pub fn run(
    global: &GlobalArgs,
    event: &str,
    text: &str,
    strike: bool,
    reason: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let current = current::open(global)?;
    let i = current.entry(event)?;
    let incident = &current.incident;
    let id = incident.timeline[i].id.clone();
    let body = if strike {
        crate::commands::strike_note(incident, i, reason)
    } else {
        if text.trim().is_empty() {
            return Err(refuse("nothing to correct with: give the corrected text, or --strike"));
        }
        crate::commands::correct_note(incident, i, text)
    }
    .map_err(refuse)?;
    let ids = current.append(vec![body])?;
    println!("{} {id} ({})", if strike { "struck" } else { "corrected" }, ids[0]);
    Ok(ExitCode::SUCCESS)
}
