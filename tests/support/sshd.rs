//! Real OpenSSH for tests of anything remote: network namespaces the test creates, each with
//! its own `sshd` (generated host key, its own config and authorized keys in a temporary
//! directory), and an ssh client config with a `Host` alias per server, passed to warroom
//! through `WARROOM_SSH` as a user would pass `-F`.
//!
//! A namespace is reached over a veth pair with addresses of its own, so a test can drop
//! every packet inside it (nftables) for a link that goes silent without a FIN, and a server
//! started inside one namespace is seen only from there.
//!
//! Needs root (CI is root), `ip` (iproute2), `nft` (nftables) and `sshd` (openssh-server);
//! outside CI a missing one skips the test visibly.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::{announce_skip, in_ci, need};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// Whether this process can create network namespaces (root with CAP_SYS_ADMIN); outside CI,
/// a visible skip when not.
fn can_create_namespaces() -> bool {
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        let msg = "network namespaces need root (CI runs as root)";
        assert!(!in_ci(), "CI=true and {msg}");
        announce_skip(msg);
    }
    root
}

fn run(program: &Path, args: &[&str]) {
    let out = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{program:?} {args:?}: {e}"));
    assert!(out.status.success(), "{program:?} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A network namespace with a veth pair to this one: `outside` is our end's address,
/// `inside` the namespace's. Deleted with its links on drop.
pub struct Netns {
    pub name: String,
    pub inside: Ipv4Addr,
    pub outside: Ipv4Addr,
    ip: PathBuf,
    nft: PathBuf,
    veth: String,
}

impl Netns {
    pub fn create() -> Option<Netns> {
        let ip = need("ip", "iproute2")?;
        let nft = need("nft", "nftables")?;
        if !can_create_namespaces() {
            return None;
        }
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        // Names and a /24 of our own per namespace: unique among this process's namespaces
        // by the counter, and among concurrently running test binaries by the pid.
        let name = format!("wr{pid}n{n}");
        let veth = format!("wr{}v{n}", pid % 100_000);
        let (a, b) = (100 + (pid % 100) as u8, (n % 250) as u8);
        let (outside, inside) = (Ipv4Addr::new(10, a, b, 1), Ipv4Addr::new(10, a, b, 2));
        let ns = Netns { name, inside, outside, ip, nft, veth };
        let peer = format!("{}p", ns.veth);
        let ipc = |args: &[&str]| run(&ns.ip, args);
        ipc(&["netns", "add", &ns.name]);
        ipc(&["link", "add", &ns.veth, "type", "veth", "peer", "name", &peer]);
        ipc(&["link", "set", &peer, "netns", &ns.name]);
        ipc(&["addr", "add", &format!("{outside}/24"), "dev", &ns.veth]);
        ipc(&["link", "set", &ns.veth, "up"]);
        ipc(&["netns", "exec", &ns.name, "ip", "addr", "add", &format!("{inside}/24"), "dev", &peer]);
        ipc(&["netns", "exec", &ns.name, "ip", "link", "set", &peer, "up"]);
        ipc(&["netns", "exec", &ns.name, "ip", "link", "set", "lo", "up"]);
        Some(ns)
    }

    /// `program` run inside the namespace (`ip netns exec` becomes the program: same pid).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(&self.ip);
        command.args(["netns", "exec", &self.name]).arg(program);
        command
    }

    /// Drops every packet in and out of the namespace: its links go silent, no FIN, no RST.
    pub fn drop_packets(&self) {
        let rules = "table inet wrcut {\n\
                     chain in { type filter hook input priority -100; policy drop; }\n\
                     chain out { type filter hook output priority -100; policy drop; }\n}\n";
        let mut nft = self.command(&self.nft);
        nft.args(["-f", "-"]).stdin(Stdio::piped());
        let mut child = nft.spawn().expect("nft");
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), rules.as_bytes()).unwrap();
        drop(child.stdin.take());
        assert!(child.wait().unwrap().success(), "nft -f: dropping packets in {}", self.name);
    }

    /// Undoes [`Netns::drop_packets`].
    pub fn pass_packets(&self) {
        let out = self.command(&self.nft).args(["delete", "table", "inet", "wrcut"]).output().unwrap();
        assert!(out.status.success(), "nft delete table: {}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting our end deletes the pair; the namespace goes once no process is left in it.
        let _ = Command::new(&self.ip).args(["link", "del", &self.veth]).stderr(Stdio::null()).status();
        let _ = Command::new(&self.ip).args(["netns", "del", &self.name]).stderr(Stdio::null()).status();
    }
}

/// The client side: a user key, and an ssh config and known_hosts naming every [`Sshd`]
/// started with it. Pass [`SshClient::env`] to warroom.
pub struct SshClient {
    dir: tempfile::TempDir,
    hosts: Vec<String>,
    known: Vec<String>,
}

impl SshClient {
    pub fn new() -> Option<SshClient> {
        let keygen = need("ssh-keygen", "openssh-client")?;
        need("ssh", "openssh-client")?;
        let dir = tempfile::tempdir().unwrap();
        keygen_ed25519(&keygen, &dir.path().join("id_ed25519"));
        Some(SshClient { dir, hosts: Vec::new(), known: Vec::new() })
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("ssh_config")
    }

    /// `("WARROOM_SSH", "ssh -F …/ssh_config")`: warroom's ssh, configured as a user would.
    pub fn env(&self) -> (&'static str, String) {
        ("WARROOM_SSH", format!("ssh -F {}", self.config_path().display()))
    }

    /// The same client for a link opened in the test process itself.
    pub fn words(&self) -> Vec<String> {
        vec!["ssh".into(), "-F".into(), self.config_path().display().to_string()]
    }

    fn public_key(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("id_ed25519.pub")).unwrap()
    }

    fn add_host(&mut self, alias: &str, address: Ipv4Addr, port: u16, host_key: &str) {
        let dir = self.dir.path().display();
        self.hosts.push(format!(
            "Host {alias}\n  HostName {address}\n  Port {port}\n  User root\n  IdentityFile {dir}/id_ed25519\n  \
             IdentitiesOnly yes\n  UserKnownHostsFile {dir}/known_hosts\n  HostKeyAlias {alias}\n  \
             StrictHostKeyChecking yes\n  ControlMaster no\n  LogLevel ERROR\n"
        ));
        self.known.push(format!("{alias} {}", host_key.trim()));
        std::fs::write(self.dir.path().join("known_hosts"), self.known.join("\n") + "\n").unwrap();
        std::fs::write(self.config_path(), self.hosts.join("\n")).unwrap();
    }
}

fn keygen_ed25519(keygen: &Path, path: &Path) {
    run(keygen, &["-q", "-t", "ed25519", "-N", "", "-C", "warroom-test", "-f", path.to_str().unwrap()]);
}

/// A real `sshd` in the foreground (`-D -e`), in a namespace or on 127.0.0.1, accepting the
/// client's key for root. Killed, with every connection it serves, on drop.
pub struct Sshd {
    pub alias: String,
    pub address: Ipv4Addr,
    pub port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

impl Sshd {
    /// Starts sshd inside `ns` on port 22, or on a free port of 127.0.0.1 with `None`, and
    /// adds it to `client`'s config as `alias`.
    pub fn start(client: &mut SshClient, alias: &str, ns: Option<&Netns>) -> Option<Sshd> {
        let sshd = need("sshd", "openssh-server")?;
        let keygen = need("ssh-keygen", "openssh-client")?;
        // The privilege-separation directory sshd insists on.
        std::fs::create_dir_all("/run/sshd").unwrap();
        let mut dir = tempfile::tempdir().unwrap();
        let host_key = dir.path().join("host_ed25519");
        keygen_ed25519(&keygen, &host_key);
        std::fs::write(dir.path().join("authorized_keys"), client.public_key()).unwrap();
        // On 127.0.0.1 the port is chosen free a moment before sshd binds it: another process
        // may take it in between, and sshd then exits; try again on another.
        let mut tries = 0;
        let server = loop {
            let (address, port) = match ns {
                Some(ns) => (ns.inside, 22),
                None => (Ipv4Addr::LOCALHOST, super::free_port()),
            };
            write_sshd_config(dir.path(), address, port, &host_key);
            let log = std::fs::File::create(dir.path().join("sshd.log")).unwrap();
            let mut command = match ns {
                Some(ns) => ns.command(&sshd),
                None => Command::new(&sshd),
            };
            command.arg("-D").arg("-e").arg("-f").arg(dir.path().join("sshd_config"));
            let child = command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(log).spawn().expect("sshd");
            let mut server = Sshd { alias: alias.to_string(), address, port, child, dir };
            if server.wait_accepting() {
                break server;
            }
            tries += 1;
            assert!(ns.is_none() && tries < 5, "sshd {alias} did not start: {}", server.log());
            dir = server.into_dir();
        };
        let public = std::fs::read_to_string(host_key.with_extension("pub")).unwrap();
        client.add_host(alias, server.address, server.port, &public);
        Some(server)
    }

    /// The listener's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What sshd logged (why a login was refused).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    /// The per-connection sshd processes and everything they run (the remote warroom).
    pub fn connection_pids(&self) -> Vec<u32> {
        descendants(self.pid())
    }

    /// Lets the client's key log in as any account, not only root: sshd reads
    /// `authorized_keys` as the user logging in, so its folder must be open to them.
    pub fn open_to_every_account(&self) {
        use std::os::unix::fs::PermissionsExt;
        let open = |path: &Path, mode| std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        open(self.dir.path(), 0o755);
        open(&self.dir.path().join("authorized_keys"), 0o644);
    }

    /// Restricts the client's key to one command, as an operator does in `authorized_keys`
    /// (`command="/usr/bin/warroom agent" ssh-ed25519 …`): sshd runs it whatever is asked.
    pub fn restrict_keys(&self, command: &str) {
        let keys = self.dir.path().join("authorized_keys");
        let key = std::fs::read_to_string(&keys).unwrap();
        std::fs::write(keys, format!("command=\"{command}\",no-pty {key}")).unwrap();
    }

    /// Takes back the client's key: the next login is refused.
    pub fn revoke_keys(&self) {
        let keys = self.dir.path().join("authorized_keys");
        std::fs::copy(&keys, self.dir.path().join("authorized_keys.revoked")).unwrap();
        std::fs::write(keys, "").unwrap();
    }

    /// Undoes [`Sshd::revoke_keys`]: the client's key is accepted again.
    pub fn restore_keys(&self) {
        let keys = self.dir.path().join("authorized_keys");
        std::fs::copy(self.dir.path().join("authorized_keys.revoked"), keys).unwrap();
    }

    /// Ends every connection by killing its per-connection sshd processes (the listener stays).
    pub fn kill_connections(&self) {
        for pid in self.connection_pids() {
            // SAFETY: kill(2) on processes descended from our own sshd.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
    }

    /// Whether sshd accepts connections; false if it exited first (its port was taken).
    fn wait_accepting(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(15);
        let addr = std::net::SocketAddr::from((self.address, self.port));
        // On 127.0.0.1, sshd itself must hold the port: another process's would accept too.
        let ours = |server: &Sshd| server.address != Ipv4Addr::LOCALHOST || super::listens(server.pid(), server.port);
        while std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() || !ours(self) {
            if self.child.try_wait().unwrap().is_some() {
                return false;
            }
            assert!(Instant::now() < deadline, "sshd {} did not listen on {addr}: {}", self.alias, self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }

    fn into_dir(mut self) -> tempfile::TempDir {
        let _ = self.child.wait();
        std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap())
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.kill_connections();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write_sshd_config(dir: &Path, address: Ipv4Addr, port: u16, host_key: &Path) {
    let config = format!(
        "Port {port}\nListenAddress {address}\nHostKey {}\nAuthorizedKeysFile {}/authorized_keys\n\
         PidFile none\nStrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
         PermitRootLogin prohibit-password\nPubkeyAuthentication yes\nLogLevel VERBOSE\n",
        host_key.display(),
        dir.display()
    );
    std::fs::write(dir.join("sshd_config"), config).unwrap();
}

/// Every live process descended from `root`, read from /proc (a killed one its parent has
/// not reaped yet, a zombie, is not counted: it has ended).
pub fn descendants(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
            let state = fields.next()?;
            let ppid = fields.next()?.parse().ok()?;
            (state != "Z").then_some((pid, ppid))
        })
        .collect();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(parents.iter().filter(|(_, ppid)| *ppid == parent).map(|(pid, _)| *pid));
        i += 1;
    }
    found.remove(0);
    found
}
