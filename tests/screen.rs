//! The screen, drawn into ratatui's TestBackend: snapshots at 80x24 and 160x48, and what
//! keys do (as effects, without a terminal).

use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use warroom::board::{Board, Clock, Row as CheckRow};
use warroom::checklist;
use warroom::incident::Incident;
use warroom::journal::{Audience, CheckState, Event, EventBody, Milestone, Mode, Status};
use warroom::monitor::{RowId, State, View};
use warroom::probe::{Health, Outcome};
use warroom::session::{Reading, RowInfo, Update};
use warroom::tui::{App, Effect, KeyMap, Overlay, Pane, Theme, draw};

fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 2, 50, 0).unwrap() + chrono::Duration::seconds(secs)
}

fn ev(secs: i64, who: &str, body: EventBody) -> Event {
    Event::at(t(secs), who, body)
}

fn opened(mode: Mode) -> Event {
    ev(
        0,
        "alice@bastion",
        EventBody::IncidentOpened { title: "Mail delivery failing".into(), severity: 2, mode, checklist: None },
    )
}

fn row(name: &str, kind: &str) -> CheckRow {
    CheckRow::new(RowInfo { id: RowId::check(name), kind: kind.into(), target: format!("{name}.example.com") })
}

fn changed(secs: i64, check: &str, to: CheckState, detail: &str) -> Event {
    ev(
        secs,
        "poller@bastion",
        EventBody::CheckChanged { check: check.into(), from: CheckState::Up, to, detail: detail.into() },
    )
}

fn app_with(events: Vec<Event>, rows: Vec<CheckRow>, now_secs: i64, theme: &str) -> App {
    let checklist = checklist::load("default").unwrap();
    let clock = Clock { now: t(now_secs), offset: FixedOffset::east_opt(3600).unwrap() };
    let mut app = App::new(
        Board::new(Incident::from_events(events), rows, Some(checklist), clock),
        Theme::built_in(theme),
        KeyMap::defaults(),
    );
    // These tests walk the checklist in the file's order; the default (due order) has its own.
    app.checklist_order = checklist::Order::File;
    app
}

fn render(app: &mut App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| draw::draw(f, app)).unwrap();
    term
}

fn screen(app: &mut App, w: u16, h: u16) -> String {
    render(app, w, h).backend().to_string()
}

fn sample(app: &mut App, name: &str, health: Health, ms: u64, detail: &str, at: i64) {
    app.board
        .on_reading(&RowId::check(name), Reading::of(t(at), &Outcome::new(health, Duration::from_millis(ms), detail)));
}

/// A failing mail platform, 41 minutes in.
fn failing_app(theme: &str) -> App {
    let events = vec![
        opened(Mode::Real),
        ev(20, "alice@bastion", EventBody::RoleAssigned { role: "commander".into(), person: "alice".into() }),
        changed(30, "web", CheckState::Up, "HTTP 200 OK in 12 ms"),
        changed(40, "smtp-rcpt", CheckState::Down, "RCPT TO <support@example.com>: 451 4.3.0 Temporary lookup failure"),
        changed(45, "smtp-port", CheckState::Up, "connected to 192.0.2.25:25 in 2.1 ms"),
        changed(50, "api", CheckState::Degraded, "slow: 2300 ms > 800 ms"),
        changed(
            60,
            "status-page",
            CheckState::Down,
            "HTTP 503 Service Unavailable: status 503 not in expected 200-399",
        ),
        ev(
            120,
            "bob@bastion",
            EventBody::MilestoneReached {
                milestone: Milestone::Acknowledged,
                at: None,
                check: Some("smtp-rcpt".into()),
            },
        ),
        ev(
            300,
            "bob@bastion",
            EventBody::NoteAdded { text: "postfix restarted by hand at 02:52, not under systemd".into() },
        ),
        ev(400, "carol@bastion", EventBody::ChecklistItemDone { item: "roles".into() }),
        ev(500, "carol@bastion", EventBody::ChecklistItemDone { item: "staff".into() }),
        ev(600, "alice@bastion", EventBody::StatusChanged { status: Status::Identified }),
    ];
    let rows = ["web", "smtp-rcpt", "smtp-port", "api", "status-page"].iter().map(|n| row(n, "http")).collect();
    let mut app = app_with(events, rows, 41 * 60, theme);
    for (i, ms) in [12, 14, 11, 30, 13, 12].iter().enumerate() {
        sample(&mut app, "web", Health::Up, *ms, "HTTP 200 OK", 2000 + i as i64);
    }
    sample(
        &mut app,
        "smtp-rcpt",
        Health::Down,
        40,
        "RCPT TO <support@example.com>: 451 4.3.0 Temporary lookup failure",
        2400,
    );
    app
}

#[test]
fn empty_incident() {
    let mut app = app_with(vec![], vec![], 0, "dark");
    insta::assert_snapshot!("empty_80x24", screen(&mut app, 80, 24));
    insta::assert_snapshot!("empty_160x48", screen(&mut app, 160, 48));
}

#[test]
fn several_failing_checks() {
    let mut app = failing_app("dark");
    let small = screen(&mut app, 80, 24);
    // Failing checks first, each with a glyph and a word, never colour alone.
    let rows: Vec<&str> =
        small.lines().filter(|l| l.contains("down") || l.contains("degraded") || l.contains(" up ")).collect();
    assert!(rows[0].contains("✖ down") && rows[0].contains("smtp-rcpt") || rows[0].contains("status-page"), "{small}");
    insta::assert_snapshot!("failing_80x24", small);
    insta::assert_snapshot!("failing_160x48", screen(&mut app, 160, 48));
}

#[test]
fn long_timeline_follows_the_newest_event() {
    let mut events = vec![opened(Mode::Real)];
    for i in 0..500 {
        events.push(ev(10 + i, "scribe@bastion", EventBody::NoteAdded { text: format!("observation number {i}") }));
    }
    let mut app = app_with(events, vec![row("web", "http")], 600, "dark");
    app.focus = Pane::Timeline;
    let s = screen(&mut app, 160, 48);
    assert!(s.contains("observation number 499"), "the newest event is visible");
    assert!(!s.contains("observation number 100 "), "old events scrolled away");
    insta::assert_snapshot!("long_timeline_160x48", s);
    insta::assert_snapshot!("long_timeline_80x24", screen(&mut app, 80, 24));
    // Scrolling up stops following; End follows again.
    app.on_key(KeyEvent::new(KeyCode::PageUp, KeyModifiers::NONE));
    assert!(!app.at_newest);
    let s = screen(&mut app, 160, 48);
    assert!(s.contains("scrolled; End: newest") && !s.contains("observation number 499"), "{s}");
    app.on_key(KeyEvent::new(KeyCode::End, KeyModifiers::NONE));
    assert!(app.at_newest);
}

#[test]
fn checklist_partly_done() {
    let mut app = failing_app("dark");
    app.focus = Pane::Checklist;
    let s = screen(&mut app, 160, 48);
    assert!(s.contains("2/12 done"), "{s}");
    assert!(s.contains("☑ done") && s.contains("⚠ OVERDUE"), "{s}");
    insta::assert_snapshot!("checklist_160x48", s);
    insta::assert_snapshot!("checklist_80x24", screen(&mut app, 80, 24));
}

#[test]
fn help_overlay_lists_every_binding() {
    let mut app = failing_app("dark");
    app.on_key(KeyEvent::new(KeyCode::Char('?'), KeyModifiers::NONE));
    assert_eq!(app.overlay, Some(Overlay::Help));
    // Tall enough for every binding at once.
    let s = screen(&mut app, 160, 50);
    for (keys, what) in KeyMap::defaults().help() {
        assert!(s.contains(&keys) && s.contains(what), "help lacks {keys} {what}");
    }
    insta::assert_snapshot!("help_160x50", s);
    insta::assert_snapshot!("help_80x24", screen(&mut app, 80, 24));
}

#[test]
fn each_theme() {
    for theme in ["dark", "light", "high-contrast", "colorblind", "mono"] {
        let mut app = failing_app(theme);
        let term = render(&mut app, 80, 24);
        // The buffer's Debug output carries every cell's style: a theme change shows here.
        insta::assert_snapshot!(format!("theme_{theme}_80x24"), format!("{:?}", term.backend().buffer()));
    }
}

/// Every non-blank cell the screen draws, in every theme, with a row selected in each pane:
/// WCAG 4.5:1 against what is behind it (xterm's palette, the theme's declared background).
/// The selected check row must show its sparkline — it once took the selection's colour.
#[test]
fn every_drawn_cell_is_readable_in_every_theme() {
    use warroom::tui::contrast::{ratio, rgb, shown};
    let mut bad = Vec::new();
    for (theme, _) in warroom::tui::theme::BUILT_IN {
        let mut spark_on_selection = false;
        for (w, h) in [(80, 24), (160, 48)] {
            for pane in [Pane::Checks, Pane::Timeline, Pane::Checklist] {
                for sel in 0..5 {
                    let mut app = failing_app(theme);
                    app.focus = pane;
                    app.at_newest = false;
                    app.selected[pane] = sel;
                    let term = render(&mut app, w, h);
                    let Some(background) = app.theme.background.and_then(rgb) else {
                        let coloured = term
                            .backend()
                            .buffer()
                            .content()
                            .iter()
                            .any(|c| c.fg != ratatui::style::Color::Reset || c.bg != ratatui::style::Color::Reset);
                        assert!(!coloured, "{theme} declares no background but draws colour");
                        continue;
                    };
                    let selection = shown(app.theme.selection, background);
                    for (i, cell) in term.backend().buffer().content().iter().enumerate() {
                        if cell.symbol().trim().is_empty() {
                            continue;
                        }
                        let (fg, bg) = shown(cell.style(), background);
                        spark_on_selection |= pane == Pane::Checks
                            && (fg, bg) == selection
                            && cell.symbol().chars().all(|c| ('▁'..='█').contains(&c) || c == '✕');
                        let r = ratio(fg, bg);
                        if r < 4.5 {
                            let (x, y) = (i % w as usize, i / w as usize);
                            bad.push(format!(
                                "{theme} {w}x{h} {pane:?} row {sel}: {:?} at ({x},{y}): {fg:?} on {bg:?} is {r:.2}:1",
                                cell.symbol()
                            ));
                        }
                    }
                }
            }
        }
        if !spark_on_selection && *theme != "mono" {
            bad.push(format!("{theme}: no sparkline drawn in the selection's colours on the selected row"));
        }
    }
    bad.dedup();
    assert!(bad.is_empty(), "{} cells under 4.5:1, first ones:\n{}", bad.len(), bad[..bad.len().min(30)].join("\n"));
}

#[test]
fn drill_banner_and_overdue_update_are_unmistakable() {
    // The default plan wants the first public word 15 minutes in.
    let mut app = app_with(vec![opened(Mode::Drill)], vec![], 45 * 60, "dark");
    let s = screen(&mut app, 80, 24);
    assert!(s.contains(" DRILL "), "{s}");
    assert!(s.contains("PUBLIC UPDATE OVERDUE by 30m"), "{s}");
    assert!(app_with(vec![opened(Mode::Real)], vec![], 5 * 60, "dark").board.next_update_due() == Some(t(15 * 60)));
    // Without a checklist: the configured cadence after the last public message.
    let mut app = app_with(
        vec![
            opened(Mode::Real),
            ev(
                40 * 60,
                "c@h",
                EventBody::MessageSent {
                    channel: "status-page".into(),
                    audience: Audience::Public,
                    text: "x".into(),
                    error: None,
                    item: None,
                    simulated: false,
                    next_update: None,
                },
            ),
        ],
        vec![],
        45 * 60,
        "dark",
    );
    app.board.checklist = None;
    app.board.update_every = Some(Duration::from_secs(30 * 60));
    assert!(screen(&mut app, 80, 24).contains("next update in 25m"));
}

/// At 80 columns a long title gives way: severity, status and the elapsed clock stay on the
/// header's first line, the title cut with an ellipsis (it was the clock that was cut).
#[test]
fn a_long_title_gives_way_to_the_status_and_the_clock() {
    let long = "Datacenter fire: the critical server is gone, and with it the mail relay of three customers";
    let events = vec![ev(
        0,
        "alice@bastion",
        EventBody::IncidentOpened { title: long.into(), severity: 1, mode: Mode::Drill, checklist: None },
    )];
    let mut app = app_with(events, vec![], 75, "dark");
    let s = screen(&mut app, 80, 24);
    let header = s.lines().next().unwrap();
    assert!(header.contains("SEV1  ◆ INVESTIGATING  T+00:01:15"), "{s}");
    assert!(header.contains("Datacenter fire: the critical server…  SEV1"), "{s}");
    // Where there is room, the title is whole (up to its own limit of 60 characters).
    let s = screen(&mut app, 160, 48);
    assert!(
        s.lines().next().unwrap().contains("Datacenter fire: the critical server is gone, and with it th…  SEV1"),
        "{s}"
    );
}

/// Entries from a newer warroom: the request to upgrade takes its own line above the header,
/// below the session's own banner, and the header and panes keep their places under it.
#[test]
fn the_upgrade_banner_sits_above_the_header_below_the_sessions_banner() {
    let mut app = app_with(vec![opened(Mode::Real)], vec![], 5 * 60, "dark");
    app.banner = Some("READ-ONLY VIEWER — nothing is written".into());
    app.on_update(warroom::session::Update::NewerSkipped(
        "12 entries from a newer warroom were skipped — upgrade".into(),
    ));
    let s = screen(&mut app, 80, 24);
    let lines: Vec<&str> = s.lines().collect();
    assert!(lines[0].contains("READ-ONLY VIEWER"), "{s}");
    assert!(lines[1].contains("⚠ 12 entries from a newer warroom were skipped — upgrade"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn network_text_is_sanitised_before_it_is_drawn() {
    let mut app = app_with(
        vec![
            opened(Mode::Real),
            changed(5, "web", CheckState::Down, "\u{1b}]0;owned\u{7}\u{1b}[2Jboom\u{1b}]52;c;ZXZpbA==\u{7}"),
        ],
        vec![row("web", "http")],
        60,
        "dark",
    );
    let s = screen(&mut app, 160, 48);
    assert!(s.contains("web → down: boom"), "{s}");
    assert!(!s.contains('\u{1b}') && !s.contains("owned") && !s.contains("ZXZpbA"), "{s}");
}

// ---------------------------------------------------------------------------------------
// Keys → effects

fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE))
}

#[test]
fn writing_and_committing_a_note() {
    let mut app = failing_app("dark");
    assert!(key(&mut app, KeyCode::Char('i')).is_empty());
    assert!(app.editing && app.focus == Pane::Notes);
    let mut effects = Vec::new();
    for c in "db failover".chars() {
        effects.extend(key(&mut app, KeyCode::Char(c)));
    }
    assert_eq!(
        effects.last(),
        Some(&Effect::SaveDraft("db failover".into())),
        "the draft is kept on disk as it is typed"
    );
    let e = app.on_key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL));
    assert_eq!(
        e,
        vec![
            Effect::Append(vec![EventBody::NoteAdded { text: "db failover".into() }]),
            Effect::SaveDraft("db failover".into())
        ],
        "the note stays in the draft file until the journal has it"
    );
    assert!(!app.editing && app.draft().is_empty());
    // Queued: marked pending; typing a new note keeps the pending one in the draft file.
    let note = Event::new("alice", EventBody::NoteAdded { text: "db failover".into() });
    app.on_update(Update::Pending(vec![note.clone()]));
    app.on_update(Update::Written { ids: Vec::new(), error: Some("No space left on device".into()) });
    let shown = screen(&mut app, 120, 30);
    assert!(shown.contains("⧗ pending: db failover"), "marked in Notes: {shown}");
    assert!(shown.contains("db failover  — pending: not on disk yet"), "and on the timeline: {shown}");
    assert!(shown.contains("⧗ 1 entry not on disk yet"), "and in the header: {shown}");
    key(&mut app, KeyCode::Char('i'));
    assert_eq!(key(&mut app, KeyCode::Char('x')), vec![Effect::SaveDraft("db failover\n\nx".into())]);
    key(&mut app, KeyCode::Esc);
    assert!(!app.take_draft_changed());
    // On disk: off the draft, the fault banner cleared.
    app.on_update(Update::Written { ids: vec![note.id.clone()], error: None });
    assert!(app.take_draft_changed());
    assert_eq!(app.draft_to_keep(), "x");
    assert_eq!((app.write_error.as_deref(), app.pending.len()), (None, 0));
    assert_eq!(app.flash.as_deref(), Some("note saved to the timeline"));
}

#[test]
fn quitting_with_an_unsaved_draft_asks_first() {
    let mut app = failing_app("dark");
    app.set_draft("half a thought");
    assert!(key(&mut app, KeyCode::Char('q')).is_empty());
    assert_eq!(app.overlay, Some(Overlay::ConfirmQuit));
    assert!(screen(&mut app, 80, 24).contains("Quit anyway?"));
    assert!(key(&mut app, KeyCode::Char('n')).is_empty());
    key(&mut app, KeyCode::Char('q'));
    assert_eq!(key(&mut app, KeyCode::Char('y')), vec![Effect::Quit]);
    let mut clean = failing_app("dark");
    assert_eq!(key(&mut clean, KeyCode::Char('q')), vec![Effect::Quit]);
}

#[test]
fn checklist_space_ticks_and_unticks() {
    let mut app = failing_app("dark");
    key(&mut app, KeyCode::Char('3'));
    // First item (roles) is done: Space takes it back; the next one is ticked.
    assert_eq!(
        key(&mut app, KeyCode::Char(' ')),
        vec![Effect::Append(vec![EventBody::ChecklistItemUndone { item: "roles".into() }])]
    );
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    assert_eq!(
        key(&mut app, KeyCode::Char(' ')),
        vec![Effect::Append(vec![EventBody::ChecklistItemDone { item: "status-page".into() }])]
    );
}

#[test]
fn checklist_message_copy_edit_and_send_confirmation() {
    let mut app = failing_app("dark");
    key(&mut app, KeyCode::Char('3'));
    key(&mut app, KeyCode::Down); // staff
    let copied = key(&mut app, KeyCode::Char('c'));
    let Effect::Copy { what: "message", text } = &copied[0] else { panic!() };
    assert!(
        matches!(&copied[1], Effect::Append(b) if matches!(&b[0], EventBody::MessagePrepared { via, item, .. } if via == "clipboard" && item == "staff"))
    );
    // Selecting the item shows the same rendered message under the list.
    let s = screen(&mut app, 160, 48);
    assert!(
        s.contains("message → staff (internal):") && s.contains("[Mail delivery failing] We have an outage"),
        "{s}"
    );
    assert!(
        text.starts_with("[Mail delivery failing] We have an outage (severity 2) since 03:50 (UTC+01:00)."),
        "{text}"
    );
    assert!(text.contains("Failing: smtp-rcpt, status-page, api.") && text.contains("Commander: alice."), "{text}");
    assert!(key(&mut app, KeyCode::Char('m')).is_empty());
    assert!(matches!(&app.overlay, Some(Overlay::ConfirmSend { channel, .. }) if channel == "staff"));
    assert!(screen(&mut app, 160, 48).contains("Send on channel \"staff\""));
    let sent = key(&mut app, KeyCode::Char('y'));
    assert!(
        matches!(&sent[..], [Effect::Send { item, audience: Audience::Internal, .. }] if item == "staff"),
        "{sent:?}"
    );
    let e = key(&mut app, KeyCode::Char('e'));
    assert!(
        matches!(&e[..], [Effect::Append(_), Effect::SaveDraft(t)] if t.starts_with("[Mail delivery failing]")),
        "{e:?}"
    );
    assert!(app.editing && app.draft().contains("Commander: alice."));
}

#[test]
fn status_severity_ack_and_pin_are_journal_events() {
    let mut app = failing_app("dark");
    // No cycling: pick the target (the picker starts on the next status), then confirm.
    assert!(key(&mut app, KeyCode::Char('s')).is_empty());
    assert!(key(&mut app, KeyCode::Enter).is_empty());
    assert_eq!(
        key(&mut app, KeyCode::Char('y')),
        vec![Effect::Append(vec![EventBody::StatusChanged { status: Status::Monitoring }])]
    );
    assert!(app.on_key(KeyEvent::new(KeyCode::Char('S'), KeyModifiers::SHIFT)).is_empty());
    assert!(key(&mut app, KeyCode::Char('1')).is_empty());
    assert_eq!(
        key(&mut app, KeyCode::Char('y')),
        vec![Effect::Append(vec![EventBody::SeverityChanged { severity: 1 }])]
    );
    // The first row is a failing check: acknowledge it.
    let e = key(&mut app, KeyCode::Char('a'));
    assert!(
        matches!(&e[..], [Effect::Append(b)] if matches!(&b[0], EventBody::MilestoneReached { milestone: Milestone::Acknowledged, check: Some(_), .. }))
    );
    key(&mut app, KeyCode::Char('2'));
    let e = key(&mut app, KeyCode::Char('*'));
    let newest = app.board.incident.timeline.last().unwrap().id.clone();
    assert_eq!(e, vec![Effect::Append(vec![EventBody::EventPinned { event: newest }])]);
}

#[test]
fn resolving_records_the_milestone_too() {
    let mut app = failing_app("dark");
    app.on_events(vec![ev(700, "a@h", EventBody::StatusChanged { status: Status::Monitoring })]);
    key(&mut app, KeyCode::Char('s'));
    key(&mut app, KeyCode::Enter);
    assert_eq!(
        key(&mut app, KeyCode::Char('y')),
        vec![Effect::Append(vec![
            EventBody::StatusChanged { status: Status::Resolved },
            EventBody::MilestoneReached { milestone: Milestone::Resolved, at: None, check: None }
        ])]
    );
}

#[test]
fn read_only_viewers_never_write() {
    let mut app = failing_app("dark");
    app.read_only = true;
    for c in ['s', 'a', 'S'] {
        assert!(key(&mut app, KeyCode::Char(c)).is_empty());
    }
    assert!(app.flash.as_deref().unwrap_or_default().contains("read-only"));
    // Nothing typed could be kept: the note editor does not open.
    key(&mut app, KeyCode::Char('i'));
    assert!(!app.editing, "the editor opened in a viewer");
    assert_eq!(app.flash.as_deref(), Some("read-only: notes cannot be written here"));
    // Its footer offers only what a viewer can do.
    app.flash = None;
    app.focus = Pane::Checks;
    let s = screen(&mut app, 160, 48);
    let footer = s.lines().last().unwrap();
    assert!(footer.contains("help") && footer.contains("detail"), "{footer}");
    for writes in [" ack ", " run ", " pause ", " status ", " role "] {
        assert!(!footer.contains(writes), "{writes:?} offered to a viewer: {footer}");
    }
}

/// Raw mode makes Ctrl-C a key like any other: it does not end the war room, and says what does.
#[test]
fn ctrl_c_says_how_to_quit() {
    let mut app = failing_app("dark");
    assert!(ctrl(&mut app, 'c').is_empty());
    assert_eq!(app.flash.as_deref(), Some("Ctrl-C does not quit, so a stray one cannot end the war room: q quits"));
}

#[test]
fn detail_views_for_checks_and_events() {
    let mut app = failing_app("dark");
    // Rows are sorted failing first: find smtp-rcpt and open it.
    let order = app.board.check_order();
    let pos = order.iter().position(|&i| app.board.rows[i].name == "smtp-rcpt").unwrap();
    app.selected[Pane::Checks] = pos;
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.overlay, Some(Overlay::CheckDetail("smtp-rcpt".into())));
    let s = screen(&mut app, 160, 48);
    assert!(
        s.contains("RCPT TO <support@example.com>: 451 4.3.0 Temporary lookup failure") && s.contains("last results:"),
        "{s}"
    );
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('2'));
    key(&mut app, KeyCode::Enter);
    assert!(matches!(app.overlay, Some(Overlay::EventDetail(_))));
    assert!(screen(&mut app, 160, 48).contains("status_changed"));
}

#[test]
fn blocked_and_paused_checks_say_so() {
    let mut app = failing_app("dark");
    app.board.on_view(
        &RowId::check("api"),
        View {
            state: State::Down,
            blocked_by: Some("smtp-rcpt".into()),
            no_connectivity: false,
            paused: false,
            silenced: false,
        },
    );
    app.board.on_view(
        &RowId::check("web"),
        View { state: State::Up, blocked_by: None, no_connectivity: false, paused: true, silenced: false },
    );
    let s = screen(&mut app, 160, 48);
    assert!(s.contains("✖ blocked") && s.contains("by smtp-rcpt"), "{s}");
    assert!(s.contains("⏸ paused"), "{s}");
}

#[test]
fn zoom_and_filter() {
    let mut app = failing_app("dark");
    key(&mut app, KeyCode::Char('2'));
    key(&mut app, KeyCode::Char('z'));
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("2 Timeline") && !s.contains("1 Checks"), "{s}");
    key(&mut app, KeyCode::Char('/'));
    for c in "postfix".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.filtered.len(), 1);
    assert!(screen(&mut app, 80, 24).contains("filter \"postfix\": 1 of"));
}

#[test]
fn any_terminal_size_draws_without_panicking() {
    let mut app = failing_app("dark");
    // Both banners take lines above the header, however few there are.
    app.banner = Some("READ-ONLY VIEWER — nothing is written".into());
    app.upgrade = Some("12 entries from a newer warroom were skipped — upgrade".into());
    for overlay in [
        None,
        Some(Overlay::Help),
        Some(Overlay::CheckDetail("smtp-rcpt".into())),
        Some(Overlay::ConfirmQuit),
        Some(Overlay::Filter("x".into())),
    ] {
        app.overlay = overlay;
        for (w, h) in [(0, 0), (1, 1), (2, 1), (10, 3), (20, 5), (30, 7), (40, 9), (80, 10), (15, 40), (300, 2)] {
            for zoom in [false, true] {
                app.zoom = zoom;
                render(&mut app, w, h);
            }
        }
    }
}

/// A read-only viewer whose poller was killed: every row the poller had (an alert source's
/// rows too, one of them known to the figures alone) with latency and sparkline, who is
/// here and who is gone, and the warning that the states are frozen.
#[test]
fn a_viewer_shows_the_pollers_rows_and_says_when_nobody_probes() {
    use warroom::session::{Figure, Person, Presence, Probing, Update};
    let events =
        vec![opened(Mode::Real), changed(30, "alerts / HostDown db1", CheckState::Down, "[critical] db1 down")];
    let mut app = app_with(events, vec![row("alerts", "alertmanager")], 41 * 60, "dark");
    app.read_only = true;
    app.banner = Some("READ-ONLY VIEWER — nothing is written".into());
    let reading = |ms: u64, health: Health, at: i64| {
        Reading::of(t(at), &Outcome::new(health, Duration::from_millis(ms), "from the poller"))
    };
    let figure = |id: RowId, kind: &str, view: View, ms: &[u64], health: Health| Figure {
        row: RowInfo { id, kind: kind.into(), target: String::new() },
        view,
        readings: ms.iter().enumerate().map(|(i, ms)| reading(*ms, health, 2000 + i as i64)).collect(),
    };
    let down = View { state: State::Down, ..View::default() };
    let silenced = View { state: State::Down, silenced: true, ..View::default() };
    app.on_update(Update::Figures(vec![
        figure(
            RowId::check("alerts"),
            "alertmanager",
            View { state: State::Up, ..View::default() },
            &[4, 30, 7],
            Health::Up,
        ),
        figure(RowId::row("alerts", "HostDown db1"), "row", down, &[3, 3, 3, 3], Health::Down),
        figure(RowId::row("alerts", "DiskFull db2"), "row", silenced, &[60, 120, 300], Health::Degraded),
    ]));
    let gone_at = t(41 * 60 - 20);
    app.on_update(Update::Presence(Presence {
        people: vec![
            Person { author: "alice@bastion".into(), gone_since: Some(gone_at) },
            Person { author: "bob@bastion".into(), gone_since: None },
        ],
        probing: Probing::Nobody { since: Some(gone_at) },
    }));
    let small = screen(&mut app, 80, 24);
    assert!(
        small.contains("⚠ nobody is probing since 04:30 — a warroom without --read-only would take over"),
        "{small}"
    );
    assert!(small.contains("alerts / DiskFull db2"), "a row only the figures know: {small}");
    insta::assert_snapshot!("viewer_unprobed_80x24", small);
    let wide = screen(&mut app, 160, 48);
    assert!(wide.contains("on: bob") && wide.contains("gone: alice 04:30"), "{wide}");
    insta::assert_snapshot!("viewer_unprobed_160x48", wide);
    // On a mirror's copy nobody probes by design: one line says what the screen is.
    app.on_update(Update::Mirrors(vec!["MIRROR of root@bastion — read-only until promoted (P) — in step".into()]));
    let copy = screen(&mut app, 80, 24);
    assert!(!copy.contains("nobody is probing"), "{copy}");
    assert!(copy.contains("MIRROR of root@bastion — read-only until promoted (P)"), "{copy}");
    app.on_update(Update::Mirrors(Vec::new()));
    // A follower is not told to start a warroom: it takes over by itself once it can.
    app.read_only = false;
    let follower = screen(&mut app, 160, 48);
    assert!(follower.contains("⚠ nobody is probing since 04:30 · the states shown are frozen"), "{follower}");
    // Somebody probes again: the warning goes.
    app.on_update(Update::Presence(Presence { people: Vec::new(), probing: Probing::Yes }));
    assert!(!screen(&mut app, 80, 24).contains("nobody is probing"));
}

/// A note too long for a journal line is refused by the session's writer: the screen says so
/// and puts it back in the editor, and the draft file keeps it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_too_long_for_the_journal_stays_in_the_draft_and_the_screen_says_why() {
    use warroom::session::{Command, Opening, Purpose, Session, Settings};
    let dir = tempfile::tempdir().unwrap();
    let (journal, scan) = warroom::journal::Journal::open(dir.path().join("j.jsonl")).unwrap();
    let mut session = Session::start(Opening {
        journal,
        scan,
        settings: Settings::default(),
        purpose: Purpose::Monitor,
        author: "alice".into(),
    });
    let mut app = failing_app("dark");
    app.on_update(session.recv().await.unwrap());
    let long = format!("{} the end", "stack trace line\n".repeat(warroom::journal::MAX_LINE_BYTES / 17 + 1));
    app.set_draft(&long);
    key(&mut app, KeyCode::Char('4'));
    key(&mut app, KeyCode::Enter);
    let effects = app.on_key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL));
    assert!(app.draft().is_empty(), "off the editor while it is being saved");
    for effect in effects {
        match effect {
            Effect::Append(bodies) => session.send(Command::Append(bodies)),
            Effect::SaveDraft(text) => assert_eq!(text, long.trim(), "kept in the draft file meanwhile"),
            other => panic!("{other:?}"),
        }
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let update = tokio::time::timeout_at(deadline, session.recv()).await.expect("no refusal").unwrap();
        let refused = matches!(update, Update::Refused { .. });
        app.on_update(update);
        if refused {
            break;
        }
    }
    assert_eq!(app.draft(), long.trim(), "back in the editor");
    assert!(app.take_draft_changed());
    assert_eq!(app.draft_to_keep(), long.trim(), "and in the draft file");
    assert!(app.unsaved.is_empty() && app.pending.iter().all(|e| !matches!(e.body, EventBody::NoteAdded { .. })));
    let shown = screen(&mut app, 100, 30);
    assert!(shown.contains("note too long"), "{shown}");
    assert!(shown.contains("it stays in the draft"), "{shown}");
    session.leave(Duration::from_secs(10)).await;
    let scan = warroom::journal::Journal::read(dir.path().join("j.jsonl")).unwrap();
    assert!(scan.events.iter().all(|e| !matches!(e.body, EventBody::NoteAdded { .. })));
}

#[test]
fn struck_and_corrected_notes_are_drawn_struck_through_with_the_correction() {
    let typo = ev(60, "alice@bastion", EventBody::NoteAdded { text: "relay restarted at 02:10".into() });
    let wrong = ev(70, "alice@bastion", EventBody::NoteAdded { text: "db01 is the primary".into() });
    let (typo_id, wrong_id) = (typo.id.clone(), wrong.id.clone());
    let events = vec![
        opened(Mode::Real),
        changed(30, "smtp", CheckState::Down, "451"),
        ev(40, "alice@bastion", EventBody::RoleAssigned { role: "commander".into(), person: "alice@bastion".into() }),
        typo,
        wrong,
        ev(80, "bob@laptop", EventBody::Correction { event: typo_id, text: "relay restarted at 02:15".into() }),
        ev(90, "bob@laptop", EventBody::EntryStruck { event: wrong_id, reason: None }),
    ];
    let mut app = app_with(events, vec![row("smtp", "smtp")], 120, "dark");
    let term = render(&mut app, 160, 48);
    let s = term.backend().to_string();
    assert!(s.contains("IC alice@bastion"), "the role reaches the header: {s}");
    assert!(s.contains("det 03:50"), "detection derived from the first failure: {s}");
    assert!(s.contains("↺ relay restarted at 02:15") && s.contains("(struck)"), "{s}");
    // The originals are still there, crossed out.
    let buffer = term.backend().buffer();
    for original in ["relay restarted at 02:10", "db01 is the primary"] {
        let (x, y) = (0..buffer.area.height)
            .find_map(|y| {
                let line: String = (0..buffer.area.width).map(|x| buffer[(x, y)].symbol().to_string()).collect();
                line.find(original).map(|at| (line[..at].chars().count() as u16, y))
            })
            .unwrap_or_else(|| panic!("{original} not drawn: {s}"));
        assert!(buffer[(x, y)].modifier.contains(ratatui::style::Modifier::CROSSED_OUT), "{original} not struck");
    }
}

fn ctrl(app: &mut App, c: char) -> Vec<Effect> {
    app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, if c == '\n' { KeyCode::Enter } else { KeyCode::Char(c) });
    }
}

/// The public message a send carries: its text and the promise it records.
fn sent(effects: &[Effect]) -> (&str, Option<DateTime<Utc>>) {
    match effects {
        [Effect::Send { text, next_update, .. }, ..] => (text.as_str(), *next_update),
        other => panic!("nothing sent: {other:?}"),
    }
}

/// Issue 18: `e` put the message in Notes, Ctrl-S saved it as a note and `m` sent the
/// template. Now Notes holds the item's message, labelled, and what was edited is sent.
#[test]
fn an_edited_message_is_what_ctrl_s_sends() {
    let mut app = failing_app("dark");
    key(&mut app, KeyCode::Char('3'));
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down); // status-page, public
    let opened = key(&mut app, KeyCode::Char('e'));
    assert!(
        matches!(&opened[0], Effect::Append(b) if matches!(&b[0], EventBody::MessagePrepared { via, .. } if via == "notes"))
    );
    assert!(app.editing && app.message_draft.as_ref().is_some_and(|d| d.item == "status-page"));
    let shown = screen(&mut app, 160, 48);
    assert!(shown.contains("MESSAGE for status-page: Ctrl-S sends on status-page"), "{shown}");
    // The promise is stated in the public zone: 41 minutes in plus the 30-minute cadence.
    assert!(app.draft().contains("We will post the next update by 04:01 UTC."), "{}", app.draft());
    type_text(&mut app, "\nMail to Gmail is delayed; other mail flows.");
    assert!(ctrl(&mut app, 's').is_empty(), "Ctrl-S asks first");
    let Some(Overlay::ConfirmSend { text, .. }) = &app.overlay else { panic!("no confirmation: {:?}", app.overlay) };
    assert!(text.ends_with("Mail to Gmail is delayed; other mail flows."), "{text}");
    let effects = key(&mut app, KeyCode::Char('y'));
    let (text, promise) = sent(&effects);
    assert!(text.contains("by 04:01 UTC.\nMail to Gmail is delayed; other mail flows."), "{text}");
    assert_eq!(promise, Some(t(71 * 60)), "the promise is recorded with the message");
    assert!(effects.contains(&Effect::SaveDraft(String::new())), "Notes is free again: {effects:?}");
    assert!(app.message_draft.is_none() && app.draft().is_empty());
}

#[test]
fn m_sends_the_edited_message_and_a_rewritten_time_is_no_recorded_promise() {
    let mut app = failing_app("dark");
    key(&mut app, KeyCode::Char('3'));
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Char('e'));
    let edited = app.draft().replace("by 04:01 UTC", "within the hour");
    app.set_draft(&edited);
    key(&mut app, KeyCode::Esc);
    assert!(screen(&mut app, 160, 48).contains("MESSAGE for status-page: m on the item (or Ctrl-S) sends it"));
    key(&mut app, KeyCode::Char('3'));
    key(&mut app, KeyCode::Char('m'));
    let effects = key(&mut app, KeyCode::Char('y'));
    let (text, promise) = sent(&effects);
    assert_eq!(text, edited.trim());
    assert_eq!(promise, None, "the text no longer states the time: nothing is promised");
    // Another item's `m` still sends that item's own message.
    key(&mut app, KeyCode::Up);
    key(&mut app, KeyCode::Char('m'));
    let effects = key(&mut app, KeyCode::Char('y'));
    assert!(sent(&effects).0.starts_with("[Mail delivery failing] We have an outage"));
}

/// The all-clear went out reading "[Say whether any data was lost.] A review will follow."
#[test]
fn an_unfilled_prompt_is_named_before_sending() {
    let mut app = failing_app("dark");
    app.on_events(vec![ev(2000, "alice@bastion", EventBody::StatusChanged { status: Status::Resolved })]);
    key(&mut app, KeyCode::Char('3'));
    let items = app.board.checklist_items();
    let at = items.iter().position(|(i, _)| i.id == "all-clear").unwrap();
    app.selected[Pane::Checklist] = at;
    key(&mut app, KeyCode::Char('m'));
    let shown = screen(&mut app, 160, 48);
    assert!(shown.contains("⚠ NOT FILLED IN: [Say whether any data was lost.]"), "{shown}");
    assert!(shown.contains("Send it anyway?"), "{shown}");
    assert!(key(&mut app, KeyCode::Char('n')).is_empty(), "any other key cancels");
    key(&mut app, KeyCode::Char('e'));
    let filled = app.draft().replace("[Say whether any data was lost.]", "No data was lost.");
    app.set_draft(&filled);
    ctrl(&mut app, 's');
    let shown = screen(&mut app, 160, 48);
    assert!(!shown.contains("NOT FILLED IN") && shown.contains("y sends"), "{shown}");
    assert!(sent(&key(&mut app, KeyCode::Char('y'))).0.contains("No data was lost. A review will follow."));
}

/// The header counted down to its own cadence (14:16) while the public had been promised
/// 14:11. The promise recorded with the last public message is the deadline, overdue the
/// moment it passes.
#[test]
fn the_header_counts_down_to_the_public_promise() {
    let promised = t(40 * 60 + 11 * 60);
    let message = EventBody::MessageSent {
        channel: "status-page".into(),
        audience: Audience::Public,
        text: "Next update by 03:41 UTC.".into(),
        error: None,
        item: Some("public-update".into()),
        simulated: false,
        next_update: Some(promised),
    };
    let mut app = app_with(vec![opened(Mode::Real), ev(40 * 60, "c@h", message)], vec![], 50 * 60, "dark");
    app.board.update_every = Some(Duration::from_secs(16 * 60));
    assert_eq!(app.board.next_update_due(), Some(promised));
    let at = |app: &mut App, now: DateTime<Utc>| {
        app.board.clock = Clock { now, offset: FixedOffset::east_opt(3600).unwrap() };
        screen(app, 120, 30)
    };
    let shown = at(&mut app, promised - chrono::Duration::seconds(61));
    assert!(shown.contains("next update in 1m (promised by 03:41 UTC)"), "{shown}");
    let shown = at(&mut app, promised);
    assert!(shown.contains("next update in 0s") && !shown.contains("PUBLIC UPDATE OVERDUE"), "{shown}");
    let shown = at(&mut app, promised + chrono::Duration::milliseconds(1));
    assert!(shown.contains("PUBLIC UPDATE OVERDUE by 0s"), "{shown}");
    // A later public message that promises nothing withdraws the promise.
    let plain = EventBody::MessageSent {
        channel: "social".into(),
        audience: Audience::Public,
        text: "See the status page.".into(),
        error: None,
        item: None,
        simulated: false,
        next_update: None,
    };
    app.on_events(vec![ev(52 * 60, "c@h", plain)]);
    assert_ne!(app.board.next_update_due(), Some(promised));
}

/// Issue 18: "record commander, deputy, scribe and comms lead" could be ticked with nobody
/// recorded. It ticks only once the journal records every role it names.
#[test]
fn the_roles_item_ticks_only_once_the_roles_are_recorded() {
    let mut app = app_with(vec![opened(Mode::Real)], vec![], 4 * 60, "dark");
    key(&mut app, KeyCode::Char('3'));
    assert!(key(&mut app, KeyCode::Char(' ')).is_empty(), "ticked with nobody recorded");
    let flash = app.flash.clone().unwrap_or_default();
    assert!(flash.contains("nobody is recorded as commander, deputy, scribe, comms"), "{flash}");
    let assigned = |secs, role: &str, person: &str| {
        ev(secs, "alice@h", EventBody::RoleAssigned { role: role.into(), person: person.into() })
    };
    app.on_events(vec![assigned(60, "commander", "alice"), assigned(70, "deputy", "bob")]);
    assert!(key(&mut app, KeyCode::Char(' ')).is_empty());
    assert!(app.flash.as_deref().is_some_and(|f| f.ends_with("as scribe, comms (warroom role ROLE PERSON)")));
    app.on_events(vec![assigned(80, "scribe", "carol"), assigned(90, "comms", "dave")]);
    assert_eq!(
        key(&mut app, KeyCode::Char(' ')),
        vec![Effect::Append(vec![EventBody::ChecklistItemDone { item: "roles".into() }])]
    );
}

/// Issue 18: one key on a failing check or an alert row declares from it.
#[test]
fn declaring_from_an_alert_names_an_untitled_incident_and_pins_the_signal() {
    let untitled = ev(
        0,
        "alice@bastion",
        EventBody::IncidentOpened { title: "Incident".into(), severity: 3, mode: Mode::Real, checklist: None },
    );
    let alert = "alerts / HighErrorRate api-1";
    let fired = changed(30, alert, CheckState::Down, "[critical] Error rate above 5% on api-1");
    let signal = fired.id.clone();
    let alert_row = CheckRow::new(RowInfo {
        id: RowId::row("alerts", "HighErrorRate api-1"),
        kind: "alertmanager".into(),
        target: String::new(),
    });
    let rows = vec![alert_row, row("web", "http")];
    let mut app = app_with(vec![untitled, fired, changed(40, "web", CheckState::Up, "HTTP 200 OK")], rows, 60, "dark");
    key(&mut app, KeyCode::Char('1'));
    assert_eq!(app.selected_check().map(|r| r.name.as_str()), Some(alert));
    let effects = key(&mut app, KeyCode::Char('D'));
    let title = "HighErrorRate api-1: Error rate above 5% on api-1";
    assert_eq!(
        effects,
        vec![Effect::Append(vec![
            EventBody::IncidentOpened { title: title.into(), severity: 1, mode: Mode::Real, checklist: None },
            EventBody::EventPinned { event: signal.clone() },
        ])]
    );
    let Effect::Append(bodies) = &effects[0] else { unreachable!() };
    app.on_events(bodies.iter().map(|b| ev(70, "alice@bastion", b.clone())).collect());
    let incident = &app.board.incident;
    assert_eq!((incident.title.as_deref(), incident.severity), (Some(title), Some(1)));
    assert!(incident.key_events().any(|(_, e)| e.id == signal), "the alert is a key event");
    assert!(screen(&mut app, 120, 30).contains(title));
    // Declared once: the same key again changes nothing.
    assert!(key(&mut app, KeyCode::Char('D')).is_empty());
    assert!(app.flash.as_deref().is_some_and(|f| f.contains("already a key event")), "{:?}", app.flash);
    // A check that is up is no signal.
    key(&mut app, KeyCode::Down);
    assert!(key(&mut app, KeyCode::Char('D')).is_empty());
    assert!(app.flash.as_deref().is_some_and(|f| f.contains("web is not failing")), "{:?}", app.flash);
}

#[test]
fn declaring_from_a_check_of_a_named_incident_attaches_it_as_a_key_event() {
    let mut app = failing_app("dark");
    key(&mut app, KeyCode::Char('1'));
    let name = app.selected_check().unwrap().name.clone();
    let failure = app
        .board
        .incident
        .timeline
        .iter()
        .rev()
        .find(|e| matches!(&e.body, EventBody::CheckChanged { check, .. } if *check == name))
        .unwrap()
        .id
        .clone();
    assert_eq!(
        key(&mut app, KeyCode::Char('D')),
        vec![Effect::Append(vec![EventBody::EventPinned { event: failure }])],
        "the incident keeps its own title"
    );
    assert!(app.flash.as_deref().is_some_and(|f| f.ends_with("attached as a key event")));
}

#[test]
fn the_send_confirmation_shows_its_keys_and_the_footer_shows_the_outcome() {
    let mut app = failing_app("dark");
    key(&mut app, KeyCode::Char('3'));
    key(&mut app, KeyCode::Down); // staff
    key(&mut app, KeyCode::Char('m'));
    let asked = screen(&mut app, 160, 48);
    assert!(asked.contains("y sends · e edits it first · any other key cancels"), "{asked}");
    // e does what it says: the question's text goes to Notes, and Ctrl-S asks again.
    let edited = key(&mut app, KeyCode::Char('e'));
    assert!(matches!(&edited[..], [Effect::Append(_), Effect::SaveDraft(_)]), "{edited:?}");
    assert!(app.editing && app.overlay.is_none());
    assert!(ctrl(&mut app, 's').is_empty());
    assert!(matches!(&app.overlay, Some(Overlay::ConfirmSend { channel, .. }) if channel == "staff"));
    let sent = key(&mut app, KeyCode::Char('y'));
    let [Effect::Send { channel, text, .. }, ..] = &sent[..] else { panic!("{sent:?}") };
    assert!(screen(&mut app, 160, 48).contains(&format!("sending on {channel}…")));
    // Another item's outcome, or a teammate's send on another channel, is not this one's.
    let other = EventBody::MessageSent {
        channel: "other".into(),
        audience: Audience::Internal,
        text: "x".into(),
        error: None,
        item: Some("staff".into()),
        simulated: false,
        next_update: None,
    };
    app.on_events(vec![ev(2500, "dave@bastion", other)]);
    assert!(screen(&mut app, 160, 48).contains(&format!("sending on {channel}…")));
    let failed = EventBody::MessageSent {
        channel: channel.clone(),
        audience: Audience::Internal,
        text: text.clone(),
        error: Some("HTTP 502 from the relay\x1b[2J".into()),
        item: Some("staff".into()),
        simulated: false,
        next_update: None,
    };
    app.on_events(vec![ev(2501, "alice@bastion", failed)]);
    let s = screen(&mut app, 160, 48);
    assert!(s.contains(&format!("send on {channel} FAILED: HTTP 502 from the relay")), "{s}");
    assert!(!s.contains("sending on"), "{s}");
    assert!(!s.contains('\x1b'));
    // The message is not lost with the send: it is back in Notes, and Ctrl-S sends it again.
    assert!(app.flash.as_deref().is_some_and(|f| f.contains("the message is back in Notes")), "{:?}", app.flash);
    assert_eq!(app.draft().trim(), text.trim());
    key(&mut app, KeyCode::Char('i'));
    assert!(ctrl(&mut app, 's').is_empty());
    assert!(
        matches!(&app.overlay, Some(Overlay::ConfirmSend { channel: c, text: t, .. }) if c == channel && t.trim() == text.trim())
    );
}

#[test]
fn attention_rings_and_titles_once_per_new_failure_and_once_when_overdue() {
    use warroom::config::Attention;
    use warroom::tui::attention::Watch;
    let mut app = failing_app("dark");
    app.board.update_every = None;
    let mut watch = Watch::new(Attention { bell: true, title: true });
    // History on opening is not news.
    assert!(watch.look(&app.board).is_empty());
    app.on_events(vec![changed(2500, "web", CheckState::Down, "HTTP 500\x1b]2;evil\x07")]);
    let out = watch.look(&app.board);
    // The first title of the process is preceded by a push of the operator's own (given back on
    // quit); which test of this binary sets the first title is up to the scheduler.
    let text = String::from_utf8_lossy(&out).replace("\x07\x1b[22;2t", "\x07");
    let out = text.as_bytes();
    assert!(out.starts_with(b"\x07\x1b]2;") && out.ends_with(b"\x07"), "{text:?}");
    assert!(
        text.contains("web failing") && text.contains("Mail delivery failing") && !text.contains("evil"),
        "{text:?}"
    );
    assert_eq!(out.iter().filter(|&&b| b == 0x1b).count(), 1, "one sequence: {text:?}");
    // The same failure again, or any other change, calls nobody.
    assert!(watch.look(&app.board).is_empty());
    app.on_events(vec![changed(2510, "web", CheckState::Down, "HTTP 500 again")]);
    assert!(watch.look(&app.board).is_empty());
    // Recovered, then down again: new news.
    app.on_events(vec![changed(2520, "web", CheckState::Up, "ok")]);
    assert!(watch.look(&app.board).is_empty());
    app.on_events(vec![changed(2530, "web", CheckState::Down, "HTTP 500")]);
    assert_eq!(watch.look(&app.board).first(), Some(&0x07));
    // Bell only: no title.
    let mut bell = Watch::new(Attention { bell: true, title: false });
    bell.look(&app.board);
    app.on_events(vec![changed(2540, "smtp-port", CheckState::Down, "refused")]);
    assert_eq!(bell.look(&app.board), vec![0x07]);
    // Off (the default): nothing ever.
    let mut off = Watch::new(Attention::default());
    off.look(&app.board);
    app.on_events(vec![changed(2550, "dns", CheckState::Down, "SERVFAIL")]);
    assert!(off.look(&app.board).is_empty());
}

#[test]
fn attention_calls_once_when_a_public_update_becomes_overdue() {
    use warroom::config::Attention;
    use warroom::tui::attention::Watch;
    let mut app = failing_app("dark");
    app.board.update_every = Some(Duration::from_secs(30 * 60));
    let due = app.board.next_update_due().expect("a public update is due");
    app.board.clock = Clock::at(due - chrono::Duration::seconds(10));
    let mut watch = Watch::new(Attention { bell: true, title: false });
    assert!(watch.look(&app.board).is_empty());
    app.board.clock = Clock::at(due + chrono::Duration::seconds(1));
    assert_eq!(watch.look(&app.board), vec![0x07]);
    app.board.clock = Clock::at(due + chrono::Duration::seconds(60));
    assert!(watch.look(&app.board).is_empty(), "once, not every second");
}

/// Three Prometheus series of one source, 40-character check names, an acknowledged row and
/// one the server said is back at a given time.
fn long_names_app() -> App {
    let series: Vec<String> = (1..=3).map(|n| format!("blackbox / http://api-{n}.example.com/health")).collect();
    let long = ["mail-relay-outbound-smtp-submission-587", "customer-portal-login-with-single-sign-on"];
    let mut events = vec![opened(Mode::Real)];
    for (i, name) in series.iter().enumerate() {
        events.push(changed(30 + i as i64, name, CheckState::Down, "probe_success == 0"));
    }
    events.push(changed(40, long[0], CheckState::Down, "connection refused"));
    events.push(ev(
        50,
        "alice@bastion",
        EventBody::MilestoneReached { milestone: Milestone::Acknowledged, at: None, check: Some(series[0].clone()) },
    ));
    let names: Vec<&str> = series.iter().map(String::as_str).chain(long).collect();
    let rows = names.iter().map(|n| row(n, "http")).collect();
    let mut app = app_with(events, rows, 41 * 60, "dark");
    let mut back = Outcome::new(Health::Down, Duration::from_millis(30), "HTTP 503");
    back.retry_after = Some(t(45 * 60));
    app.board.on_reading(&RowId::check(long[0]), Reading::of(t(2400), &back));
    app
}

#[test]
fn long_check_names_stay_distinguishable_at_every_size() {
    let mut app = long_names_app();
    // Focused, the checklist shows at 80x24 too (below the checks).
    app.focus = Pane::Checklist;
    for (w, h) in [(80, 24), (120, 35), (200, 50)] {
        let shown = screen(&mut app, w, h);
        // Each series row names its own target, on its own line.
        for n in 1..=3 {
            let target = format!("api-{n}.ex");
            // The name column of a Checks row (the timeline may sit beside it).
            let in_name = |l: &&str| {
                l.split("✖ down").nth(1).is_some_and(|rest| rest.chars().take(45).collect::<String>().contains(&target))
            };
            let rows = shown.lines().filter(in_name).count();
            assert_eq!(rows, 1, "api-{n} at {w}x{h}:\n{shown}");
        }
        assert!(shown.contains("ack alice"), "the acknowledgement is whole at {w}x{h}:\n{shown}");
        assert!(shown.contains("back 04:35"), "Retry-After is whole at {w}x{h}:\n{shown}");
        assert!(shown.contains("mail-relay-outbound"), "{w}x{h}:\n{shown}");
        // Checklist titles are read, not guessed: the first one's words are all there.
        assert!(shown.contains("Brief the incident team;"), "checklist title at {w}x{h}:\n{shown}");
        insta::assert_snapshot!(format!("long_names_{w}x{h}"), shown);
    }
}

#[test]
fn a_scrolled_checks_pane_says_what_is_out_of_view() {
    let names: Vec<String> = (0..20).map(|n| format!("check-{n:02}")).collect();
    let events: Vec<Event> = std::iter::once(opened(Mode::Real))
        .chain(names.iter().take(4).map(|n| changed(30, n, CheckState::Down, "refused")))
        .collect();
    let rows = names.iter().map(|n| row(n, "tcp")).collect();
    let mut app = app_with(events, rows, 600, "dark");
    let top = screen(&mut app, 80, 24);
    assert!(top.contains("↓ 12 more "), "rows below are counted:\n{top}");
    assert!(!top.contains('↑'), "nothing is above the first row:\n{top}");
    // The last row selected: the four failing rows (sorted first) are above, out of view.
    app.selected[Pane::Checks] = 19;
    let scrolled = screen(&mut app, 80, 24);
    let marker = scrolled.lines().find(|l| l.contains('↑')).unwrap_or_else(|| panic!("no marker:\n{scrolled}"));
    assert!(marker.contains("↑ 12 more (4 failing)"), "{scrolled}");
    insta::assert_snapshot!("checks_scrolled_80x24", scrolled);
}

/// The checklist's item ids in the order the screen lists them.
fn checklist_ids(app: &App) -> Vec<String> {
    app.checklist_rows().into_iter().map(|(item, _)| item.id.clone()).collect()
}

#[test]
fn the_checklist_is_ordered_by_due_time_unless_file_order_is_asked_for() {
    let mut app = failing_app("dark");
    app.checklist_order = checklist::Order::Due;
    // 41 minutes in: the overdue by deadline (earliest first), then the one due soon, then
    // what is done, then what does not apply (not resolved yet).
    let due_order = [
        "status-page",
        "email-customers",
        "maintenance-page",
        "social",
        "support-channel",
        "internal-summary",
        "escalate",
        "public-update",
        "roles",
        "staff",
        "all-clear",
        "review",
    ];
    assert_eq!(checklist_ids(&app), due_order);
    // Tall enough for the whole list.
    let s = screen(&mut app, 160, 64);
    let at = |needle: &str| s.find(needle).unwrap_or_else(|| panic!("{needle} not on screen:\n{s}"));
    assert!(at("⚠ OVERDUE  First public acknowledgement") < at("◔ due soon Public update"), "{s}");
    assert!(at("◔ due soon Public update") < at("☑ done     Brief the incident team"), "{s}");
    assert!(at("☑ done     Tell staff") < at("– n/a      All-clear"), "{s}");
    insta::assert_snapshot!("checklist_due_order_160x64", s);
    // `[screen] checklist_order = "file"`: as the file lists them.
    app.checklist_order = checklist::Order::File;
    let file_order: Vec<String> = checklist::load("default").unwrap().items.iter().map(|i| i.id.clone()).collect();
    assert_eq!(checklist_ids(&app), file_order);
    let s = screen(&mut app, 160, 64);
    let at = |needle: &str| s.find(needle).unwrap_or_else(|| panic!("{needle} not on screen:\n{s}"));
    assert!(at("☑ done     Brief the incident team") < at("⚠ OVERDUE  First public"), "{s}");
}

#[test]
fn a_ticked_item_moves_down_the_due_order_and_the_selection_stays_on_it() {
    let mut app = failing_app("dark");
    app.checklist_order = checklist::Order::Due;
    key(&mut app, KeyCode::Char('3'));
    screen(&mut app, 160, 48);
    assert_eq!(
        key(&mut app, KeyCode::Char(' ')),
        vec![Effect::Append(vec![EventBody::ChecklistItemDone { item: "status-page".into() }])]
    );
    // The journal has it: the item is done and moves down among the done ones.
    app.on_events(vec![ev(2400, "carol@bastion", EventBody::ChecklistItemDone { item: "status-page".into() })]);
    screen(&mut app, 160, 48);
    assert_eq!(checklist_ids(&app)[0], "email-customers");
    // A second Space takes back the same item, not the one that moved up under the cursor.
    assert_eq!(
        key(&mut app, KeyCode::Char(' ')),
        vec![Effect::Append(vec![EventBody::ChecklistItemUndone { item: "status-page".into() }])]
    );
    // Moving the selection by hand is not undone by the anchor.
    key(&mut app, KeyCode::Up);
    screen(&mut app, 160, 48);
    let selected = checklist_ids(&app)[app.selected[Pane::Checklist]].clone();
    assert_eq!(selected, "staff", "the done items follow the open ones, by deadline");
}

#[test]
fn after_resolve_the_items_that_no_longer_apply_show_n_a() {
    let mut app = failing_app("dark");
    app.checklist_order = checklist::Order::Due;
    app.focus = Pane::Checklist;
    let before = screen(&mut app, 160, 48);
    assert!(before.contains("7 OVERDUE"), "{before}");
    app.on_events(vec![ev(42 * 60, "alice@bastion", EventBody::StatusChanged { status: Status::Resolved })]);
    app.board.clock.now = t(43 * 60);
    let s = screen(&mut app, 160, 48);
    assert!(!s.contains("OVERDUE"), "nothing is owed any more but the all-clear and the review:\n{s}");
    assert!(!s.contains("late"), "{s}");
    // What resolving asks for is due from the resolution, and leads the list.
    assert_eq!(checklist_ids(&app)[..4], ["all-clear", "review", "roles", "staff"]);
    assert!(s.contains("☐ pending  All-clear: service restored"), "{s}");
    assert!(s.contains("– n/a      First public acknowledgement"), "{s}");
    let views: Vec<_> = app.checklist_rows().into_iter().map(|(i, v)| (i.id.clone(), v.state)).collect();
    let not_applicable = views.iter().filter(|(_, s)| *s == checklist::ItemState::NotApplicable).count();
    assert_eq!(not_applicable, 8, "{views:?}");
    insta::assert_snapshot!("checklist_resolved_160x48", s);
    // `warroom brief` reads the same fold: nothing overdue after the resolution.
    let brief = warroom::brief::render(&app.board, "alice@bastion");
    assert!(!brief.contains("OVERDUE"), "{brief}");
}

#[test]
fn a_long_note_says_what_is_out_of_view_like_every_other_pane() {
    let mut app = failing_app("dark");
    key(&mut app, KeyCode::Char('i'));
    for n in 1..=30 {
        for c in format!("line {n}").chars() {
            key(&mut app, KeyCode::Char(c));
        }
        if n < 30 {
            key(&mut app, KeyCode::Enter);
        }
    }
    app.zoom = true;
    // Zoomed at 80x24: the Notes pane's border is rows 2 and 22, 19 lines of editor between.
    let s = screen(&mut app, 80, 24);
    let rows: Vec<&str> = s.lines().collect();
    assert!(rows[2].contains("4 Notes") && rows[2].contains("↑ 11 more"), "{s}");
    assert!(!rows[22].contains("more"), "the cursor is on the last line: nothing below\n{s}");
    assert!(rows[21].contains("line 30"), "{s}");
    // Back to the top: the rest is below.
    for _ in 1..30 {
        key(&mut app, KeyCode::Up);
    }
    let s = screen(&mut app, 80, 24);
    let rows: Vec<&str> = s.lines().collect();
    assert!(rows[3].contains("line 1 ") && rows[22].contains("↓ 11 more"), "{s}");
    assert!(!rows[2].contains("more"), "{s}");
}

/// A check run from several places: one glyph and name per place beside the verdict, the
/// unreachable vantage in a banner with since when and why, and each place in the detail view.
#[test]
fn places_stand_beside_the_verdict_and_an_unreachable_vantage_is_its_own_banner() {
    let place = |secs: i64, vantage: &str, to: CheckState| {
        let body = EventBody::VantageCheckChanged {
            check: "shop".into(),
            vantage: vantage.into(),
            from: CheckState::Unknown,
            to,
            detail: String::new(),
        };
        ev(secs, "poller@bastion", body)
    };
    let events = vec![
        opened(Mode::Real),
        place(20, "local", CheckState::Up),
        place(21, "paris", CheckState::Down),
        place(22, "fra", CheckState::Up),
        changed(22, "shop", CheckState::Degraded, "down from paris; up from local, fra"),
        ev(
            300,
            "poller@bastion",
            EventBody::VantageUnreachable { vantage: "fra".into(), detail: "no word for 5s\u{1b}[2J".into() },
        ),
    ];
    let mut app = app_with(events, vec![row("shop", "http"), row("db", "tcp")], 600, "mono");
    let shown = screen(&mut app, 160, 30);
    let line = shown.lines().find(|l| l.contains("shop")).unwrap_or_default();
    // Glyph and word for each place, never colour alone: ⌁ for the vantage that is unreachable.
    // The place that explains the verdict first: down, then unreachable, then up.
    assert!(line.contains("▲ degraded ✖ paris ⌁ fra ✔ local"), "{shown}");
    assert!(shown.contains("⌁ fra unreachable since 03:55: no word for 5s"), "{shown}");
    assert!(!shown.contains('\u{1b}'), "{shown}");
    insta::assert_snapshot!("places_160x30", shown);
    app.overlay = Some(Overlay::CheckDetail("shop".into()));
    let detail = screen(&mut app, 160, 30);
    assert!(detail.contains("from each place (recorded):"), "{detail}");
    assert!(detail.contains("✖ down     paris"), "{detail}");
    assert!(detail.contains("✔ up       fra — unreachable since 03:55:00: no word for 5s"), "{detail}");
}

fn place_changed(secs: i64, check: &str, vantage: &str, to: CheckState) -> Event {
    let body = EventBody::VantageCheckChanged {
        check: check.into(),
        vantage: vantage.into(),
        from: CheckState::Unknown,
        to,
        detail: String::new(),
    };
    ev(secs, "poller@bastion", body)
}

/// Long vantage names in a Checks pane of 80 and 120 columns: the place that is down comes
/// first and is never cut away; the others are summed up when they do not fit.
#[test]
fn the_failing_place_is_never_cut_from_its_check_s_row() {
    let places = ["local", "frankfurt-am-main", "london-docklands", "paris-east", "singapore-2"];
    let mut events = vec![opened(Mode::Real)];
    for (i, place) in places.iter().enumerate() {
        let to = if *place == "paris-east" { CheckState::Down } else { CheckState::Up };
        events.push(place_changed(20 + i as i64, "checkout-api", place, to));
        events.push(place_changed(20 + i as i64, "payments", place, CheckState::Up));
    }
    events.push(changed(30, "checkout-api", CheckState::Degraded, "down from paris-east; up from …"));
    events.push(changed(30, "payments", CheckState::Up, "up from …"));
    let rows = vec![row("checkout-api", "http"), row("payments", "http"), row("db", "tcp")];
    let mut app = app_with(events, rows, 600, "mono");
    for (w, h) in [(80, 24), (120, 35)] {
        let shown = screen(&mut app, w, h);
        let line = shown.lines().find(|l| l.contains("▲ degraded")).unwrap_or_default();
        assert!(line.contains("▲ degraded ✖ paris-east "), "{w}x{h}:\n{shown}");
        // Every place is either named or counted in the summary.
        let named = places.iter().filter(|p| line.contains(&format!(" {p} "))).count();
        let summed: usize = line.split(" +").nth(1).and_then(|s| s.split(' ').next()?.parse().ok()).unwrap_or(0);
        assert_eq!(named + summed, places.len(), "{w}x{h}:\n{shown}");
        let payments = shown.lines().find(|l| l.contains("✔ up")).unwrap_or_default();
        assert!(payments.contains("✔ frankfurt"), "{w}x{h}:\n{shown}");
        insta::assert_snapshot!(format!("failing_place_first_{w}x{h}"), shown);
    }
}

/// A vantage unreachable from the start has no recorded state for its checks: the row still
/// names it (`⌁ fra`, from the config's `from`), its banner says why with ssh's words first,
/// and while a row has no verdict yet the header does not say "all up".
#[test]
fn a_vantage_unreachable_from_the_start_is_on_its_checks_rows() {
    let events = vec![
        opened(Mode::Real),
        place_changed(20, "shop", "local", CheckState::Up),
        ev(
            30,
            "poller@bastion",
            EventBody::VantageUnreachable {
                vantage: "fra".into(),
                detail: "Connection timed out during banner exchange (ssh exit status: 255) — while connecting to fra (wr@fra.example.com)".into(),
            },
        ),
    ];
    let mut app = app_with(events, vec![row("shop", "http")], 60, "mono");
    app.board.places.insert("shop".into(), vec!["local".into(), "paris".into(), "fra".into()]);
    let shown = screen(&mut app, 80, 24);
    let line = shown.lines().find(|l| l.contains(" shop")).unwrap_or_default();
    assert!(line.contains("⌁ fra ? paris ✔ local shop"), "{shown}");
    assert!(shown.contains("1 unknown of 1") && !shown.contains("all up"), "{shown}");
    assert!(shown.contains("⌁ fra unreachable since 03:50: Connection timed out during banner exchange"), "{shown}");
    assert!(!shown.contains("(ssh exit") && !shown.contains("while connecting"), "for the detail view: {shown}");
    // Once it has a verdict, and a place down, the down place leads.
    let mut app = app_with(
        vec![
            opened(Mode::Real),
            place_changed(20, "shop", "local", CheckState::Down),
            place_changed(21, "shop", "paris", CheckState::Up),
            changed(22, "shop", CheckState::Degraded, "down from local; up from paris"),
        ],
        vec![row("shop", "http")],
        60,
        "mono",
    );
    app.board.places.insert("shop".into(), vec!["local".into(), "paris".into(), "fra".into()]);
    let shown = screen(&mut app, 80, 24);
    assert!(shown.contains("▲ degraded ✖ local ? fra ✔ paris"), "{shown}");
}

/// The detail view's last results: a check judged from several places has a reading per
/// place's result, and no time is listed twice.
#[test]
fn last_results_list_each_time_once() {
    let mut app = app_with(vec![opened(Mode::Real)], vec![row("shop", "http")], 60, "mono");
    sample(&mut app, "shop", Health::Up, 3, "local: up 3 ms", 40);
    sample(&mut app, "shop", Health::Degraded, 5, "paris: down", 40);
    sample(&mut app, "shop", Health::Degraded, 5, "paris: down again", 41);
    app.overlay = Some(Overlay::CheckDetail("shop".into()));
    let detail = screen(&mut app, 120, 35);
    let at = |time: &str| detail.lines().filter(|l| l.contains(time) && l.contains("ms")).count();
    assert_eq!(at("03:50:40"), 1, "{detail}");
    assert_eq!(at("03:50:41"), 1, "{detail}");
    assert!(
        detail.contains("paris: down") && !detail.contains("local: up 3 ms"),
        "the newest of a second stands: {detail}"
    );
}

/// At 120x30 the list cuts titles to two lines and has no room for the hint or the message:
/// Enter on an item shows it whole, and any key closes it.
#[test]
fn enter_on_a_checklist_item_shows_it_whole() {
    let mut app = failing_app("dark");
    key(&mut app, KeyCode::Char('3'));
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down); // status-page, in file order
    assert!(key(&mut app, KeyCode::Enter).is_empty());
    assert!(matches!(&app.overlay, Some(Overlay::ItemDetail(id)) if id == "status-page"), "{:?}", app.overlay);
    let s = screen(&mut app, 120, 30);
    let flat =
        s.lines().map(|l| l.trim_matches(|c: char| c == '│' || c == '║' || c == ' ')).collect::<Vec<_>>().join(" ");
    for words in [
        "off-site status page",
        "hint: The status page must be hosted outside the platform",
        "message → status-page (public):",
    ] {
        assert!(flat.contains(words), "{words:?} not in:\n{s}");
    }
    assert!(key(&mut app, KeyCode::Char('x')).is_empty());
    assert_eq!(app.overlay, None);
}
