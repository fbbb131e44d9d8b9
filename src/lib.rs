//! # rapport
//!
//! rapport reads the mail a business sends to its customers, flags sentences whose tone could be
//! misread, and shows which customer accounts are handled by email alone.
//!
//! **Flow.** `source` (eml, directory, mbox, maildir, stdin, IMAP) yields [`source::RawMail`]
//! tagged with a [`source::SourceRef`]; `parse` turns bytes into an owned [`parse::ParsedMail`];
//! `clean` keeps only what the sender wrote ([`clean::CleanText`], sentences as byte ranges that map
//! back to the original body); `score` runs the tone model (rust-bert's BERT encoder + rapport's
//! trained heads) sentence by sentence; `rules` and the model produce [`findings::Finding`]s with
//! stable codes; `state` keeps what was seen and scored in SQLite; `report` renders results.
//!
//! **Boundaries.** Only `score` knows about models. The scorer owns the model on one thread;
//! parsing and cleaning run in parallel (rayon). Renderers see results, never the pipeline.
//!
//! **Errors.** Library errors are `thiserror` enums ([`error`]) that name the input and say what
//! to do next. One bad message never stops a batch. Exit codes: 0 nothing at or above
//! `--fail-on`, 1 findings at or above it, 2 the tool failed or some messages could not be read.
pub mod accounts;
pub mod clean;
pub mod config;
pub mod error;
pub mod findings;
pub mod parse;
pub mod source;
pub mod cli;
#[cfg(feature = "model")]
pub mod commands;
pub mod report;
pub mod rules;
#[cfg(feature = "model")]
pub mod score;
pub mod secret;
pub mod state;
pub mod synth;
pub mod tone;

#[cfg(feature = "model")]
pub use commands::run;

/// True when the error is a closed stdout (`rapport check ... | head`): exit quietly.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
