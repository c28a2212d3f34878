//! The verdict across places: each place's confirmed state in, one state and the words that
//! name the places out. Pure.

use super::Quorum;
use crate::monitor::State;

/// A check's verdict across its places.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub state: State,
    /// Failing from some places only, short of the quorum: shown as degraded.
    pub partial: bool,
    /// The places by state: `down from paris; up from fra, local`.
    pub detail: String,
}

/// Judges `places` (name, confirmed state; [`State::Unknown`] where a place has no word:
/// unreachable, no connectivity there, no confirmed result yet): the places with a word
/// decide. `None` when no place has one: the verdict then stays as it was, so vantages that
/// cannot be reached never turn a check down by themselves.
pub fn judge(places: &[(String, State)], quorum: Quorum) -> Option<Verdict> {
    let known = places.iter().filter(|(_, s)| *s != State::Unknown).count();
    if known == 0 {
        return None;
    }
    let count = |f: &dyn Fn(State) -> bool| places.iter().filter(|(_, s)| f(*s)).count();
    let down = count(&|s| s == State::Down);
    let failing = count(&|s| s.is_failing());
    let need = match quorum {
        Quorum::Any => 1,
        Quorum::All => known,
        Quorum::AtLeast(n) => n as usize,
    };
    let (state, partial) = if down >= need {
        (State::Down, false)
    } else if failing >= need {
        (State::Degraded, false)
    } else if failing > 0 {
        (State::Degraded, true)
    } else {
        (State::Up, false)
    };
    Some(Verdict { state, partial, detail: describe(places) })
}

/// `down from paris; degraded from fra; up from local; no word from tokyo`.
pub fn describe(places: &[(String, State)]) -> String {
    let group = |state: State, words: &str| {
        let names: Vec<&str> = places.iter().filter(|(_, s)| *s == state).map(|(p, _)| p.as_str()).collect();
        (!names.is_empty()).then(|| format!("{words} {}", names.join(", ")))
    };
    [
        group(State::Down, "down from"),
        group(State::Degraded, "degraded from"),
        group(State::Up, "up from"),
        group(State::Unknown, "no word from"),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places(states: &[(&str, State)]) -> Vec<(String, State)> {
        states.iter().map(|(p, s)| (p.to_string(), *s)).collect()
    }

    #[test]
    fn down_from_some_places_only_is_partial_and_names_them() {
        let p = places(&[("local", State::Up), ("paris", State::Down), ("fra", State::Up)]);
        let v = judge(&p, Quorum::All).unwrap();
        assert_eq!((v.state, v.partial), (State::Degraded, true));
        assert_eq!(v.detail, "down from paris; up from local, fra");
        assert_eq!(judge(&p, Quorum::Any).unwrap().state, State::Down);
        assert_eq!(judge(&p, Quorum::AtLeast(2)).unwrap().state, State::Degraded);
    }

    #[test]
    fn down_everywhere_is_down_and_places_without_word_do_not_count() {
        let p = places(&[("local", State::Down), ("paris", State::Down), ("fra", State::Unknown)]);
        let v = judge(&p, Quorum::All).unwrap();
        assert_eq!((v.state, v.partial), (State::Down, false));
        assert_eq!(v.detail, "down from local, paris; no word from fra");
        // Two of three agreeing is a quorum of 2; one place is not.
        assert_eq!(judge(&p, Quorum::AtLeast(2)).unwrap().state, State::Down);
        assert_eq!(judge(&places(&[("local", State::Down)]), Quorum::AtLeast(2)).unwrap().state, State::Degraded);
    }

    #[test]
    fn no_place_with_a_word_is_no_verdict() {
        assert_eq!(judge(&places(&[("paris", State::Unknown)]), Quorum::All), None);
        let up = judge(&places(&[("paris", State::Up), ("fra", State::Unknown)]), Quorum::All).unwrap();
        assert_eq!((up.state, up.partial), (State::Up, false));
    }
}
