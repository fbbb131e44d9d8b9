//! Raw bytes as an IMAP server's answer to one command, read by rapport's wire
//! (`rapport::source::imap::wire::read_answer`: line and literal framing, the per-command byte
//! budget, and `imap-proto` parsing of each response) exactly as a session reads its socket.
//!
//! Invariants: no panic; an answer that is read holds only responses that parse, each within the
//! budget; the limits hold whatever the bytes announce (`{4294967295}` is refused, not allocated).
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use rapport::source::imap::wire::{literal_len, parse, read_answer, Limits};

const BUDGET: u64 = 1 << 16;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_line: 4096, max_literal: 8192, read_timeout: Duration::from_secs(1), command_timeout: Duration::from_secs(5) };
    if let Ok((responses, _unreadable)) = read_answer(data, limits, BUDGET) {
        let total: usize = responses.iter().map(Vec::len).sum();
        assert!(total as u64 <= BUDGET, "answers over the budget: {total}");
        for raw in &responses {
            assert!(parse(raw).is_some(), "an untagged response that does not parse was kept");
        }
    }
    for line in data.split_inclusive(|&b| b == b'\n') {
        let _ = literal_len(line);
    }
});
