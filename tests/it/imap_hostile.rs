//! `rapport audit` against a hostile IMAP server (`support/hostile_imap.rs`, a script on
//! 127.0.0.1): a huge literal, a message without RFC822.SIZE, an endless line, a trickle, an
//! unparseable FETCH, and garbage after STARTTLS. The audit runs under an address-space limit
//! with a resident scorer (the tone model runs in `rapport serve`, outside the limit).
use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::bin;
use crate::support::hostile_imap::{Behaviour, Hostile};

/// The address space the audit may use. Far below what an unbounded reader would reach (one
/// `{4294967295}` literal is 4 GiB; an endless line is as long as the server likes), far above
/// what rapport needs.
const ADDRESS_SPACE: u64 = 2 << 30;

/// A resident scorer on a socket in `dir`, so that the audit under the limit loads no model.
pub struct Scorer {
    child: Child,
    pub socket: PathBuf,
}

impl Scorer {
    pub fn start(dir: &Path) -> Scorer {
        let socket = dir.join("scorer.sock");
        let child = Command::new(bin())
            .args(["serve", "--idle-timeout", "600", "--socket"])
            .arg(&socket)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t = Instant::now();
        while !socket.exists() && t.elapsed() < Duration::from_secs(180) {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(socket.exists(), "the resident scorer did not start");
        Scorer { child, socket }
    }
}

impl Drop for Scorer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a finished child left: exit code (None when killed by a signal), output, peak memory.
pub struct Finished {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
    pub max_rss: u64,
}

/// Run `cmd` under an address-space limit and collect its peak resident memory (wait4).
pub fn run_limited(mut cmd: Command, address_space: u64) -> Finished {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit { rlim_cur: address_space, rlim_max: address_space };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    // Reaped by wait4 below, which also reports its peak memory.
    #[allow(clippy::zombie_processes)]
    let mut child = cmd.spawn().unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let o = std::thread::spawn(move || {
        let mut v = Vec::new();
        out.read_to_end(&mut v).unwrap();
        v
    });
    let e = std::thread::spawn(move || {
        let mut v = Vec::new();
        err.read_to_end(&mut v).unwrap();
        String::from_utf8_lossy(&v).into_owned()
    });
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter; the pid is our child's.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32);
    let stdout = o.join().unwrap();
    let stderr = e.join().unwrap();
    Finished {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
        stdout,
        stderr,
        max_rss: usage.ru_maxrss as u64 * 1024,
    }
}

fn config(dir: &Path, hostile: &Hostile, garbled: Option<&Hostile>, env: &str) -> PathBuf {
    let mut text = format!(
        "[mailbox.hostile]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"plaintext\"\nuser = \"u\"\npassword-env = \"{env}\"\nfolders = [\"Sent\"]\nbatch-size = 10\ntimeout-secs = 2\ncommand-timeout-secs = 3\nreconnect-attempts = 1\nreconnect-delay-secs = 0.1\n",
        hostile.port
    );
    if let Some(g) = garbled {
        text.push_str(&format!(
            "\n[mailbox.garbled]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"starttls\"\nuser = \"u\"\npassword-env = \"{env}\"\nfolders = [\"Sent\"]\ntimeout-secs = 2\ncommand-timeout-secs = 3\nreconnect-attempts = 0\n",
            g.port
        ));
    }
    let p = dir.join("config.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn audit(cfg: &Path, state: &Path, socket: &Path, mailboxes: &[&str], env: &str) -> Command {
    let mut c = Command::new(bin());
    c.args(["audit", "--format", "json", "--config"]).arg(cfg).arg("--state").arg(state);
    for m in mailboxes {
        c.args(["--mailbox", m]);
    }
    c.env("RAPPORT_SOCKET", socket).env(env, "not-a-real-password");
    c
}

#[test]
fn a_hostile_imap_server_exhausts_neither_memory_nor_time_and_the_audit_moves_past_its_bad_messages() {
    use Behaviour::*;
    let uids = BTreeMap::from([(1, Good), (2, HugeLiteral), (3, Good), (4, Unparseable), (5, EndlessLine), (6, Trickle), (7, Good), (8, NoSize), (9, Oversized), (10, Good), (11, Refused), (12, Good)]);
    let hostile = Hostile::start(uids);
    let garbled = Hostile::starttls_garbage();
    let dir = tempfile::tempdir().unwrap();
    let scorer = Scorer::start(dir.path());
    let env = "RAPPORT_TEST_HOSTILE_PW";
    let cfg = config(dir.path(), &hostile, Some(&garbled), env);
    let state = dir.path().join("state.sqlite3");

    let run = run_limited(audit(&cfg, &state, &scorer.socket, &["hostile", "garbled"], env), ADDRESS_SPACE);
    let err = &run.stderr;
    assert_eq!(run.signal, None, "killed by a signal: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(run.code, Some(2), "errors were found: {err}");
    assert!(run.max_rss < 512 << 20, "peak memory {} bytes: {err}", run.max_rss);
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap_or_else(|e| panic!("{e}: {err}"));
    // The good messages around the bad ones are audited.
    assert_eq!(v["messages"], 6, "{v}\n{err}");

    // Each bad message is its own error, saying what went wrong.
    let about = |uid: u32| -> String {
        let needle = format!("imap:hostile/Sent (uidvalidity 7, uid {uid}): ");
        err.lines().find(|l| l.contains(&needle)).unwrap_or_else(|| panic!("no error for uid {uid} in:\n{err}")).to_string()
    };
    assert!(about(2).contains("4294967295 bytes") && about(2).contains("did not read it"), "{}", about(2));
    assert!(about(4).contains("cannot read"), "{}", about(4));
    assert!(about(5).contains("line longer than") || about(5).contains("more than rapport asked for"), "{}", about(5));
    assert!(about(6).contains("command-timeout-secs"), "the deadline fired: {}", about(6));
    assert!(about(9).contains("104857600 bytes") && about(9).contains("over the limit"), "{}", about(9));
    assert!(about(11).contains("refused") && about(11).contains("SERVERBUG"), "{}", about(11));
    for uid in [1, 3, 7, 8, 10, 12] {
        assert!(!err.contains(&format!("uid {uid})")), "uid {uid} is fine: {err}");
    }
    // The STARTTLS garbage stops that mailbox only, before any password is sent.
    assert!(err.lines().any(|l| l.contains("garbled") && l.contains("TLS")), "{err}");
    assert!(garbled.commands().iter().all(|c| c.eq_ignore_ascii_case("STARTTLS")), "{:?}", garbled.commands());

    // Recorded in the state: the errors, and the folder's mark past them.
    let db = rusqlite::Connection::open(&state).unwrap();
    let mut recorded: Vec<String> = db
        .prepare("SELECT source_key FROM seen WHERE error IS NOT NULL")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    recorded.sort_by_key(|k: &String| k.rsplit(';').next().unwrap().parse::<u32>().unwrap());
    assert_eq!(recorded, ["imap:hostile/Sent;7;2", "imap:hostile/Sent;7;4", "imap:hostile/Sent;7;5", "imap:hostile/Sent;7;6", "imap:hostile/Sent;7;9", "imap:hostile/Sent;7;11"]);
    let mark: u32 = db.query_row("SELECT last_uid FROM folders WHERE folder = 'hostile/Sent'", [], |r| r.get(0)).unwrap();
    assert_eq!(mark, 12);
    drop(db);

    // Only reading commands, and bodies only with BODY.PEEK and a partial length.
    let allowed = ["CAPABILITY", "LOGIN ", "LIST ", "EXAMINE ", "NOOP", "UID SEARCH ", "UID FETCH ", "LOGOUT"];
    for c in hostile.commands() {
        let upper = c.to_ascii_uppercase();
        assert!(allowed.iter().any(|a| upper.starts_with(a)), "unexpected command {c:?}");
        if upper.contains("BODY") {
            assert!(upper.contains("BODY.PEEK[]<0."), "{c:?}");
            // The oversized message is never downloaded.
            assert!(!upper.starts_with("UID FETCH 9 ") && !upper.contains(",9") && !upper.contains(":9") && !upper.contains("9:"), "{c:?}");
        }
    }

    // The next audit has nothing new, and does not report the recorded errors again.
    let again = run_limited(audit(&cfg, &state, &scorer.socket, &["hostile"], env), ADDRESS_SPACE);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    let v: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(v["run"]["read"], 0, "{v}");
    assert_eq!(v["messages"], 6);
}
