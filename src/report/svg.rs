//! The shape of the outage as inline SVG for the HTML report: no script, styled by the page's
//! CSS (light, dark and print), well-formed XML (every element closed), so a browser, a printer
//! and an XML parser all read the same picture.
//!
//! Colour is never the only signal: a band's height grows with how bad the state is (a thin
//! line for up, full height for down), and every band and marker has a `<title>` in words.

use chrono::{DateTime, Duration, Utc};
use maud::{Markup, html};

use super::html::clean;
use super::timeline::{Mark, Marker, Shade, Shape, hhmm};
use crate::fit;

/// The drawing's coordinate system (it scales to the page width).
pub const WIDTH: f64 = 1000.0;
/// Where the plot starts: check names are right-aligned before it.
pub const PLOT_X: f64 = 170.0;
pub const PLOT_W: f64 = WIDTH - PLOT_X - 20.0;
/// Room above the rows for the marker letters (two staggered lines).
const MARKS_H: f64 = 40.0;
const ROW_H: f64 = 26.0;
const AXIS_H: f64 = 28.0;
/// How wide a marker letter is drawn (bold 12 px): markers closer than this share a label.
const GLYPH_W: f64 = 12.0;
/// The most terminal cells of a check's name drawn left of the plot (about 160 units at 13 px).
const LABEL_CELLS: usize = 20;

pub const STYLE: &str = ".shape{width:100%;min-width:46rem;height:auto;display:block;font:12px system-ui,sans-serif}\
.picture{margin:0 0 1.5rem;overflow-x:auto}\
.shape text{fill:currentColor}.shape .label{font-size:13px}.shape .grid{stroke:#bbb;stroke-width:1}\
.shape .up{fill:#2e7d32}.shape .degraded{fill:#c77700}.shape .partial{fill:#e65100}.shape .down{fill:#c62828}\
.shape .mark{stroke:#555;stroke-width:1.5;stroke-dasharray:4 3}.shape .mark.milestone{stroke:#1a4fa0;stroke-dasharray:none}\
.shape .glyph{font-weight:bold}.legend{font-size:.9rem}.legend .sw{font-size:1.1rem}\
.legend .up{color:#2e7d32}.legend .degraded{color:#c77700}.legend .partial{color:#e65100}.legend .down{color:#c62828}\
@media(prefers-color-scheme:dark){.shape .up{fill:#66bb6a}.shape .degraded{fill:#ffb300}.shape .partial{fill:#ff8a50}.shape .down{fill:#ef5350}\
.shape .mark{stroke:#aaa}.shape .mark.milestone{stroke:#82b1ff}.shape .grid{stroke:#444}\
.legend .up{color:#66bb6a}.legend .degraded{color:#ffb300}.legend .partial{color:#ff8a50}.legend .down{color:#ef5350}}\
@media print{.shape,.legend{print-color-adjust:exact;-webkit-print-color-adjust:exact}.shape .up{fill:#2e7d32}.shape .degraded{fill:#c77700}\
.shape .partial{fill:#e65100}.shape .down{fill:#c62828}.shape .mark{stroke:#555}.shape .mark.milestone{stroke:#1a4fa0}.shape .grid{stroke:#bbb}}";

/// The x coordinate of a time: `start` at the plot's left edge, `end` at its right.
pub fn x(t: DateTime<Utc>, start: DateTime<Utc>, end: DateTime<Utc>) -> f64 {
    let total = (end - start).num_milliseconds().max(1) as f64;
    let dt = (t - start).num_milliseconds().clamp(0, (end - start).num_milliseconds().max(1)) as f64;
    PLOT_X + dt / total * PLOT_W
}

/// A band's height: how bad the state is, readable without colour.
fn band_height(shade: Shade) -> f64 {
    match shade {
        Shade::NoData => 0.0,
        Shade::Up => 4.0,
        Shade::Degraded => 10.0,
        Shade::Partial => 15.0,
        Shade::Down => 20.0,
    }
}

fn mark_class(mark: Mark) -> &'static str {
    match mark {
        Mark::Milestone { .. } => "mark milestone",
        Mark::Status { .. } => "mark status",
        Mark::Message { .. } => "mark message",
    }
}

fn n(v: f64) -> String {
    format!("{v:.1}")
}

/// The picture and its legend.
pub fn picture(shape: &Shape) -> Markup {
    let (start, end) = (shape.start, shape.end.max(shape.start + Duration::seconds(1)));
    let height = MARKS_H + shape.rows.len() as f64 * ROW_H + AXIS_H;
    let bottom = MARKS_H + shape.rows.len() as f64 * ROW_H;
    let desc = format!(
        "State of each check from {} to {}, in the order they first failed: {}.",
        hhmm(start),
        hhmm(end),
        shape.rows.iter().map(|r| clean(&r.check)).collect::<Vec<_>>().join(", ")
    );
    html! {
        // Never narrower than 46rem, so its letters stay readable: a phone scrolls it sideways.
        figure.picture {
            svg.shape xmlns="http://www.w3.org/2000/svg" viewBox={"0 0 " (WIDTH) " " (n(height))} role="img" aria-label=(desc) {
                title { (desc) }
                (ticks(start, end, bottom))
                @let names: Vec<String> = shape.rows.iter().map(|r| clean(&r.check)).collect();
                @let labels = fit::fit_all(&names, LABEL_CELLS);
                @for (i, row) in shape.rows.iter().enumerate() {
                    (row_bands(row, i, (&names[i], &labels[i]), start, end, shape.end))
                }
                (markers(shape, start, end, bottom))
            }
            figcaption.legend { (legend()) }
        }
    }
}

/// Time ticks: a faint line and an `HH:MM` label at every round interval.
fn ticks(start: DateTime<Utc>, end: DateTime<Utc>, bottom: f64) -> Markup {
    let span = (end - start).num_minutes();
    let step = [1, 2, 5, 10, 15, 30, 60, 120, 240, 360, 720, 1440].into_iter().find(|s| span / s <= 8).unwrap_or(2880);
    let step = Duration::minutes(step);
    let first_minute = start.timestamp().div_euclid(60) * 60;
    let mut at = DateTime::from_timestamp(first_minute, 0).unwrap_or(start);
    let step_s = step.num_seconds().max(60);
    while at.timestamp() % step_s != 0 {
        at += Duration::minutes(1);
    }
    let mut times = Vec::new();
    while at <= end {
        if at >= start {
            times.push(at);
        }
        at += step;
    }
    html! {
        @for t in times {
            @let tx = n(x(t, start, end));
            line.grid x1=(tx) x2=(tx) y1=(n(MARKS_H - 6.0)) y2=(n(bottom)) {}
            text x=(tx) y=(n(bottom + 18.0)) text-anchor="middle" { (hhmm(t)) }
        }
    }
}

/// `(name, label)`: the full name, and the label drawn (cut to fit left of the plot, keeping
/// what tells it apart; the full name is its `<title>`).
fn row_bands(
    row: &super::timeline::Row,
    i: usize,
    (name, label): (&str, &str),
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    last: DateTime<Utc>,
) -> Markup {
    let mid = MARKS_H + i as f64 * ROW_H + ROW_H / 2.0;
    html! {
        g.row data-check=(name) {
            text.label x=(n(PLOT_X - 8.0)) y=(n(mid + 4.0)) text-anchor="end" {
                @if label != name { title { (name) } }
                (label)
            }
            @for b in row.bands.iter().filter(|b| b.shade != Shade::NoData) {
                @let (x0, x1) = (x(b.from, start, end), x(b.to.unwrap_or(last), start, end));
                @let h = band_height(b.shade);
                rect class={"band " (b.shade.word())} data-check=(name) data-state=(b.shade.word())
                    data-from=(b.from.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                    x=(n(x0)) y=(n(mid - h / 2.0)) width=(n((x1 - x0).max(1.0))) height=(n(h)) {
                    title { (name) ": " (b.shade.word()) " from " (hhmm(b.from)) " to " (b.to.map_or("the end".into(), hhmm)) }
                }
            }
        }
    }
}

/// A vertical line per marker, and above the rows one label per cluster of markers closer
/// than a letter: its letter, or for several `N` and the strongest's letter with a `<title>`
/// listing them all. Labels of neighbouring clusters are staggered on two lines.
fn markers(shape: &Shape, start: DateTime<Utc>, end: DateTime<Utc>, bottom: f64) -> Markup {
    let clusters = clusters(shape, start, end);
    let mut right = [f64::NEG_INFINITY; 2];
    let labels: Vec<(f64, f64, String, String)> = clusters
        .iter()
        .map(|group| {
            let xs: Vec<f64> = group.iter().map(|m| x(m.at, start, end)).collect();
            let mx = (xs[0] + xs[xs.len() - 1]) / 2.0;
            let strongest = group.iter().map(|m| m.mark).max_by_key(|m| m.rank()).unwrap_or(group[0].mark);
            let text = if group.len() > 1 {
                format!("{}{}", group.len(), strongest.glyph())
            } else {
                strongest.glyph().to_string()
            };
            let half = GLYPH_W * text.chars().count() as f64 / 2.0;
            let lane = if mx - half >= right[0] {
                0
            } else if mx - half >= right[1] {
                1
            } else {
                0
            };
            right[lane] = mx + half + 2.0;
            let title: Vec<String> = group.iter().map(|m| format!("{} {}", hhmm(m.at), clean(&m.label))).collect();
            (mx, 14.0 + lane as f64 * 15.0, text, title.join("\n"))
        })
        .collect();
    html! {
        @for m in &shape.markers {
            @let mx = x(m.at, start, end);
            g.marker {
                title { (hhmm(m.at)) " " (clean(&m.label)) }
                line class=(mark_class(m.mark)) x1=(n(mx)) x2=(n(mx)) y1=(n(MARKS_H - 6.0)) y2=(n(bottom)) {}
            }
        }
        @for (mx, y, text, title) in labels {
            g.marker-label {
                title { (title) }
                text.glyph x=(n(mx)) y=(n(y)) text-anchor="middle" { (text) }
            }
        }
    }
}

/// The markers in time order, grouped where each is closer than a letter to the one before.
fn clusters(shape: &Shape, start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<Vec<&Marker>> {
    let mut out: Vec<Vec<&Marker>> = Vec::new();
    let mut last = f64::NEG_INFINITY;
    for m in &shape.markers {
        let mx = x(m.at, start, end);
        match out.last_mut() {
            Some(group) if mx - last < GLYPH_W => group.push(m),
            _ => out.push(vec![m]),
        }
        last = mx;
    }
    out
}

fn legend() -> Markup {
    html! {
        @for shade in [Shade::Up, Shade::Degraded, Shade::Partial, Shade::Down] {
            span class={"sw " (shade.word())} { (shade.glyph()) } " " (shade.word())
            @if shade == Shade::Partial { " (down from some places)" }
            " · "
        }
        "D detected · A acknowledged · M mitigated · R resolved · s status change · > message sent (times UTC)"
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::journal::Milestone;
    use crate::report::timeline::{Band, Row};

    fn t(s: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 1, 0, 0).unwrap() + Duration::seconds(s)
    }

    /// Three markers a fraction of a unit apart (x 586.1, 586.3, 586.5 in the user's report)
    /// share one label saying 3, whose title lists them all; a long name is cut with a title.
    #[test]
    fn close_markers_share_one_label_and_long_names_keep_a_title() {
        let mark = |s, milestone: Milestone| super::super::timeline::Marker {
            at: t(s),
            mark: Mark::Milestone { milestone },
            label: milestone.as_str().into(),
        };
        let long = "database-primary-eu-central-1-replica-set-with-a-long-name";
        let shape = Shape {
            start: t(0),
            end: t(3600),
            resolved: None,
            rows: vec![Row {
                check: long.into(),
                first_failure: Some(t(10)),
                bands: vec![Band { from: t(10), to: None, shade: Shade::Down }],
            }],
            markers: vec![
                mark(2000, Milestone::Detected),
                mark(2001, Milestone::Acknowledged),
                mark(2002, Milestone::Mitigated),
                mark(3000, Milestone::Resolved),
            ],
        };
        let svg = picture(&shape).into_string();
        assert_eq!(svg.matches("class=\"marker-label\"").count(), 2, "{svg}");
        assert_eq!(svg.matches("class=\"marker\"").count(), 4, "every marker keeps its line: {svg}");
        assert!(svg.contains(">3M</text>"), "{svg}");
        assert!(svg.contains("01:33 detected\n01:33 acknowledged\n01:33 mitigated</title>"), "{svg}");
        assert!(svg.contains(&format!("<title>{long}</title>")), "the full name: {svg}");
        let label = svg.split("class=\"label\"").nth(1).unwrap();
        let shown = label.split("</title>").nth(1).unwrap().split("</text>").next().unwrap();
        assert!(crate::fit::width(shown) <= LABEL_CELLS && shown.contains('…'), "{shown}");
    }
}
