//! The guard under the `imap` crate: the limits of `wire.rs` hold for answers the crate reads,
//! with the same messages, and only reading commands reach the server.
use std::io::{BufRead, BufReader};
use std::net::TcpListener;

use super::*;
use crate::source::imap::wire::tests::{limits, random_answer};


type Script = Box<dyn FnOnce(&mut BufReader<TcpStream>, &mut TcpStream) + Send>;

/// A logged-in `imap::Session` over a guard, to a server that greets, accepts the login, then
/// runs `script`.
fn session_to(limits: Limits, script: Script) -> (imap::Session<Guard>, Guard, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        stream.write_all(b"* OK [CAPABILITY IMAP4rev1] ready\r\n").unwrap();
        let login = read_command(&mut reader);
        assert!(login.starts_with("a1 LOGIN "), "{login}");
        stream.write_all(b"a1 OK logged in\r\n").unwrap();
        script(&mut reader, &mut stream);
    });
    let tcp = TcpStream::connect(addr).unwrap();
    let socket = tcp.try_clone().unwrap();
    let guard = Guard::new(Box::new(wire::Net { stream: Stream::Plain(tcp), socket }), "test-server".into(), limits, true);
    let mut client = imap::Client::new(guard.clone());
    let greeting = client.read_greeting().unwrap();
    assert!(greeting.starts_with(b"* OK"));
    guard.prepare("logging in", 1 << 20);
    let session = client.login("u", "p").map_err(|(e, _)| e).unwrap();
    (session, guard, server)
}

fn read_command(r: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    line.trim_end().to_string()
}

fn fail(guard: &Guard, e: imap::Error, doing: &str) -> Fail {
    session::crate_fail("test-server", guard, e, doing)
}

#[test]
fn the_crate_reads_literals_through_the_guard() {
    let (mut s, guard, server) = session_to(
        limits(),
        Box::new(|r, w| {
            assert_eq!(read_command(r), "a2 UID FETCH 7 (UID RFC822.SIZE BODY.PEEK[])");
            w.write_all(b"* 1 FETCH (UID 7 RFC822.SIZE 11 BODY[] {11}\r\nhello\r\nyou!)\r\na2 OK done\r\n").unwrap();
        }),
    );
    guard.prepare("reading", 1 << 20);
    let fetches = s.uid_fetch("7", "(UID RFC822.SIZE BODY.PEEK[])").unwrap();
    server.join().unwrap();
    let f = fetches.iter().next().unwrap();
    assert_eq!((f.uid, f.size, f.body()), (Some(7), Some(11), Some(&b"hello\r\nyou!"[..])));
}

#[test]
fn a_huge_literal_is_refused_before_it_is_read() {
    let (mut s, guard, server) = session_to(
        limits(),
        Box::new(|r, w| {
            read_command(r);
            w.write_all(b"* 1 FETCH (UID 1 BODY[] {4294967295}\r\n").unwrap();
            // Then nothing more: a client that waited for 4 GiB would hang here.
            std::thread::sleep(Duration::from_millis(500));
        }),
    );
    let t = Instant::now();
    guard.prepare("reading message UID 1", 1 << 40);
    let err = fail(&guard, s.uid_fetch("1", "(UID BODY.PEEK[])").err().unwrap(), "reading message UID 1");
    server.join().unwrap();
    assert!(err.answer && !err.transient, "{err:?}");
    assert!(err.message.contains("4294967295 bytes") && err.message.contains("over the limit") && err.message.contains("did not read it"), "{}", err.message);
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[test]
fn an_endless_line_is_cut_at_the_line_limit() {
    let (mut s, guard, server) = session_to(
        limits(),
        Box::new(|r, w| {
            read_command(r);
            let junk = vec![b'x'; 64 * 1024];
            while w.write_all(&junk).is_ok() {}
        }),
    );
    guard.prepare("checking", 1 << 40);
    let err = fail(&guard, s.noop().unwrap_err(), "checking");
    drop(s);
    drop(guard);
    server.join().unwrap();
    assert!(err.answer && err.message.contains("a line longer than 1024 bytes"), "{}", err.message);
}

#[test]
fn a_trickle_hits_the_command_deadline() {
    let mut l = limits();
    l.command_timeout = Duration::from_millis(700);
    let (mut s, guard, server) = session_to(
        l,
        Box::new(|r, w| {
            read_command(r);
            for b in b"* OK still here, still here, still here, still here\r\n".iter().cycle().take(100) {
                if w.write_all(&[*b]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }),
    );
    let t = Instant::now();
    guard.prepare("checking folder `Sent` for new messages", 1 << 20);
    let err = fail(&guard, s.noop().unwrap_err(), "checking folder `Sent` for new messages");
    let took = t.elapsed();
    drop(s);
    drop(guard);
    server.join().unwrap();
    assert!(err.answer && err.message.contains("command-timeout-secs"), "{}", err.message);
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[test]
fn a_command_budget_bounds_many_small_responses() {
    let (mut s, guard, server) = session_to(
        limits(),
        Box::new(|r, w| {
            read_command(r);
            for _ in 0..10_000 {
                if w.write_all(b"* OK chatter\r\n").is_err() {
                    return;
                }
            }
            let _ = w.write_all(b"a2 OK done\r\n");
        }),
    );
    guard.prepare("checking", 10_000);
    let err = fail(&guard, s.noop().unwrap_err(), "checking");
    drop(s);
    drop(guard);
    server.join().unwrap();
    assert!(err.answer && err.message.contains("more than rapport asked for"), "{}", err.message);
}

#[test]
fn only_reading_commands_reach_the_server() {
    let (mut s, guard, server) = session_to(
        limits(),
        Box::new(|r, w| {
            // The only command that reaches the server after the login.
            let next = read_command(r);
            assert!(next.ends_with(" NOOP"), "{next}");
            let tag = next.split(' ').next().unwrap().to_string();
            w.write_all(format!("{tag} OK\r\n").as_bytes()).unwrap();
        }),
    );
    for forbidden in ["STORE 1 +FLAGS (\\Seen)", "UID STORE 1 +FLAGS (\\Deleted)", "EXPUNGE", "SELECT INBOX", "UID MOVE 1 Trash", "DELETE Sent", "uid expunge 1"] {
        let err = fail(&guard, s.run_command_and_read_response(forbidden).unwrap_err(), "testing");
        assert!(err.message.contains("only ever reads"), "{forbidden}: {}", err.message);
    }
    let err = fail(&guard, s.expunge().unwrap_err(), "testing");
    assert!(err.message.contains("refused to send the IMAP command EXPUNGE"), "{}", err.message);
    guard.prepare("testing", 1 << 20);
    s.noop().unwrap();
    server.join().unwrap();
}

#[test]
fn the_crate_and_the_wire_take_turns_on_one_connection() {
    let (mut s, guard, server) = session_to(
        limits(),
        Box::new(|r, w| {
            assert_eq!(read_command(r), "a2 NOOP");
            w.write_all(b"a2 OK done\r\n").unwrap();
            assert_eq!(read_command(r), "R1 UID FETCH 7 (UID BODY.PEEK[]<0.10>)");
            // The tagged answer and an untagged response for the next command come together:
            // neither reader may swallow what belongs to the other.
            w.write_all(b"* 1 FETCH (UID 7 BODY[]<0> {5}\r\nhello)\r\n* 2 FETCH (UID 8 ((\r\nR1 OK done\r\n* 3 EXISTS\r\n").unwrap();
            assert_eq!(read_command(r), "a3 NOOP");
            w.write_all(b"a3 OK done\r\n").unwrap();
        }),
    );
    guard.prepare("checking", 1 << 20);
    s.noop().unwrap();
    let mut wire = Wire::over(Box::new(guard.clone()), "test-server".into(), limits());
    guard.prepare("reading", 1 << 20);
    let answer = wire.command("UID FETCH 7 (UID BODY.PEEK[]<0.10>)", "reading", 1 << 20).unwrap();
    assert!(answer.ok());
    assert_eq!((answer.untagged.len(), answer.unreadable), (1, 1), "the bad response costs only itself");
    guard.prepare("checking", 1 << 20);
    s.noop().unwrap();
    assert_eq!(s.take_all_unsolicited().count(), 1, "the EXISTS reached the crate");
    server.join().unwrap();
}

#[test]
fn an_unparseable_response_is_an_answer_error_that_shows_it() {
    let (mut s, guard, server) = session_to(
        limits(),
        Box::new(|r, w| {
            read_command(r);
            w.write_all(b"* 1 FETCH (UID 4 BODY[]<0> NIL (((( \x01 garbage\r\na2 OK done\r\n").unwrap();
        }),
    );
    guard.prepare("reading message sizes", 1 << 20);
    let err = fail(&guard, s.uid_fetch("4", "(UID RFC822.SIZE)").err().unwrap(), "reading message sizes");
    server.join().unwrap();
    assert!(err.answer && err.message.contains("cannot read") && err.message.contains("garbage"), "{}", err.message);
}

#[test]
fn literal_announcements_too_long_to_keep_are_too_large() {
    assert_eq!(announced(b"abc {12}\r\n"), Some(Ok(12)));
    assert_eq!(announced(b"abc\r\n"), None);
    let long = format!("{}}}\r\n", "9".repeat(TAIL));
    assert_eq!(announced(&long.as_bytes()[long.len() - TAIL..]), Some(Err(())));
}

/// As `wire::tests::random_responses_never_panic_and_stay_bounded`, through the guard and the
/// `imap` crate: mutated real responses and noise, read as the answer to `CAPABILITY` under a
/// 16 KiB budget, never panic and always end, in an answer or an error.
#[test]
fn random_answers_through_the_crate_never_panic_and_stay_bounded() {
    let seeds: &[&[u8]] = &[
        b"* 1 FETCH (UID 7 RFC822.SIZE 11 BODY[]<0> {11}\r\nhello\r\nyou!)\r\n",
        b"* OK [UIDVALIDITY 3857529045] UIDs valid\r\n",
        b"* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent\"\r\n",
        b"* SEARCH 1 2 3 4 5 99\r\n",
        b"* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN SPECIAL-USE\r\n",
        b"* 3 EXISTS\r\n",
        b"+ continue\r\n",
        b"a1 NO [SERVERBUG] oops\r\n",
    ];
    let mut state = 0x9a4d_u64;
    let mut next = move || {
        state = crate::text::splitmix64(state);
        state
    };
    let (mut ok, mut refused) = (0, 0);
    for round in 0..5_000 {
        let data = random_answer(&mut next, seeds, round, 9000, b"\r\na1 OK done\r\n");
        let guard = Guard::new(Box::new(wire::Memory(io::Cursor::new(data))), "server".into(), limits(), false);
        let mut client = imap::Client::new(guard.clone());
        guard.prepare("testing", 1 << 14);
        match client.capabilities() {
            Ok(_) => ok += 1,
            Err(_) => refused += 1,
        }
    }
    // The crate refuses most of them (any response it cannot file is an error); none may panic.
    assert!(ok > 0 && refused > 1000, "{ok} answers read, {refused} refused");
}
