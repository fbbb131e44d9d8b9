//! Invariants of the accounts evidence (`rapport_core::accounts`), for the `accounts_evidence`
//! target: calendar parts, mentions of calls and meetings, relative dates, durations, the mapping
//! and call-log CSV, the exclusion heuristics, and a report built from a message with this text,
//! rendered in every format and as a plan. The same checks run over seeded random inputs in
//! `crates/core/src/accounts/tests.rs` (no cargo-fuzz needed).
use rapport::accounts::{self, calendar, calls, dates, domain, exclude, mapping, mentions};
use rapport::source::Direction;

/// Split the input at NUL bytes: calendar text, message text, then a few numbers.
pub fn check_accounts_evidence(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\0');
    let ics = parts.next().unwrap_or("");
    let body = parts.next().unwrap_or(ics);
    let n = |i: usize| data.get(i).copied().unwrap_or(0) as usize;
    let day = dates::days_from_civil(2026, 1, 1) + n(0) as i64 * 3 - 300;

    if let Ok(events) = calendar::parse(ics) {
        for e in &events {
            assert!(e.attendees.iter().all(|(a, _)| a.contains('@')), "an attendee without @: {e:?}");
            let _ = (e.not_counted(), e.describe());
        }
    }
    let mut sentences: Vec<std::ops::Range<usize>> = vec![0..body.len()];
    for k in 0..n(1) % 4 {
        let (a, b) = (n(2 + k) % (body.len() + 2), n(6 + k) % (body.len() + 2));
        sentences.push(a.min(b)..a.max(b));
    }
    for m in mentions::find(body, &sentences, day) {
        if m.tense == mentions::Tense::Past && !m.link {
            assert_eq!(m.day, day, "a past mention counts at the message date: {m:?}");
        }
        assert_eq!(dates::parse_iso_day(&dates::iso(m.day)), Some(m.day), "{m:?}");
    }
    let _ = dates::resolve_relative(body, n(3) % (body.len() + 1), day);
    let _ = (dates::parse_iso_day(body), dates::parse_ical_datetime(body), calls::parse_duration(body));
    let _ = calls::parse(body, "calls.csv");
    let _ = mapping::Mapping::parse_csv(body, "map.csv");
    let _ = mapping::Mapping::parse_toml(body, "map.toml");
    let negative = Some(n(4) as f32 / 255.0);
    if let Some(s) = mentions::complaint(body, &sentences, negative) {
        assert!(body.contains(s));
    }
    let _ = (mentions::apology(body, &sentences), mentions::thanks(body, &sentences), mentions::intent(body));
    let _ = (mentions::family_greeting(body), mentions::asks(body), mentions::is_bare_forward(Some(body), body));
    let _ = (exclude::name_of_display(body), exclude::name_of_local(body), exclude::automated_address(body));
    let _ = (accounts::normalize_subject(body), domain::registrable_domain(body), domain::domain_of(body));

    // A small mailbox with this text, both ways, and the report over it.
    let msg = |key: &str, sent: bool, at: i64| accounts::Message {
        message_key: key.into(),
        message_id: Some(format!("<{key}@x>")),
        origin: key.into(),
        direction: Some(if sent { Direction::Sent } else { Direction::Received }),
        sender: Some(if sent { "dana@northwind.example".into() } else { "ken@harborlight.co.uk".into() }),
        sender_name: Some(body.chars().take(40).collect()),
        recipients: if sent { vec!["ken@harborlight.co.uk".into(), body.chars().take(60).collect()] } else { vec!["dana@northwind.example".into()] },
        date: Some(at * 86_400 + 36_000),
        subject: Some(body.chars().take(30).collect()),
        in_reply_to: vec!["<a@x>".into()],
        calendar: vec![ics.to_string()],
        sentences: sentences.clone(),
        cleaned: body.to_string(),
        verdict: None,
        ..Default::default()
    };
    let messages = vec![msg("a", true, day), msg("b", false, day + 1), msg("c", true, day + 2)];
    let opts = accounts::Options { as_of: day + (n(5) % 200) as i64, min_messages: 1, ..Default::default() };
    let rep = accounts::build(&messages, &accounts::Extra::default(), &opts);
    assert_eq!(rep.summary.accounts, rep.accounts.len());
    for f in [rapport::report::Format::Table, rapport::report::Format::Json, rapport::report::Format::Csv, rapport::report::Format::Html] {
        let mut out = Vec::new();
        rapport::report::accounts::render(&mut out, &rep, f, 5).expect("renders");
    }
    let plan = rapport::report::accounts::plan::render(&rep, 5);
    assert!(plan.split("\r\n").all(|l| l.len() <= 75), "a plan line over 75 octets");
    assert_eq!(calendar::parse(&plan).expect("the plan is iCalendar").len(), rep.needs_attention.len().min(5));
}
