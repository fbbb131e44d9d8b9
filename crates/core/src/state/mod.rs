//! The SQLite state: what was seen (by source location and by message), every message (sent and
//! received) with its cleaned text and the headers the reports need, the verdict cache (by
//! cleaned-text hash and model id, so a new model re-scores), and where each IMAP folder stopped.
//!
//! This module owns every SQL statement. Writers ([`write`]) commit one transaction per batch, so
//! a killed audit loses at most the batch in flight and never records a message as seen without
//! its results. Readers ([`read`]) return typed rows; a column that does not parse is an error,
//! never a silent default. Reports open the state read-only ([`State::open_read_only`]), without the
//! writer's lock, so they can run beside an audit.
//!
//! The file is marked as rapport's (`PRAGMA application_id`) and carries its schema version:
//! a foreign SQLite file or a state written by a newer rapport is refused untouched, and an older
//! state is migrated forward in one transaction.
use std::fs::File;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

pub mod accepted;
pub mod read;
pub mod write;

pub use read::{StoredMessage, Verdict};
pub use write::{Batch, MessageRow, ScoreRow};

/// The schema this build writes. 1: the first release; 2: received mail, list headers, display
/// names and Reply-To.
pub const SCHEMA_VERSION: i64 = 2;

/// `PRAGMA application_id` of a rapport state: "RAPT".
pub const APPLICATION_ID: i32 = 0x5241_5054;

/// SQLite state.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state database {path}: {source}. Check that the folder is writable and the disk not full, or pass --state PATH")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("state database {path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error("state database {path} is being written by another `rapport audit` (it holds the lock on {lock}). Wait for it to finish; if no rapport is running, the lock is released already and this is a different problem: check the file's permissions")]
    Busy { path: PathBuf, lock: PathBuf },
    #[error("{path} is not a rapport state ({what}); rapport leaves it untouched. Pass --state with a new file name, or the state an earlier audit wrote")]
    Foreign { path: PathBuf, what: String },
    #[error("{path} was written by a newer rapport (state schema {found}; this rapport knows up to {SCHEMA_VERSION}); it is left untouched. Upgrade rapport, or pass --state with another file")]
    Newer { path: PathBuf, found: i64 },
    #[error("state database {path}: {what} does not parse ({message}); the state is damaged. Audit into a new --state file")]
    Corrupt { path: PathBuf, what: String, message: String },
    #[error("no state at {path}: nothing has been audited there. Run `rapport audit PATH --state {path}` first")]
    Missing { path: PathBuf },
}

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Where each resumable source stopped (IMAP: `mailbox/folder`, its UIDVALIDITY and last UID).
CREATE TABLE IF NOT EXISTS folders (
    folder TEXT PRIMARY KEY, uidvalidity INTEGER NOT NULL, last_uid INTEGER NOT NULL, updated_at INTEGER NOT NULL);
-- Every source location already read (file path, mbox message, imap uid) and the message it held.
CREATE TABLE IF NOT EXISTS seen (
    source_key TEXT PRIMARY KEY, message_key TEXT, seen_at INTEGER NOT NULL, error TEXT);
-- One row per message, keyed by Message-ID (or content hash when it has none).
CREATE TABLE IF NOT EXISTS messages (
    message_key TEXT PRIMARY KEY,
    message_id TEXT, content_hash TEXT NOT NULL, clean_hash TEXT NOT NULL, origin TEXT NOT NULL,
    sender TEXT, recipients TEXT NOT NULL, date INTEGER, subject TEXT,
    in_reply_to TEXT, refs TEXT, calendar TEXT, sentences TEXT NOT NULL, cleaned TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    direction TEXT NOT NULL DEFAULT 'sent', sender_name TEXT, to_count INTEGER NOT NULL DEFAULT 0,
    reply_to TEXT NOT NULL DEFAULT '[]', list TEXT NOT NULL DEFAULT '{}', assessed INTEGER NOT NULL DEFAULT 1);
CREATE INDEX IF NOT EXISTS messages_date ON messages(date);
CREATE INDEX IF NOT EXISTS messages_clean ON messages(clean_hash);
-- The verdict cache: one verdict per cleaned text and model.
CREATE TABLE IF NOT EXISTS scores (
    clean_hash TEXT NOT NULL, model_id TEXT NOT NULL,
    risk REAL NOT NULL, flagged INTEGER NOT NULL,
    tone_negative REAL NOT NULL, tone_neutral REAL NOT NULL, tone_positive REAL NOT NULL,
    findings TEXT NOT NULL, sentence_risk TEXT NOT NULL, scored_at INTEGER NOT NULL,
    PRIMARY KEY (clean_hash, model_id));
"#;

/// Columns added by schema 2, for states written by schema 1.
const MIGRATE_1_TO_2: &[&str] = &[
    "ALTER TABLE messages ADD COLUMN direction TEXT NOT NULL DEFAULT 'sent'",
    "ALTER TABLE messages ADD COLUMN sender_name TEXT",
    "ALTER TABLE messages ADD COLUMN to_count INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE messages ADD COLUMN reply_to TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE messages ADD COLUMN list TEXT NOT NULL DEFAULT '{}'",
    "ALTER TABLE messages ADD COLUMN assessed INTEGER NOT NULL DEFAULT 1",
    "UPDATE messages SET to_count = json_array_length(recipients)",
];

/// An open state database.
pub struct State {
    pub(crate) conn: Connection,
    pub path: PathBuf,
    /// The writer's lock (none for a read-only open).
    _lock: Option<File>,
}

/// The state's lock file.
pub fn lock_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

impl State {
    fn sql_err(path: &Path) -> impl Fn(rusqlite::Error) -> StateError + '_ {
        move |source| StateError::Sqlite { path: path.to_path_buf(), source }
    }

    pub(crate) fn err(&self, source: rusqlite::Error) -> StateError {
        StateError::Sqlite { path: self.path.clone(), source }
    }

    /// Open (creating if needed) the state at `path` for an audit, taking an exclusive lock: a
    /// second audit of the same state refuses with a clear message instead of interleaving writes.
    /// New files and folders are private to the user (0600 and 0700): the state holds the text of
    /// every message audited.
    pub fn open(path: &Path) -> Result<Self, StateError> {
        let io = |e: std::io::Error| StateError::Io { path: path.to_path_buf(), message: e.to_string() };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io)?;
            }
        }
        let lock_path = lock_path(path);
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&lock_path)
            .map_err(io)?;
        if lock.try_lock().is_err() {
            return Err(StateError::Busy { path: path.to_path_buf(), lock: lock_path });
        }
        let existed = path.exists() && std::fs::metadata(path).map(|m| m.len() > 0).unwrap_or(false);
        if !path.exists() {
            // Create it private before SQLite opens it.
            File::options().create_new(true).write(true).mode(0o600).open(path).map_err(io)?;
        }
        let conn = Connection::open(path).map_err(Self::sql_err(path))?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(Self::sql_err(path))?;
        if existed {
            check_identity(&conn, path)?;
        }
        conn.pragma_update(None, "journal_mode", "WAL").map_err(Self::sql_err(path))?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(Self::sql_err(path))?;
        let mut state = Self { conn, path: path.to_path_buf(), _lock: Some(lock) };
        state.create_or_migrate(existed)?;
        Ok(state)
    }

    /// Open an existing state for reading only: no lock, no change to the file, so a report can
    /// run beside an audit. A missing, foreign or newer file is refused.
    pub fn open_read_only(path: &Path) -> Result<Self, StateError> {
        if !path.exists() {
            return Err(StateError::Missing { path: path.to_path_buf() });
        }
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(Self::sql_err(path))?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(Self::sql_err(path))?;
        let version = check_identity(&conn, path)?;
        if version < SCHEMA_VERSION {
            return Err(StateError::Io {
                path: path.to_path_buf(),
                message: format!("it was written by an older rapport (schema {version}); run `rapport audit --state {}` once to bring it up to date", path.display()),
            });
        }
        Ok(Self { conn, path: path.to_path_buf(), _lock: None })
    }

    fn create_or_migrate(&mut self, existed: bool) -> Result<(), StateError> {
        let path = self.path.clone();
        let err = Self::sql_err(&path);
        let version = if existed { schema_version(&self.conn, &path)? } else { 0 };
        let tx = self.conn.transaction().map_err(&err)?;
        if version == 1 {
            for stmt in MIGRATE_1_TO_2 {
                tx.execute_batch(stmt).map_err(&err)?;
            }
        }
        tx.execute_batch(SCHEMA).map_err(&err)?;
        tx.execute_batch(accepted::MIGRATION).map_err(&err)?;
        tx.execute(
            "INSERT INTO meta(key, value) VALUES ('schema_version', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![SCHEMA_VERSION.to_string()],
        )
        .map_err(&err)?;
        tx.pragma_update(None, "application_id", APPLICATION_ID).map_err(&err)?;
        tx.commit().map_err(&err)
    }
}

/// The schema version in `meta` (0 when there is none).
fn schema_version(conn: &Connection, path: &Path) -> Result<i64, StateError> {
    let has_meta: bool = conn
        .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'", [], |r| r.get::<_, i64>(0))
        .map_err(State::sql_err(path))?
        > 0;
    if !has_meta {
        return Ok(0);
    }
    let v: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| r.get(0))
        .optional()
        .map_err(State::sql_err(path))?;
    Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0))
}

/// Refuse a file that is not a rapport state, or one from a newer rapport; return its version.
fn check_identity(conn: &Connection, path: &Path) -> Result<i64, StateError> {
    let foreign = |what: String| StateError::Foreign { path: path.to_path_buf(), what };
    let app: i32 = match conn.pragma_query_value(None, "application_id", |r| r.get(0)) {
        Ok(v) => v,
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::NotADatabase => {
            return Err(foreign("not an SQLite database".into()))
        }
        Err(e) => return Err(StateError::Sqlite { path: path.to_path_buf(), source: e }),
    };
    let tables: Vec<String> = {
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase => foreign("not an SQLite database".into()),
                e => StateError::Sqlite { path: path.to_path_buf(), source: e },
            })?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(State::sql_err(path))?;
        rows.collect::<Result<_, _>>().map_err(State::sql_err(path))?
    };
    if app != APPLICATION_ID {
        if app != 0 {
            return Err(foreign(format!("an SQLite file of another program, application_id {app:#x}")));
        }
        // Schema 1 did not set the application id: recognise it by its tables.
        let ours = ["folders", "messages", "meta", "scores", "seen"];
        if !tables.is_empty() && !tables.iter().all(|t| ours.contains(&t.as_str())) || (!tables.is_empty() && !tables.iter().any(|t| t == "meta")) {
            return Err(foreign(format!("an SQLite database with the tables {}", tables.join(", "))));
        }
    }
    let version = schema_version(conn, path)?;
    if version > SCHEMA_VERSION {
        return Err(StateError::Newer { path: path.to_path_buf(), found: version });
    }
    Ok(version)
}

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

#[cfg(test)]
mod tests;
