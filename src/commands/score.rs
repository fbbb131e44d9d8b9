//! `rapport score`: JSON Lines `{"id", "text"}` on stdin, one JSON line per input on stdout, in
//! order (docs/score.md documents the schema). `flagged` is the same decision `rapport check`
//! makes at its default threshold.
use std::io::{BufRead, Write};

use anyhow::Context;

use rapport_core::clean::{clean, CleanText};
use rapport_core::findings::Finding;
use rapport_core::verdict::{Assessment, SentenceScores, Tones};

use crate::cli::ScoreArgs;

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
struct Sentence<'a> {
    text: &'a str,
    /// `[start, end]`, bytes into the cleaned text.
    span: [usize; 2],
    risk: f32,
    scores: &'a SentenceScores,
}

#[derive(serde::Serialize)]
struct Output<'a> {
    id: &'a serde_json::Value,
    sentiment: Sentiment,
    /// Each rubric tone's highest probability over the message's prose sentences.
    tones: &'a Tones,
    /// Lowest politeness among the sentences that are requests (1.0 when there is none).
    politeness: f32,
    /// Highest incivility (UCC attributes) among the sentences.
    incivility: f32,
    risk: f32,
    flagged: bool,
    findings: &'a [Finding],
    #[serde(skip_serializing_if = "Option::is_none")]
    sentences: Option<Vec<Sentence<'a>>>,
    sentence_count: usize,
}

fn write_one(out: &mut dyn Write, input: &Input, c: &CleanText, a: &Assessment, with_sentences: bool) -> anyhow::Result<()> {
    let politeness = a.scores.iter().filter(|s| s.request >= 0.5).map(|s| s.politeness).fold(1.0, f32::min);
    let incivility = a.scores.iter().map(|s| s.incivility.max()).fold(0.0, f32::max);
    let sentences = with_sentences.then(|| {
        c.sentences
            .iter()
            .enumerate()
            .map(|(i, r)| Sentence { text: &c.text[r.clone()], span: [r.start, r.end], risk: a.sentence_risk.get(i).copied().unwrap_or(0.0), scores: &a.scores[i] })
            .collect()
    });
    let o = Output {
        id: &input.id,
        sentiment: Sentiment { negative: a.tone.negative, neutral: a.tone.neutral, positive: a.tone.positive },
        tones: &a.tones,
        politeness,
        incivility,
        risk: a.risk,
        flagged: a.flagged,
        findings: &a.findings,
        sentences,
        sentence_count: c.sentences.len(),
    };
    serde_json::to_writer(&mut *out, &o)?;
    writeln!(out)?;
    Ok(())
}

pub fn score(a: ScoreArgs) -> anyhow::Result<i32> {
    let info = Default::default();
    let mut assessor = super::lazy_assessor(&a.model, 0, info);
    let stdin = std::io::stdin().lock();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut pending: Vec<(Input, CleanText)> = Vec::new();
    let mut failed = false;
    let mut flush = |pending: &mut Vec<(Input, CleanText)>, out: &mut dyn Write| -> anyhow::Result<()> {
        let texts: Vec<&CleanText> = pending.iter().map(|(_, c)| c).collect();
        let verdicts = assessor.assess(&texts)?;
        for ((input, c), v) in pending.iter().zip(&verdicts) {
            write_one(out, input, c, v, a.sentences)?;
        }
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
    out.flush()?;
    Ok(if failed { 2 } else { 0 })
}
