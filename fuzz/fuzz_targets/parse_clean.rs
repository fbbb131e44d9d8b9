//! Raw bytes as one message: `parse` → `clean(body)` → `check_rules`, plus `clean` → `check_rules`
//! on the bytes read lossily as text (a draft given with `--text`, CRs and all). See
//! `rapport_fuzz` (fuzz/src/lib.rs) for the invariants checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rapport_fuzz::check_raw_mail(data);
    rapport_fuzz::check_body(&String::from_utf8_lossy(data));
});
