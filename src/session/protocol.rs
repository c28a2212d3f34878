//! What a front-end and its session say to each other: updates out, commands in.
//!
//! Plain owned data that serialises to JSON (no shared pointers, no monotonic instants, no
//! index into a list kept elsewhere), so that a session on another host can stand in for
//! the local one by sending the same values as JSON lines over SSH.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::journal::{Audience, Event, EventBody};
use crate::monitor::{RowId, View};
use crate::probe::{Health, Outcome};

/// The protocol's version: a reader refuses a message with another one.
pub const VERSION: u32 = 1;

/// A message with the protocol version it was written in, as it crosses a process boundary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Versioned<T> {
    pub v: u32,
    pub body: T,
}

impl<T> Versioned<T> {
    pub fn new(body: T) -> Versioned<T> {
        Versioned { v: VERSION, body }
    }

    /// The body, if it was written in this protocol's version.
    pub fn open(self) -> Result<T, String> {
        if self.v == VERSION {
            Ok(self.body)
        } else {
            Err(format!("protocol version {} here, {} from the other side", VERSION, self.v))
        }
    }
}

/// What this session does for the incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Probes the checks (or plays the drill's) and records their changes.
    Poller,
    /// Writes notes and ticks; another session probes, and this one takes over if it stops.
    Follower,
    /// Writes nothing.
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Poller => "poller",
            Role::Follower => "follower",
            Role::Viewer => "viewer",
        }
    }
}

/// A row as the board lists it before any result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowInfo {
    pub id: RowId,
    /// The probe kind (`http`, `smtp`…), `row` for a source's row, `journal` for a name only
    /// the journal knows.
    pub kind: String,
    pub target: String,
}

/// Readings kept per row: the sparkline shows 12, the detail view 10.
/// (60 cost 13 MiB more with 1,000 checks: 75.7 -> 62.8 MiB, `cargo bench --bench app`.)
pub const KEPT: usize = 20;

/// One probe result, as far as a screen shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    pub at: DateTime<Utc>,
    pub health: Health,
    pub latency_ms: f64,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<DateTime<Utc>>,
    /// Each step of the exchange and how long it took, in milliseconds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<(String, f64)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_days_left: Option<i64>,
}

impl Reading {
    pub fn of(at: DateTime<Utc>, outcome: &Outcome) -> Reading {
        let Outcome { detail, steps, .. } = outcome;
        Reading::taken(at, Outcome { detail: detail.clone(), steps: steps.clone(), rows: Vec::new(), ..*outcome })
    }

    /// As [`Reading::of`], taking the outcome's detail and steps instead of copying them when
    /// nothing else holds it (the monitor's outcomes, once the coordinator has seen them).
    pub fn of_shared(at: DateTime<Utc>, outcome: std::sync::Arc<Outcome>) -> Reading {
        match std::sync::Arc::try_unwrap(outcome) {
            Ok(outcome) => Reading::taken(at, outcome),
            Err(shared) => Reading::of(at, &shared),
        }
    }

    /// The reading an outcome makes, its detail and steps moved into it.
    fn taken(at: DateTime<Utc>, outcome: Outcome) -> Reading {
        Reading {
            at,
            health: outcome.health,
            latency_ms: outcome.latency.as_secs_f64() * 1000.0,
            detail: outcome.detail,
            retry_after: outcome.retry_after,
            steps: outcome.steps.into_iter().map(|s| (s.name, s.took.as_secs_f64() * 1000.0)).collect(),
            cert_days_left: outcome.cert_days_left,
        }
    }

    /// Makes this reading a copy of `other`, reusing the room of its own detail and steps.
    pub fn copy_from(&mut self, other: &Reading) {
        let Reading { at, health, latency_ms, detail, retry_after, steps, cert_days_left } = other;
        (self.at, self.health, self.latency_ms) = (*at, *health, *latency_ms);
        (self.retry_after, self.cert_days_left) = (*retry_after, *cert_days_left);
        self.detail.clone_from(detail);
        self.steps.truncate(steps.len());
        for ((name, ms), (other_name, other_ms)) in self.steps.iter_mut().zip(steps) {
            name.clone_from(other_name);
            *ms = *other_ms;
        }
        let reused = self.steps.len();
        self.steps.extend_from_slice(&steps[reused..]);
    }

    /// The latency; a value no probe can have measured (negative, not finite, absurdly
    /// large: from a file somebody else wrote) reads as zero.
    pub fn latency(&self) -> Duration {
        millis_to_duration(self.latency_ms)
    }
}

/// Milliseconds as a duration; a value no probe can have measured (negative, not finite,
/// absurdly large) reads as zero.
pub fn millis_to_duration(ms: f64) -> Duration {
    Duration::try_from_secs_f64(ms / 1000.0).unwrap_or_default()
}

/// A row's live figures: how it is shown and its recent readings, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    pub row: RowInfo,
    pub view: View,
    pub readings: Vec<Reading>,
}

/// Who is on the incident now, by their sessions' heartbeats, and whether anybody probes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    /// By author; one entry per author however many sessions they run.
    pub people: Vec<Person>,
    pub probing: Probing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// As the author signs entries (from a file somebody else wrote: sanitise before showing).
    pub author: String,
    /// `None` while a session of theirs beats; else when the last one last did (killed,
    /// frozen, cut off: no "left" entry came).
    pub gone_since: Option<DateTime<Utc>>,
}

impl Person {
    pub fn is_here(&self) -> bool {
        self.gone_since.is_none()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Probing {
    /// A poller's heartbeat is fresh.
    Yes,
    /// No poller beats; `since` the last beat one was seen giving, if any was.
    Nobody { since: Option<DateTime<Utc>> },
}

/// Where a replay stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayPosition {
    pub at: usize,
    pub of: usize,
    pub paused: bool,
    pub speed: f64,
}

impl ReplayPosition {
    pub fn finished(&self) -> bool {
        self.at >= self.of
    }
}

/// From the session to its front-end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Update {
    /// The first update: the journal opened, this session's role, the rows known before
    /// any result and every entry already in the journal.
    Opened {
        journal: String,
        role: Role,
        rows: Vec<RowInfo>,
        entries: Vec<Event>,
    },
    /// New journal entries, in journal order: this session's once on disk, and everyone
    /// else's as they appear.
    Entries(Vec<Event>),
    /// A source began reporting a row.
    Row(RowInfo),
    Reading {
        row: RowId,
        reading: Reading,
    },
    View {
        row: RowId,
        view: View,
    },
    /// Another session's live figures, whole.
    Figures(Vec<Figure>),
    /// Who is here changed (sent by live sessions only, when it changes).
    Presence(Presence),
    /// This session's role changed, and why.
    Role {
        role: Role,
        why: String,
    },
    /// This session's entries now waiting for the disk, in order: counted as done only once
    /// [`Update::Written`] names them (shown as pending until then).
    Pending(Vec<Event>),
    /// These entries reached the disk and the journal is writable (`error: None`), or an
    /// attempt failed (why; everything pending is kept and retried).
    Written {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        ids: Vec<String>,
        error: Option<String>,
    },
    /// Entries refused as they stand (too large for a journal line): never written.
    Refused {
        events: Vec<Event>,
        error: String,
    },
    /// Something the operator should read once (a journal line skipped: what and where).
    Notice(String),
    /// Lines written by a newer warroom were skipped: the banner asking for an upgrade, kept
    /// on screen since they may carry a teammate's status change. Sent when the session opens
    /// and again whenever the count grows.
    NewerSkipped(String),
    /// How the journal's mirrors stand ("mirror fra: in step"), or on a mirror host how the
    /// primary does ("primary silent since 14:02"): the lines kept above the header, whole.
    Mirrors(Vec<String>),
    /// The session's time, once a second (drill time in a drill, journal time in a replay).
    Clock(DateTime<Utc>),
    Replay(ReplayPosition),
    /// A drill ended: its scorecard, as text.
    Scorecard(String),
    /// A remote screen's link to the host its session runs on went down or came back (sent
    /// by the bridge of `warroom --remote`, never by an engine).
    Link(LinkState),
    /// The session has finished; nothing follows.
    Ended,
}

/// From a front-end to its session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// Append these, signed by the session's author, stamped with the session's time.
    Append(Vec<EventBody>),
    /// Deliver a checklist item's message on a channel; the outcome is journaled.
    Send {
        item: String,
        channel: String,
        audience: Audience,
        text: String,
        /// The next-update time the text promises (a public message): journaled with it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next_update: Option<DateTime<Utc>>,
        /// The operator saw the text as it stands and sent it, template prompts and all (a
        /// remote screen's far side refuses unfilled prompts otherwise).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        confirmed: bool,
    },
    RunNow(RowId),
    SetPaused {
        row: RowId,
        paused: bool,
    },
    /// Become the poller now if nobody holds the role.
    TakeOver,
    /// The front-end shows this row's details (by name), or none. A local session has them
    /// all anyway; a remote screen's far side sends the inspected row's readings in full and
    /// the others' leaner (no detail while up).
    Inspect(Option<String>),
    Replay(ReplayControl),
    /// End the session: the departure is journaled (a drill is scored first).
    Leave,
}

/// The state of a remote screen's link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkState {
    /// The destination's name, as the operator gave it.
    pub to: String,
    /// `None` while the link is up; else since when it is down.
    pub lost_since: Option<DateTime<Utc>>,
    /// Why it went down (ssh's words, sanitised), or what came back.
    pub detail: String,
    /// Whether the bridge tries again (a protocol mismatch will not mend by itself).
    pub retrying: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplayControl {
    TogglePause,
    NextEvent,
    Step,
    Faster,
    Slower,
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::Reading;
    use crate::probe::{Health, Outcome, Step};

    #[test]
    fn a_reading_taken_from_an_outcome_nobody_else_holds_is_the_same_as_a_copied_one() {
        let mut outcome = Outcome::new(Health::Degraded, Duration::from_micros(1234), "HTTP 200 OK in 1.2 ms; slow");
        outcome.steps.push(Step { name: "connect 127.0.0.1:80".into(), took: Duration::from_micros(250) });
        outcome.steps.push(Step { name: "GET http://127.0.0.1/".into(), took: Duration::from_micros(900) });
        outcome.cert_days_left = Some(12);
        let at = chrono::Utc::now();
        let copied = Reading::of(at, &outcome);
        let shared = Arc::new(outcome);
        let held = shared.clone();
        assert_eq!(Reading::of_shared(at, shared), copied, "while another holds it");
        assert_eq!(Reading::of_shared(at, held), copied, "once nobody else does");
    }

    #[test]
    fn a_reading_copied_into_another_is_the_same_whatever_the_other_held() {
        let mut outcome = Outcome::new(Health::Up, Duration::from_micros(900), "HTTP 200 OK in 0.9 ms");
        for step in ["connect 127.0.0.1:80", "GET http://127.0.0.1/", "read body"] {
            outcome.steps.push(Step { name: step.into(), took: Duration::from_micros(300) });
        }
        let source = Reading::of(chrono::Utc::now(), &outcome);
        let mut longer = Reading::of(chrono::Utc::now(), &outcome);
        longer.steps.push(("extra".into(), 1.0));
        longer.detail = "a much longer detail than the one copied over it".into();
        longer.cert_days_left = Some(3);
        let mut none = Reading::of(chrono::Utc::now(), &Outcome::new(Health::Down, Duration::ZERO, ""));
        for mut room in [longer, none.clone(), {
            none.steps.clear();
            none
        }] {
            room.copy_from(&source);
            assert_eq!(room, source);
        }
    }
}
