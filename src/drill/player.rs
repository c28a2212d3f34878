//! Playing a scenario against a clock: which injections are due, and what each simulated
//! check would answer now. Pure: tests drive it with any clock.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::scenario::{Scenario, StepAction};
use crate::monitor::State;
use crate::probe::{Health, Outcome};

#[derive(Debug, Clone, PartialEq)]
pub enum Injection {
    Changed {
        check: usize,
        from: State,
        to: State,
        detail: String,
    },
    /// Latency or detail changed without a state change.
    Updated {
        check: usize,
    },
    Message {
        from: String,
        text: String,
    },
}

#[derive(Debug, Clone)]
struct Sim {
    state: State,
    latency: Duration,
    detail: String,
    retry_after: Option<Duration>,
}

pub struct Player {
    pub scenario: Scenario,
    next: usize,
    sims: Vec<Sim>,
    /// Scenario time of the last `advance`.
    pub elapsed: Duration,
}

impl Player {
    pub fn new(scenario: Scenario) -> Player {
        let sims = scenario
            .checks
            .iter()
            .map(|c| Sim {
                state: c.state,
                latency: c.latency,
                detail: initial_detail(c.state, &c.kind),
                retry_after: None,
            })
            .collect();
        Player { scenario, next: 0, sims, elapsed: Duration::ZERO }
    }

    /// Applies every step due at `elapsed` (scenario time) that was not applied yet.
    pub fn advance(&mut self, elapsed: Duration) -> Vec<Injection> {
        self.elapsed = self.elapsed.max(elapsed);
        let mut out = Vec::new();
        while let Some(step) = self.scenario.steps.get(self.next).filter(|s| s.at <= elapsed) {
            match &step.action {
                StepAction::Message { from, text } => {
                    out.push(Injection::Message { from: from.clone(), text: text.clone() })
                }
                StepAction::Check { check, state, latency, detail, retry_after } => {
                    let i = self.scenario.checks.iter().position(|c| &c.name == check).expect("checked when parsed");
                    let sim = &mut self.sims[i];
                    let from = sim.state;
                    if let Some(l) = latency {
                        sim.latency = *l;
                    }
                    if let Some(s) = state {
                        sim.state = *s;
                    }
                    sim.detail =
                        detail.clone().unwrap_or_else(|| initial_detail(sim.state, &self.scenario.checks[i].kind));
                    sim.retry_after = *retry_after;
                    out.push(if from != sim.state {
                        Injection::Changed { check: i, from, to: sim.state, detail: sim.detail.clone() }
                    } else {
                        Injection::Updated { check: i }
                    });
                }
            }
            self.next += 1;
        }
        out
    }

    /// What check `i` answers now, as a probe outcome (deterministic ±10% latency wobble).
    pub fn outcome(&self, i: usize, now: DateTime<Utc>, tick: u64) -> Outcome {
        let sim = &self.sims[i];
        let wobble = 0.9 + 0.2 * (((tick.wrapping_mul(2654435761) ^ i as u64) % 100) as f64 / 100.0);
        let health = match sim.state {
            State::Up | State::Unknown => Health::Up,
            State::Degraded => Health::Degraded,
            State::Down => Health::Down,
        };
        let mut o = Outcome::new(health, sim.latency.mul_f64(wobble), format!("[simulated] {}", sim.detail));
        o.retry_after = sim.retry_after.and_then(|d| chrono::Duration::from_std(d).ok()).map(|d| now + d);
        o
    }

    pub fn state(&self, i: usize) -> State {
        self.sims[i].state
    }

    /// Every step has happened.
    pub fn finished(&self) -> bool {
        self.next >= self.scenario.steps.len()
    }

    /// Every check is back to how it started.
    pub fn all_recovered(&self) -> bool {
        self.scenario.checks.iter().zip(&self.sims).all(|(c, s)| s.state == c.state)
    }
}

fn initial_detail(state: State, kind: &str) -> String {
    match (state, kind) {
        (State::Up, "smtp") => "transaction ok through RCPT TO".into(),
        (State::Up, "http") => "HTTP 200 OK".into(),
        (State::Up, "dns") => "NOERROR".into(),
        (State::Up, "command") => "exit 0".into(),
        (State::Up, _) => "connected".into(),
        (s, _) => s.as_str().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drill::parse;

    fn scenario() -> crate::drill::Scenario {
        parse(
            r#"
title = "t"
[[check]]
name = "web"
latency = "100ms"
[[check]]
name = "db"
kind = "tcp"
[[step]]
at = "2m"
check = "web"
latency = "4s"
[[step]]
at = "30s"
check = "db"
state = "down"
detail = "refused"
[[step]]
at = "5m"
from = "support"
message = "customers report errors"
[[step]]
at = "10m"
check = "db"
state = "up"
"#,
            std::path::Path::new("t.toml"),
        )
        .unwrap()
    }

    #[test]
    fn injections_fire_at_their_scenario_time_in_order() {
        let mut p = Player::new(scenario());
        assert!(p.advance(Duration::from_secs(29)).is_empty());
        assert_eq!(
            p.advance(Duration::from_secs(30)),
            vec![Injection::Changed { check: 1, from: State::Up, to: State::Down, detail: "refused".into() }]
        );
        assert!(p.advance(Duration::from_secs(31)).is_empty(), "a step fires once");
        // A clock that jumps (high speed) still gets every step, in order.
        let all = p.advance(Duration::from_secs(600));
        assert_eq!(all.len(), 3);
        assert_eq!(all[0], Injection::Updated { check: 0 });
        assert_eq!(all[1], Injection::Message { from: "support".into(), text: "customers report errors".into() });
        assert!(matches!(all[2], Injection::Changed { check: 1, to: State::Up, .. }));
        assert!(p.finished() && p.all_recovered());
    }

    #[test]
    fn outcomes_follow_the_simulated_state_and_latency() {
        let mut p = Player::new(scenario());
        let now = Utc::now();
        assert_eq!(p.outcome(1, now, 0).health, Health::Up);
        p.advance(Duration::from_secs(150));
        assert_eq!(p.outcome(1, now, 1).health, Health::Down);
        assert_eq!(p.outcome(1, now, 1).detail, "[simulated] refused");
        let l = p.outcome(0, now, 7).latency;
        assert!(l >= Duration::from_millis(3600) && l <= Duration::from_millis(4400), "{l:?}");
        assert!(!p.all_recovered());
    }
}
