//! What `rapport check` reports: a [`Finding`] with a stable code, a severity and a byte span into
//! the cleaned text. Codes never change meaning once released; `rapport explain CODE` documents each.
use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One thing in a message that could be misread. Stored as JSON in the state and read back as
/// the same type: its code is looked up in the catalogue (`rules::RULES`), and an unknown code is
/// an error.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Finding {
    /// Stable code, e.g. `R101`.
    pub code: &'static str,
    /// Short kebab-case name, e.g. `shouting`.
    pub name: &'static str,
    pub severity: Severity,
    /// One line: why this may be misread.
    pub message: String,
    /// A concrete suggestion.
    pub suggestion: Option<String>,
    /// Byte range into the cleaned text; `[start, end]` in JSON, as in every rapport output.
    #[serde(serialize_with = "span_as_pair")]
    pub span: Range<usize>,
    /// Index of the sentence the span lies in.
    pub sentence: usize,
}

/// The catalogue entry of one code, for `rapport explain` and the docs.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub default_severity: Severity,
    /// What it catches and why readers take it badly, with examples.
    pub explanation: &'static str,
}

fn span_as_pair<S: serde::Serializer>(r: &Range<usize>, s: S) -> Result<S::Ok, S::Error> {
    use serde::Serialize;
    [r.start, r.end].serialize(s)
}
