//! `tls`: handshake, then report the certificate's expiry and whether its chain is trusted.
//! Also the TLS helpers for STARTTLS and HTTP certificate reporting.
//!
//! The handshake accepts any certificate (still verifying the handshake signatures), and the
//! chain is then checked separately against the system roots. That way a probe can say both
//! "expires in 3 days" and "not trusted: self-signed certificate" about the same certificate.

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::outcome::{Health, Outcome, fmt_ms};
use super::spec::TlsSpec;
use super::tcp;
use super::trace::Trace;

fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER.get_or_init(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider())).clone()
}

#[derive(Debug)]
struct RecordOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for RecordOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // Judged after the handshake by `verify_chain`, so the probe can report on it.
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn handshake_config() -> Result<Arc<ClientConfig>, String> {
    static CONFIG: OnceLock<Result<Arc<ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let config = ClientConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .map_err(|e| format!("TLS setup: {e}"))?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(RecordOnly(provider())))
                .with_no_client_auth();
            Ok(Arc::new(config))
        })
        .clone()
}

fn chain_verifier() -> Result<Arc<WebPkiServerVerifier>, String> {
    static VERIFIER: OnceLock<Result<Arc<WebPkiServerVerifier>, String>> = OnceLock::new();
    VERIFIER
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            let found = rustls_native_certs::load_native_certs();
            let (added, _ignored) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err("no trusted root certificates on this host (install ca-certificates)".into());
            }
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .map_err(|e| format!("TLS verifier setup: {e}"))
        })
        .clone()
}

/// Handshakes over `tcp` for `host`, returning the stream and the certificates presented.
pub async fn handshake(
    tcp: TcpStream,
    host: &str,
) -> Result<(TlsStream<TcpStream>, Vec<CertificateDer<'static>>), String> {
    let config = handshake_config()?;
    let name =
        ServerName::try_from(host.to_string()).map_err(|_| format!("\"{host}\" is not a valid TLS server name"))?;
    let stream = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS handshake failed: {}", handshake_reason(&e)))?;
    let certs = stream.get_ref().1.peer_certificates().map(|c| c.to_vec()).unwrap_or_default();
    if certs.is_empty() {
        return Err("server presented no certificate".into());
    }
    Ok((stream, certs))
}

/// Why a handshake failed, in the operator's words. A server that answers a ClientHello with
/// plain text (an HTTP 400, an SMTP banner) makes rustls report "received corrupt message of
/// type InvalidContentType": what it means is that this port does not speak TLS.
fn handshake_reason(e: &std::io::Error) -> String {
    use rustls::{Error, InvalidMessage};
    match e.get_ref().and_then(|inner| inner.downcast_ref::<Error>()) {
        Some(Error::InvalidMessage(InvalidMessage::InvalidContentType)) => {
            "the server did not answer TLS (is this a plain-text port?)".into()
        }
        _ => tcp::io_reason(e),
    }
}

/// Whether the presented chain is trusted for `host` by the system roots, now.
pub fn verify_chain(certs: &[CertificateDer<'static>], host: &str) -> Result<(), String> {
    let verifier = chain_verifier()?;
    let name =
        ServerName::try_from(host.to_string()).map_err(|_| format!("\"{host}\" is not a valid TLS server name"))?;
    let (leaf, intermediates) = certs.split_first().ok_or("server presented no certificate")?;
    verifier
        .verify_server_cert(leaf, intermediates, &name, &[], UnixTime::now())
        .map(|_| ())
        .map_err(|e| format!("certificate not trusted: {}", untrusted(&e, leaf)))
}

/// Why a chain is not trusted, in the words an operator reads (curl's, where it has them):
/// rustls names its faults for programs, "Other(OtherError(CaUsedAsEndEntity))" for a
/// self-signed certificate, and times in Unix seconds.
fn untrusted(e: &rustls::Error, leaf: &CertificateDer<'_>) -> String {
    use rustls::CertificateError as Fault;
    let rustls::Error::InvalidCertificate(fault) = e else { return e.to_string() };
    let when = |t: &UnixTime| {
        i64::try_from(t.as_secs())
            .ok()
            .and_then(|secs| DateTime::from_timestamp(secs, 0))
            .map_or_else(|| format!("{} (Unix time)", t.as_secs()), |at| at.format("%Y-%m-%d %H:%M UTC").to_string())
    };
    match fault {
        Fault::Expired => "it has expired".into(),
        Fault::ExpiredContext { not_after, .. } => format!("it expired on {}", when(not_after)),
        Fault::NotValidYet => "it is not valid yet".into(),
        Fault::NotValidYetContext { not_before, .. } => format!("it is not valid before {}", when(not_before)),
        Fault::Revoked => "it has been revoked".into(),
        Fault::BadEncoding => "it cannot be read".into(),
        Fault::InvalidPurpose | Fault::InvalidPurposeContext { .. } => "it is not issued for a server".into(),
        Fault::NotValidForNameContext { expected, presented } => {
            let names: Vec<&str> = presented.iter().map(|name| unwrapped(name)).collect();
            match names.as_slice() {
                [] => format!("it names no host, not {}", expected.to_str()),
                names => format!("it is for {}, not {}", names.join(", "), expected.to_str()),
            }
        }
        Fault::NotValidForName => "it is not for this host".into(),
        // Whatever the verifier tripped on first (a root of the same name in another key type
        // gives an unsupported algorithm): the chain ends in the certificate itself.
        _ if self_signed(leaf) => "self-signed certificate".into(),
        Fault::UnknownIssuer => {
            "unknown issuer: not signed by an authority this host trusts (an intermediate missing?)".into()
        }
        Fault::BadSignature => "a signature in its chain is wrong".into(),
        Fault::UnsupportedSignatureAlgorithmContext { .. }
        | Fault::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            "its chain is signed with an algorithm this host does not accept".into()
        }
        _ => "it is not valid (the verifier gave no reason warroom knows)".into(),
    }
}

/// `example.com` from webpki's `DnsName("example.com")`, `10.0.0.1` from `IpAddress(10.0.0.1)`.
fn unwrapped(name: &str) -> &str {
    match (name.find('('), name.strip_suffix(')')) {
        (Some(open), Some(inner)) => inner[open + 1..].trim_matches('"'),
        _ => name,
    }
}

/// Whether a certificate names itself as its issuer.
fn self_signed(der: &CertificateDer<'_>) -> bool {
    x509_parser::parse_x509_certificate(der).is_ok_and(|(_, cert)| cert.issuer() == cert.subject())
}

/// What a probe reports about a certificate.
#[derive(Debug, Clone, PartialEq)]
pub struct CertInfo {
    pub subject: String,
    pub not_after: DateTime<Utc>,
}

impl CertInfo {
    pub fn days_left(&self, now: DateTime<Utc>) -> i64 {
        (self.not_after - now).num_days()
    }
}

/// A certificate's days to expiry in words: "expires in 12 days", "EXPIRED 3 days ago".
pub fn expiry(days: i64) -> String {
    if days < 0 { format!("EXPIRED {} days ago", -days) } else { format!("expires in {days} days") }
}

pub fn cert_info(der: &[u8]) -> Result<CertInfo, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| format!("unreadable certificate: {e}"))?;
    let not_after =
        DateTime::from_timestamp(cert.validity().not_after.timestamp(), 0).ok_or("certificate expiry out of range")?;
    Ok(CertInfo { subject: crate::sanitize::sanitize(cert.subject().to_string().as_bytes(), 120), not_after })
}

pub async fn probe(spec: &TlsSpec, trace: &Trace) -> Outcome {
    tcp::by_address(&spec.host, spec.port, spec.all_addresses, trace, |addr, t| async move {
        probe_addr(spec, addr, &t).await
    })
    .await
}

async fn probe_addr(spec: &TlsSpec, addr: std::net::SocketAddr, trace: &Trace) -> Outcome {
    let name = spec.server_name.as_deref().unwrap_or(&spec.host);
    trace.step(format!("connect {addr}"));
    let tcp = match TcpStream::connect(addr).await {
        Ok(s) => s,
        Err(e) => return trace.finish(Health::Down, format!("connect {addr}: {}", tcp::io_reason(&e))),
    };
    trace.step("TLS handshake");
    let (_stream, certs) = match handshake(tcp, name).await {
        Ok(x) => x,
        Err(e) => return trace.finish(Health::Down, e),
    };
    trace.step("verify chain");
    let chain = verify_chain(&certs, name);
    let info = cert_info(&certs[0]);
    let mut outcome = trace.finish(Health::Up, String::new());
    let now = Utc::now();
    match info {
        Err(e) => {
            outcome.health = Health::Down;
            outcome.detail = e;
            return outcome;
        }
        Ok(info) => {
            let days = info.days_left(now);
            outcome.cert_days_left = Some(days);
            let expired = info.not_after < now;
            let expiry = if expired {
                format!("certificate EXPIRED on {}", info.not_after.format("%Y-%m-%d"))
            } else {
                format!("certificate expires in {days} days ({})", info.not_after.format("%Y-%m-%d"))
            };
            outcome.detail = format!("{expiry}; {}", info.subject);
            match &chain {
                Ok(()) => outcome.append_detail("chain trusted"),
                Err(e) if spec.allow_invalid_cert => outcome.append_detail(&format!("{e} (allowed by config)")),
                Err(e) => {
                    outcome.health = Health::Down;
                    outcome.detail = format!("{e}; {expiry}");
                }
            }
            if outcome.health == Health::Up {
                if expired {
                    outcome.degrade("expired");
                } else if days < spec.cert_warn_days {
                    outcome.degrade(&format!("expires within {} days", spec.cert_warn_days));
                }
            }
        }
    }
    outcome.append_detail(&format!("handshake in {}", fmt_ms(outcome.latency)));
    outcome.apply_latency_threshold(spec.degraded_over);
    outcome
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    #[test]
    fn untrusted_chains_are_told_in_words_with_dates_not_unix_seconds() {
        use rustls::CertificateError as Fault;
        let at = |secs| UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs));
        let not_a_cert = CertificateDer::from(vec![0u8; 4]);
        let said = |fault| untrusted(&rustls::Error::InvalidCertificate(fault), &not_a_cert);
        // 2026-11-20 00:00 and 2026-11-26 00:00 UTC.
        let expired = said(Fault::ExpiredContext { time: at(1_795_651_200), not_after: at(1_795_132_800) });
        assert_eq!(expired, "it expired on 2026-11-20 00:00 UTC");
        let early = said(Fault::NotValidYetContext { time: at(1_795_132_800), not_before: at(1_795_651_200) });
        assert_eq!(early, "it is not valid before 2026-11-26 00:00 UTC");
        assert!(said(Fault::UnknownIssuer).starts_with("unknown issuer"), "not self-signed: its issuer is unknown");
        assert_eq!(said(Fault::Revoked), "it has been revoked");
        let name = |presented: Vec<String>| Fault::NotValidForNameContext {
            expected: ServerName::try_from("localhost").unwrap(),
            presented,
        };
        let wrong = said(name(vec!["DnsName(\"wrong.example\")".into(), "IpAddress(10.0.0.1)".into()]));
        assert_eq!(wrong, "it is for wrong.example, 10.0.0.1, not localhost");
        assert_eq!(said(name(Vec::new())), "it names no host, not localhost");
        let dump = said(Fault::UnsupportedSignatureAlgorithmForPublicKeyContext {
            signature_algorithm_id: vec![6, 8],
            public_key_algorithm_id: vec![6, 9],
        });
        assert!(!dump.contains('[') && !dump.contains("Context"), "{dump}");
    }

    /// A plain-text server on a port of its own: it answers the ClientHello with an SMTP banner.
    #[tokio::test]
    async fn a_plain_text_port_is_named_as_such_not_as_a_corrupt_message() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut hello = [0u8; 512];
            let _ = conn.read(&mut hello).await;
            let _ = conn.write_all(b"220 mail.example.com ESMTP ready\r\n").await;
        });
        let tcp = TcpStream::connect(addr).await.unwrap();
        let Err(e) = handshake(tcp, "localhost").await else { panic!("a plain-text server completed a handshake") };
        assert_eq!(e, "TLS handshake failed: the server did not answer TLS (is this a plain-text port?)");
        server.await.unwrap();
    }

    #[test]
    fn other_failures_keep_their_reason() {
        let eof = std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "eof");
        assert_eq!(handshake_reason(&eof), "connection closed by server");
        let alert = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure),
        );
        assert!(handshake_reason(&alert).contains("HandshakeFailure"), "{}", handshake_reason(&alert));
    }
}
