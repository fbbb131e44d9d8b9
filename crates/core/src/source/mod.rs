//! Where mail comes from: single `.eml` files, directories of them, mbox, maildir, stdin (and IMAP,
//! in `imap.rs`). Every source is a pull iterator of [`RawMail`], each tagged with a [`SourceRef`]
//! that says exactly where it came from. Sources only read: they never change the user's mail.
use std::collections::HashSet;
use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};


mod error;
mod files;
mod mbox;
pub use error::IngestError;
pub mod imap;
pub use files::{open_path, DirSource, EmlSource, MaildirSource};
pub use mbox::MboxSource;

/// Messages larger than this are refused with a clear error rather than read into memory
/// (`rapport audit --max-message-bytes`). 64 MiB holds any written email with its attachments
/// (most servers refuse to send more than 25-50 MB); only the message's text is scored, and
/// `rapport check` has its own, smaller limit on that text ([`crate::parse::MAX_TEXT_BYTES`]).
pub const DEFAULT_MAX_MESSAGE_BYTES: u64 = 64 * 1024 * 1024;

/// Exactly where one message came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceRef {
    /// A single file (an `.eml`, or one file of a directory or maildir).
    File { path: PathBuf },
    /// A message of an mbox file, known by its content: `digest` is a hash of its headers (less
    /// the status headers mail clients rewrite) and body, with `-2`, `-3`… appended for the second
    /// and later copies of the same message in one file. Compacting or rotating the file, or
    /// appending to it, leaves every message's digest as it was. `index` (0-based, its position
    /// in this read of the file) is for people only and is not part of [`SourceRef::key`].
    Mbox { path: PathBuf, index: usize, digest: String },
    /// A message on an IMAP server.
    Imap {
        mailbox: String,
        folder: String,
        uidvalidity: u32,
        uid: u32,
    },
    /// Standard input.
    Stdin,
    /// Text given directly (`rapport check --text`).
    Text { label: String },
}

impl fmt::Display for SourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceRef::File { path } => write!(f, "{}", path.display()),
            SourceRef::Mbox { path, index, .. } => write!(f, "{} (message {})", path.display(), index + 1),
            SourceRef::Imap {
                mailbox,
                folder,
                uidvalidity,
                uid,
            } => write!(f, "imap:{mailbox}/{folder} (uidvalidity {uidvalidity}, uid {uid})"),
            SourceRef::Stdin => write!(f, "<stdin>"),
            SourceRef::Text { label } => write!(f, "{label}"),
        }
    }
}

impl SourceRef {
    /// A stable string key for state and reports.
    pub fn key(&self) -> String {
        match self {
            SourceRef::Imap {
                mailbox,
                folder,
                uidvalidity,
                uid,
            } => format!("imap:{mailbox}/{folder};{uidvalidity};{uid}"),
            SourceRef::Mbox { path, digest, .. } => format!("mbox:{};{digest}", path.display()),
            other => other.to_string(),
        }
    }

    /// Where a resumable source stands once this message is dealt with (IMAP: the folder's UID
    /// mark), so that a message that fails moves the mark as one that is stored does.
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        match self {
            SourceRef::Imap { mailbox, folder, uidvalidity, uid } => Some(Checkpoint {
                key: imap::folder_key(mailbox, folder),
                epoch: *uidvalidity,
                mark: *uid,
            }),
            _ => None,
        }
    }
}

/// `message` without the location it names (`where: …` at its start, or `… where …` inside it):
/// errors name their input, and a caller that prints the input beside the error strips it so
/// that it is not printed twice (`big.eml: big.eml: …`).
pub fn without_location(message: &str, location: &str) -> String {
    if location.is_empty() {
        return message.to_string();
    }
    if let Some(rest) = message.strip_prefix(location) {
        if let Some(rest) = rest.strip_prefix(": ").or_else(|| rest.strip_prefix(' ')) {
            return rest.to_string();
        }
    }
    match message.find(&format!(" {location}")) {
        Some(i) if message[i + 1 + location.len()..].starts_with([':', ' ', ',', '.']) => {
            format!("{}{}", &message[..i], &message[i + 1 + location.len()..])
        }
        _ => message.to_string(),
    }
}
/// The raw bytes of one message and where they came from.
#[derive(Debug, Clone)]
pub struct RawMail {
    pub origin: SourceRef,
    pub bytes: Vec<u8>,
    /// Where the source resumes once this message is stored (IMAP: the folder's UID mark).
    /// Sources that can tell seen messages apart without one (files) leave it empty.
    pub checkpoint: Option<Checkpoint>,
}

impl RawMail {
    pub fn new(origin: SourceRef, bytes: Vec<u8>) -> Self {
        Self { origin, bytes, checkpoint: None }
    }
}

/// Whether a message was sent by us or received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Sent,
    Received,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Sent => "sent",
            Direction::Received => "received",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sent" => Some(Direction::Sent),
            "received" => Some(Direction::Received),
            _ => None,
        }
    }
}

/// A source's resume point, stored with the messages it covers (one transaction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Which part of the source (an IMAP `mailbox/folder`).
    pub key: String,
    /// The folder's UIDVALIDITY the mark belongs to.
    pub epoch: u32,
    /// The highest UID stored.
    pub mark: u32,
}

impl Checkpoint {
    /// For each key, the furthest checkpoint among `marks`.
    pub fn furthest<'a>(marks: impl Iterator<Item = &'a Checkpoint>) -> Vec<Checkpoint> {
        let mut out: std::collections::BTreeMap<&str, &Checkpoint> = std::collections::BTreeMap::new();
        for c in marks {
            let e = out.entry(c.key.as_str()).or_insert(c);
            // Within one epoch the highest mark; a new epoch (UIDVALIDITY changed) replaces the old.
            if c.epoch != e.epoch || c.mark > e.mark {
                *e = c;
            }
        }
        out.into_values().cloned().collect()
    }
}

/// Stored checkpoints by key: `(epoch, mark)`.
pub type Checkpoints = std::collections::HashMap<String, (u32, u32)>;

pub type MailIter<'a> = Box<dyn Iterator<Item = Result<RawMail, IngestError>> + Send + 'a>;

/// A source of messages. One unreadable message is one `Err` item; the iterator goes on.
pub trait MailSource: Send {
    /// A human-readable name for progress and errors.
    fn describe(&self) -> String;
    /// Prepare to read, given the checkpoints stored by earlier audits (an IMAP source connects,
    /// finds its folders and resumes after each one's mark). Returns notices for the user. An
    /// error means the whole source cannot be read this time.
    fn resume(&mut self, _checkpoints: &Checkpoints) -> Result<Vec<String>, IngestError> {
        Ok(Vec::new())
    }
    /// Pull the messages, in a deterministic order.
    fn mails(&mut self) -> MailIter<'_>;
    /// Pull the messages whose [`SourceRef::key`] is not in `seen`. Sources that can tell where a
    /// message is before reading it (files, maildirs) skip seen ones without reading them.
    fn mails_except<'a>(&'a mut self, seen: &'a HashSet<String>) -> MailIter<'a> {
        Box::new(self.mails().filter(move |m| match m {
            Ok(m) => !seen.contains(&m.origin.key()),
            Err(_) => true,
        }))
    }
}

/// Read a whole file, refusing files over `limit` bytes before reading them.
pub fn read_file_limited(path: &Path, limit: u64, origin: SourceRef) -> Result<RawMail, IngestError> {
    let io = |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        return Err(IngestError::IsDirectory {
            path: path.to_path_buf(),
        });
    }
    if meta.len() > limit {
        return Err(IngestError::TooLarge {
            origin,
            size: meta.len(),
            limit,
        });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    BufReader::new(File::open(path).map_err(io)?)
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(IngestError::TooLarge {
            origin,
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(RawMail::new(origin, bytes))
}
