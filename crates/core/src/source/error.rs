//! Errors of reading raw bytes from a source. Each message names the input and says what to do next.
use std::path::PathBuf;

use super::SourceRef;

/// Reading raw bytes from a source (file, directory, mbox, maildir, stdin, IMAP).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read {path}: {source}. Check that the path exists and that you may read it")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is a directory, but a single message was expected. Give one .eml file, or run `rapport audit {path}` for a folder of messages")]
    IsDirectory { path: PathBuf },
    #[error("{origin}: the message is {}, over the limit of {} per message: rapport holds a whole message in memory while it reads it (only the text is scored), and this limit keeps runaway input from exhausting memory. Remove large attachments; an audit reads larger messages with `--max-message-bytes`", size_text(.size, .limit), limit_text(.limit))]
    TooLarge {
        origin: SourceRef,
        /// The size the source announced or counted (IMAP: `RFC822.SIZE`; `limit + 1` when the
        /// server announced none and sent more than the limit).
        size: u64,
        limit: u64,
    },
    #[error("{path}: {bytes} bytes before the first `From ` line are not a message; they were skipped and the messages after them are read. An mbox file starts with a `From ` line: check that this is the whole file")]
    MboxJunk {
        path: PathBuf,
        bytes: u64,
        /// A hash of the skipped bytes: the same junk is reported once, not on every audit.
        digest: String,
    },
    /// One message that the source could not deliver (an IMAP server refused it, answered with
    /// something unreadable, or took too long), isolated from the messages around it.
    #[error("{origin}: {message}")]
    Message { origin: SourceRef, message: String },
    #[error("cannot read standard input: {0}")]
    Stdin(#[source] std::io::Error),
    #[error("{mailbox}: {message}")]
    Imap { mailbox: String, message: String },
}

impl IngestError {
    /// The message this error is about, when it is about one.
    pub fn origin(&self) -> Option<&SourceRef> {
        match self {
            IngestError::TooLarge { origin, .. } | IngestError::Message { origin, .. } => Some(origin),
            _ => None,
        }
    }

    /// The state key under which this error is recorded, for errors that reading again would
    /// not cure and that the source would otherwise never offer again: an IMAP message below
    /// the folder's mark (too large, refused, unreadable), junk in an mbox. Other errors (an
    /// unreadable file, an over-size file) are reported and tried again by the next audit.
    pub fn record_key(&self) -> Option<String> {
        match self {
            IngestError::MboxJunk { path, digest, .. } => Some(format!("mbox:{};junk-{digest}", path.display())),
            IngestError::TooLarge { origin, .. } | IngestError::Message { origin, .. } if matches!(origin, SourceRef::Imap { .. }) => {
                Some(origin.key())
            }
            _ => None,
        }
    }
}

/// `1,234,567 bytes (1.2 MiB)`.
pub fn bytes_text(n: u64) -> String {
    let mib = n as f64 / (1024.0 * 1024.0);
    if mib >= 0.1 {
        format!("{n} bytes ({mib:.1} MiB)")
    } else {
        format!("{n} bytes")
    }
}

fn limit_text(limit: &u64) -> String {
    bytes_text(*limit)
}

fn size_text(size: &u64, limit: &u64) -> String {
    let (size, limit) = (*size, *limit);
    if size == limit.saturating_add(1) {
        format!("more than {}", bytes_text(limit))
    } else {
        bytes_text(size)
    }
}

