//! Snapshot tests of every format, from a report built by hand (no state, no model): two of our
//! senders, mail both ways with three customers, a complaint answered without an apology, an
//! unanswered question, a meeting without a thank-you, and addresses that are not customers.
use super::*;
use crate::accounts::dates::{parse_iso_day, DAY};
use crate::accounts::{build, mentions, Extra, Message, Options};
use crate::source::Direction;
use crate::verdict::Tone;

fn msg(key: &str, at: &str, from: &str, to: &[&str], subject: &str, reply_to: Option<&str>, text: &str) -> Message {
    let sent = from.ends_with("@northwind.example");
    Message {
        message_key: key.into(),
        message_id: Some(format!("<{key}@mail>")),
        origin: format!("maildir/cur/{key}"),
        direction: Some(if sent { Direction::Sent } else { Direction::Received }),
        sender: Some(from.into()),
        recipients: to.iter().map(|s| s.to_string()).collect(),
        to_count: to.len(),
        date: Some(parse_iso_day(at).unwrap() * DAY + 10 * 3600),
        subject: Some(subject.into()),
        in_reply_to: reply_to.map(|r| vec![format!("<{r}@mail>")]).unwrap_or_default(),
        sentences: mentions::whole(text),
        cleaned: text.into(),
        verdict: Some(crate::state::Verdict {
            risk: 0.2,
            flagged: text.contains("NOW"),
            tone: Tone { negative: if text.contains("disappointed") { 0.7 } else { 0.1 }, neutral: 0.5, positive: 0.2 },
            findings: vec![],
            sentence_risk: vec![],
        }),
        ..Default::default()
    }
}

fn report() -> Report {
    let dana = "dana@northwind.example";
    let lee = "lee@northwind.example";
    let invite = "BEGIN:VCALENDAR\nMETHOD:REQUEST\nBEGIN:VEVENT\nUID:qr@northwind.example\nDTSTART:20261006T140000Z\nSUMMARY:Quarterly review\nATTENDEE:mailto:priya@acme.example\nEND:VEVENT\nEND:VCALENDAR\n";
    let mut m = vec![
        msg("a1", "2026-08-03", dana, &["priya@acme.example"], "Order shipped", None, "Your order has shipped."),
        msg("a2", "2026-09-29", dana, &["priya@acme.example", "tom@acme.example"], "Quarterly review", None, "The invite for our review is attached."),
        msg("a3", "2026-10-28", "priya@acme.example", &[dana], "Forecast", None, "Here is the forecast. I am disappointed: the second batch arrived late again."),
        msg("a4", "2026-10-29", dana, &["priya@acme.example"], "Re: Forecast", Some("a3"), "Thanks for the forecast. Does Q2 include Dayton?"),
        msg("b1", "2026-07-01", lee, &["marc@bluefin.example"], "Invoice 7731", None, "Invoice 7731 is attached, \"=SUM(A1)\"."),
        msg("b2", "2026-07-20", lee, &["marc@bluefin.example"], "Invoice 7731", None, "Pay it NOW."),
        msg("b3", "2026-08-05", lee, &["marc@bluefin.example"], "Reminder", None, "Pay it NOW, please."),
        msg("b4", "2026-08-20", lee, &["marc@bluefin.example"], "Last reminder", None, "Pay NOW."),
        msg("b5", "2026-10-02", lee, &["marc@bluefin.example"], "Statement", None, "Your statement is attached."),
        msg("s1", "2026-11-02", dana, &["sophie@gmail.com"], "Installation", None, "Our fitter can come on Saturday."),
        msg("s2", "2026-11-03", "sophie@gmail.com", &[dana], "Re: Installation", Some("s1"), "Could you confirm the time?"),
        msg("x1", "2026-11-04", dana, &["dana.whitfield@gmail.com"], "Fw: notes", None, ""),
        msg("x2", "2026-11-05", "news@shop.example", &[dana], "Deals", None, "Big deals this week."),
    ];
    m[1].calendar = vec![invite.into()];
    m[12].list.unsubscribe = true;
    m[0].sender_name = Some("Dana Whitfield".into());
    m.sort_by_key(|x| (x.date, x.message_key.clone()));
    let opts = Options { as_of: parse_iso_day("2026-11-23").unwrap(), state: "audit.sqlite3".into(), model_id: "model-x".into(), ..Default::default() };
    crate::accounts::build(&m, &Extra::default(), &opts)
}

fn rendered(format: crate::report::Format) -> String {
    let mut out = Vec::new();
    render(&mut out, &report(), format, 10).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn builds_what_the_renderers_show() {
    let r = report();
    assert_eq!(r.accounts.iter().map(|a| a.account.as_str()).collect::<Vec<_>>(), ["acme.example", "bluefin.example", "sophie@gmail.com"]);
    assert_eq!(r.senders, ["dana@northwind.example", "lee@northwind.example"]);
    assert_eq!(r.complaints_without_apology.len(), 1);
    assert_eq!(r.unanswered.len(), 1);
    assert_eq!(r.thanks_after_meeting.len(), 1);
    assert_eq!(r.excluded.iter().map(|e| e.reason.as_str()).collect::<Vec<_>>(), ["own_address", "automated"]);
    assert!(!r.needs_attention.is_empty());
    let _ = build;
}

#[test]
fn table() {
    let s = rendered(crate::report::Format::Table);
    assert!(s.lines().all(|l| l == l.trim_end()), "no trailing blanks");
    insta::assert_snapshot!(s);
}

#[test]
fn csv_defuses_formulas() {
    let s = rendered(crate::report::Format::Csv);
    assert_eq!(s.lines().next(), Some(CSV_HEADER));
    assert_eq!(s.lines().count(), 4, "a header and one row per account");
    assert!(!s.lines().any(|l| l.split(',').any(|c| c.starts_with('='))), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn json() {
    let s = rendered(crate::report::Format::Json);
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    assert_eq!(v["schema"], 2);
    for key in ["accounts", "excluded", "needs_attention", "complaints_without_apology", "unanswered", "thanks_after_meeting"] {
        assert!(v[key].is_array(), "{key}");
    }
    insta::assert_snapshot!(s);
}

#[test]
fn html() {
    let s = rendered(crate::report::Format::Html);
    for external in ["<script", "<link", "src=", "url(", "@import"] {
        assert!(!s.contains(external), "the report must be self-contained, found {external}");
    }
    assert!(s.contains("id=\"only-email-only\""), "the email-only filter");
    assert!(s.contains("<th>our side</th>"), "two senders: the sender column");
    assert!(s.contains("class=\"y-axis\"") && s.contains("class=\"x-axis\""), "charts with axes");
    insta::assert_snapshot!(s);
}

#[test]
fn plan() {
    let s = plan::render(&report(), 10);
    assert!(s.lines().all(|l| l.len() <= 76), "folded at 75 octets (+ CR)");
    let events = crate::accounts::calendar::parse(&s).unwrap();
    assert_eq!(events.len(), report().needs_attention.len());
    insta::assert_snapshot!(s);
}
