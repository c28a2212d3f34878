//! `warroom correct NOTE TEXT…` and `warroom correct NOTE --strike [--reason WHY]`: a wrong
//! note is never edited; a new entry refers to it, and screen and reports show the original
//! struck through with what replaced it.

use std::process::ExitCode;

use crate::cli::GlobalArgs;
use crate::cli::current::{self, refuse};
use crate::journal::EventBody;

pub fn run(
    global: &GlobalArgs,
    event: &str,
    text: &str,
    strike: bool,
    reason: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let current = current::open(global)?;
    let i = current.entry(event)?;
    let target = &current.incident.timeline[i];
    if !matches!(target.body, EventBody::NoteAdded { .. }) {
        return Err(refuse(format!("{} is a {} entry: only notes are corrected or struck", target.id, target.kind())));
    }
    if current.incident.struck(i).is_some() {
        return Err(refuse(format!("{} is already struck", target.id)));
    }
    let id = target.id.clone();
    let body = if strike {
        EventBody::EntryStruck {
            event: id.clone(),
            reason: reason.map(str::trim).filter(|r| !r.is_empty()).map(str::to_string),
        }
    } else {
        if text.trim().is_empty() {
            return Err(refuse("nothing to correct with: give the corrected text, or --strike"));
        }
        EventBody::Correction { event: id.clone(), text: text.to_string() }
    };
    let ids = current.append(vec![body])?;
    println!("{} {id} ({})", if strike { "struck" } else { "corrected" }, ids[0]);
    Ok(ExitCode::SUCCESS)
}
