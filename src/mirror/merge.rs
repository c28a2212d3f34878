//! `warroom merge A B -o C`: two copies of one incident that went their own ways (a primary
//! that came back and its promoted mirror) as one journal: every event once, ordered by time
//! then id; an event found on one side only was written there during the split and carries
//! `origin`, that side's name. The result is chained afresh — so both inputs' chains are
//! checked first: a merge must not launder a forged or edited line into a whole new chain.
//! Breaks are listed (file:line) and the merge refused, unless forced; forced, each event on
//! a line at a break or just before one (where an edit, insertion or removal is) is marked
//! `"unverified":true`.

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
    /// Where either input's chain does not hold (`file:line: why`), every one.
    pub breaks: Vec<String>,
    /// Events marked `unverified` (from around a break; merged only when forced).
    pub unverified: usize,
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
        for b in &self.breaks {
            lines.push(format!("chain broken at {b}"));
        }
        if self.unverified > 0 {
            lines.push(format!(
                "{} events from around the breaks are marked \"unverified\": true (they may be edited or forged)",
                self.unverified
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

/// Where a journal's chain does not hold, and the ids of the events on lines at a break or
/// just before one: those an edit, insertion or removal may have touched.
#[derive(Debug, Default)]
pub struct ChainCheck {
    pub breaks: Vec<String>,
    pub suspect: HashSet<String>,
}

pub fn check_chain(path: &Path) -> anyhow::Result<ChainCheck> {
    use std::io::BufRead;
    let file = crate::journal::dir::open_read(path, u64::MAX)?;
    let mut reader = std::io::BufReader::with_capacity(256 * 1024, file);
    let mut verifier = chain::Verifier::default();
    let (mut check, mut line, mut before) = (ChainCheck::default(), Vec::new(), None::<String>);
    while reader.read_until(b'\n', &mut line).with_context(|| format!("reading {}", path.display()))? > 0 {
        if line.pop() != Some(b'\n') {
            break; // a torn last line: the journal's readers skip it too
        }
        let id = chain::head_of(&line).id.map(|c| c.into_owned());
        if let Err(b) = verifier.feed(&line) {
            check.breaks.push(b.describe(path));
            check.suspect.extend(before.take().into_iter().chain(id.clone()));
        }
        before = id;
        line.clear();
    }
    Ok(check)
}

/// Merges `a` and `b` into the new journal `output`; refused if either chain is broken,
/// unless `force`.
pub fn merge(a: &Path, b: &Path, output: &Path, force: bool) -> anyhow::Result<Merged> {
    anyhow::ensure!(!output.exists(), "{}: already exists; merge writes a new journal", output.display());
    let (check_a, check_b) = (check_chain(a)?, check_chain(b)?);
    let breaks: Vec<String> = check_a.breaks.iter().chain(&check_b.breaks).cloned().collect();
    if !breaks.is_empty() && !force {
        anyhow::bail!(
            "the chain does not hold in the journals to merge, so lines may have been edited, inserted or \
             removed; nothing merged (with --force, events around the breaks are marked \"unverified\"):\n{}",
            breaks.iter().map(|b| format!("  {b}")).collect::<Vec<_>>().join("\n")
        );
    }
    let left = Journal::read(a).with_context(|| format!("reading {}", a.display()))?.events;
    let right = Journal::read(b).with_context(|| format!("reading {}", b.display()))?.events;
    let (name_a, name_b) = origin_names(a, b);
    let right_by_id: HashMap<&str, &Event> = right.iter().map(|e| (e.id.as_str(), e)).collect();
    let left_ids: HashSet<&str> = left.iter().map(|e| e.id.as_str()).collect();
    let mut merged = Merged { output: output.display().to_string(), ..Merged::default() };
    let mut all: Vec<Placed> = Vec::with_capacity(left.len() + right.len());
    let mut only = (0, 0);
    for e in &left {
        match right_by_id.get(e.id.as_str()) {
            Some(other) => {
                merged.common += 1;
                let differs = *other != e;
                if differs {
                    merged.differing.push(e.id.clone());
                }
                // Kept from `a`: vouched for if either side's chain holds around an equal copy.
                let unverified = check_a.suspect.contains(&e.id) && (differs || check_b.suspect.contains(&e.id));
                all.push(Placed { event: e, origin: None, unverified });
            }
            None => {
                only.0 += 1;
                all.push(Placed { event: e, origin: Some(&name_a), unverified: check_a.suspect.contains(&e.id) });
            }
        }
    }
    for e in right.iter().filter(|e| !left_ids.contains(e.id.as_str())) {
        only.1 += 1;
        all.push(Placed { event: e, origin: Some(&name_b), unverified: check_b.suspect.contains(&e.id) });
    }
    all.sort_by(|x, y| (x.event.ts, &x.event.id).cmp(&(y.event.ts, &y.event.id)));
    merged.events = all.len();
    merged.breaks = breaks;
    merged.unverified = all.iter().filter(|p| p.unverified).count();
    merged.skew_ms = [a, b].iter().find_map(|p| status::read_copy(p)).map(|c| c.skew_ms);
    write(output, &all)?;
    merged.only = vec![(name_a.clone(), only.0), (name_b.clone(), only.1)];
    Ok(merged)
}

/// An event as it goes into the merged journal.
struct Placed<'a> {
    event: &'a Event,
    /// The side it was found on alone, if so.
    origin: Option<&'a str>,
    /// On a line around a break of its side's chain.
    unverified: bool,
}

/// Writes the events as a new journal, each line with its origin and mark (if any) and the
/// chain.
fn write(output: &Path, events: &[Placed]) -> anyhow::Result<()> {
    let mut prev = chain::start();
    let mut lines = Vec::with_capacity(events.len());
    for placed in events {
        let mut line = serde_json::to_vec(placed.event)?;
        let mut add = |field: &[u8], value: Vec<u8>| {
            line.pop();
            line.extend_from_slice(field);
            line.extend_from_slice(&value);
            line.push(b'}');
        };
        if let Some(origin) = placed.origin {
            add(br#","origin":"#, serde_json::to_vec(origin)?);
        }
        if placed.unverified {
            add(br#","unverified":"#, b"true".to_vec());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::EventBody;

    fn journal(path: &Path, notes: &[&str]) {
        let (journal, _) = Journal::open(path).unwrap();
        for text in notes {
            journal.append(&Event::new("alice", EventBody::NoteAdded { text: text.to_string() })).unwrap();
        }
    }

    #[test]
    fn a_forged_line_is_not_laundered_into_a_fresh_chain() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("bastion.jsonl"), dir.path().join("fra.jsonl"));
        journal(&a, &["one", "two", "three"]);
        std::fs::copy(&a, &b).unwrap();
        journal(&b, &["four"]);
        // A member of the group slips a line in after line 2 of the mirror's side.
        let forged = r#"{"v":1,"id":"forged-1","ts":"2026-11-26T01:28:34.430Z","author":"alice","kind":"note_added","text":"FORGED: commander approved the DB drop","prev":"00000000000000000000000000000000"}"#;
        let text = std::fs::read_to_string(&b).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.insert(2, forged);
        std::fs::write(&b, lines.join("\n") + "\n").unwrap();

        let out = dir.path().join("merged.jsonl");
        let err = merge(&a, &b, &out, false).unwrap_err().to_string();
        assert!(err.contains(&format!("{}:3: chain broken", b.display())), "{err}");
        assert!(err.contains(&format!("{}:4: chain broken", b.display())), "{err}");
        assert!(!out.exists());

        let merged = merge(&a, &b, &out, true).unwrap();
        let summary = merged.summary().join("\n");
        assert!(summary.contains(&format!("chain broken at {}:3", b.display())), "{summary}");
        let written = std::fs::read_to_string(&out).unwrap();
        let forged_line = written.lines().find(|l| l.contains("forged-1")).unwrap();
        assert!(forged_line.contains(r#""unverified":true"#), "{forged_line}");
        // "two" (just before the forged line on `b`) is on both sides alike, and `a`'s chain
        // vouches for it; "four" is on a line whose chain holds.
        for l in written.lines().filter(|l| !l.contains("forged-1")) {
            assert!(!l.contains("unverified"), "{l}");
        }
        assert!(chain::verify(&out).unwrap().breaks.is_empty());
    }
}
