//! Lines of a body with their byte offsets, and small predicates every cleaning step shares.
use once_cell::sync::Lazy;
use regex::Regex;

/// One line of the body: `text` is `body[start..start + text.len()]`, without its line
/// terminator.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line<'a> {
    pub start: usize,
    pub text: &'a str,
}

impl<'a> Line<'a> {
    pub fn trimmed(&self) -> &'a str {
        self.text.trim()
    }

    /// Empty or only whitespace (a no-break space from HTML counts as whitespace).
    pub fn is_blank(&self) -> bool {
        self.text.trim().is_empty()
    }

    /// A quoted line of a reply: `>` is its first visible character.
    pub fn is_quote(&self) -> bool {
        self.text.trim_start().starts_with('>')
    }

    pub fn words(&self) -> usize {
        self.text.split_whitespace().count()
    }
}

/// Split `body` into lines (`\n` separated; a trailing `\r` is left out of the line).
pub(crate) fn split_lines(body: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in body.bytes().enumerate() {
        if b == b'\n' {
            out.push(line(body, start, i));
            start = i + 1;
        }
    }
    if start < body.len() {
        out.push(line(body, start, body.len()));
    }
    out
}

fn line(body: &str, start: usize, mut end: usize) -> Line<'_> {
    if end > start && body.as_bytes()[end - 1] == b'\r' {
        end -= 1;
    }
    Line {
        start,
        text: &body[start..end],
    }
}

/// A horizontal rule drawn with punctuation: `-----`, `_____`, `*****`, `=====`.
pub(crate) fn is_rule(text: &str) -> bool {
    static RULE: Lazy<Regex> = Lazy::new(|| Regex::new(r"^\s*(?:[-_=*~#+]\s*){5,}$").unwrap());
    RULE.is_match(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_cover_the_body() {
        let body = "a\r\n\nbc\nd";
        let lines = split_lines(body);
        let texts: Vec<&str> = lines.iter().map(|l| l.text).collect();
        assert_eq!(texts, vec!["a", "", "bc", "d"]);
        for l in &lines {
            assert_eq!(&body[l.start..l.start + l.text.len()], l.text);
        }
    }

    #[test]
    fn predicates() {
        let lines = split_lines("  > quoted\n\u{a0} \n  ------ \nnot -- a rule");
        assert!(lines[0].is_quote());
        assert!(lines[1].is_blank());
        assert!(is_rule(lines[2].text));
        assert!(!is_rule(lines[3].text));
        assert!(!is_rule("--"));
    }
}
