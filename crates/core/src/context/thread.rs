//! The message a draft answers, and how the draft's tone compares with it.
//!
//! The parent is looked up among the received mail in the state (`rapport audit --received`): the
//! message whose Message-ID is the draft's In-Reply-To, else the latest of its References. Its
//! verdict (written by people only: lists and automated mail have none) says whether it was kind
//! or neutral, or upset.
use std::collections::HashMap;

use once_cell::sync::Lazy;
use regex::Regex;

use crate::source::Direction;
use crate::state::{StoredMessage, Verdict};
use crate::verdict::Assessment;

/// A message this negative (or flagged) is upset; below it and not flagged, kind or neutral.
pub const UPSET_NEGATIVE: f32 = 0.5;

/// A Message-ID without its angle brackets.
pub fn bare(id: &str) -> &str {
    id.trim().trim_start_matches('<').trim_end_matches('>')
}

/// The received message the draft replies to.
pub fn parent<'m>(messages: &'m [StoredMessage], in_reply_to: &[String], references: &[String]) -> Option<&'m StoredMessage> {
    if in_reply_to.is_empty() && references.is_empty() {
        return None;
    }
    let received: HashMap<&str, &StoredMessage> = messages
        .iter()
        .filter(|m| m.direction == Some(Direction::Received))
        .filter_map(|m| Some((bare(m.message_id.as_deref()?), m)))
        .collect();
    in_reply_to
        .iter()
        .chain(references.iter().rev())
        .find_map(|id| received.get(bare(id)).copied())
}

/// Kind or neutral: not flagged and not mostly negative.
pub fn is_kind_or_neutral(v: &Verdict) -> bool {
    !v.flagged && v.tone.negative < UPSET_NEGATIVE
}

/// Upset: flagged, or mostly negative.
pub fn is_upset(v: &Verdict) -> bool {
    v.flagged || v.tone.negative >= UPSET_NEGATIVE
}

/// The draft answers a kind or neutral message and is clearly harsher: the draft is flagged (it
/// has a finding at warning or above) and the message it answers is not. Both combiners (v1 and
/// v2) flag exactly the messages with a warning, so this holds whatever the risk's scale.
pub fn escalates(parent: &Verdict, draft: &Assessment) -> bool {
    is_kind_or_neutral(parent) && draft.flagged
}

/// Words that acknowledge a problem: an apology, understanding, thanks for raising it, owning it.
static ACKNOWLEDGES: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?ix)\b(?:
            sorry | apolog\w* | regret\w* | my\s+bad
          | (?:i|we)\s+(?:completely\s+|fully\s+|totally\s+|really\s+)?(?:understand|get\s+it|hear\s+you|see\s+(?:why|how|what))
          | understandabl[ey] | (?:i\s+)?can\s+(?:only\s+)?imagine
          | frustrat\w* | inconvenien\w* | disappoint\w* | upsetting | annoying
          | (?:thanks|thank\s+you)\s+(?:so\s+much\s+|very\s+much\s+)?for\s+(?:your\s+patience|bearing\s+with|letting\s+(?:me|us)\s+know|flagging|raising|reporting|pointing|telling|your\s+(?:feedback|note|message\s+about))
          | (?:you(?:'re|’re|\s+are)\s+(?:right|correct))
          | (?:my|our)\s+(?:mistake|fault|error|oversight)
          | (?:should(?:n't|n’t|\s+not)\s+have\s+happened)
          | not\s+(?:good\s+enough|acceptable|what\s+you\s+(?:expect|deserve)|the\s+(?:service|experience))
          | let\s+you\s+down | fell\s+short | dropped\s+the\s+ball | on\s+us\b
        )",
    )
    .expect("acknowledgement regex")
});

/// Whether the draft's text acknowledges a problem anywhere.
pub fn acknowledges(text: &str) -> bool {
    ACKNOWLEDGES.is_match(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acknowledgements_are_found_and_plain_facts_are_not() {
        for t in [
            "I'm sorry the parts arrived broken.",
            "We apologise for the delay.",
            "I understand how annoying this is.",
            "Thanks for letting us know.",
            "You're right, that should not have happened.",
            "That's our mistake.",
            "That shouldn't have happened.",
            "I can imagine how frustrating this is.",
        ] {
            assert!(acknowledges(t), "{t}");
        }
        for t in ["The replacement ships on Monday.", "Tracking details will follow.", "Please find the invoice attached."] {
            assert!(!acknowledges(t), "{t}");
        }
    }

    #[test]
    fn the_parent_is_the_in_reply_to_else_the_latest_reference_among_received_mail() {
        let msg = |id: &str, dir: Direction| StoredMessage { message_id: Some(id.into()), direction: Some(dir), ..Default::default() };
        let ms = vec![msg("a@x", Direction::Received), msg("b@x", Direction::Received), msg("c@us", Direction::Sent)];
        assert_eq!(parent(&ms, &["b@x".into()], &[]).unwrap().message_id.as_deref(), Some("b@x"));
        assert_eq!(parent(&ms, &["<zz@x>".into()], &["a@x".into(), "<b@x>".into()]).unwrap().message_id.as_deref(), Some("b@x"));
        assert!(parent(&ms, &["c@us".into()], &[]).is_none(), "our own sent mail is not what we answer");
        assert!(parent(&ms, &[], &[]).is_none());
    }
}
