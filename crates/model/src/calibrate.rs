//! `rapport calibrate`: fit the v2 misread-risk model (`models/v2/risk.json`) on the email tone
//! corpus's **train** split, and report what it does on the dev split.
//!
//! **Cross-fitting.** Fitted on mail the heads were trained on, the risk would trust their scores
//! far more than they deserve. So the train users are cut in two halves ([`half_of`]); each body
//! is scored by heads trained without its half (two extra trainings, `--holdout-half a` and `b`),
//! and the fit sees every train body through heads that never saw it. The heads that ship are
//! trained on all of train; the dev split is scored by them.
//!
//! 1. Every labelled body goes through cleaning, the rules and the v2 model, as `rapport check`
//!    would see its text; each message gets the features of [`rapport_core::verdict::risk::features`].
//! 2. **Severities.** Each finding code, rules and model alike, is a warning when the train
//!    messages it fires on were judged misreadable at least 60% of the time, and a note when it
//!    fired at least 5 times and was right less often; a code that fired fewer than 5 times keeps
//!    the catalogue's severity (the model's tone codes are notes there). A tone's threshold is the
//!    lowest of 0.30, 0.35, ..., 0.95 at which its code reaches that precision; without one, 0.5
//!    and a note.
//! 3. **Risk.** L2-regularised logistic regression on standardised features (Newton with a line
//!    search, deterministic; the weights are returned on the raw scale), with no negative weight
//!    but the length's. Out-of-fold risks (5 folds by Enron user) choose the `M206` threshold that
//!    maximises the F1 of `flagged` (any warning) on train among the thresholds that flag at most
//!    twice as many train messages as people judged misreadable; the weights are then fitted on
//!    all of train.
//! 4. The dev split is only read to report: precision, recall and F1 of `flagged`, risk AUC and
//!    expected calibration error, and each code's dev precision.
use std::collections::BTreeMap;
use std::path::PathBuf;

use rapport_core::clean::{clean, CleanText};
use rapport_core::findings::{Finding, Severity};
use rapport_core::rules::{check_rules, RULES};
use rapport_core::verdict::risk::{self, RiskModel, FEATURES, TONE_FINDINGS};
use rapport_core::verdict::SentenceScores;

use crate::data::{self, EmailBody};
use crate::eval::{auc, ece, prf};
use crate::{ModelError, Scorer};

/// One body with everything the fit needs.
struct Prepared<'a> {
    body: &'a EmailBody,
    clean: CleanText,
    scores: Vec<SentenceScores>,
    rules: Vec<Finding>,
    x: [f32; FEATURES.len()],
}

const MIN_FIRINGS: usize = 5;
const MIN_PRECISION: f64 = 0.6;
/// The penalty on the standardised weights, per training message (mean loss).
const L2: f64 = 0.003;

fn logistic(w: &[f64], b: f64, x: &[f32]) -> f64 {
    let z = b + w.iter().zip(x).map(|(w, x)| w * *x as f64).sum::<f64>();
    1.0 / (1.0 + (-z.clamp(-30.0, 30.0)).exp())
}

/// Fit `(weights, bias)` of an L2-regularised logistic regression by Newton's method
/// (iteratively reweighted least squares): deterministic, and converged in a few dozen steps.
///
/// The features are standardised for the fit (the penalty then weighs every feature alike: tone
/// probabilities that live near 0 would otherwise be shrunk to nothing), and the weights are
/// turned back to the raw features' scale, so the model applies to raw features.
///
/// Every feature but the length is evidence of a bad tone or a bad habit, so its weight may not be
/// negative: a rule finding or a hostile score must never make a message look safer (on a small
/// sample, "as per my last email" happened to come with no misreadable message, and an
/// unconstrained fit learnt that it makes mail safer). Active set: fit, drop the feature with the
/// most negative weight, fit again, until none is negative.
fn fit(xs: &[&[f32; FEATURES.len()]], ys: &[bool]) -> (Vec<f64>, f64) {
    let mut active = [true; FEATURES.len()];
    loop {
        let (w, b) = fit_active(xs, ys, &active);
        let worst = (0..FEATURES.len())
            .filter(|&j| active[j] && FEATURES[j] != "sentences" && w[j] < 0.0)
            .min_by(|&a, &c| w[a].total_cmp(&w[c]));
        match worst {
            Some(j) => active[j] = false,
            None => return (w, b),
        }
    }
}

/// [`fit`] on the features marked `active` (the others get weight 0).
fn fit_active(xs: &[&[f32; FEATURES.len()]], ys: &[bool], active: &[bool; FEATURES.len()]) -> (Vec<f64>, f64) {
    let d = FEATURES.len() + 1; // the bias last, not penalised
    let n = xs.len().max(1) as f64;
    let mean: Vec<f64> = (0..FEATURES.len()).map(|j| xs.iter().map(|x| x[j] as f64).sum::<f64>() / n).collect();
    let sd: Vec<f64> = (0..FEATURES.len())
        .map(|j| (xs.iter().map(|x| (x[j] as f64 - mean[j]).powi(2)).sum::<f64>() / n).sqrt())
        .collect();
    let scale = |j: usize, v: f32| if active[j] && sd[j] > 1e-9 { (v as f64 - mean[j]) / sd[j] } else { 0.0 };
    let row = |x: &[f32; FEATURES.len()]| -> Vec<f64> { x.iter().enumerate().map(|(j, v)| scale(j, *v)).chain(std::iter::once(1.0)).collect() };
    let rows: Vec<Vec<f64>> = xs.iter().map(|x| row(x)).collect();
    let mut w = vec![0f64; d];
    let pos = ys.iter().filter(|&&y| y).count().max(1) as f64;
    w[d - 1] = (pos / (n - pos).max(1.0)).ln();
    let objective = |w: &[f64]| -> f64 {
        let mut loss = 0f64;
        for (x, &y) in rows.iter().zip(ys) {
            let z: f64 = x.iter().zip(w).map(|(a, b)| a * b).sum();
            // log(1 + e^-z) for a positive, log(1 + e^z) for a negative, computed stably.
            let m = if y { -z } else { z };
            loss += m.max(0.0) + (-m.abs()).exp().ln_1p();
        }
        loss / n + L2 * w[..d - 1].iter().map(|v| v * v).sum::<f64>() + 1e-6 * w[d - 1] * w[d - 1]
    };
    for _ in 0..200 {
        let mut g = vec![0f64; d];
        let mut h = vec![vec![0f64; d]; d];
        for (x, &y) in rows.iter().zip(ys) {
            let z: f64 = x.iter().zip(&w).map(|(a, b)| a * b).sum();
            let p = 1.0 / (1.0 + (-z.clamp(-30.0, 30.0)).exp());
            let e = p - f64::from(u8::from(y));
            let v = (p * (1.0 - p)).max(1e-9);
            for i in 0..d {
                g[i] += e * x[i] / n;
                for j in 0..d {
                    h[i][j] += v * x[i] * x[j] / n;
                }
            }
        }
        for i in 0..d - 1 {
            g[i] += 2.0 * L2 * w[i];
            h[i][i] += 2.0 * L2;
        }
        // A tiny penalty on the bias too, for conditioning when a feature separates the classes.
        g[d - 1] += 2.0 * 1e-6 * w[d - 1];
        h[d - 1][d - 1] += 2.0 * 1e-6;
        let step = solve(h, g);
        // Backtracking line search on the penalised loss: every step goes downhill, also when a
        // feature separates the classes and the Newton step overshoots.
        let now = objective(&w);
        let mut t = 1.0;
        let mut next: Vec<f64> = w.iter().zip(&step).map(|(w, s)| w - s).collect();
        while objective(&next) > now && t > 1e-6 {
            t /= 2.0;
            next = w.iter().zip(&step).map(|(w, s)| w - t * s).collect();
        }
        let moved = w.iter().zip(&next).fold(0f64, |m, (a, b)| m.max((a - b).abs()));
        w = next;
        if moved < 1e-8 {
            break;
        }
    }
    let b = w.pop().unwrap_or(0.0);
    // Back to raw features: w·(x − mean)/sd + b = (w/sd)·x + (b − Σ w·mean/sd).
    let raw: Vec<f64> = (0..FEATURES.len()).map(|j| if active[j] && sd[j] > 1e-9 { w[j] / sd[j] } else { 0.0 }).collect();
    let b = b - (0..FEATURES.len()).map(|j| raw[j] * mean[j]).sum::<f64>();
    (raw, b)
}

/// Solve `a x = b` (Gaussian elimination with partial pivoting; `a` is positive definite here).
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for col in 0..n {
        let piv = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs())).unwrap_or(col);
        a.swap(col, piv);
        b.swap(col, piv);
        let d = if a[col][col].abs() < 1e-12 { 1e-12 } else { a[col][col] };
        for r in col + 1..n {
            let f = a[r][col] / d;
            for c in col..n {
                a[r][c] -= f * a[col][c];
            }
            b[r] -= f * b[col];
        }
    }
    let mut x = vec![0f64; n];
    for r in (0..n).rev() {
        let s: f64 = (r + 1..n).map(|c| a[r][c] * x[c]).sum();
        let d = if a[r][r].abs() < 1e-12 { 1e-12 } else { a[r][r] };
        x[r] = (b[r] - s) / d;
    }
    x
}

fn fold(user: &str) -> u64 {
    rapport_core::text::splitmix64(user.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))) % 5
}

/// A model with only `tone_thresholds` set and every code a note: which codes fire.
fn probe(thresholds: BTreeMap<String, f32>) -> RiskModel {
    RiskModel {
        features: FEATURES.iter().map(|s| s.to_string()).collect(),
        weights: vec![0.0; FEATURES.len()],
        bias: -20.0,
        threshold: 2.0,
        tone_thresholds: thresholds,
        severity: BTreeMap::new(),
    }
}

fn codes_fired(p: &Prepared, model: &RiskModel) -> Vec<&'static str> {
    let a = risk::combine(&p.clean, p.scores.clone(), p.rules.clone(), model);
    let mut c: Vec<&'static str> = a.findings.iter().map(|f| f.code).collect();
    c.sort();
    c.dedup();
    c
}

fn precision_of(fired: &[bool], gold: &[bool]) -> (f64, usize) {
    let n = fired.iter().filter(|&&f| f).count();
    let tp = fired.iter().zip(gold).filter(|(f, g)| **f && **g).count();
    (if n == 0 { 0.0 } else { tp as f64 / n as f64 }, n)
}

/// What calibration found.
#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub train_messages: usize,
    pub train_misreadable: usize,
    pub dev_messages: usize,
    pub dev_misreadable: usize,
    /// Out-of-fold (train) AUC of the risk.
    pub train_cv_auc: f64,
    pub threshold: f32,
    pub tone_thresholds: BTreeMap<String, f32>,
    /// code -> (severity, train precision, train firings, dev precision, dev firings)
    pub codes: BTreeMap<String, (Severity, f64, usize, f64, usize)>,
    pub dev_flag_precision: f64,
    pub dev_flag_recall: f64,
    pub dev_flag_f1: f64,
    pub dev_risk_auc: f64,
    pub dev_risk_ece: f64,
    pub dev_sent_flag_precision: f64,
    pub dev_sent_flag_recall: f64,
    pub dev_sent_flag_f1: f64,
    pub dev_sent_risk_auc: f64,
}

pub struct Options {
    pub data: PathBuf,
    pub corpus: PathBuf,
    pub out: PathBuf,
}

/// Which half of the train users `user` is in (crates/model/python/train_tone.py: half_of, the
/// same rule): `true` for half a.
pub fn half_a(user: &str) -> bool {
    use sha2::{Digest, Sha256};
    Sha256::digest(user.as_bytes())[0] % 100 < 50
}

/// `shipped`: the heads trained on all of train (they score the dev split); `without_a` and
/// `without_b`: heads trained without half a and without half b of the train users.
pub fn calibrate(shipped: &mut Scorer, without_a: &mut Scorer, without_b: &mut Scorer, opts: &Options) -> Result<(RiskModel, Report), ModelError> {
    let corpus = data::email_corpus(&opts.data, &opts.corpus)?;
    let cleans: Vec<CleanText> = corpus.iter().map(|b| clean(&b.body())).collect();
    // Who scores each body: dev by the shipped heads; train by the heads that never saw its half.
    let who = |b: &EmailBody| -> usize {
        if b.dev {
            0
        } else if half_a(&b.user) {
            1
        } else {
            2
        }
    };
    let mut scored: Vec<Vec<SentenceScores>> = vec![Vec::new(); corpus.len()];
    for (k, scorer) in [shipped, without_a, without_b].into_iter().enumerate() {
        let idx: Vec<usize> = (0..corpus.len()).filter(|&i| who(&corpus[i]) == k).collect();
        let cleans = &cleans;
        let sentences: Vec<&str> = idx.iter().flat_map(|&i| cleans[i].sentences.iter().map(move |r| &cleans[i].text[r.clone()])).collect();
        let all = scorer.score(&sentences)?;
        let mut at = 0;
        for &i in &idx {
            let n = cleans[i].sentences.len();
            scored[i] = all[at..at + n].to_vec();
            at += n;
        }
    }
    let mut prepared = Vec::with_capacity(corpus.len());
    for ((body, c), scores) in corpus.iter().zip(cleans).zip(scored) {
        let n = c.sentences.len();
        let rules = check_rules(&c);
        let x = risk::features(&c, &scores, 0..n, rules.iter());
        prepared.push(Prepared { body, clean: c, scores, rules, x });
    }
    if let Some(path) = std::env::var_os("RAPPORT_DUMP_FEATURES") {
        // For analysis: each body's label and features, one JSON line each.
        let mut out = String::new();
        for p in &prepared {
            let line = serde_json::json!({"id": p.body.id, "dev": p.body.dev, "received": p.body.received, "label": p.body.label,
                "x": p.x.to_vec(), "rules": p.rules.iter().map(|f| f.code).collect::<Vec<_>>(),
                "tones": p.scores.iter().map(|s| s.tones.named().map(|(_, v)| v).to_vec()).collect::<Vec<_>>(),
                "not_prose": p.scores.iter().map(|s| s.not_prose).collect::<Vec<_>>(),
                "sentences": p.clean.sentences.iter().map(|r| &p.clean.text[r.clone()]).collect::<Vec<_>>()});
            out.push_str(&line.to_string());
            out.push('\n');
        }
        std::fs::write(&path, out).map_err(|e| ModelError::Data { path: path.into(), message: e.to_string() })?;
    }
    let train: Vec<&Prepared> = prepared.iter().filter(|p| !p.body.dev).collect();
    let dev: Vec<&Prepared> = prepared.iter().filter(|p| p.body.dev).collect();
    let gold = |set: &[&Prepared]| -> Vec<bool> { set.iter().map(|p| p.body.misreadable()).collect() };
    let (train_gold, dev_gold) = (gold(&train), gold(&dev));

    // Tone thresholds and every code's severity, on train.
    let mut tone_thresholds = BTreeMap::new();
    let mut severity = BTreeMap::new();
    let grid: Vec<f32> = (6..=19).map(|k| k as f32 * 0.05).collect();
    for (tone, code) in TONE_FINDINGS {
        let mut chosen = None;
        for &th in &grid {
            let m = probe([(tone.to_string(), th)].into_iter().collect());
            let fired: Vec<bool> = train.iter().map(|p| codes_fired(p, &m).contains(&code)).collect();
            let (prec, n) = precision_of(&fired, &train_gold);
            if n >= MIN_FIRINGS && prec >= MIN_PRECISION {
                chosen = Some(th);
                break;
            }
        }
        tone_thresholds.insert(tone.to_string(), chosen.unwrap_or(0.5));
    }
    let all_tones = probe(tone_thresholds.clone());
    let fired_train: Vec<Vec<&'static str>> = train.iter().map(|p| codes_fired(p, &all_tones)).collect();
    let fired_dev: Vec<Vec<&'static str>> = dev.iter().map(|p| codes_fired(p, &all_tones)).collect();
    let mut codes = BTreeMap::new();
    for rule in RULES.iter().filter(|r| r.code != "M206") {
        // A rule's precision counts its findings at full strength only (its milder variants,
        // "please advise" for R104, keep their own severity whatever the code's).
        let fired_rule = |p: &Prepared| p.rules.iter().any(|f| f.code == rule.code && risk::at_full_strength(f));
        let is_rule = rule.code.starts_with('R');
        let ft: Vec<bool> = if is_rule { train.iter().map(|p| fired_rule(p)).collect() } else { fired_train.iter().map(|c| c.contains(&rule.code)).collect() };
        let fd: Vec<bool> = if is_rule { dev.iter().map(|p| fired_rule(p)).collect() } else { fired_dev.iter().map(|c| c.contains(&rule.code)).collect() };
        let (pt, nt) = precision_of(&ft, &train_gold);
        let (pd, nd) = precision_of(&fd, &dev_gold);
        // Enough firings on train: warning when precise enough, else a note. Too few to judge
        // (a rule that ordinary mail rarely trips, a context code that needs an audit state):
        // the catalogue's own severity stands.
        let sev = match (nt >= MIN_FIRINGS, pt >= MIN_PRECISION) {
            (true, true) => Severity::Warning,
            (true, false) => Severity::Info,
            (false, _) => rule.default_severity,
        };
        severity.insert(rule.code.to_string(), sev);
        codes.insert(rule.code.to_string(), (sev, pt, nt, pd, nd));
    }
    let warns = |c: &[&'static str]| c.iter().any(|code| severity.get(*code) == Some(&Severity::Warning));

    // Risk: out-of-fold on train for the threshold, then all of train.
    let mut oof = vec![0f64; train.len()];
    for k in 0..5 {
        let idx: Vec<usize> = (0..train.len()).filter(|&i| fold(&train[i].body.user) != k).collect();
        let xs: Vec<&[f32; FEATURES.len()]> = idx.iter().map(|&i| &train[i].x).collect();
        let ys: Vec<bool> = idx.iter().map(|&i| train_gold[i]).collect();
        let (w, b) = fit(&xs, &ys);
        for i in (0..train.len()).filter(|&i| fold(&train[i].body.user) == k) {
            oof[i] = logistic(&w, b, &train[i].x[..]);
        }
    }
    let oof32: Vec<f32> = oof.iter().map(|v| *v as f32).collect();
    let train_cv_auc = auc(&oof32, &train_gold);
    // The threshold with the best F1 among those that flag at most twice as many train messages
    // as people judged misreadable: with out-of-fold risks, the unconstrained best can be a
    // threshold so low that the flags mean little.
    let max_flags = 2 * train_gold.iter().filter(|&&g| g).count();
    let mut best = (0.0, 0.95f32);
    for k in 1..=95 {
        let th = k as f32 / 100.0;
        let flagged: Vec<bool> = (0..train.len()).map(|i| warns(&fired_train[i]) || oof32[i] >= th).collect();
        if flagged.iter().filter(|&&f| f).count() > max_flags {
            continue;
        }
        let f = prf(&flagged, &train_gold).2;
        if f > best.0 {
            best = (f, th);
        }
    }
    let threshold = best.1;
    let xs: Vec<&[f32; FEATURES.len()]> = train.iter().map(|p| &p.x).collect();
    let (w, b) = fit(&xs, &train_gold);
    let oof_flag: Vec<bool> = (0..train.len()).map(|i| oof32[i] >= threshold).collect();
    let (pm, nm) = precision_of(&oof_flag, &train_gold);
    severity.insert("M206".into(), Severity::Warning);
    let model = RiskModel {
        features: FEATURES.iter().map(|s| s.to_string()).collect(),
        weights: w.iter().map(|v| *v as f32).collect(),
        bias: b as f32,
        threshold,
        tone_thresholds,
        severity,
    };

    // Dev: the final model, as `rapport check` will run it.
    let verdicts: Vec<_> = dev.iter().map(|p| risk::combine(&p.clean, p.scores.clone(), p.rules.clone(), &model)).collect();
    let flagged: Vec<bool> = verdicts.iter().map(|a| a.flagged).collect();
    let risks: Vec<f32> = verdicts.iter().map(|a| a.risk).collect();
    let m206_dev: Vec<bool> = verdicts.iter().map(|a| a.findings.iter().any(|f| f.code == "M206")).collect();
    let (pd, nd) = precision_of(&m206_dev, &dev_gold);
    codes.insert("M206".into(), (Severity::Warning, pm, nm, pd, nd));
    let (p, r, f) = prf(&flagged, &dev_gold);
    let sent: Vec<usize> = (0..dev.len()).filter(|&i| !dev[i].body.received).collect();
    let sf: Vec<bool> = sent.iter().map(|&i| flagged[i]).collect();
    let sg: Vec<bool> = sent.iter().map(|&i| dev_gold[i]).collect();
    let sr: Vec<f32> = sent.iter().map(|&i| risks[i]).collect();
    let (sp, srec, sf1) = prf(&sf, &sg);
    let report = Report {
        train_messages: train.len(),
        train_misreadable: train_gold.iter().filter(|&&g| g).count(),
        dev_messages: dev.len(),
        dev_misreadable: dev_gold.iter().filter(|&&g| g).count(),
        train_cv_auc,
        threshold,
        tone_thresholds: model.tone_thresholds.clone(),
        codes,
        dev_flag_precision: p,
        dev_flag_recall: r,
        dev_flag_f1: f,
        dev_risk_auc: auc(&risks, &dev_gold),
        dev_risk_ece: ece(&risks, &dev_gold),
        dev_sent_flag_precision: sp,
        dev_sent_flag_recall: srec,
        dev_sent_flag_f1: sf1,
        dev_sent_risk_auc: auc(&sr, &sg),
    };
    Ok((model, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_are_the_trainers() {
        // crates/model/python/train_tone.py: half_of(u) == "a" for these users.
        let got: Vec<bool> = ["allen-p", "jones-t", "shackleton-s"].iter().map(|u| half_a(u)).collect();
        assert_eq!(got, [true, true, false]);
    }

    #[test]
    fn no_evidence_of_a_bad_tone_makes_a_message_safer() {
        // Feature 2 fires only on messages people found fine: unconstrained, it would get a
        // negative weight; it gets none.
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for i in 0..300 {
            let mut x = [0f32; FEATURES.len()];
            let y = i % 6 == 0;
            x[1] = if y { 0.8 } else { 0.2 } + (i % 5) as f32 * 0.02;
            x[2] = if !y && i % 4 == 1 { 1.0 } else { 0.0 };
            xs.push(x);
            ys.push(y);
        }
        let refs: Vec<&[f32; FEATURES.len()]> = xs.iter().collect();
        let (w, _) = fit(&refs, &ys);
        assert!(w.iter().zip(FEATURES.iter()).all(|(w, f)| *w >= 0.0 || *f == "sentences"), "{w:?}");
        assert!(w[1] > 1.0 && w[2] == 0.0, "{w:?}");
    }

    #[test]
    fn the_fit_separates_a_separable_feature_and_ignores_noise() {
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for i in 0..400 {
            let mut x = [0f32; FEATURES.len()];
            let y = i % 10 == 0;
            x[1] = if y { 0.9 } else { 0.1 } + (i % 7) as f32 * 0.01;
            x[5] = (i % 13) as f32 / 13.0;
            xs.push(x);
            ys.push(y);
        }
        let refs: Vec<&[f32; FEATURES.len()]> = xs.iter().collect();
        let (w, b) = fit(&refs, &ys);
        let p: Vec<f32> = xs.iter().map(|x| logistic(&w, b, x) as f32).collect();
        assert!(auc(&p, &ys) > 0.99, "{} {w:?} {b}", auc(&p, &ys));
        assert!(w[1] > 3.0 && w[5].abs() < 1.0, "{w:?}");
        let x = [0f32; FEATURES.len()];
        assert!(logistic(&w, b, &x) < 0.1);
    }
}
