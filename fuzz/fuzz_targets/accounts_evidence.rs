//! Raw bytes as accounts evidence: calendar text, a message's text (split at NUL bytes) and a few
//! numbers, through every parser the accounts report uses and a report built over them. See
//! `rapport_fuzz::accounts` (fuzz/src/accounts.rs) for the invariants checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rapport_fuzz::accounts::check_accounts_evidence(data);
});
