//! Evidence of calls and meetings in what we wrote (the cleaned text: quotes and signatures are
//! already gone), and the other things the accounts report reads in it: thanks, and whether a
//! message reacts to a problem, pushes a sale or checks in.
//!
//! Each sentence is matched against fixed phrase lists. A phrase is past ("as discussed on the
//! phone", "great to see you", "thanks for lunch": it happened, and counts at the message date),
//! future ("I'll call you next Tuesday", "let's talk on Tuesday": it counts at the date the
//! sentence gives, resolved against the message date, or 7 days after the message when no date
//! can be read), or ambiguous ("for our call" vs "for our call tomorrow": future when the sentence
//! names a later date, else past; "after/per/following our call" are always past). Meeting links
//! (Zoom, Teams, Meet, Webex) count at the date the sentence gives, else at the message date.
use once_cell::sync::Lazy;
use regex::Regex;

use super::dates::{self, resolve_relative};

/// How many days after the message an undated future call or meeting is assumed to happen.
pub const UNDATED_FUTURE_DAYS: i64 = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Meeting,
    Call,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Meeting => "meeting",
            Channel::Call => "call",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tense {
    Past,
    Future,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PhraseTense {
    Past,
    Future,
    Ambiguous,
}

struct Phrase {
    channel: Channel,
    tense: PhraseTense,
    re: Regex,
}

fn p(channel: Channel, tense: PhraseTense, re: &str) -> Phrase {
    Phrase { channel, tense, re: Regex::new(&format!("(?i){re}")).expect("phrase regex") }
}

static PHRASES: Lazy<Vec<Phrase>> = Lazy::new(|| {
    use Channel::*;
    use PhraseTense::*;
    let thanks = r"\b(?:thanks|thank\s+you|many\s+thanks)\s+(?:again\s+|so\s+much\s+|very\s+much\s+)?for";
    vec![
        // Calls that happened.
        p(Call, Past, r"\b(?:as\s+)?discussed\s+(?:on|over)\s+the\s+(?:phone|telephone|call)\b"),
        p(Call, Past, r"\b(?:spoke|talked|chatted)\s+(?:\w+\s+){0,3}?(?:on|over)\s+the\s+(?:phone|telephone)\b"),
        p(Call, Past, &format!(r"{thanks}\s+(?:the|your|our|taking\s+my|returning\s+my)\s+(?:phone\s+|quick\s+)?call\b")),
        p(Call, Past, r"\b(?:good|great|nice|lovely)\s+(?:to\s+)?(?:talk|talking|speak|speaking|chat|chatting)\s+(?:to|with)\s+you\b"),
        p(Call, Past, r"\bon\s+the\s+(?:phone|telephone)\s+(?:earlier|yesterday|today|this\s+morning|this\s+afternoon|last\s+week)\b"),
        p(Call, Past, r"\b(?:when|as)\s+we\s+(?:spoke|talked)\b"),
        p(Call, Past, r"\b(?:after|from|per|following(?:\s+up\s+on)?|since)\s+our\s+(?:phone\s+|telephone\s+|conference\s+|quick\s+)?(?:call|conversation)\b"),
        p(Call, Ambiguous, r"\b(?:on|during|before|for|about|regarding)\s+our\s+(?:phone\s+|telephone\s+|conference\s+|quick\s+)?(?:call|conversation)\b"),
        // Calls to come.
        p(Call, Future, r"\b(?:i|we)(?:'ll|’ll|\s+will|\s+shall)\s+(?:give\s+you\s+a\s+(?:call|ring|buzz)|(?:call|phone|ring)\s+you)\b"),
        p(Call, Future, r"\b(?:call|phone|ring)\s+you\s+(?:back\s+)?(?:tomorrow|today|tonight|later\s+today|next|on|this)\b"),
        p(Call, Future, r"\blet'?s\s+(?:talk|speak|chat|have\s+a\s+(?:quick\s+)?call|jump\s+on\s+a\s+call|hop\s+on\s+a\s+call)\b"),
        p(Call, Future, r"\b(?:talk|speak|chat)\s+(?:\w+\s+){0,3}?(?:on|over)\s+(?:a|the)\s+(?:quick\s+)?(?:call|phone)\b"),
        p(Call, Future, r"\b(?:set\s+up|schedule|book|arrange)\s+a\s+(?:quick\s+)?(?:phone\s+)?call\b"),
        p(Call, Future, r"\b(?:talk|speak)\s+(?:to|with)\s+you\s+(?:tomorrow|next|on|this)\b"),
        // Meetings that happened.
        p(Meeting, Past, r"\b(?:great|good|nice|lovely|wonderful)\s+(?:to\s+)?(?:see|seeing)\s+you\b"),
        p(Meeting, Past, r"\b(?:great|good|nice|lovely|wonderful|a\s+pleasure)\s+(?:to\s+)?(?:meet|meeting)\s+you\b"),
        p(Meeting, Past, &format!(r"{thanks}\s+(?:the\s+|a\s+|a\s+(?:lovely|great|nice|wonderful)\s+)?(?:lunch|dinner|coffee|breakfast|drinks)\b")),
        p(Meeting, Past, &format!(r"{thanks}\s+(?:your|the)\s+(?:visit|hospitality|tour)\b")),
        p(Meeting, Past, &format!(r"{thanks}\s+(?:having|hosting|meeting\s+with|meeting|seeing)\s+(?:me|us)\b")),
        p(Meeting, Past, &format!(r"{thanks}\s+coming\s+(?:in|by|over|to)\b")),
        p(Meeting, Past, r"\b(?:as\s+)?discussed\s+(?:in|at|during)\s+(?:the|our)\s+meeting\b"),
        p(Meeting, Past, r"\bour\s+(?:meeting|visit)\s+(?:yesterday|today|this\s+morning|last\s+week|earlier)\b"),
        p(Meeting, Past, r"\b(?:when|since)\s+we\s+met\b"),
        p(Meeting, Past, r"\b(?:after|following|from|per|since)\s+our\s+(?:meeting|visit|lunch|dinner|site\s+visit)\b"),
        p(Meeting, Ambiguous, r"\b(?:at|in|during|before|for)\s+our\s+(?:meeting|visit|lunch|dinner|site\s+visit)\b"),
        // Meetings to come.
        p(Meeting, Future, r"\b(?:see|meet)\s+you\s+(?:on|next|tomorrow|this|at\s+the)\b"),
        p(Meeting, Future, r"\blook(?:ing)?\s+forward\s+to\s+(?:seeing|meeting)\s+you\b"),
        p(Meeting, Future, r"\blet'?s\s+(?:meet|get\s+together|grab\s+(?:a\s+)?(?:lunch|coffee|dinner|drink))\b"),
        p(Meeting, Future, r"\b(?:i|we)(?:'ll|’ll|\s+will)\s+(?:visit|come\s+by|stop\s+by|drop\s+by|see)\s+you\b"),
    ]
});

/// "It would be great to see you": a wish, not a meeting that happened.
static CONDITIONAL: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)(?:\b(?:would|will|'d|’d|'ll|could|should|might)\s+be\s+(?:so\s+|really\s+|very\s+)?|\b(?:hope|hoping|love|like|want|wish)\s+to\s+be\s+)$").unwrap()
});

static MEETING_LINK: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)\b(?:https?://)?(?:[a-z0-9-]+\.)*(?:zoom\.us/(?:j|my|w)/[\w?=&.-]+|teams\.microsoft\.com/l/meetup-join/\S+|teams\.live\.com/meet/\S+|meet\.google\.com/[a-z]{3}-[a-z]{4}-[a-z]{3}\b|meet\.google\.com/\S+|webex\.com/(?:meet|join)/\S+|webex\.com/\S*j\.php\S*)",
    )
    .unwrap()
});

/// One call or meeting found in a message's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    pub channel: Channel,
    pub tense: Tense,
    /// `mention` or `meeting_link`.
    pub link: bool,
    /// The day it counts at.
    pub day: i64,
    /// The words that matched (the phrase, or the link).
    pub phrase: String,
    /// The sentence, whitespace collapsed.
    pub sentence: String,
    /// How the day was found.
    pub note: String,
}

/// Calls and meetings in a message's cleaned text. `sentences` are byte ranges into `cleaned`;
/// `sent_day` is the day the message was sent. At most one mention per sentence and channel.
pub fn find(cleaned: &str, sentences: &[std::ops::Range<usize>], sent_day: i64) -> Vec<Mention> {
    let mut out = Vec::new();
    for r in sentences {
        let Some(sentence) = cleaned.get(r.clone()) else { continue };
        let mut seen: Vec<Channel> = Vec::new();
        if let Some(m) = MEETING_LINK.find(sentence) {
            let (day, note) = match resolve_relative(sentence, m.start(), sent_day) {
                Some(res) => (res.day, format!("meeting link; {:?} resolved to {}", res.expression, dates::iso(res.day))),
                None => (sent_day, "meeting link with no date in the sentence: counted at the message date".to_string()),
            };
            out.push(Mention {
                channel: Channel::Meeting,
                tense: if day > sent_day { Tense::Future } else { Tense::Past },
                link: true,
                day,
                phrase: m.as_str().trim_end_matches(['.', ',', ')', '>', ';']).to_string(),
                sentence: crate::text::collapse_whitespace(sentence),
                note,
            });
            seen.push(Channel::Meeting);
        }
        for ph in PHRASES.iter() {
            if seen.contains(&ph.channel) {
                continue;
            }
            let Some(m) = ph.re.find(sentence) else { continue };
            let mut tense = ph.tense;
            if tense == PhraseTense::Past && ph.channel == Channel::Meeting && CONDITIONAL.is_match(&sentence[..m.start()]) {
                tense = PhraseTense::Future;
            }
            let resolved = resolve_relative(sentence, m.start(), sent_day);
            let (tense, day, note) = match (tense, resolved) {
                (PhraseTense::Past, _) => (Tense::Past, sent_day, "past mention: counted at the message date".to_string()),
                (PhraseTense::Ambiguous, Some(res)) if res.day > sent_day => (
                    Tense::Future,
                    res.day,
                    format!("future {}: {:?} resolved to {}", ph.channel.as_str(), res.expression, dates::iso(res.day)),
                ),
                (PhraseTense::Ambiguous, _) => (Tense::Past, sent_day, "past mention: counted at the message date".to_string()),
                (_, Some(res)) => (
                    Tense::Future,
                    res.day,
                    format!("future {}: {:?} resolved to {}", ph.channel.as_str(), res.expression, dates::iso(res.day)),
                ),
                (_, None) => (
                    Tense::Future,
                    sent_day + UNDATED_FUTURE_DAYS,
                    format!(
                        "future {} with no date we could read: counted {UNDATED_FUTURE_DAYS} days after the message ({})",
                        ph.channel.as_str(),
                        dates::iso(sent_day + UNDATED_FUTURE_DAYS)
                    ),
                ),
            };
            out.push(Mention {
                channel: ph.channel,
                tense,
                link: false,
                day,
                phrase: crate::text::collapse_whitespace(m.as_str()),
                sentence: crate::text::collapse_whitespace(sentence),
                note,
            });
            seen.push(ph.channel);
        }
    }
    out
}

static THANKS: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(?i)\b(?:thank\s+you|thanks\s+(?:so\s+much\s+|again\s+|a\s+lot\s+)?for|appreciat(?:e|ed|es|ing|ion)|grateful)\b").unwrap());

/// The first sentence that thanks or shows appreciation ("thank you", "thanks for",
/// "appreciate", "grateful"; a bare "Thanks," sign-off is not counted).
pub fn thanks<'a>(cleaned: &'a str, sentences: &[std::ops::Range<usize>]) -> Option<&'a str> {
    sentences.iter().filter_map(|r| cleaned.get(r.clone())).find(|s| THANKS.is_match(s))
}

/// What a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Reacts to a problem: sorry, apologise, delay, issue, problem, unfortunately.
    Reactive,
    /// Pushes a sale: quote, price, offer, discount, order, upgrade, renew.
    Sales,
    /// Anything else: checking in, sharing, asking.
    CheckIn,
}

static REACTIVE: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(?i)\b(?:sorry|apolog\w*|delay(?:s|ed|ing)?|issues?|problems?|unfortunately)\b").unwrap());
static SALES: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)\b(?:quot(?:e|es|ed|ing|ation|ations)|pric(?:e|es|ed|ing)|offer(?:s|ed|ing)?|discount(?:s|ed)?|orders?|upgrad(?:e|es|ed|ing)|renew(?:s|al|als|ed|ing)?)\b").unwrap()
});
static IN_ORDER_TO: Lazy<Regex> = Lazy::new(|| Regex::new(r"(?i)\bin\s+order\s+(?:to|for|that)\b").unwrap());

/// Classify a message: a problem word makes it reactive (whatever else it says), else a sales
/// word makes it sales, else it is a check-in.
pub fn intent(cleaned: &str) -> Intent {
    if REACTIVE.is_match(cleaned) {
        return Intent::Reactive;
    }
    if SALES.is_match(&IN_ORDER_TO.replace_all(cleaned, " ")) {
        return Intent::Sales;
    }
    Intent::CheckIn
}

/// A customer's complaint, in their words: disappointment, something wrong or late, waiting,
/// asking for a refund or to cancel, escalating.
static COMPLAINT: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?ix)
        \b(?:disappoint(?:ed|ing|ment)|unacceptable|frustrat(?:ed|ing|ion)|unhappy|not\s+(?:happy|satisfied|acceptable|good\s+enough)
          |dissatisfied|complain(?:t|ts|ing|ed)?|outrageous|ridiculous|appalling|terrible|awful|poor\s+(?:service|quality|communication)
          |still\s+(?:haven'?t|have\s+not|hasn'?t|has\s+not|not|no|waiting|missing)|(?:have|has)n'?t\s+(?:received|arrived|heard)
          |never\s+(?:received|arrived|heard\s+back|got)|no\s+one\s+(?:has\s+)?(?:replied|responded|answered|got\s+back|called)
          |(?:nobody|no-one)\s+(?:has\s+)?(?:replied|responded|answered|got\s+back|called)
          |(?:was|were|is|are|arrived|came)\s+(?:\w+\s+){0,2}?(?:damaged|broken|wrong|defective|missing|late|faulty)
          |refund|(?:cancel|terminate)\s+(?:our|my|the)\s+(?:order|contract|account|subscription)
          |(?:third|fourth|fifth)\s+time|escalat(?:e|ing|ed)|what\s+is\s+going\s+on)\b",
    )
    .unwrap()
});

/// Problem words: with a clearly negative tone, a message that reports a problem is a complaint.
static PROBLEM: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)\b(?:issues?|problems?|late|delay(?:s|ed)?|wrong|broken|damaged|missing|errors?|mistakes?|again|never|still)\b").unwrap()
});

/// An apology or an acknowledgement in our answer.
static APOLOGY: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?ix)
        \b(?:sorry|apolog\w*|regret|my\s+(?:mistake|fault|error|bad)|our\s+(?:mistake|fault|error)
          |we\s+(?:dropped\s+the\s+ball|messed\s+up|got\s+(?:this|it|that)\s+wrong|let\s+you\s+down)
          |(?:i|we)\s+(?:completely\s+|fully\s+)?understand\s+(?:your|the|how|why)
          |thank(?:s|\s+you)\s+(?:for\s+)?(?:letting\s+(?:me|us)\s+know|flagging|raising|pointing|your\s+patience|bearing\s+with)
          |you(?:'re|\s+are)\s+(?:absolutely\s+|quite\s+)?right|i\s+hear\s+you|(?:should|shouldn'?t)\s+(?:not\s+)?have\s+happened
          |take\s+(?:full\s+)?responsibility|acknowledge)\b",
    )
    .unwrap()
});

/// A greeting to a family member ("Hey Mom and Dad,", "Hi Dad").
static FAMILY_GREETING: Lazy<Regex> = Lazy::new(|| {
    let who = r"(?:mom|mommy|mum|mummy|dad|daddy|mother|father|grandma|grandpa|granny|nana|grandmother|grandfather)";
    Regex::new(&format!(r"(?i)^\W*(?:(?:hi|hey|hello|dear)\s+)?{who}(?:\s+(?:and|&)\s+{who})?\s*(?:[,:!.\n-]|$)")).unwrap()
});

/// A request: a message with one (or a question mark) asks for an answer.
static REQUEST: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)\b(?:please|pls|kindly|could\s+you|can\s+you|would\s+you|will\s+you|let\s+(?:me|us)\s+know|get\s+back\s+to|need\s+(?:you|your|an?\s+(?:answer|reply|update))|waiting\s+for|when\s+will|confirm|advise)\b",
    )
    .unwrap()
});

static FORWARD_SUBJECT: Lazy<Regex> = Lazy::new(|| Regex::new(r"(?i)^\s*(?:fw|fwd|tr|wg)\s*:").unwrap());

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

/// The sentence that makes a message a complaint: one with a complaint phrase; or, when the tone
/// model rates the message clearly negative (`negative` ≥ [`COMPLAINT_NEGATIVE`]), the first one
/// naming a problem.
pub fn complaint<'a>(cleaned: &'a str, sentences: &[std::ops::Range<usize>], negative: Option<f32>) -> Option<&'a str> {
    let mut all = sentences.iter().filter_map(|r| cleaned.get(r.clone()));
    if negative.is_none_or(|n| n >= PHRASE_NEGATIVE) {
        if let Some(s) = all.clone().find(|s| COMPLAINT.is_match(s)) {
            return Some(s);
        }
    }
    if negative.is_some_and(|n| n >= COMPLAINT_NEGATIVE) {
        return all.find(|s| PROBLEM.is_match(s));
    }
    None
}

/// How negative (the tone model's `negative`, 0–1) a message naming a problem must be to count
/// as a complaint without a complaint phrase; and a message from them at least this negative is a
/// "negative reply".
pub const COMPLAINT_NEGATIVE: f32 = 0.5;
/// A complaint phrase in a message the tone model rates below this is not a complaint ("thanks
/// for the refund!").
pub const PHRASE_NEGATIVE: f32 = 0.1;

/// The first sentence that apologises or acknowledges ("sorry", "we apologise", "you're right",
/// "thanks for letting us know", "I understand your frustration"...).
pub fn apology<'a>(cleaned: &'a str, sentences: &[std::ops::Range<usize>]) -> Option<&'a str> {
    sentences.iter().filter_map(|r| cleaned.get(r.clone())).find(|s| APOLOGY.is_match(s))
}

/// Whether the text opens by greeting a parent or grandparent.
pub fn family_greeting(cleaned: &str) -> bool {
    FAMILY_GREETING.is_match(cleaned.trim_start())
}

/// Whether a message asks for an answer: a question mark, or a request ("please", "could you",
/// "let me know", "confirm"...). Thanks and acknowledgements ("the numbers look fine") do not.
pub fn asks(cleaned: &str) -> bool {
    cleaned.contains('?') || REQUEST.is_match(cleaned)
}

/// A forward (`Fw:`, `Fwd:` subject) with at most 8 words of its own: passing mail on, not writing.
pub fn is_bare_forward(subject: Option<&str>, cleaned: &str) -> bool {
    subject.is_some_and(|s| FORWARD_SUBJECT.is_match(s)) && words(cleaned) <= 8
}

/// One sentence spanning the whole text (for tests and callers without sentence ranges).
pub fn whole(text: &str) -> Vec<std::ops::Range<usize>> {
    let all = 0..text.len();
    vec![all]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str, sent: &str) -> Vec<(Channel, Tense, bool, String)> {
        let day = dates::parse_iso_day(sent).unwrap();
        find(text, &whole(text), day).into_iter().map(|m| (m.channel, m.tense, m.link, dates::iso(m.day))).collect()
    }

    #[test]
    fn past_mentions_count_at_the_message_date() {
        let s = "2026-10-22";
        for text in [
            "As discussed on the phone on Tuesday, here is the pilot order.",
            "Good speaking with you earlier.",
            "Thanks for taking my call.",
            "Following up on our call, here are the numbers.",
            "As per our conversation on Monday, the address stays valid for another week.",
            "I spoke with Ken on the phone.",
        ] {
            assert_eq!(one(text, s), vec![(Channel::Call, Tense::Past, false, s.to_string())], "{text}");
        }
        for text in ["It was great to see you at our plant yesterday, and thanks for lunch!", "Nice meeting you.", "Thank you for your visit.", "Thanks for having us."] {
            assert_eq!(one(text, s), vec![(Channel::Meeting, Tense::Past, false, s.to_string())], "{text}");
        }
    }

    #[test]
    fn future_calls_resolve_their_date() {
        let tue = "2026-09-22";
        assert_eq!(one("I'll call you next Tuesday to go over the pilot order.", tue), vec![(Channel::Call, Tense::Future, false, "2026-09-29".into())]);
        assert_eq!(one("I will call you tomorrow.", tue), vec![(Channel::Call, Tense::Future, false, "2026-09-23".into())]);
        assert_eq!(one("Let's talk on Thursday.", tue), vec![(Channel::Call, Tense::Future, false, "2026-09-24".into())]);
        assert_eq!(one("Could we talk it through on a call tomorrow?", tue), vec![(Channel::Call, Tense::Future, false, "2026-09-23".into())]);
        let m = find("I'll give you a call.", &whole("I'll give you a call."), dates::parse_iso_day(tue).unwrap());
        assert_eq!(dates::iso(m[0].day), "2026-09-29", "undated: 7 days after the message");
        assert!(m[0].note.contains("no date"), "{}", m[0].note);
        assert_eq!(one("Speak to you on our call tomorrow.", tue), vec![(Channel::Call, Tense::Future, false, "2026-09-23".into())], "ambiguous + later date = future");
        assert_eq!(one("It would be great to see you next week.", tue)[0].1, Tense::Future, "a wish, not a meeting");
    }

    #[test]
    fn meeting_links() {
        let thu = "2026-10-22";
        assert_eq!(
            one("Join us on https://zoom.us/j/5551234567 on Monday.", thu),
            vec![(Channel::Meeting, Tense::Future, true, "2026-10-26".into())]
        );
        for link in [
            "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0",
            "meet.google.com/abc-defg-hij",
            "https://acme.webex.com/meet/dana",
            "https://acme.webex.com/join/dana",
            "https://us02web.zoom.us/j/123?pwd=x",
        ] {
            let text = format!("Here is the link: {link}");
            assert_eq!(one(&text, thu), vec![(Channel::Meeting, Tense::Past, true, thu.into())], "{link}");
        }
        assert!(one("See https://zoom.us/pricing for plans.", thu).is_empty());
    }

    #[test]
    fn no_false_mentions() {
        for text in ["That's your call.", "Call me when you can.", "I'll call the warehouse.", "The phone number is on the invoice.", "Thanks,", "We met the deadline."] {
            assert!(one(text, "2026-10-22").is_empty(), "{text}");
        }
    }

    #[test]
    fn complaints_apologies_and_family() {
        let c = |t: &str, n: Option<f32>| complaint(t, &whole(t), n).is_some();
        assert!(c("I am really disappointed with the delivery.", Some(0.6)));
        assert!(c("We still haven't received the samples.", None));
        assert!(c("Half of the housings arrived damaged.", Some(0.5)));
        assert!(c("This is the third time the invoice is wrong.", Some(0.4)));
        assert!(!c("Thanks for the refund!", Some(0.01)), "a happy message with a complaint word");
        assert!(c("There is a problem with the seals on the second batch.", Some(0.8)), "clearly negative, naming a problem");
        assert!(!c("There is a problem with the seals on the second batch.", Some(0.3)));
        assert!(!c("Could you resend invoice 7731?", Some(0.2)));
        let a = |t: &str| apology(t, &whole(t)).is_some();
        for t in ["I'm so sorry about this.", "We apologise for the delay.", "You're right, the invoice was wrong.", "Thanks for letting us know.", "I understand your frustration."] {
            assert!(a(t), "{t}");
        }
        assert!(!a("Please send photos of the housings."));
        for t in ["Hey Mom and Dad,\nThis is Beth's resume", "Hi Dad, did you get the link?", "Dear Grandma:", "Mom!"] {
            assert!(family_greeting(t), "{t}");
        }
        for t in ["Mom said you needed it: 2210 W. Dallas St.", "Hi Dana, thanks.", "Dadson Ltd called."] {
            assert!(!family_greeting(t), "{t}");
        }
        assert!(!asks("Great, thanks!"));
        assert!(!asks("Thanks for the call yesterday. The numbers look fine to us now."));
        assert!(asks("Thanks. Does the Q2 number include Dayton?"));
        assert!(asks("Please send the test plan before then."));
        assert!(is_bare_forward(Some("FW: Power Trading Needs"), "FYI"));
        assert!(!is_bare_forward(Some("Re: Power Trading Needs"), ""));
        assert!(!is_bare_forward(Some("Fwd: notes"), "Here are the notes from Tuesday, with my comments on the second page."));
    }

    #[test]
    fn thanks_and_intent() {
        let t = "Thanks,\nDana";
        assert_eq!(thanks(t, &whole(t)), None, "a sign-off is not thanks");
        let t = "Hi. Thanks for the forecast.";
        assert_eq!(thanks(t, &[0..3, 4..t.len()]), Some("Thanks for the forecast."));
        assert_eq!(intent("I'm sorry: the second batch will be a week late."), Intent::Reactive);
        assert_eq!(intent("Here is the price sheet for the pilot order."), Intent::Sales);
        assert_eq!(intent("In order to plan, how is the Dayton site?"), Intent::CheckIn);
        assert_eq!(intent("Sorry, the quote is late."), Intent::Reactive, "a problem word wins");
    }
}
