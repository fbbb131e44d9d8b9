//! Quoted replies and forwarded messages.
//!
//! Two kinds of removal:
//! * a **cut**: the first line where an earlier message starts (an Outlook `-----Original
//!   Message-----` line or `From:/Sent:/To:/Subject:` header block, a Lotus Notes `Forwarded by`
//!   line or `Name@ENRON / date / To: / cc: / Subject:` block, Gmail's `---------- Forwarded
//!   message ---------`, Apple's `Begin forwarded message:`, an `On <date>, <name> wrote:`
//!   attribution that is not followed by `>` lines). Everything from there on is dropped:
//!   top-posting is the norm in business mail, so what follows is someone else's text;
//! * **inline quotes**: `>` lines (and the attribution line that introduces them) are removed
//!   one by one, so that in a bottom-posted or interleaved reply the sender's own paragraphs
//!   between the quotes are kept.
//!
//! Only unquoted lines are looked at when searching for a cut: an `-----Original Message-----`
//! inside a `>` quote is part of that quote.
use once_cell::sync::Lazy;
use regex::Regex;

use super::lines::{is_rule, Line};

/// `-----Original Message-----`, `-------- Forwarded Message --------`,
/// `---------- Forwarded message ---------`, `----- Original Message -----`.
static SEPARATOR: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(?i)^\s*-{2,}\s*(?:original|forwarded)\s+message\s*-*\s*$").unwrap());
/// Apple Mail's forward header.
static BEGIN_FORWARDED: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(?i)^\s*begin\s+forwarded\s+message\s*:?\s*$").unwrap());
/// Lotus Notes: `---------------------- Forwarded by Name/HOU/ECT on 05/14/2001 10:00 AM ---`.
static LOTUS_FORWARDED: Lazy<Regex> = Lazy::new(|| Regex::new(r"(?i)^\s*-{3,}\s*forwarded\s+by\b").unwrap());
/// An attribution on one line: `On Tue, Nov 14, 2023 at 10:02 AM Ann Lee <ann@x.com> wrote:`.
static ON_WROTE: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(?i)^\s*on\s+\S.{4,300}?\s(?:wrote|writes)\s*:\s*$").unwrap());
/// First line of an attribution wrapped onto two lines.
static ON_START: Lazy<Regex> = Lazy::new(|| Regex::new(r"(?i)^\s*on\s+\S").unwrap());
/// Last line of a wrapped attribution, or a bare `Ann Lee <ann@x.com> wrote:`.
static WROTE_END: Lazy<Regex> = Lazy::new(|| Regex::new(r"(?i)\s*(?:wrote|writes)\s*:\s*$").unwrap());
/// Gmail's placeholder for collapsed quotes.
static QUOTED_HIDDEN: Lazy<Regex> = Lazy::new(|| Regex::new(r"(?i)^\s*\[quoted text hidden\]\s*$").unwrap());
/// A header field of an embedded message.
static HEADER: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(?i)^\s*(from|sent|date|to|cc|bcc|subject|reply-to|importance)\s*:").unwrap());
/// Lotus Notes sender line above a header block: `Jane Doe@ENRON`, `"Lee, Ann" <ann@x.com> on
/// 05/11/2001 03:12:44 PM`, `Please respond to ann@x.com`.
static SENDER_LINE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)(?:^[^\s@][^@]{0,60}@[A-Za-z][\w.-]*\s*$|<[^>\s]+@[^>\s]+>\s+on\s+\d|^\s*please\s+respond\s+to\b)")
        .unwrap()
});
/// Lotus Notes date line above a header block: `05/11/2001 03:12 PM`.
static DATE_LINE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)^\s*\d{1,2}/\d{1,2}/\d{2,4}(?:\s+\d{1,2}:\d{2}(?::\d{2})?\s*(?:am|pm)?)?\s*$").unwrap()
});

/// How far a header block (or the gap between an attribution and its quote) may reach; also
/// keeps every search here linear in the number of lines.
const MAX_BLOCK_LINES: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Field {
    From,
    Sent,
    To,
    Cc,
    Subject,
    Other,
}

fn field(text: &str) -> Option<Field> {
    let caps = HEADER.captures(text)?;
    Some(match caps[1].to_ascii_lowercase().as_str() {
        "from" => Field::From,
        "sent" | "date" => Field::Sent,
        "to" => Field::To,
        "cc" | "bcc" => Field::Cc,
        "subject" => Field::Subject,
        _ => Field::Other,
    })
}

/// The first line where an earlier (quoted or forwarded) message begins, if any.
/// `also_cut` lets the caller add its own end markers (signature delimiters, mobile footers).
pub(super) fn find_cut(lines: &[Line<'_>], also_cut: impl Fn(&Line<'_>) -> bool) -> Option<usize> {
    for i in 0..lines.len() {
        let l = &lines[i];
        if l.is_quote() || l.is_blank() {
            continue;
        }
        let t = l.text;
        if SEPARATOR.is_match(t) || BEGIN_FORWARDED.is_match(t) || LOTUS_FORWARDED.is_match(t) || also_cut(l) {
            return Some(i);
        }
        if let Some(n) = attribution(lines, i) {
            // Followed by `>` lines: an inline quote, removed by `remove_inline`. Otherwise the
            // quoted text is not marked (HTML converted to text, or a client that does not
            // prefix), so everything after the attribution is someone else's.
            if !next_nonblank(lines, i + n).is_some_and(|j| lines[j].is_quote()) {
                return Some(i);
            }
            continue;
        }
        if let Some(start) = header_block(lines, i) {
            return Some(start);
        }
    }
    None
}

/// Remove `>` quoted lines, the attribution lines that introduce them, and lines that are
/// plainly part of a quote whose wrapping broke, among `lines[..cut]`.
pub(super) fn remove_inline(lines: &[Line<'_>], keep: &mut [bool], cut: usize) {
    for i in 0..cut {
        let l = &lines[i];
        if l.is_quote() || QUOTED_HIDDEN.is_match(l.text) || is_broken_quote_wrap(lines, i) {
            keep[i] = false;
        }
    }
    for i in 0..cut {
        if !keep[i] || lines[i].is_quote() {
            continue;
        }
        // Header lines left above a quote when a forward lost its separator.
        if field(lines[i].text).is_some() && leads_to_quote(lines, i) {
            keep[i] = false;
            continue;
        }
        if let Some(n) = attribution(lines, i).or_else(|| bare_attribution(lines, i)) {
            if next_nonblank(lines, i + n).is_some_and(|j| lines[j].is_quote()) {
                for k in keep.iter_mut().skip(i).take(n) {
                    *k = false;
                }
            }
        }
    }
}

/// A quoted line that a client re-wrapped without its `>`:
/// `> ... to convince male victims to have` / `sex` / `> with them.`
fn is_broken_quote_wrap(lines: &[Line<'_>], i: usize) -> bool {
    if i == 0 || i + 1 >= lines.len() {
        return false;
    }
    let (prev, l, next) = (&lines[i - 1], &lines[i], &lines[i + 1]);
    if !prev.is_quote() || !next.is_quote() || l.is_quote() || l.is_blank() {
        return false;
    }
    let prev_content = prev.trimmed().trim_start_matches(['>', ' ']).chars().count();
    let t = l.trimmed();
    let first_upper = t.chars().next().is_some_and(char::is_uppercase);
    let ends_sentence = t.ends_with(['.', '!', '?']);
    prev_content >= 50 && t.chars().count() <= 60 && !first_upper && !ends_sentence
}

/// Lines taken by an `On <date>, <name> wrote:` attribution starting at `i` (1 or 2).
fn attribution(lines: &[Line<'_>], i: usize) -> Option<usize> {
    let t = lines[i].text;
    let plausible = |s: &str| s.contains(|c: char| c.is_ascii_digit()) || s.contains('@');
    if ON_WROTE.is_match(t) && plausible(t) {
        return Some(1);
    }
    // Wrapped onto two lines: `On Tue, Nov 14, 2023 at 10:02 AM Ann Lee <` / `ann@x.com> wrote:`.
    if ON_START.is_match(t) && !WROTE_END.is_match(t) && t.chars().count() <= 200 {
        let next = lines.get(i + 1)?;
        let nt = next.text;
        if !next.is_blank() && !next.is_quote() && WROTE_END.is_match(nt) && nt.chars().count() <= 120 {
            let joined = format!("{} {}", t.trim_end(), nt.trim());
            if ON_WROTE.is_match(&joined) && plausible(&joined) {
                return Some(2);
            }
        }
    }
    None
}

/// `Ann Lee <ann@x.com> wrote:` or `Ann Lee wrote:` (only counts when `>` lines follow).
fn bare_attribution(lines: &[Line<'_>], i: usize) -> Option<usize> {
    let t = lines[i].trimmed();
    let m = WROTE_END.find(t)?;
    let who = &t[..m.start()];
    let words = who.split_whitespace().count();
    (words >= 1 && t.chars().count() <= 150 && (who.contains('@') || words <= 4)).then_some(1)
}

/// Is line `i` followed, over blank lines and header lines only, by a `>` line?
fn leads_to_quote(lines: &[Line<'_>], i: usize) -> bool {
    for l in lines.iter().skip(i + 1).take(MAX_BLOCK_LINES) {
        if l.is_quote() {
            return true;
        }
        if !l.is_blank() && field(l.text).is_none() {
            return false;
        }
    }
    false
}

/// The next non-blank line, if one comes within [`MAX_BLOCK_LINES`].
fn next_nonblank(lines: &[Line<'_>], from: usize) -> Option<usize> {
    (from..lines.len().min(from + MAX_BLOCK_LINES)).find(|&j| !lines[j].is_blank())
}

/// If a header block of an embedded message (Outlook `From:/Sent:/To:/Subject:`, Gmail
/// `From:/Date:/Subject:/To:`, Lotus `To:/cc:/Subject:` under a sender and date line) begins at
/// line `i`, the line where the quoted message starts (including its sender lines and a
/// `________________________________` separator above it).
fn header_block(lines: &[Line<'_>], i: usize) -> Option<usize> {
    let first = field(lines[i].text)?;
    let mut fields = vec![first];
    let mut continuation = 0;
    let mut j = i + 1;
    while j < lines.len() && j < i + MAX_BLOCK_LINES {
        let l = &lines[j];
        if l.is_quote() {
            break;
        }
        if let Some(f) = field(l.text) {
            fields.push(f);
            continuation = 0;
        } else if l.is_blank() {
            // One blank line may separate a long `To:` list from `Subject:`.
            if lines.get(j + 1).is_none_or(|n| field(n.text).is_none()) {
                break;
            }
        } else {
            // A wrapped `To:` or `Subject:` line.
            continuation += 1;
            if continuation > 6 {
                break;
            }
        }
        j += 1;
    }
    let has = |f: Field| fields.contains(&f);
    let distinct = [Field::From, Field::Sent, Field::To, Field::Cc, Field::Subject]
        .iter()
        .filter(|&&f| has(f))
        .count();
    let origin = has(Field::From) || has(Field::Sent);
    let target = has(Field::To) || has(Field::Subject) || has(Field::Cc);

    // Lines above the block that belong to it: Lotus sender and date lines.
    let mut start = i;
    let mut sender_lines = 0;
    let mut after_date = false;
    while start > 0 && sender_lines < 3 {
        let above = &lines[start - 1];
        if above.is_blank() || above.is_quote() || above.words() > 10 {
            break;
        }
        let is_date = DATE_LINE.is_match(above.text);
        // Within one Notes domain the sender line is a bare name above the date line.
        let bare_name = after_date && above.words() <= 5 && !above.trimmed().ends_with(['.', '!', '?', ':', ',']);
        if SENDER_LINE.is_match(above.text) || is_date || bare_name {
            start -= 1;
            sender_lines += 1;
            after_date = is_date;
        } else {
            break;
        }
    }
    // A separator line above (Outlook's underscores), possibly after blank lines.
    let mut above = start;
    while above > 0 && lines[above - 1].is_blank() {
        above -= 1;
    }
    let separated = above > 0 && is_rule(lines[above - 1].text);

    let valid = (distinct >= 3 && origin && target)
        || (distinct >= 3 && sender_lines > 0)
        || (distinct >= 2 && origin && target && (separated || sender_lines > 0));
    if !valid {
        return None;
    }
    Some(if separated { above - 1 } else { start })
}

#[cfg(test)]
mod tests {
    use super::super::lines::split_lines;
    use super::*;

    fn cut(body: &str) -> Option<usize> {
        find_cut(&split_lines(body), |_| false)
    }

    #[test]
    fn outlook_original_message() {
        assert_eq!(cut("Hi,\nok.\n\n-----Original Message-----\nFrom: a\n"), Some(3));
        assert_eq!(cut("ok\n ----- Original Message ----- \n"), Some(1));
        assert_eq!(cut("ok\n-------- Forwarded Message --------\nSubject: x\n"), Some(1));
    }

    #[test]
    fn outlook_header_block_with_separator() {
        let body = "Sure.\n\n________________________________\nFrom: Ann Lee <ann@x.com>\nSent: Tuesday, November 14, 2023 10:02 AM\nTo: Bob\nSubject: RE: Invoice\n\nOld text\n";
        assert_eq!(cut(body), Some(2));
        let body = "Sure.\n\nFrom: Ann Lee [mailto:ann@x.com]\nSent: Tuesday\nTo: Bob; Carl;\n  Dan\nCc: Eve\nSubject: RE: Invoice\n";
        assert_eq!(cut(body), Some(2));
    }

    #[test]
    fn lotus_blocks() {
        let body = "See below.\n\n---------------------- Forwarded by Phillip K Allen/HOU/ECT on 05/14/2001 10:00 AM ---------------------------\n\n\nJane Doe@ENRON\n05/11/2001 03:12 PM\nTo: Phillip K Allen/HOU/ECT@ECT\ncc:\nSubject: Gas\n";
        assert_eq!(cut(body), Some(2));
        let body = "Fine by me.\n\n\n\n\nJane Doe@ENRON\n05/11/2001 03:12 PM\nTo: Phillip K Allen/HOU/ECT@ECT\ncc:  \nSubject: Re: Gas\n\nold\n";
        assert_eq!(cut(body), Some(5));
        let body = "Fine.\n\n\"Lee, Ann\" <ann@x.com> on 05/11/2001 03:12:44 PM\nTo: <pallen@enron.com>\ncc:\nSubject: RE: Gas\n";
        assert_eq!(cut(body), Some(2));
        // Same Notes domain: the sender is a bare name above the date.
        let body = "\n\nAmy Mulligan\n04/30/2001 10:52 AM\nTo:\tLynn Blair/ET&S/Enron@ENRON\ncc:\t \n\nSubject:\tInvoicing\n";
        assert_eq!(cut(body), Some(2));
    }

    #[test]
    fn own_text_with_header_like_lines_is_not_cut() {
        assert_eq!(cut("To: all customers\nWe are closed on Friday.\n"), None);
        assert_eq!(cut("Subject: your invoice\nTo: accounts\n\nPlease pay.\n"), None);
        assert_eq!(cut("From: Monday the price goes up.\n"), None);
    }

    #[test]
    fn attribution_without_quote_marks_is_a_cut() {
        let body = "Thanks!\n\nOn Tue, Nov 14, 2023 at 10:02 AM Ann Lee <ann@x.com> wrote:\nWhere is my order?\n";
        assert_eq!(cut(body), Some(2));
        let body = "Thanks!\n\nOn Tue, Nov 14, 2023 at 10:02 AM Ann Lee <\nann@x.com> wrote:\n\nWhere is my order?\n";
        assert_eq!(cut(body), Some(2));
    }

    #[test]
    fn attribution_with_quotes_is_removed_inline() {
        let body = "On 11/14/23 10:02 AM, Ann Lee wrote:\n> Can you deliver Friday?\n\nYes, we can.\n\n> And the invoice?\n\nAttached.\n";
        let lines = split_lines(body);
        assert_eq!(find_cut(&lines, |_| false), None);
        let mut keep = vec![true; lines.len()];
        remove_inline(&lines, &mut keep, lines.len());
        let kept: Vec<&str> = lines.iter().zip(&keep).filter(|(_, k)| **k).map(|(l, _)| l.text).collect();
        assert_eq!(kept, vec!["", "Yes, we can.", "", "", "Attached."]);
    }

    #[test]
    fn bare_attribution_and_broken_wraps() {
        let body = "Agreed.\nAnn Lee <ann@x.com> wrote:\n> a long quoted line that the other client wrapped badly at some\npoint\n> and went on.\n";
        let lines = split_lines(body);
        let mut keep = vec![true; lines.len()];
        remove_inline(&lines, &mut keep, lines.len());
        assert_eq!(keep, vec![true, false, false, false, false]);
    }

    #[test]
    fn header_remnants_above_a_quote() {
        let body = "\tSubject:\tFW: Party\n\n\t> Come join the fun!\n";
        let lines = split_lines(body);
        let mut keep = vec![true; lines.len()];
        remove_inline(&lines, &mut keep, lines.len());
        assert_eq!(keep, vec![false, true, false]);
    }

    #[test]
    fn an_answer_between_quotes_is_kept() {
        let body = "> Can you confirm the delivery date for the remaining forty units?\nYes, Friday.\n> And the price?\n";
        let lines = split_lines(body);
        let mut keep = vec![true; lines.len()];
        remove_inline(&lines, &mut keep, lines.len());
        assert_eq!(keep, vec![false, true, false]);
    }
}
