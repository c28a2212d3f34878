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

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::drill::ScaledClock;

    #[test]
    fn a_scorecard_is_private_and_never_written_through_a_planted_link() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("drill.jsonl");
        let (journal, _) = Journal::open(&path).unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "untouched").unwrap();
        let (json, text) = scorecard_paths(&path);
        // An older warroom wrote the card with std::fs::write, following whatever link was there.
        std::os::unix::fs::symlink(&victim, &json).unwrap();
        let run = DrillRun { scenario: crate::drill::load("datacenter-fire").unwrap(), clock: ScaledClock::real() };
        let card = score_and_save(&journal, &run, None, Utc::now());
        assert!(card.contains("Saved:"), "{card}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
        for file in [json, text] {
            let meta = std::fs::symlink_metadata(&file).unwrap();
            assert!(meta.is_file() && meta.permissions().mode() & 0o777 == 0o600, "{}: {meta:?}", file.display());
        }
    }
}
