//! The messages between the war room and an agent, one JSON object per line on a
//! [`crate::ssh::Link`]. Field names are the protocol: extend with defaults, don't rename
//! (raise [`crate::ssh::PROTOCOL`] for a change an older peer would misread).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::monitor::{State, View};
use crate::probe::{Health, Outcome};
use crate::sanitize::sanitize_str;

/// The war room to an agent.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToAgent {
    /// First message: the checks to run, as `[[check]]` tables of the config (the agent
    /// builds them with the war room's own parser and limits), and each one's state as the
    /// journal last recorded it for this place. With `once`, probe each once and end.
    Setup {
        config: String,
        #[serde(default)]
        recorded: BTreeMap<String, State>,
        #[serde(default)]
        once: bool,
    },
    /// Probe this check now (a "run now" happens at the vantage, not across the link).
    RunNow {
        check: String,
    },
    Pause {
        check: String,
    },
    Resume {
        check: String,
    },
}

/// An agent to the war room.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FromAgent {
    /// The setup is understood: these checks run.
    Ready { checks: Vec<String> },
    /// The setup could not be used at all (the config did not parse here).
    Failed { error: String },
    /// One check this agent will not run, and why (a `command` check without
    /// `--allow-command`).
    Refused { check: String, reason: String },
    /// A source reported a row not seen before (`alerts / HighErrorRate`).
    Row { check: String, key: String },
    /// One probe result.
    Sample(Sample),
    /// How a check should be shown here changed (confirmed state, blocked, no connectivity).
    View { check: String, view: View },
    /// A change this place confirmed.
    Changed { check: String, from: State, to: State, detail: String },
    /// `once`: every check has reported.
    Done {},
}

/// A probe result as it crosses the link: what the screen and `check --json` show.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Sample {
    pub check: String,
    pub at: DateTime<Utc>,
    pub health: Health,
    /// Bounded as it is read ([`bounded_latency`]): every use downstream (durations, the
    /// verdict's slowest place, `check --json`) can trust it.
    #[serde(deserialize_with = "bounded_latency")]
    pub latency_ms: f64,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_days_left: Option<i64>,
}

/// A latency from the far side, clamped to 0 ..= a day: a hostile or broken agent's `1e300`
/// would otherwise overflow the conversion to a duration and stop the war room's monitor.
fn bounded_latency<'de, D: serde::Deserializer<'de>>(from: D) -> Result<f64, D::Error> {
    f64::deserialize(from).map(crate::probe::bounded_millis)
}

/// Longest check or row name taken from an agent.
const MAX_NAME: usize = 300;

impl Sample {
    pub fn of(check: &str, at: DateTime<Utc>, outcome: &Outcome) -> Sample {
        Sample {
            check: check.to_string(),
            at,
            health: outcome.health,
            latency_ms: outcome.latency.as_secs_f64() * 1000.0,
            detail: outcome.detail.clone(),
            retry_after: outcome.retry_after,
            cert_days_left: outcome.cert_days_left,
        }
    }

    /// The result as an [`Outcome`], every string from the far side made safe: an agent is
    /// another host, and what it says reaches terminals here.
    pub fn outcome(&self) -> Arc<Outcome> {
        let latency = std::time::Duration::from_secs_f64(crate::probe::bounded_millis(self.latency_ms) / 1000.0);
        let mut outcome =
            Outcome::new(self.health, latency, sanitize_str(&self.detail, crate::probe::MAX_DETAIL_CHARS));
        outcome.retry_after = self.retry_after;
        outcome.cert_days_left = self.cert_days_left;
        Arc::new(outcome)
    }
}

/// A name from the far side, safe to show and to key by.
pub fn safe_name(name: &str) -> String {
    sanitize_str(name, MAX_NAME)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_latency_out_of_bounds_from_the_far_side_is_clamped_as_it_is_read() {
        let line = |ms: &str| {
            format!(r#"{{"check":"web","at":"2026-11-26T01:00:00Z","health":"up","latency_ms":{ms},"detail":""}}"#)
        };
        let read = |ms: &str| serde_json::from_str::<Sample>(&line(ms)).unwrap().latency_ms;
        assert_eq!(read("1e300"), crate::probe::MAX_MILLIS);
        assert_eq!(read("-5"), 0.0);
        assert_eq!(read("12.5"), 12.5);
        let huge: Sample = serde_json::from_str(&line("1e300")).unwrap();
        assert_eq!(huge.outcome().latency, std::time::Duration::from_secs(86_400));
    }
}
