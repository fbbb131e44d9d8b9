//! File-based sources: one `.eml`, a directory tree of messages, a maildir, an mbox, stdin.
use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::mbox::{is_mbox, MboxSource};
use super::{read_file_limited, MailIter, MailSource, SourceRef};
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

/// Walk `root` depth-first; unreadable directories become errors in the list. Symbolic links are
/// followed, but every folder and every file is visited once, known by (device, inode): a link
/// loop, or two links to one folder, neither repeats files nor grows without end.
fn walk_files(root: &Path) -> Vec<Result<PathBuf, IngestError>> {
    let mut out = Vec::new();
    let mut visited: HashSet<(u64, u64)> = HashSet::new();
    let mut files_seen: HashSet<(u64, u64)> = HashSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        match std::fs::metadata(&dir) {
            Ok(m) if !visited.insert((m.dev(), m.ino())) => continue,
            Ok(_) => {}
            Err(source) => {
                out.push(Err(IngestError::Io { path: dir, source }));
                continue;
            }
        }
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
            // Follows links; a dangling link is neither.
            let Ok(meta) = std::fs::metadata(&p) else { continue };
            if meta.is_dir() {
                if !visited.contains(&(meta.dev(), meta.ino())) {
                    subdirs.push(p);
                }
            } else if meta.is_file() && files_seen.insert((meta.dev(), meta.ino())) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::RawMail;

    fn collect(src: &mut dyn MailSource) -> Vec<Result<RawMail, IngestError>> {
        src.mails().collect()
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
    fn directory_walk_survives_symlink_loops_and_reads_each_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("mail");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/1.eml"), "Subject: one\n\nbody\n").unwrap();
        std::fs::write(root.join("a/b/2.eml"), "Subject: two\n\nbody\n").unwrap();
        // A loop (the root linking to itself), a second name for a folder and for a file, and a
        // dangling link.
        std::os::unix::fs::symlink(".", root.join("self")).unwrap();
        std::os::unix::fs::symlink(root.join("a"), root.join("again")).unwrap();
        std::os::unix::fs::symlink(root.join("a/1.eml"), root.join("1-link.eml")).unwrap();
        std::os::unix::fs::symlink(root.join("nowhere"), root.join("dangling")).unwrap();
        let got = collect(open_path(&root, 1 << 20).unwrap().as_mut());
        let mut subjects: Vec<String> = got
            .iter()
            .map(|r| String::from_utf8_lossy(&r.as_ref().unwrap().bytes).lines().next().unwrap().to_string())
            .collect();
        subjects.sort();
        assert_eq!(subjects, ["Subject: one", "Subject: two"], "{got:?}");
        // A second loop, from deep inside back to the root: with links followed blindly the walk
        // branches at every level and never ends.
        std::os::unix::fs::symlink(&root, root.join("a/b/up")).unwrap();
        let got = collect(open_path(&root, 1 << 20).unwrap().as_mut());
        assert_eq!(got.len(), 2, "{got:?}");
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
