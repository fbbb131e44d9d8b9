//! File-based sources: one `.eml`, a directory tree of messages, a maildir, an mbox, stdin.
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use super::{read_file_limited, MailIter, MailSource, RawMail, SourceRef};
use crate::source::IngestError;

/// Pick the right source for a path: `-` is stdin, a directory with `cur/` or `new/` is a maildir,
/// any other directory is walked for message files, a file starting with `From ` is an mbox, and
/// any other file is a single message.
pub fn open_path(path: &Path, max_bytes: u64) -> Result<Box<dyn MailSource>, IngestError> {
    let meta = std::fs::metadata(path).map_err(|source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.is_dir() {
        if path.join("cur").is_dir() || path.join("new").is_dir() {
            return Ok(Box::new(MaildirSource::new(path, max_bytes)));
        }
        return Ok(Box::new(DirSource::new(path, max_bytes)));
    }
    if is_mbox(path).map_err(|source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    })? {
        return Ok(Box::new(MboxSource::new(path, max_bytes)));
    }
    Ok(Box::new(EmlSource::new(path, max_bytes)))
}

fn is_mbox(path: &Path) -> std::io::Result<bool> {
    let mut head = [0u8; 5];
    let mut f = File::open(path)?;
    let mut n = 0;
    while n < head.len() {
        let got = f.read(&mut head[n..])?;
        if got == 0 {
            break;
        }
        n += got;
    }
    Ok(&head[..n] == b"From ")
}

/// One message file.
pub struct EmlSource {
    path: PathBuf,
    max_bytes: u64,
}

impl EmlSource {
    pub fn new(path: &Path, max_bytes: u64) -> Self {
        Self {
            path: path.to_path_buf(),
            max_bytes,
        }
    }
}

impl MailSource for EmlSource {
    fn describe(&self) -> String {
        self.path.display().to_string()
    }
    fn mails(&mut self) -> MailIter<'_> {
        let origin = SourceRef::File {
            path: self.path.clone(),
        };
        Box::new(std::iter::once(read_file_limited(&self.path, self.max_bytes, origin)))
    }
}

/// Every regular file under a directory (recursively, hidden entries skipped), in path order.
/// This is also how the Enron export (`user/_sent_mail/1.`) is read.
pub struct DirSource {
    root: PathBuf,
    max_bytes: u64,
}

impl DirSource {
    pub fn new(root: &Path, max_bytes: u64) -> Self {
        Self {
            root: root.to_path_buf(),
            max_bytes,
        }
    }
}

/// Walk `root` depth-first; unreadable directories become errors in the list.
fn walk_files(root: &Path) -> Vec<Result<PathBuf, IngestError>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(source) => {
                out.push(Err(IngestError::Io { path: dir, source }));
                continue;
            }
        };
        let mut names: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.path())
            .collect();
        names.sort();
        let mut subdirs = Vec::new();
        for p in names {
            if p.is_dir() {
                subdirs.push(p);
            } else if p.is_file() {
                out.push(Ok(p));
            }
        }
        // Push in reverse so that the walk stays in sorted order.
        stack.extend(subdirs.into_iter().rev());
    }
    out.sort_by(|a, b| match (a, b) {
        (Ok(a), Ok(b)) => natural_key(a).cmp(&natural_key(b)),
        (Err(_), Ok(_)) => std::cmp::Ordering::Less,
        (Ok(_), Err(_)) => std::cmp::Ordering::Greater,
        (Err(_), Err(_)) => std::cmp::Ordering::Equal,
    });
    out
}

/// Sort `2.` before `10.`: numbers inside names compare as numbers.
fn natural_key(p: &Path) -> Vec<(String, u64)> {
    let s = p.to_string_lossy();
    let mut key = Vec::new();
    let mut text = String::new();
    let mut num: Option<u64> = None;
    for c in s.chars() {
        if let Some(d) = c.to_digit(10) {
            num = Some(num.unwrap_or(0).saturating_mul(10).saturating_add(d as u64));
        } else {
            if let Some(n) = num.take() {
                key.push((std::mem::take(&mut text), n));
            }
            text.push(c);
        }
    }
    key.push((text, num.unwrap_or(0)));
    key
}

/// Read the files of a list, skipping those whose key is in `seen` before reading them.
fn read_files<'a>(files: Vec<Result<PathBuf, IngestError>>, max: u64, seen: Option<&'a HashSet<String>>) -> MailIter<'a> {
    Box::new(files.into_iter().filter_map(move |p| {
        let path = match p {
            Ok(p) => p,
            Err(e) => return Some(Err(e)),
        };
        let origin = SourceRef::File { path: path.clone() };
        if seen.is_some_and(|s| s.contains(&origin.key())) {
            return None;
        }
        Some(read_file_limited(&path, max, origin))
    }))
}

impl MailSource for DirSource {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }
    fn mails(&mut self) -> MailIter<'_> {
        read_files(walk_files(&self.root), self.max_bytes, None)
    }
    fn mails_except<'a>(&'a mut self, seen: &'a HashSet<String>) -> MailIter<'a> {
        read_files(walk_files(&self.root), self.max_bytes, Some(seen))
    }
}

/// A maildir: the files in `cur/` and `new/` (never `tmp/`), in file-name order.
pub struct MaildirSource {
    root: PathBuf,
    max_bytes: u64,
}

impl MaildirSource {
    pub fn new(root: &Path, max_bytes: u64) -> Self {
        Self {
            root: root.to_path_buf(),
            max_bytes,
        }
    }
}

impl MailSource for MaildirSource {
    fn describe(&self) -> String {
        format!("maildir {}", self.root.display())
    }
    fn mails(&mut self) -> MailIter<'_> {
        read_files(self.files(), self.max_bytes, None)
    }
    fn mails_except<'a>(&'a mut self, seen: &'a HashSet<String>) -> MailIter<'a> {
        read_files(self.files(), self.max_bytes, Some(seen))
    }
}

impl MaildirSource {
    fn files(&self) -> Vec<Result<PathBuf, IngestError>> {
        let mut files = Vec::new();
        for sub in ["cur", "new"] {
            let dir = self.root.join(sub);
            match std::fs::read_dir(&dir) {
                Ok(entries) => {
                    let mut names: Vec<PathBuf> = entries
                        .filter_map(|e| e.ok())
                        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                        .map(|e| e.path())
                        .filter(|p| p.is_file())
                        .collect();
                    names.sort();
                    files.extend(names.into_iter().map(Ok));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => files.push(Err(IngestError::Io { path: dir, source })),
            }
        }
        files
    }
}

/// An mbox file, streamed message by message (memory stays flat whatever its size).
pub struct MboxSource {
    path: PathBuf,
    max_bytes: u64,
}

impl MboxSource {
    pub fn new(path: &Path, max_bytes: u64) -> Self {
        Self {
            path: path.to_path_buf(),
            max_bytes,
        }
    }
}

struct MboxIter {
    path: PathBuf,
    reader: Option<BufReader<File>>,
    index: usize,
    max_bytes: u64,
    pending_from: bool,
    failed: bool,
}

impl MboxIter {
    /// Read one message: lines up to the next `From ` line. `>From ` quoting is undone.
    fn read_one(&mut self) -> Option<Result<RawMail, IngestError>> {
        let reader = self.reader.as_mut()?;
        let origin = SourceRef::Mbox {
            path: self.path.clone(),
            index: self.index,
        };
        let mut bytes = Vec::new();
        let mut line = Vec::with_capacity(256);
        let mut too_large = false;
        let mut size: u64 = 0;
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) => {
                    self.reader = None;
                    break;
                }
                Ok(_) => {}
                Err(source) => {
                    self.reader = None;
                    self.failed = true;
                    return Some(Err(IngestError::Io {
                        path: self.path.clone(),
                        source,
                    }));
                }
            }
            if line.starts_with(b"From ") {
                if !self.pending_from {
                    // The separator line of the message we are reading.
                    self.pending_from = true;
                    continue;
                }
                // The separator of the next message: keep the state for the next call.
                break;
            }
            if !self.pending_from {
                // Text before the first separator: not a message.
                continue;
            }
            size += line.len() as u64;
            if size > self.max_bytes {
                too_large = true;
                continue;
            }
            // Undo mboxrd quoting: ">From " -> "From ", ">>From " -> ">From ".
            let start = line.iter().take_while(|&&b| b == b'>').count();
            if start > 0 && line[start..].starts_with(b"From ") {
                bytes.extend_from_slice(&line[1..]);
            } else {
                bytes.extend_from_slice(&line);
            }
        }
        if !self.pending_from {
            return None;
        }
        // After breaking on the next separator, the separator is consumed: the next message starts.
        self.pending_from = self.reader.is_some();
        self.index += 1;
        if too_large {
            return Some(Err(IngestError::TooLarge {
                origin,
                size,
                limit: self.max_bytes,
            }));
        }
        Some(Ok(RawMail::new(origin, bytes)))
    }
}

impl Iterator for MboxIter {
    type Item = Result<RawMail, IngestError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        self.read_one()
    }
}

impl MailSource for MboxSource {
    fn describe(&self) -> String {
        format!("mbox {}", self.path.display())
    }
    fn mails(&mut self) -> MailIter<'_> {
        match File::open(&self.path) {
            Ok(f) => Box::new(MboxIter {
                path: self.path.clone(),
                reader: Some(BufReader::with_capacity(1 << 16, f)),
                index: 0,
                max_bytes: self.max_bytes,
                pending_from: false,
                failed: false,
            }),
            Err(source) => Box::new(std::iter::once(Err(IngestError::Io {
                path: self.path.clone(),
                source,
            }))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(src: &mut dyn MailSource) -> Vec<Result<RawMail, IngestError>> {
        src.mails().collect()
    }

    #[test]
    fn mbox_splits_messages_and_unquotes_from_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("box");
        std::fs::write(
            &p,
            "From a@x Mon Jan 1 00:00:00 2024\nSubject: one\n\nhello\n>From the start\n\nFrom b@x Mon Jan 1 00:00:00 2024\nSubject: two\n\nbye\n",
        )
        .unwrap();
        let mut src = open_path(&p, 1 << 20).unwrap();
        let got = collect(src.as_mut());
        assert_eq!(got.len(), 2);
        let first = got[0].as_ref().unwrap();
        assert_eq!(String::from_utf8_lossy(&first.bytes), "Subject: one\n\nhello\nFrom the start\n\n");
        assert_eq!(first.origin, SourceRef::Mbox { path: p.clone(), index: 0 });
        let second = got[1].as_ref().unwrap();
        assert_eq!(String::from_utf8_lossy(&second.bytes), "Subject: two\n\nbye\n");
        assert_eq!(second.origin, SourceRef::Mbox { path: p.clone(), index: 1 });
    }

    #[test]
    fn mbox_message_over_limit_is_an_error_and_the_rest_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("box");
        let big = "x".repeat(200);
        std::fs::write(
            &p,
            format!("From a Mon Jan 1 00:00:00 2024\nSubject: big\n\n{big}\nFrom b Mon Jan 1 00:00:00 2024\nSubject: ok\n\nfine\n"),
        )
        .unwrap();
        let got = collect(&mut MboxSource::new(&p, 100));
        assert_eq!(got.len(), 2);
        assert!(matches!(got[0], Err(IngestError::TooLarge { .. })));
        assert!(got[1].is_ok());
    }

    #[test]
    fn directory_walk_is_sorted_naturally_and_skips_hidden() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("u/_sent_mail")).unwrap();
        for n in ["10.", "2.", "1."] {
            std::fs::write(dir.path().join("u/_sent_mail").join(n), "Subject: s\n\nbody\n").unwrap();
        }
        std::fs::write(dir.path().join(".hidden"), "x").unwrap();
        let got = collect(open_path(dir.path(), 1 << 20).unwrap().as_mut());
        let names: Vec<String> = got
            .iter()
            .map(|r| match &r.as_ref().unwrap().origin {
                SourceRef::File { path } => path.file_name().unwrap().to_string_lossy().into_owned(),
                o => panic!("unexpected {o:?}"),
            })
            .collect();
        assert_eq!(names, ["1.", "2.", "10."]);
    }

    #[test]
    fn maildir_reads_cur_and_new_not_tmp() {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
            std::fs::write(dir.path().join(sub).join(format!("{sub}1")), "Subject: s\n\nb\n").unwrap();
        }
        let got = collect(open_path(dir.path(), 1 << 20).unwrap().as_mut());
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn a_directory_given_as_a_single_message_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_file_limited(dir.path(), 100, SourceRef::Stdin).unwrap_err();
        assert!(err.to_string().contains("is a directory"), "{err}");
    }
}
