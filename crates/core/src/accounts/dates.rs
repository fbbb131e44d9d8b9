//! The relative dates people write ("tomorrow", "next
//! Tuesday", "on Friday", "October 6"). Days are counted from 1970-01-01 (UTC); everything in the
//! accounts report works in whole UTC days.
use once_cell::sync::Lazy;
use regex::Regex;

pub use crate::time::{checked_day, civil, day_of, days_from_civil, iso, month, weekday, DAY};


pub const WEEKDAYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

fn weekday_index(name: &str) -> Option<u32> {
    let n = name.to_ascii_lowercase();
    WEEKDAYS.iter().position(|w| n == *w).map(|i| i as u32)
}

const MONTHS: [&str; 12] = [
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december",
];

fn month_index(name: &str) -> Option<u32> {
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    if n == "sept" {
        return Some(9);
    }
    MONTHS.iter().position(|m| n == *m || (n.len() == 3 && m.starts_with(n.as_str()))).map(|i| i as u32 + 1)
}

/// Parse `YYYY-MM-DD` (also the date part of `YYYY-MM-DDTHH:MM...` or `YYYY-MM-DD HH:MM`).
pub fn parse_iso_day(s: &str) -> Option<i64> {
    let s = s.trim();
    let date = s.get(..10)?;
    let rest = &s[10..];
    if !(rest.is_empty() || rest.starts_with(['T', 't', ' '])) {
        return None;
    }
    let b = date.as_bytes();
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = date[..4].parse().ok()?;
    let m: u32 = date[5..7].parse().ok()?;
    let d: u32 = date[8..10].parse().ok()?;
    checked_day(y, m, d)
}

/// An iCalendar DATE or DATE-TIME value (`20261006`, `20261006T180000`, `20261006T180000Z`):
/// the day and, for a DATE-TIME, the Unix time. A DATE-TIME with a TZID (or floating) is taken
/// as UTC: the report works in days, so at worst an evening meeting moves by one day.
pub fn parse_ical_datetime(s: &str) -> Option<(i64, Option<i64>)> {
    let s = s.trim();
    if s.len() < 8 || !s.as_bytes()[..8].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let day = checked_day(s[..4].parse().ok()?, s[4..6].parse().ok()?, s[6..8].parse().ok()?)?;
    let rest = &s[8..];
    if rest.is_empty() {
        return Some((day, None));
    }
    let t = rest.strip_prefix(['T', 't'])?;
    let t = t.strip_suffix(['Z', 'z']).unwrap_or(t);
    if t.len() < 4 || !t.bytes().all(|c| c.is_ascii_digit()) {
        return Some((day, None));
    }
    let hh: i64 = t[..2].parse().ok()?;
    let mm: i64 = t[2..4].parse().ok()?;
    let ss: i64 = t.get(4..6).and_then(|x| x.parse().ok()).unwrap_or(0);
    Some((day, Some(day * DAY + hh * 3600 + mm * 60 + ss)))
}

/// A date written in a sentence, resolved against the day the message was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub day: i64,
    /// The words that gave the date, as written.
    pub expression: String,
}

static DATE_EXPR: Lazy<Regex> = Lazy::new(|| {
    let wd = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day";
    let mon = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?";
    Regex::new(&format!(
        r"(?ix)
        \b(?P<iso>\d{{4}}-\d{{2}}-\d{{2}})\b
      | \b(?P<md_m>{mon})\s+(?P<md_d>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<md_y>\d{{4}})\b)?
      | \b(?P<dm_d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<dm_m>{mon})(?:,?\s+(?P<dm_y>\d{{4}})\b)?
      | \b(?P<today>today|tonight|this\s+(?:morning|afternoon|evening)|later\s+today)\b
      | \b(?P<tomorrow>tomorrow|tmrw)\b
      | \b(?P<next>next)\s+(?P<next_wd>{wd})\b
      | \b(?:(?:on|this|coming|this\s+coming)\s+)?(?P<wd>{wd})\b
    "
    ))
    .expect("date expression regex")
});

/// Resolve the first date expression in `text` at or after byte `from` (falling back to one
/// before it), against `sent_day`, the day the message was sent. Supported: ISO dates,
/// month-day dates ("October 6", "6th of Oct", optionally with a year), today/tonight/this
/// afternoon, tomorrow, "next <weekday>", "on/this <weekday>" and a bare weekday.
///
/// Rules (documented in docs/accounts.md):
/// - a weekday ("on Tuesday", "this Tuesday", "Tuesday") is its first occurrence strictly after
///   the message day;
/// - "next <weekday>" is that weekday in the week after the message's week (weeks start on
///   Monday): sent on a Tuesday, "next Tuesday" is 7 days later and "next Friday" 10;
/// - a month-day date without a year is its first occurrence on or after the message day.
pub fn resolve_relative(text: &str, from: usize, sent_day: i64) -> Option<Resolved> {
    let all: Vec<_> = DATE_EXPR.captures_iter(text).collect();
    let pick = all
        .iter()
        .find(|c| c.get(0).is_some_and(|m| m.start() >= from))
        .or_else(|| all.iter().rev().find(|c| c.get(0).is_some_and(|m| m.start() < from)))?;
    let day = resolve_captures(pick, sent_day)?;
    Some(Resolved {
        day,
        expression: pick.get(0).map(|m| crate::text::collapse_whitespace(m.as_str())).unwrap_or_default(),
    })
}

fn resolve_captures(c: &regex::Captures<'_>, sent: i64) -> Option<i64> {
    if let Some(iso) = c.name("iso") {
        return parse_iso_day(iso.as_str());
    }
    let month_day = |m: &str, d: &str, y: Option<&str>| -> Option<i64> {
        let m = month_index(m)?;
        let d: u32 = d.parse().ok()?;
        if let Some(y) = y {
            return checked_day(y.parse().ok()?, m, d);
        }
        let (sy, _, _) = civil(sent);
        let this_year = checked_day(sy, m, d);
        match this_year {
            Some(day) if day >= sent => Some(day),
            _ => checked_day(sy + 1, m, d),
        }
    };
    if let (Some(m), Some(d)) = (c.name("md_m"), c.name("md_d")) {
        return month_day(m.as_str(), d.as_str(), c.name("md_y").map(|y| y.as_str()));
    }
    if let (Some(m), Some(d)) = (c.name("dm_m"), c.name("dm_d")) {
        return month_day(m.as_str(), d.as_str(), c.name("dm_y").map(|y| y.as_str()));
    }
    if c.name("today").is_some() {
        return Some(sent);
    }
    if c.name("tomorrow").is_some() {
        return Some(sent + 1);
    }
    if let Some(w) = c.name("next_wd") {
        return Some(next_weekday(sent, weekday_index(w.as_str())?));
    }
    if let Some(w) = c.name("wd") {
        return Some(coming_weekday(sent, weekday_index(w.as_str())?));
    }
    None
}

/// The first `wd` strictly after `day`.
pub fn coming_weekday(day: i64, wd: u32) -> i64 {
    let ahead = (wd as i64 - weekday(day) as i64).rem_euclid(7);
    day + if ahead == 0 { 7 } else { ahead }
}

/// `wd` in the week (Monday to Sunday) after the week of `day`.
pub fn next_weekday(day: i64, wd: u32) -> i64 {
    let monday = day - weekday(day) as i64;
    monday + 7 + wd as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> i64 {
        parse_iso_day(s).unwrap()
    }

    #[test]
    fn civil_round_trip_and_weekdays() {
        for s in ["1970-01-01", "2000-02-29", "2001-05-14", "2026-09-22", "2026-12-31", "1969-12-31"] {
            assert_eq!(iso(d(s)), s);
        }
        assert_eq!(weekday(d("2026-09-22")), 1, "a Tuesday");
        assert_eq!(weekday(d("2001-05-14")), 0, "a Monday");
        assert_eq!(parse_iso_day("2026-02-30"), None);
        assert_eq!(parse_iso_day("2026-9-1"), None);
        assert_eq!(parse_iso_day("2026-09-01T10:00:00Z"), Some(d("2026-09-01")));
    }

    #[test]
    fn ical_values() {
        assert_eq!(parse_ical_datetime("20261006"), Some((d("2026-10-06"), None)));
        let (day, t) = parse_ical_datetime("20261006T180000Z").unwrap();
        assert_eq!(day, d("2026-10-06"));
        assert_eq!(t, Some(d("2026-10-06") * DAY + 18 * 3600));
        assert_eq!(parse_ical_datetime("2026-10-06"), None);
    }

    #[test]
    fn relative_dates_resolve_against_the_message_day() {
        let tue = d("2026-09-22"); // a Tuesday
        let r = |text: &str| resolve_relative(text, 0, tue).map(|r| iso(r.day));
        assert_eq!(r("I'll call you tomorrow").as_deref(), Some("2026-09-23"));
        assert_eq!(r("I'll call you next Tuesday to go over it").as_deref(), Some("2026-09-29"));
        assert_eq!(r("I'll call you next Friday").as_deref(), Some("2026-10-02"), "Friday of next week");
        assert_eq!(r("let's talk on Thursday").as_deref(), Some("2026-09-24"));
        assert_eq!(r("let's talk on Tuesday").as_deref(), Some("2026-09-29"), "a weekday is strictly after the message day");
        assert_eq!(r("I'll call you on Oct 6").as_deref(), Some("2026-10-06"));
        assert_eq!(r("I'll call you on the 6th of October").as_deref(), Some("2026-10-06"));
        assert_eq!(r("call you on January 5").as_deref(), Some("2027-01-05"), "a past month-day rolls to next year");
        assert_eq!(r("call you on September 22").as_deref(), Some("2026-09-22"), "the message day itself");
        assert_eq!(r("call you on 2026-12-01").as_deref(), Some("2026-12-01"));
        assert_eq!(r("I'll call you later today").as_deref(), Some("2026-09-22"));
        assert_eq!(r("I'll call you soon"), None);
        let mon = d("2026-09-21");
        assert_eq!(iso(resolve_relative("next Tuesday", 0, mon).unwrap().day), "2026-09-29", "next week's Tuesday");
        assert_eq!(iso(resolve_relative("next Monday", 0, d("2026-09-27")).unwrap().day), "2026-09-28", "sent on a Sunday");
    }

    #[test]
    fn the_expression_after_the_phrase_wins() {
        let tue = d("2026-09-22");
        let text = "It was great to see you on Monday. I'll call you tomorrow.";
        let from = text.find("I'll call").unwrap();
        let r = resolve_relative(text, from, tue).unwrap();
        assert_eq!((iso(r.day).as_str(), r.expression.as_str()), ("2026-09-23", "tomorrow"));
        // Nothing after the phrase: the last expression before it.
        let text = "On Friday I'll call you";
        let r = resolve_relative(text, text.find("I'll").unwrap(), tue).unwrap();
        assert_eq!(iso(r.day), "2026-09-25");
    }
}
