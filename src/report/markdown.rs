//! The report as Markdown, for a wiki page.

use std::fmt::Write;

use super::{Line, Report, duration, ts, who};

/// Text from the journal, for a table cell or a line: no line breaks, no control characters,
/// nothing a terminal, a table or an HTML renderer would obey.
fn cell(s: &str) -> String {
    escape(&crate::sanitize::sanitize_str(s, 2000))
}

/// For text already sanitised (event summaries). Wikis render Markdown to HTML and pass inline
/// HTML through, so `<script>` in a probe's detail or a note would run there: `&`, `<` and `>`
/// become entities (which render as the characters themselves), and `|` becomes `\|` so it
/// cannot end a table cell.
fn escape(s: &str) -> String {
    if !s.contains(['&', '<', '>', '|']) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str(r"\|"),
            c => out.push(c),
        }
    }
    out
}

pub fn render(r: &Report) -> String {
    let mut out = String::with_capacity(256 + r.timeline.len() * 120);
    let o = &mut out;
    if r.drill {
        let _ = writeln!(
            o,
            "> **DRILL** — this was a rehearsal ({}), not a real incident.\n",
            cell(r.scenario.as_deref().unwrap_or("scenario"))
        );
    }
    let _ = writeln!(o, "# Post-incident report: {}{}\n", cell(&r.title), if r.drill { " (DRILL)" } else { "" });
    let _ = writeln!(o, "## Summary\n");
    let _ = writeln!(o, "| | |\n|---|---|");
    let sev = |s: Option<u8>| s.map_or("—".to_string(), |s| format!("SEV{s}"));
    let _ = writeln!(o, "| Severity | {} (worst {}) |", sev(r.severity), sev(r.worst_severity));
    let _ = writeln!(o, "| Status | {} |", r.status);
    let _ = writeln!(o, "| Started | {} |", r.started.as_ref().map_or("—".into(), ts));
    let _ = writeln!(o, "| Ended | {} |", r.ended.as_ref().map_or("not resolved".into(), ts));
    let _ = writeln!(o, "| Duration | {} |", r.duration_s.map_or("—".into(), duration));
    let _ = writeln!(
        o,
        "| Commanders | {} |",
        if r.commanders.is_empty() { "none recorded".into() } else { cell(&r.commanders.join(", ")) }
    );
    if !r.handovers.is_empty() {
        let _ = writeln!(
            o,
            "\n### Roles and hand-overs\n\n| Time | Role | From | To | Recorded by |\n|---|---|---|---|---|"
        );
        for h in &r.handovers {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                ts(&h.at),
                cell(&h.role),
                cell(h.from.as_deref().unwrap_or("—")),
                cell(&h.to),
                cell(&who(&h.by, h.account.as_deref()))
            );
        }
    }
    let _ = writeln!(o, "\n## Key times\n\n| | Time | After start | Since previous |\n|---|---|---|---|");
    for k in &r.key_times {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} |",
            k.name,
            k.at.as_ref().map_or("—".into(), ts),
            k.after_start_s.map_or("—".into(), duration),
            k.since_previous_s.map_or("—".into(), duration)
        );
    }
    let _ = writeln!(o, "\n## Key events\n");
    if r.key_events.is_empty() {
        let _ = writeln!(o, "None pinned.");
    }
    for e in &r.key_events {
        let _ = writeln!(o, "- {} — {} ({})", ts(&e.at), as_it_stands(e, cell(&e.text)), cell(&author(e)));
    }
    let _ = writeln!(
        o,
        "\n## Outages by check\n\n| Check | State | From | To | Duration | What failed |\n|---|---|---|---|---|---|"
    );
    for w in &r.outages {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} |",
            cell(&w.check),
            w.state,
            ts(&w.from),
            w.to.as_ref().map_or("still failing".into(), ts),
            w.duration_s.map_or("—".into(), duration),
            cell(&w.detail)
        );
    }
    if let Some(c) = &r.checklist {
        let _ = writeln!(
            o,
            "\n## Checklist: {} — {} on time, {} late, {} missed\n",
            cell(&c.name),
            c.on_time,
            c.late,
            c.missed
        );
        let _ = writeln!(o, "| Item | Owner | Due | Done | By | Verdict |\n|---|---|---|---|---|---|");
        for i in &c.items {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {}{} |",
                cell(&i.title),
                cell(i.owner.as_deref().unwrap_or("—")),
                i.due_at.as_ref().map_or("—".into(), ts),
                i.done_at.as_ref().map_or("—".into(), ts),
                cell(i.done_by.as_deref().unwrap_or("—")),
                if i.verdict == "missed" { "**missed**" } else { i.verdict },
                if i.times_done > 1 { format!(" (×{})", i.times_done) } else { String::new() }
            );
        }
    }
    let _ = writeln!(
        o,
        "\n## Messages sent\n\n| Time | Channel | Audience | By | Text | Result |\n|---|---|---|---|---|---|"
    );
    for m in &r.messages {
        let result = match (&m.error, m.simulated) {
            (Some(e), _) => format!("FAILED: {}", cell(e)),
            (None, true) => "simulated (drill)".into(),
            (None, false) => "sent".into(),
        };
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} |",
            ts(&m.at),
            cell(&m.channel),
            m.audience,
            cell(&who(&m.author, m.account.as_deref())),
            cell(&m.text),
            result
        );
    }
    let _ = writeln!(o, "\n## Notes\n");
    if r.notes.is_empty() {
        let _ = writeln!(o, "No notes.");
    }
    for n in &r.notes {
        let _ = writeln!(o, "- {} **{}**: {}", ts(&n.at), cell(&author(n)), as_it_stands(n, cell(&n.text)));
    }
    follow_ups(o, r);
    let _ = writeln!(o, "\n## Full timeline\n\n| Time | By | Event |\n|---|---|---|");
    for e in &r.timeline {
        let _ = writeln!(
            o,
            "| {} | {} | {}{} |",
            ts(&e.at),
            cell(&author(e)),
            if e.key { "★ " } else { "" },
            as_it_stands(e, escape(&e.text))
        );
    }
    out
}

fn author(l: &Line) -> String {
    who(&l.author, l.account.as_deref())
}

/// An entry's text (already made safe) as it stands now: struck through when struck or
/// corrected, followed by what replaced it and who struck it.
fn as_it_stands(l: &Line, text: String) -> String {
    if !l.superseded() {
        return text;
    }
    let mut out = format!("~~{text}~~");
    if let Some(corrected) = &l.corrected {
        let _ = write!(out, " → {}", cell(corrected));
    }
    if let Some(s) = &l.struck {
        let why = s.reason.as_deref().map(|r| format!(": {}", cell(r))).unwrap_or_default();
        let _ = write!(out, " (struck by {} at {}{why})", cell(&s.by), ts(&s.at));
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
        "\n## Follow-ups — {open} open\n\n| Follow-up | Owner | Added | By | Done |\n|---|---|---|---|---|"
    );
    for f in &r.follow_ups {
        let done = match (&f.done_at, &f.done_by) {
            (Some(at), Some(by)) => format!("{} by {}", ts(at), cell(by)),
            _ => "**open**".into(),
        };
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {done} |",
            cell(&f.text),
            cell(f.owner.as_deref().unwrap_or("—")),
            ts(&f.added_at),
            cell(&f.added_by)
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn pipes_cannot_break_a_table() {
        assert_eq!(super::cell("a|b\nc"), r"a\|b c");
    }

    #[test]
    fn html_is_shown_as_text_not_run() {
        assert_eq!(super::cell("<script>x&y</script>|"), r"&lt;script&gt;x&amp;y&lt;/script&gt;\|");
    }
}
