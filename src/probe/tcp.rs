//! `tcp`: connect, optionally say something and expect a reply matching a pattern.
//! Also the address helpers shared by every probe that can test all backends of a name.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::outcome::{Health, Outcome, fmt_ms};
use super::spec::TcpSpec;
use super::trace::Trace;
use crate::sanitize::sanitize;

/// Most of a reply read while waiting for a pattern.
const MAX_REPLY: usize = 64 * 1024;

pub async fn probe(spec: &TcpSpec, trace: &Trace) -> Outcome {
    if spec.all_addresses {
        return each_address(&spec.host, spec.port, trace, |addr| async move {
            probe_addr(spec, addr, &Trace::new()).await
        })
        .await;
    }
    trace.step("resolve");
    let addr = match resolve_first(&spec.host, spec.port).await {
        Ok(a) => a,
        Err(e) => return trace.finish(Health::Down, e),
    };
    probe_addr(spec, addr, trace).await
}

async fn probe_addr(spec: &TcpSpec, addr: SocketAddr, trace: &Trace) -> Outcome {
    trace.step(format!("connect {addr}"));
    let mut stream = match TcpStream::connect(addr).await {
        Ok(s) => s,
        Err(e) => return trace.finish(Health::Down, format!("connect {addr}: {}", io_reason(&e))),
    };
    if let Some(send) = &spec.send {
        trace.step("send");
        if let Err(e) = stream.write_all(send.as_bytes()).await {
            return trace.finish(Health::Down, format!("send: {}", io_reason(&e)));
        }
    }
    let mut detail = format!("connected to {addr}");
    if let Some(pattern) = &spec.expect_reply {
        let re = match regex::bytes::Regex::new(pattern) {
            Ok(re) => re,
            Err(e) => return trace.finish(Health::Down, format!("bad expect_reply pattern: {e}")),
        };
        trace.step("read reply");
        let mut reply = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            if re.is_match(&reply) {
                break;
            }
            if reply.len() >= MAX_REPLY {
                return trace.finish(
                    Health::Down,
                    format!(
                        "reply does not match /{pattern}/ in its first {MAX_REPLY} bytes: \"{}\"",
                        sanitize(&reply, 120)
                    ),
                );
            }
            match stream.read(&mut chunk).await {
                Ok(0) => {
                    return trace.finish(
                        Health::Down,
                        format!("connection closed; reply does not match /{pattern}/: \"{}\"", sanitize(&reply, 120)),
                    );
                }
                Ok(n) => reply.extend_from_slice(&chunk[..n]),
                Err(e) => return trace.finish(Health::Down, format!("read reply: {}", io_reason(&e))),
            }
        }
        detail = format!("reply matches /{pattern}/: \"{}\"", sanitize(&reply, 80));
    }
    let mut outcome = trace.finish(Health::Up, String::new());
    outcome.detail = format!("{detail} in {}", fmt_ms(outcome.latency));
    outcome.apply_latency_threshold(spec.degraded_over);
    outcome
}

/// The first address a name resolves to.
pub async fn resolve_first(host: &str, port: u16) -> Result<SocketAddr, String> {
    resolve_all(host, port).await?.into_iter().next().ok_or_else(|| format!("resolve {host}: no addresses"))
}

/// Every address a name resolves to, through the system resolver.
pub async fn resolve_all(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    // RFC 6761: `.invalid` never resolves, and resolver APIs should say so without asking.
    let bare = host.trim_end_matches('.').to_ascii_lowercase();
    if bare == "invalid" || bare.ends_with(".invalid") {
        return Err(format!("resolve {host}: no such host (reserved .invalid name)"));
    }
    match tokio::net::lookup_host((host, port)).await {
        Ok(addrs) => {
            let mut v: Vec<SocketAddr> = addrs.collect();
            v.dedup();
            if v.is_empty() { Err(format!("resolve {host}: no addresses")) } else { Ok(v) }
        }
        Err(e) => Err(format!("resolve {host}: {}", io_reason(&e))),
    }
}

/// Probes the first address `host` resolves to, or with `all`, every one (see `each_address`).
pub async fn by_address<F, Fut>(host: &str, port: u16, all: bool, trace: &Trace, probe_one: F) -> Outcome
where
    F: Fn(SocketAddr, Trace) -> Fut,
    Fut: std::future::Future<Output = Outcome>,
{
    if all {
        return each_address(host, port, trace, |addr| probe_one(addr, Trace::new())).await;
    }
    trace.step("resolve");
    match resolve_first(host, port).await {
        Ok(addr) => probe_one(addr, trace.clone()).await,
        Err(e) => trace.finish(Health::Down, e),
    }
}

/// Probes every address `host` resolves to, concurrently, and merges the outcomes: one bad
/// server behind round-robin DNS is named, not averaged away.
pub async fn each_address<F, Fut>(host: &str, port: u16, trace: &Trace, probe_one: F) -> Outcome
where
    F: Fn(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = Outcome>,
{
    trace.step("resolve");
    let addrs = match resolve_all(host, port).await {
        Ok(a) => a,
        Err(e) => return trace.finish(Health::Down, e),
    };
    trace.step("all addresses");
    let probes = addrs.into_iter().map(|addr| {
        let outcome = probe_one(addr);
        async move { (addr, outcome.await) }
    });
    combine_backends(trace, futures::future::join_all(probes).await)
}

/// Merges per-backend outcomes: the worst health wins and the detail names failing backends.
pub fn combine_backends(trace: &Trace, results: Vec<(SocketAddr, Outcome)>) -> Outcome {
    let total = results.len();
    let worst = results.iter().map(|(_, o)| o.health).max().unwrap_or(Health::Down);
    let failing: Vec<String> =
        results.iter().filter(|(_, o)| o.health != Health::Up).map(|(a, o)| format!("{a}: {}", o.detail)).collect();
    let slowest = results.iter().map(|(_, o)| o.latency).max().unwrap_or(Duration::ZERO);
    let detail = if failing.is_empty() {
        format!("all {total} addresses up (slowest {})", fmt_ms(slowest))
    } else {
        format!("{} of {total} addresses failing — {}", failing.len(), failing.join(" | "))
    };
    let mut outcome = trace.finish(worst, detail);
    outcome.retry_after = results.iter().filter_map(|(_, o)| o.retry_after).max();
    outcome.cert_days_left = results.iter().filter_map(|(_, o)| o.cert_days_left).min();
    outcome
}

/// Short words for an I/O error: "connection refused", "connection reset", …
pub fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => "connection refused".into(),
        ConnectionReset => "connection reset by peer".into(),
        ConnectionAborted => "connection aborted".into(),
        UnexpectedEof => "connection closed by server".into(),
        TimedOut => "timed out".into(),
        _ => sanitize(e.to_string().as_bytes(), 200),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_backends_take_the_worst_and_name_the_failing_ones() {
        let a: SocketAddr = "192.0.2.1:80".parse().unwrap();
        let b: SocketAddr = "192.0.2.2:80".parse().unwrap();
        let ok = Outcome::new(Health::Up, Duration::from_millis(4), "HTTP 200");
        let mut bad = Outcome::new(Health::Down, Duration::from_millis(9), "HTTP 502 Bad Gateway");
        bad.cert_days_left = Some(3);
        let o = combine_backends(&Trace::new(), vec![(a, ok.clone()), (b, bad)]);
        assert_eq!(o.health, Health::Down);
        assert_eq!(o.detail, "1 of 2 addresses failing — 192.0.2.2:80: HTTP 502 Bad Gateway");
        assert_eq!(o.cert_days_left, Some(3));
        let o = combine_backends(&Trace::new(), vec![(a, ok.clone()), (b, ok)]);
        assert_eq!((o.health, o.detail.as_str()), (Health::Up, "all 2 addresses up (slowest 4.0 ms)"));
    }

    #[tokio::test]
    async fn invalid_names_fail_without_asking_a_resolver() {
        assert!(resolve_all("db.invalid", 5432).await.unwrap_err().contains("reserved .invalid name"));
        assert!(resolve_all("INVALID.", 1).await.is_err());
    }
}
