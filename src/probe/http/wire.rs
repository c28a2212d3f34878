//! One HTTP/1.1 exchange on the wire, as a health check makes it: the request written in one
//! go, the response head parsed with httparse (hyper's own parser), the body read as RFC 9112
//! frames it, up to a bound.
//!
//! hyper's client connection is built to keep a connection and pipeline requests on it: a
//! dispatcher, a request channel and buffers per connection. A probe sends one request on a
//! fresh connection and closes it, and at 1,000 probes a second that machinery was a quarter of
//! the poller's instructions per probe (BENCHMARKS.md, issue 22). The wire format is small; what it takes to
//! read a hostile server safely (bounds on the head, the headers, a chunk line, the body) is
//! all here.

use hyper::StatusCode;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::super::tcp::io_reason;

/// A response head longer than this is refused, as hyper refuses it (its default bound).
const MAX_HEAD_BYTES: usize = 8192 + 4096 * 100;
/// Headers in one response at most, as hyper allows.
const MAX_HEADERS: usize = 100;
/// A chunk-size line or a trailer line longer than this is not HTTP.
const MAX_LINE_BYTES: usize = 4096;
/// Chunk extensions (`;name=value` after a chunk's size) in one body, at most, as hyper bounds
/// them: one byte of data per 4 KiB line would make a 1 MiB body 4 GiB on the wire.
const MAX_EXTENSION_BYTES: usize = 16 << 10;
/// Trailer lines after the last chunk, at most.
const MAX_TRAILERS: usize = 100;
/// Informational (1xx) heads before the final one, at most: a server may send one or two.
const MAX_INTERIM: usize = 16;
/// A server's own reason phrase, kept to this many characters.
const MAX_REASON_CHARS: usize = 60;
/// The first line of an answer that is not HTTP, quoted in the error to this many characters.
const FIRST_LINE_CHARS: usize = 60;
/// Read at once: a health check's whole answer, usually.
const READ_BYTES: usize = 4096;

/// Writes the request: its head (built once per request, see `exchange::Head`) and body.
pub async fn send<S: AsyncWrite + Unpin>(stream: &mut S, head: &[u8], body: &[u8]) -> std::io::Result<()> {
    if body.is_empty() {
        stream.write_all(head).await?;
    } else {
        // One write, as hyper makes it: the head and the body in one segment.
        stream.write_all(&[head, body].concat()).await?;
    }
    stream.flush().await
}

/// The head of a request as it goes on the wire: the request line, the headers, and the
/// body's length when there is a body.
pub fn request_head(method: &hyper::Method, target: &str, headers: &HeaderMap, body_len: usize) -> Vec<u8> {
    let mut wire = Vec::with_capacity(128);
    for part in [method.as_str(), " ", target, " HTTP/1.1\r\n"] {
        wire.extend_from_slice(part.as_bytes());
    }
    for (name, value) in headers {
        wire.extend_from_slice(name.as_str().as_bytes());
        wire.extend_from_slice(b": ");
        wire.extend_from_slice(value.as_bytes());
        wire.extend_from_slice(b"\r\n");
    }
    // The configuration refuses a Content-Length or Transfer-Encoding of the check's own.
    if body_len > 0 {
        wire.extend_from_slice(format!("content-length: {body_len}\r\n").as_bytes());
    }
    wire.extend_from_slice(b"\r\n");
    wire
}

/// A response head: the final one (informational 1xx heads are read past).
pub struct Answer {
    pub status: StatusCode,
    /// The server's reason phrase, when it is not the standard one for the status.
    pub reason: Option<String>,
    /// The headers asked for.
    pub headers: HeaderMap,
    framing: Framing,
}

/// How the body's end is known (RFC 9112, 6.3).
#[derive(Debug, PartialEq)]
enum Framing {
    Empty,
    Length(u64),
    Chunked,
    UntilClose,
}

impl Answer {
    /// Whether a body follows the head (not for a HEAD request, a 204 or a 304).
    pub fn has_body(&self) -> bool {
        self.framing != Framing::Empty
    }
}

/// Why a body could not be read whole: the bytes read so far, and the words.
pub type BodyFailure = (usize, String);

/// The response side of a connection: what was read and not yet taken.
pub struct Reader<S> {
    stream: S,
    buf: Vec<u8>,
    start: usize,
}

impl<S: AsyncRead + Unpin> Reader<S> {
    pub fn new(stream: S) -> Reader<S> {
        Reader { stream, buf: Vec::new(), start: 0 }
    }

    /// The final response head. `to_head`: the request was a HEAD (no body follows). Only the
    /// headers `wanted` names are kept: a map of every header a server sends was a tenth of a
    /// probe's work, for headers nothing looks at (those that frame the body are read in place).
    pub async fn head(&mut self, to_head: bool, wanted: &(dyn Fn(&str) -> bool + Sync)) -> Result<Answer, String> {
        for _ in 0..=MAX_INTERIM {
            let head = self.one_head(to_head, wanted).await?;
            // 101 ends HTTP on this connection; other 1xx heads come before the real one.
            if head.status.is_informational() && head.status != StatusCode::SWITCHING_PROTOCOLS {
                continue;
            }
            let framing = head.framing.map_err(|why| not_http(&why))?;
            return Ok(Answer { status: head.status, reason: head.reason, headers: head.headers, framing });
        }
        Err(not_http(&format!("more than {MAX_INTERIM} informational responses")))
    }

    async fn one_head(&mut self, to_head: bool, wanted: &(dyn Fn(&str) -> bool + Sync)) -> Result<Head, String> {
        loop {
            // Nothing read yet (the first time round): nothing to parse.
            if self.buf.len() > self.start
                && let Some((len, head)) = parse_head(&self.buf[self.start..], to_head, wanted)?
            {
                self.start += len;
                return Ok(head);
            }
            if self.buf.len() - self.start > MAX_HEAD_BYTES {
                return Err(not_http("message head is too large"));
            }
            if self.fill().await.map_err(|e| format!("request failed: {}", io_reason(&e)))? == 0 {
                return Err("the server closed the connection without answering".into());
            }
        }
    }

    /// The body, up to `max` bytes, and whether there was more.
    pub async fn body(&mut self, answer: &Answer, max: usize) -> Result<(Vec<u8>, bool), BodyFailure> {
        let mut out = Vec::new();
        let truncated = match answer.framing {
            Framing::Empty => false,
            Framing::Length(len) => {
                let whole = usize::try_from(len).unwrap_or(usize::MAX);
                self.take(whole.min(max), &mut out).await?;
                whole > max
            }
            Framing::UntilClose => self.until_close(max, &mut out).await?,
            Framing::Chunked => self.chunks(max, &mut out).await?,
        };
        Ok((out, truncated))
    }

    /// Exactly `n` more bytes into `out`.
    async fn take(&mut self, n: usize, out: &mut Vec<u8>) -> Result<(), BodyFailure> {
        let end = out.len() + n;
        while out.len() < end {
            if self.start == self.buf.len() && self.refill(out).await? == 0 {
                return Err((out.len(), "the connection closed before the end of the body".into()));
            }
            let here = (self.buf.len() - self.start).min(end - out.len());
            out.extend_from_slice(&self.buf[self.start..self.start + here]);
            self.start += here;
        }
        Ok(())
    }

    /// Everything until the server closes, up to `max` bytes: whether there was more.
    async fn until_close(&mut self, max: usize, out: &mut Vec<u8>) -> Result<bool, BodyFailure> {
        loop {
            let here = self.buf.len() - self.start;
            if out.len() + here > max {
                let room = max - out.len();
                out.extend_from_slice(&self.buf[self.start..self.start + room]);
                return Ok(true);
            }
            out.extend_from_slice(&self.buf[self.start..]);
            self.start = self.buf.len();
            match self.fill().await {
                Ok(0) => return Ok(false),
                Ok(_) => {}
                // A TLS server that closes the connection without saying so first: as browsers
                // and curl do, the body that came is the body (its end is the close anyway).
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(false),
                Err(e) => return Err((out.len(), io_reason(&e))),
            }
        }
    }

    /// A chunked body, up to `max` bytes of its data: whether there was more.
    async fn chunks(&mut self, max: usize, out: &mut Vec<u8>) -> Result<bool, BodyFailure> {
        let mut extensions = 0;
        loop {
            let line = self.line(out).await?;
            let (size, extension) =
                chunk_size(&line).ok_or_else(|| (out.len(), "a chunk size that is not one".to_string()))?;
            extensions += extension;
            if extensions > MAX_EXTENSION_BYTES {
                return Err((out.len(), format!("chunk extensions longer than {} KiB", MAX_EXTENSION_BYTES >> 10)));
            }
            if size == 0 {
                return self.trailers(out).await.map(|()| false);
            }
            let room = max - out.len();
            if size > room as u64 {
                self.take(room, out).await?;
                return Ok(true);
            }
            self.take(size as usize, out).await?;
            if !self.line(out).await?.is_empty() {
                return Err((out.len(), "a chunk longer than its size".into()));
            }
        }
    }

    /// The trailer section after the last chunk, up to its empty line.
    async fn trailers(&mut self, out: &[u8]) -> Result<(), BodyFailure> {
        for _ in 0..=MAX_TRAILERS {
            if self.line(out).await?.is_empty() {
                return Ok(());
            }
        }
        Err((out.len(), format!("more than {MAX_TRAILERS} trailer lines")))
    }

    /// One line of the chunked framing, without its CRLF (a bare LF is taken too).
    async fn line(&mut self, out: &[u8]) -> Result<Vec<u8>, BodyFailure> {
        loop {
            let pending = &self.buf[self.start..];
            if let Some(at) = memchr::memchr(b'\n', pending) {
                let mut line = pending[..at].to_vec();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                self.start += at + 1;
                return Ok(line);
            }
            if pending.len() > MAX_LINE_BYTES {
                return Err((out.len(), format!("a chunk line longer than {MAX_LINE_BYTES} bytes")));
            }
            if self.refill(out).await? == 0 {
                return Err((out.len(), "the connection closed before the end of the body".into()));
            }
        }
    }

    /// More bytes from the server, for the body (`out`: what is read of it, for the words).
    async fn refill(&mut self, out: &[u8]) -> Result<usize, BodyFailure> {
        self.fill().await.map_err(|e| (out.len(), io_reason(&e)))
    }

    /// Reads once more after what is buffered; 0 at the end of the stream. What was taken
    /// goes first: the buffer holds only what is not taken yet, so the bounds on a head and a
    /// line bound its memory too.
    async fn fill(&mut self) -> std::io::Result<usize> {
        self.buf.drain(..self.start);
        self.start = 0;
        self.buf.reserve(READ_BYTES);
        self.stream.read_buf(&mut self.buf).await
    }
}

/// One response head as parsed.
struct Head {
    status: StatusCode,
    reason: Option<String>,
    /// The headers asked for.
    headers: HeaderMap,
    /// How its body ends, or why that cannot be known.
    framing: Result<Framing, String>,
}

/// A complete head at the start of `bytes`, and its length; `None` while it is not all there.
/// `to_head`: the request was a HEAD. Only the headers `wanted` names are kept: those that
/// frame the body are read where they lie (httparse has checked every header's name and value).
fn parse_head(
    bytes: &[u8],
    to_head: bool,
    wanted: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Option<(usize, Head)>, String> {
    // Left uninitialised: the parser writes the headers it finds (3 KiB not cleared per probe).
    let mut slots = [const { std::mem::MaybeUninit::uninit() }; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut []);
    let parser = httparse::ParserConfig::default();
    let len = match parser.parse_response_with_uninit_headers(&mut response, bytes, &mut slots) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        // HTTP, but more of it than a probe reads: not "not HTTP".
        Err(httparse::Error::TooManyHeaders) => return Err(format!("more than {MAX_HEADERS} headers in the response")),
        // httparse's words ("invalid HTTP version") only help when it was HTTP at first sight.
        Err(e) if bytes.starts_with(b"HTTP/") => return Err(not_http(&format!("{e}; {}", began(bytes)))),
        Err(_) => return Err(not_http(&began(bytes))),
    };
    let code = response.code.unwrap_or_default();
    let status = StatusCode::from_u16(code).map_err(|_| not_http(&format!("status code {code}")))?;
    // The server's own words say more than the standard ones ("503 Backend fetch failed", "521
    // Web Server Is Down"); kept only when they differ, so a usual answer costs no copy.
    let reason = response
        .reason
        .map(str::trim)
        .filter(|r| !r.is_empty() && Some(*r) != status.canonical_reason())
        .map(|r| r.chars().take(MAX_REASON_CHARS).collect());
    // Empty until something is kept: most checks look at no header at all.
    let mut headers = HeaderMap::new();
    for h in response.headers.iter().filter(|h| wanted(h.name)) {
        let name = HeaderName::from_bytes(h.name.as_bytes()).map_err(|_| not_http("a bad header name"))?;
        let value = HeaderValue::from_bytes(h.value).map_err(|_| not_http("a bad header value"))?;
        headers.append(name, value);
    }
    let framing = framing(status, response.version == Some(1), to_head, response.headers);
    Ok(Some((len, Head { status, reason, headers, framing })))
}

/// How the body of a response with this status, HTTP version (1.1 or 1.0) and headers ends
/// (RFC 9112, 6.3). `to_head`: the request was a HEAD.
fn framing(status: StatusCode, is_1_1: bool, to_head: bool, headers: &[httparse::Header]) -> Result<Framing, String> {
    if to_head || status.is_informational() || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
        return Ok(Framing::Empty);
    }
    let named = |name: &'static str| headers.iter().filter(move |h| h.name.eq_ignore_ascii_case(name));
    if let Some(last) = named("transfer-encoding").next_back() {
        // RFC 9112, 6.1: an HTTP/1.0 message with one has faulty framing.
        if !is_1_1 {
            return Err("Transfer-Encoding in an HTTP/1.0 response".into());
        }
        let chunked =
            last.value.rsplit(|&b| b == b',').next().is_some_and(|c| c.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        return Ok(if chunked { Framing::Chunked } else { Framing::UntilClose });
    }
    let mut length = None;
    for value in named("content-length") {
        for part in value.value.split(|&b| b == b',') {
            let n = std::str::from_utf8(part.trim_ascii())
                .ok()
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or("invalid content-length parsed")?;
            if length.is_some_and(|l| l != n) {
                return Err("invalid content-length parsed".into());
            }
            length = Some(n);
        }
    }
    Ok(length.map_or(Framing::UntilClose, Framing::Length))
}

/// The size a chunk-size line gives (hex digits, then optional whitespace and `;extensions`),
/// and how long its extensions are.
fn chunk_size(line: &[u8]) -> Option<(u64, usize)> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    let rest = &line[digits..];
    let space = rest.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
    if digits == 0 || !(rest.is_empty() || rest.get(space) == Some(&b';')) {
        return None;
    }
    let significant = std::str::from_utf8(&line[..digits]).ok()?.trim_start_matches('0');
    if significant.len() > 16 {
        return None;
    }
    Some((u64::from_str_radix(significant, 16).unwrap_or(0), rest.len()))
}

/// What a server that does not speak HTTP said first ("it began: 220 mail.test ESMTP"), made
/// safe to show: it tells an on-call engineer what is really listening on the port.
fn began(bytes: &[u8]) -> String {
    // A TLS record (handshake or alert): an https port asked in plain http.
    if let [0x15 | 0x16, 0x03, ..] = bytes {
        return "it answered in TLS: is the port https?".into();
    }
    let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    match std::str::from_utf8(line) {
        // Text, perhaps with escape sequences in it: the sanitizer takes those out.
        Ok(text) if text.starts_with(|c: char| !c.is_control()) => {
            format!("it began: {}", crate::sanitize::sanitize_str(text, FIRST_LINE_CHARS))
        }
        _ => "it began with bytes that are not text".into(),
    }
}

fn not_http(why: &str) -> String {
    format!("the server did not answer in HTTP ({why})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header;

    async fn read(answer: &'static [u8], to_head: bool, max: usize) -> Result<(u16, Vec<u8>, bool), String> {
        let mut reader = Reader::new(answer);
        let head = reader.head(to_head, &|_| true).await?;
        let (body, truncated) = reader.body(&head, max).await.map_err(|(n, why)| format!("after {n}: {why}"))?;
        Ok((head.status.as_u16(), body, truncated))
    }

    #[tokio::test]
    async fn bodies_end_as_their_framing_says() {
        let length = read(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", false, 100).await;
        assert_eq!(length, Ok((200, b"ok".to_vec(), false)));
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2;x=y\r\nok\r\nA\r\n0123456789\r\n0\r\nT: 1\r\n\r\n";
        assert_eq!(read(chunked, false, 100).await, Ok((200, b"ok0123456789".to_vec(), false)));
        let close = read(b"HTTP/1.0 200 OK\r\n\r\nuntil the end", false, 100).await;
        assert_eq!(close, Ok((200, b"until the end".to_vec(), false)));
        let head = read(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true, 100).await;
        assert_eq!(head, Ok((200, Vec::new(), false)));
        let empty = read(b"HTTP/1.1 204 No Content\r\n\r\n", false, 100).await;
        assert_eq!(empty, Ok((204, Vec::new(), false)));
        let interim =
            read(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Busy\r\nContent-Length: 1\r\n\r\nx", false, 9).await;
        assert_eq!(interim, Ok((503, b"x".to_vec(), false)));
    }

    #[tokio::test]
    async fn bodies_stop_at_the_bound_and_say_so() {
        let length = read(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", false, 4).await;
        assert_eq!(length, Ok((200, b"0123".to_vec(), true)));
        let exact = read(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n0123", false, 4).await;
        assert_eq!(exact, Ok((200, b"0123".to_vec(), false)));
        let chunked =
            read(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n", false, 4).await;
        assert_eq!(chunked, Ok((200, b"abcd".to_vec(), true)));
        let close = read(b"HTTP/1.1 200 OK\r\n\r\n0123456789", false, 4).await;
        assert_eq!(close, Ok((200, b"0123".to_vec(), true)));
    }

    #[tokio::test]
    async fn what_is_not_http_or_ends_early_is_named() {
        let smtp = read(b"220 mail.test ESMTP\r\n", false, 100).await.unwrap_err();
        assert_eq!(smtp, "the server did not answer in HTTP (it began: 220 mail.test ESMTP)");
        // A control byte in the status line is shown harmless, never raw.
        let escape = read(b"HTTP/1.1 503 Down\x1b[2J now\r\n\r\n", false, 100).await.unwrap_err();
        assert!(escape.contains("it began: HTTP/1.1 503 Down") && !escape.contains('\x1b'), "{escape}");
        let tls = read(b"\x15\x03\x03\x00\x02\x02\x46", false, 100).await.unwrap_err();
        assert_eq!(tls, "the server did not answer in HTTP (it answered in TLS: is the port https?)");
        let binary = read(b"\x00\x01\x02 junk\r\n", false, 100).await.unwrap_err();
        assert_eq!(binary, "the server did not answer in HTTP (it began with bytes that are not text)");
        assert_eq!(read(b"", false, 100).await.unwrap_err(), "the server closed the connection without answering");
        let cut = read(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial", false, 1000).await.unwrap_err();
        assert_eq!(cut, "after 7: the connection closed before the end of the body");
        let lengths = read(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", false, 9).await;
        assert!(lengths.unwrap_err().contains("invalid content-length"));
        let chunk = read(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false, 9).await;
        assert_eq!(chunk.unwrap_err(), "after 0: a chunk size that is not one");
        let old = read(b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", false, 9).await;
        assert!(old.unwrap_err().contains("Transfer-Encoding in an HTTP/1.0 response"));
        let status = read(b"HTTP/1.1 042 Odd\r\n\r\n", false, 9).await.unwrap_err();
        assert!(status.starts_with("the server did not answer in HTTP"), "{status}");
    }

    #[tokio::test]
    async fn only_the_headers_asked_for_are_kept_and_the_framing_ones_still_frame() {
        let answer = b"HTTP/1.1 200 OK\r\nServer: x\r\nX-Id: 7\r\nContent-Length: 2\r\n\r\nokTRAILING";
        let mut reader = Reader::new(&answer[..]);
        let head = reader.head(false, &|name| name.eq_ignore_ascii_case("x-id")).await.unwrap();
        let names: Vec<&str> = head.headers.keys().map(|n| n.as_str()).collect();
        assert_eq!(names, ["x-id"]);
        assert_eq!(reader.body(&head, 10).await.unwrap(), (b"ok".to_vec(), false));
        // Asked for, a framing header is kept too.
        let mut reader = Reader::new(&answer[..]);
        let head = reader.head(false, &|name| name.eq_ignore_ascii_case("content-length")).await.unwrap();
        assert_eq!(head.headers.get("content-length").unwrap(), "2");
    }

    #[tokio::test]
    async fn more_headers_than_read_is_said_so_not_called_not_http() {
        let answer = format!("HTTP/1.1 200 OK\r\n{}\r\n", "X-A: 1\r\n".repeat(MAX_HEADERS + 1));
        let mut reader = Reader::new(answer.as_bytes());
        let why = reader.head(false, &|_| false).await.err().unwrap();
        assert_eq!(why, format!("more than {MAX_HEADERS} headers in the response"));
    }

    #[test]
    fn chunk_sizes_are_hex_digits_then_extensions() {
        assert_eq!(chunk_size(b"1a"), Some((26, 0)));
        assert_eq!(chunk_size(b"0000000000000000005"), Some((5, 0)));
        assert_eq!(chunk_size(b"5 ;name=\"v\""), Some((5, 10)));
        for bad in [&b"+5"[..], b" 5", b"5 ", b"5\r", b"", b"x", b"10000000000000000"] {
            assert_eq!(chunk_size(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[tokio::test]
    async fn a_flood_of_interim_heads_or_chunk_extensions_is_refused() {
        let interim = "HTTP/1.1 100 Continue\r\n\r\n".repeat(MAX_INTERIM + 1) + "HTTP/1.1 200 OK\r\n\r\n";
        let mut reader = Reader::new(interim.as_bytes());
        assert!(reader.head(false, &|_| true).await.err().unwrap().contains("informational responses"));
        let mut chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for _ in 0..8 {
            chunked.extend_from_slice(format!("1;{}\r\nx\r\n", "e".repeat(4000)).as_bytes());
        }
        let mut reader = Reader::new(&chunked[..]);
        let head = reader.head(false, &|_| true).await.unwrap();
        let (read, why) = reader.body(&head, 100).await.unwrap_err();
        assert_eq!((read, why.as_str()), (4, "chunk extensions longer than 16 KiB"));
    }

    /// What was taken leaves the buffer: a server that keeps sending pieces of long heads
    /// holds at most one unfinished head in memory.
    #[tokio::test]
    async fn the_buffer_keeps_only_what_is_not_taken() {
        let interim = format!("HTTP/1.1 103 Early Hints\r\nLink: {}\r\n\r\n", "l".repeat(20 << 10));
        let answer = interim.repeat(MAX_INTERIM) + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        let mut reader = Reader::new(trickle(answer.into_bytes()));
        let head = reader.head(false, &|_| true).await.unwrap();
        assert_eq!(reader.body(&head, 10).await.unwrap(), (b"ok".to_vec(), false));
        assert!(reader.buf.capacity() < 64 << 10, "the buffer grew to {} bytes", reader.buf.capacity());
    }

    /// A stream that gives at most 1,000 bytes a read, as a network does.
    fn trickle(bytes: Vec<u8>) -> impl AsyncRead + Unpin {
        struct Trickle(std::io::Cursor<Vec<u8>>);
        impl AsyncRead for Trickle {
            fn poll_read(
                mut self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let pos = self.0.position() as usize;
                let data = self.0.get_ref();
                let n = (data.len() - pos).min(1000).min(buf.remaining());
                buf.put_slice(&data[pos..pos + n]);
                self.0.set_position((pos + n) as u64);
                std::task::Poll::Ready(Ok(()))
            }
        }
        Trickle(std::io::Cursor::new(bytes))
    }

    #[test]
    fn the_request_head_carries_the_body_length_only_with_a_body() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("example.test:8080"));
        let get = request_head(&hyper::Method::GET, "/ok?x=1", &headers, 0);
        assert_eq!(get, b"GET /ok?x=1 HTTP/1.1\r\nhost: example.test:8080\r\n\r\n");
        let post = request_head(&hyper::Method::POST, "/", &headers, 7);
        assert_eq!(post, b"POST / HTTP/1.1\r\nhost: example.test:8080\r\ncontent-length: 7\r\n\r\n");
    }
}
