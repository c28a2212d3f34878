//! A row's recent readings as the board keeps them: the newest whole (its steps, Retry-After
//! and certificate are shown), the older ones only as far as anything draws them (time,
//! health, latency and detail: the sparkline, the typical latency, the detail view's "last
//! results"). At 10,000 rows of [`KEPT`] readings, whole readings (104 bytes each, in a
//! deque grown by doubling to 32) were the screen's largest memory: see BENCHMARKS.md.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::probe::Health;
use crate::session::Reading;
use crate::session::protocol::{KEPT, millis_to_duration};

/// Recent readings, oldest first: at most [`KEPT`].
#[derive(Debug, Clone, Default)]
pub struct History {
    /// The readings before the newest, oldest first: at most `KEPT - 1`.
    older: VecDeque<Past>,
    newest: Option<Reading>,
}

/// A reading once a newer one came: what is still drawn of it, in 40 bytes and no allocation
/// of its own for a detail of up to 24 bytes ("HTTP 200 OK in 1.2 ms"): 190,000 of them at
/// 10,000 rows, where a DateTime, an f64 and a boxed detail took 64 (BENCHMARKS.md).
#[derive(Debug, Clone)]
struct Past {
    /// Milliseconds since the epoch (the screen shows seconds).
    at_ms: i64,
    /// Milliseconds: an f32 is exact to a microsecond up to 8 s, to 8 ms at a day's bound.
    latency_ms: f32,
    health: Health,
    detail: compact_str::CompactString,
}

/// One reading as the screen draws it, newest or older.
#[derive(Debug, Clone, Copy)]
pub struct Sample<'a> {
    pub at: DateTime<Utc>,
    pub health: Health,
    pub latency_ms: f64,
    pub detail: &'a str,
}

impl Sample<'_> {
    /// As [`Reading::latency`]: an implausible value reads as zero.
    pub fn latency(&self) -> Duration {
        millis_to_duration(self.latency_ms)
    }
}

const OLDER: usize = KEPT - 1;
const _: () = assert!(std::mem::size_of::<Past>() == 40, "a past reading grew: see its comment");

impl History {
    /// Takes a new reading. The same reading again, in full (a remote screen's session sends
    /// a row's last reading again, with its detail, when the row is inspected), replaces the
    /// newest rather than following it.
    pub fn push(&mut self, reading: Reading) {
        if let Some(newest) = self.newest.as_mut().filter(|n| n.at == reading.at) {
            *newest = reading;
            return;
        }
        let Some(previous) = self.newest.replace(reading) else { return };
        if self.older.len() == OLDER {
            self.older.pop_front();
        }
        // Grown exactly, up to KEPT - 1: a deque doubles to 32 for 19.
        if self.older.len() == self.older.capacity() {
            self.older.reserve_exact(self.older.len().max(4).min(OLDER - self.older.len()));
        }
        let Reading { at, health, latency_ms, detail, .. } = previous;
        let detail = detail.as_str().into();
        self.older.push_back(Past { at_ms: at.timestamp_millis(), latency_ms: latency_ms as f32, health, detail });
    }

    /// The newest reading, whole.
    pub fn newest(&self) -> Option<&Reading> {
        self.newest.as_ref()
    }

    pub fn len(&self) -> usize {
        self.older.len() + usize::from(self.newest.is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.newest.is_none()
    }

    /// Every reading kept, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = Sample<'_>> {
        let older = self.older.iter().map(|p| Sample {
            at: DateTime::from_timestamp_millis(p.at_ms).unwrap_or_default(),
            health: p.health,
            latency_ms: f64::from(p.latency_ms),
            detail: &p.detail,
        });
        let newest = self.newest.iter().map(|r| Sample {
            at: r.at,
            health: r.health,
            latency_ms: r.latency_ms,
            detail: &r.detail,
        });
        older.chain(newest)
    }
}

/// Readings from the live-figures file, oldest first; only the last [`KEPT`] are kept.
impl From<Vec<Reading>> for History {
    fn from(readings: Vec<Reading>) -> History {
        let mut history = History::default();
        let skip = readings.len().saturating_sub(KEPT);
        readings.into_iter().skip(skip).for_each(|r| history.push(r));
        history
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(secs: i64, ms: f64) -> Reading {
        Reading {
            at: DateTime::from_timestamp(secs, 0).unwrap(),
            health: if ms > 100.0 { Health::Down } else { Health::Up },
            latency_ms: ms,
            detail: format!("200 OK in {ms} ms"),
            retry_after: None,
            steps: vec![("connect".into(), ms / 2.0)],
            cert_days_left: Some(30),
        }
    }

    fn seen(history: &History) -> Vec<(i64, f64, String)> {
        history.iter().map(|s| (s.at.timestamp(), s.latency_ms, s.detail.to_string())).collect()
    }

    #[test]
    fn keeps_the_last_readings_in_order_and_the_newest_whole() {
        let mut history = History::default();
        assert!(history.is_empty() && history.newest().is_none());
        for i in 0..50 {
            history.push(reading(i, i as f64));
        }
        assert_eq!(history.len(), KEPT);
        let expected: Vec<_> = (50 - KEPT as i64..50).map(|i| (i, i as f64, format!("200 OK in {i} ms"))).collect();
        assert_eq!(seen(&history), expected);
        assert_eq!(history.newest(), Some(&reading(49, 49.0)), "steps and certificate kept for the newest");
        assert!(history.older.capacity() <= OLDER, "grown no further than it holds");
        let newest_first: Vec<i64> = history.iter().rev().take(2).map(|s| s.at.timestamp()).collect();
        assert_eq!(newest_first, vec![49, 48]);
    }

    #[test]
    fn the_same_reading_again_replaces_the_newest() {
        let mut history = History::default();
        history.push(reading(1, 5.0));
        history.push(reading(2, 6.0));
        let mut again = reading(2, 6.0);
        again.detail = "200 OK in 6 ms, body: ok".into();
        history.push(again.clone());
        assert_eq!(history.len(), 2);
        assert_eq!(history.newest(), Some(&again));
    }

    #[test]
    fn from_the_figures_file_only_the_last_kept_are_taken() {
        let history = History::from((0..30).map(|i| reading(i, 1.0)).collect::<Vec<_>>());
        assert_eq!(history.len(), KEPT);
        assert_eq!(history.iter().next().map(|s| s.at.timestamp()), Some(30 - KEPT as i64));
        assert!(History::from(Vec::new()).is_empty());
    }
}
