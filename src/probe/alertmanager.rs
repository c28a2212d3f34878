//! `alertmanager`: every firing alert as a row, named by chosen labels, its severity label
//! mapped to degraded or down, its summary as the detail.

use serde::Deserialize;

use super::api;
use super::outcome::{Health, Outcome, SubOutcome, fmt_ms};
use super::spec::AlertmanagerSpec;
use super::trace::Trace;
use crate::sanitize::sanitize_str;

const MAX_REPLY: usize = 16 << 20;

#[derive(Deserialize)]
struct Alert {
    labels: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    annotations: std::collections::BTreeMap<String, String>,
    status: AlertStatus,
}

#[derive(Deserialize)]
struct AlertStatus {
    state: String,
    #[serde(default, rename = "silencedBy")]
    silenced_by: Vec<String>,
    #[serde(default, rename = "inhibitedBy")]
    inhibited_by: Vec<String>,
}

/// `critical`, `page`, `error`, `high`, `major` are down; anything else is degraded.
pub fn health_of(severity: Option<&str>) -> Health {
    match severity.map(str::to_ascii_lowercase).as_deref() {
        Some("critical" | "page" | "error" | "high" | "major" | "disaster") => Health::Down,
        _ => Health::Degraded,
    }
}

pub async fn probe(spec: &AlertmanagerSpec, clients: &super::http::Clients, trace: &Trace) -> Outcome {
    let client = match clients.api() {
        Ok(c) => c,
        Err(e) => return trace.finish(Health::Down, e),
    };
    let url = match reqwest::Url::parse(&spec.url).and_then(|u| u.join("api/v2/alerts")) {
        Ok(u) => u,
        Err(e) => return trace.finish(Health::Down, format!("bad Alertmanager URL: {e}")),
    };
    trace.step("GET /api/v2/alerts");
    let (status, body) = match api::get(&client, url, &spec.auth, MAX_REPLY).await {
        Ok(r) => r,
        Err(e) => return trace.finish(Health::Down, format!("Alertmanager unreachable: {e}")),
    };
    if !(200..300).contains(&status) {
        return trace.finish(Health::Down, format!("Alertmanager answered HTTP {status}: \"{}\"", api::excerpt(&body)));
    }
    let alerts: Vec<Alert> = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => {
            return trace
                .finish(Health::Down, format!("not an Alertmanager v2 alert list ({e}): \"{}\"", api::excerpt(&body)));
        }
    };
    let mut outcome = trace.finish(Health::Up, String::new());
    let mut rows: Vec<SubOutcome> = Vec::new();
    for a in &alerts {
        let silenced =
            a.status.state == "suppressed" || !a.status.silenced_by.is_empty() || !a.status.inhibited_by.is_empty();
        if silenced && !spec.show_silenced {
            continue;
        }
        if a.status.state != "active" && !silenced {
            continue;
        }
        let key = spec.labels.iter().filter_map(|l| a.labels.get(l)).cloned().collect::<Vec<_>>().join(" ");
        let key = sanitize_str(
            if key.is_empty() { a.labels.get("alertname").map_or("alert", |s| s.as_str()) } else { &key },
            80,
        );
        let summary =
            a.annotations.get("summary").or_else(|| a.annotations.get("description")).cloned().unwrap_or_default();
        // Cleaned and capped like every label shown, and rated as shown: a severity that reads
        // "critical" on the screen is critical (a label of a megabyte would make every entry
        // about the row too long for the journal).
        let severity = a.labels.get("severity").map(|s| sanitize_str(s, 20));
        let severity = severity.as_deref();
        let detail = format!(
            "{}{}{}",
            severity.map(|s| format!("[{s}] ")).unwrap_or_default(),
            sanitize_str(&summary, 240),
            if silenced { " (silenced)" } else { "" }
        );
        // Alerts that name the same row (same labels) merge: the worst wins.
        match rows.iter_mut().find(|r| r.key == key) {
            Some(r) if health_of(severity) > r.health => {
                r.health = health_of(severity);
                r.detail = detail;
            }
            Some(_) => {}
            None => rows.push(SubOutcome { key, health: health_of(severity), detail, silenced }),
        }
    }
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    let firing = rows.iter().filter(|r| !r.silenced).count();
    outcome.detail = format!("{firing} firing, {} silenced ({})", rows.len() - firing, fmt_ms(outcome.latency));
    outcome.rows = rows;
    outcome
}
