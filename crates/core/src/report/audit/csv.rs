//! The audit report as CSV: one row per finding of each flagged message.
use std::io::Write;

use super::AuditReport;
use crate::text::csv_cell;

pub const HEADER: &str = "source,sender,date,subject,recipients,risk,code,name,severity,message,sentence";

pub fn render(out: &mut dyn Write, rep: &AuditReport) -> std::io::Result<()> {
    writeln!(out, "{HEADER}")?;
    for m in &rep.flagged {
        for f in &m.findings {
            writeln!(
                out,
                "{},{},{},{},{},{:.3},{},{},{},{},{}",
                csv_cell(&m.source),
                csv_cell(m.sender.as_deref().unwrap_or("")),
                m.date.as_deref().unwrap_or(""),
                csv_cell(m.subject.as_deref().unwrap_or("")),
                csv_cell(&m.recipients.join(" ")),
                m.risk,
                f.code,
                f.name,
                f.severity.as_str(),
                csv_cell(&f.message),
                csv_cell(if f.sentence_text.is_empty() { &f.text } else { &f.sentence_text }),
            )?;
        }
    }
    Ok(())
}
