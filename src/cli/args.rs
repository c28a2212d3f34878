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
    /// Config file (default: ./warroom.toml, then the user config dir's warroom/config.toml).
    #[arg(short = 'c', long = "config", global = true, value_name = "FILE")]
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
    /// Run every check once, concurrently, and print the results.
    ///
    /// Exit code follows the Nagios plugin convention: 0 all up, 1 any degraded, 2 any down,
    /// 3 config or internal error.
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
        #[arg(conflicts_with_all = ["running", "join"])]
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
    },
    /// Write the post-incident report of a journal.
    Report {
        journal: PathBuf,
        /// md (Markdown, for a wiki), json (schema warroom-report/1) or html (one self-contained file).
        #[arg(long, default_value = "md", value_parser = ["md", "json", "html"])]
        format: String,
        /// Write here instead of standard output.
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Write a static status page (index.html, status.json) for hosting off the platform.
    StatusPage {
        journal: PathBuf,
        #[arg(short = 'o', long, value_name = "DIR")]
        output: PathBuf,
        /// A public component (a check name); repeat it. Default: every check in the journal.
        #[arg(long = "component", value_name = "NAME")]
        components: Vec<String>,
        /// Run this shell command after writing (e.g. an rsync or object-store copy);
        /// WARROOM_STATUS_DIR names the folder.
        #[arg(long, value_name = "COMMAND")]
        publish_cmd: Option<String>,
    },
    /// Play a journal back on the dashboard, read-only: Space pause, n next event, . step, +/- speed.
    Replay {
        journal: PathBuf,
        #[arg(long, default_value_t = 60.0)]
        speed: f64,
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
}
