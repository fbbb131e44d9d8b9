//! The audit: read every message a source has not delivered before, parse and clean it, assess
//! it, and store message and verdict in the state, one transaction per batch. [`run`] is the whole
//! of it; `rapport audit` and `rapport accounts` only choose the sources and render the results.
//!
//! Parsing and cleaning run in parallel (rayon); the [`Assessor`] scores each batch's sentences in
//! one call. A message that cannot be read, parsed or cleaned, or that makes rapport panic, is
//! recorded as that message's error and the batch goes on. A source that cannot be opened at all
//! (an unreachable IMAP server) is reported and the other sources go on.
use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};

use rayon::prelude::*;

use crate::clean::{clean, CleanText};
use crate::parse::{self, ParsedMail};
use crate::source::{without_location, Checkpoint, Direction, IngestError, MailSource, RawMail};
use crate::state::{Batch, MessageRow, ScoreRow, State, StateError};
use crate::text::sha256_hex;
use crate::verdict::{Assessor, ScoreError};

/// Messages per batch (`--batch`): one scorer call and one transaction each. Larger batches give
/// the encoder's length-sorting more to work with: on 1,000 messages, 512 per batch took 8.3 s
/// where 128 took 10.0 s (bench/README.md).
pub const DEFAULT_BATCH: usize = 512;

/// A batch is also cut when the raw messages it holds reach this many bytes, so memory stays
/// bounded whatever the messages' sizes.
pub const DEFAULT_BATCH_BYTES: u64 = 64 * 1024 * 1024;

/// Counters of one run.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RunStats {
    pub read: usize,
    pub scored: usize,
    pub cached: usize,
    pub duplicates: usize,
    /// Received messages stored for the accounts report (only a customer's are assessed).
    pub received: usize,
    /// Sentences of the texts scored this run.
    pub sentences: usize,
    /// Sentences run through the encoder this run (distinct, and new to the run).
    pub encoded: usize,
    /// Texts audited before under another model or other rules, re-scored this run.
    pub rescored: usize,
    /// `(where, what went wrong)` for each message or source that could not be audited.
    pub errors: Vec<(String, String)>,
    /// Things the user should know that are not errors (a folder re-read after UIDVALIDITY changed).
    pub notices: Vec<String>,
}

/// One input of an audit: a source, and whether its mail was sent by us or received.
pub struct Input {
    pub source: Box<dyn MailSource>,
    pub direction: Direction,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// Messages per batch.
    pub batch: usize,
    /// Raw bytes per batch.
    pub batch_bytes: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self { batch: DEFAULT_BATCH, batch_bytes: DEFAULT_BATCH_BYTES }
    }
}

/// Hears how the run goes (a progress bar, in the binary).
pub trait Progress {
    fn source(&self, _name: &str) {}
    fn advance(&self, _messages: u64) {}
    fn finish(&self) {}
}

/// No progress shown.
pub struct Quiet;
impl Progress for Quiet {}

/// What can stop a whole run (a message's own failure never does).
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Score(#[from] ScoreError),
}

/// Audit `inputs` into `state`: first re-score the texts audited under another model, then read
/// each source.
pub fn run(state: &mut State, assessor: &mut Assessor<'_>, inputs: &mut [Input], opts: &Options, progress: &dyn Progress) -> Result<RunStats, AuditError> {
    let mut stats = RunStats::default();
    rescore_stale(state, assessor, opts.batch, &mut stats)?;
    for input in inputs.iter_mut() {
        audit_source(state, assessor, input, opts, progress, &mut stats)?;
    }
    Ok(stats)
}

/// A message parsed and cleaned, ready for its verdict.
struct Prepared {
    mail: ParsedMail,
    clean: CleanText,
    clean_hash: String,
}

/// A message that could not be audited: its state key, where it is (for people), and why.
#[derive(Clone)]
struct Failed {
    key: String,
    location: String,
    message: String,
}

/// Parse and clean one message; a panic becomes the message's error.
fn prepare(raw: RawMail) -> Result<Prepared, Failed> {
    let key = raw.origin.key();
    let location = raw.origin.to_string();
    guarded(|| {
        // The error names the message; the caller prints the key beside it.
        let mail = parse::parse(&raw).map_err(|e| without_location(&e.to_string(), &location))?;
        let clean = clean(&mail.body);
        let clean_hash = sha256_hex(clean.text.as_bytes());
        Ok(Prepared { mail, clean, clean_hash })
    })
    .map_err(|message| Failed { key, location, message })
}

/// Run one message's work; a panic in it becomes its error instead of ending the audit.
fn guarded<T>(work: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(r) => r,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            Err(format!("rapport failed on this message ({what}); it was skipped and recorded as an error. Please report it with the message if you can"))
        }
    }
}

fn message_key(m: &ParsedMail) -> String {
    match &m.message_id {
        Some(id) => format!("mid:{id}"),
        None => format!("sha256:{}", m.content_hash),
    }
}

fn row(p: &Prepared, direction: Direction) -> MessageRow {
    MessageRow {
        assessed: wants_verdict(p, direction),
        message_key: message_key(&p.mail),
        message_id: p.mail.message_id.clone(),
        content_hash: p.mail.content_hash.clone(),
        clean_hash: p.clean_hash.clone(),
        origin: p.mail.origin.key(),
        direction,
        sender: p.mail.from.as_ref().map(|f| f.address.clone()),
        sender_name: p.mail.from.as_ref().and_then(|f| f.name.clone()),
        recipients: p.mail.recipients().map(|r| r.address.clone()).collect(),
        to_count: p.mail.to.len() + p.mail.cc.len() + p.mail.bcc.len(),
        reply_to: p.mail.reply_to.iter().map(|r| r.address.clone()).collect(),
        list: p.mail.list.clone(),
        date: p.mail.date,
        subject: p.mail.subject.clone(),
        in_reply_to: p.mail.in_reply_to.clone(),
        references: p.mail.references.clone(),
        calendar: p.mail.calendar.iter().map(|c| c.text.clone()).collect(),
        sentences: p.clean.sentences.clone(),
        cleaned: p.clean.text.clone(),
    }
}

/// Whether a message's verdict is worth computing. Everything we send is; of what we receive,
/// only mail a person wrote (not lists, not automated senders), for complaints and for the thread
/// a draft answers.
fn wants_verdict(p: &Prepared, direction: Direction) -> bool {
    direction == Direction::Sent || !p.mail.list.is_automated()
}

/// What the source delivered for one batch: messages, and the errors to record with them (a
/// message the source could not deliver and will not offer again, with where the source resumes
/// after it).
#[derive(Default)]
struct Pulled {
    raws: Vec<RawMail>,
    bytes: u64,
    errors: Vec<Failed>,
    checkpoints: Vec<Checkpoint>,
}

impl Pulled {
    fn len(&self) -> usize {
        self.raws.len() + self.errors.len()
    }
}

/// Assess the batch's texts that need a verdict and write the batch in one transaction.
fn process_batch(state: &mut State, assessor: &mut Assessor<'_>, pulled: Pulled, direction: Direction, stats: &mut RunStats) -> Result<(), AuditError> {
    let model_id = crate::model_id();
    let Pulled { raws, errors, checkpoints: failed_at, .. } = pulled;
    // Where each source will resume: written in the same transaction as the messages.
    let checkpoints = Checkpoint::furthest(raws.iter().filter_map(|r| r.checkpoint.as_ref()).chain(&failed_at));
    let prepared: Vec<Result<Prepared, Failed>> = raws.into_par_iter().map(prepare).collect();
    let mut failed = errors;
    let mut batch = Batch { checkpoints, ..Batch::default() };
    let mut todo: Vec<&Prepared> = Vec::new();
    let mut rows: Vec<(&Prepared, bool)> = Vec::new();
    let mut in_batch: HashSet<&str> = HashSet::new();
    stats.read += prepared.len();
    for p in &prepared {
        match p {
            Err(f) => failed.push(f.clone()),
            Ok(p) => {
                if direction == Direction::Received {
                    stats.received += 1;
                }
                if !wants_verdict(p, direction) {
                    rows.push((p, false));
                } else if state.has_verdict(&p.clean_hash, model_id)? {
                    stats.cached += 1;
                    rows.push((p, false));
                } else if !in_batch.insert(&p.clean_hash) {
                    // The same cleaned text twice in this batch: assessed once.
                    stats.duplicates += 1;
                    rows.push((p, false));
                } else {
                    todo.push(p);
                    rows.push((p, true));
                }
            }
        }
    }
    let texts: Vec<&CleanText> = todo.iter().map(|p| &p.clean).collect();
    let before = assessor.encoded;
    let sentences_before = assessor.sentences;
    let verdicts = assessor.assess(&texts)?;
    stats.encoded += assessor.encoded - before;
    stats.sentences += assessor.sentences - sentences_before;
    stats.scored += verdicts.len();
    let mut verdicts = verdicts.into_iter();
    for (p, assessed) in rows {
        let v = if assessed { verdicts.next().map(|a| ScoreRow::from_assessment(&a)) } else { None };
        batch.messages.push((row(p, direction), v));
    }
    batch.errors = failed.iter().map(|f| (f.key.clone(), f.message.clone())).collect();
    stats.errors.extend(failed.into_iter().map(|f| (f.location, f.message)));
    state.commit_batch(&batch, model_id)?;
    Ok(())
}

/// Audit one source into the state.
fn audit_source(state: &mut State, assessor: &mut Assessor<'_>, input: &mut Input, opts: &Options, progress: &dyn Progress, stats: &mut RunStats) -> Result<(), AuditError> {
    let batch_len = opts.batch.max(1);
    let source = &mut input.source;
    let name = source.describe();
    progress.source(&name);
    let checkpoints = state.checkpoints()?;
    match source.resume(&checkpoints) {
        Ok(notices) => stats.notices.extend(notices),
        Err(e) => {
            // This source cannot be read at all (an unreachable server, a refused login): report
            // it and go on with the others.
            stats.errors.push(located(&e, &name));
            return Ok(());
        }
    }
    let seen = state.seen_keys()?;
    let mut pulled = Pulled::default();
    let mut read_errors = Vec::new();
    for item in source.mails_except(&seen) {
        match item {
            Ok(raw) => {
                pulled.bytes += raw.bytes.len() as u64;
                pulled.raws.push(raw);
            }
            Err(e) => match e.record_key() {
                // Recorded by an earlier audit: said once, not on every run.
                Some(key) if seen.contains(&key) => continue,
                // Errors the source will not offer again (an IMAP message below the folder's
                // mark, junk in an mbox): recorded in the state with the batch, and the source's
                // mark moves past them in the same transaction.
                Some(key) => {
                    pulled.checkpoints.extend(e.origin().and_then(|o| o.checkpoint()));
                    let (location, message) = located(&e, &name);
                    pulled.errors.push(Failed { key, location, message });
                }
                // Unreadable or over-size files: reported, not recorded as seen, so the next audit
                // tries them again.
                None => read_errors.push(located(&e, &name)),
            },
        }
        if pulled.len() >= batch_len || pulled.bytes >= opts.batch_bytes {
            let n = pulled.raws.len() as u64;
            process_batch(state, assessor, std::mem::take(&mut pulled), input.direction, stats)?;
            progress.advance(n);
        }
    }
    if pulled.len() > 0 {
        let n = pulled.raws.len() as u64;
        process_batch(state, assessor, pulled, input.direction, stats)?;
        progress.advance(n);
    }
    progress.finish();
    stats.errors.extend(read_errors);
    Ok(())
}

/// Where an error is (the message, the file, else the source) and its text without that location
/// at its start: it is printed as `where: text`, and must not name the place twice.
fn located(e: &IngestError, source: &str) -> (String, String) {
    let location = match e {
        IngestError::MboxJunk { path, .. } | IngestError::Io { path, .. } | IngestError::IsDirectory { path } => path.display().to_string(),
        IngestError::TooLarge { origin, .. } | IngestError::Message { origin, .. } => origin.to_string(),
        IngestError::Stdin(_) => source.to_string(),
        // `mailbox: message`, where the source is `imap:mailbox`: the source is the location.
        IngestError::Imap { message, .. } => return (source.to_string(), message.clone()),
    };
    let text = without_location(&e.to_string(), &location);
    (location, text)
}

/// Verdicts for messages audited under another model or other rules: re-assessed from the
/// cleaned text kept in the state (the mail is not read again), so an upgrade never leaves
/// messages out of the report.
fn rescore_stale(state: &mut State, assessor: &mut Assessor<'_>, batch: usize, stats: &mut RunStats) -> Result<(), AuditError> {
    let model_id = crate::model_id();
    let stale = state.stale_texts(model_id)?;
    for chunk in stale.chunks(batch.max(1)) {
        let cleans: Vec<CleanText> = chunk.iter().map(|(_, text, spans)| CleanText::from_stored(text, spans)).collect();
        let refs: Vec<&CleanText> = cleans.iter().collect();
        let before = assessor.encoded;
        let sentences_before = assessor.sentences;
        let verdicts = assessor.assess(&refs)?;
        stats.encoded += assessor.encoded - before;
        stats.sentences += assessor.sentences - sentences_before;
        let rows: Vec<(String, ScoreRow)> = chunk.iter().zip(&verdicts).map(|((hash, _, _), a)| (hash.clone(), ScoreRow::from_assessment(a))).collect();
        state.insert_scores(&rows, model_id)?;
        stats.rescored += rows.len();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_one_message_becomes_its_error() {
        let r: Result<(), String> = guarded(|| {
            let v: Vec<u8> = Vec::new();
            // As `v[..7]` on a short string would.
            let _ = v[..7].len();
            Ok(())
        });
        let e = r.unwrap_err();
        assert!(e.contains("rapport failed on this message") && e.contains("out of range"), "{e}");
        assert_eq!(guarded(|| Err::<(), _>("plain error".to_string())).unwrap_err(), "plain error");
        assert_eq!(guarded(|| Ok::<_, String>(3)).unwrap(), 3);
    }
}
