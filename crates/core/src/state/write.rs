//! Writing the state: one transaction per audit batch, and verdicts for texts re-assessed under a
//! new model.
use rusqlite::params;

use super::{State, StateError};
use crate::findings::Finding;
use crate::parse::ListInfo;
use crate::source::{Checkpoint, Direction};
use crate::verdict::{Assessment, Tone};

/// What one message's audit writes.
#[derive(Debug, Clone)]
pub struct MessageRow {
    pub message_key: String,
    pub message_id: Option<String>,
    pub content_hash: String,
    pub clean_hash: String,
    pub origin: String,
    pub direction: Direction,
    pub sender: Option<String>,
    pub sender_name: Option<String>,
    pub recipients: Vec<String>,
    /// Addresses in To, Cc and Bcc (mass mail creates no accounts).
    pub to_count: usize,
    pub reply_to: Vec<String>,
    pub list: ListInfo,
    /// Whether the message gets a verdict (everything we send; received mail a person wrote).
    pub assessed: bool,
    pub date: Option<i64>,
    pub subject: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub calendar: Vec<String>,
    /// Sentence byte ranges into `cleaned`.
    pub sentences: Vec<std::ops::Range<usize>>,
    pub cleaned: String,
}

/// A verdict as the state keeps it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScoreRow {
    pub risk: f32,
    pub flagged: bool,
    pub tone: Tone,
    pub findings: Vec<Finding>,
    pub sentence_risk: Vec<f32>,
}

impl ScoreRow {
    pub fn from_assessment(a: &Assessment) -> Self {
        ScoreRow { risk: a.risk, flagged: a.flagged, tone: a.tone, findings: a.findings.clone(), sentence_risk: a.sentence_risk.clone() }
    }
}

/// What one batch of the audit writes.
#[derive(Debug, Default)]
pub struct Batch {
    /// Messages with their verdict (None when it is cached already, or not wanted).
    pub messages: Vec<(MessageRow, Option<ScoreRow>)>,
    /// Source locations that could not be read or parsed, with the error.
    pub errors: Vec<(String, String)>,
    /// Where the sources resume after this batch.
    pub checkpoints: Vec<Checkpoint>,
}

const INSERT_SCORE: &str = "INSERT INTO scores(clean_hash, model_id, risk, flagged, tone_negative, tone_neutral,
        tone_positive, findings, sentence_risk, scored_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
     ON CONFLICT(clean_hash, model_id) DO NOTHING";

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("plain data serialises")
}

/// One verdict into the cache (a verdict already there for this text and model is kept).
fn insert_score(stmt: &mut rusqlite::CachedStatement<'_>, clean_hash: &str, model_id: &str, s: &ScoreRow, t: i64) -> rusqlite::Result<usize> {
    stmt.execute(params![
        clean_hash,
        model_id,
        s.risk as f64,
        s.flagged,
        s.tone.negative as f64,
        s.tone.neutral as f64,
        s.tone.positive as f64,
        json(&s.findings),
        json(&s.sentence_risk),
        t
    ])
}

impl State {
    /// Store verdicts for texts already in the state, in one transaction.
    pub fn insert_scores(&mut self, scores: &[(String, ScoreRow)], model_id: &str) -> Result<(), StateError> {
        let path = self.path.clone();
        let err = |source| StateError::Sqlite { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut ins = tx.prepare_cached(INSERT_SCORE).map_err(err)?;
            let t = crate::time::now();
            for (hash, s) in scores {
                insert_score(&mut ins, hash, model_id, s, t).map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// Write one batch in one transaction: its messages, their verdicts, the source locations
    /// read (and the errors), and where each source resumes.
    pub fn commit_batch(&mut self, batch: &Batch, model_id: &str) -> Result<(), StateError> {
        let path = self.path.clone();
        let err = |source| StateError::Sqlite { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(err)?;
        let t = crate::time::now();
        {
            let mut ins_msg = tx
                .prepare_cached(
                    "INSERT INTO messages(message_key, message_id, content_hash, clean_hash, origin, sender, recipients,
                        date, subject, in_reply_to, refs, calendar, sentences, cleaned, first_seen,
                        direction, sender_name, to_count, reply_to, list, assessed)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)
                     ON CONFLICT(message_key) DO NOTHING",
                )
                .map_err(err)?;
            let mut ins_score = tx.prepare_cached(INSERT_SCORE).map_err(err)?;
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
                        json(&m.recipients),
                        m.date,
                        m.subject,
                        m.in_reply_to.join(" "),
                        m.references.join(" "),
                        json(&m.calendar),
                        json(&m.sentences),
                        m.cleaned,
                        t,
                        m.direction.as_str(),
                        m.sender_name,
                        m.to_count as i64,
                        json(&m.reply_to),
                        json(&m.list),
                        m.assessed,
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
            for c in &batch.checkpoints {
                tx.execute(
                    "INSERT INTO folders(folder, uidvalidity, last_uid, updated_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(folder) DO UPDATE SET uidvalidity = excluded.uidvalidity,
                        last_uid = excluded.last_uid, updated_at = excluded.updated_at",
                    params![c.key, c.epoch, c.mark, t],
                )
                .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }
}
