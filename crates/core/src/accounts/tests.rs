//! Deterministic random inputs (proptest-style, seeded with `text::splitmix64`) through everything
//! the accounts report reads from mail: calendar parts, mentions, dates, durations, mapping and
//! call-log CSV, the exclusion heuristics, and the whole report with its renderers. Nothing may
//! panic, and what each function promises must hold. The same inputs run under cargo-fuzz in
//! `fuzz/fuzz_targets/accounts_evidence.rs`.
use super::*;
use crate::source::Direction;
use crate::text::splitmix64;

/// Fragments random texts are built from: iCalendar syntax, the phrases and dates the report
/// looks for, and characters that trip byte slicing (multi-byte, combining, emoji, controls).
const FRAGMENTS: &[&str] = &[
    "BEGIN:VCALENDAR", "END:VCALENDAR", "BEGIN:VEVENT", "END:VEVENT", "METHOD:", "REQUEST", "CANCEL", "REPLY", "UID:", "SEQUENCE:",
    "STATUS:CANCELLED", "DTSTART:", "DTSTART;TZID=Europe/London:", "20261006", "T150000Z", "T1", "RRULE:FREQ=WEEKLY", "ATTENDEE",
    ";PARTSTAT=DECLINED", ";CN=\"Raman, Priya\"", ":mailto:", ":MAILTO:", "ORGANIZER:", "SUMMARY:", "王小明@x.cn", "é", "Ü", "😀", "\u{301}",
    "\u{0}", "\r\n", "\n", "\n ", " ", ":", ";", ",", "\\", "\"", "@", "a@b.com", "ken@harborlight.co.uk", "I'll call you", "call you",
    " next Tuesday", " tomorrow", " on Friday", "October 6", "6th of Oct", "2026-13-45", "2026-02-29", "1999-12-31", "Sept 31", " this afternoon",
    "As discussed on the phone", "great to see you", "Thanks for lunch", "Talk to you", "let's meet", "https://zoom.us/j/123", "meet.google.com/abc-defg-hij",
    "sorry", "disappointed", "still haven't received", "third time", "Hey Mom and Dad,", "Re: ", "Fw: ", "[EXTERNAL]", "Re[2]:", "5:07", "1.5h", "0",
    "-", "#", "?", ".", "!", "90s", "99999999999999999999", "noreply", "unsubscribe-", "Arora, Harry", "harry.arora",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = splitmix64(self.0);
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn text(&mut self, max_parts: usize) -> String {
        let n = self.below(max_parts + 1);
        let mut s = String::new();
        for _ in 0..n {
            if self.below(8) == 0 {
                // A random character, any plane.
                s.push(char::from_u32((self.next() % 0x2_0000) as u32).unwrap_or('\u{fffd}'));
            } else {
                s.push_str(FRAGMENTS[self.below(FRAGMENTS.len())]);
            }
        }
        s
    }
    fn ranges(&mut self, len: usize) -> Vec<std::ops::Range<usize>> {
        (0..self.below(4))
            .map(|_| {
                let a = self.below(len + 3);
                let b = self.below(len + 3);
                a.min(b)..a.max(b)
            })
            .collect()
    }
}

/// One random piece of calendar text, mention text and dates, through every parser.
fn check_evidence_inputs(seed: u64) {
    let mut r = Rng(seed);
    let ics = match r.below(3) {
        0 => r.text(30),
        1 => format!("BEGIN:VCALENDAR\r\n{}", r.text(30)),
        _ => {
            // Well-formed structure, random properties.
            let names = ["ATTENDEE", "ORGANIZER", "DTSTART", "UID", "SEQUENCE", "STATUS", "SUMMARY", "RRULE", "METHOD"];
            let mut s = String::from("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n");
            for _ in 0..1 + r.below(6) {
                let value = r.text(3);
                s.push_str(&format!("{}{}:{}\r\n", names[r.below(names.len())], if r.below(3) == 0 { ";PARTSTAT=ACCEPTED" } else { "" }, value.replace(['\r', '\n'], " ")));
            }
            s.push_str("END:VEVENT\r\nEND:VCALENDAR\r\n");
            s
        }
    };
    let text = r.text(20);
    let day = dates::days_from_civil(2026, 1, 1) + r.below(800) as i64 - 400;
    let mut sentences = r.ranges(text.len());
    sentences.push(0..text.len());
    let from = r.below(text.len() + 2);
    let negative = (r.below(3) > 0).then(|| r.below(100) as f32 / 100.0);
    check_evidence(&ics, &text, &sentences, day, from, negative);
}

/// Calendar text, a message's text with sentence ranges (any, even off character boundaries), its
/// day, a position and a tone, through every parser the evidence uses.
fn check_evidence(ics: &str, text: &str, sentences: &[std::ops::Range<usize>], day: i64, from: usize, negative: Option<f32>) {
    if let Ok(events) = calendar::parse(ics) {
        for e in &events {
            assert!(e.attendees.iter().all(|(a, _)| a.contains('@')), "an attendee without @: {e:?}");
            let _ = e.not_counted();
            let _ = e.describe();
        }
    }
    for m in mentions::find(text, sentences, day) {
        if m.tense == mentions::Tense::Past && !m.link {
            assert_eq!(m.day, day, "a past mention counts at the message date: {m:?}");
        }
        assert_eq!(dates::parse_iso_day(&dates::iso(m.day)), Some(m.day), "{m:?}");
        assert!(!m.sentence.is_empty());
    }
    if let Some(res) = dates::resolve_relative(text, from, day) {
        assert!(text.to_lowercase().contains(&res.expression.split_whitespace().next().unwrap_or("").to_lowercase()), "{res:?} not in {text:?}");
    }
    let _ = dates::parse_iso_day(text);
    let _ = dates::parse_ical_datetime(text);
    let _ = calls::parse_duration(text);
    let _ = calls::parse(text, "calls.csv");
    let _ = mapping::Mapping::parse_csv(text, "map.csv");
    let _ = mapping::Mapping::parse_toml(text, "map.toml");
    if let Some(s) = mentions::complaint(text, sentences, negative) {
        assert!(text.contains(s));
    }
    let _ = mentions::apology(text, sentences);
    let _ = mentions::thanks(text, sentences);
    let _ = (mentions::family_greeting(text), mentions::asks(text), mentions::is_bare_forward(Some(text), text), mentions::intent(text));
    let _ = (exclude::name_of_display(text), exclude::name_of_local(text), exclude::letters(text), exclude::automated_address(text));
    let _ = normalize_subject(text);
    let _ = domain::registrable_domain(text);
    let _ = domain::domain_of(text);
}

/// A random mailbox (both directions, calendar parts, odd addresses) through the whole report and
/// every renderer.
fn check_report(seed: u64) {
    let mut r = Rng(seed);
    let people = ["ken@harborlight.co.uk", "priya@acme.com", "tom@acme.com", "王小明@x.cn", "sophie@gmail.com", "noreply@shop.com", "x", "dana.w@gmail.com"];
    let n = 1 + r.below(25);
    let base = dates::days_from_civil(2026, 6, 1) * DAY_SECONDS;
    let mut msgs = Vec::new();
    for i in 0..n {
        let sent = r.below(3) > 0;
        let other = people[r.below(people.len())].to_string();
        let text = r.text(12);
        let mut m = Message {
            message_key: format!("m{i}"),
            message_id: (r.below(4) > 0).then(|| format!("<m{i}@x>")),
            origin: format!("m{i}.eml"),
            direction: Some(if sent { Direction::Sent } else { Direction::Received }),
            sender: Some(if sent { "dana@northwind.example".into() } else { other.clone() }),
            sender_name: (r.below(3) == 0).then(|| r.text(2)),
            recipients: if sent { (0..1 + r.below(3)).map(|_| people[r.below(people.len())].to_string()).collect() } else { vec!["dana@northwind.example".into()] },
            date: (r.below(10) > 0).then(|| base + r.below(200 * 86_400) as i64),
            subject: Some(r.text(3)),
            in_reply_to: if r.below(2) == 0 && i > 0 { vec![format!("<m{}@x>", r.below(i))] } else { Vec::new() },
            calendar: if r.below(5) == 0 { vec![format!("BEGIN:VCALENDAR\nBEGIN:VEVENT\n{}\nEND:VEVENT\nEND:VCALENDAR\n", r.text(10))] } else { Vec::new() },
            sentences: Vec::new(),
            cleaned: text,
            verdict: (r.below(3) > 0).then(|| crate::state::Verdict {
                risk: 0.5,
                flagged: r.below(4) == 0,
                tone: crate::verdict::Tone { negative: r.below(100) as f32 / 100.0, neutral: 0.0, positive: 0.0 },
                findings: vec![],
                sentence_risk: vec![],
            }),
            ..Default::default()
        };
        m.sentences = r.ranges(m.cleaned.len());
        m.list.unsubscribe = r.below(10) == 0;
        msgs.push(m);
    }
    msgs.sort_by_key(|m| (m.date.is_none(), m.date, m.message_key.clone()));
    let opts = Options { as_of: dates::days_from_civil(2026, 6, 1) + r.below(260) as i64, min_messages: r.below(3), mass_mail_recipients: 1 + r.below(3), ..Default::default() };
    let rep = build(&msgs, &Extra::default(), &opts);
    let s = &rep.summary;
    assert_eq!(s.accounts, rep.accounts.len());
    assert_eq!(s.email_only + s.mixed + s.inactive, s.accounts);
    assert!(s.active <= s.accounts);
    assert_eq!(s.excluded, rep.excluded.len());
    for a in &rep.accounts {
        assert!(a.emails.last_30 <= a.emails.last_90 && a.emails.last_90 <= a.emails.last_365 && a.emails.last_365 <= a.emails.total, "{}", a.account);
        assert_eq!(a.emails.sent + a.emails.received, a.emails.total);
        assert!((0.0..=100.0).contains(&a.strength.score) && (0.0..=100.0).contains(&a.need.score), "{}: {:?} {:?}", a.account, a.strength, a.need);
        assert!(a.evidence.iter().filter(|e| e.is_promise()).all(|e| !e.counted()), "a promise counted: {:?}", a.evidence);
        assert!(a.tenure_days >= 0);
    }
    for w in rep.needs_attention.windows(2) {
        assert!(w[0].rank <= w[1].rank);
    }
    for f in [crate::report::Format::Table, crate::report::Format::Json, crate::report::Format::Csv, crate::report::Format::Html] {
        let mut out = Vec::new();
        crate::report::accounts::render(&mut out, &rep, f, 5).unwrap();
        assert!(std::str::from_utf8(&out).is_ok());
    }
    let plan = crate::report::accounts::plan::render(&rep, 5);
    assert!(plan.split("\r\n").all(|l| l.len() <= 75), "a plan line over 75 octets");
    let events = calendar::parse(&plan).expect("the plan is iCalendar");
    assert_eq!(events.len(), rep.needs_attention.len().min(5));
}

const DAY_SECONDS: i64 = 86_400;

#[test]
fn random_evidence_inputs_never_panic() {
    for seed in 0..4000 {
        check_evidence_inputs(seed);
    }
}

#[test]
fn random_mailboxes_never_panic_and_keep_their_invariants() {
    for seed in 0..400 {
        check_report(seed);
    }
}
