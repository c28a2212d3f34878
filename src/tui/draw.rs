//! Drawing the screen from [`App`]. Only visible rows are built, so a frame costs the same
//! with ten events or a hundred thousand.

use chrono::Duration;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Cell, Clear, List, ListItem, Paragraph, Row, Table, Wrap};

use super::app::{App, Overlay, Pane, Panes};
use super::places;
use crate::board::Row as CheckRow;
use crate::checklist::ItemState;
use crate::fit::{cut_keeping, distinguishing};
use crate::journal::{Event, EventBody, Milestone};
use crate::monitor::State;
use crate::probe::{Health, fmt_ms, whole_ms};
use crate::sanitize::{sanitize_multiline, sanitize_str};

/// Wide enough for the four panes side by side.
const GRID_MIN: (u16, u16) = (120, 30);

pub fn draw(frame: &mut Frame, app: &mut App) {
    app.settle();
    // The textarea draws its cursor as a styled cell: show it only while editing.
    let cursor = if app.editing { app.theme.text.add_modifier(Modifier::REVERSED) } else { app.theme.text };
    app.notes.set_cursor_style(cursor);
    let area = frame.area();
    let banners = banners(app);
    let [banner, header, body, footer] = Layout::vertical([
        Constraint::Length(banners.len() as u16),
        Constraint::Length(2),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(banners), banner);
    draw_header(frame, app, header);
    let areas = pane_areas(app, body);
    app.areas = areas;
    for pane in Pane::ALL {
        let a = areas[pane];
        if a.width > 0 && a.height > 0 {
            draw_pane(frame, app, pane, a);
        }
    }
    draw_footer(frame, app, footer);
    if let Some(overlay) = app.overlay.clone() {
        draw_overlay(frame, app, &overlay, body);
    }
}

/// The lines above the header, one per banner in force: the session's own (demo, viewer,
/// replay), a remote screen's lost link, then the request to upgrade while entries from a newer warroom are skipped.
fn banners(app: &App) -> Vec<Line<'static>> {
    let own = app.banner.as_ref().map(|text| Line::styled(format!(" {text} "), app.theme.drill));
    let upgrade =
        app.upgrade.as_ref().map(|text| Line::styled(format!(" ⚠ {} ", sanitize_str(text, 200)), app.theme.overdue));
    let link = app.link_lost.as_ref().map(|text| Line::styled(format!(" ⚠ {text} "), app.theme.overdue));
    own.into_iter()
        .chain(link)
        .chain(unprobed_banner(app))
        .chain(unreachable_banners(app))
        .chain(upgrade)
        .chain(mirror_banners(app))
        .collect()
}

/// `⌁ paris unreachable since 14:02: Connection timed out`: a vantage is its own state, not
/// its checks'. Short, so it fits 80 columns: the reason's first part (ssh's own words come
/// first); the whole of it is in the timeline and the check's detail view.
fn unreachable_banners(app: &App) -> impl Iterator<Item = Line<'static>> + '_ {
    app.board.incident.vantages.iter().filter(|(_, v)| !v.reachable).map(|(name, v)| {
        let since = v.since.with_timezone(&app.board.clock.offset).format("%H:%M");
        let text = format!(
            " ⌁ {} unreachable since {since}: {} ",
            sanitize_str(name, 30),
            sanitize_str(short_reason(&v.detail), 120)
        );
        Line::styled(text, app.theme.degraded)
    })
}

/// Why a link failed, without the step it failed at (`… — while connecting to fra (fra)`)
/// or ssh's exit status (`(ssh exit status: 255)`).
fn short_reason(detail: &str) -> &str {
    let words = detail.split(" — ").next().unwrap_or(detail);
    words.rfind(" (ssh ").map_or(words, |at| &words[..at]).trim()
}

/// A line per mirror ("mirror fra: in step"), or on a mirror host the primary's ("primary
/// silent since 14:02"); marked when something is wrong.
fn mirror_banners(app: &App) -> impl Iterator<Item = Line<'static>> + '_ {
    app.mirrors.iter().map(|text| {
        let calm = text.ends_with(": in step") || text.contains("— in step");
        let style = if calm { app.theme.muted } else { app.theme.overdue };
        Line::styled(format!(" {} ", sanitize_str(text, 200)), style)
    })
}

/// Where each pane goes; hidden panes get an empty rectangle.
fn pane_areas(app: &App, body: Rect) -> Panes<Rect> {
    let mut out = Panes::default();
    if app.zoom {
        out[app.focus] = body;
        return out;
    }
    if body.width >= GRID_MIN.0 && body.height + 4 >= GRID_MIN.1 {
        // The left column widens (up to 55%) for check names that would otherwise be cut.
        let names = app.board.rows.iter().map(|r| r.name.chars().count()).max().unwrap_or(0).min(NAME_MAX);
        let wanted = (names + 10 + 6 + 6 + 6 + 12 + 7) as u32;
        let share = (wanted * 100 / u32::from(body.width)).clamp(45, 55) as u16;
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(share), Constraint::Percentage(100 - share)]).areas(body);
        let [checks, checklist] =
            Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(left);
        let [timeline, notes] = Layout::vertical([Constraint::Percentage(65), Constraint::Percentage(35)]).areas(right);
        return Panes { checks, timeline, checklist, notes };
    }
    // Small terminal: checks always visible on top (failures matter most), the other panes
    // take turns below.
    let wanted = (app.board.rows.len() as u16).saturating_add(2);
    // At least four rows when there is room; never more than half the body (a tiny terminal
    // gets what there is, not a panic).
    let half = body.height / 2;
    let top = if half >= 4 { wanted.clamp(4, half) } else { half };
    let [checks, rest] = Layout::vertical([Constraint::Length(top), Constraint::Min(3)]).areas(body);
    out.checks = checks;
    let below = if app.focus == Pane::Checks { Pane::Timeline } else { app.focus };
    out[below] = rest;
    out
}

// ---------------------------------------------------------------------------------------
// Header and footer

pub use crate::board::human_duration;

/// Minute precision for columns that would otherwise repaint every second.
pub fn coarse_duration(d: Duration) -> String {
    if d.num_seconds() < 60 { "<1m".into() } else { human_duration(d) }
}

fn elapsed_clock(d: Duration) -> String {
    let s = d.num_seconds().max(0);
    format!("T+{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

fn draw_header(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let i = &app.board.incident;
    let now = app.board.clock.now;
    let mut first = Vec::new();
    if i.is_drill() {
        first.push(Span::styled(" DRILL ", t.drill));
        first.push(Span::raw(" "));
    }
    if let Some(e) = &app.write_error {
        first.push(Span::styled(format!(" ✖ JOURNAL WRITE FAILED: {} ", sanitize_str(e, 80)), t.overdue));
        first.push(Span::raw(" "));
        // Said with the failure only: in the milliseconds a healthy write takes, the timeline
        // and Notes marks are enough.
        if !app.pending.is_empty() {
            let n = app.pending.len();
            let what = if n == 1 { "entry" } else { "entries" };
            first.push(Span::styled(format!(" ⧗ {n} {what} not on disk yet — retrying "), t.due_soon));
            first.push(Span::raw(" "));
        }
    }
    // Severity, status and the elapsed clock are what a glance is for: the title gives way.
    let mut facts = Vec::new();
    if let Some(sev) = i.severity {
        facts.push(Span::raw("  "));
        facts.push(Span::styled(format!("SEV{sev}"), if sev <= 2 { t.down } else { t.degraded }));
    }
    facts.push(Span::raw("  "));
    let status_style = if i.status == crate::journal::Status::Resolved { t.ok } else { t.accent };
    facts.push(Span::styled(format!("◆ {}", i.status.as_str().to_uppercase()), status_style));
    if let Some(e) = i.elapsed(now) {
        facts.push(Span::raw("  "));
        facts.push(Span::styled(elapsed_clock(e), t.title));
    }
    let taken: usize = first.iter().chain(&facts).map(Span::width).sum();
    let room = usize::from(area.width).saturating_sub(taken).max(12);
    let title = sanitize_str(i.title.as_deref().unwrap_or("(no incident open)"), 60);
    first.push(Span::styled(crate::fit::clip(&title, room), t.title));
    first.extend(facts);

    let local = now.with_timezone(&app.board.clock.offset);
    // Local time only where it differs: at 80 columns every cell of this line is wanted.
    let clock = if local.offset().local_minus_utc() == 0 {
        format!("{} UTC", now.format("%H:%M:%S"))
    } else {
        format!("{} UTC · {} local", now.format("%H:%M:%S"), local.format("%H:%M"))
    };
    let mut second = vec![Span::styled(clock, t.muted)];
    second.push(Span::raw("  "));
    match i.role("commander") {
        Some(ic) => second.push(Span::styled(format!("IC {}", sanitize_str(ic, 20)), t.text)),
        None => second.push(Span::styled("IC unassigned", t.degraded)),
    }
    if let Some(due) = app.board.next_update_due() {
        second.push(Span::raw("  "));
        if due < now {
            second.push(Span::styled(format!(" ⚠ PUBLIC UPDATE OVERDUE by {} ", human_duration(now - due)), t.overdue));
        } else {
            let style = if due - now <= Duration::minutes(5) { t.due_soon } else { t.text };
            // A promise made in public is shown as the public read it.
            let promised = match app.board.incident.promised_update {
                Some(at) if at == due => format!(" (promised by {})", app.board.public_time(at)),
                _ => String::new(),
            };
            second.push(Span::styled(format!("next update in {}{promised}", human_duration(due - now)), style));
        }
    }
    let marks: Vec<String> = [Milestone::Detected, Milestone::Acknowledged, Milestone::Mitigated]
        .into_iter()
        .filter_map(|m| {
            i.milestone(m).map(|at| {
                format!("{} {}", short_milestone(m), at.with_timezone(&app.board.clock.offset).format("%H:%M"))
            })
        })
        .collect();
    // Who is here comes before the milestones: on a narrow screen the line is cut at its end,
    // and the milestones are in the brief and the report too.
    second.extend(people(app));
    if !marks.is_empty() {
        second.push(Span::raw("  "));
        second.push(Span::styled(marks.join(" "), t.muted));
    }
    frame.render_widget(Paragraph::new(vec![Line::from(first), Line::from(second)]), area);
}

/// Who is gone without leaving (and since when) — first, as the more urgent on a narrow
/// screen — then who is on, with the roles they hold.
fn people(app: &App) -> Vec<Span<'static>> {
    let (t, i) = (&app.theme, &app.board.incident);
    let mut spans = Vec::new();
    let gone: Vec<String> = app
        .board
        .gone()
        .into_iter()
        .map(|(who, since)| {
            let login = who.split('@').next().unwrap_or(who);
            format!("{login} {}", since.with_timezone(&app.board.clock.offset).format("%H:%M"))
        })
        .collect();
    if !gone.is_empty() {
        spans.push(Span::raw("  "));
        spans.push(Span::styled(format!("gone: {}", sanitize_str(&gone.join(", "), 60)), t.degraded));
    }
    let present = app.board.present();
    if !present.is_empty() {
        spans.push(Span::raw("  "));
        // Who is connected, with the roles they hold (role names are matched on the login part).
        let names: Vec<String> = present
            .into_iter()
            .map(|o| {
                let login = o.split('@').next().unwrap_or(o);
                let roles: Vec<String> = i
                    .roles
                    .iter()
                    .filter(|(_, h)| h.person == *o || h.person.split('@').next() == Some(login))
                    .map(|(r, _)| crate::sanitize::name_as_written(r, 30))
                    .collect();
                if roles.is_empty() { login.to_string() } else { format!("{login} ({})", roles.join(", ")) }
            })
            .collect();
        spans.push(Span::styled(format!("on: {}", sanitize_str(&names.join(", "), 80)), t.muted));
    }
    spans
}

/// A line above the header while nobody probes: the states shown are frozen. A viewer is
/// told what would end it (a follower takes over by itself once it can). Most important
/// first: a narrow terminal cuts the end.
fn unprobed_banner(app: &App) -> Option<Line<'static>> {
    // A mirror's copy is probed on its primary, and by nobody here until it is promoted.
    if app.mirrors.iter().any(|l| crate::mirror::status::is_copy_line(l)) {
        return None;
    }
    let since = app.board.unprobed()?;
    let mut text = match since {
        Some(at) => format!(" ⚠ nobody is probing since {}", at.with_timezone(&app.board.clock.offset).format("%H:%M")),
        None => " ⚠ nobody is probing this journal's checks".to_string(),
    };
    if app.read_only {
        text.push_str(" — a warroom without --read-only would take over");
    }
    text.push_str(" · the states shown are frozen ");
    Some(Line::styled(text, app.theme.overdue))
}

fn short_milestone(m: Milestone) -> &'static str {
    match m {
        Milestone::Detected => "det",
        Milestone::Acknowledged => "ack",
        Milestone::Mitigated => "mit",
        Milestone::Resolved => "res",
    }
}

fn draw_footer(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let line = if let Some(flash) = &app.flash {
        Line::from(Span::styled(format!(" {flash}"), t.accent))
    } else {
        use super::keys::Action::*;
        let pane_hints: &[(super::keys::Action, &str)] = match (app.editing, app.focus) {
            (true, _) => &[(Commit, "save note"), (Close, "stop editing")],
            (_, Pane::Checks) => &[(Open, "detail"), (Acknowledge, "ack"), (RunNow, "run"), (Pause, "pause")],
            (_, Pane::Timeline) => &[
                (Open, "detail"),
                (Pin, "pin"),
                (Filter, "filter"),
                (Correct, "correct"),
                (Strike, "strike"),
                (FollowUp, "follow-up"),
            ],
            (_, Pane::Checklist) => {
                &[(Open, "item"), (Toggle, "done"), (Copy, "copy msg"), (EditMessage, "edit"), (Send, "send")]
            }
            (_, Pane::Notes) => &[(Edit, "write"), (Commit, "save")],
        };
        // By priority: help and quit always fit; the rest while there is room.
        let mut hints: Vec<(super::keys::Action, &str)> = Vec::new();
        if !app.editing {
            hints.extend([(Help, "help"), (Quit, "quit")]);
        }
        hints.extend(pane_hints.iter().copied());
        if !app.editing {
            hints.extend([(NextPane, "pane"), (Zoom, "zoom"), (SetStatus, "status")]);
            hints.extend([(Role, "role"), (Brief, "brief"), (Milestone, "milestone")]);
        }
        // A viewer is offered only what it can do: every other key here writes.
        if app.read_only {
            hints.retain(|(a, _)| matches!(a, Help | Quit | Open | Filter | Copy | NextPane | Zoom | Brief));
        }
        let mut spans = Vec::new();
        let mut used = 0usize;
        for (a, what) in hints {
            let keys = format!(" {}", app.keys.keys_for(a));
            let label = format!(" {what} ");
            let width = keys.chars().count() + label.chars().count();
            if used + width > area.width as usize {
                break;
            }
            used += width;
            spans.push(Span::styled(keys, t.key));
            spans.push(Span::styled(label, t.muted));
        }
        Line::from(spans)
    };
    frame.render_widget(Paragraph::new(line), area);
}

// ---------------------------------------------------------------------------------------
// Panes

fn block<'a>(app: &App, pane: Pane, extra: String) -> Block<'a> {
    let focused = app.focus == pane;
    let n = pane.number();
    let title = format!(" {n} {}{extra} ", pane.title());
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused { BorderType::Thick } else { BorderType::Plain })
        .border_style(if focused { app.theme.border_focus } else { app.theme.border })
        .title(Span::styled(title, if focused { app.theme.border_focus } else { app.theme.title }))
}

/// First visible row so that the selection stays in view.
pub fn scroll_offset(app: &App, pane: Pane, height: usize) -> usize {
    let sel = app.selected[pane];
    if height == 0 {
        return 0;
    }
    let rows = match pane {
        Pane::Checks => app.board.rows.len(),
        Pane::Timeline => app.filtered.len(),
        Pane::Checklist => app.board.checklist.as_ref().map_or(0, |c| c.items.len()),
        Pane::Notes => 0,
    };
    if pane == Pane::Timeline && app.at_newest {
        return rows.saturating_sub(height);
    }
    (sel + 1).saturating_sub(height).min(rows.saturating_sub(height))
}

fn draw_pane(frame: &mut Frame, app: &App, pane: Pane, area: Rect) {
    match pane {
        Pane::Checks => draw_checks(frame, app, area),
        Pane::Timeline => draw_timeline(frame, app, area),
        Pane::Checklist => draw_checklist(frame, app, area),
        Pane::Notes => draw_notes(frame, app, area),
    }
}

pub fn state_glyph(s: State) -> (&'static str, &'static str) {
    match s {
        State::Up => ("✔", "up"),
        State::Degraded => ("▲", "degraded"),
        State::Down => ("✖", "down"),
        State::Unknown => ("?", "unknown"),
    }
}

/// A cell's style on a row that may be the selected one. The selected row takes the selection's
/// colours whole — a role's colour on the selection's background is unreadable in some theme
/// (the sparkline, drawn in the accent, vanished) — and keeps the role's emphasis (bold,
/// underline, struck), so `down` still stands out; the glyph and word say the state anyway.
fn on_row(app: &App, selected: bool, style: Style) -> Style {
    if selected { style.patch(app.theme.selection) } else { style }
}

fn state_style(app: &App, s: State) -> Style {
    match s {
        State::Up => app.theme.ok,
        State::Degraded => app.theme.degraded,
        State::Down => app.theme.down,
        State::Unknown => app.theme.unknown,
    }
}

const SPARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
/// Upper bounds (ms) of the sparkline's buckets. One absolute scale for every row: rows can
/// be compared at a glance, and a steady latency draws the same cells every time (a row
/// scaled to its own maximum would repaint on each sample — bytes over a slow link).
const BUCKETS_MS: [u128; 7] = [5, 10, 25, 50, 100, 250, 1000];

fn spark(latency: std::time::Duration) -> char {
    let ms = latency.as_millis();
    SPARKS[BUCKETS_MS.iter().position(|b| ms < *b).unwrap_or(7)]
}

fn sparkline(row: &CheckRow, width: usize) -> String {
    let skip = row.history.len().saturating_sub(width);
    row.history.iter().skip(skip).map(|s| if s.health == Health::Down { '✕' } else { spark(s.latency()) }).collect()
}

/// The median latency of the last few results: the figure people read, without the
/// millisecond jitter of the latest sample.
fn typical_latency(row: &CheckRow) -> Option<std::time::Duration> {
    let mut recent: Vec<_> = row.history.iter().rev().take(5).map(|s| s.latency()).collect();
    recent.sort();
    recent.get(recent.len() / 2).copied()
}

fn draw_checks(frame: &mut Frame, app: &App, area: Rect) {
    let ordered = app.board.ordered_rows();
    let order: Vec<usize> = ordered.iter().map(|(i, _)| *i).collect();
    let failing_at = |pos: &usize| ordered[*pos].1.is_failing();
    let failing = (0..order.len()).filter(failing_at).count();
    let unknown = ordered.iter().filter(|(_, state)| *state == State::Unknown).count();
    // "All up" only when every row is: a row with no word yet (a place still connecting) is not.
    let extra = if failing > 0 {
        format!(" — {failing} failing of {}", order.len())
    } else if unknown > 0 {
        format!(" — {unknown} unknown of {}", order.len())
    } else {
        format!(" — {} all up", order.len())
    };
    let blk = block(app, Pane::Checks, extra);
    let inner = blk.inner(area);
    if order.is_empty() {
        frame.render_widget(blk, area);
        let msg = "No checks configured. `warroom init` writes an example warroom.toml.";
        frame.render_widget(Paragraph::new(msg).style(app.theme.muted).wrap(Wrap { trim: true }), inner);
        return;
    }
    let height = inner.height as usize;
    let offset = scroll_offset(app, Pane::Checks, height);
    let end = (offset + height).min(order.len());
    let marks = Hidden::count(offset, end, order.len(), "failing", failing_at);
    frame.render_widget(marks.on(app, blk), area);
    let sel = app.selected[Pane::Checks];
    let notes: Vec<String> = order[offset..end].iter().map(|&i| check_note(app, &app.board.rows[i])).collect();
    let name_need = order.iter().map(|&i| app.board.rows[i].name.chars().count()).max().unwrap_or(0).min(NAME_MAX);
    let note_need = notes.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let marks: Vec<Vec<places::Mark>> =
        order[offset..end].iter().map(|&i| places::marks(app, &app.board.rows[i])).collect();
    // The places column is there only when a row shown has places; it takes the room the
    // names leave, before the note and the sparkline, and never less than shows each row's
    // first place (the one that explains its verdict) whole: names give way for it.
    let spark_max = if inner.width >= 90 { 12 } else { 6 };
    let names_first = check_columns(inner.width, name_need, note_need, spark_max);
    let spare = (inner.width as usize).saturating_sub(CHECK_FIXED + names_first.name + 1);
    let full = marks.iter().map(|m| places::full_width(m)).max().unwrap_or(0);
    let least = marks.iter().map(|m| places::least_width(m)).max().unwrap_or(0);
    let most = (inner.width as usize).saturating_sub(CHECK_FIXED + 1 + PLACES_LEAVE_NAMES);
    let places_width = full.min(spare.max(least)).min(most);
    let places: Vec<String> = marks.iter().map(|m| places::fit(m, places_width)).collect();
    let places_room = if places_width > 0 { places_width as u16 + 1 } else { 0 };
    let cols = check_columns(inner.width.saturating_sub(places_room), name_need, note_need, spark_max);
    // What the last column gets (CHECK_FIXED counts the gaps between the columns).
    let note_width =
        (inner.width.saturating_sub(places_room) as usize).saturating_sub(CHECK_FIXED + cols.name + cols.spark);
    let rows: Vec<Row> = order[offset..end]
        .iter()
        .zip(notes)
        .zip(places)
        .enumerate()
        .map(|(n, ((&i, note), places))| {
            let row = &app.board.rows[i];
            let state = ordered[offset + n].1;
            let (glyph, word) = state_glyph(state);
            let view = row.view.as_ref();
            let (glyph, word) = match view {
                Some(v) if v.paused => ("⏸", "paused"),
                Some(v) if v.silenced => ("∅", "silenced"),
                Some(v) if v.no_connectivity => ("?", "no conn"),
                Some(v) if v.blocked_by.is_some() => (glyph, "blocked"),
                _ => (glyph, word),
            };
            let latency = typical_latency(row).map(|l| format!("{}ms", whole_ms(l))).unwrap_or_default();
            let since = app
                .board
                .incident
                .checks
                .get(&row.name)
                .map(|c| coarse_duration(app.board.clock.now - c.since))
                .unwrap_or_default();
            let name = fit_name(app, &order, i, cols.name);
            // Why it fails, in the room the columns leave (the note column is sized without
            // it, so a long reason never takes room from the names).
            let note = match failure_reason(app, row).filter(|_| state.is_failing()) {
                Some(reason) if note.is_empty() => crate::fit::clip(&reason, note_width),
                // The note (ack, blocked by, back at) stays whole; the reason takes what is left.
                Some(reason) => match note_width.checked_sub(crate::fit::width(&note) + 3) {
                    Some(room) if room >= 4 => format!("{note} · {}", crate::fit::clip(&reason, room)),
                    _ => note,
                },
                None => note,
            };
            let pos = offset + n;
            let selected = pos == sel && app.focus == Pane::Checks;
            let style = if selected { app.theme.selection } else { Style::default() };
            let state_style = if view.is_some_and(|v| v.silenced) { app.theme.muted } else { state_style(app, state) };
            let on_row = |s: Style| on_row(app, selected, s);
            let mut cells = vec![Cell::from(format!("{glyph} {word}")).style(on_row(state_style))];
            if places_width > 0 {
                cells.push(Cell::from(places).style(on_row(app.theme.text)));
            }
            cells.extend([
                Cell::from(name),
                Cell::from(latency).style(on_row(app.theme.muted)),
                Cell::from(sparkline(row, cols.spark)).style(on_row(app.theme.accent)),
                Cell::from(since).style(on_row(app.theme.muted)),
                Cell::from(note).style(on_row(app.theme.muted)),
            ]);
            Row::new(cells).style(style)
        })
        .collect();
    let mut widths = vec![Constraint::Length(10)];
    if places_width > 0 {
        widths.push(Constraint::Length(places_width as u16));
    }
    widths.extend([
        Constraint::Length(cols.name as u16),
        Constraint::Length(6),
        Constraint::Length(cols.spark as u16),
        Constraint::Length(6),
        Constraint::Fill(1),
    ]);
    frame.render_widget(Table::new(rows, widths).column_spacing(1), inner);
}

/// Past this a name is cut even on a wide screen (the detail view shows it whole).
const NAME_MAX: usize = 60;

/// The room a check's name keeps however many places stand beside it.
const PLACES_LEAVE_NAMES: usize = 8;

/// What a check row says after its figures: why it is blocked, who acknowledged it, or when
/// the server said it will be back.
fn check_note(app: &App, row: &CheckRow) -> String {
    let check = app.board.incident.checks.get(&row.name);
    if let Some(parent) = row.view.as_ref().and_then(|v| v.blocked_by.as_ref()) {
        format!("by {}", sanitize_str(parent, 60))
    } else if let Some((who, _)) = check.and_then(|c| c.acknowledged.as_ref()) {
        format!("ack {}", sanitize_str(who.split('@').next().unwrap_or(who), 40))
    } else if let Some(at) = row.history.newest().and_then(|s| s.retry_after) {
        format!("back {}", at.with_timezone(&app.board.clock.offset).format("%H:%M"))
    } else {
        String::new()
    }
}

/// Why a failing row fails: its latest reading when that failed too, else what the journal
/// recorded (a viewer without readings, a row between results).
fn failure_reason(app: &App, row: &CheckRow) -> Option<String> {
    let latest = row.history.newest().filter(|r| r.health != crate::probe::Health::Up).map(|r| r.detail.as_str());
    let recorded = || app.board.incident.checks.get(&row.name).map(|c| c.detail.as_str());
    let reason = latest.or_else(recorded).filter(|d| !d.trim().is_empty())?;
    Some(sanitize_str(reason, 200))
}

/// State, latency and since, with the five gaps between six columns.
const CHECK_FIXED: usize = 10 + 6 + 6 + 5;

/// Widths of the Checks pane's columns that depend on the content.
#[derive(Debug, PartialEq)]
struct CheckColumns {
    name: usize,
    spark: usize,
}

/// Names first, then the note (ack, Retry-After, blocked by), then the sparkline; the note
/// column takes whatever is left. When even the names do not fit, the note keeps a third.
fn check_columns(width: u16, name_need: usize, note_need: usize, spark_max: usize) -> CheckColumns {
    let free = (width as usize).saturating_sub(CHECK_FIXED);
    let note_floor = if name_need + note_need > free { note_need.min(free / 3) } else { note_need };
    let name = name_need.min(free - note_floor);
    let left = free - name - note_floor;
    CheckColumns { name, spark: spark_max.min(left) }
}

/// A check's name in `width` cells, cut (if it must be) so that what tells it apart from the
/// other rows stays: `blackbox / …api-1.example…` rather than `blackbox / `.
fn fit_name(app: &App, order: &[usize], i: usize, width: usize) -> String {
    let name = sanitize_str(&app.board.rows[i].name, 200);
    let chars: Vec<char> = name.chars().collect();
    if chars.len() <= width {
        return name;
    }
    let others = order.iter().filter(|&&o| o != i).map(|&o| app.board.rows[o].name.as_str());
    let (p, e) = distinguishing(&chars, others);
    cut_keeping(&chars, width, p, e)
}

/// How many rows of a pane are out of view above and below, and how many of them fail.
#[derive(Debug, PartialEq)]
struct Hidden {
    above: usize,
    below: usize,
    failing_above: usize,
    failing_below: usize,
    /// What the counted rows are: "failing" checks, "overdue" items.
    word: &'static str,
}

impl Hidden {
    /// Rows `[start, end)` of `total` are shown; `failing` says which positions fail.
    fn count(start: usize, end: usize, total: usize, word: &'static str, failing: impl Fn(&usize) -> bool) -> Hidden {
        Hidden {
            word,
            above: start,
            below: total.saturating_sub(end),
            failing_above: (0..start).filter(&failing).count(),
            failing_below: (end..total).filter(&failing).count(),
        }
    }

    /// The pane's border says what is out of view: `↑ 2 more (2 failing)` at the top right,
    /// `↓ 3 more` at the bottom right; failing rows off-screen in the failure colour.
    fn on<'a>(&self, app: &App, blk: Block<'a>) -> Block<'a> {
        let mark = |arrow: &str, n: usize, failing: usize| {
            let text = if failing > 0 {
                format!(" {arrow} {n} more ({failing} {}) ", self.word)
            } else {
                format!(" {arrow} {n} more ")
            };
            Line::styled(text, if failing > 0 { app.theme.down } else { app.theme.muted }).right_aligned()
        };
        let mut blk = blk;
        if self.above > 0 {
            blk = blk.title_top(mark("↑", self.above, self.failing_above));
        }
        if self.below > 0 {
            blk = blk.title_bottom(mark("↓", self.below, self.failing_below));
        }
        blk
    }
}

/// A distinct glyph per kind of event, so the timeline reads without colour.
pub fn event_glyph(e: &Event) -> &'static str {
    match &e.body {
        EventBody::IncidentOpened { .. } => "●",
        EventBody::StatusChanged { .. } => "◆",
        EventBody::MilestoneReached { .. } => "⚑",
        EventBody::SeverityChanged { .. } => "‼",
        EventBody::RoleAssigned { .. } => "♟",
        EventBody::CheckChanged { to, .. } | EventBody::VantageCheckChanged { to, .. } => {
            state_glyph(crate::recorder::from_check_state(*to)).0
        }
        EventBody::NoteAdded { .. } => "✎",
        EventBody::EventPinned { .. } => "★",
        EventBody::ChecklistItemDone { .. } => "☑",
        EventBody::ChecklistItemUndone { .. } => "☐",
        EventBody::MessageSent { error: None, .. } => "✉",
        EventBody::MessageSent { .. } => "✉✖",
        EventBody::MessagePrepared { .. } => "✍",
        EventBody::OperatorJoined {} => "→",
        EventBody::OperatorLeft {} => "←",
        EventBody::DrillStarted { .. } | EventBody::DrillEnded { .. } => "⚠",
        EventBody::Correction { .. } => "↺",
        EventBody::EventUnpinned { .. } => "☆",
        EventBody::EntryStruck { .. } => "⊘",
        EventBody::FollowUpAdded { .. } => "⚐",
        EventBody::FollowUpClosed { .. } => "✓",
        EventBody::VantageUnreachable { .. } => "⌁",
        EventBody::VantageReachable { .. } => "⇄",
    }
}

fn event_style(app: &App, e: &Event) -> Style {
    match &e.body {
        EventBody::CheckChanged { to, .. } => state_style(app, crate::recorder::from_check_state(*to)),
        EventBody::MessageSent { error: Some(_), .. } => app.theme.down,
        EventBody::MessageSent { .. } | EventBody::ChecklistItemDone { .. } => app.theme.done,
        EventBody::StatusChanged { .. } | EventBody::SeverityChanged { .. } | EventBody::MilestoneReached { .. } => {
            app.theme.accent
        }
        EventBody::OperatorJoined {} | EventBody::OperatorLeft {} | EventBody::EventPinned { .. } => app.theme.muted,
        _ => app.theme.text,
    }
}

fn draw_timeline(frame: &mut Frame, app: &App, area: Rect) {
    let mut extra = format!(" — {} events", app.board.incident.timeline.len());
    if !app.filter.is_empty() {
        extra = format!(
            " — filter \"{}\": {} of {}",
            sanitize_str(&app.filter, 20),
            app.filtered.len(),
            app.board.incident.timeline.len()
        );
    }
    if !app.at_newest {
        extra.push_str(" (scrolled; End: newest)");
    }
    let blk = block(app, Pane::Timeline, extra);
    let inner = blk.inner(area);
    // This session's entries not on disk yet, marked, below the newest (at most half the pane).
    let marked = if app.at_newest { app.pending.len().min(inner.height as usize / 2) } else { 0 };
    let [inner, below] = Layout::vertical([Constraint::Min(0), Constraint::Length(marked as u16)]).areas(inner);
    draw_pending(frame, app, below, marked);
    let height = inner.height as usize;
    let offset = scroll_offset(app, Pane::Timeline, height);
    let shown = (offset + height).min(app.filtered.len());
    let hidden = Hidden::count(offset, shown, app.filtered.len(), "", |_| false);
    frame.render_widget(hidden.on(app, blk), area);
    let selected = app.selected_event();
    let items: Vec<ListItem> = app.filtered[offset..shown]
        .iter()
        .map(|&i| {
            let e = &app.board.incident.timeline[i];
            let who = e.author.split('@').next().unwrap_or(&e.author);
            let chosen = Some(i) == selected && app.focus == Pane::Timeline && !app.at_newest;
            let mut spans = vec![
                Span::styled(
                    format!("{} ", e.ts.with_timezone(&app.board.clock.offset).format("%H:%M:%S")),
                    app.theme.muted,
                ),
                Span::styled(if app.board.incident.pinned_by(i).is_some() { "★" } else { " " }, app.theme.accent),
                Span::styled(format!("{} ", event_glyph(e)), event_style(app, e)),
                Span::styled(e.summary(), superseded_style(app, i, event_style(app, e))),
                Span::styled(format!("  — {}", sanitize_str(who, 16)), app.theme.muted),
            ];
            spans.extend(amendment(app, i));
            let style = if chosen { app.theme.selection } else { Style::default() };
            if chosen {
                spans = spans.into_iter().map(|s| s.patch_style(app.theme.selection)).collect();
            }
            ListItem::new(Line::from(spans)).style(style)
        })
        .collect();
    frame.render_widget(List::new(items), inner);
}

/// The last `rows` pending entries, each marked as not on disk yet.
fn draw_pending(frame: &mut Frame, app: &App, area: Rect, rows: usize) {
    let items: Vec<ListItem> = app.pending[app.pending.len() - rows..]
        .iter()
        .map(|e| {
            ListItem::new(Line::from(vec![
                Span::styled(
                    format!("{} ", e.ts.with_timezone(&app.board.clock.offset).format("%H:%M:%S")),
                    app.theme.muted,
                ),
                Span::styled("⧗", app.theme.due_soon),
                Span::styled(format!("{} ", event_glyph(e)), app.theme.muted),
                Span::styled(e.summary(), app.theme.muted),
                Span::styled("  — pending: not on disk yet", app.theme.due_soon),
            ]))
        })
        .collect();
    frame.render_widget(List::new(items), area);
}

/// A struck or corrected entry is drawn struck through: it stays, but no longer stands.
fn superseded_style(app: &App, i: usize, style: Style) -> Style {
    let incident = &app.board.incident;
    if incident.struck(i).is_some() || !incident.corrections(i).is_empty() {
        style.add_modifier(Modifier::CROSSED_OUT)
    } else {
        style
    }
}

/// What replaced a struck or corrected entry, after it on its line.
fn amendment(app: &App, i: usize) -> Option<Span<'static>> {
    let incident = &app.board.incident;
    if let Some(text) = incident.corrected_text(i) {
        return Some(Span::styled(format!("  ↺ {}", sanitize_str(text, 120)), app.theme.degraded));
    }
    if !incident.corrections(i).is_empty() {
        return Some(Span::styled(" (corrected)", app.theme.degraded));
    }
    incident.struck(i).map(|_| Span::styled(" (struck)", app.theme.degraded))
}

fn draw_checklist(frame: &mut Frame, app: &App, area: Rect) {
    let items = app.checklist_rows();
    let overdue = items.iter().filter(|(_, v)| v.state == ItemState::Overdue).count();
    let done = items.iter().filter(|(_, v)| v.state == ItemState::Done).count();
    let name = app.board.checklist.as_ref().map(|c| c.name.clone()).unwrap_or_default();
    let extra = format!(
        " {name} — {done}/{} done{}",
        items.len(),
        if overdue > 0 { format!(", {overdue} OVERDUE") } else { String::new() }
    );
    let blk = block(app, Pane::Checklist, extra);
    let mut inner = blk.inner(area);
    if items.is_empty() {
        frame.render_widget(blk, area);
        frame.render_widget(Paragraph::new("No checklist loaded.").style(app.theme.muted), inner);
        return;
    }
    // The selected item's message, rendered from the live incident, under the list.
    if app.focus == Pane::Checklist
        && inner.height >= 10
        && let Some((item, _)) = items.get(app.selected[Pane::Checklist])
    {
        let mut lines = Vec::new();
        if let Some((heading, text)) = item_message(app, item, 1000) {
            lines.push(Line::from(Span::styled(heading, app.theme.title)));
            lines.extend(text.lines().map(|l| Line::from(Span::styled(l.to_string(), app.theme.text))));
        }
        if let Some(hint) = &item.hint {
            lines.push(Line::from(Span::styled(format!("hint: {}", sanitize_str(hint, 300)), app.theme.muted)));
        }
        if !lines.is_empty() {
            let width = inner.width.max(1) as usize;
            let height = (wrapped_rows(&lines, width) as u16 + 1).min(inner.height / 2);
            let [list, preview] = Layout::vertical([Constraint::Min(3), Constraint::Length(height)]).areas(inner);
            let p = Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .block(Block::default().borders(Borders::TOP).border_style(app.theme.border));
            frame.render_widget(p, preview);
            inner = list;
        }
    }
    let now = app.board.clock.now;
    let whens: Vec<String> = items.iter().map(|(_, v)| item_when(app, v, now)).collect();
    let role_w = items.iter().filter_map(|(i, _)| i.role.as_ref()).map(|r| r.chars().count()).max().unwrap_or(0);
    let when_w = whens.iter().map(|w| w.chars().count()).max().unwrap_or(0);
    // State, role and when are short; the title takes the rest and wraps onto more lines.
    let title_w = (inner.width as usize).saturating_sub(10 + role_w.min(12) + when_w + 3).max(8);
    let height = inner.height as usize;
    let whole: Vec<String> = items.iter().map(|(i, _)| sanitize_str(&i.title, 300)).collect();
    let full: Vec<usize> = whole.iter().map(|t| wrap(t, title_w, usize::MAX).len()).collect();
    // Each title on as many lines as it takes while the whole list fits; else two lines
    // each (cut at the end of the second), so that more items stay in view.
    let cap = (2..=6).rev().find(|&c| full.iter().map(|&n| n.min(c)).sum::<usize>() <= height).unwrap_or(2);
    let titles: Vec<Vec<String>> = whole.iter().map(|t| wrap(t, title_w, cap)).collect();
    let heights: Vec<usize> = titles.iter().map(Vec::len).collect();
    let sel = app.selected[Pane::Checklist];
    let (start, end) = visible_span(&heights, scroll_offset(app, Pane::Checklist, height), sel, height);
    let hidden = Hidden::count(start, end, items.len(), "overdue", |&n| items[n].1.state == ItemState::Overdue);
    frame.render_widget(hidden.on(app, blk), area);
    let rows: Vec<Row> = items[start..end]
        .iter()
        .zip(titles[start..end].iter().zip(&whens[start..end]))
        .enumerate()
        .map(|(n, ((item, v), (title, when)))| {
            let style = match v.state {
                ItemState::Overdue => app.theme.overdue,
                ItemState::DueSoon => app.theme.due_soon,
                ItemState::Done => app.theme.done,
                ItemState::NotApplicable => app.theme.muted,
                ItemState::Pending => app.theme.text,
            };
            let selected = start + n == sel && app.focus == Pane::Checklist;
            let sel = if selected { app.theme.selection } else { Style::default() };
            let lines = title.len() as u16;
            let title: Vec<Line> = title.iter().map(|l| Line::from(l.clone())).collect();
            let when_style = if v.state == ItemState::Overdue { app.theme.down } else { app.theme.muted };
            Row::new(vec![
                Cell::from(format!("{} {}", v.state.glyph(), v.state.word())).style(on_row(app, selected, style)),
                Cell::from(title),
                Cell::from(item.role.clone().unwrap_or_default()).style(on_row(app, selected, app.theme.muted)),
                Cell::from(when.clone()).style(on_row(app, selected, when_style)),
            ])
            .height(lines)
            .style(sel)
        })
        .collect();
    let widths = [
        Constraint::Length(10),
        Constraint::Length(title_w as u16),
        Constraint::Length(role_w.min(12) as u16),
        Constraint::Fill(1),
    ];
    frame.render_widget(Table::new(rows, widths).column_spacing(1), inner);
}

/// When a checklist item was done (and by whom), or when it is due.
fn item_when(app: &App, v: &crate::checklist::ItemView, now: chrono::DateTime<chrono::Utc>) -> String {
    match v.state {
        ItemState::Done => match &v.done_by {
            Some((who, at)) => format!(
                "{} {}{}",
                who.split('@').next().unwrap_or(who),
                at.with_timezone(&app.board.clock.offset).format("%H:%M"),
                if v.count > 1 { format!(" ×{}", v.count) } else { String::new() }
            ),
            None => String::new(),
        },
        ItemState::NotApplicable => String::new(),
        _ if v.due_at < now => format!("{} late", human_duration(now - v.due_at)),
        _ => format!(
            "due {} (in {})",
            v.due_at.with_timezone(&app.board.clock.offset).format("%H:%M"),
            human_duration(v.due_at - now)
        ),
    }
}

/// `text` on lines of at most `width` characters, broken between words, at most `max`
/// lines (the last one cut with `…` when there is more).
fn wrap(text: &str, width: usize, max: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let (have, need) = (line.chars().count(), word.chars().count());
        if have > 0 && have + 1 + need > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
        // A word longer than a line is broken where the line ends.
        while line.chars().count() > width {
            let rest: String = line.chars().skip(width).collect();
            line = line.chars().take(width).collect();
            lines.push(std::mem::replace(&mut line, rest));
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    if lines.len() > max {
        lines.truncate(max);
        let last = &mut lines[max - 1];
        let kept: String = last.chars().take(width.saturating_sub(1)).collect();
        *last = format!("{kept}…");
    }
    lines
}

/// Items `[start, end)` that fit in `height` rows, each `heights[i]` rows tall: from
/// `offset`, moved down until the selected item is whole in view.
fn visible_span(heights: &[usize], offset: usize, selected: usize, height: usize) -> (usize, usize) {
    let mut start = offset.min(heights.len());
    let selected = selected.min(heights.len().saturating_sub(1));
    while start < selected && heights[start..=selected].iter().sum::<usize>() > height {
        start += 1;
    }
    let mut end = start;
    let mut used = 0;
    while end < heights.len() && used + heights[end] <= height {
        used += heights[end];
        end += 1;
    }
    (start, end)
}

fn draw_notes(frame: &mut Frame, app: &App, area: Rect) {
    let extra = match (&app.message_draft, app.editing, &app.correcting) {
        (Some(draft), _, _) => message_draft_title(draft, app.editing),
        (None, true, Some(_)) => " — correcting a note: Ctrl-S saves the correction, Esc abandons".to_string(),
        (None, true, None) => " — editing: Ctrl-S saves, Esc stops".to_string(),
        (None, false, _) => String::new(),
    };
    let blk = block(app, Pane::Notes, extra);
    let inner = blk.inner(area);
    // Saved notes the journal does not have yet: marked, above the one being written.
    let shown = app.unsaved.len().min(inner.height.saturating_sub(1) as usize / 2);
    let lines: Vec<Line> = app.unsaved[app.unsaved.len() - shown..]
        .iter()
        .map(|n| {
            let first = n.text.lines().next().unwrap_or_default();
            Line::from(vec![
                Span::styled("⧗ pending: ", app.theme.due_soon),
                Span::styled(sanitize_str(first, inner.width as usize), app.theme.muted),
            ])
        })
        .collect();
    let [marked, editor] = Layout::vertical([Constraint::Length(shown as u16), Constraint::Min(0)]).areas(inner);
    frame.render_widget(Paragraph::new(lines), marked);
    frame.render_widget(&app.notes, editor);
    // The editor scrolls to its cursor as it draws: only then is it known what is out of view.
    let top = app.notes.scroll_offset().0 as usize;
    let total = app.notes.lines().len();
    let hidden = Hidden::count(top, top + editor.height as usize, total, "", |_| false);
    frame.render_widget(hidden.on(app, blk), area);
}

/// Notes holding an item's message says so, and what Ctrl-S will do with it.
fn message_draft_title(draft: &crate::tui::MessageDraft, editing: bool) -> String {
    let item = sanitize_str(&draft.item, 30);
    let what = match (&draft.channel, editing) {
        (Some(channel), true) => format!("Ctrl-S sends on {}, Esc stops", sanitize_str(channel, 30)),
        (Some(_), false) => "m on the item (or Ctrl-S) sends it".to_string(),
        (None, _) => "no channel: Ctrl-S saves it as a note".to_string(),
    };
    format!(" — MESSAGE for {item}: {what}")
}

// ---------------------------------------------------------------------------------------
// Overlays

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

fn popup<'a>(app: &App, title: &str) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(app.theme.border_focus)
        .title(Span::styled(format!(" {title} "), app.theme.title))
}

fn draw_overlay(frame: &mut Frame, app: &App, overlay: &Overlay, body: Rect) {
    match overlay {
        Overlay::Help => draw_help(frame, app, body),
        Overlay::StateTimeline(window) => super::timeline::draw(frame, app, *window, body),
        Overlay::CheckDetail(name) => draw_check_detail(frame, app, name, body),
        Overlay::EventDetail(i) => draw_event_detail(frame, app, *i, body),
        Overlay::ItemDetail(id) => draw_item_detail(frame, app, id, body),
        Overlay::Filter(text) => draw_filter(frame, app, text, body),
        Overlay::Scorecard(text) => draw_scorecard(frame, app, text, body),
        Overlay::ConfirmQuit => draw_confirm_quit(frame, app, body),
        Overlay::ConfirmPromote { heard_secs: Some(secs) } => {
            let lines = [
                format!("The primary was heard {secs} s ago: it may be alive, and"),
                "promoting now makes two primaries of one incident.".to_string(),
                "Promote anyway?  y / n".to_string(),
            ];
            draw_confirm(frame, app, "Promote? The primary was heard lately", &lines, body)
        }
        Overlay::ConfirmPromote { heard_secs: None } => {
            let lines = [
                "Make this mirror's copy the primary? It takes no more lines",
                "from the old primary, and warroom restarts here to poll and",
                "send with the config the primary shipped.  y / n",
            ];
            draw_confirm(frame, app, "Promote?", &lines.map(String::from), body)
        }
        Overlay::Picker(picker) => draw_picker(frame, app, picker, body),
        Overlay::Confirm { title, lines, .. } => draw_confirm(frame, app, title, lines, body),
        Overlay::Brief { text, scroll } => draw_brief(frame, app, text, *scroll, body),
        Overlay::ConfirmSend { item, channel, text, .. } => draw_confirm_send(frame, app, item, channel, text, body),
    }
}

/// The key list, scrolled when it is longer than the screen.
fn draw_help(frame: &mut Frame, app: &App, body: Rect) {
    let help = app.keys.help();
    let key_w = help.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(8);
    let mut lines: Vec<Line> = help
        .iter()
        .map(|(keys, what)| {
            Line::from(vec![
                Span::styled(format!(" {keys:<key_w$}  "), app.theme.key),
                Span::styled(*what, app.theme.text),
            ])
        })
        .collect();
    lines.push(Line::from(Span::styled(" Mouse: click selects, wheel scrolls. Any key closes.", app.theme.muted)));
    let area = centered(body, 64, lines.len() as u16 + 2);
    // Longer than a small screen: it scrolls, and the title says so.
    let fits = (area.height as usize).saturating_sub(2);
    let skip = app.help_scroll.min(lines.len().saturating_sub(fits));
    let title = if skip + fits < lines.len() { "Keys — j/PgDn more" } else { "Keys" };
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(lines.split_off(skip)).block(popup(app, title)), area);
}

/// Everything known about one check.
fn draw_check_detail(frame: &mut Frame, app: &App, name: &str, body: Rect) {
    let Some(row) = app.board.rows.iter().find(|c| c.name == name) else { return };
    let lines = check_detail(app, row);
    let area = centered(body, body.width.saturating_sub(4).max(40), body.height);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(popup(app, &format!("Check {}", sanitize_str(name, 40)))),
        area,
    );
}

/// One timeline event in full, with its pin and corrections.
fn draw_event_detail(frame: &mut Frame, app: &App, i: usize, body: Rect) {
    let Some(e) = app.board.incident.timeline.get(i) else { return };
    let mut lines = vec![
        Line::from(format!(
            "{}  {}  by {}",
            e.ts.format("%Y-%m-%d %H:%M:%S%.3f UTC"),
            e.kind(),
            sanitize_str(&e.author, 40)
        )),
        Line::from(""),
    ];
    let full = match &e.body {
        EventBody::NoteAdded { text } | EventBody::Correction { text, .. } => sanitize_multiline(text, 2000),
        EventBody::MessageSent { text, .. } => sanitize_multiline(text, 2000),
        _ => e.summary(),
    };
    lines.extend(full.lines().map(|l| Line::from(l.to_string())));
    if let Some((who, at)) = app.board.incident.pinned_by(i) {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            format!("★ key event, pinned by {} at {}", sanitize_str(who, 30), at.format("%H:%M:%S")),
            app.theme.accent,
        )));
    }
    for c in app.board.incident.corrections(i) {
        if let Some(EventBody::Correction { text, .. }) = app.board.incident.event(c).map(|x| &x.body) {
            lines.push(Line::from(Span::styled(
                format!("↺ corrected: {}", sanitize_str(text, 200)),
                app.theme.degraded,
            )));
        }
    }
    lines.push(Line::from(Span::styled(format!("id {}", e.id), app.theme.muted)));
    let area = centered(body, body.width.saturating_sub(4).max(40), (lines.len() as u16 + 4).min(body.height));
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(popup(app, "Event")), area);
}

/// The rows `lines` take wrapped at `width` cells (`width` > 0): an empty line still takes one.
fn wrapped_rows(lines: &[Line], width: usize) -> usize {
    lines.iter().map(|l| l.width().div_ceil(width).max(1)).sum()
}

/// An item's message as the live incident fills it in, cleaned to `max_chars`: its heading
/// (`message → status-page (public):`) and its text; `None` for an item without a template.
fn item_message(app: &App, item: &crate::checklist::Item, max_chars: usize) -> Option<(String, String)> {
    let text = app.board.rendered_message(item)?;
    let to = item.channel.as_deref().map(|c| format!(" → {c} ({:?})", item.audience).to_lowercase());
    Some((format!("message{}:", to.unwrap_or_default()), sanitize_multiline(&text, max_chars)))
}

/// A checklist item whole: on a small screen the list cuts titles to two lines and has no
/// room for the hint or the message under it.
fn draw_item_detail(frame: &mut Frame, app: &App, id: &str, body: Rect) {
    let items = app.checklist_rows();
    let Some((item, view)) = items.iter().find(|(i, _)| i.id == id) else { return };
    let t = &app.theme;
    let when = item_when(app, view, app.board.clock.now);
    let owner = item.role.as_deref().map(|r| format!("  owner {}", sanitize_str(r, 30))).unwrap_or_default();
    let mut lines = vec![
        Line::from(Span::styled(format!("{} {}  {when}{owner}", view.state.glyph(), view.state.word()), t.title)),
        Line::from(""),
    ];
    lines.extend(sanitize_multiline(&item.title, 1000).lines().map(|l| Line::from(l.to_string())));
    if let Some(hint) = &item.hint {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(format!("hint: {}", sanitize_str(hint, 1000)), t.muted)));
    }
    if let Some((heading, text)) = item_message(app, item, 2000) {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(heading, t.title)));
        lines.extend(text.lines().map(|l| Line::from(l.to_string())));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled("on the list: Space done · c copy · e edit · m send — any key closes", t.key)));
    let width = body.width.saturating_sub(4).max(40);
    let rows = wrapped_rows(&lines, width.saturating_sub(2).max(1) as usize);
    let area = centered(body, width, (rows as u16 + 2).min(body.height));
    frame.render_widget(Clear, area);
    let title = format!("Checklist item {}", sanitize_str(id, 40));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(popup(app, &title)), area);
}

/// The timeline filter being typed, along the bottom of the body.
fn draw_filter(frame: &mut Frame, app: &App, text: &str, body: Rect) {
    let area =
        Rect { x: body.x, y: body.y + body.height.saturating_sub(3), width: body.width, height: 3.min(body.height) };
    frame.render_widget(Clear, area);
    let p = Paragraph::new(format!("/{}▏", sanitize_str(text, 80)))
        .block(popup(app, "Filter the timeline (kind or text) — Enter applies, Esc cancels, empty shows all"));
    frame.render_widget(p, area);
}

/// The drill scorecard.
fn draw_scorecard(frame: &mut Frame, app: &App, text: &str, body: Rect) {
    let lines: Vec<Line> = text.lines().map(|l| Line::from(l.to_string())).collect();
    let area = centered(body, body.width.saturating_sub(4).clamp(40, 110), (lines.len() as u16 + 2).min(body.height));
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(popup(app, "Drill over — scorecard")),
        area,
    );
}

/// Asks before quitting with notes not yet in the journal.
fn draw_confirm_quit(frame: &mut Frame, app: &App, body: Rect) {
    // A correction is not a note: it is not kept in the draft file.
    if app.correcting.is_some() {
        let lines = ["Your correction of a note is not saved (it is not kept).", "Quit anyway?  y / n"];
        draw_confirm(frame, app, "Quit?", &lines.map(String::from), body);
        return;
    }
    let area = centered(body, 60, 5);
    frame.render_widget(Clear, area);
    let first = if app.unsaved.is_empty() {
        "Your note draft is not saved to the timeline".to_string()
    } else {
        format!("{} saved note(s) are not in the journal yet", app.unsaved.len())
    };
    // Said as it is: when no disk took the draft, quitting prints the notes instead.
    let second = match (&app.draft_failed, app.unsaved.is_empty()) {
        (Some(_), _) => "(on NO disk: quitting prints it)",
        (None, true) => "(it is kept on disk)",
        (None, false) => "(kept in the draft file)",
    };
    let p = Paragraph::new(vec![Line::from(first), Line::from(format!("{second}. Quit anyway?  y / n"))])
        .block(popup(app, "Quit?"));
    frame.render_widget(p, area);
}

/// Shows the message exactly as it will be sent, and what is still unfilled.
fn draw_confirm_send(frame: &mut Frame, app: &App, item: &str, channel: &str, text: &str, body: Rect) {
    let mut lines =
        vec![Line::from(Span::styled(format!("Send on channel \"{channel}\":"), app.theme.title)), Line::from("")];
    lines.extend(sanitize_multiline(text, 2000).lines().map(|l| Line::from(l.to_string())));
    lines.push(Line::from(""));
    let unfilled = app.unfilled(item, text);
    if unfilled.is_empty() {
        lines.push(Line::from(Span::styled("y sends · e edits it first · any other key cancels", app.theme.key)));
    } else {
        let which = sanitize_str(&unfilled.join(" "), 200);
        lines.push(Line::from(Span::styled(format!("⚠ NOT FILLED IN: {which}"), app.theme.overdue)));
        lines.push(Line::from(Span::styled(
            "Send it anyway? y sends as it stands · e edits it · any other key cancels",
            app.theme.key,
        )));
    }
    let width = body.width.saturating_sub(6).clamp(40, 100);
    // Long lines wrap: count the rows they take, so the question at the bottom shows.
    let rows = wrapped_rows(&lines, width.saturating_sub(2).max(1) as usize);
    let area = centered(body, width, (rows as u16 + 2).min(body.height));
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(popup(app, "Send message?")), area);
}

/// A commander's verb asking: what is decided, the numbered choices, the text being typed.
fn draw_picker(frame: &mut Frame, app: &App, picker: &super::picker::Picker, body: Rect) {
    let width = body.width.saturating_sub(4).clamp(20, 72);
    let inner = width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> =
        picker.context.iter().map(|c| Line::from(Span::styled(sanitize_str(c, inner), app.theme.muted))).collect();
    let labels = picker.choices.iter().map(|c| c.label.as_str()).chain(picker.free.as_deref());
    // More choices than rows (many operators on a small screen): the chosen one stays in view.
    let room = (body.height as usize).saturating_sub(3 + lines.len() + usize::from(picker.typing.is_some())).max(1);
    let skip = (picker.selected + 1).saturating_sub(room);
    for (n, label) in labels.enumerate().skip(skip).take(room) {
        let chosen = n == picker.selected && picker.typing.is_none();
        let style = if chosen { app.theme.selection } else { app.theme.text };
        let number = if n < 9 { format!("{} ", n + 1) } else { "  ".into() };
        let mark = if chosen { "▶ " } else { "  " };
        lines.push(Line::from(vec![
            Span::styled(format!("{mark}{number}"), app.theme.key),
            Span::styled(sanitize_str(label, inner.saturating_sub(5)), style),
        ]));
    }
    let hint = match &picker.typing {
        Some(text) => {
            // The end of what is typed stays in view.
            let shown: String =
                text.chars().rev().take(inner.saturating_sub(4)).collect::<Vec<_>>().into_iter().rev().collect();
            lines.push(Line::from(Span::styled(format!("› {}▏", sanitize_str(&shown, inner)), app.theme.text)));
            if picker.choices.is_empty() { "Enter accepts · Esc cancels" } else { "Enter accepts · Esc goes back" }
        }
        None if picker.free.is_some() => "↑↓ or 1-9 choose · Enter · or just type · Esc cancels",
        None => "↑↓/j k or 1-9 choose · Enter · Esc cancels",
    };
    lines.push(Line::from(Span::styled(hint, app.theme.muted)));
    let area = centered(body, width, (lines.len() as u16 + 2).min(body.height));
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(popup(app, &picker.title)), area);
}

/// A change that waits for `y`: its lines, then the keys.
fn draw_confirm(frame: &mut Frame, app: &App, title: &str, lines: &[String], body: Rect) {
    let lines: Vec<Line> = lines.iter().map(|l| Line::from(sanitize_str(l, 200))).collect();
    let area = centered(body, body.width.saturating_sub(4).clamp(30, 80), (lines.len() as u16 + 2).min(body.height));
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(popup(app, title)), area);
}

/// The brief, scrolled; the title says how to copy it.
fn draw_brief(frame: &mut Frame, app: &App, text: &str, scroll: usize, body: Rect) {
    let width = body.width.saturating_sub(2).clamp(30, 100);
    let inner = (width.saturating_sub(2) as usize).max(1);
    // Rows once wrapped: long lines (a failing check's detail) take more than one.
    let rows: Vec<usize> = text.lines().map(|l| l.chars().count().max(1).div_ceil(inner)).collect();
    let total: usize = rows.iter().sum();
    let skipped: usize = rows.iter().take(scroll).sum();
    let lines: Vec<Line> = text.lines().skip(scroll).map(|l| Line::from(sanitize_str(l, 1000))).collect();
    let area = centered(body, width, (total as u16 + 2).min(body.height));
    let copy = app.keys.keys_for(super::keys::Action::Copy);
    let more = if skipped + (area.height as usize).saturating_sub(2) < total { " · j/PgDn more" } else { "" };
    let title = format!("Brief — {copy} copies{more} · Esc closes");
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(popup(app, &title)), area);
}

/// For a check judged from several places: each place's recorded state and its link.
fn place_lines<'a>(app: &App, check: &str) -> Vec<Line<'a>> {
    let Some(places) = app.board.incident.vantage_checks.get(check) else { return Vec::new() };
    let mut lines = vec![Line::from(Span::styled("from each place (recorded):", app.theme.title))];
    for (place, state) in places {
        let state = crate::recorder::from_check_state(*state);
        let (glyph, word) = state_glyph(state);
        let link = match app.board.incident.vantages.get(place) {
            Some(v) if !v.reachable => format!(
                " — unreachable since {}: {}",
                v.since.with_timezone(&app.board.clock.offset).format("%H:%M:%S"),
                sanitize_str(&v.detail, 400)
            ),
            _ => String::new(),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("  {glyph} {word:<8}"), state_style(app, state)),
            Span::raw(format!(" {}{link}", sanitize_str(place, 30))),
        ]));
    }
    lines
}

fn check_detail<'a>(app: &App, row: &CheckRow) -> Vec<Line<'a>> {
    let t = &app.theme;
    let state = app.board.row_state(row);
    let (glyph, word) = state_glyph(state);
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("{glyph} {word}"), state_style(app, state)),
        Span::raw(format!("   {} {}", sanitize_str(&row.kind, 20), sanitize_str(&row.target, 100))),
    ])];
    if let Some(c) = app.board.incident.checks.get(&row.name) {
        lines.push(Line::from(format!(
            "recorded {} since {} ({} ago)",
            c.state.as_str(),
            c.since.with_timezone(&app.board.clock.offset).format("%H:%M:%S"),
            human_duration(app.board.clock.now - c.since)
        )));
        lines.push(Line::from(Span::styled(format!("recorded detail: {}", sanitize_str(&c.detail, 500)), t.muted)));
    }
    lines.extend(place_lines(app, &row.name));
    if let Some(v) = &row.view {
        if let Some(p) = &v.blocked_by {
            lines.push(Line::from(Span::styled(
                format!("blocked by {}: part of its outage", sanitize_str(p, 60)),
                t.degraded,
            )));
        }
        if v.no_connectivity {
            lines.push(Line::from(Span::styled("no connectivity: the canary check is failing", t.degraded)));
        }
        if v.paused {
            lines.push(Line::from(Span::styled("paused", t.degraded)));
        }
    }
    if let Some(o) = row.history.newest() {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            format!("latest {} ({}): {}", o.health.as_str(), fmt_ms(o.latency()), sanitize_str(&o.detail, 1000)),
            t.text,
        )));
        if !o.steps.is_empty() {
            let steps: Vec<String> =
                o.steps.iter().map(|(name, ms)| format!("{} {ms:.1}ms", sanitize_str(name, 60))).collect();
            lines.push(Line::from(Span::styled(format!("steps: {}", steps.join(" → ")), t.muted)));
        }
        if let Some(at) = o.retry_after {
            lines.push(Line::from(Span::styled(
                format!(
                    "Retry-After: the server says it will be back at {} local ({} UTC)",
                    at.with_timezone(&app.board.clock.offset).format("%H:%M:%S"),
                    at.format("%H:%M:%S")
                ),
                t.accent,
            )));
        }
        if let Some(days) = o.cert_days_left {
            lines.push(Line::from(Span::styled(
                format!("TLS certificate {}", crate::probe::cert_expiry(days)),
                t.muted,
            )));
        }
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled("last results:", t.title)));
        // A check judged from several places gets a reading per place's result: the newest
        // of each second stands for that second, so no time is listed twice.
        let mut seen = std::collections::HashSet::new();
        let newest = row.history.iter().rev().filter(|s| seen.insert(s.at.timestamp()));
        for s in newest.take(10) {
            lines.push(Line::from(format!(
                "{}  {:<8} {:>6}ms  {}",
                s.at.with_timezone(&app.board.clock.offset).format("%H:%M:%S"),
                s.health.as_str(),
                whole_ms(s.latency()),
                sanitize_str(s.detail, 200)
            )));
        }
    } else {
        lines.push(Line::from(Span::styled(
            "no results in this session (probed by another warroom, or not yet)",
            t.muted,
        )));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(name: &str, width: usize, others: &[&str]) -> String {
        let chars: Vec<char> = name.chars().collect();
        let (p, e) = distinguishing(&chars, others.iter().copied());
        cut_keeping(&chars, width, p, e)
    }

    #[test]
    fn a_cut_name_keeps_what_tells_it_apart() {
        let series = ["blackbox / http://api-1.example.com/health", "blackbox / http://api-2.example.com/health"];
        for width in [12, 16, 20, 25, 30, 41] {
            let one = cut(series[0], width, &series[1..]);
            let two = cut(series[1], width, &series[..1]);
            assert_eq!(one.chars().count(), width, "{one}");
            assert!(one.contains("api-1") && two.contains("api-2"), "{width}: {one} / {two}");
        }
        assert_eq!(cut(series[0], 25, &series[1..]), "blackbox / http://api-1.…");
        // Told apart only by their ends: the end is kept.
        let hosts =
            ["alerts / HostDown / region=eu-west / db-primary", "alerts / HostDown / region=eu-west / db-replica"];
        let shown = cut(hosts[1], 24, &hosts[..1]);
        assert!(shown.starts_with("alerts / …") && shown.contains("replica"), "{shown}");
        assert_eq!(cut("short", 10, &[]), "short");
    }

    #[test]
    fn names_come_first_then_the_note_then_the_sparkline() {
        // Room for all: the sparkline keeps its width.
        assert_eq!(check_columns(120, 42, 10, 12), CheckColumns { name: 42, spark: 12 });
        // 78 columns: the name whole and the note whole, the sparkline gives way.
        assert_eq!(check_columns(78, 41, 10, 6), CheckColumns { name: 41, spark: 0 });
        // Too narrow for both: the note keeps a third, the name takes the rest.
        assert_eq!(check_columns(52, 42, 10, 6), CheckColumns { name: 17, spark: 0 });
        assert_eq!(check_columns(5, 42, 10, 6), CheckColumns { name: 0, spark: 0 });
    }

    #[test]
    fn titles_wrap_between_words_and_the_last_line_says_it_is_cut() {
        assert_eq!(
            wrap("Brief the incident team; record commander", 20, 6),
            ["Brief the incident", "team; record", "commander"]
        );
        assert_eq!(wrap("abcdefghij", 4, 6), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("one two three four", 9, 1), ["one two…"]);
        assert_eq!(wrap("", 5, 2), [""]);
    }

    #[test]
    fn the_selected_item_is_whole_in_view() {
        assert_eq!(visible_span(&[3, 3, 3, 3], 0, 0, 7), (0, 2));
        assert_eq!(visible_span(&[3, 3, 3, 3], 0, 3, 7), (2, 4));
        assert_eq!(visible_span(&[1, 1], 0, 1, 5), (0, 2));
        assert_eq!(visible_span(&[], 0, 0, 5), (0, 0));
    }

    #[test]
    fn hidden_rows_are_counted_with_the_failing_ones() {
        let failing = |n: &usize| *n < 3;
        let h = Hidden::count(5, 10, 20, "failing", failing);
        assert_eq!((h.above, h.below, h.failing_above, h.failing_below), (5, 10, 3, 0));
    }
}
