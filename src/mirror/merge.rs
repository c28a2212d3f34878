//! `warroom merge A B -o C`: two copies of one incident that went their own ways (a primary
//! that came back and its promoted mirror) as one journal: every event once, ordered by time
//! then id; an event found on one side only was written there during the split and carries
//! `origin`, that side's name. The result is chained afresh.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::Context;

use super::status;
use crate::journal::{Event, Journal, chain};

/// What a merge did.
#[derive(Debug, Default)]
pub struct Merged {
    pub output: String,
    pub events: usize,
    pub common: usize,
    /// Events from one side only, by origin name.
    pub only: Vec<(String, usize)>,
    /// Ids both sides hold with different content: the first side's is kept.
    pub differing: Vec<String>,
    /// Clock skew between the hosts, measured from the mirror's heartbeats (ms), when known.
    pub skew_ms: Option<i64>,
}

impl Merged {
    pub fn summary(&self) -> Vec<String> {
        let only: Vec<String> = self.only.iter().map(|(name, n)| format!("{n} only in {name}")).collect();
        let mut lines = vec![format!(
            "{}: {} events ({} on both sides, {})",
            self.output,
            self.events,
            self.common,
            only.join(", ")
        )];
        if let Some(skew) = self.skew_ms.filter(|s| s.abs() > 2000) {
            lines.push(format!(
                "clock skew between the hosts: {:+.1} s (measured from heartbeats); each event keeps its host's time",
                skew as f64 / 1000.0
            ));
        }
        for id in &self.differing {
            lines.push(format!("event {id} differs between the two journals: the first one's is kept"));
        }
        lines
    }
}

/// The name an event written on one side only is marked with: the journal's file name, or
/// `a`/`b` when both are named alike.
fn origin_names(a: &Path, b: &Path) -> (String, String) {
    let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let (na, nb) = (name(a), name(b));
    if na == nb || na.is_empty() || nb.is_empty() { ("a".into(), "b".into()) } else { (na, nb) }
}

pub fn merge(a: &Path, b: &Path, output: &Path) -> anyhow::Result<Merged> {
    anyhow::ensure!(!output.exists(), "{}: already exists; merge writes a new journal", output.display());
    let left = Journal::read(a).with_context(|| format!("reading {}", a.display()))?.events;
    let right = Journal::read(b).with_context(|| format!("reading {}", b.display()))?.events;
    let (name_a, name_b) = origin_names(a, b);
    let right_by_id: HashMap<&str, &Event> = right.iter().map(|e| (e.id.as_str(), e)).collect();
    let left_ids: HashSet<&str> = left.iter().map(|e| e.id.as_str()).collect();
    let mut merged = Merged { output: output.display().to_string(), ..Merged::default() };
    let mut all: Vec<(&Event, Option<&str>)> = Vec::with_capacity(left.len() + right.len());
    let mut only = (0, 0);
    for e in &left {
        match right_by_id.get(e.id.as_str()) {
            Some(other) => {
                merged.common += 1;
                if *other != e {
                    merged.differing.push(e.id.clone());
                }
                all.push((e, None));
            }
            None => {
                only.0 += 1;
                all.push((e, Some(&name_a)));
            }
        }
    }
    for e in right.iter().filter(|e| !left_ids.contains(e.id.as_str())) {
        only.1 += 1;
        all.push((e, Some(&name_b)));
    }
    all.sort_by(|(x, _), (y, _)| (x.ts, &x.id).cmp(&(y.ts, &y.id)));
    merged.events = all.len();
    merged.skew_ms = [a, b].iter().find_map(|p| status::read_copy(p)).map(|c| c.skew_ms);
    write(output, &all)?;
    merged.only = vec![(name_a.clone(), only.0), (name_b.clone(), only.1)];
    Ok(merged)
}

/// Writes the events as a new journal, each line with its origin (if any) and the chain.
fn write(output: &Path, events: &[(&Event, Option<&str>)]) -> anyhow::Result<()> {
    let mut prev = chain::start();
    let mut lines = Vec::with_capacity(events.len());
    for (event, origin) in events {
        let mut line = serde_json::to_vec(event)?;
        if let Some(origin) = origin {
            line.pop();
            line.extend_from_slice(br#","origin":"#);
            line.extend_from_slice(&serde_json::to_vec(origin)?);
            line.push(b'}');
        }
        chain::attach(&mut line, &prev);
        prev = chain::link(&line);
        lines.push(line);
    }
    let (journal, scan) = Journal::open(output)?;
    anyhow::ensure!(scan.lines == 0, "{}: appeared while merging", output.display());
    journal.append_lines(&lines)?;
    Ok(())
}
