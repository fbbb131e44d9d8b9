//! rapport's integration tests, one binary (`cargo test --test it`). They run the real binary,
//! the real model and real SQLite files.
mod accounts;
mod audit;
mod bench;
mod bad_input;
mod check;
mod context;
mod disk_full;
mod hooks;
mod imap;
mod imap_hostile;
mod kill;
mod lsp;
mod mbox;
mod serve;
mod support;

use std::path::PathBuf;

/// The built `rapport` binary.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rapport"))
}

/// A file under tests/fixtures.
pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
