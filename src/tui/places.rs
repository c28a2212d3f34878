//! The places beside a check's verdict, fitted to the room the Checks pane has: the places
//! that explain the verdict first (down, degraded, unreachable, no word yet, then up), and
//! when they do not all fit, the rest summed up (`✖ paris-east +2 up`). The place that
//! explains the verdict is never cut away; a name too long for the room is shortened keeping
//! what tells it apart from the check's other places.

use super::app::App;
use super::draw::state_glyph;
use crate::board::Row;
use crate::fit::{cut_keeping, distinguishing};
use crate::monitor::State;
use crate::sanitize::sanitize_str;

/// The longest place name shown whole.
const NAME_MAX: usize = 40;

/// One place of a check as the row shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    /// How much it explains the verdict: lower comes first.
    rank: u8,
    glyph: &'static str,
    name: String,
}

impl Mark {
    pub fn new(state: State, unreachable: bool, name: &str) -> Mark {
        let (rank, glyph) = match state {
            _ if unreachable => (2, "⌁"),
            State::Down => (0, state_glyph(state).0),
            State::Degraded => (1, state_glyph(state).0),
            State::Unknown => (3, state_glyph(state).0),
            State::Up => (4, state_glyph(state).0),
        };
        Mark { rank, glyph, name: sanitize_str(name, NAME_MAX) }
    }

    fn text(&self) -> String {
        format!("{} {}", self.glyph, self.name)
    }

    fn width(&self) -> usize {
        self.name.chars().count() + 2
    }
}

/// Each place a row's check runs from, as configured and as the journal recorded each, in
/// the order that explains the verdict. Empty for a check judged here only.
pub fn marks(app: &App, row: &Row) -> Vec<Mark> {
    let incident = &app.board.incident;
    let recorded = incident.vantage_checks.get(&row.name);
    let configured = app.board.places.get(&row.id.check);
    let mut names: Vec<&str> = configured.into_iter().flatten().map(String::as_str).collect();
    for (place, _) in recorded.into_iter().flatten() {
        if !names.contains(&place.as_str()) {
            names.push(place);
        }
    }
    let mut marks: Vec<Mark> = names
        .into_iter()
        .map(|place| {
            let state = recorded.and_then(|r| r.get(place)).copied().map(crate::recorder::from_check_state);
            let unreachable = incident.vantages.get(place).is_some_and(|v| !v.reachable);
            Mark::new(state.unwrap_or(State::Unknown), unreachable, place)
        })
        .collect();
    marks.sort_by(|a, b| (a.rank, &a.name).cmp(&(b.rank, &b.name)));
    marks
}

/// Every place in full: `✖ paris ⌁ fra ✔ local`.
pub fn full_width(marks: &[Mark]) -> usize {
    marks.iter().map(|m| m.width() + 1).sum::<usize>().saturating_sub(1)
}

/// The least room that still shows the first place whole, with the others summed up; none
/// asked for a row whose places are all up (nothing there to explain).
pub fn least_width(marks: &[Mark]) -> usize {
    match marks {
        [] => 0,
        [first, ..] if first.rank == 4 => 0,
        [only] => only.width(),
        [first, rest @ ..] => first.width() + 1 + summary(rest).chars().count(),
    }
}

/// `+2 up` when the places left out are all up, `+2 more` otherwise.
fn summary(rest: &[Mark]) -> String {
    let all_up = rest.iter().all(|m| m.rank == 4);
    format!("+{} {}", rest.len(), if all_up { "up" } else { "more" })
}

/// The places in `width` cells: all of them when they fit, else as many as fit from the
/// first with the rest summed up, else the first one's name shortened.
pub fn fit(marks: &[Mark], width: usize) -> String {
    let all: Vec<String> = marks.iter().map(Mark::text).collect();
    if full_width(marks) <= width {
        return all.join(" ");
    }
    for shown in (1..marks.len()).rev() {
        let text = format!("{} {}", all[..shown].join(" "), summary(&marks[shown..]));
        if text.chars().count() <= width {
            return text;
        }
    }
    let Some(first) = marks.first() else { return String::new() };
    let tail = if marks.len() > 1 { format!(" {}", summary(&marks[1..])) } else { String::new() };
    let room = width.saturating_sub(2 + tail.chars().count()).max(2);
    let chars: Vec<char> = first.name.chars().collect();
    let (p, e) = distinguishing(&chars, marks[1..].iter().map(|m| m.name.as_str()));
    format!("{} {}{tail}", first.glyph, cut_keeping(&chars, room, p, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks(places: &[(&str, State, bool)]) -> Vec<Mark> {
        let mut m: Vec<Mark> = places.iter().map(|(n, s, u)| Mark::new(*s, *u, n)).collect();
        m.sort_by(|a, b| (a.rank, &a.name).cmp(&(b.rank, &b.name)));
        m
    }

    #[test]
    fn the_failing_place_comes_first_and_the_rest_are_summed_up() {
        let m = marks(&[
            ("frankfurt", State::Up, false),
            ("local", State::Up, false),
            ("paris-east", State::Down, false),
            ("tokyo", State::Up, true),
        ]);
        assert_eq!(fit(&m, 80), "✖ paris-east ⌁ tokyo ✔ frankfurt ✔ local");
        assert_eq!(fit(&m, 30), "✖ paris-east ⌁ tokyo +2 up");
        assert_eq!(fit(&m, 22), "✖ paris-east +3 more");
        assert_eq!(least_width(&m), 20);
        // Narrower still: the failing place's name is shortened, never dropped.
        let narrow = fit(&m, 14);
        assert!(narrow.starts_with("✖ pa") && narrow.ends_with("+3 more"), "{narrow}");
        assert!(narrow.chars().count() <= 14, "{narrow}");
    }

    #[test]
    fn a_shortened_name_stays_told_apart_from_its_neighbours() {
        let m = marks(&[("frankfurt-am-main-2", State::Down, false), ("frankfurt-am-main-1", State::Up, false)]);
        let shown = fit(&m, 18);
        assert!(shown.starts_with('✖') && shown.contains('2') && shown.ends_with("+1 up"), "{shown}");
    }
}
