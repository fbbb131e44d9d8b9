//! The accounts report's data: what [`super::build`] returns and every renderer reads. The JSON
//! schema (version [`super::SCHEMA`]) is these types serialised; docs/accounts.md documents it.
use super::domain::AccountKind;
use super::mentions::{Channel, Tense};

/// The report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub schema: u32,
    /// The report's day (inclusive), `YYYY-MM-DD`.
    pub as_of: String,
    /// How `as_of` was chosen: `given` (a date), `today`, or `latest` (the newest message's day).
    pub as_of_basis: String,
    pub window_days: i64,
    pub model_id: String,
    pub state: String,
    pub settings: Settings,
    pub internal: InternalOut,
    /// Our own addresses that wrote the mail (the senders of sent mail), for reports that span
    /// several mailboxes.
    pub senders: Vec<String>,
    pub inputs: InputsOut,
    pub summary: Summary,
    /// Customer accounts only, by key.
    pub accounts: Vec<Account>,
    /// Addresses and accounts that are not customers, with the reason.
    pub excluded: Vec<Excluded>,
    /// The accounts that most need a call or a visit, neediest first.
    pub needs_attention: Vec<NeedRow>,
    /// A customer's complaint answered by us with no apology or acknowledgement.
    pub complaints_without_apology: Vec<ComplaintRow>,
    /// Customer messages with no answer from us after `settings.unanswered_business_days`.
    pub unanswered: Vec<UnansweredRow>,
    /// Accounts whose last meeting had no email from us within two days after it.
    pub thanks_after_meeting: Vec<ThanksRow>,
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
}

/// The thresholds the report used (the command line's values).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Settings {
    /// A message to more than this many external recipients is mass mail: it creates no account.
    pub mass_mail_recipients: usize,
    /// An account needs at least this many messages (either direction), or a call or meeting that
    /// happened, to be a customer.
    pub min_messages: usize,
    /// A customer message with no answer after this many business days is unanswered.
    pub unanswered_business_days: i64,
    /// "Not seen in a long time": no call or meeting in this many days.
    pub unseen_days: i64,
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
    pub sent: usize,
    pub received: usize,
    /// Messages dated after `as_of` (left out).
    pub after_as_of: usize,
    /// Messages without a date (counted in totals and contacts, in no window).
    pub undated: usize,
    /// Messages with no external party.
    pub internal_only: usize,
    /// Messages to more than `settings.mass_mail_recipients` external recipients (left out).
    pub mass_mail: usize,
    /// Mailing-list and automated messages (List-Id, List-Unsubscribe, Precedence, Auto-Submitted),
    /// left out.
    pub automated: usize,
    /// Recipients that are not addresses (no domain), left out.
    pub unaddressable_recipients: usize,
    /// Messages with a tone verdict under the current model.
    pub scored: usize,
    /// The newest message's day, up to as_of.
    pub newest_message: Option<String>,
    pub map_file: Option<String>,
    pub calendar_files: Vec<String>,
    pub call_logs: Vec<String>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Summary {
    /// Customer accounts.
    pub accounts: usize,
    /// Of them, persons (free-mail addresses).
    pub people: usize,
    /// Entries in `excluded`.
    pub excluded: usize,
    /// Accounts with at least one email in the window.
    pub active: usize,
    pub email_only: usize,
    /// email_only / active (null when no account is active).
    pub email_only_share: Option<f64>,
    pub mixed: usize,
    pub inactive: usize,
    pub needs_attention: usize,
    pub complaints_without_apology: usize,
    pub unanswered: usize,
    pub thanks_after_meeting: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Emails in the window, and no call or meeting in it.
    EmailOnly,
    /// A call or meeting in the window.
    Mixed,
    /// Nothing in the window.
    Inactive,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::EmailOnly => "email_only",
            Verdict::Mixed => "mixed",
            Verdict::Inactive => "inactive",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A text/calendar part or .ics attachment of a message.
    CalendarInvite,
    /// An event of a `--calendar` export.
    CalendarFile,
    /// A Zoom, Teams, Meet or Webex link in a message: an invitation, so a promise.
    MeetingLink,
    /// A phrase in a message ("as discussed on the phone", "thanks for lunch", "I'll call you").
    Mention,
    /// A row of a `--calls` log.
    CallLog,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::CalendarInvite => "calendar_invite",
            Source::CalendarFile => "calendar_file",
            Source::MeetingLink => "meeting_link",
            Source::Mention => "mention",
            Source::CallLog => "call_log",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// It happened on or before as_of: it counts.
    Happened,
    /// A promise (a future mention, a meeting link) or an entry dated after as_of: it does not
    /// count.
    Scheduled,
    /// A promise that a calendar entry, a call-log line or a later past mention confirms; the
    /// confirming evidence is what counts.
    Confirmed,
    /// A CANCEL, or STATUS:CANCELLED (for this UID, the latest version).
    Cancelled,
    /// A REPLY declined it.
    Declined,
    /// An earlier version of an event whose latest version is counted instead.
    Superseded,
    /// A logged call of zero duration.
    NotConnected,
    /// A past mention of a call or meeting already counted (from a calendar entry, a call log or
    /// an earlier mention, at most 3 days before): the same one, counted once.
    Duplicate,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Happened => "happened",
            Status::Scheduled => "scheduled",
            Status::Confirmed => "confirmed",
            Status::Cancelled => "cancelled",
            Status::Declined => "declined",
            Status::Superseded => "superseded",
            Status::NotConnected => "not_connected",
            Status::Duplicate => "duplicate",
        }
    }
}

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Way {
    /// From us to them.
    Sent,
    /// From them to us.
    Received,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct MessageRef {
    pub source: String,
    pub date: Option<String>,
    pub subject: Option<String>,
    pub direction: Way,
    pub from: Option<String>,
}

/// One piece of evidence that we met or called an account.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Evidence {
    pub channel: Channel,
    pub source: Source,
    /// The day it counts at (a promise: the day it was promised for).
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
    /// The message it came from (the state's key).
    #[serde(skip)]
    pub message_key: Option<String>,
    /// The message's day (mentions and links), for confirming promises.
    #[serde(skip)]
    pub message_day: Option<i64>,
}

/// The total order evidence is listed in.
pub(crate) type SortKey<'a> = (i64, Channel, Source, Option<&'a MessageRef>, Option<&'a String>, &'a String, Option<&'a String>, Status);

impl Evidence {
    /// It happened and counts.
    pub fn counted(&self) -> bool {
        self.status == Status::Happened
    }

    /// A promise: a future mention or a meeting link.
    pub fn is_promise(&self) -> bool {
        self.source == Source::MeetingLink || (self.source == Source::Mention && self.tense == Some(Tense::Future))
    }

    pub(crate) fn sort_key(&self) -> SortKey<'_> {
        (self.day, self.channel, self.source, self.message.as_ref(), self.file.as_ref(), &self.detail, self.sentence.as_ref(), self.status)
    }

    /// A short description: `2026-10-06 meeting (calendar_invite)`.
    pub fn describe(&self) -> String {
        format!("{} {} ({})", self.date, self.channel.as_str(), self.source.as_str())
    }
}

/// Messages with an account, both directions, up to as_of.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Emails {
    /// Every message up to as_of, dated or not.
    pub total: usize,
    pub last_30: usize,
    pub last_90: usize,
    pub last_365: usize,
    /// In the window (`window_days`).
    pub window: usize,
    /// Of `total`: from us, and from them.
    pub sent: usize,
    pub received: usize,
    /// Of `window`: from us, and from them.
    pub sent_window: usize,
    pub received_window: usize,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Trend {
    pub last_90: usize,
    pub prev_90: usize,
    /// (last_90 − prev_90) / prev_90, null when prev_90 is 0.
    pub change: Option<f64>,
    /// dipping (down ≥ 40% from at least 4), rising (up ≥ 40%), steady, new (nothing before),
    /// inactive (nothing in either).
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

/// The tone of our mail to the account (the share flagged by the tone check).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ToneOut {
    /// In the window.
    pub window: Period,
    pub last_90: Period,
    pub prev_90: Period,
    /// last_90.share − prev_90.share, when each period has at least 3 scored messages.
    pub change: Option<f64>,
    /// rising (≥ +10 points), falling (≤ −10 points), steady, unknown (a period has fewer than 3
    /// scored messages).
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
    /// sent + received.
    pub emails: usize,
    pub sent: usize,
    pub received: usize,
    pub meetings: usize,
    pub calls: usize,
}

/// Threads with the account.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Threads {
    /// Distinct threads (by Message-ID, In-Reply-To, References, and the subject within 30 days).
    pub total: usize,
    /// Threads with a message in the window.
    pub in_window: usize,
    pub started_by_us: usize,
    pub started_by_them: usize,
    /// Threads with two or more turns (both sides wrote).
    pub two_way: usize,
}

/// Who answers whom.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Reciprocity {
    /// Threads they started, and of those the ones we answered.
    pub their_threads: usize,
    pub their_threads_answered: usize,
    /// their_threads_answered / their_threads (null when they started none).
    pub we_answered_share: Option<f64>,
    /// Threads we started, and of those the ones they answered.
    pub our_threads: usize,
    pub our_threads_answered: usize,
    /// our_threads_answered / our_threads (null when we started none).
    pub they_answered_share: Option<f64>,
    /// Our median time to answer a message of theirs, in hours (null without a timed answer).
    pub median_reply_hours: Option<f64>,
    /// How many answers the median is over.
    pub replies_timed: usize,
}

/// The relationship's strength, 0–100, and its parts (docs/accounts.md).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Strength {
    pub score: f64,
    /// Each part's value (0–1) before its weight.
    pub recency: f64,
    pub frequency: f64,
    pub reciprocity: f64,
    pub breadth: f64,
    pub depth: f64,
    pub channel_mix: f64,
    /// Days since the last message or call or meeting.
    pub days_since_contact: Option<i64>,
    /// Messages a month over the last 365 days (or since the first contact, at least 30 days).
    pub messages_per_month: f64,
    /// Contacts with a message in the last 365 days.
    pub active_contacts: usize,
    /// Two-way threads with a message in the last 365 days.
    pub two_way_threads: usize,
}

/// Relationship stages, from the first contact to the closest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Acquaintance,
    Friend,
    Dating,
    Engaged,
    Married,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Acquaintance => "acquaintance",
            Stage::Friend => "friend",
            Stage::Dating => "dating",
            Stage::Engaged => "engaged",
            Stage::Married => "married",
        }
    }
}

/// Why an account needs a call or a visit: seed 004's four cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// Business dipped recently: volume or reciprocity down.
    Dipped,
    /// Working through an issue: complaints or negative mail from them, flagged mail from us,
    /// unanswered messages.
    Issue,
    /// A big project: a surge in volume, many contacts.
    BigProject,
    /// Known for a long time, not seen in a long time.
    LongUnseen,
}

impl ReasonCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::Dipped => "dipped",
            ReasonCode::Issue => "issue",
            ReasonCode::BigProject => "big_project",
            ReasonCode::LongUnseen => "long_unseen",
        }
    }

    /// In a few words, for headings.
    pub fn label(self) -> &'static str {
        match self {
            ReasonCode::Dipped => "business dipped",
            ReasonCode::Issue => "working through an issue",
            ReasonCode::BigProject => "a big project",
            ReasonCode::LongUnseen => "not seen in a long time",
        }
    }
}

/// One reason, with the points it adds and the facts behind it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Reason {
    pub code: ReasonCode,
    pub points: f64,
    /// In words.
    pub text: String,
    /// The numbers and messages it rests on.
    pub evidence: Vec<String>,
}

/// The need score and how it was reached (docs/accounts.md).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Need {
    pub score: f64,
    /// The reasons' points, capped at 100.
    pub points: f64,
    /// 0.5 + strength / 200: a stronger relationship has more at stake.
    pub weight: f64,
    /// An established relationship (at least 2 messages, or a call or meeting that happened):
    /// ranked before any account that is not.
    pub established: bool,
}

/// A customer message with no answer from us yet.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Unanswered {
    pub message: MessageRef,
    /// Business days (Monday to Friday) since it arrived, up to as_of.
    pub business_days: i64,
    pub complaint: bool,
    /// Its first sentence.
    pub sentence: String,
}

/// One message of a complaint pair.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Quoted {
    pub message: MessageRef,
    /// The sentence that shows it (the complaint) or begins it (the reply).
    pub sentence: String,
}

/// A complaint from the customer, and what we answered.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Complaint {
    pub complaint: Quoted,
    /// Their message's negative tone (0–1), when it has a verdict.
    pub negative: Option<f64>,
    /// Our first answer in the thread, if any.
    pub reply: Option<Quoted>,
    /// The answer apologises or acknowledges (its sentence), if it does.
    pub apology: Option<String>,
}

/// One customer account.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Account {
    pub account: String,
    pub kind: AccountKind,
    pub verdict: Verdict,
    /// Registrable domains of its contacts.
    pub domains: Vec<String>,
    /// Every customer address of the account we wrote to or heard from, up to as_of.
    pub contacts: Vec<String>,
    pub contacts_in_window: usize,
    /// Our addresses that wrote to the account.
    pub our_senders: Vec<String>,
    pub emails: Emails,
    pub trend: Trend,
    pub threads: Threads,
    pub reciprocity: Reciprocity,
    /// The first and the last message, call or meeting, and the days between them.
    pub first_contact: Option<String>,
    pub last_contact: Option<String>,
    pub tenure_days: i64,
    pub last_email: Option<String>,
    /// The last call or meeting that happened.
    pub last_touch: Option<Evidence>,
    pub days_since_last_touch: Option<i64>,
    /// In the window: emails, and meetings and calls that happened.
    pub channel_mix: ChannelMix,
    pub tone: ToneOut,
    pub last_thanked: Option<Thanked>,
    /// Our emails in the window by what they do.
    pub intent: IntentMix,
    pub strength: Strength,
    pub stage: Stage,
    pub reasons: Vec<Reason>,
    pub need: Need,
    /// Place in needs_attention (1 = neediest; ties share a place); null when not ranked.
    pub need_rank: Option<usize>,
    pub complaints: Vec<Complaint>,
    pub unanswered: Vec<Unanswered>,
    /// The 12 months ending with as_of's month.
    pub months: Vec<MonthRow>,
    /// Every call and meeting found, counted or not, by date.
    pub evidence: Vec<Evidence>,
}

/// Why an address or account is not a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    /// The mapping file says so.
    Mapped,
    /// One of our own other addresses.
    OwnAddress,
    /// Family (a shared surname at a free-mail provider, "Hi Mom").
    Family,
    /// A mailing list or an automated sender or recipient.
    Automated,
    /// Only reached by mass mail.
    MassMail,
    /// Every message to it is a bare forward of other mail.
    ForwardOnly,
    /// Below the minimum of evidence.
    TooLittleEvidence,
}

impl Exclusion {
    pub fn as_str(self) -> &'static str {
        match self {
            Exclusion::Mapped => "mapped",
            Exclusion::OwnAddress => "own_address",
            Exclusion::Family => "family",
            Exclusion::Automated => "automated",
            Exclusion::MassMail => "mass_mail",
            Exclusion::ForwardOnly => "forward_only",
            Exclusion::TooLittleEvidence => "too_little_evidence",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Exclusion::Mapped => "mapping file",
            Exclusion::OwnAddress => "own addresses",
            Exclusion::Family => "family",
            Exclusion::Automated => "lists and automated",
            Exclusion::MassMail => "mass mail only",
            Exclusion::ForwardOnly => "bare forwards only",
            Exclusion::TooLittleEvidence => "too little evidence",
        }
    }
}

/// An address (or a whole account) left out of the customers.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Excluded {
    /// The account it would have been in.
    pub account: String,
    /// The address; null when the whole account is excluded (too little evidence).
    pub address: Option<String>,
    pub reason: Exclusion,
    /// Why, in words, with the evidence.
    pub detail: String,
    /// Messages with it up to as_of.
    pub messages: usize,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct NeedRow {
    pub rank: usize,
    pub account: String,
    pub score: f64,
    pub verdict: Verdict,
    pub strength: f64,
    pub stage: Stage,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ComplaintRow {
    pub account: String,
    pub complaint: Quoted,
    pub reply: Quoted,
    pub negative: Option<f64>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct UnansweredRow {
    pub account: String,
    pub message: MessageRef,
    pub business_days: i64,
    pub complaint: bool,
    pub sentence: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ThanksRow {
    pub account: String,
    pub meeting_date: String,
    /// The last day an email could have followed up.
    pub follow_up_by: String,
    pub meeting: Evidence,
    /// A reminder ready to send or to put in a to-do list.
    pub reminder: String,
}
