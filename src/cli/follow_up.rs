//! `warroom follow-up`: action items. Add one (`TEXT… [--owner PERSON]`, or `--from NOTE` to
//! take a note's text), close one (`--done ID`), or list those still open (no text).

use std::process::ExitCode;

use crate::cli::GlobalArgs;
use crate::cli::current::{self, Current, refuse};
use crate::journal::EventBody;
use crate::sanitize::sanitize_str;

pub struct Asked<'a> {
    pub text: &'a str,
    pub owner: Option<&'a str>,
    pub from: Option<&'a str>,
    pub done: Option<&'a str>,
}

pub fn run(global: &GlobalArgs, asked: Asked<'_>) -> anyhow::Result<ExitCode> {
    let current = current::open(global)?;
    if let Some(done) = asked.done {
        return close(&current, done);
    }
    let text = match asked.from {
        Some(note) => note_text(&current, note)?,
        None => asked.text.trim().to_string(),
    };
    if text.is_empty() {
        if asked.owner.is_some() {
            return Err(refuse("--owner needs the follow-up's text (or --from NOTE)"));
        }
        list(&current);
        return Ok(ExitCode::SUCCESS);
    }
    let body = crate::commands::add_follow_up(&text, asked.owner).map_err(refuse)?;
    let ids = current.append(vec![body])?;
    println!("{}", ids[0]);
    Ok(ExitCode::SUCCESS)
}

/// The text of the note named, as it stands now (its correction, if corrected).
fn note_text(current: &Current, note: &str) -> anyhow::Result<String> {
    let i = current.entry(note)?;
    let incident = &current.incident;
    match &incident.timeline[i].body {
        EventBody::NoteAdded { text } => Ok(incident.corrected_text(i).unwrap_or(text).to_string()),
        _ => Err(refuse(format!("{} is not a note", incident.timeline[i].id))),
    }
}

fn close(current: &Current, given: &str) -> anyhow::Result<ExitCode> {
    let i = current.entry(given)?;
    let id = &current.incident.timeline[i].id;
    let Some(follow_up) = current.incident.follow_ups.iter().find(|f| f.id == *id) else {
        return Err(refuse(format!("{id} is not a follow-up")));
    };
    if let Some((who, at)) = &follow_up.closed {
        eprintln!(
            "warroom: {id} was already done ({} at {}); nothing written",
            sanitize_str(who, 80),
            at.format("%H:%M:%S UTC")
        );
        return Ok(ExitCode::SUCCESS);
    }
    let ids = current.append(vec![EventBody::FollowUpClosed { event: id.clone() }])?;
    println!("done: {} ({})", sanitize_str(&follow_up.text, 200), ids[0]);
    Ok(ExitCode::SUCCESS)
}

fn list(current: &Current) {
    for f in current.incident.open_follow_ups() {
        let owner = f.owner.as_deref().map(|o| format!(" [{}]", sanitize_str(o, 40))).unwrap_or_default();
        println!("{} {}{owner}", f.id, sanitize_str(&f.text, 200));
    }
}
