//! Where each check runs and how the places' verdicts combine: the config's `[[vantage]]`
//! entries, each check's `from` and `down_when`, and which checks each place is given.

use std::collections::BTreeMap;

use crate::monitor::CheckDef;

/// The war room's own host, as `from` names it.
pub const LOCAL: &str = "local";

/// A `[[vantage]]` entry: a host that probes for the war room over SSH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VantageDef {
    pub name: String,
    /// A destination as ssh takes it: `user@host` or a `Host` alias.
    pub ssh: String,
    /// warroom's path on that host (default `warroom`).
    pub command: Option<String>,
    /// `command` checks may run there (the agent is started with `--allow-command`).
    pub allow_command: bool,
}

impl VantageDef {
    pub fn destination(&self) -> crate::ssh::Destination {
        crate::ssh::Destination { name: self.name.clone(), ssh: self.ssh.clone(), command: self.command.clone() }
    }
}

/// `down_when`: how many places must see a check down for it to be down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Quorum {
    /// Down when one place sees it down.
    Any,
    /// Down when every place that reports sees it down (the default).
    #[default]
    All,
    /// Down when at least this many places see it down.
    AtLeast(u32),
}

impl Quorum {
    pub fn describe(self) -> String {
        match self {
            Quorum::Any => "any".into(),
            Quorum::All => "all".into(),
            Quorum::AtLeast(n) => n.to_string(),
        }
    }
}

/// Where one check runs, when it is not only here.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// The places, `local` first when it is one of them, then vantages as configured.
    pub from: Vec<String>,
    pub down_when: Quorum,
    /// The check's own `[[check]]` table, without `from`, `down_when` and `public`: what an
    /// agent is sent, so it builds the probe with the same parser and the same limits.
    pub table: toml::Table,
}

/// Everything the war room needs to run checks from several places.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub vantages: Vec<VantageDef>,
    /// Checks run from anywhere but only here, by name.
    pub placements: BTreeMap<String, Placement>,
}

impl Plan {
    /// Nothing runs anywhere else: the plain local monitor does it all.
    pub fn is_local_only(&self) -> bool {
        self.placements.is_empty()
    }

    /// Where `check` runs.
    pub fn places(&self, check: &str) -> Vec<String> {
        match self.placements.get(check) {
            Some(p) => p.from.clone(),
            None => vec![LOCAL.to_string()],
        }
    }

    pub fn quorum(&self, check: &str) -> Quorum {
        self.placements.get(check).map(|p| p.down_when).unwrap_or_default()
    }

    /// Judged across more than one place, or from elsewhere only: its verdict is a quorum's.
    pub fn is_remote(&self, check: &str) -> bool {
        self.placements.contains_key(check)
    }

    /// The checks that run from `place`, with `depends_on` kept to those that run there too
    /// (dependencies are judged per place).
    pub fn checks_at(&self, place: &str, checks: &[impl std::borrow::Borrow<CheckDef>]) -> Vec<CheckDef> {
        let here: Vec<&CheckDef> =
            checks.iter().map(|c| c.borrow()).filter(|c| self.places(&c.name).iter().any(|p| p == place)).collect();
        here.iter()
            .map(|c| {
                let mut c = (*c).clone();
                c.depends_on.retain(|p| here.iter().any(|h| &h.name == p));
                c
            })
            .collect()
    }

    /// The config text an agent at `vantage` is sent: its checks' tables, their dependencies
    /// kept to checks it runs, and the canary when it runs there.
    pub fn agent_config(&self, vantage: &str, canary: Option<&str>) -> String {
        let mut tables = Vec::new();
        let names: Vec<&String> =
            self.placements.iter().filter(|(_, p)| p.from.iter().any(|f| f == vantage)).map(|(n, _)| n).collect();
        for name in &names {
            let mut table = self.placements[*name].table.clone();
            if let Some(toml::Value::Array(parents)) = table.get_mut("depends_on") {
                parents.retain(|p| p.as_str().is_some_and(|p| names.iter().any(|n| n.as_str() == p)));
            }
            tables.push(toml::Value::Table(table));
        }
        let mut doc = toml::Table::new();
        if let Some(canary) = canary.filter(|c| names.iter().any(|n| n.as_str() == *c)) {
            doc.insert("canary".into(), toml::Value::String(canary.to_string()));
        }
        doc.insert("check".into(), toml::Value::Array(tables));
        toml::to_string(&doc).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const VANTAGES: &str = "[[vantage]]\nname = \"paris\"\nssh = \"wr@paris.example\"\n\n\
                            [[vantage]]\nname = \"fra\"\nssh = \"fra\"\ncommand = \"/opt/warroom\"\nallow_command = true\n\n";

    fn parse(checks: &str) -> Result<crate::config::Config, Vec<crate::config::ConfigError>> {
        crate::config::parse_all(&format!("{VANTAGES}{checks}"), Path::new("warroom.toml"))
    }

    fn errors(checks: &str) -> String {
        parse(checks).unwrap_err().iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn checks_say_where_they_run_and_how_places_agree() {
        let config = parse(
            "[[check]]\nname = \"web\"\nkind = \"tcp\"\nhost = \"shop\"\nport = 80\nfrom = \"all\"\ndown_when = 2\npublic = true\n\n\
             [[check]]\nname = \"dns\"\nkind = \"dns\"\nquery = \"shop\"\nfrom = [\"fra\", \"local\"]\ndown_when = \"any\"\ndepends_on = [\"web\", \"here\"]\n\n\
             [[check]]\nname = \"here\"\nkind = \"tcp\"\nhost = \"db\"\nport = 5432\n",
        )
        .unwrap();
        let plan = &config.vantage;
        assert_eq!(plan.vantages.len(), 2);
        assert_eq!(plan.vantages[1].command.as_deref(), Some("/opt/warroom"));
        assert_eq!(plan.places("web"), ["local", "paris", "fra"]);
        assert_eq!(plan.quorum("web"), Quorum::AtLeast(2));
        // Local first, then vantages in the order they are configured.
        assert_eq!(plan.places("dns"), ["local", "fra"]);
        assert_eq!(plan.quorum("dns"), Quorum::Any);
        assert_eq!(plan.places("here"), ["local"]);
        assert!(!plan.is_remote("here"));
        // fra gets its two checks, dependencies kept to what runs there, and nothing only the
        // war room reads.
        let sent: toml::Table = plan.agent_config("fra", Some("web")).parse().unwrap();
        let checks = sent["check"].as_array().unwrap();
        let names: Vec<&str> = checks.iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["dns", "web"]);
        assert_eq!(checks[0]["depends_on"].as_array().unwrap().len(), 1, "{sent}");
        assert!(checks.iter().all(|c| !c.as_table().unwrap().contains_key("from")), "{sent}");
        assert!(checks.iter().all(|c| !c.as_table().unwrap().contains_key("public")), "{sent}");
        assert_eq!(sent["canary"].as_str(), Some("web"));
        // What the agent is sent parses with the same parser.
        let there = crate::config::parse(&plan.agent_config("fra", None), Path::new("sent")).unwrap();
        assert_eq!(there.checks.len(), 2);
        assert_eq!(plan.checks_at("local", &config.checks).len(), 3);
        assert_eq!(plan.checks_at("paris", &config.checks).len(), 1);
    }

    #[test]
    fn unknown_places_and_impossible_quorums_are_errors_naming_the_line() {
        let e = errors(
            "[[check]]\nname = \"web\"\nkind = \"tcp\"\nhost = \"x\"\nport = 1\nfrom = [\"paris\", \"tokyo\"]\n",
        );
        assert!(e.contains("warroom.toml:16:8: field `from`"), "{e}");
        assert!(e.contains("\"tokyo\" is not a configured vantage (places: local, paris, fra, or \"all\")"), "{e}");
        let e = errors(
            "[[check]]\nname = \"web\"\nkind = \"tcp\"\nhost = \"x\"\nport = 1\nfrom = [\"paris\"]\ndown_when = 3\n",
        );
        assert!(e.contains("down_when") && e.contains("3 places cannot agree: the check runs from 1"), "{e}");
        let e = errors("[[check]]\nname = \"web\"\nkind = \"tcp\"\nhost = \"x\"\nport = 1\ndown_when = \"most\"\n");
        assert!(e.contains("write \"any\", \"all\", or a number of places"), "{e}");
        let e = errors(
            "[[vantage]]\nname = \"local\"\nssh = \"h\"\n\n[[vantage]]\nname = \"paris\"\nssh = \"-oProxyCommand=x\"\n",
        );
        assert!(e.contains("\"local\" is reserved"), "{e}");
        assert!(e.contains("another vantage already has this name"), "{e}");
    }

    #[test]
    fn a_command_check_runs_on_a_vantage_only_if_its_entry_allows_it() {
        let check = |from: &str| {
            format!("[[check]]\nname = \"disk\"\nkind = \"command\"\ncommand = [\"true\"]\nfrom = {from}\n")
        };
        let e = errors(&check("[\"paris\"]"));
        assert!(
            e.contains("a command check runs on vantage \"paris\" only if its entry says `allow_command = true`"),
            "{e}"
        );
        assert!(parse(&check("[\"fra\", \"local\"]")).is_ok());
    }
}
