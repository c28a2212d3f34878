//! Reports and the status page from fixed journals: golden files, facts, and the status page
//! checked by an HTML validator and rendered by a real browser.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_warroom");

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn report(journal: &str, format: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["report", "--format", format])
        .arg(data(journal))
        .env("HOME", dir.path())
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn golden_reports() {
    // Journals written in today's format; every later change must keep reporting them alike.
    for journal in ["incident.jsonl", "drill.jsonl", "sources.jsonl"] {
        for format in ["md", "json", "html"] {
            let name = format!("report_{}_{format}", journal.trim_end_matches(".jsonl"));
            insta::assert_snapshot!(name, report(journal, format));
        }
    }
}

#[test]
fn the_report_says_what_happened() {
    let md = report("incident.jsonl", "md");
    assert!(md.starts_with("# Post-incident report: Mail delivery failing\n"), "{md}");
    assert!(md.contains("| Duration | 25m 00s |") && md.contains("| Commanders | alice, dave |"));
    assert!(md.contains("| 2026-11-21 01:06:40 UTC | commander | alice | dave | alice@bastion |"), "hand-over");
    assert!(md.contains("| acknowledged | 2026-11-21 00:53:20 UTC | 3m 20s |"), "{md}");
    assert!(md.contains("| smtp-transaction | down | 2026-11-21 00:51:40 UTC | 2026-11-21 01:06:00 UTC | 14m 20s | RCPT TO &lt;support@example.com&gt;: 451 4.3.0 Temporary lookup failure |"));
    assert!(md.contains("**missed**") && md.contains("| not due |"), "{md}");
    assert!(md.contains("FAILED: HTTP 500 Internal Server Error: upstream"));
    assert!(md.contains("★ INTERNAL: lookup daemon"), "pinned key event marked in the timeline");
    let json: serde_json::Value = serde_json::from_str(&report("incident.jsonl", "json")).unwrap();
    assert_eq!(json["schema"], "warroom-report/1");
    assert_eq!(json["drill"], false);
    assert_eq!(json["duration_s"], 1500);
    assert_eq!(json["key_times"][0]["name"], "first failing check");
    assert_eq!(json["outages"][0]["duration_s"], 860);
    assert_eq!(json["checklist"]["name"], "mail-delivery");
    assert_eq!(json["timeline"].as_array().unwrap().len(), 31);
}

#[test]
fn a_drill_report_is_marked_as_a_drill_in_every_format() {
    let md = report("drill.jsonl", "md");
    assert!(md.starts_with("> **DRILL** — this was a rehearsal (datacenter-fire)"), "{md}");
    assert!(md.contains("# Post-incident report: Datacenter fire: the critical server is gone (DRILL)"));
    let html = report("drill.jsonl", "html");
    assert!(html.contains("<title>Post-incident report: Datacenter fire: the critical server is gone (DRILL)</title>"));
    assert!(html.contains("<p class=\"drill\">DRILL"));
    let json: serde_json::Value = serde_json::from_str(&report("drill.jsonl", "json")).unwrap();
    assert_eq!((json["drill"].as_bool(), json["scenario"].as_str()), (Some(true), Some("datacenter-fire")));
}

#[test]
fn the_html_report_is_one_self_contained_file() {
    let html = report("incident.jsonl", "html");
    for external in ["<script", "src=\"http", "href=\"http", "<link"] {
        assert!(!html.contains(external), "{external}");
    }
    assert!(html.contains("&lt;support@example.com&gt;"), "text is escaped");
}

fn status_page(journal: &str, extra: &[&str]) -> (tempfile::TempDir, String, serde_json::Value) {
    status_page_in(tempfile::tempdir().unwrap(), journal, extra)
}

/// `warroom status-page` run in `dir` (where a test may have put a warroom.toml).
fn status_page_in(
    dir: tempfile::TempDir,
    journal: &str,
    extra: &[&str],
) -> (tempfile::TempDir, String, serde_json::Value) {
    let out = Command::new(BIN)
        .arg("status-page")
        .arg(data(journal))
        .arg("-o")
        .arg(dir.path().join("site"))
        .args(extra)
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("xdg"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(dir.path().join("site/index.html")).unwrap();
    let json = serde_json::from_slice(&std::fs::read(dir.path().join("site/status.json")).unwrap()).unwrap();
    (dir, html, json)
}

#[test]
fn the_status_page_shows_public_updates_and_never_internal_notes() {
    let (_dir, html, json) =
        status_page("incident.jsonl", &["--component", "smtp-transaction", "--component", "webmail"]);
    for internal in ["INTERNAL", "lookup daemon", "systemd", "Commander: alice", "support mailbox affected"] {
        assert!(!html.contains(internal), "internal text {internal:?} leaked into index.html");
        assert!(!json.to_string().contains(internal), "internal text {internal:?} leaked into status.json");
    }
    assert!(html.contains("Resolved: mail delivery is back to normal. No mail was lost."));
    assert!(!html.contains("upstream"), "a failed send is not an update");
    assert!(!html.contains("<script"));
    assert_eq!(json["components"].as_array().unwrap().len(), 2);
    assert_eq!(json["components"][0]["status"], "operational");
    assert_eq!(
        json["updates"][0]["text"], "Resolved: mail delivery is back to normal. No mail was lost.",
        "newest first"
    );
    assert_eq!(json["updates"].as_array().unwrap().len(), 2);
    assert!(html.contains("Times are UTC"));
}

/// Nothing is public unless chosen: by the config (`public = true`, `public_components`) or
/// by --component, which must name a check the journal has.
#[test]
fn the_status_page_shows_only_components_chosen_as_public() {
    let (_dir, _, json) = status_page("incident.jsonl", &[]);
    assert_eq!(json["components"].as_array().unwrap().len(), 0, "none chosen, none shown: {json}");

    let dir = tempfile::tempdir().unwrap();
    let cmd = |name: &str, public: &str| {
        format!("[[check]]\nname = \"{name}\"\nkind = \"command\"\ncommand = [\"true\"]\n{public}\n")
    };
    std::fs::write(
        dir.path().join("warroom.toml"),
        "public_components = [\"webmail\"]\n".to_string()
            + &cmd("smtp-transaction", "public = true")
            + &cmd("webmail", "")
            + &cmd("imap", "public = false"),
    )
    .unwrap();
    let run = |extra: &[&str]| {
        Command::new(BIN)
            .arg("status-page")
            .arg(data("incident.jsonl"))
            .args(["-o", "site"])
            .args(extra)
            .env("HOME", dir.path())
            .env("XDG_CONFIG_HOME", dir.path().join("xdg"))
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("site/status.json")).unwrap()).unwrap();
    let names: Vec<&str> = json["components"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["smtp-transaction", "webmail"]);

    let out = run(&["--component", "nosuch"]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--component \"nosuch\": no such component in this journal"), "{err}");
}

/// The incident's title is internal ("Mail delivery failing" may name a cause or a customer):
/// the page is headed by `--title`, the config's `public_title`, or a neutral "Service status".
#[test]
fn the_status_page_never_publishes_the_internal_title() {
    let internal = "Mail delivery failing";
    let (_dir, html, json) = status_page("incident.jsonl", &[]);
    assert!(!html.contains(internal) && !json.to_string().contains(internal), "{json}");
    assert!(html.contains("<title>Service status</title>") && html.contains("<h1>Service status</h1>"), "{html}");
    assert_eq!(json["title"], "Service status");

    let (_dir, html, json) = status_page("incident.jsonl", &["--title", "Example Mail <status>"]);
    assert!(html.contains("<h1>Example Mail &lt;status&gt;</h1>"), "{html}");
    assert_eq!(json["title"], "Example Mail <status>");

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("warroom.toml"), "public_title = \"Example Mail\"\n").unwrap();
    let (_dir, html, _) = status_page_in(dir, "incident.jsonl", &[]);
    assert!(html.contains("<h1>Example Mail</h1>") && !html.contains(internal), "{html}");
}

#[test]
fn a_drill_status_page_says_drill() {
    let (_dir, html, json) = status_page("drill.jsonl", &[]);
    assert!(html.contains("DRILL — this status page is part of a rehearsal"));
    assert_eq!(json["drill"], true);
}

#[test]
fn publish_command_runs_after_writing() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("published");
    let cmd = format!("cp -r \"$WARROOM_STATUS_DIR\" {}", copy.display());
    let (_d, _, _) = status_page("incident.jsonl", &["--publish-cmd", &cmd]);
    assert!(copy.join("index.html").exists());
    let failing = Command::new(BIN)
        .arg("status-page")
        .arg(data("incident.jsonl"))
        .arg("-o")
        .arg(dir.path().join("s2"))
        .args(["--publish-cmd", "exit 3"])
        .output()
        .unwrap();
    assert!(!failing.status.success());
    assert!(String::from_utf8_lossy(&failing.stderr).contains("--publish-cmd failed"));
}

#[test]
fn the_status_page_is_valid_html_and_renders_in_chromium() {
    let (dir, _html, _) = status_page("incident.jsonl", &["--component", "webmail"]);
    let index = dir.path().join("site/index.html");
    if let Some(tidy) = support::need("tidy", "tidy") {
        let out = Command::new(tidy).args(["-q", "-e", "--show-warnings", "yes"]).arg(&index).output().unwrap();
        let report = String::from_utf8_lossy(&out.stderr);
        // tidy exits 0 when clean, 1 with warnings, 2 with errors.
        assert_eq!(out.status.code(), Some(0), "tidy found problems:\n{report}");
    }
    let Some(chromium) = support::need("chromium", "chromium") else { return };
    let png = dir.path().join("status.png");
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
        .args([
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=390,844",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", index.display()))
        .output()
        .unwrap();
    assert!(png.exists(), "no screenshot: {}", String::from_utf8_lossy(&out.stderr));
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert!(bytes.len() > 5_000, "the page rendered almost nothing ({} bytes)", bytes.len());
    if let Ok(keep) = std::env::var("WARROOM_KEEP_SCREENSHOT") {
        std::fs::copy(&png, keep).unwrap();
    }
}

fn journal_line(kind_and_fields: &str) -> String {
    format!("{{\"v\":1,\"id\":\"x\",\"ts\":\"2026-11-21T00:50:00.000Z\",\"author\":\"alice\",{kind_and_fields}}}\n")
}

/// A journal is data, possibly another user's: the checklist path it names is never opened.
/// `/dev/zero` once made `report` read until memory ran out (5 GB and counting).
#[test]
fn a_checklist_path_named_by_the_journal_is_never_read() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("j.jsonl");
    std::fs::write(
        &journal,
        journal_line(r#""kind":"incident_opened","title":"t","severity":2,"checklist":"/dev/zero""#)
            + &journal_line(r#""kind":"note_added","text":"still reported""#),
    )
    .unwrap();
    let run = support::proc::run_with_memory_cap(
        Command::new(BIN)
            .args(["report", "--checklist", "mail-delivery"])
            .arg(&journal)
            .env("HOME", dir.path())
            .current_dir(dir.path()),
        256.0,
    );
    let (stdout, stderr) = (String::from_utf8_lossy(&run.output.stdout), String::from_utf8_lossy(&run.output.stderr));
    assert!(!run.killed_over_cap && run.output.status.success(), "{:?} {stderr}", run.output.status);
    assert!(run.peak_rss_mib < 64.0, "peak RSS {:.1} MiB", run.peak_rss_mib);
    assert!(stderr.contains("names checklist \"/dev/zero\", which is not a built-in one"), "{stderr}");
    assert!(stdout.contains("## Checklist: mail-delivery"), "the command line's checklist is used instead: {stdout}");
    assert!(stdout.contains("still reported"), "{stdout}");
}

#[test]
fn html_in_a_probe_detail_or_a_note_is_escaped_in_the_markdown_report() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("j.jsonl");
    std::fs::write(
        &journal,
        journal_line(r#""kind":"incident_opened","title":"<b>t</b>","severity":2"#)
            + &journal_line(
                r#""kind":"check_changed","check":"web","from":"up","to":"down","detail":"HTTP 500: <script>alert(1)</script> & more""#,
            )
            + &journal_line(r#""kind":"note_added","text":"see <img src=x onerror=alert(2)> | here""#),
    )
    .unwrap();
    let out = Command::new(BIN).arg("report").arg(&journal).env("HOME", dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let md = String::from_utf8(out.stdout).unwrap();
    for raw in ["<script", "<img", "<b>"] {
        assert!(!md.contains(raw), "{raw} passed into the Markdown:\n{md}");
    }
    assert!(md.contains("# Post-incident report: &lt;b&gt;t&lt;/b&gt;"), "{md}");
    assert!(md.contains("HTTP 500: &lt;script&gt;alert(1)&lt;/script&gt; &amp; more |"), "outage table:\n{md}");
    assert!(md.contains("web → down: HTTP 500: &lt;script&gt;alert(1)&lt;/script&gt; &amp; more |"), "timeline:\n{md}");
    assert!(md.contains("see &lt;img src=x onerror=alert(2)&gt; \\| here"), "{md}");
}

/// `replay` judges nothing by the journal's checklist either: it shows the built-in default (or
/// the one named on the command line or in the config), never a path the journal names.
#[test]
fn replay_never_reads_a_checklist_path_named_by_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("j.jsonl"),
        journal_line(r#""kind":"incident_opened","title":"replayed incident","severity":2,"checklist":"/dev/zero""#)
            + &journal_line(r#""kind":"note_added","text":"still replayed""#),
    )
    .unwrap();
    let pid_file = dir.path().join("replay.pid");
    let program = format!("env HOME={0} XDG_CONFIG_HOME={0}/xdg {BIN} replay j.jsonl", dir.path().display());
    let cmd = support::proc::exec_recording_pid(&pid_file, &program);
    let Some(t) = support::tmux::Tmux::start(160, 48, &cmd, dir.path()) else { return };
    let screen = t.wait_for("still replayed", std::time::Duration::from_secs(10));
    assert!(screen.contains("Brief the incident team"), "the default checklist is shown:\n{screen}");
    let pid = support::proc::recorded_pid(&pid_file);
    let rss = support::proc::rss_mib(&pid.to_string());
    assert!(rss < 64.0, "replay holds {rss:.1} MiB");
    t.keys(&["q"]);
}

/// `report`, `status-page` and `replay` find their journal as `log` does: named with -j, or
/// the current incident of the journal directory when none is named.
#[test]
fn review_verbs_take_dash_j_and_default_to_the_current_incident() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    std::fs::write(home.join("warroom.toml"), format!("journal_dir = \"{}/journals\"\n", home.display())).unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(BIN)
            .args(args)
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join("xdg"))
            .current_dir(home)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let current = run(&["open", "the", "current", "one"]);
    let current = current.trim();
    // An older incident, named with -j: it must be the one read, not the current one.
    std::fs::write(
        home.join("older.jsonl"),
        journal_line(r#""kind":"incident_opened","title":"an older one","severity":2"#),
    )
    .unwrap();

    assert!(run(&["report"]).contains("# Post-incident report: the current one"));
    assert!(run(&["report", "-j", "older.jsonl"]).contains("# Post-incident report: an older one"));

    // The page never shows the incident's title: which journal it read shows in when it began.
    let older_start = "2026-11-21 00:50:00 UTC";
    run(&["status-page", "-o", "site"]);
    let page = std::fs::read_to_string(home.join("site/index.html")).unwrap();
    assert!(page.contains("the incident began") && !page.contains(older_start), "{page}");
    run(&["status-page", "-j", "older.jsonl", "-o", "older-site"]);
    let page = std::fs::read_to_string(home.join("older-site/index.html")).unwrap();
    assert!(page.contains(older_start) && !page.contains("an older one"), "{page}");

    for (args, title) in [("", "the current one"), ("-j older.jsonl", "an older one")] {
        let program = format!("env HOME={0} XDG_CONFIG_HOME={0}/xdg {BIN} replay {args}", home.display());
        let Some(t) = support::tmux::Tmux::start(160, 48, &program, home) else { return };
        let screen = t.wait_for(title, std::time::Duration::from_secs(10));
        assert!(screen.contains(title), "{current}: {screen}");
        t.keys(&["q"]);
    }
}
