//! A call log (`--calls FILE.csv`): `date,contact,duration` rows, from a phone system or CRM.
//!
//! - `date`: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS][Z]` or `YYYY-MM-DD HH:MM[:SS]` (UTC);
//! - `contact`: an email address (resolved like a recipient) or an account's name or key;
//! - `duration`: seconds (`300`), `M:SS`, `H:MM:SS`, or `5m`/`90s`/`1h`/`5 min`; may be empty.
//!   A duration of zero is a call that did not connect, and does not count.
//!
//! A header row naming the columns (`date`, `contact`, `duration`) may come first, in any order;
//! without one the columns are in that order.
use std::path::Path;

use super::{dates, AccountsError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRow {
    /// 1-based line in the file.
    pub line: usize,
    pub day: i64,
    pub contact: String,
    /// Seconds; None when the log leaves it empty.
    pub duration: Option<u64>,
}

/// Parse a duration: seconds, `M:SS`, `H:MM:SS`, or a number with s/m/min/h.
pub fn parse_duration(s: &str) -> Option<u64> {
    let s = s.trim().to_ascii_lowercase();
    if s.contains(':') {
        let parts: Vec<u64> = s.split(':').map(|p| p.trim().parse().ok()).collect::<Option<_>>()?;
        return match parts.as_slice() {
            [m, sec] if *sec < 60 => Some(m * 60 + sec),
            [h, m, sec] if *m < 60 && *sec < 60 => Some(h * 3600 + m * 60 + sec),
            _ => None,
        };
    }
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match unit.trim() {
        "" | "s" | "sec" | "secs" | "seconds" => 1.0,
        "m" | "min" | "mins" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hours" => 3600.0,
        _ => return None,
    };
    (n.is_finite() && n >= 0.0).then(|| (n * mult).round() as u64)
}

pub fn load(path: &Path) -> Result<Vec<CallRow>, AccountsError> {
    let text = std::fs::read_to_string(path).map_err(|source| AccountsError::Read {
        what: "the call log",
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, &path.display().to_string())
}

pub fn parse(text: &str, label: &str) -> Result<Vec<CallRow>, AccountsError> {
    let records = super::csv::parse(text).map_err(|(line, message)| AccountsError::Input { path: label.into(), line, message })?;
    let mut cols = (0usize, 1usize, Some(2usize));
    let mut out = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let bad = |message: String| AccountsError::Input { path: label.into(), line: r.line, message };
        if i == 0 && r.fields.iter().any(|f| f.eq_ignore_ascii_case("date")) {
            let find = |name: &str| r.fields.iter().position(|f| f.eq_ignore_ascii_case(name));
            cols = (
                find("date").unwrap_or(0),
                find("contact").ok_or_else(|| bad("the header has no `contact` column (expected date,contact,duration)".into()))?,
                find("duration"),
            );
            continue;
        }
        let get = |i: usize| r.fields.get(i).map(String::as_str).unwrap_or("");
        let date = get(cols.0);
        let day = dates::parse_iso_day(date)
            .ok_or_else(|| bad(format!("{date:?} is not a date: write YYYY-MM-DD (optionally with a time, THH:MM)")))?;
        let contact = get(cols.1).trim();
        if contact.is_empty() {
            return Err(bad("the contact is empty: give an email address or an account name".into()));
        }
        let raw = cols.2.map(get).unwrap_or("").trim();
        let duration = if raw.is_empty() {
            None
        } else {
            Some(parse_duration(raw).ok_or_else(|| bad(format!("{raw:?} is not a duration: write seconds (300), M:SS, H:MM:SS or 5m")))?)
        };
        out.push(CallRow { line: r.line, day, contact: contact.to_string(), duration });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("300"), Some(300));
        assert_eq!(parse_duration("5:07"), Some(307));
        assert_eq!(parse_duration("1:02:03"), Some(3723));
        assert_eq!(parse_duration("5m"), Some(300));
        assert_eq!(parse_duration("5 min"), Some(300));
        assert_eq!(parse_duration("1.5h"), Some(5400));
        assert_eq!(parse_duration("0"), Some(0));
        assert_eq!(parse_duration("5:75"), None);
        assert_eq!(parse_duration("long"), None);
    }

    #[test]
    fn rows_with_and_without_a_header() {
        let rows = parse("contact,duration,date\nken@harborlight.co.uk,12:00,2026-10-20T15:00Z\n", "c.csv").unwrap();
        assert_eq!((dates::iso(rows[0].day).as_str(), rows[0].duration), ("2026-10-20", Some(720)), "columns by the header's names");
        let e = parse("date,who\n2026-10-20,x@y.com\n", "c.csv").unwrap_err().to_string();
        assert!(e.starts_with("c.csv:1:") && e.contains("no `contact` column"), "{e}");
        let rows = parse("date,duration,contact\n2026-10-20 15:00,12:00,ken@harborlight.co.uk\n2026-10-21,,Acme Group\n", "c.csv").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((dates::iso(rows[0].day).as_str(), rows[0].contact.as_str(), rows[0].duration), ("2026-10-20", "ken@harborlight.co.uk", Some(720)));
        assert_eq!((rows[1].contact.as_str(), rows[1].duration), ("Acme Group", None));
        let rows = parse("2026-10-20,ken@harborlight.co.uk,300\n", "c.csv").unwrap();
        assert_eq!(rows[0].duration, Some(300));
        let e = parse("date,contact,duration\n20/10/2026,ken@x.com,3\n", "calls.csv").unwrap_err().to_string();
        assert!(e.starts_with("calls.csv:2:") && e.contains("YYYY-MM-DD"), "{e}");
    }
}
