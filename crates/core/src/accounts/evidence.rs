//! Evidence that we met or called an account: mentions and meeting links in the mail (both
//! directions), calendar parts of the mail, calendar exports and call logs; and promises ("I'll
//! call you tomorrow", a meeting link) confirmed by a calendar entry, a call-log line or a later
//! past-tense mention.
//!
//! Only what happened counts: a past-tense mention, a calendar entry dated on or before as_of
//! (not cancelled or declined), a connected call in a log. A promise stays `scheduled` until
//! something else confirms it; then it is `confirmed`, and the confirming evidence is what counts.
use std::collections::{BTreeMap, BTreeSet};

use super::calendar::{self, CalEvent};
use super::dates::{day_of, iso};
use super::domain::{AccountKind, Resolution, Resolver};
use super::mentions::{self, Channel, Tense};
use super::model::{Evidence, MessageRef, Source, Status, Way};
use super::{Extra, Message};

/// An account while it is being built.
#[derive(Debug, Default)]
pub(crate) struct Acc {
    pub kind: Option<AccountKind>,
    pub contacts: BTreeSet<String>,
    /// Indices of the messages that count for it, in date order.
    pub messages: Vec<usize>,
    pub evidence: Vec<Evidence>,
}

/// A confirmation from a calendar entry or a call log may come from the promise's message day up
/// to this many days after the promised day.
pub const CONFIRM_ENTRY_DAYS: i64 = 7;
/// A later past-tense mention confirms a promise when its message is dated from the promised day
/// up to this many days after it.
pub const CONFIRM_MENTION_DAYS: i64 = 30;

pub(crate) fn message_ref(m: &Message) -> MessageRef {
    MessageRef {
        source: m.origin.clone(),
        date: m.date.map(|t| iso(day_of(t))),
        subject: m.subject.clone(),
        direction: if m.is_sent() { Way::Sent } else { Way::Received },
        from: m.sender.clone(),
    }
}

/// A customer account an address belongs to, if it is one: `(key, kind)`.
pub(crate) type CustomerOf<'a> = dyn Fn(&str) -> Option<(String, AccountKind)> + 'a;

/// Mentions and meeting links in one message, as evidence.
pub(crate) fn mentions_in(m: &Message, as_of: i64) -> Vec<Evidence> {
    let Some(t) = m.date else { return Vec::new() };
    let day = day_of(t);
    mentions::find(&m.cleaned, &m.sentences, day)
        .into_iter()
        .map(|men| {
            let promise = men.link || men.tense == Tense::Future;
            let (status, note) = if promise {
                let why = if men.link { "a meeting link is an invitation" } else { "a promise" };
                (Status::Scheduled, format!("{}; {why}: it counts once a calendar entry, a call log or a later past mention confirms it", men.note))
            } else if men.day <= as_of {
                (Status::Happened, men.note)
            } else {
                (Status::Scheduled, men.note)
            };
            Evidence {
                channel: men.channel,
                source: if men.link { Source::MeetingLink } else { Source::Mention },
                date: iso(men.day),
                status,
                in_window: false,
                tense: Some(if men.link && men.tense == Tense::Past { Tense::Future } else { men.tense }),
                detail: men.phrase,
                sentence: Some(men.sentence),
                note: Some(note),
                message: Some(message_ref(m)),
                file: None,
                day: men.day,
                at: None,
                message_key: Some(m.message_key.clone()),
                message_day: Some(day),
            }
        })
        .collect()
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

/// The customer accounts of an event's attendees and organizer.
fn event_accounts(customer_of: &CustomerOf<'_>, e: &CalEvent) -> BTreeMap<String, AccountKind> {
    e.attendees.iter().map(|(a, _)| a.as_str()).chain(e.organizer.as_deref()).filter_map(customer_of).collect()
}

/// Every piece of evidence, into the accounts: mentions in each account's messages, calendar
/// parts of `messages` (`message_accounts`: the accounts each message counts for), calendar
/// exports and call logs from `extra`. Accounts that only a calendar export or a call log names
/// are created.
#[allow(clippy::too_many_arguments)]
pub(crate) fn collect(
    accs: &mut BTreeMap<String, Acc>,
    messages: &[Message],
    message_accounts: &BTreeMap<usize, BTreeMap<String, AccountKind>>,
    extra: &Extra,
    resolver: &Resolver,
    customer_of: &CustomerOf<'_>,
    known_names: &BTreeSet<String>,
    as_of: i64,
    warnings: &mut Vec<String>,
) {
    let mut occurrences: Vec<Occurrence> = Vec::new();
    for (&idx, mine) in message_accounts {
        let m = &messages[idx];
        let found = mentions_in(m, as_of);
        for k in mine.keys() {
            if let Some(a) = accs.get_mut(k) {
                a.evidence.extend(found.iter().cloned());
            }
        }
        for (pi, text) in m.calendar.iter().enumerate() {
            match calendar::parse(text) {
                Err(e) => warnings.push(format!("{}: calendar part {} could not be read ({e}); it is left out", m.origin, pi + 1)),
                Ok(events) => {
                    for event in events {
                        let mut accounts = event_accounts(customer_of, &event);
                        if accounts.is_empty() {
                            accounts = mine.clone();
                        }
                        let order = occurrences.len();
                        occurrences.push(Occurrence { event, accounts, message: Some((message_ref(m), m.message_key.clone(), m.date.unwrap_or(0))), file: None, order });
                    }
                }
            }
        }
    }

    // Calendar exports: events whose attendees (or organizer) are in an account.
    for (label, events) in &extra.calendars {
        let mut unmatched = 0;
        for event in events {
            let accounts = event_accounts(customer_of, event);
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
    calendar_evidence(occurrences, as_of, accs, warnings);

    // Call logs.
    let known: BTreeMap<String, AccountKind> = accs
        .iter()
        .filter_map(|(k, a)| a.kind.map(|kind| (k.clone(), kind)))
        .chain(known_names.iter().map(|n| (n.clone(), AccountKind::Mapped)))
        .collect();
    for (label, rows) in &extra.calls {
        for row in rows {
            let target = if row.contact.contains('@') {
                match customer_of(&row.contact) {
                    Some(t) => Some(t),
                    None => {
                        let why = match resolver.resolve(&row.contact) {
                            Resolution::Internal => "one of our own addresses",
                            Resolution::Unaddressable => "not an address",
                            Resolution::Account { .. } => "not a customer (see excluded)",
                        };
                        warnings.push(format!("{label}:{}: {} is {why}; the call is left out", row.line, row.contact));
                        None
                    }
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
                a.contacts.insert(row.contact.trim().to_ascii_lowercase());
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
                message_day: None,
            });
        }
    }
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
                accs.entry(key.clone()).or_default().kind.get_or_insert(*kind);
                push_version(accs, key, o, latest, &cancelled, &mut primary_done, meeting_day, meeting_at, as_of);
            }
        }
    }
}

type Cancelled = Option<(&'static str, String, Status)>;

/// One version of an event, as evidence of one account.
#[allow(clippy::too_many_arguments)]
fn push_version(
    accs: &mut BTreeMap<String, Acc>,
    key: &str,
    o: &Occurrence,
    latest: &Occurrence,
    cancelled: &Cancelled,
    primary_done: &mut BTreeSet<String>,
    meeting_day: i64,
    meeting_at: Option<i64>,
    as_of: i64,
) {
    let acc = accs.get_mut(key).expect("created by the caller");
    let is_primary = primary_done.insert(key.to_string());
    let own_day = o.event.start_day.or_else(|| o.message.as_ref().map(|m| day_of(m.2))).unwrap_or(meeting_day);
    let mut notes: Vec<String> = Vec::new();
    let (status, day, at) = match (cancelled, is_primary) {
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
        message_day: o.message.as_ref().map(|m| day_of(m.2)),
    });
}

/// Whether `e` confirms the promise `p`: a calendar entry (any channel) or a call-log line (a
/// call) that happened from the promise's message day to 7 days after the promised day; or a
/// past-tense mention of the same channel in a message dated from the promised day to 30 days
/// after it.
fn confirms(e: &Evidence, p: &Evidence) -> bool {
    if !e.counted() || e.is_promise() {
        return false;
    }
    let from = p.message_day.unwrap_or(p.day);
    match e.source {
        Source::CalendarInvite | Source::CalendarFile => e.day >= from && e.day <= p.day + CONFIRM_ENTRY_DAYS,
        Source::CallLog => p.channel == Channel::Call && e.day >= from && e.day <= p.day + CONFIRM_ENTRY_DAYS,
        Source::Mention => {
            e.channel == p.channel
                && e.tense == Some(Tense::Past)
                && e.message_key != p.message_key
                && e.message_day.is_some_and(|d| d >= p.day && d <= p.day + CONFIRM_MENTION_DAYS)
        }
        Source::MeetingLink => false,
    }
}

/// Mark each promise that other evidence confirms (in place).
pub(crate) fn confirm_promises(evidence: &mut [Evidence]) {
    let confirmations: Vec<Option<String>> = evidence
        .iter()
        .map(|p| {
            if !(p.is_promise() && p.status == Status::Scheduled) {
                return None;
            }
            evidence.iter().filter(|e| confirms(e, p)).min_by(|x, y| x.sort_key().cmp(&y.sort_key())).map(|e| {
                let from = match (&e.message, &e.file) {
                    (Some(m), _) => format!(" in {:?}", m.subject.as_deref().unwrap_or("(no subject)")),
                    (None, Some(f)) => format!(" in {f}"),
                    _ => String::new(),
                };
                format!("confirmed by the {} on {}{from}", e.source.as_str().replace('_', " "), e.date)
            })
        })
        .collect();
    for (p, c) in evidence.iter_mut().zip(confirmations) {
        if let Some(c) = c {
            p.status = Status::Confirmed;
            p.note = Some(match p.note.take() {
                Some(n) => format!("{c}; {n}"),
                None => c,
            });
        }
    }
}

/// A past mention within this many days after a counted call or meeting of the same channel is
/// that call or meeting ("thanks for coming over" the day after the visit in the calendar).
pub const SAME_EVENT_DAYS: i64 = 3;

/// Mark past mentions of a call or meeting already counted as duplicates (in place): the first
/// record of it counts — a calendar entry or call log before a mention on the same day.
pub(crate) fn mark_duplicates(evidence: &mut [Evidence]) {
    let mut order: Vec<usize> = (0..evidence.len()).filter(|&i| evidence[i].counted()).collect();
    order.sort_by(|&a, &b| evidence[a].sort_key().cmp(&evidence[b].sort_key()));
    let mut kept: Vec<(Channel, i64, String)> = Vec::new();
    for i in order {
        let e = &evidence[i];
        let same = kept.iter().rev().find(|(c, d, _)| *c == e.channel && e.day >= *d && e.day <= d + SAME_EVENT_DAYS);
        match (e.source, same) {
            (Source::Mention, Some((_, _, what))) => {
                let note = format!("the same {} as the {what}: counted once", e.channel.as_str());
                let e = &mut evidence[i];
                e.status = Status::Duplicate;
                e.note = Some(match e.note.take() {
                    Some(n) => format!("{note}; {n}"),
                    None => note,
                });
            }
            _ => kept.push((e.channel, e.day, format!("{} on {}", e.source.as_str().replace('_', " "), e.date))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::dates::{parse_iso_day, DAY};

    fn msg(key: &str, date: &str, text: &str) -> Message {
        Message {
            message_key: key.into(),
            origin: format!("{key}.eml"),
            date: Some(parse_iso_day(date).unwrap() * DAY + 9 * 3600),
            subject: Some(key.into()),
            sentences: mentions::whole(text),
            cleaned: text.into(),
            ..Default::default()
        }
    }

    fn statuses(ev: &[Evidence]) -> Vec<(String, &'static str)> {
        ev.iter().map(|e| (e.date.clone(), e.status.as_str())).collect()
    }

    #[test]
    fn a_promise_stays_scheduled_until_confirmed() {
        let as_of = parse_iso_day("2026-10-30").unwrap();
        // "Talk to you this afternoon": a promise, not a call that happened.
        let mut ev = mentions_in(&msg("a", "2026-10-01", "Talk to you this afternoon."), as_of);
        confirm_promises(&mut ev);
        assert_eq!(statuses(&ev), [("2026-10-01".into(), "scheduled")]);
        assert!(!ev[0].counted());
        // A later past mention confirms it; the mention is what counts.
        ev.extend(mentions_in(&msg("b", "2026-10-02", "Good speaking with you yesterday."), as_of));
        confirm_promises(&mut ev);
        assert_eq!(statuses(&ev), [("2026-10-01".into(), "confirmed"), ("2026-10-02".into(), "happened")]);
        assert!(ev[0].note.as_deref().unwrap().starts_with("confirmed by the mention on 2026-10-02"), "{:?}", ev[0].note);
        // A past mention of another channel does not.
        let mut ev = mentions_in(&msg("c", "2026-10-01", "I'll call you tomorrow."), as_of);
        ev.extend(mentions_in(&msg("d", "2026-10-05", "Great to see you."), as_of));
        confirm_promises(&mut ev);
        assert_eq!(statuses(&ev), [("2026-10-02".into(), "scheduled"), ("2026-10-05".into(), "happened")]);
    }

    #[test]
    fn a_meeting_is_counted_once() {
        let as_of = parse_iso_day("2026-10-30").unwrap();
        let mut ev = mentions_in(&msg("a", "2026-10-02", "Great to see you yesterday."), as_of);
        ev.extend(mentions_in(&msg("b", "2026-10-03", "Thanks for having us."), as_of));
        ev.extend(mentions_in(&msg("c", "2026-10-20", "Nice meeting you."), as_of));
        mark_duplicates(&mut ev);
        assert_eq!(statuses(&ev), [("2026-10-02".into(), "happened"), ("2026-10-03".into(), "duplicate"), ("2026-10-20".into(), "happened")]);
    }

    #[test]
    fn meeting_links_are_invitations() {
        let as_of = parse_iso_day("2026-10-30").unwrap();
        let mut ev = mentions_in(&msg("z", "2026-10-01", "Join us on https://zoom.us/j/5551234567 on Monday."), as_of);
        confirm_promises(&mut ev);
        assert_eq!(statuses(&ev), [("2026-10-05".into(), "scheduled")]);
        assert_eq!(ev[0].source, Source::MeetingLink);
    }
}
