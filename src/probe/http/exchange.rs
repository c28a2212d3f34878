//! One HTTP exchange as a health check makes it: a fresh TCP connection (TLS for `https`), one
//! request, the response read up to a bound, redirects followed on new connections.
//!
//! hyper's HTTP/1 client on a socket of our own, not reqwest's pooled client: a probe needs
//! none of the pool, proxy or redirect-policy machinery, and at 1,000 probes a second that
//! machinery and the ten system calls it adds to each connection (keep-alive options, address
//! lookups, a shutdown) were a fifth of the poller's CPU (BENCHMARKS.md, issue 22). Each step is named in the trace, so a
//! timeout says whether it was the connect, the TLS handshake, the server's answer or the body.

use std::net::SocketAddr;

use http_body_util::BodyExt;
use hyper::StatusCode;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper_util::rt::TokioIo;
use reqwest::Url;
use tokio::io::{AsyncRead, AsyncWrite};

use super::super::trace::Trace;
use super::super::{spec::HttpSpec, tcp, tls};

/// Redirects followed at most, as browsers and reqwest do.
const MAX_REDIRECTS: usize = 10;

/// What came back, as far as it was read.
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The body was longer than `max_body`: only that much was read.
    pub truncated: bool,
    /// Days until the certificate of the last `https` connection expires.
    pub cert_days_left: Option<i64>,
    /// Where redirects led, when they did (the URL the response came from).
    pub landed: Option<String>,
}

/// Why there is no response: the words for the outcome, leading with the step
/// ("connect failed: connection refused", "too many redirects: …").
pub type Failure = String;

/// The request `spec` describes, its redirects followed if it says so. `pinned`: the address
/// to use for the URL's own host (the `all_addresses` probe of one backend) instead of asking
/// the resolver.
pub async fn fetch(spec: &HttpSpec, pinned: Option<SocketAddr>, trace: &Trace) -> Result<Response, Failure> {
    let first = Url::parse(&spec.url).map_err(|e| format!("bad URL: {e}"))?;
    let mut request = Request::first(spec, first.clone());
    for hop in 0..=MAX_REDIRECTS {
        // After a redirect, the words say where it led: the configured URL may be fine.
        let landed = (hop > 0).then(|| request.url.to_string());
        let after = |why: Failure| match &landed {
            Some(url) => format!("{why} (after a redirect to {url})"),
            None => why,
        };
        let addr = match pinned {
            Some(addr) if same_server(&request.url, &first) => addr,
            _ => resolve(&request.url).await.map_err(after)?,
        };
        let mut response = once(&request, addr, spec, trace).await.map_err(after)?;
        match request.follow(&response, spec.follow_redirects)? {
            Some(next) => request = next,
            None => {
                response.landed = landed;
                return Ok(response);
            }
        }
    }
    Err(format!("too many redirects: more than {MAX_REDIRECTS} from {}", super::redacted(&spec.url)))
}

/// One request of a chain of redirects.
struct Request {
    url: Url,
    method: hyper::Method,
    headers: Vec<(String, String)>,
    body: String,
}

impl Request {
    fn first(spec: &HttpSpec, mut url: Url) -> Request {
        let mut headers = spec.request_headers.clone();
        // `http://user:secret@host/` is Basic authentication, as curl and browsers read it;
        // the user and password are not sent in the request line.
        if let Some(basic) = basic_auth(&url)
            && !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        {
            headers.push(("Authorization".into(), basic));
        }
        let _ = url.set_username("");
        let _ = url.set_password(None);
        Request {
            url,
            method: hyper::Method::from_bytes(spec.method.as_bytes()).unwrap_or(hyper::Method::GET),
            headers,
            body: spec.request_body.clone().unwrap_or_default(),
        }
    }

    /// The next request if `response` redirects and redirects are followed, as browsers do:
    /// 303 (and 301/302 after a POST) becomes a GET without the body (a HEAD stays a HEAD);
    /// credentials and a configured `Host` go to the same server only.
    fn follow(&self, response: &Response, follow: bool) -> Result<Option<Request>, Failure> {
        use StatusCode as S;
        let status = response.status;
        if !follow
            || !matches!(
                status,
                S::MOVED_PERMANENTLY | S::FOUND | S::SEE_OTHER | S::TEMPORARY_REDIRECT | S::PERMANENT_REDIRECT
            )
        {
            return Ok(None);
        }
        let Some(location) = response.headers.get(header::LOCATION) else { return Ok(None) };
        let from = self.url.as_str();
        // Not only visible ASCII: a Location in UTF-8 is percent-encoded by the join below.
        let location = std::str::from_utf8(location.as_bytes())
            .map_err(|_| format!("redirect from {from} with a Location that is not text"))?;
        let url = self.url.join(location).map_err(|e| format!("redirect from {from} to an unusable Location ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "redirect from {from} to a {}: URL: an http check follows http and https only",
                url.scheme()
            ));
        }
        let to_get = self.method != hyper::Method::HEAD
            && (status == S::SEE_OTHER || (self.method == hyper::Method::POST && status.as_u16() < 303));
        let mut next = Request {
            url,
            method: if to_get { hyper::Method::GET } else { self.method.clone() },
            headers: self.headers.clone(),
            body: if to_get { String::new() } else { self.body.clone() },
        };
        if to_get {
            next.headers.retain(|(name, _)| !describes_body(name));
        }
        if !same_server(&next.url, &self.url) {
            next.headers.retain(|(name, _)| !belongs_to_server(name));
        }
        Ok(Some(next))
    }

    /// `Host` (with the port when it is not the scheme's), then the check's own headers.
    fn to_hyper(&self) -> Result<hyper::Request<String>, Failure> {
        let path = match self.url.query() {
            Some(query) => format!("{}?{query}", self.url.path()),
            None => self.url.path().to_string(),
        };
        let host = match self.url.port() {
            Some(port) => format!("{}:{port}", self.url.host_str().unwrap_or_default()),
            None => self.url.host_str().unwrap_or_default().to_string(),
        };
        let mut request = hyper::Request::builder()
            .method(self.method.clone())
            .uri(path)
            .header(header::HOST, host)
            .header(header::USER_AGENT, concat!("warroom/", env!("CARGO_PKG_VERSION"), " (health check)"))
            .header(header::ACCEPT, "*/*")
            .body(self.body.clone())
            .map_err(|e| format!("bad request: {e}"))?;
        for (name, value) in &self.headers {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| format!("bad header name {name:?}: {e}"))?;
            let value = HeaderValue::from_str(value).map_err(|e| format!("bad value for header {name}: {e}"))?;
            request.headers_mut().insert(name, value);
        }
        Ok(request)
    }
}

/// `Basic …` for the user and password of a URL, percent-decoded; none without a user.
fn basic_auth(url: &Url) -> Option<String> {
    use base64::Engine;
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let decode = |part: &str| percent_encoding::percent_decode_str(part).decode_utf8_lossy().into_owned();
    let pair = format!("{}:{}", decode(url.username()), decode(url.password().unwrap_or_default()));
    Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair)))
}

/// Headers meant for one server only: credentials, and a `Host` of the check's own.
fn belongs_to_server(name: &str) -> bool {
    ["authorization", "cookie", "proxy-authorization", "host"].iter().any(|c| name.eq_ignore_ascii_case(c))
}

/// Headers that describe a request body, dropped with it.
fn describes_body(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("content-") || name == "transfer-encoding"
}

fn same_server(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme() && a.host_str() == b.host_str() && a.port_or_known_default() == b.port_or_known_default()
}

/// The server a URL names, as a resolver takes it: the host (an IPv6 literal without its
/// brackets) and the port.
pub fn server(url: &Url) -> Result<(&str, u16), Failure> {
    let host = url.host_str().ok_or_else(|| format!("bad URL: {} has no host", url.as_str()))?;
    Ok((bare(host), url.port_or_known_default().unwrap_or(80)))
}

/// The address to connect to: an IP literal as it is (never asking the resolver), a name
/// through the system resolver.
async fn resolve(url: &Url) -> Result<SocketAddr, Failure> {
    let (host, port) = server(url)?;
    tcp::resolve_first(host, port).await
}

/// An IPv6 literal without its URL brackets.
fn bare(host: &str) -> &str {
    host.trim_start_matches('[').trim_end_matches(']')
}

/// One request on one fresh connection.
async fn once(request: &Request, addr: SocketAddr, spec: &HttpSpec, trace: &Trace) -> Result<Response, Failure> {
    let stream = connect(addr, trace).await?;
    match request.url.scheme() {
        "http" => exchange(stream, request, spec, None, trace).await,
        "https" => {
            let host = bare(request.url.host_str().unwrap_or_default());
            trace.step(format!("TLS handshake with {host}"));
            let (stream, certs) = tls::handshake(stream, host).await?;
            let days = certs.first().and_then(|der| tls::cert_info(der).ok()).map(|c| c.days_left(chrono::Utc::now()));
            if !spec.allow_invalid_cert {
                tls::verify_chain(&certs, host).map_err(|why| match days {
                    Some(days) => format!("{why} (it {})", tls::expiry(days)),
                    None => why,
                })?;
            }
            exchange(stream, request, spec, days, trace).await
        }
        other => Err(format!("cannot probe a {other}: URL: http and https only")),
    }
}

/// A TCP connection that ends with a reset, not a FIN: no TIME_WAIT left behind per probe
/// (1,000 probes a second would hold 60,000 of them, more than the ephemeral ports towards
/// one server), as HAProxy closes its health checks.
async fn connect(addr: SocketAddr, trace: &Trace) -> Result<tokio::net::TcpStream, Failure> {
    trace.step(format!("connect {addr}"));
    let failed = |e: std::io::Error| format!("connect failed: {}", tcp::io_reason(&e));
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4() } else { tokio::net::TcpSocket::new_v6() }
        .map_err(failed)?;
    socket.set_zero_linger().map_err(failed)?;
    // No TCP_NODELAY: hyper writes the request, head and body, in one go, so Nagle's
    // algorithm has nothing to hold back; one system call fewer per probe.
    socket.connect(addr).await.map_err(failed)
}

/// The request and its response over `stream`, the connection driven in this same task.
async fn exchange<S>(
    stream: S,
    request: &Request,
    spec: &HttpSpec,
    cert_days_left: Option<i64>,
    trace: &Trace,
) -> Result<Response, Failure>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let hyper_request = request.to_hyper()?;
    trace.step(format!("{} {}", request.method, request.url.as_str()));
    let (mut sender, connection) = hyper::client::conn::http1::handshake::<_, String>(TokioIo::new(stream))
        .await
        .map_err(|e| request_failed(&e))?;
    let work = async {
        let response = sender.send_request(hyper_request).await.map_err(|e| request_failed(&e))?;
        let (head, body) = response.into_parts();
        trace.step("read body");
        let (body, truncated) = read_body(body, spec.max_body).await.map_err(|(read, e)| {
            format!(
                "HTTP {}: connection failed while reading the body after {read} bytes ({})",
                super::status_line(head.status),
                super::root_cause(&e)
            )
        })?;
        Ok(Response { status: head.status, headers: head.headers, body, truncated, cert_days_left, landed: None })
    };
    let mut work = std::pin::pin!(work);
    let mut connection = std::pin::pin!(connection);
    let mut driving = true;
    loop {
        tokio::select! {
            done = &mut work => return done,
            // Its error, if any, reaches the request above; once it ends, the body is all in.
            _ = &mut connection, if driving => driving = false,
        }
    }
}

/// Why a request got no answer, in the operator's words: a server that answers something
/// other than HTTP (an SMTP banner, a TLS port, garbage) is named as such.
fn request_failed(e: &hyper::Error) -> Failure {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        let Some(e) = s.downcast_ref::<hyper::Error>() else { break };
        // A request cancelled by hyper's own error (a reply before the request, bytes that do
        // not parse) met something that is not HTTP; one cancelled by an I/O error did not.
        let spoke_first =
            e.is_canceled() && std::error::Error::source(e).is_some_and(|cause| cause.is::<hyper::Error>());
        if e.is_parse() || e.is_parse_status() || spoke_first {
            return format!("the server did not answer in HTTP ({})", super::root_cause(e));
        }
        if e.is_incomplete_message() {
            return "the server closed the connection without answering".into();
        }
        source = s.source();
    }
    format!("request failed: {}", super::root_cause(e))
}

/// The body up to `max` bytes, and whether there was more. On an error: the bytes read so far.
async fn read_body(mut body: hyper::body::Incoming, max: usize) -> Result<(Vec<u8>, bool), (usize, hyper::Error)> {
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| (out.len(), e))?;
        let Ok(chunk) = frame.into_data() else { continue };
        let room = max.saturating_sub(out.len());
        if chunk.len() > room {
            out.extend_from_slice(&chunk[..room]);
            return Ok((out, true));
        }
        out.extend_from_slice(&chunk);
    }
    Ok((out, false))
}
