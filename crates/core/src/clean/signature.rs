//! Signatures.
//!
//! * The `-- ` delimiter (RFC 3676; also a bare `--`) and "Sent from my iPhone" / "Get Outlook
//!   for iOS" footers end the sender's text: they are cut points (see [`is_end_marker`]).
//! * A sign-off block at the end: a closing line ("Thanks,", "Best regards,", "Cheers,") followed
//!   only by a few short lines (name, title, company, phone, address). The closing line is kept:
//!   whether a message greets and signs off is part of its tone. The lines after it are dropped.
//! * Without a closing line, a trailing contact block (phone numbers and e-mail addresses under a
//!   name line) is dropped; the name line stays. A link under a name is kept: it is usually what
//!   the message is sharing.
use once_cell::sync::Lazy;
use regex::Regex;

use super::lines::Line;

static MOBILE_FOOTER: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)^\s*(?:sent\s+from\s+my\s+\S.{0,40}|sent\s+from\s+(?:mail|yahoo\s+mail|outlook|aol\s+mobile\s+mail|samsung\s+mobile)\b.{0,40}|get\s+outlook\s+for\s+(?:ios|android)|sent\s+(?:via|using)\s+(?:blackberry|outlook|the\s+samsung|superhuman|spark)\b.{0,40})\s*$",
    )
    .unwrap()
});

/// A closing line, optionally with the name on the same line ("Thanks, Bob").
pub(crate) static SIGNOFF: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"^\s*(?i:thanks|thank\s+you|thanks\s+again|thanks\s+so\s+much|thank\s+you\s+(?:very|so)\s+much|thanks\s+in\s+advance|many\s+thanks|with\s+thanks|thx|best|best\s+wishes|all\s+the\s+best|(?:best|kind|kindest|warm|warmest|many)\s+regards|regards|rgds|cheers|sincerely|sincerely\s+yours|yours\s+sincerely|yours\s+truly|yours\s+faithfully|faithfully|respectfully|cordially|take\s+care|talk\s+soon|warmly|love|with\s+appreciation|with\s+best\s+regards|thanks\s+(?:and|&)\s+regards|gracias|cheers\s+mate)(?:\s*[,.!]*\s*[A-Z][\w.'-]*(?:\s+[A-Z][\w.'-]*){0,2})?\s*[,.!]*\s*$",
    )
    .unwrap()
});

static CONTACT: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?ix)^\s*(?:
            (?:(?:tel|phone|ph|cell|mobile|mob|fax|direct|office|home|work|main|[tfmcowhpe])\s*[:.]?\s*)?
              [+(]?\d[\d\s().\-/]{5,}\d\s*(?:(?:x|ext\.?)\s*\d+)?\s*
              (?:\(?(?:wk|work|home|cell|mobile|office|fax|direct|[hwcmo])\)?)?
          | x\s?\d{4,5}
          | (?:e-?mail\s*:?\s*)?<?[\w.+-]+@\s?[\w-]+(?:\.[\w-]+)+>?
        )\s*$",
    )
    .unwrap()
});

/// The `-- ` signature delimiter or a mobile footer: the sender's text ends before this line.
pub(super) fn is_end_marker(l: &Line<'_>) -> bool {
    l.text.trim_end() == "--" || MOBILE_FOOTER.is_match(l.text)
}

/// A line that could be part of a signature block under a sign-off (name, title, company,
/// address, phone): short, few words, not a question or a sentence of prose. A sentence is told
/// from a title line ("Accounts Receivable | Northwind Supplies Ltd.") by its lower-case words.
fn is_signature_line(t: &str) -> bool {
    let t = t.trim();
    let words: Vec<&str> = t.split_whitespace().collect();
    let lower = words.iter().filter(|w| w.starts_with(|c: char| c.is_lowercase())).count();
    let prose = t.ends_with(['.', '!']) && words.len() >= 5 && lower * 3 >= words.len();
    t.chars().count() <= 72 && words.len() <= 10 && !t.ends_with('?') && !prose
}

/// Drop the lines after the last sign-off when they form a signature block, or else a trailing
/// contact block under a name line. Only lines still kept are looked at.
pub(super) fn trim(lines: &[Line<'_>], keep: &mut [bool]) {
    let kept: Vec<usize> = (0..lines.len()).filter(|&i| keep[i] && !lines[i].is_blank()).collect();
    let Some(pos) = kept.iter().rposition(|&i| SIGNOFF.is_match(lines[i].text)) else {
        trim_contact_block(lines, keep, &kept);
        return;
    };
    let after = &kept[pos + 1..];
    if after.len() <= 10 && after.iter().all(|&i| is_signature_line(lines[i].text)) {
        for &i in after {
            keep[i] = false;
        }
    }
}

fn trim_contact_block(lines: &[Line<'_>], keep: &mut [bool], kept: &[usize]) {
    let n = kept.iter().rev().take_while(|&&i| CONTACT.is_match(lines[i].text)).count();
    if n == 0 || n == kept.len() {
        return;
    }
    let name = lines[kept[kept.len() - n - 1]].trimmed();
    let name_like = name.split_whitespace().count() <= 4
        && name.chars().count() <= 40
        && !name.ends_with(['.', '?', '!', ':'])
        && name.chars().next().is_some_and(|c| c.is_alphabetic());
    if name_like {
        for &i in &kept[kept.len() - n..] {
            keep[i] = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::lines::split_lines;
    use super::*;

    fn trimmed(body: &str) -> Vec<String> {
        super::super::kept_by(body, trim)
    }

    #[test]
    fn end_markers() {
        for t in ["-- ", "--", "Sent from my iPhone", "Get Outlook for iOS", "Sent from my Galaxy S21"] {
            assert!(is_end_marker(&split_lines(t)[0]), "{t}");
        }
        for t in ["---", "-- not a delimiter", "I sent from my office the parcel yesterday, as agreed."] {
            assert!(!is_end_marker(&split_lines(t)[0]), "{t}");
        }
    }

    #[test]
    fn signoff_lines() {
        for t in ["Thanks,", "Best regards,", "Cheers!", "Sincerely,", "Thank you", "Thanks, Bob", "Kind Regards,", "Best"] {
            assert!(SIGNOFF.is_match(t), "{t}");
        }
        for t in ["Thanks for the update.", "Best price we can do is $40.", "Regards to your team and see you soon", "thanks, bob"] {
            assert!(!SIGNOFF.is_match(t), "{t}");
        }
    }

    #[test]
    fn signoff_keeps_closing_drops_block() {
        let out = trimmed("Hi Bob,\n\nThe parts ship Friday.\n\nBest regards,\nAnn Lee\nAccount Manager | Acme Ltd\n+44 20 7946 0000\n12 High St, London\n");
        assert_eq!(out, vec!["Hi Bob,", "The parts ship Friday.", "Best regards,"]);
        let out = trimmed("Noted.\nKind regards,\nMark Jensen\nAccounts Receivable | Northwind Supplies Ltd.\nwww.northwind.example\n");
        assert_eq!(out, vec!["Noted.", "Kind regards,"]);
        // A postscript after the name is the sender's text: nothing is dropped.
        let out = trimmed("Thanks, BT\n\nI will call you thurs. a.m.\n");
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn thanks_followed_by_prose_is_not_a_signoff() {
        let body = "Thanks!\n\nAlso, could you send me the updated price list before our call tomorrow? It would help a lot.\n";
        assert_eq!(trimmed(body).len(), 2);
    }

    #[test]
    fn contact_block_without_signoff() {
        let out = trimmed("Please fax the form.\n\nPhillip Allen\npallen@enron.com\n713-853-7041\n");
        assert_eq!(out, vec!["Please fax the form.", "Phillip Allen"]);
        // A message that is only a link keeps it, and so does a link under a name.
        assert_eq!(trimmed("http://www.example.com/x\n"), vec!["http://www.example.com/x"]);
        assert_eq!(trimmed("Look at this!\nDB\nhttp://www.example.com/x\n").len(), 3);
        // Numbers under a sentence are content, not a signature.
        assert_eq!(trimmed("The new numbers are:\n713-555-0100\n").len(), 2);
    }
}
