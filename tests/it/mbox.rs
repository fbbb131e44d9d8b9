//! Auditing an mbox that a mail client changes: compacted (messages deleted, flags written into
//! the others), rotated (a new file under the old name), appended to while the audit reads it.
//! Every message is stored exactly once, none is skipped, none is stored half-written.
use std::io::Write;
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use crate::bin;

/// One message of the test mbox, with its separator line; `extra` goes into the headers.
pub fn mbox_message(n: u32, extra: &str) -> String {
    format!(
        "From support@northwind-bikes.example Mon Nov  2 10:00:00 2026\nFrom: support@northwind-bikes.example\nTo: customer{n}@velo-club.example\nSubject: Order {n}\nMessage-ID: <mbox-{n}@northwind-bikes.example>\nDate: Mon, 2 Nov 2026 10:00:00 +0000\n{extra}\nHi,\nyour order {n} ships on Monday.\nReference code {n} is complete.\n\n"
    )
}

fn audit(state: &Path, mbox: &Path) -> Output {
    Command::new(bin()).args(["audit", "--format", "json", "--batch", "16", "--state"]).arg(state).arg(mbox).output().unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(matches!(out.status.code(), Some(0)), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn count(db: &Path, sql: &str) -> i64 {
    rusqlite::Connection::open(db).unwrap().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn mbox_compaction_and_rotation_skip_nothing_and_store_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let mbox = dir.path().join("sent.mbox");
    let state = dir.path().join("state.sqlite3");
    std::fs::write(&mbox, (1..=10).map(|n| mbox_message(n, "")).collect::<String>()).unwrap();
    assert_eq!(json(&audit(&state, &mbox))["run"]["read"], 10);

    // Compaction: messages 2 and 5 deleted, the client wrote its flags into the others, and three
    // new messages arrived. By position, the new ones would look like messages 9 and 10.
    let kept = [1, 3, 4, 6, 7, 8, 9, 10].iter().map(|&n| mbox_message(n, "Status: RO\nX-Status: A\n")).collect::<String>();
    std::fs::write(&mbox, kept + &mbox_message(11, "") + &mbox_message(12, "") + &mbox_message(13, "")).unwrap();
    let v = json(&audit(&state, &mbox));
    assert_eq!(v["run"]["read"], 3, "only the new messages are read: {v}");
    assert_eq!(v["messages"], 13);

    // Rotation: the file moved away, a new one under the same name.
    std::fs::rename(&mbox, dir.path().join("sent.mbox.1")).unwrap();
    std::fs::write(&mbox, mbox_message(14, "") + &mbox_message(15, "")).unwrap();
    let v = json(&audit(&state, &mbox));
    assert_eq!(v["run"]["read"], 2, "{v}");
    // The rotated file audited too: read again under its new name, stored once.
    let v = json(&audit(&state, &dir.path().join("sent.mbox.1")));
    assert_eq!(v["messages"], 15, "{v}");
    assert_eq!(count(&state, "SELECT count(*) FROM messages"), 15);
    assert_eq!(count(&state, "SELECT count(DISTINCT message_id) FROM messages"), 15);
}

/// Append messages `range` to `mbox` the way a mail client does, slowly: each message in two
/// writes with a pause between, under an fcntl write lock when `lock` (mutt, procmail) or under
/// none (some clients).
fn append_slowly(mbox: &Path, range: std::ops::Range<u32>, lock: bool) {
    for n in range {
        let mut f = std::fs::OpenOptions::new().append(true).open(mbox).unwrap();
        let fl = |kind: i32| libc::flock { l_type: kind as i16, l_whence: libc::SEEK_SET as i16, l_start: 0, l_len: 0, l_pid: 0 };
        if lock {
            // SAFETY: a plain fcntl lock on a file this function owns.
            assert_eq!(unsafe { libc::fcntl(f.as_raw_fd(), libc::F_SETLKW, &fl(libc::F_WRLCK)) }, 0);
        }
        let m = mbox_message(n, "");
        let (a, b) = m.split_at(m.len() / 2);
        f.write_all(a.as_bytes()).unwrap();
        f.sync_data().unwrap();
        std::thread::sleep(Duration::from_millis(60));
        f.write_all(b.as_bytes()).unwrap();
        if lock {
            unsafe { libc::fcntl(f.as_raw_fd(), libc::F_SETLK, &fl(libc::F_UNLCK)) };
        }
        drop(f);
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn mbox_appended_to_during_audits_stores_every_message_once_and_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mbox = dir.path().join("sent.mbox");
    let state = dir.path().join("state.sqlite3");
    std::fs::write(&mbox, (1..=60).map(|n| mbox_message(n, "")).collect::<String>()).unwrap();
    // A client appends 40 messages (half with locks, half without) while audits run back to back.
    let path = mbox.clone();
    let writer = std::thread::spawn(move || {
        append_slowly(&path, 61..81, true);
        append_slowly(&path, 81..101, false);
    });
    while !writer.is_finished() {
        let out = audit(&state, &mbox);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    }
    writer.join().unwrap();
    let v = json(&audit(&state, &mbox));
    assert_eq!(v["messages"], 100, "{v}");
    assert_eq!(count(&state, "SELECT count(*) FROM messages"), 100);
    assert_eq!(count(&state, "SELECT count(DISTINCT message_id) FROM messages"), 100);
    // None was stored half-written: every one has its last sentence.
    assert_eq!(count(&state, "SELECT count(*) FROM messages WHERE cleaned LIKE '%is complete.%'"), 100);
    assert_eq!(json(&audit(&state, &mbox))["run"]["read"], 0, "nothing left to read");
}
