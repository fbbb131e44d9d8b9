//! `rapport accounts`: the accounts report over the SQLite state that `rapport audit` fills.
//! With PATHs, they are audited into the state first (incrementally, like `rapport audit`);
//! with neither PATH nor --state, the shipped sample mailbox is audited into its own sample state.
use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context};
use rusqlite::{Connection, OpenFlags};

use super::audit::{audit_source, default_state, rescore_stale, sample_mailbox};
use crate::accounts::{self, calendar, calls, dates, mapping::Mapping, AccountsError, Extra, Options};
use crate::cli::AccountsArgs;
use crate::config::Config;
use crate::report::accounts as report;
use crate::report::audit::RunStats;
use crate::score;
use crate::source::open_path;
use crate::state::{self, State};

/// `--as-of`: a day, `today`, or `latest` (the newest message's day).
fn as_of(value: &str, messages: &[accounts::Message]) -> anyhow::Result<i64> {
    match value.trim().to_ascii_lowercase().as_str() {
        "today" => Ok(dates::day_of(state::now())),
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

/// Open an existing state for reading only: no lock, so the report can run beside an audit.
fn open_read_only(path: &Path) -> anyhow::Result<Connection> {
    if !path.exists() {
        bail!(
            "no state at {p}: nothing has been audited there. Run `rapport audit PATH --state {p}` first, or `rapport accounts PATH --state {p}` to audit and report at once",
            p = path.display()
        );
    }
    let label = path.display().to_string();
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|source| AccountsError::State { path: label.clone(), source })?;
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(|source| AccountsError::State { path: label.clone(), source })?;
    Ok(conn)
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

    let model_id = score::model_id();
    let mut stats = RunStats::default();
    let (state_path, messages) = if a.paths.is_empty() && a.state.is_some() {
        let path = a.state.clone().unwrap_or_default();
        let conn = open_read_only(&path)?;
        let label = path.display().to_string();
        (label.clone(), accounts::load(&conn, &model_id, &label)?)
    } else {
        let (paths, default) = if a.paths.is_empty() {
            (vec![sample_mailbox()], super::state_dir().join("sample.sqlite3"))
        } else {
            let (config, _) = Config::load(None)?;
            (a.paths.clone(), config.state.clone().unwrap_or_else(default_state))
        };
        let path = a.state.clone().unwrap_or(default);
        let mut st = State::open(&path)?;
        let scorer = super::audit::LazyScorer::new(&a.model);
        rescore_stale(&mut st, &scorer, &mut stats)?;
        for p in &paths {
            let mut source = open_path(p, a.max_message_bytes).with_context(|| format!("opening {}", p.display()))?;
            audit_source(&mut st, &scorer, source.as_mut(), super::audit::BATCH, &mut stats)?;
        }
        let label = path.display().to_string();
        let messages = accounts::load(&st.conn, &model_id, &label)?;
        (label, messages)
    };

    let opts = Options {
        as_of: as_of(&a.as_of, &messages)?,
        window_days: i64::from(a.window_days),
        our_domains: a.our_domains.clone(),
        map_file: a.map.as_ref().map(|p| p.display().to_string()),
        mapping,
        model_id,
        state: state_path,
    };
    let rep = accounts::build(&messages, &extra, &opts);

    let mut out: Box<dyn Write> = match &a.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("cannot write the report to {}", path.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    report::render(&mut out, &rep, a.format, a.top)?;
    out.flush()?;
    if !stats.errors.is_empty() {
        for (src, e) in &stats.errors {
            eprintln!("rapport: {src}: {e}");
        }
        return Ok(2);
    }
    Ok(0)
}
