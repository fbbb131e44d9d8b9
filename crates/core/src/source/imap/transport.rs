//! Transport: TCP, optionally wrapped in rustls (implicit TLS or STARTTLS), and the failures
//! of this module (a message for the user, and whether reconnecting may help).
use super::*;

#[derive(Debug)]
pub(super) struct Fail {
    pub(super) message: String,
    /// The connection broke (network, server restart, kicked): reconnecting may help. Otherwise
    /// (credentials, certificate, missing folder, UIDVALIDITY) retrying cannot help.
    pub(super) transient: bool,
    /// The server's answer to this command was refused (it could not be read, was over a limit,
    /// or too slow) or was a NO: the failure belongs to what the command asked for (a `UID FETCH`
    /// of one message is isolated and recorded), and the connection is dropped when it may be
    /// out of step.
    pub(super) answer: bool,
}

impl Fail {
    pub(super) fn fatal(message: impl Into<String>) -> Self {
        Fail { message: message.into(), transient: false, answer: false }
    }

    pub(super) fn transient(message: impl Into<String>) -> Self {
        Fail { message: message.into(), transient: true, answer: false }
    }

    pub(super) fn answer(message: impl Into<String>) -> Self {
        Fail { message: message.into(), transient: false, answer: true }
    }
}

pub(super) fn io_fail(server: &str, doing: &str, e: &io::Error) -> Fail {
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Fail::transient(format!(
            "no answer from {server} while {doing} within the timeout (timeout-secs); the server or the network is slow or gone"
        )),
        _ => Fail::transient(format!("the connection to {server} failed while {doing}: {e}")),
    }
}

// ------------------------------------------------------------------------------------------------
// Transport: TCP, optionally wrapped in rustls.

pub(super) enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

pub(super) fn tcp_connect(cfg: &ImapConfig) -> Result<TcpStream, Fail> {
    let server = cfg.server();
    let addrs: Vec<SocketAddr> = (cfg.host.as_str(), cfg.port)
        .to_socket_addrs()
        .map_err(|e| {
            Fail::transient(format!(
                "cannot find the IMAP server `{}`: {e}. Check `host` in the config and this computer's network",
                cfg.host
            ))
        })?
        .collect();
    let mut last_err = None;
    for addr in &addrs {
        match TcpStream::connect_timeout(addr, cfg.timeout) {
            Ok(tcp) => {
                let set = tcp
                    .set_read_timeout(Some(cfg.timeout))
                    .and_then(|()| tcp.set_write_timeout(Some(cfg.timeout)))
                    .and_then(|()| tcp.set_nodelay(true));
                if let Err(e) = set {
                    return Err(io_fail(&server, "connecting", &e));
                }
                return Ok(tcp);
            }
            Err(e) => last_err = Some(e),
        }
    }
    let hint = "Check `host` and `port` (IMAP over TLS is usually port 993, STARTTLS 143) and that this computer can reach the server";
    Err(match last_err {
        None => Fail::transient(format!("`{}` has no network address. {hint}", cfg.host)),
        Some(e) if e.kind() == io::ErrorKind::ConnectionRefused => Fail::transient(format!(
            "cannot connect to {server}: connection refused (nothing accepts connections on that port). {hint}"
        )),
        Some(e) if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => {
            Fail::transient(format!(
                "cannot connect to {server}: no answer within {} s (a firewall, or the wrong host). {hint}",
                cfg.timeout.as_secs()
            ))
        }
        Some(e) => Fail::transient(format!("cannot connect to {server}: {e}. {hint}")),
    })
}

/// The system's root certificates, loaded once per process.
pub(super) fn system_roots() -> Result<Arc<RootCertStore>, String> {
    static ROOTS: OnceLock<Result<Arc<RootCertStore>, String>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let loaded = rustls_native_certs::load_native_certs();
            let mut store = RootCertStore::empty();
            store.add_parsable_certificates(loaded.certs);
            if store.is_empty() {
                let why = loaded
                    .errors
                    .first()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default();
                Err(format!(
                    "found no root certificates on this system{why}. Install the ca-certificates package, or set `ca-file` to the PEM certificate of the CA that signed the server's certificate"
                ))
            } else {
                Ok(Arc::new(store))
            }
        })
        .clone()
}

pub(super) fn tls_config(cfg: &ImapConfig) -> Result<Arc<ClientConfig>, Fail> {
    let roots = match &cfg.ca_file {
        None => system_roots().map_err(Fail::fatal)?,
        Some(path) => {
            let fix = "Point `ca-file` at the PEM certificate (-----BEGIN CERTIFICATE-----) of the CA that signed the server's certificate";
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    Fail::fatal(format!(
                        "cannot read ca-file {}: {e}. {fix}",
                        path.display()
                    ))
                })?;
            if certs.is_empty() {
                return Err(Fail::fatal(format!(
                    "ca-file {} contains no PEM certificate. {fix}",
                    path.display()
                )));
            }
            let mut store = RootCertStore::empty();
            for (i, cert) in certs.into_iter().enumerate() {
                store.add(cert).map_err(|e| {
                    Fail::fatal(format!(
                        "certificate {} in ca-file {} is not usable as a CA certificate: {e}. {fix}",
                        i + 1,
                        path.display()
                    ))
                })?;
            }
            Arc::new(store)
        }
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Fail::fatal(format!("cannot set up TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The read timeout for one wait: the per-read timeout, or what is left until `deadline`.
pub(super) fn wait_until(cfg: &ImapConfig, deadline: std::time::Instant) -> Option<Duration> {
    let left = deadline.checked_duration_since(std::time::Instant::now())?;
    Some(left.min(cfg.timeout).max(Duration::from_millis(1)))
}

pub(super) fn setup_deadline_fail(cfg: &ImapConfig, doing: &str) -> Fail {
    Fail::transient(format!(
        "{} took more than {} s (command-timeout-secs) while {doing}; rapport gave up on this connection",
        cfg.server(),
        cfg.command_timeout.as_secs()
    ))
}

pub(super) fn tls_handshake(cfg: &ImapConfig, mut tcp: TcpStream, deadline: std::time::Instant) -> Result<Stream, Fail> {
    let server = cfg.server();
    let config = tls_config(cfg)?;
    let name = ServerName::try_from(cfg.host.clone()).map_err(|_| {
        Fail::fatal(format!(
            "`{}` is not a host name or IP address that a TLS certificate can be checked against. Fix `host`",
            cfg.host
        ))
    })?;
    let mut conn = ClientConnection::new(config, name)
        .map_err(|e| Fail::fatal(format!("cannot start TLS with {server}: {e}")))?;
    while conn.is_handshaking() {
        let Some(wait) = wait_until(cfg, deadline) else {
            return Err(setup_deadline_fail(cfg, "negotiating TLS"));
        };
        let _ = tcp.set_read_timeout(Some(wait));
        if let Err(e) = conn.complete_io(&mut tcp) {
            if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) && std::time::Instant::now() >= deadline {
                return Err(setup_deadline_fail(cfg, "negotiating TLS"));
            }
            return Err(tls_fail(cfg, &e));
        }
    }
    Ok(Stream::Tls(Box::new(StreamOwned::new(conn, tcp))))
}

pub(super) fn tls_fail(cfg: &ImapConfig, e: &io::Error) -> Fail {
    let server = cfg.server();
    let trusted = match &cfg.ca_file {
        Some(path) => format!("the CA certificate(s) in ca-file {}", path.display()),
        None => "the system's root certificates (no ca-file is set)".to_string(),
    };
    let ports = "with security = \"tls\" use the server's implicit-TLS port (usually 993); for port 143 use security = \"starttls\"";
    let Some(tls) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    else {
        if matches!(
            e.kind(),
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
        ) {
            return Fail::transient(format!(
                "no answer from {server} during the TLS handshake within {} s (timeout-secs). Check `port` and `security`: {ports}",
                cfg.timeout.as_secs()
            ));
        }
        return Fail::transient(format!(
            "the TLS handshake with {server} failed: {e}. Check `port` and `security`: {ports}"
        ));
    };
    match tls {
        rustls::Error::InvalidCertificate(cert) => {
            let (what, fix) = match cert {
                CertificateError::UnknownIssuer | CertificateError::BadSignature => (
                    format!("is not signed by a CA that rapport trusts: it was checked against {trusted}"),
                    if cfg.ca_file.is_some() {
                        "If the server's certificate comes from another CA, set `ca-file` to that CA's certificate (PEM). If it should have matched, someone may be intercepting the connection"
                    } else {
                        "If the server uses a private or self-signed CA, set `ca-file` to that CA's certificate (PEM). Otherwise someone may be intercepting the connection"
                    }
                    .to_string(),
                ),
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => (
                    format!("is not issued for the name `{}`", cfg.host),
                    "Set `host` to a name the certificate is issued for (ask the server's administrator)".to_string(),
                ),
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => (
                    "has expired".to_string(),
                    "Ask the server's administrator to renew it, and check this computer's clock".to_string(),
                ),
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => (
                    "is not valid yet".to_string(),
                    "Check this computer's clock".to_string(),
                ),
                CertificateError::Revoked => (
                    "has been revoked".to_string(),
                    "Ask the server's administrator for a new one".to_string(),
                ),
                other => (
                    format!("was rejected ({other:?})"),
                    format!("It was checked against {trusted}; ask the server's administrator"),
                ),
            };
            Fail::fatal(format!("the TLS certificate of {server} {what}. {fix}"))
        }
        rustls::Error::AlertReceived(alert) => Fail::fatal(format!(
            "the TLS handshake with {server} failed: the server sent the alert {alert:?}. The server and rapport share no TLS version or cipher, or the port is wrong: {ports}"
        )),
        other => Fail::fatal(format!(
            "the TLS handshake with {server} failed: {other}. The server does not seem to speak TLS on this port: {ports}"
        )),
    }
}

/// Most bytes a server may send before the TLS handshake of STARTTLS (greeting, capabilities).
const MAX_BEFORE_TLS: usize = 1 << 20;

/// Read one line (up to CRLF) without reading past it: what follows a `STARTTLS` OK is TLS. At
/// most `*left` bytes (shared by every line before TLS), and only until `deadline`.
pub(super) fn read_line_unbuffered(tcp: &mut TcpStream, cfg: &ImapConfig, deadline: std::time::Instant, left: &mut usize) -> Result<String, Fail> {
    let server = cfg.server();
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        let Some(wait) = wait_until(cfg, deadline) else {
            return Err(setup_deadline_fail(cfg, "starting STARTTLS"));
        };
        let _ = tcp.set_read_timeout(Some(wait));
        match tcp.read(&mut byte) {
            Ok(0) => {
                return Err(Fail::transient(format!(
                    "{server} closed the connection before STARTTLS"
                )))
            }
            Ok(_) => {
                line.push(byte[0]);
                if line.ends_with(b"\r\n") {
                    line.truncate(line.len() - 2);
                    return Ok(String::from_utf8_lossy(&line).into_owned());
                }
                *left = left.saturating_sub(1);
                if line.len() > 64 * 1024 || *left == 0 {
                    return Err(Fail::fatal(format!(
                        "{server} sent over-long lines before STARTTLS; is this an IMAP server?"
                    )));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) && std::time::Instant::now() < deadline => {
                return Err(io_fail(&server, "starting STARTTLS", &e))
            }
            Err(e) if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => {
                return Err(setup_deadline_fail(cfg, "starting STARTTLS"))
            }
            Err(e) => return Err(io_fail(&server, "starting STARTTLS", &e)),
        }
    }
}

pub(super) fn check_greeting(server: &str, greeting: &str) -> Result<(), Fail> {
    let upper = greeting.to_ascii_uppercase();
    if upper.starts_with("* OK") {
        Ok(())
    } else if upper.starts_with("* BYE") {
        Err(Fail::transient(format!(
            "{server} refused the connection: \"{greeting}\""
        )))
    } else if upper.starts_with("* PREAUTH") {
        Err(Fail::fatal(format!(
            "{server} logged the connection in before encryption (PREAUTH), so STARTTLS is impossible; use security = \"tls\" on the server's implicit-TLS port"
        )))
    } else {
        Err(Fail::fatal(format!(
            "{server} does not greet like an IMAP server (it sent \"{}\"). Check `host` and `port`",
            greeting.chars().take(80).collect::<String>()
        )))
    }
}

/// Plain IMAP up to a successful `STARTTLS`; the caller then does the TLS handshake. Refuses
/// (before anything secret is sent) when the server does not offer STARTTLS.
pub(super) fn starttls(cfg: &ImapConfig, mut tcp: TcpStream, deadline: std::time::Instant) -> Result<TcpStream, Fail> {
    let server = cfg.server();
    let mut left = MAX_BEFORE_TLS;
    let greeting = read_line_unbuffered(&mut tcp, cfg, deadline, &mut left)?;
    check_greeting(&server, &greeting)?;
    let mut capabilities = String::new();
    let upper = greeting.to_ascii_uppercase();
    if let Some(start) = upper.find("[CAPABILITY ") {
        capabilities = upper[start..].split(']').next().unwrap_or("").to_string();
    } else {
        let write = |tcp: &mut TcpStream, cmd: &[u8]| tcp.write_all(cmd).and_then(|()| tcp.flush());
        write(&mut tcp, b"R0 CAPABILITY\r\n")
            .map_err(|e| io_fail(&server, "asking for its capabilities", &e))?;
        loop {
            let line = read_line_unbuffered(&mut tcp, cfg, deadline, &mut left)?.to_ascii_uppercase();
            if line.starts_with("* CAPABILITY ") {
                capabilities.push_str(&line);
                capabilities.push(' ');
            } else if line.starts_with("R0 ") {
                break;
            }
        }
    }
    if !capabilities
        .split_ascii_whitespace()
        .any(|c| c == "STARTTLS")
    {
        return Err(Fail::fatal(format!(
            "{server} does not offer STARTTLS, so the connection cannot be encrypted; rapport did not send the password. Use security = \"tls\" with the server's implicit-TLS port (usually 993), or, only on a network you trust, security = \"plaintext\""
        )));
    }
    tcp.write_all(b"R1 STARTTLS\r\n")
        .and_then(|()| tcp.flush())
        .map_err(|e| io_fail(&server, "starting STARTTLS", &e))?;
    loop {
        let line = read_line_unbuffered(&mut tcp, cfg, deadline, &mut left)?;
        if let Some(rest) = line.strip_prefix("R1 ") {
            if rest.to_ascii_uppercase().starts_with("OK") {
                return Ok(tcp);
            }
            return Err(Fail::fatal(format!(
                "{server} refused STARTTLS (\"{rest}\"); rapport did not send the password. Use security = \"tls\" with the server's implicit-TLS port (usually 993)"
            )));
        }
    }
}

pub(super) struct XOAuth2<'a> {
    pub(super) user: &'a str,
    pub(super) token: &'a str,
    pub(super) answered: std::cell::Cell<bool>,
}

impl imap::Authenticator for XOAuth2<'_> {
    type Response = Vec<u8>;
    fn process(&self, challenge: &[u8]) -> Vec<u8> {
        XOAuth2::process(self, challenge)
    }
}

impl XOAuth2<'_> {
    /// The answer to a challenge: the first one is empty; a second one carries the server's
    /// error (JSON) and must be answered with an empty line, after which the server sends its NO.
    pub(super) fn process(&self, _challenge: &[u8]) -> Vec<u8> {
        if self.answered.replace(true) {
            Vec::new()
        } else {
            format!("user={}\x01auth=Bearer {}\x01\x01", self.user, self.token).into_bytes()
        }
    }
}
