//! A hostile IMAP server on 127.0.0.1, for the tests that a broken or malicious server can
//! neither exhaust rapport's memory or time, nor make it panic, nor make it lose the messages
//! around the bad ones.
//!
//! It speaks just enough IMAP4rev1 (plaintext) for rapport's audit: greeting, CAPABILITY, LOGIN,
//! LIST, EXAMINE, NOOP, UID SEARCH, UID FETCH, LOGOUT. Its folder `Sent` holds [`Hostile::uids`];
//! each UID behaves as [`Behaviour`] says, whenever it is fetched (in a batch or alone). Every
//! command line a client sends is recorded ([`Hostile::commands`]). In [`Hostile::starttls_garbage`]
//! mode it offers STARTTLS, says OK, and then sends garbage instead of TLS.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server does when a message is fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behaviour {
    /// A well-formed message (and its RFC822.SIZE when sizes are asked for).
    Good,
    /// A well-formed message, but no RFC822.SIZE, ever.
    NoSize,
    /// Announces a literal of 4294967295 bytes, then sends nothing more. No RFC822.SIZE.
    HugeLiteral,
    /// A FETCH response that does not parse; the answer goes on after it.
    Unparseable,
    /// A quoted string that never ends: bytes without a line break for as long as the client reads.
    EndlessLine,
    /// A literal trickled one byte every 200 ms.
    Trickle,
    /// RFC822.SIZE says 100 MiB (over rapport's limit); if fetched anyway, a good message.
    Oversized,
    /// Left out of every FETCH answer, which then ends with a tagged NO (as Dovecot does for a
    /// message file it cannot read).
    Refused,
}

/// The message a UID holds.
pub fn message(uid: u32) -> Vec<u8> {
    format!(
        "From: support@northwind-bikes.example\r\nTo: customer{uid}@velo-club.example\r\nSubject: Order {uid}\r\nMessage-ID: <hostile-{uid}@northwind-bikes.example>\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\n\r\nHi,\r\nyour order {uid} ships on Monday. Thanks for your patience!\r\nBest,\r\nSam\r\n"
    )
    .into_bytes()
}

pub struct Hostile {
    pub port: u16,
    pub uidvalidity: u32,
    commands: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    pub uids: BTreeMap<u32, Behaviour>,
}

impl Hostile {
    /// An IMAP server whose folder `Sent` holds `uids`.
    pub fn start(uids: BTreeMap<u32, Behaviour>) -> Hostile {
        Self::spawn(uids, false)
    }

    /// A server that offers STARTTLS and answers it with garbage.
    pub fn starttls_garbage() -> Hostile {
        Self::spawn(BTreeMap::new(), true)
    }

    fn spawn(uids: BTreeMap<u32, Behaviour>, garbage: bool) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let commands = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s, u) = (Arc::clone(&commands), Arc::clone(&stop), uids.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        stream.set_nonblocking(false).unwrap();
                        let (c, s, u) = (Arc::clone(&c), Arc::clone(&s), u.clone());
                        std::thread::spawn(move || {
                            let _ = if garbage { serve_garbage(stream, &c) } else { serve(stream, &c, &s, &u, 7) };
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Hostile { port, uidvalidity: 7, commands, stop, uids }
    }

    /// Every command line clients sent (tags removed).
    pub fn commands(&self) -> Vec<String> {
        self.commands.lock().unwrap().clone()
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn record(commands: &Mutex<Vec<String>>, line: &str) {
    let command = line.split_once(' ').map(|(_tag, c)| c).unwrap_or(line);
    commands.lock().unwrap().push(command.to_string());
}

fn read_line(r: &mut BufReader<TcpStream>) -> Option<String> {
    let mut line = String::new();
    match r.read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim_end().to_string()),
    }
}

/// Wait until the client hangs up (or a minute passes).
fn stall(r: &mut BufReader<TcpStream>) {
    let _ = r.get_ref().set_read_timeout(Some(Duration::from_secs(60)));
    let mut sink = [0u8; 4096];
    while matches!(r.read(&mut sink), Ok(n) if n > 0) {}
}

/// `1:3,5` → [1, 2, 3, 5], limited to the UIDs that exist.
fn uid_set(set: &str, uids: &BTreeMap<u32, Behaviour>) -> Vec<u32> {
    let max = uids.keys().last().copied().unwrap_or(0);
    let mut out = Vec::new();
    for part in set.split(',') {
        let (a, b) = part.split_once(':').unwrap_or((part, part));
        let num = |s: &str| if s == "*" { max } else { s.parse().unwrap_or(0) };
        let (a, b) = (num(a), num(b));
        let (a, b) = (a.min(b), a.max(b));
        out.extend(uids.keys().copied().filter(|u| (a..=b).contains(u)));
    }
    out.sort_unstable();
    out.dedup();
    out
}

fn serve(stream: TcpStream, commands: &Mutex<Vec<String>>, stop: &AtomicBool, uids: &BTreeMap<u32, Behaviour>, uidvalidity: u32) -> std::io::Result<()> {
    let mut w = stream.try_clone()?;
    let mut r = BufReader::new(stream);
    w.write_all(b"* OK [CAPABILITY IMAP4rev1] hostile test server ready\r\n")?;
    let seq = |uid: u32| uids.keys().position(|&u| u == uid).map(|i| i + 1).unwrap_or(1);
    while let Some(line) = read_line(&mut r) {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        record(commands, &line);
        let (tag, rest) = line.split_once(' ').unwrap_or((&line, ""));
        let upper = rest.to_ascii_uppercase();
        if upper == "CAPABILITY" {
            write!(w, "* CAPABILITY IMAP4rev1\r\n{tag} OK done\r\n")?;
        } else if upper.starts_with("LOGIN ") {
            write!(w, "{tag} OK logged in\r\n")?;
        } else if upper.starts_with("LIST ") {
            write!(w, "* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent\"\r\n{tag} OK done\r\n")?;
        } else if upper.starts_with("EXAMINE ") {
            let next = uids.keys().last().copied().unwrap_or(0) + 1;
            write!(w, "* {} EXISTS\r\n* OK [UIDVALIDITY {uidvalidity}] ok\r\n* OK [UIDNEXT {next}] ok\r\n{tag} OK [READ-ONLY] done\r\n", uids.len())?;
        } else if upper == "NOOP" {
            write!(w, "{tag} OK done\r\n")?;
        } else if let Some(range) = upper.strip_prefix("UID SEARCH UID ") {
            let found: Vec<String> = uid_set(range, uids).iter().map(u32::to_string).collect();
            write!(w, "* SEARCH {}\r\n{tag} OK done\r\n", found.join(" "))?;
        } else if let Some(args) = upper.strip_prefix("UID FETCH ") {
            let (set, items) = args.split_once(' ').unwrap_or((args, ""));
            let wanted = uid_set(set, uids);
            if !items.contains("BODY.PEEK[]") {
                for uid in wanted {
                    match uids[&uid] {
                        Behaviour::NoSize | Behaviour::HugeLiteral => write!(w, "* {} FETCH (UID {uid})\r\n", seq(uid))?,
                        Behaviour::Oversized => write!(w, "* {} FETCH (UID {uid} RFC822.SIZE 104857600)\r\n", seq(uid))?,
                        _ => write!(w, "* {} FETCH (UID {uid} RFC822.SIZE {})\r\n", seq(uid), message(uid).len())?,
                    }
                }
                write!(w, "{tag} OK done\r\n")?;
                continue;
            }
            let refused = wanted.iter().any(|u| uids[u] == Behaviour::Refused);
            for uid in wanted {
                let body = message(uid);
                match uids[&uid] {
                    Behaviour::Refused => {}
                    Behaviour::Good | Behaviour::Oversized => {
                        write!(w, "* {} FETCH (UID {uid} RFC822.SIZE {} BODY[]<0> {{{}}}\r\n", seq(uid), body.len(), body.len())?;
                        w.write_all(&body)?;
                        w.write_all(b")\r\n")?;
                    }
                    Behaviour::NoSize => {
                        write!(w, "* {} FETCH (UID {uid} BODY[]<0> {{{}}}\r\n", seq(uid), body.len())?;
                        w.write_all(&body)?;
                        w.write_all(b")\r\n")?;
                    }
                    Behaviour::Unparseable => {
                        write!(w, "* {} FETCH (UID {uid} BODY[]<0> NIL (((( \x01 garbage\r\n", seq(uid))?;
                    }
                    Behaviour::HugeLiteral => {
                        write!(w, "* {} FETCH (UID {uid} BODY[]<0> {{4294967295}}\r\n", seq(uid))?;
                        stall(&mut r);
                        return Ok(());
                    }
                    Behaviour::EndlessLine => {
                        write!(w, "* {} FETCH (UID {uid} BODY[]<0> \"", seq(uid))?;
                        let chunk = vec![b'x'; 1 << 16];
                        while w.write_all(&chunk).is_ok() {}
                        return Ok(());
                    }
                    Behaviour::Trickle => {
                        write!(w, "* {} FETCH (UID {uid} RFC822.SIZE {} BODY[]<0> {{{}}}\r\n", seq(uid), body.len(), body.len())?;
                        for b in body.iter().cycle() {
                            if w.write_all(&[*b]).is_err() || stop.load(Ordering::Relaxed) {
                                return Ok(());
                            }
                            std::thread::sleep(Duration::from_millis(200));
                        }
                    }
                }
            }
            if refused {
                write!(w, "{tag} NO [SERVERBUG] Internal error occurred. Refer to server log for more information.\r\n")?;
            } else {
                write!(w, "{tag} OK done\r\n")?;
            }
        } else if upper == "LOGOUT" {
            write!(w, "* BYE bye\r\n{tag} OK done\r\n")?;
            break;
        } else {
            write!(w, "{tag} BAD not here\r\n")?;
        }
    }
    let _ = w.shutdown(Shutdown::Both);
    Ok(())
}

fn serve_garbage(stream: TcpStream, commands: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let mut w = stream.try_clone()?;
    let mut r = BufReader::new(stream);
    w.write_all(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] hostile test server ready\r\n")?;
    while let Some(line) = read_line(&mut r) {
        record(commands, &line);
        let (tag, rest) = line.split_once(' ').unwrap_or((&line, ""));
        if rest.eq_ignore_ascii_case("STARTTLS") {
            write!(w, "{tag} OK begin TLS now\r\n")?;
            // Not TLS: text, then noise, for as long as the client listens.
            w.write_all(b"* this is not a TLS record\r\n")?;
            let noise: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8).collect();
            for _ in 0..2000 {
                if w.write_all(&noise).is_err() {
                    break;
                }
            }
            return Ok(());
        }
        write!(w, "{tag} BAD only STARTTLS here\r\n")?;
    }
    Ok(())
}
