//! `dns`: resolve a name against the system resolver or a given server; judge rcode and answers.

use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::rr::{RData, RecordType as HRecordType};

use super::outcome::{Health, Outcome, fmt_ms};
use super::spec::{DnsSpec, RecordType};
use super::trace::Trace;
use crate::sanitize::sanitize;

pub async fn probe(spec: &DnsSpec, trace: &Trace, timeout: Duration) -> Outcome {
    trace.step("resolver setup");
    let resolver = match build_resolver(spec, timeout) {
        Ok(r) => r,
        Err(e) => return trace.finish(Health::Down, e),
    };
    let rtype = match spec.record {
        RecordType::A => HRecordType::A,
        RecordType::Aaaa => HRecordType::AAAA,
        RecordType::Mx => HRecordType::MX,
        RecordType::Txt => HRecordType::TXT,
        RecordType::Cname => HRecordType::CNAME,
        RecordType::Ns => HRecordType::NS,
    };
    let server = spec.server.map(|s| format!(" @{s}")).unwrap_or_default();
    trace.step(format!("query {} {}{server}", spec.record.as_str(), spec.query));
    let (rcode, answers) = match resolver.lookup(spec.query.as_str(), rtype).await {
        Ok(lookup) => (
            "NOERROR".to_string(),
            lookup.answers().iter().filter(|r| r.record_type() == rtype).map(|r| render(&r.data)).collect::<Vec<_>>(),
        ),
        Err(NetError::Dns(DnsError::NoRecordsFound(no))) => {
            (no.response_code.to_string().to_ascii_uppercase(), Vec::new())
        }
        Err(NetError::Dns(DnsError::ResponseCode(code))) => (code.to_string().to_ascii_uppercase(), Vec::new()),
        Err(e) => {
            return trace.finish(Health::Down, format!("query failed: {}", sanitize(e.to_string().as_bytes(), 200)));
        }
    };
    let rcode = normalise_rcode(&rcode);
    let mut outcome = trace.finish(Health::Up, String::new());
    let shown = if answers.is_empty() { "no answers".to_string() } else { answers.join(", ") };
    if rcode != spec.rcode {
        outcome.health = Health::Down;
        outcome.detail = format!("rcode {rcode} (expected {}); {shown}", spec.rcode);
        return outcome;
    }
    let missing: Vec<&String> = spec.expect.iter().filter(|want| !answers.iter().any(|a| matches(a, want))).collect();
    if !missing.is_empty() {
        outcome.health = Health::Down;
        let missing: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
        outcome.detail = format!("answer lacks {}; got {shown}", missing.join(", "));
        return outcome;
    }
    if spec.rcode == "NOERROR" && answers.is_empty() && spec.expect.is_empty() {
        outcome.health = Health::Down;
        outcome.detail = format!("no {} records for {}", spec.record.as_str(), spec.query);
        return outcome;
    }
    outcome.detail = format!("{rcode}: {shown} in {}", fmt_ms(outcome.latency));
    outcome.apply_latency_threshold(spec.degraded_over);
    outcome
}

fn build_resolver(spec: &DnsSpec, timeout: Duration) -> Result<TokioResolver, String> {
    let mut builder = match spec.server {
        Some(addr) => {
            let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
            for c in &mut ns.connections {
                c.port = addr.port();
            }
            TokioResolver::builder_with_config(ResolverConfig::from_name_servers(vec![ns]), Default::default())
        }
        None => TokioResolver::builder_tokio().map_err(|e| format!("system resolver: {e}"))?,
    };
    let opts: &mut ResolverOpts = builder.options_mut();
    opts.timeout = timeout;
    opts.attempts = 1;
    // A health check must ask the server, not remember an old answer.
    opts.cache_size = 0;
    builder.build().map_err(|e| format!("resolver setup: {e}"))
}

/// One answer as text; names lose their trailing dot; TXT strings are joined and sanitised.
fn render(data: &RData) -> String {
    let text = match data {
        RData::TXT(txt) => {
            txt.txt_data.iter().map(|part| String::from_utf8_lossy(part).into_owned()).collect::<String>()
        }
        RData::MX(mx) => format!("{} {}", mx.preference, mx.exchange),
        other => other.to_string(),
    };
    sanitize(text.trim_end_matches('.').as_bytes(), 200).replace(". ", " ")
}

/// Whether an answer satisfies an expected value: exact, or the host part of an MX answer.
fn matches(answer: &str, want: &str) -> bool {
    let want = want.trim_end_matches('.').to_ascii_lowercase();
    let answer = answer.to_ascii_lowercase();
    answer == want || answer.split_whitespace().last().is_some_and(|host| host.trim_end_matches('.') == want)
}

fn normalise_rcode(code: &str) -> String {
    let compact: String = code.chars().filter(char::is_ascii_alphanumeric).collect();
    match compact.as_str() {
        "NOERROR" => "NOERROR".into(),
        "NXDOMAIN" | "NONEXISTENTDOMAIN" => "NXDOMAIN".into(),
        "SERVFAIL" | "SERVERFAILURE" => "SERVFAIL".into(),
        "REFUSED" | "QUERYREFUSED" => "REFUSED".into(),
        "FORMERR" | "FORMATERROR" => "FORMERR".into(),
        "NOTIMP" | "NOTIMPLEMENTED" => "NOTIMP".into(),
        other => other.into(),
    }
}
