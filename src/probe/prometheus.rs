//! `prometheus`: an instant PromQL query, judged by thresholds or by "any series returned";
//! optionally one row per series.

use serde::Deserialize;

use super::api;
use super::outcome::{Health, Outcome, SubOutcome, fmt_ms};
use super::spec::{PrometheusSpec, Threshold};
use super::trace::Trace;
use crate::sanitize::sanitize_str;

const MAX_REPLY: usize = 16 << 20;

#[derive(Deserialize)]
struct Reply {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct Series {
    #[serde(default)]
    metric: std::collections::BTreeMap<String, String>,
    value: (f64, String),
}

pub async fn probe(spec: &PrometheusSpec, clients: &super::http::Clients, trace: &Trace) -> Outcome {
    let client = match clients.api() {
        Ok(c) => c,
        Err(e) => return trace.finish(Health::Down, e),
    };
    let mut url = match reqwest::Url::parse(&spec.url).and_then(|u| u.join("api/v1/query")) {
        Ok(u) => u,
        Err(e) => return trace.finish(Health::Down, format!("bad Prometheus URL: {e}")),
    };
    url.query_pairs_mut().append_pair("query", &spec.query);
    trace.step("GET /api/v1/query");
    let (status, body) = match api::get(&client, url, &spec.auth, MAX_REPLY).await {
        Ok(r) => r,
        Err(e) => return trace.finish(Health::Down, format!("Prometheus unreachable: {e}")),
    };
    let reply: Reply = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return trace.finish(
                Health::Down,
                format!("HTTP {status}: not a Prometheus API reply ({e}): \"{}\"", api::excerpt(&body)),
            );
        }
    };
    if reply.status != "success" {
        let kind = reply.error_type.unwrap_or_else(|| "error".into());
        let text = sanitize_str(reply.error.as_deref().unwrap_or("no error text"), 240);
        return trace.finish(Health::Down, format!("query rejected by Prometheus ({kind}): {text}"));
    }
    let Some(data) = reply.data else {
        return trace.finish(Health::Down, "not a Prometheus API reply: status success without data".to_string());
    };
    let series: Vec<(String, f64)> = match data.result_type.as_str() {
        "vector" => match serde_json::from_value::<Vec<Series>>(data.result) {
            Ok(v) => v.into_iter().map(|s| (label(spec, &s.metric), s.value.1.parse().unwrap_or(f64::NAN))).collect(),
            Err(e) => return trace.finish(Health::Down, format!("not a Prometheus vector: {e}")),
        },
        "scalar" => match serde_json::from_value::<(f64, String)>(data.result) {
            Ok((_, v)) => vec![(String::new(), v.parse().unwrap_or(f64::NAN))],
            Err(e) => return trace.finish(Health::Down, format!("not a Prometheus scalar: {e}")),
        },
        other => {
            return trace.finish(Health::Down, format!("query returns a {other}; use an instant vector or scalar"));
        }
    };
    let judge = |v: f64| -> (Health, String) {
        if v.is_nan() {
            return (Health::Down, "value is NaN".into());
        }
        if let Some(t) = spec.down.filter(|t| t.crossed(v)) {
            return (Health::Down, crossed(v, t, "down"));
        }
        if let Some(t) = spec.degraded.filter(|t| t.crossed(v)) {
            return (Health::Degraded, crossed(v, t, "degraded"));
        }
        (Health::Up, show(v))
    };
    let mut outcome = trace.finish(Health::Up, String::new());
    if spec.for_each_series.is_some() {
        outcome.rows = series
            .iter()
            .map(|(name, v)| {
                let (health, detail) =
                    if spec.down_if_any { (Health::Down, format!("firing ({})", show(*v))) } else { judge(*v) };
                SubOutcome { key: name.clone(), health, detail, silenced: false }
            })
            .collect();
        let failing = outcome.rows.iter().filter(|r| r.health != Health::Up).count();
        outcome.detail = format!("{} series, {failing} failing, in {}", series.len(), fmt_ms(outcome.latency));
        return outcome;
    }
    if spec.down_if_any {
        if series.is_empty() {
            outcome.detail = format!("no series: nothing firing ({})", fmt_ms(outcome.latency));
        } else {
            outcome.health = Health::Down;
            let names: Vec<String> = series
                .iter()
                .take(5)
                .map(|(n, v)| if n.is_empty() { show(*v) } else { format!("{n}={}", show(*v)) })
                .collect();
            outcome.detail = format!("{} series returned: {}", series.len(), names.join(", "));
        }
        return outcome;
    }
    if series.is_empty() {
        outcome.health = Health::Down;
        outcome.detail = "the query returned no data (a missing metric is not a healthy one)".into();
        return outcome;
    }
    // Judge the worst series: the highest against "above", the lowest against "below".
    let worst = series
        .iter()
        .map(|(_, v)| *v)
        .max_by(|a, b| {
            let below = matches!(spec.down.or(spec.degraded), Some(Threshold::Below(_)));
            let ord = a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal);
            if below { ord.reverse() } else { ord }
        })
        .unwrap_or(f64::NAN);
    let (health, detail) = judge(worst);
    outcome.health = health;
    outcome.detail = format!("{detail} ({} series, {})", series.len(), fmt_ms(outcome.latency));
    outcome
}

fn show(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{v:.0}") } else { format!("{v:.4}") }
}

/// A value past its threshold, in words: not `0 < 1` but "0, below the down threshold 1".
fn crossed(v: f64, t: Threshold, which: &str) -> String {
    let (side, limit) = match t {
        Threshold::Above(x) => ("above", x),
        Threshold::Below(x) => ("below", x),
    };
    format!("{}, {side} the {which} threshold {}", show(v), show(limit))
}

/// Fills `{{label}}` placeholders from a series' labels; all labels when no template.
fn label(spec: &PrometheusSpec, metric: &std::collections::BTreeMap<String, String>) -> String {
    match &spec.for_each_series {
        Some(template) => {
            let mut out = template.clone();
            for (k, v) in metric {
                out = out.replace(&format!("{{{{{k}}}}}"), v);
            }
            sanitize_str(&out, 80)
        }
        None => sanitize_str(&metric.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect::<Vec<_>>().join(","), 120),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crossed_threshold_is_said_in_words() {
        assert_eq!(crossed(0.0, Threshold::Below(1.0), "down"), "0, below the down threshold 1");
        assert_eq!(crossed(0.02, Threshold::Above(0.01), "degraded"), "0.0200, above the degraded threshold 0.0100");
    }
}
