//! The one result type every probe kind returns.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// How a target is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Up,
    Degraded,
    Down,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Up => "up",
            Health::Degraded => "degraded",
            Health::Down => "down",
        }
    }
}

/// One named step of a protocol exchange and how long it took.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub name: String,
    pub took: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub health: Health,
    /// Whole-probe wall time.
    pub latency: Duration,
    /// One line, sanitised: what happened, and on failure which step and what the server said.
    pub detail: String,
    pub steps: Vec<Step>,
    /// When the server said it will be back (from `Retry-After`), as an absolute time.
    pub retry_after: Option<DateTime<Utc>>,
    /// Days until the presented TLS certificate expires.
    pub cert_days_left: Option<i64>,
    /// For sources that report many things at once (one row per Prometheus series, one per
    /// firing alert): the complete current set. A row missing next time is gone (resolved).
    pub rows: Vec<SubOutcome>,
}

/// One row reported by a source.
#[derive(Debug, Clone, PartialEq)]
pub struct SubOutcome {
    /// Unique within the source: becomes the row name `source / key`.
    pub key: String,
    pub health: Health,
    pub detail: String,
    /// Silenced or inhibited upstream: shown dimmed, never recorded.
    pub silenced: bool,
}

impl Outcome {
    pub fn new(health: Health, latency: Duration, detail: impl Into<String>) -> Self {
        Outcome {
            health,
            latency,
            detail: detail.into(),
            steps: Vec::new(),
            retry_after: None,
            cert_days_left: None,
            rows: Vec::new(),
        }
    }

    /// Turns an `Up` outcome degraded (never improves a worse one), appending the reason.
    pub fn degrade(&mut self, reason: &str) {
        if self.health == Health::Up {
            self.health = Health::Degraded;
        }
        self.append_detail(reason);
    }

    pub fn append_detail(&mut self, more: &str) {
        if self.detail.is_empty() {
            self.detail = more.to_string();
        } else {
            self.detail = format!("{}; {more}", self.detail);
        }
    }

    /// Applies a kind's `degraded_over` latency threshold.
    pub fn apply_latency_threshold(&mut self, threshold: Option<Duration>) {
        if let Some(limit) = threshold
            && self.health == Health::Up
            && self.latency > limit
        {
            let (took, limit) = (fmt_ms(self.latency).to_string(), fmt_ms(limit).to_string());
            // Within the rounding of the limit, "1000 ms > 1000 ms" would read as a fault of ours.
            let msg =
                if took == limit { format!("slow: just over {limit}") } else { format!("slow: {took} > {limit}") };
            self.degrade(&msg);
        }
    }
}

/// The longest time, in milliseconds, a latency or a step can have: no probe waits a day, so
/// more was written by someone, not measured.
pub const MAX_MILLIS: f64 = 86_400_000.0;

/// A time in milliseconds from someone else (a vantage, a far session), kept within 0 ..= a
/// day; not a number counts as 0. Keeps conversions to a `Duration` from panicking.
pub fn bounded_millis(ms: f64) -> f64 {
    if ms.is_finite() { ms.clamp(0.0, MAX_MILLIS) } else { 0.0 }
}

/// A duration in whole milliseconds, a half rounding up: where a column has no room for
/// [`fmt_ms`]'s tenths, it still agrees with the detail beside it.
pub fn whole_ms(d: Duration) -> u128 {
    (d.as_nanos() + 500_000) / 1_000_000
}

/// A duration in milliseconds as details say it ("1.2 ms", "35 ms"; halves round up), written
/// where it goes. In whole numbers: formatting a float was a fiftieth of a probe's own work.
pub fn fmt_ms(d: Duration) -> impl std::fmt::Display {
    struct Millis(u128);
    impl std::fmt::Display for Millis {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            let tenths = (self.0 + 50_000) / 100_000;
            if tenths < 100 {
                write!(f, "{}.{} ms", tenths / 10, tenths % 10)
            } else {
                write!(f, "{} ms", (self.0 + 500_000) / 1_000_000)
            }
        }
    }
    Millis(d.as_nanos())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Health, Outcome, fmt_ms, whole_ms};

    #[test]
    fn milliseconds_read_with_a_tenth_below_ten_and_whole_above() {
        let said = |micros: u64| fmt_ms(Duration::from_micros(micros)).to_string();
        assert_eq!(said(0), "0.0 ms");
        assert_eq!(said(1_234), "1.2 ms");
        assert_eq!(said(1_250), "1.3 ms", "a half rounds up");
        assert_eq!(said(9_949), "9.9 ms");
        assert_eq!(said(9_950), "10 ms", "what rounds to ten is said whole");
        assert_eq!(said(35_499), "35 ms");
        assert_eq!(said(35_500), "36 ms");
        assert_eq!(said(12_345_678), "12346 ms");
        // A column without room for tenths rounds as the detail does.
        assert_eq!(whole_ms(Duration::from_micros(899)), 1);
        assert_eq!(whole_ms(Duration::from_micros(35_499)), 35);
    }

    #[test]
    fn slow_says_by_how_much_and_just_over_when_the_figures_round_alike() {
        let slow = |took: Duration, limit: Duration| {
            let mut outcome = Outcome::new(Health::Up, took, "HTTP 200 OK");
            outcome.apply_latency_threshold(Some(limit));
            (outcome.health, outcome.detail)
        };
        let ms = Duration::from_millis;
        assert_eq!(slow(ms(2300), ms(800)), (Health::Degraded, "HTTP 200 OK; slow: 2300 ms > 800 ms".into()));
        assert_eq!(
            slow(Duration::from_micros(5_400), ms(5)),
            (Health::Degraded, "HTTP 200 OK; slow: 5.4 ms > 5.0 ms".into())
        );
        let just = slow(Duration::from_micros(1_000_400), ms(1000));
        assert_eq!(just, (Health::Degraded, "HTTP 200 OK; slow: just over 1000 ms".into()));
        assert_eq!(slow(ms(1000), ms(1000)).0, Health::Up, "at the limit is not over it");
    }
}
