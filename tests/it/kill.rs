//! SIGKILL at 20 random points across maildir, mbox and IMAP audits (the IMAP one across a
//! UIDVALIDITY change), then one audit to the end: every message is stored exactly once, with
//! its verdict, and none is skipped. The points are drawn from a fixed seed: some during start-up
//! (before anything is committed), most after a random number of further messages is committed
//! (inside and between batches), so they fall all along the audit.
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::audit::big_maildir;
use crate::support::dovecot::{self, Dovecot, PASSWORD, USER};
use crate::{bin, repo};

fn count(db: &Path, sql: &str) -> i64 {
    if !db.exists() {
        return 0;
    }
    match rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY) {
        Ok(c) => c.query_row(sql, [], |r| r.get(0)).unwrap_or(0),
        Err(_) => 0,
    }
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = rapport_core::text::splitmix64(self.0);
        self.0
    }
}

/// Start `audit` `kills` times and SIGKILL it at a random point each time (`before(i)` runs
/// before start `i`), then run it to the end. Returns how many runs were killed mid-audit, and the
/// last run's output.
fn audit_under_kills(audit: &dyn Fn() -> Command, state: &Path, total: i64, kills: usize, seed: u64, before: &mut dyn FnMut(usize)) -> (usize, Output) {
    let mut rng = Rng(seed);
    let mut killed = 0;
    for i in 0..kills {
        before(i);
        let committed = count(state, "SELECT count(*) FROM seen WHERE error IS NULL");
        let mut child = audit().stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        let started = Instant::now();
        if rng.next().is_multiple_of(4) {
            // During start-up: opening the state, connecting, loading the model.
            std::thread::sleep(Duration::from_millis(rng.next() % 400));
        } else {
            // After a random number of further messages is committed.
            let left = (total - committed).max(1) as u64;
            let target = committed + 1 + (rng.next() % (left / 3 + 1)) as i64;
            while count(state, "SELECT count(*) FROM seen WHERE error IS NULL") < target
                && child.try_wait().unwrap().is_none()
                && started.elapsed() < Duration::from_secs(300)
            {
                std::thread::sleep(Duration::from_millis(rng.next() % 15));
            }
        }
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            killed += 1;
        }
        child.wait().unwrap();
    }
    let out = audit().output().unwrap();
    (killed, out)
}

/// Every message once, each with its verdict, and the report agrees.
fn assert_complete(state: &Path, out: &Output, n: i64) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["messages"], n, "{err}");
    assert_eq!(count(state, "SELECT count(*) FROM messages"), n, "no message skipped or stored twice");
    assert_eq!(count(state, "SELECT count(DISTINCT message_id) FROM messages"), n);
    assert_eq!(
        count(state, "SELECT count(*) FROM messages m WHERE NOT EXISTS (SELECT 1 FROM scores s WHERE s.clean_hash = m.clean_hash)"),
        0,
        "every stored message has its verdict"
    );
    assert_eq!(count(state, "SELECT count(*) FROM seen WHERE error IS NOT NULL"), 0);
}

#[test]
fn sigkill_at_random_points_of_a_maildir_audit() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Sent");
    let n = big_maildir(&maildir, 12) as i64;
    let state = dir.path().join("state.sqlite3");
    let audit = || {
        let mut c = Command::new(bin());
        c.args(["audit", "--format", "json", "--batch", "16", "--state"]).arg(&state).arg(&maildir);
        c
    };
    let (killed, out) = audit_under_kills(&audit, &state, n, 7, 11, &mut |_| {});
    assert!(killed >= 5, "only {killed} of 7 runs were killed mid-audit");
    assert_complete(&state, &out, n);
    assert_eq!(count(&state, "SELECT count(*) FROM seen"), n);
}

#[test]
fn sigkill_at_random_points_of_an_mbox_audit() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Sent");
    let n = big_maildir(&maildir, 12) as i64;
    let mbox = dir.path().join("sent.mbox");
    let mut text = String::new();
    let mut files: Vec<_> = std::fs::read_dir(maildir.join("cur")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for f in files {
        text.push_str("From support@northwind-supply.com Mon Nov  2 10:00:00 2026\n");
        for line in std::fs::read_to_string(f).unwrap().lines() {
            let quoted = line.trim_start_matches('>').starts_with("From ");
            text.push_str(if quoted { ">" } else { "" });
            text.push_str(line);
            text.push('\n');
        }
        text.push('\n');
    }
    std::fs::write(&mbox, &text).unwrap();
    let state = dir.path().join("state.sqlite3");
    let audit = || {
        let mut c = Command::new(bin());
        c.args(["audit", "--format", "json", "--batch", "16", "--state"]).arg(&state).arg(&mbox);
        c
    };
    let (killed, out) = audit_under_kills(&audit, &state, n, 7, 23, &mut |_| {});
    assert!(killed >= 5, "only {killed} of 7 runs were killed mid-audit");
    assert_complete(&state, &out, n);
    assert_eq!(count(&state, "SELECT count(*) FROM seen"), n);
    assert_eq!(std::fs::read_to_string(&mbox).unwrap(), text, "the mbox is untouched");
}

#[test]
fn sigkill_at_random_points_of_an_imap_audit_across_a_uidvalidity_change() {
    let Some(dc) = Dovecot::start("kill_imap_uidvalidity") else { return };
    // The fixture's messages and many more.
    let sample: Vec<String> = {
        let mut files: Vec<_> = std::fs::read_dir(repo().join("examples/sample-sent/cur")).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        files.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect()
    };
    for c in 0..6 {
        for text in &sample {
            let text = text.replacen("Message-ID: <", &format!("Message-ID: <imap{c}-"), 1).replace("Hi ", &format!("Hi ({c}) "));
            dc.append("Sent", &dovecot::crlf(text.as_bytes()));
        }
    }
    let n = (dovecot::fixture_messages().len() + 6 * sample.len()) as i64;
    let dir = tempfile::tempdir().unwrap();
    let env = "RAPPORT_TEST_KILL_PW";
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            "[mailbox.work]\nhost = \"localhost\"\nport = {}\nca-file = \"{}\"\nuser = \"{USER}\"\npassword-env = \"{env}\"\nbatch-size = 5\n",
            dc.imaps_port,
            dc.ca_file.display()
        ),
    )
    .unwrap();
    let state = dir.path().join("state.sqlite3");
    let audit = || {
        let mut c = Command::new(bin());
        c.args(["audit", "--format", "json", "--batch", "8", "--mailbox", "work", "--config"]).arg(&cfg).arg("--state").arg(&state).env(env, PASSWORD);
        c
    };
    // Half-way, the server renumbers the folder: what follows reads it again from the start.
    let (killed, out) = audit_under_kills(&audit, &state, n, 6, 37, &mut |i| {
        if i == 3 {
            dc.set_uidvalidity("Sent", 987_654);
        }
    });
    assert!(killed >= 4, "only {killed} of 6 runs were killed mid-audit");
    assert_complete(&state, &out, n);
    let (uidvalidity, mark): (u32, u32) = rusqlite::Connection::open(&state)
        .unwrap()
        .query_row("SELECT uidvalidity, last_uid FROM folders WHERE folder = 'work/Sent'", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!((uidvalidity, mark), (987_654, n as u32));
}
