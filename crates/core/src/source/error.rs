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
    #[error("{origin}: the message is {size} bytes, over the limit of {limit} bytes per message. Remove large attachments, or raise --max-message-bytes")]
    TooLarge {
        origin: SourceRef,
        size: u64,
        limit: u64,
    },
    #[error("cannot read standard input: {0}")]
    Stdin(#[source] std::io::Error),
    #[error("{mailbox}: {message}")]
    Imap { mailbox: String, message: String },
}

