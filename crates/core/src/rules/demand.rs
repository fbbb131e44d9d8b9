//! R105 unsoftened-demand: a bare imperative ("Send the invoice."), an obligation put on the reader
//! ("you need to", "you must", "I need you to") or pressure for speed ("ASAP", "immediately",
//! "right now"), in a sentence with nothing that softens it (please, could you, thanks, …).
use std::ops::Range;

use once_cell::sync::Lazy;
use regex::Regex;

use super::catalogue::UNSOFTENED_DEMAND;
use super::lexicon::{greeting_prefix_len, has_softener, next_word, phrase_regex, prev_word, words};
use super::{finding, snippet, Message};
use crate::findings::{Finding, Severity};

/// Verbs that, opening a sentence bare, make it an order.
const VERBS: &[&str] = &[
    "send", "fix", "stop", "call", "reply", "respond", "pay", "sign", "return", "provide", "update",
    "explain", "confirm", "complete", "resolve", "make", "get", "do", "give", "tell", "read",
    "check", "submit", "deliver", "remove", "change",
];

/// Words that, right after one of [`VERBS`], show it is a noun or a set phrase ("Call center is
/// closed", "Update on the order", "Change of plans", "Check out our …", "Get well soon").
const NOT_IMPERATIVE_NEXT: &[&str] = &[
    "of", "is", "was", "are", "were", "has", "had", "will", "would", "can", "could", "should", "may",
    "might", "must", "on", "center", "centre", "centers", "policy", "request", "requests", "order",
    "orders", "log", "date", "dates", "status", "address", "number", "form", "process", "rate",
    "rates", "list", "history", "management", "notes", "note", "window", "period", "fee", "fees",
    "receipt", "label", "time", "times", "sheet", "stub", "box", "out", "more", "well", "better",
    "sure", "you", "we", "they", "it's", "that's",
];

/// Openers that lead into an imperative: "And send …", "You need to send …", "Just call …",
/// "Kindly send …" ("kindly" does not soften an order; see R104).
static LEAD_IN: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)^(?:(?:and|so|then|now|just|also|simply|again|first|next|ok|okay|kindly)\b,?\s+)*(?:(?:you\s+need\s+to|you\s+must|you\s+have\s+to|you['’]ve\s+got\s+to|you\s+better|you['’]d\s+better|I\s+need\s+you\s+to|I\s+want\s+you\s+to)\s+)?(?:(?:just|also|now|then|simply)\s+)?",
    )
    .expect("lead-in regex")
});

/// Bullets, quote marks and list numbers before the first word.
static BULLET: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r#"^[\s>*•·\-–—"“'‘(\[]*(?:(?:\d{1,2}|[a-zA-Z])[.)]\s+)?"#).expect("bullet regex")
});

/// An imperative that is an offer or conditional rather than an order: "Call me if you have any
/// questions", "Give me a shout with any concerns".
static OFFER: Lazy<Regex> = Lazy::new(|| {
    phrase_regex(
        "if (?:you|there|anything|any|a|an|needed|necessary|required|so|not|possible|that)|should you|\
         with (?:any |your )?(?:questions|concerns|problems|issues|comments|feedback)|\
         any questions|anytime|any time|whenever|in case|once you|\
         when you (?:are|get|have|can|receive|find)|in the meantime|you like|you wish|you see fit|\
         you prefer",
    )
});

/// An opening that invites the reader to get in touch: "Questions? Call me.", "Problems, call me."
static OFFER_LEAD: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)^\W*(?:any\s+)?(?:questions|concerns|problems|issues)\s*[,?:!\-–—]").expect("offer-lead regex")
});

/// Good wishes passed on through the reader: "Tell Ann I said hello", "Give Alex a hug for me".
static PLEASANTRY: Lazy<Regex> = Lazy::new(|| {
    phrase_regex(
        "hugs?|kiss(?:es)?|hello|hi|regards|best|love|loved|congratulations|congrats|thanks|hope|\
         miss(?:ed)?|said hi|wishes",
    )
});

/// Phrases that put an obligation on the reader.
static OBLIGATION: Lazy<Regex> = Lazy::new(|| {
    phrase_regex(
        "you need to|you must|you have to|you've got to|you better|you'd better|I need you to|\
         I want you to|I expect you to",
    )
});

/// Pressure for speed.
static URGENCY: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)\b(?:asap\b|a\.s\.a\.p\.?|immediately\b|right\s+now\b|right\s+away\b)").expect("urgency regex")
});

/// The writer committing to something ("I'll send it ASAP", "we can start right away", "let's
/// meet ASAP", "we should test ASAP") or describing someone else ("Mike would like to send it
/// ASAP"): a modal with any subject but "you", "let's", or the writer's own past action.
static COMMITMENT: Lazy<Regex> = Lazy::new(|| {
    Regex::new(concat!(
        r"(?i)\b(\p{L}+)(?:['’]ll|['’]d|\s+(?:will|shall|should|can|could|would|might|may|plans?\s+to|wants?\s+to|hopes?\s+to))\b",
        r"|\b(?:I|we|he|she|they|it|this|that|there)(?:['’]m|['’]re|['’]s|\s+(?:am|are|is|was|were))\b",
        r"|\blet['’]?s\b|\blet\s+(?:us|me)\b",
        r"|\b(?:I|we)\s+(?:just\s+|already\s+|then\s+)?(?:sent|called|did|replied|forwarded|asked|contacted|went|left|started|got|made|spoke|talked|told)\b",
    ))
    .expect("commitment regex")
});

/// Is there a commitment or third-person description before byte `pos` of `s`?
fn committed_before(s: &str, pos: usize) -> bool {
    COMMITMENT.captures_iter(&s[..pos]).any(|c| {
        c.get(1).is_none_or(|subject| !subject.as_str().eq_ignore_ascii_case("you"))
    })
}

/// Something aimed at the reader: "you", a need or want of the writer's, or "needs to be done".
static READER_DIRECTED: Lazy<Regex> = Lazy::new(|| {
    phrase_regex(
        "you|your|(?:I|we) (?:really |urgently |still )?(?:need|want|expect|require)|need (?:this|it|that|them|these|those)|needs? to be|must be",
    )
});

/// A condition: "If the contract has expired, you must …" states a rule, not an order.
static IF: Lazy<Regex> = Lazy::new(|| phrase_regex("if|unless|in case|whenever"));

/// The filler "you know", which does not address the reader.
static YOU_KNOW: Lazy<Regex> = Lazy::new(|| phrase_regex("you know"));

/// A purpose clause that makes "you need to" an instruction: "To reset it, you need to …".
static PURPOSE: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(?i)^(?:to|in order to|for)\s+\w+[^,]*,").expect("purpose regex"));

/// Words before "you need to" / "you must" that make it a description, a condition or an offer:
/// "if you need to", "all you have to do", "what you need to know", "do you have to".
const NOT_OBLIGATION_PREV: &[&str] = &[
    "if", "when", "whenever", "unless", "case", "all", "everything", "anything", "what", "whatever",
    "that", "which", "where", "whether", "how", "why", "do", "does", "did", "before", "once",
    "thing", "things", "info", "information", "something", "nothing", "only", "until", "than",
    "whom", "who", "because", "since", "so",
];

/// After "you must be" / "you must have": a guess, not an order ("you must be busy").
const EPISTEMIC_AFTER_MUST_BE: &[&str] = &[
    "so", "very", "really", "busy", "tired", "swamped", "thrilled", "excited", "happy", "pleased",
    "proud", "relieved", "joking", "kidding", "exhausted", "glad", "wondering", "thinking",
    "frustrated", "disappointed", "annoyed", "upset", "confused", "sick", "overwhelmed", "feeling",
    "getting", "having", "the", "a", "an", "new", "right", "mistaken",
];

/// Words around "immediately" that make it a description rather than a demand.
const DESCRIPTIVE_BEFORE: &[&str] =
    &["effective", "almost", "nearly", "was", "were", "is", "are", "been", "be", "then", "not"];
const DESCRIPTIVE_AFTER: &[&str] = &[
    "after", "before", "following", "upon", "prior", "available", "adjacent", "below", "above",
    "preceding", "obvious", "apparent", "clear", "thereafter",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Imperative,
    Obligation,
    Urgency,
}

struct Trigger {
    range: Range<usize>,
    kind: Kind,
}

/// A bare imperative at the start of `s` (after bullets, a greeting or vocative and lead-ins):
/// the range from the lead-in to the verb, and where the verb starts.
fn imperative(s: &str) -> Option<(Range<usize>, usize)> {
    let mut pos = BULLET.find(s).map_or(0, |m| m.end());
    if let Some(n) = greeting_prefix_len(&s[pos..]) {
        pos += n;
    }
    let lead = LEAD_IN.find(&s[pos..]).map_or(0, |m| m.end());
    let (wr, w) = words(&s[pos + lead..]).next()?;
    if wr.start != 0 {
        return None; // punctuation between the lead-in and the word
    }
    let lower = w.to_lowercase();
    if !VERBS.contains(&lower.as_str()) {
        return None;
    }
    let verb_end = pos + lead + wr.end;
    let after = &s[verb_end..];
    if after.starts_with([':', '-', '’', '\'', '/']) {
        return None; // "Update: …", "Call-back", "Check's"
    }
    if after.trim_start_matches([' ', '\t', '\r']).starts_with('\n') || after.starts_with("  ") {
        return None; // a heading on a line of its own ("Update\n…"), or a wrapped one
    }
    let next = next_word(s, verb_end).unwrap_or_default();
    if NOT_IMPERATIVE_NEXT.contains(&next.as_str()) {
        return None;
    }
    // "Do let me know", "Do feel free", "Do not hesitate", "Give my best to …": polite, not orders.
    let polite = match lower.as_str() {
        "do" if next == "not" => {
            words(&s[verb_end..]).nth(1).is_some_and(|(_, w)| w.eq_ignore_ascii_case("hesitate"))
        }
        "do" => ["let", "feel", "enjoy", "come", "have", "drop", "keep", "stop", "take", "say", "send"]
            .contains(&next.as_str()),
        "give" => next == "my" || PLEASANTRY.is_match(s),
        "tell" => PLEASANTRY.is_match(s),
        _ => false,
    };
    if polite {
        return None;
    }
    let start = if lead > 0 {
        pos + words(&s[pos..]).next().map_or(0, |(r, _)| r.start)
    } else {
        pos + wr.start
    };
    Some((start..verb_end, pos + lead + wr.start))
}

fn triggers(s: &str) -> Vec<Trigger> {
    let mut found = Vec::new();
    let offer = OFFER.is_match(s) || OFFER_LEAD.is_match(s);
    if !offer {
        if let Some((range, _)) = imperative(s) {
            found.push(Trigger { range, kind: Kind::Imperative });
        }
    }
    for m in OBLIGATION.find_iter(s) {
        if found.iter().any(|t| t.range.start <= m.start() && m.end() <= t.range.end) {
            continue; // already part of the imperative's lead-in
        }
        if prev_word(s, m.start()).is_some_and(|w| NOT_OBLIGATION_PREV.contains(&w.as_str())) {
            continue;
        }
        if PURPOSE.find(s).is_some_and(|p| p.end() <= m.start()) || IF.is_match(&s[..m.start()]) {
            continue; // an instruction with its purpose, or a rule with its condition
        }
        let phrase = m.as_str().to_lowercase();
        if phrase.ends_with("must") {
            let next: Vec<String> = words(&s[m.end()..]).take(2).map(|(_, w)| w.to_lowercase()).collect();
            let guess = match next.as_slice() {
                [h, ..] if h == "have" => true,
                [b, w, ..] if b == "be" => EPISTEMIC_AFTER_MUST_BE.contains(&w.as_str()),
                _ => false,
            };
            if guess {
                continue;
            }
        }
        found.push(Trigger { range: m.range(), kind: Kind::Obligation });
    }
    for m in URGENCY.find_iter(s) {
        let word = m.as_str().to_lowercase();
        if committed_before(s, m.start()) {
            continue;
        }
        if word == "immediately" {
            // "effective immediately", "was immediately told", "immediately after the call".
            let prev = prev_word(s, m.start()).unwrap_or_default();
            let next = next_word(s, m.end()).unwrap_or_default();
            if DESCRIPTIVE_BEFORE.contains(&prev.as_str()) || DESCRIPTIVE_AFTER.contains(&next.as_str()) {
                continue;
            }
        }
        if word != "asap" && !word.starts_with("a.s") {
            // "right now" and "immediately" are often just "currently" / "at once": count them
            // only where the sentence is aimed at the reader and the phrase ends a clause.
            let clause_end = s[m.end()..].trim_start().is_empty()
                || s[m.end()..].trim_start().starts_with(['.', '!', ',', ';', ':', '—', '-']);
            let aimed = !found.is_empty() || READER_DIRECTED.is_match(&YOU_KNOW.replace_all(s, ""));
            if !(aimed && (clause_end || word == "immediately")) {
                continue;
            }
        }
        found.push(Trigger { range: m.range(), kind: Kind::Urgency });
    }
    found.sort_by_key(|t| t.range.start);
    found
}

pub(super) fn check(msg: &Message, out: &mut Vec<Finding>) {
    for s in &msg.sentences {
        let text = s.text.trim_end();
        if text.ends_with(['?', '？']) || has_softener(text) {
            continue;
        }
        let found = triggers(text);
        let (Some(first), Some(last)) = (found.first(), found.last()) else { continue };
        let span = first.range.start..last.range.end;
        let quoted = snippet(&text[span.clone()], 60);
        let message = match first.kind {
            Kind::Imperative => format!(
                "“{quoted}” is a bare command with no “please” or question; customers can read it as an order"
            ),
            Kind::Obligation => format!(
                "“{quoted}” tells the reader what they must do, with no “please” or reason; it can read as an order"
            ),
            Kind::Urgency => format!(
                "“{quoted}” presses for speed with no “please” or reason; it can read as impatient"
            ),
        };
        out.push(finding(
            &UNSOFTENED_DEMAND,
            Severity::Warning,
            s.abs(span),
            s.index,
            message,
            suggestion(text, &found),
        ));
    }
}

/// A concrete rewrite: the request as a question ("Could you send the invoice?"), or for bare
/// urgency, a date and a reason.
fn suggestion(text: &str, found: &[Trigger]) -> String {
    let ask_from = |from: usize| -> String {
        let rest = text[from..].trim_end_matches(['.', '!', ' ', '\n']);
        let rest = URGENCY.replace_all(rest, "by <date>");
        let mut cs = rest.chars();
        let first = cs.next().map(|c| c.to_lowercase().collect::<String>()).unwrap_or_default();
        format!("{first}{}", cs.as_str())
    };
    match found[0].kind {
        Kind::Imperative => {
            let verb_at = imperative(text).map_or(found[0].range.start, |(_, v)| v);
            format!(
                "Ask instead of telling, and say why if it helps: “Could you please {}?”",
                snippet(&ask_from(verb_at), 70)
            )
        }
        Kind::Obligation => format!(
            "Ask instead of telling: “Could you please {}?”",
            snippet(ask_from(found[0].range.end).trim_start(), 70)
        ),
        Kind::Urgency => "Give a date and the reason instead, and ask: e.g. “Could you send it by Thursday? \
                          It holds up your delivery.”"
            .into(),
    }
}
