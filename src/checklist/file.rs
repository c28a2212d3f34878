//! Checklist files: TOML, one `[[item]]` per step, errors located by file, line and item.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::template;
use crate::journal::{Audience, Status};

/// The checklists shipped in `checklists/`, embedded so warroom needs no files at run time.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("default", include_str!("../../checklists/default.toml")),
    ("datacenter-loss", include_str!("../../checklists/datacenter-loss.toml")),
    ("mail-delivery", include_str!("../../checklists/mail-delivery.toml")),
    ("drill", include_str!("../../checklists/drill.toml")),
];

#[derive(Debug, Clone, PartialEq)]
pub struct Checklist {
    pub name: String,
    pub description: String,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub id: String,
    pub title: String,
    pub role: Option<String>,
    /// Due this long after the incident opened.
    pub due: Duration,
    /// Comes back this long after each completion, until the incident is resolved.
    pub repeat: Option<Duration>,
    pub when: Vec<Condition>,
    /// Still owed once the incident is resolved (`after_resolve`): an all-clear, a review.
    /// Other items not done by then no longer apply. Defaults to whether `when` asks for
    /// `status == resolved`.
    pub after_resolve: bool,
    pub channel: Option<String>,
    pub audience: Audience,
    pub template: Option<String>,
    pub hint: Option<String>,
    /// Roles the journal must record before the item can be ticked (`needs_roles`): an item
    /// that says "record the roles" is not done while nobody is recorded.
    pub needs_roles: Vec<String>,
}

/// `severity <= 2`, `status == resolved`, …: an item applies only while all its conditions hold.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Severity { op: Op, value: u8 },
    Status { equal: bool, value: Status },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Eq,
    Ne,
    Ge,
    Gt,
}

impl Op {
    fn holds<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Eq => a == b,
            Op::Ne => a != b,
            Op::Ge => a >= b,
            Op::Gt => a > b,
        }
    }
}

impl Condition {
    pub fn holds(&self, severity: Option<u8>, status: Status) -> bool {
        match self {
            Condition::Severity { op, value } => severity.is_some_and(|s| op.holds(s, *value)),
            Condition::Status { equal, value } => (status == *value) == *equal,
        }
    }

    /// Whether this condition holds only once the incident is resolved.
    pub fn needs_resolved(&self) -> bool {
        *self == Condition::Status { equal: true, value: Status::Resolved }
    }

    fn parse(text: &str) -> Result<Vec<Condition>, String> {
        text.split(" and ")
            .map(|clause| {
                let words: Vec<&str> = clause.split_whitespace().collect();
                let [subject, op, value] = words[..] else {
                    return Err(format!("\"{clause}\" must read like `severity <= 2` or `status == resolved`"));
                };
                let op = match op {
                    "<" => Op::Lt,
                    "<=" => Op::Le,
                    "==" | "=" => Op::Eq,
                    "!=" => Op::Ne,
                    ">=" => Op::Ge,
                    ">" => Op::Gt,
                    other => return Err(format!("unknown comparison `{other}`")),
                };
                match subject {
                    "severity" => {
                        let value = value.parse().map_err(|_| format!("severity `{value}` is not a number 1–5"))?;
                        Ok(Condition::Severity { op, value })
                    }
                    "status" => {
                        let value = Status::ALL
                            .into_iter()
                            .find(|s| s.as_str() == value)
                            .ok_or_else(|| format!("unknown status `{value}`"))?;
                        match op {
                            Op::Eq => Ok(Condition::Status { equal: true, value }),
                            Op::Ne => Ok(Condition::Status { equal: false, value }),
                            _ => Err("status compares only with == or !=".into()),
                        }
                    }
                    other => Err(format!("unknown subject `{other}`; use severity or status")),
                }
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistError {
    pub file: PathBuf,
    pub line: usize,
    pub item: Option<String>,
    pub message: String,
}

impl std::fmt::Display for ChecklistError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: ", self.file.display(), self.line)?;
        if let Some(item) = &self.item {
            write!(f, "item \"{item}\": ")?;
        }
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for ChecklistError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChecklist {
    name: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    item: Vec<Spanned<RawItem>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    id: Spanned<String>,
    title: String,
    role: Option<String>,
    due: Spanned<String>,
    repeat: Option<Spanned<String>>,
    when: Option<Spanned<String>>,
    after_resolve: Option<Spanned<bool>>,
    channel: Option<String>,
    audience: Option<Spanned<String>>,
    template: Option<Spanned<String>>,
    hint: Option<String>,
    #[serde(default)]
    needs_roles: Vec<String>,
}

/// Whether `name` is one of the checklists built into warroom (and so safe to load whatever
/// supplied the name).
pub fn is_built_in(name: &str) -> bool {
    BUILT_IN.iter().any(|(n, _)| *n == name)
}

/// A built-in checklist by name, or a file by path.
pub fn load(name_or_path: &str) -> Result<Checklist, ChecklistError> {
    let (text, path) = crate::builtin::find(BUILT_IN, "checklists", name_or_path).map_err(|(file, message)| {
        ChecklistError { file, line: 0, item: None, message: format!("checklist: {message}") }
    })?;
    parse(&text, &path)
}

pub fn parse(text: &str, path: &Path) -> Result<Checklist, ChecklistError> {
    let line_of = |span: Range<usize>| text[..span.start.min(text.len())].matches('\n').count() + 1;
    let raw: RawChecklist = toml::from_str(text).map_err(|e| ChecklistError {
        file: path.to_path_buf(),
        line: e.span().map_or(0, line_of),
        item: None,
        message: e.message().trim().to_string(),
    })?;
    let mut items: Vec<Item> = Vec::with_capacity(raw.item.len());
    for spanned in &raw.item {
        let r = spanned.get_ref();
        let id = r.id.get_ref().trim().to_string();
        let err = |span: Range<usize>, message: String| ChecklistError {
            file: path.to_path_buf(),
            line: line_of(span),
            item: Some(id.clone()),
            message,
        };
        if id.is_empty() {
            return Err(err(r.id.span(), "an item needs a non-empty id".into()));
        }
        if items.iter().any(|i| i.id == id) {
            return Err(err(r.id.span(), "duplicate id; ids must be unique".into()));
        }
        let duration = |s: &Spanned<String>| crate::config::parse_duration(s.get_ref()).map_err(|m| err(s.span(), m));
        let when = match &r.when {
            Some(w) => Condition::parse(w.get_ref()).map_err(|m| err(w.span(), format!("when: {m}")))?,
            None => Vec::new(),
        };
        let after_resolve = match &r.after_resolve {
            Some(a) if !*a.get_ref() && when.iter().any(Condition::needs_resolved) => {
                return Err(err(
                    a.span(),
                    "after_resolve = false, but `when` makes the item apply only once resolved: it could never apply"
                        .into(),
                ));
            }
            Some(a) => *a.get_ref(),
            None => when.iter().any(Condition::needs_resolved),
        };
        if let Some(t) = &r.template {
            template::check(t.get_ref()).map_err(|m| err(t.span(), format!("template: {m}")))?;
        }
        let audience = match r.audience.as_ref().map(|a| a.get_ref().as_str()) {
            None | Some("internal") => Audience::Internal,
            Some("public") => Audience::Public,
            Some(other) => {
                let span = r.audience.as_ref().map(Spanned::span).unwrap_or_default();
                return Err(err(span, format!("audience \"{other}\" must be internal or public")));
            }
        };
        items.push(Item {
            id: id.clone(),
            title: r.title.clone(),
            role: r.role.clone(),
            due: duration(&r.due)?,
            repeat: r.repeat.as_ref().map(duration).transpose()?,
            when,
            after_resolve,
            channel: r.channel.clone(),
            audience,
            template: r.template.as_ref().map(|t| t.get_ref().clone()),
            hint: r.hint.clone(),
            needs_roles: r.needs_roles.iter().map(|r| r.trim().to_string()).filter(|r| !r.is_empty()).collect(),
        });
    }
    let name = raw
        .name
        .or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "checklist".into());
    Ok(Checklist { name, description: raw.description, items })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> ChecklistError {
        parse(text, Path::new("checklists/x.toml")).unwrap_err()
    }

    #[test]
    fn every_built_in_checklist_parses() {
        for (name, _) in BUILT_IN {
            let c = load(name).unwrap_or_else(|e| panic!("{e}"));
            assert!(!c.items.is_empty(), "{name}");
            assert!(c.items.iter().all(|i| !i.title.is_empty()));
        }
        let default = load("default").unwrap();
        let ids: Vec<&str> = default.items.iter().map(|i| i.id.as_str()).collect();
        for needed in [
            "roles",
            "staff",
            "status-page",
            "email-customers",
            "maintenance-page",
            "social",
            "support-channel",
            "public-update",
            "all-clear",
            "review",
        ] {
            assert!(ids.contains(&needed), "default plan lacks {needed}");
        }
    }

    #[test]
    fn parse_errors_name_file_line_and_item() {
        let e = err(
            "[[item]]\nid = \"a\"\ntitle = \"A\"\ndue = \"5m\"\n[[item]]\nid = \"a\"\ntitle = \"B\"\ndue = \"5m\"\n",
        );
        assert_eq!(e.to_string(), "checklists/x.toml:6: item \"a\": duplicate id; ids must be unique");
        let e = err("[[item]]\nid = \"upd\"\ntitle = \"U\"\ndue = \"5m\"\ntemplate = \"next at {next_update}\"\n");
        assert!(
            e.to_string().starts_with("checklists/x.toml:5: item \"upd\": template: unknown placeholder {next_update}"),
            "{e}"
        );
        let e = err("[[item]]\nid = \"b\"\ntitle = \"B\"\ndue = \"soon\"\n");
        assert!(e.to_string().starts_with("checklists/x.toml:4: item \"b\": \"soon\" is not a duration"), "{e}");
        let e = err("[[item]]\nid = \"c\"\ntitle = \"C\"\ndue = \"1m\"\nwhen = \"severity is high\"\n");
        assert!(e.to_string().starts_with("checklists/x.toml:5: item \"c\": when:"), "{e}");
        let e = err("[[item]]\nid = \"d\"\ntitle = \"D\"\ndue = \"1m\"\ncolour = \"red\"\n");
        assert!(e.to_string().starts_with("checklists/x.toml:5: unknown field `colour`"), "{e}");
        let e = err("[[item]]\nid = \"e\"\ntitle = \"E\"\ndue = \"1m\"\naudience = \"everyone\"\n");
        assert!(e.to_string().contains("item \"e\": audience \"everyone\""), "{e}");
    }
}
