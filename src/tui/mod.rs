//! The screen. For now: header, checks and timeline from the incident fold, following the
//! journal; redrawn only when something changed (a key, a new journal line, the clock).

use std::time::Duration;

use chrono::{Local, Utc};
use crossterm::event::{Event as TermEvent, EventStream, KeyCode, KeyEventKind, KeyModifiers};
use futures::StreamExt;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, Paragraph};

use std::sync::Arc;

use crate::config::Config;
use crate::incident::Incident;
use crate::journal::{CheckState, EventBody, Journal, Scan, Writer};
use crate::monitor::{self, MonitorEvent};
use crate::probe::Prober;
use crate::recorder;
use crate::sanitize::sanitize_str;

pub fn run(journal: Journal, scan: Scan, config: &Config, author: &str) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(event_loop(Arc::new(journal), scan, config, author))
}

async fn event_loop(journal: Arc<Journal>, mut scan: Scan, config: &Config, author: &str) -> anyhow::Result<()> {
    let mut incident = Incident::from_events(std::mem::take(&mut scan.events));
    let (written_tx, mut written) = tokio::sync::mpsc::unbounded_channel();
    let writer = Writer::spawn(journal.clone(), written_tx);
    let options = monitor::Options { max_concurrent: config.max_concurrent_probes, canary: config.canary.clone() };
    let (_monitor, mut results) =
        monitor::spawn(config.checks.clone(), &recorder::recorded_states(&incident), options, Prober::new());
    let mut terminal = ratatui::init();
    let mut keys = EventStream::new();
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    let mut dirty = true;
    let mut write_error: Option<String> = None;
    let result = loop {
        if dirty {
            if let Err(e) = terminal.draw(|f| draw(f, &incident, write_error.as_deref())) {
                break Err(e.into());
            }
            dirty = false;
        }
        tokio::select! {
            key = keys.next() => match key {
                Some(Ok(TermEvent::Key(k))) if k.kind == KeyEventKind::Press => {
                    if k.code == KeyCode::Char('q') || (k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL)) {
                        break Ok(());
                    }
                }
                Some(Ok(TermEvent::Resize(..))) => dirty = true,
                Some(Ok(_)) => {}
                Some(Err(e)) => break Err(e.into()),
                None => break Ok(()),
            },
            Some(event) = results.recv() => {
                // Only confirmed changes are written; they show once they are on disk.
                if let MonitorEvent::Changed(change) = event {
                    drop(writer.submit(vec![recorder::change_event(&change, author)]));
                }
            }
            Some(result) = written.recv() => {
                if let Err(e) = result {
                    write_error = Some(e);
                }
                match journal.read_from(std::mem::take(&mut scan)) {
                    Ok(mut next) => {
                        for event in next.events.drain(..) {
                            incident.apply(event);
                        }
                        scan = next;
                    }
                    Err(e) => break Err(e.into()),
                }
                dirty = true;
            }
            _ = clock.tick() => {
                // Other operators' entries arrive through the journal file.
                match journal.read_from(std::mem::take(&mut scan)) {
                    Ok(mut next) => {
                        for event in next.events.drain(..) {
                            incident.apply(event);
                        }
                        scan = next;
                    }
                    Err(e) => break Err(e.into()),
                }
                dirty = true;
            }
        }
    };
    ratatui::restore();
    result
}

fn draw(frame: &mut Frame, incident: &Incident, write_error: Option<&str>) {
    let [header, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(frame.area());
    let [checks, timeline] = Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(body);
    let now = Utc::now();
    let elapsed = incident.elapsed(now).map(|d| {
        let s = d.num_seconds();
        format!("T+{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    });
    let mut spans = Vec::new();
    if incident.is_drill() {
        spans.push(Span::styled(" DRILL ", Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)));
        spans.push(Span::raw(" "));
    }
    spans.push(Span::styled(
        sanitize_str(incident.title.as_deref().unwrap_or("no incident"), 60),
        Style::default().add_modifier(Modifier::BOLD),
    ));
    spans.push(Span::raw(format!(
        "  SEV{}  {}  {}  {} UTC / {} local",
        incident.severity.map(|s| s.to_string()).unwrap_or_else(|| "?".into()),
        incident.status.as_str().to_uppercase(),
        elapsed.unwrap_or_default(),
        now.format("%H:%M:%S"),
        now.with_timezone(&Local).format("%H:%M:%S"),
    )));
    if let Some(e) = write_error {
        spans = vec![Span::styled(
            format!(" ✖ JOURNAL WRITE FAILED: {} ", sanitize_str(e, 120)),
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD),
        )];
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), header);

    let items: Vec<ListItem> = incident
        .checks
        .iter()
        .map(|(name, c)| {
            let glyph = match c.state {
                CheckState::Up => "✔ up      ",
                CheckState::Degraded => "▲ degraded",
                CheckState::Down => "✖ down    ",
                CheckState::Unknown => "? unknown ",
            };
            ListItem::new(format!("{glyph} {}  since {}", sanitize_str(name, 40), c.since.format("%H:%M:%S")))
        })
        .collect();
    frame.render_widget(List::new(items).block(Block::default().borders(Borders::ALL).title(" Checks ")), checks);

    let height = timeline.height.saturating_sub(2) as usize;
    let start = incident.timeline.len().saturating_sub(height);
    let lines: Vec<ListItem> = incident.timeline[start..]
        .iter()
        .map(|entry| {
            let e = &entry.event;
            let what = match &e.body {
                EventBody::NoteAdded { text } => format!("✎ {}", sanitize_str(text, 200)),
                EventBody::CheckChanged { check, to, detail, .. } => {
                    format!("⚑ {} → {} {}", sanitize_str(check, 40), to.as_str(), sanitize_str(detail, 120))
                }
                other => format!("• {}", other.kind().replace('_', " ")),
            };
            ListItem::new(format!(
                "{} {} {what}",
                e.ts.with_timezone(&Local).format("%H:%M:%S"),
                sanitize_str(&e.author, 24)
            ))
        })
        .collect();
    frame.render_widget(List::new(lines).block(Block::default().borders(Borders::ALL).title(" Timeline ")), timeline);
}
