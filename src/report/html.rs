//! The report as one self-contained HTML file: inline style, no scripts, no external assets.
//!
//! Written with maud: the markup is checked when warroom compiles, and every value spliced into
//! it is escaped unless marked otherwise, so journal text cannot become markup by a forgotten
//! call. Journal text is sanitised first ([`clean`]): escaping stops HTML, not control characters.

use maud::{DOCTYPE, Markup, PreEscaped, Render, html};

use super::sections::{Block, Inline, Items, Section, Table};
use super::{Report, svg, ts};

/// Text from the journal with control characters, escape sequences and bidirectional overrides
/// taken out (line breaks kept); maud escapes it for HTML where it is spliced in.
pub fn clean(s: &str) -> String {
    crate::sanitize::sanitize_multiline(s, 100_000)
}

pub const STYLE: &str = "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;line-height:1.45;color:#111;background:#fff}\
table{border-collapse:collapse;width:100%;margin:0}.scroll{overflow-x:auto;margin:.5rem 0 1.5rem}th,td{border:1px solid #bbb;padding:.25rem .5rem;text-align:left;vertical-align:top}\
th{background:#eee}.drill{background:#ffd700;color:#000;padding:.5rem 1rem;font-weight:bold;border:2px solid #000}\
.missed,.failed{font-weight:bold;color:#b00000}.key{font-weight:bold}time{white-space:nowrap}\
@media(max-width:40rem){td,th{font-size:.85rem}}\
@media(prefers-color-scheme:dark){body{color:#e8e8e8;background:#121212}th{background:#2a2a2a}th,td{border-color:#555}.missed,.failed{color:#ff8a80}}\
@media print{body{color:#000;background:#fff;max-width:none}th{background:#eee}th,td{border-color:#999}.missed,.failed{color:#b00000}}";

/// The `<head>` every page of ours has: one file, its styles inline, readable on a phone.
pub fn head(title: &str, styles: &[&'static str]) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (clean(title)) }
            style { @for s in styles { (PreEscaped(*s)) } }
        }
    }
}

pub fn render(r: &Report) -> String {
    let doc = r.document();
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            (head(&doc.title, &[STYLE, svg::STYLE]))
            body {
                @if let Some(drill) = &doc.drill {
                    p.drill { (clean(drill)) }
                }
                h1 { (clean(&doc.title)) }
                @for s in &doc.sections {
                    (section(r, s))
                }
            }
        }
    };
    page.into_string()
}

fn section(r: &Report, s: &Section) -> Markup {
    html! {
        @if s.level <= 2 { h2 { (clean(&s.heading)) } } @else { h3 { (clean(&s.heading)) } }
        @for block in &s.blocks {
            @match block {
                Block::Table(t) => (table(t)),
                Block::List(items) => ul { (PreEscaped(list_items(items))) },
                Block::Para(text) => p { (inlines(text)) },
                Block::Picture => (svg::picture(&r.shape)),
            }
        }
    }
}

fn table(t: &Table) -> Markup {
    // Rows are rendered one at a time into one buffer: the full timeline's are made on the fly.
    let mut rows = String::new();
    t.rows.each(|row| {
        html! {
            tr class=[row.key.then_some("key")] {
                @for (i, c) in row.cells.iter().enumerate() {
                    @if i == 0 && t.labelled { th { (inlines(c)) } } @else { td { (inlines(c)) } }
                }
            }
        }
        .render_to(&mut rows)
    });
    // A wide table scrolls sideways in its wrapper on a phone instead of pushing the page.
    html! {
        div.scroll {
            table {
                @if !t.head.is_empty() {
                    tr { @for h in &t.head { th { (h) } } }
                }
                (PreEscaped(rows))
            }
        }
    }
}

/// The list's items, each made, rendered and dropped in turn.
fn list_items(items: &Items) -> String {
    let mut out = String::new();
    items.each(|item| html! { li { (inlines(item)) } }.render_to(&mut out));
    out
}

fn inlines(runs: &[Inline]) -> Markup {
    html! {
        @for run in runs {
            @match run {
                Inline::Text(s) => (clean(s)),
                Inline::Sep(s) => (s),
                Inline::Summary(s) => (s),
                Inline::Time(t) => time datetime=(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)) { (ts(t)) },
                Inline::Alert(s) => b.failed { (clean(s)) },
                Inline::Strong(s) => b { (clean(s)) },
                Inline::Struck(s) => del { (s) },
                Inline::Inserted(s) => ins { (s) },
            }
        }
    }
}
