//! The journal's vocabulary: one [`Event`] per line, each a fact about the incident.
//!
//! The wire format is the public contract of the journal (reports, replays and other
//! operators' processes all read it), so field names here are stable: add, never rename.

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::sanitize::sanitize_str;

/// Schema version written by this build. A journal line with a larger `v` is skipped with a
/// warning (and counted, so the screen can ask for an upgrade); it never stops a journal.
pub const SCHEMA_VERSION: u32 = 1;

/// One line of the journal.
///
/// Serialised by derive; deserialised through [`super::wire`], a flat borrowed view of the
/// line, because serde's internally tagged enums buffer every field first and that doubles
/// replay time. The round-trip tests keep the two in agreement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub v: u32,
    pub id: String,
    #[serde(serialize_with = "ts_to_wire")]
    pub ts: DateTime<Utc>,
    pub author: String,
    /// The operating-system account that wrote the line (`user@host`), beside the chosen
    /// `author` name, so a hand-over or a message can be traced to the account whose warroom
    /// wrote it. Recorded, not proven: a member who can write the journal can forge it.
    /// Absent from lines written before it was recorded. Shared, not copied: a journal has a
    /// handful of accounts and a replay a million events.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "account_to_wire")]
    pub account: Option<Arc<str>>,
    #[serde(flatten)]
    pub body: EventBody,
}

impl Event {
    /// A new event stamped now with a fresh, time-ordered id.
    pub fn new(author: impl Into<String>, body: EventBody) -> Self {
        Self::at(Utc::now(), author, body)
    }

    /// A new event with an explicit timestamp (drills, tests, imports).
    pub fn at(ts: DateTime<Utc>, author: impl Into<String>, body: EventBody) -> Self {
        Event {
            v: SCHEMA_VERSION,
            id: uuid::Uuid::now_v7().to_string(),
            // The wire format keeps milliseconds; keep the in-memory value identical to
            // what a replay will read back.
            ts: truncate_to_millis(ts),
            author: author.into(),
            account: Some(this_account()),
            body,
        }
    }

    /// The account that wrote the line, when it is not the same string as the author.
    pub fn other_account(&self) -> Option<&str> {
        self.account.as_deref().filter(|a| *a != self.author)
    }

    /// The `kind` tag as written on the wire.
    pub fn kind(&self) -> &'static str {
        self.body.kind()
    }

    /// One line of text for the event, sanitised: the timeline, the filter and reports use it.
    pub fn summary(&self) -> String {
        match &self.body {
            EventBody::IncidentOpened { title, severity, mode, .. } => {
                format!(
                    "incident opened: {} (SEV{severity}{})",
                    sanitize_str(title, 80),
                    if *mode == Mode::Drill { ", DRILL" } else { "" }
                )
            }
            EventBody::StatusChanged { status } => format!("status → {}", status.as_str()),
            EventBody::MilestoneReached { milestone, check, .. } => match check {
                Some(c) => format!("{} {}", milestone.as_str(), sanitize_str(c, 60)),
                None => format!("milestone: {}", milestone.as_str()),
            },
            EventBody::SeverityChanged { severity } => format!("severity → SEV{severity}"),
            EventBody::RoleAssigned { role, person } => {
                format!("{} is now {}", sanitize_str(person, 40), sanitize_str(role, 30))
            }
            EventBody::CheckChanged { check, to, detail, .. } => {
                format!("{} → {}: {}", sanitize_str(check, 60), to.as_str(), sanitize_str(detail, 200))
            }
            EventBody::NoteAdded { text } => sanitize_str(text, 300),
            EventBody::EventPinned { .. } => "pinned a key event".into(),
            EventBody::ChecklistItemDone { item } => format!("done: {}", sanitize_str(item, 60)),
            EventBody::ChecklistItemUndone { item } => format!("undone: {}", sanitize_str(item, 60)),
            EventBody::MessageSent { channel, audience, text, error, .. } => match error {
                Some(err) => format!(
                    "message to {} FAILED ({}): {}",
                    sanitize_str(channel, 30),
                    sanitize_str(err, 80),
                    sanitize_str(text, 120)
                ),
                None => {
                    format!("message to {} ({:?}): {}", sanitize_str(channel, 30), audience, sanitize_str(text, 160))
                        .replace("(Public)", "(public)")
                        .replace("(Internal)", "(internal)")
                }
            },
            EventBody::MessagePrepared { item, via, text } => {
                format!(
                    "message for {} {}: {}",
                    sanitize_str(item, 40),
                    if via == "clipboard" { "copied" } else { "opened in notes" },
                    sanitize_str(text, 120)
                )
            }
            EventBody::OperatorJoined {} => "joined".into(),
            EventBody::OperatorLeft {} => "left".into(),
            EventBody::DrillStarted { scenario, speed } => {
                format!("drill started: {} at ×{speed}", sanitize_str(scenario, 60))
            }
            EventBody::DrillEnded { scenario } => format!("drill ended: {}", sanitize_str(scenario, 60)),
            EventBody::Correction { text, .. } => format!("correction: {}", sanitize_str(text, 200)),
            EventBody::EventUnpinned { .. } => "unpinned a key event".into(),
            EventBody::EntryStruck { reason, .. } => match reason {
                Some(why) => format!("struck an entry: {}", sanitize_str(why, 200)),
                None => "struck an entry".into(),
            },
            EventBody::FollowUpAdded { text, owner } => match owner {
                Some(owner) => format!("follow-up for {}: {}", sanitize_str(owner, 40), sanitize_str(text, 200)),
                None => format!("follow-up: {}", sanitize_str(text, 200)),
            },
            EventBody::FollowUpClosed { .. } => "follow-up done".into(),
            EventBody::VantageCheckChanged { check, vantage, to, detail, .. } => format!(
                "{} from {} → {}: {}",
                sanitize_str(check, 60),
                sanitize_str(vantage, 30),
                to.as_str(),
                sanitize_str(detail, 200)
            ),
            EventBody::VantageUnreachable { vantage, detail } => {
                format!("vantage {} unreachable: {}", sanitize_str(vantage, 30), sanitize_str(detail, 200))
            }
            EventBody::VantageReachable { vantage, detail } => {
                format!("vantage {} reachable: {}", sanitize_str(vantage, 30), sanitize_str(detail, 120))
            }
        }
    }
}

/// What happened. Serialized internally tagged by `kind` (decoded by `wire`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventBody {
    IncidentOpened {
        title: String,
        severity: u8,
        mode: Mode,
        /// The communications checklist followed (so reports can say what was missed).
        #[serde(skip_serializing_if = "Option::is_none")]
        checklist: Option<String>,
    },
    StatusChanged {
        status: Status,
    },
    MilestoneReached {
        milestone: Milestone,
        /// When it really happened, if recorded later than it happened
        /// (e.g. "detected at 00:50" written at 01:05). Defaults to the event's `ts`.
        #[serde(skip_serializing_if = "Option::is_none")]
        at: Option<DateTime<Utc>>,
        /// The check this milestone is about, e.g. acknowledging one failing check.
        #[serde(skip_serializing_if = "Option::is_none")]
        check: Option<String>,
    },
    SeverityChanged {
        severity: u8,
    },
    RoleAssigned {
        role: String,
        person: String,
    },
    CheckChanged {
        check: String,
        from: CheckState,
        to: CheckState,
        detail: String,
    },
    NoteAdded {
        text: String,
    },
    EventPinned {
        event: String,
    },
    ChecklistItemDone {
        item: String,
    },
    ChecklistItemUndone {
        item: String,
    },
    MessageSent {
        channel: String,
        audience: Audience,
        text: String,
        /// Set when the send failed; the message was then *not* delivered.
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        /// The checklist item this message fulfils, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        item: Option<String>,
        /// A drill's message: recorded, never actually sent.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        simulated: bool,
        /// The public promise: the next-update time the text states. Until the next public
        /// message, it is the deadline every screen counts down to.
        #[serde(skip_serializing_if = "Option::is_none")]
        next_update: Option<DateTime<Utc>>,
    },
    /// A checklist message was copied to the clipboard or opened in the notes editor: it may
    /// be posted by hand, so the text is kept.
    MessagePrepared {
        item: String,
        text: String,
        /// `clipboard` or `notes`.
        via: String,
    },
    OperatorJoined {},
    OperatorLeft {},
    DrillStarted {
        scenario: String,
        speed: f64,
    },
    DrillEnded {
        scenario: String,
    },
    /// Events are never edited: a correction refers to the event it corrects.
    Correction {
        event: String,
        text: String,
    },
    /// Takes back a pin: the event is no longer a key event.
    EventUnpinned {
        event: String,
    },
    /// Withdraws an entry (a wrong note) without a replacement: shown struck through.
    EntryStruck {
        event: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// An action item to follow up after (or during) the incident.
    FollowUpAdded {
        text: String,
        /// Who is to do it: a person's author string, or any name.
        #[serde(skip_serializing_if = "Option::is_none")]
        owner: Option<String>,
    },
    /// The follow-up added by `event` is done (or no longer needed).
    FollowUpClosed {
        event: String,
    },
    /// One vantage's confirmed change for a check run from several places; the check's own
    /// `check_changed` records the verdict across them.
    VantageCheckChanged {
        check: String,
        vantage: String,
        from: CheckState,
        to: CheckState,
        detail: String,
    },
    /// A vantage could not be reached, or its link broke: its own state, not its checks'.
    VantageUnreachable {
        vantage: String,
        detail: String,
    },
    /// A vantage's link is up (again); `detail` names the agent (`warroom pid 4242 as wr@paris`).
    VantageReachable {
        vantage: String,
        detail: String,
    },
}

impl EventBody {
    pub fn kind(&self) -> &'static str {
        match self {
            EventBody::IncidentOpened { .. } => "incident_opened",
            EventBody::StatusChanged { .. } => "status_changed",
            EventBody::MilestoneReached { .. } => "milestone_reached",
            EventBody::SeverityChanged { .. } => "severity_changed",
            EventBody::RoleAssigned { .. } => "role_assigned",
            EventBody::CheckChanged { .. } => "check_changed",
            EventBody::NoteAdded { .. } => "note_added",
            EventBody::EventPinned { .. } => "event_pinned",
            EventBody::ChecklistItemDone { .. } => "checklist_item_done",
            EventBody::ChecklistItemUndone { .. } => "checklist_item_undone",
            EventBody::MessageSent { .. } => "message_sent",
            EventBody::MessagePrepared { .. } => "message_prepared",
            EventBody::OperatorJoined {} => "operator_joined",
            EventBody::OperatorLeft {} => "operator_left",
            EventBody::DrillStarted { .. } => "drill_started",
            EventBody::DrillEnded { .. } => "drill_ended",
            EventBody::Correction { .. } => "correction",
            EventBody::EventUnpinned { .. } => "event_unpinned",
            EventBody::EntryStruck { .. } => "entry_struck",
            EventBody::FollowUpAdded { .. } => "follow_up_added",
            EventBody::FollowUpClosed { .. } => "follow_up_closed",
            EventBody::VantageCheckChanged { .. } => "vantage_check_changed",
            EventBody::VantageUnreachable { .. } => "vantage_unreachable",
            EventBody::VantageReachable { .. } => "vantage_reachable",
        }
    }
}

/// Whether an incident is real or a rehearsal. A drill can never pass for a real incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Real,
    Drill,
}

/// Incident status, in the vocabulary status pages use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Investigating,
    Identified,
    Monitoring,
    Resolved,
}

impl Status {
    pub const ALL: [Status; 4] = [Status::Investigating, Status::Identified, Status::Monitoring, Status::Resolved];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Investigating => "investigating",
            Status::Identified => "identified",
            Status::Monitoring => "monitoring",
            Status::Resolved => "resolved",
        }
    }

    /// The next status in the usual order, wrapping (the TUI's "cycle status" key).
    pub fn next(self) -> Status {
        let i = Status::ALL.iter().position(|s| *s == self).unwrap_or(0);
        Status::ALL[(i + 1) % Status::ALL.len()]
    }
}

/// Incident milestones; time-to-X figures derive from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Milestone {
    Detected,
    Acknowledged,
    Mitigated,
    Resolved,
}

impl Milestone {
    pub fn as_str(self) -> &'static str {
        match self {
            Milestone::Detected => "detected",
            Milestone::Acknowledged => "acknowledged",
            Milestone::Mitigated => "mitigated",
            Milestone::Resolved => "resolved",
        }
    }
}

/// Who a message was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Internal,
    Public,
}

/// The state of one check as the journal records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CheckState {
    #[default]
    Unknown,
    Up,
    Degraded,
    Down,
}

impl CheckState {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckState::Unknown => "unknown",
            CheckState::Up => "up",
            CheckState::Degraded => "degraded",
            CheckState::Down => "down",
        }
    }
}

/// This process's account, made once and shared by every event it writes.
fn this_account() -> Arc<str> {
    static ACCOUNT: std::sync::OnceLock<Arc<str>> = std::sync::OnceLock::new();
    ACCOUNT.get_or_init(|| Arc::from(super::author::os_account())).clone()
}

fn account_to_wire<S: Serializer>(account: &Option<Arc<str>>, s: S) -> Result<S::Ok, S::Error> {
    match account {
        Some(a) => s.serialize_some(&**a),
        None => s.serialize_none(),
    }
}

fn truncate_to_millis(ts: DateTime<Utc>) -> DateTime<Utc> {
    let nanos = ts.timestamp_subsec_nanos();
    ts - chrono::Duration::nanoseconds(i64::from(nanos % 1_000_000))
}

/// RFC 3339, UTC, milliseconds: `2026-11-21T03:12:05.123Z`.
pub fn format_ts(ts: &DateTime<Utc>) -> String {
    ts.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn ts_to_wire<S: Serializer>(ts: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_ts(ts))
}

/// Parses a wire timestamp (RFC 3339, any offset, normalised to UTC).
pub fn parse_ts(s: &str) -> Result<DateTime<Utc>, String> {
    if let Some(ts) = parse_own_format(s.as_bytes()) {
        return Ok(ts);
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("`ts` is not an RFC 3339 time ({e}): {s:?}"))
}

/// The exact shape this build writes, `2026-11-21T03:12:05.123Z`, parsed without the
/// general RFC 3339 machinery (a third of replay time otherwise). Anything else: `None`.
fn parse_own_format(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() != 24
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[23] != b'Z'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, &d| d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0')))
    };
    let date = chrono::NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let time = chrono::NaiveTime::from_hms_milli_opt(num(11..13)?, num(14..16)?, num(17..19)?, num(20..23)?)?;
    Some(date.and_time(time).and_utc())
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        super::wire::WireEvent::deserialize(d)?.into_event().map_err(serde::de::Error::custom)
    }
}

/// A body on its own (a command to append it, sent between processes) is decoded as the
/// fields of an event, so that there is one decoder for every kind.
impl<'de> Deserialize<'de> for EventBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut fields = serde_json::Map::deserialize(d)?;
        fields.insert("v".into(), SCHEMA_VERSION.into());
        fields.insert("id".into(), "".into());
        fields.insert("ts".into(), format_ts(&DateTime::<Utc>::UNIX_EPOCH).into());
        fields.insert("author".into(), "".into());
        serde_json::from_value::<Event>(serde_json::Value::Object(fields))
            .map(|e| e.body)
            .map_err(serde::de::Error::custom)
    }
}
