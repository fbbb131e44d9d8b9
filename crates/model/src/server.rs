//! `rapport-model serve`: the scorer process. It loads the model once and answers score requests
//! ([`rapport_core::scoring`] describes the JSON Lines protocol):
//!
//! * `--stdio`: one client, on standard input and output; exits when its input closes. This is the
//!   child process `rapport check`, `rapport audit` and the others start when no resident scorer runs.
//! * `--socket PATH`: the resident scorer (`rapport serve`). A Unix socket, mode 0600, in a folder
//!   of mode 0700; clients one at a time; exits after `--idle-timeout` seconds without a request.
//!   Started by systemd socket activation when `LISTEN_FDS` names an inherited socket.
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::os::fd::FromRawFd;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::time::{Duration, Instant};

use rapport_core::scoring::{read_line, write_line, Request, Response};

use crate::Scorer;

/// What `hello` answers.
fn hello(scorer: &Scorer) -> Response {
    Response {
        ok: true,
        model_id: Some(rapport_core::model_id().to_string()),
        pid: Some(std::process::id()),
        device: Some(format!("{:?}", scorer.encoder.device()).to_lowercase()),
        precision: Some(scorer.encoder.precision().as_str().to_string()),
        ..Default::default()
    }
}

fn answer(scorer: &Scorer, req: Request) -> Response {
    match req {
        Request::Hello => hello(scorer),
        Request::Score { sentences } => {
            let refs: Vec<&str> = sentences.iter().map(String::as_str).collect();
            match scorer.score(&refs) {
                Ok(scores) => Response { ok: true, scores: Some(scores), ..Default::default() },
                Err(e) => Response::error(e.to_string()),
            }
        }
    }
}

/// Answer requests from `r` on `w` until `r` ends.
pub fn serve_stream<R: BufRead, W: Write>(scorer: &Scorer, mut r: R, mut w: W) -> std::io::Result<()> {
    loop {
        let req: Request = match read_line(&mut r) {
            Ok(Some(req)) => req,
            Ok(None) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                write_line(&mut w, &Response::error(format!("not a request: {e}")))?;
                continue;
            }
            Err(e) => return Err(e),
        };
        write_line(&mut w, &answer(scorer, req))?;
    }
}

/// The child process: standard input and output.
pub fn serve_stdio(scorer: &Scorer) -> std::io::Result<()> {
    let stdin = std::io::stdin().lock();
    let stdout = BufWriter::new(std::io::stdout().lock());
    serve_stream(scorer, stdin, stdout)
}

/// A socket inherited from systemd (`LISTEN_PID` is us and `LISTEN_FDS` ≥ 1): fd 3.
fn inherited_listener() -> Option<UnixListener> {
    let pid: u32 = std::env::var("LISTEN_PID").ok()?.parse().ok()?;
    let fds: u32 = std::env::var("LISTEN_FDS").ok()?.parse().ok()?;
    if pid != std::process::id() || fds < 1 {
        return None;
    }
    // SAFETY: systemd passes the listening socket as fd 3 (SD_LISTEN_FDS_START) and nothing else
    // in this process owns it.
    Some(unsafe { UnixListener::from_raw_fd(3) })
}

/// Bind the resident scorer's socket: a private folder, a private socket, no stale file.
pub fn bind(path: &Path) -> std::io::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        if !dir.exists() {
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        }
    }
    if UnixStream::connect(path).is_ok() {
        return Err(std::io::Error::new(std::io::ErrorKind::AddrInUse, format!("a scorer is already listening on {}", path.display())));
    }
    let _ = std::fs::remove_file(path);
    // Created private: no other user may connect between bind and chmod.
    // SAFETY: umask only changes this process's file-creation mask.
    let old = unsafe { libc::umask(0o177) };
    let l = UnixListener::bind(path);
    unsafe { libc::umask(old) };
    let l = l?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(l)
}

/// The resident scorer: serve clients one at a time until `idle` passes without a request.
pub fn serve_socket(scorer: &Scorer, path: &Path, idle: Duration) -> std::io::Result<()> {
    let listener = match inherited_listener() {
        Some(l) => l,
        None => bind(path)?,
    };
    eprintln!("rapport-model: scoring on {} (pid {}, exits after {} s idle)", path.display(), std::process::id(), idle.as_secs());
    let mut last = Instant::now();
    loop {
        // Wait for a client, at most until the idle time is up.
        let left = idle.saturating_sub(last.elapsed());
        if left.is_zero() || !readable(&listener, left)? {
            eprintln!("rapport-model: idle for {} s, exiting", idle.as_secs());
            let _ = std::fs::remove_file(path);
            return Ok(());
        }
        let (stream, _) = listener.accept()?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        let r = BufReader::new(stream.try_clone()?);
        let w = BufWriter::new(stream);
        if let Err(e) = serve_stream(scorer, r, w) {
            if !matches!(e.kind(), std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut | std::io::ErrorKind::ConnectionReset) {
                eprintln!("rapport-model: a client failed: {e}");
            }
        }
        last = Instant::now();
    }
}

/// Whether `listener` has a client waiting within `timeout` (poll(2)).
fn readable(listener: &UnixListener, timeout: Duration) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;
    let mut fd = libc::pollfd { fd: listener.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    loop {
        // SAFETY: one valid pollfd for the duration of the call.
        let n = unsafe { libc::poll(&mut fd, 1, ms) };
        if n >= 0 {
            return Ok(n > 0);
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}
