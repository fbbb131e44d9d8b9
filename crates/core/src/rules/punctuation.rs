//! R102 piled-punctuation: "!!", "??", "?!", "!?" and longer runs; many exclamations in one message.
use once_cell::sync::Lazy;
use regex::Regex;

use super::catalogue::PILED_PUNCTUATION;
use super::lexicon::{greeting_prefix_len, is_closing_only};
use super::{finding, Message};
use crate::findings::{Finding, Severity};

/// Two or more of `!` and `?` in a row (full-width forms too).
static PILE: Lazy<Regex> = Lazy::new(|| Regex::new(r"[!?！？]{2,}").expect("pile regex"));

/// How many sentences may end in "!" before the message as a whole reads as over-excited.
const EXCLAMATION_LIMIT: usize = 3;

pub(super) fn check(msg: &Message, out: &mut Vec<Finding>) {
    for s in &msg.sentences {
        for m in PILE.find_iter(s.text) {
            // A pile standing on its own ("????") is usually characters lost to a bad encoding,
            // not punctuation: only count marks that end a word or a bracket.
            if s.text[..m.start()].chars().next_back().is_none_or(char::is_whitespace) {
                continue;
            }
            let pile = m.as_str();
            let why = if pile.contains(['?', '？']) && pile.contains(['!', '！']) {
                "reads as exasperated disbelief"
            } else if pile.contains(['?', '？']) {
                "reads as impatience, as if the answer should have been obvious"
            } else {
                "reads as shouting or over-excitement"
            };
            let single = if pile.contains(['?', '？']) { "?" } else { "!" };
            out.push(finding(
                &PILED_PUNCTUATION,
                Severity::Warning,
                s.abs(m.range()),
                s.index,
                format!("“{pile}” {why}"),
                format!("End the sentence with a single “{single}”"),
            ));
        }
    }

    // Many exclamatory sentences. A bare greeting or sign-off ("Hi Bob!", "Thanks!") does not count.
    let exclaimed: Vec<(&super::Sentence, &str)> = msg
        .sentences
        .iter()
        .filter_map(|s| {
            let t = s.text.trim_end_matches(|c: char| c.is_whitespace() || "\"'”’)".contains(c));
            let bare = is_closing_only(t) || greeting_prefix_len(t).is_some_and(|n| n >= t.len());
            (t.ends_with(['!', '！']) && !bare).then_some((s, t))
        })
        .collect();
    if let Some((s, t)) = exclaimed.get(EXCLAMATION_LIMIT - 1) {
        let bangs = t.len() - t.trim_end_matches(['!', '！']).len();
        out.push(finding(
            &PILED_PUNCTUATION,
            Severity::Info,
            s.abs(t.len() - bangs..t.len()),
            s.index,
            format!(
                "{} sentences end with “!”; that many exclamations can read as over-excited or insincere",
                exclaimed.len()
            ),
            "Keep one “!” for the point that deserves it and end the others with a full stop".into(),
        ));
    }
}
