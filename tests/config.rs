//! Config parsing: the documented shape parses; every mistake is located by file, line,
//! column and field.

use std::path::Path;
use std::time::Duration;

use warroom::config::{ConfigError, parse};
use warroom::probe::{ProbeSpec, RecordType, StartTls, StatusRange};

fn err(text: &str) -> ConfigError {
    parse(text, Path::new("warroom.toml")).expect_err("config should be rejected")
}

const DOCUMENTED: &str = r#"
journal_dir = "/srv/incidents"
theme = "light"
checklist = "mail-delivery"
update_every = "20m"

[incident]
title = "Mail delivery"
severity = 2

[[check]]
name = "web"                 # unique, shown on screen
kind = "http"
url = "https://example.com/health"
interval = "10s"
timeout = "5s"
expect_status = ["2xx", 301]
body_contains = "ok"
json = { "status" = "ok" }
header = { "content-type" = "application/json" }
degraded_over = "800ms"

[[check]]
name = "mail"
kind = "smtp"
host = "mx.example.com"
port = 25
helo = "warroom.example.com"
mail_from = "probe@example.com"
rcpt_to = ["support@example.com"]
starttls = "optional"        # required | optional | off
depends_on = ["dns"]

[[check]]
name = "dns"
kind = "dns"
query = "example.com"
record = "MX"
server = "192.0.2.53:53"     # optional; system resolver otherwise
expect = ["mail.example.com"]

[[check]]
name = "imap-port"
kind = "tcp"
host = "mx.example.com"
port = 993

[[check]]
name = "postfix"
kind = "command"
command = ["systemctl", "is-active", "postfix"]

[[check]]
name = "cert"
kind = "tls"
host = "example.com"
"#;

#[test]
fn the_documented_example_parses_into_typed_checks() {
    let c = parse(DOCUMENTED, Path::new("warroom.toml")).unwrap();
    assert_eq!(c.theme.as_deref(), Some("light"));
    assert_eq!(c.update_every, Some(Duration::from_secs(1200)));
    assert_eq!(c.incident_severity, Some(2));
    assert_eq!(c.checks.len(), 6);
    let web = &c.checks[0];
    assert_eq!(web.schedule.interval, Duration::from_secs(10));
    assert_eq!(web.schedule.timeout, Duration::from_secs(5));
    assert_eq!(web.schedule.fail_after, 2);
    assert_eq!(web.schedule.recover_after, 1);
    let ProbeSpec::Http(h) = &web.probe else { panic!() };
    assert_eq!(h.expect_status, vec![StatusRange { low: 200, high: 299 }, StatusRange { low: 301, high: 301 }]);
    assert_eq!(h.json, vec![("status".to_string(), serde_json::json!("ok"))]);
    assert_eq!(h.degraded_over, Some(Duration::from_millis(800)));
    assert_eq!(h.max_body, 1 << 20);
    assert!(h.follow_redirects);
    let mail = &c.checks[1];
    assert_eq!(mail.depends_on, vec!["dns"]);
    assert_eq!(mail.schedule.interval, Duration::from_secs(30), "default interval");
    let ProbeSpec::Smtp(s) = &mail.probe else { panic!() };
    assert_eq!((s.port, s.starttls, s.rcpt_to.len()), (25, StartTls::Optional, 1));
    let ProbeSpec::Dns(d) = &c.checks[2].probe else { panic!() };
    assert_eq!((d.record, d.server.unwrap().port(), d.rcode.as_str()), (RecordType::Mx, 53, "NOERROR"));
    let ProbeSpec::Tls(t) = &c.checks[5].probe else { panic!() };
    assert_eq!((t.port, t.cert_warn_days), (443, 14));
}

#[test]
fn errors_name_file_line_column_and_field() {
    // (config, line, column, field, words the message must contain)
    let cases: &[(&str, usize, usize, &str, &str)] = &[
        ("theme = 3\n", 1, 9, "theme", "invalid type"),
        (
            "[[check]]\nname = \"a\"\nkind = \"tcp\"\nhost = \"h\"\nport = 1\ninterval = \"10 parsecs\"\n",
            6,
            12,
            "interval",
            "not a duration",
        ),
        (
            "[[check]]\nname = \"a\"\nkind = \"http\"\nurl = \"http://h/\"\nbody_contians = \"ok\"\n",
            5,
            1,
            "body_contians",
            "unknown field",
        ),
        ("[[check]]\nname = \"a\"\nkind = \"http\"\n", 2, 8, "url", "an http check needs `url`"),
        ("[[check]]\nname = \"a\"\nkind = \"gopher\"\n", 3, 1, "kind", "unknown kind \"gopher\""),
        (
            "[[check]]\nname = \"a\"\nkind = \"tcp\"\nhost = \"h\"\nport = 1\nurl = \"http://x/\"\n",
            6,
            1,
            "url",
            "does not apply to a tcp check",
        ),
        (
            "[[check]]\nname = \"a\"\nkind = \"tcp\"\nhost = \"h\"\nport = 1\n\n[[check]]\nname = \"a\"\nkind = \"tcp\"\nhost = \"h\"\nport = 2\n",
            8,
            1,
            "name",
            "already has this name",
        ),
        ("[[check]]\nname = \"a\"\nkind = \"http\"\nurl = \"ftp://h/\"\n", 4, 1, "url", "http:// or https://"),
        (
            "[[check]]\nname = \"a\"\nkind = \"http\"\nurl = \"http://h/\"\nheaders = { \"Bad Header\" = \"x\" }\n",
            5,
            1,
            "headers",
            "\"Bad Header\" is not a header name",
        ),
        (
            "[[check]]\nname = \"a\"\nkind = \"http\"\nurl = \"http://h/\"\nheaders = { X-Id = \"a\\r\\nInjected: 1\" }\n",
            5,
            1,
            "headers",
            "line break or control character",
        ),
        (
            "[[check]]\nname = \"a\"\nkind = \"http\"\nurl = \"http://h/\"\nheaders = { Transfer-Encoding = \"chunked\" }\n",
            5,
            1,
            "headers",
            "\"Transfer-Encoding\" is set by warroom from `body`",
        ),
        (
            "[[check]]\nname = \"a\"\nkind = \"http\"\nurl = \"http://h/\"\nexpect_status = [\"6xx\"]\n",
            5,
            1,
            "expect_status",
            "`6xx`",
        ),
        (
            "[[check]]\nname = \"m\"\nkind = \"smtp\"\nhost = \"h\"\nmail_from = \"a@b\"\n",
            2,
            8,
            "rcpt_to",
            "at least one recipient",
        ),
        (
            "[[check]]\nname = \"m\"\nkind = \"smtp\"\nhost = \"h\"\nmail_from = \"a@b\"\nrcpt_to = [\"c@d\"]\nstarttls = \"maybe\"\n",
            7,
            1,
            "starttls",
            "required, optional or off",
        ),
        ("[[check]]\nname = \"d\"\nkind = \"dns\"\nquery = \"x\"\nrecord = \"SRV\"\n", 5, 1, "record", "A, AAAA, MX"),
        (
            "[[check]]\nname = \"d\"\nkind = \"dns\"\nquery = \"x\"\nserver = \"localhost\"\n",
            5,
            1,
            "server",
            "address:port",
        ),
        (
            "[[check]]\nname = \"t\"\nkind = \"tcp\"\nhost = \"h\"\nport = 1\ndepends_on = [\"ghost\"]\n",
            6,
            1,
            "depends_on",
            "\"ghost\"",
        ),
        (
            "[[check]]\nname = \"t\"\nkind = \"tcp\"\nhost = \"h\"\nport = 1\nexpect_reply = \"(\"\n",
            6,
            1,
            "expect_reply",
            "not a valid pattern",
        ),
        ("[[check]]\nname = \"t\"\nkind = \"tcp\"\nhost = \"h\"\nport = 70000\n", 5, 8, "port", ""),
        ("[[check]]\nname = \"c\"\nkind = \"command\"\ncommand = []\n", 4, 1, "command", "needs `command"),
        (
            "[[check]]\nname = \"t\"\nkind = \"tcp\"\nhost = \"h\"\nport = 1\nfail_after = 0\n",
            6,
            1,
            "fail_after",
            "at least 1",
        ),
        ("[incident]\nseverity = 9\n", 2, 12, "severity", "1 (worst) to 5"),
        ("[[check]\n", 1, 9, "", "expected `]`"),
    ];
    for (text, line, column, field, words) in cases {
        let e = err(text);
        let shown = e.to_string();
        assert_eq!((e.line, e.column), (*line, *column), "wrong place for:\n{text}\n{shown}");
        if !field.is_empty() {
            assert_eq!(e.field.as_deref(), Some(*field), "wrong field for:\n{text}\n{shown}");
        }
        assert!(shown.starts_with(&format!("warroom.toml:{line}:{column}: ")), "{shown}");
        assert!(shown.contains(words), "message lacks {words:?}:\n{shown}");
    }
}

#[test]
fn attention_is_off_unless_asked_for_and_unknown_keys_are_named() {
    let p = Path::new("w.toml");
    let off = parse("", p).unwrap().attention;
    assert!(!off.bell && !off.title);
    let on = parse("[attention]\nbell = true\n", p).unwrap().attention;
    assert!(on.bell && !on.title);
    let e = err("[attention]\nbel = true\n");
    assert_eq!(e.line, 2, "{e}");
    assert!(e.to_string().contains("bel"), "{e}");
}

#[test]
fn checklist_order_is_due_or_file_and_anything_else_is_named() {
    use warroom::checklist::Order;
    let p = Path::new("w.toml");
    assert_eq!(parse("", p).unwrap().screen.checklist_order, Order::Due);
    assert_eq!(parse("[screen]\nchecklist_order = \"file\"\n", p).unwrap().screen.checklist_order, Order::File);
    let e = err("theme = \"dark\"\n\n[screen]\nchecklist_order = \"deadline\"\n");
    assert_eq!((e.file.as_path(), e.line), (Path::new("warroom.toml"), 4), "{e}");
    assert_eq!(e.field.as_deref(), Some("checklist_order"), "{e}");
    assert!(e.message.contains("`due`") && e.message.contains("`file`"), "{e}");
}

#[test]
fn public_components_are_chosen_per_check_or_listed_and_must_be_checks() {
    let cmd = |name: &str, extra: &str| {
        format!("[[check]]\nname = \"{name}\"\nkind = \"command\"\ncommand = [\"true\"]\n{extra}\n")
    };
    let text = "public_components = [\"b\"]\n".to_string()
        + &cmd("a", "public = true")
        + &cmd("b", "")
        + &cmd("c", "public = false");
    let config = parse(&text, Path::new("warroom.toml")).unwrap();
    assert_eq!(config.public_components, ["a", "b"]);
    let e = err(&("public_components = [\"nosuch\"]\n".to_string() + &cmd("a", "")));
    assert_eq!((e.line, e.field.as_deref()), (1, Some("public_components")), "{e}");
    assert!(e.message.contains("\"nosuch\" is not a configured check"), "{e}");
}

#[test]
fn quick_confirmation_and_the_alertmanager_webhook_are_configured_per_check() {
    let am = "[[check]]\nname = \"alerts\"\nkind = \"alertmanager\"\nurl = \"http://127.0.0.1:9093\"\n";
    let config = parse(&format!("{am}listen = \"127.0.0.1:9099\"\ntoken_env = \"AM_TOKEN\"\n"), Path::new("w.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let ProbeSpec::Alertmanager(spec) = &config.checks[0].probe else { panic!() };
    let push = spec.push.as_ref().expect("push configured");
    assert_eq!((push.listen.to_string().as_str(), push.token_env.as_str()), ("127.0.0.1:9099", "AM_TOKEN"));
    assert_eq!(config.checks[0].schedule.first_retry, Duration::from_millis(250), "the documented default");
    let cases: &[(String, &str, &str)] = &[
        (format!("{am}listen = \"127.0.0.1:9099\"\n"), "listen", "needs `token_env`"),
        (format!("{am}token_env = \"T\"\n"), "token_env", "only used with `listen"),
        (format!("{am}listen = \"localhost\"\ntoken_env = \"T\"\n"), "listen", "not an address and port"),
        (format!("{am}first_retry = \"0s\"\n"), "first_retry", "longer than zero"),
        (
            "[[check]]\nname = \"a\"\nkind = \"tcp\"\nhost = \"h\"\nport = 1\nlisten = \"127.0.0.1:1\"\n".into(),
            "listen",
            "does not apply to a tcp check",
        ),
    ];
    for (text, field, words) in cases {
        let e = err(text);
        assert_eq!(e.field.as_deref(), Some(*field), "{e}");
        assert!(e.message.contains(words), "{e}");
    }
}

fn all_errors(text: &str) -> Vec<ConfigError> {
    warroom::config::parse_all(text, Path::new("warroom.toml")).expect_err("config should be rejected")
}

/// Every problem in one check's schedule at once, and bounds that keep a check a monitor:
/// an interval of a millisecond or a retry of nothing made warroom a load generator, a
/// timeout of hours never records a dead target in time, and a duration of 2^64 seconds
/// overflowed the clock it was added to (a panic).
#[test]
fn a_schedule_is_bounded_and_every_problem_in_it_is_named() {
    let errors = all_errors(
        "[[check]]\nname = \"web\"\nkind = \"tcp\"\nhost = \"h\"\nport = 1\n\
         interval = \"1ms\"\ntimeout = \"2h\"\nretry_interval = \"1ms\"\nfail_after = 0\nrecover_after = 1000\n",
    );
    let fields: Vec<&str> = errors.iter().filter_map(|e| e.field.as_deref()).collect();
    assert_eq!(fields, ["interval", "timeout", "retry_interval", "fail_after", "recover_after"], "{errors:#?}");
    assert!(errors[0].message.contains("must be at least 100ms"), "{errors:#?}");
    assert!(errors[1].message.contains("must be at most 1h"), "{errors:#?}");

    for field in ["interval", "timeout", "first_retry", "retry_interval"] {
        let e = err(&format!(
            "[[check]]\nname = \"web\"\nkind = \"tcp\"\nhost = \"h\"\nport = 1\n{field} = \"18446744073709551615s\"\n"
        ));
        assert_eq!(e.field.as_deref(), Some(field), "{e}");
        assert!(e.message.contains("longer than any duration warroom takes"), "{e}");
    }
}

/// Names and addresses that would collide at run time are refused before it: a check named
/// like a source's row shared the row's state (a false recovery every interval), a name of
/// megabytes made every entry about it too long for the journal, two receivers on one address
/// left one binding forever, and port 0 is an address nobody can send to.
#[test]
fn names_and_listeners_that_would_collide_are_refused() {
    let e = err("[[check]]\nname = \"alerts / HighErrorRate i1\"\nkind = \"tcp\"\nhost = \"h\"\nport = 1\n");
    assert!(e.message.contains("\" / \" is kept for the rows of sources"), "{e}");
    let e = err(&format!("[[check]]\nname = \"{}\"\nkind = \"tcp\"\nhost = \"h\"\nport = 1\n", "n".repeat(201)));
    assert!(e.message.contains("at most 200 characters"), "{e}");

    let am = |name: &str, listen: &str| {
        format!(
            "[[check]]\nname = \"{name}\"\nkind = \"alertmanager\"\nurl = \"http://127.0.0.1:9093\"\n\
             listen = \"{listen}\"\ntoken_env = \"T\"\n"
        )
    };
    let e = err(&am("a", "127.0.0.1:0"));
    assert!(e.message.contains("not 0"), "{e}");
    let errors = all_errors(&(am("a", "127.0.0.1:9099") + &am("b", "127.0.0.1:9099")));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].message.contains("check \"b\": check \"a\" already listens on 127.0.0.1:9099"), "{errors:#?}");
    assert_eq!(errors[0].line, 11, "{errors:#?}");
}
