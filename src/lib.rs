//! warroom: a terminal war room for outages.
//!
//! # Module map
//!
//! Read from the top down: each layer uses only the layers below it, never one above.
//! Nothing below the screen imports the screen.
//!
//! Front-ends — what a person runs:
//! - [`cli`]: the command line: clap's words ([`cli::Verb`]), finding the config and the
//!   current journal, and each verb (`log`, `check`, `report`, `drill`, `--headless`…).
//! - [`tui`]: the screen: keys to [`tui::Effect`]s, drawing, themes, the terminal.
//!
//! What a front-end holds:
//! - [`board`]: the incident as a front-end knows it: the journal's fold, the live rows,
//!   and what follows from them (row order, next update due, message values).
//! - [`commands`]: the commander's verbs as journal events (roles, status, severity,
//!   milestones, pins, corrections, follow-ups), shared by the command line and the screen.
//! - [`brief`]: the board as one copyable text for someone joining or taking over.
//! - [`session`]: taking part in an incident: the journal writer, joined/left, the poller
//!   election and takeover, reading other sessions' entries, live figures, presence by
//!   heartbeat, drill and replay clocks. Front-ends talk to it with [`session::Update`]s and
//!   [`session::Command`]s only, plain data that could cross an SSH link.
//!
//! The domain — pure or self-contained, used by the layers above:
//! - [`incident`]: a pure fold of journal events into the incident's state.
//! - [`journal`]: the append-only JSONL truth: events, reading, appending with fsync.
//!   [`journal::dir`] is the one place that opens files in a journal directory (shared
//!   ground: no links followed, no special files, bounded reads, per-writer temporaries).
//! - [`monitor`]: scheduling checks, confirming changes, grouping; [`recorder`] turns its
//!   changes into journal events.
//! - [`probe`]: one real transaction against a target (HTTP, SMTP to RCPT TO, DNS, TLS,
//!   TCP, a command, Prometheus, Alertmanager).
//! - [`checklist`] (what must be said, and when), [`comms`] (saying it on a channel),
//!   [`drill`] (scenarios, their player and scoring), [`replay`] (a journal in time),
//!   [`report`] (post-incident report and status page).
//! - [`mirror`]: the journal shipped to other hosts as it is written (the elected shipper,
//!   `warroom ingest` on the far side), their lag, the mirror host's view of its primary,
//!   promotion and merging; [`journal::chain`] is what lets both sides prove a copy whole.
//! - [`ssh`]: links to warroom on other hosts through the system OpenSSH client: the
//!   greeting with protocol versions, bounded JSON lines, heartbeats, ssh's errors by step.
//! - [`remote`]: remote screens (`warroom --remote DEST`): a session on another host served
//!   over a link (`serve-session`) and bridged to the screen here, resuming after a cut.
//! - [`config`] reads `warroom.toml`; [`builtin`] holds the files shipped in the binary;
//!   [`sanitize`] makes untrusted text safe for a terminal; [`fit`] fits names into columns.

pub mod board;
pub mod brief;
pub mod builtin;
pub mod checklist;
pub mod cli;
pub mod commands;
pub mod comms;
pub mod config;
pub mod drill;
pub mod fit;
pub mod incident;
pub mod journal;
pub mod mirror;
pub mod monitor;
pub mod probe;
pub mod recorder;
pub mod remote;
pub mod replay;
pub mod report;
pub mod sanitize;
pub mod session;
pub mod ssh;
pub mod tui;
pub mod vantage;

/// mimalloc: replay decodes millions of small strings, and glibc malloc cost a third of the
/// time: 1.01 s -> 0.68 s for a 1,000,000-event replay (`cargo bench --bench journal`).
/// Built without transparent huge pages: with them, the real binary with 1,000 checks and
/// 100,000 events kept 66.7 MiB resident instead of 58.3 MiB (`cargo bench --bench app`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Has mimalloc give freed pages back to the system after a second. Measured, not explained:
/// without this call (mimalloc's own default is 10 ms, ten times that for whole segments) the
/// 10,000-check headless poller kept a median 59.4 MiB resident (73.9 at most), with the delay
/// set to 1 ms 44.8 MiB, to 3 ms 45.1-45.4, to 10 ms 50.6. A short delay costs CPU: pages
/// purged between two bursts of probes (a wake-up slot, 250 ms, apart) are faulted in again by
/// the next. The screen with 10,000 checks (`cargo bench --bench scale`, one build, the delay
/// from the environment): 30 ms, 5.33 % of a core and 62.0 MiB; 1 s, 4.83 % and 65.9 MiB
/// (page faults: 2,872 a second with mimalloc's default, 649 with 300 ms, 209 with 1 s). See
/// BENCHMARKS.md. Called first thing in `main`: set only once a session had started, what
/// start-up freed (a 10,000-check config peaks at 50 MB of heap) stayed resident.
/// `MIMALLOC_PURGE_DELAY` in the environment wins.
pub fn release_freed_memory_soon() {
    // An operator who tunes mimalloc keeps their own setting.
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // mimalloc's `mi_option_purge_delay` (15 in v2 and v3 alike). Declared here rather than
    // through libmimalloc-sys' `extended` feature: one function, no new dependency edge.
    const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;
    const PURGE_DELAY_MS: std::ffi::c_long = 1000;
    unsafe extern "C" {
        fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    }
    // SAFETY: mimalloc is the global allocator (linked above); options may be set at any time
    // and the purge delay is read afresh each time pages are freed.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) }
}
