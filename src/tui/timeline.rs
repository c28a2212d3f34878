//! The state timeline on screen (`T`): the shape of the outage, drawn over the panes.
//!
//! One row per check in the order they first failed, time across with the current time at the
//! right edge, each cell the worst state in that slice as a coloured block whose density also
//! says the state (so it reads in `mono` and `colorblind`), and the milestones, status changes
//! and messages sent as letters on a shared axis above. Built from the journal alone
//! ([`crate::report::timeline`]), so followers, viewers, replays and drills draw the same.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

use super::app::App;
use super::theme::Theme;
use crate::fit;
use crate::report::timeline::{self, Mark, Shade, Shape, Window, hhmm};
use crate::sanitize::sanitize_str;

/// The widest a check name's column gets (a third of the pane at most); longer names are cut
/// keeping what tells them apart.
const LABEL_MAX: usize = 60;

pub fn draw(frame: &mut Frame, app: &App, window: Window, body: Rect) {
    let shape = timeline::build(&app.board.incident);
    let now = app.board.clock.now;
    let (from, to) = window.range(&shape, now);
    let title = format!(" State timeline — {} ", window.label());
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(app.theme.border_focus)
        .title(Span::styled(title, app.theme.title));
    let inner = block.inner(body);
    frame.render_widget(Clear, body);
    let lines = lines(&app.theme, &shape, (from, to), to == now, inner);
    frame.render_widget(Paragraph::new(lines).block(block), body);
}

/// Everything inside the frame, top to bottom, cut to its height.
/// `at_now`: the right edge is now (else it is the resolution, for the whole of a resolved incident).
fn lines(
    theme: &Theme,
    shape: &Shape,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    at_now: bool,
    area: Rect,
) -> Vec<Line<'static>> {
    let width = area.width as usize;
    let height = area.height as usize;
    let names: Vec<String> = shape.rows.iter().map(|r| sanitize_str(&r.check, 200)).collect();
    let longest = names.iter().map(|n| fit::width(n)).max().unwrap_or(0);
    let label = longest.clamp(5, LABEL_MAX).min(width / 3);
    let names = fit::fit_all(&names, label);
    // " name │cells│"
    let n = width.saturating_sub(label + 4).max(1);
    let edge = if at_now { "now at the right edge" } else { "to the resolution" };
    let mut out = vec![Line::from(vec![
        Span::styled(format!(" {} – {} UTC, {edge}", hhmm(from), hhmm(to)), theme.muted),
        Span::styled("  T: span · Esc: close", theme.key),
    ])];
    out.push(marker_line(theme, shape, from, to, n, label));
    // The rows come first: only the axis is kept below them; the legend and the marker list
    // take what room is left.
    let room = height.saturating_sub(out.len() + 1);
    let shown = if shape.rows.len() > room { room.saturating_sub(1) } else { shape.rows.len() };
    for (row, name) in shape.rows[..shown].iter().zip(&names) {
        let mut spans = vec![Span::styled(format!(" {} │", fit::pad(name, label)), theme.text)];
        // A check keeps its last recorded state until the right edge.
        let cells = row.cells(from, to, n, to);
        spans.extend(
            runs(&cells)
                .into_iter()
                .map(|(shade, len)| Span::styled(shade.glyph().to_string().repeat(len), shade_style(theme, shade))),
        );
        spans.push(Span::styled("│", theme.text));
        out.push(Line::from(spans));
    }
    if shown < shape.rows.len() {
        let more = format!(
            " … {} more checks: a taller window shows them, `warroom report` lists all",
            shape.rows.len() - shown
        );
        out.push(Line::styled(more, theme.muted));
    }
    if shape.rows.is_empty() {
        out.push(Line::styled(" No check has recorded a state yet.", theme.muted));
    }
    out.push(axis(theme, (from, to), at_now, n, label));
    let legend = legend(theme, width);
    if out.len() + legend.len() <= height {
        out.extend(legend);
    }
    out.extend(marker_list(theme, shape, from, to, height.saturating_sub(out.len())));
    out.truncate(height);
    out
}

/// Neighbouring cells of one shade as one span: fewer spans to style and draw.
fn runs(cells: &[Shade]) -> Vec<(Shade, usize)> {
    let mut out: Vec<(Shade, usize)> = Vec::new();
    for &c in cells {
        match out.last_mut() {
            Some((shade, len)) if *shade == c => *len += 1,
            _ => out.push((c, 1)),
        }
    }
    out
}

pub fn shade_style(theme: &Theme, shade: Shade) -> Style {
    match shade {
        Shade::NoData => theme.muted,
        Shade::Up => theme.ok,
        Shade::Degraded => theme.degraded,
        // Down from some places: the colour of down, dimmed, and its own block (▓).
        Shade::Partial => theme.down.add_modifier(Modifier::DIM),
        Shade::Down => theme.down.add_modifier(Modifier::BOLD),
    }
}

fn mark_style(theme: &Theme, mark: Mark) -> Style {
    match mark {
        Mark::Milestone { .. } => theme.accent.add_modifier(Modifier::BOLD),
        Mark::Status { .. } => theme.key,
        Mark::Message { .. } => theme.text,
    }
}

/// The letters above the rows, one column per slice of time.
fn marker_line(
    theme: &Theme,
    shape: &Shape,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    n: usize,
    label: usize,
) -> Line<'static> {
    let mut spans = vec![Span::raw(format!(" {:label$} │", ""))];
    for m in shape.marker_line(from, to, n) {
        spans.push(match m {
            Some(slot) => Span::styled(slot.glyph().to_string(), mark_style(theme, slot.mark)),
            None => Span::raw(" "),
        });
    }
    spans.push(Span::raw("│"));
    Line::from(spans)
}

/// The time axis under the rows: the left edge's time, and "now" at the right edge.
fn axis(
    theme: &Theme,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    at_now: bool,
    n: usize,
    label: usize,
) -> Line<'static> {
    let (left, right) = (hhmm(from), if at_now { format!("now {}", hhmm(to)) } else { hhmm(to) });
    // Under the cells: the left time at the first cell, "now" ending under the right border.
    let gap = (n + 1).saturating_sub(left.chars().count() + right.chars().count());
    Line::styled(format!(" {:label$}  {left}{}{right}", "", " ".repeat(gap)), theme.muted)
}

/// What the blocks and letters mean, on one line when it fits, else two.
fn legend(theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let shades: Vec<Span> = [Shade::Up, Shade::Degraded, Shade::Partial, Shade::Down]
        .into_iter()
        .flat_map(|s| {
            [
                Span::styled(s.glyph().to_string(), shade_style(theme, s)),
                Span::styled(format!(" {}  ", s.word()), theme.muted),
            ]
        })
        .collect();
    let marks = "D detected A ack M mitigated R resolved s status > message + several";
    let shades_len = 4 + ["up", "degraded", "partial", "down"].iter().map(|w| w.len() + 3).sum::<usize>();
    let mut first = vec![Span::raw(" ")];
    first.extend(shades);
    if 1 + shades_len + marks.len() <= width {
        first.push(Span::styled(marks, theme.muted));
        return vec![Line::from(first)];
    }
    vec![Line::from(first), Line::styled(format!(" {marks}"), theme.muted)]
}

/// The markers in the span with their times, as many as fit, the newest last; a first line
/// says how many older ones there are when they do not all fit.
fn marker_list(
    theme: &Theme,
    shape: &Shape,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    room: usize,
) -> Vec<Line<'static>> {
    let inside: Vec<_> = shape.markers.iter().filter(|m| m.at >= from && m.at <= to).collect();
    if room < 2 || inside.is_empty() {
        return Vec::new();
    }
    let fits = if inside.len() > room { room - 1 } else { inside.len() };
    let skip = inside.len() - fits;
    let mut out = Vec::new();
    if skip > 0 {
        out.push(Line::styled(format!(" ↑ {skip} more, earlier (a taller window shows them)"), theme.muted));
    }
    out.extend(inside[skip..].iter().map(|m| {
        Line::from(vec![
            Span::styled(format!(" {} ", m.mark.glyph()), mark_style(theme, m.mark)),
            Span::styled(format!("{} ", hhmm(m.at)), theme.muted),
            Span::styled(sanitize_str(&m.label, 120), theme.text),
        ])
    }));
    out
}
