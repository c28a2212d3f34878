//! Ending a drill: recorded, scored against the previous run of the same scenario in the
//! same folder, and the scorecard saved beside the journal.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::checklist::Checklist;
use crate::drill::{ScaledClock, Scenario};
use crate::incident::Incident;
use crate::journal::{Journal, dir};

/// A drill being played: the scenario and its clock (scenario time, possibly sped up).
#[derive(Debug, Clone)]
pub struct DrillRun {
    pub scenario: Scenario,
    pub clock: ScaledClock,
}

/// Where a drill's scorecard is saved: beside its journal.
pub fn scorecard_paths(journal: &Path) -> (PathBuf, PathBuf) {
    (journal.with_extension("scorecard.json"), journal.with_extension("scorecard.txt"))
}

/// Scores the drill recorded in `journal` (its `drill_ended` entry already written) and
/// saves the scorecard, shared as the journal is (never written through a planted link).
/// Returns it as text.
pub fn score_and_save(opened: &Journal, run: &DrillRun, checklist: Option<&Checklist>, now: DateTime<Utc>) -> String {
    let journal = opened.path();
    let incident = match Journal::read(journal) {
        Ok(scan) => Incident::from_events(scan.events),
        Err(e) => return format!("Could not read the drill's journal to score it: {e}"),
    };
    let mut card = crate::drill::score(&run.scenario, &incident, checklist, now);
    if let Some((prev_path, prev)) =
        journal.parent().and_then(|dir| crate::drill::previous_run(dir, &run.scenario.name, card.started, journal))
    {
        let prev_end = prev.drill.as_ref().and_then(|d| d.ended).or(prev.timeline.last().map(|t| t.ts)).unwrap_or(now);
        card.previous = Some(Box::new(crate::drill::score(&run.scenario, &prev, checklist, prev_end)));
        card.previous_journal = Some(prev_path);
    }
    let text = crate::drill::compare(&card);
    let (json_path, text_path) = scorecard_paths(journal);
    let sharing = opened.sharing();
    let saved = serde_json::to_vec_pretty(&card)
        .map_err(std::io::Error::other)
        .and_then(|json| Ok(dir::replace(&json_path, &json, sharing)?))
        .and_then(|_| Ok(dir::replace(&text_path, format!("{text}\n").as_bytes(), sharing)?));
    match saved {
        Ok(()) => format!("{text}\n\nSaved: {}", text_path.display()),
        Err(e) => format!("{text}\n\nCould not save the scorecard: {e}"),
    }
}
