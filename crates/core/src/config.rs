//! The configuration file: TOML at `$XDG_CONFIG_HOME/rapport/config.toml` (or `--config FILE`,
//! or `RAPPORT_CONFIG`). Secrets never live here: IMAP passwords and tokens come from an
//! environment variable or a command (see [`crate::secret`]).
//!
//! ```toml
//! state = "/home/dana/.local/state/rapport/state.sqlite3"   # optional
//!
//! [mailbox.work]
//! host = "imap.example.com"          # implicit TLS on 993 by default
//! user = "dana@example.com"
//! password-command = "pass show work/imap"
//! folders = ["Sent"]                 # optional: default is the SPECIAL-USE \Sent folder
//! ```
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::source::imap::ImapConfig;

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Config {
    /// The SQLite state file for audits of real mail.
    pub state: Option<PathBuf>,
    /// IMAP accounts by name (`rapport audit --mailbox NAME`).
    #[serde(default)]
    pub mailbox: BTreeMap<String, ImapConfig>,
    /// How `rapport check` and `rapport lsp` report (see [`crate::tuning`]).
    #[serde(default)]
    pub check: crate::tuning::CheckConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the config file {path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("no mailbox named {name:?} in {path}{known}")]
    UnknownMailbox { name: String, path: PathBuf, known: String },
}

/// `--config`, else `RAPPORT_CONFIG`, else `$XDG_CONFIG_HOME/rapport/config.toml`.
pub fn config_path(explicit: Option<&Path>) -> (PathBuf, bool) {
    if let Some(p) = explicit {
        return (p.to_path_buf(), true);
    }
    if let Some(p) = std::env::var_os("RAPPORT_CONFIG").filter(|p| !p.is_empty()) {
        return (PathBuf::from(p), true);
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from(".config"));
    (base.join("rapport/config.toml"), false)
}

impl Config {
    /// Load the config. A missing default file is an empty config; a missing file that was asked
    /// for by name is an error.
    pub fn load(explicit: Option<&Path>) -> Result<(Self, PathBuf), ConfigError> {
        let (path, required) = config_path(explicit);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => return Ok((Config::default(), path)),
            Err(source) => return Err(ConfigError::Read { path, source }),
        };
        let mut cfg: Config = toml::from_str(&text).map_err(|e| ConfigError::Invalid {
            path: path.clone(),
            message: toml_error(&text, &e),
        })?;
        for (name, m) in cfg.mailbox.iter_mut() {
            m.name = name.clone();
        }
        Ok((cfg, path))
    }

    pub fn mailbox(&self, name: &str, path: &Path) -> Result<&ImapConfig, ConfigError> {
        self.mailbox.get(name).ok_or_else(|| ConfigError::UnknownMailbox {
            name: name.to_string(),
            path: path.to_path_buf(),
            known: if self.mailbox.is_empty() {
                "; it has no [mailbox.NAME] tables yet".into()
            } else {
                format!("; configured: {}", self.mailbox.keys().cloned().collect::<Vec<_>>().join(", "))
            },
        })
    }
}

/// A TOML error as `line L, column C: message`, without the offending line: the file may hold a
/// secret typed in the wrong place (`passwd = "hunter2"`), and toml's own rendering quotes the
/// line. Values that serde quotes in its message (`invalid type: string "…"`) are left out too.
pub fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = scrub_quoted(e.message().trim());
    match e.span() {
        Some(span) => {
            let start = (0..=span.start.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
            let before = &text[..start];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    }
}

/// `message` without the string values serde quotes in it (`invalid type: string "hunter2"`,
/// written with `{:?}`): each becomes `string "…"`.
fn scrub_quoted(message: &str) -> String {
    const MARK: &str = "string \"";
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find(MARK) {
        out.push_str(&rest[..i + MARK.len()]);
        out.push_str("…\"");
        let mut chars = rest[i + MARK.len()..].char_indices();
        let mut end = rest.len() - (i + MARK.len());
        while let Some((j, c)) = chars.next() {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => {
                    end = j + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &rest[i + MARK.len() + end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mailboxes_and_names_them() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.toml");
        std::fs::write(
            &p,
            "[mailbox.work]\nhost = \"imap.example.com\"\nuser = \"dana\"\npassword-env = \"WORK_IMAP\"\nfolders = [\"Sent\"]\n",
        )
        .unwrap();
        let (cfg, _) = Config::load(Some(&p)).unwrap();
        let m = cfg.mailbox("work", &p).unwrap();
        assert_eq!(m.name, "work");
        assert_eq!(m.port, 993);
        let err = cfg.mailbox("home", &p).unwrap_err().to_string();
        assert!(err.contains("configured: work"), "{err}");
    }

    #[test]
    fn a_password_in_the_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.toml");
        std::fs::write(&p, "[mailbox.work]\nhost = \"h\"\nuser = \"u\"\npassword = \"hunter2\"\n").unwrap();
        let err = Config::load(Some(&p)).unwrap_err().to_string();
        assert!(err.contains("password-env") && !err.contains("hunter2"), "{err}");
    }

    #[test]
    fn a_toml_error_names_line_and_column_but_never_quotes_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.toml");
        let cases = [
            // A mistyped key: toml's own message would print the whole line.
            "[mailbox.work]\nhost = \"h\"\nuser = \"u\"\npassword-env = \"X\"\npasswd = \"hunter2\"\n",
            // Broken syntax on the secret's line.
            "[mailbox.work]\nhost = \"h\"\npasswd = \"hunter2\n",
            // A value of the wrong type: serde quotes it.
            "[mailbox.work]\nhost = \"h\"\nuser = \"u\"\npassword-env = \"X\"\nport = \"hunter2\"\n",
        ];
        for text in cases {
            std::fs::write(&p, text).unwrap();
            let err = Config::load(Some(&p)).unwrap_err().to_string();
            assert!(!err.contains("hunter2"), "{err}");
            assert!(err.contains("line "), "{err}");
            assert!(err.contains("column "), "{err}");
        }
        std::fs::write(&p, cases[0]).unwrap();
        let err = Config::load(Some(&p)).unwrap_err().to_string();
        assert!(err.contains("line 5, column 1") && err.contains("passwd"), "{err}");
    }

    #[test]
    fn a_missing_named_file_is_an_error_but_a_missing_default_is_not() {
        assert!(Config::load(Some(Path::new("/no/such/config.toml"))).is_err());
    }
}
