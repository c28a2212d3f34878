//! Playing a journal back in time, for reviews and teaching: the screen is fed the events as
//! they happened, at any speed, with pause, single steps and jumps to the next event.
//!
//! Time is passed in, so the player is tested without waiting.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::journal::Event;

pub struct Replayer {
    events: Vec<Event>,
    next: usize,
    /// Journal time shown now = `at` + (real time since `since`) × speed, unless paused.
    at: DateTime<Utc>,
    since: Instant,
    pub speed: f64,
    pub paused: bool,
}

impl Replayer {
    pub fn new(events: Vec<Event>, speed: f64, now: Instant) -> Replayer {
        let start = events.first().map_or_else(Utc::now, |e| e.ts);
        Replayer { events, next: 0, at: start, since: now, speed: speed.max(0.01), paused: false }
    }

    /// The journal time being shown.
    pub fn clock(&self, now: Instant) -> DateTime<Utc> {
        if self.paused {
            return self.at;
        }
        let real = now.saturating_duration_since(self.since);
        self.at + chrono::Duration::from_std(real.mul_f64(self.speed)).unwrap_or(chrono::Duration::MAX)
    }

    /// Fixes the clock at `now` before a change of speed or pause, so time never jumps.
    fn settle(&mut self, now: Instant) {
        self.at = self.clock(now);
        self.since = now;
    }

    /// Events whose time has come.
    pub fn due(&mut self, now: Instant) -> Vec<Event> {
        let clock = self.clock(now);
        let end =
            self.events[self.next..].iter().position(|e| e.ts > clock).map_or(self.events.len(), |n| self.next + n);
        let due = self.events[self.next..end].to_vec();
        self.next = end;
        due
    }

    pub fn toggle_pause(&mut self, now: Instant) {
        self.settle(now);
        self.paused = !self.paused;
    }

    /// The next event at once, the clock moved to its time (works while paused).
    pub fn step(&mut self, now: Instant) -> Option<Event> {
        let e = self.events.get(self.next)?.clone();
        self.next += 1;
        self.at = self.at.max(e.ts);
        self.since = now;
        Some(e)
    }

    /// Skips the quiet time before the next event.
    pub fn jump_to_next(&mut self, now: Instant) {
        if let Some(e) = self.events.get(self.next) {
            self.at = self.at.max(e.ts);
            self.since = now;
        }
    }

    pub fn faster(&mut self, now: Instant) {
        self.settle(now);
        self.speed = (self.speed * 2.0).min(100_000.0);
    }

    pub fn slower(&mut self, now: Instant) {
        self.settle(now);
        self.speed = (self.speed / 2.0).max(0.25);
    }

    pub fn finished(&self) -> bool {
        self.next >= self.events.len()
    }

    pub fn position(&self) -> (usize, usize) {
        (self.next, self.events.len())
    }

    /// How long until the next event at the current speed (for the redraw timer).
    pub fn wait(&self, now: Instant) -> Option<Duration> {
        let next = self.events.get(self.next)?;
        let journal_gap = (next.ts - self.clock(now)).to_std().unwrap_or_default();
        Some(journal_gap.div_f64(self.speed))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::incident::Incident;
    use crate::journal::{CheckState, EventBody, Mode};

    fn events() -> Vec<Event> {
        let t = |s| Utc.with_ymd_and_hms(2026, 11, 21, 1, 0, 0).unwrap() + chrono::Duration::seconds(s);
        vec![
            Event::at(
                t(0),
                "a",
                EventBody::IncidentOpened { title: "x".into(), severity: 2, mode: Mode::Real, checklist: None },
            ),
            Event::at(
                t(60),
                "p",
                EventBody::CheckChanged {
                    check: "web".into(),
                    from: CheckState::Up,
                    to: CheckState::Down,
                    detail: "503".into(),
                },
            ),
            Event::at(t(600), "b", EventBody::NoteAdded { text: "restarted".into() }),
            Event::at(
                t(3600),
                "p",
                EventBody::CheckChanged {
                    check: "web".into(),
                    from: CheckState::Down,
                    to: CheckState::Up,
                    detail: "ok".into(),
                },
            ),
        ]
    }

    #[test]
    fn plays_in_journal_time_at_the_given_speed() {
        let start = Instant::now();
        let mut r = Replayer::new(events(), 60.0, start);
        assert_eq!(r.due(start).len(), 1, "the first event at once");
        assert!(r.due(start + Duration::from_millis(999)).is_empty());
        assert_eq!(r.due(start + Duration::from_secs(1)).len(), 1, "one minute of journal in one second");
        assert_eq!(r.due(start + Duration::from_secs(10)).len(), 1);
        assert!(!r.finished());
        assert_eq!(r.wait(start + Duration::from_secs(10)), Some(Duration::from_secs(50)));
    }

    #[test]
    fn pause_step_jump_and_speed() {
        let start = Instant::now();
        let mut r = Replayer::new(events(), 1.0, start);
        r.due(start);
        r.toggle_pause(start);
        assert!(r.due(start + Duration::from_secs(3600)).is_empty(), "paused: nothing plays");
        assert!(matches!(r.step(start).unwrap().body, EventBody::CheckChanged { .. }));
        r.toggle_pause(start);
        r.jump_to_next(start);
        assert_eq!(r.due(start).len(), 1, "jumped to the note");
        r.faster(start);
        assert_eq!(r.speed, 2.0);
        r.slower(start);
        r.slower(start);
        assert_eq!(r.speed, 0.5);
    }

    #[test]
    fn a_fast_replay_ends_in_the_same_state_as_a_direct_fold() {
        let scan_events = events();
        let direct = Incident::from_events(scan_events.clone());
        let start = Instant::now();
        let mut r = Replayer::new(scan_events, 100_000.0, start);
        let mut replayed = Incident::default();
        let mut t = start;
        while !r.finished() {
            t += Duration::from_millis(100);
            for e in r.due(t) {
                replayed.apply(e);
            }
        }
        assert_eq!(replayed, direct);
    }
}
