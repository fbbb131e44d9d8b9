//! `rapport-model serve`: the scorer process. It loads the model once and answers score requests
//! ([`rapport_core::scoring`] describes the JSON Lines protocol):
//!
//! * `--stdio`: one client, on standard input and output; exits when its input closes. This is the
//!   child process `rapport check`, `rapport audit` and the others start when no resident scorer runs.
//! * `--socket PATH`: the resident scorer (`rapport serve`). A Unix socket, mode 0600, in a folder
//!   of mode 0700. Each client has its own thread, so a client that holds its connection (an
//!   audit, a suspended process) never keeps a `rapport check` waiting; forward passes take turns.
//!   Exits after `--idle-timeout` seconds with no client connected and no request. Started by
//!   systemd socket activation when `LISTEN_FDS` names an inherited socket, which it then leaves
//!   in place (systemd owns it) when it exits.
//!
//! A request of a draft's size runs on one libtorch thread: waking a pool of threads costs more
//! than it saves on a few sentences, and on a busy machine a thread that waits for another core
//! spins (measured on 2 busy cores: 0.1-0.2 s with one thread, 0.4-2.9 s with two). Larger
//! requests (audit batches) use every thread the scorer was started with.
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::os::fd::FromRawFd;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rapport_core::scoring::{read_line, write_line, Request, Response};

use crate::Scorer;

/// What `hello` answers.
fn hello(device: &str, precision: &str) -> Response {
    Response {
        ok: true,
        model_id: Some(rapport_core::model_id().to_string()),
        pid: Some(std::process::id()),
        device: Some(device.to_string()),
        precision: Some(precision.to_string()),
        ..Default::default()
    }
}

/// Requests of at most this many sentences run on one libtorch thread: for a few sentences,
/// waking the pool costs more than it saves. A 200-word draft (about 20 sentences) is faster on
/// all of them: 136 ms on one thread, 98 ms on two (`rapport check` with `RAPPORT_TIMINGS=1`, a
/// resident scorer, 2 cores, 2026-11-30).
const SMALL_REQUEST: usize = 8;

/// The scorer shared by the clients' threads: forward passes take turns; `threads` is what a
/// large request may use.
pub struct Shared {
    scorer: Mutex<Scorer>,
    device: String,
    precision: String,
    threads: i32,
}

impl Shared {
    /// `scorer`, with libtorch's thread count as it is now (set from `--threads`) for large requests.
    pub fn new(scorer: Scorer) -> Self {
        Self {
            device: format!("{:?}", scorer.encoder.device()).to_lowercase(),
            precision: scorer.encoder.precision().as_str().to_string(),
            scorer: Mutex::new(scorer),
            threads: tch::get_num_threads().max(1),
        }
    }
}

fn answer(shared: &Shared, req: Request) -> Response {
    match req {
        // Answered at once, even while another client's forward pass runs.
        Request::Hello => hello(&shared.device, &shared.precision),
        Request::Score { sentences } => {
            let refs: Vec<&str> = sentences.iter().map(String::as_str).collect();
            // A panic in another client's pass leaves nothing half-done that this one could see.
            let scorer = shared.scorer.lock().unwrap_or_else(|e| e.into_inner());
            // Set on this thread, during its turn: libtorch's thread count is per calling thread.
            tch::set_num_threads(if refs.len() <= SMALL_REQUEST { 1 } else { shared.threads });
            match scorer.score(&refs) {
                Ok(scores) => Response { ok: true, scores: Some(scores), ..Default::default() },
                Err(e) => Response::error(e.to_string()),
            }
        }
    }
}

/// Answer requests from `r` on `w` until `r` ends; `touch` hears of each request, before and after.
pub fn serve_stream<R: BufRead, W: Write>(shared: &Shared, mut r: R, mut w: W, touch: &dyn Fn()) -> std::io::Result<()> {
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
        touch();
        let resp = answer(shared, req);
        touch();
        write_line(&mut w, &resp)?;
    }
}

/// The child process: standard input and output.
pub fn serve_stdio(scorer: Scorer) -> std::io::Result<()> {
    let stdin = std::io::stdin().lock();
    let stdout = BufWriter::new(std::io::stdout().lock());
    serve_stream(&Shared::new(scorer), stdin, stdout, &|| {})
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

/// The resident scorer: a thread per client, until `idle` passes with no client connected and no
/// request.
pub fn serve_socket(scorer: Scorer, path: &Path, idle: Duration) -> std::io::Result<()> {
    let (listener, inherited) = match inherited_listener() {
        Some(l) => (l, true),
        None => (bind(path)?, false),
    };
    let how = if inherited { "socket from systemd" } else { "socket" };
    eprintln!("rapport-model: scoring on {} ({how}, pid {}, exits after {} s idle)", path.display(), std::process::id(), idle.as_secs());
    let shared = Shared::new(scorer);
    let clients = AtomicUsize::new(0);
    // The last time a client connected, sent a request or left.
    let last = Mutex::new(Instant::now());
    let touch = || *last.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    let result = std::thread::scope(|s| -> std::io::Result<()> {
        loop {
            let quiet = last.lock().unwrap_or_else(|e| e.into_inner()).elapsed();
            let busy = clients.load(Ordering::SeqCst) > 0;
            if !busy && quiet >= idle {
                eprintln!("rapport-model: idle for {} s, exiting", idle.as_secs());
                return Ok(());
            }
            // Wake at least once a second to look at the clock again.
            let wait = if busy { Duration::from_secs(1) } else { (idle - quiet).min(Duration::from_secs(1)) };
            if !readable(&listener, wait)? {
                continue;
            }
            let stream = match listener.accept() {
                Ok((stream, _)) => stream,
                Err(e) if matches!(e.kind(), std::io::ErrorKind::Interrupted | std::io::ErrorKind::WouldBlock | std::io::ErrorKind::ConnectionAborted) => continue,
                Err(e) => return Err(e),
            };
            clients.fetch_add(1, Ordering::SeqCst);
            touch();
            let (shared, clients, touch) = (&shared, &clients, &touch);
            s.spawn(move || {
                if let Err(e) = serve_client(shared, stream, idle, touch) {
                    if !matches!(e.kind(), std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut | std::io::ErrorKind::ConnectionReset) {
                        eprintln!("rapport-model: a client failed: {e}");
                    }
                }
                touch();
                clients.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    // A socket systemd passed in stays: it listens again, and starts the scorer on the next client.
    if !inherited {
        let _ = std::fs::remove_file(path);
    }
    result
}

/// One client's requests, in order. A client silent for longer than `idle` is let go.
fn serve_client(shared: &Shared, stream: UnixStream, idle: Duration, touch: &dyn Fn()) -> std::io::Result<()> {
    stream.set_read_timeout(Some(idle.max(Duration::from_secs(1))))?;
    let r = BufReader::new(stream.try_clone()?);
    serve_stream(shared, r, BufWriter::new(stream), touch)
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
