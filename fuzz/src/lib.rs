//! Invariants shared by the fuzz targets in `fuzz_targets/`.
//!
//! Everything here checks a property that `src/clean`, `src/parse` and `src/rules` promise in
//! their docs and that renderers rely on (they slice the text and the original body with these
//! ranges). A failed `assert!` is a bug in rapport, not in the harness.
use std::ops::Range;

use rapport::clean::{clean, CleanText};
use rapport::findings::Finding;
use rapport::parse::{parse, MAX_TEXT_BYTES};
use rapport::rules::{check_rules, RULES};
use rapport::source::{RawMail, SourceRef};

/// What joins two runs of kept lines in `CleanText::text` (`RUN_SEPARATOR` in src/clean/mod.rs).
const RUN_SEPARATOR: &str = "\n\n";

/// The one rule whose span is the whole reply rather than a part of one sentence.
const MESSAGE_LEVEL: &[&str] = &["R103"];

/// Treat `data` as one raw message: parse it, then clean and check its body.
pub fn check_raw_mail(data: &[u8]) {
    let raw = RawMail::new(SourceRef::Text { label: "fuzz".into() }, data.to_vec());
    check_raw(&raw);
}

/// Parse one raw message; on success check what `parse` promises and run the body through
/// clean and rules.
pub fn check_raw(raw: &RawMail) {
    let Ok(parsed) = parse(raw) else { return };
    assert!(
        !parsed.body.contains('\r'),
        "parse: body still contains a carriage return (line endings must be normalised to \\n)"
    );
    assert!(
        parsed.body.len() <= MAX_TEXT_BYTES,
        "parse: body of {} bytes exceeds MAX_TEXT_BYTES",
        parsed.body.len()
    );
    assert_eq!(parsed.raw_size, raw.bytes.len(), "parse: raw_size");
    assert_eq!(parsed.origin, raw.origin, "parse: origin");
    check_body(&parsed.body);
}

/// Clean `body`, check the result, run the rules and check their findings.
pub fn check_body(body: &str) {
    let c = clean(body);
    check_segments(body, &c);
    check_sentences(body, &c);
    check_to_original(body, &c);
    let findings = check_rules(&c);
    check_findings(body, &c, &findings);
}

fn on_boundaries(s: &str, r: &Range<usize>) -> bool {
    r.start <= r.end && r.end <= s.len() && s.is_char_boundary(r.start) && s.is_char_boundary(r.end)
}

/// Segments tile the text: `seg0 SEP seg1 SEP ... segN`, each a verbatim run of whole lines of
/// the body, in body order.
fn check_segments(body: &str, c: &CleanText) {
    let text = c.text.as_str();
    let mut expected_start = 0;
    let mut prev_orig_end: Option<usize> = None;
    for (k, (seg, orig)) in c.segments.iter().enumerate() {
        if k > 0 {
            assert_eq!(
                text.get(expected_start..seg.start),
                Some(RUN_SEPARATOR),
                "segment {k} ({seg:?}) is not preceded by exactly the run separator"
            );
        } else {
            assert_eq!(seg.start, 0, "first segment does not start the text");
        }
        assert!(seg.start < seg.end, "segment {k} is empty: {seg:?}");
        assert!(on_boundaries(text, seg), "segment {k} {seg:?} is not a char range of text (len {})", text.len());
        let orig_range = *orig..orig + seg.len();
        assert!(
            on_boundaries(body, &orig_range),
            "segment {k} maps to {orig_range:?}, not a char range of the body (len {})",
            body.len()
        );
        if let Some(prev_end) = prev_orig_end {
            // Runs are separated by at least one removed or blank line.
            assert!(prev_end < *orig, "segment {k} starts at {orig} in the body, before the previous ends ({prev_end})");
        }
        let piece = &text[seg.clone()];
        assert_eq!(piece, &body[orig_range.clone()], "segment {k} is not a verbatim slice of the body");
        // Removal works on whole lines: a run starts at a line start and ends at a line end
        // (only trailing whitespace of its last line dropped), and starts with a non-blank line.
        assert!(
            *orig == 0 || body.as_bytes()[orig - 1] == b'\n',
            "segment {k} does not start at a line start of the body"
        );
        let rest_of_line = body[orig_range.end..].split('\n').next().unwrap_or("");
        assert!(rest_of_line.trim().is_empty(), "segment {k} ends mid-line: {rest_of_line:?} follows");
        assert!(!piece.ends_with(char::is_whitespace), "segment {k} ends with whitespace");
        let first_line = piece.split('\n').next().unwrap_or("");
        assert!(!first_line.trim().is_empty(), "segment {k} starts with a blank line");
        expected_start = seg.end;
        prev_orig_end = Some(orig_range.end);
    }
    assert_eq!(expected_start, text.len(), "segments and separators do not cover the whole text");
    assert!(c.kept_len() <= body.len());
}

/// The segment that contains `r` entirely, if any.
fn segment_of(c: &CleanText, r: &Range<usize>) -> Option<(Range<usize>, usize)> {
    c.segments
        .iter()
        .find(|(seg, _)| seg.start <= r.start && r.end <= seg.end)
        .cloned()
}

fn check_sentences(body: &str, c: &CleanText) {
    let text = c.text.as_str();
    let mut prev_end = 0;
    for (i, r) in c.sentences.iter().enumerate() {
        assert!(r.start < r.end, "sentence {i} is empty: {r:?}");
        assert!(on_boundaries(text, r), "sentence {i} {r:?} is not a char range of text (len {})", text.len());
        assert!(prev_end <= r.start, "sentence {i} {r:?} overlaps or precedes the previous (ends {prev_end})");
        prev_end = r.end;
        let s = &text[r.clone()];
        assert_eq!(s.trim(), s, "sentence {i} has leading or trailing whitespace");
        assert!(s.chars().any(char::is_alphanumeric), "sentence {i} has no letter or digit: {s:?}");
        // A blank line (the run separator) always ends a sentence, so every sentence lies in one
        // segment and maps back exactly.
        let Some((seg, orig)) = segment_of(c, r) else {
            panic!("sentence {i} {r:?} spans more than one segment: {s:?}")
        };
        let expected = orig + (r.start - seg.start)..orig + (r.end - seg.start);
        assert_eq!(c.sentence_original(i), expected, "sentence_original({i})");
        assert_eq!(&body[expected.clone()], s, "sentence {i} does not map back to the same body bytes");
        assert_eq!(c.original_pieces(r.clone()), vec![expected], "original_pieces of sentence {i}");
    }
}

/// `to_original` as its doc comment specifies it, position by position: a position inside (or at
/// an edge of) a segment maps by offset; one in the separator between two segments maps to the
/// nearest segment edge on the range's side (a start to the next segment, an end to the previous).
fn expected_pos(c: &CleanText, p: usize, is_end: bool) -> usize {
    let Some((last, last_orig)) = c.segments.last() else { return 0 };
    for (k, (seg, orig)) in c.segments.iter().enumerate() {
        if p < seg.start {
            // In the separator before segment k (k > 0 because the first segment starts at 0).
            let (prev, prev_orig) = &c.segments[k - 1];
            return if is_end { prev_orig + prev.len() } else { *orig };
        }
        if p <= seg.end {
            return orig + (p - seg.start);
        }
    }
    last_orig + last.len()
}

fn check_to_original(body: &str, c: &CleanText) {
    let text = c.text.as_str();
    // Positions worth checking: text edges, segment edges, one char into / out of each segment,
    // separator middles and sentence bounds.
    let mut pos = vec![0, text.len()];
    for (seg, _) in &c.segments {
        pos.extend([seg.start, seg.end, seg.end + 1]);
        if let Some(ch) = text[seg.clone()].chars().next() {
            pos.push(seg.start + ch.len_utf8());
        }
        if let Some(ch) = text[seg.clone()].chars().next_back() {
            pos.push(seg.end - ch.len_utf8());
        }
    }
    for r in &c.sentences {
        pos.extend([r.start, r.end]);
    }
    pos.retain(|&p| p <= text.len() && text.is_char_boundary(p));
    pos.sort_unstable();
    pos.dedup();
    if pos.len() > 48 {
        // Keep the work per input bounded: an even sample.
        let step = pos.len().div_ceil(48);
        pos = pos.iter().copied().step_by(step).chain([text.len()]).collect();
        pos.dedup();
    }
    for (ai, &a) in pos.iter().enumerate() {
        for &b in &pos[ai..] {
            let got = c.to_original(a..b);
            let start = expected_pos(c, a, false);
            let end = expected_pos(c, b, true).max(start);
            assert_eq!(got, start..end, "to_original({a}..{b}) with segments {:?}", c.segments);
            // original_pieces: the body bytes of every segment piece, which joined equal the text
            // of the range with the separators left out.
            let pieces = c.original_pieces(a..b);
            let mut from_pieces = String::new();
            for p in &pieces {
                assert!(p.start < p.end, "original_pieces({a}..{b}) has an empty piece");
                let piece = body
                    .get(p.clone())
                    .unwrap_or_else(|| panic!("original_pieces({a}..{b}) returned {p:?}, not a char range of the body"));
                from_pieces.push_str(piece);
            }
            let mut from_text = String::new();
            for (seg, _) in &c.segments {
                let (x, y) = (a.max(seg.start), b.min(seg.end));
                if x < y {
                    from_text.push_str(&text[x..y]);
                }
            }
            assert_eq!(from_pieces, from_text, "original_pieces({a}..{b})");
        }
    }
}

fn check_findings(body: &str, c: &CleanText, findings: &[Finding]) {
    let text = c.text.as_str();
    let mut prev: Option<&Finding> = None;
    for f in findings {
        let rule = RULES
            .iter()
            .find(|r| r.code == f.code)
            .unwrap_or_else(|| panic!("finding with code {} has no catalogue entry", f.code));
        assert_eq!(rule.name, f.name, "finding {} has the wrong name", f.code);
        assert!(f.span.start < f.span.end, "{} span is empty: {:?}", f.code, f.span);
        assert!(
            on_boundaries(text, &f.span),
            "{} span {:?} is not a char range of text (len {})",
            f.code,
            f.span,
            text.len()
        );
        assert!(
            f.sentence < c.sentences.len(),
            "{} points at sentence {} of {}",
            f.code,
            f.sentence,
            c.sentences.len()
        );
        let s = &c.sentences[f.sentence];
        if MESSAGE_LEVEL.contains(&f.code) {
            // The reply from (the body of) its first sentence to the end of a later sentence.
            assert!(
                s.start <= f.span.start && f.span.start < s.end,
                "{} span {:?} does not start in its sentence {s:?}",
                f.code,
                f.span
            );
            assert!(
                c.sentences[f.sentence..].iter().any(|t| t.end == f.span.end),
                "{} span {:?} does not end at a sentence end",
                f.code,
                f.span
            );
        } else {
            assert!(
                s.start <= f.span.start && f.span.end <= s.end,
                "{} span {:?} is not inside its sentence {} {s:?}",
                f.code,
                f.span,
                f.sentence
            );
            // Inside one sentence, so inside one segment: the renderer can quote the body.
            assert_eq!(
                &body[c.to_original(f.span.clone())],
                &text[f.span.clone()],
                "{} span does not map back to the body",
                f.code
            );
        }
        if let Some(p) = prev {
            assert!(
                (p.span.start, p.code) <= (f.span.start, f.code),
                "findings are not sorted by span start, then code: {} {:?} before {} {:?}",
                p.code,
                p.span,
                f.code,
                f.span
            );
        }
        prev = Some(f);
    }
}

/// The checks must be able to fail: each test breaks one property of a real `clean` result and
/// expects the matching check to panic (`cargo test` in fuzz/).
#[cfg(test)]
mod tests {
    use super::*;
    use rapport::findings::Severity;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    const BODY: &str = "Hi Bob,\n\nThe invoice is attached. Sorry for the delay!!\n\n> Where is it?\n\nIt ships Friday.\n\nBest regards,\nAnn\n\n-- \nAnn Lee\n";

    fn fails(f: impl FnOnce()) -> bool {
        catch_unwind(AssertUnwindSafe(f)).is_err()
    }

    fn finding(code: &'static str, span: Range<usize>, sentence: usize) -> Finding {
        let rule = RULES.iter().find(|r| r.code == code).unwrap();
        Finding {
            code,
            name: rule.name,
            severity: Severity::Info,
            message: String::new(),
            suggestion: None,
            span,
            sentence,
        }
    }

    #[test]
    fn real_output_passes() {
        check_body(BODY);
        let c = clean(BODY);
        assert!(c.segments.len() >= 2, "the sample should have a removed quote: {c:?}");
        assert!(!check_rules(&c).is_empty(), "the sample should give a finding");
    }

    #[test]
    fn broken_segments_are_caught() {
        let c = clean(BODY);
        let mut shifted = c.clone();
        shifted.segments[1].1 += 1;
        assert!(fails(|| check_segments(BODY, &shifted)));
        let mut gap = c.clone();
        gap.text.insert(c.segments[0].0.end, ' ');
        assert!(fails(|| check_segments(BODY, &gap)));
    }

    #[test]
    fn broken_sentences_are_caught() {
        let c = clean(BODY);
        let mut across = c.clone();
        across.sentences = vec![0..c.segments[1].0.end];
        assert!(fails(|| check_sentences(BODY, &across)));
        let mut untrimmed = c.clone();
        untrimmed.sentences[0].end += 1;
        assert!(fails(|| check_sentences(BODY, &untrimmed)));
        let mut overlapping = c.clone();
        overlapping.sentences[1].start = overlapping.sentences[0].start;
        assert!(fails(|| check_sentences(BODY, &overlapping)));
    }

    #[test]
    fn broken_findings_are_caught() {
        let c = clean(BODY);
        let s1 = c.sentences[1].clone();
        let ok = finding("R102", s1.clone(), 1);
        check_findings(BODY, &c, std::slice::from_ref(&ok));
        assert!(fails(|| check_findings(BODY, &c, &[finding("R102", s1.start..s1.end + 1, 1)])));
        assert!(fails(|| check_findings(BODY, &c, &[finding("R102", s1.clone(), 0)])));
        assert!(fails(|| check_findings(BODY, &c, &[finding("R102", s1.clone(), c.sentences.len())])));
        let s0 = c.sentences[0].clone();
        assert!(fails(|| check_findings(BODY, &c, &[ok.clone(), finding("R107", s0, 0)])));
    }
}
