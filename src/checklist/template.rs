//! Message templates: `{placeholder}`s filled from the live incident.

/// Every placeholder a template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "title",
    "status",
    "severity",
    "started_local",
    "started_utc",
    "elapsed",
    "failing_checks",
    "commander",
    "next_update_local",
    "deputy",
    "scribe",
    "comms",
];

/// The values to fill in, computed by the caller from the incident and the clock.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    pub title: String,
    pub status: String,
    pub severity: String,
    pub started_local: String,
    pub started_utc: String,
    pub elapsed: String,
    pub failing_checks: String,
    pub commander: String,
    pub next_update_local: String,
    /// The other roles' holders, as the journal's `role_assigned` entries name them.
    pub deputy: String,
    pub scribe: String,
    pub comms: String,
}

impl Context {
    fn get(&self, name: &str) -> Option<&str> {
        Some(match name {
            "title" => &self.title,
            "status" => &self.status,
            "severity" => &self.severity,
            "started_local" => &self.started_local,
            "started_utc" => &self.started_utc,
            "elapsed" => &self.elapsed,
            "failing_checks" => &self.failing_checks,
            "commander" => &self.commander,
            "next_update_local" => &self.next_update_local,
            "deputy" => &self.deputy,
            "scribe" => &self.scribe,
            "comms" => &self.comms,
            _ => return None,
        })
    }
}

/// Splits a template into literal text and placeholders; `{{` and `}}` are literal braces.
fn pieces(template: &str) -> Result<Vec<(bool, String)>, String> {
    let mut out = Vec::new();
    let mut literal = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                literal.push('}');
            }
            '{' => {
                let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                if !PLACEHOLDERS.contains(&name.as_str()) {
                    return Err(format!("unknown placeholder {{{name}}}; known: {}", PLACEHOLDERS.join(", ")));
                }
                out.push((false, std::mem::take(&mut literal)));
                out.push((true, name));
            }
            '}' => return Err("a lone `}`; write `}}` for a literal brace".into()),
            c => literal.push(c),
        }
    }
    out.push((false, literal));
    Ok(out)
}

/// Checks a template without rendering it (for checklist parsing).
pub fn check(template: &str) -> Result<(), String> {
    pieces(template).map(|_| ())
}

/// Fills a template. Templates are checked when the checklist is loaded.
pub fn render(template: &str, ctx: &Context) -> String {
    match pieces(template) {
        Ok(parts) => parts
            .into_iter()
            .map(|(is_placeholder, text)| if is_placeholder { ctx.get(&text).unwrap_or("").to_string() } else { text })
            .collect(),
        Err(_) => template.to_string(),
    }
}

/// The prompts a template leaves for the operator to replace: bracketed text written in
/// the template itself (`[Say whether any data was lost.]`), not filled from a placeholder
/// (`[{title}]` renders as a name in brackets and is meant to go out).
pub fn prompts(template: &str) -> Vec<String> {
    let Ok(parts) = pieces(template) else { return Vec::new() };
    let mut found = Vec::new();
    for (_, literal) in parts.iter().filter(|(is_placeholder, _)| !is_placeholder) {
        let mut rest = literal.as_str();
        while let Some(open) = rest.find('[') {
            let Some(len) = rest[open..].find(']') else { break };
            let prompt = &rest[open..open + len + 1];
            if prompt.len() > 2 {
                found.push(prompt.to_string());
            }
            rest = &rest[open + len + 1..];
        }
    }
    found
}

/// The template's prompts still in `text`: a message about to go out unfinished.
pub fn unfilled(template: &str, text: &str) -> Vec<String> {
    prompts(template).into_iter().filter(|p| text.contains(p.as_str())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_renders() {
        let ctx = Context {
            title: "Mail delivery".into(),
            status: "identified".into(),
            severity: "2".into(),
            started_local: "02:50 CET".into(),
            started_utc: "01:50 UTC".into(),
            elapsed: "1h 12m".into(),
            failing_checks: "smtp, imap".into(),
            commander: "alice".into(),
            next_update_local: "03:30 CET".into(),
            deputy: "bob".into(),
            scribe: "carol".into(),
            comms: "dave".into(),
        };
        let all: String = PLACEHOLDERS.iter().map(|p| format!("[{{{p}}}]")).collect();
        assert_eq!(
            render(&all, &ctx),
            "[Mail delivery][identified][2][02:50 CET][01:50 UTC][1h 12m][smtp, imap][alice][03:30 CET][bob][carol][dave]"
        );
        assert_eq!(render("{{literal}} {title}", &ctx), "{literal} Mail delivery");
    }

    #[test]
    fn prompts_are_the_templates_own_brackets_not_filled_ones() {
        let all_clear = "Resolved: {title} works again.\n[Say whether any data was lost.] A review will follow.";
        assert_eq!(prompts(all_clear), vec!["[Say whether any data was lost.]".to_string()]);
        assert!(prompts("[{title}] We have an outage.").is_empty());
        assert!(prompts("a [] pair and a lone [ bracket").is_empty());
    }

    #[test]
    fn unknown_placeholders_and_lone_braces_are_errors() {
        assert!(check("{titel}").unwrap_err().contains("unknown placeholder {titel}"));
        assert!(check("oops }").is_err());
        assert!(check("fine {elapsed}").is_ok());
    }
}
