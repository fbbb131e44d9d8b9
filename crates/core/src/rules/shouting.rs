//! R101 shouting: words, runs of words or whole sentences in capitals.
use std::ops::Range;

use super::catalogue::SHOUTING;
use super::lexicon::{is_acronym, is_shoutable, words};
use super::{finding, snippet, Message};
use crate::findings::{Finding, Severity};

/// How one word counts towards shouting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caps {
    /// Has a lower-case letter, or letters without case: ends a run.
    Lower,
    /// Digits only: neither ends nor starts a run.
    Number,
    /// Capitals, but an acronym, abbreviation, code or name ("PDF", "Q3", "I", "CGAS"): may sit in
    /// a run without making one.
    Acronym,
    /// An English word in capitals: shouting, with this many letters.
    Shout(usize),
}

/// Classify the word at `r` in `s`. A word glued to `/`, `@`, `_`, `=` or a backslash, or alone in
/// brackets, is an identifier ("HOU/ECT", "(TURN)"), not a word.
fn classify(s: &str, r: Range<usize>) -> Caps {
    let word = &s[r.clone()];
    let mut letters = 0;
    for c in word.chars().filter(|c| c.is_alphabetic()) {
        if !c.is_uppercase() {
            return Caps::Lower;
        }
        letters += 1;
    }
    if letters == 0 {
        return Caps::Number;
    }
    let before = s[..r.start].chars().next_back();
    let after = s[r.end..].chars().next();
    let glued = |c: Option<char>| c.is_some_and(|c| "/@_=\\".contains(c));
    let bracketed = matches!((before, after), (Some('(' | '['), Some(')' | ']')));
    if glued(before) || glued(after) || bracketed || is_acronym(word) || !is_shoutable(word) {
        Caps::Acronym
    } else {
        Caps::Shout(letters)
    }
}

/// A run of consecutive capitalised words in one sentence.
#[derive(Debug, Default)]
struct Run {
    /// First and last capitalised word (numbers at either end left out).
    span: Option<Range<usize>>,
    shouted: usize,
    longest: usize,
}

impl Run {
    fn push(&mut self, r: Range<usize>, caps: Caps) {
        if let Caps::Shout(n) = caps {
            self.shouted += 1;
            self.longest = self.longest.max(n);
        }
        self.span = Some(match self.span.take() {
            Some(s) => s.start..r.end,
            None => r,
        });
    }

    /// Two or more shouted words, or one of three or more letters ("NOT", "NEVER").
    fn is_shouting(&self) -> bool {
        self.shouted >= 2 || self.longest >= 3
    }
}

pub(super) fn check(msg: &Message, out: &mut Vec<Finding>) {
    for s in &msg.sentences {
        let classified: Vec<(Range<usize>, Caps)> =
            words(s.text).map(|(r, _)| (r.clone(), classify(s.text, r))).collect();

        // Whole sentence in capitals: one error for the sentence, nothing else from it.
        let lettered: Vec<Caps> =
            classified.iter().map(|(_, c)| *c).filter(|c| *c != Caps::Number).collect();
        let shouted = lettered.iter().filter(|c| matches!(c, Caps::Shout(_))).count();
        if lettered.len() >= 4 && shouted >= 2 && lettered.iter().all(|c| *c != Caps::Lower) {
            let span = s.abs(0..s.text.len());
            out.push(finding(
                &SHOUTING,
                Severity::Error,
                span,
                s.index,
                "the whole sentence is in capitals, which reads as shouting at the reader".into(),
                format!("Write it in sentence case: “{}”", snippet(&sentence_case(s.text), 90)),
            ));
            continue;
        }

        let mut run = Run::default();
        let mut runs = Vec::new();
        for (r, caps) in classified {
            match caps {
                Caps::Lower => runs.push(std::mem::take(&mut run)),
                Caps::Number => {}
                Caps::Acronym | Caps::Shout(_) => run.push(r, caps),
            }
        }
        runs.push(run);
        for run in runs.into_iter().filter(Run::is_shouting) {
            let Some(r) = run.span else { continue };
            if s.text[r.end..].trim_start_matches([' ', '\t']).starts_with(':') {
                continue; // a heading or label ("NOTE:", "PAYMENT TERMS:"), not a raised voice
            }
            let shout = &s.text[r.clone()];
            let (message, suggestion) = if run.shouted >= 2 {
                (
                    format!("“{}” is in capitals, which reads as shouting", snippet(shout, 60)),
                    format!(
                        "Write “{}”; if it matters, say why in words instead",
                        snippet(&shout.to_lowercase(), 60)
                    ),
                )
            } else {
                (
                    format!("“{shout}” in capitals reads as raising your voice"),
                    format!(
                        "Write “{}”; to stress it, explain what is at stake (e.g. “this is time-sensitive because …”)",
                        shout.to_lowercase()
                    ),
                )
            };
            out.push(finding(&SHOUTING, Severity::Warning, s.abs(r), s.index, message, suggestion));
        }
    }
}

/// "PLEASE SEND THE PDF NOW." → "Please send the PDF now." (acronyms kept in capitals).
fn sentence_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    let mut first = true;
    for (r, w) in words(s) {
        out.push_str(&s[last..r.start]);
        let keep = w == "I" || (w.chars().count() > 1 && is_acronym(w));
        if keep {
            out.push_str(w);
        } else {
            let lower = w.to_lowercase();
            if first {
                let mut cs = lower.chars();
                if let Some(c) = cs.next() {
                    out.extend(c.to_uppercase());
                    out.push_str(cs.as_str());
                }
            } else {
                out.push_str(&lower);
            }
        }
        first = false;
        last = r.end;
    }
    out.push_str(&s[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::sentence_case;

    #[test]
    fn sentence_case_keeps_acronyms() {
        assert_eq!(sentence_case("PLEASE SEND THE PDF NOW!"), "Please send the PDF now!");
        assert_eq!(sentence_case("I NEED THE Q3 REPORT BY EOD."), "I need the Q3 report by EOD.");
    }
}
