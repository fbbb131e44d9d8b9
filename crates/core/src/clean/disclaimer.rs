//! Legal disclaimers and confidentiality notices.
//!
//! A disclaimer is recognised by its vocabulary, not by a fixed text: a paragraph (or the tail of
//! one) that opens like a notice ("This e-mail…", "The information contained…", "If you have
//! received…", "CONFIDENTIALITY NOTICE") and hits at least three of the usual legal phrases
//! (confidential, privileged, intended recipient, received in error, notify the sender, delete,
//! prohibited, disclosure/distribution, viruses, proprietary…). A paragraph with five or more hits
//! is a disclaimer whatever its opening. Rules of `*****`, `-----` or `_____` around a removed
//! disclaimer go with it, and so does a block framed by two `*****` rules that contains any legal
//! phrase (typical of gateway-added notices).
use once_cell::sync::Lazy;
use regex::Regex;

use super::lines::{is_rule, Line};

static PHRASES: Lazy<Vec<Regex>> = Lazy::new(|| {
    [
        r"\bconfidential(?:ity)?\b",
        r"\bprivileged\b",
        r"\bintended\s+(?:only|solely|exclusively)?\s*for\b|\b(?:intended|designated|named)\s+recipients?\b|\baddressee",
        r"\bin\s+error\b|\bby\s+mistake\b",
        r"\b(?:notify|inform|contact|advise)\s+(?:the\s+)?(?:sender|us|me)\b|\breply(?:ing)?\s+to\s+the\s+sender",
        r"\b(?:delete|destroy|discard|erase)\b",
        r"\bprohibited\b|\bunauthori[sz]ed\b|\bunlawful\b",
        r"\b(?:disclos(?:e|ure)|dissemination|distribution|copying|retransmission)\b",
        r"\bviruse?s?\b|\bmalware\b",
        r"\bproprietary\b",
        r"\b(?:views|opinions)\s+expressed\b|\bdoes\s+not\s+(?:necessarily\s+)?(?:represent|reflect|constitute)\b|\bnot\s+(?:intended|deemed)\s+to\s+(?:be|constitute)\b|\bbinding\b",
        r"\blegal(?:ly)?\b|\blaw\b",
    ]
    .iter()
    .map(|p| Regex::new(&format!("(?i){p}")).unwrap())
    .collect()
});

/// How a notice usually opens.
static OPENING: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)^\W*(?:this\s+(?:e-?mail|email|message|communication|transmission|transmittal|electronic)|the\s+(?:information|contents?|e-?mail|email|message)\b|if\s+you\s+(?:are\s+not|have\s+received|received)|(?:confidentiality|legal|privacy|important)\s+(?:notice|notification|warning|disclaimer)|disclaimer|notice\s*:|confidential(?:ity)?\b|privileged\b|caution\s*:|warning\s*:|any\s+(?:review|views|use|unauthori[sz]ed)|e-?mail\s+(?:transmissions?|is\s+not)|internet\s+communications)",
    )
    .unwrap()
});

static STARS: Lazy<Regex> = Lazy::new(|| Regex::new(r"^\s*\*{5,}\s*$").unwrap());

fn score(text: &str) -> usize {
    PHRASES.iter().filter(|re| re.is_match(text)).count()
}

/// Remove disclaimers among the kept lines.
pub(super) fn remove(lines: &[Line<'_>], keep: &mut [bool]) {
    remove_framed(lines, keep);
    // Paragraphs: runs of kept, non-blank lines.
    let mut i = 0;
    while i < lines.len() {
        if !keep[i] || lines[i].is_blank() {
            i += 1;
            continue;
        }
        let mut end = i;
        while end < lines.len() && keep[end] && !lines[end].is_blank() {
            end += 1;
        }
        if let Some(from) = disclaimer_start(lines, i, end) {
            for k in &mut keep[from..end] {
                *k = false;
            }
            drop_adjacent_rules(lines, keep, from, end);
        }
        i = end;
    }
}

/// A disclaimer runs to the end of its paragraph, and is never longer than this many lines (which
/// also keeps the search linear on long paragraphs).
const MAX_LINES: usize = 25;

/// Where, in the paragraph `lines[start..end]`, a disclaimer begins (it runs to the end).
fn disclaimer_start(lines: &[Line<'_>], start: usize, end: usize) -> Option<usize> {
    let first = start.max(end.saturating_sub(MAX_LINES));
    let tail = |from: usize| -> String {
        lines[from..end].iter().map(|l| l.trimmed()).collect::<Vec<_>>().join(" ")
    };
    // A notice starts a line, after a line that ended a sentence or was short.
    let starts_here = |j: usize| {
        !is_rule(lines[j].text)
            && (j == start || {
                let prev = lines[j - 1].trimmed();
                prev.ends_with(['.', '!', '?', ':']) || prev.chars().count() <= 40 || is_rule(prev)
            })
    };
    let opening = (first..end).find(|&j| {
        if !starts_here(j) || !OPENING.is_match(lines[j].text) {
            return false;
        }
        let text = tail(j);
        score(&text) >= 3 && text.split_whitespace().count() >= 12
    });
    // No usual opening, but legal vocabulary all over: from the first line that uses it.
    opening.or_else(|| {
        (first..end).find(|&j| starts_here(j) && score(lines[j].text) >= 1 && score(&tail(j)) >= 5)
    })
}

/// Rules directly above (over blank lines) and below a removed disclaimer.
fn drop_adjacent_rules(lines: &[Line<'_>], keep: &mut [bool], from: usize, end: usize) {
    let mut j = from;
    while j > 0 {
        j -= 1;
        if !keep[j] {
            continue;
        }
        if lines[j].is_blank() {
            continue;
        }
        if is_rule(lines[j].text) {
            keep[j] = false;
        } else {
            break;
        }
    }
    for j in end..lines.len() {
        if !keep[j] || lines[j].is_blank() {
            continue;
        }
        if is_rule(lines[j].text) {
            keep[j] = false;
        } else {
            break;
        }
    }
}

/// A block between two `*****` rules that contains any legal phrase.
fn remove_framed(lines: &[Line<'_>], keep: &mut [bool]) {
    let rules: Vec<usize> = (0..lines.len()).filter(|&i| keep[i] && STARS.is_match(lines[i].text)).collect();
    let mut r = 0;
    while r + 1 < rules.len() {
        let (a, b) = (rules[r], rules[r + 1]);
        if b - a > MAX_LINES + 1 {
            r += 1;
            continue;
        }
        let inner: String = lines[a + 1..b].iter().map(|l| l.trimmed()).collect::<Vec<_>>().join(" ");
        if !inner.trim().is_empty() && score(&inner) >= 1 {
            for k in &mut keep[a..=b] {
                *k = false;
            }
            r += 2;
        } else {
            r += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(body: &str) -> Vec<String> {
        super::super::kept_by(body, remove)
    }

    #[test]
    fn typical_disclaimer_paragraph() {
        let body = "Invoice attached.\n\nThanks,\nAnn\n\n-----\nThis e-mail (and any attachments) is confidential and intended only for the\naddressee. If you have received this in error, please notify the sender and\ndelete it.\n";
        assert_eq!(kept(body), vec!["Invoice attached.", "Thanks,", "Ann"]);
    }

    #[test]
    fn enron_style_disclaimer_glued_to_the_name() {
        let body = "Thanks,\nLisa\nThis message is for the designated recipient only and may contain privileged, proprietary, or otherwise private information. If you have received it in error, please notify the sender immediately and delete the original. Any other use of the email by you is prohibited.\n";
        assert_eq!(kept(body), vec!["Thanks,", "Lisa"]);
    }

    #[test]
    fn framed_notice() {
        let body = "See you Monday.\n**********************************************************************\nThis email has been scanned for viruses.\n**********************************************************************\n";
        assert_eq!(kept(body), vec!["See you Monday."]);
        // Framing alone is not enough.
        let body = "*****\nOFFICE CLOSED ON FRIDAY\n*****\n";
        assert_eq!(kept(body).len(), 3);
    }

    #[test]
    fn own_text_mentioning_confidentiality_is_kept() {
        let body = "Please keep the attached price list confidential and delete the old one.\n\nThe confidential draft is intended for your team; we can discuss distribution later.\n";
        assert_eq!(kept(body).len(), 2);
    }
}
