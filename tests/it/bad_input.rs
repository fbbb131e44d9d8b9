//! Bad input never panics and never loses mail: a clear message that names the input and says
//! what to do, exit 2 for a single draft, a per-message error (the batch goes on) for many.
use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::{bin, fixture};

fn check(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(bin())
        .arg("check")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input = stdin.map(|s| s.to_vec());
    let mut handle = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        if let Some(s) = input {
            let _ = handle.write_all(&s);
        }
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn assert_fails_clearly(out: &Output, needles: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "expected {n:?} in: {err}");
    }
}

#[test]
fn unreadable_path() {
    let out = check(&["/no/such/draft.eml"], None);
    assert_fails_clearly(&out, &["/no/such/draft.eml", "exists"]);
}

#[test]
fn a_directory_instead_of_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = check(&[dir.path().to_str().unwrap()], None);
    assert_fails_clearly(&out, &["is a directory", "rapport audit"]);
}

#[test]
fn binary_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("garbage.eml");
    let bytes: Vec<u8> = (0..65_536u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(&p, &bytes).unwrap();
    let out = check(&[p.to_str().unwrap()], None);
    assert_fails_clearly(&out, &["garbage.eml", "not an email message"]);
    // The same bytes on stdin.
    let out = check(&["-"], Some(&bytes));
    assert_fails_clearly(&out, &["<stdin>", "not an email message"]);
}

#[test]
fn plain_text_without_headers_points_to_text_mode() {
    let out = check(&["-"], Some(b"Send me the report now.\n"));
    assert_fails_clearly(&out, &["--text"]);
}

#[test]
fn empty_body() {
    let out = check(&["-"], Some(b"From: a@b.com\nTo: c@d.com\nSubject: nothing\n\n\n"));
    assert_fails_clearly(&out, &["no text body"]);
    let out = check(&["--text", "-"], Some(b"   \n"));
    assert_fails_clearly(&out, &["no text body"]);
}

#[test]
fn a_50_mb_message_with_a_short_text_is_checked() {
    // A real-world shape: a short note with a 50 MB attachment. Only the text is scored.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.eml");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
    write!(
        f,
        "From: dana@northwind-supply.com\r\nTo: ken@harborlight.co.uk\r\nSubject: Drawings\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nHi Ken,\r\nThe drawings are attached. Thanks for your patience!\r\nDana\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"drawings.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    )
    .unwrap();
    let line = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n";
    for _ in 0..(50 * 1024 * 1024 / line.len()) {
        f.write_all(line.as_bytes()).unwrap();
    }
    write!(f, "--b--\r\n").unwrap();
    drop(f);
    assert!(std::fs::metadata(&p).unwrap().len() >= 50 * 1024 * 1024);
    let out = check(&["--format", "json", p.to_str().unwrap()], None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["sentences"].as_array().unwrap().len() >= 2);
}

#[test]
fn a_message_over_the_size_limit_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("huge.eml");
    let f = std::fs::File::create(&p).unwrap();
    f.set_len(65 * 1024 * 1024).unwrap(); // sparse: costs no disk
    let out = check(&[p.to_str().unwrap()], None);
    assert_fails_clearly(&out, &["huge.eml", "over the limit"]);
}

#[test]
fn broken_mime_and_unknown_charsets_do_not_stop_the_check() {
    let cases: [&[u8]; 3] = [
        // A multipart whose closing boundary never comes and whose base64 is broken.
        b"From: a@b.com\nTo: c@d.com\nSubject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"zz\"\n\n--zz\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\nSGkgdGhlcmUsIHRoYW5rcyBmb3IgeW91ciBvcmRlci4=!!@@##\n--zz\nContent-Type: text/plain\n\nSee you soon.\n",
        // A charset nobody knows.
        b"From: a@b.com\nTo: c@d.com\nSubject: x\nContent-Type: text/plain; charset=x-klingon-2000\n\nThanks for the order, it ships on Monday.\n",
        // Headers that are not quite headers, and a body of invalid UTF-8.
        b"From a@b.com\nTo: c@d.com\nSubject: \xff\xfe broken\nContent-Type: text/plain; charset=utf-8\n\nThanks \xff for \xfe the order.\n",
    ];
    for case in cases {
        let out = check(&["--format", "json", "-"], Some(case));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(matches!(out.status.code(), Some(0 | 1)), "exit {:?}: {err}", out.status.code());
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(v["flagged"].is_boolean());
    }
}

#[test]
fn an_audit_reports_bad_messages_and_goes_on_without_touching_them() {
    let dir = tempfile::tempdir().unwrap();
    let mail = dir.path().join("sent");
    std::fs::create_dir(&mail).unwrap();
    std::fs::copy(fixture("mail/gmail-reply.eml"), mail.join("1.eml")).unwrap();
    std::fs::write(mail.join("2.eml"), [0u8, 159, 146, 150, 0, 1, 2, 3].repeat(100)).unwrap();
    std::fs::copy(fixture("mail/outlook-reply.eml"), mail.join("3.eml")).unwrap();
    std::fs::write(mail.join("4.eml"), b"From: a@b.com\nTo: c@d.com\nSubject: empty\n\n").unwrap();
    let before: Vec<(String, Vec<u8>)> = std::fs::read_dir(&mail)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    let state = dir.path().join("state.sqlite3");
    let out = Command::new(bin())
        .args(["audit", "--format", "json", "--state"])
        .arg(&state)
        .arg(&mail)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("2.eml") && err.contains("not an email message"), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["run"]["read"], 4, "{v}");
    assert_eq!(v["messages"], 3, "the good messages (and the empty one) are audited: {v}");
    for (path, bytes) in before {
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{path} changed");
    }
}

fn audit(args: &[&str]) -> Output {
    Command::new(bin()).arg("audit").args(args).output().unwrap()
}

/// Every file under `dir` (following no links) with its bytes; links as their target.
fn snapshot(dir: &std::path::Path) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.file_type().is_symlink() {
                out.insert(p.clone(), std::fs::read_link(&p).unwrap().into_os_string().into_encoded_bytes());
            } else if meta.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn dash_o_never_writes_over_the_audits_mail_or_state() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mbox = d.join("sent.mbox");
    let mut text = String::new();
    for (i, f) in ["gmail-reply.eml", "outlook-reply.eml"].iter().enumerate() {
        text.push_str(&format!("From me@example.com Mon Jan  1 00:00:0{i} 2024\n"));
        text.push_str(&std::fs::read_to_string(fixture(&format!("mail/{f}"))).unwrap());
        text.push('\n');
    }
    std::fs::write(&mbox, text).unwrap();
    let eml = d.join("draft.eml");
    std::fs::copy(fixture("mail/gmail-forward.eml"), &eml).unwrap();
    let maildir = d.join("Sent");
    std::fs::create_dir_all(maildir.join("cur")).unwrap();
    std::fs::create_dir_all(maildir.join("new")).unwrap();
    let in_folder = maildir.join("cur/1.eml");
    std::fs::copy(fixture("mail/apple-mail-reply.eml"), &in_folder).unwrap();
    let state = d.join("state.sqlite3");
    let link = d.join("report-link.json");
    std::os::unix::fs::symlink(&mbox, &link).unwrap();
    // A state to protect: a first audit writes it.
    let s = state.to_str().unwrap();
    let first = audit(&["--state", s, mbox.to_str().unwrap()]);
    assert_eq!(first.status.code(), Some(0), "{}", String::from_utf8_lossy(&first.stderr));

    let p = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let new_in_folder = maildir.join("new/report.json");
    let cases: Vec<(Vec<String>, String, &str)> = vec![
        (vec![p(&mbox)], p(&mbox), "mail inputs"),
        (vec![p(&eml)], p(&eml), "mail inputs"),
        (vec![p(&maildir)], p(&in_folder), "inside the mail folder"),
        (vec![p(&maildir)], p(&new_in_folder), "inside the mail folder"),
        (vec![p(&mbox)], s.to_string(), "state database"),
        (vec![p(&mbox)], format!("{s}-wal"), "state database"),
        (vec![p(&mbox)], p(&link), "mail inputs"),
    ];
    for (inputs, target, why) in cases {
        let before = snapshot(d);
        let mut args = vec!["--state".to_string(), s.to_string(), "-o".to_string(), target.clone()];
        args.extend(inputs);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = audit(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "-o {target}: {err}");
        assert!(err.contains(why) && err.contains(&target), "-o {target}: {err}");
        assert_eq!(snapshot(d), before, "-o {target} changed a file");
    }
    // The state still works, and a report elsewhere is written, private to the user.
    let report = d.join("report.json");
    let again = audit(&["--state", s, "--format", "json", "-o", report.to_str().unwrap(), mbox.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(0), "{}", String::from_utf8_lossy(&again.stderr));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(v["messages"], 2);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&report).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn check_keeps_its_exit_code_when_stdout_closes_early() {
    // `rapport check draft | head -0`: the reader is gone before the report is written.
    let mut child = Command::new(bin())
        .args(["check", "--format", "json"])
        .arg(crate::repo().join("examples/drafts/rude.eml"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "the rude draft has findings: {err}");
    assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "{err}");
}

#[test]
fn an_over_size_message_names_itself_once_and_explains_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big30.eml");
    std::fs::File::create(&big).unwrap().set_len(65 * 1024 * 1024).unwrap(); // sparse
    let state = dir.path().join("state.sqlite3");
    for input in [big.clone(), dir.path().to_path_buf()] {
        let out = audit(&["--state", state.to_str().unwrap(), input.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(err.matches("big30.eml").count(), 1, "the file is named once: {err}");
        assert!(err.contains("64.0 MiB") && err.contains("--max-message-bytes") && err.contains("memory"), "{err}");
    }
    // check explains its own limit on the text it scores.
    let long = dir.path().join("long.eml");
    std::fs::write(&long, format!("From: a@b.com\nTo: c@d.com\nSubject: log\n\n{}", "Please send the report. ".repeat(50_000))).unwrap();
    let out = check(&[long.to_str().unwrap()], None);
    assert_fails_clearly(&out, &["long.eml", "1 MiB", "human-written"]);
}

#[test]
fn junk_before_the_first_from_line_costs_one_error_not_the_mbox() {
    let dir = tempfile::tempdir().unwrap();
    let mbox = dir.path().join("sent.mbox");
    let mut text = String::from("This file was exported by SomeClient 2.1\n\n");
    for (i, f) in ["gmail-reply.eml", "outlook-reply.eml"].iter().enumerate() {
        text.push_str(&format!("From me@example.com Mon Jan  1 00:00:0{i} 2024\n"));
        text.push_str(&std::fs::read_to_string(fixture(&format!("mail/{f}"))).unwrap());
        text.push('\n');
    }
    std::fs::write(&mbox, &text).unwrap();
    let state = dir.path().join("state.sqlite3");
    let args = ["--state", state.to_str().unwrap(), "--format", "json", mbox.to_str().unwrap()];
    let out = audit(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("sent.mbox") && err.contains("before the first `From ` line") && !err.contains(".eml file"), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["messages"], 2, "both messages are audited: {v}");
    // Reported once: the next audit has nothing to say.
    let out = audit(&args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(&mbox).unwrap(), text, "the mbox is untouched");
}

#[test]
fn an_mbox_message_that_is_not_mail_gets_mbox_advice() {
    let dir = tempfile::tempdir().unwrap();
    let mbox = dir.path().join("sent.mbox");
    let garbage: String = (0..3000u32).map(|i| char::from(b'!' + ((i.wrapping_mul(2_654_435_761) >> 13) % 90) as u8)).collect();
    let good = std::fs::read_to_string(fixture("mail/gmail-reply.eml")).unwrap();
    std::fs::write(&mbox, format!("From a Mon Jan  1 00:00:00 2024\n{garbage}\n\nFrom b Mon Jan  1 00:00:00 2024\n{good}")).unwrap();
    let out = audit(&["--state", dir.path().join("s.sqlite3").to_str().unwrap(), mbox.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("sent.mbox (message 1)"), "{err}");
    assert!(!err.contains("Give an .eml file"), "advice for a single file, not an mbox message: {err}");
}
