//! Small text helpers every stage shares, written once: whitespace collapsing, one-line
//! snippets, plurals, CSV cells, hashing.
use sha2::{Digest, Sha256};

/// `s` with every run of whitespace (line breaks too) collapsed to one space, trimmed.
pub fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// `n what`, with an `s` unless `n` is 1 (`plural(2, "message")` is "2 messages").
pub fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// `s` on one line (whitespace collapsed), cut to at most `max` characters with an ellipsis.
pub fn one_line(s: &str, max: usize) -> String {
    let flat = collapse_whitespace(s);
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

/// A CSV cell: quoted when it holds a comma, a quote or a line break, and prefixed with `'` when
/// it starts with `=`, `+`, `-` or `@`, so that a spreadsheet never runs it as a formula.
pub fn csv_cell(s: &str) -> String {
    let guarded;
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        guarded = format!("'{s}");
        guarded.as_str()
    } else {
        s
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// sha256 of `bytes`, as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let d = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in d {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// splitmix64: a fixed, well-mixed hash of a number (deterministic sampling and splits).
pub fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapse_and_cut() {
        assert_eq!(collapse_whitespace("  a \n\t b  "), "a b");
        assert_eq!(one_line("abc def", 10), "abc def");
        assert_eq!(one_line("abcdef ghij", 5), "abcd…");
        assert_eq!(one_line("王小明王小明", 3), "王小…");
    }

    #[test]
    fn csv_cells_quote_and_defuse_formulas() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a, \"b\""), "\"a, \"\"b\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("-2+3"), "'-2+3");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
    }

    #[test]
    fn hashes() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_ne!(splitmix64(1), splitmix64(2));
    }
}
