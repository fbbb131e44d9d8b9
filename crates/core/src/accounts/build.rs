//! Building the report: messages up to as_of → who is a customer ([`super::exclude`]) → accounts
//! ([`super::domain`], [`super::mapping`]) → evidence of calls and meetings ([`super::evidence`])
//! → threads ([`super::threads`]) → strength, stage and reasons ([`super::metrics`]) → the
//! ranking and the lists.
use std::collections::{BTreeMap, BTreeSet};

use super::dates::{self, day_of, iso, DAY};
use super::domain::{self, AccountKind, Internal, Resolution, Resolver};
use super::evidence::{self, message_ref, Acc};
use super::exclude::{self, bare_id, AddressFacts, Ours};
use super::mentions::{self, Channel, Intent};
use super::metrics::{self, ReasonInput, StrengthInput};
use super::model::*;
use super::threads::{self, share};
use super::{Extra, Message, Options, FOLLOW_UP_DAYS, SCHEMA, TREND_DAYS};
#[cfg(test)]
use super::mapping;
use crate::text::plural;

/// A relationship, for the ranking: at least this many messages, or a call or meeting that
/// happened. Accounts with less (one email ever) rank after every relationship.
pub const RELATIONSHIP_MESSAGES: usize = 2;

fn in_last(day: i64, as_of: i64, n: i64) -> bool {
    day <= as_of && day > as_of - n
}

fn in_prev(day: i64, as_of: i64, n: i64) -> bool {
    day <= as_of - n && day > as_of - 2 * n
}

/// The external parties of one message that counts: `(address, account key, kind)`.
type Parties = Vec<(String, String, AccountKind)>;

/// Build the report.
pub fn build(messages: &[Message], extra: &Extra, opts: &Options) -> Report {
    let as_of = opts.as_of;
    let window = opts.window_days.max(1);
    let mass_limit = opts.mass_mail_recipients.max(1);
    let mut warnings: Vec<String> = Vec::new();

    let in_scope: Vec<usize> = (0..messages.len()).filter(|&i| messages[i].date.is_none_or(|t| day_of(t) <= as_of)).collect();
    let mut inputs = InputsOut {
        messages: messages.len(),
        after_as_of: messages.len() - in_scope.len(),
        map_file: opts.map_file.clone(),
        calendar_files: extra.calendars.iter().map(|c| c.0.clone()).collect(),
        call_logs: extra.calls.iter().map(|c| c.0.clone()).collect(),
        ..Default::default()
    };
    for &i in &in_scope {
        let m = &messages[i];
        if m.is_sent() {
            inputs.sent += 1;
        } else {
            inputs.received += 1;
        }
        inputs.undated += usize::from(m.date.is_none());
        inputs.scored += usize::from(m.verdict.is_some());
    }
    let newest = in_scope.iter().filter_map(|&i| messages[i].date.map(day_of)).max();
    inputs.newest_message = newest.map(iso);

    // Our side: given, or inferred from the senders of our mail.
    let internal = if opts.our_domains.is_empty() {
        Internal::inferred(messages.iter().filter(|m| m.is_sent()).filter_map(|m| m.sender.as_deref()))
    } else {
        Internal::given(&opts.our_domains)
    };
    let resolver = Resolver { mapping: opts.mapping.clone(), internal };
    let is_internal = |a: &str| matches!(resolver.resolve(a), Resolution::Internal);
    let ours = Ours::from_messages(in_scope.iter().map(|&i| &messages[i]), is_internal);

    // Each message's parties, and what the mail shows about each address.
    let mut facts: BTreeMap<String, AddressFacts> = BTreeMap::new();
    let mut counted: Vec<(usize, Parties)> = Vec::new();
    for &i in &in_scope {
        let m = &messages[i];
        let sender = m.sender.as_deref().map(|s| s.trim().to_ascii_lowercase());
        let from_us = m.is_sent() || sender.as_deref().is_some_and(is_internal);
        let mut external: Parties = Vec::new();
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for r in &m.recipients {
            let addr = r.trim().to_ascii_lowercase();
            if !seen.insert(addr.clone()) || Some(&addr) == sender.as_ref() {
                continue;
            }
            match resolver.resolve(&addr) {
                Resolution::Internal => {}
                Resolution::Unaddressable => inputs.unaddressable_recipients += 1,
                Resolution::Account { key, kind } => external.push((addr, key, kind)),
            }
        }
        let parties: Parties = if from_us {
            external.clone()
        } else {
            match sender.as_deref().map(|s| (s, resolver.resolve(s))) {
                Some((s, Resolution::Account { key, kind })) => {
                    // The sender, and colleagues of theirs they copied.
                    let mut p = vec![(s.to_string(), key.clone(), kind)];
                    p.extend(external.iter().filter(|(_, k, _)| *k == key).cloned());
                    p
                }
                _ => Vec::new(),
            }
        };
        if parties.is_empty() {
            inputs.internal_only += 1;
            continue;
        }
        if m.list.is_automated() {
            inputs.automated += 1;
            let why = m.list.reason();
            for p in &parties {
                let f = entry(&mut facts, p);
                f.automated += 1;
                if f.list_reason.is_none() {
                    f.list_reason.clone_from(&why);
                }
            }
            if !from_us {
                // The list's own address: where list mail we received was sent.
                let list = m.list.list_id.clone().unwrap_or_else(|| "List-Unsubscribe".into());
                for p in external.iter().filter(|p| Some(&p.0) != sender.as_ref()) {
                    entry(&mut facts, p).list_address.get_or_insert_with(|| list.clone());
                }
            }
            continue;
        }
        if external.len() > mass_limit {
            inputs.mass_mail += 1;
            for p in &parties {
                entry(&mut facts, p).mass += 1;
            }
            continue;
        }
        let bare = mentions::is_bare_forward(m.subject.as_deref(), &m.cleaned);
        let family = from_us && parties.len() <= 4 && mentions::family_greeting(&m.cleaned);
        for p in &parties {
            let f = entry(&mut facts, p);
            f.counted += 1;
            f.bare_forwards += usize::from(bare);
            if from_us {
                f.sent_to += 1;
                if family && f.family_greeting.is_none() {
                    f.family_greeting = Some(format!("{:?}, {}", m.subject.as_deref().unwrap_or("(no subject)"), m.date.map(|t| iso(day_of(t))).unwrap_or_else(|| "undated".into())));
                }
            }
        }
        if !from_us {
            let f = entry(&mut facts, &parties[0]);
            f.received_from += 1;
            if let Some(name) = m.sender_name.as_deref() {
                if let Some(s) = ours.display_match(name) {
                    f.display_name_of.get_or_insert_with(|| s.to_string());
                }
            }
            if bare && m.in_reply_to.iter().chain(&m.references).any(|id| ours.sent_ids.contains(bare_id(id))) {
                f.forwards_back = true;
            }
        }
        counted.push((i, parties));
    }

    // Who is not a customer.
    let mut excluded: Vec<Excluded> = Vec::new();
    let mut out: BTreeSet<String> = BTreeSet::new();
    for (addr, f) in &facts {
        let domain = domain::domain_of(addr).unwrap_or("");
        let why = if resolver.mapping.excludes(addr, domain) {
            Some((Exclusion::Mapped, "the mapping file excludes it".to_string()))
        } else {
            exclude::classify(addr, f, &ours, resolver.mapping.account_for(addr, domain).is_some(), mass_limit)
        };
        if let Some((reason, detail)) = why {
            out.insert(addr.clone());
            excluded.push(Excluded { account: f.key.clone(), address: Some(addr.clone()), reason, detail, messages: f.messages() });
        }
    }

    // Accounts from the messages that count.
    let mut accs: BTreeMap<String, Acc> = BTreeMap::new();
    let mut message_accounts: BTreeMap<usize, BTreeMap<String, AccountKind>> = BTreeMap::new();
    for (i, parties) in &counted {
        let mut mine: BTreeMap<String, AccountKind> = BTreeMap::new();
        for (addr, key, kind) in parties.iter().filter(|p| !out.contains(&p.0)) {
            let a = accs.entry(key.clone()).or_default();
            a.kind.get_or_insert(*kind);
            a.contacts.insert(addr.clone());
            mine.insert(key.clone(), *kind);
        }
        for k in mine.keys() {
            accs.get_mut(k).expect("inserted above").messages.push(*i);
        }
        if !mine.is_empty() {
            message_accounts.insert(*i, mine);
        }
    }
    let customer_of = |a: &str| -> Option<(String, AccountKind)> {
        let a = a.trim().to_ascii_lowercase();
        if out.contains(&a) || exclude::automated_address(&a) {
            return None;
        }
        match resolver.resolve(&a) {
            Resolution::Account { key, kind } => Some((key, kind)),
            _ => None,
        }
    };
    evidence::collect(&mut accs, messages, &message_accounts, extra, &resolver, &customer_of, &resolver.mapping.names, as_of, &mut warnings);

    // The minimum of evidence, then each account.
    let min = opts.min_messages;
    let cx = Cx { messages, opts, as_of, window, sent_ids: &ours.sent_ids, has_received: inputs.received > 0 };
    let mut accounts: Vec<Account> = Vec::new();
    for (key, mut a) in accs {
        evidence::confirm_promises(&mut a.evidence);
        evidence::mark_duplicates(&mut a.evidence);
        let happened = a.evidence.iter().any(|e| e.counted());
        let established = a.messages.len() >= RELATIONSHIP_MESSAGES || happened;
        if !(a.messages.len() >= min || happened) && a.kind != Some(AccountKind::Mapped) {
            excluded.push(Excluded {
                account: key.clone(),
                address: None,
                reason: Exclusion::TooLittleEvidence,
                detail: format!("{} and no call or meeting: below the minimum of {} (--min-messages)", plural(a.messages.len(), "message"), min),
                messages: a.messages.len(),
            });
            continue;
        }
        accounts.push(assemble(key, a, established, &cx));
    }
    excluded.sort_by(|x, y| (x.reason, &x.account, &x.address).cmp(&(y.reason, &y.account, &y.address)));

    // The ranking: accounts with a reason; established relationships first, then the score; ties
    // broken by evidence (strength, messages, recency, tenure), never by name: a full tie shares
    // its place.
    let mut ranked: Vec<usize> = (0..accounts.len()).filter(|&i| !accounts[i].reasons.is_empty()).collect();
    let evidence_key = |a: &Account| {
        (
            std::cmp::Reverse(a.need.established),
            std::cmp::Reverse(ordered(a.need.score)),
            std::cmp::Reverse(ordered(a.strength.score)),
            std::cmp::Reverse(a.emails.total),
            std::cmp::Reverse(a.last_contact.clone()),
            a.first_contact.clone(),
        )
    };
    ranked.sort_by(|&x, &y| evidence_key(&accounts[x]).cmp(&evidence_key(&accounts[y])).then(accounts[x].account.cmp(&accounts[y].account)));
    let mut needs_attention = Vec::new();
    let mut rank = 0;
    for (pos, &i) in ranked.iter().enumerate() {
        if pos == 0 || evidence_key(&accounts[ranked[pos - 1]]) != evidence_key(&accounts[i]) {
            rank = pos + 1;
        }
        accounts[i].need_rank = Some(rank);
        let a = &accounts[i];
        needs_attention.push(NeedRow {
            rank,
            account: a.account.clone(),
            score: a.need.score,
            verdict: a.verdict,
            strength: a.strength.score,
            stage: a.stage,
            reasons: a.reasons.clone(),
        });
    }

    let mut complaints_without_apology: Vec<ComplaintRow> = accounts
        .iter()
        .flat_map(|a| {
            a.complaints.iter().filter(|c| c.apology.is_none()).filter_map(|c| {
                Some(ComplaintRow { account: a.account.clone(), complaint: c.complaint.clone(), reply: c.reply.clone()?, negative: c.negative })
            })
        })
        .collect();
    complaints_without_apology.sort_by(|x, y| (&y.complaint.message.date, &x.account, &x.complaint.message).cmp(&(&x.complaint.message.date, &y.account, &y.complaint.message)));
    let mut unanswered: Vec<UnansweredRow> = accounts
        .iter()
        .flat_map(|a| {
            a.unanswered.iter().map(|u| UnansweredRow {
                account: a.account.clone(),
                message: u.message.clone(),
                business_days: u.business_days,
                complaint: u.complaint,
                sentence: u.sentence.clone(),
            })
        })
        .collect();
    unanswered.sort_by(|x, y| (y.business_days, &x.account, &x.message).cmp(&(x.business_days, &y.account, &y.message)));
    let thanks_after_meeting: Vec<ThanksRow> = accounts.iter().filter_map(|a| missing_follow_up(a, messages, as_of)).collect();

    let active = accounts.iter().filter(|a| a.emails.window > 0).count();
    let count = |v: Verdict| accounts.iter().filter(|a| a.verdict == v).count();
    let email_only = count(Verdict::EmailOnly);
    let summary = Summary {
        accounts: accounts.len(),
        people: accounts.iter().filter(|a| a.kind == AccountKind::Person).count(),
        excluded: excluded.len(),
        active,
        email_only,
        email_only_share: share(email_only, active),
        mixed: count(Verdict::Mixed),
        inactive: count(Verdict::Inactive),
        needs_attention: needs_attention.len(),
        complaints_without_apology: complaints_without_apology.len(),
        unanswered: unanswered.len(),
        thanks_after_meeting: thanks_after_meeting.len(),
    };

    let mut notes = Vec::new();
    if opts.as_of_basis == "latest" {
        notes.push(format!("As of {}, the day of the newest message (--as-of latest); give --as-of today or a date to change it.", iso(as_of)));
    }
    if inputs.received == 0 {
        notes.push(
            "No received mail was read: who starts threads and who answers is inferred from our replies, and complaints and unanswered messages need the inbox (--received PATH, or received = [\"INBOX\"] in a [mailbox.NAME] section)."
                .to_string(),
        );
    }
    if resolver.internal.inferred {
        notes.push(format!(
            "Internal (not customers), inferred from the senders: {}. Pass --our-domain to set them.",
            resolver.internal.domains.iter().chain(&resolver.internal.addresses).cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    let in_scope_n = in_scope.len();
    if inputs.scored < in_scope_n {
        notes.push(format!(
            "{} of {in_scope_n} messages have no tone verdict under the current model (list mail needs none); flagged shares and complaints leave them out. Run `rapport audit` on their source to score them.",
            in_scope_n - inputs.scored
        ));
    }
    if inputs.after_as_of > 0 {
        notes.push(format!("{} messages are dated after {} and are left out.", inputs.after_as_of, iso(as_of)));
    }
    if let Some(n) = newest.filter(|&n| as_of - n >= window) {
        warnings.push(format!(
            "The newest message is from {}, {} days before the report's day {}: nothing falls in the {window}-day window, so every account looks inactive. Run with --as-of latest to see the mail as of its newest message.",
            iso(n),
            as_of - n,
            iso(as_of)
        ));
    }
    warnings.sort();
    warnings.dedup();

    Report {
        schema: SCHEMA,
        as_of: iso(as_of),
        as_of_basis: if opts.as_of_basis.is_empty() { "given".into() } else { opts.as_of_basis.clone() },
        window_days: window,
        model_id: opts.model_id.clone(),
        state: opts.state.clone(),
        settings: Settings {
            mass_mail_recipients: mass_limit,
            min_messages: min,
            unanswered_business_days: opts.unanswered_days,
            unseen_days: opts.unseen_days,
        },
        internal: InternalOut {
            domains: resolver.internal.domains.iter().cloned().collect(),
            addresses: resolver.internal.addresses.iter().cloned().collect(),
            inferred: resolver.internal.inferred,
        },
        senders: ours.senders.iter().cloned().collect(),
        inputs,
        summary,
        accounts,
        excluded,
        needs_attention,
        complaints_without_apology,
        unanswered,
        thanks_after_meeting,
        notes,
        warnings,
    }
}

fn entry<'a>(facts: &'a mut BTreeMap<String, AddressFacts>, p: &(String, String, AccountKind)) -> &'a mut AddressFacts {
    let f = facts.entry(p.0.clone()).or_default();
    if f.key.is_empty() {
        f.key.clone_from(&p.1);
    }
    f.kind.get_or_insert(p.2);
    f
}

/// A total order on the (finite) scores.
fn ordered(x: f64) -> i64 {
    (x * 1000.0).round() as i64
}

struct Cx<'a> {
    messages: &'a [Message],
    opts: &'a Options,
    as_of: i64,
    window: i64,
    sent_ids: &'a std::collections::HashSet<String>,
    /// The state holds received mail.
    has_received: bool,
}

fn period(msgs: &[&Message], pred: impl Fn(i64) -> bool) -> Period {
    let mut p = Period::default();
    for m in msgs.iter().filter(|m| m.is_sent()) {
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

/// The account's addresses among a message's parties.
fn parties_of(m: &Message, contacts: &BTreeSet<String>) -> Vec<String> {
    let mut v: Vec<String> = if m.is_sent() {
        m.recipients.iter().map(|r| r.trim().to_ascii_lowercase()).filter(|r| contacts.contains(r)).collect()
    } else {
        let mut v: Vec<String> = m.sender.iter().map(|s| s.trim().to_ascii_lowercase()).filter(|s| contacts.contains(s)).collect();
        v.extend(m.recipients.iter().map(|r| r.trim().to_ascii_lowercase()).filter(|r| contacts.contains(r)));
        v
    };
    v.sort();
    v.dedup();
    v
}

fn assemble(key: String, mut a: Acc, established: bool, cx: &Cx<'_>) -> Account {
    let (as_of, window) = (cx.as_of, cx.window);
    let msgs: Vec<&Message> = a.messages.iter().map(|&i| &cx.messages[i]).collect();
    let dated: Vec<(i64, &Message)> = msgs.iter().filter_map(|m| m.date.map(|t| (day_of(t), *m))).collect();
    let n_in = |n: i64, sent: Option<bool>| dated.iter().filter(|(d, m)| in_last(*d, as_of, n) && sent.is_none_or(|s| m.is_sent() == s)).count();
    let emails = Emails {
        total: msgs.len(),
        last_30: n_in(30, None),
        last_90: n_in(90, None),
        last_365: n_in(365, None),
        window: n_in(window, None),
        sent: msgs.iter().filter(|m| m.is_sent()).count(),
        received: msgs.iter().filter(|m| !m.is_sent()).count(),
        sent_window: n_in(window, Some(true)),
        received_window: n_in(window, Some(false)),
    };
    let prev_90 = dated.iter().filter(|(d, _)| in_prev(*d, as_of, TREND_DAYS)).count();
    let trend = metrics::trend(emails.last_90, prev_90);

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
    let verdict = if channel_mix.meeting + channel_mix.call > 0 {
        Verdict::Mixed
    } else if emails.window > 0 {
        Verdict::EmailOnly
    } else {
        Verdict::Inactive
    };

    // Contacts active in a period.
    let active_in = |pred: &dyn Fn(i64) -> bool| -> usize {
        let mut set: BTreeSet<String> = BTreeSet::new();
        for (d, m) in &dated {
            if pred(*d) {
                set.extend(parties_of(m, &a.contacts));
            }
        }
        set.len()
    };
    let contacts_in_window = active_in(&|d| in_last(d, as_of, window));
    let our_senders: BTreeSet<String> = msgs.iter().filter(|m| m.is_sent()).filter_map(|m| m.sender.as_deref().map(|s| s.trim().to_ascii_lowercase())).collect();

    let mut tf = threads::analyse(&msgs, &threads::Context { as_of, window, unanswered_days: cx.opts.unanswered_days, sent_ids: cx.sent_ids });
    if !cx.has_received {
        // Without their mail, who answers whom is unknown (the turns we infer only show that
        // they wrote before our replies).
        tf.reciprocity.we_answered_share = None;
        tf.reciprocity.they_answered_share = None;
    }

    let tone_last = period(&msgs, |d| in_last(d, as_of, TREND_DAYS));
    let tone_prev = period(&msgs, |d| in_prev(d, as_of, TREND_DAYS));
    let (change, label) = metrics::tone_change(&tone_last, &tone_prev);
    let tone = ToneOut { window: period(&msgs, |d| in_last(d, as_of, window)), last_90: tone_last.clone(), prev_90: tone_prev, change, label };

    let last_thanked = dated.iter().rev().filter(|(_, m)| m.is_sent()).find_map(|(d, m)| {
        mentions::thanks(&m.cleaned, &m.sentences).map(|s| Thanked { date: iso(*d), sentence: crate::text::collapse_whitespace(s), message: message_ref(m) })
    });

    let ours_in_window: Vec<&Message> = dated.iter().filter(|(d, m)| m.is_sent() && in_last(*d, as_of, window)).map(|(_, m)| *m).collect();
    let mut intent = IntentMix::default();
    for m in &ours_in_window {
        match mentions::intent(&m.cleaned) {
            Intent::Reactive => intent.reactive += 1,
            Intent::Sales => intent.sales += 1,
            Intent::CheckIn => intent.check_in += 1,
        }
    }
    intent.reactive_share = share(intent.reactive, ours_in_window.len());
    intent.sales_share = share(intent.sales, ours_in_window.len());
    intent.check_in_share = share(intent.check_in, ours_in_window.len());

    let contact_days = || dated.iter().map(|(d, _)| *d).chain(counted.iter().map(|e| e.day).filter(|&d| d <= as_of));
    let first = contact_days().min();
    let last = contact_days().max();
    let since = |c: Channel| counted.iter().any(|e| e.channel == c && in_last(e.day, as_of, 365));
    let strength = metrics::strength(&StrengthInput {
        days_since_contact: last.map(|l| as_of - l),
        messages_365: emails.last_365,
        span_days: first.map(|f| as_of - f.max(as_of - 364) + 1).unwrap_or(365),
        we_answered: tf.reciprocity.we_answered_share,
        they_answered: tf.reciprocity.they_answered_share,
        reciprocity_threads: if cx.has_received { tf.reciprocity.their_threads + tf.reciprocity.our_threads } else { 0 },
        active_contacts: active_in(&|d| in_last(d, as_of, 365)),
        two_way_threads: tf.two_way_365,
        met: since(Channel::Meeting),
        called: since(Channel::Call),
    });
    let recent = |q: &Quoted| q.message.date.as_deref().and_then(dates::parse_iso_day).is_some_and(|d| in_last(d, as_of, 90));
    let reasons = metrics::reasons(&ReasonInput {
        as_of,
        last_90: emails.last_90,
        prev_90,
        ours_last_90: tf.ours_last_90,
        ours_prev_90: tf.ours_prev_90,
        complaints: tf.complaints.iter().filter(|c| recent(&c.complaint)).count(),
        unapologised: tf.complaints.iter().filter(|c| recent(&c.complaint) && c.reply.is_some() && c.apology.is_none()).count(),
        negative: tf.negative_last_90,
        flagged: tone_last.flagged,
        unanswered: tf.unanswered.len(),
        contacts_last_90: active_in(&|d| in_last(d, as_of, 90)),
        contacts_prev_90: active_in(&|d| in_prev(d, as_of, 90)),
        first_contact: first,
        last_contact: last,
        last_touch: last_touch.as_ref().map(|e| e.day),
        unseen_days: cx.opts.unseen_days,
    });
    let need = metrics::need(&reasons, strength.score, established);

    let (y, mo, _) = dates::civil(as_of);
    let months: Vec<MonthRow> = (0..12)
        .rev()
        .map(|back| {
            let total = y * 12 + (mo as i64 - 1) - back;
            let label = format!("{:04}-{:02}", total.div_euclid(12), total.rem_euclid(12) + 1);
            let in_month = |d: i64| d <= as_of && dates::month(d) == label;
            let sent = dated.iter().filter(|(d, m)| m.is_sent() && in_month(*d)).count();
            let received = dated.iter().filter(|(d, m)| !m.is_sent() && in_month(*d)).count();
            MonthRow {
                emails: sent + received,
                sent,
                received,
                meetings: counted.iter().filter(|e| e.channel == Channel::Meeting && in_month(e.day)).count(),
                calls: counted.iter().filter(|e| e.channel == Channel::Call && in_month(e.day)).count(),
                month: label,
            }
        })
        .collect();

    let domains: BTreeSet<String> = a.contacts.iter().filter_map(|c| domain::domain_of(c).map(domain::registrable_domain)).collect();
    Account {
        kind: a.kind.unwrap_or(AccountKind::Domain),
        verdict,
        domains: domains.into_iter().collect(),
        contacts: a.contacts.iter().cloned().collect(),
        contacts_in_window,
        our_senders: our_senders.into_iter().collect(),
        threads: tf.threads,
        reciprocity: tf.reciprocity,
        first_contact: first.map(iso),
        last_contact: last.map(iso),
        tenure_days: first.zip(last).map(|(f, l)| l - f).unwrap_or(0),
        last_email: dated.iter().map(|(d, _)| *d).max().map(iso),
        days_since_last_touch: last_touch.as_ref().map(|e| as_of - e.day),
        last_touch,
        channel_mix,
        tone,
        last_thanked,
        intent,
        stage: metrics::stage(strength.score),
        strength,
        reasons,
        need,
        need_rank: None,
        complaints: tf.complaints,
        unanswered: tf.unanswered,
        months,
        emails,
        trend,
        evidence: a.evidence,
        account: key,
    }
}

/// The account's last meeting that happened, when no email from us to the account followed it
/// within two days.
fn missing_follow_up(a: &Account, messages: &[Message], as_of: i64) -> Option<ThanksRow> {
    let last = a
        .evidence
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
    let announcing = if last.source == Source::Mention && last.tense == Some(mentions::Tense::Past) { None } else { last.message_key.as_deref() };
    let contacts: BTreeSet<&str> = a.contacts.iter().map(String::as_str).collect();
    let followed = messages.iter().any(|m| {
        m.is_sent()
            && m.date.is_some_and(|t| t >= start && t < end)
            && Some(m.message_key.as_str()) != announcing
            && m.recipients.iter().any(|r| contacts.contains(r.trim().to_ascii_lowercase().as_str()))
    });
    if followed {
        return None;
    }
    // What the meeting was: the event's SUMMARY (quoted in the detail), else the message's subject.
    let summary = last.detail.split_once('"').and_then(|(_, rest)| rest.rsplit_once('"')).map(|(s, _)| s.to_string());
    let what = summary.or_else(|| last.message.as_ref().and_then(|m| m.subject.clone())).map(|s| format!(" ({s})")).unwrap_or_default();
    let weekday = dates::WEEKDAYS[dates::weekday(last.day) as usize];
    let mut day_name = weekday.to_string();
    if let Some(c) = day_name.get_mut(0..1) {
        c.make_ascii_uppercase();
    }
    Some(ThanksRow {
        account: a.account.clone(),
        meeting_date: last.date.clone(),
        follow_up_by: iso(deadline_day),
        reminder: format!(
            "Thank {} for the meeting on {}{what}: \"Thank you for your time on {day_name}. Here is what we agreed, and what happens next: …\"",
            a.account, last.date
        ),
        meeting: last.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::dates::parse_iso_day;
    use crate::source::Direction;

    fn msg(key: &str, date: &str, to: &[&str], subject: &str, text: &str) -> Message {
        Message {
            message_key: key.into(),
            message_id: Some(format!("<{key}@us>")),
            origin: format!("file:{key}.eml"),
            direction: Some(Direction::Sent),
            sender: Some("dana@northwind-supply.com".into()),
            recipients: to.iter().map(|s| s.to_string()).collect(),
            date: Some(parse_iso_day(date).unwrap() * DAY + 9 * 3600),
            subject: Some(subject.into()),
            sentences: mentions::whole(text),
            cleaned: text.into(),
            verdict: Some(crate::state::Verdict { risk: 0.1, flagged: false, tone: Default::default(), findings: vec![], sentence_risk: vec![] }),
            ..Default::default()
        }
    }

    fn from(key: &str, date: &str, sender: &str, subject: &str, reply_to: Option<&str>, text: &str, negative: f32) -> Message {
        let mut m = msg(key, date, &["dana@northwind-supply.com"], subject, text);
        m.direction = Some(Direction::Received);
        m.sender = Some(sender.into());
        m.message_id = Some(format!("<{key}@them>"));
        m.in_reply_to = reply_to.map(|r| vec![format!("<{r}@us>")]).unwrap_or_default();
        if let Some(v) = &mut m.verdict {
            v.tone.negative = negative;
        }
        m
    }

    fn opts(as_of: &str) -> Options {
        Options { as_of: parse_iso_day(as_of).unwrap(), ..Default::default() }
    }

    fn day(s: &str, plus: i64) -> String {
        iso(parse_iso_day(s).unwrap() + plus)
    }

    #[test]
    fn verdicts_trends_and_the_ranking() {
        let mut m = Vec::new();
        // quiet.com: 10 emails in the 90 days before, 3 in the last 90, email only: dipped.
        for i in 0..10 {
            m.push(msg(&format!("q{i}"), &day("2026-07-01", i), &["a@quiet.com"], &format!("t{i}"), "Hello."));
        }
        for i in 0..3 {
            m.push(msg(&format!("r{i}"), &day("2026-10-01", i), &["a@quiet.com"], &format!("u{i}"), "Hello."));
        }
        // met.com: emails and a lunch in the window.
        m.push(msg("m1", "2026-10-10", &["b@met.com"], "Lunch", "Thanks for lunch today."));
        m.push(msg("m2", "2026-10-20", &["b@met.com", "dana@northwind-supply.com"], "Next", "Here are the notes."));
        // One email ever: too little evidence.
        m.push(msg("o1", "2026-11-01", &["x@once.com"], "Hi", "Hello."));
        // Internal only, and after as_of.
        m.push(msg("i1", "2026-10-20", &["ops@northwind-supply.com"], "Internal", "Hi."));
        m.push(msg("late", "2026-12-20", &["z@later.com"], "Later", "Hi."));
        let r = build(&m, &Extra::default(), &opts("2026-11-23"));
        let keys: Vec<&str> = r.accounts.iter().map(|a| a.account.as_str()).collect();
        assert_eq!(keys, ["met.com", "quiet.com"]);
        assert_eq!((r.inputs.internal_only, r.inputs.after_as_of), (1, 1));
        assert_eq!(r.excluded.len(), 1);
        assert_eq!((r.excluded[0].account.as_str(), r.excluded[0].reason), ("once.com", Exclusion::TooLittleEvidence));
        let quiet = &r.accounts[1];
        assert_eq!(quiet.verdict, Verdict::EmailOnly);
        assert_eq!((quiet.trend.last_90, quiet.trend.prev_90, quiet.trend.label), (3, 10, "dipping"));
        assert_eq!(quiet.reasons.iter().map(|r| r.code).collect::<Vec<_>>(), [ReasonCode::Dipped]);
        assert_eq!(quiet.reasons[0].points, 28.0, "40 × 70%");
        let met = &r.accounts[0];
        assert_eq!(met.verdict, Verdict::Mixed);
        assert_eq!(met.last_touch.as_ref().map(|e| e.date.as_str()), Some("2026-10-10"));
        assert_eq!(met.days_since_last_touch, Some(44));
        assert!(met.reasons.is_empty());
        assert_eq!(r.needs_attention.iter().map(|n| n.account.as_str()).collect::<Vec<_>>(), ["quiet.com"]);
        assert_eq!(r.summary.email_only_share, Some(0.5));
        assert_eq!(met.tenure_days, 10, "tenure runs from the first contact to the last, not to as_of");
        // The lunch was followed up the same day (the mention itself): nothing to list.
        assert!(r.thanks_after_meeting.is_empty());
    }

    #[test]
    fn who_is_not_a_customer() {
        let mut m = vec![
            // A customer.
            msg("c1", "2026-10-01", &["ken@harbor.com"], "Pilot", "Here is the pilot order."),
            msg("c2", "2026-10-02", &["ken@harbor.com"], "Pilot", "And the drawings."),
            // Our personal address, by name, and our Reply-To.
            msg("o1", "2026-10-03", &["danawhitfield@gmail.com"], "Fw: notes", ""),
            msg("o2", "2026-10-04", &["danawhitfield@gmail.com"], "Fw: more", ""),
            // Family.
            msg("f1", "2026-10-05", &["granny.s@web.de"], "Sunday", "Hi Grandma, see you Sunday."),
            msg("f2", "2026-10-06", &["granny.s@web.de"], "Sunday", "Bring the cake."),
            // An unsubscribe address.
            msg("u1", "2026-10-07", &["unsubscribe-1234@news.shop.com"], "unsubscribe", ""),
        ];
        for k in 0..2 {
            // A joke forwarded to 12 people, twice: mass mail.
            let to: Vec<String> = (0..12).map(|i| format!("friend{i}@pals{i}.com")).collect();
            let to: Vec<&str> = to.iter().map(String::as_str).collect();
            m.push(msg(&format!("j{k}"), "2026-10-08", &to, "FW: a joke", "Ha."));
        }
        for m in m.iter_mut() {
            m.sender_name = Some("Dana Whitfield".into());
        }
        m[0].reply_to = vec!["dana.w@outlook.com".into()];
        m.push(msg("o3", "2026-10-09", &["dana.w@outlook.com"], "Note to self", "Remember the samples."));
        m.push(msg("o4", "2026-10-10", &["dana.w@outlook.com"], "Note to self", "And the invoice."));
        // A newsletter we received, and a list we post to.
        let mut news = from("n1", "2026-10-11", "deals@shop-news.com", "Deals", None, "Big deals.", 0.0);
        news.list.unsubscribe = true;
        m.push(news);
        let mut list = from("l1", "2026-10-12", "ann@partner.org", "Re: release", None, "Looks good.", 0.0);
        list.list.list_id = Some("<devs.lists.partner.org>".into());
        list.recipients = vec!["devs@lists.partner.org".into()];
        m.push(list);
        let r = build(&m, &Extra::default(), &opts("2026-10-31"));
        assert_eq!(r.accounts.iter().map(|a| a.account.as_str()).collect::<Vec<_>>(), ["harbor.com"]);
        let why: Vec<(Option<&str>, Exclusion)> = r.excluded.iter().map(|e| (e.address.as_deref(), e.reason)).collect();
        assert!(why.contains(&(Some("danawhitfield@gmail.com"), Exclusion::OwnAddress)), "{why:?}");
        assert!(why.contains(&(Some("dana.w@outlook.com"), Exclusion::OwnAddress)), "{why:?}");
        assert!(why.contains(&(Some("granny.s@web.de"), Exclusion::Family)), "{why:?}");
        assert!(why.contains(&(Some("unsubscribe-1234@news.shop.com"), Exclusion::Automated)), "{why:?}");
        assert!(why.contains(&(Some("deals@shop-news.com"), Exclusion::Automated)), "{why:?}");
        assert!(why.contains(&(Some("devs@lists.partner.org"), Exclusion::Automated)), "the list address: {why:?}");
        assert!(why.contains(&(Some("ann@partner.org"), Exclusion::Automated)), "only list mail from her: {why:?}");
        assert_eq!(why.iter().filter(|w| w.1 == Exclusion::MassMail).count(), 12, "{why:?}");
        assert_eq!((r.inputs.mass_mail, r.inputs.automated), (2, 2));
        // The mapping file forces a contact back in, or another out.
        let mut o = opts("2026-10-31");
        o.mapping = mapping::Mapping::parse_csv("Family,granny.s@web.de\n-,harbor.com\n", "m.csv").unwrap();
        let r = build(&m, &Extra::default(), &o);
        assert_eq!(r.accounts.iter().map(|a| a.account.as_str()).collect::<Vec<_>>(), ["Family"]);
        assert!(r.excluded.iter().any(|e| e.address.as_deref() == Some("ken@harbor.com") && e.reason == Exclusion::Mapped));
    }

    #[test]
    fn complaints_unanswered_and_reciprocity() {
        let m = vec![
            msg("u1", "2026-10-01", &["kim@acme.com"], "Order", "Your order has shipped."),
            from("t1", "2026-10-05", "kim@acme.com", "Re: Order", Some("u1"), "I am really disappointed: half of the housings arrived damaged.", 0.7),
            msg("u2", "2026-10-05", &["kim@acme.com"], "Re: Order", "Please send photos."),
            from("t2", "2026-10-20", "kim@acme.com", "Invoice", None, "Could you resend invoice 7731?", 0.1),
        ];
        let mut m = m;
        m[2].in_reply_to = vec!["<t1@them>".into()];
        let r = build(&m, &Extra::default(), &opts("2026-10-30"));
        let a = &r.accounts[0];
        assert_eq!((a.emails.sent, a.emails.received), (2, 2));
        assert_eq!((a.threads.started_by_us, a.threads.started_by_them), (1, 1));
        assert_eq!((a.reciprocity.they_answered_share, a.reciprocity.we_answered_share), (Some(1.0), Some(0.0)));
        assert_eq!(r.complaints_without_apology.len(), 1);
        assert_eq!(r.complaints_without_apology[0].reply.sentence, "Please send photos.");
        assert_eq!(r.unanswered.len(), 1);
        assert_eq!((r.unanswered[0].message.subject.as_deref(), r.unanswered[0].business_days), (Some("Invoice"), 8));
        assert_eq!(a.reasons.iter().map(|r| r.code).collect::<Vec<_>>(), [ReasonCode::Issue]);
        assert_eq!(a.reasons[0].points, 40.0, "20 for the complaint, 10 for no apology, 10 for the unanswered message");
    }

    #[test]
    fn one_email_never_outranks_a_relationship_and_ties_share_a_place() {
        let mut m = Vec::new();
        // Two equal relationships, each with an unanswered question.
        for d in ["a.com", "b.com"] {
            m.push(msg(&format!("{d}1"), "2026-09-01", &[&format!("x@{d}")], "Plan", "Here is the plan."));
            m.push(msg(&format!("{d}2"), "2026-09-15", &[&format!("x@{d}")], "Plan", "And the budget."));
            m.push(from(&format!("{d}3"), "2026-10-01", &format!("x@{d}"), "Question", None, "When does it ship?", 0.1));
        }
        // One email ever, unanswered and a complaint, kept in by --min-messages 1.
        m.push(from("z1", "2026-10-29", "y@z.com", "Broken", None, "This is unacceptable: the unit arrived broken.", 0.9));
        let mut o = opts("2026-11-02");
        o.min_messages = 1;
        let r = build(&m, &Extra::default(), &o);
        let rows: Vec<(usize, &str)> = r.needs_attention.iter().map(|n| (n.rank, n.account.as_str())).collect();
        assert_eq!(rows, [(1, "a.com"), (1, "b.com"), (3, "z.com")], "{:#?}", r.needs_attention);
    }

    #[test]
    fn an_old_mailbox_says_so() {
        let m = vec![msg("a", "2001-05-01", &["x@c.com"], "Hi", "Hello."), msg("b", "2001-05-02", &["x@c.com"], "Hi", "Hello.")];
        let r = build(&m, &Extra::default(), &opts("2026-11-02"));
        assert_eq!(r.accounts[0].verdict, Verdict::Inactive);
        assert!(r.warnings.iter().any(|w| w.contains("The newest message is from 2001-05-02") && w.contains("--as-of latest")), "{:?}", r.warnings);
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
        assert!(r.thanks_after_meeting[0].reminder.starts_with("Thank c.com for the meeting on 2026-10-07 (Moved)"), "{}", r.thanks_after_meeting[0].reminder);
    }
}
