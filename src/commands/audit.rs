//! `rapport audit`: choose the sources and the state, run the audit, render the report.
use std::path::PathBuf;

use anyhow::Context;

use rapport_core::audit::{self, Input};
use rapport_core::config::Config;
use rapport_core::findings::Severity;
use rapport_core::report::audit::{self as report, AuditReport};
use rapport_core::source::imap::{FolderRole, ImapMailbox};
use rapport_core::source::{open_path, Direction};
use rapport_core::state::State;

use super::{output, Bar};
use crate::cli::AuditArgs;

/// The sources of an audit: sent paths, received paths, and each IMAP mailbox's sent and received
/// folders.
pub fn inputs(paths: &[PathBuf], received: &[PathBuf], mailboxes: &[rapport_core::source::imap::ImapConfig], max_bytes: u64) -> anyhow::Result<Vec<Input>> {
    let mut out = Vec::new();
    for (list, direction) in [(paths, Direction::Sent), (received, Direction::Received)] {
        for p in list {
            let source = open_path(p, max_bytes).with_context(|| format!("opening {}", p.display()))?;
            out.push(Input { source, direction });
        }
    }
    for m in mailboxes {
        out.push(Input { source: Box::new(ImapMailbox::new(m.clone(), FolderRole::Sent, max_bytes)), direction: Direction::Sent });
        if !m.received.is_empty() {
            out.push(Input { source: Box::new(ImapMailbox::new(m.clone(), FolderRole::Received, max_bytes)), direction: Direction::Received });
        }
    }
    Ok(out)
}

pub fn audit(a: AuditArgs) -> anyhow::Result<i32> {
    let (config, config_path) = Config::load(a.config.as_deref())?;
    let mailboxes: Vec<_> = a.mailboxes.iter().map(|name| config.mailbox(name, &config_path).cloned()).collect::<Result<_, _>>()?;
    // With nothing to read, audit the shipped sample into its own state file, apart from real audits.
    let (paths, default) = if a.paths.is_empty() && a.received.is_empty() && mailboxes.is_empty() {
        (vec![super::sample_mailbox()], rapport_core::paths::state_dir().join("sample.sqlite3"))
    } else {
        (a.paths.clone(), config.state.clone().unwrap_or_else(rapport_core::paths::default_state))
    };
    let state_path = a.state.clone().unwrap_or(default);
    let all_inputs: Vec<PathBuf> = paths.iter().chain(&a.received).cloned().collect();
    if let Some(o) = &a.output {
        output::check_target(o, &all_inputs, Some(&state_path))?;
    }
    let mut inputs = inputs(&paths, &a.received, &mailboxes, a.max_message_bytes)?;
    let mut state = State::open(&state_path)?;
    let info = Default::default();
    let mut assessor = super::lazy_assessor(&a.model, 0, std::rc::Rc::clone(&info));
    let opts = audit::Options { batch: a.batch.max(1), ..Default::default() };
    let stats = audit::run(&mut state, &mut assessor, &mut inputs, &opts, &Bar::new())?;
    let mut messages = state.messages(rapport_core::model_id())?;
    // The baseline: findings accepted for an account (`rapport check --accept`) are notes there.
    rapport_core::context::apply_baseline(&mut messages, &state.accepted()?);
    let rep = report::build(&messages, &state_path.display().to_string(), rapport_core::model_id(), &stats);
    output::emit(a.output.as_deref(), |w| Ok(report::render(w, &rep, a.format)?))?;
    for n in &stats.notices {
        eprintln!("rapport: {n}");
    }
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
