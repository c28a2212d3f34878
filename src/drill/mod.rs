//! Fire drills: scripted outages that touch no real service, timed and scored, so teams
//! practise before the real one. The same machinery runs the built-in demo.

mod player;
mod runner;
mod scenario;
mod score;

pub use player::{Injection, Player};
pub use runner::{ScaledClock, spawn};
pub use scenario::{BUILT_IN, Scenario, ScenarioError, SimCheck, Step, StepAction, load, parse};
pub use score::{FaultScore, ItemScore, Scorecard, compare, previous_run, score};

/// The author of everything the drill itself injects.
pub const DRILL_AUTHOR: &str = "drill";
