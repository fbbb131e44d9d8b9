//! SQLite state: what was seen (by source and by message), the score cache (by cleaned-text hash
//! and model id, so a new model re-scores), findings, and the evidence later reports need.
//! WAL mode; one transaction per batch, so a killed audit loses at most the batch in flight and
//! never records a message as seen without its results.
use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::StateError;

pub const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- IMAP folders: where the last audit stopped.
CREATE TABLE IF NOT EXISTS folders (
    folder TEXT PRIMARY KEY, uidvalidity INTEGER NOT NULL, last_uid INTEGER NOT NULL, updated_at INTEGER NOT NULL);
-- Every source location already read (file path, mbox index, imap uid) and the message it held.
CREATE TABLE IF NOT EXISTS seen (
    source_key TEXT PRIMARY KEY, message_key TEXT, seen_at INTEGER NOT NULL, error TEXT);
-- One row per message, keyed by Message-ID (or content hash when it has none).
CREATE TABLE IF NOT EXISTS messages (
    message_key TEXT PRIMARY KEY,
    message_id TEXT, content_hash TEXT NOT NULL, clean_hash TEXT NOT NULL, origin TEXT NOT NULL,
    sender TEXT, recipients TEXT NOT NULL, date INTEGER, subject TEXT,
    in_reply_to TEXT, refs TEXT, calendar TEXT, sentences TEXT NOT NULL, cleaned TEXT NOT NULL,
    first_seen INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS messages_date ON messages(date);
-- The score cache: one verdict per cleaned text and model.
CREATE TABLE IF NOT EXISTS scores (
    clean_hash TEXT NOT NULL, model_id TEXT NOT NULL,
    risk REAL NOT NULL, flagged INTEGER NOT NULL,
    tone_negative REAL NOT NULL, tone_neutral REAL NOT NULL, tone_positive REAL NOT NULL,
    findings TEXT NOT NULL, sentence_risk TEXT NOT NULL, scored_at INTEGER NOT NULL,
    PRIMARY KEY (clean_hash, model_id));
"#;

/// An open state database, held exclusively by this process.
pub struct State {
    pub conn: Connection,
    pub path: PathBuf,
    _lock: File,
}

/// What one message's audit writes.
#[derive(Debug, Clone)]
pub struct MessageRow {
    pub message_key: String,
    pub message_id: Option<String>,
    pub content_hash: String,
    pub clean_hash: String,
    pub origin: String,
    pub sender: Option<String>,
    pub recipients: Vec<String>,
    pub date: Option<i64>,
    pub subject: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub calendar: Vec<String>,
    /// Sentence byte ranges into `cleaned`.
    pub sentences: Vec<std::ops::Range<usize>>,
    pub cleaned: String,
}

/// A cached verdict.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ScoreRow {
    pub risk: f32,
    pub flagged: bool,
    pub tone: crate::tone::Tone,
    /// JSON array of findings (code, name, severity, message, suggestion, span, sentence).
    pub findings: String,
    pub sentence_risk: Vec<f32>,
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl State {
    /// Open (creating if needed) the state at `path`, taking an exclusive lock: a second audit of
    /// the same state refuses with a clear message instead of interleaving writes.
    pub fn open(path: &Path) -> Result<Self, StateError> {
        let sql = |source| StateError::Sqlite { path: path.to_path_buf(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| sql(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?;
        }
        let lock_path = lock_path(path);
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| sql(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?;
        if lock.try_lock().is_err() {
            return Err(StateError::Busy { path: path.to_path_buf(), lock: lock_path });
        }
        let conn = Connection::open(path).map_err(sql)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(sql)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(sql)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(sql)?;
        conn.execute_batch(SCHEMA).map_err(sql)?;
        conn.execute(
            "INSERT INTO meta(key, value) VALUES ('schema_version', ?1) ON CONFLICT(key) DO NOTHING",
            params![SCHEMA_VERSION.to_string()],
        )
        .map_err(sql)?;
        Ok(Self { conn, path: path.to_path_buf(), _lock: lock })
    }

    fn err(&self, source: rusqlite::Error) -> StateError {
        StateError::Sqlite { path: self.path.clone(), source }
    }

    /// Every source location already read.
    pub fn seen_keys(&self) -> Result<HashSet<String>, StateError> {
        let mut stmt = self.conn.prepare("SELECT source_key FROM seen").map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// A cached verdict for this cleaned text under this model.
    pub fn cached_score(&self, clean_hash: &str, model_id: &str) -> Result<Option<ScoreRow>, StateError> {
        self.conn
            .query_row(
                "SELECT risk, flagged, tone_negative, tone_neutral, tone_positive, findings, sentence_risk
                 FROM scores WHERE clean_hash = ?1 AND model_id = ?2",
                params![clean_hash, model_id],
                |r| {
                    Ok(ScoreRow {
                        risk: r.get::<_, f64>(0)? as f32,
                        flagged: r.get(1)?,
                        tone: crate::tone::Tone {
                            negative: r.get::<_, f64>(2)? as f32,
                            neutral: r.get::<_, f64>(3)? as f32,
                            positive: r.get::<_, f64>(4)? as f32,
                        },
                        findings: r.get(5)?,
                        sentence_risk: serde_json::from_str(&r.get::<_, String>(6)?).unwrap_or_default(),
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Cleaned texts of audited messages that have no verdict under `model_id` (a new model or
    /// new rules since they were audited): `(clean_hash, cleaned text, sentence ranges)`.
    pub fn stale_texts(&self, model_id: &str) -> Result<Vec<(String, String, Vec<std::ops::Range<usize>>)>, StateError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT m.clean_hash, min(m.cleaned), min(m.sentences) FROM messages m
                 WHERE NOT EXISTS (SELECT 1 FROM scores s WHERE s.clean_hash = m.clean_hash AND s.model_id = ?1)
                 GROUP BY m.clean_hash ORDER BY m.clean_hash",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![model_id], |r| {
                let spans: String = r.get(2)?;
                Ok((r.get(0)?, r.get(1)?, serde_json::from_str(&spans).unwrap_or_default()))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Store verdicts for texts already in the state, in one transaction.
    pub fn insert_scores(&mut self, scores: &[(String, ScoreRow)], model_id: &str) -> Result<(), StateError> {
        let path = self.path.clone();
        let err = |source| StateError::Sqlite { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut ins = tx
                .prepare_cached(
                    INSERT_SCORE,
                )
                .map_err(err)?;
            let t = now();
            for (hash, s) in scores {
                insert_score(&mut ins, hash, model_id, s, t).map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    pub fn folder(&self, folder: &str) -> Result<Option<(u32, u32)>, StateError> {
        self.conn
            .query_row("SELECT uidvalidity, last_uid FROM folders WHERE folder = ?1", params![folder], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Write one batch in one transaction.
    pub fn commit_batch(&mut self, batch: &Batch, model_id: &str) -> Result<(), StateError> {
        let path = self.path.clone();
        let err = |source| StateError::Sqlite { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(err)?;
        let t = now();
        {
            let mut ins_msg = tx
                .prepare_cached(
                    "INSERT INTO messages(message_key, message_id, content_hash, clean_hash, origin, sender, recipients,
                        date, subject, in_reply_to, refs, calendar, sentences, cleaned, first_seen)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
                     ON CONFLICT(message_key) DO NOTHING",
                )
                .map_err(err)?;
            let mut ins_score = tx
                .prepare_cached(
                    INSERT_SCORE,
                )
                .map_err(err)?;
            let mut ins_seen = tx
                .prepare_cached(
                    "INSERT INTO seen(source_key, message_key, seen_at, error) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(source_key) DO UPDATE SET message_key = excluded.message_key, error = excluded.error",
                )
                .map_err(err)?;
            for (m, s) in &batch.messages {
                ins_msg
                    .execute(params![
                        m.message_key,
                        m.message_id,
                        m.content_hash,
                        m.clean_hash,
                        m.origin,
                        m.sender,
                        serde_json::to_string(&m.recipients).unwrap_or_default(),
                        m.date,
                        m.subject,
                        m.in_reply_to.join(" "),
                        m.references.join(" "),
                        serde_json::to_string(&m.calendar).unwrap_or_default(),
                        serde_json::to_string(&m.sentences).unwrap_or_default(),
                        m.cleaned,
                        t
                    ])
                    .map_err(err)?;
                if let Some(s) = s {
                    insert_score(&mut ins_score, &m.clean_hash, model_id, s, t).map_err(err)?;
                }
                ins_seen.execute(params![m.origin, m.message_key, t, Option::<String>::None]).map_err(err)?;
            }
            for (source_key, error) in &batch.errors {
                ins_seen.execute(params![source_key, Option::<String>::None, t, error]).map_err(err)?;
            }
            if let Some((folder, uidvalidity, last_uid)) = &batch.folder {
                tx.execute(
                    "INSERT INTO folders(folder, uidvalidity, last_uid, updated_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(folder) DO UPDATE SET uidvalidity = excluded.uidvalidity,
                        last_uid = excluded.last_uid, updated_at = excluded.updated_at",
                    params![folder, uidvalidity, last_uid, t],
                )
                .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }
}

const INSERT_SCORE: &str = "INSERT INTO scores(clean_hash, model_id, risk, flagged, tone_negative, tone_neutral,
        tone_positive, findings, sentence_risk, scored_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
     ON CONFLICT(clean_hash, model_id) DO NOTHING";

/// One verdict into the score cache (a verdict already there for this text and model is kept).
fn insert_score(stmt: &mut rusqlite::CachedStatement<'_>, clean_hash: &str, model_id: &str, s: &ScoreRow, t: i64) -> rusqlite::Result<usize> {
    stmt.execute(params![
        clean_hash,
        model_id,
        s.risk as f64,
        s.flagged,
        s.tone.negative as f64,
        s.tone.neutral as f64,
        s.tone.positive as f64,
        s.findings,
        serde_json::to_string(&s.sentence_risk).unwrap_or_default(),
        t
    ])
}

/// The state's lock file.
pub fn lock_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

/// What one batch of the audit writes.
#[derive(Debug, Default)]
pub struct Batch {
    /// Messages with their verdict (None when the verdict was already cached).
    pub messages: Vec<(MessageRow, Option<ScoreRow>)>,
    /// Source locations that could not be read or parsed, with the error.
    pub errors: Vec<(String, String)>,
    /// An IMAP folder's new high-water mark.
    pub folder: Option<(String, u32, u32)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str, hash: &str) -> MessageRow {
        MessageRow {
            message_key: key.into(),
            message_id: Some(key.into()),
            content_hash: hash.into(),
            clean_hash: hash.into(),
            origin: format!("file:{key}"),
            sender: Some("me@us.com".into()),
            recipients: vec!["you@them.com".into()],
            date: Some(1_700_000_000),
            subject: Some("s".into()),
            in_reply_to: vec![],
            references: vec![],
            calendar: vec![],
            sentences: vec![0..3, 4..8],
            cleaned: "Hi. Bye.".into(),
        }
    }

    fn score() -> ScoreRow {
        ScoreRow {
            risk: 0.2,
            flagged: false,
            tone: Default::default(),
            findings: "[]".into(),
            sentence_risk: vec![0.1, 0.2],
        }
    }

    #[test]
    fn batch_roundtrip_and_dedupe() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        let mut st = State::open(&path).unwrap();
        let batch = Batch {
            messages: vec![(row("a", "h1"), Some(score())), (row("a", "h1"), Some(score()))],
            errors: vec![("file:bad".into(), "not mail".into())],
            folder: Some(("Sent".into(), 7, 42)),
        };
        st.commit_batch(&batch, "m1").unwrap();
        let n: i64 = st.conn.query_row("SELECT count(*) FROM messages", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 1);
        assert!(st.seen_keys().unwrap().contains("file:bad"));
        assert_eq!(st.folder("Sent").unwrap(), Some((7, 42)));
        assert!(st.cached_score("h1", "m1").unwrap().is_some());
        assert!(st.cached_score("h1", "m2").unwrap().is_none(), "a new model id re-scores");
    }

    #[test]
    fn a_second_open_of_the_same_state_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        let _first = State::open(&path).unwrap();
        let err = State::open(&path).err().expect("second open must fail");
        assert!(matches!(err, StateError::Busy { .. }), "{err}");
        assert!(err.to_string().contains("another `rapport audit`"));
    }
}
