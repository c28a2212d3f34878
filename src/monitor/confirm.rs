//! Confirmation: raw probe results in, confirmed state changes out. No flapping.
//!
//! A check goes failing only after `fail_after` consecutive failures and comes back after
//! `recover_after` consecutive successes (Nagios' soft and hard states). While a change is
//! unconfirmed the check is re-probed quickly and then less quickly (`first_retry`, doubling up
//! to `retry_interval`), so confirmation takes a fraction of a second, not intervals, while a
//! lone bad result is still only a sample.
//!
//! Consecutive counts alone never see a service that fails every other request (a
//! round-robin with one bad backend): each failure's quick re-probe lands on the good one and
//! the streak never reaches `fail_after`. So the last [`WINDOW`] results are kept too: a
//! check that is up with [`INTERMITTENT`] or more failures among them, mixed with successes,
//! is confirmed degraded ("intermittent"), and comes back up only once at most one of the
//! last [`WINDOW`] failed.

use std::time::Duration;

use super::State;
use super::check::Schedule;
use crate::probe::Health;

/// How many of the latest results are looked at for intermittent failure.
pub const WINDOW: u32 = 10;
/// Failures among them (with successes between) that make a check intermittent.
pub const INTERMITTENT: u32 = 3;

/// One check's confirmation memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Confirmer {
    pub state: State,
    fail_streak: u32,
    ok_streak: u32,
    /// Consecutive results at the latest failing level (to move between degraded and down).
    level: Option<(Health, u32)>,
    /// The latest [`WINDOW`] results, newest in the lowest bit: 1 for a failure.
    recent: u16,
    /// How many results `recent` holds, up to [`WINDOW`].
    seen: u32,
    /// Degraded for failing intermittently, not for a streak.
    intermittent: bool,
}

impl Default for Confirmer {
    fn default() -> Self {
        Confirmer {
            state: State::Unknown,
            fail_streak: 0,
            ok_streak: 0,
            level: None,
            recent: 0,
            seen: 0,
            intermittent: false,
        }
    }
}

impl Confirmer {
    /// A confirmer that starts from a known state (as the journal last recorded it).
    pub fn starting_at(state: State) -> Self {
        Confirmer { state, ..Confirmer::default() }
    }

    /// Feeds one result; returns the new confirmed state if it changed.
    pub fn observe(&mut self, health: Health, s: &Schedule) -> Option<State> {
        let before = self.state;
        self.remember(health);
        match health {
            Health::Up => {
                self.fail_streak = 0;
                self.level = None;
                self.ok_streak += 1;
                // An intermittent check is back when its window is clean, not at one success.
                let recovered = self.ok_streak >= s.recover_after && (!self.intermittent || self.failures() <= 1);
                // The first result of a fresh check is not a recovery: up at once.
                if self.state == State::Unknown || (self.state != State::Up && recovered) {
                    self.state = State::Up;
                }
            }
            failing => {
                self.ok_streak = 0;
                self.fail_streak += 1;
                self.level = match self.level {
                    Some((h, n)) if h == failing => Some((h, n + 1)),
                    _ => Some((failing, 1)),
                };
                let target = State::from(failing);
                let already_failing = matches!(self.state, State::Degraded | State::Down);
                // Going failing needs `fail_after` failures of any kind; moving between
                // degraded and down needs as many at the new level.
                let confirmed = if already_failing {
                    self.state != target && self.level.is_some_and(|(_, n)| n >= s.fail_after)
                } else {
                    self.fail_streak >= s.fail_after
                };
                if confirmed {
                    self.state = target;
                } else if self.state == State::Up && self.is_intermittent() {
                    self.state = State::Degraded;
                    self.intermittent = true;
                }
            }
        }
        if self.state != State::Degraded {
            self.intermittent = false;
        }
        if self.state != before && !self.intermittent {
            // A change starts a new window: the failures of an outage just confirmed (or just
            // over) say nothing of whether the service fails intermittently now. Becoming
            // intermittent keeps it: recovery is judged on it.
            self.recent = 0;
            self.seen = 0;
        }
        (self.state != before).then_some(self.state)
    }

    fn remember(&mut self, health: Health) {
        let mask = (1u16 << WINDOW) - 1;
        self.recent = ((self.recent << 1) | u16::from(health != Health::Up)) & mask;
        self.seen = (self.seen + 1).min(WINDOW);
    }

    /// Failures among the latest [`WINDOW`] results.
    fn failures(&self) -> u32 {
        self.recent.count_ones()
    }

    /// A full window with [`INTERMITTENT`] failures or more, and successes between them (a
    /// window of failures only is a streak, which `fail_after` judges).
    fn is_intermittent(&self) -> bool {
        self.seen == WINDOW && self.failures() >= INTERMITTENT && self.failures() < WINDOW
    }

    /// Degraded for failing intermittently: `(failures, out of)` over the latest results.
    pub fn intermittent(&self) -> Option<(u32, u32)> {
        self.intermittent.then(|| (self.failures(), self.seen))
    }

    /// Results so far towards a change that is not yet confirmed: failures while up (or
    /// unknown), successes while failing. Zero when the latest result agrees with the state.
    fn unconfirmed(&self) -> u32 {
        match self.level {
            // Failing at another level than the one confirmed (down while degraded).
            Some((health, n)) if self.state.is_failing() && State::from(health) != self.state => n,
            _ if self.state.is_failing() => self.ok_streak,
            _ => self.fail_streak,
        }
    }

    /// Failing but not yet confirmed, or recovering but not yet confirmed: re-probe soon.
    pub fn is_soft_failing(&self) -> bool {
        self.unconfirmed() > 0
    }

    /// The re-probe delay while a change is unconfirmed: `first_retry` after the first
    /// result, doubling with each further one, never past `retry_interval` or `interval`.
    pub fn retry_delay(&self, s: &Schedule) -> Option<Duration> {
        let n = self.unconfirmed();
        (n > 0).then(|| {
            let doubled = s.first_retry.saturating_mul(1u32 << (n - 1).min(16));
            doubled.min(s.retry_interval).min(s.interval)
        })
    }

    /// Delay before the next probe.
    pub fn next_delay(&self, s: &Schedule) -> Duration {
        self.retry_delay(s).unwrap_or(s.interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched(fail_after: u32, recover_after: u32) -> Schedule {
        Schedule { fail_after, recover_after, ..Schedule::default() }
    }

    fn feed(c: &mut Confirmer, s: &Schedule, results: &[Health]) -> Vec<Option<State>> {
        results.iter().map(|h| c.observe(*h, s)).collect()
    }

    use Health::{Degraded as G, Down as D, Up as U};

    #[test]
    fn first_success_is_up_at_once() {
        let mut c = Confirmer::default();
        assert_eq!(feed(&mut c, &sched(2, 3), &[U]), vec![Some(State::Up)]);
    }

    #[test]
    fn down_needs_fail_after_consecutive_failures() {
        let s = sched(3, 1);
        let mut c = Confirmer::default();
        assert_eq!(
            feed(&mut c, &s, &[U, D, D, U, D, D, D]),
            vec![Some(State::Up), None, None, None, None, None, Some(State::Down)]
        );
    }

    #[test]
    fn unconfirmed_changes_are_reprobed_quickly_then_less_quickly() {
        let ms = Duration::from_millis;
        let s = Schedule { interval: Duration::from_secs(60), retry_interval: Duration::from_secs(5), ..sched(5, 3) };
        let mut c = Confirmer::default();
        c.observe(U, &s);
        assert_eq!(c.next_delay(&s), Duration::from_secs(60));
        let mut delays = Vec::new();
        for _ in 0..5 {
            c.observe(D, &s);
            delays.push(c.next_delay(&s));
        }
        assert_eq!(delays, vec![ms(250), ms(500), ms(1000), ms(2000), Duration::from_secs(60)], "soft, then hard");
        assert_eq!(c.state, State::Down);
        c.observe(U, &s);
        assert_eq!(c.next_delay(&s), ms(250), "soft recovery starts quick again");
        c.observe(U, &s);
        assert_eq!(c.next_delay(&s), ms(500));
        c.observe(U, &s);
        assert_eq!(c.state, State::Up);
        assert_eq!(c.next_delay(&s), Duration::from_secs(60));
    }

    #[test]
    fn retries_never_wait_past_the_retry_interval_or_the_interval() {
        let ms = Duration::from_millis;
        let s = Schedule { interval: ms(800), retry_interval: ms(600), fail_after: 30, ..Schedule::default() };
        let mut c = Confirmer::starting_at(State::Up);
        let delays: Vec<Duration> = (0..25)
            .map(|_| {
                c.observe(D, &s);
                c.next_delay(&s)
            })
            .collect();
        assert_eq!(&delays[..3], &[ms(250), ms(500), ms(600)]);
        assert!(delays.iter().all(|d| *d <= ms(600)), "{delays:?}");
        let short = Schedule { interval: ms(100), ..s };
        c.observe(D, &short);
        assert_eq!(c.next_delay(&short), ms(100));
    }

    #[test]
    fn recovery_needs_recover_after_successes() {
        let s = sched(1, 2);
        let mut c = Confirmer::default();
        assert_eq!(feed(&mut c, &s, &[D, U, D, U, U]), vec![Some(State::Down), None, None, None, Some(State::Up)]);
    }

    #[test]
    fn degraded_and_down_switch_only_when_the_new_level_is_confirmed() {
        let s = sched(2, 1);
        let mut c = Confirmer::default();
        assert_eq!(
            feed(&mut c, &s, &[G, G, D, G, D, D]),
            vec![None, Some(State::Degraded), None, None, None, Some(State::Down)]
        );
    }

    /// A round-robin with one bad backend: every other request fails, and each failure's
    /// re-probe lands on the good backend, so no streak ever reaches `fail_after`.
    #[test]
    fn failing_every_other_time_is_degraded_then_up_once_the_window_is_clean() {
        let s = sched(2, 1);
        let mut c = Confirmer::starting_at(State::Up);
        let changes: Vec<Option<State>> = (0..WINDOW).map(|n| c.observe(if n % 2 == 0 { U } else { D }, &s)).collect();
        assert_eq!(changes.iter().flatten().collect::<Vec<_>>(), [&State::Degraded], "{changes:?}");
        assert_eq!(changes.last(), Some(&Some(State::Degraded)), "judged once the window is full");
        assert_eq!(c.intermittent(), Some((5, WINDOW)));
        // One success is not recovery: at most one failure may be left in the window.
        let mut successes = 0;
        while c.observe(U, &s).is_none() {
            successes += 1;
            assert!(successes < WINDOW, "never recovered");
        }
        assert_eq!((c.state, c.intermittent()), (State::Up, None));
        assert_eq!(successes + 1, WINDOW - 2, "until the last failure but one has left the window");
        // A lone failure now and then is only a sample.
        for n in 0..(3 * WINDOW) {
            assert_eq!(c.observe(if n % 5 == 0 { D } else { U }, &s), None);
        }
    }

    /// An outage that ends leaves its failures behind; the next one must not be read as an
    /// intermittent service (a "degraded" entry before the "down", and no quick re-probe:
    /// fault-to-screen went from 0.8 s to 2.2 s in the chain bench).
    #[test]
    fn the_failures_of_an_outage_over_do_not_make_the_next_look_intermittent() {
        let s = sched(2, 1);
        let mut c = Confirmer::starting_at(State::Up);
        let first = feed(&mut c, &s, &[U, U, U, U, U, U, D, D, U, U, D, D]);
        let changes: Vec<State> = first.into_iter().flatten().collect();
        assert_eq!(changes, [State::Down, State::Up, State::Down]);
        assert_eq!(c.intermittent(), None);
    }

    /// Down results while degraded are a change not yet confirmed: re-probed quickly, as any.
    #[test]
    fn down_while_degraded_is_reprobed_quickly() {
        let s = sched(2, 1);
        let mut c = Confirmer::starting_at(State::Degraded);
        c.observe(D, &s);
        assert_eq!(c.retry_delay(&s), Some(s.first_retry));
        assert_eq!(c.observe(D, &s), Some(State::Down));
        assert_eq!(c.retry_delay(&s), None);
    }

    #[test]
    fn alternating_failures_still_confirm_failing() {
        let s = sched(2, 1);
        let mut c = Confirmer::default();
        assert_eq!(feed(&mut c, &s, &[D, G]), vec![None, Some(State::Degraded)]);
    }
}
