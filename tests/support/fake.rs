//! In-process misbehaving servers for timing edge cases a real server will not produce on
//! demand: silence, trickles, truncation, endless replies, replies split across packets.

use std::future::Future;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// A listening fake; stops accepting and drops its connections when dropped.
pub struct Fake {
    pub port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn serve<F, Fut>(handler: F) -> Fake
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut conns = tokio::task::JoinSet::new();
        while let Ok((stream, _)) = listener.accept().await {
            conns.spawn(handler(stream));
        }
    });
    Fake { port, task }
}

/// Accepts and never says a word.
pub async fn silent() -> Fake {
    serve(|stream| async move {
        let _keep = stream;
        std::future::pending::<()>().await
    })
    .await
}

/// Sends `bytes` one byte per `every`.
pub async fn trickle(bytes: &'static [u8], every: Duration) -> Fake {
    serve(move |mut stream| async move {
        for b in bytes {
            if stream.write_all(&[*b]).await.is_err() {
                return;
            }
            tokio::time::sleep(every).await;
        }
        std::future::pending::<()>().await
    })
    .await
}

/// Writes `bytes` and closes the connection.
pub async fn reply_and_close(bytes: &'static [u8]) -> Fake {
    serve(move |mut stream| async move {
        let _ = stream.write_all(bytes).await;
        let _ = stream.shutdown().await;
    })
    .await
}

/// Reads an HTTP request, answers with `bytes` and closes (a response cut short).
pub async fn http_reply_and_close(bytes: &'static [u8]) -> Fake {
    serve(move |mut stream| async move {
        let _ = read_request_head(&mut stream).await;
        let _ = stream.write_all(bytes).await;
        let _ = stream.shutdown().await;
    })
    .await
}

/// An HTTP response announcing a 1 GiB body and streaming it as fast as it is read.
pub async fn huge_http_body() -> Fake {
    serve(|mut stream| async move {
        let _ = read_request_head(&mut stream).await;
        let head = format!("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n", 1u64 << 30);
        if stream.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = vec![b'A'; 64 * 1024];
        for _ in 0..(1u64 << 30) / chunk.len() as u64 {
            if stream.write_all(&chunk).await.is_err() {
                return;
            }
        }
    })
    .await
}

/// A 200 response to every request; counts the connections it accepted.
pub async fn http_counting_connections() -> (Fake, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = count.clone();
    let fake = serve(move |mut stream| {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async move {
            // Keep-alive is allowed: a client that reused connections would show it here.
            while read_request_head(&mut stream).await.is_ok() {
                if stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").await.is_err() {
                    return;
                }
            }
        }
    })
    .await;
    (fake, count)
}

/// HTTP headers at once, then the body one byte per `every`.
pub async fn http_trickle_body(every: Duration) -> Fake {
    serve(move |mut stream| async move {
        let _ = read_request_head(&mut stream).await;
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n").await;
        for _ in 0..1000 {
            if stream.write_all(b"x").await.is_err() {
                return;
            }
            tokio::time::sleep(every).await;
        }
    })
    .await
}

/// An HTTP response with this body (any bytes) and status.
pub async fn http_response(status: u16, body: &'static [u8]) -> Fake {
    serve(move |mut stream| async move {
        let _ = read_request_head(&mut stream).await;
        let head = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
        let _ = stream.write_all(head.as_bytes()).await;
        let _ = stream.write_all(body).await;
    })
    .await
}

/// What a recording fake saw: each request's head (request line and headers) and body.
pub type Requests = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// Answers each request with `answer(head)` (a whole response, sent with `Connection: close`
/// added) and records the request, its body after a blank line.
pub async fn http_recording<F>(answer: F) -> (Fake, Requests)
where
    F: Fn(&str) -> String + Send + Sync + 'static,
{
    let seen = Requests::default();
    let log = seen.clone();
    let answer = std::sync::Arc::new(answer);
    let fake = serve(move |stream| {
        let (log, answer) = (log.clone(), answer.clone());
        async move {
            use tokio::io::AsyncReadExt;
            let mut reader = BufReader::new(stream);
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).await.unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let length = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body).await;
            let response = answer(&head).replacen("\r\n", "\r\nConnection: close\r\n", 1);
            log.lock().unwrap().push(format!("{head}\r\n{}", String::from_utf8_lossy(&body)));
            let _ = reader.get_mut().write_all(response.as_bytes()).await;
        }
    })
    .await;
    (fake, seen)
}

pub async fn read_request_head(stream: &mut TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == "\r\n" {
            return Ok(());
        }
    }
}

/// An SMTP server driven by a script: for the banner and then each command, the reply is
/// written in the given pieces with a pause between them (replies split across packets).
/// `None` as a reply means "say nothing more" (hold the connection).
pub async fn smtp_script(script: &'static [Option<&'static [&'static str]>]) -> Fake {
    serve(move |stream| async move {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        for (n, step) in script.iter().enumerate() {
            if n > 0 && lines.next_line().await.ok().flatten().is_none() {
                return;
            }
            let Some(pieces) = step else { return std::future::pending::<()>().await };
            for piece in *pieces {
                if write.write_all(piece.as_bytes()).await.is_err() {
                    return;
                }
                let _ = write.flush().await;
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
        }
    })
    .await
}

/// An SMTP server whose EHLO reply never ends: `250-` lines forever.
pub async fn smtp_endless_ehlo() -> Fake {
    serve(|stream| async move {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        let _ = write.write_all(b"220 endless.test ESMTP\r\n").await;
        let _ = lines.next_line().await;
        loop {
            if write.write_all(b"250-PIPELINING\r\n").await.is_err() {
                return;
            }
        }
    })
    .await
}

/// An HTTP endpoint that can be switched between 200 and 503; counts the requests it serves.
pub struct Switch {
    pub fake: Fake,
    pub requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    pub healthy: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

pub async fn http_switch() -> Switch {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let requests = Arc::new(AtomicUsize::new(0));
    let healthy = Arc::new(AtomicBool::new(true));
    let (r, h) = (requests.clone(), healthy.clone());
    let fake = serve(move |mut stream| {
        let (r, h) = (r.clone(), h.clone());
        async move {
            while read_request_head(&mut stream).await.is_ok() {
                r.fetch_add(1, Ordering::SeqCst);
                let reply: &[u8] = if h.load(Ordering::SeqCst) {
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                } else {
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\ndown"
                };
                if stream.write_all(reply).await.is_err() {
                    return;
                }
            }
        }
    })
    .await;
    Switch { fake, requests, healthy }
}
