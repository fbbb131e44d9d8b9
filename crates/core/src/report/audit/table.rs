//! The audit report for a terminal.
use std::io::Write;

use super::AuditReport;
use crate::findings::Severity;
use crate::text::one_line;

pub fn render(out: &mut dyn Write, rep: &AuditReport) -> std::io::Result<()> {
    writeln!(
        out,
        "rapport audit — {} messages in {} ({} read this run: {} scored, {} from cache, {} errors; {} re-scored for this model)",
        rep.messages,
        rep.state,
        rep.run.read,
        rep.run.scored,
        rep.run.cached,
        rep.run.errors.len(),
        rep.run.rescored
    )?;
    writeln!(
        out,
        "flagged: {} of {} ({:.1}%); most severe finding per message: {} error, {} warning, {} info, {} none\n",
        rep.flagged_count,
        rep.messages,
        100.0 * rep.flagged_count as f64 / rep.messages.max(1) as f64,
        rep.by_severity["error"],
        rep.by_severity["warning"],
        rep.by_severity["info"],
        rep.by_severity["none"],
    )?;
    let several = rep.senders.len() > 1;
    if !rep.flagged.is_empty() {
        if several {
            writeln!(out, "{:>5}  {:<10}  {:<22}  {:<24}  {:<30}  why", "risk", "date", "from", "to", "subject")?;
        } else {
            writeln!(out, "{:>5}  {:<10}  {:<28}  {:<34}  why", "risk", "date", "to", "subject")?;
        }
        for m in &rep.flagged {
            let why = m.reasons().join(", ");
            let date = m.date.as_deref().unwrap_or("-");
            let subject = m.subject.as_deref().unwrap_or("(no subject)");
            if several {
                writeln!(
                    out,
                    "{:>4.0}%  {:<10}  {:<22}  {:<24}  {:<30}  {why}",
                    m.risk * 100.0,
                    date,
                    one_line(m.sender.as_deref().unwrap_or("-"), 22),
                    one_line(&m.recipients.join(", "), 24),
                    one_line(subject, 30)
                )?;
            } else {
                writeln!(out, "{:>4.0}%  {:<10}  {:<28}  {:<34}  {why}", m.risk * 100.0, date, one_line(&m.recipients.join(", "), 28), one_line(subject, 34))?;
            }
            if let Some(f) = m.findings.iter().filter(|f| f.severity >= Severity::Warning).max_by_key(|f| f.severity) {
                let shown = if f.sentence_text.is_empty() { &f.text } else { &f.sentence_text };
                writeln!(out, "{:>7}  \"{}\"", "", one_line(shown, 100))?;
            }
        }
        writeln!(out)?;
    }
    if !rep.months.is_empty() {
        writeln!(out, "{:<8} {:>8} {:>8} {:>9} {:>9}", "month", "messages", "flagged", "mean risk", "negative")?;
        for m in &rep.months {
            writeln!(out, "{:<8} {:>8} {:>8} {:>8.0}% {:>8.0}%", m.month, m.messages, m.flagged, m.mean_risk * 100.0, m.mean_negative * 100.0)?;
        }
    }
    for n in &rep.run.notices {
        writeln!(out, "note: {n}")?;
    }
    for (src, e) in &rep.run.errors {
        writeln!(out, "error: {src}: {e}")?;
    }
    Ok(())
}
