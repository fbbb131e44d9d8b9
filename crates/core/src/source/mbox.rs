//! An mbox file, streamed message by message: memory stays flat whatever the file's size, and no
//! line is ever held beyond what the message limit allows.
//!
//! A message starts at every line beginning with `From ` (that line is the separator, not part of
//! the message) and runs to the next one or to the end of the file; one `>` is removed from lines
//! matching `^>+From ` (mboxrd); blank lines at the end of a message are the separator's, not the
//! message's. Text before the first separator is not a message: it is skipped with one error
//! ([`IngestError::MboxJunk`]) and the messages after it are read.
//!
//! # Keys
//!
//! A message is known by its content ([`SourceRef::Mbox`]'s `digest`: its headers, less the status
//! headers that mail clients rewrite as flags change, and its body), never by its position, so
//! compacting the file (deleting messages), rotating it (a new file under the old name) or
//! appending to it never makes a new message look like one already audited.
//!
//! # A file that changes while it is read
//!
//! The file is read up to the length it had when it was opened, measured while holding the locks
//! that mail clients take to append (waiting, up to [`LOCK_WAIT`], for a `PATH.lock` dot-lock to go
//! and for shared `flock` and `fcntl` locks; all released at once, so no client is kept waiting
//! while the audit runs). A message appended during the audit is left whole for the next one. If
//! a writer that takes no lock was half-way through a message when the file was opened (the file
//! has grown since, and what follows the part read is not a `From ` line), that last message is
//! left for the next audit too rather than read in part. So is a last message that does not end
//! with the blank line every mbox writer puts after a message, while the file was changed less
//! than [`QUIET`] ago: a writer that takes no lock may be between its two writes, and the file not
//! grown yet.
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Take};
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::{MailIter, MailSource, RawMail, SourceRef};
use crate::source::IngestError;

/// How long to wait for a mail client that is appending to the file (holding its locks).
pub const LOCK_WAIT: Duration = Duration::from_secs(5);

/// How long a file must have been left alone before a last message without its closing blank
/// line is taken as whole.
pub const QUIET: Duration = Duration::from_secs(2);

/// Headers that mail clients add or rewrite in an mbox as a message's flags change (mutt, pine,
/// Thunderbird, procmail): left out of the message's digest so that reading it keeps its key.
const VOLATILE_HEADERS: &[&str] = &[
    "status",
    "x-status",
    "x-keywords",
    "x-uid",
    "x-imap",
    "x-imapbase",
    "x-mozilla-status",
    "x-mozilla-status2",
    "x-mozilla-keys",
    "content-length",
    "lines",
];

/// An mbox file.
pub struct MboxSource {
    path: PathBuf,
    max_bytes: u64,
}

impl MboxSource {
    pub fn new(path: &Path, max_bytes: u64) -> Self {
        Self { path: path.to_path_buf(), max_bytes }
    }
}

impl MailSource for MboxSource {
    fn describe(&self) -> String {
        format!("mbox {}", self.path.display())
    }

    fn mails(&mut self) -> MailIter<'_> {
        let io = |source| IngestError::Io { path: self.path.clone(), source };
        let opened = File::open(&self.path).and_then(|f| {
            let len = settled_len(&f, &self.path)?;
            Ok((f, len))
        });
        match opened {
            Ok((file, snapshot)) => match file.try_clone() {
                Ok(probe) => Box::new(MboxIter {
                    path: self.path.clone(),
                    reader: Some(BufReader::with_capacity(1 << 16, file.take(snapshot))),
                    probe,
                    snapshot,
                    index: 0,
                    max_bytes: self.max_bytes,
                    pending_from: false,
                    digests: HashMap::new(),
                    line: Vec::with_capacity(256),
                }),
                Err(e) => Box::new(std::iter::once(Err(io(e)))),
            },
            Err(e) => Box::new(std::iter::once(Err(io(e)))),
        }
    }
}

/// The file's length at a moment when no mail client holds its append locks.
fn settled_len(file: &File, path: &Path) -> io::Result<u64> {
    let deadline = Instant::now() + LOCK_WAIT;
    let wait = || std::thread::sleep(Duration::from_millis(20));
    let mut dotlock = path.as_os_str().to_owned();
    dotlock.push(".lock");
    while Path::new(&dotlock).exists() && Instant::now() < deadline {
        wait();
    }
    let fd = file.as_raw_fd();
    // SAFETY: plain libc calls on a file descriptor this function borrows; the lock structure
    // is fully initialised.
    let flocked = loop {
        if unsafe { libc::flock(fd, libc::LOCK_SH | libc::LOCK_NB) } == 0 {
            break true;
        }
        if Instant::now() >= deadline {
            break false;
        }
        wait();
    };
    let range = |kind: i32| libc::flock { l_type: kind as i16, l_whence: libc::SEEK_SET as i16, l_start: 0, l_len: 0, l_pid: 0 };
    let fcntl_locked = loop {
        if unsafe { libc::fcntl(fd, libc::F_SETLK, &range(libc::F_RDLCK)) } == 0 {
            break true;
        }
        if Instant::now() >= deadline {
            break false;
        }
        wait();
    };
    let len = file.metadata().map(|m| m.len());
    if fcntl_locked {
        unsafe { libc::fcntl(fd, libc::F_SETLK, &range(libc::F_UNLCK)) };
    }
    if flocked {
        unsafe { libc::flock(fd, libc::LOCK_UN) };
    }
    len
}

/// Read one line (through `\n`, or to the end), keeping at most `keep` bytes of it in `line` and
/// letting the rest stream past: a file without line breaks costs no memory. Returns the number
/// of bytes consumed (0 at the end).
pub(crate) fn read_line_capped(r: &mut impl BufRead, line: &mut Vec<u8>, keep: usize) -> io::Result<u64> {
    read_line_seen(r, line, keep, &mut |_| {})
}

/// As [`read_line_capped`], showing every byte of the line to `see` as it streams past.
fn read_line_seen(r: &mut impl BufRead, line: &mut Vec<u8>, keep: usize, see: &mut dyn FnMut(&[u8])) -> io::Result<u64> {
    let mut consumed = 0u64;
    loop {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(consumed);
        }
        let (n, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        let room = keep.saturating_sub(line.len());
        line.extend_from_slice(&buf[..n.min(room)]);
        see(&buf[..n]);
        r.consume(n);
        consumed += n as u64;
        if done {
            return Ok(consumed);
        }
    }
}

fn is_blank(line: &[u8]) -> bool {
    line == b"\n" || line == b"\r\n"
}

/// The digest of one message, fed line by line: headers less [`VOLATILE_HEADERS`], and the body
/// without its trailing blank lines, line ends normalised to `\n`.
struct Digester {
    hash: Sha256,
    in_headers: bool,
    skipping: bool,
    blank_lines: u64,
}

impl Digester {
    fn new() -> Self {
        Digester { hash: Sha256::new(), in_headers: true, skipping: false, blank_lines: 0 }
    }

    fn line(&mut self, line: &[u8]) {
        let text = line.strip_suffix(b"\n").map(|l| l.strip_suffix(b"\r").unwrap_or(l)).unwrap_or(line);
        if self.in_headers {
            if text.is_empty() {
                self.in_headers = false;
                self.hash.update(b"\n");
                return;
            }
            if !matches!(text.first(), Some(b' ' | b'\t')) {
                let name = text.split(|&b| b == b':').next().unwrap_or(text);
                let name = String::from_utf8_lossy(name).trim().to_ascii_lowercase();
                self.skipping = VOLATILE_HEADERS.contains(&name.as_str());
            }
            if !self.skipping {
                self.hash.update(text);
                self.hash.update(b"\n");
            }
            return;
        }
        if text.is_empty() {
            self.blank_lines += 1;
            return;
        }
        for _ in 0..std::mem::take(&mut self.blank_lines) {
            self.hash.update(b"\n");
        }
        self.hash.update(text);
        self.hash.update(b"\n");
    }

    fn finish(self) -> String {
        let hex = format!("{:x}", self.hash.finalize());
        hex[..32].to_string()
    }
}

struct MboxIter {
    path: PathBuf,
    /// The file up to its length when opened; `None` once it is read to there.
    reader: Option<BufReader<Take<File>>>,
    /// The same file, to look past the end of what is read.
    probe: File,
    snapshot: u64,
    index: usize,
    max_bytes: u64,
    /// A separator line was read: a message follows.
    pending_from: bool,
    /// How many times each digest was seen in this file.
    digests: HashMap<String, u32>,
    line: Vec<u8>,
}

impl MboxIter {
    fn fail(&mut self, source: io::Error) -> Option<Result<RawMail, IngestError>> {
        self.reader = None;
        Some(Err(IngestError::Io { path: self.path.clone(), source }))
    }

    /// Skip what comes before the first separator; an error when it is more than blank lines.
    fn skip_junk(&mut self) -> Option<Result<(), IngestError>> {
        let reader = self.reader.as_mut()?;
        let mut junk = 0u64;
        let mut digest = Sha256::new();
        let mut blank = true;
        loop {
            self.line.clear();
            // Enough of the line to see a separator; all of it streams past the digest.
            let mut seen = Sha256::new();
            let mut line_blank = true;
            let read = read_line_seen(reader, &mut self.line, 8, &mut |bytes| {
                seen.update(bytes);
                line_blank &= bytes.iter().all(u8::is_ascii_whitespace);
            });
            let n = match read {
                Ok(n) => n,
                Err(source) => {
                    self.reader = None;
                    return Some(Err(IngestError::Io { path: self.path.clone(), source }));
                }
            };
            if n == 0 {
                self.reader = None;
                break;
            }
            if self.line.starts_with(b"From ") {
                self.pending_from = true;
                break;
            }
            junk += n;
            blank &= line_blank;
            digest.update(seen.finalize());
        }
        if blank {
            return Some(Ok(()));
        }
        let digest = format!("{:x}", digest.finalize())[..32].to_string();
        Some(Err(IngestError::MboxJunk { path: self.path.clone(), bytes: junk, digest }))
    }

    /// Whether the file, read to its opening length, ended inside a message being appended: it
    /// has grown since, and what follows is not a new `From ` line.
    fn cut_mid_message(&self) -> io::Result<bool> {
        let now = self.probe.metadata()?.len();
        if now <= self.snapshot {
            return Ok(false);
        }
        let mut next = [0u8; 5];
        let mut got = 0;
        while got < next.len() {
            match self.probe.read_at(&mut next[got..], self.snapshot + got as u64) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(&next[..got] != b"From ")
    }

    /// Whether the file was changed less than [`QUIET`] ago.
    fn recently_changed(&self) -> io::Result<bool> {
        let modified = self.probe.metadata()?.modified()?;
        Ok(modified.elapsed().map_or(true, |age| age < QUIET))
    }

    /// Read the message after a separator: its lines up to the next separator.
    fn read_message(&mut self) -> Option<Result<RawMail, IngestError>> {
        let mut bytes = Vec::new();
        let mut content_end = 0;
        let mut size: u64 = 0;
        let mut too_large = false;
        let mut ends_blank = false;
        let mut digester = Digester::new();
        self.pending_from = false;
        while let Some(reader) = self.reader.as_mut() {
            self.line.clear();
            // Keep no more of a line than the message may still hold (and enough to see `From `).
            let keep = self.max_bytes.saturating_sub(size).saturating_add(1).clamp(8, usize::MAX as u64) as usize;
            match read_line_capped(reader, &mut self.line, keep) {
                Ok(0) => self.reader = None,
                Ok(n) => {
                    if self.line.starts_with(b"From ") {
                        self.pending_from = true;
                        break;
                    }
                    size += n;
                    ends_blank = is_blank(&self.line);
                    let line = &self.line[..];
                    let quotes = line.iter().take_while(|&&b| b == b'>').count();
                    let content = if quotes > 0 && line[quotes..].starts_with(b"From ") { &line[1..] } else { line };
                    digester.line(content);
                    if size > self.max_bytes {
                        if !too_large {
                            too_large = true;
                            bytes = Vec::new();
                        }
                    } else {
                        bytes.extend_from_slice(content);
                        if !is_blank(content) {
                            content_end = bytes.len();
                        }
                    }
                }
                Err(source) => return self.fail(source),
            }
        }
        if self.reader.is_none() {
            match self.cut_mid_message() {
                // Left whole for the next audit.
                Ok(true) => return None,
                Ok(false) => {}
                Err(source) => return self.fail(source),
            }
            match self.recently_changed() {
                Ok(true) if !ends_blank => return None,
                Ok(_) => {}
                Err(source) => return self.fail(source),
            }
        }
        let digest = digester.finish();
        let copies = self.digests.entry(digest.clone()).or_insert(0);
        *copies += 1;
        let digest = if *copies > 1 { format!("{digest}-{copies}") } else { digest };
        let origin = SourceRef::Mbox { path: self.path.clone(), index: self.index, digest };
        self.index += 1;
        if too_large {
            return Some(Err(IngestError::TooLarge { origin, size, limit: self.max_bytes }));
        }
        bytes.truncate(content_end);
        Some(Ok(RawMail::new(origin, bytes)))
    }
}

impl Iterator for MboxIter {
    type Item = Result<RawMail, IngestError>;

    fn next(&mut self) -> Option<Self::Item> {
        if !self.pending_from {
            if self.index > 0 || self.reader.is_none() {
                return None;
            }
            match self.skip_junk()? {
                Ok(()) => {}
                Err(e) => return Some(Err(e)),
            }
            if !self.pending_from {
                return None;
            }
        }
        self.read_message()
    }
}

/// Whether a file is an mbox: it starts with a `From ` line, or it starts with something that is
/// not a mail header and a `From ` separator line (with a date) follows within the first 64 KiB
/// (junk before the first message, which [`MboxSource`] skips with an error).
pub(super) fn is_mbox(path: &Path) -> io::Result<bool> {
    let mut head = Vec::with_capacity(1 << 16);
    File::open(path)?.take(1 << 16).read_to_end(&mut head)?;
    if head.starts_with(b"From ") {
        return Ok(true);
    }
    let mut lines = head.split(|&b| b == b'\n');
    let first = lines.next().unwrap_or_default();
    if looks_like_header(first) {
        return Ok(false);
    }
    Ok(lines.any(looks_like_separator))
}

/// `Name: value` (RFC 5322 field name: printable ASCII without `:`).
fn looks_like_header(line: &[u8]) -> bool {
    match line.iter().position(|&b| b == b':') {
        Some(i) if i > 0 => line[..i].iter().all(|&b| (33..=126).contains(&b)),
        _ => false,
    }
}

/// `From sender Mon Jan  1 00:00:00 2024`: a `From ` line with a time or a year in it.
fn looks_like_separator(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"From ") else { return false };
    let text = String::from_utf8_lossy(rest);
    let words: Vec<&str> = text.split_whitespace().collect();
    words.len() >= 3
        && words.iter().skip(1).any(|w| {
            let b = w.as_bytes();
            (b.len() == 4 && b.iter().all(u8::is_ascii_digit)) || (b.len() == 8 && b[2] == b':' && b[5] == b':')
        })
}

#[cfg(test)]
mod tests;
