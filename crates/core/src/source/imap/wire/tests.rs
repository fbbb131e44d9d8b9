use std::io::{BufRead, BufReader};
use std::net::TcpListener;

use super::*;

pub(in crate::source::imap) fn limits() -> Limits {
    Limits { max_line: 1024, max_literal: 4096, read_timeout: Duration::from_secs(5), command_timeout: Duration::from_secs(5) }
}

/// A wire to a server that runs `script` on its side of the connection (reading our commands
/// line by line with the reader it is given).
fn wire_to(limits: Limits, script: impl FnOnce(&mut BufReader<TcpStream>, &mut TcpStream) + Send + 'static) -> (Wire, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        script(&mut reader, &mut stream);
    });
    let tcp = TcpStream::connect(addr).unwrap();
    let socket = tcp.try_clone().unwrap();
    (Wire::new(Stream::Plain(tcp), socket, "test-server".into(), limits), server)
}

fn read_command(r: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    line.trim_end().to_string()
}

#[test]
fn literal_announcements() {
    assert_eq!(literal_len(b"* 1 FETCH (BODY[] {12}\r\n"), Some(Ok(12)));
    assert_eq!(literal_len(b"* 1 FETCH (BODY[] {0}\n"), Some(Ok(0)));
    assert_eq!(literal_len(b"* 1 FETCH (BODY[] {4294967295}\r\n"), Some(Ok(4_294_967_295)));
    assert_eq!(literal_len(b"* 1 FETCH (BODY[] {99999999999999999999999}\r\n"), Some(Err(())));
    assert_eq!(literal_len(b"* OK done\r\n"), None);
    assert_eq!(literal_len(b"* OK {}\r\n"), None);
    assert_eq!(literal_len(b"* OK 12}\r\n"), None);
    assert_eq!(literal_len(b"{7}\r\n"), Some(Ok(7)));
    assert_eq!(literal_len(b"}\r\n"), None);
}

#[test]
fn quoting() {
    assert_eq!(quote(r#"c0rrect "horse" \battery"#).unwrap(), r#""c0rrect \"horse\" \\battery""#);
    assert_eq!(quote("a\r\nb"), None);
}

#[test]
fn a_command_reads_untagged_responses_with_literals_and_its_tagged_answer() {
    let (mut wire, server) = wire_to(limits(), |r, w| {
        assert_eq!(read_command(r), "R1 UID FETCH 7 (UID BODY.PEEK[])");
        w.write_all(b"* 1 FETCH (UID 7 BODY[] {11}\r\nhello\r\nyou!)\r\n* 2 FETCH (UID 8 GARBAGE ((\r\nR1 OK done\r\n").unwrap();
    });
    let answer = wire.command("UID FETCH 7 (UID BODY.PEEK[])", "reading", 1 << 20).unwrap();
    server.join().unwrap();
    assert!(answer.ok());
    assert_eq!(answer.untagged.len(), 1);
    assert_eq!(answer.unreadable, 1, "the unparseable response is counted, not fatal");
    let Some(imap_proto::Response::Fetch(1, attrs)) = answer.responses().next() else { panic!("{answer:?}") };
    assert!(attrs.iter().any(|a| matches!(a, imap_proto::AttributeValue::BodySection { data: Some(d), .. } if d.as_ref() == b"hello\r\nyou!")));
}

#[test]
fn a_huge_literal_is_refused_before_it_is_read() {
    let (mut wire, server) = wire_to(limits(), |r, w| {
        read_command(r);
        w.write_all(b"* 1 FETCH (UID 1 BODY[] {4294967295}\r\n").unwrap();
        // Then nothing more: a client that waited for 4 GiB would hang here.
        std::thread::sleep(Duration::from_millis(500));
    });
    let t = Instant::now();
    let err = wire.command("UID FETCH 1 (UID BODY.PEEK[])", "reading message UID 1", 1 << 40).unwrap_err();
    server.join().unwrap();
    assert!(err.answer && !err.transient, "{err:?}");
    assert!(err.message.contains("4294967295 bytes") && err.message.contains("over the limit"), "{}", err.message);
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[test]
fn an_endless_line_is_cut_at_the_line_limit() {
    let (mut wire, server) = wire_to(limits(), |r, w| {
        read_command(r);
        let junk = vec![b'x'; 64 * 1024];
        // Until the client hangs up.
        while w.write_all(&junk).is_ok() {}
    });
    let err = wire.command("NOOP", "checking", 1 << 40).unwrap_err();
    drop(wire);
    server.join().unwrap();
    assert!(err.answer && err.message.contains("a line longer than 1024 bytes"), "{}", err.message);
}

#[test]
fn a_trickle_hits_the_command_deadline() {
    let mut l = limits();
    l.command_timeout = Duration::from_millis(700);
    let (mut wire, server) = wire_to(l, |r, w| {
        read_command(r);
        // One byte every 100 ms: every read succeeds, the command never ends.
        for b in b"* OK still here, still here, still here, still here\r\n".iter().cycle().take(100) {
            if w.write_all(&[*b]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let t = Instant::now();
    let err = wire.command("NOOP", "checking folder `Sent` for new messages", 1 << 20).unwrap_err();
    let took = t.elapsed();
    drop(wire);
    server.join().unwrap();
    assert!(err.answer && err.message.contains("command-timeout-secs"), "{}", err.message);
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[test]
fn a_command_budget_bounds_many_small_responses() {
    let (mut wire, server) = wire_to(limits(), |r, w| {
        read_command(r);
        for _ in 0..10_000 {
            if w.write_all(b"* OK chatter\r\n").is_err() {
                return;
            }
        }
        let _ = w.write_all(b"R1 OK done\r\n");
    });
    let err = wire.command("NOOP", "checking", 10_000).unwrap_err();
    drop(wire);
    server.join().unwrap();
    assert!(err.answer && err.message.contains("more than rapport asked for"), "{}", err.message);
}

#[test]
fn only_reading_commands_are_ever_sent() {
    let (mut wire, server) = wire_to(limits(), |r, w| {
        // The only command that reaches the server.
        assert_eq!(read_command(r), "R1 NOOP");
        w.write_all(b"R1 OK\r\n").unwrap();
    });
    for forbidden in ["STORE 1 +FLAGS (\\Seen)", "UID STORE 1 +FLAGS (\\Deleted)", "EXPUNGE", "SELECT INBOX", "APPEND Sent {3}", "UID MOVE 1 Trash", "DELETE Sent", "uid expunge 1"] {
        let err = wire.command(forbidden, "testing", 1 << 20).unwrap_err();
        assert!(err.message.contains("only ever reads"), "{forbidden}: {}", err.message);
    }
    assert!(wire.command("NOOP", "testing", 1 << 20).unwrap().ok());
    server.join().unwrap();
}

#[test]
fn a_response_out_of_step_is_refused() {
    let (mut wire, server) = wire_to(limits(), |r, w| {
        read_command(r);
        w.write_all(b"HTTP/1.1 400 Bad Request\r\n").unwrap();
    });
    let err = wire.command("NOOP", "checking", 1 << 20).unwrap_err();
    server.join().unwrap();
    assert!(err.answer && err.message.contains("not an IMAP response") && err.message.contains("HTTP/1.1 400"), "{}", err.message);
}

/// One random server answer for the fuzz-like tests: one to six of the `seeds`, each mutated up
/// to eight times (bytes changed, dropped or inserted, literals up to `max_literal` announced,
/// truncation), every seventh round followed by noise, and two rounds in three by `done`.
pub(in crate::source::imap) fn random_answer(next: &mut impl FnMut() -> u64, seeds: &[&[u8]], round: u32, max_literal: u64, done: &[u8]) -> Vec<u8> {
    let mut data = Vec::new();
    for _ in 0..(next() % 6 + 1) {
        let mut r = seeds[(next() % seeds.len() as u64) as usize].to_vec();
        for _ in 0..(next() % 8) {
            if r.is_empty() {
                break;
            }
            let at = (next() % r.len() as u64) as usize;
            match next() % 5 {
                0 => r[at] = next() as u8,
                1 => {
                    r.remove(at);
                }
                2 => r.insert(at, b"{}()[]<>\"\\\r\n0123456789 "[(next() % 21) as usize]),
                3 => r.splice(at..at, format!("{{{}}}\r\n", next() % max_literal).bytes()).for_each(drop),
                _ => r.truncate(at.max(1)),
            }
        }
        data.extend(r);
    }
    if round % 7 == 0 {
        data.extend((0..(next() % 3000)).map(|_| next() as u8));
    }
    if round % 3 != 0 {
        data.extend(done);
    }
    data
}

/// Deterministic random input beside the fuzz target (`fuzz/fuzz_targets/imap_response.rs`),
/// so that every `cargo test` runs some: mutations of real responses, and noise, read as a
/// server's answer never panic and never bring more than the limits allow.
#[test]
fn random_responses_never_panic_and_stay_bounded() {
    let seeds: &[&[u8]] = &[
        b"* 1 FETCH (UID 7 RFC822.SIZE 11 BODY[]<0> {11}\r\nhello\r\nyou!)\r\n",
        b"* OK [UIDVALIDITY 3857529045] UIDs valid\r\n",
        b"* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent\"\r\n",
        b"* SEARCH 1 2 3 4 5 99\r\n",
        b"* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN SPECIAL-USE\r\n",
        b"* 3 EXISTS\r\n",
        b"* 2 FETCH (UID 9 BODY[] {5}\r\nab\r\n\r\n BODY[HEADER] NIL)\r\n",
        b"+ continue\r\n",
        b"R1 NO [SERVERBUG] oops\r\n",
    ];
    let mut state = 0x5eed_u64;
    let mut next = move || {
        state = crate::text::splitmix64(state);
        state
    };
    let (mut ok, mut refused) = (0, 0);
    for round in 0..20_000 {
        let data = random_answer(&mut next, seeds, round, 5000, b"\r\nR1 OK done\r\n");
        match read_answer(&data, limits(), 1 << 16) {
            Ok((untagged, _)) => {
                ok += 1;
                for raw in &untagged {
                    assert!(raw.len() <= 1 << 16);
                    assert!(parse(raw).is_some());
                }
            }
            Err(_) => refused += 1,
        }
    }
    assert!(ok > 1000 && refused > 1000, "{ok} answers read, {refused} refused");
}
