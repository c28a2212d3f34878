//! Frame render time at 200x60 with 1,000 checks and 100,000 timeline events (target: median
//! under 2 ms), and with 10,000 checks (issue 22's scale: the screen draws a frame a second).
//! Run: `cargo bench --bench render`.

use std::hint::black_box;
use std::time::Duration;

use chrono::{FixedOffset, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use warroom::board::{Board, Clock, Row as CheckRow};
use warroom::incident::Incident;
use warroom::journal::{CheckState, Event, EventBody, Mode};
use warroom::monitor::RowId;
use warroom::probe::{Health, Outcome};
use warroom::session::{Reading, RowInfo};
use warroom::tui::{App, KeyMap, Pane, Theme, draw};

fn big_app(checks: usize) -> App {
    let start = Utc.with_ymd_and_hms(2026, 11, 21, 2, 0, 0).unwrap();
    let mut events = vec![Event::at(
        start,
        "a@h",
        EventBody::IncidentOpened { title: "Big".into(), severity: 1, mode: Mode::Real, checklist: None },
    )];
    for i in 0..100_000i64 {
        let ts = start + chrono::Duration::milliseconds(i * 100);
        let body = if i % 3 == 0 {
            EventBody::CheckChanged {
                check: format!("check-{}", i % 1000),
                from: CheckState::Up,
                to: if i % 2 == 0 { CheckState::Down } else { CheckState::Up },
                detail: "HTTP 503 Service Unavailable: status 503 not in expected 200-399".into(),
            }
        } else {
            EventBody::NoteAdded { text: format!("note {i}: watching the queue drain, 4k messages left") }
        };
        events.push(Event::at(ts, "scribe@h", body));
    }
    let rows: Vec<CheckRow> = (0..checks)
        .map(|i| {
            CheckRow::new(RowInfo {
                id: RowId::check(format!("check-{i}")),
                kind: "http".into(),
                target: "https://x/".into(),
            })
        })
        .collect();
    let clock = Clock { now: start + chrono::Duration::hours(3), offset: FixedOffset::east_opt(0).unwrap() };
    let checklist = warroom::checklist::load("default").ok();
    let board = Board::new(Incident::from_events(events), rows, checklist, clock);
    let mut app = App::new(board, Theme::built_in("dark"), KeyMap::defaults());
    for i in 0..checks {
        for s in 0..20 {
            let o = Outcome::new(
                if s % 7 == 0 { Health::Down } else { Health::Up },
                Duration::from_millis(10 + s),
                "HTTP 200 OK",
            );
            app.board.on_reading(&RowId::check(format!("check-{i}")), Reading::of(clock.now, &o));
        }
    }
    app.focus = Pane::Timeline;
    app
}

fn render(c: &mut Criterion) {
    for (checks, name) in [
        (1000, "render/frame_200x60_1000_checks_100k_events"),
        (10_000, "render/frame_200x60_10000_checks_100k_events"),
    ] {
        let mut app = big_app(checks);
        let mut term = Terminal::new(TestBackend::new(200, 60)).unwrap();
        let mut tick = 0i64;
        c.bench_function(name, |b| {
            b.iter(|| {
                // Each frame differs a little (the clock), as it does live.
                tick += 1;
                app.board.clock.now += chrono::Duration::seconds(1);
                term.draw(|f| draw::draw(f, &mut app)).unwrap();
                black_box(tick)
            })
        });
    }
}

criterion_group!(benches, render);
criterion_main!(benches);
