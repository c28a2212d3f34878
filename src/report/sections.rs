//! The report as a document: headings, tables, lists and the picture, in order, built once from
//! a [`Report`]. The Markdown and HTML renderers each walk this one model, so a section added
//! or reordered here appears in both, and neither decides what the report says.
//!
//! Text from the journal stays raw here: each renderer makes it safe for its own format
//! (sanitised, then escaped), so nothing is escaped twice or for the wrong syntax.

use std::borrow::Cow;

use chrono::{DateTime, Utc};

use super::{Line, Message, Report, duration, who};

pub struct Document<'a> {
    /// The page title and first heading.
    pub title: String,
    /// For a drill: what the warning above everything says.
    pub drill: Option<String>,
    pub sections: Vec<Section<'a>>,
}

pub struct Section<'a> {
    /// 2 for a section, 3 for a part of one.
    pub level: u8,
    pub heading: String,
    pub blocks: Vec<Block<'a>>,
}

pub enum Block<'a> {
    Table(Table<'a>),
    List(Items<'a>),
    Para(Vec<Inline<'a>>),
    /// The shape of the outage (the report's [`super::timeline::Shape`]).
    Picture,
}

pub struct Table<'a> {
    /// Column headings; empty for a table of labelled rows with no heading row.
    pub head: Vec<&'static str>,
    /// The first cell of each row labels it (a `<th>`).
    pub labelled: bool,
    pub rows: Rows<'a>,
}

/// A table's rows. The long ones of a million-entry journal (its timeline and messages) are
/// made one at a time as they are rendered, not laid out in memory a second time.
pub enum Rows<'a> {
    Built(Vec<TableRow<'a>>),
    Timeline(&'a [Line]),
    Messages(&'a [Message]),
}

impl<'a> Rows<'a> {
    /// Calls `f` with each row in order.
    pub fn each(&self, mut f: impl FnMut(&TableRow<'a>)) {
        match self {
            Rows::Built(rows) => rows.iter().for_each(f),
            Rows::Timeline(lines) => lines.iter().for_each(|l| f(&timeline_row(l))),
            Rows::Messages(messages) => messages.iter().for_each(|m| f(&message_row(m))),
        }
    }

    /// How many cells a row has (for a table without headings).
    pub fn width(&self) -> usize {
        match self {
            Rows::Built(rows) => rows.first().map_or(0, |r| r.cells.len()),
            Rows::Timeline(_) => 3,
            Rows::Messages(_) => 6,
        }
    }
}

/// A list's items; the notes (possibly hundreds of thousands) are made as they are rendered.
pub enum Items<'a> {
    Built(Vec<Vec<Inline<'a>>>),
    Notes(&'a [Line]),
}

impl<'a> Items<'a> {
    pub fn each(&self, mut f: impl FnMut(&[Inline<'a>])) {
        match self {
            Items::Built(items) => items.iter().for_each(|i| f(i)),
            Items::Notes(notes) => notes.iter().for_each(|n| f(&note_item(n))),
        }
    }
}

pub struct TableRow<'a> {
    /// A pinned key event: stands out.
    pub key: bool,
    pub cells: Vec<Vec<Inline<'a>>>,
}

/// A run of text in a cell, list item or paragraph.
pub enum Inline<'a> {
    /// Text from the journal (or made from it): sanitised and escaped by each renderer.
    Text(Cow<'a, str>),
    /// An entry's summary, already sanitised when it was made: only escaped.
    Summary(&'a str),
    /// The report's own punctuation between runs (`" — "`, `" by "`), kept exactly.
    Sep(&'static str),
    Time(DateTime<Utc>),
    /// Stands out: a failure, a missed deadline, an open item.
    Alert(String),
    Strong(String),
    /// Withdrawn or replaced (an entry's summary): struck through.
    Struck(&'a str),
    /// What replaced a struck entry (sanitised when the report was built).
    Inserted(&'a str),
}

fn text<'a>(s: impl Into<Cow<'a, str>>) -> Vec<Inline<'a>> {
    vec![Inline::Text(s.into())]
}

fn time<'a>(t: &DateTime<Utc>) -> Vec<Inline<'a>> {
    vec![Inline::Time(*t)]
}

fn time_or<'a>(t: Option<&DateTime<Utc>>, none: &'a str) -> Vec<Inline<'a>> {
    t.map_or_else(|| text(none), time)
}

fn row(cells: Vec<Vec<Inline<'_>>>) -> TableRow<'_> {
    TableRow { key: false, cells }
}

fn section<'a>(level: u8, heading: impl Into<String>, blocks: Vec<Block<'a>>) -> Section<'a> {
    Section { level, heading: heading.into(), blocks }
}

impl Report {
    /// The report laid out as sections, in reading order.
    pub fn document(&self) -> Document<'_> {
        let r = self;
        let mut sections = vec![summary(r)];
        if !r.handovers.is_empty() {
            sections.push(handovers(r));
        }
        sections.extend([shape(r), key_times(r), key_events(r), outages(r)]);
        if r.checklist.is_some() {
            sections.push(checklist(r));
        }
        sections.extend([messages(r), notes(r)]);
        if !r.follow_ups.is_empty() {
            sections.push(follow_ups(r));
        }
        sections.push(full_timeline(r));
        Document {
            title: format!("Post-incident report: {}{}", r.title, if r.drill { " (DRILL)" } else { "" }),
            drill: r.drill.then(|| {
                format!(
                    "DRILL — this was a rehearsal ({}), not a real incident.",
                    r.scenario.as_deref().unwrap_or("scenario")
                )
            }),
            sections,
        }
    }
}

fn summary(r: &Report) -> Section<'_> {
    let sev = |s: Option<u8>| s.map_or("—".to_string(), |s| format!("SEV{s}"));
    let commanders = if r.commanders.is_empty() { "none recorded".into() } else { r.commanders.join(", ") };
    let rows = vec![
        ("Severity", text(format!("{} (worst {})", sev(r.severity), sev(r.worst_severity)))),
        ("Status", text(&r.status)),
        ("Started", time_or(r.started.as_ref(), "—")),
        ("Ended", time_or(r.ended.as_ref(), "not resolved")),
        ("Duration", text(r.duration_s.map_or("—".into(), duration))),
        ("Commanders", text(commanders)),
    ];
    let rows = rows.into_iter().map(|(k, v)| row(vec![text(k), v])).collect();
    section(2, "Summary", vec![Block::Table(Table { head: vec![], labelled: true, rows: Rows::Built(rows) })])
}

fn handovers(r: &Report) -> Section<'_> {
    let rows = r
        .handovers
        .iter()
        .map(|h| {
            row(vec![
                time(&h.at),
                text(&h.role),
                text(h.from.as_deref().unwrap_or("—")),
                text(&h.to),
                text(who(&h.by, h.account.as_deref())),
            ])
        })
        .collect();
    let head = vec!["Time", "Role", "From", "To", "Recorded by"];
    section(3, "Roles and hand-overs", vec![Block::Table(Table { head, labelled: false, rows: Rows::Built(rows) })])
}

fn shape(r: &Report) -> Section<'_> {
    let blocks = if r.shape.rows.is_empty() {
        vec![Block::Para(text("No check recorded a state."))]
    } else {
        vec![Block::Picture]
    };
    section(2, "Shape of the outage", blocks)
}

fn key_times(r: &Report) -> Section<'_> {
    let rows = r
        .key_times
        .iter()
        .map(|k| {
            row(vec![
                text(k.name),
                time_or(k.at.as_ref(), "—"),
                text(k.after_start_s.map_or("—".into(), duration)),
                text(k.since_previous_s.map_or("—".into(), duration)),
            ])
        })
        .collect();
    let head = vec!["", "Time", "After start", "Since previous"];
    section(2, "Key times", vec![Block::Table(Table { head, labelled: true, rows: Rows::Built(rows) })])
}

fn key_events(r: &Report) -> Section<'_> {
    if r.key_events.is_empty() {
        return section(2, "Key events", vec![Block::Para(text("None pinned."))]);
    }
    let items = r
        .key_events
        .iter()
        .map(|e| {
            let mut item = vec![Inline::Time(e.at), Inline::Sep(" — ")];
            item.extend(as_it_stands(e));
            item.extend([Inline::Sep(" ("), Inline::Text(author(e).into()), Inline::Sep(")")]);
            item
        })
        .collect();
    section(2, "Key events", vec![Block::List(Items::Built(items))])
}

fn outages(r: &Report) -> Section<'_> {
    let rows = r
        .outages
        .iter()
        .map(|w| {
            row(vec![
                text(&w.check),
                text(w.state),
                time(&w.from),
                time_or(w.to.as_ref(), "still failing"),
                text(w.duration_s.map_or("—".into(), duration)),
                text(&w.detail),
            ])
        })
        .collect();
    let head = vec!["Check", "State", "From", "To", "Duration", "What failed"];
    section(2, "Outages by check", vec![Block::Table(Table { head, labelled: false, rows: Rows::Built(rows) })])
}

fn checklist(r: &Report) -> Section<'_> {
    let Some(c) = &r.checklist else { return section(2, "Checklist", vec![]) };
    let rows = c
        .items
        .iter()
        .map(|i| {
            let mut verdict = vec![if i.verdict == "missed" {
                Inline::Alert(i.verdict.into())
            } else {
                Inline::Text(i.verdict.into())
            }];
            if i.times_done > 1 {
                verdict.extend([Inline::Sep(" "), Inline::Text(format!("(×{})", i.times_done).into())]);
            }
            row(vec![
                text(&i.title),
                text(i.owner.as_deref().unwrap_or("—")),
                time_or(i.due_at.as_ref(), "—"),
                time_or(i.done_at.as_ref(), "—"),
                text(i.done_by.as_deref().unwrap_or("—")),
                verdict,
            ])
        })
        .collect();
    let heading = format!("Checklist: {} — {} on time, {} late, {} missed", c.name, c.on_time, c.late, c.missed);
    let head = vec!["Item", "Owner", "Due", "Done", "By", "Verdict"];
    section(2, heading, vec![Block::Table(Table { head, labelled: false, rows: Rows::Built(rows) })])
}

fn messages(r: &Report) -> Section<'_> {
    let head = vec!["Time", "Channel", "Audience", "By", "Text", "Result"];
    let rows = Rows::Messages(&r.messages);
    section(2, "Messages sent", vec![Block::Table(Table { head, labelled: false, rows })])
}

/// One message's row: when, where, to whom, by whom, what, and whether it went out.
fn message_row(m: &Message) -> TableRow<'_> {
    let result = match (&m.error, m.simulated) {
        (Some(e), _) => vec![Inline::Alert(format!("FAILED: {e}"))],
        (None, true) => text("simulated (drill)"),
        (None, false) => text("sent"),
    };
    row(vec![
        time(&m.at),
        text(&m.channel),
        text(m.audience),
        text(who(&m.author, m.account.as_deref())),
        text(&m.text),
        result,
    ])
}

fn notes(r: &Report) -> Section<'_> {
    if r.notes.is_empty() {
        return section(2, "Notes", vec![Block::Para(text("No notes."))]);
    }
    section(2, "Notes", vec![Block::List(Items::Notes(&r.notes))])
}

/// One note as a list item: when, who (in bold), and its text as it stands.
fn note_item(n: &Line) -> Vec<Inline<'_>> {
    let mut item = vec![Inline::Time(n.at), Inline::Sep(" "), Inline::Strong(author(n)), Inline::Sep(": ")];
    item.extend(as_it_stands(n));
    item
}

fn follow_ups(r: &Report) -> Section<'_> {
    let open = r.follow_ups.iter().filter(|f| f.done_at.is_none()).count();
    let rows = r
        .follow_ups
        .iter()
        .map(|f| {
            let done = match (&f.done_at, &f.done_by) {
                (Some(at), Some(by)) => vec![Inline::Time(*at), Inline::Sep(" by "), Inline::Text(by.into())],
                _ => vec![Inline::Alert("open".into())],
            };
            row(vec![
                text(&f.text),
                text(f.owner.as_deref().unwrap_or("—")),
                time(&f.added_at),
                text(&f.added_by),
                done,
            ])
        })
        .collect();
    let head = vec!["Follow-up", "Owner", "Added", "By", "Done"];
    section(
        2,
        format!("Follow-ups — {open} open"),
        vec![Block::Table(Table { head, labelled: false, rows: Rows::Built(rows) })],
    )
}

fn full_timeline(r: &Report) -> Section<'_> {
    let head = vec!["Time", "By", "Event"];
    let rows = Rows::Timeline(&r.timeline);
    section(2, "Full timeline", vec![Block::Table(Table { head, labelled: false, rows })])
}

/// One timeline entry's row: time, author, and its text as it stands (★ for a key event).
fn timeline_row(e: &Line) -> TableRow<'_> {
    let mut event = if e.key { vec![Inline::Sep("★ ")] } else { vec![] };
    event.extend(as_it_stands(e));
    TableRow { key: e.key, cells: vec![time(&e.at), text(author(e)), event] }
}

fn author(l: &Line) -> String {
    who(&l.author, l.account.as_deref())
}

/// An entry's text as it stands now: struck through when struck or corrected, followed by what
/// replaced it and who struck it.
fn as_it_stands(l: &Line) -> Vec<Inline<'_>> {
    if !l.superseded() {
        return vec![Inline::Summary(&l.text)];
    }
    let mut out = vec![Inline::Struck(&l.text)];
    if let Some(corrected) = &l.corrected {
        out.extend([Inline::Sep(" → "), Inline::Inserted(corrected)]);
    }
    if let Some(s) = &l.struck {
        out.extend([
            Inline::Sep(" (struck by "),
            Inline::Text((&s.by).into()),
            Inline::Sep(" at "),
            Inline::Time(s.at),
        ]);
        if let Some(why) = &s.reason {
            out.extend([Inline::Sep(": "), Inline::Text(why.into())]);
        }
        out.push(Inline::Sep(")"));
    }
    out
}
