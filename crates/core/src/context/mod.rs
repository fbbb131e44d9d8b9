//! The context a draft does not show: who it is for and the thread it answers, from the audit
//! state. `rapport check` and `rapport lsp` read it; it gives the `context` object of the check's
//! JSON, a line of text, and the context findings (`C3xx` in the catalogue):
//!
//! * **C301 email-only-account**: a flagged draft to an account that has had nothing but email from
//!   you for 90 days (the accounts report's verdict): call instead.
//! * **C302 escalation**: a reply to a kind or neutral customer message that is clearly harsher.
//! * **C303 unacknowledged-upset**: a reply to an upset customer that acknowledges nothing.
//! * **C304 harsher-than-usual**: a draft above the 95th percentile of the risk of your past mail to
//!   the same account.
//!
//! The account comes from the accounts report ([`crate::accounts::build`], as of the draft's date,
//! 90-day window); [`account`] finds it by the draft's recipients. The thread comes from the
//! draft's In-Reply-To and References ([`thread`]). [`History`] holds what the state says (read
//! once, the accounts report cached per day) so the language server reuses it as you type.
pub mod account;
pub mod thread;

use std::ops::Range;

use crate::accounts::{self, Extra, Options, Report, Verdict as AccountVerdict};
use crate::clean::CleanText;
use crate::findings::{Finding, Severity};
use crate::parse::ParsedMail;
use crate::rules::RULES;
use crate::state::accepted::{account_key, Accepted};
use crate::state::{State, StateError, StoredMessage};
use crate::verdict::Assessment;

use account::{AccountIndex, Usual};

/// The accounts window: "email only" means no call or meeting in these days.
pub const WINDOW_DAYS: i64 = 90;
/// Past messages to an account needed before "harsher than usual" is said.
pub const USUAL_MIN_MESSAGES: usize = 10;
/// How far above the 95th percentile of your past risk a draft must be: this many times it, and
/// at least this many points above it.
pub const USUAL_RATIO: f32 = 1.5;
pub const USUAL_MARGIN: f32 = 0.05;

/// The headers of the draft that context needs.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub sender: Option<String>,
    /// To, Cc and Bcc, lower-cased.
    pub recipients: Vec<String>,
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// Unix seconds; the context is taken as of this day (today when the draft has no date).
    pub date: Option<i64>,
}

impl Draft {
    pub fn of(mail: &ParsedMail) -> Self {
        Draft {
            sender: mail.from.as_ref().map(|m| m.address.clone()),
            recipients: mail.recipients().map(|m| m.address.trim().to_ascii_lowercase()).collect(),
            message_id: mail.message_id.clone(),
            in_reply_to: mail.in_reply_to.clone(),
            references: mail.references.clone(),
            date: mail.date,
        }
    }

    fn day(&self) -> i64 {
        crate::time::day_of(self.date.unwrap_or_else(crate::time::now))
    }
}

/// What the audit state knows, read once.
pub struct History {
    /// The state's path, as shown.
    pub state: String,
    /// Every stored message: the sent ones first, then the received ones, each in (date, key) order.
    messages: Vec<StoredMessage>,
    /// How many of `messages` we sent.
    sent: usize,
    pub accepted: Accepted,
    report: Option<(i64, Report)>,
}

/// Sent messages first (the accounts report reads only those: accounts are who we write to, and
/// "our" domains are our senders'), then received ones, each group in its order.
fn sent_first(messages: Vec<StoredMessage>) -> (Vec<StoredMessage>, usize) {
    let (mut sent, received): (Vec<_>, Vec<_>) = messages.into_iter().partition(StoredMessage::is_sent);
    let n = sent.len();
    sent.extend(received);
    (sent, n)
}

impl History {
    /// Read the messages (with their verdicts under the current model) and the accepted findings.
    pub fn load(state: &State) -> Result<Self, StateError> {
        Ok(Self::new(state.path.display().to_string(), state.messages(crate::model_id())?, state.accepted()?))
    }

    pub fn new(state: String, messages: Vec<StoredMessage>, accepted: Accepted) -> Self {
        let (messages, sent) = sent_first(messages);
        History { state, messages, sent, accepted, report: None }
    }

    /// Every stored message, sent ones first.
    pub fn messages(&self) -> &[StoredMessage] {
        &self.messages
    }

    /// Keep only what checking `draft` needs: the sent mail to the registrable domains of its
    /// recipients (a superset of its account's mail, so the account's figures do not change) and
    /// the received mail its In-Reply-To and References name. The accounts report over a focused
    /// history costs a fraction of the whole one (on a 10,000-message state, 0.77 s for the whole
    /// report); `rapport check` focuses, the language server keeps everything for every draft.
    pub fn focus(&mut self, draft: &Draft) {
        let domains: std::collections::HashSet<String> =
            draft.recipients.iter().filter_map(|r| account::host(r)).map(|h| account::registrable(&h)).collect();
        let ids: std::collections::HashSet<&str> = draft.in_reply_to.iter().chain(&draft.references).map(|i| thread::bare(i)).collect();
        let keep_sent = |m: &StoredMessage| m.recipients.iter().any(|r| account::host(r).is_some_and(|h| domains.contains(&account::registrable(&h))));
        let keep_received = |m: &StoredMessage| m.message_id.as_deref().is_some_and(|id| ids.contains(thread::bare(id)));
        let all = std::mem::take(&mut self.messages);
        let (sent, received): (Vec<_>, Vec<_>) = all.into_iter().enumerate().partition(|(i, _)| *i < self.sent);
        self.messages = sent.into_iter().map(|(_, m)| m).filter(keep_sent).collect();
        self.sent = self.messages.len();
        self.messages.extend(received.into_iter().map(|(_, m)| m).filter(keep_received));
        self.report = None;
    }

    fn ensure_report(&mut self, day: i64) {
        if self.report.as_ref().is_none_or(|(d, _)| *d != day) {
            self.report = Some((day, build_report(&self.messages[..self.sent], day, &self.state)));
        }
    }

    /// The accounts report as of `day`, built once per day asked.
    pub fn report(&mut self, day: i64) -> &Report {
        self.ensure_report(day);
        &self.report.as_ref().expect("built above").1
    }

    /// The account a draft goes to: its name in the accounts report, else (recipients the state
    /// does not know) the registrable domain of the first outside recipient.
    pub fn account_name(&mut self, draft: &Draft) -> Option<String> {
        let day = draft.day();
        let found = {
            let report = self.report(day);
            let index = AccountIndex::new(report);
            index.of_recipients(draft.recipients.iter().map(String::as_str), draft.sender.as_deref()).map(|a| a.account.clone())
        };
        found.or_else(|| account::fallback_name(draft.recipients.iter().map(String::as_str), draft.sender.as_deref()))
    }
}

/// The accounts report as of `day` over the 90-day window.
fn build_report(messages: &[StoredMessage], day: i64, state: &str) -> Report {
    let opts = Options { as_of: day, window_days: WINDOW_DAYS, model_id: crate::model_id().to_string(), state: state.to_string(), ..Default::default() };
    accounts::build(messages, &Extra::default(), &opts)
}

/// The last call or meeting with an account.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Touch {
    pub date: String,
    /// `call` or `meeting`.
    pub channel: String,
}

/// The draft's account, as the accounts report sees it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AccountContext {
    pub name: String,
    /// `email_only`, `mixed`, `other_only` or `inactive` (the accounts report's verdict).
    pub verdict: String,
    pub emails_90d: usize,
    pub last_call_or_meeting: Option<Touch>,
    #[serde(skip)]
    pub email_only: bool,
    #[serde(skip)]
    pub inactive: bool,
}

/// The received message the draft answers.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReplyingTo {
    /// `Name <address>`, or the address.
    pub from: Option<String>,
    /// `YYYY-MM-DD`.
    pub date: Option<String>,
    /// Its misread risk (null when it has no verdict: automated mail).
    pub risk: Option<f32>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ThreadContext {
    pub replying_to: ReplyingTo,
    /// The draft is clearly harsher than a kind or neutral message it answers (C302).
    pub escalation: bool,
    /// The message it answers reads as upset.
    #[serde(skip)]
    pub upset: bool,
}

/// The `context` object of `rapport check --format json`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Context {
    pub account: Option<AccountContext>,
    pub thread: Option<ThreadContext>,
}

impl Context {
    /// The text report's lines about the context.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(a) = &self.account {
            let emails = |n: usize| if n == 1 { "1 email".to_string() } else { format!("{n} emails") };
            let last = a.last_call_or_meeting.as_ref().map(|t| format!("; last {} on {}", t.channel, t.date)).unwrap_or_default();
            out.push(if a.email_only {
                format!("{} has had nothing but email from you for {WINDOW_DAYS} days ({}): consider a call.", a.name, emails(a.emails_90d))
            } else if a.inactive {
                format!("{}: no email, call or meeting from you in the last {WINDOW_DAYS} days{last}.", a.name)
            } else {
                format!("{}: {} in the last {WINDOW_DAYS} days{last}.", a.name, emails(a.emails_90d))
            });
        }
        if let Some(t) = &self.thread {
            let r = &t.replying_to;
            let from = r.from.as_deref().unwrap_or("an unknown sender");
            let mut details: Vec<String> = r.date.iter().cloned().collect();
            if let Some(risk) = r.risk {
                details.push(format!("risk {:.0}%", risk * 100.0));
            }
            let details = if details.is_empty() { String::new() } else { format!(" ({})", details.join(", ")) };
            let how = if t.escalation {
                ": this reply is harsher than the kind or neutral message it answers"
            } else if t.upset {
                ": the customer sounds upset"
            } else {
                ""
            };
            out.push(format!("Replying to {from}{details}{how}."));
        }
        out
    }
}

/// The context of one draft and the findings it adds.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub context: Context,
    pub findings: Vec<Finding>,
    /// The account accepted findings are looked up and recorded under.
    pub account: Option<String>,
}

fn rule(code: &str) -> &'static crate::findings::Rule {
    RULES.iter().find(|r| r.code == code).expect("context codes are in the catalogue")
}

fn finding(code: &str, span: Range<usize>, sentence: usize, message: String, suggestion: String) -> Finding {
    let r = rule(code);
    Finding { code: r.code, name: r.name, severity: r.default_severity, message, suggestion: Some(suggestion), span, sentence }
}

/// The sentence the verdict points at: M206's, else the riskiest.
fn riskiest(clean: &CleanText, a: &Assessment) -> Option<(Range<usize>, usize)> {
    if let Some(f) = a.findings.iter().find(|f| f.code == "M206") {
        return Some((clean.sentences.get(f.sentence).cloned().unwrap_or(f.span.clone()), f.sentence));
    }
    let (i, _) = a.sentence_risk.iter().enumerate().max_by(|x, y| x.1.total_cmp(y.1))?;
    Some((clean.sentences.get(i)?.clone(), i))
}

fn pct(x: f32) -> String {
    format!("{:.0}%", x * 100.0)
}

fn who(m: &StoredMessage) -> Option<String> {
    let addr = m.sender.as_deref()?;
    Some(match m.sender_name.as_deref().filter(|n| !n.trim().is_empty()) {
        Some(name) => format!("{name} <{addr}>"),
        None => addr.to_string(),
    })
}

/// The context of `draft`, and the context findings for its assessment (`None`: the draft was not
/// checked, e.g. not English; the context is still given). The assessment's `flagged` and findings
/// are taken as given: callers pass them after their tuning, so an ignored or accepted finding
/// does not make a draft "flagged" here.
pub fn assess(history: &mut History, draft: &Draft, clean: &CleanText, a: Option<&Assessment>) -> Outcome {
    let day = draft.day();
    let mut out = Outcome::default();
    let mut usual: Option<Usual> = None;
    {
        history.ensure_report(day);
        let report = &history.report.as_ref().expect("built above").1;
        let messages = &history.messages[..history.sent];
        let index = AccountIndex::new(report);
        if let Some(acc) = index.of_recipients(draft.recipients.iter().map(String::as_str), draft.sender.as_deref()) {
            let email_only = acc.verdict == AccountVerdict::EmailOnly;
            out.account = Some(acc.account.clone());
            out.context.account = Some(AccountContext {
                name: acc.account.clone(),
                verdict: serde_json::to_value(acc.verdict).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
                emails_90d: acc.emails.last_90,
                last_call_or_meeting: acc.last_touch.as_ref().map(|t| Touch {
                    date: t.date.clone(),
                    channel: serde_json::to_value(t.channel).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
                }),
                email_only,
                inactive: acc.verdict == AccountVerdict::Inactive,
            });
            usual = account::usual(messages, &index, acc, draft.message_id.as_deref());
        }
    }
    if out.account.is_none() {
        out.account = account::fallback_name(draft.recipients.iter().map(String::as_str), draft.sender.as_deref());
    }
    let parent = thread::parent(&history.messages[history.sent..], &draft.in_reply_to, &draft.references);
    if let Some(p) = parent {
        let escalation = matches!((p.verdict.as_ref(), a), (Some(v), Some(a)) if thread::escalates(v, a));
        out.context.thread = Some(ThreadContext {
            replying_to: ReplyingTo { from: who(p), date: p.date.map(crate::time::iso_date), risk: p.verdict.as_ref().map(|v| v.risk) },
            escalation,
            upset: p.verdict.as_ref().is_some_and(thread::is_upset),
        });
    }

    let Some(a) = a else { return out };
    let riskiest = riskiest(clean, a);
    if let (Some(acc), Some((span, s))) = (&out.context.account, &riskiest) {
        if acc.email_only && a.flagged {
            let n = acc.emails_90d;
            let contact = draft.recipients.first().cloned().unwrap_or_else(|| acc.name.clone());
            out.findings.push(finding(
                "C301",
                span.clone(),
                *s,
                format!("{} has had nothing but email from you for {WINDOW_DAYS} days ({n} emails), and this draft could be misread", acc.name),
                format!("Call {contact} instead of sending this, then confirm what you agreed in a short email"),
            ));
        }
        if let Some(u) = usual.filter(|u| u.count >= USUAL_MIN_MESSAGES) {
            if a.risk >= u.p95 * USUAL_RATIO && a.risk >= u.p95 + USUAL_MARGIN {
                out.findings.push(finding(
                    "C304",
                    span.clone(),
                    *s,
                    format!(
                        "this draft is harsher than your usual mail to {}: risk {}, where 95% of your {} audited emails to them are at or below {}",
                        acc.name,
                        pct(a.risk),
                        u.count,
                        pct(u.p95)
                    ),
                    format!("Read it as {} would, next to your last emails to them, and soften the riskiest sentence", acc.name),
                ));
            }
        }
    }
    if let Some(t) = &out.context.thread {
        let from = t.replying_to.from.clone().unwrap_or_else(|| "the customer".into());
        let date = t.replying_to.date.as_deref().map(|d| format!(" on {d}")).unwrap_or_default();
        if t.escalation {
            if let Some((span, s)) = &riskiest {
                out.findings.push(finding(
                    "C302",
                    span.clone(),
                    *s,
                    format!("this reply could be misread, and the message it answers ({from}{date}) was kind or neutral: a sharp answer to a friendly message escalates the thread"),
                    "Answer in the tone you were addressed in: thank them first, then give the facts".into(),
                ));
            }
        } else if t.upset && !thread::acknowledges(&clean.text) {
            if let Some(first) = clean.sentences.first() {
                out.findings.push(finding(
                    "C303",
                    first.clone(),
                    0,
                    format!("{from} sounded upset{date}, and this reply does not acknowledge the problem"),
                    "Open with one sentence that names the problem and owns it: “I'm sorry about …; here is what I'm doing about it.”".into(),
                ));
            }
        }
    }
    out
}

/// The audit's baseline: in each sent message's verdict, the codes accepted for its account become
/// notes, so findings accepted once do not come back in audit reports. Accounts are those of the
/// accounts report as of the newest message.
pub fn apply_baseline(messages: &mut Vec<StoredMessage>, accepted: &Accepted) {
    if accepted.is_empty() {
        return;
    }
    // Sent messages first for the accounts report, then back in the caller's order.
    let (mut tagged, received): (Vec<(usize, StoredMessage)>, Vec<_>) = std::mem::take(messages).into_iter().enumerate().partition(|(_, m)| m.is_sent());
    let mut sent: Vec<StoredMessage> = Vec::with_capacity(tagged.len());
    let mut order: Vec<usize> = Vec::with_capacity(tagged.len() + received.len());
    for (i, m) in tagged.drain(..) {
        order.push(i);
        sent.push(m);
    }
    let latest = sent.iter().filter_map(|m| m.date).max().unwrap_or_else(crate::time::now);
    let report = build_report(&sent, crate::time::day_of(latest), "");
    let index = AccountIndex::new(&report);
    for m in sent.iter_mut() {
        let name = index
            .of_recipients(m.recipients.iter().map(String::as_str), m.sender.as_deref())
            .map(|a| a.account.clone())
            .or_else(|| account::fallback_name(m.recipients.iter().map(String::as_str), m.sender.as_deref()));
        let (Some(name), Some(v)) = (name, m.verdict.as_mut()) else { continue };
        let Some(codes) = accepted.get(&account_key(&name)) else { continue };
        for f in v.findings.iter_mut().filter(|f| codes.contains(f.code) && f.severity > Severity::Info) {
            crate::tuning::accept(f, &name);
        }
    }
    let mut all: Vec<(usize, StoredMessage)> = order.into_iter().zip(sent).chain(received).collect();
    all.sort_by_key(|(i, _)| *i);
    *messages = all.into_iter().map(|(_, m)| m).collect();
}

#[cfg(test)]
mod tests;
