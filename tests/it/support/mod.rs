//! Shared test helpers.
pub mod dovecot;
pub mod hostile_imap;
