//! `http`: a real request, read like a user would, judged on status, headers, body and JSON.

mod exchange;
mod wire;

pub use exchange::Prepared;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use hyper::StatusCode;
use hyper::header::{HeaderMap, RETRY_AFTER};

use super::MAX_DETAIL_CHARS;
use super::outcome::{Health, Outcome, fmt_ms};
use super::spec::HttpSpec;
use super::trace::Trace;
use crate::sanitize::sanitize;

/// The HTTP client of the API sources (Prometheus, Alertmanager), built once: building one
/// loads the root store, which costs far more than a request. Pooled connections are fine
/// there, the server's health is not what is being measured. (The `http` probe makes its own
/// fresh connections: see [`exchange`].)
#[derive(Clone, Default)]
pub struct Clients {
    api: Arc<Mutex<Option<reqwest::Client>>>,
}

impl Clients {
    pub fn api(&self) -> Result<reqwest::Client, String> {
        let mut cache = self.api.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cache.as_ref() {
            return Ok(c.clone());
        }
        let client = reqwest::Client::builder()
            .user_agent(concat!("warroom/", env!("CARGO_PKG_VERSION")))
            .no_proxy()
            .build()
            .map_err(|e| format!("cannot build HTTP client: {e}"))?;
        *cache = Some(client.clone());
        Ok(client)
    }
}

pub async fn probe(spec: &HttpSpec, trace: &Trace) -> Outcome {
    if !spec.all_addresses {
        return judged(spec, exchange::fetch(spec, None, trace).await, trace);
    }
    let (host, port) = match exchange::target(spec) {
        Ok(server) => server,
        Err(why) => return trace.finish(Health::Down, why),
    };
    // Every address the host resolves to, each probed on its own (the URL's host pinned to it).
    super::tcp::each_address(host, port, trace, |addr| async move {
        let t = Trace::new();
        judged(spec, exchange::fetch(spec, Some(addr), &t).await, &t)
    })
    .await
}

/// A URL as it may be shown: a password in it becomes `***`.
pub fn redacted(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// The outcome of an exchange, judged on what the check expects.
fn judged(spec: &HttpSpec, fetched: Result<exchange::Response, exchange::Failure>, trace: &Trace) -> Outcome {
    let response = match fetched {
        Ok(response) => response,
        // The words may carry a server's Location: bounded like every detail.
        Err(why) => return trace.finish(Health::Down, crate::sanitize::sanitize_str(&why, MAX_DETAIL_CHARS * 2)),
    };
    let exchange::Response { status, reason, headers, body, truncated, cert_days_left, untrusted, landed } = response;
    let mut outcome = trace.finish(Health::Up, String::new());
    outcome.cert_days_left = cert_days_left;
    // One now for reading Retry-After and for saying it: with two, "Retry-After: 0" read as past.
    let now = Utc::now();
    // Said by a 503 or 429 (RFC 9110, 10.2.3): on any other answer it promises nothing.
    outcome.retry_after = matches!(status.as_u16(), 429 | 503).then(|| retry_after(&headers, now)).flatten();
    let problems = judge(spec, status, &headers, &body, truncated);
    if problems.is_empty() {
        outcome.detail = format!("HTTP {} in {}", status_line(status, reason.as_deref()), fmt_ms(outcome.latency));
    } else {
        outcome.health = Health::Down;
        let excerpt = sanitize(&body[..body.len().min(2048)], 120);
        outcome.detail = format!("HTTP {}: {}", status_line(status, reason.as_deref()), problems.join("; "));
        if let Some(url) = landed {
            outcome.append_detail(&format!("after redirects to {url}"));
        }
        if !excerpt.is_empty() {
            outcome.append_detail(&format!("body: \"{excerpt}\""));
        }
    }
    if truncated {
        outcome.append_detail(&format!("body truncated at {} bytes", spec.max_body));
    }
    if let Some(at) = outcome.retry_after {
        outcome.append_detail(&format!("Retry-After: back at {}", back_at(at, now, &chrono::Local)));
    }
    if let Some(why) = untrusted {
        outcome.append_detail(&format!("{why} (allowed by config)"));
    }
    outcome.apply_latency_threshold(spec.degraded_over);
    if let Some(days) = cert_days_left
        && days < spec.cert_warn_days
    {
        outcome.degrade(&format!("TLS certificate {}", super::tls::expiry(days)));
    }
    outcome.detail = crate::sanitize::sanitize_string(std::mem::take(&mut outcome.detail), MAX_DETAIL_CHARS * 2);
    outcome
}

/// "200 OK"; the server's own reason instead of the standard one when it gave another
/// ("503 Backend fetch failed"), or only the code when there is neither; written where it goes.
fn status_line<'a>(status: StatusCode, reason: Option<&'a str>) -> impl std::fmt::Display + 'a {
    struct Line<'a>(StatusCode, Option<&'a str>);
    impl std::fmt::Display for Line<'_> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self.1.or(self.0.canonical_reason()) {
                Some(reason) => write!(f, "{} {reason}", self.0.as_u16()),
                None => write!(f, "{}", self.0.as_u16()),
            }
        }
    }
    Line(status, reason)
}

/// Whether a check looks at a response header of this name: for a redirect, for when the
/// server will be back, or to judge the response.
fn looked_at(spec: &HttpSpec, name: &str) -> bool {
    let is = |other: &str| name.eq_ignore_ascii_case(other);
    is(hyper::header::LOCATION.as_str())
        || is(RETRY_AFTER.as_str())
        || spec.header.iter().any(|(wanted, _)| is(wanted))
        || spec.header_present.iter().any(|wanted| is(wanted))
}

/// Every condition that does not hold, in words.
fn judge(spec: &HttpSpec, status: StatusCode, headers: &HeaderMap, body: &[u8], truncated: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let code = status.as_u16();
    if !spec.expect_status.iter().any(|r| r.contains(code)) {
        let expected: Vec<String> = spec
            .expect_status
            .iter()
            .map(|r| if r.low == r.high { r.low.to_string() } else { format!("{}-{}", r.low, r.high) })
            .collect();
        problems.push(format!("status {code} not in expected {}", expected.join(", ")));
    }
    // A redirect that is followed ends on the page it leads to: one without a Location leads
    // nowhere, a broken redirect (a load balancer's, say), not an answer.
    if spec.follow_redirects && exchange::redirects(status) && exchange::location(headers).is_none() {
        problems.push("a redirect without a Location".into());
    }
    for (name, expected) in &spec.header {
        // A header sent more than once is its values joined with commas (RFC 9110, 5.3).
        let values: Vec<&[u8]> = headers.get_all(name.as_str()).iter().map(|v| v.as_bytes()).collect();
        let value = match values.as_slice() {
            [] => {
                problems.push(format!("header {name} missing (expected \"{expected}\")"));
                continue;
            }
            [one] => std::borrow::Cow::Borrowed(*one),
            many => std::borrow::Cow::Owned(many.join(&b", "[..])),
        };
        if *value != *expected.as_bytes() {
            problems.push(format!("header {name} is \"{}\" (expected \"{expected}\")", sanitize(&value, 80)));
        }
    }
    for name in &spec.header_present {
        if !headers.contains_key(name.as_str()) {
            problems.push(format!("header {name} missing"));
        }
    }
    // Only a check that looks into the body pays for reading it as text.
    let wants_text = spec.body_contains.is_some() || spec.body_not_contains.is_some();
    let text = if wants_text { String::from_utf8_lossy(body) } else { std::borrow::Cow::Borrowed("") };
    if let Some(needle) = &spec.body_contains
        && !text.contains(needle.as_str())
    {
        let scope = if truncated { " (in the part read)" } else { "" };
        problems.push(format!("body does not contain \"{needle}\"{scope}"));
    }
    if let Some(needle) = &spec.body_not_contains
        && text.contains(needle.as_str())
    {
        problems.push(format!("body contains \"{needle}\""));
    }
    if !spec.json.is_empty() {
        match serde_json::from_slice::<serde_json::Value>(body) {
            Err(e) => problems.push(format!("body is not JSON ({e})")),
            Ok(doc) => {
                for (path, expected) in &spec.json {
                    match json_path(&doc, path) {
                        None => problems.push(format!("JSON {path} missing (expected {expected})")),
                        Some(actual) if !json_equal(actual, expected) => {
                            let shown = sanitize(actual.to_string().as_bytes(), 80);
                            problems.push(format!("JSON {path} is {shown} (expected {expected})"));
                        }
                        Some(_) => {}
                    }
                }
            }
        }
    }
    problems
}

/// Follows a dotted path (`db.state`, `checks.0.status`) into a JSON document.
pub fn json_path<'a>(doc: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.').try_fold(doc, |node, key| match node {
        serde_json::Value::Object(map) => map.get(key),
        serde_json::Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// Equality that treats 1 and 1.0 alike (TOML integers vs JSON floats).
fn json_equal(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// `Retry-After` as an absolute time: either delta-seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u32>() {
        return Some(now + chrono::Duration::seconds(i64::from(secs)));
    }
    // All three date forms a recipient must accept (RFC 9110, 5.6.7), the obsolete RFC 850
    // and asctime ones too.
    httpdate::parse_http_date(value).ok().map(DateTime::<Utc>::from)
}

pub fn describe_error(e: &reqwest::Error) -> String {
    let what = if e.is_connect() {
        "connect failed"
    } else if e.is_timeout() {
        "timed out"
    } else if e.is_redirect() {
        "too many redirects"
    } else {
        "request failed"
    };
    format!("{what}: {}", root_cause(e))
}

/// The innermost error message: "connection refused", "invalid peer certificate: UnknownIssuer", …
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    // An I/O error in the chain gets the same short words as the tcp and smtp probes.
    let mut source = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && io.get_ref().is_none()
        {
            return super::tcp::io_reason(io);
        }
        source = s.source();
    }
    let mut messages = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        messages.push(s.to_string());
        source = s.source();
    }
    // The last two levels usually carry the useful words; drop duplicates.
    messages.dedup();
    let tail: Vec<&String> = messages.iter().rev().take(2).collect();
    let text = tail.into_iter().rev().cloned().collect::<Vec<_>>().join(": ");
    sanitize(text.as_bytes(), MAX_DETAIL_CHARS)
}

/// When a server says it will be back: said once in UTC when the local zone is UTC, else in
/// local time with UTC beside it; with its date when that is not today's (here), and said to
/// be past when it is (a server's stale promise).
fn back_at<Tz: chrono::TimeZone>(
    at: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
    local: &Tz,
) -> String {
    let here = at.with_timezone(local);
    let today = here.date_naive() == now.with_timezone(local).date_naive();
    let time = if today { "%H:%M:%S" } else { "%Y-%m-%d %H:%M:%S" };
    let mut said = if chrono::Offset::fix(here.offset()).local_minus_utc() == 0 {
        format!("{} UTC", at.format(time))
    } else {
        format!("{} local ({} UTC)", here.naive_local().format(time), at.format(time))
    };
    if at < now {
        said.push_str(", already past");
    }
    said
}

#[cfg(test)]
mod back_at_tests {
    use chrono::{FixedOffset, TimeZone, Utc};

    #[test]
    fn a_time_is_said_once_in_utc_and_with_utc_beside_any_other_zone() {
        let at = Utc.with_ymd_and_hms(2026, 11, 25, 14, 2, 16).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 13, 0, 0).unwrap();
        assert_eq!(super::back_at(at, now, &Utc), "14:02:16 UTC");
        assert_eq!(super::back_at(at, now, &FixedOffset::east_opt(0).unwrap()), "14:02:16 UTC");
        assert_eq!(super::back_at(at, now, &FixedOffset::east_opt(3600).unwrap()), "15:02:16 local (14:02:16 UTC)");
    }

    #[test]
    fn retry_after_reads_seconds_and_all_three_date_forms() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 14, 0, 0).unwrap();
        let read = |value: &'static str| {
            let mut headers = hyper::HeaderMap::new();
            headers.insert(super::RETRY_AFTER, hyper::header::HeaderValue::from_static(value));
            super::retry_after(&headers, now)
        };
        let later = Utc.with_ymd_and_hms(2026, 11, 26, 15, 1, 21).unwrap();
        assert_eq!(read("120"), Some(now + chrono::Duration::seconds(120)));
        assert_eq!(read("Thu, 26 Nov 2026 15:01:21 GMT"), Some(later));
        assert_eq!(read("Thursday, 26-Nov-26 15:01:21 GMT"), Some(later), "RFC 850");
        assert_eq!(read("Thu Nov 26 15:01:21 2026"), Some(later), "asctime");
        assert_eq!(read("soon"), None);
    }

    #[test]
    fn another_day_is_dated_and_a_time_gone_by_is_said_to_be_past() {
        let at = Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap();
        let evening = Utc.with_ymd_and_hms(2026, 11, 25, 22, 0, 0).unwrap();
        assert_eq!(super::back_at(at, evening, &Utc), "2026-11-26 09:00:00 UTC");
        // Ten at night in UTC is already the 26th three hours east.
        let east = FixedOffset::east_opt(3 * 3600).unwrap();
        assert_eq!(super::back_at(at, evening, &east), "12:00:00 local (09:00:00 UTC)");
        let later = Utc.with_ymd_and_hms(2026, 11, 26, 9, 30, 0).unwrap();
        assert_eq!(super::back_at(at, later, &Utc), "09:00:00 UTC, already past");
    }
}
