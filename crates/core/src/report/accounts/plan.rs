//! The plan (`rapport accounts --plan FILE.ics`): an iCalendar file (RFC 5545) with one all-day
//! event for each of the top N accounts to call or visit, on the business days after as_of (the
//! neediest first), with the reasons in its description, ready to import into a calendar.
//!
//! Same report, same bytes: the UID is a hash of the account and as_of, and DTSTAMP is as_of.
use std::fmt::Write as _;

use crate::accounts::dates::{civil, weekday};
use crate::accounts::{NeedRow, Report};

/// Escape a TEXT value (RFC 5545 3.3.11).
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// One content line, folded at 75 octets (never inside a character, and never next to a space,
/// which some readers trim when they unfold), ending in CRLF.
fn line(out: &mut String, content: &str) {
    let mut cur = String::new();
    let mut limit = 75;
    for c in content.chars() {
        if cur.len() + c.len_utf8() > limit {
            let mut split = cur.len();
            let next_is_space = |at: usize, cur: &str| cur[at..].chars().next().map_or(c.is_whitespace(), char::is_whitespace);
            while split > 0 && (cur[..split].ends_with(char::is_whitespace) || next_is_space(split, &cur)) && cur.len() - split < 20 {
                split = cur[..split].char_indices().next_back().map_or(0, |(i, _)| i);
            }
            if split == 0 {
                split = cur.len();
            }
            out.push_str(&cur[..split]);
            out.push_str("\r\n ");
            cur = cur[split..].to_string();
            limit = 74;
        }
        cur.push(c);
    }
    out.push_str(&cur);
    out.push_str("\r\n");
}

fn date(day: i64) -> String {
    let (y, m, d) = civil(day);
    format!("{y:04}{m:02}{d:02}")
}

/// The n-th (1-based) business day after `day`.
fn business_day_after(day: i64, n: usize) -> i64 {
    let mut d = day;
    let mut left = n;
    while left > 0 {
        d += 1;
        if weekday(d) < 5 {
            left -= 1;
        }
    }
    d
}

fn description(rep: &Report, n: &NeedRow) -> String {
    let mut d = format!("Rank {} of {} in rapport's accounts report as of {}: need score {:.1}, strength {:.0} ({}).\n", n.rank, rep.needs_attention.len(), rep.as_of, n.score, n.strength, n.stage.as_str());
    for r in &n.reasons {
        let _ = writeln!(d, "- {}", r.text);
    }
    if let Some(a) = rep.accounts.iter().find(|a| a.account == n.account) {
        if !a.contacts.is_empty() {
            let _ = writeln!(d, "Contacts: {}", a.contacts.join(", "));
        }
        let _ = writeln!(
            d,
            "Last message: {}. Last call or meeting: {}.",
            a.last_email.as_deref().unwrap_or("none"),
            a.last_touch.as_ref().map(|e| format!("{} ({})", e.date, e.channel.as_str())).unwrap_or_else(|| "none on record".into())
        );
    }
    d.trim_end().to_string()
}

/// The plan for the top `top` accounts of the ranking.
pub fn render(rep: &Report, top: usize) -> String {
    let as_of = crate::accounts::dates::parse_iso_day(&rep.as_of).unwrap_or(0);
    let mut s = String::new();
    for l in ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//rapport//accounts plan//EN", "CALSCALE:GREGORIAN", "METHOD:PUBLISH"] {
        line(&mut s, l);
    }
    line(&mut s, &format!("X-WR-CALNAME:{}", text(&format!("rapport: accounts to call or visit (as of {})", rep.as_of))));
    for (k, n) in rep.needs_attention.iter().take(top).enumerate() {
        let day = business_day_after(as_of, k + 1);
        let uid = crate::text::sha256_hex(format!("{}\n{}", n.account, rep.as_of).as_bytes());
        line(&mut s, "BEGIN:VEVENT");
        line(&mut s, &format!("UID:{}@rapport.accounts", &uid[..24]));
        line(&mut s, &format!("DTSTAMP:{}T000000Z", date(as_of)));
        line(&mut s, &format!("DTSTART;VALUE=DATE:{}", date(day)));
        line(&mut s, &format!("DTEND;VALUE=DATE:{}", date(day + 1)));
        line(&mut s, &format!("SUMMARY:{}", text(&format!("Call or visit {}", n.account))));
        line(&mut s, &format!("DESCRIPTION:{}", text(&description(rep, n))));
        line(&mut s, "CATEGORIES:rapport");
        line(&mut s, "TRANSP:TRANSPARENT");
        line(&mut s, "END:VEVENT");
    }
    line(&mut s, "END:VCALENDAR");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_never_splits_a_character() {
        let mut s = String::new();
        line(&mut s, &format!("DESCRIPTION:{}", "王小明".repeat(40)));
        for l in s.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
        assert_eq!(s.replace("\r\n ", "").trim_end(), format!("DESCRIPTION:{}", "王小明".repeat(40)));
        let words = "DESCRIPTION:".to_string() + &"ab cd ".repeat(40);
        let mut s = String::new();
        line(&mut s, words.trim_end());
        for l in s.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75 && !l.ends_with(' ') && !l.trim_start_matches(' ').is_empty(), "{l:?}");
        }
        assert!(s.split("\r\n").skip(1).filter(|l| !l.is_empty()).all(|l| l.starts_with(' ') && !l.starts_with("  ")), "{s}");
        assert_eq!(s.replace("\r\n ", "").trim_end(), words.trim_end());
        assert_eq!(text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }

    #[test]
    fn business_days() {
        let fri = crate::accounts::dates::parse_iso_day("2026-10-02").unwrap();
        assert_eq!(crate::accounts::dates::iso(business_day_after(fri, 1)), "2026-10-05");
        assert_eq!(crate::accounts::dates::iso(business_day_after(fri, 6)), "2026-10-12");
    }
}
