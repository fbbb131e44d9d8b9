//! Reading the state: what the audit needs to resume, and one typed row per stored message (with
//! its verdict under the current model) for every report. A column that does not parse is a
//! [`StateError::Corrupt`], never a silent default.
use std::collections::HashSet;
use std::ops::Range;

use rusqlite::{params, OptionalExtension};

use super::{State, StateError};
use crate::findings::Finding;
use crate::parse::ListInfo;
use crate::source::{Checkpoints, Direction};
use crate::verdict::Tone;

/// A message's verdict as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub risk: f32,
    pub flagged: bool,
    pub tone: Tone,
    pub findings: Vec<Finding>,
    pub sentence_risk: Vec<f32>,
}

/// One stored message, as the reports read it.
#[derive(Debug, Clone, Default)]
pub struct StoredMessage {
    pub message_key: String,
    pub message_id: Option<String>,
    pub origin: String,
    pub direction: Option<Direction>,
    pub sender: Option<String>,
    pub sender_name: Option<String>,
    pub recipients: Vec<String>,
    pub to_count: usize,
    pub reply_to: Vec<String>,
    pub list: ListInfo,
    /// Unix seconds (UTC).
    pub date: Option<i64>,
    pub subject: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// Raw iCalendar texts (text/calendar parts and .ics attachments).
    pub calendar: Vec<String>,
    pub sentences: Vec<Range<usize>>,
    pub cleaned: String,
    /// The verdict under the current model; None when the message has none under it (received
    /// mail that needed none, or a model change not yet re-scored).
    pub verdict: Option<Verdict>,
}

impl StoredMessage {
    pub fn is_sent(&self) -> bool {
        self.direction != Some(Direction::Received)
    }

    pub fn flagged(&self) -> Option<bool> {
        self.verdict.as_ref().map(|v| v.flagged)
    }

    /// The text of sentence `i`.
    pub fn sentence(&self, i: usize) -> &str {
        self.sentences.get(i).and_then(|r| self.cleaned.get(r.clone())).unwrap_or("")
    }
}

fn split_ids(s: Option<String>) -> Vec<String> {
    s.unwrap_or_default().split_whitespace().map(str::to_string).collect()
}

impl State {
    fn corrupt(&self, what: &str, e: impl std::fmt::Display) -> StateError {
        StateError::Corrupt { path: self.path.clone(), what: what.into(), message: e.to_string() }
    }

    fn parse<T: serde::de::DeserializeOwned>(&self, what: &str, key: &str, s: &str) -> Result<T, StateError> {
        serde_json::from_str(s).map_err(|e| self.corrupt(&format!("{what} of message {key}"), e))
    }

    /// Every source location already read.
    pub fn seen_keys(&self) -> Result<HashSet<String>, StateError> {
        let mut stmt = self.conn.prepare("SELECT source_key FROM seen").map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Where each resumable source stopped.
    pub fn checkpoints(&self) -> Result<Checkpoints, StateError> {
        let mut stmt = self.conn.prepare("SELECT folder, uidvalidity, last_uid FROM folders").map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, (r.get::<_, u32>(1)?, r.get::<_, u32>(2)?))))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// One checkpoint, `(epoch, mark)`.
    pub fn checkpoint(&self, key: &str) -> Result<Option<(u32, u32)>, StateError> {
        self.conn
            .query_row("SELECT uidvalidity, last_uid FROM folders WHERE folder = ?1", params![key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Whether this cleaned text has a verdict under this model.
    pub fn has_verdict(&self, clean_hash: &str, model_id: &str) -> Result<bool, StateError> {
        self.conn
            .query_row("SELECT 1 FROM scores WHERE clean_hash = ?1 AND model_id = ?2", params![clean_hash, model_id], |_| Ok(()))
            .optional()
            .map(|r| r.is_some())
            .map_err(|e| self.err(e))
    }

    /// The verdict of this cleaned text under this model.
    pub fn verdict(&self, clean_hash: &str, model_id: &str) -> Result<Option<Verdict>, StateError> {
        let row = self
            .conn
            .query_row(
                "SELECT risk, flagged, tone_negative, tone_neutral, tone_positive, findings, sentence_risk
                 FROM scores WHERE clean_hash = ?1 AND model_id = ?2",
                params![clean_hash, model_id],
                |r| Ok((r.get::<_, f64>(0)?, r.get::<_, bool>(1)?, r.get::<_, f64>(2)?, r.get::<_, f64>(3)?, r.get::<_, f64>(4)?, r.get::<_, String>(5)?, r.get::<_, String>(6)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        row.map(|(risk, flagged, n, u, p, findings, sr)| {
            Ok(Verdict {
                risk: risk as f32,
                flagged,
                tone: Tone { negative: n as f32, neutral: u as f32, positive: p as f32 },
                findings: self.parse("findings", clean_hash, &findings)?,
                sentence_risk: self.parse("sentence risks", clean_hash, &sr)?,
            })
        })
        .transpose()
    }

    /// Cleaned texts of audited messages that need a verdict and have none under `model_id` (a
    /// new model or new rules since they were audited): `(clean_hash, cleaned text, sentence ranges)`.
    /// Received mail that needed no verdict (lists, automated senders) is left out.
    pub fn stale_texts(&self, model_id: &str) -> Result<Vec<(String, String, Vec<Range<usize>>)>, StateError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT m.clean_hash, min(m.cleaned), min(m.sentences) FROM messages m
                 WHERE m.assessed = 1
                   AND NOT EXISTS (SELECT 1 FROM scores s WHERE s.clean_hash = m.clean_hash AND s.model_id = ?1)
                 GROUP BY m.clean_hash ORDER BY m.clean_hash",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![model_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (hash, text, spans) = row.map_err(|e| self.err(e))?;
            let spans = self.parse("sentence ranges", &hash, &spans)?;
            out.push((hash, text, spans));
        }
        Ok(out)
    }

    /// Every stored message, in (date, key) order, with its verdict under `model_id`: the one
    /// query the audit report and the accounts report both read.
    pub fn messages(&self, model_id: &str) -> Result<Vec<StoredMessage>, StateError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT m.message_key, m.message_id, m.origin, m.direction, m.sender, m.sender_name, m.recipients,
                        m.to_count, m.reply_to, m.list, m.date, m.subject, m.in_reply_to, m.refs, m.calendar,
                        m.sentences, m.cleaned,
                        s.risk, s.flagged, s.tone_negative, s.tone_neutral, s.tone_positive, s.findings, s.sentence_risk
                 FROM messages m LEFT JOIN scores s ON s.clean_hash = m.clean_hash AND s.model_id = ?1
                 ORDER BY m.date IS NULL, m.date, m.message_key",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query(params![model_id]).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let g = |e| self.err(e);
            let key: String = r.get(0).map_err(g)?;
            let direction: String = r.get(3).map_err(g)?;
            let verdict = match r.get::<_, Option<f64>>(17).map_err(g)? {
                None => None,
                Some(risk) => Some(Verdict {
                    risk: risk as f32,
                    flagged: r.get(18).map_err(g)?,
                    tone: Tone {
                        negative: r.get::<_, f64>(19).map_err(g)? as f32,
                        neutral: r.get::<_, f64>(20).map_err(g)? as f32,
                        positive: r.get::<_, f64>(21).map_err(g)? as f32,
                    },
                    findings: self.parse("findings", &key, &r.get::<_, String>(22).map_err(g)?)?,
                    sentence_risk: self.parse("sentence risks", &key, &r.get::<_, String>(23).map_err(g)?)?,
                }),
            };
            out.push(StoredMessage {
                message_id: r.get(1).map_err(g)?,
                origin: r.get(2).map_err(g)?,
                direction: Some(Direction::parse(&direction).ok_or_else(|| self.corrupt(&format!("direction of message {key}"), &direction))?),
                sender: r.get(4).map_err(g)?,
                sender_name: r.get(5).map_err(g)?,
                recipients: self.parse("recipients", &key, &r.get::<_, String>(6).map_err(g)?)?,
                to_count: r.get::<_, i64>(7).map_err(g)?.max(0) as usize,
                reply_to: self.parse("Reply-To", &key, &r.get::<_, String>(8).map_err(g)?)?,
                list: self.parse("list headers", &key, &r.get::<_, String>(9).map_err(g)?)?,
                date: r.get(10).map_err(g)?,
                subject: r.get(11).map_err(g)?,
                in_reply_to: split_ids(r.get(12).map_err(g)?),
                references: split_ids(r.get(13).map_err(g)?),
                calendar: match r.get::<_, Option<String>>(14).map_err(g)? {
                    Some(c) => self.parse("calendar parts", &key, &c)?,
                    None => Vec::new(),
                },
                sentences: self.parse("sentence ranges", &key, &r.get::<_, String>(15).map_err(g)?)?,
                cleaned: r.get(16).map_err(g)?,
                verdict,
                message_key: key,
            });
        }
        Ok(out)
    }

    /// How many messages the state holds.
    pub fn message_count(&self) -> Result<usize, StateError> {
        self.conn
            .query_row("SELECT count(*) FROM messages", [], |r| r.get::<_, i64>(0))
            .map(|n| n as usize)
            .map_err(|e| self.err(e))
    }
}
