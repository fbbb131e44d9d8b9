//! The mail-client hooks in `hooks/`, run for real against the built `rapport` binary (and its
//! model): what they let through reaches the (fake) sendmail, himalaya or git byte for byte, what
//! they stop never does, and a checker that cannot run never blocks mail unless told to.
#![cfg(unix)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const RAPPORT: &str = env!("CARGO_BIN_EXE_rapport");

/// Settings the hooks read; cleared so the caller's environment cannot change the outcome.
const HOOK_ENV: &[&str] =
    &["RAPPORT_FORCE", "RAPPORT_ON_ERROR", "RAPPORT_FAIL_ON", "RAPPORT_ARGS", "RAPPORT_SENDMAIL"];

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

/// Shouting (R101, an error: the whole sentence is in capitals) and a bare demand (R105).
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

/// Not a mail message at all: `rapport check` cannot read it and exits 2.
const BROKEN: &[u8] = b"\x00\x01\x02\xff\xfe\x00 not a message \x00\x00\x7f";

fn hook(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("hooks").join(name)
}

/// Run `program` with `args`, `stdin` and `env`, with `RAPPORT` pointing at the built binary.
fn run(program: &Path, args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env("RAPPORT", RAPPORT)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in HOOK_ENV {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let mut input = child.stdin.take().expect("stdin");
    let bytes = stdin.to_vec();
    // A hook that does not read its stdin (git's takes a file) closes the pipe: ignore EPIPE.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&bytes);
    });
    let out = child.wait_with_output().expect("wait for the hook");
    writer.join().expect("stdin writer");
    out
}

/// The hook ran the check (rather than letting the message through because rapport failed).
fn assert_checked(out: &Output) {
    let err = stderr(out);
    assert!(!err.contains("could not check"), "rapport did not run properly:\n{err}");
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited normally")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// What `rapport check` itself says about `message`: the hooks are tested against its verdict,
/// and a fixture the model reads differently than expected should fail here, clearly.
fn assert_rapport_exits(message: &[u8], expected: i32, args: &[&str]) {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    all.push("-");
    let out = run(Path::new(RAPPORT), &all, message, &[]);
    assert_eq!(
        code(&out),
        expected,
        "precondition: `rapport {}` should exit {expected} on this fixture\nstdout:\n{}\nstderr:\n{}",
        all.join(" "),
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
}

/// A fake sendmail in `dir` that records its arguments (NUL-separated) and its stdin, then exits
/// with `status`.
fn fake_sendmail(dir: &Path, status: i32) -> PathBuf {
    let path = dir.join("sendmail");
    let script = format!(
        "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done >'{dir}/args'\ncat >'{dir}/stdin'\nexit {status}\n",
        dir = dir.display()
    );
    std::fs::write(&path, script).expect("write fake sendmail");
    let mut perm = std::fs::metadata(&path).expect("stat").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    std::fs::set_permissions(&path, perm).expect("chmod fake sendmail");
    path
}

/// What the fake sendmail received: the message on its stdin and its arguments.
type Delivery = (Vec<u8>, Vec<String>);

/// What the fake sendmail received, or `None` when it never ran.
fn delivered(dir: &Path) -> Option<Delivery> {
    let stdin = std::fs::read(dir.join("stdin")).ok()?;
    let args = std::fs::read(dir.join("args")).expect("args recorded with stdin");
    let args = args
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    Some((stdin, args))
}

/// Arguments mutt passes to $sendmail, one with a space to check quoting.
const MUTT_ARGS: &[&str] = &["-oem", "-oi", "--", "maria@example.org", "Maria Garcia <maria@example.org>"];

fn mutt(message: &[u8], env: &[(&str, &str)], sendmail_status: i32) -> (Output, Option<Delivery>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let sendmail = fake_sendmail(dir.path(), sendmail_status);
    let sendmail = sendmail.to_str().expect("utf-8 path");
    let mut env = env.to_vec();
    env.push(("RAPPORT_SENDMAIL", sendmail));
    let out = run(&hook("mutt-sendmail-wrapper.sh"), MUTT_ARGS, message, &env);
    (out, delivered(dir.path()))
}

fn expected_args() -> Vec<String> {
    MUTT_ARGS.iter().map(|s| s.to_string()).collect()
}

// ---- mutt / NeoMutt ------------------------------------------------------------------------------

#[test]
fn mutt_sends_a_friendly_message_unchanged() {
    assert_rapport_exits(FRIENDLY, 0, &[]);
    let (out, sent) = mutt(FRIENDLY, &[], 0);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let (body, args) = sent.expect("the message reached sendmail");
    assert_eq!(body, FRIENDLY, "sendmail got different bytes");
    assert_eq!(args, expected_args());
    assert_checked(&out);
}

#[test]
fn mutt_stops_a_rude_message() {
    assert_rapport_exits(RUDE, 1, &[]);
    let (out, sent) = mutt(RUDE, &[], 0);
    assert_eq!(code(&out), 1, "stderr: {}", stderr(&out));
    assert!(sent.is_none(), "a refused message reached sendmail");
    let err = stderr(&out);
    assert!(err.contains("NOT sent"), "{err}");
    assert!(err.contains("R101") && err.contains("R105"), "findings missing from stderr:\n{err}");
    assert!(out.stdout.is_empty(), "stdout: {}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn mutt_sends_a_rude_message_when_forced() {
    let (out, sent) = mutt(RUDE, &[("RAPPORT_FORCE", "1")], 0);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let (body, args) = sent.expect("forced message reached sendmail");
    assert_eq!(body, RUDE);
    assert_eq!(args, expected_args());
    let err = stderr(&out);
    assert!(err.contains("RAPPORT_FORCE=1") && err.contains("R101"), "{err}");
}

#[test]
fn mutt_fail_on_error_lets_warnings_through() {
    assert_rapport_exits(BLUNT, 1, &[]);
    assert_rapport_exits(BLUNT, 0, &["--fail-on", "error"]);
    let (out, sent) = mutt(BLUNT, &[], 0);
    assert_eq!(code(&out), 1, "stderr: {}", stderr(&out));
    assert!(sent.is_none());
    let (out, sent) = mutt(BLUNT, &[("RAPPORT_FAIL_ON", "error")], 0);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_checked(&out);
    assert_eq!(sent.expect("sent").0, BLUNT);
}

#[test]
fn mutt_sends_unreadable_input_unchecked_by_default() {
    assert_rapport_exits(BROKEN, 2, &[]);
    let (out, sent) = mutt(BROKEN, &[], 0);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(sent.expect("fail open: the message is sent").0, BROKEN);
    let err = stderr(&out);
    assert!(err.contains("could not check") && err.contains("unchecked"), "{err}");
}

#[test]
fn mutt_refuses_unreadable_input_when_configured() {
    let (out, sent) = mutt(BROKEN, &[("RAPPORT_ON_ERROR", "refuse")], 0);
    assert_eq!(code(&out), 2, "stderr: {}", stderr(&out));
    assert!(sent.is_none());
    assert!(stderr(&out).contains("RAPPORT_ON_ERROR=refuse"));
}

#[test]
fn mutt_sends_when_rapport_is_missing() {
    let (out, sent) = mutt(FRIENDLY, &[("RAPPORT", "/nonexistent/rapport")], 0);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(sent.expect("sent").0, FRIENDLY);
    assert!(stderr(&out).contains("could not check"));
}

#[test]
fn mutt_reports_sendmail_failure() {
    let (out, sent) = mutt(FRIENDLY, &[], 75);
    assert_eq!(code(&out), 75, "the wrapper must pass on sendmail's status");
    assert_eq!(sent.expect("sendmail ran").0, FRIENDLY);
}

#[test]
fn mutt_passes_bounces_on_unchecked() {
    // mutt's bounce-message re-sends someone else's message with Resent-* headers.
    let mut bounced = b"Resent-From: Ann Lee <ann@example.com>\nResent-To: team@example.com\n".to_vec();
    bounced.extend_from_slice(RUDE);
    let (out, sent) = mutt(&bounced, &[], 0);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(sent.expect("bounce sent").0, bounced);
}

// ---- himalaya ------------------------------------------------------------------------------------

fn himalaya(message: &[u8], env: &[(&str, &str)]) -> Output {
    run(&hook("himalaya-pre-send.sh"), &[], message, env)
}

#[test]
fn himalaya_passes_a_friendly_message_through_unchanged() {
    assert_rapport_exits(FRIENDLY, 0, &[]);
    let out = himalaya(FRIENDLY, &[]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(out.stdout, FRIENDLY, "himalaya would send different bytes");
    assert_checked(&out);
}

#[test]
fn himalaya_stops_a_rude_message() {
    let out = himalaya(RUDE, &[]);
    assert_eq!(code(&out), 1, "stderr: {}", stderr(&out));
    assert!(out.stdout.is_empty(), "nothing may reach himalaya's sender");
    let err = stderr(&out);
    assert!(err.contains("R101") && err.contains("R105"), "{err}");
}

#[test]
fn himalaya_sends_a_rude_message_when_forced() {
    let out = himalaya(RUDE, &[("RAPPORT_FORCE", "1")]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(out.stdout, RUDE);
    assert!(stderr(&out).contains("R101"));
}

#[test]
fn himalaya_fails_open_on_unreadable_input() {
    let out = himalaya(BROKEN, &[]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(out.stdout, BROKEN);
    let out = himalaya(BROKEN, &[("RAPPORT_ON_ERROR", "refuse")]);
    assert_eq!(code(&out), 2, "stderr: {}", stderr(&out));
    assert!(out.stdout.is_empty());
}

// ---- git send-email ------------------------------------------------------------------------------

/// A patch as `git format-patch` writes it. The diff shouts on purpose: only the commit message
/// is prose, and only the prose is checked.
fn patch(message: &str) -> Vec<u8> {
    format!(
        "From 3f2a9c1d0b8e7f6a5d4c3b2a1f0e9d8c7b6a5f4e Mon Sep 17 00:00:00 2001\n\
         From: Ann Lee <ann@example.com>\n\
         Date: Mon, 3 Mar 2025 10:00:00 +0000\n\
         Subject: [PATCH] net: raise the upload retry limit\n\
         \n\
         {message}\n\
         ---\n \
         src/net.rs | 2 +-\n \
         1 file changed, 1 insertion(+), 1 deletion(-)\n\
         \n\
         diff --git a/src/net.rs b/src/net.rs\n\
         --- a/src/net.rs\n\
         +++ b/src/net.rs\n\
         @@ -1 +1 @@\n\
         -const MAX_RETRIES: u32 = 3; // DO NOT LOWER THIS EVER AGAIN!!\n\
         +const MAX_RETRIES: u32 = 5; // DO NOT LOWER THIS EVER AGAIN!!\n\
         -- \n\
         2.43.0\n"
    )
    .into_bytes()
}

const POLITE_COMMIT: &str = "Thanks to Maria for the report. Slow connections sometimes need more than\n\
three attempts to finish an upload, so this raises the limit to five.";

const RUDE_COMMIT: &str = "WHY DID NOBODY FIX THIS BEFORE?? You never test your code.";

fn git_hook(patch: &[u8], env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("0001-net-raise-the-upload-retry-limit.patch");
    std::fs::write(&file, patch).expect("write patch");
    let out = run(&hook("git-sendemail-validate"), &[file.to_str().expect("utf-8 path")], b"", env);
    assert_eq!(std::fs::read(&file).expect("patch still there"), patch, "the hook modified the message file");
    out
}

#[test]
fn git_accepts_a_polite_patch_even_when_its_diff_shouts() {
    let out = git_hook(&patch(POLITE_COMMIT), &[]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_checked(&out);
}

#[test]
fn git_rejects_a_rude_commit_message() {
    let out = git_hook(&patch(RUDE_COMMIT), &[]);
    assert_eq!(code(&out), 1, "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("R101") && err.contains("R106"), "{err}");
    assert!(err.contains("not sending"), "{err}");
}

#[test]
fn git_sends_a_rude_commit_message_when_forced() {
    let out = git_hook(&patch(RUDE_COMMIT), &[("RAPPORT_FORCE", "1")]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("R106"));
}

#[test]
fn git_fails_open_on_unreadable_input() {
    // An empty message file: nothing rapport can check (it exits 2).
    assert_rapport_exits(b"", 2, &[]);
    let out = git_hook(b"", &[]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("could not check"));
    let out = git_hook(b"", &[("RAPPORT_ON_ERROR", "refuse")]);
    assert_eq!(code(&out), 2, "stderr: {}", stderr(&out));
}

#[test]
fn git_hook_needs_a_message_file() {
    let out = run(&hook("git-sendemail-validate"), &[], b"", &[]);
    assert_eq!(code(&out), 2, "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("usage"));
    let out = run(&hook("git-sendemail-validate"), &["/nonexistent/0001.patch"], b"", &[]);
    assert_eq!(code(&out), 2, "stderr: {}", stderr(&out));
}
