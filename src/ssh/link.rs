//! Opening a link (the ssh child, the greeting both ways) and answering one.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::process::{Child, ChildStdout};

use super::{Destination, Hello, LinkError, PROTOCOL, Reader, Ssh, Timing, Writer};

/// The greeting line: `{"hello":{…}}`.
#[derive(Serialize, Deserialize)]
struct Greeting {
    hello: Hello,
}

/// How many lines of noise (a login script's echo) may come before the greeting.
const NOISE_LINES: usize = 64;

/// How long a far end that refuses its caller waits for its own greeting to be written.
const GREETING_FLUSH: Duration = Duration::from_secs(2);

/// The last words of ssh's stderr kept for error messages.
const STDERR_TAIL: usize = 2048;

/// A link to warroom on another host: messages in ([`Link::reader`]) and out
/// ([`Link::writer`]), the far side's greeting, and the ssh process, killed when dropped.
pub struct Link {
    pub reader: Reader<ChildStdout>,
    pub writer: Writer,
    pub peer: Hello,
    pub process: Process,
}

impl Link {
    /// Starts `warroom VERB ARGS…` on `dest` and greets it. The far side speaks first; its
    /// protocol must be ours.
    pub async fn open(ssh: &Ssh, dest: &Destination, verb: &str, args: &[String]) -> Result<Link, LinkError> {
        let timing = ssh.timing;
        let unreachable =
            |detail: String| LinkError::Unreachable { step: format!("starting ssh for {}", dest.name), detail };
        let mut command = ssh.command(dest, verb, args).map_err(unreachable)?;
        command
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|e| unreachable(format!("{e} (is the OpenSSH client installed?)")))?;
        let (Some(stdout), Some(stdin), Some(stderr)) = (child.stdout.take(), child.stdin.take(), child.stderr.take())
        else {
            return Err(unreachable("ssh started without pipes".into()));
        };
        let mut process = Process::watch(child, stderr, format!("connecting to {} ({})", dest.name, dest.ssh));
        let mut reader = Reader::new(stdout, timing.silence);
        let writer = Writer::spawn(stdin, timing.beat);
        let peer = match tokio::time::timeout(timing.connect, greeting(&mut reader)).await {
            Ok(Ok(hello)) => hello,
            Ok(Err(LinkError::Protocol { detail, .. })) => return Err(process.failed(detail).await),
            Ok(Err(e)) => return Err(process.failed(e.to_string()).await),
            Err(_) => return Err(process.failed(format!("no answer within {:?}", timing.connect)).await),
        };
        check_protocol(&peer, &dest.name)?;
        writer.send(&Greeting { hello: Hello::ours(verb) }).await?;
        Ok(Link { reader, writer, peer, process })
    }
}

/// The far end: greets on `write`, then reads the caller's greeting from `read`. warroom's
/// verbs that serve a link (`agent`, `ingest`, `serve-session`) call this on stdin/stdout.
pub async fn accept<R, W>(
    read: R,
    write: W,
    verb: &str,
    timing: Timing,
) -> Result<(Reader<R>, Writer, Hello), LinkError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let writer = Writer::spawn(write, timing.beat);
    writer.send(&Greeting { hello: Hello::ours(verb) }).await?;
    let mut reader = Reader::new(read, timing.silence);
    let peer = match tokio::time::timeout(timing.connect, greeting(&mut reader)).await {
        Ok(Ok(hello)) => check_protocol(&hello, "the connecting warroom").map(|()| hello),
        // Whoever started this verb is not a warroom (or is gone before it spoke): said, and
        // not taken for a war room that merely went away.
        Ok(Err(LinkError::Closed(why))) => Err(LinkError::Protocol {
            step: "waiting for the caller's greeting",
            detail: format!("the link ended{why} (warroom {verb} is started by another warroom over ssh)"),
        }),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(LinkError::Silent(timing.connect)),
    };
    match peer {
        Ok(peer) => Ok((reader, writer, peer)),
        Err(e) => {
            // The process exits on this error: our greeting (a caller reads the version in it)
            // is still queued, and would be lost with the runtime without this wait.
            writer.close(GREETING_FLUSH).await;
            Err(e)
        }
    }
}

/// The far side's greeting, skipping heartbeats and a few lines of noise before it. Silence
/// is not an error here: connecting may take longer than a beat (the caller bounds it).
async fn greeting<R: AsyncRead + Unpin>(reader: &mut Reader<R>) -> Result<Hello, LinkError> {
    let mut noise = Vec::new();
    loop {
        let line = match reader.next_line().await {
            Err(LinkError::Silent(_)) => continue,
            Err(e) => return Err(e),
            Ok(None) => {
                let got = if noise.is_empty() { " nothing".to_string() } else { format!(": {}", noise.join(" / ")) };
                return Err(LinkError::Closed(format!(": expected warroom's greeting, got{got}")));
            }
            Ok(Some(line)) => line,
        };
        if let Ok(Greeting { hello }) = serde_json::from_str(line) {
            return Ok(hello);
        }
        if line.trim().is_empty() {
            noise.push("(an empty line)".to_string());
        } else if !line.starts_with(r#"{"beat""#) {
            noise.push(crate::sanitize::sanitize_str(line, 120));
        }
        if noise.len() > NOISE_LINES {
            return Err(LinkError::Protocol {
                step: "waiting for warroom's greeting",
                detail: format!("got other output instead: {}", noise[..3].join(" / ")),
            });
        }
    }
}

fn check_protocol(peer: &Hello, name: &str) -> Result<(), LinkError> {
    if peer.protocol == PROTOCOL {
        return Ok(());
    }
    Err(LinkError::Mismatch {
        peer: name.to_string(),
        theirs: peer.protocol,
        their_version: crate::sanitize::sanitize_str(&peer.version, 40),
        ours: PROTOCOL,
        our_version: env!("CARGO_PKG_VERSION").to_string(),
    })
}

/// The ssh child and the tail of what it said on stderr (why a connection failed is there:
/// "Permission denied (publickey)", "warroom: command not found").
pub struct Process {
    child: Child,
    stderr: Arc<Mutex<String>>,
    /// "connecting to paris (wr@paris)": the step a failure is reported at.
    step: String,
}

impl Process {
    fn watch(child: Child, mut pipe: tokio::process::ChildStderr, step: String) -> Process {
        let stderr = Arc::new(Mutex::new(String::new()));
        let tail = Arc::clone(&stderr);
        tokio::spawn(async move {
            let mut buf = [0u8; 1024];
            while let Ok(n @ 1..) = pipe.read(&mut buf).await {
                let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
                tail.push_str(&String::from_utf8_lossy(&buf[..n]));
                if tail.len() > STDERR_TAIL {
                    let cut = tail.len() - STDERR_TAIL;
                    let cut = (cut..tail.len()).find(|&i| tail.is_char_boundary(i)).unwrap_or(tail.len());
                    tail.drain(..cut);
                }
            }
        });
        Process { child, stderr, step }
    }

    /// The ssh process's id on this host.
    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// ssh's last words, sanitised, on one line.
    pub fn stderr_tail(&self) -> String {
        let tail = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
        crate::sanitize::sanitize_str(&tail, 400)
    }

    /// Why the link failed: the step, then ssh's exit status and last words when it ended.
    pub async fn failed(&mut self, what: String) -> LinkError {
        let status = tokio::time::timeout(Duration::from_secs(2), self.child.wait()).await;
        // Let the stderr reader catch up with what ssh wrote before exiting.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let said = self.stderr_tail();
        // ssh's own words first ("Connection timed out"): what a reader needs before ours.
        let detail = match status {
            Ok(Ok(status)) if !said.is_empty() => format!("{said} (ssh {status})"),
            Ok(Ok(status)) => format!("{what}; ssh {status}"),
            _ if !said.is_empty() => format!("{said} ({what})"),
            _ => what,
        };
        LinkError::Unreachable { step: self.step.clone(), detail }
    }

    /// Closes our side and waits for ssh to end, killing it after `grace`.
    pub async fn close(mut self, grace: Duration) {
        if tokio::time::timeout(grace, self.child.wait()).await.is_err() {
            let _ = self.child.kill().await;
        }
    }
}
