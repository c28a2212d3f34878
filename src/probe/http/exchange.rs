//! One HTTP exchange as a health check makes it: a fresh TCP connection (TLS for `https`), one
//! request, the response read up to a bound, redirects followed on new connections.
//!
//! A socket of our own and one exchange on it ([`wire`]), not reqwest's pooled client: a probe
//! needs none of the pool, proxy or redirect-policy machinery, and at 1,000 probes a second
//! that machinery and the ten system calls it adds to each connection (keep-alive options,
//! address lookups, a shutdown) were a fifth of the poller's CPU (BENCHMARKS.md, issue 22).
//! Each step is named in the trace, so a timeout says whether it was the connect, the TLS
//! handshake, the server's answer or the body.

use std::borrow::Cow;
use std::net::SocketAddr;

use hyper::StatusCode;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use reqwest::Url;
use tokio::io::{AsyncRead, AsyncWrite};

use super::super::trace::Trace;
use super::super::{spec::HttpSpec, tcp, tls};
use super::wire;

/// Redirects followed at most, as browsers and reqwest do.
const MAX_REDIRECTS: usize = 10;

/// What came back, as far as it was read.
pub struct Response {
    pub status: StatusCode,
    /// The server's reason phrase, when it is not the standard one.
    pub reason: Option<String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The body was longer than `max_body`: only that much was read.
    pub truncated: bool,
    /// Days until the certificate of the last `https` connection expires.
    pub cert_days_left: Option<i64>,
    /// Why that certificate's chain is not trusted, when the check allows it anyway.
    pub untrusted: Option<String>,
    /// Where redirects led, when they did (the URL the response came from).
    pub landed: Option<String>,
}

/// Whether a response with this status sends the client elsewhere (its `Location`).
pub fn redirects(status: StatusCode) -> bool {
    use StatusCode as S;
    matches!(status, S::MOVED_PERMANENTLY | S::FOUND | S::SEE_OTHER | S::TEMPORARY_REDIRECT | S::PERMANENT_REDIRECT)
}

/// Where a redirect leads: its `Location`, unless empty (curl and browsers do not follow one
/// that is; joined to the URL, it would lead back to the same page until the redirect limit).
pub fn location(headers: &HeaderMap) -> Option<&HeaderValue> {
    headers.get(header::LOCATION).filter(|value| !value.as_bytes().trim_ascii().is_empty())
}

/// Why there is no response: the words for the outcome, leading with the step
/// ("connect failed: connection refused", "too many redirects: …").
pub type Failure = String;

/// The request `spec` describes, its redirects followed if it says so. `pinned`: the address
/// to use for the URL's own host (the `all_addresses` probe of one backend) instead of asking
/// the resolver.
pub async fn fetch(spec: &HttpSpec, pinned: Option<SocketAddr>, trace: &Trace) -> Result<Response, Failure> {
    let first = first(spec)?;
    let mut request = Cow::Borrowed(first);
    for hop in 0..=MAX_REDIRECTS {
        // After a redirect, the words say where it led: the configured URL may be fine.
        let landed = (hop > 0).then(|| request.url.to_string());
        let after = |why: Failure| match &landed {
            Some(url) => format!("{why} (after a redirect to {url})"),
            None => why,
        };
        let addr = match (pinned, &request.literal) {
            (Some(addr), _) if same_server(&request.url, &first.url) => addr,
            (_, Some((addr, _))) => *addr,
            _ => resolve(&request.url).await.map_err(after)?,
        };
        let mut response = once(&request, addr, spec, trace).await.map_err(after)?;
        match request.follow(&response, spec.follow_redirects)? {
            Some(next) => request = Cow::Owned(next),
            None => {
                response.landed = landed;
                return Ok(response);
            }
        }
    }
    Err(format!("too many redirects: more than {MAX_REDIRECTS} from {}", super::redacted(&spec.url)))
}

/// A check's first request, built from its spec once and kept with it (in
/// [`HttpSpec::prepared`]): parsing the URL and building the request head for every probe
/// were a tenth of the probes' own work at 1,000 probes a second (BENCHMARKS.md, issue 22).
#[derive(Clone)]
pub struct Prepared(Result<Request, Failure>);

impl Prepared {
    fn of(spec: &HttpSpec) -> Prepared {
        Prepared(Url::parse(&spec.url).map(|url| Request::first(spec, url)).map_err(|e| format!("bad URL: {e}")))
    }
}

/// A check's first request, built on its first probe and kept with its spec.
fn first(spec: &HttpSpec) -> Result<&Request, Failure> {
    spec.prepared.get_or_init(|| Box::new(Prepared::of(spec))).0.as_ref().map_err(Clone::clone)
}

/// The server a check's URL names, as a resolver takes it (see [`server`]).
pub fn target(spec: &HttpSpec) -> Result<(&str, u16), Failure> {
    server(&first(spec)?.url)
}

/// One request of a chain of redirects.
#[derive(Clone)]
struct Request {
    url: Url,
    method: hyper::Method,
    headers: Vec<(String, String)>,
    body: String,
    /// The request line and headers as they go on the wire: built with the request, so a
    /// check's first request is built once and sent by every probe.
    head: Result<Head, Failure>,
    /// The address of a host given as an IP literal, and the name of the step that connects
    /// to it: nothing to resolve or to write out again for each probe.
    literal: Option<(SocketAddr, String)>,
}

#[derive(Clone)]
struct Head {
    /// The request line and headers as they go on the wire.
    wire: Vec<u8>,
    /// What the trace calls the step: "GET http://host/path".
    step: String,
}

impl Request {
    fn new(url: Url, method: hyper::Method, headers: Vec<(String, String)>, body: String) -> Request {
        let head = Head::of(&url, &method, &headers, body.len());
        let literal = literal_address(&url).map(|addr| (addr, connect_step(addr)));
        Request { url, method, headers, body, head, literal }
    }

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
        let method = hyper::Method::from_bytes(spec.method.as_bytes()).unwrap_or(hyper::Method::GET);
        Request::new(url, method, headers, spec.request_body.clone().unwrap_or_default())
    }

    /// The next request if `response` redirects and redirects are followed, as browsers do:
    /// 303 (and 301/302 after a POST) becomes a GET without the body (a HEAD stays a HEAD);
    /// credentials and a configured `Host` go to the same server only.
    fn follow(&self, response: &Response, follow: bool) -> Result<Option<Request>, Failure> {
        use StatusCode as S;
        let status = response.status;
        if !follow || !redirects(status) {
            return Ok(None);
        }
        let Some(location) = location(&response.headers) else { return Ok(None) };
        let from = self.url.as_str();
        // Not only visible ASCII: a Location in UTF-8 is percent-encoded by the join below.
        let location = std::str::from_utf8(location.as_bytes())
            .map_err(|_| format!("redirect from {from} with a Location that is not text"))?;
        let mut url =
            self.url.join(location).map_err(|e| format!("redirect from {from} to an unusable Location ({e})"))?;
        // Credentials a server wrote into a Location are neither sent nor shown in a step.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "redirect from {from} to a {}: URL: an http check follows http and https only",
                url.scheme()
            ));
        }
        let to_get = self.method != hyper::Method::HEAD
            && (status == S::SEE_OTHER || (self.method == hyper::Method::POST && status.as_u16() < 303));
        let mut headers = self.headers.clone();
        if to_get {
            headers.retain(|(name, _)| !describes_body(name));
        }
        if !same_server(&url, &self.url) {
            headers.retain(|(name, _)| !belongs_to_server(name));
        }
        let method = if to_get { hyper::Method::GET } else { self.method.clone() };
        let body = if to_get { String::new() } else { self.body.clone() };
        Ok(Some(Request::new(url, method, headers, body)))
    }
}

impl Head {
    /// `Host` (with the port when it is not the scheme's), then the check's own headers.
    fn of(url: &Url, method: &hyper::Method, own: &[(String, String)], body_len: usize) -> Result<Head, Failure> {
        let target = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_string(),
        };
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        };
        let mut headers = HeaderMap::with_capacity(3 + own.len());
        headers.insert(header::HOST, HeaderValue::try_from(host).map_err(|e| format!("bad request: {e}"))?);
        headers.insert(
            header::USER_AGENT,
            HeaderValue::from_static(concat!("warroom/", env!("CARGO_PKG_VERSION"), " (health check)")),
        );
        headers.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        for (name, value) in own {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| format!("bad header name {name:?}: {e}"))?;
            let value = HeaderValue::from_str(value).map_err(|e| format!("bad value for header {name}: {e}"))?;
            headers.insert(name, value);
        }
        let wire = wire::request_head(method, &target, &headers, body_len);
        Ok(Head { wire, step: format!("{method} {}", url.as_str()) })
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
fn server(url: &Url) -> Result<(&str, u16), Failure> {
    let host = url.host_str().ok_or_else(|| format!("bad URL: {} has no host", url.as_str()))?;
    Ok((bare(host), url.port_or_known_default().unwrap_or(80)))
}

/// The address to connect to: an IP literal as it is (never asking the resolver), a name
/// through the system resolver.
async fn resolve(url: &Url) -> Result<SocketAddr, Failure> {
    let (host, port) = server(url)?;
    tcp::resolve_first(host, port).await
}

/// The address a URL names by an IP literal (`http://127.0.0.1:8080/`, `http://[::1]/`).
fn literal_address(url: &Url) -> Option<SocketAddr> {
    // The URL parser wrote any IPv4 form ("127.1") out in full: a name never parses as one.
    let (host, port) = server(url).ok()?;
    Some(SocketAddr::new(host.parse().ok()?, port))
}

/// An IPv6 literal without its URL brackets.
fn bare(host: &str) -> &str {
    host.trim_start_matches('[').trim_end_matches(']')
}

/// One request on one fresh connection.
async fn once(request: &Request, addr: SocketAddr, spec: &HttpSpec, trace: &Trace) -> Result<Response, Failure> {
    match &request.literal {
        Some((literal, step)) if *literal == addr => trace.step(step.as_str()),
        _ => trace.step(connect_step(addr)),
    }
    let stream = connect(addr).await?;
    match request.url.scheme() {
        "http" => exchange(stream, request, spec, None, trace).await,
        "https" => {
            let host = bare(request.url.host_str().unwrap_or_default());
            trace.step(format!("TLS handshake with {host}"));
            let (stream, certs) = tls::handshake(stream, host).await?;
            let days = certs.first().and_then(|der| tls::cert_info(der).ok()).map(|c| c.days_left(chrono::Utc::now()));
            let untrusted = match tls::verify_chain(&certs, host) {
                Err(why) if !spec.allow_invalid_cert => {
                    return Err(match days {
                        Some(days) => format!("{why} (it {})", tls::expiry(days)),
                        None => why,
                    });
                }
                // Allowed by the check, and still said, as a tls check says it.
                verified => verified.err(),
            };
            let mut response = exchange(stream, request, spec, days, trace).await?;
            response.untrusted = untrusted;
            Ok(response)
        }
        other => Err(format!("cannot probe a {other}: URL: http and https only")),
    }
}

fn connect_step(addr: SocketAddr) -> String {
    format!("connect {addr}")
}

/// A TCP connection that ends with a reset, not a FIN: no TIME_WAIT left behind per probe
/// (1,000 probes a second would hold 60,000 of them, more than the ephemeral ports towards
/// one server), as HAProxy closes its health checks.
async fn connect(addr: SocketAddr) -> Result<tokio::net::TcpStream, Failure> {
    let failed = |e: std::io::Error| format!("connect failed: {}", tcp::io_reason(&e));
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4() } else { tokio::net::TcpSocket::new_v6() }
        .map_err(failed)?;
    socket.set_zero_linger().map_err(failed)?;
    // No TCP_NODELAY: the request, head and body, is written in one go, so Nagle's algorithm
    // has nothing to hold back; one system call fewer per probe.
    socket.connect(addr).await.map_err(failed)
}

/// The request and its response over `stream`.
async fn exchange<S>(
    mut stream: S,
    request: &Request,
    spec: &HttpSpec,
    cert_days_left: Option<i64>,
    trace: &Trace,
) -> Result<Response, Failure>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let head = request.head.as_ref().map_err(Clone::clone)?;
    trace.step(head.step.as_str());
    wire::send(&mut stream, &head.wire, request.body.as_bytes())
        .await
        .map_err(|e| format!("request failed: {}", tcp::io_reason(&e)))?;
    let mut reader = wire::Reader::new(stream);
    let answer = reader.head(request.method == hyper::Method::HEAD, &|name| super::looked_at(spec, name)).await?;
    if answer.has_body() {
        trace.step("read body");
    }
    let (body, truncated) = reader.body(&answer, spec.max_body).await.map_err(|(read, why)| {
        format!(
            "HTTP {}: connection failed while reading the body after {read} bytes ({why})",
            super::status_line(answer.status, answer.reason.as_deref())
        )
    })?;
    let wire::Answer { status, reason, headers, .. } = answer;
    Ok(Response { status, reason, headers, body, truncated, cert_days_left, untrusted: None, landed: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_a_location_are_neither_sent_nor_shown() {
        let request =
            Request::new(Url::parse("http://127.0.0.1:8080/").unwrap(), hyper::Method::GET, vec![], String::new());
        let mut headers = HeaderMap::new();
        headers.insert(header::LOCATION, HeaderValue::from_static("http://bob:t0psecret@127.0.0.1:9090/x"));
        let response = Response {
            status: StatusCode::FOUND,
            reason: None,
            headers,
            body: Vec::new(),
            truncated: false,
            cert_days_left: None,
            untrusted: None,
            landed: None,
        };
        let next = request.follow(&response, true).unwrap().expect("a redirect");
        assert_eq!(next.url.as_str(), "http://127.0.0.1:9090/x");
        let head = next.head.unwrap();
        assert_eq!(head.step, "GET http://127.0.0.1:9090/x");
        let wire = String::from_utf8(head.wire).unwrap();
        assert!(!wire.contains("t0psecret") && !wire.to_ascii_lowercase().contains("authorization"), "{wire}");
    }
}
