//! Where a link goes and the ssh command line that gets there.

use serde::{Deserialize, Serialize};

use super::Timing;

/// A host running warroom, as the config names it: `ssh = "user@host"` or a `Host` alias of
/// `~/.ssh/config`, and the path of warroom there when it is not on that host's `PATH`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Destination {
    /// The name shown on screen and in the journal (`paris`, `fra`).
    pub name: String,
    /// As ssh takes it.
    pub ssh: String,
    /// warroom's path on that host; default `warroom`.
    #[serde(default)]
    pub command: Option<String>,
}

/// The environment variable naming the ssh client to run, with options, split as a shell
/// would (`ssh -F ~/wr/ssh_config`), like git's `GIT_SSH_COMMAND`. Default: `ssh`.
pub const SSH_ENV: &str = "WARROOM_SSH";

/// The ssh client to run and the link's timing.
#[derive(Debug, Clone)]
pub struct Ssh {
    words: Vec<String>,
    pub timing: Timing,
    /// Asks ssh to compress the link (`Compression=yes`): worth it for a long-lived link of
    /// small, repetitive JSON lines (a remote screen's); off by default.
    pub compression: bool,
}

impl Ssh {
    /// `ssh`, or what [`SSH_ENV`] names.
    pub fn from_env() -> Result<Ssh, String> {
        let words = match std::env::var(SSH_ENV) {
            Ok(line) if !line.trim().is_empty() => {
                shell_words::split(&line).map_err(|e| format!("{SSH_ENV}={line:?}: {e}"))?
            }
            _ => vec!["ssh".to_string()],
        };
        Ok(Ssh { words, timing: Timing::default(), compression: false })
    }

    /// A given client command line, e.g. `["ssh", "-F", "/tmp/x/ssh_config"]`.
    pub fn new(words: Vec<String>, timing: Timing) -> Ssh {
        Ssh { words, timing, compression: false }
    }

    /// The `ssh` child for `warroom VERB ARGS…` on `dest`: no terminal (`-T`), never a
    /// password prompt (`BatchMode`), the client's own keepalive at the link's beat so a cut
    /// link also ends ssh. The remote command is quoted word by word: ssh hands the far
    /// side one string for its shell.
    pub fn command(&self, dest: &Destination, verb: &str, args: &[String]) -> Result<tokio::process::Command, String> {
        if dest.ssh.trim().is_empty() || dest.ssh.starts_with('-') {
            return Err(format!("{:?}: ssh destination {:?} is not a host", dest.name, dest.ssh));
        }
        let (program, options) = self.words.split_first().ok_or_else(|| format!("{SSH_ENV} is empty"))?;
        let alive = self.timing.beat.as_secs().max(1);
        let connect = self.timing.connect.as_secs().max(1);
        let mut command = tokio::process::Command::new(program);
        command
            .args(options)
            .args(["-T", "-o", "BatchMode=yes"])
            .arg("-o")
            .arg(format!("ServerAliveInterval={alive}"))
            .args(["-o", "ServerAliveCountMax=3"])
            .arg("-o")
            .arg(format!("ConnectTimeout={connect}"));
        if self.compression {
            command.args(["-o", "Compression=yes"]);
        }
        command.arg("--").arg(&dest.ssh).arg(dest.remote_command(verb, args));
        Ok(command)
    }
}

impl Destination {
    fn remote_command(&self, verb: &str, args: &[String]) -> String {
        let program = self.command.as_deref().unwrap_or("warroom");
        let words = std::iter::once(program).chain(std::iter::once(verb)).chain(args.iter().map(String::as_str));
        shell_words::join(words)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_remote_command_is_quoted_word_by_word() {
        let dest =
            Destination { name: "paris".into(), ssh: "wr@paris".into(), command: Some("/opt/war room/warroom".into()) };
        let line = dest.remote_command("ingest", &["-j".into(), "/srv/j; rm -rf /".into()]);
        assert_eq!(line, "'/opt/war room/warroom' ingest -j '/srv/j; rm -rf /'");
        assert_eq!(shell_words::split(&line).unwrap(), ["/opt/war room/warroom", "ingest", "-j", "/srv/j; rm -rf /"]);
    }

    #[test]
    fn a_destination_that_looks_like_an_option_is_refused() {
        let dest = Destination { name: "x".into(), ssh: "-oProxyCommand=evil".into(), command: None };
        let ssh = Ssh::new(vec!["ssh".into()], Timing::default());
        let err = ssh.command(&dest, "agent", &[]).unwrap_err();
        assert!(err.contains("is not a host"), "{err}");
    }
}
