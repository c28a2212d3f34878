//! `warroom brief`: the incident on one screen for someone joining or taking over, as text
//! to read or paste. Reads the journal; writes nothing.

use std::process::ExitCode;

use anyhow::Context;

use crate::board::{Board, Clock};
use crate::cli::GlobalArgs;
use crate::incident::Incident;
use crate::journal::Journal;
use crate::sanitize::for_terminal;

pub fn run(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let config = super::load_config(global)?;
    let person = super::author(global);
    let path = super::current_journal(global, &config)?.context("no open incident journal: name one with -j FILE")?;
    let scan = Journal::read(&path)?;
    for warning in scan.warnings(&path) {
        eprintln!("warroom: {warning}");
    }
    let incident = Incident::from_events(scan.events);
    // `--as wr-carol` is the `wr-carol@host` the journal knows: the screens show login names.
    let person = incident.person(&person).map_or(person.clone(), str::to_string);
    // Without its checklist the brief still says everything else.
    let checklist = super::current::checklist(global, &config, &incident)
        .inspect_err(|e| eprintln!("warroom: {}; the brief lists no checklist items", for_terminal(&format!("{e:#}"))))
        .ok();
    let mut board = Board::new(incident, Vec::new(), checklist, Clock::system());
    board.update_every = config.update_every;
    board.public_offset = config.public_offset;
    print!("{}", crate::brief::render(&board, &person));
    Ok(ExitCode::SUCCESS)
}
