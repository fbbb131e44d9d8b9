//! The assessor: the one path from cleaned text to verdict, for `rapport check`, the audit, the
//! re-scoring after a model change, `rapport score` and the benchmarks.
//!
//! It flattens the sentences of every text it is given into one scorer call (so the encoder can
//! sort them by length), remembers the scores of sentences it has seen in this process (greetings,
//! sign-offs and templates recur), slices the scores back per text, runs the rules and combines
//! both into an [`Assessment`]. The scorer is loaded on first use: an audit with nothing new to
//! score never starts the model.
use std::collections::HashMap;

use super::{Assessment, Combiner, ScoreError, SentenceScores};
use crate::clean::CleanText;

/// Scores sentences with the tone model: in process (`rapport-model`), or in a scorer process
/// reached over a pipe or a socket ([`crate::scoring`]).
pub trait SentenceScorer {
    /// The scores of `sentences`, in order, one per sentence.
    fn score(&mut self, sentences: &[&str]) -> Result<Vec<SentenceScores>, ScoreError>;
}

impl<S: SentenceScorer + ?Sized> SentenceScorer for &mut S {
    fn score(&mut self, sentences: &[&str]) -> Result<Vec<SentenceScores>, ScoreError> {
        (**self).score(sentences)
    }
}

type Loader<'a> = Box<dyn FnOnce() -> Result<Box<dyn SentenceScorer + 'a>, ScoreError> + 'a>;

/// Sentences remembered per process (about 20 MB); past it the memory is cleared, so it stays flat.
const MEMO_MAX: usize = 100_000;

pub struct Assessor<'a> {
    scorer: Option<Box<dyn SentenceScorer + 'a>>,
    loader: Option<Loader<'a>>,
    memo: HashMap<String, SentenceScores>,
    combiner: Combiner,
    /// Sentences of the texts assessed.
    pub sentences: usize,
    /// Sentences that went through the model (distinct, and new to this process).
    pub encoded: usize,
}

impl<'a> Assessor<'a> {
    /// An assessor over a scorer that is already loaded.
    pub fn new(scorer: Box<dyn SentenceScorer + 'a>) -> Self {
        Self { scorer: Some(scorer), loader: None, memo: HashMap::new(), combiner: Combiner::current(), sentences: 0, encoded: 0 }
    }

    /// An assessor that loads its scorer the first time a sentence needs scoring.
    pub fn lazy(loader: impl FnOnce() -> Result<Box<dyn SentenceScorer + 'a>, ScoreError> + 'a) -> Self {
        Self { scorer: None, loader: Some(Box::new(loader)), memo: HashMap::new(), combiner: Combiner::current(), sentences: 0, encoded: 0 }
    }

    /// Use another combination (the evaluation compares v1 and v2).
    pub fn with_combiner(mut self, combiner: Combiner) -> Self {
        self.combiner = combiner;
        self
    }

    /// Whether the scorer has been loaded (an audit with nothing new never loads it).
    pub fn is_loaded(&self) -> bool {
        self.scorer.is_some()
    }

    fn scorer(&mut self) -> Result<&mut Box<dyn SentenceScorer + 'a>, ScoreError> {
        if self.scorer.is_none() {
            let load = self.loader.take().ok_or_else(|| ScoreError::Process("failed to load earlier in this run".into()))?;
            self.scorer = Some(load()?);
        }
        Ok(self.scorer.as_mut().expect("loaded above"))
    }

    /// The model's scores for `sentences`, in order; only sentences new to this process reach it.
    pub fn score_sentences(&mut self, sentences: &[&str]) -> Result<Vec<SentenceScores>, ScoreError> {
        let mut fresh: HashMap<&str, usize> = HashMap::new();
        let mut todo: Vec<&str> = Vec::new();
        for &s in sentences {
            if !self.memo.contains_key(s) && !fresh.contains_key(s) {
                fresh.insert(s, todo.len());
                todo.push(s);
            }
        }
        let new = if todo.is_empty() { Vec::new() } else { self.scorer()?.score(&todo)? };
        if new.len() != todo.len() {
            return Err(ScoreError::Process(format!("answered {} scores for {} sentences", new.len(), todo.len())));
        }
        self.encoded += todo.len();
        let out = sentences
            .iter()
            .map(|s| match fresh.get(s) {
                Some(&k) => new[k],
                None => self.memo[*s],
            })
            .collect();
        if self.memo.len() + todo.len() > MEMO_MAX {
            self.memo.clear();
        }
        self.memo.extend(todo.into_iter().zip(new).map(|(s, v)| (s.to_string(), v)));
        Ok(out)
    }

    /// The verdict on each text, in order: one scorer call over all their sentences, then the
    /// rules, then the misread risk.
    pub fn assess(&mut self, texts: &[&CleanText]) -> Result<Vec<Assessment>, ScoreError> {
        let sentences: Vec<&str> = texts.iter().flat_map(|c| c.sentences.iter().map(|r| &c.text[r.clone()])).collect();
        self.sentences += sentences.len();
        let scores = self.score_sentences(&sentences)?;
        let mut at = 0;
        Ok(texts
            .iter()
            .map(|c| {
                let n = c.sentences.len();
                let s = scores[at..at + n].to_vec();
                at += n;
                self.combiner.combine(c, s, crate::rules::check_rules(c))
            })
            .collect())
    }

    /// The verdict on one text.
    pub fn assess_one(&mut self, text: &CleanText) -> Result<Assessment, ScoreError> {
        Ok(self.assess(&[text])?.pop().expect("one text in, one verdict out"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scorer that counts its calls and scores "bad" sentences as negative.
    struct Counting(std::rc::Rc<std::cell::Cell<usize>>);

    impl SentenceScorer for Counting {
        fn score(&mut self, sentences: &[&str]) -> Result<Vec<SentenceScores>, ScoreError> {
            self.0.set(self.0.get() + sentences.len());
            Ok(sentences
                .iter()
                .map(|s| SentenceScores { negative: if s.contains("bad") { 0.9 } else { 0.1 }, ..Default::default() })
                .collect())
        }
    }

    #[test]
    fn one_scorer_call_per_batch_and_each_sentence_scored_once_per_process() {
        let calls = std::rc::Rc::new(std::cell::Cell::new(0));
        let c2 = calls.clone();
        let mut a = Assessor::lazy(move || Ok(Box::new(Counting(c2)) as Box<dyn SentenceScorer>));
        assert!(!a.is_loaded());
        let t1 = crate::clean::clean("Hello there. This is bad.");
        let t2 = crate::clean::clean("Hello there. All good.");
        let v = a.assess(&[&t1, &t2]).unwrap();
        assert_eq!(v.len(), 2);
        assert!(a.is_loaded());
        assert!(v[0].scores.iter().any(|s| s.negative > 0.5) && v[1].scores.iter().all(|s| s.negative < 0.5));
        let first = calls.get();
        assert_eq!(first, 3, "\"Hello there.\" appears twice and is scored once");
        a.assess(&[&t1]).unwrap();
        assert_eq!(calls.get(), first, "sentences already scored are remembered");
        assert_eq!(a.sentences, 6);
    }

    #[test]
    fn nothing_to_score_never_loads_the_scorer() {
        let mut a = Assessor::lazy(|| Err(ScoreError::Model("no model here".into())));
        let empty = crate::clean::clean("");
        assert!(a.assess(&[&empty]).is_ok());
        assert!(!a.is_loaded());
    }
}
