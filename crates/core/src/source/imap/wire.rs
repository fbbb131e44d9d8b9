//! The IMAP wire as rapport speaks it: tagged commands out, one complete response at a time in,
//! every response bounded.
//!
//! A server can be broken or hostile; nothing it sends may exhaust memory or time:
//!
//! * a line (outside literals) is at most [`Limits::max_line`] bytes;
//! * a literal (`{n}`) is at most [`Limits::max_literal`] bytes, and one announced larger is
//!   refused before a byte of it is read (`{4294967295}` costs nothing);
//! * all the responses to one command together are at most the budget the caller gives;
//! * a read waits at most [`Limits::read_timeout`] for the next byte, and a whole command, from
//!   sending it to its tagged answer, at most [`Limits::command_timeout`]: a server that trickles
//!   a byte a second cannot stall an audit.
//!
//! Only the commands in [`ALLOWED`] can be sent: anything else is refused here, before it reaches
//! the socket (the audit is read-only by construction, not only by habit).
//!
//! Responses are parsed one by one (`imap-proto`), so one response that cannot be parsed costs
//! only itself: [`Answer::unreadable`] counts them, and the caller decides what it means.
use std::io::{Read, Write};
use std::time::Instant;

use super::*;

/// The only commands rapport sends (the verb, or `UID` and its sub-command).
pub(super) const ALLOWED: &[&str] = &[
    "CAPABILITY",
    "LOGIN",
    "AUTHENTICATE",
    "LIST",
    "EXAMINE",
    "NOOP",
    "UID SEARCH",
    "UID FETCH",
    "LOGOUT",
];

/// What one connection accepts from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Longest line outside literals.
    pub max_line: usize,
    /// Largest literal.
    pub max_literal: u64,
    /// Longest wait for the next byte.
    pub read_timeout: Duration,
    /// Longest time from sending a command to its tagged answer (and for connecting and logging
    /// in as a whole).
    pub command_timeout: Duration,
}

/// Longest line accepted outside literals: a `UID SEARCH` answer for a folder of a million
/// messages is about 7 MB.
pub const MAX_LINE: usize = 32 * 1024 * 1024;

/// What every response of a command other than `UID FETCH` may bring in all.
pub(super) const DEFAULT_BUDGET: u64 = 64 * 1024 * 1024;

impl Limits {
    pub(super) fn new(cfg: &ImapConfig, max_literal: u64) -> Self {
        Limits { max_line: MAX_LINE, max_literal, read_timeout: cfg.timeout, command_timeout: cfg.command_timeout }
    }
}

/// The answer to one command: its untagged responses and its tagged status.
#[derive(Debug)]
pub(super) struct Answer {
    /// Each untagged response that parses, raw (parse again with [`parse`] to borrow from it).
    pub(super) untagged: Vec<Vec<u8>>,
    /// Untagged responses that did not parse (left out of `untagged`).
    pub(super) unreadable: usize,
    /// The first of them, shortened, for messages.
    pub(super) first_unreadable: Option<String>,
    pub(super) status: imap_proto::Status,
    /// The tagged response's text.
    pub(super) text: String,
}

impl Answer {
    pub(super) fn ok(&self) -> bool {
        self.status == imap_proto::Status::Ok
    }

    /// Each untagged response, parsed.
    pub(super) fn responses(&self) -> impl Iterator<Item = imap_proto::Response<'_>> {
        self.untagged.iter().filter_map(|r| parse(r))
    }
}

/// One complete response, parsed; `None` when it does not parse (or has bytes left over).
pub fn parse(raw: &[u8]) -> Option<imap_proto::Response<'_>> {
    match imap_proto::parser::parse_response(raw) {
        Ok((b"", response)) => Some(response),
        _ => None,
    }
}

/// `n` when `line` (with its line end) ends with a literal's announcement `{n}`; `Err` when the
/// number does not fit in a u64.
pub fn literal_len(line: &[u8]) -> Option<Result<u64, ()>> {
    let body = line.strip_suffix(b"\n")?;
    let body = body.strip_suffix(b"\r").unwrap_or(body);
    let body = body.strip_suffix(b"}")?;
    let digits = body.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || body.len() == digits || body[body.len() - digits - 1] != b'{' {
        return None;
    }
    let mut n: u64 = 0;
    for &d in &body[body.len() - digits..] {
        n = match n.checked_mul(10).and_then(|n| n.checked_add(u64::from(d - b'0'))) {
            Some(n) => n,
            None => return Some(Err(())),
        };
    }
    Some(Ok(n))
}

/// `"…"` with `\` and `"` escaped: an IMAP quoted string. `None` for a line break, which no
/// quoted string can hold.
pub(super) fn quote(s: &str) -> Option<String> {
    if s.contains(['\r', '\n', '\0']) {
        return None;
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '\\' || c == '"' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Some(out)
}

/// A short, printable excerpt of what a server sent, for error messages.
pub(super) fn excerpt(bytes: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(&bytes[..bytes.len().min(80)])
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let text = text.trim_end().to_string();
    if bytes.len() > 80 {
        format!("{text}…")
    } else {
        text
    }
}

/// The command took too long (the server trickles, or stalls between bytes).
pub(super) fn too_slow(server: &str, limits: &Limits, doing: &str) -> Fail {
    Fail::answer(format!(
        "{server} took more than {} s (command-timeout-secs) to answer while {doing}; rapport gave up on that answer",
        limits.command_timeout.as_secs()
    ))
}

/// The answer to one command brought more than its budget (`n` bytes or more).
pub(super) fn over_budget(server: &str, doing: &str, n: u64) -> Fail {
    Fail::answer(format!(
        "{server} sent more than rapport asked for while {doing} (over {}); rapport stopped reading that answer",
        crate::source::error::bytes_text(n)
    ))
}

/// A line outside literals is longer than `max`.
pub(super) fn line_too_long(server: &str, max: usize, doing: &str) -> Fail {
    Fail::answer(format!(
        "{server} sent a line longer than {} while {doing}; rapport stopped reading it",
        crate::source::error::bytes_text(max as u64)
    ))
}

/// A literal announced larger than `max` (`Err`: larger than a u64).
pub(super) fn literal_too_large(server: &str, announced: Result<u64, ()>, doing: &str, max: u64) -> Fail {
    Fail::answer(format!(
        "{server} announced {} of data while {doing}, over the limit of {}; rapport did not read it",
        match announced {
            Ok(n) => crate::source::error::bytes_text(n),
            Err(()) => "more than 2^64 bytes".to_string(),
        },
        crate::source::error::bytes_text(max)
    ))
}

/// Refuse any command that is not in [`ALLOWED`] (`command` without its tag).
pub(super) fn check_allowed(command: &str) -> Result<(), Fail> {
    let upper = command.to_ascii_uppercase();
    let mut words = upper.split(' ');
    let first = words.next().unwrap_or("");
    let verb = if first == "UID" { format!("UID {}", words.next().unwrap_or("")) } else { first.to_string() };
    if ALLOWED.contains(&verb.as_str()) {
        Ok(())
    } else {
        Err(Fail::fatal(format!("rapport refused to send the IMAP command {verb}: it only ever reads (this is a bug in rapport; please report it)")))
    }
}

/// What a read or write error means: a guard's refusal as it is, else a network failure.
fn io_or_guard(server: &str, doing: &str, e: &io::Error) -> Fail {
    super::guard::guard_fail(e).unwrap_or_else(|| io_fail(server, doing, e))
}

/// Read more bytes from `io` into `buf` (whose first `pos` bytes are consumed), waiting at most a
/// read timeout for each read and never past `deadline`. [`Wire`] and the guard under the `imap`
/// crate both read through this.
pub(super) fn fill(
    io: &mut dyn Transport,
    buf: &mut Vec<u8>,
    pos: &mut usize,
    deadline: Instant,
    limits: &Limits,
    server: &str,
    doing: &str,
) -> Result<(), Fail> {
    if *pos == buf.len() {
        buf.clear();
        *pos = 0;
    } else if *pos > 1 << 16 {
        buf.drain(..*pos);
        *pos = 0;
    }
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Err(too_slow(server, limits, doing));
        }
        let wait = (deadline - now).min(limits.read_timeout).max(Duration::from_millis(1));
        io.set_timeouts(wait, limits.read_timeout);
        let old = buf.len();
        buf.resize(old + (1 << 16), 0);
        let got = io.read(&mut buf[old..]);
        buf.truncate(old + *got.as_ref().unwrap_or(&0));
        match got {
            Ok(0) => return Err(Fail::transient(format!("{server} closed the connection while {doing}"))),
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) && Instant::now() >= deadline => {
                return Err(too_slow(server, limits, doing))
            }
            Err(e) => return Err(io_or_guard(server, doing, &e)),
        }
    }
}

/// What answers a server's continuation request (`+ …`) with the challenge it carries.
type OnContinue<'a> = dyn FnMut(&mut Wire, &[u8]) -> Result<(), ()> + 'a;

/// What a [`Wire`] (or a [`super::guard::Guard`]) reads and writes: a network connection, a
/// guard over one, or bytes in memory.
pub(super) trait Transport: Read + Write + Send {
    /// How long a read or a write may wait.
    fn set_timeouts(&mut self, read: Duration, write: Duration);
}

/// A connection: the (possibly TLS) stream, and its socket to set timeouts on.
pub(super) struct Net {
    pub(super) stream: Stream,
    pub(super) socket: TcpStream,
}

impl Read for Net {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.read(buf)
    }
}

impl Write for Net {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

impl Transport for Net {
    fn set_timeouts(&mut self, read: Duration, write: Duration) {
        let _ = self.socket.set_read_timeout(Some(read));
        let _ = self.socket.set_write_timeout(Some(write));
    }
}

/// A server's bytes in memory (what it is sent is dropped).
pub(super) struct Memory(pub(super) io::Cursor<Vec<u8>>);

impl Read for Memory {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for Memory {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Transport for Memory {
    fn set_timeouts(&mut self, _read: Duration, _write: Duration) {}
}

/// Read `data` as a server's whole answer to one command (a `NOOP` tagged `R1`), under `limits`
/// and `budget`, exactly as a session reads its socket: the untagged responses that parse and how
/// many did not, or why the answer was refused. For the fuzz target and the random-input test.
pub fn read_answer(data: &[u8], limits: Limits, budget: u64) -> Result<(Vec<Vec<u8>>, usize), String> {
    let mut wire = Wire { io: Box::new(Memory(io::Cursor::new(data.to_vec()))), buf: Vec::new(), pos: 0, tag: 0, server: "server".into(), limits };
    wire.command("NOOP", "testing", budget).map(|a| (a.untagged, a.unreadable)).map_err(|f| f.message)
}

/// One connection's bytes.
pub(super) struct Wire {
    io: Box<dyn Transport>,
    buf: Vec<u8>,
    pos: usize,
    tag: u32,
    server: String,
    pub(super) limits: Limits,
}

/// Where a command stands: what it is (for messages), when it must be done, and what its
/// responses may still bring.
pub(super) struct Budget<'a> {
    pub(super) doing: &'a str,
    pub(super) deadline: Instant,
    pub(super) bytes: u64,
}

impl Wire {
    #[cfg(test)]
    pub(super) fn new(stream: Stream, socket: TcpStream, server: String, limits: Limits) -> Self {
        Self::over(Box::new(Net { stream, socket }), server, limits)
    }

    /// A wire over `io` (a [`super::guard::Guard`] shares its connection with the `imap` crate).
    pub(super) fn over(io: Box<dyn Transport>, server: String, limits: Limits) -> Self {
        Wire { io, buf: Vec::with_capacity(1 << 16), pos: 0, tag: 0, server, limits }
    }

    pub(super) fn budget<'a>(&self, doing: &'a str, bytes: u64) -> Budget<'a> {
        Budget { doing, deadline: Instant::now() + self.limits.command_timeout, bytes }
    }

    /// Read more bytes into the buffer.
    fn fill(&mut self, b: &Budget<'_>) -> Result<(), Fail> {
        fill(&mut *self.io, &mut self.buf, &mut self.pos, b.deadline, &self.limits, &self.server, b.doing)
    }

    fn charge(&self, b: &mut Budget<'_>, n: u64) -> Result<(), Fail> {
        if n > b.bytes {
            return Err(over_budget(&self.server, b.doing, n.max(b.bytes)));
        }
        b.bytes -= n;
        Ok(())
    }

    /// Append one line (through `\n`) to `out`.
    fn read_line(&mut self, out: &mut Vec<u8>, b: &mut Budget<'_>) -> Result<(), Fail> {
        let start = out.len();
        loop {
            let avail = &self.buf[self.pos..];
            let (n, done) = match avail.iter().position(|&c| c == b'\n') {
                Some(i) => (i + 1, true),
                None => (avail.len(), false),
            };
            if out.len() - start + n > self.limits.max_line {
                return Err(line_too_long(&self.server, self.limits.max_line, b.doing));
            }
            self.charge(b, n as u64)?;
            out.extend_from_slice(&avail[..n]);
            self.pos += n;
            if done {
                return Ok(());
            }
            self.fill(b)?;
        }
    }

    /// Append exactly `n` bytes to `out`.
    fn read_exact(&mut self, out: &mut Vec<u8>, n: u64, b: &mut Budget<'_>) -> Result<(), Fail> {
        let mut left = n;
        out.reserve(n.min(1 << 26) as usize);
        while left > 0 {
            if self.pos == self.buf.len() {
                self.fill(b)?;
            }
            let take = (self.buf.len() - self.pos).min(left.min(usize::MAX as u64) as usize);
            out.extend_from_slice(&self.buf[self.pos..self.pos + take]);
            self.pos += take;
            left -= take as u64;
        }
        Ok(())
    }

    /// One complete response: a line, and for each literal it announces, the literal and the line
    /// after it.
    pub(super) fn read_response(&mut self, b: &mut Budget<'_>) -> Result<Vec<u8>, Fail> {
        let mut out = Vec::new();
        loop {
            let start = out.len();
            self.read_line(&mut out, b)?;
            match literal_len(&out[start..]) {
                None => return Ok(out),
                Some(Ok(n)) if n <= self.limits.max_literal => {
                    self.charge(b, n)?;
                    self.read_exact(&mut out, n, b)?;
                }
                Some(announced) => return Err(literal_too_large(&self.server, announced, b.doing, self.limits.max_literal)),
            }
        }
    }

    fn write_line(&mut self, line: &[u8], doing: &str) -> Result<(), Fail> {
        self.io.set_timeouts(self.limits.read_timeout, self.limits.read_timeout);
        self.io
            .write_all(line)
            .and_then(|()| self.io.write_all(b"\r\n"))
            .and_then(|()| self.io.flush())
            .map_err(|e| io_or_guard(&self.server, doing, &e))
    }

    /// Send `command` (without tag) and read its answer, within `bytes` of responses and the
    /// command deadline. `secret` marks a command whose text must never appear in a message.
    pub(super) fn command(&mut self, command: &str, doing: &str, bytes: u64) -> Result<Answer, Fail> {
        check_allowed(command)?;
        self.tag += 1;
        let tag = format!("R{}", self.tag);
        let mut b = self.budget(doing, bytes);
        self.write_line(format!("{tag} {command}").as_bytes(), doing)?;
        self.answer(&tag, &mut b, &mut |_wire: &mut Wire, _info: &[u8]| Err(()))
    }

    /// Read responses up to the tagged one. `on_continue` answers a `+` continuation request
    /// (`Err` when the command expects none).
    fn answer(&mut self, tag: &str, b: &mut Budget<'_>, on_continue: &mut OnContinue<'_>) -> Result<Answer, Fail> {
        let mut untagged = Vec::new();
        let mut unreadable = 0;
        let mut first_unreadable = None;
        loop {
            let raw = self.read_response(b)?;
            if raw.starts_with(b"+") {
                let info = raw[1..].trim_ascii();
                if on_continue(self, info).is_err() {
                    return Err(Fail::answer(format!(
                        "{} asked for more input while {}, which rapport did not expect (it sent \"{}\")",
                        self.server,
                        b.doing,
                        excerpt(&raw)
                    )));
                }
                continue;
            }
            if raw.starts_with(tag.as_bytes()) && raw.get(tag.len()) == Some(&b' ') {
                return match parse(&raw) {
                    Some(imap_proto::Response::Done { status, information, .. }) => Ok(Answer {
                        untagged,
                        unreadable,
                        first_unreadable,
                        status,
                        text: information.map(|i| i.into_owned()).unwrap_or_default(),
                    }),
                    _ => Err(Fail::answer(format!(
                        "{} ended its answer while {} with a line rapport cannot read (\"{}\")",
                        self.server,
                        b.doing,
                        excerpt(&raw)
                    ))),
                };
            }
            if !raw.starts_with(b"* ") {
                // Neither untagged, nor a continuation, nor our tag: out of step.
                return Err(Fail::answer(format!(
                    "{} sent something that is not an IMAP response while {} (\"{}\")",
                    self.server,
                    b.doing,
                    excerpt(&raw)
                )));
            }
            if parse(&raw).is_some() {
                untagged.push(raw);
            } else {
                unreadable += 1;
                first_unreadable.get_or_insert_with(|| excerpt(&raw));
            }
        }
    }
}

#[cfg(test)]
pub(super) mod tests;
