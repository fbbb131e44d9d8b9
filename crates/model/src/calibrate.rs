//! `rapport calibrate`: fit the misread-risk weights ([`crate::tone::RiskWeights`]) on real
//! outgoing mail labelled by people against `models/calibration/RUBRIC.md`.
//!
//! Each labelled body is cleaned, scored sentence by sentence and checked by the rules, exactly
//! as `rapport check` does. A message's signals are the highest value of each signal over its
//! sentences; the target is the share of label passes that gave it "some" or "high" risk. The
//! weights are fitted by L2-regularised logistic regression (gradient descent, deterministic).
//! They are adopted, written to `models/calibration/risk-weights.json` (which the binary compiles
//! in), only when their 5-fold cross-validated AUC beats the weights in use; otherwise the file is
//! removed and the hand-set weights stay. The report also gives the precision and recall of
//! `flagged` (what `rapport check` acts on) against the labels.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::clean::clean;
use crate::error::ModelError;
use crate::score::train::auc;
use crate::score::Scorer;
use crate::tone::{sentence_signals, RiskWeights};

/// Labels of one pass: id -> 0, 1 or 2.
pub fn read_labels(path: &Path) -> Result<BTreeMap<String, u8>, ModelError> {
    let text = std::fs::read_to_string(path).map_err(|e| ModelError::Data { path: path.to_path_buf(), message: e.to_string() })?;
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#')) {
        let (id, label) = line.split_once('\t').ok_or_else(|| ModelError::Data {
            path: path.to_path_buf(),
            message: format!("line {}: expected id<TAB>label", n + 1),
        })?;
        let label: u8 = label.trim().parse().ok().filter(|l| *l <= 2).ok_or_else(|| ModelError::Data {
            path: path.to_path_buf(),
            message: format!("line {}: the label must be 0, 1 or 2", n + 1),
        })?;
        out.insert(id.trim().to_string(), label);
    }
    Ok(out)
}

/// Cohen's kappa between two label passes over the same ids.
pub fn cohen_kappa(a: &[u8], b: &[u8], classes: u8) -> f64 {
    let n = a.len() as f64;
    let agree = a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / n;
    let expected: f64 = (0..classes)
        .map(|c| {
            let pa = a.iter().filter(|&&x| x == c).count() as f64 / n;
            let pb = b.iter().filter(|&&x| x == c).count() as f64 / n;
            pa * pb
        })
        .sum();
    if (1.0 - expected).abs() < 1e-12 {
        return 1.0;
    }
    (agree - expected) / (1.0 - expected)
}

/// Message-level signals: the maximum of each sentence signal.
pub type Signals = [f32; 6];

fn logistic(w: &[f64; 7], x: &Signals) -> f64 {
    let z = w[0] + x.iter().zip(&w[1..]).map(|(x, w)| *x as f64 * w).sum::<f64>();
    1.0 / (1.0 + (-z).exp())
}

/// Fit `[bias, negative, impolite, uncivil, sarcasm, emotion, rule]` by gradient descent on the
/// mean log loss plus `l2`·|w|² (bias not penalised).
pub fn fit(xs: &[Signals], ys: &[f64], l2: f64) -> [f64; 7] {
    let mut w = [0.0f64; 7];
    let n = xs.len().max(1) as f64;
    for _ in 0..20_000 {
        let mut g = [0.0f64; 7];
        for (x, y) in xs.iter().zip(ys) {
            let e = logistic(&w, x) - y;
            g[0] += e;
            for k in 0..6 {
                g[k + 1] += e * x[k] as f64;
            }
        }
        for k in 0..7 {
            let reg = if k == 0 { 0.0 } else { 2.0 * l2 * w[k] };
            w[k] -= 0.5 * (g[k] / n + reg);
        }
    }
    w
}

pub fn to_weights(w: &[f64; 7]) -> RiskWeights {
    RiskWeights {
        bias: w[0] as f32,
        negative: w[1] as f32,
        impolite: w[2] as f32,
        uncivil: w[3] as f32,
        sarcasm: w[4] as f32,
        emotion: w[5] as f32,
        rule: w[6] as f32,
    }
}

#[derive(Debug, serde::Serialize)]
pub struct CalibrationReport {
    pub messages: usize,
    pub label_counts_pass1: [usize; 3],
    pub label_counts_pass2: [usize; 3],
    pub kappa_3_class: f64,
    pub kappa_binary: f64,
    pub agreement: f64,
    pub positives_both: usize,
    pub positives_either: usize,
    /// 5-fold cross-validated AUC of the fitted risk against the agreed label (both passes ≥ 1).
    pub cv_auc: f64,
    /// The same for the hand-set starting weights.
    pub default_weights_auc: f64,
    /// At the flag threshold, on the cross-validated risks.
    pub precision_at_threshold: f64,
    pub recall_at_threshold: f64,
    /// The fitted weights, and whether they were adopted (better cross-validated AUC).
    pub weights: RiskWeights,
    pub adopted: bool,
    /// `flagged` (any warning) with the weights in use, against the agreed label.
    pub flagged_messages: usize,
    pub flagged_precision: f64,
    pub flagged_recall: f64,
    /// The same against "either pass said some or high".
    pub flagged_precision_either: f64,
    pub flagged_recall_either: f64,
}

pub struct CalibrateOptions {
    pub data: PathBuf,
    pub labels: Vec<PathBuf>,
    pub out: PathBuf,
}

/// Run the calibration; writes the weights and returns the report.
pub fn calibrate(scorer: &Scorer, opts: &CalibrateOptions) -> Result<CalibrationReport, ModelError> {
    if opts.labels.len() != 2 {
        return Err(ModelError::Runtime("calibration needs exactly two independent label passes (--labels A --labels B)".into()));
    }
    let a = read_labels(&opts.labels[0])?;
    let b = read_labels(&opts.labels[1])?;
    let ids: Vec<String> = a.keys().filter(|k| b.contains_key(*k)).cloned().collect();
    if ids.len() != a.len() || ids.len() != b.len() {
        return Err(ModelError::Runtime(format!("the two label passes cover different ids ({} and {} rows, {} shared)", a.len(), b.len(), ids.len())));
    }
    // Bodies from AESLC.
    let src = opts.data.join("enron/aeslc_train.jsonl");
    let text = std::fs::read_to_string(&src).map_err(|e| ModelError::Data { path: src.clone(), message: e.to_string() })?;
    let mut bodies = BTreeMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| ModelError::Data { path: src.clone(), message: e.to_string() })?;
        if let (Some(id), Some(body)) = (v["id"].as_str(), v["body"].as_str()) {
            if a.contains_key(id) {
                bodies.insert(id.to_string(), body.to_string());
            }
        }
    }
    let mut xs: Vec<Signals> = Vec::new();
    let mut flagged: Vec<bool> = Vec::new();
    let (mut la, mut lb) = (Vec::new(), Vec::new());
    for id in &ids {
        let body = bodies.get(id).ok_or_else(|| ModelError::Data { path: src.clone(), message: format!("no body with id {id}") })?;
        let c = clean(body);
        let sentences: Vec<&str> = c.sentences.iter().map(|r| &c.text[r.clone()]).collect();
        let scores = scorer.score(&sentences)?;
        let rules = crate::rules::check_rules(&c);
        flagged.push(crate::tone::assess(&c, scores.clone(), rules.clone(), &crate::tone::HAND_SET_WEIGHTS).flagged);
        let mut m: Signals = [0.0; 6];
        for (i, s) in scores.iter().enumerate() {
            let in_sentence: Vec<_> = rules.iter().filter(|f| f.sentence == i).collect();
            let sig = sentence_signals(s, &in_sentence);
            for k in 0..6 {
                m[k] = m[k].max(sig[k]);
            }
        }
        xs.push(m);
        la.push(a[id]);
        lb.push(b[id]);
    }
    let soft: Vec<f64> = la.iter().zip(&lb).map(|(x, y)| (u8::from(*x >= 1) + u8::from(*y >= 1)) as f64 / 2.0).collect();
    let agreed: Vec<bool> = la.iter().zip(&lb).map(|(x, y)| *x >= 1 && *y >= 1).collect();
    let l2 = 0.01;
    // 5-fold cross-validation by position (the sample order is random).
    let mut cv = vec![0f32; xs.len()];
    for fold in 0..5 {
        let train: Vec<usize> = (0..xs.len()).filter(|i| i % 5 != fold).collect();
        let w = fit(&train.iter().map(|&i| xs[i]).collect::<Vec<_>>(), &train.iter().map(|&i| soft[i]).collect::<Vec<_>>(), l2);
        for i in (0..xs.len()).filter(|i| i % 5 == fold) {
            cv[i] = logistic(&w, &xs[i]) as f32;
        }
    }
    let d = crate::tone::HAND_SET_WEIGHTS;
    let dw = [d.bias, d.negative, d.impolite, d.uncivil, d.sarcasm, d.emotion, d.rule].map(|v| v as f64);
    let default_scores: Vec<f32> = xs.iter().map(|x| logistic(&dw, x) as f32).collect();
    let t = crate::tone::FLAG_THRESHOLD;
    let tp = cv.iter().zip(&agreed).filter(|(p, g)| **p >= t && **g).count() as f64;
    let fp = cv.iter().zip(&agreed).filter(|(p, g)| **p >= t && !**g).count() as f64;
    let fneg = cv.iter().zip(&agreed).filter(|(p, g)| **p < t && **g).count() as f64;
    let w = fit(&xs, &soft, l2);
    let weights = to_weights(&w);
    let pr = |gold: &[bool]| {
        let tp = flagged.iter().zip(gold).filter(|(f, g)| **f && **g).count() as f64;
        let f = flagged.iter().filter(|f| **f).count() as f64;
        let g = gold.iter().filter(|g| **g).count() as f64;
        (if f > 0.0 { tp / f } else { f64::NAN }, if g > 0.0 { tp / g } else { f64::NAN })
    };
    let either: Vec<bool> = soft.iter().map(|s| *s > 0.0).collect();
    let (p_both, r_both) = pr(&agreed);
    let (p_either, r_either) = pr(&either);
    let cv_auc = auc(&cv, &agreed);
    let default_auc = auc(&default_scores, &agreed);
    let adopted = cv_auc > default_auc;
    let counts = |l: &[u8]| [0u8, 1, 2].map(|c| l.iter().filter(|&&x| x == c).count());
    let bin = |l: &[u8]| l.iter().map(|&x| u8::from(x >= 1)).collect::<Vec<_>>();
    let report = CalibrationReport {
        messages: ids.len(),
        label_counts_pass1: counts(&la),
        label_counts_pass2: counts(&lb),
        kappa_3_class: cohen_kappa(&la, &lb, 3),
        kappa_binary: cohen_kappa(&bin(&la), &bin(&lb), 2),
        agreement: la.iter().zip(&lb).filter(|(x, y)| x == y).count() as f64 / ids.len() as f64,
        positives_both: agreed.iter().filter(|g| **g).count(),
        positives_either: soft.iter().filter(|s| **s > 0.0).count(),
        cv_auc,
        default_weights_auc: default_auc,
        precision_at_threshold: if tp + fp > 0.0 { tp / (tp + fp) } else { f64::NAN },
        recall_at_threshold: if tp + fneg > 0.0 { tp / (tp + fneg) } else { f64::NAN },
        weights,
        adopted,
        flagged_messages: flagged.iter().filter(|f| **f).count(),
        flagged_precision: p_both,
        flagged_recall: r_both,
        flagged_precision_either: p_either,
        flagged_recall_either: r_either,
    };
    if adopted {
        let json = serde_json::to_string_pretty(&weights).map_err(|e| ModelError::Runtime(e.to_string()))?;
        std::fs::write(&opts.out, json + "\n").map_err(|e| ModelError::Data { path: opts.out.clone(), message: e.to_string() })?;
    } else if opts.out.exists() {
        std::fs::remove_file(&opts.out).map_err(|e| ModelError::Data { path: opts.out.clone(), message: e.to_string() })?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kappa_matches_a_hand_computed_case() {
        // 10 items: agree on 8 (6 zeros, 2 ones); pA(1)=0.3, pB(1)=0.3 -> pe = 0.49+0.09 = 0.58.
        let a = [0, 0, 0, 0, 0, 0, 1, 1, 1, 0];
        let b = [0, 0, 0, 0, 0, 0, 1, 1, 0, 1];
        assert!((cohen_kappa(&a, &b, 2) - (0.8 - 0.58) / 0.42).abs() < 1e-9);
    }

    #[test]
    fn fit_separates_a_separable_signal() {
        let xs: Vec<Signals> = (0..40).map(|i| [0.0, 0.0, 0.0, 0.0, 0.0, if i < 20 { 0.1 } else { 0.9 }]).collect();
        let ys: Vec<f64> = (0..40).map(|i| if i < 20 { 0.0 } else { 1.0 }).collect();
        let w = fit(&xs, &ys, 0.001);
        assert!(logistic(&w, &xs[0]) < 0.2 && logistic(&w, &xs[39]) > 0.8, "{w:?}");
    }
}
