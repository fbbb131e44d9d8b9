//! Renderers. None of them sees the pipeline, only its results.
pub mod accounts;
pub mod check;
pub mod audit;
pub mod html;
