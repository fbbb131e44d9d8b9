//! The shape of the message as a whole: R103 curt-reply, R107 missing-greeting,
//! R108 missing-sign-off.
use once_cell::sync::Lazy;
use regex::Regex;

use super::catalogue::{CURT_REPLY, MISSING_GREETING, MISSING_SIGN_OFF};
use super::lexicon::{
    count_words, greeting_prefix_len, has_closing, has_warm_word, is_closing_only, is_name_like,
    normalized, starts_with_greeting,
};
use super::{finding, snippet, Message, Sentence};
use crate::findings::{Finding, Severity};

/// Replies that are complete in themselves and read as clipped or dismissive, compared after
/// lower-casing and dropping punctuation.
const CURT: &[&str] = &[
    "fine", "noted", "whatever", "whatever works", "ok", "okay", "k", "kk", "sure", "as you wish",
    "if you say so", "done", "got it", "understood", "received", "yes", "no", "nope", "yep", "yeah",
    "do what you want", "do whatever you want", "suit yourself", "if you insist", "your call",
    "that's your call", "it is what it is", "so be it", "see above", "see below", "as discussed",
    "per above", "read my email", "read my last email", "already done", "already sent", "as i said",
    "i said no", "no idea", "not my problem", "not my call", "figure it out", "as you like",
];

/// Messages with fewer sentences than this (greeting and sign-off not counted) are too short to
/// need a greeting or sign-off.
const MIN_SENTENCES_FOR_FRAME: usize = 3;

/// Attachment markers, links and addresses: not words the reader reads as a reply.
static NON_PROSE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)<<[^>]*>>|<[^>\s]+>|\bhttps?://\S+|\bwww\.\S+|\S+@\S+\.\S+|\[[^\]]*\]")
        .expect("non-prose regex")
});

fn is_curt_phrase(s: &str) -> bool {
    CURT.contains(&normalized(s).as_str())
}

/// Does `s` consist only of capitalised words, like a signature name ("Ann", "Bob Smith")?
fn is_bare_name(s: &str) -> bool {
    is_name_like(s) && super::lexicon::words(s).all(|(_, w)| w.chars().next().is_some_and(char::is_uppercase))
}

/// Where the body of the message lies: the sentences `lo..hi` without a greeting-only first
/// sentence ("Hi Bob,") and without the sign-off and signature name at the end; `skip_in_first`
/// bytes of sentence `lo` are a greeting that runs into it ("Hi Bob, fine.").
struct Body {
    lo: usize,
    hi: usize,
    skip_in_first: usize,
    /// The greeting thanks the reader ("Thanks for the update, …").
    greeting_thanks: bool,
}

impl Body {
    fn of(ss: &[Sentence]) -> Body {
        let (mut lo, mut hi, mut skip_in_first, mut greeting_thanks) = (0, ss.len(), 0, false);
        if let Some(first) = ss.first() {
            if let Some(n) = greeting_prefix_len(first.text) {
                greeting_thanks = first.text[..n.min(first.text.len())].to_lowercase().contains("thank");
                if n >= first.text.len() {
                    lo = 1;
                } else {
                    skip_in_first = n;
                }
            }
        }
        while hi > lo {
            let last = ss[hi - 1].text;
            let signature = hi - lo >= 2 && is_name_like(last) && !is_curt_phrase(last);
            if is_closing_only(last) || signature {
                hi -= 1;
            } else {
                break;
            }
        }
        Body { lo, hi: hi.max(lo), skip_in_first, greeting_thanks }
    }

    fn len(&self) -> usize {
        self.hi - self.lo
    }
}

/// R103: the whole message, without its greeting and sign-off, is one short sentence.
pub(super) fn check_curt_reply(msg: &Message, out: &mut Vec<Finding>) {
    let ss = &msg.sentences;
    let body = Body::of(ss);
    if body.len() == 0 {
        return;
    }
    let (lo, hi) = (body.lo, body.hi);
    let start = ss[lo].start + if lo == 0 { body.skip_in_first } else { 0 };
    let end = ss[hi - 1].start + ss[hi - 1].text.len();
    let content = &msg.text[start..end];
    let prose = NON_PROSE.replace_all(content, " ");
    let n_words = count_words(&prose);
    let one_sentence = body.len() == 1;
    if n_words == 0 || (one_sentence && is_bare_name(&prose) && !is_curt_phrase(&prose)) {
        return;
    }
    let curt = n_words <= 3 || (one_sentence && is_curt_phrase(&prose));
    if !curt || body.greeting_thanks || has_warm_word(&prose) {
        return;
    }
    let trimmed = content.trim();
    let offset = start + (content.len() - content.trim_start().len());
    out.push(finding(
        &CURT_REPLY,
        Severity::Warning,
        offset..offset + trimmed.len(),
        ss[lo].index,
        format!(
            "the whole reply is “{}”; a reply this short can read as annoyed or dismissive",
            snippet(trimmed, 50)
        ),
        "Add a line of context and warmth, e.g. “Thanks, Bob — Friday works for us. See you then.”".into(),
    ));
}

/// R107: a message of several sentences that does not open with a greeting.
pub(super) fn check_greeting(msg: &Message, out: &mut Vec<Finding>) {
    let ss = &msg.sentences;
    if Body::of(ss).len() < MIN_SENTENCES_FOR_FRAME || starts_with_greeting(ss[0].text) {
        return;
    }
    let first = &ss[0];
    out.push(finding(
        &MISSING_GREETING,
        Severity::Info,
        whole(first),
        first.index,
        "the message opens without a greeting, which can feel abrupt to a customer".into(),
        "Open with the reader's name, e.g. “Hi Maria,” or “Thanks for your message,”".into(),
    ));
}

/// R108: a message of several sentences with no closing line in its last two sentences
/// (a trailing signature name is skipped).
pub(super) fn check_sign_off(msg: &Message, out: &mut Vec<Finding>) {
    let ss = &msg.sentences;
    if Body::of(ss).len() < MIN_SENTENCES_FOR_FRAME {
        return;
    }
    let mut hi = ss.len();
    while hi > 1 && ss.len() - hi < 2 {
        let t = ss[hi - 1].text;
        if !is_name_like(t) || has_closing(t) || is_curt_phrase(t) {
            break;
        }
        hi -= 1;
    }
    let tail = &ss[hi.saturating_sub(2)..hi];
    if tail.iter().any(|s| has_closing(s.text)) {
        return;
    }
    let last = &ss[hi - 1];
    out.push(finding(
        &MISSING_SIGN_OFF,
        Severity::Info,
        whole(last),
        last.index,
        "the message ends without a closing line, which can read as cold or abrupt".into(),
        "End with a closing such as “Thanks,” “Best regards,” or “Let me know if you have any questions.”".into(),
    ));
}

fn whole(s: &Sentence) -> std::ops::Range<usize> {
    s.abs(0..s.text.len())
}
