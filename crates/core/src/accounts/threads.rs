//! Threads with an account, and what they show: who starts them, who answers whom and how fast,
//! customer messages still waiting for an answer, and complaints with or without an apology.
//!
//! **Threads** join messages that share a Message-ID, In-Reply-To or References id, or the same
//! subject (once `Re:`/`Fwd:`… are stripped) within 30 days of the thread's previous message with
//! it.
//!
//! **Turns.** Messages are read in date order; a turn is a run of messages from one side. When
//! only our side of a thread was read (a Sent folder without the inbox), our message that answers
//! a Message-ID that is not ours (In-Reply-To), or that opens a thread with `Re:`, shows that they
//! wrote: their turn is counted just before it (without a time).
use std::collections::{HashMap, HashSet};

use super::dates::{day_of, weekday, DAY};
use super::evidence::message_ref;
use super::exclude::bare_id;
use super::mentions;
use super::model::{Complaint, Quoted, Reciprocity, Threads, Unanswered};
use super::Message;

/// Two messages with the same subject and no shared id are one thread when at most this many
/// days apart.
pub const SUBJECT_THREAD_DAYS: i64 = 30;

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

/// The threads among `msgs` (in date order): each a list of indices into `msgs`, in order, the
/// threads ordered by their first message.
pub fn group(msgs: &[&Message]) -> Vec<Vec<usize>> {
    let mut uf = UnionFind((0..msgs.len()).collect());
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    let mut by_subject: HashMap<String, (usize, Option<i64>)> = HashMap::new();
    for (i, m) in msgs.iter().enumerate() {
        for id in m.message_id.iter().chain(&m.in_reply_to).chain(&m.references) {
            let id = bare_id(id);
            if id.is_empty() {
                continue;
            }
            match by_id.get(id) {
                Some(&j) => uf.union(i, j),
                None => {
                    by_id.insert(id, i);
                }
            }
        }
        if let Some(s) = m.subject.as_deref().and_then(normalize_subject) {
            match by_subject.get(&s) {
                Some(&(j, t)) if close(t, m.date) => uf.union(i, j),
                _ => {}
            }
            by_subject.insert(s, (i, m.date));
        }
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut slot: HashMap<usize, usize> = HashMap::new();
    for i in 0..msgs.len() {
        let r = uf.find(i);
        let g = *slot.entry(r).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(i);
    }
    groups
}

fn close(a: Option<i64>, b: Option<i64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= SUBJECT_THREAD_DAYS * DAY,
        _ => true,
    }
}

/// Weekdays (Monday to Friday) after `from` up to and including `to`.
pub fn business_days(from: i64, to: i64) -> i64 {
    if to <= from {
        return 0;
    }
    let days = to - from;
    let mut n = days / 7 * 5;
    for d in (from + days / 7 * 7 + 1)..=to {
        n += i64::from(weekday(d) < 5);
    }
    n
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Us,
    Them,
}

/// One turn's message: its index in `msgs` (None: their message we infer from our answer).
#[derive(Debug, Clone, Copy)]
struct Event {
    side: Side,
    msg: Option<usize>,
}

/// What one account's threads show.
#[derive(Debug, Clone, Default)]
pub struct ThreadFacts {
    pub threads: Threads,
    pub reciprocity: Reciprocity,
    /// Two-way threads with a message in the last 365 days.
    pub two_way_365: usize,
    /// Threads we started in the last 90 days and in the 90 before: (started, answered by them).
    pub ours_last_90: (usize, usize),
    pub ours_prev_90: (usize, usize),
    pub complaints: Vec<Complaint>,
    pub unanswered: Vec<Unanswered>,
    /// Their messages in the last 90 days that the tone model rates negative (≥ 0.5) and that
    /// are not complaints.
    pub negative_last_90: usize,
}

/// What the thread facts need to know.
pub struct Context<'a> {
    pub as_of: i64,
    pub window: i64,
    /// Business days after which a message of theirs is unanswered.
    pub unanswered_days: i64,
    /// Message-IDs of our mail.
    pub sent_ids: &'a HashSet<String>,
}

fn in_last(day: i64, as_of: i64, n: i64) -> bool {
    day <= as_of && day > as_of - n
}

/// A greeting or a bare name on its own ("Hi Sam,", "Raj,"): not what a message says.
fn is_salutation(s: &str) -> bool {
    let s = s.trim();
    s.split_whitespace().count() <= 3 && (s.ends_with(',') || s.ends_with(':') || !s.contains(|c: char| c.is_ascii_punctuation()))
}

/// The first sentence that says something (greetings skipped), on one line.
pub(crate) fn first_sentence(m: &Message) -> String {
    let all: Vec<&str> = m.sentences.iter().filter_map(|r| m.cleaned.get(r.clone())).filter(|s| !s.trim().is_empty()).collect();
    let s = all.iter().find(|s| !is_salutation(s)).or(all.first()).copied().unwrap_or(m.cleaned.as_str());
    crate::text::one_line(s, 200)
}

/// Analyse one account's messages (`msgs`, in date order).
pub fn analyse(msgs: &[&Message], cx: &Context<'_>) -> ThreadFacts {
    let mut f = ThreadFacts::default();
    let groups = group(msgs);
    let mut delays: Vec<i64> = Vec::new();
    let day = |i: usize| msgs[i].date.map(day_of);
    for g in &groups {
        let mut events: Vec<Event> = Vec::new();
        for (pos, &i) in g.iter().enumerate() {
            let m = msgs[i];
            if m.is_sent() {
                let answers_them = if m.in_reply_to.is_empty() {
                    pos == 0 && m.subject.as_deref().is_some_and(|s| s.trim_start().to_ascii_lowercase().starts_with("re:"))
                } else {
                    m.in_reply_to.iter().all(|id| !cx.sent_ids.contains(bare_id(id)))
                };
                if answers_them && events.last().is_none_or(|e| e.side == Side::Us) {
                    events.push(Event { side: Side::Them, msg: None });
                }
                events.push(Event { side: Side::Us, msg: Some(i) });
            } else {
                events.push(Event { side: Side::Them, msg: Some(i) });
            }
        }
        let Some(first) = events.first().copied() else { continue };
        let turns = 1 + events.windows(2).filter(|w| w[0].side != w[1].side).count();
        let answered = events.iter().any(|e| e.side != first.side);
        f.threads.total += 1;
        let days: Vec<i64> = g.iter().filter_map(|&i| day(i)).collect();
        if days.iter().any(|&d| in_last(d, cx.as_of, cx.window)) {
            f.threads.in_window += 1;
        }
        if turns >= 2 {
            f.threads.two_way += 1;
            if days.iter().any(|&d| in_last(d, cx.as_of, 365)) {
                f.two_way_365 += 1;
            }
        }
        match first.side {
            Side::Us => {
                f.threads.started_by_us += 1;
                f.reciprocity.our_threads += 1;
                f.reciprocity.our_threads_answered += usize::from(answered);
                if let Some(d) = g.first().and_then(|&i| day(i)) {
                    let period = if in_last(d, cx.as_of, 90) {
                        Some(&mut f.ours_last_90)
                    } else if in_last(d, cx.as_of - 90, 90) {
                        Some(&mut f.ours_prev_90)
                    } else {
                        None
                    };
                    if let Some(p) = period {
                        p.0 += 1;
                        p.1 += usize::from(answered);
                    }
                }
            }
            Side::Them => {
                f.threads.started_by_them += 1;
                f.reciprocity.their_threads += 1;
                f.reciprocity.their_threads_answered += usize::from(answered);
            }
        }

        // Answer times, and what is still waiting at the end of the thread.
        let mut pending: Option<i64> = None;
        let mut waiting: Vec<usize> = Vec::new();
        for e in &events {
            match (e.side, e.msg) {
                (Side::Them, Some(i)) => {
                    if pending.is_none() {
                        pending = msgs[i].date;
                    }
                    waiting.push(i);
                }
                (Side::Them, None) => {}
                (Side::Us, i) => {
                    if let (Some(t0), Some(t1)) = (pending, i.and_then(|i| msgs[i].date)) {
                        if t1 >= t0 {
                            delays.push(t1 - t0);
                        }
                    }
                    pending = None;
                    waiting.clear();
                }
            }
        }
        let needs_answer = |m: &Message| mentions::asks(&m.cleaned) || mentions::complaint(&m.cleaned, &m.sentences, m.verdict.as_ref().map(|v| v.tone.negative)).is_some();
        if let Some(&w) = waiting.iter().find(|&&i| needs_answer(msgs[i])) {
            let m = msgs[w];
            // Answered outside the thread: anything we wrote to its sender afterwards.
            let later = msgs.iter().any(|o| {
                o.is_sent() && o.date.zip(m.date).is_some_and(|(a, b)| a > b) && m.sender.as_deref().is_some_and(|s| o.recipients.iter().any(|r| r.eq_ignore_ascii_case(s)))
            });
            if let (false, Some(d)) = (later, m.date.map(day_of)) {
                let waited = business_days(d, cx.as_of);
                if waited >= cx.unanswered_days {
                    let negative = m.verdict.as_ref().map(|v| v.tone.negative);
                    f.unanswered.push(Unanswered {
                        message: message_ref(m),
                        business_days: waited,
                        complaint: mentions::complaint(&m.cleaned, &m.sentences, negative).is_some(),
                        sentence: first_sentence(m),
                    });
                }
            }
        }

        // Complaints, and our first answer to each.
        for (k, e) in events.iter().enumerate() {
            let (Side::Them, Some(i)) = (e.side, e.msg) else { continue };
            let m = msgs[i];
            let negative = m.verdict.as_ref().map(|v| v.tone.negative);
            let recent = m.date.map(day_of).is_some_and(|d| in_last(d, cx.as_of, 90));
            let Some(sentence) = mentions::complaint(&m.cleaned, &m.sentences, negative) else {
                if recent && negative.is_some_and(|n| n >= mentions::COMPLAINT_NEGATIVE) {
                    f.negative_last_90 += 1;
                }
                continue;
            };
            let reply = events[k + 1..].iter().find(|e| e.side == Side::Us).and_then(|e| e.msg).map(|j| msgs[j]);
            f.complaints.push(Complaint {
                complaint: Quoted { message: message_ref(m), sentence: crate::text::one_line(sentence, 300) },
                negative: negative.map(|n| (f64::from(n) * 1000.0).round() / 1000.0),
                apology: reply.and_then(|r| mentions::apology(&r.cleaned, &r.sentences)).map(|s| crate::text::one_line(s, 300)),
                reply: reply.map(|r| Quoted { message: message_ref(r), sentence: first_sentence(r) }),
            });
        }
    }
    let r = &mut f.reciprocity;
    r.we_answered_share = share(r.their_threads_answered, r.their_threads);
    r.they_answered_share = share(r.our_threads_answered, r.our_threads);
    delays.sort_unstable();
    r.replies_timed = delays.len();
    r.median_reply_hours = (!delays.is_empty()).then(|| {
        let n = delays.len();
        let mid = if n % 2 == 1 { delays[n / 2] as f64 } else { (delays[n / 2 - 1] + delays[n / 2]) as f64 / 2.0 };
        (mid / 3600.0 * 10.0).round() / 10.0
    });
    f
}

pub(crate) fn share(n: usize, of: usize) -> Option<f64> {
    (of > 0).then(|| (n as f64 / of as f64 * 1000.0).round() / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::dates::parse_iso_day;
    use crate::source::Direction;

    fn msg(key: &str, dir: Direction, at: &str, subject: &str, reply_to: Option<&str>, text: &str) -> Message {
        let (d, h) = at.split_once(' ').unwrap_or((at, "9"));
        Message {
            message_key: key.into(),
            message_id: Some(format!("<{key}@x>")),
            direction: Some(dir),
            sender: Some(if dir == Direction::Sent { "us@ours.com".into() } else { "kim@c.com".into() }),
            recipients: vec![if dir == Direction::Sent { "kim@c.com".into() } else { "us@ours.com".into() }],
            date: Some(parse_iso_day(d).unwrap() * DAY + h.parse::<i64>().unwrap() * 3600),
            subject: Some(subject.into()),
            in_reply_to: reply_to.map(|r| vec![format!("<{r}@x>")]).unwrap_or_default(),
            sentences: mentions::whole(text),
            cleaned: text.into(),
            ..Default::default()
        }
    }

    fn ids(msgs: &[Message]) -> HashSet<String> {
        msgs.iter().filter(|m| m.is_sent()).filter_map(|m| m.message_id.as_deref().map(|i| bare_id(i).to_string())).collect()
    }

    #[test]
    fn subjects_normalise() {
        assert_eq!(normalize_subject("Re: RE: Fwd: Invoice  7731").as_deref(), Some("invoice 7731"));
        assert_eq!(normalize_subject("AW: [EXTERNAL] Re[2]: Samples").as_deref(), Some("samples"));
        assert_eq!(normalize_subject("Re:"), None);
    }

    #[test]
    fn threads_join_by_ids_and_subject_within_30_days() {
        use Direction::Sent;
        let mut c = msg("c", Sent, "2026-09-03", "Something else", None, "Hi.");
        c.references = vec!["<their-1@c.com>".into()];
        let mut a = msg("a", Sent, "2026-09-01", "Invoice 7731", None, "Hi.");
        a.in_reply_to = vec!["<their-1@c.com>".into()];
        let msgs = [
            a,
            msg("b", Sent, "2026-09-02", "Re: Invoice 7731", None, "Hi."),
            c,
            msg("d", Sent, "2026-09-04", "New topic", None, "Hi."),
            msg("e", Sent, "2026-12-04", "Invoice 7731", None, "Hi."),
        ];
        let refs: Vec<&Message> = msgs.iter().collect();
        assert_eq!(group(&refs), vec![vec![0, 1, 2], vec![3], vec![4]]);
    }

    #[test]
    fn business_days_skip_weekends() {
        let fri = parse_iso_day("2026-10-02").unwrap();
        assert_eq!(business_days(fri, fri), 0);
        assert_eq!(business_days(fri, fri + 3), 1, "to Monday");
        assert_eq!(business_days(fri, fri + 14), 10);
        assert_eq!(business_days(fri, fri + 17), 11);
    }

    #[test]
    fn reciprocity_reply_times_unanswered_and_complaints() {
        use Direction::{Received, Sent};
        let msgs = vec![
            // They start; we answer 4 hours later.
            msg("t1", Received, "2026-09-01 9", "Pricing", None, "Could you send the price list?"),
            msg("u1", Sent, "2026-09-01 13", "Re: Pricing", Some("t1"), "Here it is."),
            // We start; they answer.
            msg("u2", Sent, "2026-09-10 9", "Samples", None, "The samples ship Monday."),
            msg("t2", Received, "2026-09-11 9", "Re: Samples", Some("u2"), "Great, thanks!"),
            // We start; no answer.
            msg("u3", Sent, "2026-09-20 9", "Newsletter", None, "Our autumn range is out."),
            // A complaint, answered with no apology, 2 hours later.
            msg("t3", Received, "2026-10-01 9", "Late again", None, "The second batch arrived late again and two housings were damaged."),
            msg("u4", Sent, "2026-10-01 11", "Re: Late again", Some("t3"), "Please send photos of the housings."),
            // A complaint, answered with an apology, 6 hours later.
            msg("t4", Received, "2026-10-05 9", "Invoice", None, "This is the third time the invoice is wrong."),
            msg("u5", Sent, "2026-10-05 15", "Re: Invoice", Some("t4"), "I'm so sorry about this. The corrected invoice is attached."),
            // Still waiting: a question (Thursday), and a thank-you that needs no answer.
            msg("t5", Received, "2026-10-08 9", "Forecast", None, "Does the Q2 number include Dayton?"),
            msg("t6", Received, "2026-10-09 9", "Thanks", None, "Thanks for the samples!"),
        ];
        let sent = ids(&msgs);
        let refs: Vec<&Message> = msgs.iter().collect();
        let cx = Context { as_of: parse_iso_day("2026-10-13").unwrap(), window: 90, unanswered_days: 2, sent_ids: &sent };
        let f = analyse(&refs, &cx);
        assert_eq!((f.threads.total, f.threads.started_by_us, f.threads.started_by_them, f.threads.two_way), (7, 2, 5, 4));
        let r = &f.reciprocity;
        assert_eq!((r.their_threads, r.their_threads_answered, r.our_threads, r.our_threads_answered), (5, 3, 2, 1));
        assert_eq!((r.we_answered_share, r.they_answered_share), (Some(0.6), Some(0.5)));
        assert_eq!((r.replies_timed, r.median_reply_hours), (3, Some(4.0)), "4, 2 and 6 hours");
        assert_eq!(f.unanswered.len(), 1, "{:?}", f.unanswered);
        assert_eq!((f.unanswered[0].message.subject.as_deref(), f.unanswered[0].business_days), (Some("Forecast"), 3));
        assert_eq!(f.complaints.len(), 2);
        assert_eq!(f.complaints[0].complaint.sentence, "The second batch arrived late again and two housings were damaged.");
        assert_eq!(f.complaints[0].apology, None);
        assert_eq!(f.complaints[0].reply.as_ref().map(|q| q.sentence.as_str()), Some("Please send photos of the housings."));
        assert_eq!(f.complaints[1].apology.as_deref(), Some("I'm so sorry about this. The corrected invoice is attached."));
    }

    #[test]
    fn sent_only_mail_still_shows_their_turns() {
        use Direction::Sent;
        // Our answer to a message of theirs we never read, and a thread we opened that they answered.
        let mut m1 = msg("u1", Sent, "2026-09-01", "Re: Pricing", None, "Here it is.");
        m1.in_reply_to = vec!["<CAE1@c.com>".into()];
        let m2 = msg("u2", Sent, "2026-09-10", "Samples", None, "The samples ship Monday.");
        let mut m3 = msg("u3", Sent, "2026-09-12", "Re: Samples", None, "Monday it is.");
        m3.in_reply_to = vec!["<CAE2@c.com>".into()];
        m3.references = vec!["<u2@x>".into(), "<CAE2@c.com>".into()];
        let msgs = [m1, m2, m3];
        let sent = ids(&msgs);
        let refs: Vec<&Message> = msgs.iter().collect();
        let cx = Context { as_of: parse_iso_day("2026-10-13").unwrap(), window: 90, unanswered_days: 2, sent_ids: &sent };
        let f = analyse(&refs, &cx);
        assert_eq!((f.threads.total, f.threads.started_by_them, f.threads.started_by_us, f.threads.two_way), (2, 1, 1, 2));
        assert_eq!((f.reciprocity.we_answered_share, f.reciprocity.they_answered_share), (Some(1.0), Some(1.0)));
        assert_eq!(f.reciprocity.median_reply_hours, None, "no time for a turn we only infer");
    }
}
