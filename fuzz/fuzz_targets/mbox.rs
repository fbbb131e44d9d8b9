//! Raw bytes as an mbox file, read through `rapport::source::MboxSource` (via a temp file), each
//! message compared with a whole-file model of mboxrd and then run through parse → clean → rules
//! with the invariants of `rapport_fuzz`.
//!
//! The model: a message starts at every line beginning with `From ` (that line is the separator,
//! not part of the message) and runs to the next one or to the end of the file; text before the
//! first separator is not a message (one `MboxJunk` error when it is more than blank lines); one
//! `>` is removed from lines matching `^>+From `; blank lines at the end of a message are not part
//! of it; a message whose lines add up to more than the limit is reported as `TooLarge` with that
//! size. Origins are `SourceRef::Mbox` with the message's index and a digest of its content that
//! is distinct within the file.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rapport::source::{IngestError, MailSource, MboxSource, SourceRef};

/// Small, so that inputs of a few KiB reach the too-large path.
const MAX_BYTES: u64 = 4096;

fn temp_path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| std::env::temp_dir().join(format!("rapport-fuzz-mbox-{}.mbox", std::process::id())))
}

/// `Ok(bytes)` per message, `Err(size)` per over-size one; and whether junk comes first.
fn model(data: &[u8]) -> (bool, Vec<Result<Vec<u8>, u64>>) {
    let finish = |(mut bytes, size): (Vec<u8>, u64)| {
        if size > MAX_BYTES {
            return Err(size);
        }
        while let Some(end) = [b"\r\n".as_slice(), b"\n"].iter().find_map(|e| {
            let without = bytes.strip_suffix(*e)?;
            (without.is_empty() || without.ends_with(b"\n")).then_some(without.len())
        }) {
            bytes.truncate(end);
        }
        Ok(bytes)
    };
    let mut out = Vec::new();
    let mut junk = false;
    let mut cur: Option<(Vec<u8>, u64)> = None;
    for line in data.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"From ") {
            out.extend(cur.take().map(finish));
            cur = Some((Vec::new(), 0));
            continue;
        }
        let Some((bytes, size)) = cur.as_mut() else {
            junk |= !line.iter().all(u8::is_ascii_whitespace);
            continue;
        };
        *size += line.len() as u64;
        if *size > MAX_BYTES {
            continue;
        }
        let quotes = line.iter().take_while(|&&b| b == b'>').count();
        if quotes > 0 && line[quotes..].starts_with(b"From ") {
            bytes.extend_from_slice(&line[1..]);
        } else {
            bytes.extend_from_slice(line);
        }
    }
    out.extend(cur.map(finish));
    (junk, out)
}

fuzz_target!(|data: &[u8]| {
    let path = temp_path();
    std::fs::write(path, data).expect("write temp mbox");
    let mut src = MboxSource::new(path, MAX_BYTES);
    let mut got: Vec<_> = src.mails().collect();
    let (junk, want) = model(data);
    if junk {
        assert!(matches!(got.first(), Some(Err(IngestError::MboxJunk { .. }))), "junk before the first separator is one error first");
        let _junk = got.remove(0);
    }
    assert_eq!(got.len(), want.len(), "number of messages");
    let mut keys = std::collections::HashSet::new();
    let is_origin = |origin: &SourceRef, i: usize| matches!(origin, SourceRef::Mbox { path: p, index, .. } if p == path && *index == i);
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        match (g, w) {
            (Ok(raw), Ok(bytes)) => {
                assert!(is_origin(&raw.origin, i), "origin of message {i}: {:?}", raw.origin);
                assert!(keys.insert(raw.origin.key()), "message {i} has the key of an earlier one");
                assert!(raw.bytes == *bytes, "bytes of message {i} differ from the mboxrd model");
                rapport_fuzz::check_raw(raw);
            }
            (Err(IngestError::TooLarge { origin, size, limit }), Err(want_size)) => {
                assert!(is_origin(origin, i), "origin of message {i}: {origin:?}");
                assert_eq!((*size, *limit), (*want_size, MAX_BYTES), "too-large size of message {i}");
            }
            (g, w) => panic!(
                "message {i}: source gave {:?}, model expects {:?}",
                g.as_ref().map(|r| r.bytes.len()),
                w.as_ref().map(Vec::len)
            ),
        }
    }
});
