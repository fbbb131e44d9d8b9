//! The audit report: built from the SQLite state (every message audited so far under the current
//! model), sorted deterministically, rendered as a terminal table, JSON or CSV.
use std::collections::BTreeMap;
use std::io::Write;

use rusqlite::params;

use crate::cli::ReportFormat;
use crate::findings::Severity;
use crate::state::State;
use super::{csv_field, one_line};

/// Counters of one run.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RunStats {
    pub read: usize,
    pub scored: usize,
    pub cached: usize,
    pub duplicates: usize,
    /// Sentences of the texts scored this run.
    pub sentences: usize,
    /// Sentences run through the encoder this run (distinct within each batch).
    pub encoded: usize,
    /// Texts audited before under another model or other rules, re-scored this run.
    pub rescored: usize,
    pub errors: Vec<(String, String)>,
}

/// A finding as stored in the state.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FindingRow {
    pub code: String,
    pub name: String,
    pub severity: Severity,
    pub message: String,
    #[serde(default)]
    pub suggestion: Option<String>,
    pub span: std::ops::Range<usize>,
    pub sentence: usize,
    /// The flagged text itself (filled in when the report is built).
    #[serde(default)]
    pub text: String,
    /// The whole sentence it is in, and where the span starts inside it (bytes).
    #[serde(default)]
    pub sentence_text: String,
    #[serde(default)]
    pub offset: usize,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct MessageReport {
    pub source: String,
    pub message_id: Option<String>,
    pub date: Option<String>,
    pub subject: Option<String>,
    pub recipients: Vec<String>,
    pub risk: f32,
    pub flagged: bool,
    pub findings: Vec<FindingRow>,
}

impl MessageReport {
    /// Why it was flagged: `CODE name` of each finding at warning or above, each code once.
    pub fn reasons(&self) -> Vec<String> {
        let mut seen = std::collections::BTreeSet::new();
        self.findings
            .iter()
            .filter(|f| f.severity >= Severity::Warning && seen.insert(f.code.clone()))
            .map(|f| format!("{} {}", f.code, f.name))
            .collect()
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct MonthRow {
    pub month: String,
    pub messages: usize,
    pub flagged: usize,
    pub mean_risk: f32,
    pub mean_negative: f32,
    pub mean_positive: f32,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditReport {
    pub state: String,
    pub model_id: String,
    pub run: RunStats,
    pub messages: usize,
    pub flagged_count: usize,
    /// Messages by their most severe finding: error, warning, info, none.
    pub by_severity: BTreeMap<String, usize>,
    /// Flagged messages, riskiest first.
    pub flagged: Vec<MessageReport>,
    /// Tone over time, by month of the Date header (UTC).
    pub months: Vec<MonthRow>,
}

/// `YYYY-MM-DD` of a Unix time (UTC), without a calendar crate: Howard Hinnant's civil_from_days.
pub fn ymd(t: i64) -> (i64, u32, u32) {
    let z = t.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

pub fn iso_date(t: i64) -> String {
    let (y, m, d) = ymd(t);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Build the report over everything in the state scored by `model_id`.
pub fn build(state: &State, model_id: &str, run: &RunStats) -> anyhow::Result<AuditReport> {
    let mut stmt = state.conn.prepare(
        "SELECT m.origin, m.message_id, m.date, m.subject, m.recipients, m.cleaned,
                s.risk, s.flagged, s.findings, s.tone_negative, s.tone_positive, m.sentences
         FROM messages m JOIN scores s ON s.clean_hash = m.clean_hash AND s.model_id = ?1
         ORDER BY m.origin",
    )?;
    let mut rows = stmt.query(params![model_id])?;
    let mut messages = 0;
    let mut flagged = Vec::new();
    let mut by_severity: BTreeMap<String, usize> = ["error", "warning", "info", "none"].iter().map(|k| (k.to_string(), 0)).collect();
    let mut months: BTreeMap<String, (usize, usize, f64, f64, f64)> = BTreeMap::new();
    while let Some(r) = rows.next()? {
        messages += 1;
        let date: Option<i64> = r.get(2)?;
        let cleaned: String = r.get(5)?;
        let risk = r.get::<_, f64>(6)? as f32;
        let is_flagged: bool = r.get(7)?;
        let mut findings: Vec<FindingRow> = serde_json::from_str(&r.get::<_, String>(8)?).unwrap_or_default();
        let worst = findings.iter().map(|f| f.severity).max();
        *by_severity.entry(worst.map(|s| s.as_str().to_string()).unwrap_or_else(|| "none".into())).or_default() += 1;
        if let Some(t) = date {
            let (y, m, _) = ymd(t);
            let e = months.entry(format!("{y:04}-{m:02}")).or_default();
            e.0 += 1;
            e.1 += usize::from(is_flagged);
            e.2 += risk as f64;
            e.3 += r.get::<_, f64>(9)?;
            e.4 += r.get::<_, f64>(10)?;
        }
        if is_flagged {
            let spans: Vec<std::ops::Range<usize>> = serde_json::from_str(&r.get::<_, String>(11)?).unwrap_or_default();
            for f in &mut findings {
                f.text = cleaned.get(f.span.clone()).unwrap_or("").to_string();
                if let Some(sent) = spans.get(f.sentence) {
                    f.sentence_text = cleaned.get(sent.clone()).unwrap_or("").to_string();
                    f.offset = f.span.start.saturating_sub(sent.start);
                }
            }
            flagged.push(MessageReport {
                source: r.get(0)?,
                message_id: r.get(1)?,
                date: date.map(iso_date),
                subject: r.get(3)?,
                recipients: serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or_default(),
                risk,
                flagged: true,
                findings,
            });
        }
    }
    flagged.sort_by(|a, b| b.risk.total_cmp(&a.risk).then_with(|| a.source.cmp(&b.source)));
    let months = months
        .into_iter()
        .map(|(month, (n, f, risk, neg, pos))| MonthRow {
            month,
            messages: n,
            flagged: f,
            mean_risk: (risk / n as f64) as f32,
            mean_negative: (neg / n as f64) as f32,
            mean_positive: (pos / n as f64) as f32,
        })
        .collect();
    Ok(AuditReport {
        state: state.path.display().to_string(),
        model_id: model_id.to_string(),
        run: run.clone(),
        messages,
        flagged_count: flagged.len(),
        by_severity,
        flagged,
        months,
    })
}

pub fn render(out: &mut dyn Write, rep: &AuditReport, format: ReportFormat) -> anyhow::Result<()> {
    match format {
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, rep)?;
            writeln!(out)?;
        }
        ReportFormat::Csv => {
            writeln!(out, "source,date,subject,recipients,risk,code,name,severity,message,sentence")?;
            for m in &rep.flagged {
                for f in &m.findings {
                    writeln!(
                        out,
                        "{},{},{},{},{:.3},{},{},{},{},{}",
                        csv_field(&m.source),
                        m.date.as_deref().unwrap_or(""),
                        csv_field(m.subject.as_deref().unwrap_or("")),
                        csv_field(&m.recipients.join(" ")),
                        m.risk,
                        f.code,
                        f.name,
                        f.severity.as_str(),
                        csv_field(&f.message),
                        csv_field(if f.sentence_text.is_empty() { &f.text } else { &f.sentence_text }),
                    )?;
                }
            }
        }
        ReportFormat::Html => out.write_all(super::html::render(rep).as_bytes())?,
        ReportFormat::Table => {
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
            if !rep.flagged.is_empty() {
                writeln!(out, "{:>5}  {:<10}  {:<28}  {:<34}  why", "risk", "date", "to", "subject")?;
                for m in &rep.flagged {
                    let why = m.reasons();
                    writeln!(
                        out,
                        "{:>4.0}%  {:<10}  {:<28}  {:<34}  {}",
                        m.risk * 100.0,
                        m.date.as_deref().unwrap_or("-"),
                        one_line(&m.recipients.join(", "), 28),
                        one_line(m.subject.as_deref().unwrap_or("(no subject)"), 34),
                        why.join(", ")
                    )?;
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
                    writeln!(
                        out,
                        "{:<8} {:>8} {:>8} {:>8.0}% {:>8.0}%",
                        m.month,
                        m.messages,
                        m.flagged,
                        m.mean_risk * 100.0,
                        m.mean_negative * 100.0
                    )?;
                }
            }
            for (src, e) in &rep.run.errors {
                writeln!(out, "error: {src}: {e}")?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_convert_without_a_calendar_crate() {
        assert_eq!(iso_date(0), "1970-01-01");
        assert_eq!(iso_date(951_782_400), "2000-02-29");
        assert_eq!(iso_date(1_699_956_000), "2023-11-14");
        assert_eq!(iso_date(-86_400), "1969-12-31");
    }

    #[test]
    fn csv_quotes_only_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, \"b\""), "\"a, \"\"b\"\"\"");
    }
}
