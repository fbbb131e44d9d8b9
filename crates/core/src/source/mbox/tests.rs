use std::collections::HashSet;
use std::io::Write;

use super::*;
use crate::source::open_path;

fn collect(path: &Path, limit: u64) -> Vec<Result<RawMail, IngestError>> {
    MboxSource::new(path, limit).mails().collect()
}

fn keys(items: &[Result<RawMail, IngestError>]) -> Vec<String> {
    items.iter().map(|r| r.as_ref().unwrap().origin.key()).collect()
}

/// Write a finished mbox: last changed a minute ago, so a last message without its closing blank
/// line is taken as whole (see [`QUIET`]).
fn write_settled(path: &Path, content: impl AsRef<[u8]>) {
    std::fs::write(path, content).unwrap();
    let past = std::time::SystemTime::now() - Duration::from_secs(60);
    std::fs::File::options().append(true).open(path).unwrap().set_modified(past).unwrap();
}

fn message(n: u32, extra_header: &str) -> String {
    format!("From a@x Mon Jan  1 00:00:00 2024\n{extra_header}Message-ID: <m{n}@x>\nSubject: message {n}\n\nbody of {n}\n\n")
}

#[test]
fn splits_messages_and_unquotes_from_lines() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("box");
    write_settled(
        &p,
        "From a@x Mon Jan 1 00:00:00 2024\nSubject: one\n\nhello\n>From the start\n>>From twice\n\nFrom b@x Mon Jan 1 00:00:00 2024\nSubject: two\n\nbye\n",
    );
    let got = open_path(&p, 1 << 20).unwrap().mails().collect::<Vec<_>>();
    assert_eq!(got.len(), 2);
    let first = got[0].as_ref().unwrap();
    // The blank line before the next separator belongs to the separator.
    assert_eq!(String::from_utf8_lossy(&first.bytes), "Subject: one\n\nhello\nFrom the start\n>From twice\n");
    assert!(matches!(&first.origin, SourceRef::Mbox { index: 0, digest, .. } if digest.len() == 32));
    let second = got[1].as_ref().unwrap();
    assert_eq!(String::from_utf8_lossy(&second.bytes), "Subject: two\n\nbye\n");
    assert!(matches!(&second.origin, SourceRef::Mbox { index: 1, .. }));
    assert_eq!(first.origin.to_string(), format!("{} (message 1)", p.display()));
    assert!(first.origin.key().starts_with(&format!("mbox:{};", p.display())));
}

#[test]
fn a_message_over_the_limit_is_an_error_and_the_rest_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("box");
    let big = "x".repeat(200);
    write_settled(
        &p,
        format!("From a Mon Jan 1 00:00:00 2024\nSubject: big\n\n{big}\nFrom b Mon Jan 1 00:00:00 2024\nSubject: ok\n\nfine\n"),
    );
    let got = collect(&p, 100);
    assert_eq!(got.len(), 2);
    match &got[0] {
        Err(IngestError::TooLarge { size, limit: 100, .. }) => assert_eq!(*size, 13 + 1 + 201),
        other => panic!("{other:?}"),
    }
    assert!(got[1].is_ok());
}

#[test]
fn keys_follow_the_content_through_compaction_rotation_and_flag_changes() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sent");
    std::fs::write(&p, (1..=5).map(|n| message(n, "")).collect::<String>()).unwrap();
    let before = keys(&collect(&p, 1 << 20));
    assert_eq!(before.len(), 5);
    assert_eq!(before.iter().collect::<HashSet<_>>().len(), 5, "distinct keys");

    // Compaction: message 2 deleted, the client wrote its flags into the others, and two new
    // messages arrived. By position, the new ones would take the keys of messages 4 and 5.
    let compacted: String = [1, 3, 4, 5].iter().map(|&n| message(n, "Status: RO\nX-Status: A\n")).collect::<String>() + &message(6, "") + &message(7, "");
    std::fs::write(&p, compacted).unwrap();
    let after = keys(&collect(&p, 1 << 20));
    assert_eq!(after.len(), 6);
    assert_eq!(&after[..4], &[&before[0], &before[2], &before[3], &before[4]].map(String::clone));
    assert!(!before.contains(&after[4]) && !before.contains(&after[5]), "new messages get new keys");

    // Rotation: the file moved away and a new one started under the same name.
    std::fs::rename(&p, dir.path().join("sent.1")).unwrap();
    std::fs::write(&p, message(8, "") + &message(1, "")).unwrap();
    let rotated = keys(&collect(&p, 1 << 20));
    assert!(!before.contains(&rotated[0]) && !after.contains(&rotated[0]));
    assert_eq!(rotated[1], before[0], "the same message under the same name keeps its key");
}

#[test]
fn identical_copies_in_one_file_get_distinct_stable_keys() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("box");
    std::fs::write(&p, message(1, "") + &message(1, "") + &message(2, "") + &message(1, "")).unwrap();
    let k = keys(&collect(&p, 1 << 20));
    assert_eq!(k.len(), 4);
    assert_eq!(k.iter().collect::<HashSet<_>>().len(), 4, "{k:?}");
    assert!(k[1].ends_with("-2") && k[3].ends_with("-3"), "{k:?}");
    assert_eq!(keys(&collect(&p, 1 << 20)), k, "the same keys on every read");
}

#[test]
fn junk_before_the_first_separator_is_one_error_and_the_messages_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("box");
    std::fs::write(&p, String::from("this line is not mail\nnor this one\n") + &message(1, "") + &message(2, "")).unwrap();
    let mut src = open_path(&p, 1 << 20).unwrap();
    assert!(src.describe().starts_with("mbox "), "junk first is still an mbox: {}", src.describe());
    let got: Vec<_> = src.mails().collect();
    assert_eq!(got.len(), 3, "{got:?}");
    let err = got[0].as_ref().unwrap_err();
    assert!(matches!(err, IngestError::MboxJunk { bytes: 35, .. }), "{err:?}");
    assert!(err.to_string().contains("skipped") && err.to_string().contains("box"), "{err}");
    let key = err.record_key().expect("junk is recorded once");
    assert!(key.starts_with("mbox:"), "{key}");
    assert!(got[1].is_ok() && got[2].is_ok());
    // Blank lines first are no junk.
    std::fs::write(&p, String::from("\n\n") + &message(1, "")).unwrap();
    let got = collect(&p, 1 << 20);
    assert_eq!(got.len(), 1);
    assert!(got[0].is_ok());
    // A message file whose body has a `From ` line is no mbox.
    std::fs::write(&p, "Subject: x\n\nFrom a@x Mon Jan  1 00:00:00 2024\n").unwrap();
    assert!(!is_mbox(&p).unwrap());
    // Junk and nothing else: one error.
    std::fs::write(&p, "garbage\nFrom nobody Mon Jan  1 00:00:00 2024").unwrap();
    assert!(is_mbox(&p).unwrap());
}

#[test]
fn a_message_cut_by_an_unlocked_writer_is_left_for_the_next_read() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("box");
    let second = message(2, "");
    let (head, tail) = second.split_at(second.len() / 2);
    std::fs::write(&p, message(1, "") + head).unwrap();
    let mut src = MboxSource::new(&p, 1 << 20);
    // Opened here: the file ends inside message 2.
    let mut items = src.mails();
    std::fs::OpenOptions::new().append(true).open(&p).unwrap().write_all(tail.as_bytes()).unwrap();
    assert!(items.next().unwrap().is_ok());
    assert!(items.next().is_none(), "the half-written message is not read");
    drop(items);
    // Next time it is whole.
    let got = collect(&p, 1 << 20);
    assert_eq!(got.len(), 2);
    assert!(String::from_utf8_lossy(&got[1].as_ref().unwrap().bytes).ends_with("body of 2\n"));

    // A message appended after the file was opened, behind a complete one: the complete one is
    // read, the new one waits.
    let mut src = MboxSource::new(&p, 1 << 20);
    let items: Vec<_> = {
        let mut it = src.mails();
        std::fs::OpenOptions::new().append(true).open(&p).unwrap().write_all(message(3, "").as_bytes()).unwrap();
        it.by_ref().collect()
    };
    assert_eq!(items.len(), 2);
    assert_eq!(collect(&p, 1 << 20).len(), 3);
}

#[test]
fn opening_waits_for_a_writer_holding_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("box");
    std::fs::write(&p, message(1, "")).unwrap();
    let writer = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
    assert_eq!(unsafe { libc::flock(writer.as_raw_fd(), libc::LOCK_EX) }, 0);
    let path = p.clone();
    let appender = std::thread::spawn(move || {
        let mut writer = writer;
        let m = message(2, "");
        let (a, b) = m.split_at(m.len() / 2);
        writer.write_all(a.as_bytes()).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        writer.write_all(b.as_bytes()).unwrap();
        unsafe { libc::flock(writer.as_raw_fd(), libc::LOCK_UN) };
        path
    });
    std::thread::sleep(Duration::from_millis(50));
    let got = collect(&p, 1 << 20);
    appender.join().unwrap();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(String::from_utf8_lossy(&got[1].as_ref().unwrap().bytes).ends_with("body of 2\n"));
}

/// Peak resident memory of this process (VmHWM), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

#[test]
fn an_endless_line_costs_no_memory() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("box");
    let mut f = std::fs::File::create(&p).unwrap();
    f.write_all(b"From a Mon Jan 1 00:00:00 2024\nSubject: x\n\n").unwrap();
    // 300 MB without a line break (sparse: zeros cost no disk), then a good message.
    f.set_len(300 << 20).unwrap();
    drop(f);
    std::fs::OpenOptions::new().append(true).open(&p).unwrap().write_all(format!("\n{}", message(2, "")).as_bytes()).unwrap();
    let before = peak_rss();
    let got = collect(&p, 1 << 20);
    let grown = peak_rss().saturating_sub(before);
    assert_eq!(got.len(), 2);
    assert!(matches!(got[0], Err(IngestError::TooLarge { .. })), "{:?}", got[0].as_ref().map(|m| m.bytes.len()));
    assert!(got[1].is_ok());
    assert!(grown < 64 << 20, "reading grew the peak memory by {grown} bytes");
}

#[test]
fn an_unterminated_last_message_is_left_while_the_file_is_fresh_and_read_once_it_settles() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("box");
    // A writer without locks, between its two writes: the last message has no closing blank line.
    let whole = message(1, "");
    let half = &message(2, "")[..30];
    std::fs::write(&p, format!("{whole}{half}")).unwrap();
    let got = collect(&p, 1 << 20);
    assert_eq!(got.len(), 1, "only the finished message: {got:?}");
    // A file whose writer left no closing blank line, untouched for a while: all of it is read.
    write_settled(&p, format!("{whole}From a@x Mon Jan  1 00:00:00 2024\nSubject: last\n\nno blank line after me\n"));
    let got = collect(&p, 1 << 20);
    assert_eq!(got.len(), 2);
    assert!(String::from_utf8_lossy(&got[1].as_ref().unwrap().bytes).ends_with("no blank line after me\n"));
}
