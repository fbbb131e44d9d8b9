//! Developer tools for benchmarks: the synthetic-but-real inbox generator ([`synth`]), shared by
//! `rapport-bench` and the criterion benches in `benches/`.
pub mod synth;
