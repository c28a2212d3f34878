//! Text from the network or from other people's journal lines, made safe to draw.
//!
//! A terminal obeys escape sequences: an HTTP body or an SMTP banner could retitle the
//! window, write the clipboard (OSC 52) or clear the screen. Everything untrusted passes
//! through [`sanitize`] before it is stored in an outcome or drawn.

/// A name that decides something (a role, a person): as it is when it is plain, else escaped
/// rather than cleaned, so that it cannot pass for another. A journal line naming a role
/// `commander` + an escape sequence, cleaned, read as a second "commander".
pub fn name_as_written(text: &str, max_chars: usize) -> String {
    if !text.chars().any(is_unsafe_for_terminal) {
        return sanitize_str(text, max_chars);
    }
    sanitize_str(&text.escape_debug().to_string(), max_chars)
}

/// Removes escape sequences and control characters, replaces invalid UTF-8, and caps length.
/// Tabs and newlines become single spaces: details are one line on screen.
pub fn sanitize(bytes: &[u8], max_chars: usize) -> String {
    sanitize_str(&String::from_utf8_lossy(bytes), max_chars)
}

/// As [`sanitize`], for text already decoded.
pub fn sanitize_str(text: &str, max_chars: usize) -> String {
    if is_plain(text, max_chars) {
        return text.trim().to_string();
    }
    let mut out = String::with_capacity(text.len().min(max_chars.saturating_mul(4)));
    let mut chars = text.chars().peekable();
    let mut count = 0usize;
    let mut last_space = false;
    while let Some(c) = chars.next() {
        if count >= max_chars {
            out.push('…');
            break;
        }
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            // C1 CSI / OSC / DCS / APC / PM / SOS introducers: swallow their payloads too.
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{9f}' | '\u{9e}' | '\u{98}' => skip_string(&mut chars),
            '\t' | '\n' | '\r' => {
                if !last_space && !out.is_empty() {
                    out.push(' ');
                    count += 1;
                    last_space = true;
                }
            }
            c if c.is_control() => {}
            // Bidirectional overrides can make text read differently from what it is.
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {}
            c => {
                out.push(c);
                count += 1;
                last_space = c == ' ';
            }
        }
    }
    trim_in_place(&mut out);
    out
}

/// As [`sanitize_str`], keeping `text` itself when it is already safe.
pub fn sanitize_string(mut text: String, max_chars: usize) -> String {
    if !is_plain(&text, max_chars) {
        return sanitize_str(&text, max_chars);
    }
    trim_in_place(&mut text);
    text
}

/// Printable ASCII within `max_chars`: nothing to remove, fold or cut, only to trim. Most
/// text is ("HTTP 200 OK in 1.2 ms", 1,000 details a second at 10,000 checks).
fn is_plain(text: &str, max_chars: usize) -> bool {
    text.len() <= max_chars && text.bytes().all(|b| (b' '..=b'~').contains(&b))
}

/// `text.trim()`, without a second string.
fn trim_in_place(text: &mut String) {
    text.truncate(text.trim_end().len());
    let leading = text.len() - text.trim_start().len();
    text.drain(..leading);
}

/// Multi-line variant for notes and message bodies: keeps newlines, strips everything else.
pub fn sanitize_multiline(text: &str, max_chars: usize) -> String {
    text.split('\n').map(|line| sanitize_str(line, max_chars)).collect::<Vec<_>>().join("\n")
}

/// Text warroom prints to a terminal as it is laid out (messages that quote a config file,
/// tables): escape sequences, control characters and bidirectional overrides removed, newlines
/// and tabs kept, nothing folded, trimmed or shortened, so alignment and caret diagrams survive.
pub fn for_terminal(text: &str) -> String {
    if !text.chars().any(is_unsafe_for_terminal) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{9f}' | '\u{9e}' | '\u{98}' => skip_string(&mut chars),
            '\n' | '\t' => out.push(c),
            c if is_unsafe_for_terminal(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// JSON for a terminal: every string character a terminal could act on (C1 controls, DEL,
/// bidirectional overrides; serde_json already escapes C0) written as a `\uXXXX` escape. Such
/// characters can only occur inside JSON strings, so the document keeps exactly its meaning.
pub fn json_for_terminal(json: &str) -> String {
    if !json.chars().any(is_unsafe_for_terminal) {
        return json.to_string();
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_unsafe_for_terminal(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Control code points (C0 but newline and tab, DEL, C1) and the bidirectional overrides and
/// isolates, which make text read differently from what it is.
pub fn is_unsafe_for_terminal(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => skip_csi(chars),
        Some(']') | Some('P') | Some('X') | Some('^') | Some('_') => skip_string(chars),
        // Two-byte sequences (ESC c resets the terminal, ESC 7/8 save/restore, …):
        // the character after ESC is part of the sequence and is dropped with it.
        Some(c) if ('\u{20}'..='\u{2f}').contains(&c) => {
            // Intermediate bytes, then one final byte.
            while let Some(&n) = chars.peek() {
                chars.next();
                if !('\u{20}'..='\u{2f}').contains(&n) {
                    break;
                }
            }
        }
        _ => {}
    }
}

fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    // Parameters and intermediates until a final byte in @..~ (or anything unexpected).
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) || c.is_control() {
            break;
        }
    }
}

fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    // OSC/DCS/…: until BEL, ST (ESC \) or the C1 ST.
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => break,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                break;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_with_escapes_cannot_pass_for_another() {
        assert_eq!(name_as_written("commander", 30), "commander");
        let forged = name_as_written("commander\u{1b}]52;c;bWFsbG9yeQ==\u{7}", 60);
        assert!(forged.starts_with("commander\\u{1b}"), "{forged}");
        assert!(!forged.chars().any(is_unsafe_for_terminal), "{forged:?}");
        assert_eq!(name_as_written("scribe\u{202e}", 30), "scribe\\u{202e}");
    }

    #[test]
    fn strips_csi_osc_and_controls() {
        let hostile = b"ok\x1b[2J\x1b]0;pwned\x07 title\x1b]52;c;ZXZpbA==\x1b\\ done\x07\x08";
        assert_eq!(sanitize(hostile, 200), "ok title done");
    }

    #[test]
    fn replaces_invalid_utf8_and_caps_length() {
        assert_eq!(sanitize(b"caf\xff!", 10), "caf\u{fffd}!");
        assert_eq!(sanitize_str("abcdefgh", 3), "abc…");
    }

    #[test]
    fn plain_text_is_only_trimmed_and_capped() {
        assert_eq!(sanitize_str("  HTTP 200 OK in 1.2 ms ", 50), "HTTP 200 OK in 1.2 ms");
        assert_eq!(sanitize_str("abc", 3), "abc");
        assert_eq!(sanitize_str("abcd", 3), "abc…");
        assert_eq!(sanitize_str(" a\tb \u{7f}", 50), "a b");
        assert_eq!(sanitize_str("  \t ", 50), "");
        assert_eq!(sanitize_string(" plain ".into(), 50), "plain");
        assert_eq!(sanitize_string("a\u{1b}[2Jb".into(), 50), "ab");
    }

    #[test]
    fn folds_whitespace_and_drops_c1_and_bidi() {
        assert_eq!(sanitize_str("a\r\n\tb\u{9b}31mc\u{202e}d", 50), "a bcd");
    }

    #[test]
    fn terminal_text_keeps_its_layout_and_loses_every_control() {
        let hostile = "a:\n\t|  x\u{1b}]0;PWNED\u{7} y\r\u{9d}52;c;ZZ\u{9c}\u{85}\u{7f}\u{202e}\u{2066}z  ";
        assert_eq!(for_terminal(hostile), "a:\n\t|  x yz  ");
    }

    #[test]
    fn json_for_a_terminal_escapes_c1_and_bidi_and_keeps_the_value() {
        let value = "x\u{9d}0;t\u{7}\u{202e}\u{7f}y";
        let json = json_for_terminal(&serde_json::to_string(&value).unwrap());
        assert!(!json.chars().any(is_unsafe_for_terminal), "{json}");
        assert_eq!(serde_json::from_str::<String>(&json).unwrap(), value);
    }

    #[test]
    fn two_byte_escapes_are_removed_whole() {
        assert_eq!(sanitize_str("x\u{1b}cy\u{1b}(Bz", 50), "xyz");
    }
}
