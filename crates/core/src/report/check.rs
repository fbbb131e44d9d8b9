//! `rapport check` output: rustc/ruff-style text with the span highlighted in its sentence, or
//! the JSON document tools read.
use std::io::Write;

use crate::clean::CleanText;
use crate::context::Context;
use crate::findings::{Finding, Severity};
use crate::language::Language;
use crate::parse::ParsedMail;
use crate::verdict::{Assessment, Tone};

/// ANSI styling, or none.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn severity(&self, sev: Severity) -> String {
        let code = match sev {
            Severity::Error => "1;31",
            Severity::Warning => "1;33",
            Severity::Info => "1;36",
        };
        self.paint(code, sev.as_str())
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, col)
}

/// The JSON document of `rapport check --format json`.
#[derive(Debug, serde::Serialize)]
pub struct CheckJson<'a> {
    pub input: String,
    pub findings: Vec<FindingJson<'a>>,
    pub tone: Tone,
    pub risk: f32,
    pub flagged: bool,
    /// Sentences of the cleaned text with their misread risk.
    pub sentences: Vec<SentenceJson<'a>>,
    pub account: Option<String>,
    /// The draft's language and whether the English rules and model ran on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<&'a Language>,
    /// From the audit state: the draft's account and the message it answers (null without a state).
    pub context: Option<&'a Context>,
}

#[derive(Debug, serde::Serialize)]
pub struct FindingJson<'a> {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub message: &'a str,
    pub suggestion: Option<&'a str>,
    /// Byte range into the cleaned text.
    pub span: [usize; 2],
    /// Byte range into the original text body.
    pub body_span: [usize; 2],
    /// The text of the sentence the finding is in.
    pub sentence: &'a str,
    pub sentence_index: usize,
    /// 1-based line and column in the original text body.
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, serde::Serialize)]
pub struct SentenceJson<'a> {
    pub text: &'a str,
    pub span: [usize; 2],
    pub risk: f32,
}

pub fn to_json<'a>(mail: &'a ParsedMail, clean: &'a CleanText, a: &'a Assessment) -> CheckJson<'a> {
    let findings = a
        .findings
        .iter()
        .map(|f| {
            let orig = clean.to_original(f.span.clone());
            let (line, column) = line_col(&mail.body, orig.start);
            FindingJson {
                code: f.code,
                name: f.name,
                severity: f.severity,
                message: &f.message,
                suggestion: f.suggestion.as_deref(),
                span: [f.span.start, f.span.end],
                body_span: [orig.start, orig.end],
                sentence: clean.sentences.get(f.sentence).map(|r| &clean.text[r.clone()]).unwrap_or(""),
                sentence_index: f.sentence,
                line,
                column,
            }
        })
        .collect();
    let sentences = clean
        .sentences
        .iter()
        .zip(&a.sentence_risk)
        .map(|(r, &risk)| SentenceJson {
            text: &clean.text[r.clone()],
            span: [r.start, r.end],
            risk,
        })
        .collect();
    CheckJson {
        input: mail.origin.to_string(),
        findings,
        tone: a.tone,
        risk: a.risk,
        flagged: a.flagged,
        sentences,
        account: None,
        language: None,
        context: None,
    }
}

/// One finding, rustc-style:
///
/// ```text
/// warning[R101] shouting: words in capitals read as shouting
///   --> draft.eml:4:1
///    |
///  4 | PLEASE SEND the signed contract by Friday.
///    | ^^^^^^^^^^^
///    = help: write it in normal case
/// ```
pub fn render_finding(out: &mut impl Write, input: &str, mail: &ParsedMail, clean: &CleanText, f: &Finding, style: Style) -> std::io::Result<()> {
    let orig = clean.to_original(f.span.clone());
    let (line, col) = line_col(&mail.body, orig.start);
    writeln!(
        out,
        "{}{} {}",
        style.severity(f.severity),
        style.paint("1", &format!("[{}] {}:", f.code, f.name)),
        f.message
    )?;
    writeln!(out, "  {} {input}:{line}:{col} (body)", style.paint("1;34", "-->"))?;
    // Show the sentence on one line (line breaks as spaces) and underline the span inside it.
    let sent = clean.sentences.get(f.sentence).cloned().unwrap_or(f.span.clone());
    let (s0, s1) = (sent.start.min(f.span.start), sent.end.max(f.span.end));
    let shown: String = clean.text[s0..s1].chars().map(|c| if c == '\n' || c == '\t' { ' ' } else { c }).collect();
    let pad = clean.text[s0..f.span.start].chars().count();
    let width = clean.text[f.span.clone()].chars().count().max(1);
    let gutter = " ".repeat(line.to_string().len());
    let bar = style.paint("1;34", "|");
    writeln!(out, " {gutter} {bar}")?;
    writeln!(out, " {} {bar} {shown}", style.paint("1;34", &line.to_string()))?;
    let carets = "^".repeat(width);
    let carets = match f.severity {
        Severity::Error => style.paint("1;31", &carets),
        Severity::Warning => style.paint("1;33", &carets),
        Severity::Info => style.paint("1;36", &carets),
    };
    writeln!(out, " {gutter} {bar} {}{carets}", " ".repeat(pad))?;
    if let Some(s) = &f.suggestion {
        writeln!(out, " {gutter} {} {}: {s}", style.paint("1;34", "="), style.paint("1", "help"))?;
    }
    writeln!(out)
}

/// The whole text report of one checked draft.
pub fn render_text(out: &mut impl Write, mail: &ParsedMail, clean: &CleanText, a: &Assessment, style: Style, account_note: Option<&str>) -> std::io::Result<()> {
    render_report(out, mail, clean, a, style, None, account_note)
}

/// The text report, with the draft's language: a draft that was not checked (not English) says
/// so in its summary line instead of a verdict. `notes` are printed under the summary.
pub fn render_report(
    out: &mut impl Write,
    mail: &ParsedMail,
    clean: &CleanText,
    a: &Assessment,
    style: Style,
    language: Option<&Language>,
    notes: Option<&str>,
) -> std::io::Result<()> {
    let input = mail.origin.to_string();
    for f in &a.findings {
        render_finding(out, &input, mail, clean, f, style)?;
    }
    let counts = |s: Severity| a.findings.iter().filter(|f| f.severity == s).count();
    match language.filter(|l| !l.checked) {
        Some(l) => writeln!(out, "{input}: {} — written in {} ({})", style.paint("1;36", "not checked"), l.name, l.code)?,
        None => {
            let verdict = if a.flagged {
                style.paint("1;33", "could be misread")
            } else {
                style.paint("1;32", "reads fine")
            };
            writeln!(
                out,
                "{input}: {verdict} — risk {:.0}%, tone {:.0}% negative / {:.0}% neutral / {:.0}% positive; {} error(s), {} warning(s), {} note(s)",
                a.risk * 100.0,
                a.tone.negative * 100.0,
                a.tone.neutral * 100.0,
                a.tone.positive * 100.0,
                counts(Severity::Error),
                counts(Severity::Warning),
                counts(Severity::Info),
            )?;
        }
    }
    if let Some(note) = notes {
        writeln!(out, "{note}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_lines_and_chars() {
        let t = "ab\ncdé\nxyz";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 3), (2, 1));
        assert_eq!(line_col(t, t.find('x').unwrap()), (3, 1));
        assert_eq!(line_col(t, t.find('é').unwrap() + 2), (2, 4));
    }
}
