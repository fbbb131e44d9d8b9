//! `rapport accounts`: the accounts report over the SQLite state that `rapport audit` fills.
//! With PATHs, they are audited into the state first (incrementally, like `rapport audit`); with
//! neither PATH nor --state, the shipped sample mailbox (sent and received) is audited into its own
//! sample state. `--plan FILE.ics` also writes the calendar of accounts to call or visit.
use std::path::PathBuf;

use anyhow::Context;

use rapport_core::accounts::{self, calendar, calls, dates, mapping::Mapping, AccountsError, Extra, Options};
use rapport_core::audit::{self as pipeline, RunStats};
use rapport_core::config::Config;
use rapport_core::report::accounts as report;
use rapport_core::state::State;

use super::{output, Bar};
use crate::cli::AccountsArgs;

/// The received half of the sample mailbox, beside the sent one.
fn sample_received() -> PathBuf {
    super::sample_mailbox().with_file_name("sample-received")
}

/// `--as-of`: a day, `today`, or `latest` (the newest message's day); with its basis.
fn as_of(value: &str, messages: &[accounts::Message]) -> anyhow::Result<(i64, &'static str)> {
    match value.trim().to_ascii_lowercase().as_str() {
        "today" => Ok((dates::day_of(rapport_core::time::now()), "today")),
        "latest" => messages
            .iter()
            .filter_map(|m| m.date)
            .max()
            .map(|t| (dates::day_of(t), "latest"))
            .context("--as-of latest: the state has no dated message. Audit some mail first, or give --as-of YYYY-MM-DD"),
        v => dates::parse_iso_day(v)
            .map(|d| (d, "given"))
            .with_context(|| format!("--as-of {value:?} is not a date: write YYYY-MM-DD (e.g. 2026-11-23), today or latest")),
    }
}

fn load_extra(a: &AccountsArgs) -> anyhow::Result<Extra> {
    let mut extra = Extra::default();
    for p in &a.calendar {
        let text = std::fs::read_to_string(p).map_err(|source| AccountsError::Read { what: "the calendar file", path: p.clone(), source })?;
        let events = calendar::parse(&text).map_err(|e| AccountsError::File {
            path: p.display().to_string(),
            message: format!("not an iCalendar file ({e}). Export the calendar as .ics (BEGIN:VCALENDAR ... END:VCALENDAR)"),
        })?;
        extra.calendars.push((p.display().to_string(), events));
    }
    for p in &a.calls {
        extra.calls.push((p.display().to_string(), calls::load(p)?));
    }
    Ok(extra)
}

pub fn accounts(a: AccountsArgs) -> anyhow::Result<i32> {
    // Every input is read before anything is audited, so a typo fails fast.
    let mapping = match &a.map {
        Some(p) => Mapping::load(p)?,
        None => Mapping::default(),
    };
    let extra = load_extra(&a)?;
    if let Some(v) = a.as_of.as_deref().filter(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "today" | "latest")) {
        as_of(v, &[])?;
    }
    let model_id = rapport_core::model_id();
    let mut stats = RunStats::default();
    let sample = a.paths.is_empty() && a.received.is_empty() && a.state.is_none();
    let audit_first = !(a.paths.is_empty() && a.received.is_empty() && a.state.is_some());
    let (paths, received, default_state) = if sample {
        let received = sample_received();
        (vec![super::sample_mailbox()], if received.is_dir() { vec![received] } else { Vec::new() }, rapport_core::paths::state_dir().join("sample.sqlite3"))
    } else {
        let (config, _) = Config::load(None)?;
        (a.paths.clone(), a.received.clone(), config.state.clone().unwrap_or_else(rapport_core::paths::default_state))
    };
    let state_path = a.state.clone().unwrap_or(default_state);
    let all_inputs: Vec<PathBuf> = paths.iter().chain(&received).cloned().collect();
    if let Some(o) = &a.output {
        output::check_target(o, &all_inputs, Some(&state_path))?;
    }
    if let Some(p) = &a.plan {
        output::check_target(p, &all_inputs, Some(&state_path)).map_err(|e| anyhow::anyhow!("{}", e.to_string().replacen("-o ", "--plan ", 1)))?;
        if a.output.as_ref().is_some_and(|o| std::path::absolute(o).ok() == std::path::absolute(p).ok()) {
            anyhow::bail!("--plan {}: that is also the -o report; give the plan its own file", p.display());
        }
    }
    let messages = if audit_first {
        let mut st = State::open(&state_path)?;
        let mut inputs = super::audit::inputs(&paths, &received, &[], a.max_message_bytes)?;
        let info = Default::default();
        let mut assessor = super::lazy_assessor(&a.model, 0, info);
        stats = pipeline::run(&mut st, &mut assessor, &mut inputs, &pipeline::Options::default(), &Bar::new())?;
        st.messages(model_id)?
    } else {
        State::open_read_only(&state_path)?.messages(model_id)?
    };
    // Mail files are a snapshot: by default the report is as of their newest message. A state
    // alone may be kept current by IMAP audits: by default, today.
    let default_as_of = if audit_first { "latest" } else { "today" };
    let (day, basis) = as_of(a.as_of.as_deref().unwrap_or(default_as_of), &messages)?;
    let opts = Options {
        as_of: day,
        as_of_basis: basis.to_string(),
        window_days: i64::from(a.window_days),
        our_domains: a.our_domains.clone(),
        map_file: a.map.as_ref().map(|p| p.display().to_string()),
        mapping,
        model_id: model_id.to_string(),
        state: state_path.display().to_string(),
        mass_mail_recipients: a.mass_mail as usize,
        min_messages: a.min_messages as usize,
        unanswered_days: i64::from(a.unanswered_days),
        unseen_days: i64::from(a.unseen_days),
    };
    let rep = accounts::build(&messages, &extra, &opts);
    if let Some(p) = &a.plan {
        output::write_atomic(p, |w| Ok(w.write_all(report::plan::render(&rep, a.top).as_bytes())?))
            .map_err(|e| anyhow::anyhow!("{}", format!("{e:#}").replace("the report", "the plan")))?;
        eprintln!("rapport: wrote the plan for {} accounts to {}", rep.needs_attention.len().min(a.top), p.display());
    }
    output::emit(a.output.as_deref(), |w| report::render(w, &rep, a.format, a.top))?;
    if !stats.errors.is_empty() {
        for (src, e) in &stats.errors {
            eprintln!("rapport: {src}: {e}");
        }
        return Ok(2);
    }
    Ok(0)
}
