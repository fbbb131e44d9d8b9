//! Reading sent mail from an IMAP server, strictly read-only.
//!
//! # What rapport sends to the server
//!
//! Only `CAPABILITY`, `STARTTLS`, `LOGIN` (or `AUTHENTICATE XOAUTH2`), `LIST`, `EXAMINE`,
//! `NOOP`, `UID SEARCH`, `UID FETCH … (UID RFC822.SIZE)`, `UID FETCH … (UID BODY.PEEK[])` and `LOGOUT`.
//! Folders are opened with `EXAMINE` (read-only; never `SELECT`) and bodies are read with
//! `BODY.PEEK[]` (which, unlike `BODY[]`, does not set `\Seen`). rapport never sends `STORE`,
//! `EXPUNGE`, `APPEND`, `COPY`, `MOVE`, `CREATE` or `DELETE`: auditing a mailbox leaves every flag
//! and every message as it was.
//!
//! # Security
//!
//! [`Security::Tls`] (implicit TLS, port 993) is the default; [`Security::StartTls`] upgrades a
//! port-143 connection and fails, without sending the password, when the server does not offer
//! `STARTTLS` (no silent downgrade). Certificates are checked against the system's root
//! certificates, or only against the CA certificates in `ca-file` when one is given (rustls).
//! [`Security::Plaintext`] exists for servers on a trusted network only, must be asked for by name,
//! and prints a warning on every connection. Passwords and tokens come from an environment
//! variable or a command ([`crate::secret`]), never from the command line or the config file.
//!
//! # Configuration (TOML shape; the caller sets [`ImapConfig::name`] from the table's key)
//!
//! ```toml
//! host = "imap.example.com"
//! port = 993                    # default: 993 for "tls", 143 for "starttls" and "plaintext"
//! security = "tls"              # "tls" | "starttls" | "plaintext"
//! ca-file = "/etc/ssl/our-ca.pem"   # optional; default: the system's root certificates
//! user = "support@example.com"
//! password-command = "pass show work/imap"  # or password-env, oauth2-token-env, oauth2-token-command
//! folders = ["Sent"]            # optional; default: the folder marked SPECIAL-USE \Sent
//! batch-size = 50               # messages per UID FETCH
//! timeout-secs = 30             # connect, read and write timeout
//! ```
//!
//! # Use
//!
//! [`ImapSession`] is one logged-in connection: [`ImapSession::sent_folders`],
//! [`ImapSession::examine`] (UIDVALIDITY, UIDNEXT, message count), [`ImapSession::uids_after`],
//! [`ImapSession::fetch`]. [`ImapSource`] is the [`MailSource`] over one folder: it streams the
//! messages whose UID is above a remembered one, `batch-size` at a time (memory stays flat), checks
//! the folder's UIDVALIDITY on every (re)connection, and when the connection drops it reconnects
//! with back-off and resumes after the last UID it delivered, so every message comes exactly once.
//!
//! Folder names are UTF-8 everywhere in rapport; they are converted to IMAP's modified UTF-7 on
//! the wire. All errors are [`IngestError::Imap`] whose message says what to fix, and never
//! contains a password or token.
use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{CertificateError, ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use crate::error::IngestError;
use crate::secret::SecretSource;
use crate::source::{MailIter, MailSource, RawMail, SourceRef, DEFAULT_MAX_MESSAGE_BYTES};

mod utf7;

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
pub enum Security {
    /// TLS from the first byte ("implicit TLS", IMAPS, usually port 993). The default.
    #[default]
    #[serde(rename = "tls")]
    Tls,
    /// Plain connection upgraded with `STARTTLS` before logging in (usually port 143). Refuses to
    /// go on when the server does not offer `STARTTLS`.
    #[serde(rename = "starttls")]
    StartTls,
    /// No encryption at all. Only when asked for by name; warns on every connection.
    #[serde(rename = "plaintext")]
    Plaintext,
}

impl Security {
    /// The usual port: 993 for implicit TLS, 143 otherwise.
    pub fn default_port(self) -> u16 {
        match self {
            Security::Tls => 993,
            Security::StartTls | Security::Plaintext => 143,
        }
    }
}

impl fmt::Display for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Security::Tls => "tls",
            Security::StartTls => "starttls",
            Security::Plaintext => "plaintext",
        })
    }
}

/// How to log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// `LOGIN user password`.
    Password(SecretSource),
    /// `AUTHENTICATE XOAUTH2` with an OAuth2 access token (Gmail, Microsoft 365).
    XOAuth2(SecretSource),
}

impl Auth {
    fn source(&self) -> &SecretSource {
        match self {
            Auth::Password(s) | Auth::XOAuth2(s) => s,
        }
    }

    fn what(&self) -> &'static str {
        match self {
            Auth::Password(_) => "password",
            Auth::XOAuth2(_) => "OAuth2 access token",
        }
    }
}

/// One IMAP account to read. Deserializes from the TOML shape in the module documentation
/// (kebab-case keys, unknown keys rejected).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "RawImapConfig")]
pub struct ImapConfig {
    /// The account's name in rapport (the config table's key): used in [`SourceRef::Imap`],
    /// state keys and messages. Not sent to the server.
    pub name: String,
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// Trust only the CA certificate(s) in this PEM file instead of the system's roots.
    pub ca_file: Option<PathBuf>,
    pub user: String,
    pub auth: Auth,
    /// Folders to audit (UTF-8 names). Empty: the folder(s) marked SPECIAL-USE `\Sent`.
    pub folders: Vec<String>,
    /// Messages per `UID FETCH`; bounds memory use.
    pub batch_size: usize,
    /// Timeout for connecting and for each read or write on the connection.
    pub timeout: Duration,
}

/// Default messages per `UID FETCH`.
pub const DEFAULT_BATCH_SIZE: usize = 50;
/// Default connect/read/write timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

impl ImapConfig {
    /// A config with the defaults: implicit TLS on port 993, system roots, the `\Sent` folder,
    /// batches of [`DEFAULT_BATCH_SIZE`], [`DEFAULT_TIMEOUT`].
    pub fn new(
        name: impl Into<String>,
        host: impl Into<String>,
        user: impl Into<String>,
        auth: Auth,
    ) -> Self {
        ImapConfig {
            name: name.into(),
            host: host.into(),
            port: Security::Tls.default_port(),
            security: Security::Tls,
            ca_file: None,
            user: user.into(),
            auth,
            folders: Vec::new(),
            batch_size: DEFAULT_BATCH_SIZE,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// `host:port`.
    pub fn server(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    fn label(&self) -> String {
        if self.name.is_empty() {
            format!("{}@{}", self.user, self.host)
        } else {
            self.name.clone()
        }
    }

    fn error(&self, message: impl Into<String>) -> IngestError {
        IngestError::Imap {
            mailbox: self.label(),
            message: message.into(),
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RawImapConfig {
    #[serde(default)]
    name: String,
    host: String,
    port: Option<u16>,
    #[serde(default)]
    security: Security,
    ca_file: Option<PathBuf>,
    user: String,
    password_env: Option<String>,
    password_command: Option<String>,
    oauth2_token_env: Option<String>,
    oauth2_token_command: Option<String>,
    /// Only here to be refused with a helpful message.
    password: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    folders: Vec<String>,
    batch_size: Option<usize>,
    timeout_secs: Option<u64>,
}

impl TryFrom<RawImapConfig> for ImapConfig {
    type Error = String;

    fn try_from(raw: RawImapConfig) -> Result<Self, String> {
        if raw.password.is_some() {
            return Err("a `password` in the config file is not supported: keep it out of files. Use password-env = \"VARIABLE\" or password-command = \"pass show …\"".into());
        }
        let mut given = Vec::new();
        for (key, value, xoauth2, command) in [
            ("password-env", &raw.password_env, false, false),
            ("password-command", &raw.password_command, false, true),
            ("oauth2-token-env", &raw.oauth2_token_env, true, false),
            (
                "oauth2-token-command",
                &raw.oauth2_token_command,
                true,
                true,
            ),
        ] {
            if let Some(value) = value {
                if value.trim().is_empty() {
                    return Err(format!(
                        "`{key}` is empty: give an environment variable's name or a command"
                    ));
                }
                let source = if command {
                    SecretSource::Command(value.clone())
                } else {
                    SecretSource::Env(value.clone())
                };
                given.push((
                    key,
                    if xoauth2 {
                        Auth::XOAuth2(source)
                    } else {
                        Auth::Password(source)
                    },
                ));
            }
        }
        let auth = match given.len() {
            0 => return Err("no credentials: set one of password-env, password-command, oauth2-token-env or oauth2-token-command".into()),
            1 => given.pop().expect("one").1,
            _ => {
                let keys: Vec<&str> = given.iter().map(|(k, _)| *k).collect();
                return Err(format!(
                    "set only one of password-env, password-command, oauth2-token-env and oauth2-token-command (found {})",
                    keys.join(" and ")
                ));
            }
        };
        if raw.host.trim().is_empty() {
            return Err(
                "`host` is empty: give the IMAP server's name, e.g. host = \"imap.example.com\""
                    .into(),
            );
        }
        if raw.user.is_empty() {
            return Err("`user` is empty: give the login name, often the full address".into());
        }
        if raw.port == Some(0) {
            return Err(
                "`port` 0 is not a port: IMAP over TLS is usually 993, STARTTLS 143".into(),
            );
        }
        if raw.folders.iter().any(|f| f.is_empty()) {
            return Err("`folders` contains an empty name".into());
        }
        let batch_size = raw.batch_size.unwrap_or(DEFAULT_BATCH_SIZE);
        if batch_size == 0 {
            return Err("`batch-size` must be at least 1".into());
        }
        let timeout = match raw.timeout_secs {
            Some(0) => return Err("`timeout-secs` must be at least 1".into()),
            Some(s) => Duration::from_secs(s),
            None => DEFAULT_TIMEOUT,
        };
        Ok(ImapConfig {
            name: raw.name,
            port: raw.port.unwrap_or(raw.security.default_port()),
            host: raw.host,
            security: raw.security,
            ca_file: raw.ca_file,
            user: raw.user,
            auth,
            folders: raw.folders,
            batch_size,
            timeout,
        })
    }
}

// ------------------------------------------------------------------------------------------------
// Failures inside this module: a message for the user, and whether reconnecting may help.

#[derive(Debug)]
struct Fail {
    message: String,
    /// The connection broke (network, server restart, kicked): reconnecting may help. Otherwise
    /// (credentials, certificate, missing folder, UIDVALIDITY) retrying cannot help.
    transient: bool,
}

impl Fail {
    fn fatal(message: impl Into<String>) -> Self {
        Fail {
            message: message.into(),
            transient: false,
        }
    }

    fn transient(message: impl Into<String>) -> Self {
        Fail {
            message: message.into(),
            transient: true,
        }
    }
}

/// Describe an error from the imap crate during `doing` (e.g. "reading folder `Sent`").
fn protocol_fail(server: &str, doing: &str, e: imap::Error) -> Fail {
    match e {
        imap::Error::Io(io) => io_fail(server, doing, &io),
        imap::Error::ConnectionLost => Fail::transient(format!("{server} closed the connection while {doing}")),
        imap::Error::Bye(bye) => Fail::transient(format!(
            "{server} ended the session while {doing} (it said \"{}\")",
            bye.information
        )),
        imap::Error::TagMismatch(_) => Fail::transient(format!(
            "the connection to {server} got out of step while {doing}"
        )),
        imap::Error::No(no) => Fail::fatal(format!(
            "{server} refused while {doing}: \"{}\"",
            no.information
        )),
        imap::Error::Bad(bad) => Fail::fatal(format!(
            "{server} rejected a command while {doing}: \"{}\". This is a bug in rapport or a server it does not support; please report it",
            bad.information
        )),
        other => Fail::fatal(format!("{server} sent something rapport cannot read while {doing}: {other}")),
    }
}

fn io_fail(server: &str, doing: &str, e: &io::Error) -> Fail {
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Fail::transient(format!(
            "no answer from {server} while {doing} within the timeout (timeout-secs); the server or the network is slow or gone"
        )),
        _ => Fail::transient(format!("the connection to {server} failed while {doing}: {e}")),
    }
}

// ------------------------------------------------------------------------------------------------
// Transport: TCP, optionally wrapped in rustls.

enum Stream {
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

fn tcp_connect(cfg: &ImapConfig) -> Result<TcpStream, Fail> {
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
fn system_roots() -> Result<Arc<RootCertStore>, String> {
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

fn tls_config(cfg: &ImapConfig) -> Result<Arc<ClientConfig>, Fail> {
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

fn tls_handshake(cfg: &ImapConfig, mut tcp: TcpStream) -> Result<Stream, Fail> {
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
        if let Err(e) = conn.complete_io(&mut tcp) {
            return Err(tls_fail(cfg, &e));
        }
    }
    Ok(Stream::Tls(Box::new(StreamOwned::new(conn, tcp))))
}

fn tls_fail(cfg: &ImapConfig, e: &io::Error) -> Fail {
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

/// Read one line (up to CRLF) without reading past it: what follows a `STARTTLS` OK is TLS.
fn read_line_unbuffered(tcp: &mut TcpStream, server: &str) -> Result<String, Fail> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
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
                if line.len() > 64 * 1024 {
                    return Err(Fail::fatal(format!(
                        "{server} sent an over-long line before STARTTLS; is this an IMAP server?"
                    )));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_fail(server, "starting STARTTLS", &e)),
        }
    }
}

fn check_greeting(server: &str, greeting: &str) -> Result<(), Fail> {
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
fn starttls(cfg: &ImapConfig, mut tcp: TcpStream) -> Result<TcpStream, Fail> {
    let server = cfg.server();
    let greeting = read_line_unbuffered(&mut tcp, &server)?;
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
            let line = read_line_unbuffered(&mut tcp, &server)?.to_ascii_uppercase();
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
        let line = read_line_unbuffered(&mut tcp, &server)?;
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

struct XOAuth2<'a> {
    user: &'a str,
    token: &'a str,
    answered: std::cell::Cell<bool>,
}

impl imap::Authenticator for XOAuth2<'_> {
    type Response = Vec<u8>;

    fn process(&self, _challenge: &[u8]) -> Vec<u8> {
        // The first challenge is empty; a second one carries the server's error (JSON) and must be
        // answered with an empty line, after which the server sends its NO.
        if self.answered.replace(true) {
            Vec::new()
        } else {
            format!("user={}\x01auth=Bearer {}\x01\x01", self.user, self.token).into_bytes()
        }
    }
}

// ------------------------------------------------------------------------------------------------
// The session.

/// What `EXAMINE` says about a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderStatus {
    /// Changes when the server renumbers the folder; stored UIDs are meaningless after a change.
    pub uidvalidity: u32,
    /// The UID the next message will get (servers must send it; `None` if this one did not).
    pub uidnext: Option<u32>,
    /// The number of messages in the folder.
    pub exists: u32,
}

/// A folder as `LIST` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderInfo {
    /// The UTF-8 name (decoded from modified UTF-7).
    pub name: String,
    /// Marked SPECIAL-USE `\Sent`.
    pub sent: bool,
    /// Can be opened (not `\Noselect` / `\NonExistent`).
    pub selectable: bool,
}

/// One logged-in, read-only IMAP connection. Dropping it logs out.
pub struct ImapSession {
    cfg: ImapConfig,
    session: imap::Session<Stream>,
    /// The same socket, to shut it down without going through TLS.
    socket: TcpStream,
    /// The folder currently EXAMINEd.
    current: Option<(String, FolderStatus)>,
    /// The connection failed: do not try to log out politely.
    broken: bool,
}

impl fmt::Debug for ImapSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapSession")
            .field("server", &self.cfg.server())
            .field("user", &self.cfg.user)
            .field("current", &self.current)
            .finish()
    }
}

impl ImapSession {
    /// Connect, secure the connection as `cfg.security` says, and log in.
    pub fn connect(cfg: &ImapConfig) -> Result<Self, IngestError> {
        Self::open(cfg).map_err(|f| cfg.error(f.message))
    }

    fn open(cfg: &ImapConfig) -> Result<Self, Fail> {
        let server = cfg.server();
        let secret = cfg.auth.source().resolve().map_err(|e| {
            Fail::fatal(format!(
                "cannot get the {} for user `{}` from {}: {e}",
                cfg.auth.what(),
                cfg.user,
                cfg.auth.source()
            ))
        })?;
        let tcp = tcp_connect(cfg)?;
        let socket = tcp
            .try_clone()
            .map_err(|e| io_fail(&server, "connecting", &e))?;
        let (stream, greeting_read) = match cfg.security {
            Security::Tls => (tls_handshake(cfg, tcp)?, false),
            Security::StartTls => (tls_handshake(cfg, starttls(cfg, tcp)?)?, true),
            Security::Plaintext => {
                eprintln!(
                    "rapport: warning: {}: connecting to {server} WITHOUT encryption (security = \"plaintext\"): the password and every message cross the network readable by anyone on the way",
                    cfg.label()
                );
                (Stream::Plain(tcp), false)
            }
        };
        let mut client = imap::Client::new(stream);
        if greeting_read {
            client.greeting_read = true;
        } else {
            let greeting = client
                .read_greeting()
                .map_err(|e| protocol_fail(&server, "waiting for its greeting", e))?;
            check_greeting(&server, String::from_utf8_lossy(&greeting).trim_end())?;
        }
        let login = match &cfg.auth {
            Auth::Password(_) => client.login(&cfg.user, secret.expose()),
            Auth::XOAuth2(_) => client.authenticate(
                "XOAUTH2",
                &XOAuth2 {
                    user: &cfg.user,
                    token: secret.expose(),
                    answered: std::cell::Cell::new(false),
                },
            ),
        };
        let session = login.map_err(|(e, _client)| match e {
            imap::Error::No(no) => Fail::fatal(format!(
                "{server} refused the login of user `{}`: \"{}\". Check `user`, and the {} that {} gives{}",
                cfg.user,
                no.information,
                cfg.auth.what(),
                cfg.auth.source(),
                if matches!(cfg.auth, Auth::XOAuth2(_)) {
                    " (access tokens expire after about an hour: it must print a fresh one, for this user)"
                } else {
                    ""
                }
            )),
            imap::Error::Bad(bad) => Fail::fatal(format!(
                "{server} rejected the login of user `{}` as malformed: \"{}\". Check `user`{}",
                cfg.user,
                bad.information,
                if matches!(cfg.auth, Auth::XOAuth2(_)) {
                    ", and that this server supports XOAUTH2"
                } else {
                    ""
                }
            )),
            imap::Error::Validate(_) => Fail::fatal(format!(
                "the user name or the {} from {} contains a line break, which IMAP cannot send. Check `user` and what {} gives",
                cfg.auth.what(),
                cfg.auth.source(),
                cfg.auth.source()
            )),
            other => protocol_fail(&server, "logging in", other),
        })?;
        Ok(ImapSession {
            cfg: cfg.clone(),
            session,
            socket,
            current: None,
            broken: false,
        })
    }

    /// The account this session belongs to.
    pub fn config(&self) -> &ImapConfig {
        &self.cfg
    }

    fn wrap<T>(&mut self, r: Result<T, Fail>) -> Result<T, IngestError> {
        r.map_err(|f| {
            if f.transient {
                self.broken = true;
            }
            self.cfg.error(f.message)
        })
    }

    fn track<T>(&mut self, doing: &str, r: imap::Result<T>) -> Result<T, Fail> {
        r.map_err(|e| {
            let fail = protocol_fail(&self.cfg.server(), doing, e);
            if fail.transient {
                self.broken = true;
                self.current = None;
            }
            fail
        })
    }

    /// Every folder on the server (`LIST "" "*"`), with its SPECIAL-USE `\Sent` mark.
    pub fn folders(&mut self) -> Result<Vec<FolderInfo>, IngestError> {
        let r = self.list_folders();
        self.wrap(r)
    }

    fn list_folders(&mut self) -> Result<Vec<FolderInfo>, Fail> {
        let names = self.session.list(Some(""), Some("*"));
        let names = self.track("listing folders", names)?;
        use imap_proto::NameAttribute as A;
        let mut folders: Vec<FolderInfo> = names
            .iter()
            .map(|n| {
                let attrs = n.attributes();
                let is = |flag: &str| {
                    attrs
                        .iter()
                        .any(|a| matches!(a, A::Extension(e) if e.eq_ignore_ascii_case(flag)))
                };
                FolderInfo {
                    name: utf7::decode(n.name()).unwrap_or_else(|| n.name().to_string()),
                    sent: attrs.iter().any(|a| matches!(a, A::Sent)) || is("\\Sent"),
                    selectable: !attrs.iter().any(|a| matches!(a, A::NoSelect))
                        && !is("\\NoSelect")
                        && !is("\\NonExistent"),
                }
            })
            .collect();
        folders.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(folders)
    }

    /// `LIST (SPECIAL-USE) "" "*"` (RFC 6154), for servers that only show the attributes when
    /// asked this way.
    fn special_use_sent(&mut self) -> Result<Vec<String>, Fail> {
        let raw = self
            .session
            .run_command_and_read_response("LIST (SPECIAL-USE) \"\" \"*\"");
        let raw = self.track("listing SPECIAL-USE folders", raw)?;
        let mut rest = &raw[..];
        let mut sent = Vec::new();
        while !rest.is_empty() {
            match imap_proto::parser::parse_response(rest) {
                Ok((
                    next,
                    imap_proto::Response::MailboxData(imap_proto::MailboxDatum::List {
                        name_attributes,
                        name,
                        ..
                    }),
                )) => {
                    if name_attributes.iter().any(|a| {
                        matches!(a, imap_proto::NameAttribute::Sent)
                            || matches!(a, imap_proto::NameAttribute::Extension(e) if e.eq_ignore_ascii_case("\\Sent"))
                    }) {
                        sent.push(utf7::decode(&name).unwrap_or_else(|| name.to_string()));
                    }
                    rest = next;
                }
                Ok((next, _other)) => rest = next,
                Err(_) => break,
            }
        }
        Ok(sent)
    }

    /// The folders to audit: the configured `folders`, or else the folder(s) the server marks
    /// SPECIAL-USE `\Sent`. An error (listing the server's folders) when there is none.
    pub fn sent_folders(&mut self) -> Result<Vec<String>, IngestError> {
        if !self.cfg.folders.is_empty() {
            return Ok(self.cfg.folders.clone());
        }
        let r = self.find_sent();
        self.wrap(r)
    }

    fn find_sent(&mut self) -> Result<Vec<String>, Fail> {
        let folders = self.list_folders()?;
        let mut sent: Vec<String> = folders
            .iter()
            .filter(|f| f.sent && f.selectable)
            .map(|f| f.name.clone())
            .collect();
        if sent.is_empty() {
            let caps = self.session.capabilities();
            let caps = self.track("asking for its capabilities", caps)?;
            if caps.has_str("SPECIAL-USE") {
                sent = self.special_use_sent()?;
            }
        }
        if sent.is_empty() {
            let guess = folders
                .iter()
                .find(|f| {
                    let lower = f.name.to_lowercase();
                    f.selectable
                        && (lower.ends_with("sent")
                            || lower.contains("sent items")
                            || lower.contains("sent mail")
                            || lower.contains("sent messages"))
                })
                .map(|f| format!(" (`{}` looks like it)", f.name))
                .unwrap_or_default();
            return Err(Fail::fatal(format!(
                "no folder on {} is marked as the Sent folder (SPECIAL-USE \\Sent). Name it in the config, e.g. folders = [\"Sent\"]{guess}. The folders are: {}",
                self.cfg.server(),
                folder_list(&folders)
            )));
        }
        Ok(sent)
    }

    /// Open `folder` read-only (`EXAMINE`) and return its UIDVALIDITY, UIDNEXT and size. A folder
    /// that does not exist is an error that lists the folders that do.
    pub fn examine(&mut self, folder: &str) -> Result<FolderStatus, IngestError> {
        let r = self.examine_inner(folder);
        self.wrap(r)
    }

    fn examine_inner(&mut self, folder: &str) -> Result<FolderStatus, Fail> {
        self.current = None;
        let mailbox = match self.session.examine(utf7::encode(folder)) {
            Ok(mailbox) => mailbox,
            Err(imap::Error::No(no)) => {
                let listing = match self.list_folders() {
                    Ok(folders) => {
                        let similar = folders
                            .iter()
                            .find(|f| {
                                f.name.eq_ignore_ascii_case(folder)
                                    || f.name.ends_with(&format!(".{folder}"))
                                    || f.name.ends_with(&format!("/{folder}"))
                            })
                            .map(|f| format!(" Did you mean `{}`?", f.name))
                            .unwrap_or_default();
                        format!(
                            "The folders on this server are: {}.{similar}",
                            folder_list(&folders)
                        )
                    }
                    Err(e) => format!("(Listing the folders failed too: {})", e.message),
                };
                return Err(Fail::fatal(format!(
                    "cannot open folder `{folder}` on {}: the server said \"{}\". {listing} Fix `folders` in the config",
                    self.cfg.server(),
                    no.information
                )));
            }
            Err(e) => {
                return Err(self
                    .track::<()>(&format!("opening folder `{folder}`"), Err(e))
                    .unwrap_err())
            }
        };
        let uidvalidity = mailbox.uid_validity.ok_or_else(|| {
            Fail::fatal(format!(
                "{} sent no UIDVALIDITY for folder `{folder}`, so rapport cannot remember which messages it has read there",
                self.cfg.server()
            ))
        })?;
        let status = FolderStatus {
            uidvalidity,
            uidnext: mailbox.uid_next,
            exists: mailbox.exists,
        };
        self.current = Some((folder.to_string(), status));
        Ok(status)
    }

    fn ensure(&mut self, folder: &str) -> Result<FolderStatus, Fail> {
        match &self.current {
            Some((name, status)) if name == folder => Ok(*status),
            _ => self.examine_inner(folder),
        }
    }

    /// The UIDs in `folder` above `last_uid`, ascending (`UID SEARCH UID last+1:*`, without the
    /// highest UID that `n:*` always matches).
    pub fn uids_after(&mut self, folder: &str, last_uid: u32) -> Result<Vec<u32>, IngestError> {
        let r = self.uids_after_inner(folder, last_uid);
        self.wrap(r)
    }

    fn uids_after_inner(&mut self, folder: &str, last_uid: u32) -> Result<Vec<u32>, Fail> {
        self.ensure(folder)?;
        let Some(first) = last_uid.checked_add(1) else {
            return Ok(Vec::new());
        };
        // NOOP first: Dovecot (like most servers) reports messages that arrived since the last
        // command only at the end of a command, and a search sees only what was reported.
        let noop = self.session.noop();
        self.track(
            &format!("checking folder `{folder}` for new messages"),
            noop,
        )?;
        let found = self.session.uid_search(format!("UID {first}:*"));
        let found = self.track(&format!("searching folder `{folder}`"), found)?;
        let mut uids: Vec<u32> = found.into_iter().filter(|&uid| uid > last_uid).collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// The sizes (RFC822.SIZE) of the given messages, by UID.
    pub fn sizes(
        &mut self,
        folder: &str,
        uidvalidity: u32,
        uids: &[u32],
    ) -> Result<HashMap<u32, u64>, IngestError> {
        let r = self.sizes_inner(folder, uidvalidity, uids);
        self.wrap(r)
    }

    fn check_uidvalidity(&mut self, folder: &str, uidvalidity: u32) -> Result<(), Fail> {
        let status = self.ensure(folder)?;
        if status.uidvalidity != uidvalidity {
            return Err(Fail::fatal(uidvalidity_changed(
                folder,
                uidvalidity,
                status.uidvalidity,
            )));
        }
        Ok(())
    }

    fn sizes_inner(
        &mut self,
        folder: &str,
        uidvalidity: u32,
        uids: &[u32],
    ) -> Result<HashMap<u32, u64>, Fail> {
        if uids.is_empty() {
            return Ok(HashMap::new());
        }
        self.check_uidvalidity(folder, uidvalidity)?;
        let wanted: HashSet<u32> = uids.iter().copied().collect();
        let fetched = self.session.uid_fetch(uid_set(uids), "(UID RFC822.SIZE)");
        let fetched = self.track(
            &format!("reading message sizes in folder `{folder}`"),
            fetched,
        )?;
        Ok(fetched
            .iter()
            .filter_map(|f| Some((f.uid?, u64::from(f.size?))))
            .filter(|(uid, _)| wanted.contains(uid))
            .collect())
    }

    /// Fetch the given messages in one `UID FETCH … (UID BODY.PEEK[])`, in the order of `uids`.
    /// `uidvalidity` must still be the folder's (else an error: the UIDs mean other messages
    /// now). Messages deleted meanwhile are left out.
    pub fn fetch(
        &mut self,
        folder: &str,
        uidvalidity: u32,
        uids: &[u32],
    ) -> Result<Vec<RawMail>, IngestError> {
        let r = self.fetch_inner(folder, uidvalidity, uids);
        self.wrap(r)
    }

    fn fetch_inner(
        &mut self,
        folder: &str,
        uidvalidity: u32,
        uids: &[u32],
    ) -> Result<Vec<RawMail>, Fail> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        self.check_uidvalidity(folder, uidvalidity)?;
        let wanted: HashSet<u32> = uids.iter().copied().collect();
        let fetched = self.session.uid_fetch(uid_set(uids), "(UID BODY.PEEK[])");
        let fetched = self.track(&format!("reading messages from folder `{folder}`"), fetched)?;
        let mut bodies: HashMap<u32, Vec<u8>> = HashMap::with_capacity(uids.len());
        for f in fetched.iter() {
            if let (Some(uid), Some(body)) = (f.uid, f.body()) {
                if wanted.contains(&uid) {
                    bodies.insert(uid, body.to_vec());
                }
            }
        }
        drop(fetched);
        Ok(uids
            .iter()
            .filter_map(|uid| {
                bodies.remove(uid).map(|bytes| RawMail {
                    origin: SourceRef::Imap {
                        mailbox: self.cfg.name.clone(),
                        folder: folder.to_string(),
                        uidvalidity,
                        uid: *uid,
                    },
                    bytes,
                })
            })
            .collect())
    }

    /// Log out politely.
    pub fn logout(mut self) -> Result<(), IngestError> {
        self.broken = true; // Drop must not log out a second time
        let r = self.session.logout();
        let r = self.track("logging out", r);
        self.wrap(r)
    }
}

impl Drop for ImapSession {
    fn drop(&mut self) {
        if !self.broken {
            let _ = self.socket.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = self.session.logout();
        }
        let _ = self.socket.shutdown(Shutdown::Both);
    }
}

fn uidvalidity_changed(folder: &str, expected: u32, now: u32) -> String {
    format!(
        "the UIDVALIDITY of folder `{folder}` changed from {expected} to {now}: the server renumbered its messages, so the UIDs rapport remembers no longer identify them. The folder must be read again from the start"
    )
}

fn folder_list(folders: &[FolderInfo]) -> String {
    let names: Vec<String> = folders
        .iter()
        .filter(|f| f.selectable)
        .map(|f| format!("`{}`", f.name))
        .collect();
    if names.is_empty() {
        "(none)".to_string()
    } else {
        names.join(", ")
    }
}

/// `1:3,7,9:10` for [1, 2, 3, 7, 9, 10] (any order in, ascending ranges out).
fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

// ------------------------------------------------------------------------------------------------
// The streaming source.

/// How [`ImapSource`] reconnects after the connection drops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    /// Reconnection attempts after a failure before giving up (0: never reconnect).
    pub attempts: u32,
    /// Wait before the first attempt; doubled before each next one.
    pub first_delay: Duration,
}

impl Default for Retry {
    /// 3 attempts, after 0.5 s, 1 s and 2 s.
    fn default() -> Self {
        Retry {
            attempts: 3,
            first_delay: Duration::from_millis(500),
        }
    }
}

/// A [`MailSource`] over one IMAP folder: the messages whose UID is above `last_uid`, in UID
/// order, fetched `batch_size` at a time. The connection is opened on the first pull. When it
/// drops, the source reconnects (see [`Retry`]), checks that UIDVALIDITY is still the expected
/// one, and resumes after the last UID it delivered: every message comes exactly once. A changed
/// UIDVALIDITY, a refused login or a bad certificate end the stream with one `Err`. Messages over
/// the size limit are one `Err` each ([`IngestError::TooLarge`]) and are not downloaded.
pub struct ImapSource {
    cfg: ImapConfig,
    folder: String,
    uidvalidity: u32,
    last_uid: u32,
    retry: Retry,
    max_message_bytes: u64,
    changed_uidvalidity: Option<u32>,
}

impl ImapSource {
    /// `uidvalidity` is the value the caller's `last_uid` belongs to (from [`ImapSession::examine`]
    /// on a first run, or from its state).
    pub fn new(cfg: ImapConfig, folder: String, uidvalidity: u32, last_uid: u32) -> Self {
        ImapSource {
            cfg,
            folder,
            uidvalidity,
            last_uid,
            retry: Retry::default(),
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            changed_uidvalidity: None,
        }
    }

    pub fn with_retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }

    /// Messages larger than this are refused (not downloaded). Default
    /// [`DEFAULT_MAX_MESSAGE_BYTES`].
    pub fn with_max_message_bytes(mut self, limit: u64) -> Self {
        self.max_message_bytes = limit;
        self
    }

    /// The highest UID delivered so far (or the `last_uid` it was created with).
    pub fn last_uid(&self) -> u32 {
        self.last_uid
    }

    pub fn uidvalidity(&self) -> u32 {
        self.uidvalidity
    }

    /// The folder's new UIDVALIDITY, when the stream ended because it no longer matched
    /// [`ImapSource::uidvalidity`]: the caller should forget the folder's UIDs and read it again.
    pub fn changed_uidvalidity(&self) -> Option<u32> {
        self.changed_uidvalidity
    }

    pub fn folder(&self) -> &str {
        &self.folder
    }
}

impl MailSource for ImapSource {
    fn describe(&self) -> String {
        format!("imap:{}/{}", self.cfg.label(), self.folder)
    }

    fn mails(&mut self) -> MailIter<'_> {
        Box::new(ImapIter {
            src: self,
            session: None,
            pending: None,
            ready: VecDeque::new(),
            done: false,
        })
    }
}

struct ImapIter<'a> {
    src: &'a mut ImapSource,
    session: Option<ImapSession>,
    /// UIDs still to fetch (known since the last search on this connection).
    pending: Option<VecDeque<u32>>,
    /// Fetched, not yet handed out: (uid, item).
    ready: VecDeque<(u32, Result<RawMail, IngestError>)>,
    done: bool,
}

impl ImapIter<'_> {
    /// Fetch the next batch into `ready`. `Ok(false)`: nothing left.
    fn fill_once(&mut self) -> Result<bool, Fail> {
        let src = &*self.src;
        if self.session.is_none() {
            self.pending = None;
            let mut session = ImapSession::open(&src.cfg)?;
            let status = session.examine_inner(&src.folder)?;
            if status.uidvalidity != src.uidvalidity {
                let message = uidvalidity_changed(&src.folder, src.uidvalidity, status.uidvalidity);
                self.src.changed_uidvalidity = Some(status.uidvalidity);
                return Err(Fail::fatal(message));
            }
            self.session = Some(session);
        }
        let session = self.session.as_mut().expect("connected above");
        if self.pending.is_none() {
            self.pending = Some(session.uids_after_inner(&src.folder, src.last_uid)?.into());
        }
        let pending = self.pending.as_mut().expect("searched above");
        if pending.is_empty() {
            return Ok(false);
        }
        let batch: Vec<u32> = pending
            .iter()
            .take(src.cfg.batch_size.max(1))
            .copied()
            .collect();
        let sizes = session.sizes_inner(&src.folder, src.uidvalidity, &batch)?;
        let small: Vec<u32> = batch
            .iter()
            .copied()
            .filter(|uid| {
                sizes
                    .get(uid)
                    .is_none_or(|&size| size <= src.max_message_bytes)
            })
            .collect();
        let mut mails: HashMap<u32, RawMail> = session
            .fetch_inner(&src.folder, src.uidvalidity, &small)?
            .into_iter()
            .map(|m| match m.origin {
                SourceRef::Imap { uid, .. } => (uid, m),
                _ => unreachable!("fetch returns IMAP origins"),
            })
            .collect();
        for uid in &batch {
            let origin = || SourceRef::Imap {
                mailbox: src.cfg.name.clone(),
                folder: src.folder.clone(),
                uidvalidity: src.uidvalidity,
                uid: *uid,
            };
            if let Some(mail) = mails.remove(uid) {
                self.ready.push_back((*uid, Ok(mail)));
            } else if let Some(&size) = sizes.get(uid).filter(|&&size| size > src.max_message_bytes)
            {
                self.ready.push_back((
                    *uid,
                    Err(IngestError::TooLarge {
                        origin: origin(),
                        size,
                        limit: src.max_message_bytes,
                    }),
                ));
            }
            // Else the message was deleted since the search: nothing to read.
        }
        pending.drain(..batch.len());
        Ok(true)
    }

    fn fill(&mut self) -> Result<bool, IngestError> {
        let mut attempt = 0;
        loop {
            match self.fill_once() {
                Ok(more) => return Ok(more),
                Err(fail) if fail.transient && attempt < self.src.retry.attempts => {
                    self.drop_connection(true);
                    let delay = self.src.retry.first_delay * 2u32.saturating_pow(attempt);
                    attempt += 1;
                    eprintln!(
                        "rapport: warning: {}: {}; reconnecting in {:.1} s (attempt {attempt} of {}), resuming after UID {}",
                        self.src.cfg.label(),
                        fail.message,
                        delay.as_secs_f64(),
                        self.src.retry.attempts,
                        self.src.last_uid
                    );
                    std::thread::sleep(delay);
                }
                Err(fail) => {
                    self.drop_connection(fail.transient);
                    let message = if fail.transient && attempt > 0 {
                        format!(
                            "{} (gave up after {attempt} reconnection attempts; the messages up to UID {} were delivered)",
                            fail.message, self.src.last_uid
                        )
                    } else {
                        fail.message
                    };
                    return Err(self.src.cfg.error(message));
                }
            }
        }
    }

    /// Forget the connection; log out politely unless it is `broken`.
    fn drop_connection(&mut self, broken: bool) {
        if let Some(mut session) = self.session.take() {
            session.broken |= broken;
        }
        self.pending = None;
    }
}

impl Iterator for ImapIter<'_> {
    type Item = Result<RawMail, IngestError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((uid, item)) = self.ready.pop_front() {
                self.src.last_uid = self.src.last_uid.max(uid);
                return Some(item);
            }
            if self.done {
                return None;
            }
            match self.fill() {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    if let Some(session) = self.session.take() {
                        let _ = session.logout();
                    }
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets() {
        assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[10, 9, 9, 1]), "1,9:10");
        assert_eq!(
            uid_set(&[u32::MAX - 1, u32::MAX]),
            format!("{}:{}", u32::MAX - 1, u32::MAX)
        );
    }

    #[test]
    fn xoauth2_answers_once_then_empty() {
        use imap::Authenticator;
        let a = XOAuth2 {
            user: "me@example.com",
            token: "tok",
            answered: std::cell::Cell::new(false),
        };
        assert_eq!(
            a.process(b""),
            b"user=me@example.com\x01auth=Bearer tok\x01\x01"
        );
        assert_eq!(a.process(b"{\"status\":\"401\"}"), b"");
    }
}
