//! The monitor: runs each check on its schedule, confirms changes, and reports them.

mod check;

pub use check::{CheckDef, Schedule};
