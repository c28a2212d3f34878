//! Real Unix accounts for the shared war-room tests: `wr-alice`, `wr-bob`, `wr-carol` (group
//! `wr-team`) and `wr-outsider`, created once by `.ci/install-deps` (never by a test: tests run
//! in parallel). A test runs warroom as one of them with `setpriv` (util-linux), from a copy
//! of the binary in a folder everyone can read (the checkout may sit in a 0700 home).
//!
//! Outside CI, missing accounts or not being root skips the test visibly; with `CI=true` it fails.

use std::os::unix::fs::{PermissionsExt, chown};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const GROUP: &str = "wr-team";

/// One Unix account.
#[derive(Debug, Clone)]
pub struct Account {
    pub name: &'static str,
    pub uid: u32,
    pub gid: u32,
}

/// The team and the outsider.
#[derive(Debug, Clone)]
pub struct Team {
    pub alice: Account,
    pub bob: Account,
    pub carol: Account,
    pub outsider: Account,
    /// The id of `wr-team`.
    pub gid: u32,
}

/// The accounts, if this machine has them and the test runs as root (to become them).
pub fn team() -> Option<Team> {
    let missing = |why: String| {
        assert!(!super::in_ci(), "CI=true and the shared war-room test cannot run: {why}");
        super::announce_skip(&why);
    };
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        missing("not root: the test runs warroom as other Unix users".into());
        return None;
    }
    super::need("setpriv", "util-linux")?;
    let found = (|| {
        Some(Team {
            alice: account("wr-alice")?,
            bob: account("wr-bob")?,
            carol: account("wr-carol")?,
            outsider: account("wr-outsider")?,
            gid: group_id(GROUP)?,
        })
    })();
    if found.is_none() {
        missing("the wr-team accounts are missing (`bash .ci/install-deps` creates them)".into());
    }
    found
}

/// The account a remote screen's ssh logs into (a member of `wr-team` that OpenSSH lets in
/// with a key), if this machine has it and the test runs as root.
pub fn remote_login() -> Option<Account> {
    team()?;
    let found = account("wr-remote");
    if found.is_none() {
        assert!(!super::in_ci(), "CI=true and the account wr-remote is missing");
        super::announce_skip("the account wr-remote is missing (`bash .ci/install-deps` creates it)");
    }
    found
}

// Thread-safe lookups (`getpwnam_r`): tests run in parallel threads, and getpwnam's static
// storage, read by two at once, once gave alice the outsider's uid.
fn account(name: &'static str) -> Option<Account> {
    let (uid, gid) = warroom::journal::dir::user_id(name)?;
    Some(Account { name, uid, gid })
}

fn group_id(name: &str) -> Option<u32> {
    warroom::journal::dir::group_id(name)
}

/// A war-room folder on one host: the binary everybody can run, a config everybody can
/// read, and the journal directory as the README recommends (root:wr-team, mode 3770).
pub struct Room {
    pub base: tempfile::TempDir,
    pub bin: PathBuf,
    pub config: PathBuf,
    pub dir: PathBuf,
    pub journal: PathBuf,
}

impl Room {
    /// `config` is the warroom.toml text (`journal_group = "wr-team"` is added first).
    pub fn new(team: &Team, config: &str) -> Room {
        let base = tempfile::tempdir().unwrap();
        std::fs::set_permissions(base.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let bin = base.path().join("warroom");
        // A second name for the binary where every account can reach it (the checkout may sit
        // in a 0700 home). A link, not a copy: a copy is open for writing while it is made, and
        // a child another test forks in that instant holds it open, so exec fails with "Text
        // file busy". A copy only where a link cannot be made (another file system).
        let built = env!("CARGO_BIN_EXE_warroom");
        if std::fs::hard_link(built, &bin).is_err() {
            std::fs::copy(built, &bin).unwrap();
            std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let config_path = base.path().join("warroom.toml");
        std::fs::write(&config_path, format!("journal_group = \"{GROUP}\"\n{config}")).unwrap();
        std::fs::set_permissions(&config_path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let dir = base.path().join("incidents");
        std::fs::create_dir(&dir).unwrap();
        chown(&dir, Some(0), Some(team.gid)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o3770)).unwrap();
        let journal = dir.join("j.jsonl");
        Room { base, bin, config: config_path, dir, journal }
    }

    /// A path in the room's base folder (not the journal directory).
    pub fn path(&self, name: &str) -> PathBuf {
        self.base.path().join(name)
    }

    /// `warroom ARGS` as `who`, on the room's journal and config (a headless session, `log`…).
    pub fn warroom(&self, who: &Account, args: &[&str]) -> Command {
        let mut c = as_user(who);
        c.env("HOME", self.base.path()).arg(&self.bin);
        c.arg("-c").arg(&self.config).arg("-j").arg(&self.journal).args(["--as", who.name]).args(args);
        c
    }

    /// The same as a shell command line, for a terminal (tmux) to run.
    pub fn warroom_line(&self, who: &Account, args: &str) -> String {
        format!(
            "setpriv --reuid={} --regid={} --init-groups env HOME={} TERM=xterm-256color {} -c {} -j {} --as {} {args}",
            who.uid,
            who.gid,
            self.base.path().display(),
            self.bin.display(),
            self.config.display(),
            self.journal.display(),
            who.name
        )
    }

    /// Runs `sh -c script` as `who` in the journal directory (an attacker planting files)
    /// and checks it worked.
    pub fn run_as(&self, who: &Account, script: &str) {
        let out = as_user(who).args(["sh", "-c", script]).current_dir(&self.dir).output().unwrap();
        assert!(
            out.status.success(),
            "{} could not run {script:?}: {}",
            who.name,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A file private to `who` outside the journal directory: the victim of a planted link.
    pub fn private_file(&self, who: &Account, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        chown(&path, Some(who.uid), Some(who.gid)).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        path
    }
}

/// A command that runs as `who` (its uid, its primary group and its supplementary groups).
pub fn as_user(who: &Account) -> Command {
    let mut c = Command::new("setpriv");
    c.arg(format!("--reuid={}", who.uid)).arg(format!("--regid={}", who.gid)).arg("--init-groups");
    c
}

/// Everything about a file that an attack could change: its kind, owner, mode and content.
pub fn fingerprint(path: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(path).unwrap();
    let content = if meta.is_file() { std::fs::read(path).unwrap() } else { Vec::new() };
    let link = std::fs::read_link(path).ok();
    format!(
        "{:?} uid {} gid {} mode {:o} len {} mtime {}.{} link {link:?} {:?}",
        meta.file_type(),
        meta.uid(),
        meta.gid(),
        meta.mode(),
        meta.len(),
        meta.mtime(),
        meta.mtime_nsec(),
        String::from_utf8_lossy(&content)
    )
}
