//! The guarded stream under the `imap` crate: every byte between rapport and the server passes
//! through a [`Guard`], which enforces what the crate itself does not.
//!
//! The `imap` crate (`imap::Client`, `imap::Session`) reads a response line by line with
//! `BufRead::read_until` and no limit, and reads a literal by reading more lines until its parser
//! is satisfied, however large the literal announced; it has no deadline of its own. So the
//! guard, below the crate's buffer, frames what the server sends exactly as [`super::wire`] does
//! and refuses, with the same messages:
//!
//! * a line (outside literals) longer than [`Limits::max_line`];
//! * a literal announced larger than [`Limits::max_literal`], before a byte of it is read;
//! * more bytes for one command than the budget set with [`Guard::prepare`];
//! * a wait for the next byte longer than [`Limits::read_timeout`], and a command, from sending
//!   it to its tagged answer, longer than [`Limits::command_timeout`].
//!
//! On the write side, a command line is held until it is complete and sent only when its verb is
//! in [`super::wire::ALLOWED`]; anything else is refused (the read that follows fails with the
//! refusal), so it never reaches the socket. A line the server asked for with a continuation
//! request (`+`) during `AUTHENTICATE` is an answer, not a command.
//!
//! The guard hands out at most one line per read, and nothing past the tagged answer of the
//! command in flight: the crate's buffer never holds bytes of the next answer, so the same
//! connection can be read by a [`Wire`] (for `UID FETCH` of bodies, see `session.rs`) between
//! two commands of the crate. A refusal is an `io::Error` that carries the [`Fail`]
//! ([`guard_fail`] gets it back), so the crate's `Error::Io` turns into rapport's own message.
use std::sync::Mutex;
use std::time::Instant;

use super::wire::{check_allowed, line_too_long, literal_len, literal_too_large, over_budget, Transport};
use super::*;

/// A [`Fail`] inside an `io::Error`.
#[derive(Debug)]
struct GuardError {
    message: String,
    transient: bool,
    answer: bool,
}

impl fmt::Display for GuardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for GuardError {}

fn to_io(f: Fail) -> io::Error {
    io::Error::other(GuardError { message: f.message, transient: f.transient, answer: f.answer })
}

/// The [`Fail`] a guard put into `e`, if it came from a guard.
pub(super) fn guard_fail(e: &io::Error) -> Option<Fail> {
    let g = e.get_ref()?.downcast_ref::<GuardError>()?;
    Some(Fail { message: g.message.clone(), transient: g.transient, answer: g.answer })
}

/// The stream the `imap` crate reads and writes (and a [`Wire`] too, between two of its
/// commands): a handle on the connection and its limits.
#[derive(Clone)]
pub(super) struct Guard(Arc<Mutex<Core>>);

struct Core {
    io: Box<dyn Transport>,
    server: String,
    limits: Limits,
    /// What the next command is doing (for messages) and what its answer may bring.
    next: Option<(String, u64)>,
    // The command in flight.
    doing: String,
    deadline: Instant,
    bytes: u64,
    /// Its tag; `None` while the greeting is awaited.
    tag: Option<Vec<u8>>,
    /// Its tagged answer has been handed out: nothing more is, until the next command.
    done: bool,
    /// A command that was refused: the next read says so.
    refused: Option<Fail>,
    // Reading: bytes from the socket not handed out yet, and where the framing stands.
    buf: Vec<u8>,
    pos: usize,
    line_len: usize,
    literal_left: u64,
    in_response: bool,
    /// The start of the current (or last) response, for messages and to recognise the tag.
    head: Vec<u8>,
    /// The end of the current line, to recognise a literal's announcement.
    tail: Vec<u8>,
    /// The command in flight is AUTHENTICATE (whose continuation requests are answered).
    authenticating: bool,
    /// The server asked for more input (`+`) during AUTHENTICATE.
    continuation: bool,
    /// Writing: a line not complete yet.
    out: Vec<u8>,
}

const HEAD: usize = 80;
const TAIL: usize = 32;
/// Longest command line accepted from the crate.
const MAX_COMMAND: usize = 1 << 20;

impl Guard {
    /// A guard over `io`; `greeting`: the server's greeting is still to be read.
    pub(super) fn new(io: Box<dyn Transport>, server: String, limits: Limits, greeting: bool) -> Self {
        let deadline = Instant::now() + limits.command_timeout;
        Guard(Arc::new(Mutex::new(Core {
            io,
            server,
            limits,
            next: None,
            doing: "waiting for its greeting".into(),
            deadline,
            bytes: 1 << 20,
            tag: None,
            done: !greeting,
            refused: None,
            buf: Vec::with_capacity(1 << 16),
            pos: 0,
            line_len: 0,
            literal_left: 0,
            in_response: false,
            head: Vec::new(),
            tail: Vec::new(),
            authenticating: false,
            continuation: false,
            out: Vec::new(),
        })))
    }

    fn core(&self) -> std::sync::MutexGuard<'_, Core> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Say what the next command does (for messages) and how many bytes its answer may bring.
    pub(super) fn prepare(&self, doing: &str, bytes: u64) {
        self.core().next = Some((doing.to_string(), bytes));
    }

    /// The longest a command may take from now on.
    pub(super) fn set_command_timeout(&self, timeout: Duration) {
        self.core().limits.command_timeout = timeout;
    }

    /// The start of the last response read, shortened, for messages.
    pub(super) fn last_response(&self) -> String {
        wire::excerpt(&self.core().head)
    }
}

impl Core {
    fn fill(&mut self) -> Result<(), Fail> {
        wire::fill(&mut *self.io, &mut self.buf, &mut self.pos, self.deadline, &self.limits, &self.server, &self.doing)
    }

    fn charge(&mut self, n: u64) -> Result<(), Fail> {
        if n > self.bytes {
            return Err(over_budget(&self.server, &self.doing, n.max(self.bytes)));
        }
        self.bytes -= n;
        Ok(())
    }

    /// How many of the pending bytes (at most `max`) to hand out: the rest of a literal, or up
    /// to the end of the current line, checked against the limits.
    fn scan(&mut self, max: usize) -> Result<usize, Fail> {
        let avail = &self.buf[self.pos..];
        let limit = avail.len().min(max);
        if self.literal_left > 0 {
            let n = self.literal_left.min(limit as u64) as usize;
            self.literal_left -= n as u64;
            return Ok(n);
        }
        let (n, eol) = match avail[..limit].iter().position(|&c| c == b'\n') {
            Some(i) => (i + 1, true),
            None => (limit, false),
        };
        if self.line_len + n > self.limits.max_line {
            return Err(line_too_long(&self.server, self.limits.max_line, &self.doing));
        }
        self.charge(n as u64)?;
        let chunk = &self.buf[self.pos..self.pos + n];
        self.line_len += n;
        if !self.in_response {
            self.in_response = true;
            self.head.clear();
        }
        if self.head.len() < HEAD {
            let take = (HEAD - self.head.len()).min(n);
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.tail.extend_from_slice(&chunk[n.saturating_sub(TAIL)..]);
        if self.tail.len() > TAIL {
            self.tail.drain(..self.tail.len() - TAIL);
        }
        if eol {
            self.line_len = 0;
            let announced = announced(&self.tail);
            self.tail.clear();
            match announced {
                Some(Ok(k)) if k <= self.limits.max_literal => {
                    self.charge(k)?;
                    self.literal_left = k;
                }
                Some(k) => return Err(literal_too_large(&self.server, k, &self.doing, self.limits.max_literal)),
                None => {
                    // The response ends here.
                    self.in_response = false;
                    let tagged = match &self.tag {
                        Some(tag) => self.head.starts_with(tag) && self.head.get(tag.len()) == Some(&b' '),
                        None => true,
                    };
                    if tagged {
                        self.done = true;
                    } else if self.authenticating && self.head.starts_with(b"+") {
                        self.continuation = true;
                    }
                }
            }
        }
        Ok(n)
    }

    /// One complete line from the crate (or a [`Wire`]): send it if it may be sent.
    fn send_line(&mut self, line: &[u8]) -> Result<(), Fail> {
        let answer = std::mem::take(&mut self.continuation) && !self.done;
        if !answer {
            let text = String::from_utf8_lossy(line);
            let (tag, command) = text.trim_end().split_once(' ').unwrap_or((text.trim_end(), ""));
            if let Err(f) = check_allowed(command) {
                // Dropped here; the read that follows reports it.
                self.refused = Some(f);
                return Ok(());
            }
            let (doing, bytes) = self.next.take().unwrap_or_else(|| ("talking to it".to_string(), wire::DEFAULT_BUDGET));
            self.tag = Some(tag.as_bytes().to_vec());
            self.authenticating = command.to_ascii_uppercase().starts_with("AUTHENTICATE ");
            self.doing = doing;
            self.bytes = bytes;
            self.deadline = Instant::now() + self.limits.command_timeout;
            self.done = false;
            self.refused = None;
            self.in_response = false;
            self.line_len = 0;
            self.literal_left = 0;
            self.tail.clear();
        }
        self.io.set_timeouts(self.limits.read_timeout, self.limits.read_timeout);
        self.io.write_all(line).and_then(|()| self.io.flush()).map_err(|e| io_fail(&self.server, &self.doing, &e))
    }
}

/// A literal's announcement at the end of a line's last bytes (see [`literal_len`]); a number too
/// long to be in `tail` whole is too large.
fn announced(tail: &[u8]) -> Option<Result<u64, ()>> {
    if let Some(r) = literal_len(tail) {
        return Some(r);
    }
    let body = tail.strip_suffix(b"\n")?;
    let body = body.strip_suffix(b"\r").unwrap_or(body);
    let digits = body.strip_suffix(b"}")?;
    (tail.len() >= TAIL && !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)).then_some(Err(()))
}

impl Read for Guard {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut c = self.core();
        if let Some(f) = c.refused.take() {
            return Err(to_io(f));
        }
        if c.done {
            return Err(to_io(Fail::answer(format!(
                "{} ended its answer while {}, but rapport expected more",
                c.server, c.doing
            ))));
        }
        if c.pos == c.buf.len() {
            c.fill().map_err(to_io)?;
        }
        let n = c.scan(buf.len()).map_err(to_io)?;
        let pos = c.pos;
        buf[..n].copy_from_slice(&c.buf[pos..pos + n]);
        c.pos += n;
        Ok(n)
    }
}

impl Write for Guard {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut c = self.core();
        c.out.extend_from_slice(data);
        while let Some(i) = c.out.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = c.out.drain(..=i).collect();
            c.send_line(&line).map_err(to_io)?;
        }
        if c.out.len() > MAX_COMMAND {
            c.out.clear();
            return Err(to_io(Fail::fatal("rapport refused to send an over-long IMAP command (this is a bug in rapport; please report it)")));
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Transport for Guard {
    /// The guard sets the socket's timeouts itself, from its own deadline.
    fn set_timeouts(&mut self, _read: Duration, _write: Duration) {}
}

#[cfg(test)]
mod tests;
