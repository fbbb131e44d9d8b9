//! The accounts report (`rapport accounts`): who our customers are, which of them hear from us by
//! email alone, how the relationship stands in both directions, and which most need a call or a
//! visit, with what to do about it (a plan to put in the calendar, thanks after meetings,
//! complaints without an apology).
//!
//! **Flow.** The state's messages, both directions ([`Message`], from
//! [`crate::state::State::messages`]) go to [`build`] ([`build.rs`](build)): who is a customer
//! ([`exclude`]: our own addresses, family, lists and automated mail, mass mail, too little
//! evidence), accounts by mapping file, free mail and registrable domain ([`domain`],
//! [`mapping`]), evidence of calls and meetings ([`evidence`]: [`mentions`], [`calendar`],
//! [`calls`]), threads, reciprocity, unanswered mail and complaints ([`threads`]), then strength,
//! stage, reasons and the need score ([`metrics`]). The result is a [`Report`] ([`model`]);
//! `report::accounts` renders it; docs/accounts.md documents the JSON schema and every formula.
//!
//! **Time.** Everything works in whole UTC days ([`dates`]). `as_of` is inclusive: a message,
//! meeting or call dated on it counts; anything after it does not exist yet for the report (a
//! meeting after it is "scheduled"). "The last N days" are the N days ending on `as_of`.
//!
//! **Determinism.** Messages are read in (date, key) order, every map is a BTreeMap and every
//! list is sorted on a total order, so the same input gives byte-identical output.
pub mod build;
pub mod calendar;
pub mod calls;
pub mod csv;
pub mod dates;
pub mod domain;
pub mod evidence;
pub mod exclude;
pub mod mapping;
pub mod mentions;
pub mod metrics;
pub mod model;
#[cfg(test)]
mod tests;
pub mod threads;

use std::path::PathBuf;

pub use build::build;
pub use model::*;
pub use threads::normalize_subject;

use calendar::CalEvent;
use calls::CallRow;
use mapping::Mapping;

/// The JSON schema's version; bumped on any incompatible change (docs/accounts.md).
pub const SCHEMA: u32 = 2;
/// The trend periods: the last 90 days against the 90 before.
pub const TREND_DAYS: i64 = 90;
/// A follow-up to a meeting is an email within this many days after it.
pub const FOLLOW_UP_DAYS: i64 = 2;

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("cannot read {what} {path}: {source}. Check the path")]
    Read {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Input { path: String, line: usize, message: String },
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("state database {path}: {source}. Is it a state written by `rapport audit`? Run `rapport audit PATH --state {path}` first")]
    State {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
}

/// One stored message, as the accounts report reads it.
pub use crate::state::StoredMessage as Message;

/// What the report is asked for.
#[derive(Debug, Clone)]
pub struct Options {
    /// The report's day (inclusive), a day number.
    pub as_of: i64,
    /// How as_of was chosen: `given`, `today` or `latest` (shown in the report).
    pub as_of_basis: String,
    /// Days a verdict looks back over (`--window-days`).
    pub window_days: i64,
    /// `--our-domain` values; empty: inferred from the senders.
    pub our_domains: Vec<String>,
    pub mapping: Mapping,
    pub map_file: Option<String>,
    pub model_id: String,
    /// The state's path, as shown.
    pub state: String,
    /// A message to more than this many external recipients is mass mail (`--mass-mail`).
    pub mass_mail_recipients: usize,
    /// The minimum of evidence for a customer: messages, either way (`--min-messages`).
    pub min_messages: usize,
    /// Business days after which a customer message is unanswered (`--unanswered-days`).
    pub unanswered_days: i64,
    /// No call or meeting in this many days is "not seen in a long time" (`--unseen-days`).
    pub unseen_days: i64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            as_of: 0,
            as_of_basis: "given".into(),
            window_days: 90,
            our_domains: Vec::new(),
            mapping: Mapping::default(),
            map_file: None,
            model_id: String::new(),
            state: String::new(),
            mass_mail_recipients: 10,
            min_messages: 2,
            unanswered_days: 2,
            unseen_days: 180,
        }
    }
}

/// Inputs besides the state: calendar exports and call logs, each with its label (path).
#[derive(Debug, Clone, Default)]
pub struct Extra {
    pub calendars: Vec<(String, Vec<CalEvent>)>,
    pub calls: Vec<(String, Vec<CallRow>)>,
}

