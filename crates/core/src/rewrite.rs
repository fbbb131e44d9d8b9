//! Concrete rewrites: where a finding's suggestion is replacement text, the edit that applies it
//! (the editor's code actions). Most suggestions are advice ("say why it matters"); these are not
//! rewrites. The ones that are: capitals in sentence case (R101), a single mark instead of a pile
//! (R102), and a bare command as a question (R105, when the command opens the sentence). A quoted
//! suggestion that was shortened (…) or has a placeholder (`<date>`) is not applied.
use std::ops::Range;

use crate::clean::CleanText;
use crate::findings::{Finding, Severity};

/// Replace `range` of the cleaned text with `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    pub range: Range<usize>,
    pub text: String,
}

/// The first “quoted” text of a suggestion after `prefix`, when it is complete.
fn quoted_after<'s>(suggestion: &'s str, prefix: &str) -> Option<&'s str> {
    let at = suggestion.find(prefix)? + prefix.len();
    let rest = &suggestion[at..];
    let end = rest.find('”')?;
    let q = &rest[..end];
    (!q.is_empty() && !q.contains(['…', '<', '>', '“'])).then_some(q)
}

fn upper_first(s: &str) -> String {
    let mut cs = s.chars();
    cs.next().map(|c| c.to_uppercase().chain(cs).collect()).unwrap_or_default()
}

/// The rewrite a finding's suggestion spells out, if it does.
pub fn rewrite(f: &Finding, clean: &CleanText) -> Option<Rewrite> {
    let suggestion = f.suggestion.as_deref()?;
    let sentence = clean.sentences.get(f.sentence)?.clone();
    let span_text = clean.text.get(f.span.clone())?;
    let at_start = clean.text.get(sentence.start..f.span.start)?.trim().is_empty();
    match f.code {
        "R101" if f.severity == Severity::Error => {
            let q = quoted_after(suggestion, "sentence case: “")?;
            Some(Rewrite { range: sentence, text: q.to_string() })
        }
        "R101" => {
            let q = quoted_after(suggestion, "Write “")?;
            if q.to_lowercase() != span_text.to_lowercase() {
                return None;
            }
            Some(Rewrite { range: f.span.clone(), text: if at_start { upper_first(q) } else { q.to_string() } })
        }
        "R102" => {
            let q = quoted_after(suggestion, "a single “")?;
            Some(Rewrite { range: f.span.clone(), text: q.to_string() })
        }
        "R105" if at_start => {
            let q = quoted_after(suggestion, "“Could you please ")?;
            Some(Rewrite { range: sentence, text: format!("Could you please {q}") })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(text: &str, code: &str) -> Option<String> {
        let clean = crate::clean::clean(text);
        let f = crate::rules::check_rules(&clean).into_iter().find(|f| f.code == code)?;
        let r = rewrite(&f, &clean)?;
        let mut out = clean.text.clone();
        out.replace_range(r.range, &r.text);
        Some(out)
    }

    #[test]
    fn rewrites_that_are_spelled_out_are_applied() {
        assert_eq!(apply("The refund will NOT be processed today.", "R101").as_deref(), Some("The refund will not be processed today."));
        assert_eq!(apply("Did you get the contract??", "R102").as_deref(), Some("Did you get the contract?"));
        assert_eq!(apply("Send me the signed contract.", "R105").as_deref(), Some("Could you please send me the signed contract?"));
        assert_eq!(apply("You need to sign the form.", "R105").as_deref(), Some("Could you please sign the form?"));
    }

    #[test]
    fn advice_and_placeholders_are_not_rewrites() {
        assert_eq!(apply("Per my last email, the invoice is attached.", "R104"), None);
        assert_eq!(apply("Send the payment immediately.", "R105"), None, "“by <date>” is a placeholder");
    }
}
