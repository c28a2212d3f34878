//! Themes: semantic roles (ok, down, muted, …) to styles, from `themes/*.toml`.
//!
//! A theme is short to write because it names meanings, not widgets. Colour is never the only
//! signal (every state has a glyph and a word), so the mono theme loses nothing but colour.

use std::path::Path;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};

/// Built-in themes, embedded so the binary needs no files.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    ("high-contrast", include_str!("../../themes/high-contrast.toml")),
    ("colorblind", include_str!("../../themes/colorblind.toml")),
    ("mono", include_str!("../../themes/mono.toml")),
];

macro_rules! roles {
    ($($role:ident),* $(,)?) => {
        /// Styles by meaning.
        #[derive(Debug, Clone, PartialEq, Default)]
        pub struct Theme {
            pub name: String,
            /// The terminal background the theme is written for (`background = "black"`).
            /// Never painted — the terminal keeps its own — but it is what contrast is checked
            /// against. `None` for a theme without colours.
            pub background: Option<Color>,
            $(pub $role: Style,)*
        }

        const ROLES: &[&str] = &[$(stringify!($role)),*];

        impl Theme {
            /// Every role with its style, in declaration order.
            pub fn roles(&self) -> Vec<(&'static str, Style)> {
                vec![$((stringify!($role), self.$role)),*]
            }

            fn set(&mut self, role: &str, style: Style) -> bool {
                match role {
                    $(stringify!($role) => self.$role = style,)*
                    _ => return false,
                }
                true
            }
        }
    };
}

roles!(
    text,
    muted,
    accent,
    title,
    border,
    border_focus,
    selection,
    ok,
    degraded,
    down,
    unknown,
    overdue,
    due_soon,
    done,
    drill,
    key,
);

impl Theme {
    /// A built-in theme by name, or a theme file by path. `NO_COLOR` (set and non-empty)
    /// forces `mono` whatever was asked.
    pub fn load(name_or_path: &str) -> Result<Theme, String> {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let wanted = if no_color { "mono" } else { name_or_path };
        let (text, path) = crate::builtin::find(BUILT_IN, "themes", wanted)
            .map_err(|(file, message)| format!("{}: theme: {message}", file.display()))?;
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        parse(&text, &path, &name)
    }

    pub fn built_in(name: &str) -> Theme {
        Theme::load_built_in(name).expect("built-in themes are tested")
    }

    fn load_built_in(name: &str) -> Result<Theme, String> {
        let (_, text) = BUILT_IN.iter().find(|(n, _)| *n == name).ok_or_else(|| format!("no built-in theme {name}"))?;
        parse(text, &Path::new("themes").join(format!("{name}.toml")), name)
    }
}

/// Parses a theme file. Errors name the file, the line and the key.
pub fn parse(text: &str, path: &Path, name: &str) -> Result<Theme, String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(0, |s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        format!("{}:{line}: {}", path.display(), e.message().trim())
    })?;
    let line_of = |key: &str| {
        text.lines()
            .position(|l| l.trim_start().strip_prefix(key).is_some_and(|r| r.trim_start().starts_with('=')))
            .map_or(0, |n| n + 1)
    };
    let mut theme = Theme { name: name.to_string(), ..Theme::default() };
    for (key, value) in &table {
        let at = |msg: String| format!("{}:{}: key `{key}`: {msg}", path.display(), line_of(key));
        if key == "background" {
            let named = value.as_str().ok_or_else(|| at("the background is one colour, like \"black\"".into()))?;
            theme.background = Some(color(named).map_err(at)?);
            continue;
        }
        let style = style_from(value).map_err(at)?;
        if !theme.set(key, style) {
            return Err(at(format!("unknown role; roles are background, {}", ROLES.join(", "))));
        }
    }
    Ok(theme)
}

fn style_from(value: &toml::Value) -> Result<Style, String> {
    match value {
        toml::Value::String(c) => Ok(Style::default().fg(color(c)?)),
        toml::Value::Table(t) => {
            let mut style = Style::default();
            for (k, v) in t {
                style = match (k.as_str(), v) {
                    ("fg", toml::Value::String(c)) => style.fg(color(c)?),
                    ("bg", toml::Value::String(c)) => style.bg(color(c)?),
                    (m @ ("bold" | "italic" | "underline" | "reversed" | "dim"), toml::Value::Boolean(on)) => {
                        let modifier = match m {
                            "bold" => Modifier::BOLD,
                            "italic" => Modifier::ITALIC,
                            "underline" => Modifier::UNDERLINED,
                            "reversed" => Modifier::REVERSED,
                            _ => Modifier::DIM,
                        };
                        if *on { style.add_modifier(modifier) } else { style }
                    }
                    (other, v) => {
                        return Err(format!(
                            "`{other} = {v}` is not fg/bg (a colour) or bold/italic/underline/reversed/dim (true/false)"
                        ));
                    }
                };
            }
            Ok(style)
        }
        other => Err(format!("`{other}` is neither a colour nor a style table")),
    }
}

fn color(text: &str) -> Result<Color, String> {
    Color::from_str(text).map_err(|_| format!("\"{text}\" is not a colour (a name like \"red\", \"#rrggbb\" or 0–255)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_theme_parses_and_sets_every_role() {
        for (name, _) in BUILT_IN {
            let t = Theme::load_built_in(name).unwrap();
            assert_eq!(&t.name, name);
            if *name != "mono" {
                assert_ne!(t.down, Style::default(), "{name}: down");
                assert_ne!(t.ok, t.down, "{name}: ok and down look the same");
            }
        }
    }

    #[test]
    fn mono_uses_no_colour() {
        let t = Theme::load_built_in("mono").unwrap();
        for s in [t.ok, t.down, t.degraded, t.overdue, t.selection, t.drill] {
            assert_eq!((s.fg, s.bg), (None, None));
        }
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let p = Path::new("themes/mine.toml");
        let e = parse("ok = \"green\"\ndwon = \"red\"\n", p, "mine").unwrap_err();
        assert_eq!(e.split(" roles are").next().unwrap(), "themes/mine.toml:2: key `dwon`: unknown role;");
        let e = parse("ok = \"greenish\"\n", p, "mine").unwrap_err();
        assert!(e.starts_with("themes/mine.toml:1: key `ok`: \"greenish\" is not a colour"), "{e}");
        let e = parse("ok = \"green\"\nbackground = { fg = \"black\" }\n", p, "mine").unwrap_err();
        assert!(e.starts_with("themes/mine.toml:2: key `background`: the background is one colour"), "{e}");
        assert_eq!(parse("background = \"white\"\n", p, "mine").unwrap().background, Some(Color::White));
        let e = parse("down = { fg = \"red\", blink = true }\n", p, "mine").unwrap_err();
        assert!(e.starts_with("themes/mine.toml:1: key `down`: `blink = true`"), "{e}");
    }
}
