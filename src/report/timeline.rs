//! The shape of the outage: each check's state over time, and the moments that mattered, on
//! one shared time axis.
//!
//! Built from the folded journal alone (no live probe figures), so a follower, a viewer, a
//! replay and a drill all see the same picture, and the screen, the report and the status page
//! draw the same model: [`Shape`]. Rows are ordered by when each check first failed, so a
//! cascade reads top-down.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::fit;
use crate::incident::Incident;
use crate::journal::{Audience, CheckState, EventBody, Milestone, Status};

/// A check's state in one stretch of time, ordered from best to worst, so the worst state in
/// a slice is the `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shade {
    /// Nothing recorded yet (before the check's first entry, or an `unknown` verdict).
    NoData,
    Up,
    Degraded,
    /// Down from some vantage points only. The journal does not record per-vantage verdicts
    /// yet; when it does, a check down from some places maps here and every output already
    /// draws it with its own shade.
    Partial,
    Down,
}

impl Shade {
    pub fn from_check(state: CheckState) -> Shade {
        match state {
            CheckState::Unknown => Shade::NoData,
            CheckState::Up => Shade::Up,
            CheckState::Degraded => Shade::Degraded,
            CheckState::Down => Shade::Down,
        }
    }

    /// A block whose density says how bad, so the picture reads without colour.
    pub fn glyph(self) -> char {
        match self {
            Shade::NoData => ' ',
            Shade::Up => '░',
            Shade::Degraded => '▒',
            Shade::Partial => '▓',
            Shade::Down => '█',
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Shade::NoData => "no data",
            Shade::Up => "up",
            Shade::Degraded => "degraded",
            Shade::Partial => "partial",
            Shade::Down => "down",
        }
    }

    pub fn failing(self) -> bool {
        self >= Shade::Degraded
    }
}

/// One stretch of a check in one state: from `from` until `to` (`None`: still so at the end).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Band {
    pub from: DateTime<Utc>,
    pub to: Option<DateTime<Utc>>,
    pub shade: Shade,
}

/// One check's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub check: String,
    /// When it first failed (degraded, partial or down); `None` if it never did.
    pub first_failure: Option<DateTime<Utc>>,
    /// In time order, adjacent bands never of the same shade.
    pub bands: Vec<Band>,
}

/// What a marker on the axis stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Mark {
    Milestone { milestone: Milestone },
    Status { status: Status },
    Message { public: bool },
}

impl Mark {
    /// One character on the screen and in the text picture.
    pub fn glyph(self) -> char {
        match self {
            Mark::Milestone { milestone: Milestone::Detected } => 'D',
            Mark::Milestone { milestone: Milestone::Acknowledged } => 'A',
            Mark::Milestone { milestone: Milestone::Mitigated } => 'M',
            Mark::Milestone { milestone: Milestone::Resolved } => 'R',
            Mark::Status { .. } => 's',
            Mark::Message { .. } => '>',
        }
    }

    /// Which marker wins a shared column: milestones, then status changes, then messages (the
    /// later of two alike).
    pub fn rank(self) -> u8 {
        match self {
            Mark::Milestone { .. } => 2,
            Mark::Status { .. } => 1,
            Mark::Message { .. } => 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Marker {
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub mark: Mark,
    /// What it says: "acknowledged", "status → monitoring", "public message on status-page". It
    /// quotes the journal (a channel's name): sanitise it where it is shown.
    pub label: String,
}

/// The whole picture: rows in failure order and markers in time order, between `start` and `end`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shape {
    pub start: DateTime<Utc>,
    /// The resolution, or else the last entry: where a report's picture ends.
    pub end: DateTime<Utc>,
    /// When it was resolved, if it was.
    #[serde(skip)]
    pub resolved: Option<DateTime<Utc>>,
    pub rows: Vec<Row>,
    pub markers: Vec<Marker>,
}

/// How much of the incident a picture shows, its right edge at "now".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Window {
    #[default]
    Last15Minutes,
    LastHour,
    Whole,
}

impl Window {
    pub fn next(self) -> Window {
        match self {
            Window::Last15Minutes => Window::LastHour,
            Window::LastHour => Window::Whole,
            Window::Whole => Window::Last15Minutes,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Window::Last15Minutes => "last 15 min",
            Window::LastHour => "last hour",
            Window::Whole => "whole incident",
        }
    }

    /// The time range shown when the right edge is `now`.
    pub fn range(self, shape: &Shape, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let from = match self {
            Window::Last15Minutes => now - Duration::minutes(15),
            Window::LastHour => now - Duration::hours(1),
            // An empty journal has no start of its own: the last minute, then.
            Window::Whole if shape.rows.is_empty() && shape.markers.is_empty() => now - Duration::minutes(1),
            Window::Whole => shape.start.min(now - Duration::minutes(1)),
        };
        (from, self.right_edge(shape, now))
    }

    /// Where the span ends: now, except that the whole of a resolved incident ends at its
    /// resolution (and a little after, so the `R` is not on the border), as the report's does.
    fn right_edge(self, shape: &Shape, now: DateTime<Utc>) -> DateTime<Utc> {
        match (self, shape.resolved) {
            (Window::Whole, Some(at)) => {
                let margin = ((at - shape.start) / 50).max(Duration::seconds(5));
                (at + margin).min(now)
            }
            _ => now,
        }
    }
}

/// Builds the picture from the folded journal.
pub fn build(incident: &Incident) -> Shape {
    let (rows, markers) = (rows(incident), markers(incident));
    // The earliest of the opening, the first entry, the first failure and any milestone: a
    // "detected" backdated to before the opening is the start, never off the left edge.
    let first = incident.timeline.first().map(|e| e.ts);
    let start = incident
        .opened_at
        .into_iter()
        .chain(first)
        .chain(rows.iter().filter_map(|r| r.first_failure))
        .chain(markers.first().map(|m| m.at))
        .min()
        .unwrap_or(DateTime::UNIX_EPOCH);
    let last = incident.timeline.last().map_or(start, |e| e.ts);
    let resolved = super::ended(incident);
    let end = resolved.unwrap_or(last).max(start);
    Shape { start, end, resolved, rows, markers }
}

/// Every check that has an entry, its bands, in failure order (never-failing checks last, by name).
fn rows(incident: &Incident) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for e in &incident.timeline {
        let EventBody::CheckChanged { check, to, .. } = &e.body else { continue };
        let i = *index.entry(check).or_insert_with(|| {
            rows.push(Row { check: check.clone(), first_failure: None, bands: Vec::new() });
            rows.len() - 1
        });
        let row = &mut rows[i];
        let shade = Shade::from_check(*to);
        if shade.failing() {
            row.first_failure.get_or_insert(e.ts);
        }
        match row.bands.last_mut() {
            Some(b) if b.shade == shade => {}
            Some(b) => {
                b.to = Some(e.ts);
                row.bands.push(Band { from: e.ts, to: None, shade });
            }
            None => row.bands.push(Band { from: e.ts, to: None, shade }),
        }
    }
    // Stable: checks that failed at the same instant keep the order they appeared in.
    rows.sort_by_key(|r| (r.first_failure.is_none(), r.first_failure));
    rows
}

/// Milestones (each once, when first reached), status changes and messages that went out.
fn markers(incident: &Incident) -> Vec<Marker> {
    let mut markers: Vec<Marker> = [Milestone::Detected, Milestone::Acknowledged, Milestone::Mitigated]
        .into_iter()
        .filter_map(|m| incident.milestone(m).map(|at| (m, at)))
        .chain(super::ended(incident).map(|at| (Milestone::Resolved, at)))
        .map(|(milestone, at)| Marker { at, mark: Mark::Milestone { milestone }, label: milestone.as_str().into() })
        .collect();
    for e in &incident.timeline {
        let (mark, label) = match &e.body {
            // The resolution is already marked `R` at this instant: one fact, one marker.
            EventBody::StatusChanged { status: Status::Resolved } if super::ended(incident) == Some(e.ts) => continue,
            EventBody::StatusChanged { status } => {
                (Mark::Status { status: *status }, format!("status → {}", status.as_str()))
            }
            EventBody::MessageSent { channel, audience, error: None, .. } => {
                let public = *audience == Audience::Public;
                // Sanitised where it is shown: a long journal has hundreds of thousands of these.
                (
                    Mark::Message { public },
                    format!("{} message on {channel}", if public { "public" } else { "internal" }),
                )
            }
            _ => continue,
        };
        markers.push(Marker { at: e.ts, mark, label });
    }
    markers.sort_by_key(|m| m.at);
    markers
}

impl Row {
    /// The worst shade during `[from, to)`; `end` closes a band still open.
    pub fn worst(&self, from: DateTime<Utc>, to: DateTime<Utc>, end: DateTime<Utc>) -> Shade {
        self.bands
            .iter()
            .filter(|b| b.from < to && b.to.unwrap_or(end.max(to)) > from)
            .map(|b| b.shade)
            .max()
            .unwrap_or(Shade::NoData)
    }

    /// The row cut into `n` equal slices of `[from, to)`, each the worst shade in it, so a
    /// short failure never disappears between two samples.
    pub fn cells(&self, from: DateTime<Utc>, to: DateTime<Utc>, n: usize, end: DateTime<Utc>) -> Vec<Shade> {
        let total = (to - from).num_milliseconds().max(1);
        let at = |i: usize| from + Duration::milliseconds(total * i as i64 / n.max(1) as i64);
        (0..n).map(|i| if at(i) >= end { Shade::NoData } else { self.worst(at(i), at(i + 1), end) }).collect()
    }
}

/// The column (of `n` across `[from, to]`) a time falls in; `None` outside.
pub fn column(at: DateTime<Utc>, from: DateTime<Utc>, to: DateTime<Utc>, n: usize) -> Option<usize> {
    if at < from || at > to || n == 0 {
        return None;
    }
    let total = (to - from).num_milliseconds().max(1);
    Some((((at - from).num_milliseconds() * n as i64) / total).min(n as i64 - 1) as usize)
}

/// What a column of the marker line shows: its strongest marker, and how many share it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub mark: Mark,
    pub count: usize,
}

impl Slot {
    /// The marker's letter, or `+` where several share the column (listed with their times
    /// below the picture): one letter must never hide another.
    pub fn glyph(self) -> char {
        if self.count > 1 { '+' } else { self.mark.glyph() }
    }
}

impl Shape {
    /// The marker line: one slot per column, the strongest marker where several share one.
    pub fn marker_line(&self, from: DateTime<Utc>, to: DateTime<Utc>, n: usize) -> Vec<Option<Slot>> {
        let mut line: Vec<Option<Slot>> = vec![None; n];
        for m in &self.markers {
            let Some(c) = column(m.at, from, to, n) else { continue };
            line[c] = Some(match line[c] {
                None => Slot { mark: m.mark, count: 1 },
                Some(old) => {
                    let mark = if m.mark.rank() >= old.mark.rank() { m.mark } else { old.mark };
                    Slot { mark, count: old.count + 1 }
                }
            });
        }
        line
    }

    /// The markers that share a column with another (drawn as one `+`), column by column.
    pub fn shared_columns(&self, from: DateTime<Utc>, to: DateTime<Utc>, n: usize) -> Vec<Vec<&Marker>> {
        let mut groups: Vec<(usize, Vec<&Marker>)> = Vec::new();
        for m in &self.markers {
            let Some(c) = column(m.at, from, to, n) else { continue };
            match groups.last_mut() {
                Some((last, group)) if *last == c => group.push(m),
                _ => groups.push((c, vec![m])),
            }
        }
        groups.into_iter().map(|(_, g)| g).filter(|g| g.len() > 1).collect()
    }

    /// The picture as text: a label column, one line per check of Unicode blocks, the marker
    /// line above, for a Markdown code block or a terminal. Names take the room they need (up
    /// to two fifths of the width), measured in terminal cells, and are cut keeping what tells
    /// them apart.
    pub fn text(&self, width: usize) -> String {
        // A backtick fence in a name would end a Markdown code block early.
        let safe = |s: &str| crate::sanitize::sanitize_str(s, 200).replace('`', "'");
        let names: Vec<String> = self.rows.iter().map(|r| safe(&r.check)).collect();
        let longest = names.iter().map(|n| fit::width(n)).max().unwrap_or(0);
        let label = longest.clamp(6, (width * 2 / 5).max(6));
        let names = fit::fit_all(&names, label);
        let n = width.saturating_sub(label + 3).max(10);
        let (from, to) = (self.start, self.end.max(self.start + Duration::seconds(1)));
        let mut out = String::new();
        let marks: String = self.marker_line(from, to, n).iter().map(|m| m.map_or(' ', Slot::glyph)).collect();
        out.push_str(&format!("{} │{marks}│\n", fit::pad("", label)));
        for (row, name) in self.rows.iter().zip(&names) {
            let cells: String = row.cells(from, to, n, self.end).iter().map(|s| s.glyph()).collect();
            out.push_str(&format!("{} │{cells}│\n", fit::pad(name, label)));
        }
        let (a, b) = (hhmm(from), hhmm(to));
        // The start under the first cell, the end ending under the right border.
        out.push_str(&format!(
            "{}  {a}{}{b}\n",
            fit::pad("", label),
            " ".repeat((n + 1).saturating_sub(a.len() + b.len()))
        ));
        for group in self.shared_columns(from, to, n) {
            let all: Vec<String> = group.iter().map(|m| format!("{} {}", m.mark.glyph(), safe(&m.label))).collect();
            out.push_str(&format!("+ {}: {}\n", hhmm(group[0].at), all.join(", ")));
        }
        out
    }
}

/// `00:51` (UTC).
pub fn hhmm(t: DateTime<Utc>) -> String {
    t.format("%H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::journal::{Event, Mode};

    fn t(s: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 0, 50, 0).unwrap() + Duration::seconds(s)
    }

    fn changed(s: i64, check: &str, to: CheckState) -> Event {
        let body =
            EventBody::CheckChanged { check: check.into(), from: CheckState::Unknown, to, detail: String::new() };
        Event::at(t(s), "poller", body)
    }

    fn incident(mut events: Vec<Event>) -> Incident {
        let open = EventBody::IncidentOpened { title: "t".into(), severity: 2, mode: Mode::Real, checklist: None };
        events.insert(0, Event::at(t(0), "alice", open));
        Incident::from_events(events)
    }

    #[test]
    fn rows_follow_the_first_failure_and_repeats_merge() {
        let shape = build(&incident(vec![
            changed(1, "web", CheckState::Up),
            changed(2, "db", CheckState::Up),
            changed(3, "calm", CheckState::Up),
            changed(10, "db", CheckState::Down),
            changed(20, "web", CheckState::Degraded),
            changed(25, "web", CheckState::Degraded),
            changed(30, "db", CheckState::Up),
        ]));
        let names: Vec<&str> = shape.rows.iter().map(|r| r.check.as_str()).collect();
        assert_eq!(names, ["db", "web", "calm"], "failure order, never-failing last");
        let web: Vec<(Shade, DateTime<Utc>, Option<DateTime<Utc>>)> =
            shape.rows[1].bands.iter().map(|b| (b.shade, b.from, b.to)).collect();
        assert_eq!(web, [(Shade::Up, t(1), Some(t(20))), (Shade::Degraded, t(20), None)]);
        assert_eq!(shape.rows[0].first_failure, Some(t(10)));
        assert_eq!((shape.start, shape.end), (t(0), t(30)), "unresolved: the picture ends at the last entry");
    }

    #[test]
    fn a_short_failure_never_falls_between_two_cells() {
        let shape = build(&incident(vec![
            changed(0, "web", CheckState::Up),
            changed(500, "web", CheckState::Down),
            changed(501, "web", CheckState::Up),
            changed(1000, "other", CheckState::Up),
        ]));
        let web = shape.rows.iter().find(|r| r.check == "web").unwrap();
        let cells = web.cells(t(0), t(1000), 10, t(1000));
        assert_eq!(cells.iter().filter(|c| **c == Shade::Down).count(), 1, "{cells:?}");
        assert_eq!(cells[5], Shade::Down);
        // Before its first entry a check has no data.
        let other = shape.rows.iter().find(|r| r.check == "other").unwrap();
        assert_eq!(other.cells(t(0), t(1000), 10, t(1000))[0], Shade::NoData);
    }

    #[test]
    fn milestones_win_a_shared_column_and_failed_sends_are_not_marked() {
        let mut events = vec![changed(10, "web", CheckState::Down)];
        let sent = |s, error: Option<&str>| {
            let body = EventBody::MessageSent {
                channel: "status-page".into(),
                audience: Audience::Public,
                text: "x".into(),
                error: error.map(str::to_string),
                item: None,
                simulated: false,
                next_update: None,
            };
            Event::at(t(s), "carol", body)
        };
        events.push(sent(11, None));
        events.push(sent(12, Some("HTTP 500")));
        events.push(Event::at(t(13), "alice", EventBody::StatusChanged { status: Status::Resolved }));
        events.push(sent(13, None));
        let shape = build(&incident(events));
        let kinds: Vec<char> = shape.markers.iter().map(|m| m.mark.glyph()).collect();
        // The status change to resolved is the resolution, marked once (R), not twice.
        assert_eq!(kinds, ['D', '>', 'R', '>'], "{:?}", shape.markers);
        let line = shape.marker_line(t(0), t(100), 5);
        // D, >, R and > share the first column: a milestone wins, the later of two milestones,
        // and the column says four share it.
        assert_eq!(
            line[0],
            Some(Slot { mark: Mark::Milestone { milestone: Milestone::Resolved }, count: 4 }),
            "{line:?}"
        );
        assert_eq!(line[0].unwrap().glyph(), '+');
        let text = shape.text(40);
        // Over its own span R and the last message share the last column: one `+`, both listed.
        assert!(text.lines().next().unwrap().ends_with("+│"), "{text}");
        assert!(text.lines().any(|l| l == "+ 00:50: R resolved, > public message on status-page"), "{text}");
    }

    #[test]
    fn a_name_cannot_close_the_markdown_code_block() {
        let shape = build(&incident(vec![changed(1, "```\n<b>x</b>", CheckState::Down)]));
        assert!(!shape.text(60).contains("```"), "{}", shape.text(60));
    }

    fn milestone(s: i64, milestone: Milestone, at: Option<i64>) -> Event {
        Event::at(t(s), "alice", EventBody::MilestoneReached { milestone, at: at.map(t), check: None })
    }

    #[test]
    fn a_detection_backdated_before_the_opening_starts_the_picture() {
        let shape =
            build(&incident(vec![changed(5, "web", CheckState::Down), milestone(60, Milestone::Detected, Some(-32))]));
        assert_eq!(shape.start, t(-32), "{shape:?}");
        let (from, _) = Window::Whole.range(&shape, t(120));
        assert_eq!(from, t(-32));
        let line = shape.marker_line(from, t(120), 20);
        assert_eq!(line[0].map(|s| s.mark), Some(Mark::Milestone { milestone: Milestone::Detected }), "{line:?}");
        assert!(shape.text(60).lines().next().unwrap().contains('D'), "{}", shape.text(60));
    }

    #[test]
    fn the_whole_of_a_resolved_incident_ends_at_its_resolution_not_now() {
        let shape = build(&incident(vec![
            changed(5, "web", CheckState::Down),
            changed(500, "web", CheckState::Up),
            milestone(1000, Milestone::Resolved, None),
        ]));
        let (from, to) = Window::Whole.range(&shape, t(100_000));
        assert_eq!(from, t(0));
        assert!(to >= t(1000) && to <= t(1100), "ends just after the resolution: {to}");
        assert_eq!(Window::Whole.range(&shape, t(1001)).1, t(1001), "never past now");
        assert_eq!(Window::Last15Minutes.range(&shape, t(100_000)).1, t(100_000), "short spans still end now");
    }

    #[test]
    fn windows_end_now_and_cycle() {
        let shape = build(&incident(vec![changed(1, "web", CheckState::Down)]));
        assert_eq!(Window::Last15Minutes.range(&shape, t(3600)), (t(2700), t(3600)));
        assert_eq!(Window::LastHour.range(&shape, t(3600)), (t(0), t(3600)));
        assert_eq!(Window::Whole.range(&shape, t(3600)).0, t(0));
        assert_eq!(Window::Whole.next().next().next(), Window::Whole);
    }
}
