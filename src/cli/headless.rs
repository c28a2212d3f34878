//! `warroom --headless`: a session without a screen. Several may run on one journal; one
//! probes, the others wait to take over. Each says what it is doing on stdout, one line at
//! a time (`role: poller`, `role: follower`, `changed: …`, `gone: alice`, `back: alice`).

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};

use crate::cli::GlobalArgs;
use crate::journal::EventBody;
use crate::sanitize::sanitize_str;
use crate::session::{Opening, Presence, Probing, Purpose, Role, Session, Settings, Update};

/// How long stopping waits for the session to journal the departure.
const LEAVE_WITHIN: Duration = Duration::from_secs(3);
/// How long a session that opened as a follower waits before saying so: the election may
/// still be settling (the last poller leaving as this one starts), and a role it holds for a
/// moment is not worth a line.
const SETTLE: Duration = Duration::from_secs(1);

pub fn run(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let config = super::load_config(global)?;
    let author = super::author(global);
    let (journal, scan) = super::open_or_start_incident(global, &config, &author)?;
    let copy = super::unpromoted_copy(global);
    let purpose = if journal.writable() && !copy { Purpose::Monitor } else { Purpose::View };
    for warning in scan.warnings(journal.path()) {
        warn(&warning);
    }
    let settings = Settings::from_config(&config, None);
    // Not kept while the session runs: 4 MB with 10,000 checks (see `dashboard`).
    drop(config);
    serve(Opening { journal, scan, settings, purpose, author })
}

/// Runs a session without a screen until it ends or a signal stops it (a drill played or
/// joined with `--headless` too).
pub fn serve(opening: Opening) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let mut session = Session::start(opening);
        let mut sigterm = signal(SignalKind::terminate())?;
        let mut sigint = signal(SignalKind::interrupt())?;
        let mut sighup = hangup()?;
        let mut upgrade_said = false;
        let mut presence = Presence { people: Vec::new(), probing: Probing::Yes };
        let mut role = RoleLine::default();
        loop {
            tokio::select! {
                update = session.recv() => match update {
                    Some(Update::Role { role: now, .. }) => role.say(&mut std::io::stdout().lock(), now),
                    Some(Update::Presence(now)) => {
                        print_presence(&mut std::io::stdout().lock(), &presence, &now);
                        presence = now;
                    }
                    Some(Update::NewerSkipped(banner)) => {
                        // Once: a log has no banner to keep up to date, and each skipped line
                        // has had its own warning.
                        if !std::mem::replace(&mut upgrade_said, true) {
                            warn(&banner);
                        }
                    }
                    Some(update) => {
                        print_update(&mut std::io::stdout().lock(), &update, &session.author);
                        if matches!(update, Update::Opened { role: Role::Follower, .. }) {
                            role.hold(Role::Follower);
                        }
                    }
                    None => break,
                },
                _ = role.settled() => role.flush(&mut std::io::stdout().lock()),
                _ = sigterm.recv() => break,
                _ = sigint.recv() => break,
                Some(()) = recv(&mut sighup) => break,
            }
        }
        session.leave(LEAVE_WITHIN).await;
        role.flush(&mut std::io::stdout().lock());
        say(&mut std::io::stdout().lock(), "left");
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The `role:` line, said once the election settled: a follower's first role is held for
/// [`SETTLE`], and a change within it replaces it rather than following it.
#[derive(Default)]
struct RoleLine {
    held: Option<(Role, tokio::time::Instant)>,
}

impl RoleLine {
    fn hold(&mut self, role: Role) {
        self.held = Some((role, tokio::time::Instant::now() + SETTLE));
    }

    /// A role reached: said now, and whatever was held is no longer news.
    fn say(&mut self, out: &mut dyn Write, role: Role) {
        self.held = None;
        say(out, &format!("role: {}", role.as_str()));
    }

    /// Resolves when the held role has waited long enough; never while nothing is held.
    async fn settled(&self) {
        match self.held {
            Some((_, at)) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    }

    fn flush(&mut self, out: &mut dyn Write) {
        if let Some((role, _)) = self.held.take() {
            say(out, &format!("role: {}", role.as_str()));
        }
    }
}

/// SIGHUP ends the session like SIGTERM, unless it was ignored when warroom started (`nohup
/// warroom --headless`): installing a handler would undo what the operator asked for.
fn hangup() -> std::io::Result<Option<tokio::signal::unix::Signal>> {
    // SAFETY: reads the current disposition only (a null new action changes nothing).
    let ignored = unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGHUP, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
    };
    if ignored { Ok(None) } else { signal(SignalKind::hangup()).map(Some) }
}

/// The next signal, or never if there is no handler.
async fn recv(signal: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match signal {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

/// One line for each thing worth saying; figures are not. Check names, details, authors and
/// the journal's file name are other people's text: [`say`] makes every line safe.
fn print_update(out: &mut dyn Write, update: &Update, me: &str) {
    match update {
        Update::Opened { journal, role, .. } => {
            say(out, &format!("joined {}", crate::journal::dir::shown(std::path::Path::new(journal))));
            // A follower's role waits for the election to settle (see [`RoleLine`]).
            if *role != Role::Follower {
                say(out, &format!("role: {}", role.as_str()));
            }
        }
        Update::Role { role, .. } => say(out, &format!("role: {}", role.as_str())),
        Update::Row(row) => say(out, &format!("row: {}", row.id.name())),
        Update::Entries(entries) => {
            for e in entries.iter().filter(|e| e.author == me) {
                match &e.body {
                    EventBody::CheckChanged { check, from, to, detail } => {
                        say(out, &format!("changed: {check} {} -> {}: {detail}", from.as_str(), to.as_str()));
                    }
                    EventBody::VantageCheckChanged { .. }
                    | EventBody::VantageUnreachable { .. }
                    | EventBody::VantageReachable { .. } => say(out, &e.summary()),
                    _ => {}
                }
            }
        }
        Update::Written { error: Some(e), .. } => warn(&format!("journal write failed: {e}")),
        Update::Refused { error, .. } => warn(error),
        Update::Notice(text) => warn(text),
        Update::Mirrors(lines) => lines.iter().for_each(|l| say(out, &format!("mirror: {l}"))),
        Update::Scorecard(text) => text.lines().for_each(|l| say(out, l)),
        _ => {}
    }
}

/// One line per operator whose presence changed (`here:`, `gone:`, `back:`, `left:`), and one
/// when probing stops or starts again.
fn print_presence(out: &mut dyn Write, before: &Presence, now: &Presence) {
    let was = |author: &str| before.people.iter().find(|p| p.author == author);
    for person in &now.people {
        let word = match (was(&person.author).map(|p| p.is_here()), person.is_here()) {
            (None, true) => "here",
            (Some(false), true) => "back",
            (None | Some(true), false) => "gone",
            (Some(true), true) | (Some(false), false) => continue,
        };
        say(out, &format!("{word}: {}", sanitize_str(&person.author, 80)));
    }
    for person in before.people.iter().filter(|p| !now.people.iter().any(|n| n.author == p.author)) {
        say(out, &format!("left: {}", sanitize_str(&person.author, 80)));
    }
    if now.probing != before.probing {
        match now.probing {
            Probing::Yes => say(out, "probing: yes"),
            Probing::Nobody { since: Some(at) } => {
                say(out, &format!("probing: nobody since {} UTC", at.format("%H:%M:%S")))
            }
            Probing::Nobody { since: None } => say(out, "probing: nobody"),
        }
    }
}

/// One line of output: every escape sequence and control character removed (a forged entry
/// could otherwise retitle the terminal or write its clipboard), and a newline inside the
/// text made a space, so nobody's text can forge a line of its own (`role: poller`).
fn safe_line(line: &str) -> String {
    crate::sanitize::for_terminal(line).replace(['\n', '\t'], " ")
}

fn say(out: &mut dyn Write, line: &str) {
    let _ = writeln!(out, "{}", safe_line(line));
    let _ = out.flush();
}

/// A line on stderr, as safe as [`say`]'s.
fn warn(text: &str) {
    eprintln!("warroom: {}", safe_line(text));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{CheckState, Event};

    fn printed(update: &Update) -> String {
        let mut out = Vec::new();
        print_update(&mut out, update, "carol");
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_forged_change_and_a_hostile_journal_name_print_no_escape() {
        let forged = Event::new(
            "carol",
            EventBody::CheckChanged {
                check: "web\u{1b}]0;PWNED\u{7}".into(),
                from: CheckState::Up,
                to: CheckState::Down,
                detail: "x\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J\nrole: poller".into(),
            },
        );
        let text = printed(&Update::Entries(vec![forged]));
        assert_eq!(text, "changed: web up -> down: x role: poller\n");
        let opened = Update::Opened {
            journal: "/j/2099-01-01T000000Z-\u{1b}]0;OWNED\u{7}x.jsonl".into(),
            role: Role::Follower,
            rows: Vec::new(),
            entries: Vec::new(),
        };
        assert_eq!(printed(&opened), "joined /j/2099-01-01T000000Z-x.jsonl\n", "a follower's role waits to settle");
    }
}
