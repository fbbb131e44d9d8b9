//! Renderers. None of them sees the pipeline, a database or the command line: each takes results
//! (an [`audit::AuditReport`], an [`crate::accounts::Report`], a checked draft) and writes one
//! format, one file per format.
pub mod accounts;
pub mod audit;
pub mod check;

/// The formats of the audit and accounts reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Format {
    /// For a terminal.
    Table,
    /// For tools (a documented, versioned schema).
    Json,
    /// For spreadsheets (one row per finding or account).
    Csv,
    /// One self-contained HTML file.
    Html,
}

/// Escape text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(super::escape_html("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
