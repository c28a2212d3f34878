//! The shape of the outage in the report and on the status page, from the storage-cascade drill
//! journal: the report's SVG parsed as XML and compared with the journal's own times, the Markdown
//! picture, and both pages laid out by headless Chromium.
//!
//! The pages carry no script. To measure what Chromium laid out, each test writes a wrapper page
//! of its own beside the page under test: an iframe of the width asked for (the page's viewport)
//! and a script that, once the iframe has loaded, writes the measurements into the wrapper's DOM,
//! which `--dump-dom` prints.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, Utc};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_warroom");
const JOURNAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/storage-cascade.jsonl");

fn warroom(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).env("HOME", dir).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The journal's entries as plain JSON, read here without warroom's code.
fn entries() -> Vec<Value> {
    std::fs::read_to_string(JOURNAL).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn ts(e: &Value) -> DateTime<Utc> {
    e["ts"].as_str().unwrap().parse().unwrap()
}

/// A check and its state changes: (state, when).
type ExpectedRow = (String, Vec<(String, DateTime<Utc>)>);

/// Each check's state changes from the journal, same-state repeats dropped, checks in the order
/// they first failed.
fn expected_rows() -> Vec<ExpectedRow> {
    let mut rows: Vec<ExpectedRow> = Vec::new();
    for e in entries().iter().filter(|e| e["kind"] == "check_changed") {
        let (check, to) = (e["check"].as_str().unwrap(), e["to"].as_str().unwrap().to_string());
        let i = rows.iter().position(|(c, _)| c == check).unwrap_or_else(|| {
            rows.push((check.to_string(), Vec::new()));
            rows.len() - 1
        });
        if rows[i].1.last().is_none_or(|(s, _)| *s != to) {
            rows[i].1.push((to, ts(e)));
        }
    }
    let first_failure = |bands: &[(String, DateTime<Utc>)]| bands.iter().find(|(s, _)| s != "up").map(|(_, t)| *t);
    rows.sort_by_key(|(_, bands)| (first_failure(bands).is_none(), first_failure(bands)));
    rows
}

fn svg_of(html: &str) -> &str {
    let start = html.find("<svg").expect("the report has an SVG picture");
    let end = html[start..].find("</svg>").expect("the SVG is closed") + start + "</svg>".len();
    &html[start..end]
}

#[test]
fn the_report_svg_is_well_formed_and_follows_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let html = warroom(dir.path(), &["report", "--format", "html", JOURNAL]);
    assert!(!html.contains("<script"), "the report has no script");
    let svg = svg_of(&html);
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("the SVG is not well-formed XML: {e}\n{svg}"));
    let bands: Vec<(String, String, f64, f64)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("class").is_some_and(|c| c.split(' ').any(|c| c == "band")))
        .map(|n| {
            let num = |a: &str| n.attribute(a).unwrap().parse::<f64>().unwrap();
            (
                n.attribute("data-check").unwrap().to_string(),
                n.attribute("data-state").unwrap().to_string(),
                num("x"),
                num("y"),
            )
        })
        .collect();
    let expected = expected_rows();
    // Rows: top to bottom in the order the journal says the checks first failed.
    let mut drawn: Vec<(&str, f64)> = Vec::new();
    for (check, _, _, y) in &bands {
        if !drawn.iter().any(|(c, _)| c == check) {
            drawn.push((check, *y));
        }
    }
    drawn.sort_by(|a, b| a.1.total_cmp(&b.1));
    let order: Vec<&str> = drawn.iter().map(|(c, _)| *c).collect();
    let want: Vec<&str> = expected.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(order, want, "rows in failure order");
    assert_eq!(want[0], "site", "the cascade starts with the site slowing down");
    // Bands: each check's states in the journal's order, and x an increasing affine function of
    // the journal's times (one scale for every row: the axis is shared).
    let mut points: Vec<(DateTime<Utc>, f64)> = Vec::new();
    for (check, changes) in &expected {
        let row: Vec<(&str, f64)> = bands.iter().filter(|b| b.0 == *check).map(|b| (b.1.as_str(), b.2)).collect();
        let states: Vec<&str> = changes.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(row.iter().map(|b| b.0).collect::<Vec<_>>(), states, "{check}'s bands");
        points.extend(changes.iter().zip(&row).map(|((_, t), (_, x))| (*t, *x)));
    }
    points.sort_by_key(|p| p.0);
    let (first, last) = (points[0], points[points.len() - 1]);
    let scale = (last.1 - first.1) / (last.0 - first.0).num_milliseconds() as f64;
    assert!(scale > 0.0, "later is further right");
    for (t, x) in &points {
        let want = first.1 + (*t - first.0).num_milliseconds() as f64 * scale;
        assert!((x - want).abs() < 0.2, "a band starting at {t} is at x={x}, the axis puts it at {want:.1}");
    }
    // The first failure of all is the leftmost failing band.
    let failing_x =
        |check: &str| bands.iter().filter(|b| b.0 == check && b.1 != "up").map(|b| b.2).fold(f64::MAX, f64::min);
    for (check, _) in &expected[1..] {
        assert!(failing_x("site") < failing_x(check), "site's failure starts left of {check}'s");
    }
    // A marker for each milestone and each message sent.
    let marks: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name("g") && n.attribute("class") == Some("marker"))
        .map(|g| g.descendants().find(|n| n.has_tag_name("title")).and_then(|t| t.text()).unwrap_or("").to_string())
        .collect();
    for want in ["detected", "acknowledged", "mitigated", "resolved"] {
        assert!(marks.iter().any(|m| m.ends_with(want)), "{want} marked: {marks:?}");
    }
    let sent = entries().iter().filter(|e| e["kind"] == "message_sent" && e["error"].is_null()).count();
    assert_eq!(marks.iter().filter(|m| m.contains("message on")).count(), sent, "one marker per message sent");
}

#[test]
fn the_markdown_report_draws_the_shape_in_unicode_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let md = warroom(dir.path(), &["report", JOURNAL]);
    let picture = md.split("```text\n").nth(1).and_then(|p| p.split("```").next()).expect("a text picture");
    let rows: Vec<&str> = picture.lines().filter(|l| l.contains('░')).collect();
    let names: Vec<&str> = rows.iter().map(|l| l.split('│').next().unwrap().trim()).collect();
    assert_eq!(names, ["site", "api", "storage", "relay"], "{picture}");
    let start = |l: &str| l.split('│').nth(1).unwrap().chars().position(|c| "▒▓█".contains(c)).unwrap();
    // At 68 columns for 42 minutes a column is 37 s: api slowed 20 s after the site, in the same one.
    assert!(rows[1..].iter().all(|r| start(rows[0]) <= start(r)), "{picture}");
    assert!(start(rows[0]) < start(rows[2]) && start(rows[2]) < start(rows[3]), "{picture}");
    // The site was slow first, then down with a 503: two rows, each with its own start and cause.
    assert!(
        md.contains("| site | degraded | 2026-11-26 00:23:22 UTC | 2026-11-26 00:25:22 UTC | 2m 00s | slow: 1800 ms"),
        "{md}"
    );
    assert!(
        md.contains("| site | down | 2026-11-26 00:25:22 UTC | 2026-11-26 01:02:42 UTC | 37m 19s | HTTP 503"),
        "{md}"
    );
}

/// Journal text in the picture is text, never markup: names and labels are escaped in the SVG.
#[test]
fn hostile_check_names_stay_text_in_the_svg_and_the_markdown_picture() {
    let dir = tempfile::tempdir().unwrap();
    let line = |ts: &str, body: &str| {
        format!("{{\"v\":1,\"id\":\"{ts}\",\"ts\":\"2026-11-21T00:{ts}.000Z\",\"author\":\"a\",{body}}}\n")
    };
    let journal = dir.path().join("j.jsonl");
    std::fs::write(
        &journal,
        line("50:00", r#""kind":"incident_opened","title":"t","severity":2"#)
            + &line(
                "50:10",
                r#""kind":"check_changed","check":"<script>x</script>\"'&","from":"unknown","to":"down","detail":"d""#,
            )
            + &line(
                "50:20",
                r#""kind":"check_changed","check":"```\n<img src=x>","from":"unknown","to":"down","detail":"d""#,
            ),
    )
    .unwrap();
    let html = warroom(dir.path(), &["report", "--format", "html", journal.to_str().unwrap()]);
    let svg = svg_of(&html);
    roxmltree::Document::parse(svg).expect("well-formed with hostile names");
    assert!(!html.contains("<script>") && !html.contains("<img"), "{svg}");
    assert!(svg.contains("&lt;script&gt;x&lt;/script&gt;&quot;'&amp;"), "{svg}");
    let md = warroom(dir.path(), &["report", journal.to_str().unwrap()]);
    let picture = md.split("```text\n").nth(1).unwrap().split("\n```").next().unwrap();
    assert!(!picture.contains("```"), "a name cannot close the code block:\n{md}");
}

// ---------------------------------------------------------------------------------------
// In Chromium

/// `page` laid out by headless Chromium in an iframe `width` CSS pixels wide; `measure` is a
/// JavaScript expression over `d` (the page's document) and `w` (its window) whose JSON value is
/// returned. `None` (skip, said visibly) without Chromium outside CI.
fn in_chromium(page: &Path, width: u32, measure: &str) -> Option<Value> {
    let chromium = support::need("chromium", "chromium")?;
    let wrapper = page.with_file_name(format!("measure-{width}.html"));
    let name = page.file_name().unwrap().to_str().unwrap();
    std::fs::write(
        &wrapper,
        format!(
            "<!DOCTYPE html><html><body style=\"margin:0\">\
             <iframe id=\"f\" src=\"{name}\" style=\"width:{width}px;height:900px;border:0\"></iframe>\
             <script>window.addEventListener('load', () => {{\
               const f = document.getElementById('f'), d = f.contentDocument, w = f.contentWindow;\
               const out = document.createElement('pre'); out.id = 'measure';\
               out.textContent = JSON.stringify({measure}); document.body.appendChild(out);\
             }});</script></body></html>"
        ),
    )
    .unwrap();
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new("timeout")
        .arg("120")
        .arg(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
        // The wrapper reads the framed page's DOM: two file:// pages count as one origin only so.
        .args(["--allow-file-access-from-files", "--hide-scrollbars", "--window-size=1400,1000"])
        .arg("--virtual-time-budget=5000")
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", wrapper.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let json =
        dom.split("<pre id=\"measure\">").nth(1).and_then(|rest| rest.split("</pre>").next()).unwrap_or_else(|| {
            panic!("no measurement in the DOM Chromium dumped:\n{dom}\n{}", String::from_utf8_lossy(&out.stderr))
        });
    let json = json.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
    Some(serde_json::from_str(&json).unwrap())
}

#[test]
fn chromium_draws_the_report_picture_with_bands_in_failure_order() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    warroom(dir.path(), &["report", "--format", "html", "-o", page.to_str().unwrap(), JOURNAL]);
    let measure = "(() => { const s = d.querySelector('svg.shape').getBoundingClientRect();\
        const bands = [...d.querySelectorAll('rect.band')].filter(b => b.dataset.state !== 'up').map(b => {\
          const r = b.getBoundingClientRect(); return {check: b.dataset.check, x: r.x, y: r.y, w: r.width, h: r.height}; });\
        const lines = [...d.querySelectorAll('td time')].map(t => t.getClientRects().length);\
        return {w: s.width, h: s.height, bands, lines}; })()";
    let Some(m) = in_chromium(&page, 1000, measure) else { return };
    assert!(m["w"].as_f64().unwrap() > 300.0 && m["h"].as_f64().unwrap() > 100.0, "the picture has a size: {m}");
    // Times in the tables fit on one line each (a wrapped inline element has a box per line).
    let lines = m["lines"].as_array().unwrap();
    assert!(lines.len() > 20 && lines.iter().all(|n| n == 1), "a time wrapped: {m}");
    let bands = m["bands"].as_array().unwrap();
    assert!(bands.iter().all(|b| b["w"].as_f64().unwrap() > 0.0 && b["h"].as_f64().unwrap() > 0.0), "{m}");
    // Each check's first failing band, as laid out on the page.
    let mut firsts: Vec<(String, f64, f64)> = Vec::new();
    for b in bands {
        let check = b["check"].as_str().unwrap().to_string();
        if !firsts.iter().any(|f| f.0 == check) {
            firsts.push((check, b["x"].as_f64().unwrap(), b["y"].as_f64().unwrap()));
        }
    }
    let mut top_down = firsts.clone();
    top_down.sort_by(|a, b| a.2.total_cmp(&b.2));
    let mut left_right = firsts.clone();
    left_right.sort_by(|a, b| a.1.total_cmp(&b.1));
    let want: Vec<String> = expected_rows().into_iter().map(|(c, _)| c).collect();
    assert_eq!(top_down.iter().map(|f| &f.0).collect::<Vec<_>>(), want.iter().collect::<Vec<_>>(), "rows: {m}");
    assert_eq!(left_right.iter().map(|f| &f.0).collect::<Vec<_>>(), want.iter().collect::<Vec<_>>(), "starts: {m}");
}

/// On a phone (360 px) the report's page never runs off the right edge: wide tables and the
/// picture scroll sideways in their own boxes, and the picture's letters stay readable.
#[test]
fn the_html_report_at_360_pixels_scrolls_tables_and_picture_in_their_boxes() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    warroom(dir.path(), &["report", "--format", "html", "-o", page.to_str().unwrap(), JOURNAL]);
    let measure = "({doc: d.documentElement.scrollWidth, viewport: w.innerWidth,\
        svg: d.querySelector('svg.shape').getBoundingClientRect().width,\
        wrapped: [...d.querySelectorAll('table')].every(t => t.parentElement.classList.contains('scroll')),\
        boxes: [...d.querySelectorAll('.scroll, .picture')].map(b => b.getBoundingClientRect().right)})";
    let Some(m) = in_chromium(&page, 360, measure) else { return };
    assert_eq!(m["doc"], m["viewport"], "the page is as wide as the phone: {m}");
    assert_eq!(m["wrapped"], true, "{m}");
    assert!(m["boxes"].as_array().unwrap().iter().all(|r| r.as_f64().unwrap() <= 360.0), "{m}");
    // 12 units of text in a 1000-unit picture: at least 8 px when it is 46rem wide.
    let svg = m["svg"].as_f64().unwrap();
    assert!(svg * 12.0 / 1000.0 >= 8.0, "the picture's text is {:.1} px: {m}", svg * 12.0 / 1000.0);
}

/// The journal up to `until` (all of it with `None`), plus `extra` lines, as a file in `dir`.
fn journal_until(dir: &Path, until: Option<&str>, extra: &str) -> PathBuf {
    let until: Option<DateTime<Utc>> = until.map(|u| u.parse().unwrap());
    let kept: String = std::fs::read_to_string(JOURNAL)
        .unwrap()
        .lines()
        .filter(|l| until.is_none_or(|u| ts(&serde_json::from_str(l).unwrap()) <= u))
        .map(|l| format!("{l}\n"))
        .collect();
    let path = dir.join("j.jsonl");
    std::fs::write(&path, kept + extra).unwrap();
    path
}

fn status_page(dir: &Path, journal: &Path) -> PathBuf {
    let site = dir.join("site");
    warroom(
        dir,
        &[
            "status-page",
            journal.to_str().unwrap(),
            "-o",
            site.to_str().unwrap(),
            "--component",
            "site",
            "--component",
            "api",
        ],
    );
    site.join("index.html")
}

const PAGE_MEASURE: &str = "({doc: d.documentElement.scrollWidth, viewport: w.innerWidth,\
    banner: d.getElementById('banner').innerText, key: (d.querySelector('.bar-key') || {}).innerText || '', bars: [...d.querySelectorAll('.bar')].map(b => b.getBoundingClientRect().width)})";

#[test]
fn the_status_page_fits_360_and_1200_pixels_and_says_resolved_once_resolved() {
    let dir = tempfile::tempdir().unwrap();
    // Mid-incident, with a public update holding a long unbroken address, the kind that pushes
    // a phone's page sideways.
    let long = format!("https://status.example.org/incidents/{}", "x".repeat(120));
    let update = format!(
        "{{\"v\":1,\"id\":\"u1\",\"ts\":\"2026-11-26T00:34:00.000Z\",\"author\":\"alice@bastion\",\"kind\":\"message_sent\",\
         \"channel\":\"status-page\",\"audience\":\"public\",\"text\":\"Details: {long}\",\"simulated\":true}}\n"
    );
    let during = dir.path().join("during");
    std::fs::create_dir(&during).unwrap();
    let page = status_page(&during, &journal_until(&during, Some("2026-11-26T00:35:00Z"), &update));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("<script"), "no JavaScript");
    let after = dir.path().join("after");
    std::fs::create_dir(&after).unwrap();
    let resolved = status_page(&after, &journal_until(&after, None, ""));
    for width in [360, 1200] {
        let Some(m) = in_chromium(&page, width, PAGE_MEASURE) else { return };
        assert_eq!(m["viewport"], width, "{m}");
        assert_eq!(m["doc"], width, "the document is as wide as the viewport at {width} px: {m}");
        // The site down, the api only slow: a partial outage, not a major one.
        assert!(m["banner"].as_str().unwrap().contains("Partial outage"), "{m}");
        assert!(m["key"].as_str().unwrap().contains("major outage"), "the bar colours in words: {m}");
        let bars = m["bars"].as_array().unwrap();
        assert!(bars.len() == 2 && bars.iter().all(|b| b.as_f64().unwrap() > width as f64 / 2.0), "{m}");

        let m = in_chromium(&resolved, width, PAGE_MEASURE).unwrap();
        assert_eq!(m["doc"], width, "{m}");
        let banner = m["banner"].as_str().unwrap();
        assert!(banner.contains("Resolved") && banner.contains("resolved at 2026-11-26 01:05:10 UTC"), "{m}");
    }
}

/// The report with its picture is valid HTML to an HTML validator (tidy), as the status page is.
#[test]
fn the_report_with_its_picture_is_valid_html() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    warroom(dir.path(), &["report", "--format", "html", "-o", page.to_str().unwrap(), JOURNAL]);
    let Some(tidy) = support::need("tidy", "tidy") else { return };
    let out = Command::new(tidy).args(["-q", "-e", "--show-warnings", "yes"]).arg(&page).output().unwrap();
    // tidy exits 0 when clean, 1 with warnings, 2 with errors.
    assert_eq!(out.status.code(), Some(0), "tidy found problems:\n{}", String::from_utf8_lossy(&out.stderr));
}
