//! A full disk in the middle of an audit (the state on a small tmpfs): the audit stops with a
//! clear error, the state is consistent (every stored message has its verdict, SQLite's integrity
//! check passes, the mail is untouched), and once there is room the next audit resumes and
//! finishes. Mounting a tmpfs needs root (CAP_SYS_ADMIN); elsewhere the test says so and skips.
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::audit::big_maildir;
use crate::bin;

/// A tmpfs mounted on a fresh folder, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(kib: u64) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount").args(["-t", "tmpfs", "-o", &format!("size={kib}k,mode=0700"), "tmpfs"]).arg(dir.path()).output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs { dir }),
            Ok(o) => {
                eprintln!("skipping: cannot mount a tmpfs here ({}); run as root to test a full disk", String::from_utf8_lossy(&o.stderr).trim());
                None
            }
            Err(e) => {
                eprintln!("skipping: cannot run mount ({e}); run as root to test a full disk");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn resize(&self, kib: u64) {
        let out = Command::new("mount").args(["-o", &format!("remount,size={kib}k")]).arg(self.path()).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.path()).output();
    }
}

fn count(db: &Path, sql: &str) -> i64 {
    rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap().query_row(sql, [], |r| r.get(0)).unwrap()
}

fn integrity(db: &Path) -> String {
    rusqlite::Connection::open(db).unwrap().query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap()
}

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("cur")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files.into_iter().map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect()
}

#[test]
fn a_full_disk_leaves_the_state_consistent_and_the_next_audit_resumes() {
    let Some(disk) = Tmpfs::mount(384) else { return };
    let mail = tempfile::tempdir().unwrap();
    let maildir = mail.path().join("Sent");
    let n = big_maildir(&maildir, 40) as i64;
    let before = snapshot(&maildir);
    let state = disk.path().join("state.sqlite3");
    let audit = || Command::new(bin()).args(["audit", "--format", "json", "--batch", "32", "--state"]).arg(&state).arg(&maildir).output().unwrap();

    let out = audit();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("full"), "the error says why: {err}");
    let stored = count(&state, "SELECT count(*) FROM messages");
    assert!(stored < n, "the disk filled up before the end ({stored} of {n} stored)");
    assert_eq!(integrity(&state), "ok");
    assert_eq!(
        count(&state, "SELECT count(*) FROM messages m WHERE NOT EXISTS (SELECT 1 FROM scores s WHERE s.clean_hash = m.clean_hash)"),
        0,
        "no message without its verdict"
    );
    assert_eq!(count(&state, "SELECT count(*) FROM seen"), stored, "seen and stored in one transaction");

    // Room again: the next audit reads only what is missing.
    disk.resize(64 * 1024);
    let out = audit();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["run"]["read"], n - stored);
    assert_eq!(v["messages"], n);
    assert_eq!(count(&state, "SELECT count(DISTINCT message_id) FROM messages"), n);
    assert_eq!(integrity(&state), "ok");
    assert_eq!(snapshot(&maildir), before, "the mail is untouched");
}

#[test]
fn a_report_that_does_not_fit_leaves_the_old_one_whole() {
    let Some(disk) = Tmpfs::mount(64) else { return };
    let report = disk.path().join("report.html");
    std::fs::write(&report, "the old report\n").unwrap();
    // Fill the rest of the disk.
    let filler = disk.path().join("filler");
    let mut f = std::fs::File::create(&filler).unwrap();
    use std::io::Write;
    while f.write_all(&[b'x'; 4096]).and_then(|()| f.sync_all()).is_ok() {}
    drop(f);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.sqlite3");
    let out = Command::new(bin()).args(["audit", "--format", "html", "--state"]).arg(&state).arg("-o").arg(&report).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("report.html") && !err.contains("panicked"), "{err}");
    assert_eq!(std::fs::read_to_string(&report).unwrap(), "the old report\n", "the old report is whole");
    let left: Vec<_> = std::fs::read_dir(disk.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 2, "no temporary file left behind: {left:?}");
}
