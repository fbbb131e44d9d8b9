//! `rapport score`: JSON Lines `{"id", "text"}` on stdin, one JSON line per input on stdout, in
//! order. `flagged` is the same decision `rapport check` makes at its default threshold.
use std::io::{BufRead, IsTerminal, Write};

use anyhow::Context;

use crate::cli::ScoreArgs;
use crate::clean::clean;
use crate::findings::Finding;
use crate::score::SentenceScores;
use crate::tone::{assess, DEFAULT_WEIGHTS};

#[derive(serde::Deserialize)]
struct Input {
    id: serde_json::Value,
    text: String,
}

#[derive(serde::Serialize)]
struct Sentiment {
    negative: f32,
    neutral: f32,
    positive: f32,
}

#[derive(serde::Serialize)]
struct Output<'a> {
    id: &'a serde_json::Value,
    sentiment: Sentiment,
    /// Lowest politeness among the sentences that are requests (1.0 when there is none).
    politeness: f32,
    /// Highest incivility among the sentences.
    incivility: f32,
    risk: f32,
    flagged: bool,
    findings: &'a [Finding],
    sentences: usize,
}

fn summarise(scores: &[SentenceScores]) -> (f32, f32) {
    let politeness = scores
        .iter()
        .filter(|s| s.request >= 0.5)
        .map(|s| s.politeness)
        .fold(1.0, f32::min);
    let incivility = scores.iter().map(|s| s.incivility()).fold(0.0, f32::max);
    (politeness, incivility)
}

pub fn score(a: ScoreArgs) -> anyhow::Result<i32> {
    let scorer = super::check::load_scorer(&a.model, 0)?;
    let stdin = std::io::stdin().lock();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new_spinner()
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut pending: Vec<(Input, crate::clean::CleanText)> = Vec::new();
    let mut failed = false;
    let flush = |pending: &mut Vec<(Input, crate::clean::CleanText)>, out: &mut dyn Write| -> anyhow::Result<()> {
        let sentences: Vec<&str> = pending
            .iter()
            .flat_map(|(_, c)| c.sentences.iter().map(move |r| &c.text[r.clone()]))
            .collect();
        let scores = scorer.score(&sentences)?;
        let mut at = 0;
        for (input, c) in pending.iter() {
            let n = c.sentences.len();
            let s = scores[at..at + n].to_vec();
            at += n;
            let (politeness, incivility) = summarise(&s);
            let a = assess(c, s, crate::rules::check_rules(c), &DEFAULT_WEIGHTS);
            let o = Output {
                id: &input.id,
                sentiment: Sentiment {
                    negative: a.tone.negative,
                    neutral: a.tone.neutral,
                    positive: a.tone.positive,
                },
                politeness,
                incivility,
                risk: a.risk,
                flagged: a.flagged,
                findings: &a.findings,
                sentences: n,
            };
            serde_json::to_writer(&mut *out, &o)?;
            writeln!(out)?;
        }
        bar.inc(pending.len() as u64);
        pending.clear();
        Ok(())
    };
    let mut sentences_pending = 0;
    for (n, line) in stdin.lines().enumerate() {
        let line = line.context("cannot read standard input")?;
        if line.trim().is_empty() {
            continue;
        }
        let input: Input = match serde_json::from_str(&line) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("rapport: stdin line {}: not a JSON object with \"id\" and \"text\": {e}", n + 1);
                failed = true;
                continue;
            }
        };
        let c = clean(&input.text);
        sentences_pending += c.sentences.len();
        pending.push((input, c));
        if sentences_pending >= a.batch.max(1) {
            flush(&mut pending, &mut out)?;
            sentences_pending = 0;
        }
    }
    flush(&mut pending, &mut out)?;
    bar.finish_and_clear();
    out.flush()?;
    Ok(if failed { 2 } else { 0 })
}
