//! Snapshot tests of every format, from a report built by hand (no state, no model).
use super::*;
use crate::findings::Finding;
use crate::verdict::Tone;

fn finding(code: &'static str, name: &'static str, severity: Severity, span: std::ops::Range<usize>, sentence: usize) -> Finding {
    Finding { code, name, severity, message: format!("{name} here"), suggestion: Some("say it kindly".into()), span, sentence }
}

fn message(key: &str, sender: &str, date: i64, cleaned: &str, sentences: Vec<std::ops::Range<usize>>, risk: f32, findings: Vec<Finding>) -> StoredMessage {
    let flagged = findings.iter().any(|f| f.severity >= Severity::Warning);
    StoredMessage {
        message_key: key.into(),
        message_id: Some(format!("{key}@northwind.example")),
        origin: format!("maildir/cur/{key}"),
        direction: Some(crate::source::Direction::Sent),
        sender: Some(sender.into()),
        recipients: vec!["marc@bluefin.example".into()],
        to_count: 1,
        date: Some(date),
        subject: Some(format!("Order {key}, \"urgent\"")),
        sentences,
        cleaned: cleaned.into(),
        verdict: Some(crate::state::Verdict { risk, flagged, tone: Tone { negative: 0.5, neutral: 0.3, positive: 0.2 }, findings, sentence_risk: vec![risk] }),
        ..Default::default()
    }
}

fn report() -> AuditReport {
    let text = "Hi Marc. As per my last email, pay NOW. =SUM(A1)";
    let msgs = vec![
        message("1", "dana@northwind.example", 1_700_000_000, text, vec![0..8, 9..39, 40..48], 0.93, vec![
            finding("R104", "passive-aggressive", Severity::Warning, 9..30, 1),
            finding("R101", "shouting", Severity::Warning, 35..38, 1),
            finding("R102", "piled-punctuation", Severity::Warning, 40..48, 2),
        ]),
        message("2", "lee@northwind.example", 1_702_600_000, "Thanks for the order.", vec![0..21], 0.02, vec![]),
    ];
    let run = RunStats { read: 2, scored: 2, errors: vec![("maildir/cur/3".into(), "not an email message".into())], ..Default::default() };
    build(&msgs, "audit.sqlite3", "model-x", &run)
}

fn rendered(format: crate::report::Format) -> String {
    let mut out = Vec::new();
    render(&mut out, &report(), format).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn builds_from_stored_messages() {
    let r = report();
    assert_eq!((r.messages, r.flagged_count), (2, 1));
    assert_eq!(r.senders.len(), 2);
    let f = &r.flagged[0].findings[0];
    assert_eq!((f.text.as_str(), f.offset), ("As per my last email,", 0));
    assert_eq!(r.flagged[0].findings[1].text, "NOW");
    assert_eq!(r.months.len(), 2);
}

#[test]
fn table() {
    insta::assert_snapshot!(rendered(crate::report::Format::Table));
}

#[test]
fn csv_defuses_formulas() {
    let s = rendered(crate::report::Format::Csv);
    assert!(!s.lines().any(|l| l.split(',').any(|c| c.starts_with('='))), "{s}");
    assert!(s.contains(",'=SUM(A1)"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn json() {
    let s = rendered(crate::report::Format::Json);
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    assert_eq!(v["flagged"][0]["findings"][0]["span"], serde_json::json!([9, 30]), "spans are [start, end] as in check");
    insta::assert_snapshot!(s);
}

#[test]
fn html() {
    insta::assert_snapshot!(rendered(crate::report::Format::Html));
}
