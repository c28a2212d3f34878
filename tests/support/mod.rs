//! Real servers for tests, started on 127.0.0.1 with free ports and stopped on drop.
//!
//! Outside CI a missing server program skips the test with a message saying why; with
//! `CI=true` it fails, so a green CI run always means the real thing was exercised.
#![allow(dead_code)]

pub mod accounts;
pub mod fake;
pub mod proc;
pub mod sshd;
pub mod tmux;
pub mod updates;

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The path of `program` if installed. Outside CI, `None` after printing why the test skips.
pub fn need(program: &str, package: &str) -> Option<PathBuf> {
    let found = ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"]
        .iter()
        .map(|d| Path::new(d).join(program))
        .find(|p| p.exists());
    if found.is_none() {
        let msg = format!("{program} not found (Debian package {package}; `bash .ci/install-deps` installs it)");
        assert!(!in_ci(), "CI=true and a required server is missing: {msg}");
        announce_skip(&msg);
    }
    found
}

/// Says, where it will be seen, that the calling test is skipped and why. libtest captures
/// what `print!`/`eprint!` write and shows it only for failing tests, so a skip used to pass as
/// a plain "ok"; a write to the process's stderr handle is not captured, so this line appears
/// in every `cargo test` run, named after the test (libtest names each test's thread after it).
pub fn announce_skip(why: &str) {
    use std::io::Write;
    let test = std::thread::current().name().unwrap_or("a test").to_string();
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED {test}: {why}");
}

/// Python with aiosmtpd: Debian's python3 (its dist-packages), not a pyenv shim.
pub fn need_aiosmtpd() -> Option<PathBuf> {
    let python = need("python3", "python3")?;
    let ok =
        Command::new(&python).args(["-c", "import aiosmtpd"]).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
    if !ok {
        let msg = "python3 cannot import aiosmtpd (Debian package python3-aiosmtpd)";
        assert!(!in_ci(), "CI=true and a required server is missing: {msg}");
        announce_skip(msg);
        return None;
    }
    Some(python)
}

/// A port free a moment ago. Only for servers that must be told their port and cannot report
/// one they chose themselves: start them with [`start_on_a_free_port`], which copes with the
/// port being taken in between. A server of our own binds port 0 and says which port it got.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A port on 127.0.0.1 where connections are refused, for as long as this is kept: the port is
/// bound (so nobody else can take it) but not listening, so the kernel refuses every connection.
pub struct ClosedPort {
    /// Held, not read: closing it would free the port.
    _socket: std::os::fd::OwnedFd,
    pub port: u16,
}

pub fn closed_port() -> ClosedPort {
    use std::os::fd::FromRawFd;
    // SAFETY: socket(2) returns a new descriptor or -1, checked before it is owned.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    assert!(raw >= 0, "socket: {}", std::io::Error::last_os_error());
    // SAFETY: a fresh descriptor that nothing else owns.
    let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(raw) };
    let mut addr = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: 0,
        sin_addr: libc::in_addr { s_addr: u32::from(std::net::Ipv4Addr::LOCALHOST).to_be() },
        sin_zero: [0; 8],
    };
    let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    use std::os::fd::AsRawFd;
    // SAFETY: bind and getsockname on our own socket with a correctly sized sockaddr_in.
    unsafe {
        assert_eq!(libc::bind(fd.as_raw_fd(), (&raw const addr).cast(), len), 0, "bind");
        assert_eq!(libc::getsockname(fd.as_raw_fd(), (&raw mut addr).cast(), &mut len), 0, "getsockname");
    }
    ClosedPort { _socket: fd, port: u16::from_be(addr.sin_port) }
}

/// Starts a server that must be told its port on its command line (nginx, dnsmasq, the
/// Prometheus programs: none can report a port it picked itself). The port is free when picked;
/// if another process binds it before the server does, the server fails to bind and exits, and
/// is started again on another port (up to 5 times). `spawn` gets the ports (as many as
/// `ports`) and the server's folder, and returns the child; the first port is the one waited on.
pub fn start_on_a_free_port(
    name: &'static str,
    dir: tempfile::TempDir,
    ports: usize,
    mut spawn: impl FnMut(&[u16], &Path) -> Child,
) -> (Server, Vec<u16>) {
    let mut why = String::new();
    for _ in 0..5 {
        let chosen: Vec<u16> = (0..ports).map(|_| free_port()).collect();
        let mut child = spawn(&chosen, dir.path());
        match wait_listening(&mut child, chosen[0], Duration::from_secs(10)) {
            Ok(()) => return (Server { child: Some(child), port: chosen[0], dir, name }, chosen),
            Err(e) => {
                why = format!("{e}\n{}", std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default())
            }
        }
    }
    panic!("{name} did not start in 5 tries: {why}");
}

/// Waits for `child` itself to listen on `port`; an error if it exits first (the port was
/// taken) or never listens. Whether a connection is accepted would not do: the process that
/// took the port would accept it.
fn wait_listening(child: &mut Child, port: u16, within: Duration) -> Result<(), String> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            let stderr = child.stderr.take().map(|mut e| {
                let mut text = String::new();
                let _ = std::io::Read::read_to_string(&mut e, &mut text);
                text
            });
            return Err(format!("exited ({status}) before listening on {port}: {}", stderr.unwrap_or_default()));
        }
        if listens(child.id(), port) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    Err(format!("not listening on {port} after {within:?}"))
}

pub fn wait_for_port(port: u16, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A running server process, killed on drop.
pub struct Server {
    pub child: Option<Child>,
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub name: &'static str,
}

impl Server {
    /// Stops the server now (for tests that watch a check go down).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether process `pid` holds a TCP socket listening on `port` (IPv4): one of its descriptors
/// is a socket whose inode `/proc/net/tcp` lists in state LISTEN on that port.
pub(crate) fn listens(pid: u32, port: u16) -> bool {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    let listening: Vec<String> = table
        .lines()
        .skip(1)
        .filter_map(|row| {
            let fields: Vec<&str> = row.split_whitespace().collect();
            let local_port = u16::from_str_radix(fields.get(1)?.rsplit_once(':')?.1, 16).ok()?;
            let inode = fields.get(9)?;
            (local_port == port && *fields.get(3)? == "0A").then(|| format!("socket:[{inode}]"))
        })
        .collect();
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return false };
    fds.flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .any(|l| listening.iter().any(|s| l == Path::new(s)))
}

/// A self-signed certificate for localhost/127.0.0.1, valid for `days`.
pub fn self_signed_cert(dir: &Path, days: u32) -> Option<(PathBuf, PathBuf)> {
    let openssl = need("openssl", "openssl")?;
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let status = Command::new(openssl)
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-days", &days.to_string()])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "openssl could not make a certificate");
    Some((cert, key))
}

/// nginx serving the endpoints the probe tests need; with `tls_cert_days`, also HTTPS on
/// `tls_port` with a fresh self-signed certificate.
pub struct Nginx {
    pub server: Server,
    pub tls_port: Option<u16>,
}

pub fn nginx(tls_cert_days: Option<u32>) -> Option<Nginx> {
    let bin = need("nginx", "nginx-light")?;
    let dir = tempfile::tempdir().unwrap();
    let cert = match tls_cert_days {
        Some(days) => Some(self_signed_cert(dir.path(), days)?),
        None => None,
    };
    let ports = if cert.is_some() { 2 } else { 1 };
    let (server, ports) = start_on_a_free_port("nginx", dir, ports, |ports, dir| {
        spawn_nginx(&bin, dir, ports[0], cert.as_ref().map(|c| (ports[1], c)))
    });
    let tls_port = ports.get(1).copied();
    if let Some(p) = tls_port {
        assert!(wait_for_port(p, Duration::from_secs(5)), "nginx TLS port did not open");
    }
    Some(Nginx { server, tls_port })
}

/// nginx again on the port a stopped one had (a check watching it comes back up): that exact
/// port, so no retry on another.
pub fn nginx_on(port: u16, tls_cert_days: Option<u32>) -> Option<Nginx> {
    assert!(tls_cert_days.is_none(), "nginx_on serves plain HTTP");
    let bin = need("nginx", "nginx-light")?;
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn_nginx(&bin, dir.path(), port, None);
    wait_listening(&mut child, port, Duration::from_secs(10)).unwrap_or_else(|e| panic!("nginx on {port}: {e}"));
    Some(Nginx { server: Server { child: Some(child), port, dir, name: "nginx" }, tls_port: None })
}

/// nginx serving the endpoints the tests use, from `dir` (its config, logs and files); with
/// `tls`, HTTPS too, on that port with that certificate and key.
fn spawn_nginx(bin: &Path, dir: &Path, port: u16, tls: Option<(u16, &(PathBuf, PathBuf))>) -> Child {
    let d = dir.display().to_string();
    std::fs::create_dir_all(dir.join("www")).unwrap();
    std::fs::write(dir.join("www/slow.txt"), "s".repeat(600)).unwrap();
    let mut tls_server = String::new();
    if let Some((p, (cert, key))) = tls {
        tls_server = format!(
            "server {{ listen 127.0.0.1:{p} ssl; ssl_certificate {}; ssl_certificate_key {};
                      location / {{ default_type text/plain; return 200 \"secure ok\\n\"; }} }}",
            cert.display(),
            key.display()
        );
    }
    let conf = format!(
        r#"daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 512; }}
http {{
  access_log off;
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fcgi;
  uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  # Every other connection: a round-robin with one bad backend, as probes (a fresh
  # connection each) see it.
  map $connection $every_other {{ "~[13579]$" 1; default 0; }}
  server {{
    listen 127.0.0.1:{port};
    root {d}/www;
    location = /ok {{ default_type text/plain; return 200 "ok\n"; }}
    location = /health {{ default_type application/json; return 200 '{{"status":"ok","db":{{"state":"up","replicas":2}}}}'; }}
    location = /busy {{ add_header Retry-After 120 always; default_type text/plain; return 503 "down for maintenance\n"; }}
    location = /moved {{ return 301 /ok; }}
    location = /slow.txt {{ limit_rate 200; }}
    location = /half {{ default_type text/plain; if ($every_other) {{ return 500 "bad backend\n"; }} return 200 "ok\n"; }}
  }}
  {tls_server}
}}
"#
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    Command::new(bin)
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A real SMTP server (aiosmtpd). `reject_rcpt` makes every RCPT TO fail with 451 while the
/// banner and EHLO stay healthy: the mail outage a shallow probe cannot see. It binds port 0
/// itself and prints the port it got, so no other process can take it first.
pub fn smtpd(reject_rcpt: bool) -> Option<Server> {
    let python = need_aiosmtpd()?;
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
import asyncio, socket, sys
from aiosmtpd.smtp import SMTP
mode = sys.argv[1]
class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if mode == "reject-rcpt":
            return "451 4.3.0 Temporary lookup failure"
        envelope.rcpt_tos.append(address)
        return "250 OK"
    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 Message accepted"
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
sock.listen(128)
loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
loop.run_until_complete(loop.create_server(lambda: SMTP(Handler(), hostname="127.0.0.1"), sock=sock))
print(sock.getsockname()[1], flush=True)
loop.run_forever()
"#;
    let mut child = Command::new(python)
        .args(["-c", script, if reject_rcpt { "reject-rcpt" } else { "healthy" }])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let port = line.trim().parse().unwrap_or_else(|_| panic!("aiosmtpd did not start: {line:?}"));
    Some(Server { child: Some(child), port, dir, name: "aiosmtpd" })
}

/// dnsmasq answering for the `test.` zone only (NXDOMAIN for anything else in it):
/// `web.test` A 127.0.0.1, `mail.test` MX 10 mx1.mail.test and a TXT record.
pub fn dnsmasq() -> Option<Server> {
    let bin = need("dnsmasq", "dnsmasq-base")?;
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = start_on_a_free_port("dnsmasq", dir, 1, |ports, dir| spawn_dnsmasq(&bin, ports[0], dir));
    Some(server)
}

fn spawn_dnsmasq(bin: &Path, port: u16, dir: &Path) -> Child {
    Command::new(bin)
        .args(["--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--bind-interfaces"])
        .args(["--listen-address=127.0.0.1", "--user=root", "--local=/test/"])
        .arg(format!("--port={port}"))
        .arg(format!("--pid-file={}", dir.join("dnsmasq.pid").display()))
        .args(["--address=/web.test/127.0.0.1", "--host-record=mx1.mail.test,127.0.0.1"])
        .args(["--mx-host=mail.test,mx1.mail.test,10", "--txt-record=mail.test,v=spf1 -all"])
        // A hostile TXT answer: escape sequences a terminal would obey.
        .arg("--txt-record=evil.test,before\x1b]0;PWNED\x07\x1b[2Jafter")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A Debian `prometheus-*` program with a config written to a temp folder; `args` gives its
/// command line for the port it is to listen on (it cannot pick one and say which).
pub fn prometheus_stack_program(
    program: &str,
    package: &str,
    args: impl Fn(u16) -> Vec<String>,
    name: &'static str,
    dir: tempfile::TempDir,
) -> Option<Server> {
    let bin = need(program, package)?;
    let (server, _) = start_on_a_free_port(name, dir, 1, |ports, dir| {
        let log = std::fs::File::create(dir.join("error.log")).unwrap();
        Command::new(&bin).args(args(ports[0])).stdout(Stdio::null()).stderr(log).spawn().unwrap()
    });
    Some(server)
}

/// Debian's Alertmanager on a free port of 127.0.0.1 with `config` (its am.yml); no gossip
/// (it would listen on every interface).
pub fn alertmanager(config: &str) -> Option<Server> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("am.yml"), config).unwrap();
    let path = dir.path().to_path_buf();
    let args = move |port: u16| {
        vec![
            format!("--config.file={}", path.join("am.yml").display()),
            format!("--storage.path={}", path.join("data").display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
            "--cluster.listen-address=".to_string(),
        ]
    };
    prometheus_stack_program("prometheus-alertmanager", "prometheus-alertmanager", args, "alertmanager", dir)
}

/// Debian's Prometheus on a free port of 127.0.0.1 with `config` (its prometheus.yml) and
/// `rules` (rules.yml; the config names it by the `{rules}` placeholder).
pub fn prometheus(config: &str, rules: &str) -> Option<Server> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yml"), rules).unwrap();
    let config = config.replace("{rules}", &dir.path().join("rules.yml").display().to_string());
    std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
    let path = dir.path().to_path_buf();
    let args = move |port: u16| {
        vec![
            format!("--config.file={}", path.join("prometheus.yml").display()),
            format!("--storage.tsdb.path={}", path.join("data").display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
        ]
    };
    prometheus_stack_program("prometheus", "prometheus", args, "prometheus", dir)
}

/// Debian's blackbox_exporter on a free port, with one `http_2xx` module that gives up after
/// `timeout` (e.g. "2s").
pub fn blackbox_exporter(timeout: &str) -> Option<Server> {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bb.yml");
    std::fs::write(&config, format!("modules:\n  http_2xx:\n    prober: http\n    timeout: {timeout}\n")).unwrap();
    let args = move |port: u16| {
        vec![format!("--config.file={}", config.display()), format!("--web.listen-address=127.0.0.1:{port}")]
    };
    prometheus_stack_program("prometheus-blackbox-exporter", "prometheus-blackbox-exporter", args, "blackbox", dir)
}

/// Waits until `GET path` on the port answers 200 (servers that open their port before they
/// are ready, like Prometheus).
pub fn wait_http_ok(port: u16, path: &str, within: Duration) -> bool {
    use std::io::{Read, Write};
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
            let mut head = [0u8; 12];
            if s.read_exact(&mut head).is_ok() && head.ends_with(b"200") {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}
