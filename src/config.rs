//! `warroom.toml`: the checks, the journal, the theme, the checklist, the update cadence.
//!
//! Every error names the file, line, column and field. The file is parsed into flat,
//! serde-derived tables (so the TOML parser can point at the exact key), then validated into
//! typed check definitions, with kind-specific rules checked here rather than at probe time.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use toml::Spanned;

mod shape;

use crate::comms::{Channel, Format, Secret};
use crate::monitor::{CheckDef, Schedule};
use crate::probe::{
    AlertmanagerSpec, ApiAuth, CommandSpec, DEFAULT_CERT_WARN_DAYS, DEFAULT_MAX_BODY, DnsSpec, HttpSpec, ProbeSpec,
    PrometheusSpec, PushSpec, RecordType, SmtpSpec, StartTls, StatusRange, TcpSpec, Threshold, TlsSpec,
};

/// The file name looked for in the working directory and in the user config dir.
pub const FILE_NAME: &str = "warroom.toml";

/// A config problem, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    /// The key at fault, when known.
    pub field: Option<String>,
    pub message: String,
    /// The offending source line, for context.
    pub source_line: Option<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Line 0: about the file as a whole (missing, unreadable), with no place in it to name.
        if self.line == 0 {
            write!(f, "{}: ", self.file.display())?;
        } else {
            write!(f, "{}:{}:{}: ", self.file.display(), self.line, self.column)?;
        }
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(src) = &self.source_line {
            write!(f, "\n    | {src}\n    | {}^", " ".repeat(self.column.saturating_sub(1)))?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// A loaded, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it was read from (`None` for the built-in defaults).
    pub source: Option<PathBuf>,
    pub journal: Option<PathBuf>,
    pub journal_dir: Option<PathBuf>,
    pub theme: Option<String>,
    pub checklist: Option<String>,
    pub update_every: Option<Duration>,
    /// The zone public messages state their times in (`public_time_zone`: `UTC`, the
    /// default, or a fixed offset such as `+01:00`).
    pub public_offset: chrono::FixedOffset,
    pub incident_title: Option<String>,
    pub incident_severity: Option<u8>,
    pub checks: Vec<CheckDef>,
    /// Probes running at once across all checks.
    pub max_concurrent_probes: usize,
    /// A check whose failure means this host itself is offline.
    pub canary: Option<String>,
    /// Rebound keys from `[keys]`, validated by the screen's keymap.
    pub keys: Vec<KeyBinding>,
    /// Where checklist messages can be sent, by name.
    pub channels: BTreeMap<String, Channel>,
    /// A group that shares the war room: new journals are created 0660 and owned by it.
    pub journal_group: Option<String>,
    /// `[attention]`: how the screen calls for attention; off unless asked for.
    pub attention: Attention,
    /// The checks a status page may show: those marked `public = true`, and those listed in
    /// `public_components`. Nothing is public unless chosen.
    pub public_components: Vec<String>,
    /// `public_title`: the status page's heading. The incident's own title is internal (it
    /// may name a customer or a cause) and never reaches the page unless chosen here.
    pub public_title: Option<String>,
    /// `[screen]`: how the dashboard lists things.
    pub screen: Screen,
    /// `[[vantage]]` entries and the checks that run from them (`from`, `down_when`).
    pub vantage: crate::vantage::Plan,
    /// `[[mirror]]`: hosts the journal is shipped to as it is written.
    pub mirrors: Vec<Mirror>,
}

/// `[screen]`: `checklist_order = "due"` (the default: what is owed soonest first) or `"file"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Screen {
    #[serde(default)]
    pub checklist_order: crate::checklist::Order,
}

/// A `[[mirror]]`: where a copy of the journal is kept, on another host, over ssh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    /// `name`, `ssh` and `command` (warroom's path there), as for any link.
    pub destination: crate::ssh::Destination,
    /// The journal's path on that host.
    pub journal: PathBuf,
}

/// `[attention]`: on a new confirmed failure, and when a public update becomes overdue, ring
/// the terminal bell and/or set the window title. Both off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attention {
    #[serde(default)]
    pub bell: bool,
    #[serde(default)]
    pub title: bool,
}

/// One `[keys]` entry: `action = "key"` or `action = ["key", "key"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyBinding {
    pub action: String,
    pub keys: Vec<String>,
    pub line: usize,
}

/// Default for `max_concurrent_probes`.
pub const DEFAULT_MAX_CONCURRENT: usize = 64;

impl Default for Config {
    fn default() -> Self {
        Config {
            source: None,
            journal: None,
            journal_dir: None,
            theme: None,
            checklist: None,
            update_every: None,
            public_offset: chrono::FixedOffset::east_opt(0).expect("UTC is an offset"),
            incident_title: None,
            incident_severity: None,
            checks: Vec::new(),
            max_concurrent_probes: DEFAULT_MAX_CONCURRENT,
            canary: None,
            keys: Vec::new(),
            channels: BTreeMap::new(),
            journal_group: None,
            attention: Attention::default(),
            public_components: Vec::new(),
            public_title: None,
            screen: Screen::default(),
            vantage: crate::vantage::Plan::default(),
            mirrors: Vec::new(),
        }
    }
}

/// Where a config came from, in lookup order.
pub fn locate(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    let local = PathBuf::from(FILE_NAME);
    if local.is_file() {
        return Some(local);
    }
    let user = directories::ProjectDirs::from("", "", "warroom").map(|d| d.config_dir().join("config.toml"));
    // Last, the host's: a team on one bastion shares one config without each passing -c.
    user.into_iter().chain([PathBuf::from(SYSTEM_FILE)]).find(|p| p.is_file())
}

/// The config every user of the host reads when they have none of their own.
pub const SYSTEM_FILE: &str = "/etc/warroom/config.toml";

/// Reads and validates a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    load_all(path).map_err(first)
}

/// Reads and validates a config file, with every problem found rather than the first.
pub fn load_all(path: &Path) -> Result<Config, Vec<ConfigError>> {
    if let Some(copy) = crate::mirror::status::shipped_beside(path) {
        crate::mirror::status::own_shipped_files(&copy).map_err(|message| {
            vec![ConfigError { file: path.to_path_buf(), line: 0, column: 0, field: None, message, source_line: None }]
        })?;
    }
    let text = std::fs::read_to_string(path).map_err(|e| vec![unreadable(path, &e)])?;
    parse_all(&text, path)
}

/// A config file that cannot be read, said in plain words (there is no line to point at).
fn unreadable(path: &Path, e: &std::io::Error) -> ConfigError {
    let message = match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied: this user may not read it".to_string(),
        _ => format!("cannot read config: {e}"),
    };
    ConfigError { file: path.to_path_buf(), line: 0, column: 0, field: None, message, source_line: None }
}

/// The first problem, for a command that stops at it; saying how many follow spares the
/// user a fix-and-retry round per mistake.
fn first(mut errors: Vec<ConfigError>) -> ConfigError {
    let more = errors.len() - 1;
    let mut first = errors.remove(0);
    if more > 0 {
        let problems = if more == 1 { "problem" } else { "problems" };
        first.message += &format!(" ({more} more {problems} after it: `warroom validate` lists them all)");
    }
    first
}

/// Parses and validates config text; `path` is used in error messages only.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    parse_all(text, path).map_err(first)
}

/// Parses and validates config text, finding every problem (`warroom validate` reports them
/// all in one run). A file that is not TOML gives its one syntax error; one whose values are
/// of the wrong type gets each of those named, and the rules beyond types are checked once
/// every value reads (a value taken out for its type would only raise false alarms there).
pub fn parse_all(text: &str, path: &Path) -> Result<Config, Vec<ConfigError>> {
    let src = Source { text, path };
    let raw = src.read_raw()?;
    let mut errors = Vec::new();

    let (names, checks) = validate_checks(&src, &raw.check, &mut errors);
    check_canary(&src, raw.canary.as_ref(), &names, &mut errors);
    let public_components = collect_public_components(&src, &raw, &names, &mut errors);
    check_limits(&src, &raw, &mut errors);
    let keys = parse_keys(&src, raw.keys.as_ref(), &mut errors);
    let channels = parse_channels(&src, &raw.channel, &mut errors);
    let public_offset = parse_public_offset(&src, raw.public_time_zone.as_ref(), &mut errors);
    let vantage = parse_vantage_plan(&src, &raw, &checks, &mut errors);
    let mirrors = parse_mirrors(&src, &raw.mirror, &mut errors);
    if !errors.is_empty() {
        errors.sort_by_key(|e| (e.line, e.column));
        return Err(errors);
    }

    Ok(Config {
        source: Some(path.to_path_buf()),
        journal: raw.journal,
        journal_dir: raw.journal_dir,
        theme: raw.theme,
        checklist: raw.checklist,
        update_every: raw.update_every,
        public_offset,
        incident_title: raw.incident.title,
        incident_severity: raw.incident.severity.map(Spanned::into_inner),
        checks,
        max_concurrent_probes: raw.max_concurrent_probes.map_or(DEFAULT_MAX_CONCURRENT, Spanned::into_inner),
        canary: raw.canary.map(Spanned::into_inner),
        keys,
        channels,
        journal_group: raw.journal_group,
        attention: raw.attention,
        public_components,
        public_title: raw.public_title,
        screen: raw.screen,
        vantage,
        mirrors,
    })
}

/// The config text being parsed, and the path its errors name.
struct Source<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Source<'_> {
    /// An error at `span`, or at the start of the file when there is none.
    fn located(&self, span: Option<Range<usize>>, field: Option<String>, message: String) -> ConfigError {
        locate_error(self.text, self.path, span.unwrap_or(0..0), field, message)
    }

    /// Where `key = …` is written in `table`, else the table itself.
    fn key_or_table(&self, table: Range<usize>, key: &str) -> Range<usize> {
        find_key_in(self.text, table.clone(), key).unwrap_or(table)
    }

    /// The text as TOML of the config's shape, or its syntax error, or every entry of the
    /// wrong shape, in file order.
    fn read_raw(&self) -> Result<RawConfig, Vec<ConfigError>> {
        shape::read(self.text).map_err(|errors| {
            errors
                .iter()
                .map(|e| {
                    let field = e.span().and_then(|s| key_at(self.text, s.start));
                    self.located(e.span(), field, e.message().trim().to_string())
                })
                .collect()
        })
    }
}

/// The `[[check]]` tables, each validated on its own, then their `depends_on` against the
/// names found. Returns the names of all checks and the checks that are valid.
fn validate_checks(
    src: &Source,
    tables: &[Spanned<RawCheck>],
    errors: &mut Vec<ConfigError>,
) -> (BTreeSet<String>, Vec<CheckDef>) {
    let mut names = BTreeSet::new();
    let mut checks = Vec::with_capacity(tables.len());
    let mut checked_tables = Vec::with_capacity(tables.len());
    for table in tables {
        let span = table.span();
        let check = table.get_ref();
        let name = check.name.get_ref().trim().to_string();
        let err = |field: &str, message: String| {
            // Point at the field itself when it was written, else at the check's name.
            let field_span = find_key_in(src.text, span.clone(), field).unwrap_or_else(|| check.name.span());
            src.located(Some(field_span), Some(field.to_string()), format!("check \"{name}\": {message}"))
        };
        if name.is_empty() {
            errors.push(err("name", "a check needs a non-empty name".into()));
            continue;
        }
        if !names.insert(name.clone()) {
            errors.push(err("name", "another check already has this name; names must be unique".into()));
            continue;
        }
        if let Some(why) = name_problem(&name) {
            errors.push(err("name", why));
            continue;
        }
        match validate_check(check, &name, &err) {
            Ok(c) => {
                checks.push(c);
                checked_tables.push(table);
            }
            Err(e) => errors.extend(e),
        }
    }
    report_unknown_dependencies(src, &checked_tables, &checks, &names, errors);
    report_shared_listeners(src, &checked_tables, &checks, errors);
    (names, checks)
}

/// A webhook address another check already listens on: one of them would never bind.
fn report_shared_listeners(
    src: &Source,
    tables: &[&Spanned<RawCheck>],
    checks: &[CheckDef],
    errors: &mut Vec<ConfigError>,
) {
    let mut taken: BTreeMap<std::net::SocketAddr, &str> = BTreeMap::new();
    for (table, check) in tables.iter().zip(checks) {
        let crate::probe::ProbeSpec::Alertmanager(spec) = &check.probe else { continue };
        let Some(push) = &spec.push else { continue };
        let Some(first) = taken.get(&push.listen) else {
            taken.insert(push.listen, &check.name);
            continue;
        };
        let span = src.key_or_table(table.span(), "listen");
        errors.push(src.located(
            Some(span),
            Some("listen".into()),
            format!("check \"{}\": check \"{first}\" already listens on {}", check.name, push.listen),
        ));
    }
}

/// The longest check name: every state change carries it into the journal, whose lines have
/// a limit, and no screen shows more.
const NAME_MOST: usize = 200;

/// What is wrong with a check's name, if anything.
fn name_problem(name: &str) -> Option<String> {
    if name.chars().count() > NAME_MOST {
        return Some(format!("a check's name is at most {NAME_MOST} characters"));
    }
    // A source's rows are named `check / key`: a check named so would share a row with one.
    name.contains(" / ").then(|| {
        "\" / \" is kept for the rows of sources (`alerts / HighErrorRate api-1`); name the check otherwise".into()
    })
}

/// A `depends_on` naming no other configured check. `tables[i]` is where `checks[i]` was written.
fn report_unknown_dependencies(
    src: &Source,
    tables: &[&Spanned<RawCheck>],
    checks: &[CheckDef],
    names: &BTreeSet<String>,
    errors: &mut Vec<ConfigError>,
) {
    for (table, check) in tables.iter().zip(checks) {
        for parent in &check.depends_on {
            if !names.contains(parent) || parent == &check.name {
                let span = src.key_or_table(table.span(), "depends_on");
                errors.push(src.located(
                    Some(span),
                    Some("depends_on".into()),
                    format!("check \"{}\": depends on \"{parent}\", which is not another configured check", check.name),
                ));
            }
        }
    }
}

/// `canary` must name a configured check.
fn check_canary(
    src: &Source,
    canary: Option<&Spanned<String>>,
    names: &BTreeSet<String>,
    errors: &mut Vec<ConfigError>,
) {
    if let Some(canary) = canary
        && !names.contains(canary.get_ref())
    {
        errors.push(src.located(
            Some(canary.span()),
            Some("canary".into()),
            format!("\"{}\" is not a configured check", canary.get_ref()),
        ));
    }
}

/// The checks marked `public = true`, then those listed in `public_components` (each once);
/// a listed name must be a configured check.
fn collect_public_components(
    src: &Source,
    raw: &RawConfig,
    names: &BTreeSet<String>,
    errors: &mut Vec<ConfigError>,
) -> Vec<String> {
    let mut public_components: Vec<String> = raw
        .check
        .iter()
        .filter(|c| c.get_ref().public == Some(true))
        .map(|c| c.get_ref().name.get_ref().trim().to_string())
        .collect();
    for listed in &raw.public_components {
        let name = listed.get_ref();
        if !names.contains(name) {
            errors.push(src.located(
                Some(listed.span()),
                Some("public_components".into()),
                format!("\"{name}\" is not a configured check"),
            ));
        }
        if !public_components.contains(name) {
            public_components.push(name.clone());
        }
    }
    public_components
}

/// The numbers with a fixed range: `max_concurrent_probes` and the incident's `severity`.
fn check_limits(src: &Source, raw: &RawConfig, errors: &mut Vec<ConfigError>) {
    if let Some(n) = &raw.max_concurrent_probes
        && *n.get_ref() == 0
    {
        errors.push(src.located(Some(n.span()), Some("max_concurrent_probes".into()), "must be at least 1".into()));
    }
    if let Some(sev) = &raw.incident.severity
        && !(1..=5).contains(sev.get_ref())
    {
        errors.push(src.located(Some(sev.span()), Some("severity".into()), "severity must be 1 (worst) to 5".into()));
    }
}

/// `[keys]`: each action bound to a key or a list of keys, with the line it was written on.
fn parse_keys(src: &Source, table: Option<&Spanned<toml::Table>>, errors: &mut Vec<ConfigError>) -> Vec<KeyBinding> {
    let mut keys = Vec::new();
    let Some(table) = table else {
        return keys;
    };
    for (action, value) in table.get_ref() {
        let at = src.key_or_table(table.span(), action);
        let list = match value {
            toml::Value::String(k) => vec![k.clone()],
            toml::Value::Array(items) => items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
            _ => Vec::new(),
        };
        if list.is_empty() {
            errors.push(src.located(Some(at), Some(action.clone()), "must be a key (\"q\") or a list of keys".into()));
            continue;
        }
        let line = src.text[..at.start.min(src.text.len())].matches('\n').count() + 1;
        keys.push(KeyBinding { action: action.clone(), keys: list, line });
    }
    keys
}

/// The `[channel.NAME]` tables that are valid, by name.
/// The `[[mirror]]` tables: each named once, with a host ssh can take and an absolute path.
fn parse_mirrors(src: &Source, raw: &[Spanned<RawMirror>], errors: &mut Vec<ConfigError>) -> Vec<Mirror> {
    let mut mirrors: Vec<Mirror> = Vec::new();
    for spanned in raw {
        let m = spanned.get_ref();
        let err = |field: &str, message: String| {
            let at = src.key_or_table(spanned.span(), field);
            src.located(Some(at), Some(field.to_string()), format!("mirror \"{}\": {message}", m.name))
        };
        let problem = if m.name.trim().is_empty() {
            Some(("name", "a mirror needs a non-empty name".to_string()))
        } else if mirrors.iter().any(|other| other.destination.name == m.name) {
            Some(("name", "another mirror already has this name; names must be unique".to_string()))
        } else if m.ssh.trim().is_empty() || m.ssh.starts_with('-') {
            Some(("ssh", format!("{:?} is not a host ssh can take (user@host or a Host alias)", m.ssh)))
        } else if !m.journal.is_absolute() {
            Some(("journal", "the journal's path on the mirror host must be absolute".to_string()))
        } else {
            None
        };
        match problem {
            Some((field, message)) => errors.push(err(field, message)),
            None => mirrors.push(Mirror {
                destination: crate::ssh::Destination {
                    name: m.name.clone(),
                    ssh: m.ssh.clone(),
                    command: m.command.clone(),
                },
                journal: m.journal.clone(),
            }),
        }
    }
    mirrors
}

fn parse_channels(
    src: &Source,
    raw: &BTreeMap<String, Spanned<RawChannel>>,
    errors: &mut Vec<ConfigError>,
) -> BTreeMap<String, Channel> {
    let mut channels = BTreeMap::new();
    for (name, spanned) in raw {
        let err = |field: &str, message: String| {
            let at = src.key_or_table(spanned.span(), field);
            src.located(Some(at), Some(field.to_string()), format!("channel \"{name}\": {message}"))
        };
        match build_channel(spanned.get_ref(), &err) {
            Ok(channel) => {
                channels.insert(name.clone(), channel);
            }
            Err(e) => errors.push(e),
        }
    }
    channels
}

fn build_channel(c: &RawChannel, err: &dyn Fn(&str, String) -> ConfigError) -> Result<Channel, ConfigError> {
    let timeout = c.timeout.unwrap_or(Duration::from_secs(10));
    match c.kind.as_str() {
        "webhook" => webhook_channel(c, timeout, err),
        "command" => command_channel(c, timeout, err),
        other => Err(err("kind", format!("unknown channel kind \"{other}\"; expected webhook or command"))),
    }
}

fn webhook_channel(
    c: &RawChannel,
    timeout: Duration,
    err: &dyn Fn(&str, String) -> ConfigError,
) -> Result<Channel, ConfigError> {
    if c.command.is_some() {
        return Err(err("command", "a webhook channel takes `url` or `url_env`, not `command`".into()));
    }
    let url = webhook_url(c, err)?;
    let format = match c.format.as_deref().unwrap_or("slack") {
        "slack" | "mattermost" | "text" => Format::Text,
        "json" => Format::Json,
        other => return Err(err("format", format!("\"{other}\" must be slack, mattermost or json"))),
    };
    Ok(Channel::Webhook { url, format, token_env: c.token_env.clone(), timeout })
}

/// The webhook's URL: written out, or read from the environment variable `url_env` names.
fn webhook_url(c: &RawChannel, err: &dyn Fn(&str, String) -> ConfigError) -> Result<Secret, ConfigError> {
    match (&c.url, &c.url_env) {
        (Some(u), None) => {
            match reqwest::Url::parse(u) {
                Ok(p) if matches!(p.scheme(), "http" | "https") => {}
                _ => return Err(err("url", format!("\"{u}\" is not an http(s) URL"))),
            }
            Ok(Secret::Plain(u.clone()))
        }
        (None, Some(var)) => Ok(Secret::Env(var.clone())),
        (Some(_), Some(_)) => Err(err("url_env", "give `url` or `url_env`, not both".into())),
        (None, None) => Err(err("url", "a webhook channel needs `url`, or `url_env` naming an environment variable (keeps the secret out of the file)".into())),
    }
}

fn command_channel(
    c: &RawChannel,
    timeout: Duration,
    err: &dyn Fn(&str, String) -> ConfigError,
) -> Result<Channel, ConfigError> {
    let command = c.command.clone().unwrap_or_default();
    if command.first().is_none_or(|p| p.trim().is_empty()) {
        return Err(err(
            "command",
            "a command channel needs `command = [\"program\", …]`; it reads the message on stdin".into(),
        ));
    }
    if c.url.is_some() || c.url_env.is_some() || c.format.is_some() || c.token_env.is_some() {
        return Err(err("url", "a command channel takes only `command` and `timeout`".into()));
    }
    Ok(Channel::Command { command, timeout })
}

/// `public_time_zone`, UTC when not given (or when not one warroom can state).
fn parse_public_offset(
    src: &Source,
    zone: Option<&Spanned<String>>,
    errors: &mut Vec<ConfigError>,
) -> chrono::FixedOffset {
    let utc = chrono::FixedOffset::east_opt(0).expect("UTC is an offset");
    match zone {
        None => utc,
        Some(zone) => parse_public_zone(zone.get_ref()).unwrap_or_else(|| {
            let why = format!(
                "\"{}\" is not a time zone warroom can state: write UTC or a fixed offset such as +01:00",
                crate::sanitize::sanitize_str(zone.get_ref(), 40)
            );
            errors.push(src.located(Some(zone.span()), Some("public_time_zone".into()), why));
            utc
        }),
    }
}

// ---------------------------------------------------------------------------------------
// Raw TOML shape. Field names here are the public config interface: extend, don't rename.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    journal: Option<PathBuf>,
    journal_dir: Option<PathBuf>,
    journal_group: Option<String>,
    theme: Option<String>,
    checklist: Option<String>,
    #[serde(default, deserialize_with = "opt_duration")]
    update_every: Option<Duration>,
    public_time_zone: Option<Spanned<String>>,
    max_concurrent_probes: Option<Spanned<usize>>,
    canary: Option<Spanned<String>>,
    #[serde(default)]
    public_components: Vec<Spanned<String>>,
    public_title: Option<String>,
    #[serde(default)]
    incident: RawIncident,
    #[serde(default)]
    check: Vec<Spanned<RawCheck>>,
    keys: Option<Spanned<toml::Table>>,
    #[serde(default)]
    channel: BTreeMap<String, Spanned<RawChannel>>,
    #[serde(default)]
    attention: Attention,
    #[serde(default)]
    screen: Screen,
    #[serde(default)]
    vantage: Vec<Spanned<RawVantage>>,
    #[serde(default)]
    mirror: Vec<Spanned<RawMirror>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMirror {
    name: String,
    ssh: String,
    journal: PathBuf,
    command: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChannel {
    kind: String,
    url: Option<String>,
    url_env: Option<String>,
    format: Option<String>,
    token_env: Option<String>,
    command: Option<Vec<String>>,
    #[serde(default, deserialize_with = "opt_duration")]
    timeout: Option<Duration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIncident {
    title: Option<String>,
    severity: Option<Spanned<u8>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    name: Spanned<String>,
    kind: Spanned<String>,
    // Scheduling, any kind.
    #[serde(default, deserialize_with = "opt_duration")]
    interval: Option<Duration>,
    #[serde(default, deserialize_with = "opt_duration")]
    timeout: Option<Duration>,
    fail_after: Option<u32>,
    recover_after: Option<u32>,
    #[serde(default, deserialize_with = "opt_duration")]
    retry_interval: Option<Duration>,
    #[serde(default, deserialize_with = "opt_duration")]
    first_retry: Option<Duration>,
    #[serde(default)]
    depends_on: Vec<String>,
    /// Shown on the status page.
    public: Option<bool>,
    /// Where it runs: `"local"`, a vantage's name, a list of them, or `"all"`.
    #[serde(default, deserialize_with = "spanned_one_or_many")]
    from: Option<Spanned<Vec<String>>>,
    /// `"any"`, `"all"` or a number of places.
    down_when: Option<Spanned<toml::Value>>,
    #[serde(default, deserialize_with = "opt_duration")]
    degraded_over: Option<Duration>,
    all_addresses: Option<bool>,
    // http
    url: Option<String>,
    method: Option<String>,
    headers: Option<toml::Table>,
    body: Option<String>,
    expect_status: Option<Vec<toml::Value>>,
    body_contains: Option<String>,
    body_not_contains: Option<String>,
    json: Option<toml::Table>,
    header: Option<toml::Table>,
    header_present: Option<Vec<String>>,
    follow_redirects: Option<bool>,
    max_body: Option<u64>,
    cert_warn_days: Option<i64>,
    allow_invalid_cert: Option<bool>,
    // tcp / smtp / tls
    host: Option<String>,
    port: Option<u16>,
    send: Option<String>,
    expect_reply: Option<String>,
    helo: Option<String>,
    mail_from: Option<String>,
    rcpt_to: Option<Vec<String>>,
    starttls: Option<String>,
    data: Option<String>,
    server_name: Option<String>,
    // dns
    query: Option<String>,
    record: Option<String>,
    server: Option<String>,
    // One answer or a list: `expect = "PONG"` then reaches the check-kind rules, which can say
    // what a tcp check takes instead, rather than a type error about sequences.
    #[serde(default, deserialize_with = "one_or_many")]
    expect: Option<Vec<String>>,
    rcode: Option<String>,
    // command
    command: Option<Vec<String>>,
    // prometheus / alertmanager
    degraded_above: Option<f64>,
    down_above: Option<f64>,
    degraded_below: Option<f64>,
    down_below: Option<f64>,
    down_if_any: Option<bool>,
    for_each_series: Option<String>,
    labels: Option<Vec<String>>,
    show_silenced: Option<bool>,
    bearer_token_env: Option<String>,
    // alertmanager webhook (push)
    listen: Option<String>,
    token_env: Option<String>,
    basic_auth_user_env: Option<String>,
    basic_auth_password_env: Option<String>,
}

impl RawCheck {
    /// The kind-specific fields that were written, by config name.
    fn written_fields(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        macro_rules! seen {
            ($($f:ident),*) => { $( if self.$f.is_some() { out.push(stringify!($f)); } )* };
        }
        seen!(
            degraded_over,
            all_addresses,
            url,
            method,
            headers,
            body,
            expect_status,
            body_contains,
            body_not_contains,
            json,
            header,
            header_present,
            follow_redirects,
            max_body,
            cert_warn_days,
            allow_invalid_cert,
            host,
            port,
            send,
            expect_reply,
            helo,
            mail_from,
            rcpt_to,
            starttls,
            data,
            server_name,
            query,
            record,
            server,
            expect,
            rcode,
            command,
            listen,
            token_env
        );
        out
    }
}

/// Which kind-specific fields each kind accepts.
fn allowed_fields(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "http" => &[
            "degraded_over",
            "all_addresses",
            "url",
            "method",
            "headers",
            "body",
            "expect_status",
            "body_contains",
            "body_not_contains",
            "json",
            "header",
            "header_present",
            "follow_redirects",
            "max_body",
            "cert_warn_days",
            "allow_invalid_cert",
        ],
        "tcp" => &["degraded_over", "all_addresses", "host", "port", "send", "expect_reply"],
        "smtp" => &[
            "degraded_over",
            "all_addresses",
            "host",
            "port",
            "helo",
            "mail_from",
            "rcpt_to",
            "starttls",
            "data",
            "allow_invalid_cert",
        ],
        "dns" => &["degraded_over", "query", "record", "server", "expect", "rcode"],
        "tls" => {
            &["degraded_over", "all_addresses", "host", "port", "server_name", "cert_warn_days", "allow_invalid_cert"]
        }
        "command" => &["command"],
        "prometheus" => &[
            "url",
            "query",
            "degraded_above",
            "down_above",
            "degraded_below",
            "down_below",
            "down_if_any",
            "for_each_series",
            "bearer_token_env",
            "basic_auth_user_env",
            "basic_auth_password_env",
        ],
        "alertmanager" => &[
            "url",
            "labels",
            "show_silenced",
            "bearer_token_env",
            "basic_auth_user_env",
            "basic_auth_password_env",
            "listen",
            "token_env",
        ],
        _ => return None,
    })
}

pub const CHECK_KINDS: &[&str] = &["http", "tcp", "smtp", "dns", "tls", "command", "prometheus", "alertmanager"];

/// A check's definition, or every problem with its fields that can be told apart: the
/// fields its kind does not take and its schedule's, then the first its probe finds.
fn validate_check(
    c: &RawCheck,
    name: &str,
    err: &dyn Fn(&str, String) -> ConfigError,
) -> Result<CheckDef, Vec<ConfigError>> {
    let kind = c.kind.get_ref().as_str();
    let allowed = allowed_fields(kind).ok_or_else(|| {
        vec![err("kind", format!("unknown kind \"{kind}\"; expected one of {}", CHECK_KINDS.join(", ")))]
    })?;
    let mut errors = stray_fields(c, kind, allowed, err);
    let schedule = validate_schedule(c, kind, err, &mut errors);
    let probe = match kind {
        "http" => http_probe(c, err),
        "tcp" => tcp_probe(c, err),
        "smtp" => smtp_probe(c, err),
        "dns" => dns_probe(c, err),
        "tls" => tls_probe(c, err),
        "command" => command_probe(c, err),
        "prometheus" | "alertmanager" => api_probe(c, kind, err),
        _ => unreachable!("kinds were checked against allowed_fields"),
    };
    match probe {
        Ok(probe) if errors.is_empty() => {
            Ok(CheckDef { name: name.to_string(), probe, schedule, depends_on: c.depends_on.clone() })
        }
        Ok(_) => Err(errors),
        Err(e) => {
            errors.push(e);
            Err(errors)
        }
    }
}

/// Each field written that this kind of check does not take, with what to write instead for
/// the usual mix-ups.
fn stray_fields(
    c: &RawCheck,
    kind: &str,
    allowed: &[&str],
    err: &dyn Fn(&str, String) -> ConfigError,
) -> Vec<ConfigError> {
    let strays = c.written_fields().into_iter().filter(|f| !allowed.contains(f));
    strays
        .map(|stray| {
            let instead = match (kind, stray) {
                ("tcp", "expect") => "; a tcp check takes `expect_reply = \"…\"`, the text its reply must contain",
                ("http", "expect") => "; an http check takes `expect_status` or `body_contains`",
                _ => "",
            };
            err(stray, format!("`{stray}` does not apply to {} {kind} check{instead}", article(kind)))
        })
        .collect()
}

/// "a" or "an" before a kind's name, as it is read aloud: an http, an smtp, a tcp check.
fn article(kind: &str) -> &'static str {
    if matches!(kind, "http" | "smtp" | "alertmanager") { "an" } else { "a" }
}

/// Below these a check stops being a monitor and becomes a load generator.
const INTERVAL_LEAST: Duration = Duration::from_millis(100);
const RETRY_LEAST: Duration = Duration::from_millis(10);
/// A probe that may take longer than this is never recorded down in time to matter.
const TIMEOUT_MOST: Duration = Duration::from_secs(3600);
/// More results than this before a change is recorded is not confirmation, it is deafness.
const CONFIRM_MOST: u32 = 100;

/// The check's schedule; each problem with it is added to `errors` (what is returned then
/// stands for nothing).
fn validate_schedule(
    c: &RawCheck,
    kind: &str,
    err: &dyn Fn(&str, String) -> ConfigError,
    errors: &mut Vec<ConfigError>,
) -> Schedule {
    let mut defaults = Schedule::default();
    if kind == "alertmanager" {
        // Alertmanager's alerts are already confirmed (Prometheus' `for:`): record them at once.
        defaults.fail_after = 1;
    }
    let schedule = Schedule {
        interval: c.interval.unwrap_or(defaults.interval),
        timeout: c.timeout.unwrap_or(defaults.timeout),
        fail_after: c.fail_after.unwrap_or(defaults.fail_after),
        recover_after: c.recover_after.unwrap_or(defaults.recover_after),
        retry_interval: c.retry_interval.unwrap_or(defaults.retry_interval),
        first_retry: c.first_retry.unwrap_or(defaults.first_retry),
    };
    let at_least = |field: &str, value: Duration, least: Duration, errors: &mut Vec<ConfigError>| {
        if value.is_zero() {
            errors.push(err(field, "must be longer than zero".into()));
        } else if value < least {
            errors.push(err(field, format!("must be at least {}", humantime::format_duration(least))));
        }
    };
    at_least("interval", schedule.interval, INTERVAL_LEAST, errors);
    at_least("retry_interval", schedule.retry_interval, RETRY_LEAST, errors);
    at_least("first_retry", schedule.first_retry, RETRY_LEAST, errors);
    if schedule.timeout.is_zero() {
        errors.push(err("timeout", "must be longer than zero".into()));
    } else if schedule.timeout > TIMEOUT_MOST {
        errors.push(err(
            "timeout",
            "must be at most 1h: a probe that may take longer is never recorded down in time".into(),
        ));
    }
    for (field, count) in [("fail_after", schedule.fail_after), ("recover_after", schedule.recover_after)] {
        if count == 0 {
            errors.push(err(field, "must be at least 1".into()));
        } else if count > CONFIRM_MOST {
            errors.push(err(field, format!("must be at most {CONFIRM_MOST}")));
        }
    }
    schedule
}

/// A string field this kind of check cannot do without: given and not blank.
fn required(
    kind: &str,
    field: &str,
    value: &Option<String>,
    err: &dyn Fn(&str, String) -> ConfigError,
) -> Result<String, ConfigError> {
    value
        .clone()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| err(field, format!("{} {kind} check needs `{field}`", article(kind))))
}

fn http_probe(c: &RawCheck, err: &dyn Fn(&str, String) -> ConfigError) -> Result<ProbeSpec, ConfigError> {
    let url = http_url(c, err)?;
    let method = c.method.clone().unwrap_or_else(|| "GET".into()).to_ascii_uppercase();
    if reqwest::Method::from_bytes(method.as_bytes()).is_err() {
        return Err(err("method", format!("\"{method}\" is not an HTTP method")));
    }
    let expect_status = expected_statuses(c, err)?;
    let json = c
        .json
        .iter()
        .flatten()
        .map(|(path, v)| Ok((path.clone(), toml_to_json(v).map_err(|m| err("json", m))?)))
        .collect::<Result<_, ConfigError>>()?;
    let request_headers = string_table(&c.headers, "headers", err)?;
    // What the probe could never send is a mistake in the file, not an outage on the screen.
    for (name, value) in &request_headers {
        if hyper::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(err("headers", format!("\"{name}\" is not a header name (letters, digits and -)")));
        }
        if hyper::header::HeaderValue::from_str(value).is_err() {
            return Err(err("headers", format!("the value for \"{name}\" has a line break or control character")));
        }
        // The body's framing is warroom's to write, from `body`: another would garble the request.
        if ["content-length", "transfer-encoding"].iter().any(|framing| name.eq_ignore_ascii_case(framing)) {
            return Err(err("headers", format!("\"{name}\" is set by warroom from `body`; leave it out")));
        }
    }
    Ok(ProbeSpec::Http(HttpSpec {
        url,
        method,
        request_headers,
        request_body: c.body.clone(),
        expect_status,
        body_contains: c.body_contains.clone(),
        body_not_contains: c.body_not_contains.clone(),
        json,
        header: string_table(&c.header, "header", err)?,
        header_present: c.header_present.clone().unwrap_or_default(),
        degraded_over: c.degraded_over,
        follow_redirects: c.follow_redirects.unwrap_or(true),
        max_body: c.max_body.map(|b| b as usize).unwrap_or(DEFAULT_MAX_BODY),
        cert_warn_days: c.cert_warn_days.unwrap_or(DEFAULT_CERT_WARN_DAYS),
        allow_invalid_cert: c.allow_invalid_cert.unwrap_or(false),
        all_addresses: c.all_addresses.unwrap_or(false),
        prepared: Default::default(),
    }))
}

fn http_url(c: &RawCheck, err: &dyn Fn(&str, String) -> ConfigError) -> Result<String, ConfigError> {
    let url = required("http", "url", &c.url, err)?;
    match reqwest::Url::parse(&url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(url),
        Ok(_) => Err(err("url", format!("\"{url}\" must be an http:// or https:// URL with a host"))),
        Err(e) => Err(err("url", format!("\"{url}\" is not a valid URL ({e})"))),
    }
}

/// `expect_status`: codes, classes or ranges; any 2xx or 3xx when not given.
fn expected_statuses(c: &RawCheck, err: &dyn Fn(&str, String) -> ConfigError) -> Result<Vec<StatusRange>, ConfigError> {
    match &c.expect_status {
        None => Ok(vec![StatusRange { low: 200, high: 399 }]),
        Some(values) if values.is_empty() => Err(err("expect_status", "must not be empty".into())),
        Some(values) => values
            .iter()
            .map(|v| match v {
                toml::Value::Integer(i) => StatusRange::parse(&i.to_string()),
                toml::Value::String(s) => StatusRange::parse(s),
                other => Err(format!("`{other}` is not a status code, class or range")),
            })
            .collect::<Result<_, _>>()
            .map_err(|m| err("expect_status", m)),
    }
}

fn tcp_probe(c: &RawCheck, err: &dyn Fn(&str, String) -> ConfigError) -> Result<ProbeSpec, ConfigError> {
    if let Some(pattern) = &c.expect_reply {
        regex::Regex::new(pattern).map_err(|e| err("expect_reply", format!("not a valid pattern: {e}")))?;
    }
    Ok(ProbeSpec::Tcp(TcpSpec {
        host: required("tcp", "host", &c.host, err)?,
        port: c.port.ok_or_else(|| err("port", "a tcp check needs `port`".into()))?,
        send: c.send.clone(),
        expect_reply: c.expect_reply.clone(),
        degraded_over: c.degraded_over,
        all_addresses: c.all_addresses.unwrap_or(false),
    }))
}

fn smtp_probe(c: &RawCheck, err: &dyn Fn(&str, String) -> ConfigError) -> Result<ProbeSpec, ConfigError> {
    let rcpt_to = c.rcpt_to.clone().unwrap_or_default();
    if rcpt_to.is_empty() {
        return Err(err("rcpt_to", "an smtp check needs at least one recipient in `rcpt_to`; a probe that stops before RCPT TO misses the failures users see".into()));
    }
    let starttls = match c.starttls.as_deref().unwrap_or("optional") {
        "required" => StartTls::Required,
        "optional" => StartTls::Optional,
        "off" => StartTls::Off,
        other => return Err(err("starttls", format!("\"{other}\" must be required, optional or off"))),
    };
    Ok(ProbeSpec::Smtp(SmtpSpec {
        host: required("smtp", "host", &c.host, err)?,
        port: c.port.unwrap_or(25),
        helo: c.helo.clone().unwrap_or_else(|| "warroom.localdomain".into()),
        mail_from: required("smtp", "mail_from", &c.mail_from, err)?,
        rcpt_to,
        starttls,
        data: c.data.clone(),
        allow_invalid_cert: c.allow_invalid_cert.unwrap_or(false),
        degraded_over: c.degraded_over,
        all_addresses: c.all_addresses.unwrap_or(false),
    }))
}

fn dns_probe(c: &RawCheck, err: &dyn Fn(&str, String) -> ConfigError) -> Result<ProbeSpec, ConfigError> {
    let record_text = c.record.clone().unwrap_or_else(|| "A".into());
    let record = RecordType::parse(&record_text)
        .ok_or_else(|| err("record", format!("\"{record_text}\" must be one of A, AAAA, MX, TXT, CNAME, NS")))?;
    let server = c
        .server
        .as_deref()
        .map(|s| s.parse().map_err(|_| err("server", format!("\"{s}\" must be an address:port, e.g. 127.0.0.1:53"))))
        .transpose()?;
    let rcode = c.rcode.clone().unwrap_or_else(|| "NOERROR".into()).to_ascii_uppercase();
    if !["NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED", "FORMERR", "NOTIMP"].contains(&rcode.as_str()) {
        return Err(err(
            "rcode",
            format!("\"{rcode}\" must be NOERROR, NXDOMAIN, SERVFAIL, REFUSED, FORMERR or NOTIMP"),
        ));
    }
    Ok(ProbeSpec::Dns(DnsSpec {
        query: required("dns", "query", &c.query, err)?,
        record,
        server,
        expect: c.expect.clone().unwrap_or_default(),
        rcode,
        degraded_over: c.degraded_over,
    }))
}

fn tls_probe(c: &RawCheck, err: &dyn Fn(&str, String) -> ConfigError) -> Result<ProbeSpec, ConfigError> {
    Ok(ProbeSpec::Tls(TlsSpec {
        host: required("tls", "host", &c.host, err)?,
        port: c.port.unwrap_or(443),
        server_name: c.server_name.clone(),
        cert_warn_days: c.cert_warn_days.unwrap_or(DEFAULT_CERT_WARN_DAYS),
        allow_invalid_cert: c.allow_invalid_cert.unwrap_or(false),
        degraded_over: c.degraded_over,
        all_addresses: c.all_addresses.unwrap_or(false),
    }))
}

fn command_probe(c: &RawCheck, err: &dyn Fn(&str, String) -> ConfigError) -> Result<ProbeSpec, ConfigError> {
    let command = c.command.clone().unwrap_or_default();
    if command.first().is_none_or(|p| p.trim().is_empty()) {
        return Err(err("command", "a command check needs `command = [\"program\", \"arg\", …]`".into()));
    }
    Ok(ProbeSpec::Command(CommandSpec { command }))
}

/// A prometheus or alertmanager check: both ask a server's HTTP API, with the same auth.
fn api_probe(c: &RawCheck, kind: &str, err: &dyn Fn(&str, String) -> ConfigError) -> Result<ProbeSpec, ConfigError> {
    let url = required(kind, "url", &c.url, err)?;
    match reqwest::Url::parse(&url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => {}
        _ => return Err(err("url", format!("\"{url}\" must be the http(s) base URL of the server"))),
    }
    // Relative API paths join onto the base: keep its path as a directory.
    let url = if url.ends_with('/') { url } else { format!("{url}/") };
    if c.basic_auth_password_env.is_some() && c.basic_auth_user_env.is_none() {
        return Err(err("basic_auth_password_env", "needs basic_auth_user_env too".into()));
    }
    let auth = ApiAuth {
        bearer_token_env: c.bearer_token_env.clone(),
        basic_user_env: c.basic_auth_user_env.clone(),
        basic_password_env: c.basic_auth_password_env.clone(),
    };
    if kind == "alertmanager" {
        Ok(ProbeSpec::Alertmanager(AlertmanagerSpec {
            url,
            labels: c.labels.clone().unwrap_or_else(|| vec!["alertname".into(), "instance".into()]),
            show_silenced: c.show_silenced.unwrap_or(true),
            auth,
            push: push_spec(c, err)?,
        }))
    } else {
        prometheus_probe(c, url, auth, err)
    }
}

/// An alertmanager check's webhook receiver: `listen` (an address and port, loopback unless
/// written otherwise) and `token_env` (the variable holding the bearer token) go together.
fn push_spec(c: &RawCheck, err: &dyn Fn(&str, String) -> ConfigError) -> Result<Option<PushSpec>, ConfigError> {
    let (listen, token_env) = match (&c.listen, &c.token_env) {
        (None, None) => return Ok(None),
        (Some(_), None) => {
            return Err(err(
                "listen",
                "the webhook receiver needs `token_env`, the variable holding its bearer token".into(),
            ));
        }
        (None, Some(_)) => return Err(err("token_env", "only used with `listen = \"127.0.0.1:PORT\"`".into())),
        (Some(l), Some(t)) => (l, t),
    };
    let listen: std::net::SocketAddr = listen
        .parse()
        .map_err(|_| err("listen", format!("\"{listen}\" is not an address and port, e.g. \"127.0.0.1:9099\"")))?;
    if listen.port() == 0 {
        return Err(err("listen", "needs the port Alertmanager is told to send to, not 0".into()));
    }
    if token_env.is_empty() {
        return Err(err("token_env", "must name an environment variable".into()));
    }
    Ok(Some(PushSpec { listen, token_env: token_env.clone() }))
}

fn prometheus_probe(
    c: &RawCheck,
    url: String,
    auth: ApiAuth,
    err: &dyn Fn(&str, String) -> ConfigError,
) -> Result<ProbeSpec, ConfigError> {
    let degraded = threshold(c.degraded_above, c.degraded_below, "degraded_above", err)?;
    let down = threshold(c.down_above, c.down_below, "down_above", err)?;
    let down_if_any = c.down_if_any.unwrap_or(false);
    if !down_if_any && degraded.is_none() && down.is_none() {
        return Err(err(
            "query",
            "a prometheus check needs thresholds (degraded_above/down_above, or _below) or down_if_any = true".into(),
        ));
    }
    Ok(ProbeSpec::Prometheus(PrometheusSpec {
        url,
        query: required("prometheus", "query", &c.query, err)?,
        degraded,
        down,
        down_if_any,
        for_each_series: c.for_each_series.clone(),
        auth,
    }))
}

/// One threshold, `_above` or `_below` a value; `field` is the one an error points at.
fn threshold(
    above: Option<f64>,
    below: Option<f64>,
    field: &str,
    err: &dyn Fn(&str, String) -> ConfigError,
) -> Result<Option<Threshold>, ConfigError> {
    match (above, below) {
        (Some(_), Some(_)) => Err(err(field, "give `_above` or `_below`, not both".into())),
        (Some(a), None) => Ok(Some(Threshold::Above(a))),
        (None, Some(b)) => Ok(Some(Threshold::Below(b))),
        (None, None) => Ok(None),
    }
}

fn string_table(
    table: &Option<toml::Table>,
    field: &str,
    err: &dyn Fn(&str, String) -> ConfigError,
) -> Result<Vec<(String, String)>, ConfigError> {
    table
        .iter()
        .flatten()
        .map(|(k, v)| match v {
            toml::Value::String(s) => Ok((k.clone(), s.clone())),
            other => Err(err(field, format!("value for \"{k}\" must be a string, not `{other}`"))),
        })
        .collect()
}

fn toml_to_json(v: &toml::Value) -> Result<serde_json::Value, String> {
    serde_json::to_value(v).map_err(|e| format!("cannot compare with JSON: {e}"))
}

/// Human durations: `"500ms"`, `"10s"`, `"2m"`, `"1h 30m"`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    // Only an error quotes the text: every check's durations come through here at start-up.
    let shown = || crate::sanitize::sanitize_str(text, 40);
    let duration = humantime::parse_duration(text.trim()).map_err(|e| {
        format!("\"{}\" is not a duration ({e}); write e.g. \"500ms\", \"10s\", \"2m\", \"1h\"", shown())
    })?;
    // Nothing here waits a year, and a longer time overflows the clocks it is added to.
    if duration > DURATION_MOST {
        return Err(format!("\"{}\" is longer than any duration warroom takes (at most a year)", shown()));
    }
    Ok(duration)
}

const DURATION_MOST: Duration = Duration::from_secs(365 * 24 * 3600);

/// A string, or a list of strings.
fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged, expecting = "a string or a list of strings")]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(Option::<OneOrMany>::deserialize(d)?.map(|v| match v {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    }))
}

fn opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(d)?;
    parse_duration(&text).map(Some).map_err(serde::de::Error::custom)
}

// ---------------------------------------------------------------------------------------
// Locating errors in the source text.

fn locate_error(text: &str, path: &Path, span: Range<usize>, field: Option<String>, message: String) -> ConfigError {
    let start = span.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..line_start].matches('\n').count() + 1;
    let column = text[line_start..start].chars().count() + 1;
    // Shown with a caret under the column: only when both fit on a terminal line, and never
    // with a control byte in it.
    let source_line = text[line_start..]
        .lines()
        .next()
        .filter(|l| l.chars().count() <= SHOWN_LINE_MOST && column <= SHOWN_LINE_MOST)
        .map(|l| l.chars().map(|c| if crate::sanitize::is_unsafe_for_terminal(c) { '?' } else { c }).collect());
    ConfigError { file: path.to_path_buf(), line, column, field, message, source_line }
}

/// The longest config line shown under its error.
const SHOWN_LINE_MOST: usize = 300;

/// The key written at the start of the line containing `offset`, if that line is `key = …`.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches('"');
    (!key.is_empty() && !key.starts_with('[')).then(|| key.to_string())
}

/// The span of `key = …` in the table that starts at `table.start`: from that line to the
/// next table header (a table's own span may cover only its header).
fn find_key_in(text: &str, table: Range<usize>, key: &str) -> Option<Range<usize>> {
    let start = text[..table.start.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let mut offset = start;
    for (n, line) in text[start..].split_inclusive('\n').enumerate() {
        let trimmed = line.trim_start();
        if n > 0 && trimmed.starts_with('[') {
            break;
        }
        if let Some(rest) = trimmed.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            let at = offset + (line.len() - trimmed.len());
            return Some(at..at + key.len());
        }
        offset += line.len();
    }
    None
}

/// `UTC` (or `Z`), or a fixed offset `+01:00`: a zone public text can name unambiguously.
fn parse_public_zone(given: &str) -> Option<chrono::FixedOffset> {
    let given = given.trim();
    if given.eq_ignore_ascii_case("utc") || given == "Z" {
        return chrono::FixedOffset::east_opt(0);
    }
    given.strip_prefix("UTC").unwrap_or(given).parse().ok()
}

// ---------------------------------------------------------------------------------------
// Vantages: `[[vantage]]` entries, and each check's `from` and `down_when`.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVantage {
    name: Spanned<String>,
    ssh: Spanned<String>,
    command: Option<String>,
    #[serde(default)]
    allow_command: bool,
}

/// A string, or a list of strings, with where it was written.
fn spanned_one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Spanned<Vec<String>>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged, expecting = "a place's name, a list of them, or \"all\"")]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    let given = Spanned::<OneOrMany>::deserialize(d)?;
    let span = given.span();
    let list = match given.into_inner() {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    };
    Ok(Some(Spanned::new(span, list)))
}

/// The vantages and where each check runs. A check without `from` runs here only.
fn parse_vantage_plan(
    src: &Source,
    raw: &RawConfig,
    checks: &[CheckDef],
    errors: &mut Vec<ConfigError>,
) -> crate::vantage::Plan {
    let vantages = parse_vantages(src, &raw.vantage, errors);
    let tables = check_tables(src.text);
    let mut placements = BTreeMap::new();
    for table in &raw.check {
        let check = table.get_ref();
        let name = check.name.get_ref().trim();
        let Some(def) = checks.iter().find(|c| c.name == name) else { continue };
        let err = |field: &str, span: Range<usize>, message: String| {
            src.located(Some(span), Some(field.to_string()), format!("check \"{name}\": {message}"))
        };
        match placement(check, def, &vantages, tables.get(name), &err) {
            Ok(Some(p)) => {
                placements.insert(name.to_string(), p);
            }
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    crate::vantage::Plan { vantages, placements }
}

fn parse_vantages(
    src: &Source,
    raw: &[Spanned<RawVantage>],
    errors: &mut Vec<ConfigError>,
) -> Vec<crate::vantage::VantageDef> {
    let mut out: Vec<crate::vantage::VantageDef> = Vec::new();
    for entry in raw {
        let v = entry.get_ref();
        let name = v.name.get_ref().trim().to_string();
        let at = |s: &Spanned<String>, field: &str, message: String| {
            src.located(Some(s.span()), Some(field.into()), format!("vantage \"{name}\": {message}"))
        };
        let valid_name = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || "-_.".contains(c));
        if !valid_name {
            errors.push(at(&v.name, "name", "a vantage's name is letters, digits, '-', '_' or '.'".into()));
        } else if name == crate::vantage::LOCAL || name == "all" {
            errors.push(at(&v.name, "name", format!("\"{name}\" is reserved: `from` uses it for this host")));
        } else if out.iter().any(|o| o.name == name) {
            errors.push(at(&v.name, "name", "another vantage already has this name".into()));
        } else if v.ssh.get_ref().trim().is_empty() || v.ssh.get_ref().starts_with('-') {
            errors.push(at(&v.ssh, "ssh", "an ssh destination: user@host or a Host alias of ~/.ssh/config".into()));
        } else {
            out.push(crate::vantage::VantageDef {
                name,
                ssh: v.ssh.get_ref().trim().to_string(),
                command: v.command.clone(),
                allow_command: v.allow_command,
            });
        }
    }
    out
}

/// Each `[[check]]` table as written, by name, without the fields that only the war room reads.
fn check_tables(text: &str) -> BTreeMap<String, toml::Table> {
    let Ok(doc) = text.parse::<toml::Table>() else { return BTreeMap::new() };
    let Some(toml::Value::Array(checks)) = doc.get("check") else { return BTreeMap::new() };
    checks
        .iter()
        .filter_map(|c| {
            let mut table = c.as_table()?.clone();
            let name = table.get("name")?.as_str()?.trim().to_string();
            for war_room_only in ["from", "down_when", "public"] {
                table.remove(war_room_only);
            }
            Some((name, table))
        })
        .collect()
}

/// One check's places and quorum; `None` for a check that runs here only.
fn placement(
    check: &RawCheck,
    def: &CheckDef,
    vantages: &[crate::vantage::VantageDef],
    table: Option<&toml::Table>,
    err: &dyn Fn(&str, Range<usize>, String) -> ConfigError,
) -> Result<Option<crate::vantage::Placement>, ConfigError> {
    use crate::vantage::{LOCAL, Quorum};
    let from = match &check.from {
        None => vec![LOCAL.to_string()],
        Some(given) => places(given, vantages, err)?,
    };
    if let ProbeSpec::Command(_) = def.probe
        && let Some(v) = vantages.iter().find(|v| from.contains(&v.name) && !v.allow_command)
    {
        let span = check.from.as_ref().map_or(check.name.span(), Spanned::span);
        return Err(err(
            "from",
            span,
            format!("a command check runs on vantage \"{}\" only if its entry says `allow_command = true`", v.name),
        ));
    }
    let down_when = match &check.down_when {
        None => Quorum::All,
        Some(given) => quorum(given, from.len(), err)?,
    };
    if from == [LOCAL] {
        return Ok(None);
    }
    let table = table.cloned().unwrap_or_default();
    Ok(Some(crate::vantage::Placement { from, down_when, table }))
}

/// `from`: `"all"` (here and every vantage), or places each `local` or a vantage's name.
fn places(
    given: &Spanned<Vec<String>>,
    vantages: &[crate::vantage::VantageDef],
    err: &dyn Fn(&str, Range<usize>, String) -> ConfigError,
) -> Result<Vec<String>, ConfigError> {
    use crate::vantage::LOCAL;
    let list = given.get_ref();
    if list.len() == 1 && list[0] == "all" {
        return Ok(std::iter::once(LOCAL.to_string()).chain(vantages.iter().map(|v| v.name.clone())).collect());
    }
    if list.is_empty() {
        return Err(err("from", given.span(), "names no place; write \"local\", a vantage's name, or \"all\"".into()));
    }
    let mut out: Vec<String> = Vec::new();
    for place in list {
        if place != LOCAL && !vantages.iter().any(|v| &v.name == place) {
            let known: Vec<&str> = std::iter::once(LOCAL).chain(vantages.iter().map(|v| v.name.as_str())).collect();
            let place = crate::sanitize::sanitize_str(place, 40);
            return Err(err(
                "from",
                given.span(),
                format!("\"{place}\" is not a configured vantage (places: {}, or \"all\")", known.join(", ")),
            ));
        }
        if out.contains(place) {
            return Err(err("from", given.span(), format!("\"{place}\" is named twice")));
        }
        out.push(place.clone());
    }
    // Local first, then vantages in the order they are configured: one order on every screen.
    out.sort_by_key(|p| if p == LOCAL { 0 } else { 1 + vantages.iter().position(|v| &v.name == p).unwrap_or(0) });
    Ok(out)
}

/// `down_when`: `"any"`, `"all"`, or a number of places from 1 to how many there are.
fn quorum(
    given: &Spanned<toml::Value>,
    places: usize,
    err: &dyn Fn(&str, Range<usize>, String) -> ConfigError,
) -> Result<crate::vantage::Quorum, ConfigError> {
    use crate::vantage::Quorum;
    match given.get_ref() {
        toml::Value::String(s) if s == "any" => Ok(Quorum::Any),
        toml::Value::String(s) if s == "all" => Ok(Quorum::All),
        toml::Value::Integer(n) if *n >= 1 && (*n as usize) <= places => Ok(Quorum::AtLeast(*n as u32)),
        toml::Value::Integer(n) => Err(err(
            "down_when",
            given.span(),
            format!("{n} places cannot agree: the check runs from {places} (write 1 to {places})"),
        )),
        _ => Err(err("down_when", given.span(), "write \"any\", \"all\", or a number of places".into())),
    }
}
