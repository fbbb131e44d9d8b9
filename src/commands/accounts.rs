//! `rapport accounts`: the accounts report over the SQLite state that `rapport audit` fills.
//! With PATHs, they are audited into the state first (incrementally, like `rapport audit`); with
//! neither PATH nor --state, the shipped sample mailbox is audited into its own sample state.
use std::path::PathBuf;

use anyhow::Context;

use rapport_core::accounts::{self, calendar, calls, dates, mapping::Mapping, AccountsError, Extra, Options};
use rapport_core::audit::{self as pipeline, RunStats};
use rapport_core::config::Config;
use rapport_core::report::accounts as report;
use rapport_core::state::State;

use super::{output, Bar};
use crate::cli::AccountsArgs;

/// `--as-of`: a day, `today`, or `latest` (the newest message's day).
fn as_of(value: &str, messages: &[accounts::Message]) -> anyhow::Result<i64> {
    match value.trim().to_ascii_lowercase().as_str() {
        "today" => Ok(dates::day_of(rapport_core::time::now())),
        "latest" => messages
            .iter()
            .filter_map(|m| m.date)
            .max()
            .map(dates::day_of)
            .context("--as-of latest: the state has no dated message. Audit some mail first, or give --as-of YYYY-MM-DD"),
        v => dates::parse_iso_day(v).with_context(|| format!("--as-of {value:?} is not a date: write YYYY-MM-DD (e.g. 2026-11-23), today or latest")),
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
    if !matches!(a.as_of.trim().to_ascii_lowercase().as_str(), "today" | "latest") {
        as_of(&a.as_of, &[])?;
    }
    let model_id = rapport_core::model_id();
    let mut stats = RunStats::default();
    let audit_first = !(a.paths.is_empty() && a.received.is_empty() && a.state.is_some());
    let (paths, default_state) = if a.paths.is_empty() && a.received.is_empty() {
        (vec![super::sample_mailbox()], rapport_core::paths::state_dir().join("sample.sqlite3"))
    } else {
        let (config, _) = Config::load(None)?;
        (a.paths.clone(), config.state.clone().unwrap_or_else(rapport_core::paths::default_state))
    };
    let state_path = a.state.clone().unwrap_or(default_state);
    let all_inputs: Vec<PathBuf> = paths.iter().chain(&a.received).cloned().collect();
    if let Some(o) = &a.output {
        output::check_target(o, &all_inputs, Some(&state_path))?;
    }
    let messages = if audit_first {
        let mut st = State::open(&state_path)?;
        let mut inputs = super::audit::inputs(&paths, &a.received, &[], a.max_message_bytes)?;
        let info = Default::default();
        let mut assessor = super::lazy_assessor(&a.model, 0, info);
        stats = pipeline::run(&mut st, &mut assessor, &mut inputs, &pipeline::Options::default(), &Bar::new())?;
        st.messages(model_id)?
    } else {
        State::open_read_only(&state_path)?.messages(model_id)?
    };
    let opts = Options {
        as_of: as_of(&a.as_of, &messages)?,
        window_days: i64::from(a.window_days),
        our_domains: a.our_domains.clone(),
        map_file: a.map.as_ref().map(|p| p.display().to_string()),
        mapping,
        model_id: model_id.to_string(),
        state: state_path.display().to_string(),
    };
    let rep = accounts::build(&messages, &extra, &opts);
    output::emit(a.output.as_deref(), |w| report::render(w, &rep, a.format, a.top))?;
    if !stats.errors.is_empty() {
        for (src, e) in &stats.errors {
            eprintln!("rapport: {src}: {e}");
        }
        return Ok(2);
    }
    Ok(0)
}
