//! The report as one self-contained HTML file: inline style, no scripts, no external assets.

use std::fmt::Write;

use super::{Line, Report, duration, ts, who};

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let clean = crate::sanitize::sanitize_multiline(s, 100_000);
    let mut out = String::with_capacity(clean.len());
    for c in clean.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub const STYLE: &str = "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;line-height:1.45;color:#111}\
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}th,td{border:1px solid #bbb;padding:.25rem .5rem;text-align:left;vertical-align:top}\
th{background:#eee}.drill{background:#ffd700;color:#000;padding:.5rem 1rem;font-weight:bold;border:2px solid #000}\
.missed,.failed{font-weight:bold;color:#b00000}.key{font-weight:bold}@media(max-width:40rem){td,th{font-size:.85rem}}";

pub fn render(r: &Report) -> String {
    let mut out = String::with_capacity(1024 + r.timeline.len() * 200);
    let o = &mut out;
    let title = format!("Post-incident report: {}{}", r.title, if r.drill { " (DRILL)" } else { "" });
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(&title)
    );
    if r.drill {
        let _ = writeln!(
            o,
            "<p class=\"drill\">DRILL — this was a rehearsal ({}), not a real incident.</p>",
            esc(r.scenario.as_deref().unwrap_or("scenario"))
        );
    }
    let _ = writeln!(o, "<h1>{}</h1>", esc(&title));
    let sev = |s: Option<u8>| s.map_or("—".to_string(), |s| format!("SEV{s}"));
    let _ = writeln!(o, "<h2>Summary</h2>\n<table>");
    for (k, v) in [
        ("Severity", format!("{} (worst {})", sev(r.severity), sev(r.worst_severity))),
        ("Status", r.status.clone()),
        ("Started", r.started.as_ref().map_or("—".into(), ts)),
        ("Ended", r.ended.as_ref().map_or("not resolved".into(), ts)),
        ("Duration", r.duration_s.map_or("—".into(), duration)),
        ("Commanders", if r.commanders.is_empty() { "none recorded".into() } else { r.commanders.join(", ") }),
    ] {
        let _ = writeln!(o, "<tr><th>{k}</th><td>{}</td></tr>", esc(&v));
    }
    let _ = writeln!(o, "</table>");
    if !r.handovers.is_empty() {
        let _ = writeln!(
            o,
            "<h3>Roles and hand-overs</h3>\n<table>\n<tr><th>Time</th><th>Role</th><th>From</th><th>To</th><th>Recorded by</th></tr>"
        );
        for h in &r.handovers {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&ts(&h.at)),
                esc(&h.role),
                esc(h.from.as_deref().unwrap_or("—")),
                esc(&h.to),
                esc(&who(&h.by, h.account.as_deref()))
            );
        }
        let _ = writeln!(o, "</table>");
    }
    let _ = writeln!(
        o,
        "<h2>Key times</h2>\n<table>\n<tr><th></th><th>Time</th><th>After start</th><th>Since previous</th></tr>"
    );
    for k in &r.key_times {
        let _ = writeln!(
            o,
            "<tr><th>{}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
            k.name,
            esc(&k.at.as_ref().map_or("—".into(), ts)),
            k.after_start_s.map_or("—".into(), duration),
            k.since_previous_s.map_or("—".into(), duration)
        );
    }
    let _ = writeln!(o, "</table>\n<h2>Key events</h2>");
    if r.key_events.is_empty() {
        let _ = writeln!(o, "<p>None pinned.</p>");
    } else {
        let _ = writeln!(o, "<ul>");
        for e in &r.key_events {
            let _ = writeln!(o, "<li>{} — {} ({})</li>", esc(&ts(&e.at)), as_it_stands(e), esc(&author(e)));
        }
        let _ = writeln!(o, "</ul>");
    }
    let _ = writeln!(
        o,
        "<h2>Outages by check</h2>\n<table>\n<tr><th>Check</th><th>State</th><th>From</th><th>To</th><th>Duration</th><th>What failed</th></tr>"
    );
    for w in &r.outages {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&w.check),
            w.state,
            esc(&ts(&w.from)),
            esc(&w.to.as_ref().map_or("still failing".into(), ts)),
            w.duration_s.map_or("—".into(), duration),
            esc(&w.detail)
        );
    }
    let _ = writeln!(o, "</table>");
    if let Some(c) = &r.checklist {
        let _ = writeln!(
            o,
            "<h2>Checklist: {} — {} on time, {} late, {} missed</h2>\n<table>\n<tr><th>Item</th><th>Owner</th><th>Due</th><th>Done</th><th>By</th><th>Verdict</th></tr>",
            esc(&c.name),
            c.on_time,
            c.late,
            c.missed
        );
        for i in &c.items {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
                esc(&i.title),
                esc(i.owner.as_deref().unwrap_or("—")),
                esc(&i.due_at.as_ref().map_or("—".into(), ts)),
                esc(&i.done_at.as_ref().map_or("—".into(), ts)),
                esc(i.done_by.as_deref().unwrap_or("—")),
                if i.verdict == "missed" { "missed" } else { "verdict" },
                i.verdict
            );
        }
        let _ = writeln!(o, "</table>");
    }
    let _ = writeln!(
        o,
        "<h2>Messages sent</h2>\n<table>\n<tr><th>Time</th><th>Channel</th><th>Audience</th><th>By</th><th>Text</th><th>Result</th></tr>"
    );
    for m in &r.messages {
        let result = match (&m.error, m.simulated) {
            (Some(e), _) => format!("<span class=\"failed\">FAILED: {}</span>", esc(e)),
            (None, true) => "simulated (drill)".into(),
            (None, false) => "sent".into(),
        };
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{result}</td></tr>",
            esc(&ts(&m.at)),
            esc(&m.channel),
            m.audience,
            esc(&who(&m.author, m.account.as_deref())),
            esc(&m.text)
        );
    }
    let _ = writeln!(o, "</table>\n<h2>Notes</h2>");
    if r.notes.is_empty() {
        let _ = writeln!(o, "<p>No notes.</p>");
    } else {
        let _ = writeln!(o, "<ul>");
        for n in &r.notes {
            let _ = writeln!(o, "<li>{} <b>{}</b>: {}</li>", esc(&ts(&n.at)), esc(&author(n)), as_it_stands(n));
        }
        let _ = writeln!(o, "</ul>");
    }
    follow_ups(o, r);
    let _ = writeln!(o, "<h2>Full timeline</h2>\n<table>\n<tr><th>Time</th><th>By</th><th>Event</th></tr>");
    for e in &r.timeline {
        let _ = writeln!(
            o,
            "<tr{}><td>{}</td><td>{}</td><td>{}{}</td></tr>",
            if e.key { " class=\"key\"" } else { "" },
            esc(&ts(&e.at)),
            esc(&author(e)),
            if e.key { "★ " } else { "" },
            as_it_stands(e)
        );
    }
    let _ = writeln!(o, "</table>\n</body>\n</html>");
    out
}

fn author(l: &Line) -> String {
    who(&l.author, l.account.as_deref())
}

/// An entry's text, escaped, as it stands now: in `<del>` when struck or corrected, followed
/// by what replaced it and who struck it.
fn as_it_stands(l: &Line) -> String {
    if !l.superseded() {
        return esc(&l.text);
    }
    let mut out = format!("<del>{}</del>", esc(&l.text));
    if let Some(corrected) = &l.corrected {
        let _ = write!(out, " → <ins>{}</ins>", esc(corrected));
    }
    if let Some(s) = &l.struck {
        let why = s.reason.as_deref().map(|r| format!(": {}", esc(r))).unwrap_or_default();
        let _ = write!(out, " (struck by {} at {}{why})", esc(&s.by), esc(&ts(&s.at)));
    }
    out
}

/// Action items, open ones marked; nothing at all when there are none.
fn follow_ups(o: &mut String, r: &Report) {
    if r.follow_ups.is_empty() {
        return;
    }
    let open = r.follow_ups.iter().filter(|f| f.done_at.is_none()).count();
    let _ = writeln!(
        o,
        "<h2>Follow-ups — {open} open</h2>\n<table>\n<tr><th>Follow-up</th><th>Owner</th><th>Added</th><th>By</th><th>Done</th></tr>"
    );
    for f in &r.follow_ups {
        let done = match (&f.done_at, &f.done_by) {
            (Some(at), Some(by)) => format!("{} by {}", esc(&ts(at)), esc(by)),
            _ => "<b class=\"missed\">open</b>".into(),
        };
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{done}</td></tr>",
            esc(&f.text),
            esc(f.owner.as_deref().unwrap_or("—")),
            esc(&ts(&f.added_at)),
            esc(&f.added_by)
        );
    }
    let _ = writeln!(o, "</table>");
}
