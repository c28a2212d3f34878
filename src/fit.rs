//! Fitting names into columns: their width on a terminal (a CJK character or an emoji takes
//! two cells, so counting characters misaligns every column after it), and cutting a name so
//! that what tells it apart from its neighbours stays. Shared by the screen and the report's
//! text picture, which must agree.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The cells `s` takes on a terminal.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` followed by spaces to `cells` cells (never cut).
pub fn pad(s: &str, cells: usize) -> String {
    format!("{s}{}", " ".repeat(cells.saturating_sub(width(s))))
}

/// At most `cells` cells of `s`, an ellipsis marking a cut.
pub fn clip(s: &str, cells: usize) -> String {
    if width(s) <= cells {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > cells {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// Each of `names` in at most `cells` cells, cut (where it must be) keeping what tells it
/// apart from the others: `database-primary-eu-…west-1` and `…central-1`, not two
/// `database-primary-eu…`.
pub fn fit_all(names: &[String], cells: usize) -> Vec<String> {
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            if width(name) <= cells {
                return name.clone();
            }
            let chars: Vec<char> = name.chars().collect();
            // The cut below counts characters: exact for names of one-cell characters only.
            if chars.len() != width(name) {
                return clip(name, cells);
            }
            let others = names.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, n)| n.as_str());
            let (p, e) = distinguishing(&chars, others);
            cut_keeping(&chars, cells, p, e)
        })
        .collect()
}

/// The part `[start, end)` of `name` where it differs from every other name: after the
/// longest prefix and before the longest suffix it shares with any of them.
pub fn distinguishing<'a>(name: &[char], others: impl Iterator<Item = &'a str>) -> (usize, usize) {
    let (mut prefix, mut suffix) = (0, 0);
    for other in others {
        let pre = other.chars().zip(name).take_while(|(a, b)| a == *b).count();
        let suf = other.chars().rev().zip(name.iter().rev()).take_while(|(a, b)| a == *b).count();
        prefix = prefix.max(pre);
        suffix = suffix.max(suf);
    }
    let len = name.len();
    let start = prefix.min(len.saturating_sub(1));
    (start, len.saturating_sub(suffix).clamp(start + 1, len.max(1)))
}

/// `chars` cut to `width` cells, keeping its head, the part `[p, e)` and some context.
pub fn cut_keeping(chars: &[char], width: usize, p: usize, e: usize) -> String {
    let len = chars.len();
    if len <= width {
        return chars.iter().collect();
    }
    if width < 8 {
        return chars[..width.saturating_sub(1)].iter().chain(['…'].iter()).collect();
    }
    // The distinguishing part (with a few characters of it) is within reach: cut the end.
    if e < width || p + 5 < width {
        return chars[..width - 1].iter().chain(['…'].iter()).collect();
    }
    // The head: up to the first ` / ` (a source's name) when it is short, else a third.
    let sep = chars.windows(3).position(|w| w == [' ', '/', ' ']).map(|x| x + 3);
    let head = match sep {
        Some(h) if h <= width / 2 && h <= p => h,
        _ => (width / 3).min(p),
    };
    let tail = width - 1 - head;
    if len - tail <= p {
        return chars[..head].iter().chain(['…'].iter()).chain(chars[len - tail..].iter()).collect();
    }
    // The distinguishing part from the start of its word, then as much after it as fits.
    let room = width - head - 2;
    let floor = p.saturating_sub(room.saturating_sub(e - p)).max(head);
    let mut start = p;
    while start > floor && !matches!(chars[start - 1], '/' | '.' | ' ' | ':' | '_' | '=') {
        start -= 1;
    }
    let stop = (start + room).min(len);
    let mut out: String = chars[..head].iter().chain(['…'].iter()).chain(chars[start..stop].iter()).collect();
    if stop < len {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_characters_take_two_cells() {
        assert_eq!(width("数据库"), 6);
        assert_eq!(pad("数据库", 8), "数据库  ");
        assert_eq!(clip("数据库主节点", 7), "数据库…");
        assert!(width(&clip("数据库主节点", 7)) <= 7);
    }

    #[test]
    fn names_cut_alike_stay_apart() {
        let names = ["database-primary-eu-west-1".to_string(), "database-primary-eu-central-1".to_string()];
        let fitted = fit_all(&names, 20);
        assert_ne!(fitted[0], fitted[1], "{fitted:?}");
        assert!(fitted[0].contains("west") && fitted[1].contains("central"), "{fitted:?}");
        assert!(fitted.iter().all(|f| width(f) <= 20), "{fitted:?}");
    }
}
