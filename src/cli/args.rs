//! The command line's words: `warroom [VERB]` and its options, as clap parses them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "warroom",
    version,
    about = "A terminal war room for outages: live checks, incident timeline, comms checklist and notes.",
    long_about = "A terminal war room for outages: live checks, incident timeline, comms checklist and notes.\n\
                  Every fact is appended to a local journal (JSONL), so warroom keeps working when everything else is down.\n\
                  With no command it opens the dashboard."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub verb: Option<Verb>,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Config file (default: ./warroom.toml, then the user config dir's warroom/config.toml,
    /// then /etc/warroom/config.toml).
    #[arg(short = 'c', long = "config", global = true, value_name = "FILE", env = "WARROOM_CONFIG")]
    pub config: Option<PathBuf>,
    /// Incident journal file (default: the current incident in the journal directory).
    #[arg(short = 'j', long = "journal", global = true, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Author name written on journal entries (default: $USER@hostname).
    #[arg(long = "as", global = true, value_name = "NAME")]
    pub author: Option<String>,
    /// Colour theme: dark, light, high-contrast, colorblind, mono, or a theme file (NO_COLOR forces mono).
    #[arg(long, global = true, value_name = "NAME")]
    pub theme: Option<String>,
    /// Communications checklist: default, datacenter-loss, mail-delivery, drill, or a file.
    #[arg(long, global = true, value_name = "NAME")]
    pub checklist: Option<String>,
    /// Open a viewer that never writes (wall screens, screen-sharing).
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Run the monitor and the journal without a screen (a poller on a server, or for tests);
    /// with `drill`, play or join a drill without one.
    #[arg(long, global = true, conflicts_with = "read_only")]
    pub headless: bool,
    /// Run the dashboard here over a war room on another host: DEST is what ssh takes
    /// (`user@host` or a Host alias); -j names the journal there. Only events cross the link;
    /// WARROOM_SSH can name the ssh command.
    #[arg(long, value_name = "DEST", conflicts_with_all = ["read_only", "headless"])]
    pub remote: Option<String>,
    /// warroom's path on the --remote host (default: `warroom` on its PATH).
    #[arg(long, value_name = "PATH", requires = "remote")]
    pub remote_command: Option<String>,
    /// The config file on the --remote host (default: found there as warroom finds it).
    #[arg(long, value_name = "FILE", requires = "remote")]
    pub remote_config: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Verb {
    /// Write a commented example warroom.toml that works as-is against localhost.
    Init {
        /// Directory to write warroom.toml into.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Overwrite an existing warroom.toml.
        #[arg(long)]
        force: bool,
    },
    /// Check the config (and the journal, if one is given or configured) and report every problem.
    Validate,
    /// Run every check once, concurrently, and print every row: each check, and each series
    /// or alert a Prometheus or Alertmanager source reports.
    ///
    /// Exit code follows the Nagios plugin convention, counting every row (silenced alerts
    /// excepted): 0 all up, 1 any degraded, 2 any down, 3 config or internal error.
    Check {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Run a fire drill: a scripted outage, timed and scored. With no scenario, list them.
    ///
    /// Drill journals are kept in the journal directory's drills/, never taken for the
    /// current incident. A team rehearses together: one operator plays the scenario, the
    /// others see it with --running and take part with --join.
    Drill {
        /// A built-in scenario name or a scenario file.
        #[arg(conflicts_with_all = ["running", "join", "end"])]
        scenario: Option<String>,
        /// Time compression: 10 plays a 40-minute scenario in 4 minutes.
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// List the drills in progress: scenario, start, who is in it, journal.
        #[arg(long, conflicts_with = "join")]
        running: bool,
        /// Join a drill in progress as another operator: the only one running, or the one
        /// named (its scenario, journal file name or path).
        #[arg(long, value_name = "NAME|PATH", num_args = 0..=1)]
        join: Option<Option<String>>,
        /// End a drill whose player is gone (its warroom was killed): records the end at its
        /// drill time and saves its scorecard.
        #[arg(long, value_name = "NAME|PATH", num_args = 0..=1, conflicts_with_all = ["running", "join"])]
        end: Option<Option<String>>,
    },
    /// Write the post-incident report of a journal.
    Report {
        /// The incident journal (or -j FILE); default: the current incident.
        // Its own id: one shared with the global -j would hide that option from this verb.
        #[arg(id = "journal_file", value_name = "JOURNAL")]
        journal: Option<PathBuf>,
        /// md (Markdown, for a wiki), json (schema warroom-report/1) or html (one self-contained file).
        #[arg(long, default_value = "md", value_parser = ["md", "json", "html"])]
        format: String,
        /// Write here instead of standard output.
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Write a static status page (index.html, status.json) for hosting off the platform.
    StatusPage {
        /// The incident journal (or -j FILE); default: the current incident.
        // Its own id: one shared with the global -j would hide that option from this verb.
        #[arg(id = "journal_file", value_name = "JOURNAL")]
        journal: Option<PathBuf>,
        #[arg(short = 'o', long, value_name = "DIR")]
        output: PathBuf,
        /// A public component (a check of the journal); repeat it. Default: the checks the config
        /// chooses as public (`public = true`, `public_components`); none if it chooses none.
        #[arg(long = "component", value_name = "NAME")]
        components: Vec<String>,
        /// The page's heading. Default: `public_title` from the config, else "Service status";
        /// never the incident's internal title.
        #[arg(long, value_name = "TEXT")]
        title: Option<String>,
        /// Run this shell command after writing (e.g. an rsync or object-store copy);
        /// WARROOM_STATUS_DIR names the folder.
        #[arg(long, value_name = "COMMAND")]
        publish_cmd: Option<String>,
    },
    /// Play a journal back on the dashboard, read-only: Space pause, n next event, . step, +/- speed.
    Replay {
        /// The incident journal (or -j FILE); default: the current incident.
        // Its own id: one shared with the global -j would hide that option from this verb.
        #[arg(id = "journal_file", value_name = "JOURNAL")]
        journal: Option<PathBuf>,
        #[arg(long, default_value_t = 60.0)]
        speed: f64,
    },
    /// Reach warroom on another host over SSH, as vantages, mirrors and remote screens do:
    /// prints its version, the account it runs as and the round trip. DEST is what ssh takes
    /// (`user@host` or a Host alias of ~/.ssh/config); WARROOM_SSH can name the ssh command.
    Reach {
        destination: String,
        /// warroom's path on that host (default: `warroom` on its PATH).
        #[arg(long, value_name = "PATH")]
        command: Option<String>,
    },
    /// The far end of `warroom --remote`: a session on this host's journal, served as JSON
    /// lines on stdin/stdout to the screen that started it over ssh.
    #[command(name = "serve-session", hide = true)]
    ServeSession {
        /// The last entry the screen already has (it reconnects): the opening sends the rest.
        #[arg(long, value_name = "ID")]
        after: Option<String>,
    },
    /// The far end of `warroom reach`: greets on stdout, echoes each message back, ends when
    /// stdin closes.
    #[command(hide = true)]
    Answer,
    /// A vantage: run the checks a war room sends over SSH (stdin/stdout, JSON lines) and
    /// stream what they see; needs no config, writes nothing, ends when stdin closes. The war
    /// room starts it itself (`ssh DEST warroom agent`).
    Agent {
        /// Run `command` checks too (the vantage's `allow_command = true`). Leave it out of
        /// a key restricted with `command="warroom agent"` to keep that host free of them.
        #[arg(long)]
        allow_command: bool,
    },
    /// The far end of a mirror: keeps, at -j PATH on this host, the copy of the journal a
    /// primary ships over ssh (started by the primary, not by hand).
    #[command(hide = true)]
    Ingest,
    /// Make this mirror's copy (-j PATH) a primary when the primary is gone: it stops taking
    /// lines, and warroom on it polls and sends with the config the primary shipped (secrets
    /// from this host's environment). Nothing is promoted by itself, and not while the
    /// primary is still heard (unless --force).
    Promote {
        /// Promote even though the primary spoke within the last few seconds (it may be alive:
        /// two primaries then write one incident, to be merged later).
        #[arg(long)]
        force: bool,
    },
    /// Merge two copies of one incident that went their own ways (a primary and its promoted
    /// mirror): every event once, ordered by time then id, those written on one side only
    /// marked with their origin.
    Merge {
        a: PathBuf,
        b: PathBuf,
        /// The merged journal (a new file).
        #[arg(short = 'o', long, value_name = "FILE")]
        output: PathBuf,
        /// Merge even where an input's chain is broken (edited, inserted or removed lines):
        /// events around each break are marked `"unverified": true`.
        #[arg(long)]
        force: bool,
    },
    /// Append a note to the incident journal from a shell or script.
    Log {
        /// The note text (words are joined with spaces).
        #[arg(required_unless_present = "stdin", trailing_var_arg = true)]
        text: Vec<String>,
        /// Read notes from standard input, one per line; each is acknowledged on stdout once on disk.
        #[arg(long, conflicts_with = "text")]
        stdin: bool,
    },
    /// Start a new incident journal in the journal directory (or at -j FILE); prints its path.
    Open {
        /// The incident's title (words are joined with spaces).
        #[arg(required = true, num_args = 1..)]
        title: Vec<String>,
        /// 1 (worst) to 5; default: the config's, else 3.
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=5))]
        severity: Option<u8>,
    },
    /// Assign a role, or hand it over: commander, deputy, scribe, comms, or a named expert's
    /// role. PERSON is the author name their entries carry (e.g. alice@bastion).
    Role { role: String, person: String },
    /// Set the status: investigating, identified, monitoring, resolved. With none, show it.
    ///
    /// Resolving while the journal records failing checks is refused (exit 1), naming them,
    /// unless --yes; resolving lists the follow-ups still open.
    Status {
        status: Option<String>,
        /// Resolve even though checks are failing.
        #[arg(long, visible_alias = "force")]
        yes: bool,
    },
    /// Set the severity: 1 (worst) to 5. Only that level is journaled.
    Severity {
        #[arg(value_parser = clap::value_parser!(u8).range(1..=5))]
        severity: u8,
    },
    /// Record a milestone by hand: detected, acknowledged, mitigated. Detection is otherwise
    /// taken from the first confirmed failure.
    Milestone {
        milestone: String,
        /// When it really happened: HH:MM (UTC, today) or an RFC 3339 time. Default: now.
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        /// The check it is about (acknowledging one failing check).
        #[arg(long, value_name = "NAME")]
        check: Option<String>,
    },
    /// Pin an entry as a key event (its id, or six characters or more of it).
    Pin { event: String },
    /// Take a pin back.
    Unpin { event: String },
    /// Correct a note (the original stays, struck through, with the correction), or strike it.
    Correct {
        /// The note's id, or six characters or more of it.
        event: String,
        /// The corrected text (words are joined with spaces).
        #[arg(required_unless_present = "strike")]
        text: Vec<String>,
        /// Withdraw the note without a replacement.
        #[arg(long, conflicts_with = "text")]
        strike: bool,
        /// Why it was struck.
        #[arg(long, requires = "strike", value_name = "WHY")]
        reason: Option<String>,
    },
    /// Add an action item, close one (--done ID), or with no text list those still open.
    #[command(name = "follow-up")]
    FollowUp {
        /// What is to be done (words are joined with spaces).
        text: Vec<String>,
        /// Who is to do it.
        #[arg(long, value_name = "PERSON")]
        owner: Option<String>,
        /// Take the text from this note.
        #[arg(long, value_name = "NOTE", conflicts_with = "text")]
        from: Option<String>,
        /// Close this follow-up.
        #[arg(long, value_name = "ID", conflicts_with_all = ["text", "from", "owner"])]
        done: Option<String>,
    },
    /// Send a checklist item's message on its configured channel, and journal it.
    Send {
        /// The checklist item's id.
        item: String,
        /// Send this text instead of the item's template filled in ("-": read standard input).
        #[arg(long)]
        text: Option<String>,
        /// Send even though the text still holds a prompt of the template ("[Say whether any
        /// data was lost.]").
        #[arg(long)]
        yes: bool,
    },
    /// The incident on one screen for someone joining or taking over: status, roles, failing
    /// checks, last messages and the next due, pressing checklist items, key events, open
    /// follow-ups, and what changed since you (--as) last left. Writes nothing.
    Brief,
}
