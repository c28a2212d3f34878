//! The commander's verbs on the screen: what each key shows (TestBackend snapshots at 80x24)
//! and what it writes (the effects, and through a real session, the journal).

use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use warroom::board::{Board, Clock};
use warroom::checklist;
use warroom::incident::Incident;
use warroom::journal::{CheckState, Event, EventBody, Milestone, Mode, Status};
use warroom::session::Update;
use warroom::tui::{App, Effect, KeyMap, Overlay, Pane, Theme, draw};

fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 2, 50, 0).unwrap() + chrono::Duration::seconds(secs)
}

fn ev(secs: i64, who: &str, body: EventBody) -> Event {
    Event::at(t(secs), who, body)
}

/// An incident 20 minutes in: smtp down, alice commanding, bob and carol present, one note.
fn events() -> Vec<Event> {
    vec![
        ev(
            0,
            "alice@bastion",
            EventBody::IncidentOpened {
                title: "Mail delivery failing".into(),
                severity: 2,
                mode: Mode::Real,
                checklist: None,
            },
        ),
        ev(1, "alice@bastion", EventBody::OperatorJoined {}),
        ev(2, "bob@laptop", EventBody::OperatorJoined {}),
        ev(3, "carol@desk", EventBody::OperatorJoined {}),
        ev(10, "alice@bastion", EventBody::RoleAssigned { role: "commander".into(), person: "alice@bastion".into() }),
        ev(
            30,
            "poller@bastion",
            EventBody::CheckChanged {
                check: "smtp".into(),
                from: CheckState::Up,
                to: CheckState::Down,
                detail: "451 4.3.0 Temporary lookup failure".into(),
            },
        ),
        ev(300, "bob@laptop", EventBody::NoteAdded { text: "relay restarted at 02:10".into() }),
    ]
}

fn app_as(me: &str, events: Vec<Event>) -> App {
    let clock = Clock { now: t(20 * 60), offset: FixedOffset::east_opt(3600).unwrap() };
    let board = Board::new(Incident::from_events(events), Vec::new(), Some(checklist::load("default").unwrap()), clock);
    let mut app = App::new(board, Theme::built_in("dark"), KeyMap::defaults());
    app.me = me.into();
    app
}

fn screen(app: &mut App) -> String {
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    term.draw(|f| draw::draw(f, app)).unwrap();
    term.backend().to_string()
}

fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        assert!(key(app, KeyCode::Char(c)).is_empty(), "typing writes nothing");
    }
}

fn appended(effects: &[Effect]) -> Vec<EventBody> {
    effects.iter().filter_map(|e| if let Effect::Append(b) = e { Some(b.clone()) } else { None }).flatten().collect()
}

/// Selects the newest timeline entry (the note).
fn on_the_note(app: &mut App) {
    key(app, KeyCode::Char('2'));
    key(app, KeyCode::Char('G'));
    assert!(matches!(app.board.incident.timeline[app.selected_event().unwrap()].body, EventBody::NoteAdded { .. }));
}

#[test]
fn a_role_is_picked_then_its_person_present_first_then_typed() {
    let mut app = app_as("alice@bastion", events());
    assert!(key(&mut app, KeyCode::Char('R')).is_empty());
    let roles = screen(&mut app);
    assert!(roles.contains("commander  now: alice@bastion") && roles.contains("a named expert"), "{roles}");
    insta::assert_snapshot!("verbs_role_picker_80x24", roles);
    key(&mut app, KeyCode::Char('1'));
    let people = screen(&mut app);
    insta::assert_snapshot!("verbs_person_picker_80x24", people);
    // Present first, in the order the board knows them; the last row types a name.
    let rows: Vec<&str> = people.lines().filter(|l| l.contains("(here)")).collect();
    assert_eq!(rows.len(), 3, "{people}");
    assert!(people.contains("someone else (type the name)"), "{people}");
    let e = key(&mut app, KeyCode::Char('2'));
    assert_eq!(appended(&e), vec![EventBody::RoleAssigned { role: "commander".into(), person: "bob@laptop".into() }]);
    assert_eq!(app.overlay, None);

    // A named expert's role, for someone not here yet.
    key(&mut app, KeyCode::Char('R'));
    key(&mut app, KeyCode::Char('5'));
    typed(&mut app, "DNS");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::End);
    key(&mut app, KeyCode::Enter);
    typed(&mut app, "dave");
    let e = key(&mut app, KeyCode::Enter);
    assert_eq!(appended(&e), vec![EventBody::RoleAssigned { role: "dns".into(), person: "dave".into() }]);

    // The holder again: nothing written, and said.
    key(&mut app, KeyCode::Char('R'));
    key(&mut app, KeyCode::Char('1'));
    let e = key(&mut app, KeyCode::Char('1'));
    assert!(e.is_empty() && app.flash.as_deref().unwrap().contains("already so"), "{:?}", app.flash);
}

#[test]
fn taking_over_command_opens_the_brief_for_the_incoming_commander_only() {
    let handover =
        || ev(400, "bob@laptop", EventBody::RoleAssigned { role: "commander".into(), person: "bob@laptop".into() });
    let mut alice = app_as("alice@bastion", events());
    alice.on_events(vec![handover()]);
    assert_eq!(alice.overlay, None, "the outgoing commander keeps the screen");

    let mut bob = app_as("bob@laptop", events());
    bob.on_events(vec![handover()]);
    let Some(Overlay::Brief { text, .. }) = bob.overlay.clone() else { panic!("no brief: {:?}", bob.overlay) };
    assert_eq!(text, warroom::brief::render(&bob.board, "bob@laptop"), "the same brief as `warroom brief`");
    let shown = screen(&mut bob);
    assert!(shown.contains("Brief — c copies") && shown.contains("bob@laptop"), "{shown}");
    insta::assert_snapshot!("verbs_brief_80x24", shown);
    // Copyable, and it stays open; j scrolls; any other key closes.
    assert_eq!(key(&mut bob, KeyCode::Char('c')), vec![Effect::Copy { what: "brief", text }]);
    key(&mut bob, KeyCode::Char('j'));
    assert!(matches!(bob.overlay, Some(Overlay::Brief { scroll: 1, .. })));
    key(&mut bob, KeyCode::Esc);
    assert_eq!(bob.overlay, None);
    // And on a key, for anyone.
    key(&mut alice, KeyCode::Char('b'));
    assert!(matches!(alice.overlay, Some(Overlay::Brief { .. })));
}

#[test]
fn resolving_while_checks_fail_asks_first_and_names_them() {
    let mut app = app_as("alice@bastion", events());
    key(&mut app, KeyCode::Char('s'));
    insta::assert_snapshot!("verbs_status_picker_80x24", screen(&mut app));
    assert!(key(&mut app, KeyCode::Char('4')).is_empty(), "picking is not writing");
    let asked = screen(&mut app);
    assert!(
        asked.contains("Resolve while checks fail?") && asked.contains("smtp (down since 02:50:30 UTC)"),
        "{asked}"
    );
    insta::assert_snapshot!("verbs_resolve_confirm_80x24", asked);
    assert!(key(&mut app, KeyCode::Char('n')).is_empty());
    assert_eq!(app.flash.as_deref(), Some("nothing changed"));
    key(&mut app, KeyCode::Char('s'));
    key(&mut app, KeyCode::Char('4'));
    assert_eq!(
        appended(&key(&mut app, KeyCode::Char('y'))),
        vec![
            EventBody::StatusChanged { status: Status::Resolved },
            EventBody::MilestoneReached { milestone: Milestone::Resolved, at: None, check: None }
        ]
    );
    // The status it already has: said, not written.
    key(&mut app, KeyCode::Char('s'));
    assert!(key(&mut app, KeyCode::Char('1')).is_empty());
    assert!(app.overlay.is_none() && app.flash.as_deref() == Some("the status is already investigating"));
}

#[test]
fn severity_is_picked_and_confirmed() {
    let mut app = app_as("alice@bastion", events());
    app.on_key(KeyEvent::new(KeyCode::Char('S'), KeyModifiers::SHIFT));
    let picker = screen(&mut app);
    assert!(picker.contains("SEV2 (now)") && picker.contains("SEV1 (worst)"), "{picker}");
    key(&mut app, KeyCode::Up);
    key(&mut app, KeyCode::Enter);
    assert!(screen(&mut app).contains("SEV2 → SEV1"));
    assert_eq!(appended(&key(&mut app, KeyCode::Char('y'))), vec![EventBody::SeverityChanged { severity: 1 }]);
}

#[test]
fn milestones_are_offered_only_while_missing_and_never_written_twice() {
    let mut app = app_as("alice@bastion", events());
    key(&mut app, KeyCode::Char('M'));
    let shown = screen(&mut app);
    assert!(shown.contains("acknowledged now") && shown.contains("mitigated now"), "{shown}");
    let e = key(&mut app, KeyCode::Char('2'));
    let mitigated = EventBody::MilestoneReached { milestone: Milestone::Mitigated, at: None, check: None };
    assert_eq!(appended(&e), vec![mitigated.clone()]);
    // On its way to the disk: not offered again.
    app.on_update(Update::Pending(vec![Event::new("alice@bastion", mitigated.clone())]));
    key(&mut app, KeyCode::Char('M'));
    assert!(!screen(&mut app).contains("mitigated now"));
    key(&mut app, KeyCode::Esc);
    app.on_events(vec![
        ev(500, "alice@bastion", mitigated),
        ev(
            501,
            "bob@laptop",
            EventBody::MilestoneReached { milestone: Milestone::Acknowledged, at: None, check: None },
        ),
    ]);
    assert!(key(&mut app, KeyCode::Char('M')).is_empty());
    assert_eq!(app.overlay, None);
    assert_eq!(app.flash.as_deref(), Some("acknowledged and mitigated are both recorded"));
}

#[test]
fn the_pin_key_unpins_a_pinned_entry() {
    let mut events = events();
    let note_id = events.last().unwrap().id.clone();
    events.push(ev(310, "alice@bastion", EventBody::EventPinned { event: note_id.clone() }));
    let mut app = app_as("alice@bastion", events);
    key(&mut app, KeyCode::Char('2'));
    key(&mut app, KeyCode::Up);
    assert_eq!(app.board.incident.timeline[app.selected_event().unwrap()].id, note_id);
    assert_eq!(appended(&key(&mut app, KeyCode::Char('*'))), vec![EventBody::EventUnpinned { event: note_id }]);
}

#[test]
fn a_note_is_struck_with_a_reason_or_corrected_in_the_editor() {
    let mut app = app_as("alice@bastion", events());
    let note = app.board.incident.timeline.last().unwrap().id.clone();
    on_the_note(&mut app);
    key(&mut app, KeyCode::Char('x'));
    typed(&mut app, "wrong host");
    let asked = screen(&mut app);
    assert!(asked.contains("✎ relay restarted at 02:10") && asked.contains("› wrong host"), "{asked}");
    insta::assert_snapshot!("verbs_strike_80x24", asked);
    assert_eq!(
        appended(&key(&mut app, KeyCode::Enter)),
        vec![EventBody::EntryStruck { event: note.clone(), reason: Some("wrong host".into()) }]
    );

    // Correcting: the note's text in the editor; Ctrl-s saves a correction, not a new note.
    on_the_note(&mut app);
    key(&mut app, KeyCode::Char('C'));
    assert!(app.editing && app.focus == Pane::Notes && app.draft() == "relay restarted at 02:10");
    assert!(screen(&mut app).contains("correcting a note"));
    key(&mut app, KeyCode::End);
    for _ in 0..2 {
        key(&mut app, KeyCode::Backspace);
    }
    key(&mut app, KeyCode::Char('1'));
    key(&mut app, KeyCode::Char('5'));
    let e = app.on_key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL));
    assert_eq!(
        appended(&e),
        vec![EventBody::Correction { event: note.clone(), text: "relay restarted at 02:15".into() }]
    );
    assert!(!app.editing && app.draft().is_empty() && app.correcting.is_none());

    // Esc abandons a correction; the editor is empty again.
    on_the_note(&mut app);
    key(&mut app, KeyCode::Char('C'));
    let e = key(&mut app, KeyCode::Esc);
    assert!(appended(&e).is_empty() && app.draft().is_empty() && app.correcting.is_none());

    // Only notes: a check change is not struck.
    key(&mut app, KeyCode::Char('2'));
    key(&mut app, KeyCode::Up);
    assert!(key(&mut app, KeyCode::Char('x')).is_empty());
    assert!(app.flash.as_deref().unwrap().contains("only notes are corrected or struck"), "{:?}", app.flash);
}

#[test]
fn a_follow_up_is_taken_from_a_note_and_given_an_owner() {
    let mut app = app_as("alice@bastion", events());
    on_the_note(&mut app);
    key(&mut app, KeyCode::Char('f'));
    typed(&mut app, " under systemd");
    key(&mut app, KeyCode::Enter);
    let owners = screen(&mut app);
    assert!(
        owners.contains("(no owner yet)") && owners.contains("→ relay restarted at 02:10 under systemd"),
        "{owners}"
    );
    insta::assert_snapshot!("verbs_follow_up_owner_80x24", owners);
    let e = key(&mut app, KeyCode::Char('3'));
    assert_eq!(
        appended(&e),
        vec![EventBody::FollowUpAdded {
            text: "relay restarted at 02:10 under systemd".into(),
            owner: Some("bob@laptop".into())
        }]
    );
    // With a key anywhere else: typed from nothing, no owner.
    key(&mut app, KeyCode::Char('1'));
    key(&mut app, KeyCode::Char('f'));
    typed(&mut app, "page the DNS team sooner");
    key(&mut app, KeyCode::Enter);
    let e = key(&mut app, KeyCode::Enter);
    assert_eq!(appended(&e), vec![EventBody::FollowUpAdded { text: "page the DNS team sooner".into(), owner: None }]);
}

#[test]
fn a_viewer_opens_no_picker_and_writes_nothing() {
    let mut app = app_as("viewer", events());
    app.read_only = true;
    on_the_note(&mut app);
    for c in ['R', 's', 'S', 'M', 'x', 'C', 'f', '*'] {
        assert!(key(&mut app, KeyCode::Char(c)).is_empty(), "{c}");
        assert!(!matches!(app.overlay, Some(Overlay::Picker(_)) | Some(Overlay::Confirm { .. })), "{c}");
        assert!(!app.editing, "{c}");
    }
}

/// The screen's verbs through a real session: the journal has them, signed by this
/// operator, as the command line would write them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verbs_reach_the_journal_through_the_session() {
    use warroom::session::{Command, Opening, Purpose, Session, Settings};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    {
        let (journal, _) = warroom::journal::Journal::open(&path).unwrap();
        let writer = warroom::journal::Writer::spawn(
            std::sync::Arc::new(journal),
            tokio::sync::mpsc::unbounded_channel().0,
            warroom::journal::Retry::Never,
        );
        writer.write(events()).await.unwrap();
    }
    let (journal, scan) = warroom::journal::Journal::open(&path).unwrap();
    let mut session = Session::start(Opening {
        journal,
        scan,
        settings: Settings::default(),
        purpose: Purpose::Monitor,
        author: "carol@desk".into(),
    });
    let mut app = app_as("carol@desk", Vec::new());
    app.on_update(session.recv().await.unwrap());
    assert_eq!(app.board.incident.role("commander"), Some("alice@bastion"));

    // carol takes over command: the brief opens once her entry is on disk.
    let mut effects = Vec::new();
    key(&mut app, KeyCode::Char('R'));
    key(&mut app, KeyCode::Char('1'));
    // Typing a name that is not listed just types it.
    typed(&mut app, "carol@desk");
    effects.extend(key(&mut app, KeyCode::Enter));
    // The note, wherever this session's own "joined" lands in the timeline.
    app.focus = Pane::Timeline;
    app.at_newest = false;
    app.selected[Pane::Timeline] = 6;
    key(&mut app, KeyCode::Char('x'));
    effects.extend(key(&mut app, KeyCode::Enter));
    for effect in effects {
        if let Effect::Append(bodies) = effect {
            session.send(Command::Append(bodies));
        }
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !matches!(app.overlay, Some(Overlay::Brief { .. })) || app.board.incident.struck(6).is_none() {
        let update = tokio::time::timeout_at(deadline, session.recv()).await.expect("entries on disk").unwrap();
        app.on_update(update);
    }
    session.leave(Duration::from_secs(10)).await;
    let scan = warroom::journal::Journal::read(&path).unwrap();
    let mine: Vec<&EventBody> = scan.events.iter().filter(|e| e.author == "carol@desk").map(|e| &e.body).collect();
    assert!(mine.contains(&&EventBody::RoleAssigned { role: "commander".into(), person: "carol@desk".into() }));
    assert!(mine.iter().any(|b| matches!(b, EventBody::EntryStruck { reason: None, .. })), "{mine:?}");
}

/// "Who?" offers everyone the journal knows, not only who joined on a screen: a teammate who
/// only ever wrote from a shell (`warroom log`), and someone typed in for a role before.
#[test]
fn the_people_pickers_offer_everyone_the_journal_knows() {
    let mut events = events();
    events.push(ev(400, "dave@shell", EventBody::NoteAdded { text: "DNS looks fine".into() }));
    events.push(ev(401, "alice@bastion", EventBody::RoleAssigned { role: "scribe".into(), person: "erin".into() }));
    events.push(ev(402, warroom::drill::DRILL_AUTHOR, EventBody::NoteAdded { text: "scripted".into() }));
    let mut app = app_as("alice@bastion", events);
    key(&mut app, KeyCode::Char('R'));
    key(&mut app, KeyCode::Char('1'));
    let Some(Overlay::Picker(picker)) = &app.overlay else { panic!("{:?}", app.overlay) };
    let values: Vec<&str> = picker.choices.iter().map(|c| c.value.as_str()).collect();
    assert!(values.contains(&"dave@shell") && values.contains(&"erin"), "{values:?}");
    assert!(!values.contains(&warroom::drill::DRILL_AUTHOR), "{values:?}");
}

#[test]
fn a_long_list_of_people_keeps_the_chosen_one_in_view_on_a_small_screen() {
    let mut events = events();
    events.extend((0..30).map(|n| ev(5, &format!("op{n:02}@host"), EventBody::OperatorJoined {})));
    let mut app = app_as("alice@bastion", events);
    key(&mut app, KeyCode::Char('R'));
    key(&mut app, KeyCode::Char('1'));
    key(&mut app, KeyCode::End);
    let shown = screen(&mut app);
    assert!(shown.contains("▶   someone else (type the name)…"), "{shown}");
    assert!(shown.contains("op29@host") && !shown.contains("alice@bastion (here)"), "{shown}");
}

#[test]
fn a_correction_being_written_never_goes_to_the_note_draft_file() {
    let mut app = app_as("alice@bastion", events());
    on_the_note(&mut app);
    key(&mut app, KeyCode::Char('C'));
    let e = key(&mut app, KeyCode::Char('!'));
    assert_eq!(e, vec![Effect::SaveDraft(String::new())], "restored, it would be saved as a new note");
    key(&mut app, KeyCode::Esc);
    app.set_draft("relay restarted at 02:10!");
    app.correcting = Some(app.board.incident.timeline[6].id.clone());
    key(&mut app, KeyCode::Char('q'));
    assert_eq!(app.overlay, Some(Overlay::ConfirmQuit), "quitting still asks first");
    assert!(screen(&mut app).contains("Your correction of a note is not saved"));
}

#[test]
fn being_handed_command_mid_answer_keeps_the_answer_and_says_so() {
    let mut bob = app_as("bob@laptop", events());
    key(&mut bob, KeyCode::Char('f'));
    typed(&mut bob, "half a follow-up");
    bob.on_events(vec![ev(
        400,
        "alice@bastion",
        EventBody::RoleAssigned { role: "commander".into(), person: "bob".into() },
    )]);
    assert!(matches!(&bob.overlay, Some(Overlay::Picker(p)) if p.typing.as_deref() == Some("half a follow-up")));
    assert_eq!(bob.flash.as_deref(), Some("you are now the incident commander: b shows the brief"));
}

/// `P` on a mirror's copy whose primary spoke a moment ago asks again, saying when: it may be
/// alive, and promoting makes two primaries. Long silent, the plain question.
#[test]
fn p_on_a_copy_whose_primary_was_just_heard_says_when_before_promoting() {
    use warroom::mirror::status::{self, Copy};
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("incident.jsonl");
    std::fs::write(&journal, "").unwrap();
    let copy = |heard: DateTime<Utc>| Copy {
        primary: "root@bastion".into(),
        heard,
        skew_ms: 0,
        lines: 0,
        head: String::new(),
        diverged: None,
    };
    let sharing = warroom::journal::Sharing::PRIVATE;
    status::write(&status::copy_path(&journal), &copy(Utc::now()), &sharing).unwrap();
    let mut app = app_as("bob@fra", events());
    app.journal = Some(journal.clone());
    app.on_update(Update::Mirrors(vec!["MIRROR of root@bastion — read-only until promoted (P) — in step".into()]));
    key(&mut app, KeyCode::Char('P'));
    assert!(matches!(app.overlay, Some(Overlay::ConfirmPromote { heard_secs: Some(0..=5) })), "{:?}", app.overlay);
    let shown = screen(&mut app);
    assert!(shown.contains("The primary was heard") && shown.contains("Promote anyway?"), "{shown}");
    key(&mut app, KeyCode::Char('n'));
    assert!(!app.promote_on_exit);

    status::write(&status::copy_path(&journal), &copy(Utc::now() - chrono::TimeDelta::minutes(3)), &sharing).unwrap();
    key(&mut app, KeyCode::Char('P'));
    assert!(matches!(app.overlay, Some(Overlay::ConfirmPromote { heard_secs: None })), "{:?}", app.overlay);
    key(&mut app, KeyCode::Char('y'));
    assert!(app.promote_on_exit);
}
