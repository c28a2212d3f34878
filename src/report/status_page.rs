//! A static status page for hosting that does not share the platform's fate: `index.html`
//! (no JavaScript, small, readable on a phone) and `status.json`. It shows each public
//! component's state and the incident's public updates — `message_sent` to a public audience,
//! and nothing else: internal notes never reach it.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::html::{STYLE, esc};
use super::ts;
use crate::incident::Incident;
use crate::journal::{Audience, CheckState, EventBody};

#[derive(Debug, Clone, Serialize)]
pub struct StatusPage {
    pub title: String,
    pub drill: bool,
    /// Investigating, identified, monitoring or resolved.
    pub incident_status: String,
    pub started: Option<DateTime<Utc>>,
    /// The time of the newest journal entry the page reflects.
    pub as_of: Option<DateTime<Utc>>,
    /// The worst component status.
    pub overall: &'static str,
    pub components: Vec<Component>,
    pub updates: Vec<Update>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Component {
    pub name: String,
    /// Status-page vocabulary: operational, degraded performance, major outage, unknown.
    pub status: &'static str,
    pub since: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Update {
    pub at: DateTime<Utc>,
    pub text: String,
}

/// Which components a page may show: only ones chosen, never every check by default.
pub enum Public {
    /// Named on the command line: each must be a check of the journal.
    Named(Vec<String>),
    /// Chosen in the config (`public = true`, `public_components`).
    Configured(Vec<String>),
}

fn component_status(s: CheckState) -> &'static str {
    match s {
        CheckState::Up => "operational",
        CheckState::Degraded => "degraded performance",
        CheckState::Down => "major outage",
        CheckState::Unknown => "unknown",
    }
}

fn rank(s: &str) -> u8 {
    match s {
        "major outage" => 3,
        "degraded performance" => 2,
        "unknown" => 1,
        _ => 0,
    }
}

/// The page's content, showing only the components chosen as public. A component asked for
/// by name (`--component`) that the journal has no check of is an error, never a silent gap;
/// one chosen by the config but not in this journal (a check added since) is left out.
pub fn build(incident: &Incident, public: &Public) -> Result<StatusPage, String> {
    if let Public::Named(names) = public
        && let Some(unknown) = names.iter().find(|n| !incident.checks.contains_key(*n))
    {
        let known: Vec<&str> = incident.checks.keys().map(String::as_str).collect();
        return Err(format!(
            "--component {unknown:?}: no such component in this journal (its checks: {})",
            if known.is_empty() { "none".to_string() } else { known.join(", ") }
        ));
    }
    let (Public::Named(chosen) | Public::Configured(chosen)) = public;
    let components: Vec<Component> = incident
        .checks
        .iter()
        .filter(|(name, _)| chosen.contains(name))
        .map(|(name, c)| Component { name: name.clone(), status: component_status(c.state), since: c.since })
        .collect();
    let overall = components.iter().map(|c| c.status).max_by_key(|s| rank(s)).unwrap_or("operational");
    let mut updates: Vec<Update> = incident
        .timeline
        .iter()
        .filter_map(|e| match &e.body {
            // A drill's simulated messages appear only on a drill's page, which says DRILL.
            EventBody::MessageSent { audience: Audience::Public, error: None, simulated, text, .. }
                if !*simulated || incident.is_drill() =>
            {
                Some(Update { at: e.ts, text: text.clone() })
            }
            _ => None,
        })
        .collect();
    updates.reverse();
    Ok(StatusPage {
        title: incident.title.clone().unwrap_or_else(|| "Service status".into()),
        drill: incident.is_drill(),
        incident_status: incident.status.as_str().into(),
        started: incident.opened_at,
        as_of: incident.timeline.last().map(|e| e.ts),
        overall,
        components,
        updates,
    })
}

pub fn html(page: &StatusPage) -> String {
    let mut o = String::new();
    let headline = match page.overall {
        "operational" if page.incident_status == "resolved" => "All systems operational".to_string(),
        "operational" => "All systems operational — incident under watch".to_string(),
        other => format!("{}{}", other[..1].to_uppercase(), &other[1..]),
    };
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    o.push_str(&format!(
        "<title>Status: {}</title>\n<style>{STYLE}.st{{font-weight:bold}}</style>\n</head>\n<body>\n",
        esc(&page.title)
    ));
    if page.drill {
        o.push_str(
            "<p class=\"drill\">DRILL — this status page is part of a rehearsal. No real service is affected.</p>\n",
        );
    }
    o.push_str(&format!("<h1>{}</h1>\n<p class=\"st\">{}</p>\n", esc(&page.title), esc(&headline)));
    o.push_str(&format!(
        "<p>Incident status: <b>{}</b>{}. Times are UTC{}.</p>\n",
        esc(&page.incident_status),
        page.started.map(|s| format!(" (the incident began {})", ts(&s))).unwrap_or_default(),
        page.as_of.map(|a| format!("; last change {}", ts(&a))).unwrap_or_default()
    ));
    o.push_str("<h2>Components</h2>\n<table>\n<tr><th>Component</th><th>Status</th><th>Since</th></tr>\n");
    for c in &page.components {
        let glyph = match c.status {
            "operational" => "✔",
            "degraded performance" => "▲",
            "major outage" => "✖",
            _ => "?",
        };
        o.push_str(&format!(
            "<tr><td>{}</td><td>{glyph} {}</td><td>{}</td></tr>\n",
            esc(&c.name),
            c.status,
            esc(&ts(&c.since))
        ));
    }
    o.push_str("</table>\n<h2>Updates</h2>\n");
    if page.updates.is_empty() {
        o.push_str("<p>No updates yet.</p>\n");
    }
    for u in &page.updates {
        o.push_str(&format!("<h3>{}</h3>\n<p>{}</p>\n", esc(&ts(&u.at)), esc(&u.text).replace('\n', "<br>\n")));
    }
    o.push_str("</body>\n</html>\n");
    o
}

/// Writes `index.html` and `status.json` into `dir` (created if needed).
pub fn write(page: &StatusPage, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("index.html"), html(page))?;
    std::fs::write(dir.join("status.json"), serde_json::to_vec_pretty(page).map_err(std::io::Error::other)?)
}
