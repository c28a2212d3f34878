//! The real binary on a real terminal: tmux on a private socket, keys in, screen out.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts `command` in a detached session of the given size; `None` if tmux is missing.
    pub fn start(width: u16, height: u16, command: &str, dir: &Path) -> Option<Tmux> {
        super::need("tmux", "tmux")?;
        // One server per session: this process's id and a count make the name unique.
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let socket = format!("warroom-test-{}-{n}", std::process::id());
        let tmux = Tmux { socket };
        let status = tmux
            .cmd()
            .args(["new-session", "-d", "-s", "t", "-x", &width.to_string(), "-y", &height.to_string()])
            .arg("-c")
            .arg(dir)
            .arg(command)
            .status()
            .unwrap();
        assert!(status.success(), "tmux new-session failed");
        Some(tmux)
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket, "-f", "/dev/null"]);
        c
    }

    /// Sends keys (tmux key names or literal text), then lets the program read them.
    pub fn keys(&self, keys: &[&str]) {
        let status = self.cmd().args(["send-keys", "-t", "t"]).args(keys).status().unwrap();
        assert!(status.success());
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Types text literally.
    pub fn type_text(&self, text: &str) {
        let status = self.cmd().args(["send-keys", "-t", "t", "-l", text]).status().unwrap();
        assert!(status.success());
        std::thread::sleep(Duration::from_millis(150));
    }

    pub fn screen(&self) -> String {
        let out = self.cmd().args(["capture-pane", "-p", "-t", "t"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen shows `text`; panics with the screen if it never does.
    pub fn wait_for(&self, text: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            if Instant::now() > deadline {
                panic!("screen never showed {text:?}:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// One of tmux's format variables for the pane (`alternate_on`, `cursor_flag`,
    /// `mouse_any_flag`, `pane_title`…): the terminal's state as tmux keeps it.
    pub fn pane_format(&self, variable: &str) -> String {
        let out =
            self.cmd().args(["display-message", "-p", "-t", "t"]).arg(format!("#{{{variable}}}")).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim_end_matches('\n').to_string()
    }

    /// Runs a tmux command on this server (`set -s set-clipboard on`, `select-pane -T …`);
    /// returns what it printed.
    pub fn tmux(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().unwrap();
        assert!(out.status.success(), "tmux {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Whether the session still runs (the program has not exited).
    pub fn alive(&self) -> bool {
        self.cmd().args(["has-session", "-t", "t"]).status().is_ok_and(|s| s.success())
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}

impl Tmux {
    /// Copies everything the program writes to its terminal into `file`.
    pub fn pipe_pane(&self, file: &Path) {
        let status =
            self.cmd().args(["pipe-pane", "-o", "-t", "t"]).arg(format!("cat >> {}", file.display())).status().unwrap();
        assert!(status.success());
    }

    pub fn stop_pipe(&self) {
        let _ = self.cmd().args(["pipe-pane", "-t", "t"]).status();
        std::thread::sleep(Duration::from_millis(100));
    }
}
