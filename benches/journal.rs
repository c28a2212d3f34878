//! Journal benchmarks: replay of a 1,000,000-event journal, and append+fsync latency.
//!
//! Run: `cargo bench --bench journal`. The replay target is under 1 s. A long journal is
//! decoded on every core the process may use; `taskset -c 0 cargo bench --bench journal`
//! gives the one-core figure. The append figures are printed as median and p99 over
//! individual fsync'd appends.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use warroom::journal::{Audience, CheckState, Event, EventBody, Journal, Status};

/// A realistic mix: mostly check changes and notes, some checklist ticks, messages, status.
pub fn sample_event(i: u64) -> Event {
    let ts = Utc.timestamp_opt(1_790_000_000, 0).unwrap() + chrono::Duration::milliseconds(i as i64 * 250);
    let body = match i % 10 {
        0..=3 => EventBody::CheckChanged {
            check: format!("api-{}", i % 50),
            from: CheckState::Up,
            to: CheckState::Down,
            detail: "RCPT TO <support@example.com>: 451 4.3.0 Temporary lookup failure".into(),
        },
        4..=6 => EventBody::NoteAdded { text: format!("restarted relay {i}; watching queue depth, still 4k messages") },
        7 => EventBody::ChecklistItemDone { item: "first-public-update".into() },
        8 => EventBody::MessageSent {
            channel: "status-page".into(),
            audience: Audience::Public,
            text: "We are investigating delayed email delivery. Next update at 03:30 UTC.".into(),
            error: None,
            item: Some("public-update".into()),
            simulated: false,
            next_update: None,
        },
        _ => EventBody::StatusChanged { status: Status::Identified },
    };
    Event::at(ts, "alice@bastion1", body)
}

fn write_journal(path: &Path, n: u64) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..n {
        serde_json::to_writer(&mut out, &sample_event(i)).unwrap();
        out.write_all(b"\n").unwrap();
    }
    out.flush().unwrap();
}

fn replay(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("million.jsonl");
    write_journal(&path, 1_000_000);
    let mut group = c.benchmark_group("journal");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function("replay_1m_events", |b| {
        b.iter(|| {
            let scan = Journal::read(&path).unwrap();
            assert_eq!(scan.events.len(), 1_000_000);
            black_box(scan)
        })
    });
    group.bench_function("report_md_1m_events", |b| {
        b.iter(|| {
            let scan = Journal::read(&path).unwrap();
            let incident = warroom::incident::Incident::from_events(scan.events);
            let checklist = warroom::checklist::load("default").ok();
            let report = warroom::report::build(&incident, checklist.as_ref());
            black_box(warroom::report::markdown(&report).len())
        })
    });
    group.bench_function("replay_and_fold_1m_events", |b| {
        b.iter(|| {
            let scan = Journal::read(&path).unwrap();
            black_box(warroom::incident::Incident::from_events(scan.events))
        })
    });
    group.finish();
}

fn append(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (journal, _) = Journal::open(dir.path().join("append.jsonl")).unwrap();
    // Individual samples for median and p99, which criterion does not report.
    let mut samples: Vec<Duration> = (0..2000)
        .map(|i| {
            let e = sample_event(i);
            let t = Instant::now();
            journal.append(&e).unwrap();
            t.elapsed()
        })
        .collect();
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    println!(
        "journal/append_fsync: n={} median={:?} p99={:?} max={:?}",
        samples.len(),
        pct(0.5),
        pct(0.99),
        samples.last().unwrap()
    );
    let mut i = 0;
    c.bench_function("journal/append_fsync", |b| {
        b.iter(|| {
            i += 1;
            journal.append(&sample_event(i)).unwrap()
        })
    });
}

criterion_group!(benches, replay, append);
criterion_main!(benches);
