//! The state timeline (`T`): the shape of the storage-cascade drill on screen, from its
//! checked-in journal with the clock fixed, as snapshots at 80x24 and 200x50, and what its keys do.

use chrono::{DateTime, FixedOffset, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use warroom::board::{Board, Clock};
use warroom::incident::Incident;
use warroom::journal::Journal;
use warroom::report::timeline::Window;
use warroom::tui::{App, KeyMap, Overlay, Theme, draw};

const JOURNAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/storage-cascade.jsonl");

/// The drill's incident as it stood at `now` (UTC): the entries written by then, on a screen
/// whose clock reads `now`.
fn app_at(now: &str, theme: &str) -> App {
    let now: DateTime<Utc> = now.parse().unwrap();
    let mut events = Journal::read(JOURNAL).expect("the checked-in journal reads").events;
    events.retain(|e| e.ts <= now);
    let clock = Clock { now, offset: FixedOffset::east_opt(0).unwrap() };
    App::new(
        Board::new(Incident::from_events(events), Vec::new(), None, clock),
        Theme::built_in(theme),
        KeyMap::defaults(),
    )
}

fn press(app: &mut App, c: char) {
    app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
}

fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| draw::draw(f, app)).unwrap();
    term.backend().to_string()
}

/// Each drawn check row of the picture: its name and the column its first failing cell is in.
fn failing_starts(screen: &str) -> Vec<(String, Option<usize>)> {
    screen
        .lines()
        .filter_map(|line| {
            let line = line.trim_matches('"');
            let (name, rest) = line.split_once('│')?;
            let name = name.trim_start_matches('║').trim();
            let cells = rest.rsplit_once('│')?.0;
            if name.is_empty() || !cells.chars().all(|c| " ░▒▓█".contains(c)) {
                return None;
            }
            Some((name.to_string(), cells.chars().position(|c| "▒▓█".contains(c))))
        })
        .collect()
}

/// The first check to fail is the top row, and its failing band starts left of every other's.
fn assert_cascade_reads_top_down(screen: &str) {
    let rows = failing_starts(screen);
    let names: Vec<&str> = rows.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["site", "api", "storage", "relay"], "rows in failure order:\n{screen}");
    let first = rows[0].1.expect("site's failure is drawn");
    for (name, start) in &rows[1..] {
        let start = start.unwrap_or_else(|| panic!("{name}'s failure is drawn:\n{screen}"));
        assert!(first < start, "site's band starts at column {first}, {name}'s at {start}:\n{screen}");
    }
}

#[test]
fn the_state_timeline_at_80x24_mid_incident() {
    // Twelve minutes in: storage and site down, relay not yet.
    let mut app = app_at("2026-11-26T00:35:00Z", "dark");
    press(&mut app, 'T');
    assert_eq!(app.overlay, Some(Overlay::StateTimeline(Window::Whole)));
    let s = screen(&mut app, 80, 24);
    insta::assert_snapshot!("state_timeline_80x24", s);
    let rows = failing_starts(&s);
    assert_eq!(rows.len(), 4, "{s}");
    assert_cascade_reads_top_down(&s);
    assert!(s.contains("now 00:35"), "the right edge is now:\n{s}");
}

#[test]
fn the_state_timeline_at_200x50_after_resolution() {
    let mut app = app_at("2026-11-26T01:06:00Z", "dark");
    press(&mut app, 'T');
    let s = screen(&mut app, 200, 50);
    insta::assert_snapshot!("state_timeline_200x50", s);
    assert_cascade_reads_top_down(&s);
    for marker in ["D 00:23 detected", "A 00:25 acknowledged", "M 00:46 mitigated", "R 01:05 resolved"] {
        assert!(s.contains(marker), "{marker} listed:\n{s}");
    }
    assert!(s.contains("> 00:28 public message on status-page"), "{s}");
}

#[test]
fn t_cycles_the_span_and_any_other_key_closes() {
    let mut app = app_at("2026-11-26T01:06:00Z", "mono");
    press(&mut app, 'T');
    for want in [Window::Last15Minutes, Window::LastHour, Window::Whole] {
        press(&mut app, 'T');
        assert_eq!(app.overlay, Some(Overlay::StateTimeline(want)));
    }
    press(&mut app, 'T');
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("State timeline — last 15 min") && s.contains("00:51 – 01:06 UTC"), "{s}");
    // In the last 15 minutes every check is back up: site's recovery at 01:02 shows as up after down.
    let site = s.lines().find(|l| l.contains(" site ")).unwrap();
    assert!(site.contains('█') && site.trim_end_matches(['"', '║', ' ', '│']).ends_with('░'), "{site}");
    app.on_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert_eq!(app.overlay, None);
}

/// Colour is never the only signal: the mono theme draws the same blocks.
#[test]
fn the_state_timeline_reads_in_mono_and_colorblind() {
    for theme in ["mono", "colorblind"] {
        let mut app = app_at("2026-11-26T01:06:00Z", theme);
        press(&mut app, 'T');
        let s = screen(&mut app, 80, 24);
        for glyph in ['░', '▒', '█'] {
            assert!(s.contains(glyph), "{theme}: {glyph} drawn:\n{s}");
        }
        assert!(
            s.contains("░ up") && s.contains("▒ degraded") && s.contains("▓ partial") && s.contains("█ down"),
            "{s}"
        );
    }
}

/// A tiny or odd-sized terminal gets what fits, never a panic.
#[test]
fn the_state_timeline_draws_at_any_size() {
    for window in 0..3 {
        let mut app = app_at("2026-11-26T00:40:00Z", "dark");
        for _ in 0..=window {
            press(&mut app, 'T');
        }
        for (w, h) in [(1, 1), (5, 3), (12, 6), (20, 8), (33, 10), (41, 13), (80, 5), (300, 80)] {
            let s = screen(&mut app, w, h);
            assert_eq!(s.lines().count(), h as usize, "{w}x{h}");
        }
    }
}

/// Before anything is journaled there is nothing to draw, and the view says so.
#[test]
fn an_empty_journal_says_no_check_has_a_state_yet() {
    let clock = Clock { now: "2026-11-26T00:40:00Z".parse().unwrap(), offset: FixedOffset::east_opt(0).unwrap() };
    let board = Board::new(Incident::default(), Vec::new(), None, clock);
    let mut app = App::new(board, Theme::built_in("mono"), KeyMap::defaults());
    press(&mut app, 'T');
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("No check has recorded a state yet"), "{s}");
    assert!(s.contains("00:39 – 00:40 UTC"), "the whole of nothing is the last minute:\n{s}");
}

/// A journal made here: the incident opened at 00:00, then `events` (seconds after, author, body).
fn app_with(events: Vec<(i64, warroom::journal::EventBody)>, now_s: i64) -> App {
    use warroom::journal::{Event, EventBody, Mode};
    let t0: DateTime<Utc> = "2026-11-26T00:00:00Z".parse().unwrap();
    let at = |s: i64| t0 + chrono::Duration::seconds(s);
    let open = EventBody::IncidentOpened { title: "t".into(), severity: 2, mode: Mode::Real, checklist: None };
    let mut all = vec![Event::at(t0, "alice", open)];
    all.extend(events.into_iter().map(|(s, body)| Event::at(at(s), "alice", body)));
    let clock = Clock { now: at(now_s), offset: FixedOffset::east_opt(0).unwrap() };
    App::new(
        Board::new(Incident::from_events(all), Vec::new(), None, clock),
        Theme::built_in("mono"),
        KeyMap::defaults(),
    )
}

fn down(check: &str) -> warroom::journal::EventBody {
    use warroom::journal::{CheckState, EventBody};
    EventBody::CheckChanged {
        check: check.into(),
        from: CheckState::Unknown,
        to: CheckState::Down,
        detail: String::new(),
    }
}

/// Long names that differ only late stay told apart, and CJK or emoji names (two cells a
/// character) keep every row's cells in the same columns.
#[test]
fn long_and_wide_names_stay_apart_and_aligned() {
    let names = [
        "database-primary-eu-west-1-replica-set",
        "database-primary-eu-central-1-replica-set",
        "数据库主节点检查",
        "web 🚀 front",
    ];
    let events = names.iter().enumerate().map(|(i, n)| (10 + i as i64, down(n))).collect();
    let mut app = app_with(events, 600);
    press(&mut app, 'T');
    for (w, h) in [(200u16, 50u16), (100, 30)] {
        let s = screen(&mut app, w, h);
        let rows: Vec<&str> = s.lines().filter(|l| l.contains('│') && l.contains('█')).collect();
        assert_eq!(rows.len(), 4, "{s}");
        // The display column of each row's first border: one for all.
        let borders: Vec<usize> = rows.iter().map(|l| warroom::fit::width(l.split('│').next().unwrap())).collect();
        assert!(borders.iter().all(|b| *b == borders[0]), "{w}x{h}: borders at {borders:?}:\n{s}");
        let labels: Vec<&str> =
            rows.iter().map(|l| l.split('│').next().unwrap().trim_matches(['"', '║', ' '])).collect();
        assert!(labels[0].contains("west") && labels[1].contains("central"), "{w}x{h}: {labels:?}");
        if w == 200 {
            assert_eq!(labels[..2], names[..2], "room for the whole names at 200 columns");
        }
    }
}

/// Two markers in one column are one `+`, never one hiding the other, and both are listed.
#[test]
fn markers_in_one_column_merge_and_are_all_listed() {
    use warroom::journal::{EventBody, Milestone};
    let ms = |m| EventBody::MilestoneReached { milestone: m, at: None, check: None };
    let mut app =
        app_with(vec![(10, down("web")), (1800, ms(Milestone::Acknowledged)), (1801, ms(Milestone::Mitigated))], 3600);
    press(&mut app, 'T');
    let s = screen(&mut app, 80, 24);
    let marks = s.lines().find(|l| l.contains('│') && !l.contains('█') && l.contains('D')).expect("the marker line");
    assert!(marks.contains('+') && !marks.contains('A') && !marks.contains('M'), "{marks}\n{s}");
    assert!(s.contains("A 00:30 acknowledged") && s.contains("M 00:30 mitigated"), "{s}");
}

/// At small sizes the rows come before the legend, and markers that do not fit are counted.
#[test]
fn small_sizes_keep_the_rows_and_count_what_is_left_out() {
    let mut app = app_at("2026-11-26T01:06:00Z", "dark");
    press(&mut app, 'T');
    let s = screen(&mut app, 80, 12);
    assert_eq!(failing_starts(&s).len(), 4, "every row at 80x12:\n{s}");
    let s = screen(&mut app, 80, 16);
    assert!(s.contains("↑ ") && s.contains("more, earlier"), "markers left out are counted:\n{s}");
    assert!(!s.contains("z: bigger pane"), "{s}");
}
