//! The context on a small history built in memory: an email-only account with a kind customer
//! message, and an account with a meeting and an upset customer.
use super::*;
use crate::source::Direction;
use crate::state::Verdict;
use crate::verdict::Tone;

const DAY: i64 = 86_400;
/// 2026-11-20 00:00 UTC, the drafts' date.
const NOW: i64 = 20_777 * DAY;

fn verdict(risk: f32, negative: f32, flagged: bool) -> Verdict {
    Verdict { risk, flagged, tone: Tone { negative, neutral: 1.0 - negative, positive: 0.0 }, findings: vec![], sentence_risk: vec![risk] }
}

fn sent(id: &str, to: &str, days_ago: i64, text: &str, risk: f32) -> StoredMessage {
    StoredMessage {
        message_key: id.into(),
        message_id: Some(id.into()),
        direction: Some(Direction::Sent),
        sender: Some("dana@northwind.example".into()),
        recipients: vec![to.into()],
        to_count: 1,
        date: Some(NOW - days_ago * DAY),
        sentences: vec![0..text.len()],
        cleaned: text.into(),
        verdict: Some(verdict(risk, 0.05, false)),
        ..Default::default()
    }
}

fn received(id: &str, from: &str, name: &str, days_ago: i64, v: Verdict) -> StoredMessage {
    StoredMessage {
        message_key: id.into(),
        message_id: Some(id.into()),
        direction: Some(Direction::Received),
        sender: Some(from.into()),
        sender_name: Some(name.into()),
        recipients: vec!["dana@northwind.example".into()],
        date: Some(NOW - days_ago * DAY),
        cleaned: "A message.".into(),
        sentences: vec![0..10],
        verdict: Some(v),
        ..Default::default()
    }
}

fn history() -> History {
    let mut ms = Vec::new();
    for i in 0..12 {
        ms.push(sent(&format!("f{i}@northwind.example"), "anna@fabrikam.com", 5 + i * 6, "Thanks for your order, it ships today.", 0.02 + i as f32 * 0.002));
    }
    ms.push(received("kind@fabrikam.com", "anna@fabrikam.com", "Anna Roth", 2, verdict(0.03, 0.05, false)));
    ms.push(sent("c1@northwind.example", "ben@contoso.com", 20, "Thanks for meeting with us yesterday, it was great to see the plant.", 0.02));
    ms.push(sent("c2@northwind.example", "ben@contoso.com", 10, "Here is the quote we talked about.", 0.03));
    ms.push(received("upset@contoso.com", "ben@contoso.com", "Ben Ito", 1, verdict(0.95, 0.9, true)));
    ms.sort_by_key(|m| m.date);
    History::new("test.sqlite3".into(), ms, Accepted::new())
}

fn draft(to: &str, in_reply_to: Option<&str>) -> Draft {
    Draft {
        sender: Some("dana@northwind.example".into()),
        recipients: vec![to.into()],
        in_reply_to: in_reply_to.map(|s| vec![s.to_string()]).unwrap_or_default(),
        date: Some(NOW + 3600),
        ..Default::default()
    }
}

fn assessment(clean: &CleanText, risk: f32, flagged: bool) -> Assessment {
    let n = clean.sentences.len();
    let mut findings = Vec::new();
    if flagged {
        let r = RULES.iter().find(|r| r.code == "M206").unwrap();
        findings.push(Finding { code: r.code, name: r.name, severity: Severity::Warning, message: "m".into(), suggestion: None, span: clean.sentences[n - 1].clone(), sentence: n - 1 });
    }
    Assessment {
        findings,
        tone: Tone { negative: risk, neutral: 1.0 - risk, positive: 0.0 },
        tones: Default::default(),
        sentence_risk: vec![risk; n],
        risk,
        flagged,
        scores: vec![],
    }
}

fn codes(o: &Outcome) -> Vec<&'static str> {
    o.findings.iter().map(|f| f.code).collect()
}

#[test]
fn a_harsh_reply_to_a_kind_message_on_an_email_only_account() {
    let mut h = history();
    let clean = crate::clean::clean("Anna,\n\nAs per my last email, the price list is on the website. Send your order by Friday.\n\nDana\n");
    let a = assessment(&clean, 0.95, true);
    let o = assess(&mut h, &draft("anna@fabrikam.com", Some("<kind@fabrikam.com>")), &clean, Some(&a));
    let acc = o.context.account.as_ref().unwrap();
    assert_eq!((acc.name.as_str(), acc.verdict.as_str(), acc.emails_90d), ("fabrikam.com", "email_only", 12));
    assert!(acc.last_call_or_meeting.is_none());
    let t = o.context.thread.as_ref().unwrap();
    assert_eq!(t.replying_to.from.as_deref(), Some("Anna Roth <anna@fabrikam.com>"));
    assert_eq!(t.replying_to.date.as_deref(), Some("2026-11-18"));
    assert!(t.escalation);
    assert_eq!(codes(&o), ["C301", "C304", "C302"]);
    let lines = o.context.lines();
    assert_eq!(lines[0], "fabrikam.com has had nothing but email from you for 90 days (12 emails): consider a call.");
    assert!(lines[1].starts_with("Replying to Anna Roth <anna@fabrikam.com> (2026-11-18, risk 3%): this reply is harsher than the kind"), "{lines:?}");
    let json = serde_json::to_value(&o.context).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "account": {"name": "fabrikam.com", "verdict": "email_only", "emails_90d": 12, "last_call_or_meeting": null},
            "thread": {"replying_to": {"from": "Anna Roth <anna@fabrikam.com>", "date": "2026-11-18", "risk": 0.03f32}, "escalation": true}
        })
    );
}

#[test]
fn a_kind_reply_raises_nothing() {
    let mut h = history();
    let clean = crate::clean::clean("Hi Anna,\n\nThanks so much! The new price list is attached.\n\nBest,\nDana\n");
    let a = assessment(&clean, 0.04, false);
    let o = assess(&mut h, &draft("anna@fabrikam.com", Some("kind@fabrikam.com")), &clean, Some(&a));
    assert!(o.findings.is_empty(), "{:?}", o.findings);
    assert!(!o.context.thread.unwrap().escalation);
}

#[test]
fn an_account_with_a_meeting_and_an_upset_customer() {
    let mut h = history();
    let clean = crate::clean::clean("Hi Ben,\n\nThe replacement ships on Monday. Tracking will follow.\n\nBest regards,\nDana\n");
    let a = assessment(&clean, 0.2, false);
    let o = assess(&mut h, &draft("ben@contoso.com", Some("upset@contoso.com")), &clean, Some(&a));
    let acc = o.context.account.as_ref().unwrap();
    assert_eq!((acc.name.as_str(), acc.verdict.as_str()), ("contoso.com", "mixed"));
    let touch = acc.last_call_or_meeting.as_ref().unwrap();
    assert_eq!(touch.channel, "meeting");
    assert_eq!(codes(&o), ["C303"], "an upset customer, not acknowledged; not email-only, so no C301");
    assert!(o.context.lines()[0].starts_with("contoso.com: 2 emails in the last 90 days; last meeting on "), "{:?}", o.context.lines());
    // An acknowledgement silences it.
    let clean = crate::clean::clean("Hi Ben,\n\nI'm sorry the parts arrived broken again. The replacement ships on Monday.\n\nBest regards,\nDana\n");
    let o = assess(&mut h, &draft("ben@contoso.com", Some("upset@contoso.com")), &clean, Some(&assessment(&clean, 0.2, false)));
    assert!(o.findings.is_empty(), "{:?}", o.findings);
}

#[test]
fn unknown_recipients_have_no_account_context_but_a_name_to_accept_under() {
    let mut h = history();
    let clean = crate::clean::clean("Hello there, this is a test.");
    let o = assess(&mut h, &draft("x@mail.tailspin.co.uk", None), &clean, Some(&assessment(&clean, 0.99, true)));
    assert!(o.context.account.is_none() && o.context.thread.is_none() && o.findings.is_empty());
    assert_eq!(o.account.as_deref(), Some("tailspin.co.uk"));
    // A subdomain of a known account finds it.
    let o = assess(&mut h, &draft("ops@eu.fabrikam.com", None), &clean, None);
    assert_eq!(o.context.account.unwrap().name, "fabrikam.com");
    assert!(o.findings.is_empty(), "nothing is said about a draft that was not checked");
}

#[test]
fn the_baseline_turns_accepted_codes_into_notes_for_that_account_only() {
    let mut ms = history().messages().to_vec();
    let r104 = RULES.iter().find(|r| r.code == "R104").unwrap();
    let f = Finding { code: r104.code, name: r104.name, severity: Severity::Warning, message: "per my last".into(), suggestion: None, span: 0..3, sentence: 0 };
    ms.sort_by_key(|m| m.date);
    for m in ms.iter_mut().filter(|m| m.is_sent()) {
        m.verdict.as_mut().unwrap().findings.push(f.clone());
    }
    let before: Vec<String> = ms.iter().map(|m| m.message_key.clone()).collect();
    let accepted: Accepted = [("fabrikam.com".to_string(), ["R104".to_string()].into())].into();
    apply_baseline(&mut ms, &accepted);
    assert_eq!(ms.iter().map(|m| m.message_key.clone()).collect::<Vec<_>>(), before, "the order is kept");
    for m in ms.iter().filter(|m| m.is_sent()) {
        let sev = m.verdict.as_ref().unwrap().findings[0].severity;
        let to_fabrikam = m.recipients[0].ends_with("fabrikam.com");
        assert_eq!(sev, if to_fabrikam { Severity::Info } else { Severity::Warning }, "{:?}", m.recipients);
    }
}

#[test]
fn a_focused_history_gives_the_same_context() {
    let clean = crate::clean::clean("Anna,\n\nAs per my last email, the price list is on the website. Send your order by Friday.\n\nDana\n");
    let a = assessment(&clean, 0.95, true);
    for d in [draft("anna@fabrikam.com", Some("kind@fabrikam.com")), draft("ben@contoso.com", Some("upset@contoso.com")), draft("x@elsewhere.org", None)] {
        let mut full = history();
        let whole = assess(&mut full, &d, &clean, Some(&a));
        let mut focused = history();
        focused.focus(&d);
        assert!(focused.messages().len() < full.messages().len());
        let part = assess(&mut focused, &d, &clean, Some(&a));
        assert_eq!(whole.context, part.context, "{:?}", d.recipients);
        assert_eq!(codes(&whole), codes(&part));
        assert_eq!(whole.account, part.account);
    }
}
