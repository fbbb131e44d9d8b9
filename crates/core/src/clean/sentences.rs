//! Sentence segmentation of cleaned text, as byte ranges.
//!
//! Two levels:
//! 1. **Lines to chunks.** A blank line always ends a sentence. A single line break ends one when
//!    the line is a greeting or sign-off, ends with `.` `!` `?` `:`, is short (a name, an address
//!    line, a table row), was not hard-wrapped (longer than any wrap width), or when the next line
//!    starts a list item. Otherwise the break is a hard wrap inside a paragraph and the lines join
//!    (the sentence range simply spans the newline). A break is a wrap when the next line's first
//!    word would not have fitted on this line, or when the next line starts in lower case.
//! 2. **Chunks to sentences.** Split after runs of `.` `!` `?` (plus closing quotes and brackets)
//!    followed by whitespace, except after abbreviations (Mr., e.g., etc., a.m., Inc., U.S., ...),
//!    initials ("J. Smith"), and "No." before a number. Decimals, times, URLs and e-mail addresses
//!    never split because their dots are not followed by whitespace. A list marker (`-`, `*`,
//!    `1.`, `a)`) at the start of a chunk is not part of the sentence.
//!
//! Sentences without any letter or digit (rules, lone punctuation) are left out.
use std::ops::Range;

use once_cell::sync::Lazy;
use regex::Regex;

use super::signature::SIGNOFF;

static GREETING: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)^\s*(?:hi|hello|hey|dear|good\s+(?:morning|afternoon|evening|day)|greetings|hiya|howdy|morning|afternoon|evening|to\s+whom\s+it\s+may\s+concern|all|team|folks|everyone|gentlemen|ladies\s+and\s+gentlemen|sir|madam)\b[^.!?]{0,40}[,:!]?\s*$",
    )
    .unwrap()
});

static LIST_ITEM: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"^\s*(?:[-*•·◦▪–]\s+|\d{1,3}[.)]\s+|[a-z][.)]\s+|\(\w{1,3}\)\s+)").unwrap());

/// Abbreviations after which a `.` never ends a sentence.
const TITLES: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "sr", "st", "e.g", "i.e", "vs", "cf", "approx", "dept", "fig", "tel", "ext", "ave",
    "blvd", "rd", "mt", "ft", "viz", "al", "attn", "rev", "hon", "gen", "capt", "col", "lt", "sgt", "messrs",
];
/// Abbreviations that may also end a sentence: they split only before a word that typically
/// starts one ("… at 9 a.m. Please call", "… Acme Inc. We will").
const MAYBE_FINAL: &[&str] = &[
    "etc", "inc", "ltd", "co", "corp", "jr", "a.m", "p.m", "u.s", "u.k", "llc", "plc", "mon", "tue", "tues", "wed",
    "thu", "thur", "thurs", "fri", "sat", "sun",
];
/// Abbreviations that are such only before a number or an identifier: "No. 5", "Feb. 18".
const BEFORE_NUMBER: &[&str] = &[
    "no", "nos", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
];
const SENTENCE_STARTERS: &[&str] = &[
    "i", "we", "you", "please", "thanks", "thank", "the", "our", "your", "if", "let", "can", "could", "would",
    "this", "that", "it", "they", "he", "she", "there", "as", "also", "in", "on", "for", "and", "but", "so",
    "when", "what", "do", "did", "will", "is", "are", "all", "my", "any", "best", "regards", "kind", "sorry",
];

const CLOSERS: &[char] = &['"', '\'', ')', ']', '}', '’', '”', '»'];

/// Sentences of `text`, in order, trimmed, never empty.
pub(super) fn split(text: &str) -> Vec<Range<usize>> {
    let lines = text_lines(text);
    let mut out = Vec::new();
    let mut p = 0;
    while p < lines.len() {
        if is_blank(text, &lines[p]) {
            p += 1;
            continue;
        }
        let mut q = p;
        while q < lines.len() && !is_blank(text, &lines[q]) {
            q += 1;
        }
        paragraph(text, &lines[p..q], &mut out);
        p = q;
    }
    out
}

fn text_lines(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        if b == b'\n' {
            out.push(start..i);
            start = i + 1;
        }
    }
    if start < text.len() {
        out.push(start..text.len());
    }
    out
}

fn is_blank(text: &str, r: &Range<usize>) -> bool {
    text[r.clone()].trim().is_empty()
}

fn width(s: &str) -> usize {
    s.trim().chars().count()
}

fn paragraph(text: &str, lines: &[Range<usize>], out: &mut Vec<Range<usize>>) {
    // The widest line approximates the wrap width; hard-wrapping clients wrap at 60 or more.
    let wrap_width = lines.iter().map(|r| width(&text[r.clone()])).max().unwrap_or(0).clamp(60, 90);
    let mut chunk_start = 0;
    for i in 0..lines.len() {
        let last = i + 1 == lines.len();
        if last || line_ends_chunk(&text[lines[i].clone()], &text[lines[i + 1].clone()], wrap_width) {
            chunk(text, lines[chunk_start].start..lines[i].end, out);
            chunk_start = i + 1;
        }
    }
}

/// Does the break between `line` and `next` (same paragraph) end a sentence?
fn line_ends_chunk(line: &str, next: &str, wrap_width: usize) -> bool {
    let t = line.trim();
    let n = next.trim();
    if LIST_ITEM.is_match(next) || GREETING.is_match(t) || SIGNOFF.is_match(t) {
        return true;
    }
    let words = t.split_whitespace().count();
    if t.ends_with(',') && words <= 3 {
        return true; // "Bob," on its own line
    }
    let end = t.trim_end_matches(CLOSERS);
    if end.ends_with(['!', '?', ':']) {
        return true;
    }
    if end.ends_with('.') {
        let token = last_token(end);
        let next_word = n.split_whitespace().next().unwrap_or("");
        return !is_abbreviation(token, next_word);
    }
    let w = width(t);
    if w > 90 {
        return true; // not hard-wrapped: the newline is the writer's
    }
    let next_lower = n.chars().next().is_some_and(char::is_lowercase);
    if next_lower {
        return false;
    }
    if w < 40 {
        return true;
    }
    let next_word = n.split_whitespace().next().map_or(0, |x| x.chars().count());
    // Wrapped iff the next word would not have fitted on this line.
    w + 1 + next_word <= wrap_width.saturating_sub(4)
}

/// The word ending at the end of `s` (which ends with `.`), without the `.` and leading
/// punctuation, lower-cased.
fn last_token(s: &str) -> &str {
    let s = s.strip_suffix('.').unwrap_or(s);
    let start = s
        .rfind(|c: char| c.is_whitespace() || c == '(' || c == '"' || c == '\'' || c == '/' )
        .map_or(0, |i| i + s[i..].chars().next().map_or(1, char::len_utf8));
    &s[start..]
}

/// Is `token.` (the word before a `.`) an abbreviation, given the word after it?
fn is_abbreviation(token: &str, next_word: &str) -> bool {
    if token.is_empty() {
        return false;
    }
    // Initials: "J. Smith".
    let mut chars = token.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        if c.is_uppercase() {
            return true;
        }
    }
    let lower = token.to_lowercase();
    if TITLES.contains(&lower.as_str()) {
        return true;
    }
    let next_clean: String = next_word
        .trim_start_matches(|c: char| !c.is_alphanumeric())
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '\'')
        .collect::<String>()
        .to_lowercase();
    let starts_sentence = next_word.chars().find(|c| c.is_alphanumeric()).is_some_and(char::is_uppercase)
        && SENTENCE_STARTERS.contains(&next_clean.as_str());
    if MAYBE_FINAL.contains(&lower.as_str()) {
        return !starts_sentence;
    }
    if BEFORE_NUMBER.contains(&lower.as_str()) {
        // "No. 4411", "Deal No. YK1853.1", "Feb. 18".
        return next_word.starts_with('#') || next_word.contains(|c: char| c.is_ascii_digit());
    }
    // Dotted abbreviations not listed: "U.S.A", "a.s.a.p".
    let dotted = lower.len() >= 3
        && lower.split('.').all(|p| p.chars().count() == 1 && p.chars().all(char::is_alphabetic));
    dotted && !starts_sentence
}

/// Split one chunk (`text[r]`, lines joined by wraps) into sentences.
fn chunk(text: &str, r: Range<usize>, out: &mut Vec<Range<usize>>) {
    let s = &text[r.clone()];
    let mut start = match LIST_ITEM.find(s) {
        Some(m) => m.end(),
        None => 0,
    };
    let bytes: Vec<(usize, char)> = s.char_indices().collect();
    let mut k = 0;
    while k < bytes.len() {
        let (pos, c) = bytes[k];
        if pos < start || !matches!(c, '.' | '!' | '?' | '…') {
            k += 1;
            continue;
        }
        // The run of terminators and closers.
        let mut e = k;
        while e < bytes.len() && matches!(bytes[e].1, '.' | '!' | '?' | '…') {
            e += 1;
        }
        let run_dots = bytes[k..e].iter().all(|&(_, c)| c == '.');
        let run_len = e - k;
        while e < bytes.len() && CLOSERS.contains(&bytes[e].1) {
            e += 1;
        }
        let end_pos = bytes.get(e).map_or(s.len(), |&(p, _)| p);
        let after = &s[end_pos..];
        let next_word = after.split_whitespace().next().unwrap_or("");
        let followed_by_space = after.is_empty() || after.starts_with(char::is_whitespace);
        let boundary = if followed_by_space {
            if after.trim().is_empty() || !run_dots {
                // End of the chunk, or `!` / `?`.
                true
            } else if run_len >= 2 || c == '…' {
                // An ellipsis ends a sentence only before a capital.
                next_word.chars().find(|c| c.is_alphanumeric()).is_some_and(char::is_uppercase)
            } else {
                !is_abbreviation(last_token(&s[..=pos]), next_word)
            }
        } else {
            glued(&s[..pos], after, run_dots)
        };
        if boundary {
            push(text, r.start + start, r.start + end_pos, out);
            start = end_pos;
        }
        k = e.max(k + 1);
    }
    push(text, r.start + start, r.end, out);
}

/// "…until Friday. Sorry!Second paragraph": HTML converted to text glues block elements together.
/// Split when a word of two or more letters (lower case after its first letter) is directly
/// followed by a capitalised word.
fn glued(before: &str, after: &str, run_dots: bool) -> bool {
    let token_start = before
        .rfind(|c: char| !c.is_alphabetic())
        .map_or(0, |i| i + before[i..].chars().next().map_or(1, char::len_utf8));
    let token = &before[token_start..];
    let word_before_ok = token.chars().count() >= 2
        && token.chars().skip(1).all(|c| c.is_lowercase())
        && !before[..token_start].ends_with(['.', '@', '/', ':', '-', '_']);
    let mut next = after.chars();
    let capital_word = next.next().is_some_and(char::is_uppercase) && next.next().is_some_and(char::is_lowercase);
    let not_url = !run_dots || !after.split_whitespace().next().unwrap_or("").contains(['/', '@']);
    word_before_ok && capital_word && not_url
}

/// Push `text[a..b]` trimmed, if it has a letter or a digit.
fn push(text: &str, a: usize, b: usize, out: &mut Vec<Range<usize>>) {
    let s = &text[a..b];
    let lead = s.len() - s.trim_start().len();
    let trail = s.len() - s.trim_end().len();
    let (a, b) = (a + lead, b - trail);
    if a < b && text[a..b].chars().any(char::is_alphanumeric) {
        out.push(a..b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sents(text: &str) -> Vec<&str> {
        split(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn basic_punctuation() {
        assert_eq!(
            sents("Your order shipped. Did it arrive?! Great... I think so… \"Really.\" Yes"),
            vec!["Your order shipped.", "Did it arrive?!", "Great...", "I think so…", "\"Really.\"", "Yes"]
        );
    }

    #[test]
    fn abbreviations_numbers_urls() {
        let t = "Mr. Smith and Dr. Lee met at 10.30 a.m. on Monday, e.g. for the 3.5% discount. Invoice No. 4411 is at https://acme.example.com/inv?id=3. Write to ann.lee@acme.example.com. J. Smith agreed, i.e. yes. We sell pens, pads, etc. and more. The U.S. office is open.";
        assert_eq!(
            sents(t),
            vec![
                "Mr. Smith and Dr. Lee met at 10.30 a.m. on Monday, e.g. for the 3.5% discount.",
                "Invoice No. 4411 is at https://acme.example.com/inv?id=3.",
                "Write to ann.lee@acme.example.com.",
                "J. Smith agreed, i.e. yes.",
                "We sell pens, pads, etc. and more.",
                "The U.S. office is open.",
            ]
        );
        assert_eq!(sents("The van comes at 9 a.m. Please be ready."), vec!["The van comes at 9 a.m.", "Please be ready."]);
        assert_eq!(sents("Say no. Then leave."), vec!["Say no.", "Then leave."]);
        assert_eq!(sents("See Deal No. YK1853.1. Thanks."), vec!["See Deal No. YK1853.1.", "Thanks."]);
        assert_eq!(sents("The Rev. Fraser will call you thurs. a.m. if that works."), vec!["The Rev. Fraser will call you thurs. a.m. if that works."]);
        assert_eq!(sents("Ltd. or Inc. Ltd. co."), vec!["Ltd. or Inc. Ltd. co."]);
    }

    #[test]
    fn greeting_and_signoff_lines() {
        let t = "Hi Bob,\nthe parts are late\n\nThanks,\nAnn";
        assert_eq!(sents(t), vec!["Hi Bob,", "the parts are late", "Thanks,", "Ann"]);
        assert_eq!(sents("Bob,\nPlease call me"), vec!["Bob,", "Please call me"]);
    }

    #[test]
    fn hard_wrapped_paragraph_joins() {
        let t = "As we discussed yesterday, I am concerned there has been an attempt to \nmanipulate the index.  A single buyer entered the marketplace on both \nSeptember 26 and 27 and paid above market prices for San Juan gas with \nthe intent to distort the index.";
        let s = sents(t);
        assert_eq!(s.len(), 2, "{s:?}");
        assert!(s[0].starts_with("As we discussed") && s[0].ends_with("manipulate the index."));
        assert!(s[1].contains("both \nSeptember 26"));
    }

    #[test]
    fn short_lines_and_lists() {
        let t = "Please send:\n- the invoice\n- the delivery note\n1. Click Save As\n2. Pick the folder\nPhillip Allen\nWest Gas Trading";
        assert_eq!(
            sents(t),
            vec!["Please send:", "the invoice", "the delivery note", "Click Save As", "Pick the folder", "Phillip Allen", "West Gas Trading"]
        );
        // A list item wrapped onto a second line stays one sentence.
        let t = "1.  Is the framing Lumber #2 yellow pine?  Wouldn't fir or spruce warp less \nand cost about the same?\n2.  Next";
        assert_eq!(sents(t), vec!["Is the framing Lumber #2 yellow pine?", "Wouldn't fir or spruce warp less \nand cost about the same?", "Next"]);
    }

    #[test]
    fn unwrapped_lines_are_breaks() {
        let t = "I will be out of the office on Friday and you can reach me at home or on my cell phone if anything urgent comes up\nDiana";
        assert_eq!(sents(t).len(), 2);
        // A line that would have had room for the next word was broken on purpose.
        let t = "Here is the schedule for the next delivery window\nMonday 9 to 12 at the north gate entrance today";
        assert_eq!(sents(t).len(), 2);
    }

    #[test]
    fn html_glued_blocks() {
        assert_eq!(sents("delayed until Friday. Sorry!Second para"), vec!["delayed until Friday.", "Sorry!", "Second para"]);
        assert_eq!(sents("see www.acme.com/Prices now"), vec!["see www.acme.com/Prices now"]);
    }

    #[test]
    fn no_empty_or_symbol_only_sentences() {
        assert!(sents("  \n\n---\n *** \n").is_empty());
        for r in split("A. b.  \n\n c ") {
            assert!(!r.is_empty());
        }
    }
}
