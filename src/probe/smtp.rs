//! `smtp`: a whole mail transaction up to RCPT TO (and DATA if asked), failing at the first
//! unexpected reply with the step and the server's words — the failure users see, not the
//! EHLO that stays green while every RCPT TO is refused.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::outcome::{Health, Outcome, fmt_ms};
use super::spec::{SmtpSpec, StartTls};
use super::trace::Trace;
use super::{MAX_DETAIL_CHARS, tcp, tls};
use crate::sanitize::sanitize;

/// Longest reply line accepted (RFC 5321 says 512; real servers are sloppier).
pub const MAX_REPLY_LINE: usize = 4096;
/// Most lines in one multi-line reply; beyond this a server is misbehaving.
pub const MAX_REPLY_LINES: usize = 200;

/// One SMTP reply: a code and its text lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    /// The reply as a server would print it, lines joined: `451 4.3.0 Temporary lookup failure`.
    pub fn text(&self) -> String {
        let body = self.lines.join(" / ");
        if body.is_empty() { self.code.to_string() } else { format!("{} {body}", self.code) }
    }

    fn offers(&self, keyword: &str) -> bool {
        self.lines.iter().any(|l| l.split_whitespace().next().is_some_and(|w| w.eq_ignore_ascii_case(keyword)))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyError {
    /// A line that is not `NNN[ -]text`.
    Malformed(String),
    /// Lines in one reply disagree on the code.
    MixedCodes(u16, u16),
    LineTooLong,
    TooManyLines,
}

impl std::fmt::Display for ReplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplyError::Malformed(line) => write!(f, "malformed reply line \"{line}\""),
            ReplyError::MixedCodes(a, b) => write!(f, "multi-line reply mixes codes {a} and {b}"),
            ReplyError::LineTooLong => write!(f, "reply line longer than {MAX_REPLY_LINE} bytes"),
            ReplyError::TooManyLines => write!(f, "reply longer than {MAX_REPLY_LINES} lines"),
        }
    }
}

/// Parses one complete reply from the start of `buf`. `Ok(None)` means more bytes are needed;
/// `Ok(Some((reply, n)))` consumed `n` bytes. Bounded: a server cannot make it buffer forever.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(Reply, usize)>, ReplyError> {
    let mut pos = 0;
    let mut code = None;
    let mut lines = Vec::new();
    loop {
        let rest = &buf[pos..];
        let Some(nl) = memchr::memchr(b'\n', rest) else {
            if rest.len() > MAX_REPLY_LINE {
                return Err(ReplyError::LineTooLong);
            }
            return Ok(None);
        };
        if nl > MAX_REPLY_LINE {
            return Err(ReplyError::LineTooLong);
        }
        let raw = &rest[..nl];
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        pos += nl + 1;
        let malformed = || ReplyError::Malformed(sanitize(raw, 80));
        if raw.len() < 3 || !raw[..3].iter().all(u8::is_ascii_digit) {
            return Err(malformed());
        }
        let this: u16 = std::str::from_utf8(&raw[..3]).map_err(|_| malformed())?.parse().map_err(|_| malformed())?;
        if !(200..=599).contains(&this) {
            return Err(malformed());
        }
        if let Some(c) = code
            && c != this
        {
            return Err(ReplyError::MixedCodes(c, this));
        }
        code = Some(this);
        let last = match raw.get(3) {
            None | Some(b' ') => true,
            Some(b'-') => false,
            Some(_) => return Err(malformed()),
        };
        lines.push(sanitize(raw.get(4..).unwrap_or_default(), MAX_DETAIL_CHARS));
        if last {
            return Ok(Some((Reply { code: this, lines }, pos)));
        }
        if lines.len() >= MAX_REPLY_LINES {
            return Err(ReplyError::TooManyLines);
        }
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

enum Stream {
    Plain(TcpStream),
    Tls(Box<dyn Io>),
}

impl Stream {
    fn io(&mut self) -> &mut (dyn Io + '_) {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.as_mut(),
        }
    }
}

struct Session<'a> {
    stream: Option<Stream>,
    buf: Vec<u8>,
    trace: &'a Trace,
}

/// How a step ended badly: the words for the detail.
struct Failed(String);

impl Session<'_> {
    async fn read_reply(&mut self, step: &str) -> Result<Reply, Failed> {
        let mut chunk = [0u8; 4096];
        loop {
            match parse_reply(&self.buf) {
                Ok(Some((reply, used))) => {
                    self.buf.drain(..used);
                    return Ok(reply);
                }
                Ok(None) => {}
                Err(e) => return Err(Failed(format!("{step}: {e}"))),
            }
            let stream = self.stream.as_mut().ok_or_else(|| Failed(format!("{step}: no connection")))?;
            match stream.io().read(&mut chunk).await {
                Ok(0) if self.buf.is_empty() => {
                    return Err(Failed(format!("{step}: connection closed by server before a reply")));
                }
                Ok(0) => {
                    return Err(Failed(format!(
                        "{step}: connection closed mid-reply after \"{}\"",
                        sanitize(&self.buf, 120)
                    )));
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(Failed(format!("{step}: {}", tcp::io_reason(&e)))),
            }
        }
    }

    /// Sends a command (if any) and requires one of `expect` as the reply code.
    async fn exchange(&mut self, step: &str, command: Option<&str>, expect: &[u16]) -> Result<Reply, Failed> {
        self.trace.step(step);
        if let Some(cmd) = command {
            let stream = self.stream.as_mut().ok_or_else(|| Failed(format!("{step}: no connection")))?;
            let line = format!("{cmd}\r\n");
            if let Err(e) = stream.io().write_all(line.as_bytes()).await {
                return Err(Failed(format!("{step}: {}", tcp::io_reason(&e))));
            }
        }
        let reply = self.read_reply(step).await?;
        if expect.contains(&reply.code) { Ok(reply) } else { Err(Failed(format!("{step}: {}", reply.text()))) }
    }
}

pub async fn probe(spec: &SmtpSpec, trace: &Trace) -> Outcome {
    tcp::by_address(&spec.host, spec.port, spec.all_addresses, trace, |addr, t| async move {
        probe_addr(spec, addr, &t).await
    })
    .await
}

async fn probe_addr(spec: &SmtpSpec, addr: std::net::SocketAddr, trace: &Trace) -> Outcome {
    trace.step(format!("connect {addr}"));
    let tcp = match TcpStream::connect(addr).await {
        Ok(s) => s,
        Err(e) => return trace.finish(Health::Down, format!("connect {addr}: {}", tcp::io_reason(&e))),
    };
    let mut session = Session { stream: Some(Stream::Plain(tcp)), buf: Vec::new(), trace };
    let mut notes = Vec::new();
    let result = transaction(spec, &mut session, &mut notes).await;
    // Be polite whatever happened; a QUIT that fails changes nothing.
    if let Some(stream) = session.stream.as_mut() {
        let _ = tokio::time::timeout(Duration::from_millis(200), stream.io().write_all(b"QUIT\r\n")).await;
    }
    match result {
        Ok(()) => {
            let mut outcome = trace.finish(Health::Up, String::new());
            let rcpts = spec.rcpt_to.len();
            let through = if spec.data.is_some() { "DATA" } else { "RCPT TO" };
            outcome.detail = format!(
                "transaction ok through {through} ({rcpts} recipient{}) in {}",
                if rcpts == 1 { "" } else { "s" },
                fmt_ms(outcome.latency)
            );
            for note in &notes {
                outcome.append_detail(note);
            }
            outcome.apply_latency_threshold(spec.degraded_over);
            outcome
        }
        Err(Failed(detail)) => trace.finish(Health::Down, detail),
    }
}

async fn transaction(spec: &SmtpSpec, s: &mut Session<'_>, notes: &mut Vec<String>) -> Result<(), Failed> {
    s.exchange("banner", None, &[220]).await?;
    let ehlo = format!("EHLO {}", spec.helo);
    let mut caps = s.exchange(&ehlo, Some(&ehlo), &[250]).await?;
    let offers_tls = caps.offers("STARTTLS");
    match (spec.starttls, offers_tls) {
        (StartTls::Off, _) => {}
        (StartTls::Required, false) => {
            return Err(Failed(format!("{ehlo}: server does not offer STARTTLS (starttls = \"required\")")));
        }
        (StartTls::Optional, false) => notes.push("no STARTTLS offered".into()),
        (_, true) => {
            s.exchange("STARTTLS", Some("STARTTLS"), &[220]).await?;
            s.trace.step("TLS handshake");
            if !s.buf.is_empty() {
                // Bytes after the 220 before the handshake are a command-injection hazard.
                return Err(Failed("STARTTLS: server sent data before the TLS handshake".into()));
            }
            let Some(Stream::Plain(tcp)) = s.stream.take() else {
                return Err(Failed("STARTTLS: connection already encrypted".into()));
            };
            let (tls_stream, certs) =
                tls::handshake(tcp, &spec.host).await.map_err(|e| Failed(format!("STARTTLS: {e}")))?;
            if let Err(e) = tls::verify_chain(&certs, &spec.host) {
                if !spec.allow_invalid_cert {
                    return Err(Failed(format!("STARTTLS: {e}")));
                }
                notes.push(format!("{e} (allowed by config)"));
            }
            s.stream = Some(Stream::Tls(Box::new(tls_stream)));
            notes.push("STARTTLS ok".into());
            caps = s.exchange(&ehlo, Some(&ehlo), &[250]).await?;
        }
    }
    let _ = caps;
    let mail = format!("MAIL FROM:<{}>", spec.mail_from);
    s.exchange(&format!("MAIL FROM <{}>", spec.mail_from), Some(&mail), &[250]).await?;
    for rcpt in &spec.rcpt_to {
        let cmd = format!("RCPT TO:<{rcpt}>");
        s.exchange(&format!("RCPT TO <{rcpt}>"), Some(&cmd), &[250, 251]).await?;
    }
    if let Some(data) = &spec.data {
        s.exchange("DATA", Some("DATA"), &[354]).await?;
        let body = dot_stuff(data);
        s.exchange("DATA (message)", Some(&format!("{body}\r\n.")), &[250]).await?;
    } else {
        s.exchange("RSET", Some("RSET"), &[250]).await?;
    }
    Ok(())
}

/// CRLF line endings and leading-dot doubling, as DATA requires.
fn dot_stuff(text: &str) -> String {
    text.lines()
        .map(|l| if l.starts_with('.') { format!(".{l}") } else { l.to_string() })
        .collect::<Vec<_>>()
        .join("\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_reply() {
        let (r, n) = parse_reply(b"250-mx.example\r\n250-SIZE 1000\r\n250 STARTTLS\r\nextra").unwrap().unwrap();
        assert_eq!(r.code, 250);
        assert_eq!(r.lines, vec!["mx.example", "SIZE 1000", "STARTTLS"]);
        assert_eq!(n, 45);
        assert!(r.offers("starttls"));
    }

    #[test]
    fn partial_reply_needs_more() {
        assert_eq!(parse_reply(b"250-a\r\n250 b"), Ok(None));
        assert_eq!(parse_reply(b""), Ok(None));
    }

    #[test]
    fn bad_replies_are_errors() {
        assert!(matches!(parse_reply(b"hello\r\n"), Err(ReplyError::Malformed(_))));
        assert_eq!(parse_reply(b"250-a\r\n251 b\r\n"), Err(ReplyError::MixedCodes(250, 251)));
        assert!(matches!(parse_reply(b"250xa\r\n"), Err(ReplyError::Malformed(_))));
        let endless = b"250-x\r\n".repeat(MAX_REPLY_LINES + 1);
        assert_eq!(parse_reply(&endless), Err(ReplyError::TooManyLines));
        assert_eq!(parse_reply(&vec![b'2'; MAX_REPLY_LINE + 1]), Err(ReplyError::LineTooLong));
    }

    #[test]
    fn bare_code_and_lf_only() {
        let (r, _) = parse_reply(b"221\n").unwrap().unwrap();
        assert_eq!(r.text(), "221");
    }

    #[test]
    fn dot_stuffing() {
        assert_eq!(dot_stuff("a\n.b\nc"), "a\r\n..b\r\nc");
    }
}
