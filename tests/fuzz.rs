//! Property tests over hostile input, the stable-toolchain stand-in for fuzzing (cargo-fuzz
//! needs nightly): every parser that reads untrusted text either answers or returns an error,
//! never panics, and the sanitiser never lets a control character through.
//!
//! Cases per property: 2,000 by default; `PROPTEST_CASES=100000 cargo test --test fuzz` for a
//! longer run. Failures are kept in `tests/fuzz.proptest-regressions` and replayed first.

use std::path::Path;

use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(2_000),
        ..ProptestConfig::default()
    }
}

/// Strings that look like the real thing, with damage: TOML/JSON punctuation, escapes,
/// control characters, invalid-looking numbers, very long runs.
fn hostile() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("[[check]]\n".to_string()),
        Just("[[item]]\n".to_string()),
        Just("[[step]]\n".to_string()),
        Just("name = \"a\"\n".to_string()),
        Just("kind = \"http\"\n".to_string()),
        Just("url = \"http://x/\"\n".to_string()),
        Just("interval = \"1s\"\n".to_string()),
        Just("due = \"5m\"\n".to_string()),
        Just("at = \"10s\"\n".to_string()),
        Just("\"\\u001b]0;x\\u0007\"".to_string()),
        Just("{\"v\":1,".to_string()),
        Just("\"kind\":\"note_added\"".to_string()),
        Just("\"ts\":\"2026-11-21T00:00:00.000Z\"".to_string()),
        Just("}".to_string()),
        Just("\u{1b}[2J".to_string()),
        Just("\u{0}".to_string()),
        Just("999999999999999999999".to_string()),
        "[ -~]{0,12}".prop_map(String::from),
        any::<String>(),
    ];
    proptest::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn journal_lines_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400), text in hostile()) {
        let _ = warroom::journal::decode_line(&bytes);
        let _ = warroom::journal::decode_line(text.as_bytes());
    }

    #[test]
    fn config_never_panics(text in hostile()) {
        let _ = warroom::config::parse(&text, Path::new("fuzz.toml"));
    }

    #[test]
    fn checklists_and_scenarios_never_panic(text in hostile()) {
        let _ = warroom::checklist::parse(&text, Path::new("fuzz.toml"));
        let _ = warroom::drill::parse(&text, Path::new("fuzz.toml"));
        let _ = warroom::tui::theme::parse(&text, Path::new("fuzz.toml"), "fuzz");
    }

    #[test]
    fn smtp_replies_never_panic_and_stay_bounded(bytes in proptest::collection::vec(any::<u8>(), 0..2000), lines in proptest::collection::vec("[0-9]{3}[ -][ -~]{0,30}", 0..50)) {
        let _ = warroom::probe::parse_reply(&bytes);
        let joined = lines.join("\r\n") + "\r\n";
        if let Ok(Some((reply, used))) = warroom::probe::parse_reply(joined.as_bytes()) {
            prop_assert!(used <= joined.len());
            prop_assert!(!reply.lines.is_empty());
        }
    }

    #[test]
    fn sanitised_text_has_no_control_characters(bytes in proptest::collection::vec(any::<u8>(), 0..600), max in 1usize..200) {
        let out = warroom::sanitize::sanitize(&bytes, max);
        prop_assert!(!out.chars().any(|c| c.is_control()), "{out:?}");
        prop_assert!(!out.contains(char::from(0x1b)), "escape survived");
        prop_assert!(out.chars().count() <= max + 1, "capped (plus the ellipsis)");
        let multi = warroom::sanitize::sanitize_multiline(&String::from_utf8_lossy(&bytes), max);
        prop_assert!(!multi.chars().any(|c| c.is_control() && c != '\n'), "{multi:?}");
    }
}

/// Sequences a terminal obeys, each hidden in text: none survives.
#[test]
fn known_terminal_attacks_are_neutralised() {
    for attack in [
        "\u{1b}]0;title\u{7}",
        "\u{1b}]52;c;ZXZpbA==\u{7}",
        "\u{1b}]52;c;ZXZpbA==\u{1b}\\",
        "\u{1b}[2J\u{1b}[H",
        "\u{1b}c",
        "\u{9b}2J",
        "\u{9d}0;title\u{9c}",
        "\u{1b}P+q544e\u{1b}\\",
        "\u{1b}[?1049l",
        "\u{1b}]8;;http://evil/\u{7}link\u{1b}]8;;\u{7}",
    ] {
        let out = warroom::sanitize::sanitize_str(&format!("before {attack} after"), 200);
        assert!(!out.chars().any(|c| c.is_control()), "{attack:?} -> {out:?}");
        assert!(
            !out.contains("ZXZpbA") && !out.contains("title") && !out.contains("evil"),
            "{attack:?} left its payload: {out:?}"
        );
    }
}
