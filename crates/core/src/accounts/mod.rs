//! The accounts report (`rapport accounts`): recipients grouped into customer accounts, which of
//! them hear from us by email alone, volume and tone trends, and which most need a call or a visit.
//!
//! **Flow.** [`load`] reads the messages audited into the SQLite state (with the tone verdict under
//! the current model); [`build`] groups recipients into accounts ([`domain`], [`mapping`]), finds
//! the evidence of other channels — calendar parts ([`calendar`]), meeting links and mentions of
//! calls and meetings in what we wrote ([`mentions`]), a calendar export and a call log
//! ([`calls`]) — and computes each account's figures, verdict, need score and stage ([`score`]).
//! `report::accounts` renders the result; docs/accounts.md documents the JSON schema and formulas.
//!
//! **Time.** Everything works in whole UTC days ([`dates`]). `as_of` is inclusive: a message,
//! meeting or call dated on it counts; anything after it does not exist yet for the report (a
//! meeting after it is "scheduled"). "The last N days" are the N days ending on `as_of`.
//!
//! **Determinism.** Messages are read in (date, key) order, every map is a BTreeMap and every
//! list is sorted on a total order, so the same input gives byte-identical output.
pub mod calendar;
pub mod calls;
pub mod csv;
pub mod dates;
pub mod domain;
pub mod mapping;
pub mod mentions;
pub mod score;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;


use calendar::CalEvent;
use calls::CallRow;
use dates::{day_of, iso, DAY};
use domain::{AccountKind, Internal, Resolution, Resolver};
use mapping::Mapping;
use mentions::{Channel, Intent, Tense};
use score::{Need, NeedInput, Stage};

/// The JSON schema's version; bumped on any incompatible change (docs/accounts.md).
pub const SCHEMA: u32 = 1;
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
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The report's day (inclusive), a day number.
    pub as_of: i64,
    /// Days a verdict looks back over (`--window-days`).
    pub window_days: i64,
    /// `--our-domain` values; empty: inferred from the senders.
    pub our_domains: Vec<String>,
    pub mapping: Mapping,
    pub map_file: Option<String>,
    pub model_id: String,
    /// The state's path, as shown.
    pub state: String,
}

/// Inputs besides the state: calendar exports and call logs, each with its label (path).
#[derive(Debug, Clone, Default)]
pub struct Extra {
    pub calendars: Vec<(String, Vec<CalEvent>)>,
    pub calls: Vec<(String, Vec<CallRow>)>,
}

// ---------------------------------------------------------------------------------------------
// The report.

#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub schema: u32,
    pub as_of: String,
    pub window_days: i64,
    pub model_id: String,
    pub state: String,
    pub internal: InternalOut,
    pub inputs: InputsOut,
    pub summary: Summary,
    /// Every account, by key.
    pub accounts: Vec<Account>,
    /// The accounts that most need a call or a visit, neediest first.
    pub needs_attention: Vec<NeedRow>,
    /// Accounts whose last meeting had no email to them within two days after it.
    pub thanks_after_meeting: Vec<ThanksRow>,
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct InternalOut {
    pub domains: Vec<String>,
    pub addresses: Vec<String>,
    pub inferred: bool,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct InputsOut {
    /// Messages in the state.
    pub messages: usize,
    /// Messages dated after `as_of` (left out).
    pub after_as_of: usize,
    /// Messages without a date (counted in totals and contacts, in no window).
    pub undated: usize,
    /// Messages with no external recipient.
    pub internal_only: usize,
    /// Recipients that are not addresses (no domain), left out.
    pub unaddressable_recipients: usize,
    /// Messages with a tone verdict under the current model.
    pub scored: usize,
    pub map_file: Option<String>,
    pub calendar_files: Vec<String>,
    pub call_logs: Vec<String>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Summary {
    pub accounts: usize,
    /// Accounts with at least one email in the window.
    pub active: usize,
    pub email_only: usize,
    /// email_only / active (null when no account is active).
    pub email_only_share: Option<f64>,
    pub mixed: usize,
    pub other_only: usize,
    pub inactive: usize,
    pub dipping: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Emails in the window, and no call or meeting in it.
    EmailOnly,
    /// Emails and calls or meetings in the window.
    Mixed,
    /// Calls or meetings in the window, no email.
    OtherOnly,
    /// Nothing in the window.
    Inactive,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::EmailOnly => "email_only",
            Verdict::Mixed => "mixed",
            Verdict::OtherOnly => "other_only",
            Verdict::Inactive => "inactive",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A text/calendar part or .ics attachment of a message we sent.
    CalendarInvite,
    /// An event of a `--calendar` export.
    CalendarFile,
    /// A Zoom, Teams, Meet or Webex link in what we wrote.
    MeetingLink,
    /// A phrase in what we wrote ("as discussed on the phone", "thanks for lunch", "I'll call you").
    Mention,
    /// A row of a `--calls` log.
    CallLog,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// It happened on or before as_of: it counts.
    Happened,
    /// Dated after as_of: it does not count (yet).
    Scheduled,
    /// A CANCEL, or STATUS:CANCELLED (for this UID, the latest version).
    Cancelled,
    /// Our REPLY declined it.
    Declined,
    /// An earlier version of an event whose latest version is counted instead.
    Superseded,
    /// A logged call of zero duration.
    NotConnected,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct MessageRef {
    pub source: String,
    pub date: Option<String>,
    pub subject: Option<String>,
}

/// One piece of evidence that we met or called an account.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Evidence {
    pub channel: Channel,
    pub source: Source,
    /// The day it counts at.
    pub date: String,
    pub status: Status,
    /// Happened, and inside the window.
    pub in_window: bool,
    pub tense: Option<Tense>,
    /// What was found: the phrase, the link, the calendar METHOD and summary, the logged call.
    pub detail: String,
    pub sentence: Option<String>,
    pub note: Option<String>,
    pub message: Option<MessageRef>,
    /// `FILE:LINE` of a call log row, or the calendar file.
    pub file: Option<String>,
    #[serde(skip)]
    pub day: i64,
    /// The time, when known (a calendar DTSTART with a time).
    #[serde(skip)]
    pub at: Option<i64>,
    #[serde(skip)]
    message_key: Option<String>,
}

/// The total order evidence is listed in.
type SortKey<'a> = (i64, Channel, Source, Option<&'a MessageRef>, Option<&'a String>, &'a String, Option<&'a String>, Status);

impl Evidence {
    pub fn counted(&self) -> bool {
        self.status == Status::Happened
    }

    fn sort_key(&self) -> SortKey<'_> {
        (self.day, self.channel, self.source, self.message.as_ref(), self.file.as_ref(), &self.detail, self.sentence.as_ref(), self.status)
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Emails {
    /// Every email up to as_of, dated or not.
    pub total: usize,
    pub last_30: usize,
    pub last_90: usize,
    pub last_365: usize,
    /// In the window (`window_days`).
    pub window: usize,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Trend {
    pub last_90: usize,
    pub prev_90: usize,
    /// (last_90 − prev_90) / prev_90, null when prev_90 is 0.
    pub change: Option<f64>,
    /// dipping (down ≥ 30%), rising (up ≥ 30%), steady, new (nothing before), inactive (nothing in either).
    pub label: &'static str,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ChannelMix {
    pub email: usize,
    pub meeting: usize,
    pub call: usize,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Period {
    pub scored: usize,
    pub flagged: usize,
    pub share: Option<f64>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ToneOut {
    /// In the window.
    pub window: Period,
    pub last_90: Period,
    pub prev_90: Period,
    /// last_90.share − prev_90.share.
    pub change: Option<f64>,
    /// rising (≥ +10 points), falling (≤ −10 points), steady, unknown (a period has no scored mail).
    pub label: &'static str,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Thanked {
    pub date: String,
    pub sentence: String,
    pub message: MessageRef,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct IntentMix {
    pub reactive: usize,
    pub sales: usize,
    pub check_in: usize,
    pub reactive_share: Option<f64>,
    pub sales_share: Option<f64>,
    pub check_in_share: Option<f64>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct MonthRow {
    pub month: String,
    pub emails: usize,
    pub meetings: usize,
    pub calls: usize,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Account {
    pub account: String,
    pub kind: AccountKind,
    pub verdict: Verdict,
    /// Registrable domains of its contacts.
    pub domains: Vec<String>,
    /// Every address we wrote to, up to as_of.
    pub contacts: Vec<String>,
    pub contacts_in_window: usize,
    pub emails: Emails,
    pub trend: Trend,
    /// Distinct threads (by In-Reply-To, References and subject), up to as_of and in the window.
    pub threads: usize,
    pub threads_in_window: usize,
    pub first_contact: Option<String>,
    pub last_email: Option<String>,
    /// The last call or meeting that happened.
    pub last_touch: Option<Evidence>,
    pub days_since_last_touch: Option<i64>,
    /// In the window: emails, and meetings and calls that happened.
    pub channel_mix: ChannelMix,
    pub tone: ToneOut,
    pub last_thanked: Option<Thanked>,
    /// Emails in the window by what they do.
    pub intent: IntentMix,
    pub stage: Stage,
    pub need: Need,
    /// Place in needs_attention (1 = neediest); null when not ranked.
    pub need_rank: Option<usize>,
    /// The 12 months ending with as_of's month.
    pub months: Vec<MonthRow>,
    /// Every call and meeting found, counted or not, by date.
    pub evidence: Vec<Evidence>,
    /// Its last meeting, when no email followed it within two days.
    #[serde(skip)]
    no_follow_up: Option<ThanksRow>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct NeedRow {
    pub rank: usize,
    pub account: String,
    pub score: f64,
    pub verdict: Verdict,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ThanksRow {
    pub account: String,
    pub meeting_date: String,
    /// The last day an email could have followed up.
    pub follow_up_by: String,
    pub meeting: Evidence,
}

// ---------------------------------------------------------------------------------------------
// Building it.

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn share(n: usize, of: usize) -> Option<f64> {
    (of > 0).then(|| round3(n as f64 / of as f64))
}

/// Strip reply and forward prefixes, lower-case, collapse spaces.
pub fn normalize_subject(s: &str) -> Option<String> {
    let mut s = s.trim().to_lowercase();
    loop {
        let t = s.trim_start();
        let stripped = ["re:", "fw:", "fwd:", "aw:", "wg:", "sv:", "vs:", "antw:", "tr:", "rif:", "réf:", "ref:"]
            .iter()
            .find_map(|p| t.strip_prefix(p))
            .or_else(|| {
                // "Re[2]:" and "[EXTERNAL]" style tags.
                let rest = t.strip_prefix("re[").or_else(|| t.strip_prefix("["))?;
                let end = rest.find(']')?;
                let after = rest[end + 1..].trim_start();
                Some(after.strip_prefix(':').unwrap_or(after))
            });
        match stripped {
            Some(r) => s = r.to_string(),
            None => break,
        }
    }
    let s = crate::text::collapse_whitespace(&s);
    (!s.is_empty()).then_some(s)
}

struct UnionFind(Vec<usize>);

impl UnionFind {
    fn find(&mut self, i: usize) -> usize {
        let mut r = i;
        while self.0[r] != r {
            r = self.0[r];
        }
        let mut i = i;
        while self.0[i] != r {
            let next = self.0[i];
            self.0[i] = r;
            i = next;
        }
        r
    }
    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            self.0[hi] = lo;
        }
    }
}

/// Distinct threads among messages: linked by Message-ID, In-Reply-To, References and the
/// normalised subject.
fn count_threads(msgs: &[&Message]) -> usize {
    let mut uf = UnionFind((0..msgs.len()).collect());
    let mut first: HashMap<String, usize> = HashMap::new();
    for (i, m) in msgs.iter().enumerate() {
        let keys = m
            .message_id
            .iter()
            .chain(&m.in_reply_to)
            .chain(&m.references)
            .map(|id| format!("id:{}", id.trim_matches(['<', '>'])))
            .chain(m.subject.as_deref().and_then(normalize_subject).map(|s| format!("subject:{s}")));
        for k in keys {
            match first.get(&k) {
                Some(&j) => uf.union(i, j),
                None => {
                    first.insert(k, i);
                }
            }
        }
    }
    (0..msgs.len()).filter(|&i| uf.find(i) == i).count()
}

fn message_ref(m: &Message) -> MessageRef {
    MessageRef { source: m.origin.clone(), date: m.date.map(|t| iso(day_of(t))), subject: m.subject.clone() }
}

/// A calendar event found in a message or a calendar file, with the accounts it involves.
struct Occurrence {
    event: CalEvent,
    accounts: BTreeMap<String, AccountKind>,
    message: Option<(MessageRef, String, i64)>,
    file: Option<String>,
    order: usize,
}

impl Occurrence {
    /// Later versions sort last: by SEQUENCE, then the message's time (a calendar file is the
    /// calendar's current state, so it comes after any message), then input order.
    fn version_key(&self) -> (i64, i64, usize) {
        (self.event.sequence, self.message.as_ref().map(|m| m.2).unwrap_or(i64::MAX), self.order)
    }
}

#[derive(Default)]
struct Acc {
    kind: Option<AccountKind>,
    contacts: BTreeSet<String>,
    /// Indices into the messages, in (date, key) order.
    messages: Vec<usize>,
    evidence: Vec<Evidence>,
}

fn in_last(day: i64, as_of: i64, n: i64) -> bool {
    day <= as_of && day > as_of - n
}

/// Build the report.
pub fn build(messages: &[Message], extra: &Extra, opts: &Options) -> Report {
    let as_of = opts.as_of;
    let window = opts.window_days.max(1);
    let mut warnings: Vec<String> = Vec::new();
    let internal = if opts.our_domains.is_empty() {
        Internal::inferred(messages.iter().filter_map(|m| m.sender.as_deref()))
    } else {
        Internal::given(&opts.our_domains)
    };
    let resolver = Resolver { mapping: opts.mapping.clone(), internal };
    let mut inputs = InputsOut {
        messages: messages.len(),
        map_file: opts.map_file.clone(),
        calendar_files: extra.calendars.iter().map(|c| c.0.clone()).collect(),
        call_logs: extra.calls.iter().map(|c| c.0.clone()).collect(),
        ..Default::default()
    };
    let mut accs: BTreeMap<String, Acc> = BTreeMap::new();
    let mut occurrences: Vec<Occurrence> = Vec::new();

    for (idx, m) in messages.iter().enumerate() {
        let day = m.date.map(day_of);
        if day.is_some_and(|d| d > as_of) {
            inputs.after_as_of += 1;
            continue;
        }
        if day.is_none() {
            inputs.undated += 1;
        }
        inputs.scored += usize::from(m.flagged().is_some());
        let mut mine: BTreeMap<String, AccountKind> = BTreeMap::new();
        for r in &m.recipients {
            match resolver.resolve(r) {
                Resolution::Internal => {}
                Resolution::Unaddressable => inputs.unaddressable_recipients += 1,
                Resolution::Account { key, kind } => {
                    let a = accs.entry(key.clone()).or_default();
                    a.kind.get_or_insert(kind);
                    a.contacts.insert(r.trim().to_ascii_lowercase());
                    mine.insert(key, kind);
                }
            }
        }
        if mine.is_empty() {
            inputs.internal_only += 1;
            continue;
        }
        for k in mine.keys() {
            accs.get_mut(k).expect("inserted above").messages.push(idx);
        }
        let Some(day) = day else { continue };
        // Calls and meetings in what we wrote.
        for men in mentions::find(&m.cleaned, &m.sentences, day) {
            let status = if men.day <= as_of { Status::Happened } else { Status::Scheduled };
            let ev = Evidence {
                channel: men.channel,
                source: if men.link { Source::MeetingLink } else { Source::Mention },
                date: iso(men.day),
                status,
                in_window: false,
                tense: Some(men.tense),
                detail: men.phrase,
                sentence: Some(men.sentence),
                note: Some(men.note),
                message: Some(message_ref(m)),
                file: None,
                day: men.day,
                at: None,
                message_key: Some(m.message_key.clone()),
            };
            for k in mine.keys() {
                accs.get_mut(k).expect("inserted above").evidence.push(ev.clone());
            }
        }
        // Calendar parts.
        for (pi, text) in m.calendar.iter().enumerate() {
            match calendar::parse(text) {
                Err(e) => warnings.push(format!("{}: calendar part {} could not be read ({e}); it is left out", m.origin, pi + 1)),
                Ok(events) => {
                    for event in events {
                        let mut accounts = event_accounts(&resolver, &event);
                        if accounts.is_empty() {
                            accounts = mine.clone();
                        }
                        let order = occurrences.len();
                        occurrences.push(Occurrence {
                            event,
                            accounts,
                            message: Some((message_ref(m), m.message_key.clone(), m.date.unwrap_or(0))),
                            file: None,
                            order,
                        });
                    }
                }
            }
        }
    }

    // Calendar exports: events whose attendees (or organizer) are in an account.
    for (label, events) in &extra.calendars {
        let mut unmatched = 0;
        for event in events {
            let accounts = event_accounts(&resolver, event);
            if accounts.is_empty() {
                unmatched += 1;
                continue;
            }
            let order = occurrences.len();
            occurrences.push(Occurrence { event: event.clone(), accounts, message: None, file: Some(label.clone()), order });
        }
        if unmatched > 0 {
            warnings.push(format!("{label}: {unmatched} of {} events have no attendee in a customer account; they are left out", events.len()));
        }
    }
    calendar_evidence(occurrences, as_of, &mut accs, &mut warnings);

    // Call logs.
    let known: BTreeMap<String, AccountKind> = accs
        .iter()
        .filter_map(|(k, a)| a.kind.map(|kind| (k.clone(), kind)))
        .chain(opts.mapping.names.iter().map(|n| (n.clone(), AccountKind::Mapped)))
        .collect();
    for (label, rows) in &extra.calls {
        for row in rows {
            let target = if row.contact.contains('@') {
                match resolver.resolve(&row.contact) {
                    Resolution::Account { key, kind } => Some((key, kind)),
                    Resolution::Internal => {
                        warnings.push(format!("{label}:{}: {} is one of our own addresses; the call is left out", row.line, row.contact));
                        None
                    }
                    Resolution::Unaddressable => None,
                }
            } else {
                match resolver.account_named(&row.contact, &known) {
                    Some((k, kind)) => Some((k.clone(), kind)),
                    None => {
                        warnings.push(format!(
                            "{label}:{}: {:?} is neither an email address nor a known account; the call is left out (use an address, or name the account in --map)",
                            row.line, row.contact
                        ));
                        None
                    }
                }
            };
            let Some((key, kind)) = target else { continue };
            let (status, note) = match row.duration {
                Some(0) => (Status::NotConnected, Some("duration 0: the call did not connect".to_string())),
                _ if row.day > as_of => (Status::Scheduled, None),
                _ => (Status::Happened, None),
            };
            let detail = match row.duration {
                Some(s) => format!("call with {} ({}:{:02})", row.contact, s / 60, s % 60),
                None => format!("call with {}", row.contact),
            };
            let a = accs.entry(key).or_default();
            a.kind.get_or_insert(kind);
            if row.contact.contains('@') {
                a.contacts.insert(row.contact.to_ascii_lowercase());
            }
            a.evidence.push(Evidence {
                channel: Channel::Call,
                source: Source::CallLog,
                date: iso(row.day),
                status,
                in_window: false,
                tense: None,
                detail,
                sentence: None,
                note,
                message: None,
                file: Some(format!("{label}:{}", row.line)),
                day: row.day,
                at: None,
                message_key: None,
            });
        }
    }

    // Per account.
    let mut accounts: Vec<Account> = accs.into_iter().map(|(key, a)| account(key, a, messages, as_of, window)).collect();

    // Ranking: accounts with an email in the last 180 days, neediest first.
    let mut ranked: Vec<usize> = (0..accounts.len()).filter(|&i| accounts[i].trend.last_90 + accounts[i].trend.prev_90 > 0).collect();
    ranked.sort_by(|&a, &b| {
        let (x, y) = (&accounts[a], &accounts[b]);
        y.need
            .score
            .total_cmp(&x.need.score)
            .then(y.trend.last_90.cmp(&x.trend.last_90))
            .then(x.account.cmp(&y.account))
    });
    let mut needs_attention = Vec::new();
    for (r, &i) in ranked.iter().enumerate() {
        accounts[i].need_rank = Some(r + 1);
        let a = &accounts[i];
        needs_attention.push(NeedRow { rank: r + 1, account: a.account.clone(), score: a.need.score, verdict: a.verdict, reasons: reasons(a, window) });
    }

    let thanks_after_meeting = accounts.iter().filter_map(|a| a.no_follow_up.clone()).collect();

    let active = accounts.iter().filter(|a| a.emails.window > 0).count();
    let count = |v: Verdict| accounts.iter().filter(|a| a.verdict == v).count();
    let email_only = count(Verdict::EmailOnly);
    let summary = Summary {
        accounts: accounts.len(),
        active,
        email_only,
        email_only_share: share(email_only, active),
        mixed: count(Verdict::Mixed),
        other_only: count(Verdict::OtherOnly),
        inactive: count(Verdict::Inactive),
        dipping: accounts.iter().filter(|a| a.trend.label == "dipping").count(),
    };

    let mut notes = vec![
        "Relationship stages use tenure, frequency and channel variety only: reciprocity (how often customers write back) needs their mail to us, which rapport does not read.".to_string(),
    ];
    if resolver.internal.inferred {
        notes.push(format!(
            "Internal (not customers), inferred from the senders: {}. Pass --our-domain to set them.",
            resolver.internal.domains.iter().chain(&resolver.internal.addresses).cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    let dated_in_scope = inputs.messages - inputs.after_as_of;
    if inputs.scored < dated_in_scope {
        notes.push(format!(
            "{} of {dated_in_scope} messages have no tone verdict under the current model; flagged shares leave them out. Run `rapport audit` on their source to score them.",
            dated_in_scope - inputs.scored
        ));
    }
    if inputs.after_as_of > 0 {
        notes.push(format!("{} messages are dated after {} and are left out.", inputs.after_as_of, iso(as_of)));
    }
    warnings.sort();
    warnings.dedup();

    Report {
        schema: SCHEMA,
        as_of: iso(as_of),
        window_days: window,
        model_id: opts.model_id.clone(),
        state: opts.state.clone(),
        internal: InternalOut {
            domains: resolver.internal.domains.iter().cloned().collect(),
            addresses: resolver.internal.addresses.iter().cloned().collect(),
            inferred: resolver.internal.inferred,
        },
        inputs,
        summary,
        accounts,
        needs_attention,
        thanks_after_meeting,
        notes,
        warnings,
    }
}

/// The external accounts of an event's attendees and organizer.
fn event_accounts(resolver: &Resolver, e: &CalEvent) -> BTreeMap<String, AccountKind> {
    e.attendees
        .iter()
        .map(|(a, _)| a.as_str())
        .chain(e.organizer.as_deref())
        .filter_map(|a| match resolver.resolve(a) {
            Resolution::Account { key, kind } => Some((key, kind)),
            _ => None,
        })
        .collect()
}

/// One meeting per UID: its latest version decides whether it counts (a CANCEL cancels every
/// version) and its DTSTART is the meeting's day; earlier versions are kept as superseded.
fn calendar_evidence(occurrences: Vec<Occurrence>, as_of: i64, accs: &mut BTreeMap<String, Acc>, warnings: &mut Vec<String>) {
    let mut groups: BTreeMap<String, Vec<Occurrence>> = BTreeMap::new();
    for o in occurrences {
        let key = match &o.event.uid {
            Some(uid) => format!("uid:{uid}"),
            None => format!("#{:08}", o.order),
        };
        groups.entry(key).or_default().push(o);
    }
    for (_, mut group) in groups {
        group.sort_by_key(Occurrence::version_key);
        let latest = group.last().expect("groups are never empty");
        let cancelled = latest.event.not_counted().map(|why| {
            let by = match (&latest.message, &latest.file) {
                (Some((r, _, _)), _) => format!("{} ({})", r.subject.as_deref().unwrap_or("(no subject)"), r.date.as_deref().unwrap_or("undated")),
                (None, Some(f)) => f.clone(),
                _ => String::new(),
            };
            (why, by, if why.starts_with("declined") { Status::Declined } else { Status::Cancelled })
        });
        let meeting_day = latest.event.start_day.or_else(|| latest.message.as_ref().map(|m| day_of(m.2)));
        let Some(meeting_day) = meeting_day else {
            warnings.push(format!(
                "{}: event {} has no DTSTART; it is left out",
                latest.file.as_deref().unwrap_or("calendar"),
                latest.event.uid.as_deref().unwrap_or("(no UID)")
            ));
            continue;
        };
        let meeting_at = if latest.event.start_day.is_some() { latest.event.start_at } else { None };
        let mut primary_done: BTreeSet<String> = BTreeSet::new();
        for o in group.iter().rev() {
            for (key, kind) in &o.accounts {
                let acc = accs.entry(key.clone()).or_default();
                acc.kind.get_or_insert(*kind);
                let is_primary = primary_done.insert(key.clone());
                let own_day = o.event.start_day.or_else(|| o.message.as_ref().map(|m| day_of(m.2))).unwrap_or(meeting_day);
                let mut notes: Vec<String> = Vec::new();
                let (status, day, at) = match (&cancelled, is_primary) {
                    (Some((why, by, st)), _) => {
                        notes.push(if std::ptr::eq(o, latest) { format!("{why}: does not count") } else { format!("{why} by {by}: does not count") });
                        (*st, own_day, None)
                    }
                    (None, true) => {
                        if latest.event.start_day.is_none() {
                            notes.push("no DTSTART: counted at the message date".into());
                        }
                        let st = if meeting_day <= as_of { Status::Happened } else { Status::Scheduled };
                        (st, meeting_day, meeting_at)
                    }
                    (None, false) => {
                        notes.push("an earlier version of the same event (UID); the latest one counts".into());
                        (Status::Superseded, own_day, None)
                    }
                };
                if o.event.recurring {
                    notes.push("recurring event: only its first occurrence (DTSTART) counts".into());
                }
                acc.evidence.push(Evidence {
                    channel: Channel::Meeting,
                    source: if o.file.is_some() { Source::CalendarFile } else { Source::CalendarInvite },
                    date: iso(day),
                    status,
                    in_window: false,
                    tense: None,
                    detail: o.event.describe(),
                    sentence: None,
                    note: (!notes.is_empty()).then(|| notes.join("; ")),
                    message: o.message.as_ref().map(|m| m.0.clone()),
                    file: o.file.clone(),
                    day,
                    at,
                    message_key: o.message.as_ref().map(|m| m.1.clone()),
                });
            }
        }
    }
}

fn period(msgs: &[&Message], pred: impl Fn(i64) -> bool) -> Period {
    let mut p = Period::default();
    for m in msgs {
        if let (Some(t), Some(f)) = (m.date, m.flagged()) {
            if pred(day_of(t)) {
                p.scored += 1;
                p.flagged += usize::from(f);
            }
        }
    }
    p.share = share(p.flagged, p.scored);
    p
}

fn account(key: String, mut a: Acc, messages: &[Message], as_of: i64, window: i64) -> Account {
    let msgs: Vec<&Message> = a.messages.iter().map(|&i| &messages[i]).collect();
    let days: Vec<i64> = msgs.iter().filter_map(|m| m.date.map(day_of)).collect();
    let n_in = |n: i64| days.iter().filter(|&&d| in_last(d, as_of, n)).count();
    let emails = Emails { total: msgs.len(), last_30: n_in(30), last_90: n_in(90), last_365: n_in(365), window: n_in(window) };
    let prev_90 = days.iter().filter(|&&d| d <= as_of - TREND_DAYS && d > as_of - 2 * TREND_DAYS).count();
    let last_90 = emails.last_90;
    let trend = Trend {
        last_90,
        prev_90,
        change: (prev_90 > 0).then(|| round3((last_90 as f64 - prev_90 as f64) / prev_90 as f64)),
        label: match (last_90, prev_90) {
            (0, 0) => "inactive",
            (_, 0) => "new",
            // Integer comparisons: down at least 30%, up at least 30%.
            (l, p) if 10 * l <= 7 * p => "dipping",
            (l, p) if 10 * l >= 13 * p => "rising",
            _ => "steady",
        },
    };

    for e in &mut a.evidence {
        e.in_window = e.counted() && in_last(e.day, as_of, window);
    }
    a.evidence.sort_by(|x, y| x.sort_key().cmp(&y.sort_key()));
    a.evidence.dedup_by(|x, y| x.sort_key() == y.sort_key());
    let counted: Vec<&Evidence> = a.evidence.iter().filter(|e| e.counted()).collect();
    let last_touch = counted.iter().max_by(|x, y| (x.day, x.at).cmp(&(y.day, y.at)).then(y.sort_key().cmp(&x.sort_key()))).map(|e| (*e).clone());
    let channel_mix = ChannelMix {
        email: emails.window,
        meeting: counted.iter().filter(|e| e.in_window && e.channel == Channel::Meeting).count(),
        call: counted.iter().filter(|e| e.in_window && e.channel == Channel::Call).count(),
    };
    let verdict = match (emails.window > 0, channel_mix.meeting + channel_mix.call > 0) {
        (true, false) => Verdict::EmailOnly,
        (true, true) => Verdict::Mixed,
        (false, true) => Verdict::OtherOnly,
        (false, false) => Verdict::Inactive,
    };

    let in_window: Vec<&Message> = msgs.iter().copied().filter(|m| m.date.is_some_and(|t| in_last(day_of(t), as_of, window))).collect();
    let contacts_in_window: BTreeSet<&str> = in_window
        .iter()
        .flat_map(|m| m.recipients.iter().map(|r| r.trim()))
        .filter(|r| a.contacts.contains(&r.to_ascii_lowercase()))
        .collect();

    let tone_window = period(&msgs, |d| in_last(d, as_of, window));
    let tone_last = period(&msgs, |d| in_last(d, as_of, TREND_DAYS));
    let tone_prev = period(&msgs, |d| d <= as_of - TREND_DAYS && d > as_of - 2 * TREND_DAYS);
    let tone_change = match (tone_last.share, tone_prev.share) {
        (Some(l), Some(p)) => Some(round3(l - p)),
        _ => None,
    };
    let tone = ToneOut {
        label: match tone_change {
            None => "unknown",
            Some(c) if c >= 0.1 - 1e-9 => "rising",
            Some(c) if c <= -0.1 + 1e-9 => "falling",
            _ => "steady",
        },
        window: tone_window,
        last_90: tone_last.clone(),
        prev_90: tone_prev.clone(),
        change: tone_change,
    };

    let last_thanked = msgs.iter().rev().filter(|m| m.date.is_some()).find_map(|m| {
        mentions::thanks(&m.cleaned, &m.sentences).map(|s| Thanked {
            date: iso(day_of(m.date.unwrap_or(0))),
            sentence: crate::text::collapse_whitespace(s),
            message: message_ref(m),
        })
    });

    let mut intent = IntentMix::default();
    for m in &in_window {
        match mentions::intent(&m.cleaned) {
            Intent::Reactive => intent.reactive += 1,
            Intent::Sales => intent.sales += 1,
            Intent::CheckIn => intent.check_in += 1,
        }
    }
    intent.reactive_share = share(intent.reactive, in_window.len());
    intent.sales_share = share(intent.sales, in_window.len());
    intent.check_in_share = share(intent.check_in, in_window.len());

    let first_contact = days.iter().copied().chain(counted.iter().map(|e| e.day)).min();
    let other_channels = [Channel::Meeting, Channel::Call]
        .iter()
        .filter(|c| counted.iter().any(|e| e.channel == **c && in_last(e.day, as_of, 365)))
        .count() as u32;
    let stage: Stage = score::stage(first_contact.map(|f| as_of - f).unwrap_or(0), emails.last_365, other_channels);
    let days_since_last_touch = last_touch.as_ref().map(|e| as_of - e.day);
    let need = score::need(&NeedInput {
        email_only: verdict == Verdict::EmailOnly,
        last_90,
        prev_90,
        flagged_last: tone.last_90.share,
        flagged_prev: tone.prev_90.share,
        days_since_touch: days_since_last_touch,
    });

    let (y, m, _) = dates::civil(as_of);
    let months: Vec<MonthRow> = (0..12)
        .rev()
        .map(|back| {
            let total = y * 12 + (m as i64 - 1) - back;
            let label = format!("{:04}-{:02}", total.div_euclid(12), total.rem_euclid(12) + 1);
            let in_month = |d: i64| d <= as_of && dates::month(d) == label;
            MonthRow {
                emails: days.iter().filter(|&&d| in_month(d)).count(),
                meetings: counted.iter().filter(|e| e.channel == Channel::Meeting && in_month(e.day)).count(),
                calls: counted.iter().filter(|e| e.channel == Channel::Call && in_month(e.day)).count(),
                month: label,
            }
        })
        .collect();

    let domains: BTreeSet<String> = a.contacts.iter().filter_map(|c| domain::domain_of(c).map(domain::registrable_domain)).collect();
    let no_follow_up = missing_follow_up(&key, &a.evidence, &msgs, as_of);
    Account {
        no_follow_up,
        kind: a.kind.unwrap_or(AccountKind::Domain),
        verdict,
        domains: domains.into_iter().collect(),
        contacts: a.contacts.iter().cloned().collect(),
        contacts_in_window: contacts_in_window.len(),
        threads: count_threads(&msgs),
        threads_in_window: count_threads(&in_window),
        first_contact: first_contact.map(iso),
        last_email: days.iter().max().map(|&d| iso(d)),
        last_touch,
        days_since_last_touch,
        channel_mix,
        tone,
        last_thanked,
        intent,
        stage,
        need,
        need_rank: None,
        months,
        emails,
        trend,
        evidence: a.evidence,
        account: key,
    }
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// Why an account is where it is in the ranking, in words.
fn reasons(a: &Account, window: i64) -> Vec<String> {
    let mut r = Vec::new();
    if a.verdict == Verdict::EmailOnly {
        let n = a.emails.window;
        r.push(format!("email only: {n} email{} and no call or meeting in {window} days", if n == 1 { "" } else { "s" }));
    }
    if a.need.dipping > 0.0 {
        r.push(format!("volume down {} ({} → {} emails, 90 days against the 90 before)", pct(-a.trend.change.unwrap_or(0.0)), a.trend.prev_90, a.trend.last_90));
    }
    if a.need.flagged_rising > 0.0 {
        r.push(format!(
            "flagged share up from {} to {}",
            pct(a.tone.prev_90.share.unwrap_or(0.0)),
            pct(a.tone.last_90.share.unwrap_or(0.0))
        ));
    }
    match a.days_since_last_touch {
        Some(d) if a.need.since_last_touch > 0.0 => r.push(format!(
            "last call or meeting {d} days ago ({})",
            a.last_touch.as_ref().map(|e| e.date.as_str()).unwrap_or("")
        )),
        None => r.push("no call or meeting on record".into()),
        _ => {}
    }
    r
}

/// The account's last meeting that happened, when no email to the account (`msgs`) followed it
/// within two days.
fn missing_follow_up(account: &str, evidence: &[Evidence], msgs: &[&Message], as_of: i64) -> Option<ThanksRow> {
    let last = evidence
        .iter()
        .filter(|e| e.counted() && e.channel == Channel::Meeting)
        .max_by(|x, y| (x.day, x.at).cmp(&(y.day, y.at)).then(y.sort_key().cmp(&x.sort_key())))?;
    let deadline_day = last.day + FOLLOW_UP_DAYS;
    if deadline_day > as_of {
        // The two days are not over yet.
        return None;
    }
    let start = last.at.unwrap_or(last.day * DAY);
    let end = (deadline_day + 1) * DAY;
    // A message announcing a meeting (an invite, a link, "see you Tuesday") is not its follow-up;
    // a message that mentions a past meeting ("great to see you") is.
    let announcing = if last.source == Source::Mention && last.tense == Some(Tense::Past) { None } else { last.message_key.as_deref() };
    let followed = msgs.iter().any(|m| m.date.is_some_and(|t| t >= start && t < end) && Some(m.message_key.as_str()) != announcing);
    (!followed).then(|| ThanksRow { account: account.to_string(), meeting_date: last.date.clone(), follow_up_by: iso(deadline_day), meeting: last.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(key: &str, date: &str, to: &[&str], subject: &str, text: &str) -> Message {
        Message {
            message_key: key.into(),
            message_id: Some(format!("{key}@us")),
            origin: format!("file:{key}.eml"),
            sender: Some("dana@northwind-supply.com".into()),
            recipients: to.iter().map(|s| s.to_string()).collect(),
            date: Some(dates::parse_iso_day(date).unwrap() * DAY + 9 * 3600),
            subject: Some(subject.into()),
            sentences: mentions::whole(text),
            cleaned: text.into(),
            verdict: Some(crate::state::Verdict { risk: 0.1, flagged: false, tone: Default::default(), findings: vec![], sentence_risk: vec![] }),
            ..Default::default()
        }
    }

    fn opts(as_of: &str) -> Options {
        Options { as_of: dates::parse_iso_day(as_of).unwrap(), window_days: 90, ..Default::default() }
    }

    #[test]
    fn subjects_normalise() {
        assert_eq!(normalize_subject("Re: RE: Fwd: Invoice  7731").as_deref(), Some("invoice 7731"));
        assert_eq!(normalize_subject("AW: [EXTERNAL] Re[2]: Samples").as_deref(), Some("samples"));
        assert_eq!(normalize_subject("Re:"), None);
    }

    #[test]
    fn threads_join_by_ids_and_subject() {
        let mut a = msg("a", "2026-09-01", &["x@c.com"], "Invoice 7731", "Hi.");
        a.in_reply_to = vec!["their-1@c.com".into()];
        let b = msg("b", "2026-09-02", &["x@c.com"], "Re: Invoice 7731", "Hi.");
        let mut c = msg("c", "2026-09-03", &["x@c.com"], "Something else", "Hi.");
        c.references = vec!["their-1@c.com".into()];
        let d = msg("d", "2026-09-04", &["x@c.com"], "New topic", "Hi.");
        assert_eq!(count_threads(&[&a, &b, &c, &d]), 2);
    }

    #[test]
    fn verdicts_trends_and_the_ranking() {
        let mut m = Vec::new();
        // quiet.com: 10 emails in the 90 days before, 3 in the last 90, email only → dipping.
        for i in 0..10 {
            m.push(msg(&format!("q{i}"), &iso(dates::parse_iso_day("2026-07-01").unwrap() + i), &["a@quiet.com"], &format!("t{i}"), "Hello."));
        }
        for i in 0..3 {
            m.push(msg(&format!("r{i}"), &iso(dates::parse_iso_day("2026-10-01").unwrap() + i), &["a@quiet.com"], &format!("u{i}"), "Hello."));
        }
        // met.com: emails and a lunch in the window.
        m.push(msg("m1", "2026-10-10", &["b@met.com"], "Lunch", "Thanks for lunch today."));
        m.push(msg("m2", "2026-10-20", &["b@met.com", "dana@northwind-supply.com"], "Next", "Here are the notes."));
        // internal only.
        m.push(msg("i1", "2026-10-20", &["ops@northwind-supply.com"], "Internal", "Hi."));
        // After as_of: ignored.
        m.push(msg("late", "2026-12-20", &["z@later.com"], "Later", "Hi."));
        let r = build(&m, &Extra::default(), &opts("2026-11-23"));
        let keys: Vec<&str> = r.accounts.iter().map(|a| a.account.as_str()).collect();
        assert_eq!(keys, ["met.com", "quiet.com"]);
        assert_eq!((r.inputs.internal_only, r.inputs.after_as_of), (1, 1));
        let quiet = &r.accounts[1];
        assert_eq!(quiet.verdict, Verdict::EmailOnly);
        assert_eq!((quiet.trend.last_90, quiet.trend.prev_90, quiet.trend.label), (3, 10, "dipping"));
        assert_eq!(quiet.need.score, 40.0 + 14.0 + 20.0);
        let met = &r.accounts[0];
        assert_eq!(met.verdict, Verdict::Mixed);
        assert_eq!(met.last_touch.as_ref().map(|e| e.date.as_str()), Some("2026-10-10"));
        assert_eq!(met.days_since_last_touch, Some(44));
        assert_eq!(r.needs_attention.iter().map(|n| n.account.as_str()).collect::<Vec<_>>(), ["quiet.com", "met.com"]);
        assert_eq!(r.summary.email_only_share, Some(0.5));
        // The lunch was followed up the same day (the mention itself): nothing to list.
        assert!(r.thanks_after_meeting.is_empty());
    }

    #[test]
    fn a_cancel_cancels_every_version_of_its_uid() {
        let ics = |method: &str, seq: u32| {
            format!("BEGIN:VCALENDAR\nMETHOD:{method}\nBEGIN:VEVENT\nUID:u1\nSEQUENCE:{seq}\nDTSTART:20261005T150000Z\nATTENDEE:mailto:a@c.com\nEND:VEVENT\nEND:VCALENDAR\n")
        };
        let mut inv = msg("inv", "2026-10-01", &["a@c.com"], "Invite", "See the invite.");
        inv.calendar = vec![ics("REQUEST", 0)];
        let mut can = msg("can", "2026-10-02", &["a@c.com"], "Cancelled", "Sorry, we have to move it.");
        can.calendar = vec![ics("CANCEL", 1)];
        let r = build(&[inv.clone(), can], &Extra::default(), &opts("2026-11-01"));
        let a = &r.accounts[0];
        assert_eq!(a.verdict, Verdict::EmailOnly);
        assert!(a.evidence.iter().all(|e| e.status == Status::Cancelled), "{:#?}", a.evidence);
        // Without the cancel it counts, once, at DTSTART; with an update, at the new DTSTART.
        let mut upd = msg("upd", "2026-10-02", &["a@c.com"], "Moved", "Moved.");
        upd.calendar = vec![ics("REQUEST", 1).replace("20261005", "20261007")];
        let r = build(&[inv, upd], &Extra::default(), &opts("2026-11-01"));
        let a = &r.accounts[0];
        let counted: Vec<&str> = a.evidence.iter().filter(|e| e.counted()).map(|e| e.date.as_str()).collect();
        assert_eq!(counted, ["2026-10-07"]);
        assert_eq!(a.evidence.iter().filter(|e| e.status == Status::Superseded).count(), 1);
        // The meeting on 10-07 had no email within two days after it.
        assert_eq!(r.thanks_after_meeting.len(), 1);
        assert_eq!(r.thanks_after_meeting[0].follow_up_by, "2026-10-09");
    }
}
