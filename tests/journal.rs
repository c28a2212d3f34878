//! The journal: round trips, damage, permissions, crashes and concurrent writers.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use warroom::journal::{
    Audience, CheckState, Event, EventBody, Journal, JournalError, MAX_LINE_BYTES, Milestone, Mode, ProblemKind, Status,
};

mod support;

const BIN: &str = env!("CARGO_BIN_EXE_warroom");

/// Each event's note text, `?` for other kinds.
fn note_texts(scan: &warroom::journal::Scan) -> Vec<&str> {
    scan.events
        .iter()
        .map(|e| match &e.body {
            EventBody::NoteAdded { text } => text.as_str(),
            _ => "?",
        })
        .collect()
}

fn note(text: &str) -> Event {
    Event::new("tester@host", EventBody::NoteAdded { text: text.into() })
}

// ---------------------------------------------------------------------------------------
// Round trip

fn text() -> impl Strategy<Value = String> {
    // Any Unicode, including quotes, backslashes, control characters and escapes; and often
    // what a terminal acts on (ESC, C1 controls, bidirectional overrides), which any Unicode
    // rarely holds.
    prop_oneof![
        proptest::string::string_regex("(?s).{0,40}").unwrap(),
        proptest::string::string_regex("[a-z \u{1b}\u{85}\u{9b}\u{9d}\u{202e}\u{2066}]{0,40}").unwrap(),
    ]
}

fn check_state() -> impl Strategy<Value = CheckState> {
    prop_oneof![Just(CheckState::Unknown), Just(CheckState::Up), Just(CheckState::Degraded), Just(CheckState::Down)]
}

fn body() -> impl Strategy<Value = EventBody> {
    let milestone = prop_oneof![
        Just(Milestone::Detected),
        Just(Milestone::Acknowledged),
        Just(Milestone::Mitigated),
        Just(Milestone::Resolved)
    ];
    let status = prop_oneof![
        Just(Status::Investigating),
        Just(Status::Identified),
        Just(Status::Monitoring),
        Just(Status::Resolved)
    ];
    prop_oneof![
        (text(), 1u8..=5, any::<bool>(), proptest::option::of(text())).prop_map(
            |(title, severity, drill, checklist)| {
                EventBody::IncidentOpened {
                    title,
                    severity,
                    mode: if drill { Mode::Drill } else { Mode::Real },
                    checklist,
                }
            }
        ),
        status.prop_map(|status| EventBody::StatusChanged { status }),
        (milestone, proptest::option::of(0i64..2_000_000_000), proptest::option::of(text())).prop_map(
            |(milestone, at, check)| {
                EventBody::MilestoneReached { milestone, at: at.map(|s| Utc.timestamp_opt(s, 0).unwrap()), check }
            }
        ),
        (1u8..=5).prop_map(|severity| EventBody::SeverityChanged { severity }),
        (text(), text()).prop_map(|(role, person)| EventBody::RoleAssigned { role, person }),
        (text(), check_state(), check_state(), text()).prop_map(|(check, from, to, detail)| EventBody::CheckChanged {
            check,
            from,
            to,
            detail
        }),
        text().prop_map(|text| EventBody::NoteAdded { text }),
        text().prop_map(|event| EventBody::EventPinned { event }),
        text().prop_map(|item| EventBody::ChecklistItemDone { item }),
        text().prop_map(|item| EventBody::ChecklistItemUndone { item }),
        (text(), any::<bool>(), text(), proptest::option::of(text()), proptest::option::of(text()), any::<bool>())
            .prop_map(|(channel, public, text, error, item, simulated)| EventBody::MessageSent {
                channel,
                audience: if public { Audience::Public } else { Audience::Internal },
                text,
                error,
                item,
                simulated,
                next_update: None,
            }),
        (text(), text(), text()).prop_map(|(item, text, via)| EventBody::MessagePrepared { item, text, via }),
        Just(EventBody::OperatorJoined {}),
        Just(EventBody::OperatorLeft {}),
        (text(), 0.1f64..1000.0).prop_map(|(scenario, speed)| EventBody::DrillStarted { scenario, speed }),
        text().prop_map(|scenario| EventBody::DrillEnded { scenario }),
        (text(), text()).prop_map(|(event, text)| EventBody::Correction { event, text }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn every_event_kind_round_trips_through_the_file(bodies in proptest::collection::vec(body(), 1..20), author in text()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let (journal, scan) = Journal::open(&path).unwrap();
        prop_assert!(scan.events.is_empty());
        let events: Vec<Event> = bodies.into_iter().map(|b| Event::new(author.clone(), b)).collect();
        for e in &events {
            journal.append(e).unwrap();
        }
        let back = Journal::read(&path).unwrap();
        prop_assert!(back.problems.is_empty(), "{:?}", back.problems);
        prop_assert_eq!(back.torn_tail(), None);
        prop_assert_eq!(&back.events, &events);
        // One event per line, whatever the text held, and nothing in it a terminal acts on
        // (`tail -f` on the journal): serde_json escapes C0; the writer escapes C1 and bidi.
        let raw = std::fs::read_to_string(&path).unwrap();
        prop_assert_eq!(raw.lines().count(), events.len());
        prop_assert!(!raw.chars().any(warroom::sanitize::is_unsafe_for_terminal), "{:?}", raw);
    }
}

#[test]
fn wire_format_has_the_documented_envelope() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let (journal, _) = Journal::open(&path).unwrap();
    journal.append(&note("hello")).unwrap();
    let line = std::fs::read_to_string(&path).unwrap();
    let v: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(v["v"], 1);
    assert_eq!(v["kind"], "note_added");
    assert_eq!(v["author"], "tester@host");
    assert_eq!(v["text"], "hello");
    assert!(!v["id"].as_str().unwrap().is_empty());
    let ts = v["ts"].as_str().unwrap();
    // RFC 3339, UTC, milliseconds.
    assert_eq!(ts.len(), 24, "{ts}");
    assert!(ts.ends_with('Z') && ts.as_bytes()[19] == b'.', "{ts}");
}

#[test]
fn timestamps_with_offsets_are_read_as_utc() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    std::fs::write(
        &path,
        "{\"v\":1,\"id\":\"a\",\"ts\":\"2026-11-21T04:12:05.5+01:00\",\"author\":\"x\",\"kind\":\"note_added\",\"text\":\"t\",\"future_field\":1}\n",
    )
    .unwrap();
    let scan = Journal::read(&path).unwrap();
    assert!(scan.problems.is_empty(), "{:?}", scan.problems);
    assert_eq!(
        scan.events[0].ts,
        Utc.with_ymd_and_hms(2026, 11, 21, 3, 12, 5).unwrap() + chrono::Duration::milliseconds(500)
    );
}

// ---------------------------------------------------------------------------------------
// Damage

#[test]
fn torn_last_line_is_reported_and_skipped_and_the_next_append_cuts_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let (journal, _) = Journal::open(&path).unwrap();
    journal.append(&note("one")).unwrap();
    journal.append(&note("two")).unwrap();
    drop(journal);
    // A writer killed mid-line.
    let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
    let torn_bytes = br#"{"v":1,"id":"x","ts":"2026-11-21T0"#;
    f.write_all(torn_bytes).unwrap();
    drop(f);

    let (journal, scan) = Journal::open(&path).unwrap();
    assert_eq!(scan.events.len(), 2);
    let torn = scan.torn_tail().expect("torn tail reported");
    assert_eq!(torn.line, 3);
    assert_eq!(torn.kind, ProblemKind::Torn { bytes: torn_bytes.len() });
    assert!(scan.warnings(&path)[0].contains("j.jsonl:3: last line is incomplete"), "{:?}", scan.warnings(&path));

    // Appending after damage never glues the new event onto the torn bytes: nobody was told
    // they were written, so they are cut off, back to the last complete line.
    let three = note("three");
    journal.append(&three).unwrap();
    let scan = Journal::read(&path).unwrap();
    assert_eq!(scan.events.len(), 3);
    assert_eq!(scan.events[2], three);
    assert_eq!(scan.problems, vec![]);
    assert_eq!(scan.torn_tail(), None);
    assert!(!std::fs::read_to_string(&path).unwrap().contains(r#""ts":"2026-11-21T0""#));
}

/// A tail longer than any journal line is not a line a writer tore: it is kept, and the next
/// event starts on a line of its own.
#[test]
fn a_tail_longer_than_a_journal_line_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let (journal, _) = Journal::open(&path).unwrap();
    journal.append(&note("one")).unwrap();
    append_raw(&path, &vec![b'x'; warroom::journal::MAX_LINE_BYTES + 5]);
    journal.append(&note("two")).unwrap();
    let scan = Journal::read(&path).unwrap();
    assert_eq!(scan.events.len(), 2);
    assert_eq!(scan.problems.len(), 1);
    assert!(matches!(scan.problems[0].kind, ProblemKind::TooLong { .. }));
}

/// A retried write rewrites lines that had landed before it failed: each event is read once.
#[test]
fn an_event_on_two_lines_is_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let (journal, _) = Journal::open(&path).unwrap();
    let (one, two) = (note("one"), note("two"));
    journal.append_all(std::slice::from_ref(&one)).unwrap();
    journal.append_all(&[one.clone(), two.clone()]).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 3);
    let scan = Journal::read(&path).unwrap();
    assert_eq!(scan.events, vec![one.clone(), two.clone()]);
    let (journal, scan) = Journal::open(&path).unwrap();
    let mut scan = scan;
    scan.events.clear();
    journal.append_all(std::slice::from_ref(&two)).unwrap();
    journal.read_more(&mut scan).unwrap();
    assert_eq!(scan.events, vec![], "a follower skips it too");
}

#[test]
fn corrupt_lines_in_the_middle_are_reported_by_number_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let (journal, _) = Journal::open(&path).unwrap();
    journal.append(&note("one")).unwrap();
    let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(b"this is not json\n").unwrap();
    f.write_all(
        b"{\"v\":1,\"id\":\"a\",\"ts\":\"2026-11-21T00:00:00.000Z\",\"author\":\"x\",\"kind\":\"note_added\"}\n",
    )
    .unwrap();
    f.write_all(
        b"{\"v\":1,\"id\":\"b\",\"ts\":\"yesterday\",\"author\":\"x\",\"kind\":\"note_added\",\"text\":\"t\"}\n",
    )
    .unwrap();
    f.write_all(
        b"{\"v\":1,\"id\":\"c\",\"ts\":\"2026-11-21T00:00:00.000Z\",\"author\":\"x\",\"kind\":\"teleported\"}\n",
    )
    .unwrap();
    f.write_all(b"\xff\xfe\n\n").unwrap();
    drop(f);
    journal.append(&note("two")).unwrap();

    let scan = Journal::read(&path).unwrap();
    let texts = note_texts(&scan);
    assert_eq!(texts, vec!["one", "two"]);
    let lines: Vec<usize> = scan.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![2, 3, 4, 5, 6], "{:?}", scan.problems);
    let w = scan.warnings(&path).join("\n");
    assert!(w.contains(":3: not a valid event (note_added event lacks `text`"), "{w}");
    assert!(w.contains(":4: not a valid event (`ts` is not an RFC 3339 time"), "{w}");
    assert!(w.contains(":5: not a valid event (unknown event kind \"teleported\""), "{w}");
    assert!(w.contains(":6: not a valid event (not UTF-8"), "{w}");
}

fn append_raw(path: &std::path::Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
}

fn log(dir: &std::path::Path, args: &[&str], stdin: &[u8]) -> std::process::Output {
    let mut child = Command::new(BIN)
        .arg("log")
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("xdg-config"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// One newer warroom on a shared journal once stopped every older one: `log` exited, new
/// dashboards refused to open and followers re-read the whole file every second.
#[test]
fn lines_from_a_newer_warroom_are_skipped_and_never_stop_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let (journal, _) = Journal::open(&path).unwrap();
    journal.append(&note("one")).unwrap();
    let (follower, mut scan) = Journal::open_read_only(&path).unwrap();
    append_raw(
        &path,
        b"{\"v\":2,\"id\":\"z\",\"kind\":\"hologram\",\"payload\":[1,2]}\n\
          {\"v\":2,\"id\":\"y\",\"ts\":\"2026-11-21T00:00:00.000Z\",\"author\":\"x\",\"kind\":\"note_added\",\"text\":\"t\"}\n",
    );
    let before = scan.end_offset;
    follower.read_more(&mut scan).unwrap();
    assert!(scan.end_offset > before, "the follower read past the newer lines");
    assert_eq!((scan.events.len(), scan.newer, scan.lines), (1, 2, 3));
    assert_eq!(scan.newer_banner().as_deref(), Some("2 entries from a newer warroom were skipped — upgrade"));
    let w = scan.warnings(&path).join("\n");
    assert!(w.contains("j.jsonl:2: written by a newer warroom (journal schema v2"), "{w}");
    assert!(w.contains("j.jsonl:3: written by a newer warroom"), "{w}");
    // The next read starts where this one ended: nothing is read or delivered twice.
    scan.events.clear();
    let at = scan.end_offset;
    follower.read_more(&mut scan).unwrap();
    assert_eq!((scan.end_offset, scan.events.len(), scan.newer), (at, 0, 2));

    let out = log(dir.path(), &["-j", "j.jsonl", "--as", "carol", "still", "writing"], b"");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("j.jsonl:2: written by a newer warroom"));
    follower.read_more(&mut scan).unwrap();
    assert!(matches!(&scan.events[..], [Event { body: EventBody::NoteAdded { text }, .. }] if text == "still writing"));
    assert_eq!(scan.end_offset, std::fs::metadata(&path).unwrap().len());
    let (_, reopened) = Journal::open(&path).unwrap();
    assert_eq!((reopened.events.len(), reopened.newer), (2, 2));
    assert_eq!(Journal::read(&path).unwrap().newer_banner().as_deref().map(|b| b.starts_with("2 entries")), Some(true));
}

#[test]
fn a_single_newer_entry_has_a_singular_banner_and_a_clean_journal_none() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let (journal, clean) = Journal::open(&path).unwrap();
    assert_eq!(clean.newer_banner(), None);
    journal.append(&note("one")).unwrap();
    append_raw(&path, b"{\"v\":3,\"kind\":\"hologram\"}\n");
    assert_eq!(
        Journal::read(&path).unwrap().newer_banner().as_deref(),
        Some("1 entry from a newer warroom was skipped — upgrade")
    );
}

/// The writer and the readers share one limit: nothing acknowledged as written is skipped.
#[test]
fn an_event_over_the_line_limit_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let (journal, _) = Journal::open(&path).unwrap();
    // The line as written: the event, then the chain's `prev`.
    let chained = warroom::journal::chain::ATTACHED_BYTES;
    let empty = serde_json::to_vec(&note("")).unwrap().len() + chained;
    let at_limit = note(&"a".repeat(MAX_LINE_BYTES - empty));
    assert_eq!(serde_json::to_vec(&at_limit).unwrap().len() + chained, MAX_LINE_BYTES);
    journal.append(&at_limit).unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    let over = note(&"a".repeat(MAX_LINE_BYTES - empty + 1));
    let err = journal.append_all(&[note("fine"), over]).unwrap_err();
    assert!(
        matches!(err, JournalError::TooLarge { bytes, limit, .. } if bytes == MAX_LINE_BYTES + 1 && limit == MAX_LINE_BYTES),
        "{err:?}"
    );
    assert!(err.to_string().contains(&format!("over the {MAX_LINE_BYTES}-byte limit")), "{err}");
    assert_eq!(std::fs::metadata(&path).unwrap().len(), size, "nothing of the refused batch was written");
    let scan = Journal::read(&path).unwrap();
    assert_eq!((scan.events.len(), scan.problem_count), (1, 0), "the note at the limit reads back");
}

#[test]
fn log_stdin_refuses_a_two_megabyte_note_and_claims_nothing_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut input = b"before the big one\n".to_vec();
    input.extend(std::iter::repeat_n(b'x', 2 << 20));
    input.extend_from_slice(b"\nafter the big one\n");
    let out = log(dir.path(), &["-j", "j.jsonl", "--as", "carol", "--stdin"], &input);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("over the {MAX_LINE_BYTES}-byte limit")), "{stderr}");
    let written: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect();
    assert_eq!(written.len(), 1, "only the note before was acknowledged: {written:?}");
    let scan = Journal::read(dir.path().join("j.jsonl")).unwrap();
    assert_eq!(scan.problem_count, 0);
    let texts = note_texts(&scan);
    assert_eq!(texts, ["before the big one"]);
    assert_eq!(written[0], format!("written {}", scan.events[0].id));
    let report =
        Command::new(BIN).arg("report").arg(dir.path().join("j.jsonl")).env("HOME", dir.path()).output().unwrap();
    assert!(report.status.success(), "{}", String::from_utf8_lossy(&report.stderr));
    // Written `--as carol`: the report names the account behind the name too.
    let account = warroom::journal::os_account();
    let md = String::from_utf8_lossy(&report.stdout).into_owned();
    assert!(md.contains(&format!("**carol (account {account})**: before the big one")), "{md}");
}

/// Garbage must not flood a terminal: the first warnings in full, then one line counting the rest.
#[test]
fn warnings_stop_after_the_first_twenty_and_count_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let (journal, _) = Journal::open(&path).unwrap();
    journal.append(&note("one")).unwrap();
    append_raw(&path, &b"not json\n".repeat(30));
    append_raw(&path, b"{\"v\":1,\"id\":\"torn");
    let scan = Journal::read(&path).unwrap();
    assert_eq!((scan.problems.len(), scan.problem_count), (20, 30));
    let warnings = scan.warnings(&path);
    assert_eq!(warnings.len(), 21, "{warnings:#?}");
    assert!(warnings[0].contains("j.jsonl:2: not a valid event"), "{}", warnings[0]);
    assert!(warnings[19].contains("j.jsonl:21: not a valid event"), "{}", warnings[19]);
    assert!(warnings[20].ends_with("j.jsonl: and 11 more like these"), "{}", warnings[20]);
}

/// A follower warns about each line skipped since its last warning, once, with the same
/// cap: the first twenty in full, then a count.
#[test]
fn a_follower_is_warned_once_about_each_line_skipped_since_its_last_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let (journal, mut scan) = Journal::open(&path).unwrap();
    journal.append(&note("one")).unwrap();
    append_raw(&path, b"not json\n");
    journal.read_more(&mut scan).unwrap();
    let warned = scan.warned();
    append_raw(&path, b"{\"v\":2,\"kind\":\"hologram\"}\n");
    journal.append(&note("two")).unwrap();
    journal.read_more(&mut scan).unwrap();
    let new = scan.warnings_since(&path, warned);
    assert_eq!(new.len(), 1, "{new:#?}");
    assert!(new[0].contains("j.jsonl:3: written by a newer warroom"), "{new:#?}");
    assert!(scan.warnings_since(&path, scan.warned()).is_empty(), "nothing new, nothing said");
    let warned = scan.warned();
    append_raw(&path, &b"not json\n".repeat(40));
    journal.read_more(&mut scan).unwrap();
    let new = scan.warnings_since(&path, warned);
    // Two kept before, so eighteen more in full, and the other twenty-two counted.
    assert_eq!(new.len(), 19, "{new:#?}");
    assert!(new[0].contains("j.jsonl:5: not a valid event"), "{}", new[0]);
    assert!(new[18].ends_with("j.jsonl: and 22 more like these"), "{}", new[18]);
}

/// A million garbage lines (a disk error, a hostile co-user) cost neither a terminal of
/// warnings nor memory per line: the first twenty are kept and the rest counted.
#[test]
fn a_million_garbage_lines_give_a_screenful_of_warnings_and_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let mut garbage = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for i in 0..1_000_000 {
        writeln!(garbage, "garbage line {i}, not an event").unwrap();
    }
    garbage.flush().unwrap();
    drop(garbage);
    let run = support::proc::run_with_memory_cap(
        Command::new(BIN)
            .args(["log", "-j", "j.jsonl", "--as", "carol", "still", "here"])
            .current_dir(dir.path())
            .env("HOME", dir.path()),
        512.0,
    );
    let (stdout, stderr) = (String::from_utf8_lossy(&run.output.stdout), String::from_utf8_lossy(&run.output.stderr));
    assert!(!run.killed_over_cap && run.output.status.success(), "{:?} {stderr}", run.output.status);
    let lines = stdout.lines().count() + stderr.lines().count();
    assert!(lines <= 30, "{lines} lines of output:\n{stderr}");
    assert!(stderr.ends_with("j.jsonl: and 999980 more like these\n"), "{stderr}");
    println!("warroom log on 1,000,000 garbage lines: peak RSS {:.1} MiB", run.peak_rss_mib);
    assert!(run.peak_rss_mib < 64.0, "peak RSS {:.1} MiB", run.peak_rss_mib);
    let scan = Journal::read(&path).unwrap();
    assert_eq!((scan.events.len(), scan.problem_count, scan.problems.len()), (1, 1_000_000, 20));
}

#[test]
fn an_oversized_line_is_skipped_without_loading_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let (journal, _) = Journal::open(&path).unwrap();
    journal.append(&note("before")).unwrap();
    let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
    let huge = format!("{{\"v\":1,\"text\":\"{}\"}}\n", "A".repeat(MAX_LINE_BYTES * 3));
    f.write_all(huge.as_bytes()).unwrap();
    drop(f);
    journal.append(&note("after")).unwrap();
    let scan = Journal::read(&path).unwrap();
    assert_eq!(scan.events.len(), 2);
    assert_eq!(scan.problems.len(), 1);
    assert_eq!(scan.problems[0].line, 2);
    assert!(matches!(scan.problems[0].kind, ProblemKind::TooLong { bytes } if bytes == huge.len() - 1));
}

#[test]
fn new_journals_are_private_to_their_owner() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/dir/j.jsonl");
    Journal::open(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn a_follower_reads_only_new_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let (writer, _) = Journal::open(&path).unwrap();
    let (reader, mut scan) = Journal::open(&path).unwrap();
    writer.append(&note("a")).unwrap();
    writer.append_all(&[note("b"), note("c")]).unwrap();
    scan = reader.read_from(scan).unwrap();
    assert_eq!(scan.events.len(), 3);
    scan.events.clear();
    writer.append(&note("d")).unwrap();
    scan = reader.read_from(scan).unwrap();
    assert_eq!(scan.events.len(), 1);
    assert_eq!(scan.lines, 4);
}

// ---------------------------------------------------------------------------------------
// Crashes and concurrent writers, with the real binary.

/// Tiny deterministic PRNG: the test is reproducible from its printed seed.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn sigkill_mid_append_never_loses_an_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let mut seed = 0x5eed_u64 ^ std::process::id() as u64;
    println!("seed {seed}");
    let trials = 40;
    let mut acknowledged: HashSet<String> = HashSet::new();
    for trial in 0..trials {
        let mut child = Command::new(BIN)
            .args(["log", "--stdin", "--as", "killer", "-j"])
            .arg(&path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let feeder = std::thread::spawn(move || {
            for i in 0.. {
                if writeln!(stdin, "trial {trial} note {i} with some text to make the line longer").is_err() {
                    break;
                }
            }
        });
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| l.strip_prefix("written ").map(str::to_string))
                .collect::<Vec<_>>()
        });
        std::thread::sleep(Duration::from_millis(5 + xorshift(&mut seed) % 60));
        // SAFETY: plain kill(2) on our own child's pid.
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        child.wait().unwrap();
        acknowledged.extend(reader.join().unwrap());
        feeder.join().unwrap();
    }
    assert!(acknowledged.len() > trials, "the writers should have acknowledged many events");
    let scan = Journal::read(&path).expect("journal still opens after kill -9");
    let present: HashSet<String> = scan.events.iter().map(|e| e.id.clone()).collect();
    let missing: Vec<_> = acknowledged.difference(&present).collect();
    assert!(missing.is_empty(), "{} acknowledged events lost: {missing:?}", missing.len());
    // Damage, if any, is torn lines only, each reported, never a lost or garbled event.
    for p in scan.problems.iter().chain(scan.torn_tail().as_ref()) {
        assert!(matches!(p.kind, ProblemKind::Corrupt { .. } | ProblemKind::Torn { .. }), "{p:?}");
    }
    println!(
        "{trials} kill -9 trials: {} events acknowledged, 0 lost, {} torn lines reported",
        acknowledged.len(),
        scan.problems.len() + usize::from(scan.torn_tail().is_some())
    );
}

#[test]
fn four_processes_append_twenty_thousand_events_without_interleaving() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let per_process = 5_000;
    // Followers attached while the writers append, as other operators' screens are: each
    // must see every event exactly once, in file order, and never a torn or corrupt line.
    std::fs::File::create(&path).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let followers: Vec<_> = (0..2)
        .map(|_| {
            let (path, stop) = (path.clone(), stop.clone());
            std::thread::spawn(move || {
                let (journal, mut scan) = Journal::open_read_only(&path).unwrap();
                let mut seen = Vec::new();
                loop {
                    let done = stop.load(std::sync::atomic::Ordering::SeqCst);
                    scan = journal.read_from(scan).unwrap();
                    seen.extend(scan.events.drain(..).map(|e| e.id));
                    assert!(scan.problems.is_empty(), "a follower saw a damaged line: {:?}", scan.problems);
                    if done {
                        return seen;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        })
        .collect();
    let children: Vec<_> = (0..4)
        .map(|p| {
            let mut child = Command::new(BIN)
                .args(["log", "--stdin", "--as", &format!("writer{p}"), "-j"])
                .arg(&path)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            std::thread::spawn(move || {
                let mut all = String::new();
                for i in 0..per_process {
                    all.push_str(&format!("p{p} seq {i} {}\n", "x".repeat(i % 200)));
                }
                stdin.write_all(all.as_bytes()).unwrap();
            });
            child
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen_by_followers: Vec<Vec<String>> = followers.into_iter().map(|f| f.join().unwrap()).collect();
    let raw = std::fs::read_to_string(&path).unwrap();
    assert_eq!(raw.lines().count(), 4 * per_process);
    for (n, line) in raw.lines().enumerate() {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
    }
    let scan = Journal::read(&path).unwrap();
    assert!(scan.problems.is_empty() && scan.torn_tail().is_none());
    assert_eq!(scan.events.len(), 4 * per_process);
    // Each writer's events are all there, in the order it wrote them.
    let mut next: HashMap<String, usize> = HashMap::new();
    for e in &scan.events {
        let EventBody::NoteAdded { text } = &e.body else { panic!("unexpected {e:?}") };
        let mut words = text.split(' ');
        let (who, seq) = (words.next().unwrap(), words.nth(1).unwrap().parse::<usize>().unwrap());
        assert_eq!(e.author, format!("writer{}", &who[1..]));
        let expected = next.entry(who.to_string()).or_default();
        assert_eq!(seq, *expected, "{who} out of order");
        *expected += 1;
    }
    assert!(next.values().all(|n| *n == per_process));
    let in_file: Vec<String> = scan.events.iter().map(|e| e.id.clone()).collect();
    for seen in seen_by_followers {
        assert_eq!(seen, in_file, "a follower missed, repeated or reordered events");
    }
}
