//! Writing a report to `-o FILE` without ever destroying what the user has: the report goes to a
//! private temporary file beside the target and is renamed over it only once it is complete (a
//! failed write leaves the old file as it was), and the audit's own inputs and state are refused
//! as targets before anything is read.
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// `path` made absolute and, where it exists, with its links resolved.
fn resolved(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    // Not there yet: resolve the folder it would be in.
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match (abs.parent().and_then(|d| d.canonicalize().ok()), abs.file_name()) {
        (Some(dir), Some(name)) => dir.join(name),
        _ => abs,
    }
}

/// Refuse `target` when it is one of `inputs`, lies inside an input folder, or is the state (or one
/// of SQLite's files beside it).
pub fn check_target(target: &Path, inputs: &[PathBuf], state: Option<&Path>) -> anyhow::Result<()> {
    let t = resolved(target);
    if t.is_dir() {
        bail!("-o {}: that is a folder; give a file name for the report", target.display());
    }
    for input in inputs {
        let i = resolved(input);
        if t == i {
            bail!("-o {}: that is one of the mail inputs; rapport never writes over your mail. Choose another file for the report", target.display());
        }
        if i.is_dir() && t.starts_with(&i) {
            bail!("-o {}: that is inside the mail folder {}; rapport never writes into your mail. Choose a file elsewhere for the report", target.display(), input.display());
        }
    }
    if let Some(state) = state {
        let s = resolved(state);
        let companions = ["", "-wal", "-shm", "-journal", ".lock"];
        if companions.iter().any(|suffix| {
            let mut p = s.clone().into_os_string();
            p.push(suffix);
            p == t.as_os_str()
        }) {
            bail!("-o {}: that is the audit's state database; choose another file for the report", target.display());
        }
    }
    Ok(())
}

/// Write the report produced by `render` to `target` atomically (temporary file, fsync, rename),
/// private to the user (0600): reports hold message text and recipients.
pub fn write_atomic(target: &Path, render: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>) -> anyhow::Result<()> {
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = target.file_name().with_context(|| format!("-o {}: not a file name", target.display()))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".rapport-{}.tmp", std::process::id()));
    let tmp = dir.join(tmp_name);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot write the report next to {} (is the folder writable?)", target.display()))?;
    let done = (|| -> anyhow::Result<()> {
        let mut w = std::io::BufWriter::new(file);
        render(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, target)?;
        Ok(())
    })();
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done.with_context(|| format!("cannot write the report to {}", target.display()))
}

/// The report to `-o FILE` (checked, atomic) or to standard output.
pub fn emit(target: Option<&Path>, render: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>) -> anyhow::Result<()> {
    match target {
        Some(t) => write_atomic(t, render),
        None => {
            let mut out = std::io::stdout().lock();
            render(&mut out)?;
            out.flush()?;
            Ok(())
        }
    }
}
