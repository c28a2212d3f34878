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
    pub fn checks_at(&self, place: &str, checks: &[CheckDef]) -> Vec<CheckDef> {
        let here: Vec<&CheckDef> = checks.iter().filter(|c| self.places(&c.name).iter().any(|p| p == place)).collect();
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
