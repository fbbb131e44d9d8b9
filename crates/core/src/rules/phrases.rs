//! R104 passive-aggressive, R106 blame, R109 condescending and R110 sarcastic praise: stock phrases, matched case-insensitively on word
//! boundaries, with guards for the ordinary uses of the same words ("if you didn't get it",
//! "it's not your fault", "you should have received").
use std::ops::Range;

use once_cell::sync::Lazy;
use regex::Regex;

use super::catalogue::{BLAME, CONDESCENDING, PASSIVE_AGGRESSIVE, SARCASTIC_PRAISE};
use super::lexicon::{has_warm_word, next_word, phrase_regex, preceded_by, words};
use super::{finding, Message};
use crate::findings::{Finding, Rule, Severity};

/// When a match of a phrase does not count.
#[derive(Debug, Clone, Copy)]
enum Guard {
    None,
    /// Not after "if", "in case", "unless", "sorry", … ("in case you didn't get it").
    NotConditional,
    /// Not after a negation ("it's not your fault").
    NotNegated,
    /// Only at the end of a sentence ("I'll wait." but not "I'll wait for your call").
    AtEnd,
    /// "you should have" + a past participle of something the reader did or failed to do, and
    /// not "you should have received".
    Hindsight,
    /// "you keep" + a verb in -ing ("you keep sending"), not "you keep a copy".
    Habitual,
    /// Not followed by a word of praise ("you always do great work").
    NotPraise,
    /// "you didn't", not "you didn't have to" (gratitude) and not conditional.
    NotGracious,
    /// "you never", not "you never know" and not conditional.
    NotIdiom,
    /// Not followed by something warm in the same sentence ("Again, thanks for your help").
    NotWarm,
    /// "as I mentioned", but not "as I mentioned to Dee" or "as I mentioned on the phone".
    NotOtherChannel,
    /// Followed within four words by a setback ("Great, another delay"), not by good news
    /// ("Great, another order from Acme").
    SetbackAfter,
}

struct Phrase {
    rule: &'static Rule,
    severity: Severity,
    pattern: &'static str,
    /// A pattern that already carries its anchors (used as a regex as is).
    raw: bool,
    guard: Guard,
    /// Why the phrase may be misread (follows the quoted phrase in the message).
    why: &'static str,
    suggestion: &'static str,
}

const fn pa(pattern: &'static str, guard: Guard, why: &'static str, suggestion: &'static str) -> Phrase {
    Phrase { rule: &PASSIVE_AGGRESSIVE, severity: Severity::Warning, pattern, raw: false, guard, why, suggestion }
}

const fn blame(pattern: &'static str, guard: Guard, why: &'static str, suggestion: &'static str) -> Phrase {
    Phrase { rule: &BLAME, severity: Severity::Warning, pattern, raw: false, guard, why, suggestion }
}

const fn condescending(pattern: &'static str, guard: Guard, why: &'static str, suggestion: &'static str) -> Phrase {
    Phrase { rule: &CONDESCENDING, severity: Severity::Warning, pattern, raw: false, guard, why, suggestion }
}

const fn sarcasm(pattern: &'static str, raw: bool, guard: Guard, why: &'static str, suggestion: &'static str) -> Phrase {
    Phrase { rule: &SARCASTIC_PRAISE, severity: Severity::Warning, pattern, raw, guard, why, suggestion }
}

const KEEP_THE_HELP: &str = "Take out the remark about the reader and keep the help: “These steps take a few minutes; tell me if one doesn't work.”";
const SAY_IT_PLAINLY: &str = "Say what you mean: name the problem and what happens next.";

const RESTATE: &str = "Restate the point itself, without pointing back at the earlier message: “To recap: …”";

static PHRASES: &[Phrase] = &[
    // R104 passive-aggressive
    pa(
        "(?:as )?per my (?:last|previous|earlier|prior|original) (?:e-?mail|email|message|note|mail|reply)",
        Guard::None,
        "is a well-known way of saying “you didn't read what I sent”",
        RESTATE,
    ),
    pa(
        "as (?:previously|already) (?:stated|mentioned|said|explained|noted|indicated)",
        Guard::None,
        "implies the reader should not have needed telling again",
        RESTATE,
    ),
    pa(
        "(?:as|like) I(?:'ve| have) (?:already )?(?:said|stated|explained)|\
         as I (?:already )?(?:said|stated|explained) (?:before|earlier|previously|already|repeatedly|many times)|\
         like I (?:said|told you)",
        Guard::None,
        "sounds like repeating yourself to someone who wasn't listening",
        RESTATE,
    ),
    pa(
        "as I(?:'ve| have)? (?:already |previously )?mentioned(?: before| earlier| previously)?",
        Guard::NotOtherChannel,
        "can read as a reminder that the reader missed something",
        "Drop it and state the point directly, or link the earlier detail: “The deadline is Friday (details below).”",
    ),
    pa(
        "going forward,? please",
        Guard::None,
        "sounds like a reprimand for what the reader did this time",
        "Say what will help and why: “It would help if future orders included the PO number, so we can ship faster.”",
    ),
    // Information only: so common in business English that most readers take it as neutral.
    Phrase {
        rule: &PASSIVE_AGGRESSIVE,
        severity: Severity::Info,
        pattern: "please advise",
        raw: false,
        guard: Guard::None,
        why: "is curt and impersonal; some readers hear impatience in it",
        suggestion: "Ask the actual question: “Could you let me know which date works for you?”",
    },
    pa(
        "friendly reminder",
        Guard::None,
        "usually reads as the opposite of friendly — a nudge that the reader is late",
        "Say what is due and offer help: “The invoice is due on Friday — let me know if anything is unclear.”",
    ),
    pa(
        "just to be clear",
        Guard::None,
        "can imply the reader is slow to understand",
        "State the point plainly, or invite questions: “To confirm: …”",
    ),
    pa(
        "not sure if you (?:saw|got|received|had a chance)|in case you missed (?:it|this|that|my)",
        Guard::None,
        "suggests the reader has been ignoring you",
        "Follow up on the substance: “Following up on the quote below — does it still work for you?”",
    ),
    pa(
        "kindly",
        Guard::None,
        "often reads as stiff or impatient rather than polite",
        "Use “please” or ask a question: “Could you please …?”",
    ),
    pa(
        "I(?:'ll| will) (?:just )?wait",
        Guard::AtEnd,
        "at the end of a sentence sounds like impatient foot-tapping",
        "Say when you need it and why: “Could you reply by Thursday, so we can book the delivery?”",
    ),
    Phrase {
        rule: &PASSIVE_AGGRESSIVE,
        severity: Severity::Info,
        pattern: "thanks in advance|thank you in advance|(?-i:TIA)",
        raw: false,
        guard: Guard::None,
        why: "presumes the reader will comply, which some read as pressure",
        suggestion: "Thank them for something concrete, or after they help: “Thanks for looking into this.”",
    },
    pa(
        "with all due respect",
        Guard::None,
        "signals that disrespect follows",
        "Drop it and state your view with the reason: “I see it differently, because …”",
    ),
    pa(
        "as you (?:should|must|ought to) (?:already )?(?:know|be aware|remember|understand)",
        Guard::None,
        "is condescending: it tells the reader they ought to have known",
        "Give the information without judging: “Just so we're on the same page: …”",
    ),
    pa(
        "for the (?:second|third|fourth|fifth|umpteenth|hundredth|nth|tenth) time",
        Guard::None,
        "keeps score of how often you've had to ask",
        "Drop the count; say what you need and by when",
    ),
    Phrase {
        rule: &PASSIVE_AGGRESSIVE,
        severity: Severity::Warning,
        pattern: r"(?i)^again\s*,",
        raw: true,
        guard: Guard::NotWarm,
        why: "at the start of a sentence sounds like an exasperated repeat",
        suggestion: RESTATE,
    },
    pa(
        "it(?:'s| is) not rocket science",
        Guard::None,
        "implies the reader is slow",
        "Explain the step simply, and offer help: “Here's the quickest way to do it: …”",
    ),
    pa(
        "no offen[cs]e,? but",
        Guard::None,
        "announces that what follows will offend",
        "Drop it and make the point respectfully, with the reason",
    ),
    // R106 blame
    blame(
        "you (?:have |had )?failed to",
        Guard::NotConditional,
        "puts the failure on the reader personally",
        "Describe what happened and what's next: “The form hasn't reached us yet — could you resend it?”",
    ),
    blame(
        "you didn't|you did not",
        Guard::NotGracious,
        "points at the reader as the cause",
        "Describe the situation instead of the person: “We haven't received the signed copy yet.”",
    ),
    blame(
        "(?:it was |that was |this was |this is |that is |it's |that's )?your (?:mistake|fault|error|problem)",
        Guard::NotNegated,
        "assigns blame outright",
        "Focus on the fix: “Here's how we can sort this out: …”",
    ),
    blame(
        "you forgot(?: to)?",
        Guard::NotConditional,
        "points at the reader's lapse",
        "Neutral wording: “It looks like the attachment didn't come through — could you resend it?”",
    ),
    blame(
        "you never",
        Guard::NotIdiom,
        "is a sweeping accusation",
        "Be specific and neutral: “We haven't had a reply to the last two messages — is everything OK?”",
    ),
    blame(
        "you always",
        Guard::NotPraise,
        "generalises one problem into a pattern of blame",
        "Talk about the specific case: “This order arrived without the PO number.”",
    ),
    blame(
        "you should have",
        Guard::Hindsight,
        "is hindsight blame",
        "Say what would help next time: “Next time, sending the form by Monday lets us process it the same week.”",
    ),
    blame(
        "you were supposed to",
        Guard::NotConditional,
        "sounds like a scolding",
        "State the plan and ask: “We'd planned on the files by Friday — can you still make that?”",
    ),
    blame(
        "why (?:didn't|did not|haven't|have not|hasn't|wasn't|weren't) you|why did you not",
        Guard::None,
        "demands a justification and reads as an accusation",
        "Ask about next steps instead: “Is there anything holding this up that I can help with?”",
    ),
    blame(
        "you keep",
        Guard::Habitual,
        "frames the reader's behaviour as a habit",
        "Describe the specific case and ask for what you need",
    ),
    blame(
        "your (?:team|people|staff|company|department|side) (?:has |have )?(?:failed|forgot|never|didn't|did not)",
        Guard::NotConditional,
        "blames the reader's side as a whole",
        "Describe what happened and what you need next, without assigning fault",
    ),
];

/// R109 and R110 (kept apart from [`PHRASES`] only for reading).
static MORE_PHRASES: &[Phrase] = &[
    // R109 condescending
    condescending(
        "even you (?:can|could|should|will|would|might)",
        Guard::NotConditional,
        "says something about the reader's ability, not about the matter",
        KEEP_THE_HELP,
    ),
    condescending(
        "as (?:anyone|everyone|any child|anybody) (?:knows|can see|could see|should know|would know)",
        Guard::None,
        "implies the reader is the only one who doesn't know",
        KEEP_THE_HELP,
    ),
    condescending(
        "surely you (?:know|understand|realise|realize|are aware|can see)|obviously you (?:know|understand|realise|realize)",
        Guard::None,
        "questions whether the reader knows something basic",
        KEEP_THE_HELP,
    ),
    condescending(
        "(?:it's|it is|this is|that's|that is) not rocket science",
        Guard::None,
        "implies the reader finds simple things hard",
        KEEP_THE_HELP,
    ),
    condescending(
        "I (?:shouldn't|should not) (?:have|need) to (?:explain|tell|remind|spell)",
        Guard::None,
        "scolds the reader for needing an explanation",
        KEEP_THE_HELP,
    ),
    condescending(
        "let me (?:spell it out|explain (?:it |this )?(?:again|slowly|one more time)|say (?:it|this) (?:again|slowly))",
        Guard::None,
        "suggests the reader did not understand the first time",
        KEEP_THE_HELP,
    ),
    condescending(
        "(?:although|though) I (?:probably |really )?(?:shouldn't|should not) be(?: surprised)?|but I (?:probably |really )?(?:shouldn't|should not) be surprised",
        Guard::None,
        "says you expected no better of the reader",
        "Say what you need without judging: “Could we go through the latest figures together before Friday?”",
    ),
    // R110 sarcastic praise
    sarcasm(
        r"(?i)^\W*(?:oh,?\s+)?(?:just\s+)?(?:great|wonderful|fantastic|perfect|lovely|brilliant|terrific|awesome|marvell?ous|super|nice)\s*[,!…-]+\s*(?:another|yet another|more|even more|one more)\b",
        true,
        Guard::SetbackAfter,
        "opens a complaint with praise, which reads as sarcasm",
        SAY_IT_PLAINLY,
    ),
    sarcasm(
        "thanks? (?:you )?(?:a lot |so much |very much )?for nothing|thanks? (?:you )?(?:so much )?for (?:finally|eventually) ",
        false,
        Guard::None,
        "thanks the reader for failing, which reads as sarcasm",
        SAY_IT_PLAINLY,
    ),
    sarcasm("what a (?:surprise|shock)|must be nice|yeah,? right", false, Guard::None, "says the opposite of what is meant", SAY_IT_PLAINLY),
];

fn all_phrases() -> impl Iterator<Item = &'static Phrase> {
    PHRASES.iter().chain(MORE_PHRASES)
}

static COMPILED: Lazy<Vec<Regex>> = Lazy::new(|| {
    all_phrases()
        .map(|p| if p.raw { Regex::new(p.pattern).expect("raw phrase regex") } else { phrase_regex(p.pattern) })
        .collect()
});

/// Setbacks that praise is sarcastic about ("Great, another delay").
const SETBACK: &[&str] = &[
    "delay", "delays", "delayed", "problem", "problems", "issue", "issues", "mistake", "mistakes", "error", "errors",
    "excuse", "excuses", "complaint", "complaints", "bug", "bugs", "outage", "outages", "failure", "failures",
    "glitch", "broken", "postponement", "cancellation", "setback", "headache", "mess", "fee", "fees", "surcharge",
    "breakdown", "late", "missing", "wrong", "defect", "defective", "damaged", "form", "forms", "paperwork",
    "meeting", "change", "changes", "reminder", "deadline", "shortage", "backorder", "price", "increase",
];

const CONDITIONAL: &[&str] = &[
    "if", "unless", "whether", "case", "sorry", "worry", "hope", "hoping", "perhaps", "maybe",
    "possible", "possibly", "afraid", "incase",
];
const NEGATION: &[&str] = &["not", "no", "never", "isn't", "wasn't", "isnt", "wasnt", "nobody's", "none"];
const PRAISE: &[&str] = &[
    "great", "good", "helpful", "amazing", "excellent", "wonderful", "fantastic", "awesome",
    "welcome", "kind", "generous", "quick", "fast", "thoughtful", "patient", "reliable", "best",
];
/// Past participles after "you should have" that make it hindsight blame ("you should have
/// checked"). Anything else ("you should have received", "you should have access") is an
/// expectation or a statement, not blame.
const HINDSIGHT: &[&str] = &[
    "checked", "told", "called", "asked", "read", "sent", "done", "known", "made", "informed",
    "notified", "consulted", "included", "attached", "followed", "listened", "waited", "thought",
    "paid", "submitted", "signed", "returned", "replied", "responded", "mentioned", "said", "let",
    "taken", "used", "provided", "completed", "confirmed", "updated", "double-checked", "planned",
    "ordered", "booked", "reported", "contacted", "noticed", "realized", "realised", "reviewed",
    "tested", "warned", "fixed", "explained", "looked", "cancelled", "canceled", "sought", "given",
];
/// "you should have been more careful", "… been told".
const BEEN_HINDSIGHT: &[&str] = &["more", "careful", "clearer", "aware", "told", "informed"];
/// "in my last email", "in my previous message": pointing back at an earlier message.
const EARLIER_MESSAGE: &[&str] = &[
    "last", "previous", "earlier", "prior", "original", "e-mail", "email", "message", "note", "mail", "reply",
];
/// Words before "you always" that make it an instruction ("make sure you always …").
const INSTRUCTION_BEFORE: &[&str] = &["that", "sure", "please", "should", "must", "will", "can", "to", "and", "if"];
/// Words after "as I mentioned" that point at another conversation, not at the reader's lapse.
const OTHER_CHANNEL: &[&str] = &[
    "to", "on", "during", "at", "over", "below", "above", "when", "yesterday", "today", "this",
    "for", "with",
];

fn guard_allows(p: &Phrase, s: &str, m: Range<usize>) -> bool {
    let after = &s[m.end..];
    match p.guard {
        Guard::None => true,
        Guard::NotConditional => !preceded_by(s, m.start, CONDITIONAL, 3),
        Guard::NotNegated => {
            let before = s[..m.start].trim_end();
            !preceded_by(s, m.start, NEGATION, 2) && !before.ends_with("n't") && !before.ends_with("n’t")
        }
        Guard::AtEnd => {
            let rest = after.trim_start();
            rest.is_empty() || rest.starts_with(['.', '!', '…', ';'])
        }
        Guard::Hindsight => {
            let next: Vec<String> = words(after).take(2).map(|(_, w)| w.to_lowercase()).collect();
            let hindsight = match next.as_slice() {
                [b, w, ..] if b == "been" => BEEN_HINDSIGHT.contains(&w.as_str()),
                [w, ..] => HINDSIGHT.contains(&w.as_str()),
                [] => false,
            };
            hindsight && !preceded_by(s, m.start, CONDITIONAL, 3)
        }
        Guard::Habitual => next_word(s, m.end).is_some_and(|w| w.ends_with("ing") && w.len() > 4)
            && !preceded_by(s, m.start, CONDITIONAL, 3),
        Guard::NotPraise => {
            let next: Vec<String> = words(after).take(5).map(|(_, w)| w.to_lowercase()).collect();
            !next.iter().any(|w| PRAISE.contains(&w.as_str()))
                && !preceded_by(s, m.start, CONDITIONAL, 3)
                && !preceded_by(s, m.start, INSTRUCTION_BEFORE, 1)
        }
        Guard::NotGracious => {
            let next: Vec<String> = words(after).take(2).map(|(_, w)| w.to_lowercase()).collect();
            let gracious = matches!(next.as_slice(), [a, b] if (a == "have" || a == "need") && b == "to");
            !gracious && !preceded_by(s, m.start, CONDITIONAL, 3)
        }
        Guard::NotIdiom => {
            let idiom = next_word(s, m.end)
                .is_some_and(|w| ["know", "cease", "fail", "disappoint"].contains(&w.as_str()));
            !idiom && !preceded_by(s, m.start, CONDITIONAL, 3)
        }
        Guard::NotWarm => !has_warm_word(after),
        Guard::SetbackAfter => words(after).take(4).any(|(_, w)| SETBACK.contains(&w.to_lowercase().as_str())),
        Guard::NotOtherChannel => {
            // "as I mentioned to Dee" and "as I mentioned in our call" report another
            // conversation; "as I mentioned, …" and "as I mentioned in my last email" remind the
            // reader of what they missed.
            if after.trim_start().starts_with(|c: char| c.is_ascii_punctuation()) {
                return true;
            }
            let next: Vec<String> = words(after).take(3).map(|(_, w)| w.to_lowercase()).collect();
            let other_channel = match next.as_slice() {
                // "in my voice mail" is another channel; "in my last email" is the reminder.
                [a, b, c, ..] if a == "in" && b == "my" => !EARLIER_MESSAGE.contains(&c.as_str()),
                [a, ..] if a == "in" => true,
                [a, ..] => OTHER_CHANNEL.contains(&a.as_str()),
                [] => false,
            };
            !other_channel
        }
    }
}

pub(super) fn check(msg: &Message, out: &mut Vec<Finding>) {
    for s in &msg.sentences {
        for (p, re) in all_phrases().zip(COMPILED.iter()) {
            for m in re.find_iter(s.text) {
                if !guard_allows(p, s.text, m.range()) {
                    continue;
                }
                let phrase = m.as_str().trim_start_matches(|c: char| !c.is_alphanumeric()).trim_end_matches([',', ' ', '.', '!', '…', '-']);
                let lead = m.as_str().len() - m.as_str().trim_start_matches(|c: char| !c.is_alphanumeric()).len();
                let span = s.abs(m.start() + lead..m.start() + lead + phrase.len());
                out.push(finding(
                    p.rule,
                    p.severity,
                    span,
                    s.index,
                    format!("“{phrase}” {}", p.why),
                    p.suggestion.to_string(),
                ));
            }
        }
    }
}
