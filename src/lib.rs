//! warroom: a terminal war room for outages.
//!
//! Layers, each depending only on those below it:
//! - `app` and `tui`: command line, wiring and the screen;
//! - `incident` (a pure fold of the journal), `journal` (the append-only truth), `monitor`
//!   (scheduling, confirmation, state changes);
//! - `probe` (one real transaction against a target);
//! - `config` reads `warroom.toml` into the types of the layers above; `sanitize` makes
//!   untrusted text safe to draw.

pub mod board;
pub mod builtin;
pub mod checklist;
pub mod cli;
pub mod comms;
pub mod config;
pub mod drill;
pub mod incident;
pub mod journal;
pub mod monitor;
pub mod probe;
pub mod recorder;
pub mod replay;
pub mod report;
pub mod sanitize;
pub mod session;
pub mod tui;

/// mimalloc: replay decodes millions of small strings, and glibc malloc cost a third of the
/// time: 1.01 s -> 0.68 s for a 1,000,000-event replay (`cargo bench --bench journal`).
/// Built without transparent huge pages: with them, the real binary with 1,000 checks and
/// 100,000 events kept 66.7 MiB resident instead of 58.3 MiB (`cargo bench --bench app`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
