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
    /// Re-probe delay while a failure is not yet confirmed.
    pub retry_interval: Duration,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            interval: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
            fail_after: 2,
            recover_after: 1,
            retry_interval: Duration::from_secs(5),
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
