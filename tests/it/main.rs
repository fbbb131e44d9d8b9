//! rapport's integration tests, one binary (`cargo test --test it`).
mod clean;
mod hooks;
mod imap;
mod support;
