//! `rapport eval`: every dev metric of the tone model, in one run, beside VADER and beside the
//! model this release replaced (v1).
//!
//! **Public corpora** (sentence level): SST-2 and SST 3-class accuracy, politeness and request
//! accuracy, UCC mean AUC, TweetEval irony AUC and F1, offensive AUC, TweetEval sentiment accuracy,
//! GoEmotions negative F1. v1 had no irony or offensive head: its sarcasm and incivility scores
//! stand in for them, as they did in its verdicts.
//!
//! **Email tone corpus** (dev split, 946 bodies labelled twice, models/email-tone): each body goes
//! through rapport's whole verdict (cleaning, sentences, rules, model, risk), exactly as
//! `rapport check` would see its text, and is flagged or not; the gold label is "could be misread"
//! (some or high). Reported for the sent bodies (what rapport checks) and for all, with the
//! precision, recall and F1 of `flagged`, the AUC of the message risk and its expected calibration
//! error. Each rubric tag's AUC is measured on the corpus's own rows.
use std::path::{Path, PathBuf};

use rapport_core::clean::{clean, CleanText};
use rapport_core::verdict::{Assessment, Assessor, Combiner, SentenceScores};

use crate::data::{self, DevSet, EmailBody, TAGS};
use crate::{ModelError, Scorer, Version};

/// One line of the report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Metric {
    pub group: &'static str,
    pub dataset: String,
    pub metric: String,
    pub rows: usize,
    pub v2: Option<f64>,
    pub v1: Option<f64>,
    pub vader: Option<f64>,
    /// The target this release aims at (issue #13), when it has one.
    pub target: Option<f64>,
}

/// Area under the ROC curve (ties counted half); NaN when a class is missing.
pub fn auc(scores: &[f32], labels: &[bool]) -> f64 {
    let mut pairs: Vec<(f32, bool)> = scores.iter().copied().zip(labels.iter().copied()).collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let pos = labels.iter().filter(|&&l| l).count() as f64;
    let neg = labels.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return f64::NAN;
    }
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < pairs.len() {
        let mut j = i;
        while j < pairs.len() && pairs[j].0 == pairs[i].0 {
            j += 1;
        }
        let rank = (i + 1 + j) as f64 / 2.0;
        rank_sum += rank * pairs[i..j].iter().filter(|p| p.1).count() as f64;
        i = j;
    }
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

/// Precision, recall and F1 of `pred` against `gold`.
pub fn prf(pred: &[bool], gold: &[bool]) -> (f64, f64, f64) {
    let tp = pred.iter().zip(gold).filter(|(p, g)| **p && **g).count() as f64;
    let fp = pred.iter().zip(gold).filter(|(p, g)| **p && !**g).count() as f64;
    let fn_ = pred.iter().zip(gold).filter(|(p, g)| !**p && **g).count() as f64;
    let p = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
    let r = if tp + fn_ > 0.0 { tp / (tp + fn_) } else { 0.0 };
    let f = if p + r > 0.0 { 2.0 * p * r / (p + r) } else { 0.0 };
    (p, r, f)
}

/// Expected calibration error over 10 equal-width bins.
pub fn ece(probs: &[f32], gold: &[bool]) -> f64 {
    let mut bins = [(0f64, 0f64, 0usize); 10];
    for (p, g) in probs.iter().zip(gold) {
        let k = ((*p as f64 * 10.0) as usize).min(9);
        bins[k].0 += *p as f64;
        bins[k].1 += f64::from(u8::from(*g));
        bins[k].2 += 1;
    }
    let n = probs.len().max(1) as f64;
    bins.iter().filter(|b| b.2 > 0).map(|(sp, sg, c)| (*c as f64 / n) * ((sp - sg) / *c as f64).abs()).sum()
}

/// VADER's compound score of each text.
pub fn vader(texts: &[String]) -> Vec<f64> {
    let analyzer = vader_sentiment::SentimentIntensityAnalyzer::new();
    texts.iter().map(|t| *analyzer.polarity_scores(t).get("compound").unwrap_or(&0.0)).collect()
}

/// A body of the email corpus through rapport's whole verdict.
pub struct Checked {
    pub clean: CleanText,
    pub assessment: Assessment,
}

/// Each body's cleaned text and verdict under `combiner`, scored by `scorer`.
pub fn check_bodies(scorer: &mut Scorer, combiner: Combiner, bodies: &[&EmailBody]) -> Result<Vec<Checked>, ModelError> {
    let cleans: Vec<CleanText> = bodies.iter().map(|b| clean(&b.body())).collect();
    let mut assessor = Assessor::new(Box::new(scorer)).with_combiner(combiner);
    let refs: Vec<&CleanText> = cleans.iter().collect();
    let verdicts = assessor.assess(&refs).map_err(|e| ModelError::Runtime(e.to_string()))?;
    Ok(cleans.into_iter().zip(verdicts).map(|(clean, assessment)| Checked { clean, assessment }).collect())
}

fn col(scores: &[SentenceScores], f: impl Fn(&SentenceScores) -> f32) -> Vec<f32> {
    scores.iter().map(f).collect()
}

fn accuracy(hits: usize, n: usize) -> f64 {
    hits as f64 / n.max(1) as f64
}

fn argmax3(a: f32, b: f32, c: f32) -> u8 {
    if a >= b && a >= c {
        0
    } else if b >= c {
        1
    } else {
        2
    }
}

/// Public-corpus metrics of one model's scores on one dev set: `(metric, value)`.
fn public_metrics(set: &DevSet, s: &[SentenceScores], version: Version) -> Vec<(String, f64)> {
    let n = set.texts.len();
    let y = |k: usize| -> Vec<bool> { set.labels.iter().map(|l| l[k] == 1).collect() };
    match set.name {
        "sst2-dev" => vec![("accuracy (negative vs positive)".into(), accuracy(s.iter().zip(&set.labels).filter(|(s, l)| (s.positive > s.negative) == (l[0] == 1)).count(), n))],
        "sst3-dev" | "tweeteval-sentiment-val" => vec![(
            "accuracy (3 classes)".into(),
            accuracy(s.iter().zip(&set.labels).filter(|(s, l)| argmax3(s.negative, s.neutral, s.positive) == l[0]).count(), n),
        )],
        "politeness-dev" => vec![("accuracy".into(), accuracy(s.iter().zip(&set.labels).filter(|(s, l)| (s.politeness >= 0.5) == (l[0] == 1)).count(), n))],
        "email-intent-dev" => vec![("accuracy".into(), accuracy(s.iter().zip(&set.labels).filter(|(s, l)| (s.request >= 0.5) == (l[0] == 1)).count(), n))],
        "ucc-dev" => {
            let attrs: [(&str, fn(&SentenceScores) -> f32); 6] = [
                ("antagonize", |s| s.incivility.antagonize),
                ("condescending", |s| s.incivility.condescending),
                ("dismissive", |s| s.incivility.dismissive),
                ("generalisation", |s| s.incivility.generalisation),
                ("hostile", |s| s.incivility.hostile),
                ("sarcastic", |s| s.incivility.sarcastic),
            ];
            let aucs: Vec<(String, f64)> = attrs.iter().enumerate().map(|(k, (name, f))| (format!("AUC {name}"), auc(&col(s, f), &y(k)))).collect();
            let valid: Vec<f64> = aucs.iter().map(|a| a.1).filter(|v| !v.is_nan()).collect();
            let mut out = vec![("AUC (mean of 6 attributes)".to_string(), valid.iter().sum::<f64>() / valid.len().max(1) as f64)];
            out.extend(aucs);
            out
        }
        "irony-val" => {
            let p = col(s, |s| if version == Version::V1 { s.incivility.sarcastic } else { s.irony });
            let pred: Vec<bool> = p.iter().map(|&v| v >= 0.5).collect();
            vec![("AUC".into(), auc(&p, &y(0))), ("F1 (at 0.5)".into(), prf(&pred, &y(0)).2)]
        }
        "offensive-val" => {
            let p = col(s, |s| if version == Version::V1 { s.incivility.max() } else { s.offensive });
            vec![("AUC".into(), auc(&p, &y(0)))]
        }
        "goemotions-negative-dev" => {
            let pred: Vec<bool> = s.iter().map(|s| s.negative_emotion >= 0.5).collect();
            vec![("F1 (negative group)".into(), prf(&pred, &y(0)).2)]
        }
        _ => Vec::new(),
    }
}

/// VADER's reading of the same metric (where it has one).
fn vader_metrics(set: &DevSet, c: &[f64]) -> Vec<(String, f64)> {
    let n = set.texts.len();
    let neg: Vec<f32> = c.iter().map(|v| -*v as f32).collect();
    let y = |k: usize| -> Vec<bool> { set.labels.iter().map(|l| l[k] == 1).collect() };
    let class = |v: f64| if v <= -0.05 { 0 } else if v >= 0.05 { 2 } else { 1 };
    match set.name {
        "sst2-dev" => vec![("accuracy (negative vs positive)".into(), accuracy(c.iter().zip(&set.labels).filter(|(v, l)| (**v >= 0.0) == (l[0] == 1)).count(), n))],
        "sst3-dev" | "tweeteval-sentiment-val" => vec![("accuracy (3 classes)".into(), accuracy(c.iter().zip(&set.labels).filter(|(v, l)| class(**v) == l[0]).count(), n))],
        "politeness-dev" => vec![("accuracy".into(), accuracy(c.iter().zip(&set.labels).filter(|(v, l)| (**v >= 0.05) == (l[0] == 1)).count(), n))],
        "ucc-dev" => {
            let aucs: Vec<f64> = (0..6).map(|k| auc(&neg, &y(k))).collect();
            let valid: Vec<f64> = aucs.iter().copied().filter(|v| !v.is_nan()).collect();
            let names = ["antagonize", "condescending", "dismissive", "generalisation", "hostile", "sarcastic"];
            let mut out = vec![("AUC (mean of 6 attributes)".to_string(), valid.iter().sum::<f64>() / valid.len().max(1) as f64)];
            out.extend(names.iter().zip(aucs).map(|(n, a)| (format!("AUC {n}"), a)));
            out
        }
        "irony-val" => vec![("AUC".into(), auc(&neg, &y(0)))],
        "offensive-val" => vec![("AUC".into(), auc(&neg, &y(0)))],
        "goemotions-negative-dev" => vec![("F1 (negative group)".into(), prf(&c.iter().map(|v| *v <= -0.05).collect::<Vec<_>>(), &y(0)).2)],
        _ => Vec::new(),
    }
}

fn target(dataset: &str, metric: &str) -> Option<f64> {
    match (dataset, metric) {
        ("sst2-dev", _) => Some(0.88),
        ("sst3-dev", _) => Some(0.70),
        ("ucc-dev", "AUC (mean of 6 attributes)") => Some(0.80),
        ("irony-val", "AUC") => Some(0.75),
        ("email dev, sent", "flag F1") => Some(0.60),
        ("email dev, sent", "risk AUC") => Some(0.85),
        _ => None,
    }
}

/// The tag scores of one model for the corpus rows (v1 stands in with its nearest heads).
fn tag_score(s: &SentenceScores, tag: &str, version: Version) -> f32 {
    if version == Version::V1 {
        let u = &s.incivility;
        return match tag {
            "curt" => u.dismissive,
            "condescending" => u.condescending,
            "sarcastic" => u.sarcastic,
            "hostile" => u.hostile,
            "passive_aggressive" | "blame" => u.antagonize,
            "demanding" => s.request * (1.0 - s.politeness),
            _ => s.negative,
        };
    }
    let t = &s.tones;
    match tag {
        "curt" => t.curt,
        "demanding" => t.demanding,
        "passive_aggressive" => t.passive_aggressive,
        "condescending" => t.condescending,
        "sarcastic" => t.sarcastic,
        "blame" => t.blame,
        "hostile" => t.hostile,
        "shouting" => t.shouting,
        _ => s.not_prose,
    }
}

pub struct Options {
    pub data: PathBuf,
    pub corpus: PathBuf,
    /// How v2's verdict is combined: this build's risk model, or a variant's.
    pub v2_combiner: Combiner,
}

/// Every metric, for each model given.
pub fn evaluate(models: &mut [(Version, Scorer)], opts: &Options) -> Result<Vec<Metric>, ModelError> {
    let mut out: Vec<Metric> = Vec::new();
    let put = |group: &'static str, dataset: &str, metric: &str, rows: usize, version: Option<Version>, value: f64, out: &mut Vec<Metric>| {
        let m = match out.iter_mut().find(|m| m.dataset == dataset && m.metric == metric) {
            Some(m) => m,
            None => {
                out.push(Metric { group, dataset: dataset.into(), metric: metric.into(), rows, v2: None, v1: None, vader: None, target: target(dataset, metric) });
                out.last_mut().expect("pushed")
            }
        };
        match version {
            Some(Version::V2) => m.v2 = Some(value),
            Some(Version::V1) => m.v1 = Some(value),
            None => m.vader = Some(value),
        }
    };
    // Public corpora.
    for set in data::public_dev(&opts.data)? {
        let texts: Vec<&str> = set.texts.iter().map(String::as_str).collect();
        for (version, scorer) in models.iter_mut() {
            let s = scorer.score(&texts)?;
            for (metric, v) in public_metrics(&set, &s, *version) {
                put("public", set.name, &metric, set.texts.len(), Some(*version), v, &mut out);
            }
        }
        for (metric, v) in vader_metrics(&set, &vader(&set.texts)) {
            put("public", set.name, &metric, set.texts.len(), None, v, &mut out);
        }
    }
    // The email tone corpus.
    let corpus = data::email_corpus(&opts.data, &opts.corpus)?;
    let dev: Vec<&EmailBody> = corpus.iter().filter(|b| b.dev).collect();
    let rows: Vec<String> = dev.iter().flat_map(|b| b.rows.iter().cloned()).collect();
    let row_tags: Vec<&Vec<usize>> = dev.iter().flat_map(|b| b.tags.iter()).collect();
    let rows_ref: Vec<&str> = rows.iter().map(String::as_str).collect();
    let row_vader = vader(&rows);
    for (version, scorer) in models.iter_mut() {
        let s = scorer.score(&rows_ref)?;
        for (k, tag) in TAGS.iter().enumerate() {
            let gold: Vec<bool> = row_tags.iter().map(|t| t.contains(&k)).collect();
            let p: Vec<f32> = s.iter().map(|s| tag_score(s, tag, *version)).collect();
            put("email", "email dev rows", &format!("AUC {tag}"), rows.len(), Some(*version), auc(&p, &gold), &mut out);
        }
    }
    for (k, tag) in TAGS.iter().enumerate() {
        let gold: Vec<bool> = row_tags.iter().map(|t| t.contains(&k)).collect();
        let neg: Vec<f32> = row_vader.iter().map(|v| -*v as f32).collect();
        put("email", "email dev rows", &format!("AUC {tag}"), rows.len(), None, auc(&neg, &gold), &mut out);
    }
    let bodies_vader = vader(&dev.iter().map(|b| b.body()).collect::<Vec<_>>());
    for (label, keep) in [("email dev, sent", false), ("email dev, all", true)] {
        let idx: Vec<usize> = (0..dev.len()).filter(|&i| keep || !dev[i].received).collect();
        let gold: Vec<bool> = idx.iter().map(|&i| dev[i].misreadable()).collect();
        let n = idx.len();
        for (version, scorer) in models.iter_mut() {
            let combiner = if *version == Version::V2 { opts.v2_combiner } else { Combiner::V1 };
            let bodies: Vec<&EmailBody> = idx.iter().map(|&i| dev[i]).collect();
            let checked = check_bodies(scorer, combiner, &bodies)?;
            let flagged: Vec<bool> = checked.iter().map(|c| c.assessment.flagged).collect();
            let risk: Vec<f32> = checked.iter().map(|c| c.assessment.risk).collect();
            let (p, r, f) = prf(&flagged, &gold);
            put("email", label, "flag precision", n, Some(*version), p, &mut out);
            put("email", label, "flag recall", n, Some(*version), r, &mut out);
            put("email", label, "flag F1", n, Some(*version), f, &mut out);
            put("email", label, "risk AUC", n, Some(*version), auc(&risk, &gold), &mut out);
            put("email", label, "risk ECE", n, Some(*version), ece(&risk, &gold), &mut out);
            put("email", label, "flagged messages", n, Some(*version), flagged.iter().filter(|&&f| f).count() as f64, &mut out);
        }
        let c: Vec<f64> = idx.iter().map(|&i| bodies_vader[i]).collect();
        let (p, r, f) = prf(&c.iter().map(|v| *v <= -0.05).collect::<Vec<_>>(), &gold);
        put("email", label, "flag precision", n, None, p, &mut out);
        put("email", label, "flag recall", n, None, r, &mut out);
        put("email", label, "flag F1", n, None, f, &mut out);
        put("email", label, "risk AUC", n, None, auc(&c.iter().map(|v| -*v as f32).collect::<Vec<_>>(), &gold), &mut out);
        put("email", label, "misreadable (gold)", n, None, gold.iter().filter(|&&g| g).count() as f64, &mut out);
    }
    Ok(out)
}

/// The report for a terminal.
pub fn render_text(out: &mut dyn std::io::Write, metrics: &[Metric]) -> std::io::Result<()> {
    let f = |v: Option<f64>| v.map(|v| if v.fract() == 0.0 && v > 1.0 { format!("{v:.0}") } else { format!("{v:.4}") }).unwrap_or_else(|| "-".into());
    writeln!(out, "{:<24} {:<32} {:>6} {:>8} {:>8} {:>8} {:>7}", "dataset", "metric", "rows", "v2", "v1", "VADER", "target")?;
    for m in metrics {
        let t = m.target.map(|t| format!("{t:.2}")).unwrap_or_default();
        let mark = match (m.target, m.v2) {
            (Some(t), Some(v)) if v < t => "  below target",
            (Some(_), Some(_)) => "  met",
            _ => "",
        };
        writeln!(out, "{:<24} {:<32} {:>6} {:>8} {:>8} {:>8} {:>7}{mark}", m.dataset, m.metric, m.rows, f(m.v2), f(m.v1), f(m.vader), t)?;
    }
    Ok(())
}

/// `../shared/datasets`, or why it cannot be used.
pub fn datasets(dir: &Path) -> Result<PathBuf, ModelError> {
    if dir.join("sst").is_dir() {
        Ok(dir.to_path_buf())
    } else {
        Err(ModelError::Data { path: dir.to_path_buf(), message: "no datasets folder here".into() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics() {
        assert_eq!(auc(&[0.1, 0.2, 0.8, 0.9], &[false, false, true, true]), 1.0);
        assert_eq!(auc(&[0.5, 0.5], &[false, true]), 0.5);
        let (p, r, f) = prf(&[true, true, false, false], &[true, false, true, false]);
        assert_eq!((p, r, f), (0.5, 0.5, 0.5));
        assert!((ece(&[0.9, 0.9, 0.1, 0.1], &[true, true, false, false]) - 0.1).abs() < 1e-6, "f32 scores");
    }
}
