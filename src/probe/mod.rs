//! Probes: one real transaction against a target, ending in one [`Outcome`].
//!
//! A probe goes as deep as a user does (an SMTP probe reaches RCPT TO, an HTTP probe reads
//! the body) and, when it fails, says at which step and what the server answered. Probes
//! know nothing about journals or screens; the monitor schedules them.

mod alertmanager;
mod api;
mod command;
mod dns;
mod http;
mod outcome;
mod prometheus;
mod smtp;
mod spec;
mod tcp;
mod tls;
mod trace;

use std::time::Duration;

pub use outcome::{Health, MAX_MILLIS, Outcome, Step, SubOutcome, bounded_millis, fmt_ms, whole_ms};
pub use smtp::{Reply, ReplyError, parse_reply};
pub use spec::*;
pub use tls::expiry as cert_expiry;
pub use trace::Trace;

/// Longest detail kept from a server's answer.
pub const MAX_DETAIL_CHARS: usize = 300;

/// Shared, reusable probe resources (HTTP clients, TLS configs). Cheap to clone.
#[derive(Clone, Default)]
pub struct Prober {
    http: http::Clients,
}

impl Prober {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs one probe with a hard timeout. Never panics, never outlives `timeout` by more
    /// than the time it takes to drop the probe.
    pub async fn run(&self, spec: &ProbeSpec, timeout: Duration) -> Outcome {
        let trace = Trace::new();
        let work = async {
            match spec {
                ProbeSpec::Http(s) => http::probe(s, &trace).await,
                ProbeSpec::Tcp(s) => tcp::probe(s, &trace).await,
                ProbeSpec::Smtp(s) => smtp::probe(s, &trace).await,
                ProbeSpec::Dns(s) => dns::probe(s, &trace, timeout).await,
                ProbeSpec::Tls(s) => tls::probe(s, &trace).await,
                ProbeSpec::Command(s) => command::probe(s, &trace).await,
                ProbeSpec::Prometheus(s) => prometheus::probe(s, &self.http, &trace).await,
                ProbeSpec::Alertmanager(s) => alertmanager::probe(s, &self.http, &trace).await,
            }
        };
        match tokio::time::timeout(timeout, work).await {
            Ok(outcome) => outcome,
            Err(_) => trace.timed_out(timeout),
        }
    }
}
