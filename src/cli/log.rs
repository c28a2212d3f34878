//! `warroom log`: append notes from a shell or a script, under the caller's name.

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use crate::cli::GlobalArgs;
use crate::journal::{Event, EventBody, Journal, Retry, WriteError, Writer};

pub fn run(global: &GlobalArgs, words: Vec<String>, from_stdin: bool) -> anyhow::Result<ExitCode> {
    let config = super::load_config(global)?;
    let author = super::author(global);
    let path = super::current_journal(global, &config)?
        .context("no open incident journal: start `warroom` to open one, or name it with -j FILE")?;
    let (journal, scan) = Journal::open_shared(&path, config.journal_group.as_deref())?;
    if let Some(why) = journal.why_read_only() {
        anyhow::bail!("{}", crate::sanitize::for_terminal(why));
    }
    super::tell_notices(&journal);
    for warning in scan.warnings(journal.path()) {
        eprintln!("warroom: {warning}");
    }
    // A note typed during a drill carries drill time, as every entry of a drill does.
    let clock = super::current::clock_of(&crate::incident::Incident::from_events(scan.events));
    let text = words.join(" ");
    anyhow::ensure!(from_stdin || !text.trim().is_empty(), "nothing to log: give the note text");
    // The same writer as every session's: one size rule, one acknowledgement.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        // No retries: a note that cannot be written now is an error the caller must see.
        let writer = Writer::spawn(Arc::new(journal), tokio::sync::mpsc::unbounded_channel().0, Retry::Never);
        if !from_stdin {
            let event = Event::at(clock.now(), &author, EventBody::NoteAdded { text });
            let id = event.id.clone();
            if let Err(stop) = append(&writer, event).await {
                return stop;
            }
            println!("{id}");
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
            let event = Event::at(clock.now(), &author, EventBody::NoteAdded { text: line });
            let id = event.id.clone();
            // Stop at a refused note: those before it stay acknowledged, none after is claimed.
            if let Err(stop) = append(&writer, event).await {
                return stop;
            }
            writeln!(out, "written {id}")?;
            out.flush()?;
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Appends `event` and waits for the disk. A refused event is the caller's mistake (exit 1
/// with the reason); a failed write is warroom's (an error, exit 3).
async fn append(writer: &Writer, event: Event) -> Result<(), anyhow::Result<ExitCode>> {
    match writer.write(vec![event]).await {
        Ok(()) => Ok(()),
        Err(WriteError::Refused(why)) => {
            eprintln!("warroom: {}", crate::sanitize::for_terminal(&why));
            Err(Ok(ExitCode::FAILURE))
        }
        Err(WriteError::Failed(why)) => Err(Err(anyhow::anyhow!(why))),
    }
}
