//! WCAG contrast of a theme's styles, as xterm's default palette would show them.
//!
//! Named ANSI colours are whatever the user's palette says; to check a theme at all we assume
//! xterm's defaults and the background the theme declares (`background = "black"`). Indexed
//! colours 16–255 are the same in every xterm-compatible terminal, which is why built-in themes
//! use them rather than `#rrggbb` (a terminal without true colour may show those badly).

use ratatui::style::{Color, Modifier, Style};

/// xterm's default 16-colour palette, in ratatui's order (Black, Red, …, White).
const ANSI: [(u8, u8, u8); 16] = [
    (0x00, 0x00, 0x00),
    (0xcd, 0x00, 0x00),
    (0x00, 0xcd, 0x00),
    (0xcd, 0xcd, 0x00),
    (0x00, 0x00, 0xee),
    (0xcd, 0x00, 0xcd),
    (0x00, 0xcd, 0xcd),
    (0xe5, 0xe5, 0xe5),
    (0x7f, 0x7f, 0x7f),
    (0xff, 0x00, 0x00),
    (0x00, 0xff, 0x00),
    (0xff, 0xff, 0x00),
    (0x5c, 0x5c, 0xff),
    (0xff, 0x00, 0xff),
    (0x00, 0xff, 0xff),
    (0xff, 0xff, 0xff),
];

/// The colour a terminal with xterm's palette shows; `None` for `Reset` (the terminal's own).
pub fn rgb(color: Color) -> Option<(u8, u8, u8)> {
    let named = |i: usize| Some(ANSI[i]);
    match color {
        Color::Reset => None,
        Color::Black => named(0),
        Color::Red => named(1),
        Color::Green => named(2),
        Color::Yellow => named(3),
        Color::Blue => named(4),
        Color::Magenta => named(5),
        Color::Cyan => named(6),
        Color::Gray => named(7),
        Color::DarkGray => named(8),
        Color::LightRed => named(9),
        Color::LightGreen => named(10),
        Color::LightYellow => named(11),
        Color::LightBlue => named(12),
        Color::LightMagenta => named(13),
        Color::LightCyan => named(14),
        Color::White => named(15),
        Color::Rgb(r, g, b) => Some((r, g, b)),
        Color::Indexed(i) => Some(indexed(i)),
    }
}

/// xterm's 256-colour palette: 16 ANSI, a 6×6×6 cube, then 24 greys.
fn indexed(i: u8) -> (u8, u8, u8) {
    const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    match i {
        0..=15 => ANSI[i as usize],
        16..=231 => {
            let c = i - 16;
            (LEVELS[(c / 36) as usize], LEVELS[(c / 6 % 6) as usize], LEVELS[(c % 6) as usize])
        }
        _ => {
            let g = 8 + 10 * (i - 232);
            (g, g, g)
        }
    }
}

/// WCAG 2 relative luminance.
pub fn luminance((r, g, b): (u8, u8, u8)) -> f64 {
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

/// WCAG 2 contrast ratio, 1 to 21.
pub fn ratio(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// The foreground and background a style shows on a terminal whose own colours are
/// `default_fg` on `background` (reversed swaps them, as terminals do).
pub fn shown(style: Style, background: (u8, u8, u8)) -> ((u8, u8, u8), (u8, u8, u8)) {
    let default_fg = if luminance(background) < 0.18 { ANSI[7] } else { ANSI[0] };
    let fg = style.fg.and_then(rgb).unwrap_or(default_fg);
    let bg = style.bg.and_then(rgb).unwrap_or(background);
    if style.add_modifier.contains(Modifier::REVERSED) { (bg, fg) } else { (fg, bg) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_ratios() {
        assert!((ratio((0, 0, 0), (255, 255, 255)) - 21.0).abs() < 1e-9);
        assert!((ratio((10, 20, 30), (10, 20, 30)) - 1.0).abs() < 1e-9);
        // #767676 on white is the well-known 4.54:1.
        assert!((ratio((0x76, 0x76, 0x76), (255, 255, 255)) - 4.54).abs() < 0.01);
        assert_eq!(indexed(24), (0, 95, 135));
        assert_eq!(indexed(232), (8, 8, 8));
        assert_eq!(indexed(255), (238, 238, 238));
    }
}
