//! The audit report: every message we sent that has a verdict under the current model, the
//! flagged ones riskiest first with each finding located in its sentence, and tone by month.
//! Built from the state's typed rows ([`crate::state::StoredMessage`]); rendered by one module per
//! format.
use std::collections::BTreeMap;
use std::io::Write;

use crate::audit::RunStats;
use crate::findings::{Finding, Severity};
use crate::state::StoredMessage;
use crate::time::{iso_date, ymd};

mod csv;
mod html;
mod table;

/// A finding with the text it points at, for renderers.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Located {
    #[serde(flatten)]
    pub finding: Finding,
    /// The flagged text itself.
    pub text: String,
    /// The whole sentence it is in, and where the span starts inside it (bytes).
    pub sentence_text: String,
    pub offset: usize,
}

impl std::ops::Deref for Located {
    type Target = Finding;
    fn deref(&self) -> &Finding {
        &self.finding
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct MessageReport {
    pub source: String,
    pub message_id: Option<String>,
    /// Who sent it (audits can span several mailboxes).
    pub sender: Option<String>,
    pub date: Option<String>,
    pub subject: Option<String>,
    pub recipients: Vec<String>,
    pub risk: f32,
    pub flagged: bool,
    pub findings: Vec<Located>,
}

impl MessageReport {
    /// Why it was flagged: `CODE name` of each finding at warning or above, each code once.
    pub fn reasons(&self) -> Vec<String> {
        let mut seen = std::collections::BTreeSet::new();
        self.findings
            .iter()
            .filter(|f| f.severity >= Severity::Warning && seen.insert(f.code))
            .map(|f| format!("{} {}", f.code, f.name))
            .collect()
    }
}

/// Tone of one month's mail.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ToneMonth {
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
    /// The distinct senders of the audited mail.
    pub senders: Vec<String>,
    /// Flagged messages, riskiest first.
    pub flagged: Vec<MessageReport>,
    /// Tone over time, by month of the Date header (UTC).
    pub months: Vec<ToneMonth>,
}

/// Each finding with its text, its sentence and its offset in the sentence.
pub fn locate(m: &StoredMessage, findings: &[Finding]) -> Vec<Located> {
    findings
        .iter()
        .map(|f| {
            let sentence = m.sentences.get(f.sentence);
            Located {
                finding: f.clone(),
                text: m.cleaned.get(f.span.clone()).unwrap_or("").to_string(),
                sentence_text: sentence.and_then(|s| m.cleaned.get(s.clone())).unwrap_or("").to_string(),
                offset: sentence.map(|s| f.span.start.saturating_sub(s.start)).unwrap_or(0),
            }
        })
        .collect()
}

/// Build the report over the messages we sent that have a verdict.
pub fn build(messages: &[StoredMessage], state: &str, model_id: &str, run: &RunStats) -> AuditReport {
    let mut count = 0;
    let mut flagged = Vec::new();
    let mut senders = std::collections::BTreeSet::new();
    let mut by_severity: BTreeMap<String, usize> = ["error", "warning", "info", "none"].iter().map(|k| (k.to_string(), 0)).collect();
    let mut months: BTreeMap<String, (usize, usize, f64, f64, f64)> = BTreeMap::new();
    for m in messages.iter().filter(|m| m.is_sent()) {
        let Some(v) = &m.verdict else { continue };
        count += 1;
        if let Some(s) = &m.sender {
            senders.insert(s.clone());
        }
        let worst = v.findings.iter().map(|f| f.severity).max();
        *by_severity.entry(worst.map(|s| s.as_str().to_string()).unwrap_or_else(|| "none".into())).or_default() += 1;
        if let Some(t) = m.date {
            let (y, mo, _) = ymd(t);
            let e = months.entry(format!("{y:04}-{mo:02}")).or_default();
            e.0 += 1;
            e.1 += usize::from(v.flagged);
            e.2 += v.risk as f64;
            e.3 += v.tone.negative as f64;
            e.4 += v.tone.positive as f64;
        }
        if v.flagged {
            flagged.push(MessageReport {
                source: m.origin.clone(),
                message_id: m.message_id.clone(),
                sender: m.sender.clone(),
                date: m.date.map(iso_date),
                subject: m.subject.clone(),
                recipients: m.recipients.clone(),
                risk: v.risk,
                flagged: true,
                findings: locate(m, &v.findings),
            });
        }
    }
    flagged.sort_by(|a, b| b.risk.total_cmp(&a.risk).then_with(|| a.source.cmp(&b.source)));
    let months = months
        .into_iter()
        .map(|(month, (n, f, risk, neg, pos))| ToneMonth {
            month,
            messages: n,
            flagged: f,
            mean_risk: (risk / n as f64) as f32,
            mean_negative: (neg / n as f64) as f32,
            mean_positive: (pos / n as f64) as f32,
        })
        .collect();
    AuditReport {
        state: state.to_string(),
        model_id: model_id.to_string(),
        run: run.clone(),
        messages: count,
        flagged_count: flagged.len(),
        by_severity,
        senders: senders.into_iter().collect(),
        flagged,
        months,
    }
}

/// Write the report in `format`.
pub fn render(out: &mut dyn Write, rep: &AuditReport, format: super::Format) -> std::io::Result<()> {
    match format {
        super::Format::Json => {
            serde_json::to_writer_pretty(&mut *out, rep)?;
            writeln!(out)
        }
        super::Format::Csv => csv::render(out, rep),
        super::Format::Html => out.write_all(html::render(rep).as_bytes()),
        super::Format::Table => table::render(out, rep),
    }
}

#[cfg(test)]
mod tests;
