//! Scenario files: the simulated checks and a script of timed injections.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::monitor::State;

/// The shipped scenarios (`drills/`), embedded in the binary.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("datacenter-fire", include_str!("../../drills/datacenter-fire.toml")),
    ("mail-rcpt-failure", include_str!("../../drills/mail-rcpt-failure.toml")),
    ("storage-cascade", include_str!("../../drills/storage-cascade.toml")),
    ("friday-night", include_str!("../../drills/friday-night.toml")),
];

#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub title: String,
    pub description: String,
    pub severity: u8,
    pub checklist: Option<String>,
    pub checks: Vec<SimCheck>,
    /// In time order.
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SimCheck {
    pub name: String,
    /// The kind shown on screen (nothing is probed).
    pub kind: String,
    pub target: String,
    pub state: State,
    pub latency: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Scenario time after the start.
    pub at: Duration,
    pub action: StepAction,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepAction {
    Check {
        check: String,
        state: Option<State>,
        latency: Option<Duration>,
        detail: Option<String>,
        retry_after: Option<Duration>,
    },
    Message {
        from: String,
        text: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
    }
}

impl std::error::Error for ScenarioError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Option<String>,
    title: String,
    #[serde(default)]
    description: String,
    severity: Option<u8>,
    checklist: Option<String>,
    #[serde(default)]
    check: Vec<Spanned<RawCheck>>,
    #[serde(default)]
    step: Vec<Spanned<RawStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    name: String,
    kind: Option<String>,
    #[serde(default)]
    target: String,
    state: Option<String>,
    latency: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    at: Spanned<String>,
    check: Option<String>,
    state: Option<String>,
    latency: Option<String>,
    detail: Option<String>,
    retry_after: Option<String>,
    from: Option<String>,
    message: Option<String>,
}

/// A built-in scenario by name, or a scenario file by path.
pub fn load(name_or_path: &str) -> Result<Scenario, ScenarioError> {
    let (text, path) = crate::builtin::find(BUILT_IN, "drills", name_or_path)
        .map_err(|(file, message)| ScenarioError { file, line: 0, message: format!("scenario: {message}") })?;
    parse(&text, &path)
}

fn state(text: &str) -> Result<State, String> {
    match text {
        "up" => Ok(State::Up),
        "degraded" => Ok(State::Degraded),
        "down" => Ok(State::Down),
        "unknown" => Ok(State::Unknown),
        other => Err(format!("state \"{other}\" must be up, degraded, down or unknown")),
    }
}

pub fn parse(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
    let line_of = |span: Range<usize>| text[..span.start.min(text.len())].matches('\n').count() + 1;
    let err =
        |span: Range<usize>, message: String| ScenarioError { file: path.to_path_buf(), line: line_of(span), message };
    let raw: RawScenario = toml::from_str(text).map_err(|e| ScenarioError {
        file: path.to_path_buf(),
        line: e.span().map_or(0, line_of),
        message: e.message().trim().to_string(),
    })?;
    let duration = |s: &str, span: Range<usize>| crate::config::parse_duration(s).map_err(|m| err(span, m));
    let mut checks: Vec<SimCheck> = Vec::new();
    for c in &raw.check {
        let span = c.span();
        let r = c.get_ref();
        if checks.iter().any(|x| x.name == r.name) {
            return Err(err(span, format!("check \"{}\" is defined twice", r.name)));
        }
        checks.push(SimCheck {
            name: r.name.clone(),
            kind: r.kind.clone().unwrap_or_else(|| "http".into()),
            target: r.target.clone(),
            state: r.state.as_deref().map(state).transpose().map_err(|m| err(span.clone(), m))?.unwrap_or(State::Up),
            latency: r
                .latency
                .as_deref()
                .map(|l| duration(l, span.clone()))
                .transpose()?
                .unwrap_or(Duration::from_millis(50)),
        });
    }
    let mut steps = Vec::new();
    for s in &raw.step {
        let span = s.span();
        let r = s.get_ref();
        let at = duration(r.at.get_ref(), r.at.span())?;
        let action = match (&r.check, &r.message) {
            (Some(check), None) => {
                if !checks.iter().any(|c| &c.name == check) {
                    return Err(err(span, format!("step at {}: no simulated check named \"{check}\"", r.at.get_ref())));
                }
                if r.state.is_none() && r.latency.is_none() && r.detail.is_none() {
                    return Err(err(span, "a check step changes `state`, `latency` or `detail`".into()));
                }
                StepAction::Check {
                    check: check.clone(),
                    state: r.state.as_deref().map(state).transpose().map_err(|m| err(span.clone(), m))?,
                    latency: r.latency.as_deref().map(|l| duration(l, span.clone())).transpose()?,
                    detail: r.detail.clone(),
                    retry_after: r.retry_after.as_deref().map(|l| duration(l, span.clone())).transpose()?,
                }
            }
            (None, Some(text)) => {
                StepAction::Message { from: r.from.clone().unwrap_or_else(|| "someone".into()), text: text.clone() }
            }
            _ => {
                return Err(err(
                    span,
                    "a step has either `check` (with state/latency/detail) or `message`, not both or neither".into(),
                ));
            }
        };
        steps.push(Step { at, action });
    }
    // Stable: steps at the same time keep their file order.
    steps.sort_by_key(|s| s.at);
    let name = raw
        .name
        .or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "drill".into());
    let severity = raw.severity.unwrap_or(2);
    if !(1..=5).contains(&severity) {
        return Err(ScenarioError {
            file: path.to_path_buf(),
            line: 0,
            message: "severity must be 1 (worst) to 5".into(),
        });
    }
    Ok(Scenario {
        name,
        title: raw.title,
        description: raw.description,
        severity,
        checklist: raw.checklist,
        checks,
        steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_scenario_parses_and_recovers_everything_it_breaks() {
        for (name, _) in BUILT_IN {
            let s = load(name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(&s.name, name);
            assert!(!s.description.is_empty());
            let mut p = crate::drill::Player::new(s.clone());
            p.advance(Duration::from_secs(24 * 3600));
            assert!(p.finished() && p.all_recovered(), "{name} leaves a fault unrecovered");
            if let Some(c) = &s.checklist {
                crate::checklist::load(c).unwrap();
            }
        }
    }

    #[test]
    fn errors_name_file_and_line() {
        let p = Path::new("drills/x.toml");
        let e = parse(
            "title = \"t\"\n[[check]]\nname = \"a\"\n[[step]]\nat = \"10s\"\ncheck = \"b\"\nstate = \"down\"\n",
            p,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "drills/x.toml:4: step at 10s: no simulated check named \"b\"");
        let e = parse("title = \"t\"\n[[step]]\nat = \"soon\"\nmessage = \"m\"\n", p).unwrap_err();
        assert!(e.to_string().starts_with("drills/x.toml:3: \"soon\" is not a duration"), "{e}");
        let e = parse("title = \"t\"\n[[check]]\nname = \"a\"\nstate = \"on fire\"\n", p).unwrap_err();
        assert!(e.to_string().starts_with("drills/x.toml:2: state \"on fire\""), "{e}");
        let e = parse("title = \"t\"\n[[step]]\nat = \"1s\"\n", p).unwrap_err();
        assert!(e.to_string().contains("either `check`"), "{e}");
        let e = parse("titel = \"t\"\n", p).unwrap_err();
        assert!(e.to_string().starts_with("drills/x.toml:1: unknown field `titel`"), "{e}");
    }
}
