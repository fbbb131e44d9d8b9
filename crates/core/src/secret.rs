//! Secrets (IMAP passwords, OAuth2 access tokens) and where they come from.
//!
//! rapport never takes a secret from its command line (it would end up in shell history and in
//! `ps`) nor from the config file. A config names a [`SecretSource`] instead:
//!
//! * `…-env = "VAR"`: the value of the environment variable `VAR`, exactly as set;
//! * `…-command = "pass show work/imap"`: the first line of what the command prints on standard
//!   output, run with `sh -c`. Its standard input and standard error stay connected to the
//!   terminal, so a password manager can ask for its passphrase and print its own errors.
//!
//! A resolved [`Secret`] never prints: `Debug` and `Display` show `***`, and its memory is
//! overwritten when it is dropped. Errors name the variable or the command, never the value.
use std::fmt;
use std::process::{Command, Stdio};

use zeroize::Zeroize;

/// A secret value (password or token). Prints as `***`; read it with [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a value obtained elsewhere.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself. Only call this to hand it to the server.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The value of the environment variable `var`; unset, empty or non-UTF-8 is an error.
    pub fn from_env(var: &str) -> Result<Self, SecretError> {
        match std::env::var(var) {
            Ok(value) if value.is_empty() => Err(SecretError::EnvEmpty {
                var: var.to_string(),
            }),
            Ok(value) => Ok(Secret(value)),
            Err(std::env::VarError::NotPresent) => Err(SecretError::EnvUnset {
                var: var.to_string(),
            }),
            Err(std::env::VarError::NotUnicode(_)) => Err(SecretError::EnvNotUnicode {
                var: var.to_string(),
            }),
        }
    }

    /// Run `command` with `sh -c` and take the first line of its standard output (without the
    /// line ending). A command that cannot start, exits non-zero, or prints an empty first line is
    /// an error naming the command. The rest of the output is discarded, and nothing of it is
    /// ever printed.
    pub fn from_command(command: &str) -> Result<Self, SecretError> {
        let output = Command::new("sh")
            .arg("-c")
            .arg(command)
            .stdin(Stdio::inherit())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|source| SecretError::CommandSpawn {
                command: command.to_string(),
                source,
            })?;
        let mut stdout = output.stdout;
        if !output.status.success() {
            stdout.zeroize();
            return Err(SecretError::CommandFailed {
                command: command.to_string(),
                status: output.status.to_string(),
            });
        }
        let end = stdout
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or(stdout.len());
        let mut line = &stdout[..end];
        if let Some(stripped) = line.strip_suffix(b"\r") {
            line = stripped;
        }
        let result = match std::str::from_utf8(line) {
            Ok("") => Err(SecretError::CommandEmpty {
                command: command.to_string(),
            }),
            Ok(value) => Ok(Secret(value.to_string())),
            Err(_) => Err(SecretError::CommandNotUnicode {
                command: command.to_string(),
            }),
        };
        stdout.zeroize();
        result
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where a secret comes from. Printing it shows the variable's name or the command, which are
/// not secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// An environment variable's name.
    Env(String),
    /// A shell command whose first line of output is the secret.
    Command(String),
}

impl SecretSource {
    /// Read the secret now (runs the command, if it is one).
    pub fn resolve(&self) -> Result<Secret, SecretError> {
        match self {
            SecretSource::Env(var) => Secret::from_env(var),
            SecretSource::Command(command) => Secret::from_command(command),
        }
    }
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env(var) => write!(f, "environment variable {var}"),
            SecretSource::Command(command) => write!(f, "command `{command}`"),
        }
    }
}

/// A secret could not be read. Never contains the secret.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("environment variable {var} is not set. Export it in the environment rapport runs in, or use a …-command setting instead")]
    EnvUnset { var: String },
    #[error("environment variable {var} is set but empty. Put the secret in it, or use a …-command setting instead")]
    EnvEmpty { var: String },
    #[error("environment variable {var} is not valid UTF-8. Put the secret in it as UTF-8 text")]
    EnvNotUnicode { var: String },
    #[error("cannot run `{command}` with sh -c: {source}. Check that `sh` is installed")]
    CommandSpawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{command}` failed ({status}); its own error output, if any, is above. Run it in a shell and check that it prints the secret on its first line")]
    CommandFailed { command: String, status: String },
    #[error("`{command}` printed nothing on the first line of its standard output. It must print the secret (password or token) on its first line")]
    CommandEmpty { command: String },
    #[error("`{command}` printed something that is not UTF-8 text on its first line. It must print the secret as UTF-8 text")]
    CommandNotUnicode { command: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?} {:?}", Some(&s)), "*** *** Some(***)");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn command_first_line_only() {
        let s = Secret::from_command("printf 'pa ss\\r\\nsecond line\\n'").unwrap();
        assert_eq!(s.expose(), "pa ss");
        let s = Secret::from_command("printf 'no-newline'").unwrap();
        assert_eq!(s.expose(), "no-newline");
    }

    #[test]
    fn command_errors_name_the_command_not_the_output() {
        let e = Secret::from_command("echo $((6*7))-value; exit 3")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`echo $((6*7))-value; exit 3`") && e.contains("exit status: 3"),
            "{e}"
        );
        assert!(!e.contains("42-value"), "{e}");
        let e = Secret::from_command("printf '\\nsecond'")
            .unwrap_err()
            .to_string();
        assert!(e.contains("printed nothing on the first line"), "{e}");
        let e = Secret::from_command("true").unwrap_err();
        assert!(matches!(e, SecretError::CommandEmpty { .. }), "{e}");
    }

    #[test]
    fn env_errors() {
        let var = "RAPPORT_SECRET_UNIT_TEST_UNSET_7f3a";
        assert!(matches!(
            Secret::from_env(var),
            Err(SecretError::EnvUnset { .. })
        ));
        assert!(SecretSource::Env(var.into()).to_string().contains(var));
    }
}
