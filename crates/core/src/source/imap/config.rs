//! The `[mailbox.NAME]` configuration: server, security, credentials, folders, limits.
use super::*;


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
    pub(super) fn source(&self) -> &SecretSource {
        match self {
            Auth::Password(s) | Auth::XOAuth2(s) => s,
        }
    }

    pub(super) fn what(&self) -> &'static str {
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
    /// Folders of received mail (e.g. `INBOX`), read as strictly as the sent ones, for the
    /// accounts report's replies and complaints. Empty: none.
    pub received: Vec<String>,
    /// Messages per `UID FETCH`; bounds memory use.
    pub batch_size: usize,
    /// Timeout for connecting and for each read or write on the connection.
    pub timeout: Duration,
    /// The longest one command may take, from sending it to its last byte of answer (and
    /// connecting, securing and logging in, together): a server that trickles bytes cannot stall
    /// an audit.
    pub command_timeout: Duration,
    /// How a dropped connection is retried.
    pub retry: Retry,
}

/// Default messages per `UID FETCH`.
pub const DEFAULT_BATCH_SIZE: usize = 50;
/// Default connect/read/write timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default deadline of one command (`command-timeout-secs`): a batch of up to 64 MiB fetched
/// at 1 Mbit/s takes about 9 minutes.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(600);

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
            received: Vec::new(),
            batch_size: DEFAULT_BATCH_SIZE,
            timeout: DEFAULT_TIMEOUT,
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            retry: Retry::default(),
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

    pub(super) fn label(&self) -> String {
        if self.name.is_empty() {
            format!("{}@{}", self.user, self.host)
        } else {
            self.name.clone()
        }
    }

    pub(super) fn error(&self, message: impl Into<String>) -> IngestError {
        IngestError::Imap {
            mailbox: self.label(),
            message: message.into(),
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(super) struct RawImapConfig {
    #[serde(default)]
    pub(super) name: String,
    pub(super) host: String,
    pub(super) port: Option<u16>,
    #[serde(default)]
    pub(super) security: Security,
    pub(super) ca_file: Option<PathBuf>,
    pub(super) user: String,
    pub(super) password_env: Option<String>,
    pub(super) password_command: Option<String>,
    oauth2_token_env: Option<String>,
    oauth2_token_command: Option<String>,
    /// Only here to be refused with a helpful message.
    pub(super) password: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    pub(super) folders: Vec<String>,
    #[serde(default)]
    pub(super) received: Vec<String>,
    pub(super) batch_size: Option<usize>,
    pub(super) timeout_secs: Option<u64>,
    pub(super) command_timeout_secs: Option<u64>,
    pub(super) reconnect_attempts: Option<u32>,
    pub(super) reconnect_delay_secs: Option<f64>,
    pub(super) reconnect_max_delay_secs: Option<f64>,
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
        if raw.received.iter().any(|f| f.is_empty()) {
            return Err("`received` contains an empty name".into());
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
        let command_timeout = match raw.command_timeout_secs {
            Some(0) => return Err("`command-timeout-secs` must be at least 1".into()),
            Some(s) => Duration::from_secs(s),
            None => DEFAULT_COMMAND_TIMEOUT.max(timeout),
        };
        let secs = |key: &str, v: Option<f64>, default: Duration| match v {
            None => Ok(default),
            Some(s) if s.is_finite() && (0.0..=3600.0).contains(&s) => Ok(Duration::from_secs_f64(s)),
            Some(_) => Err(format!("`{key}` must be a number of seconds from 0 to 3600")),
        };
        let defaults = Retry::default();
        let retry = Retry {
            attempts: raw.reconnect_attempts.unwrap_or(defaults.attempts),
            first_delay: secs("reconnect-delay-secs", raw.reconnect_delay_secs, defaults.first_delay)?,
            max_delay: secs("reconnect-max-delay-secs", raw.reconnect_max_delay_secs, defaults.max_delay)?,
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
            received: raw.received,
            batch_size,
            timeout,
            command_timeout,
            retry,
        })
    }
}
