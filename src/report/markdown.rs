//! The report as Markdown, for a wiki page.

use std::fmt::Write;

use super::Report;
use super::sections::{Block, Inline, Table};
use super::timeline::Shade;
use super::ts;

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
    let mut out = String::with_capacity(s.len());
    push_escaped(&mut out, s);
    out
}

/// [`escape`], appending to `out`: no string of its own for the million lines of a timeline.
fn push_escaped(out: &mut String, s: &str) {
    if !s.contains(['&', '<', '>', '|']) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str(r"\|"),
            c => out.push(c),
        }
    }
}

pub fn render(r: &Report) -> String {
    let doc = r.document();
    let mut out = String::with_capacity(256 + r.timeline.len() * 120);
    let o = &mut out;
    if let Some(drill) = &doc.drill {
        let _ = writeln!(o, "> **DRILL** — {}\n", cell(drill.trim_start_matches("DRILL — ")));
    }
    let _ = writeln!(o, "# {}", cell(&doc.title));
    for section in &doc.sections {
        let _ = writeln!(o, "\n{} {}\n", "#".repeat(section.level.into()), cell(&section.heading));
        for (i, block) in section.blocks.iter().enumerate() {
            if i > 0 {
                o.push('\n');
            }
            render_block(o, r, block);
        }
    }
    out
}

fn render_block(o: &mut String, r: &Report, block: &Block) {
    match block {
        Block::Table(t) => table(o, t),
        Block::List(items) => items.each(|item| {
            o.push_str("- ");
            inlines(o, item);
            o.push('\n');
        }),
        Block::Para(text) => {
            inlines(o, text);
            o.push('\n');
        }
        Block::Picture => picture(o, r),
    }
}

fn table(o: &mut String, t: &Table) {
    let columns = if t.head.is_empty() { t.rows.width() } else { t.head.len() };
    let head: Vec<String> = (0..columns)
        .map(|i| match t.head.get(i) {
            Some(h) if !h.is_empty() => format!(" {h} "),
            _ => " ".into(),
        })
        .collect();
    let _ = writeln!(o, "|{}|", head.join("|"));
    let _ = writeln!(o, "|{}", "---|".repeat(columns));
    t.rows.each(|row| {
        o.push('|');
        for c in &row.cells {
            o.push(' ');
            inlines(o, c);
            o.push_str(" |");
        }
        o.push('\n');
    });
}

/// The picture as Unicode blocks in a code block: survives any wiki, reads in any font.
fn picture(o: &mut String, r: &Report) {
    let _ = writeln!(o, "```text\n{}```\n", r.shape.text(78));
    let _ = writeln!(
        o,
        "{} up · {} degraded · {} partial (down from some places) · {} down · \
         D detected · A acknowledged · M mitigated · R resolved · s status change · > message sent",
        Shade::Up.glyph(),
        Shade::Degraded.glyph(),
        Shade::Partial.glyph(),
        Shade::Down.glyph()
    );
}

/// Writes runs of text into `o`: journal text sanitised and escaped, summaries (sanitised when
/// they were made) escaped only.
fn inlines(o: &mut String, runs: &[Inline]) {
    for run in runs {
        match run {
            Inline::Text(s) => o.push_str(&cell(s)),
            Inline::Summary(s) => push_escaped(o, s),
            Inline::Sep(s) => o.push_str(s),
            Inline::Time(t) => o.push_str(&ts(t)),
            Inline::Alert(s) | Inline::Strong(s) => {
                let _ = write!(o, "**{}**", cell(s));
            }
            Inline::Struck(s) => {
                o.push_str("~~");
                push_escaped(o, s);
                o.push_str("~~");
            }
            Inline::Inserted(s) => push_escaped(o, s),
        }
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
