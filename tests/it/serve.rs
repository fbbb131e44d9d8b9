//! `rapport serve`, the resident scorer, for real: the built `rapport` and `rapport-model`, the
//! real model, real Unix sockets. Socket activation is simulated the way systemd does it: the test
//! binds the socket, and the scorer inherits it as fd 3 with `LISTEN_FDS=1` and `LISTEN_PID` set to
//! its own pid. `rapport check` says which scorer answered (`RAPPORT_TIMINGS=1`).
#![cfg(unix)]

use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::{bin, repo};

/// The scorer loads the model before it listens: generous, for 2 busy cores.
const LOAD: Duration = Duration::from_secs(180);

/// A scorer process, killed if a test fails before it exits.
struct Scorer {
    child: Child,
    log: PathBuf,
}

impl Scorer {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Wait until `socket` takes connections (the scorer is ready), or fail with its log.
    fn wait_ready(&mut self, socket: &Path) {
        let start = Instant::now();
        loop {
            if self.log().contains("scoring on") && UnixStream::connect(socket).is_ok() {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("the scorer exited ({status}) before it was ready:\n{}", self.log());
            }
            assert!(start.elapsed() < LOAD, "the scorer was not ready after {LOAD:?}:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Wait for the scorer to exit on its own, at most `limit`.
    fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(start.elapsed() < limit, "the scorer still runs after {limit:?}:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Scorer {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn log_file(dir: &Path, name: &str) -> (PathBuf, File) {
    let path = dir.join(name);
    (path.clone(), File::create(&path).unwrap())
}

/// `rapport serve --socket SOCKET --idle-timeout IDLE`, as a user (or `rapport-scorer.service`)
/// starts it.
fn serve(socket: &Path, idle: u64, dir: &Path) -> Scorer {
    let (log, file) = log_file(dir, &format!("serve-{}.log", std::process::id()));
    let child = Command::new(bin())
        .args(["serve", "--idle-timeout", &idle.to_string(), "--socket"])
        .arg(socket)
        .env_remove("LISTEN_FDS")
        .env_remove("LISTEN_PID")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(file)
        .spawn()
        .unwrap();
    Scorer { child, log }
}

/// What systemd does for `rapport-scorer.socket`: start `rapport serve` with `listener` as fd 3,
/// `LISTEN_FDS=1` and `LISTEN_PID` = the scorer's pid (the shell's pid, kept by `exec`).
fn activate(listener: &UnixListener, socket: &Path, idle: u64, log_name: &str, dir: &Path) -> Scorer {
    let (log, file) = log_file(dir, log_name);
    let fd = listener.as_raw_fd();
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(r#"LISTEN_PID=$$; LISTEN_FDS=1; export LISTEN_PID LISTEN_FDS; exec "$@""#)
        .arg("sh")
        .arg(bin())
        .args(["serve", "--idle-timeout", &idle.to_string(), "--socket"])
        .arg(socket)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(file);
    // SAFETY: only async-signal-safe calls (dup2, fcntl) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if fd == 3 {
                // Already fd 3: only let it survive exec.
                if libc::fcntl(3, libc::F_SETFD, 0) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
            } else if libc::dup2(fd, 3) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    Scorer { child: cmd.spawn().unwrap(), log }
}

/// `rapport check` on a friendly draft, with `socket` as the resident scorer's address: its exit
/// code, and which scorer answered ("resident" or "child") with that scorer's pid.
fn check(socket: &Path) -> (i32, String, u32) {
    let draft = repo().join("examples/drafts/friendly.eml");
    let out = Command::new(bin())
        .args(["check", "--quiet"])
        .arg(&draft)
        .env("RAPPORT_SOCKET", socket)
        .env("RAPPORT_TIMINGS", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out.status.code().unwrap_or_else(|| panic!("rapport check was killed: {err}"));
    // "timing: 7 sentences checked in 12.3 ms (resident scorer, pid 1234)"
    let line = err.lines().find(|l| l.contains("sentences checked in")).unwrap_or_else(|| panic!("no timing line:\n{err}"));
    let (_, tail) = line.rsplit_once('(').unwrap();
    let (kind, pid) = tail.trim_end_matches(')').split_once(" scorer, pid ").unwrap_or_else(|| panic!("{line}"));
    (code, kind.to_string(), pid.parse().unwrap())
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn serve_listens_privately_answers_checks_beside_a_held_connection_and_exits_when_idle() {
    let dir = tempfile::tempdir().unwrap();
    // A runtime folder that does not exist yet: the scorer makes it, private.
    let socket = dir.path().join("run/rapport/scorer.sock");
    let mut scorer = serve(&socket, 15, dir.path());
    scorer.wait_ready(&socket);
    assert_eq!(mode(&socket), 0o600, "the socket must be the user's alone");
    assert_eq!(mode(socket.parent().unwrap()), 0o700, "the socket's folder must be the user's alone");
    assert_eq!(mode(&dir.path().join("run")), 0o700);

    // Another client holds a connection (an audit, a suspended process): checks still get answers,
    // while that connection stays open (a scorer serving one client at a time would answer them
    // only after dropping it).
    let held = UnixStream::connect(&socket).unwrap();
    let mut reader = std::io::BufReader::new(held.try_clone().unwrap());
    let mut hello = |what: &str| {
        std::io::Write::write_all(&mut &held, b"{\"op\":\"hello\"}\n").unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
        assert!(line.contains("\"ok\":true"), "{what}: {line:?}");
    };
    hello("the held connection");
    for _ in 0..2 {
        let (code, kind, pid) = check(&socket);
        assert_eq!(code, 0);
        assert_eq!((kind.as_str(), pid), ("resident", scorer.pid()), "the resident scorer should have answered");
    }
    hello("the held connection, after the checks");
    drop(reader);
    drop(held);

    // No client, no request: it exits on its own and removes its socket.
    let status = scorer.wait_exit(Duration::from_secs(60));
    assert!(status.success(), "{status}:\n{}", scorer.log());
    assert!(scorer.log().contains("idle for 15 s, exiting"), "{}", scorer.log());
    assert!(!socket.exists(), "the socket file should be gone");
    // Nothing listens now: the next check starts its own model process.
    let (code, kind, _) = check(&socket);
    assert_eq!((code, kind.as_str()), (0, "child"));
}

#[test]
fn socket_activation_serves_on_the_inherited_socket_and_leaves_it_for_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rapport")).unwrap();
    std::fs::set_permissions(dir.path().join("rapport"), std::fs::Permissions::from_mode(0o700)).unwrap();
    let socket = dir.path().join("rapport/scorer.sock");
    // systemd's side: the socket exists (SocketMode=0600) before any scorer runs.
    let listener = UnixListener::bind(&socket).unwrap();
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600)).unwrap();

    let mut first = activate(&listener, &socket, 3, "first.log", dir.path());
    first.wait_ready(&socket);
    assert!(first.log().contains("socket from systemd"), "the scorer bound a socket of its own:\n{}", first.log());
    let (code, kind, pid) = check(&socket);
    assert_eq!((code, kind.as_str(), pid), (0, "resident", first.pid()));
    let status = first.wait_exit(Duration::from_secs(60));
    assert!(status.success(), "{status}:\n{}", first.log());

    // The socket belongs to systemd: still there, still listening, still private.
    assert!(socket.exists(), "an activated scorer must not remove systemd's socket");
    assert_eq!(mode(&socket), 0o600);
    UnixStream::connect(&socket).expect("systemd's socket still takes connections");

    // The next client makes systemd start the scorer again on the same socket.
    let mut second = activate(&listener, &socket, 60, "second.log", dir.path());
    second.wait_ready(&socket);
    let (code, kind, pid) = check(&socket);
    assert_eq!((code, kind.as_str(), pid), (0, "resident", second.pid()));
    assert_ne!(first.pid(), second.pid());
}

#[test]
fn check_falls_back_to_its_own_model_process_when_the_scorer_is_gone_or_stale() {
    let dir = tempfile::tempdir().unwrap();
    // No socket at all.
    let (code, kind, _) = check(&dir.path().join("nothing/scorer.sock"));
    assert_eq!((code, kind.as_str()), (0, "child"));

    // A scorer killed outright (SIGKILL) leaves its socket file behind, with nobody listening.
    let socket = dir.path().join("rapport/scorer.sock");
    let mut scorer = serve(&socket, 600, dir.path());
    scorer.wait_ready(&socket);
    scorer.child.kill().unwrap();
    scorer.child.wait().unwrap();
    assert!(socket.exists(), "precondition: a stale socket file");
    assert!(UnixStream::connect(&socket).is_err(), "precondition: nobody listens");
    let (code, kind, pid) = check(&socket);
    assert_eq!((code, kind.as_str()), (0, "child"));
    assert_ne!(pid, scorer.pid());

    // A new `rapport serve` replaces the stale file and answers again.
    let mut again = serve(&socket, 600, dir.path());
    again.wait_ready(&socket);
    let (code, kind, pid) = check(&socket);
    assert_eq!((code, kind.as_str(), pid), (0, "resident", again.pid()));
}

fn unit(name: &str) -> String {
    std::fs::read_to_string(repo().join("hooks/systemd").join(name)).unwrap()
}

#[test]
fn systemd_units_listen_where_rapport_looks() {
    let socket = unit("rapport-scorer.socket");
    let service = unit("rapport-scorer.service");
    // rapport_core::paths::scorer_socket: $XDG_RUNTIME_DIR/rapport/scorer.sock; %t is that folder.
    assert!(socket.lines().any(|l| l == "ListenStream=%t/rapport/scorer.sock"), "{socket}");
    assert!(socket.lines().any(|l| l == "SocketMode=0600"), "{socket}");
    assert!(socket.lines().any(|l| l == "DirectoryMode=0700"), "{socket}");
    let exec = service.lines().find(|l| l.starts_with("ExecStart=")).expect("ExecStart");
    assert!(exec.contains("/rapport serve"), "{exec}");

    // systemd's own check of the files, where systemd is installed.
    let Ok(status) = Command::new("systemd-analyze").arg("--version").stdout(Stdio::null()).status() else {
        eprintln!("skipped systemd-analyze verify: systemd-analyze is not installed");
        return;
    };
    assert!(status.success());
    let dir = tempfile::tempdir().unwrap();
    let runtime = dir.path().join("runtime");
    std::fs::create_dir(&runtime).unwrap();
    std::fs::write(dir.path().join("rapport-scorer.socket"), &socket).unwrap();
    // The unit names ~/.local/bin/rapport; verify checks the program exists, so point it at this build.
    std::fs::write(dir.path().join("rapport-scorer.service"), service.replace("%h/.local/bin/rapport", bin().to_str().unwrap())).unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--user", "./rapport-scorer.socket", "./rapport-scorer.service"])
        .current_dir(dir.path())
        .env("XDG_RUNTIME_DIR", &runtime)
        .output()
        .unwrap();
    assert!(out.status.success(), "systemd-analyze verify:\n{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}
