//! `warroom log`: append notes from a shell or a script, under the caller's name.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::GlobalArgs;
use crate::journal::{Event, EventBody, Journal, JournalError};

pub fn run(global: &GlobalArgs, words: Vec<String>, from_stdin: bool) -> anyhow::Result<ExitCode> {
    let config = super::load_config(global)?;
    let author = super::author(global);
    let path = super::current_journal(global, &config)?
        .context("no open incident journal: start `warroom` to open one, or name it with -j FILE")?;
    let (journal, scan) = Journal::open_shared(&path, config.journal_group.as_deref())?;
    for warning in scan.warnings(journal.path()) {
        eprintln!("warroom: {warning}");
    }
    if !from_stdin {
        let text = words.join(" ");
        anyhow::ensure!(!text.trim().is_empty(), "nothing to log: give the note text");
        let event = Event::new(&author, EventBody::NoteAdded { text });
        if let Err(refused) = append_or_refuse(&journal, &event)? {
            return Ok(refused);
        }
        println!("{}", event.id);
        return Ok(ExitCode::SUCCESS);
    }
    // One note per line, each acknowledged only once it is on disk: a script (or a test
    // that kills this process) knows exactly which notes were saved.
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let line = line.context("reading standard input")?;
        if line.trim().is_empty() {
            continue;
        }
        let event = Event::new(&author, EventBody::NoteAdded { text: line });
        // Stop at a refused note: those before it stay acknowledged, none after is claimed.
        if let Err(refused) = append_or_refuse(&journal, &event)? {
            return Ok(refused);
        }
        writeln!(out, "written {}", event.id)?;
        out.flush()?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Appends `event`; `Ok(Err(exit code))` if the journal refused it for its size, which is the
/// caller's mistake (exit 1 with the reason), not warroom's (other errors, exit 3).
fn append_or_refuse(journal: &Journal, event: &Event) -> Result<Result<(), ExitCode>, JournalError> {
    match journal.append(event) {
        Ok(()) => Ok(Ok(())),
        Err(refused @ JournalError::TooLarge { .. }) => {
            eprintln!("warroom: {}", crate::sanitize::for_terminal(&refused.to_string()));
            Ok(Err(ExitCode::FAILURE))
        }
        Err(e) => Err(e),
    }
}
