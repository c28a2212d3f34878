//! Running a scenario live: a scaled clock, and a task that turns due injections into the
//! same events the real monitor produces, so the screen cannot tell a drill's checks from
//! real ones — except by the DRILL banner it always shows.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};

use super::player::{Injection, Player};
use super::scenario::Scenario;
use crate::journal::EventBody;
use crate::monitor::{Change, MonitorEvent, State, View};

/// Scenario time: `origin` plus real time elapsed since `started`, times `speed`.
#[derive(Debug, Clone, Copy)]
pub struct ScaledClock {
    pub origin: DateTime<Utc>,
    started: Instant,
    pub speed: f64,
}

impl ScaledClock {
    pub fn new(origin: DateTime<Utc>, speed: f64) -> ScaledClock {
        ScaledClock { origin, started: Instant::now(), speed: speed.max(0.001) }
    }

    /// A clock that started at `origin` (real time then) and has run at `speed` since: a
    /// second operator joining a drill follows the same scenario time as its player.
    pub fn resumed(origin: DateTime<Utc>, speed: f64) -> ScaledClock {
        let behind = (Utc::now() - origin).to_std().unwrap_or_default();
        let started = Instant::now().checked_sub(behind).unwrap_or_else(Instant::now);
        ScaledClock { origin, started, speed: speed.max(0.001) }
    }

    /// Real time.
    pub fn real() -> ScaledClock {
        Self::new(Utc::now(), 1.0)
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed().mul_f64(self.speed)
    }

    pub fn now(&self) -> DateTime<Utc> {
        if self.speed == 1.0 && self.origin <= Utc::now() {
            return Utc::now();
        }
        self.origin + chrono::Duration::from_std(self.elapsed()).unwrap_or_default()
    }
}

/// Plays `scenario`: monitor events for the screen, drill messages `(author, body)` for the
/// journal, and a flag that turns true once every step has run and every check recovered.
pub fn spawn(
    scenario: Scenario,
    clock: ScaledClock,
) -> (mpsc::UnboundedReceiver<MonitorEvent>, mpsc::UnboundedReceiver<(String, EventBody)>, watch::Receiver<bool>) {
    let (events, events_rx) = mpsc::unbounded_channel();
    let (messages, messages_rx) = mpsc::unbounded_channel();
    let (done, done_rx) = watch::channel(false);
    tokio::spawn(async move {
        let mut player = Player::new(scenario);
        let names: Vec<String> = player.scenario.checks.iter().map(|c| c.name.clone()).collect();
        // The starting point goes in the journal like a real first probe.
        for (i, name) in names.iter().enumerate() {
            let state = player.state(i);
            let detail = player.outcome(i, clock.now(), 0).detail;
            let _ = events.send(MonitorEvent::View { check: i, view: View { state, ..View::default() } });
            let _ = events.send(MonitorEvent::Changed(Change {
                check: name.clone(),
                from: State::Unknown,
                to: state,
                detail,
            }));
        }
        // A result every 5 s of scenario time (at least every 200 ms of real time).
        let sample_every = Duration::from_secs(5).div_f64(clock.speed).max(Duration::from_millis(200));
        let tick = sample_every.min(Duration::from_millis(250));
        let mut next_sample = Instant::now();
        let mut n: u64 = 0;
        loop {
            for injection in player.advance(clock.elapsed()) {
                let sent = match injection {
                    Injection::Changed { check, from, to, detail } => {
                        let _ = events.send(MonitorEvent::View { check, view: View { state: to, ..View::default() } });
                        events.send(MonitorEvent::Changed(Change { check: names[check].clone(), from, to, detail }))
                    }
                    Injection::Updated { .. } => Ok(()),
                    Injection::Message { from, text } => {
                        let _ = messages.send((format!("{from} (drill)"), EventBody::NoteAdded { text }));
                        Ok(())
                    }
                };
                if sent.is_err() {
                    return;
                }
            }
            if Instant::now() >= next_sample {
                n += 1;
                for i in 0..names.len() {
                    let outcome = Arc::new(player.outcome(i, clock.now(), n));
                    if events.send(MonitorEvent::Sample { check: i, at: clock.now(), outcome }).is_err() {
                        return;
                    }
                }
                next_sample += sample_every;
            }
            let _ = done.send(player.finished() && player.all_recovered());
            tokio::time::sleep(tick).await;
        }
    });
    (events_rx, messages_rx, done_rx)
}
