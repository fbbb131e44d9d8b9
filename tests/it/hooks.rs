//! The mail-client hooks in `hooks/`, for real: the built `rapport` with the real model (a resident
//! scorer, as docs/hooks.md sets it up), Debian's neomutt in batch mode, the crates.io himalaya 1.x
//! with its sendmail backend, and `git send-email`. Each client sends through a capture sendmail
//! (the transport), so a test sees what was delivered, byte for byte, and what was not.
//!
//! Between the client and the wrapper sits a shim that records what the client handed over, so
//! "byte for byte" compares what the client produced with what reached the transport (neomutt and
//! himalaya add their own headers and line endings). A client that is not installed skips its
//! tests with the reason printed; scripts/install-test-deps.sh installs neomutt and builds himalaya.
#![cfg(unix)]

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::{bin, repo};

/// Settings the hooks read: cleared, so the caller's environment cannot change an outcome.
const HOOK_ENV: &[&str] = &[
    "RAPPORT",
    "RAPPORT_SENDMAIL",
    "RAPPORT_FAIL_ON",
    "RAPPORT_TIMEOUT",
    "RAPPORT_ON_ERROR",
    "RAPPORT_FORCE",
    "RAPPORT_KEEP_DIR",
    "RAPPORT_NOTIFY",
    "RAPPORT_ARGS",
    "XDG_STATE_HOME",
    "RUST_BACKTRACE",
];

/// A warm reply to a customer, CRLF line endings as many clients write them.
const FRIENDLY: &[u8] = b"From: Ann Lee <ann@example.com>\r\n\
To: Maria Garcia <maria@example.org>\r\n\
Subject: Your order\r\n\
Date: Mon, 3 Mar 2025 10:00:00 +0000\r\n\
Message-ID: <friendly.1@example.com>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Hi Maria,\r\n\
\r\n\
Thank you for your order! Your parcel is on its way and should arrive on Friday.\r\n\
Could you let me know if the delivery address is still correct?\r\n\
\r\n\
Best regards,\r\n\
Ann\r\n";

/// Shouting (R101, an error) and a bare demand (R105).
const RUDE: &[u8] = b"From: Ann Lee <ann@example.com>\n\
To: Maria Garcia <maria@example.org>\n\
Subject: Contract\n\
Date: Mon, 3 Mar 2025 10:00:00 +0000\n\
Message-ID: <rude.1@example.com>\n\
\n\
SEND THE SIGNED CONTRACT NOW.\n\
You need to fix this immediately!!\n";

/// Only warnings from the rules (a bare demand, R105), nothing at error level.
const BLUNT: &[u8] = b"From: Ann Lee <ann@example.com>\n\
To: Maria Garcia <maria@example.org>\n\
Subject: Invoice\n\
Date: Mon, 3 Mar 2025 10:00:00 +0000\n\
Message-ID: <blunt.1@example.com>\n\
\n\
Hi Maria,\n\
Send the invoice.\n\
Thanks,\n\
Ann\n";

/// Drafts as a user writes them for neomutt (`-H`) or himalaya: headers, an empty line, the text.
const FRIENDLY_DRAFT: &str = "From: Ann Lee <ann@example.com>\n\
To: Maria Garcia <maria@example.org>\n\
Subject: Your order\n\
\n\
Hi Maria,\n\
\n\
Thank you for your order! Your parcel is on its way and should arrive on Friday.\n\
Could you let me know if the delivery address is still correct?\n\
\n\
Best regards,\n\
Ann\n";

const RUDE_DRAFT: &str = "From: Ann Lee <ann@example.com>\n\
To: Maria Garcia <maria@example.org>\n\
Subject: Contract\n\
\n\
SEND THE SIGNED CONTRACT NOW.\n\
You need to fix this immediately!!\n";

/// The same rude draft, reviewed: the user sends it anyway.
fn send_anyway(draft: &str) -> String {
    draft.replacen("Subject: Contract\n", "Subject: Contract\nX-Rapport: send-anyway\n", 1)
}

fn hook(name: &str) -> PathBuf {
    repo().join("hooks").join(name)
}

/// Where `rapport` and `rapport-model` were built, side by side: the folder users put on PATH.
fn programs() -> PathBuf {
    bin().parent().unwrap().to_path_buf()
}

/// One resident scorer for all hook tests: `rapport serve` on a private socket, as the docs set it
/// up. Nothing waits for it: it exits by itself a minute after the last test.
#[allow(clippy::zombie_processes)]
fn scorer_socket() -> &'static Path {
    static SOCKET: OnceLock<PathBuf> = OnceLock::new();
    SOCKET.get_or_init(|| {
        let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        // Folders of earlier runs whose scorer has exited.
        for old in std::fs::read_dir(&tmp).into_iter().flatten().flatten() {
            let name = old.file_name().to_string_lossy().into_owned();
            if name.starts_with("hooks-scorer-") && UnixStream::connect(old.path().join("scorer.sock")).is_err() {
                let _ = std::fs::remove_dir_all(old.path());
            }
        }
        let dir = tmp.join(format!("hooks-scorer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("scorer.sock");
        let log = dir.join("serve.log");
        let mut child = Command::new(bin())
            .args(["serve", "--idle-timeout", "60", "--socket"])
            .arg(&socket)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while UnixStream::connect(&socket).is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("rapport serve exited ({status}):\n{}", std::fs::read_to_string(&log).unwrap_or_default());
            }
            assert!(start.elapsed() < Duration::from_secs(180), "rapport serve was not ready after 180 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        socket
    })
}

fn write_script(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// What a sendmail received: the message on its stdin and its arguments.
#[derive(Debug, PartialEq)]
struct Delivery {
    message: Vec<u8>,
    args: Vec<String>,
}

/// A sandbox for one test: HOME, the capture sendmail (the transport), the shim a client calls as
/// its sendmail (it records what the client handed over, then runs the wrapper), and the folder
/// where stopped messages are kept.
struct Sandbox {
    dir: tempfile::TempDir,
}

/// The rapport a test puts in the hook's way.
#[derive(Clone, Copy, Debug)]
enum Rapport {
    /// The real one, on PATH beside rapport-model.
    Real,
    /// Not installed: not on PATH, RAPPORT unset.
    Missing,
    /// Killed by SIGSEGV.
    Crashes,
    /// Exits 3, a status `rapport check` never uses.
    Exits3,
    /// Never finishes (the hooks' timeout is then 2 s).
    Hangs,
}

const BROKEN: [Rapport; 4] = [Rapport::Missing, Rapport::Crashes, Rapport::Exits3, Rapport::Hangs];

impl Sandbox {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        write_script(
            &dir.path().join("capture-sendmail"),
            &format!("#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done >'{d}/sent.args'\ncat >'{d}/sent.eml'\n"),
        );
        write_script(
            &dir.path().join("client-sendmail"),
            &format!(
                "#!/bin/sh\ncat >'{d}/handed.eml'\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done >'{d}/handed.args'\nexec '{}' \"$@\" <'{d}/handed.eml'\n",
                hook("rapport-sendmail").display()
            ),
        );
        write_script(&dir.path().join("crashing-rapport"), "#!/bin/sh\nkill -SEGV $$\n");
        write_script(&dir.path().join("exit3-rapport"), "#!/bin/sh\necho 'something odd' >&2\nexit 3\n");
        write_script(&dir.path().join("hanging-rapport"), &format!("#!/bin/sh\necho $$ >'{d}/hanging.pid'\nexec sleep 600\n"));
        std::fs::create_dir(dir.path().join("home")).unwrap();
        std::fs::create_dir(dir.path().join("tmp")).unwrap();
        Sandbox { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The hook environment: rapport and rapport-model on PATH (unless `rapport` says otherwise),
    /// the shared resident scorer, the capture sendmail as the real one.
    fn env(&self, cmd: &mut Command, rapport: Rapport) {
        for var in HOOK_ENV {
            cmd.env_remove(var);
        }
        let system = "/usr/local/bin:/usr/bin:/bin";
        let path = match rapport {
            Rapport::Missing => system.to_string(),
            _ => format!("{}:{system}", programs().display()),
        };
        cmd.env("PATH", path)
            .env("HOME", self.path("home"))
            .env("TMPDIR", self.path("tmp"))
            .env("RAPPORT_SOCKET", scorer_socket())
            .env("RAPPORT_SENDMAIL", self.path("capture-sendmail"))
            .env("RAPPORT_KEEP_DIR", self.path("kept"));
        match rapport {
            Rapport::Real | Rapport::Missing => {}
            Rapport::Crashes => {
                cmd.env("RAPPORT", self.path("crashing-rapport"));
            }
            Rapport::Exits3 => {
                cmd.env("RAPPORT", self.path("exit3-rapport"));
            }
            Rapport::Hangs => {
                cmd.env("RAPPORT", self.path("hanging-rapport")).env("RAPPORT_TIMEOUT", "2");
            }
        }
    }

    fn recorded(&self, name: &str) -> Option<Delivery> {
        let message = std::fs::read(self.path(&format!("{name}.eml"))).ok()?;
        let args = std::fs::read(self.path(&format!("{name}.args"))).unwrap_or_default();
        let args = args.split(|b| *b == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
        Some(Delivery { message, args })
    }

    /// What the client handed to its sendmail (the wrapper).
    fn handed(&self) -> Delivery {
        self.recorded("handed").expect("the client never called its sendmail")
    }

    /// What reached the transport, if anything.
    fn delivered(&self) -> Option<Delivery> {
        self.recorded("sent")
    }

    /// The copies of stopped messages in RAPPORT_KEEP_DIR.
    fn kept(&self) -> Vec<Vec<u8>> {
        let Ok(entries) = std::fs::read_dir(self.path("kept")) else { return Vec::new() };
        entries.map(|e| std::fs::read(e.unwrap().path()).unwrap()).collect()
    }
}

/// Run `cmd` with `stdin`, in `sandbox` with `rapport`, plus `env`.
fn run(sandbox: &Sandbox, mut cmd: Command, stdin: &[u8], rapport: Rapport, env: &[(&str, &str)]) -> Output {
    sandbox.env(&mut cmd, rapport);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let mut input = child.stdin.take().unwrap();
    let bytes = stdin.to_vec();
    // A program that does not read its stdin (git's hook takes a file) closes the pipe: fine.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&bytes);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or_else(|| panic!("killed: {out:?}"))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// What the wrapper says when rapport could not check: the reason for each kind of broken rapport.
fn reason(rapport: Rapport) -> &'static str {
    match rapport {
        Rapport::Real => unreachable!(),
        Rapport::Missing => "rapport is not installed where this hook looks",
        Rapport::Crashes => "rapport crashed (killed by signal SEGV)",
        Rapport::Exits3 => "rapport check failed (exit status 3)",
        Rapport::Hangs => "did not finish within 2 s",
    }
}

/// `rapport check` itself on `message`: the hooks are tested against its verdict, and a fixture
/// the model reads differently than expected fails here, clearly.
fn assert_rapport_exits(message: &[u8], expected: i32, args: &[&str]) {
    let sandbox = Sandbox::new();
    let mut cmd = Command::new(bin());
    cmd.arg("check").args(args).arg("-");
    let out = run(&sandbox, cmd, message, Rapport::Real, &[]);
    assert_eq!(code(&out), expected, "precondition: rapport check {args:?} on this fixture:\n{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
}

/// The wrapper called directly, as a client would, with these sendmail arguments.
const SENDMAIL_ARGS: &[&str] = &["-oem", "-oi", "--", "maria@example.org", "Maria Garcia <maria@example.org>"];

fn wrapper(sandbox: &Sandbox, message: &[u8], rapport: Rapport, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(hook("rapport-sendmail"));
    cmd.args(SENDMAIL_ARGS);
    run(sandbox, cmd, message, rapport, env)
}

fn sendmail_args() -> Vec<String> {
    SENDMAIL_ARGS.iter().map(|s| s.to_string()).collect()
}

/// `message` without its `X-Rapport: send-anyway` header line.
fn without_x_rapport(message: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(message.to_vec()).unwrap();
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        if !line.to_ascii_lowercase().starts_with("x-rapport:") {
            out.push_str(line);
        }
    }
    out.into_bytes()
}

// ---- the wrapper itself -------------------------------------------------------------------------

#[test]
fn wrapper_passes_a_clean_message_byte_for_byte_with_its_arguments() {
    assert_rapport_exits(FRIENDLY, 0, &[]);
    let sandbox = Sandbox::new();
    let out = wrapper(&sandbox, FRIENDLY, Rapport::Real, &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(sandbox.delivered(), Some(Delivery { message: FRIENDLY.to_vec(), args: sendmail_args() }));
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "a clean message goes quietly: {out:?}");
    assert!(sandbox.kept().is_empty());
    assert_eq!(leftovers(&sandbox), Vec::<String>::new());
}

#[test]
fn wrapper_stops_findings_and_keeps_the_message() {
    assert_rapport_exits(RUDE, 1, &[]);
    let sandbox = Sandbox::new();
    let out = wrapper(&sandbox, RUDE, Rapport::Real, &[]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(sandbox.delivered(), None, "a flagged message reached the transport");
    let err = stderr(&out);
    assert!(err.contains("message NOT sent: it could be misread"), "{err}");
    assert!(err.contains("R101") && err.contains("R105"), "the findings must be shown:\n{err}");
    assert!(err.contains("X-Rapport: send-anyway"), "how to send it anyway:\n{err}");
    assert_eq!(sandbox.kept(), vec![RUDE.to_vec()]);
}

#[test]
fn wrapper_fail_on_error_lets_warnings_through() {
    assert_rapport_exits(BLUNT, 1, &[]);
    assert_rapport_exits(BLUNT, 0, &["--fail-on", "error"]);
    let sandbox = Sandbox::new();
    let out = wrapper(&sandbox, BLUNT, Rapport::Real, &[("RAPPORT_FAIL_ON", "error")]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(sandbox.delivered().unwrap().message, BLUNT);
}

#[test]
fn wrapper_fails_closed_when_rapport_is_missing_crashes_exits_oddly_or_hangs() {
    for rapport in BROKEN {
        let sandbox = Sandbox::new();
        let out = wrapper(&sandbox, FRIENDLY, rapport, &[]);
        let err = stderr(&out);
        assert_eq!(code(&out), 2, "{rapport:?}: {err}");
        assert_eq!(sandbox.delivered(), None, "{rapport:?}: an unchecked message reached the transport");
        assert!(err.contains("message NOT sent: it could not be checked"), "{rapport:?}: {err}");
        assert!(err.contains(reason(rapport)), "{rapport:?}: {err}");
        assert_eq!(sandbox.kept(), vec![FRIENDLY.to_vec()], "{rapport:?}: the message must be kept");
        assert_eq!(leftovers(&sandbox), Vec::<String>::new(), "{rapport:?}");
    }
}

#[test]
fn wrapper_times_out_after_10_s_by_default() {
    let sandbox = Sandbox::new();
    let hanging = sandbox.path("hanging-rapport");
    let start = Instant::now();
    let out = wrapper(&sandbox, FRIENDLY, Rapport::Real, &[("RAPPORT", hanging.to_str().unwrap())]);
    let took = start.elapsed();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("did not finish within 10 s"), "{}", stderr(&out));
    assert!(took >= Duration::from_secs(10), "stopped after {took:?}, before the default timeout");
    assert_eq!(sandbox.delivered(), None);
}

/// The wrapper's temporary folders left in the sandbox's TMPDIR.
fn leftovers(sandbox: &Sandbox) -> Vec<String> {
    std::fs::read_dir(sandbox.path("tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("rapport-"))
        .collect()
}

#[test]
fn wrapper_killed_while_checking_leaves_nothing_behind() {
    // A client that gives up (TERM) while rapport still runs: rapport goes too, and the temporary
    // folder with the message.
    let sandbox = Sandbox::new();
    let mut cmd = Command::new(hook("rapport-sendmail"));
    cmd.args(SENDMAIL_ARGS);
    sandbox.env(&mut cmd, Rapport::Hangs);
    let mut child = cmd.env("RAPPORT_TIMEOUT", "300").stdin(File::open(repo().join("examples/drafts/friendly.eml")).unwrap()).stderr(Stdio::null()).spawn().unwrap();
    let pid_file = sandbox.path("hanging.pid");
    let start = Instant::now();
    while std::fs::read_to_string(&pid_file).map(|p| p.trim().is_empty()).unwrap_or(true) {
        assert!(start.elapsed() < Duration::from_secs(30), "rapport was never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let rapport: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
    // SAFETY: a signal to the wrapper this test started.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143), "{status}");
    let start = Instant::now();
    // SAFETY: kill with signal 0 only asks whether the process exists.
    while unsafe { libc::kill(rapport, 0) } == 0 {
        assert!(start.elapsed() < Duration::from_secs(10), "rapport (pid {rapport}) outlived the wrapper");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(leftovers(&sandbox), Vec::<String>::new());
    assert_eq!(sandbox.delivered(), None);
}

#[test]
fn wrapper_on_error_send_opts_out_of_failing_closed() {
    for rapport in BROKEN {
        let sandbox = Sandbox::new();
        let out = wrapper(&sandbox, FRIENDLY, rapport, &[("RAPPORT_ON_ERROR", "send")]);
        let err = stderr(&out);
        assert_eq!(code(&out), 0, "{rapport:?}: {err}");
        assert_eq!(sandbox.delivered().map(|d| d.message), Some(FRIENDLY.to_vec()), "{rapport:?}");
        assert!(err.contains("UNCHECKED") && err.contains(reason(rapport)), "{rapport:?}: {err}");
    }
}

#[test]
fn wrapper_refuses_settings_it_does_not_understand() {
    for (var, value) in [("RAPPORT_ON_ERROR", "sned"), ("RAPPORT_TIMEOUT", "ten"), ("RAPPORT_TIMEOUT", "0")] {
        let sandbox = Sandbox::new();
        let out = wrapper(&sandbox, FRIENDLY, Rapport::Real, &[(var, value)]);
        assert_eq!(code(&out), 2, "{var}={value}: {}", stderr(&out));
        assert_eq!(sandbox.delivered(), None, "{var}={value}");
        assert!(stderr(&out).contains(var), "{var}={value}: {}", stderr(&out));
    }
}

#[test]
fn wrapper_sends_anyway_on_the_header_and_removes_it() {
    // The header, folded over two lines, among others; CRLF.
    let reviewed = b"From: Ann Lee <ann@example.com>\r\nX-Rapport: send-\r\n anyway\r\nTo: Maria Garcia <maria@example.org>\r\nSubject: Contract\r\n\r\nSEND THE SIGNED CONTRACT NOW.\r\n";
    let expected = b"From: Ann Lee <ann@example.com>\r\nTo: Maria Garcia <maria@example.org>\r\nSubject: Contract\r\n\r\nSEND THE SIGNED CONTRACT NOW.\r\n";
    let sandbox = Sandbox::new();
    // Even with rapport missing: a reviewed message is not checked again.
    let out = wrapper(&sandbox, reviewed, Rapport::Missing, &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(sandbox.delivered(), Some(Delivery { message: expected.to_vec(), args: sendmail_args() }));
    assert!(stderr(&out).contains("without the tone check"), "{}", stderr(&out));
}

#[test]
fn wrapper_does_not_take_the_header_from_the_body() {
    // "X-Rapport: send-anyway" quoted in the text is not a header: the message is checked.
    let mut message = RUDE.to_vec();
    message.extend_from_slice(b"X-Rapport: send-anyway\n");
    let sandbox = Sandbox::new();
    let out = wrapper(&sandbox, &message, Rapport::Real, &[]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(sandbox.delivered(), None);
}

#[test]
fn wrapper_sends_anyway_with_rapport_force() {
    let sandbox = Sandbox::new();
    let out = wrapper(&sandbox, RUDE, Rapport::Real, &[("RAPPORT_FORCE", "1")]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(sandbox.delivered().unwrap().message, RUDE);
    assert!(stderr(&out).contains("RAPPORT_FORCE=1"), "{}", stderr(&out));
}

#[test]
fn wrapper_passes_bounces_on_unchecked() {
    // bounce-message re-sends someone else's message with Resent-* headers.
    let mut bounced = b"Resent-From: Ann Lee <ann@example.com>\nResent-To: team@example.com\n".to_vec();
    bounced.extend_from_slice(RUDE);
    let sandbox = Sandbox::new();
    let out = wrapper(&sandbox, &bounced, Rapport::Real, &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(sandbox.delivered().unwrap().message, bounced);
}

#[test]
fn wrapper_passes_on_the_transports_failure() {
    let sandbox = Sandbox::new();
    write_script(&sandbox.path("failing-sendmail"), "#!/bin/sh\ncat >/dev/null\necho 'queue full' >&2\nexit 75\n");
    let failing = sandbox.path("failing-sendmail");
    let out = wrapper(&sandbox, FRIENDLY, Rapport::Real, &[("RAPPORT_SENDMAIL", failing.to_str().unwrap())]);
    assert_eq!(code(&out), 75, "the wrapper must pass on sendmail's status: {}", stderr(&out));
    assert!(stderr(&out).contains("queue full"));
    let out = wrapper(&sandbox, FRIENDLY, Rapport::Real, &[("RAPPORT_SENDMAIL", "/nonexistent/sendmail")]);
    assert_eq!(code(&out), 69, "{}", stderr(&out));
    assert!(stderr(&out).contains("RAPPORT_SENDMAIL"), "{}", stderr(&out));
}

#[test]
fn wrapper_keeps_stopped_messages_privately_under_the_state_folder() {
    let sandbox = Sandbox::new();
    let state = sandbox.path("state");
    // An empty RAPPORT_KEEP_DIR counts as unset: the default folder.
    let out = wrapper(&sandbox, RUDE, Rapport::Real, &[("RAPPORT_KEEP_DIR", ""), ("XDG_STATE_HOME", state.to_str().unwrap())]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let kept_dir = state.join("rapport/blocked");
    let files: Vec<PathBuf> = std::fs::read_dir(&kept_dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1);
    assert_eq!(std::fs::read(&files[0]).unwrap(), RUDE);
    assert!(stderr(&out).contains(files[0].to_str().unwrap()), "the user is told where: {}", stderr(&out));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&kept_dir), 0o700);
    assert_eq!(mode(&files[0]), 0o600);
}

#[test]
fn wrapper_notifies_when_it_stops_a_message() {
    let sandbox = Sandbox::new();
    let note = sandbox.path("note");
    write_script(&sandbox.path("notify"), &format!("#!/bin/sh\nprintf '%s' \"$1\" >'{}.tmp' && mv '{0}.tmp' '{0}'\n", note.display()));
    let notify = sandbox.path("notify");
    let out = wrapper(&sandbox, RUDE, Rapport::Real, &[("RAPPORT_NOTIFY", notify.to_str().unwrap())]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    // The notification runs in the background: wait for it.
    let start = Instant::now();
    while !note.exists() {
        assert!(start.elapsed() < Duration::from_secs(30), "RAPPORT_NOTIFY was not run");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(std::fs::read_to_string(&note).unwrap(), "rapport: message NOT sent: it could be misread");
}

#[test]
fn the_gate_is_the_same_in_both_hooks() {
    let block = |name: &str| {
        let text = std::fs::read_to_string(hook(name)).unwrap();
        let start = text.find("# ---- gate:").unwrap_or_else(|| panic!("{name}: no gate block"));
        let end = text.find("# ---- end of gate ----").unwrap_or_else(|| panic!("{name}: no end of gate"));
        text[start..end].to_string()
    };
    assert_eq!(block("rapport-sendmail"), block("git-sendemail-validate"), "copy the gate block from one hook to the other");
}

// ---- NeoMutt (Debian's, batch mode) -------------------------------------------------------------

fn neomutt_program() -> Option<PathBuf> {
    ["/usr/bin/neomutt", "/usr/local/bin/neomutt"].iter().map(PathBuf::from).find(|p| p.is_file()).or_else(|| {
        eprintln!("skipped: neomutt is not installed (scripts/install-test-deps.sh installs it)");
        None
    })
}

/// neomutt in batch mode, as scripts send mail: `neomutt -s SUBJECT -- maria@example.org < TEXT`.
/// It builds the message (From from the configuration, `headers` as `my_hdr`) and hands it to its
/// $sendmail, the shim in front of the wrapper; its stderr is what the user sees.
fn neomutt(sandbox: &Sandbox, text: &str, headers: &[&str], rapport: Rapport, extra_rc: &str, env: &[(&str, &str)]) -> Option<Output> {
    let program = neomutt_program()?;
    let rc = sandbox.path("neomuttrc");
    let my_hdr: String = headers.iter().map(|h| format!("my_hdr {h}\n")).collect();
    std::fs::write(
        &rc,
        format!(
            "set sendmail=\"{}\"\nset sendmail_wait=0\nset record=\"\"\nset postponed=\"{}\"\nset use_from=yes\nset from=\"Ann Lee <ann@example.com>\"\nset hostname=\"example.com\"\nset send_charset=\"utf-8\"\n{my_hdr}{extra_rc}",
            sandbox.path("client-sendmail").display(),
            sandbox.path("postponed").display()
        ),
    )
    .unwrap();
    let mut cmd = Command::new(program);
    cmd.arg("-n").arg("-F").arg(&rc).args(["-s", "Your order", "--", "Maria Garcia <maria@example.org>"]);
    Some(run(sandbox, cmd, text.as_bytes(), rapport, env))
}

/// The text of a draft: what follows its empty line.
fn text(draft: &str) -> &str {
    draft.split_once("\n\n").unwrap().1
}

#[test]
fn neomutt_delivers_a_clean_message_byte_for_byte() {
    let sandbox = Sandbox::new();
    let Some(out) = neomutt(&sandbox, text(FRIENDLY_DRAFT), &[], Rapport::Real, "", &[]) else { return };
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let handed = sandbox.handed();
    assert!(String::from_utf8_lossy(&handed.message).contains("Message-ID:"), "neomutt built the message");
    assert_eq!(sandbox.delivered(), Some(handed), "the transport got other bytes than neomutt sent");
}

#[test]
fn neomutt_never_delivers_a_flagged_message_and_the_draft_is_kept() {
    let sandbox = Sandbox::new();
    let Some(out) = neomutt(&sandbox, text(RUDE_DRAFT), &[], Rapport::Real, "", &[]) else { return };
    let err = stderr(&out);
    assert_ne!(code(&out), 0, "neomutt must report the failed send: {err}");
    assert_eq!(sandbox.delivered(), None, "a flagged message reached the transport");
    // What the user sees: neomutt's own error, and the wrapper's reasons with the findings.
    assert!(err.contains("Error sending message"), "{err}");
    assert!(err.contains("rapport: message NOT sent: it could be misread") && err.contains("R101"), "{err}");
    assert_eq!(sandbox.kept(), vec![sandbox.handed().message], "the message neomutt gave must be kept");
}

#[test]
fn neomutt_fails_closed_when_rapport_is_missing_crashes_exits_oddly_or_hangs() {
    for rapport in BROKEN {
        let sandbox = Sandbox::new();
        let Some(out) = neomutt(&sandbox, text(FRIENDLY_DRAFT), &[], rapport, "", &[]) else { return };
        let err = stderr(&out);
        assert_ne!(code(&out), 0, "{rapport:?}: {err}");
        assert_eq!(sandbox.delivered(), None, "{rapport:?}: an unchecked message reached the transport");
        assert!(err.contains("Error sending message"), "{rapport:?}: {err}");
        assert!(err.contains("it could not be checked") && err.contains(reason(rapport)), "{rapport:?}: {err}");
        assert_eq!(sandbox.kept(), vec![sandbox.handed().message], "{rapport:?}: the message must be kept");
    }
}

#[test]
fn neomutt_sends_a_reviewed_message_anyway_without_the_header() {
    let sandbox = Sandbox::new();
    let Some(out) = neomutt(&sandbox, text(RUDE_DRAFT), &["X-Rapport: send-anyway"], Rapport::Real, "", &[]) else { return };
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let handed = sandbox.handed();
    assert!(String::from_utf8_lossy(&handed.message).contains("X-Rapport: send-anyway"), "precondition: neomutt sends the my_hdr header");
    let delivered = sandbox.delivered().expect("the reviewed message was sent");
    assert_eq!(delivered.message, without_x_rapport(&handed.message));
    assert_eq!(delivered.args, handed.args);

    let sandbox = Sandbox::new();
    let Some(out) = neomutt(&sandbox, text(RUDE_DRAFT), &[], Rapport::Real, "", &[("RAPPORT_FORCE", "1")]) else { return };
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(sandbox.delivered(), Some(sandbox.handed()));
}

#[test]
fn neomutt_setenv_reaches_the_wrapper() {
    // What the compose-menu macro in docs/hooks.md relies on: `setenv` inside neomutt sets the
    // wrapper's environment.
    let sandbox = Sandbox::new();
    let Some(out) = neomutt(&sandbox, text(RUDE_DRAFT), &[], Rapport::Real, "setenv RAPPORT_FORCE 1\n", &[]) else { return };
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(sandbox.delivered(), Some(sandbox.handed()));
    assert!(stderr(&out).contains("RAPPORT_FORCE=1"), "{}", stderr(&out));
}

#[test]
fn neomutt_on_error_send_delivers_unchecked() {
    let sandbox = Sandbox::new();
    let Some(out) = neomutt(&sandbox, text(FRIENDLY_DRAFT), &[], Rapport::Missing, "", &[("RAPPORT_ON_ERROR", "send")]) else { return };
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(sandbox.delivered(), Some(sandbox.handed()));
    assert!(stderr(&out).contains("UNCHECKED"), "{}", stderr(&out));
}

#[test]
fn neomutt_with_background_delivery_reports_success_but_the_stopped_message_is_kept() {
    // $sendmail_wait < 0 puts sendmail in the background: neomutt never learns that the message was
    // stopped (docs/hooks.md: keep it at 0). The wrapper's copy is then the only one left.
    let sandbox = Sandbox::new();
    let Some(out) = neomutt(&sandbox, text(RUDE_DRAFT), &[], Rapport::Real, "set sendmail_wait=-1\n", &[]) else { return };
    assert_eq!(code(&out), 0, "neomutt believes it sent the message: {}", stderr(&out));
    let start = Instant::now();
    while sandbox.kept().is_empty() {
        assert!(start.elapsed() < Duration::from_secs(120), "the stopped message was not kept");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(sandbox.kept(), vec![sandbox.handed().message]);
    assert_eq!(sandbox.delivered(), None);
}

// ---- himalaya 1.x (crates.io), sendmail backend ---------------------------------------------------

/// The himalaya binary with the sendmail backend: $RAPPORT_HIMALAYA, else the one
/// scripts/install-test-deps.sh builds into ~/.cache/rapport/himalaya (himalaya 2 has no sendmail
/// backend).
fn himalaya_program() -> Option<PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|c| c.join("rapport/himalaya/bin/himalaya"));
    let program = std::env::var_os("RAPPORT_HIMALAYA").map(PathBuf::from).or(cache);
    let Some(program) = program.filter(|p| p.is_file()) else {
        eprintln!("skipped: himalaya 1.x is not built (scripts/install-test-deps.sh builds it into ~/.cache/rapport/himalaya, or set RAPPORT_HIMALAYA)");
        return None;
    };
    let version = Command::new(&program).arg("--version").output().ok().map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    if !version.contains("+sendmail") {
        eprintln!("skipped: {} has no sendmail backend ({version:?}); scripts/install-test-deps.sh builds one", program.display());
        return None;
    }
    Some(program)
}

/// A himalaya configuration whose account sends with `cmd` through its sendmail backend.
fn himalaya_config(sandbox: &Sandbox, cmd: &str, extra: &str) -> PathBuf {
    let config = sandbox.path("himalaya.toml");
    std::fs::write(
        &config,
        format!(
            "[accounts.work]\ndefault = true\nemail = \"ann@example.com\"\ndisplay-name = \"Ann Lee\"\nmessage.send.backend.type = \"sendmail\"\nmessage.send.backend.cmd = \"{cmd}\"\nmessage.send.save-copy = false\n{extra}"
        ),
    )
    .unwrap();
    config
}

/// `himalaya message send` with the draft on stdin, its sendmail backend being the shim in front
/// of the wrapper (`-t`: the real sendmail takes the recipients from the headers).
fn himalaya(sandbox: &Sandbox, draft: &str, rapport: Rapport, env: &[(&str, &str)]) -> Option<Output> {
    let program = himalaya_program()?;
    let config = himalaya_config(sandbox, &format!("{} -t", sandbox.path("client-sendmail").display()), "");
    let mut cmd = Command::new(program);
    cmd.arg("-c").arg(config).args(["message", "send"]);
    Some(run(sandbox, cmd, draft.as_bytes(), rapport, env))
}

#[test]
fn himalaya_delivers_a_clean_message_byte_for_byte() {
    let sandbox = Sandbox::new();
    let Some(out) = himalaya(&sandbox, FRIENDLY_DRAFT, Rapport::Real, &[]) else { return };
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let handed = sandbox.handed();
    assert_eq!(handed.args, ["-t"]);
    assert_eq!(sandbox.delivered(), Some(handed), "the transport got other bytes than himalaya sent");
}

#[test]
fn himalaya_never_delivers_a_flagged_message_and_shows_why() {
    let sandbox = Sandbox::new();
    let Some(out) = himalaya(&sandbox, RUDE_DRAFT, Rapport::Real, &[]) else { return };
    let err = stderr(&out);
    assert_ne!(code(&out), 0, "{err}");
    assert_eq!(sandbox.delivered(), None, "a flagged message reached the transport");
    assert!(err.contains("rapport: message NOT sent: it could be misread") && err.contains("R101"), "himalaya shows the wrapper's reasons:\n{err}");
    assert_eq!(sandbox.kept(), vec![sandbox.handed().message]);
}

#[test]
fn himalaya_fails_closed_when_rapport_is_missing_crashes_exits_oddly_or_hangs() {
    for rapport in BROKEN {
        let sandbox = Sandbox::new();
        let Some(out) = himalaya(&sandbox, FRIENDLY_DRAFT, rapport, &[]) else { return };
        let err = stderr(&out);
        assert_ne!(code(&out), 0, "{rapport:?}: {err}");
        assert_eq!(sandbox.delivered(), None, "{rapport:?}: an unchecked message reached the transport");
        assert!(err.contains("it could not be checked") && err.contains(reason(rapport)), "{rapport:?}: {err}");
        assert_eq!(sandbox.kept(), vec![sandbox.handed().message], "{rapport:?}: the message must be kept");
    }
}

#[test]
fn himalaya_sends_a_reviewed_message_anyway_and_on_error_send() {
    let sandbox = Sandbox::new();
    let Some(out) = himalaya(&sandbox, &send_anyway(RUDE_DRAFT), Rapport::Real, &[]) else { return };
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let handed = sandbox.handed();
    assert!(String::from_utf8_lossy(&handed.message).contains("X-Rapport: send-anyway"), "precondition");
    assert_eq!(sandbox.delivered().unwrap().message, without_x_rapport(&handed.message));

    let sandbox = Sandbox::new();
    let Some(out) = himalaya(&sandbox, FRIENDLY_DRAFT, Rapport::Crashes, &[("RAPPORT_ON_ERROR", "send")]) else { return };
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(sandbox.delivered(), Some(sandbox.handed()));
}

#[test]
fn himalaya_pre_send_hook_cannot_stop_a_send() {
    // Why the hook is a sendmail wrapper: himalaya logs a failing message.send.pre-hook and sends
    // the message anyway.
    let Some(program) = himalaya_program() else { return };
    let sandbox = Sandbox::new();
    let config = himalaya_config(&sandbox, &sandbox.path("capture-sendmail").display().to_string(), "message.send.pre-hook = \"exit 1\"\n");
    let mut cmd = Command::new(program);
    cmd.arg("-c").arg(config).args(["message", "send"]);
    let out = run(&sandbox, cmd, RUDE_DRAFT.as_bytes(), Rapport::Real, &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(sandbox.delivered().is_some(), "himalaya honoured a failing pre-send hook; the docs can say so");
}

#[test]
fn himalaya_send_command_gated_for_smtp_accounts() {
    // For accounts that send over SMTP (or himalaya 2, which has no sendmail backend): the wrapper
    // runs `himalaya message send` itself, as the "sendmail", only when the draft passes.
    let Some(program) = himalaya_program() else { return };
    for (draft, passes) in [(FRIENDLY_DRAFT, true), (RUDE_DRAFT, false)] {
        let sandbox = Sandbox::new();
        let config = himalaya_config(&sandbox, &sandbox.path("capture-sendmail").display().to_string(), "");
        let mut cmd = Command::new(hook("rapport-sendmail"));
        cmd.arg("-c").arg(&config).args(["message", "send"]);
        let out = run(&sandbox, cmd, draft.as_bytes(), Rapport::Real, &[("RAPPORT_SENDMAIL", program.to_str().unwrap())]);
        assert_eq!(code(&out) == 0, passes, "{}", stderr(&out));
        assert_eq!(sandbox.delivered().is_some(), passes, "{}", stderr(&out));
    }
}

// ---- git send-email ------------------------------------------------------------------------------

/// A repository with one commit whose message is `message` and whose diff shouts (only the prose
/// is checked), its patch, and the validate hook installed; `None` when git send-email is missing.
fn git_repo(sandbox: &Sandbox, message: &str) -> Option<PathBuf> {
    let probe = Command::new("git").args(["send-email", "--help"]).stdout(Stdio::null()).stderr(Stdio::null()).status();
    let has = Command::new("git").arg("--exec-path").output().ok().map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()).join("git-send-email").is_file());
    if probe.is_err() || has != Some(true) {
        eprintln!("skipped: git send-email is not installed (Debian: git-email)");
        return None;
    }
    let repo_dir = sandbox.path("repo");
    let git = |args: &[&str]| {
        let out = Command::new("git").args(args).current_dir(&repo_dir).env("HOME", sandbox.path("home")).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    std::fs::create_dir(&repo_dir).unwrap();
    git(&["init", "-q"]);
    git(&["config", "user.name", "Ann Lee"]);
    git(&["config", "user.email", "ann@example.com"]);
    std::fs::write(repo_dir.join("net.rs"), "const MAX_RETRIES: u32 = 3;\n").unwrap();
    git(&["add", "net.rs"]);
    git(&["commit", "-qm", "net: the retry limit"]);
    std::fs::write(repo_dir.join("net.rs"), "const MAX_RETRIES: u32 = 5; // DO NOT LOWER THIS EVER AGAIN!!\n").unwrap();
    git(&["commit", "-qam", message]);
    git(&["format-patch", "-q", "-1", "-o", "../patches"]);
    let hooks = sandbox.path("git-hooks");
    std::fs::create_dir(&hooks).unwrap();
    std::fs::copy(hook("git-sendemail-validate"), hooks.join("sendemail-validate")).unwrap();
    git(&["config", "core.hooksPath", hooks.to_str().unwrap()]);
    let patch = std::fs::read_dir(sandbox.path("patches")).unwrap().next().unwrap().unwrap().path();
    Some(patch)
}

fn git_send_email(sandbox: &Sandbox, patch: &Path, rapport: Rapport, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("git");
    cmd.current_dir(sandbox.path("repo"))
        .args(["send-email", "--to=maria@example.org", "--confirm=never", "--quiet"])
        .arg(format!("--sendmail-cmd={}", sandbox.path("capture-sendmail").display()))
        .arg(patch);
    let before = std::fs::read(patch).unwrap();
    let out = run(sandbox, cmd, b"", rapport, env);
    assert_eq!(std::fs::read(patch).unwrap(), before, "the patch file was modified");
    out
}

const POLITE_COMMIT: &str = "net: raise the upload retry limit\n\nThanks to Maria for the report. Slow connections sometimes need more than\nthree attempts to finish an upload, so this raises the limit to five.";

const RUDE_COMMIT: &str = "net: raise the upload retry limit\n\nWHY DID NOBODY FIX THIS BEFORE?? You never test your code.";

#[test]
fn git_send_email_sends_a_polite_patch_even_when_its_diff_shouts() {
    let sandbox = Sandbox::new();
    let Some(patch) = git_repo(&sandbox, POLITE_COMMIT) else { return };
    let out = git_send_email(&sandbox, &patch, Rapport::Real, &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let sent = sandbox.delivered().expect("the patch was sent");
    assert!(String::from_utf8_lossy(&sent.message).contains("DO NOT LOWER THIS"), "the whole patch went out");
}

#[test]
fn git_send_email_never_sends_a_rude_commit_message() {
    let sandbox = Sandbox::new();
    let Some(patch) = git_repo(&sandbox, RUDE_COMMIT) else { return };
    let out = git_send_email(&sandbox, &patch, Rapport::Real, &[]);
    let err = stderr(&out);
    assert_ne!(code(&out), 0, "{err}");
    assert_eq!(sandbox.delivered(), None);
    assert!(err.contains("NOT sent: it could be misread") && err.contains("R101") && err.contains("R106"), "{err}");

    let out = git_send_email(&sandbox, &patch, Rapport::Real, &[("RAPPORT_FORCE", "1")]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(sandbox.delivered().is_some(), "RAPPORT_FORCE=1 sends it");
}

#[test]
fn git_send_email_fails_closed_when_rapport_is_missing_crashes_exits_oddly_or_hangs() {
    for rapport in BROKEN {
        let sandbox = Sandbox::new();
        let Some(patch) = git_repo(&sandbox, POLITE_COMMIT) else { return };
        let out = git_send_email(&sandbox, &patch, rapport, &[]);
        let err = stderr(&out);
        assert_ne!(code(&out), 0, "{rapport:?}: {err}");
        assert_eq!(sandbox.delivered(), None, "{rapport:?}");
        assert!(err.contains("it could not be checked") && err.contains(reason(rapport)), "{rapport:?}: {err}");

        let out = git_send_email(&sandbox, &patch, rapport, &[("RAPPORT_ON_ERROR", "send")]);
        assert_eq!(code(&out), 0, "{rapport:?}: {}", stderr(&out));
        assert!(sandbox.delivered().is_some(), "{rapport:?}: RAPPORT_ON_ERROR=send sends it");
    }
}

#[test]
fn git_hook_needs_a_message_file() {
    let sandbox = Sandbox::new();
    let out = run(&sandbox, Command::new(hook("git-sendemail-validate")), b"", Rapport::Real, &[]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("usage"));
    let mut cmd = Command::new(hook("git-sendemail-validate"));
    cmd.arg("/nonexistent/0001.patch");
    let out = run(&sandbox, cmd, b"", Rapport::Real, &[]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
}
