//! Rule-based findings: deterministic checks for wording that customers tend to misread.
//!
//! The tone model (in `score`) judges each sentence as a whole; these rules catch the concrete,
//! nameable habits that make a message read badly — capitals, piled-up punctuation, stock
//! passive-aggressive phrases, bare commands, blame — and point at the exact bytes, so the writer
//! sees what to change and why. They run on [`CleanText`]: only what the sender wrote, split into
//! sentences.
//!
//! Every code rapport can report, rule (`R1xx`) or model (`M2xx`), has a catalogue entry in
//! [`RULES`]; `rapport explain CODE` prints it and `docs/rules.md` is generated from the same text
//! ([`catalogue_markdown`]; a test keeps them in sync).
//!
//! Layout: `catalogue` (codes and explanations), `lexicon` (shared word lists), one module per
//! family of checks (`shouting`, `punctuation`, `phrases`, `demand`, `shape`).
use std::ops::Range;

use crate::clean::CleanText;
use crate::findings::{Finding, Rule, Severity};

mod catalogue;
mod demand;
mod lexicon;
mod phrases;
mod punctuation;
mod shape;
mod shouting;
#[cfg(test)]
mod tests;

pub use catalogue::{catalogue_markdown, RULES};

/// The catalogue entry for `code`, matched case-insensitively against the code (`R101`, `m203`)
/// or the name (`shouting`, `Negative-Tone`).
pub fn explain(code: &str) -> Option<&'static Rule> {
    let query = code.trim();
    RULES
        .iter()
        .find(|r| r.code.eq_ignore_ascii_case(query) || r.name.eq_ignore_ascii_case(query))
}

/// Run every rule over one cleaned message. Findings are sorted by span start, then code.
pub fn check_rules(clean: &CleanText) -> Vec<Finding> {
    let msg = Message::new(clean);
    let mut out = Vec::new();
    shouting::check(&msg, &mut out);
    punctuation::check(&msg, &mut out);
    shape::check_curt_reply(&msg, &mut out);
    phrases::check(&msg, &mut out);
    demand::check(&msg, &mut out);
    shape::check_greeting(&msg, &mut out);
    shape::check_sign_off(&msg, &mut out);
    out.sort_by(|a, b| a.span.start.cmp(&b.span.start).then_with(|| a.code.cmp(b.code)));
    out
}

/// One sentence of the message: its index in `CleanText::sentences`, its byte range in the text
/// and the text itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sentence<'a> {
    pub index: usize,
    pub start: usize,
    pub text: &'a str,
}

impl Sentence<'_> {
    /// A range relative to this sentence, as a range into the whole text.
    pub fn abs(&self, r: Range<usize>) -> Range<usize> {
        self.start + r.start..self.start + r.end
    }
}

/// The message as the checks see it: the text and its usable sentences. Sentence ranges that do
/// not fit the text (out of bounds, not on a character boundary) are skipped rather than trusted.
pub(crate) struct Message<'a> {
    pub text: &'a str,
    pub sentences: Vec<Sentence<'a>>,
}

impl<'a> Message<'a> {
    pub fn new(clean: &'a CleanText) -> Self {
        let text = clean.text.as_str();
        let sentences = clean
            .sentences
            .iter()
            .enumerate()
            .filter_map(|(index, r)| {
                let s = text.get(r.clone())?;
                (!s.trim().is_empty()).then_some(Sentence { index, start: r.start, text: s })
            })
            .collect();
        Message { text, sentences }
    }
}

/// Build a finding for `rule` (its code and name; the severity is given because some rules have
/// more than one).
pub(crate) fn finding(
    rule: &Rule,
    severity: Severity,
    span: Range<usize>,
    sentence: usize,
    message: String,
    suggestion: String,
) -> Finding {
    Finding {
        code: rule.code,
        name: rule.name,
        severity,
        message,
        suggestion: Some(suggestion),
        span,
        sentence,
    }
}

pub(crate) use crate::text::one_line as snippet;
