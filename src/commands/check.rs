//! `rapport check`: one draft in, findings out, exit 0/1/2 for mail-client hooks.
//!
//! Beyond the draft, it reads the audit state when there is one (`--state`, else the configured or
//! default state when it exists): the draft's account and the message it answers give the
//! `context` and the `C3xx` findings. The `[check]` section of the config tunes what is reported,
//! and `--accept CODE` records a finding as accepted for the draft's account. [`evaluate`] is the
//! one path from a parsed draft to its findings; `rapport lsp` takes it too.
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use rapport_core::clean::{clean, CleanText};
use rapport_core::config::Config;
use rapport_core::context::{self, Draft, History};
use rapport_core::findings::Severity;
use rapport_core::language::{self, Language};
use rapport_core::parse::{self, ParseError, ParsedMail};
use rapport_core::report::check::{render_report, to_json, Style};
use rapport_core::source::{read_file_limited, RawMail, SourceRef, DEFAULT_MAX_MESSAGE_BYTES};
use rapport_core::state::accepted::account_key;
use rapport_core::state::State;
use rapport_core::tuning::{FailOn, Tuning};
use rapport_core::verdict::{Assessment, Assessor, ScoreError, Tone};

use crate::cli::{CheckArgs, ColorChoice, Format};

/// The most `rapport check` reads: a draft is far smaller; a bigger input is a mistake (a whole
/// mailbox, a binary), refused before it is read.
pub const MAX_DRAFT_BYTES: u64 = DEFAULT_MAX_MESSAGE_BYTES;

/// Read the draft named on the command line (a file, or `-` for stdin).
fn read_draft(a: &CheckArgs) -> anyhow::Result<ParsedMail> {
    let raw = if a.input.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(MAX_DRAFT_BYTES + 1)
            .read_to_end(&mut bytes)
            .context("cannot read the draft from standard input")?;
        if bytes.len() as u64 > MAX_DRAFT_BYTES {
            anyhow::bail!("<stdin>: the draft is over {MAX_DRAFT_BYTES} bytes; check the text alone with --text");
        }
        RawMail::new(SourceRef::Stdin, bytes)
    } else {
        let origin = SourceRef::File { path: a.input.clone() };
        read_file_limited(&a.input, MAX_DRAFT_BYTES, origin)?
    };
    if a.text {
        let text = String::from_utf8(raw.bytes).map_err(|_| {
            anyhow::anyhow!("{}: --text expects UTF-8 text; this file is not. Convert it, or give the .eml instead", raw.origin)
        })?;
        let label = raw.origin.to_string();
        return Ok(parse::from_text(&label, &text));
    }
    Ok(parse::parse(&raw)?)
}

/// The config and its `[check]` tuning; a mistake in the section names the file.
pub fn load_tuning(config: Option<&Path>) -> anyhow::Result<(Config, Tuning)> {
    let (cfg, path) = Config::load(config)?;
    let tuning = Tuning::from_config(&cfg.check).map_err(|m| anyhow::anyhow!("the config file {} is not valid: {m}", path.display()))?;
    Ok((cfg, tuning))
}

/// The state to read context from: `--state` (which must exist), else the configured or default
/// state when it exists. `(path, explicit)`.
pub fn state_path(explicit: Option<&Path>, config: &Config) -> Option<(PathBuf, bool)> {
    match explicit {
        Some(p) => Some((p.to_path_buf(), true)),
        None => {
            let p = config.state.clone().unwrap_or_else(rapport_core::paths::default_state);
            p.exists().then_some((p, false))
        }
    }
}

/// Read the history of a state for context. A state named with `--state` must open; the default
/// one is skipped, with a note on stderr, when it cannot be read (the check still runs).
pub fn load_history(path: &Path, explicit: bool) -> anyhow::Result<Option<History>> {
    let read = State::open_read_only(path).and_then(|st| History::load(&st));
    match read {
        Ok(h) => Ok(Some(h)),
        Err(e) if !explicit => {
            eprintln!("rapport: no context from the audit state: {e}");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// A draft checked: its cleaned text, the verdict with every finding (rules, model, context)
/// after the tuning, its language and context.
pub struct Evaluation {
    pub clean: CleanText,
    pub assessment: Assessment,
    pub language: Language,
    /// None without a state.
    pub context: Option<context::Context>,
    /// The account the draft goes to (from the state, else its recipients' domain).
    pub account: Option<String>,
}

impl Evaluation {
    /// The lines the text report adds under the summary: the language when it was not checked,
    /// then the context.
    pub fn notes(&self) -> Vec<String> {
        let mut out: Vec<String> = self.language.note().into_iter().collect();
        if let Some(c) = &self.context {
            out.extend(c.lines());
        }
        out
    }
}

/// The verdict of a draft that was not checked (not English): nothing found, no scores.
fn unchecked() -> Assessment {
    Assessment { findings: vec![], tone: Tone::default(), tones: Default::default(), sentence_risk: vec![], risk: 0.0, flagged: false, scores: vec![] }
}

/// Check one parsed draft: language, assessment (English only), tuning, then the context from
/// `history` (its findings are judged on the tuned findings: an ignored or accepted warning does
/// not make the draft count as flagged there), tuned too, and the cap per sentence over all.
pub fn evaluate(mail: &ParsedMail, assessor: &mut Assessor<'_>, tuning: &Tuning, history: Option<&mut History>) -> Result<Evaluation, ScoreError> {
    let cleaned = clean(&mail.body);
    let language = language::decide(&cleaned.text, tuning.language);
    let mut assessment = if language.checked { assessor.assess_one(&cleaned)? } else { unchecked() };
    let Some(h) = history else {
        assessment.findings = tuning.apply(std::mem::take(&mut assessment.findings), None);
        return Ok(Evaluation { clean: cleaned, assessment, language, context: None, account: None });
    };
    let draft = Draft::of(mail);
    let account = h.account_name(&draft);
    let accepted = account.as_deref().and_then(|a| h.accepted.get(&account_key(a)).map(|codes| (a, codes.clone())));
    let accepted = accepted.as_ref().map(|(a, c)| (*a, c));
    let mut findings = tuning.adjust(std::mem::take(&mut assessment.findings), accepted);
    let view = Assessment { findings: findings.clone(), flagged: findings.iter().any(|f| f.severity >= Severity::Warning), ..assessment.clone() };
    let outcome = context::assess(h, &draft, &cleaned, language.checked.then_some(&view));
    findings.extend(tuning.adjust(outcome.findings, accepted));
    assessment.findings = tuning.cap(findings);
    Ok(Evaluation { clean: cleaned, assessment, language, context: Some(outcome.context), account: outcome.account })
}

/// `--accept CODE...`: record each code for the draft's account in the state (opened for writing,
/// created when missing), and return the history read after it.
fn accept(a: &CheckArgs, path: &Path, mail: &ParsedMail) -> anyhow::Result<History> {
    let codes: Vec<&'static str> = a
        .accept
        .iter()
        .map(|c| {
            rapport_core::rules::explain(c)
                .map(|r| r.code)
                .ok_or_else(|| anyhow::anyhow!("--accept {c:?}: no finding has this code or name; `rapport explain` lists them"))
        })
        .collect::<anyhow::Result<_>>()?;
    let mut st = State::open(path)?;
    let mut history = History::load(&st)?;
    let draft = Draft::of(mail);
    history.focus(&draft);
    let account = history.account_name(&draft).with_context(|| {
        format!("--accept: {} has no recipient, so there is no account to accept a finding for. Give the draft as a message with its To: header", mail.origin)
    })?;
    for code in codes {
        let new = st.accept(&account, code, Some(&mail.origin.to_string()))?;
        let what = if new { "accepted" } else { "already accepted" };
        eprintln!("rapport: {code} {what} for {account} (in {}): from now on it is a note for this account", path.display());
    }
    history.accepted = st.accepted()?;
    Ok(history)
}

pub fn check(a: CheckArgs) -> anyhow::Result<i32> {
    let t0 = std::time::Instant::now();
    let (config, tuning) = load_tuning(a.config.as_deref())?;
    let mail = read_draft(&a)?;
    if clean(&mail.body).sentences.is_empty() {
        return Err(ParseError::EmptyBody { origin: mail.origin.clone() }.into());
    }
    let mut history = match (state_path(a.state.as_deref(), &config), a.accept.is_empty()) {
        (Some((p, _)), false) => Some(accept(&a, &p, &mail)?),
        (None, false) => {
            let p = config.state.clone().unwrap_or_else(rapport_core::paths::default_state);
            Some(accept(&a, &p, &mail)?)
        }
        (Some((p, explicit)), true) => load_history(&p, explicit)?.map(|mut h| {
            // One draft: only its recipients' mail and the messages it answers are needed.
            h.focus(&context::Draft::of(&mail));
            h
        }),
        (None, true) => None,
    };
    // One libtorch thread suits a single draft (no pool to wake, no spinning on a busy core).
    let info = std::rc::Rc::new(std::cell::RefCell::new(None));
    let mut assessor = super::lazy_assessor(&a.model, 1, std::rc::Rc::clone(&info));
    let ev = evaluate(&mail, &mut assessor, &tuning, history.as_mut())?;
    if std::env::var_os("RAPPORT_TIMINGS").is_some() {
        let how = info.borrow().as_ref().map(|i| format!("{} scorer, pid {}", i.kind, i.pid)).unwrap_or_else(|| "no scorer".into());
        eprintln!("timing: {} sentences checked in {:.1} ms ({how})", ev.clean.sentences.len(), t0.elapsed().as_secs_f64() * 1000.0);
    }
    let fail_on = a.fail_on.map(FailOn::At).or(tuning.fail_on).unwrap_or(FailOn::At(Severity::Warning));
    let failing = fail_on.fails(&ev.assessment.findings);
    if !a.quiet {
        let mut out = std::io::stdout().lock();
        let written = (|| -> std::io::Result<()> {
            match a.format {
                Format::Json => {
                    let mut json = to_json(&mail, &ev.clean, &ev.assessment);
                    json.account = ev.account.clone();
                    json.language = Some(&ev.language);
                    json.context = ev.context.as_ref();
                    serde_json::to_writer_pretty(&mut out, &json)?;
                    writeln!(out)?;
                }
                Format::Text => {
                    let color = match a.color {
                        ColorChoice::Always => true,
                        ColorChoice::Never => false,
                        ColorChoice::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
                    };
                    let notes = ev.notes().join("\n");
                    let notes = (!notes.is_empty()).then_some(notes.as_str());
                    render_report(&mut out, &mail, &ev.clean, &ev.assessment, Style { color }, Some(&ev.language), notes)?;
                }
            }
            out.flush()
        })();
        // A reader that stops early (`| head`) does not change the verdict: the exit code still says
        // whether the draft has findings.
        match written {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other?,
        }
    }
    Ok(if failing { 1 } else { 0 })
}
