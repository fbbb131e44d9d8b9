//! Error types, one enum per stage. Each message names the input and says what to do next.
use std::path::PathBuf;

use crate::source::SourceRef;

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

/// Turning bytes into a [`crate::parse::ParsedMail`].
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("{origin}: this is not an email message (binary data, no mail headers). Give an .eml file exported from your mail client")]
    NotMail { origin: SourceRef },
    #[error("{origin}: no mail headers found. If this is the text of a draft, run `rapport check --text FILE` instead")]
    NoHeaders { origin: SourceRef },
    #[error("{origin}: the message has no text body: nothing to check. Write the draft's text, or check the right file")]
    EmptyBody { origin: SourceRef },
    #[error("{origin}: the text body is {len} bytes long, over the limit of {limit} bytes for one human-written message. Check only the part you wrote")]
    TextTooLong {
        origin: SourceRef,
        len: usize,
        limit: usize,
    },
}

/// Loading or running the tone model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("the tone model's encoder is missing: {path} does not exist. Run `make setup` (or `setup/setup.sh`), or point RAPPORT_MODEL_DIR at a folder with model.safetensors, config.json and tokenizer.json")]
    Missing { path: PathBuf },
    #[error("the encoder file {path} is corrupt or not the pinned one (sha256 {actual}, expected {expected}). Delete it and run `make setup` again")]
    Checksum {
        path: PathBuf,
        actual: String,
        expected: String,
    },
    #[error("cannot load {path}: {message}. Delete it and run `make setup` again")]
    Load { path: PathBuf, message: String },
    #[error("cannot read the training data {path}: {message}. Training and evaluation read ../shared/datasets (pass --data DIR)")]
    Data { path: PathBuf, message: String },
    #[error("the tone model failed: {0}")]
    Runtime(String),
}

/// SQLite state.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state database {path}: {source}. Check that the folder is writable, or pass --state PATH")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("state database {path} is in use by another `rapport audit` (pid file {lock}). Wait for it to finish, or remove the lock if that process is gone")]
    Busy { path: PathBuf, lock: PathBuf },
}
