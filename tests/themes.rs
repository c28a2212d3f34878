//! Every theme file reaches WCAG 4.5:1 for every foreground/background pair it can draw: each
//! role on the theme's declared background (or its own), and each role on the selected row
//! (where it takes the selection's colours and keeps its emphasis). Named ANSI colours are
//! taken from xterm's default palette; built-in themes use no `#rrggbb`, which a terminal
//! without true colour may show wrongly. What the screen really draws is checked cell by cell
//! in tests/screen.rs (`every_drawn_cell_is_readable_in_every_theme`).

use std::path::Path;

use ratatui::style::Color;
use warroom::tui::contrast::{ratio, rgb, shown};
use warroom::tui::theme::{self, BUILT_IN};

const MINIMUM: f64 = 4.5;

fn theme_files() -> Vec<(String, std::path::PathBuf)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("themes");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    files.sort();
    files
}

/// The offending pairs of one theme file, each said in words.
fn offences(name: &str, path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let theme = theme::parse(&text, path, name).unwrap();
    let roles = theme.roles();
    let colours: Vec<Color> = roles.iter().flat_map(|(_, s)| [s.fg, s.bg]).flatten().collect();
    let mut bad: Vec<String> = colours
        .iter()
        .filter(|c| matches!(c, Color::Rgb(..)))
        .map(|c| format!("{name}: {c} needs true colour; use a 0–255 index"))
        .collect();
    let Some(background) = theme.background.and_then(rgb) else {
        if !colours.is_empty() {
            bad.push(format!("{name}: uses colours but declares no `background`"));
        }
        return bad;
    };
    for (role, style) in &roles {
        for (where_, style) in [("", *style), (" on the selected row", style.patch(theme.selection))] {
            let (fg, bg) = shown(style, background);
            let r = ratio(fg, bg);
            if r < MINIMUM {
                bad.push(format!("{name}: {role}{where_}: {fg:?} on {bg:?} is {r:.2}:1"));
            }
        }
    }
    bad
}

#[test]
fn every_theme_file_reaches_4_5_to_1_for_every_pair_it_draws() {
    let files = theme_files();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    let built_in: Vec<&str> = BUILT_IN.iter().map(|(n, _)| *n).collect();
    assert_eq!(names.iter().copied().collect::<std::collections::BTreeSet<_>>(), built_in.into_iter().collect());
    let bad: Vec<String> = files.iter().flat_map(|(name, path)| offences(name, path)).collect();
    assert!(bad.is_empty(), "pairs under {MINIMUM}:1:\n{}", bad.join("\n"));
}

#[test]
fn the_check_catches_the_pairs_of_issue_19() {
    // The old light theme: red `down` on the teal selection was ~1.05:1 once the row kept the
    // role's colour. The check must see such a pair when a theme draws it directly.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old-light.toml");
    std::fs::write(&path, "background = \"white\"\ntext = \"black\"\nselection = { fg = \"white\", bg = \"24\" }\ndown = { fg = \"124\", bg = \"24\" }\n").unwrap();
    let bad = offences("old-light", &path);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(bad[0].starts_with("old-light: down: "), "{bad:?}");
    std::fs::write(&path, "text = \"#56b4e9\"\n").unwrap();
    let bad = offences("no-bg", &path);
    assert_eq!(bad.len(), 2, "{bad:?}");
}
