//! The communications checklist: prepared in calm times, followed under stress.
//!
//! Files in `checklists/*.toml` (built in) or any path. Each item says what to do, who owns
//! it, when it is due relative to the incident's start, whether it repeats, and the message
//! to send. Progress lives in the journal; this module only reads it.

mod file;
mod schedule;
mod template;

pub use file::{BUILT_IN, Checklist, ChecklistError, Condition, Item, is_built_in, load, parse};
pub use schedule::{
    DUE_SOON, ItemOutcome, ItemState, ItemView, Order, applies_since, display_order, evaluate, missing_roles, outcome,
};
pub use template::{Context, PLACEHOLDERS, prompts, render, unfilled};
