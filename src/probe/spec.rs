//! What to probe: one typed spec per check kind, built from the config.

use std::net::SocketAddr;
use std::time::Duration;

/// Default cap on how much of an HTTP body is read.
pub const DEFAULT_MAX_BODY: usize = 1 << 20;
/// Certificates closer to expiry than this turn a check degraded.
pub const DEFAULT_CERT_WARN_DAYS: i64 = 14;

#[derive(Debug, Clone, PartialEq)]
pub enum ProbeSpec {
    Http(HttpSpec),
    Tcp(TcpSpec),
    Smtp(SmtpSpec),
    Dns(DnsSpec),
    Tls(TlsSpec),
    Command(CommandSpec),
    Prometheus(PrometheusSpec),
    Alertmanager(AlertmanagerSpec),
}

impl ProbeSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            ProbeSpec::Http(_) => "http",
            ProbeSpec::Tcp(_) => "tcp",
            ProbeSpec::Smtp(_) => "smtp",
            ProbeSpec::Dns(_) => "dns",
            ProbeSpec::Tls(_) => "tls",
            ProbeSpec::Command(_) => "command",
            ProbeSpec::Prometheus(_) => "prometheus",
            ProbeSpec::Alertmanager(_) => "alertmanager",
        }
    }

    /// The kind of the rows the check's source reports: an Alertmanager's are alerts, a
    /// Prometheus query's are series; other checks report none and are their own kind.
    pub fn row_kind(&self) -> &'static str {
        match self {
            ProbeSpec::Prometheus(_) => "series",
            ProbeSpec::Alertmanager(_) => "alert",
            other => other.kind(),
        }
    }

    /// A short human description of the target, e.g. `https://example.com/health`.
    pub fn target(&self) -> String {
        match self {
            ProbeSpec::Http(s) => super::http::redacted(&s.url),
            ProbeSpec::Tcp(s) => format!("{}:{}", s.host, s.port),
            ProbeSpec::Smtp(s) => format!("{}:{}", s.host, s.port),
            ProbeSpec::Dns(s) => format!("{} {}", s.record.as_str(), s.query),
            ProbeSpec::Tls(s) => format!("{}:{}", s.host, s.port),
            ProbeSpec::Command(s) => s.command.join(" "),
            ProbeSpec::Prometheus(s) => format!("{} {}", super::http::redacted(&s.url), s.query),
            ProbeSpec::Alertmanager(s) => super::http::redacted(&s.url),
        }
    }
}

/// An expected HTTP status: one code, a class like `2xx`, or a range `200-299`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusRange {
    pub low: u16,
    pub high: u16,
}

impl StatusRange {
    pub fn contains(&self, code: u16) -> bool {
        (self.low..=self.high).contains(&code)
    }

    /// Parses `301`, `"2xx"` or `"200-299"`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let bad = || format!("`{t}` is not a status code, class (`2xx`) or range (`200-299`)");
        if let Some(class) = t.strip_suffix("xx").or_else(|| t.strip_suffix("XX")) {
            let d: u16 = class.parse().map_err(|_| bad())?;
            if !(1..=5).contains(&d) {
                return Err(bad());
            }
            return Ok(StatusRange { low: d * 100, high: d * 100 + 99 });
        }
        if let Some((a, b)) = t.split_once('-') {
            let (low, high) = (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?);
            if !(100..=599).contains(&low) || !(low..=599).contains(&high) {
                return Err(bad());
            }
            return Ok(StatusRange { low, high });
        }
        let code: u16 = t.parse().map_err(|_| bad())?;
        if !(100..=599).contains(&code) {
            return Err(bad());
        }
        Ok(StatusRange { low: code, high: code })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpSpec {
    pub url: String,
    pub method: String,
    pub request_headers: Vec<(String, String)>,
    pub request_body: Option<String>,
    pub expect_status: Vec<StatusRange>,
    pub body_contains: Option<String>,
    pub body_not_contains: Option<String>,
    /// Dotted JSON path -> expected value.
    pub json: Vec<(String, serde_json::Value)>,
    /// Response header -> expected value (case-insensitive name, exact value).
    pub header: Vec<(String, String)>,
    pub header_present: Vec<String>,
    pub degraded_over: Option<Duration>,
    pub follow_redirects: bool,
    pub max_body: usize,
    pub cert_warn_days: i64,
    pub allow_invalid_cert: bool,
    pub all_addresses: bool,
    /// The first request, built from the fields above on the first probe.
    pub(crate) prepared: Derived<Box<super::http::Prepared>>,
}

/// What a probe builds from its spec once and keeps with it. Not part of what the spec says:
/// specs compare equal, and print, without it.
#[derive(Clone)]
pub struct Derived<T>(std::sync::OnceLock<T>);

impl<T> Default for Derived<T> {
    fn default() -> Self {
        Derived(std::sync::OnceLock::new())
    }
}

impl<T> Derived<T> {
    pub fn get_or_init(&self, build: impl FnOnce() -> T) -> &T {
        self.0.get_or_init(build)
    }
}

impl<T> PartialEq for Derived<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> std::fmt::Debug for Derived<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Derived")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TcpSpec {
    pub host: String,
    pub port: u16,
    pub send: Option<String>,
    /// A regular expression the reply must match.
    pub expect_reply: Option<String>,
    pub degraded_over: Option<Duration>,
    pub all_addresses: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartTls {
    Required,
    Optional,
    Off,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SmtpSpec {
    pub host: String,
    pub port: u16,
    pub helo: String,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub starttls: StartTls,
    /// A message to send with DATA; no DATA when absent.
    pub data: Option<String>,
    pub allow_invalid_cert: bool,
    pub degraded_over: Option<Duration>,
    pub all_addresses: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    A,
    Aaaa,
    Mx,
    Txt,
    Cname,
    Ns,
}

impl RecordType {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text.to_ascii_uppercase().as_str() {
            "A" => RecordType::A,
            "AAAA" => RecordType::Aaaa,
            "MX" => RecordType::Mx,
            "TXT" => RecordType::Txt,
            "CNAME" => RecordType::Cname,
            "NS" => RecordType::Ns,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
            RecordType::Mx => "MX",
            RecordType::Txt => "TXT",
            RecordType::Cname => "CNAME",
            RecordType::Ns => "NS",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DnsSpec {
    pub query: String,
    pub record: RecordType,
    pub server: Option<SocketAddr>,
    /// Values the answer must contain (all of them).
    pub expect: Vec<String>,
    /// Expected response code, upper-case (`NOERROR`, `NXDOMAIN`, …).
    pub rcode: String,
    pub degraded_over: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TlsSpec {
    pub host: String,
    pub port: u16,
    pub server_name: Option<String>,
    pub cert_warn_days: i64,
    pub allow_invalid_cert: bool,
    pub degraded_over: Option<Duration>,
    pub all_addresses: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CommandSpec {
    pub command: Vec<String>,
}

/// Credentials for Prometheus and Alertmanager, always from environment variables.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApiAuth {
    pub bearer_token_env: Option<String>,
    pub basic_user_env: Option<String>,
    pub basic_password_env: Option<String>,
}

/// A threshold on a query's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    Above(f64),
    Below(f64),
}

impl Threshold {
    pub fn crossed(self, value: f64) -> bool {
        match self {
            Threshold::Above(t) => value > t,
            Threshold::Below(t) => value < t,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PrometheusSpec {
    /// Base URL of the Prometheus server (the query goes to `/api/v1/query`).
    pub url: String,
    pub query: String,
    pub degraded: Option<Threshold>,
    pub down: Option<Threshold>,
    /// Alert-style expression: down as soon as it returns any series.
    pub down_if_any: bool,
    /// One row per returned series, named by this template (`{{instance}}`).
    pub for_each_series: Option<String>,
    pub auth: ApiAuth,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AlertmanagerSpec {
    pub url: String,
    /// Labels that name a row (`alertname`, `instance`).
    pub labels: Vec<String>,
    /// Show silenced and inhibited alerts, dimmed (true) or leave them out (false).
    pub show_silenced: bool,
    pub auth: ApiAuth,
    /// Alertmanager's webhook notifications, received by the poller (see `monitor::push`).
    pub push: Option<PushSpec>,
}

/// Where the poller listens for Alertmanager's webhook, and the bearer token it demands.
#[derive(Debug, Clone, PartialEq)]
pub struct PushSpec {
    pub listen: std::net::SocketAddr,
    /// The environment variable holding the token (read when the receiver starts).
    pub token_env: String,
}
