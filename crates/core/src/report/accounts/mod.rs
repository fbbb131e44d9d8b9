//! The accounts report (`rapport accounts`), one file per format: a terminal [`table`], [`json`]
//! (schema in docs/accounts.md), [`csv`] (one row per account), one self-contained [`html`] file
//! with inline SVG charts, and the [`plan`]: an iCalendar file with one event per account to call
//! or visit. Every renderer reads a finished [`Report`] and nothing else.
pub mod csv;
pub mod html;
pub mod json;
pub mod plan;
pub mod table;
#[cfg(test)]
mod tests;

use std::io::Write;

use super::Format;
use crate::accounts::{Evidence, Exclusion, Report};
pub(crate) use crate::text::plural;

pub use self::csv::CSV_HEADER;

pub fn render(out: &mut dyn Write, rep: &Report, format: Format, top: usize) -> anyhow::Result<()> {
    match format {
        Format::Json => json::render(out, rep),
        Format::Csv => Ok(out.write_all(csv::render(rep).as_bytes())?),
        Format::Table => Ok(out.write_all(table::render(rep, top).as_bytes())?),
        Format::Html => Ok(out.write_all(html::render(rep).as_bytes())?),
    }
}

pub(crate) fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.0}%", v * 100.0)).unwrap_or_else(|| "-".into())
}

/// A reason's words without its heading ("working through an issue: 1 complaint" → "1 complaint").
pub(crate) fn reason_detail(r: &crate::accounts::Reason) -> &str {
    r.text.split_once(": ").map_or(r.text.as_str(), |(_, rest)| rest)
}

pub(crate) fn touch(e: Option<&Evidence>) -> String {
    e.map(|e| format!("{} {}", e.date, e.channel.as_str())).unwrap_or_else(|| "never".into())
}

/// The headline, in a few sentences: what the customers are, what was left out, the verdicts in
/// the window and what needs doing.
pub(crate) fn headline(rep: &Report) -> Vec<String> {
    let s = &rep.summary;
    let mut by_reason: Vec<(Exclusion, usize)> = Vec::new();
    for e in &rep.excluded {
        match by_reason.last_mut() {
            Some((r, n)) if *r == e.reason => *n += 1,
            _ => by_reason.push((e.reason, 1)),
        }
    }
    let excluded = if by_reason.is_empty() {
        "nothing excluded".to_string()
    } else {
        format!("{} not customers ({})", s.excluded, by_reason.iter().map(|(r, n)| format!("{}: {n}", r.label())).collect::<Vec<_>>().join(", "))
    };
    let people = match s.people {
        0 => String::new(),
        1 => ", 1 of them a person at a free-mail address".to_string(),
        n => format!(", {n} of them people at free-mail addresses"),
    };
    vec![
        format!("{} customer accounts{people}; {excluded}.", s.accounts),
        format!(
            "In the last {} days {} accounts exchanged email with us, {} of them by email only ({}); {} also had calls or meetings; {} were silent.",
            rep.window_days,
            s.active,
            s.email_only,
            pct(s.email_only_share),
            s.mixed,
            s.inactive
        ),
        format!(
            "To do: {} to call or visit, {}, {}, {} without a thank-you.",
            plural(s.needs_attention, "account"),
            format!("{} without an apology", plural(s.complaints_without_apology, "complaint")),
            plural(s.unanswered, "unanswered message"),
            plural(s.thanks_after_meeting, "meeting")
        ),
    ]
}
