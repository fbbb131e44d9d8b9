//! `rapport audit`: read outgoing mail, score every message not seen before, keep state in
//! SQLite, write a report. Parsing and cleaning run in parallel (rayon); the scorer runs on this
//! thread over each batch's sentences at once (length-sorted inside the encoder).
use std::collections::{HashMap, HashSet};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use rayon::prelude::*;

use crate::cli::AuditArgs;
use crate::clean::{clean, CleanText};
use crate::findings::Severity;
use crate::parse::{self, sha256_hex, ParsedMail};
use crate::report::audit::{self as report, AuditReport, RunStats};
use crate::cli::ModelArgs;
use crate::score::{self, Scorer, SentenceScores};
use crate::config::Config;
use crate::source::imap::{ImapConfig, ImapSession, ImapSource};
use crate::source::{open_path, MailSource, RawMail, SourceRef};
use crate::state::{Batch, MessageRow, ScoreRow, State};
use crate::tone::{assess, DEFAULT_WEIGHTS};

/// Messages per batch: see [`crate::cli::DEFAULT_BATCH`].
pub const BATCH: usize = crate::cli::DEFAULT_BATCH;

/// The scorer, loaded on first use: an audit that finds nothing new to score never loads the
/// model (a nightly re-run over an unchanged mailbox costs the reading, not the model's start).
/// It remembers the scores of the run's sentences, so a sentence that recurs (greetings,
/// sign-offs, templates) goes through the model once per run.
pub struct LazyScorer<'a> {
    args: &'a ModelArgs,
    cell: once_cell::unsync::OnceCell<Scorer>,
    memo: std::cell::RefCell<HashMap<String, SentenceScores>>,
}

/// Sentences the run remembers (about 20 MB); past it the memory is cleared, so it stays flat.
const MEMO_MAX: usize = 100_000;

impl<'a> LazyScorer<'a> {
    pub fn new(args: &'a ModelArgs) -> Self {
        Self { args, cell: once_cell::unsync::OnceCell::new(), memo: Default::default() }
    }

    pub fn get(&self) -> anyhow::Result<&Scorer> {
        self.cell.get_or_try_init(|| super::check::load_scorer(self.args, 0))
    }

    /// Scores of `sentences`, in order; only sentences new to this run reach the model
    /// (counted in `stats.encoded`).
    pub fn score(&self, sentences: &[&str], stats: &mut RunStats) -> anyhow::Result<Vec<SentenceScores>> {
        let mut memo = self.memo.borrow_mut();
        let mut fresh: HashMap<&str, usize> = HashMap::new();
        let mut todo: Vec<&str> = Vec::new();
        for &s in sentences {
            if !memo.contains_key(s) && !fresh.contains_key(s) {
                fresh.insert(s, todo.len());
                todo.push(s);
            }
        }
        let new = if todo.is_empty() { Vec::new() } else { self.get()?.score(&todo)? };
        stats.encoded += todo.len();
        let out = sentences
            .iter()
            .map(|s| match fresh.get(s) {
                Some(&k) => new[k],
                None => memo[*s],
            })
            .collect();
        if memo.len() + todo.len() > MEMO_MAX {
            memo.clear();
        }
        memo.extend(todo.into_iter().zip(new).map(|(s, v)| (s.to_string(), v)));
        Ok(out)
    }
}

/// The sample mailbox shipped with rapport.
pub fn sample_mailbox() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sample-sent")
}

pub fn default_state() -> PathBuf {
    super::state_dir().join("state.sqlite3")
}

/// A message parsed and cleaned, ready for scoring.
struct Prepared {
    mail: ParsedMail,
    clean: CleanText,
    clean_hash: String,
}

fn message_key(m: &ParsedMail) -> String {
    match &m.message_id {
        Some(id) => format!("mid:{id}"),
        None => format!("sha256:{}", m.content_hash),
    }
}

fn row(p: &Prepared) -> MessageRow {
    MessageRow {
        message_key: message_key(&p.mail),
        message_id: p.mail.message_id.clone(),
        content_hash: p.mail.content_hash.clone(),
        clean_hash: p.clean_hash.clone(),
        origin: p.mail.origin.key(),
        sender: p.mail.from.as_ref().map(|f| f.address.clone()),
        recipients: p.mail.recipients().map(|r| r.address.clone()).collect(),
        date: p.mail.date,
        subject: p.mail.subject.clone(),
        in_reply_to: p.mail.in_reply_to.clone(),
        references: p.mail.references.clone(),
        calendar: p.mail.calendar.iter().map(|c| c.text.clone()).collect(),
        sentences: p.clean.sentences.clone(),
        cleaned: p.clean.text.clone(),
    }
}

/// A text's verdict as the state keeps it: the rules and the model's sentence scores, assessed.
fn verdict(clean: &CleanText, scores: Vec<SentenceScores>) -> anyhow::Result<ScoreRow> {
    let a = assess(clean, scores, crate::rules::check_rules(clean), &DEFAULT_WEIGHTS);
    Ok(ScoreRow {
        risk: a.risk,
        flagged: a.flagged,
        tone: a.tone,
        findings: serde_json::to_string(&a.findings)?,
        sentence_risk: a.sentence_risk,
    })
}

/// Score one batch of raw messages and write it in one transaction.
pub fn process_batch(state: &mut State, scorer: &LazyScorer, model_id: &str, raws: Vec<RawMail>, stats: &mut RunStats) -> anyhow::Result<()> {
    // The highest IMAP UID in this batch becomes the folder's mark, in the same transaction.
    let mark = raws
        .iter()
        .filter_map(|r| match &r.origin {
            SourceRef::Imap { mailbox, folder, uidvalidity, uid } => Some((folder_key(mailbox, folder), *uidvalidity, *uid)),
            _ => None,
        })
        .max_by_key(|m| m.2);
    let prepared: Vec<Result<Prepared, (String, String)>> = raws
        .into_par_iter()
        .map(|raw| {
            let key = raw.origin.key();
            let mail = parse::parse(&raw).map_err(|e| (key, e.to_string()))?;
            let clean = clean(&mail.body);
            let clean_hash = sha256_hex(clean.text.as_bytes());
            Ok(Prepared { mail, clean, clean_hash })
        })
        .collect();
    let mut batch = Batch { folder: mark, ..Batch::default() };
    let mut todo: Vec<&Prepared> = Vec::new();
    let mut cached: Vec<(&Prepared, ScoreRow)> = Vec::new();
    let mut in_batch: HashSet<&str> = HashSet::new();
    for p in &prepared {
        match p {
            Err((key, err)) => batch.errors.push((key.clone(), err.clone())),
            Ok(p) => {
                if let Some(s) = state.cached_score(&p.clean_hash, model_id)? {
                    cached.push((p, s));
                } else if !in_batch.insert(&p.clean_hash) {
                    // Same cleaned text twice in this batch: scored once, below.
                    stats.duplicates += 1;
                    todo.push(p);
                } else {
                    todo.push(p);
                }
            }
        }
    }
    // One scorer call over the sentences of the batch (each distinct one encoded once per run).
    let sentences: Vec<&str> = todo
        .iter()
        .flat_map(|p| p.clean.sentences.iter().map(|r| &p.clean.text[r.clone()]))
        .collect();
    stats.sentences += sentences.len();
    let scores = scorer.score(&sentences, stats)?;
    let mut done: HashSet<&str> = HashSet::new();
    let mut at = 0;
    for p in todo {
        let n = p.clean.sentences.len();
        // A text that recurs in the batch gets its verdict once.
        let s = if done.insert(&p.clean_hash) {
            stats.scored += 1;
            Some(verdict(&p.clean, scores[at..at + n].to_vec())?)
        } else {
            None
        };
        at += n;
        batch.messages.push((row(p), s));
    }
    stats.cached += cached.len();
    for (p, _) in cached {
        batch.messages.push((row(p), None));
    }
    stats.read += prepared.len();
    stats.errors.extend(batch.errors.iter().cloned());
    state.commit_batch(&batch, model_id)?;
    Ok(())
}

fn progress_bar(name: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} {pos} messages, {per_sec}, {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.set_message(name.to_string());
    bar
}

/// Audit one source into the state.
pub fn audit_source(state: &mut State, scorer: &LazyScorer, source: &mut dyn MailSource, batch: usize, stats: &mut RunStats) -> anyhow::Result<()> {
    let batch = batch.max(1);
    let model_id = score::model_id();
    let seen = state.seen_keys()?;
    let bar = progress_bar(&source.describe());
    let mut raws = Vec::with_capacity(batch);
    let mut read_errors = Vec::new();
    for item in source.mails_except(&seen) {
        match item {
            Ok(raw) => raws.push(raw),
            Err(e) => read_errors.push(e.to_string()),
        }
        if raws.len() >= batch {
            let n = raws.len() as u64;
            process_batch(state, scorer, &model_id, std::mem::take(&mut raws), stats)?;
            bar.inc(n);
        }
    }
    if !raws.is_empty() {
        let n = raws.len() as u64;
        process_batch(state, scorer, &model_id, raws, stats)?;
        bar.inc(n);
    }
    bar.finish_and_clear();
    // Read errors (unreadable files, over-size messages) are reported, not recorded as seen:
    // the next audit tries them again.
    stats.errors.extend(read_errors.into_iter().map(|e| (source.describe(), e)));
    Ok(())
}

/// Verdicts for messages audited under another model or other rules: re-scored from the cleaned
/// text kept in the state, so an upgrade never leaves messages out of the report (their mail is
/// not read again).
pub fn rescore_stale(state: &mut State, scorer: &LazyScorer, stats: &mut RunStats) -> anyhow::Result<()> {
    let model_id = score::model_id();
    let stale = state.stale_texts(&model_id)?;
    for chunk in stale.chunks(BATCH) {
        let cleans: Vec<CleanText> = chunk
            .iter()
            .map(|(_, text, spans)| CleanText {
                segments: vec![(0..text.len(), 0)],
                sentences: spans.iter().filter(|r| r.end <= text.len() && r.start < r.end).cloned().collect(),
                text: text.clone(),
            })
            .collect();
        let sentences: Vec<&str> = cleans.iter().flat_map(|c| c.sentences.iter().map(move |r| &c.text[r.clone()])).collect();
        stats.sentences += sentences.len();
        let scores = scorer.score(&sentences, stats)?;
        let mut at = 0;
        let mut rows = Vec::with_capacity(chunk.len());
        for ((hash, _, _), c) in chunk.iter().zip(&cleans) {
            let n = c.sentences.len();
            rows.push((hash.clone(), verdict(c, scores[at..at + n].to_vec())?));
            at += n;
        }
        state.insert_scores(&rows, &model_id)?;
        stats.rescored += rows.len();
    }
    Ok(())
}

/// Audit the sent folders of one IMAP account, incrementally: only UIDs above the last one
/// audited, unless the folder's UIDVALIDITY changed, which re-reads it all (results are keyed by
/// Message-ID and content, so a re-scan duplicates nothing).
pub fn audit_imap(state: &mut State, scorer: &LazyScorer, cfg: &ImapConfig, max_bytes: u64, batch: usize, stats: &mut RunStats) -> anyhow::Result<()> {
    let mut session = ImapSession::connect(cfg)?;
    let mut plan = Vec::new();
    for folder in session.sent_folders()? {
        let status = session.examine(&folder)?;
        let last = match state.folder(&folder_key(&cfg.name, &folder))? {
            Some((v, uid)) if v == status.uidvalidity => uid,
            Some((v, _)) => {
                eprintln!(
                    "rapport: {}/{folder}: UIDVALIDITY changed ({v} -> {}): reading the whole folder again",
                    cfg.name, status.uidvalidity
                );
                0
            }
            None => 0,
        };
        plan.push((folder, status.uidvalidity, last));
    }
    session.logout()?;
    for (folder, uidvalidity, last) in plan {
        let mut source = ImapSource::new(cfg.clone(), folder, uidvalidity, last).with_max_message_bytes(max_bytes);
        audit_source(state, scorer, &mut source, batch, stats)?;
    }
    Ok(())
}

/// The state's key of an IMAP folder.
pub fn folder_key(mailbox: &str, folder: &str) -> String {
    format!("{mailbox}/{folder}")
}

pub fn audit(a: AuditArgs) -> anyhow::Result<i32> {
    let (config, config_path) = Config::load(a.config.as_deref())?;
    let mailboxes: Vec<ImapConfig> = a
        .mailboxes
        .iter()
        .map(|name| config.mailbox(name, &config_path).cloned())
        .collect::<Result<_, _>>()?;
    // With nothing to read, audit the shipped sample into its own state file, apart from real
    // audits.
    let (paths, default) = if a.paths.is_empty() && mailboxes.is_empty() {
        (vec![sample_mailbox()], super::state_dir().join("sample.sqlite3"))
    } else {
        (a.paths.clone(), config.state.clone().unwrap_or_else(default_state))
    };
    let state_path = a.state.clone().unwrap_or(default);
    let mut state = State::open(&state_path)?;
    let scorer = LazyScorer::new(&a.model);
    let mut stats = RunStats::default();
    rescore_stale(&mut state, &scorer, &mut stats)?;
    for p in &paths {
        let mut source = open_path(p, a.max_message_bytes).with_context(|| format!("opening {}", p.display()))?;
        audit_source(&mut state, &scorer, source.as_mut(), a.batch, &mut stats)?;
    }
    for m in &mailboxes {
        audit_imap(&mut state, &scorer, m, a.max_message_bytes, a.batch, &mut stats)?;
    }
    let rep = report::build(&state, &score::model_id(), &stats)?;
    let mut out: Box<dyn Write> = match &a.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("cannot write the report to {}", path.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    report::render(&mut out, &rep, a.format)?;
    out.flush()?;
    if !stats.errors.is_empty() {
        for (src, e) in &stats.errors {
            eprintln!("rapport: {src}: {e}");
        }
        return Ok(2);
    }
    Ok(exit_for(&rep, a.fail_on))
}

fn exit_for(rep: &AuditReport, fail_on: Option<Severity>) -> i32 {
    match fail_on {
        Some(level) if rep.flagged.iter().any(|m| m.findings.iter().any(|f| f.severity >= level)) => 1,
        _ => 0,
    }
}
