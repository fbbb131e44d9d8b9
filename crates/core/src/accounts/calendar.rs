//! Meetings from iCalendar text: the `text/calendar` parts and `.ics` attachments of audited mail,
//! and a calendar export given with `--calendar FILE.ics`. Parsed with the `ical` crate (RFC 5545
//! line unfolding, parameters); rapport reads METHOD, UID, SEQUENCE, STATUS, DTSTART, SUMMARY,
//! ORGANIZER, ATTENDEE (with PARTSTAT) and RRULE.
use std::io::BufReader;

use super::dates;

/// One VEVENT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalEvent {
    /// The calendar's METHOD (REQUEST, REPLY, CANCEL, PUBLISH...), upper-cased; None in a plain
    /// calendar export.
    pub method: Option<String>,
    pub uid: Option<String>,
    pub sequence: i64,
    /// STATUS, upper-cased (CONFIRMED, TENTATIVE, CANCELLED).
    pub status: Option<String>,
    /// DTSTART: the day, and the time when it has one.
    pub start_day: Option<i64>,
    pub start_at: Option<i64>,
    pub summary: Option<String>,
    pub organizer: Option<String>,
    /// Attendee addresses (lower-cased, without `mailto:`), with their PARTSTAT.
    pub attendees: Vec<(String, Option<String>)>,
    pub recurring: bool,
}

impl CalEvent {
    /// Why this event does not count as a meeting that happens, if it does not.
    pub fn not_counted(&self) -> Option<&'static str> {
        if self.method.as_deref() == Some("CANCEL") {
            return Some("cancelled (METHOD:CANCEL)");
        }
        if self.status.as_deref() == Some("CANCELLED") {
            return Some("cancelled (STATUS:CANCELLED)");
        }
        if self.method.as_deref() == Some("REPLY")
            && !self.attendees.is_empty()
            && self.attendees.iter().all(|(_, p)| p.as_deref() == Some("DECLINED"))
        {
            return Some("declined (REPLY with PARTSTAT=DECLINED)");
        }
        None
    }

    /// A short description: `METHOD:REQUEST "Quarterly review"`.
    pub fn describe(&self) -> String {
        let mut s = match &self.method {
            Some(m) => format!("METHOD:{m}"),
            None => "VEVENT".to_string(),
        };
        if let Some(st) = &self.status {
            s.push_str(&format!(" STATUS:{st}"));
        }
        if let Some(sum) = &self.summary {
            s.push_str(&format!(" {sum:?}"));
        }
        s
    }
}

fn unescape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') | Some('N') => out.push(' '),
                Some(o) => out.push(o),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    crate::text::collapse_whitespace(&out)
}

fn mailto(v: &str) -> String {
    let v = v.trim();
    // Compare bytes: a value may start with a multi-byte character ("王小明@x.cn").
    let v = if v.as_bytes().get(..7).is_some_and(|p| p.eq_ignore_ascii_case(b"mailto:")) { &v[7..] } else { v };
    v.trim().to_ascii_lowercase()
}

fn param<'a>(p: &'a ical::property::Property, name: &str) -> Option<&'a str> {
    p.params
        .as_ref()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.first())
        .map(String::as_str)
}

/// Parse iCalendar text into its events. A text that is not iCalendar is an error with the
/// parser's reason.
pub fn parse(text: &str) -> Result<Vec<CalEvent>, String> {
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if !text.get(..15).is_some_and(|h| h.eq_ignore_ascii_case("BEGIN:VCALENDAR")) {
        return Err("it does not start with BEGIN:VCALENDAR".into());
    }
    let mut events = Vec::new();
    for cal in ical::IcalParser::new(BufReader::new(text.as_bytes())) {
        let cal = cal.map_err(|e| e.to_string())?;
        let method = cal
            .properties
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case("METHOD"))
            .and_then(|p| p.value.as_deref())
            .map(|m| m.trim().to_ascii_uppercase());
        for ev in &cal.events {
            let mut e = CalEvent {
                method: method.clone(),
                uid: None,
                sequence: 0,
                status: None,
                start_day: None,
                start_at: None,
                summary: None,
                organizer: None,
                attendees: Vec::new(),
                recurring: false,
            };
            for p in &ev.properties {
                let value = p.value.as_deref().unwrap_or("").trim();
                match p.name.to_ascii_uppercase().as_str() {
                    "UID" if !value.is_empty() => e.uid = Some(value.to_string()),
                    "SEQUENCE" => e.sequence = value.parse().unwrap_or(0),
                    "STATUS" => e.status = Some(value.to_ascii_uppercase()),
                    "SUMMARY" => e.summary = Some(unescape(value)).filter(|s| !s.is_empty()),
                    "ORGANIZER" => e.organizer = Some(mailto(value)),
                    "RRULE" | "RDATE" => e.recurring = true,
                    "DTSTART" => {
                        if let Some((day, at)) = dates::parse_ical_datetime(value) {
                            e.start_day = Some(day);
                            e.start_at = at;
                        }
                    }
                    "ATTENDEE" => {
                        let addr = mailto(value);
                        if addr.contains('@') {
                            e.attendees.push((addr, param(p, "PARTSTAT").map(str::to_ascii_uppercase)));
                        }
                    }
                    _ => {}
                }
            }
            e.attendees.sort();
            e.attendees.dedup();
            events.push(e);
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:qr-1@x\r\nSEQUENCE:2\r\n\
DTSTART;TZID=Europe/London:20261006T140000\r\nSUMMARY:Quarterly review\\, Acme\r\nORGANIZER;CN=Dana:mailto:dana@northwind-supply.com\r\n\
ATTENDEE;CN=\"Raman, Priya\";PARTSTAT=NEEDS-ACTION:MAILTO:Priya.Raman@acme-robotics.com\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:tom@acme-\r\n robotics.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    #[test]
    fn reads_an_invite() {
        let ev = parse(INVITE).unwrap();
        assert_eq!(ev.len(), 1);
        let e = &ev[0];
        assert_eq!(e.method.as_deref(), Some("REQUEST"));
        assert_eq!(e.uid.as_deref(), Some("qr-1@x"));
        assert_eq!(e.sequence, 2);
        assert_eq!(e.start_day.map(dates::iso).as_deref(), Some("2026-10-06"));
        assert_eq!(e.summary.as_deref(), Some("Quarterly review, Acme"));
        assert_eq!(e.organizer.as_deref(), Some("dana@northwind-supply.com"));
        assert_eq!(
            e.attendees,
            vec![
                ("priya.raman@acme-robotics.com".to_string(), Some("NEEDS-ACTION".to_string())),
                ("tom@acme-robotics.com".to_string(), Some("ACCEPTED".to_string()))
            ],
            "folded lines are unfolded, mailto: is case-insensitive"
        );
        assert_eq!(e.not_counted(), None);
    }

    #[test]
    fn cancellations_and_declines_do_not_count() {
        let cancel = INVITE.replace("METHOD:REQUEST", "METHOD:CANCEL");
        assert!(parse(&cancel).unwrap()[0].not_counted().unwrap().contains("CANCEL"));
        let status = INVITE.replace("SEQUENCE:2\r\n", "SEQUENCE:2\r\nSTATUS:CANCELLED\r\n");
        assert!(parse(&status).unwrap()[0].not_counted().unwrap().contains("STATUS:CANCELLED"));
        let declined = INVITE.replace("METHOD:REQUEST", "METHOD:REPLY").replace("NEEDS-ACTION", "DECLINED").replace("ACCEPTED", "DECLINED");
        assert!(parse(&declined).unwrap()[0].not_counted().unwrap().contains("declined"));
    }

    #[test]
    fn multi_byte_attendees_do_not_panic() {
        // `mailto()` used to slice the first 7 bytes, inside 王 (issue 11).
        let ics = "BEGIN:VCALENDAR\nMETHOD:REQUEST\nBEGIN:VEVENT\nUID:x\nDTSTART:20261006\nATTENDEE:王小明@x.cn\nORGANIZER:é\nATTENDEE;CN=Ünal:MAILTO:ünal@x.de\nEND:VEVENT\nEND:VCALENDAR\n";
        let e = &parse(ics).unwrap()[0];
        assert_eq!(e.attendees.iter().map(|a| a.0.as_str()).collect::<Vec<_>>(), ["ünal@x.de", "王小明@x.cn"], "sorted");
        assert_eq!(e.organizer.as_deref(), Some("é"));
    }

    #[test]
    fn not_icalendar_is_an_error() {
        assert!(parse("hello").is_err());
        let e = parse("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:2026\nEND:VEVENT\nEND:VCALENDAR\n").unwrap();
        assert_eq!(e[0].start_day, None, "an unreadable DTSTART is left out, not guessed");
    }
}
