//! Cleaning: keep only what the sender wrote in this message (drop quoted replies, forwarded
//! blocks, signatures, legal disclaimers), split it into sentences, and keep byte ranges that map
//! every piece of cleaned text back to the original body.
//!
//! The tone checker must judge the sender's own words, so everything else is removed:
//!
//! * **Quoted replies and forwards** (`quotes.rs`): the first line where an earlier message starts
//!   (`-----Original Message-----`, an Outlook/Gmail `From:/Sent:/To:/Subject:` header block, a
//!   Lotus Notes `Forwarded by` line or `Name@ENRON / date / To: / cc: / Subject:` block,
//!   `---------- Forwarded message ---------`, `Begin forwarded message:`, an `On <date>, <name>
//!   wrote:` attribution with unmarked quoted text) cuts off the rest of the message: replies are
//!   top-posted, so what follows is someone else's. `>` lines and their attribution are removed
//!   wherever they are, so the sender's paragraphs between inline quotes are kept.
//! * **Signatures** (`signature.rs`): the `-- ` delimiter and "Sent from my iPhone"-style footers
//!   cut off the rest; after a closing line ("Thanks,", "Best regards,") a block of short lines
//!   (name, title, company, phone) is dropped while the closing line is kept, because whether a
//!   message greets and signs off matters to its tone. Greeting lines are always kept.
//! * **Legal disclaimers** (`disclaimer.rs`): confidentiality notices recognised by their
//!   vocabulary, and `*****`-framed notices.
//!
//! Removal works on whole lines, so the kept text is made of verbatim slices of the body: each
//! run of consecutive kept lines is one [`CleanText::segments`] entry, runs are joined by a blank
//! line (so a sentence never spans removed text), and `text[r] == body[to_original(r)]` for every
//! range inside one segment. Sentences (`sentences.rs`) are byte ranges into `text`.
use std::ops::Range;

mod disclaimer;
mod lines;
mod quotes;
mod sentences;
mod signature;

/// The cleaned text of one message.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CleanText {
    /// What the sender wrote, with removed blocks left out.
    pub text: String,
    /// Sentences, as byte ranges into `text` (no leading or trailing whitespace).
    pub sentences: Vec<Range<usize>>,
    /// Pieces of `text` and where each came from in the original body:
    /// `(range in text, start in original)`, in order, non-overlapping.
    pub segments: Vec<(Range<usize>, usize)>,
}

impl CleanText {
    /// A cleaned text made of these sentences, joined by single spaces, as one segment (for
    /// tests of what reads cleaned text).
    #[cfg(test)]
    pub(crate) fn from_sentences(sentences: &[&str]) -> CleanText {
        let text = sentences.join(" ");
        let mut at = 0;
        let ranges = sentences
            .iter()
            .map(|s| {
                let r = at..at + s.len();
                at += s.len() + 1;
                r
            })
            .collect();
        CleanText { segments: vec![(0..text.len(), 0)], text, sentences: ranges }
    }
}

/// The lines of `body` that a line filter (`disclaimer::remove`, `signature::trim`) keeps, blank
/// ones left out (for the filters' tests).
#[cfg(test)]
pub(crate) fn kept_by(body: &str, filter: fn(&[lines::Line<'_>], &mut [bool])) -> Vec<String> {
    let lines = lines::split_lines(body);
    let mut keep = vec![true; lines.len()];
    filter(&lines, &mut keep);
    lines.iter().zip(&keep).filter(|(l, k)| **k && !l.is_blank()).map(|(l, _)| l.text.to_string()).collect()
}

/// What joins two runs of kept lines in [`CleanText::text`] (not part of any segment).
const RUN_SEPARATOR: &str = "\n\n";

impl CleanText {
    /// A cleaned text as the state keeps it (text and sentence ranges; ranges that do not fit the
    /// text are dropped). Its segments map it onto itself: the original body is not kept.
    pub fn from_stored(text: &str, sentences: &[Range<usize>]) -> Self {
        CleanText {
            segments: vec![(0..text.len(), 0)],
            sentences: sentences
                .iter()
                .filter(|r| r.start < r.end && r.end <= text.len() && text.is_char_boundary(r.start) && text.is_char_boundary(r.end))
                .cloned()
                .collect(),
            text: text.to_string(),
        }
    }

    pub fn sentence(&self, i: usize) -> &str {
        &self.text[self.sentences[i].clone()]
    }

    /// Map a range of `text` back to the original body.
    ///
    /// Exact for a range inside one segment (every sentence is). A range that spans several
    /// segments maps to the body range from its start to its end, which then also covers the
    /// removed text between them; use [`CleanText::original_pieces`] to get the pieces alone. A
    /// bound that falls in the separator between two segments maps to the nearest segment edge
    /// on the range's side.
    pub fn to_original(&self, r: Range<usize>) -> Range<usize> {
        let start = self.map_pos(r.start, false);
        let end = self.map_pos(r.end, true).max(start);
        start..end
    }

    /// The body ranges that a range of `text` came from, one per segment it touches (the
    /// separators between segments are not in the body and are left out).
    pub fn original_pieces(&self, r: Range<usize>) -> Vec<Range<usize>> {
        self.segments
            .iter()
            .filter_map(|(seg, orig)| {
                let a = r.start.max(seg.start);
                let b = r.end.min(seg.end);
                (a < b).then(|| orig + (a - seg.start)..orig + (b - seg.start))
            })
            .collect()
    }

    /// The body range of sentence `i`.
    pub fn sentence_original(&self, i: usize) -> Range<usize> {
        self.to_original(self.sentences[i].clone())
    }

    /// How many bytes of the body were kept.
    pub fn kept_len(&self) -> usize {
        self.segments.iter().map(|(r, _)| r.len()).sum()
    }

    fn map_pos(&self, pos: usize, is_end: bool) -> usize {
        // Segments are sorted; find the first whose end is at or after `pos`.
        let i = self.segments.partition_point(|(seg, _)| seg.end < pos);
        let Some((seg, orig)) = self.segments.get(i) else {
            // After the last segment: its end.
            return self.segments.last().map_or(0, |(seg, orig)| orig + seg.len());
        };
        if pos >= seg.start {
            if !is_end && pos == seg.end {
                // A start at a segment's end belongs to the next segment.
                if let Some((next, next_orig)) = self.segments.get(i + 1) {
                    if next.start == pos {
                        return *next_orig;
                    }
                }
            }
            return orig + (pos - seg.start);
        }
        // In the separator before segment `i`.
        match (is_end, i.checked_sub(1).and_then(|p| self.segments.get(p))) {
            (true, Some((prev, prev_orig))) => prev_orig + prev.len(),
            _ => *orig,
        }
    }
}

/// Clean a text body (as returned by [`crate::parse::ParsedMail::body`]).
pub fn clean(body: &str) -> CleanText {
    let lines = lines::split_lines(body);
    let mut keep = vec![true; lines.len()];

    let cut = quotes::find_cut(&lines, signature::is_end_marker).unwrap_or(lines.len());
    for k in &mut keep[cut..] {
        *k = false;
    }
    quotes::remove_inline(&lines, &mut keep, cut);
    disclaimer::remove(&lines, &mut keep);
    signature::trim(&lines, &mut keep);
    // Rules (`-----`, `_____`) left at the end once what followed them is gone.
    for i in (0..lines.len()).rev() {
        if !keep[i] || lines[i].is_blank() {
            continue;
        }
        if !lines::is_rule(lines[i].text) {
            break;
        }
        keep[i] = false;
    }

    let mut out = CleanText::default();
    let mut i = 0;
    while i < lines.len() {
        if !keep[i] || lines[i].is_blank() {
            i += 1;
            continue;
        }
        // A run of consecutive kept lines, without blank lines or trailing spaces at its end.
        let mut j = i;
        let mut last = i;
        while j < lines.len() && keep[j] {
            if !lines[j].is_blank() {
                last = j;
            }
            j += 1;
        }
        let (a, b) = (lines[i].start, lines[last].start + lines[last].text.trim_end().len());
        if !out.text.is_empty() {
            out.text.push_str(RUN_SEPARATOR);
        }
        let at = out.text.len();
        out.text.push_str(&body[a..b]);
        out.segments.push((at..out.text.len(), a));
        i = j;
    }
    out.sentences = sentences::split(&out.text);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentences(c: &CleanText) -> Vec<&str> {
        (0..c.sentences.len()).map(|i| c.sentence(i)).collect()
    }

    /// Every sentence lies in one segment and maps back to the same bytes of the body.
    fn assert_maps_back(body: &str, c: &CleanText) {
        for (seg, orig) in &c.segments {
            assert_eq!(&c.text[seg.clone()], &body[*orig..*orig + seg.len()]);
        }
        for (i, r) in c.sentences.iter().enumerate() {
            assert!(!r.is_empty() && r.end <= c.text.len());
            assert_eq!(&body[c.sentence_original(i)], &c.text[r.clone()]);
        }
    }

    #[test]
    fn top_posted_outlook_reply() {
        let body = "Hi Bob,\n\nThe invoice is attached. Sorry for the delay.\n\nBest regards,\nAnn Lee\nAcme Ltd\n+44 20 7946 0000\n\n-----Original Message-----\nFrom: Bob\nSent: Monday\nTo: Ann\nSubject: Invoice?\n\nWhere is it?\n";
        let c = clean(body);
        assert_eq!(c.text, "Hi Bob,\n\nThe invoice is attached. Sorry for the delay.\n\nBest regards,");
        assert_eq!(sentences(&c), vec!["Hi Bob,", "The invoice is attached.", "Sorry for the delay.", "Best regards,"]);
        assert_eq!(c.segments.len(), 1);
        assert_maps_back(body, &c);
    }

    #[test]
    fn interleaved_reply_keeps_own_paragraphs() {
        let body = "On 11/14/23 10:02 AM, Ann Lee wrote:\n> Can you deliver Friday?\n\nYes, the truck leaves Thursday night.\n\n> And the invoice?\n\nIt is attached.\n\n-- \nBob Smith\nSmith Supplies\n";
        let c = clean(body);
        assert_eq!(c.text, "Yes, the truck leaves Thursday night.\n\nIt is attached.");
        assert_eq!(c.segments.len(), 2);
        assert_eq!(sentences(&c), vec!["Yes, the truck leaves Thursday night.", "It is attached."]);
        assert_maps_back(body, &c);
        // A range over both segments maps to the pieces, and a bound in the separator snaps.
        let all = 0..c.text.len();
        assert_eq!(c.original_pieces(all.clone()).len(), 2);
        let r = c.to_original(all);
        assert!(body[r].starts_with("Yes") && body.contains("attached."));
        let sep = c.segments[0].0.end + 1;
        assert_eq!(c.to_original(sep..c.text.len()).start, c.segments[1].1);
        assert_eq!(c.to_original(0..sep).end, c.segments[0].1 + c.segments[0].0.len());
    }

    #[test]
    fn empty_and_fully_quoted_bodies() {
        assert_eq!(clean(""), CleanText::default());
        assert_eq!(clean("\n \n"), CleanText::default());
        let c = clean("-----Original Message-----\nFrom: a\nSent: b\nTo: c\n\nhello\n");
        assert!(c.text.is_empty() && c.sentences.is_empty() && c.segments.is_empty());
        assert_eq!(clean("> only\n> quotes\n").text, "");
    }

    #[test]
    fn greeting_and_signoff_are_kept_disclaimer_dropped() {
        let body = "Dear Ms Lee,\n\nYour order No. 4411 will arrive on Tuesday.\n\nKind regards,\nBob\n\nThis e-mail and any attachments are confidential and intended solely for the addressee. If you have received it in error, please notify the sender and delete it.\n";
        let c = clean(body);
        assert_eq!(c.text, "Dear Ms Lee,\n\nYour order No. 4411 will arrive on Tuesday.\n\nKind regards,");
        assert_maps_back(body, &c);
    }

    #[test]
    fn large_bodies_are_cleaned() {
        // One 1 MiB paragraph of short lines, and 1 MiB of header-like and quote-like lines (a
        // quadratic step would take minutes here; the speed itself is measured by
        // `cargo bench --bench pipeline`, not by a timed test).
        let line = "Please confirm the delivery of the confidential parts to the addressee\n";
        let body = line.repeat((1 << 20) / line.len());
        let c = clean(&body);
        assert_eq!(c.sentences.len(), 1, "one unpunctuated wrapped paragraph");
        let body = "To: a\nSubject: b\n\n\n".repeat((1 << 20) / 19) + &"> q\nOn 1 May, A wrote:\n".repeat(20_000);
        let c = clean(&body);
        assert!(c.text.len() <= body.len());
    }

    #[test]
    fn crlf_bodies_map_back() {
        let body = "Hello,\r\nthe parts are in.\r\n\r\nThanks,\r\nAnn\r\n";
        let c = clean(body);
        assert_eq!(sentences(&c), vec!["Hello,", "the parts are in.", "Thanks,"]);
        assert_maps_back(body, &c);
    }
}
