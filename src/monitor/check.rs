//! A configured check: what to probe and how often, with its confirmation thresholds.

use std::time::Duration;

use crate::probe::ProbeSpec;

/// When and how hard to probe, and how many results confirm a change.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub interval: Duration,
    pub timeout: Duration,
    /// Consecutive failures before a check is recorded down (or degraded).
    pub fail_after: u32,
    /// Consecutive successes before a failing check is recorded up again.
    pub recover_after: u32,
    /// The longest re-probe delay while a change is not yet confirmed.
    pub retry_interval: Duration,
    /// The first re-probe delay after an unconfirmed change; each further one doubles, up to
    /// `retry_interval`. Short, so confirming costs well under a second, yet a second probe
    /// rather than a single dropped packet is what pages.
    pub first_retry: Duration,
}

/// The default first re-probe delay: 250 ms, then 500 ms, 1 s, 2 s … up to `retry_interval`.
pub const DEFAULT_FIRST_RETRY: Duration = Duration::from_millis(250);

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            interval: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
            fail_after: 2,
            recover_after: 1,
            retry_interval: Duration::from_secs(5),
            first_retry: DEFAULT_FIRST_RETRY,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CheckDef {
    pub name: String,
    pub probe: ProbeSpec,
    pub schedule: Schedule,
    pub depends_on: Vec<String>,
}
