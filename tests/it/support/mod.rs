//! Shared test helpers.
pub mod dovecot;
