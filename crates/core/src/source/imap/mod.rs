//! Reading sent mail from an IMAP server, strictly read-only.
//!
//! # What rapport sends to the server
//!
//! Only `CAPABILITY`, `STARTTLS`, `LOGIN` (or `AUTHENTICATE XOAUTH2`), `LIST`, `EXAMINE`,
//! `NOOP`, `UID SEARCH`, `UID FETCH … (UID RFC822.SIZE)`, `UID FETCH … (UID RFC822.SIZE
//! BODY.PEEK[]<0.n>)` and `LOGOUT`; the wire ([`wire`]) refuses to send anything else.
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
//! batch-size = 50               # messages per UID FETCH (also cut at 16 MiB of bodies)
//! timeout-secs = 30             # connect timeout, and the longest wait for the next byte
//! command-timeout-secs = 600    # the longest one command may take, start to end
//! reconnect-attempts = 5        # after a dropped connection (0: give up at once)
//! reconnect-delay-secs = 1.0    # wait before the first attempt, doubled before each next one
//! reconnect-max-delay-secs = 60 # but never longer than this
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
//! # The IMAP client
//!
//! The client is the `imap` crate (`imap::Client`, `imap::Session`), over a guarded stream
//! (`guard.rs`) that wraps the TCP or TLS connection: the crate reads lines and literals without
//! limits or deadlines of its own, so the guard enforces them beneath it. The one exception is
//! `UID FETCH` of bodies, read by rapport's own [`wire`] on the same guarded connection, because
//! the crate gives up on a whole answer at its first unreadable response and drops the responses
//! before a tagged NO (see `session.rs`); the wire costs such a response only its own message.
//!
//! # A broken or hostile server
//!
//! Every answer is bounded (`guard.rs`, and [`wire`] for bodies: line length, literal size,
//! bytes per command, a deadline per command). Bodies are fetched with `BODY.PEEK[]<0.n>`, one byte more than the message limit, so
//! a message without `RFC822.SIZE`, or with a false one, never comes whole when it is too large.
//! When a `UID FETCH` of several messages gets a NO, an answer that cannot be read, or no answer
//! in time, its messages are fetched again one by one: the one that fails is an error of its own
//! ([`IngestError::Message`], recorded in the state) and the folder goes on after it. A message
//! over the limit is an error of its own too ([`IngestError::TooLarge`], recorded): neither is
//! ever skipped silently as the folder's mark moves past it.
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

use crate::source::IngestError;
use crate::secret::SecretSource;
use crate::source::{Checkpoint, Checkpoints, MailIter, MailSource, RawMail, SourceRef, DEFAULT_MAX_MESSAGE_BYTES};

mod config;
mod fetch;
mod guard;
mod session;
mod transport;
mod utf7;
pub mod wire;

pub use config::*;
pub use fetch::*;
pub use session::*;
#[allow(unused_imports)]
use transport::*;
use wire::{quote, Answer, Limits, Wire, DEFAULT_BUDGET};

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
    fn deadline_and_back_off_come_from_the_config() {
        let base = serde_json::json!({"host": "h", "user": "u", "password-env": "X"});
        let cfg: ImapConfig = serde_json::from_value(base.clone()).unwrap();
        assert_eq!(cfg.command_timeout, DEFAULT_COMMAND_TIMEOUT);
        assert_eq!(cfg.retry, Retry::default());
        assert_eq!((0..5).map(|n| cfg.retry.delay(n).as_secs()).collect::<Vec<_>>(), [1, 2, 4, 8, 16]);
        let mut v = base.clone();
        v["command-timeout-secs"] = 90.into();
        v["reconnect-attempts"] = 2.into();
        v["reconnect-delay-secs"] = 0.25.into();
        v["reconnect-max-delay-secs"] = 0.4.into();
        let cfg: ImapConfig = serde_json::from_value(v).unwrap();
        assert_eq!(cfg.command_timeout, Duration::from_secs(90));
        assert_eq!(cfg.retry.attempts, 2);
        assert_eq!([cfg.retry.delay(0), cfg.retry.delay(1), cfg.retry.delay(5)], [Duration::from_millis(250), Duration::from_millis(400), Duration::from_millis(400)]);
        for (key, bad) in [("command-timeout-secs", serde_json::json!(0)), ("reconnect-delay-secs", serde_json::json!(-1.0)), ("reconnect-max-delay-secs", serde_json::json!(1e9))] {
            let mut v = base.clone();
            v[key] = bad;
            let e = serde_json::from_value::<ImapConfig>(v).unwrap_err().to_string();
            assert!(e.contains(key), "{e}");
        }
        // A source and a mailbox take the config's back-off.
        let mut v = base;
        v["reconnect-attempts"] = 0.into();
        let cfg: ImapConfig = serde_json::from_value(v).unwrap();
        assert_eq!(ImapSource::new(cfg.clone(), "Sent".into(), 1, 0).retry.attempts, 0);
        assert_eq!(ImapMailbox::new(cfg, FolderRole::Sent, 1).retry.attempts, 0);
    }

    #[test]
    fn xoauth2_answers_once_then_empty() {
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
