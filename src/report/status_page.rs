//! A static status page for hosting that does not share the platform's fate: `index.html`
//! (no JavaScript, small, readable on a phone) and `status.json`. It shows each public
//! component's state and the incident's public updates — `message_sent` to a public audience,
//! and nothing else: internal notes never reach it.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use maud::{DOCTYPE, Markup, html};

use super::html::{STYLE, clean, head};
use super::timeline::{self, Shade};
use super::ts;
use crate::incident::Incident;
use crate::journal::{Audience, EventBody, Status};

#[derive(Debug, Clone, Serialize)]
pub struct StatusPage {
    pub title: String,
    pub drill: bool,
    /// Investigating, identified, monitoring or resolved.
    pub incident_status: String,
    pub started: Option<DateTime<Utc>>,
    /// The time of the newest journal entry the page reflects.
    pub as_of: Option<DateTime<Utc>>,
    /// All public components together: major outage only when every one is down, partial
    /// outage when some are (or some are down from some places), degraded performance when
    /// some are only degraded, else operational.
    pub overall: &'static str,
    /// What the banner says: operational, degraded, partial outage, major outage, or resolved
    /// (once the incident is, whatever a component still shows).
    pub state: &'static str,
    pub resolved_at: Option<DateTime<Utc>>,
    pub components: Vec<Component>,
    pub updates: Vec<Update>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Component {
    pub name: String,
    /// Status-page vocabulary: operational, degraded performance, partial outage, major outage,
    /// unknown.
    pub status: &'static str,
    pub since: DateTime<Utc>,
    /// Its states over the incident, oldest first, each as a share of the page's time span.
    pub history: Vec<Segment>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Segment {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// `up`, `degraded`, `partial`, `down` or `no data`.
    pub state: &'static str,
    pub percent: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Update {
    pub at: DateTime<Utc>,
    pub text: String,
}

/// The heading of a page given no public title: never the incident's internal title.
pub const NEUTRAL_TITLE: &str = "Service status";

/// Which components a page may show: only ones chosen, never every check by default.
pub enum Public {
    /// Named on the command line: each must be a check of the journal.
    Named(Vec<String>),
    /// Chosen in the config (`public = true`, `public_components`).
    Configured(Vec<String>),
}

/// Status-page words for a state, partial (down from some places only) included.
fn component_status(s: Shade) -> &'static str {
    match s {
        Shade::Up => "operational",
        Shade::Degraded => "degraded performance",
        Shade::Partial => "partial outage",
        Shade::Down => "major outage",
        Shade::NoData => "unknown",
    }
}

/// The banner's state: resolution wins once recorded; otherwise the worst component's.
fn page_state(resolved: bool, overall: &str) -> &'static str {
    match overall {
        _ if resolved => "resolved",
        "major outage" => "major outage",
        "partial outage" => "partial outage",
        "degraded performance" => "degraded",
        _ => "operational",
    }
}

/// A check's row of the shape as bar segments between `from` and `to`.
fn history(row: Option<&timeline::Row>, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Segment> {
    let total = (to - from).num_milliseconds().max(1) as f64;
    let mut out: Vec<Segment> = Vec::new();
    let mut push = |a: DateTime<Utc>, b: DateTime<Utc>, shade: Shade| {
        let (a, b) = (a.clamp(from, to), b.clamp(from, to));
        if b > a {
            let percent = (b - a).num_milliseconds() as f64 * 100.0 / total;
            out.push(Segment { from: a, to: b, state: shade.word(), percent });
        }
    };
    let bands = row.map_or(&[][..], |r| &r.bands[..]);
    push(from, bands.first().map_or(to, |b| b.from), Shade::NoData);
    for b in bands {
        push(b.from, b.to.unwrap_or(to), b.shade);
    }
    out
}

/// The components' statuses together. One component down of three is a partial outage, not
/// a major one: a banner saying "Major outage" for it tells customers everything is down.
fn overall(statuses: &[&str]) -> &'static str {
    let any = |s: &str| statuses.contains(&s);
    match statuses {
        [] => "operational",
        _ if statuses.iter().all(|s| *s == "major outage") => "major outage",
        _ if any("major outage") || any("partial outage") => "partial outage",
        _ if any("degraded performance") => "degraded performance",
        _ => "operational",
    }
}

/// The page's content, showing only the components chosen as public. A component asked for
/// by name (`--component`) that the journal has no check of is an error, never a silent gap;
/// one chosen by the config but not in this journal (a check added since) is left out.
pub fn build(incident: &Incident, public: &Public, title: &str) -> Result<StatusPage, String> {
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
    let shape = timeline::build(incident);
    let (from, to) = (incident.opened_at.unwrap_or(shape.start), incident.timeline.last().map_or(shape.end, |e| e.ts));
    let components: Vec<Component> = incident
        .checks
        .iter()
        .filter(|(name, _)| chosen.contains(name))
        .map(|(name, c)| Component {
            name: name.clone(),
            status: component_status(Shade::from_check(c.state)),
            since: c.since,
            history: history(shape.rows.iter().find(|r| r.check == *name), from, to),
        })
        .collect();
    let overall = overall(&components.iter().map(|c| c.status).collect::<Vec<_>>());
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
        title: title.to_string(),
        drill: incident.is_drill(),
        incident_status: incident.status.as_str().into(),
        started: incident.opened_at,
        as_of: incident.timeline.last().map(|e| e.ts),
        overall,
        state: page_state(incident.status == Status::Resolved, overall),
        resolved_at: super::ended(incident),
        components,
        updates,
    })
}

/// The banner: the overall state in words, with an icon and a colour class.
fn banner(page: &StatusPage) -> (&'static str, &'static str, String) {
    let headline = match page.state {
        "resolved" => "Resolved".to_string(),
        "operational" => "All systems operational".to_string(),
        other => format!("{}{}", other[..1].to_uppercase(), &other[1..]),
    };
    let icon = match page.state {
        "resolved" | "operational" => "✔",
        "degraded" => "▲",
        "partial outage" => "◐",
        _ => "✖",
    };
    (icon, page.state, headline)
}

fn since_sentence(page: &StatusPage) -> String {
    match (page.state, page.resolved_at) {
        ("resolved", Some(at)) => format!("This incident was resolved at {}.", ts(&at)),
        ("resolved", None) => "This incident has been resolved.".into(),
        ("operational", _) => "Every component is working; the incident is still under watch.".into(),
        _ => "We are working on it; updates below, the newest first.".into(),
    }
}

const PAGE_STYLE: &str = ".banner{display:flex;gap:.75rem;align-items:center;padding:.75rem 1rem;border-radius:.5rem;border:2px solid;margin:1rem 0}\
.banner .icon{font-size:2rem;line-height:1}.banner h2{margin:0;font-size:1.4rem}.banner p{margin:.2rem 0 0}\
.operational,.resolved{border-color:#2e7d32;background:#e8f5e9;color:#1b5e20}.degraded{border-color:#c77700;background:#fff8e1;color:#6d4100}\
.partial-outage{border-color:#e65100;background:#fff3e0;color:#8a3000}.major-outage{border-color:#c62828;background:#ffebee;color:#8e0000}\
.comp{border-bottom:1px solid #bbb;padding:.5rem 0}.comp h3{margin:0;font-size:1.05rem;overflow-wrap:anywhere}.comp .st{font-weight:bold}\
.bar{display:flex;height:.9rem;margin:.35rem 0 .1rem;border:1px solid #999;border-radius:.2rem;overflow:hidden}\
.seg{font-size:0;height:100%}.seg.up{background:#2e7d32}.seg.degraded{background:#c77700;height:70%;align-self:center}\
.seg.partial{background:#e65100}.seg.down{background:#c62828}.seg.no-data{background:transparent}\
.axis{display:flex;justify-content:space-between;font-size:.8rem}\
.bar-key{font-size:.9rem}.bar-key .sw{display:inline-block;width:1.2rem;height:.8rem;border:1px solid #999;vertical-align:middle}\
.sw.up{background:#2e7d32}.sw.degraded{background:#c77700}.sw.partial{background:#e65100}.sw.down{background:#c62828}.sw.no-data{background:transparent}.update p{overflow-wrap:anywhere}\
@media(prefers-color-scheme:dark){.operational,.resolved{background:#10301a;color:#a5d6a7}.degraded{background:#3a2a00;color:#ffe082}\
.partial-outage{background:#3a1c00;color:#ffcc80}.major-outage{background:#3b0d0d;color:#ff8a80}}\
@media print{.banner,.bar,.bar-key{print-color-adjust:exact;-webkit-print-color-adjust:exact}}";

pub fn html(page: &StatusPage) -> String {
    let (icon, state, headline) = banner(page);
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head(&page.title, &[STYLE, PAGE_STYLE]))
            body {
                @if page.drill {
                    p.drill { "DRILL — this status page is part of a rehearsal. No real service is affected." }
                }
                h1 { (clean(&page.title)) }
                div class={"banner " (state.replace(' ', "-"))} id="banner" {
                    span.icon aria-hidden="true" { (icon) }
                    div { h2 { (headline) } p { (since_sentence(page)) } }
                }
                p {
                    "Incident status: " b { (clean(&page.incident_status)) }
                    @if let Some(s) = page.started { " (the incident began " time { (ts(&s)) } ")" }
                    ". Times are UTC"
                    @if let Some(a) = page.as_of { "; last change " time { (ts(&a)) } }
                    "."
                }
                h2 { "Components" }
                @if page.components.is_empty() { p { "No components are listed." } } @else { (bar_key()) }
                @for c in &page.components { (component(page, c)) }
                h2 { "Updates" }
                @if page.updates.is_empty() { p { "No updates yet." } }
                @for u in &page.updates {
                    div.update {
                        h3 { time { (ts(&u.at)) } }
                        p { @for (i, line) in clean(&u.text).split('\n').enumerate() { @if i > 0 { br; } (line) } }
                    }
                }
            }
        }
    };
    markup.into_string()
}

/// What the bars' colours mean, in words: colour is never the only signal.
fn bar_key() -> Markup {
    let states = [
        ("up", "operational"),
        ("degraded", "degraded"),
        ("partial", "partial outage"),
        ("down", "major outage"),
        ("no-data", "no data"),
    ];
    html! {
        p.bar-key {
            "Bars show each component over the incident, left to right: "
            @for (i, (class, word)) in states.iter().enumerate() {
                @if i > 0 { " · " }
                span class={"sw " (class)} aria-hidden="true" { "\u{a0}" } " " (word)
            }
        }
    }
}

/// One component: its state now and a bar of its states over the incident.
fn component(page: &StatusPage, c: &Component) -> Markup {
    let glyph = match c.status {
        "operational" => "✔",
        "degraded performance" => "▲",
        "partial outage" => "◐",
        "major outage" => "✖",
        _ => "?",
    };
    html! {
        div.comp {
            h3 { (clean(&c.name)) }
            div { span.st { (glyph) " " (c.status) } " since " time { (ts(&c.since)) } }
            @if let (Some(from), Some(to)) = (page.started, page.as_of) {
                div.bar role="img" aria-label={"State of " (clean(&c.name)) " over the incident"} {
                    @for seg in &c.history {
                        span class={"seg " (seg.state.replace(' ', "-"))} style={"width:" (format!("{:.2}", seg.percent)) "%"} {
                            (seg.state)
                        }
                    }
                }
                div.axis { time { (super::timeline::hhmm(from)) } time { (super::timeline::hhmm(to)) } }
            }
        }
    }
}

/// Writes `index.html` and `status.json` into `dir` (created if needed).
pub fn write(page: &StatusPage, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("index.html"), html(page))?;
    std::fs::write(dir.join("status.json"), serde_json::to_vec_pretty(page).map_err(std::io::Error::other)?)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_banner_says_resolved_once_resolved_and_otherwise_the_worst_state() {
        assert_eq!(page_state(true, "major outage"), "resolved");
        assert_eq!(page_state(false, "major outage"), "major outage");
        assert_eq!(page_state(false, component_status(Shade::Partial)), "partial outage");
        assert_eq!(page_state(false, "degraded performance"), "degraded");
        assert_eq!(page_state(false, "unknown"), "operational");
    }

    #[test]
    fn the_page_says_major_outage_only_when_every_component_is_down() {
        let (down, degraded, up) = ("major outage", "degraded performance", "operational");
        assert_eq!(overall(&[down, up, up]), "partial outage", "one of three down");
        assert_eq!(overall(&[down, down]), "major outage");
        assert_eq!(overall(&[degraded, up]), "degraded performance");
        assert_eq!(overall(&["partial outage", up]), "partial outage");
        assert_eq!(overall(&[up, "unknown"]), "operational");
        assert_eq!(overall(&[]), "operational");
    }

    #[test]
    fn a_bar_covers_the_whole_span_with_no_data_before_the_first_state() {
        let t = |m: i64| Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap() + chrono::Duration::minutes(m);
        let band = |from, to, shade| timeline::Band { from: t(from), to, shade };
        let row = timeline::Row {
            check: "web".into(),
            first_failure: Some(t(10)),
            bands: vec![band(5, Some(t(10)), Shade::Up), band(10, None, Shade::Down)],
        };
        let bar = history(Some(&row), t(0), t(20));
        let states: Vec<(&str, f64)> = bar.iter().map(|s| (s.state, s.percent)).collect();
        assert_eq!(states, [("no data", 25.0), ("up", 25.0), ("down", 50.0)]);
    }
}
