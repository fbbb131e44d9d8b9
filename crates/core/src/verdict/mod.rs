//! From cleaned text to a verdict: the tone model's sentence scores ([`SentenceScores`], from a
//! [`SentenceScorer`]), the rules' findings, and the **misread risk** that combines them. The v2
//! risk model ([`risk`]) is learnt on labelled business mail; [`legacy`] is the v1 combination,
//! kept for the side-by-side evaluation. [`Assessor`] is the one path every command takes; this
//! module sees numbers, never a model.
mod assessor;
mod error;
pub mod legacy;
pub mod risk;
mod scores;

pub use assessor::{Assessor, SentenceScorer};
pub use error::ScoreError;
pub use risk::RiskModel;
pub use scores::{Incivility, SentenceScores, Tones};

use crate::clean::CleanText;
use crate::findings::Finding;

/// Tone of the whole message: sentence probabilities averaged, weighted by sentence length.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tone {
    pub negative: f32,
    pub neutral: f32,
    pub positive: f32,
}

/// The verdict on one message.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Assessment {
    pub findings: Vec<Finding>,
    pub tone: Tone,
    /// Each rubric tone's highest probability over the message's prose sentences.
    pub tones: Tones,
    /// Misread risk of each sentence, in sentence order.
    pub sentence_risk: Vec<f32>,
    pub risk: f32,
    pub flagged: bool,
    pub scores: Vec<SentenceScores>,
}

/// Which verdict a build gives: v2 when it has a fitted risk model, else v1.
#[derive(Debug, Clone, Copy)]
pub enum Combiner {
    V2(&'static RiskModel),
    V1,
}

impl Combiner {
    /// The combination this build uses.
    pub fn current() -> Self {
        match RiskModel::embedded() {
            Some(m) => Combiner::V2(m),
            None => Combiner::V1,
        }
    }

    pub fn combine(&self, clean: &CleanText, scores: Vec<SentenceScores>, rules: Vec<Finding>) -> Assessment {
        match self {
            Combiner::V2(m) => risk::combine(clean, scores, rules, m),
            Combiner::V1 => legacy::combine(clean, scores, rules, &legacy::DEFAULT_WEIGHTS),
        }
    }
}
