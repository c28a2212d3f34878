//! Real servers for tests, started on 127.0.0.1 with free ports and stopped on drop.
//!
//! Outside CI a missing server program skips the test with a message saying why; with
//! `CI=true` it fails, so a green CI run always means the real thing was exercised.
#![allow(dead_code)]

pub mod accounts;
pub mod fake;
pub mod proc;
pub mod tmux;

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

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
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

fn started(mut child: Child, port: u16, dir: tempfile::TempDir, name: &'static str) -> Server {
    if !wait_for_port(port, Duration::from_secs(10)) {
        let _ = child.kill();
        let out = child.wait_with_output().ok();
        let log = std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default();
        panic!(
            "{name} did not start on port {port}: {}\n{log}",
            out.map(|o| String::from_utf8_lossy(&o.stderr).into_owned()).unwrap_or_default()
        );
    }
    Server { child: Some(child), port, dir, name }
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
    nginx_on(free_port(), tls_cert_days)
}

/// nginx on a given port (to bring a stopped one back where it was).
pub fn nginx_on(port: u16, tls_cert_days: Option<u32>) -> Option<Nginx> {
    let bin = need("nginx", "nginx-light")?;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    std::fs::create_dir_all(dir.path().join("www")).unwrap();
    std::fs::write(dir.path().join("www/slow.txt"), "s".repeat(600)).unwrap();
    let mut tls_server = String::new();
    let mut tls_port = None;
    if let Some(days) = tls_cert_days {
        let (cert, key) = self_signed_cert(dir.path(), days)?;
        let p = free_port();
        tls_port = Some(p);
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
  server {{
    listen 127.0.0.1:{port};
    root {d}/www;
    location = /ok {{ default_type text/plain; return 200 "ok\n"; }}
    location = /health {{ default_type application/json; return 200 '{{"status":"ok","db":{{"state":"up","replicas":2}}}}'; }}
    location = /busy {{ add_header Retry-After 120 always; default_type text/plain; return 503 "down for maintenance\n"; }}
    location = /moved {{ return 301 /ok; }}
    location = /slow.txt {{ limit_rate 200; }}
  }}
  {tls_server}
}}
"#
    );
    std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
    let child = Command::new(bin)
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(dir.path().join("nginx.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let server = started(child, port, dir, "nginx");
    if let Some(p) = tls_port {
        assert!(wait_for_port(p, Duration::from_secs(5)), "nginx TLS port did not open");
    }
    Some(Nginx { server, tls_port })
}

/// A real SMTP server (aiosmtpd). `reject_rcpt` makes every RCPT TO fail with 451 while the
/// banner and EHLO stay healthy: the mail outage a shallow probe cannot see.
pub fn smtpd(reject_rcpt: bool) -> Option<Server> {
    let python = need_aiosmtpd()?;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let script = r#"
import sys, time
from aiosmtpd.controller import Controller
port, mode = int(sys.argv[1]), sys.argv[2]
class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if mode == "reject-rcpt":
            return "451 4.3.0 Temporary lookup failure"
        envelope.rcpt_tos.append(address)
        return "250 OK"
    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 Message accepted"
c = Controller(Handler(), hostname="127.0.0.1", port=port)
c.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
"#;
    let mut child = Command::new(python)
        .args(["-c", script, &port.to_string(), if reject_rcpt { "reject-rcpt" } else { "healthy" }])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready", "aiosmtpd did not start");
    Some(started(child, port, dir, "aiosmtpd"))
}

/// dnsmasq answering for the `test.` zone only (NXDOMAIN for anything else in it):
/// `web.test` A 127.0.0.1, `mail.test` MX 10 mx1.mail.test and a TXT record.
pub fn dnsmasq() -> Option<Server> {
    let bin = need("dnsmasq", "dnsmasq-base")?;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = Command::new(bin)
        .args(["--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--bind-interfaces"])
        .args(["--listen-address=127.0.0.1", "--user=root", "--local=/test/"])
        .arg(format!("--port={port}"))
        .arg(format!("--pid-file={}", dir.path().join("dnsmasq.pid").display()))
        .args(["--address=/web.test/127.0.0.1", "--host-record=mx1.mail.test,127.0.0.1"])
        .args(["--mx-host=mail.test,mx1.mail.test,10", "--txt-record=mail.test,v=spf1 -all"])
        // A hostile TXT answer: escape sequences a terminal would obey.
        .arg("--txt-record=evil.test,before\x1b]0;PWNED\x07\x1b[2Jafter")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    Some(started(child, port, dir, "dnsmasq"))
}

/// A Debian `prometheus-*` program with a config written to a temp folder.
pub fn prometheus_stack_program(
    program: &str,
    package: &str,
    args: &[String],
    port: u16,
    name: &'static str,
    dir: tempfile::TempDir,
) -> Option<Server> {
    let bin = need(program, package)?;
    let log = std::fs::File::create(dir.path().join("error.log")).unwrap();
    let child = Command::new(bin).args(args).stdout(Stdio::null()).stderr(log).spawn().unwrap();
    Some(started(child, port, dir, name))
}

/// Debian's blackbox_exporter on a free port, with one `http_2xx` module that gives up after
/// `timeout` (e.g. "2s").
pub fn blackbox_exporter(timeout: &str) -> Option<Server> {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bb.yml");
    std::fs::write(&config, format!("modules:\n  http_2xx:\n    prober: http\n    timeout: {timeout}\n")).unwrap();
    let args = vec![format!("--config.file={}", config.display()), format!("--web.listen-address=127.0.0.1:{port}")];
    prometheus_stack_program(
        "prometheus-blackbox-exporter",
        "prometheus-blackbox-exporter",
        &args,
        port,
        "blackbox",
        dir,
    )
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
