//! `rapport train` and `rapport eval`: rapport's heads are trained on frozen encoder features from
//! the labelled corpora in `../shared/datasets` (see its README and `models/README.md`), with a fixed
//! seed. Encoder features are cached per corpus file under the cache dir, so re-training the heads
//! takes seconds once the corpora have been encoded.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tch::nn::{ModuleT, OptimizerConfig};
use tch::{nn, Device, Kind, Reduction, Tensor};

use super::encoder::{Encoder, ENCODER_ID, FEATURES, POOLED_LAYERS};
use super::heads::{Activation, Heads, EMOTION, HEADS, INCIVILITY, POLITENESS, REQUEST, SENTIMENT};
use crate::error::ModelError;

/// A labelled example for one head.
#[derive(Debug, Clone)]
pub struct Example {
    pub text: String,
    /// Class index for softmax heads; one 0/1 value per label for sigmoid heads.
    pub target: Vec<f32>,
}

/// The train and dev rows of every head, plus extra evaluation sets.
pub struct Corpora {
    pub train: Vec<Vec<Example>>,
    /// Named dev sets per head: (name, rows).
    pub dev: Vec<Vec<(String, Vec<Example>)>>,
}

fn read(path: &Path) -> Result<String, ModelError> {
    let bytes = std::fs::read(path).map_err(|e| ModelError::Data {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// A minimal RFC 4180 CSV reader (quoted fields, doubled quotes, newlines inside quotes).
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    field.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
        } else {
            match c {
                '"' => quoted = true,
                ',' => row.push(std::mem::take(&mut field)),
                '\n' => {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                '\r' => {}
                _ => field.push(c),
            }
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

fn column(header: &[String], name: &str, file: &Path) -> Result<usize, ModelError> {
    header.iter().position(|h| h == name).ok_or_else(|| ModelError::Load {
        path: file.to_path_buf(),
        message: format!("no column {name:?}"),
    })
}

fn class(k: usize) -> Vec<f32> {
    vec![k as f32]
}

/// Deterministic split: every fifth row (by a stable key) is held out.
fn is_dev(key: u64) -> bool {
    // splitmix64 so that consecutive ids spread evenly.
    let mut z = key.wrapping_add(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
    (z ^ (z >> 31)) % 5 == 0
}

/// SST 5-class label to negative/neutral/positive.
fn sst3(label: usize) -> usize {
    match label {
        0 | 1 => 0,
        2 => 1,
        _ => 2,
    }
}

/// Load every corpus. `data` is the `datasets` folder.
pub fn load_corpora(data: &Path) -> Result<Corpora, ModelError> {
    let mut train: Vec<Vec<Example>> = HEADS.iter().map(|_| Vec::new()).collect();
    let mut dev: Vec<Vec<(String, Vec<Example>)>> = HEADS.iter().map(|_| Vec::new()).collect();

    // --- sentiment -------------------------------------------------------------------------------
    let p = data.join("sst/sst2_train_phrases.tsv");
    for line in read(&p)?.lines().skip(1) {
        if let Some((label, text)) = line.split_once('\t') {
            let k = if label.trim() == "1" { 2 } else { 0 };
            train[SENTIMENT].push(Example { text: text.to_string(), target: class(k) });
        }
    }
    let p = data.join("airline-tweets/Tweets.csv");
    let rows = parse_csv(&read(&p)?);
    let (s, t) = (column(&rows[0], "airline_sentiment", &p)?, column(&rows[0], "text", &p)?);
    for r in rows.iter().skip(1).filter(|r| r.len() > s.max(t)) {
        let k = match r[s].as_str() {
            "negative" => 0,
            "neutral" => 1,
            "positive" => 2,
            _ => continue,
        };
        train[SENTIMENT].push(Example { text: r[t].clone(), target: class(k) });
    }
    // GoEmotions groups: ambiguous(0) negative(1) neutral(2) positive(3); single-label rows only.
    let p = data.join("goemotions/group/train.tsv");
    for line in read(&p)?.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 2 || f[1].contains(',') {
            continue;
        }
        let k = match f[1] {
            "1" => 0,
            "2" => 1,
            "3" => 2,
            _ => continue,
        };
        train[SENTIMENT].push(Example { text: f[0].to_string(), target: class(k) });
    }
    let p = data.join("sst/sst2_dev.tsv");
    let sst2_dev = read(&p)?
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once('\t'))
        .map(|(label, text)| Example {
            text: text.to_string(),
            target: class(if label.trim() == "1" { 2 } else { 0 }),
        })
        .collect();
    dev[SENTIMENT].push(("sst2-dev".into(), sst2_dev));
    let p = data.join("sst/stsa.fine.dev");
    let fine_dev = read(&p)?
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter_map(|(label, text)| {
            Some(Example {
                text: text.to_string(),
                target: class(sst3(label.parse().ok()?)),
            })
        })
        .collect();
    dev[SENTIMENT].push(("sst3-dev".into(), fine_dev));

    // --- politeness: top vs bottom quartile of Normalized Score ------------------------------------
    let p = data.join("politeness/wikipedia.annotated.csv");
    let rows = parse_csv(&read(&p)?);
    let (id, req, score) = (
        column(&rows[0], "Id", &p)?,
        column(&rows[0], "Request", &p)?,
        column(&rows[0], "Normalized Score", &p)?,
    );
    let mut scored: Vec<(u64, String, f64)> = rows
        .iter()
        .skip(1)
        .filter(|r| r.len() > id.max(req).max(score))
        .filter_map(|r| Some((r[id].parse().ok()?, r[req].clone(), r[score].parse().ok()?)))
        .collect();
    let mut scores: Vec<f64> = scored.iter().map(|r| r.2).collect();
    scores.sort_by(|a, b| a.total_cmp(b));
    let (q1, q3) = (scores[scores.len() / 4], scores[scores.len() * 3 / 4]);
    let mut pol_dev = Vec::new();
    for (rid, text, s) in scored.drain(..) {
        let y = if s >= q3 {
            1.0
        } else if s <= q1 {
            0.0
        } else {
            continue;
        };
        let ex = Example { text, target: vec![y] };
        if is_dev(rid) {
            pol_dev.push(ex);
        } else {
            train[POLITENESS].push(ex);
        }
    }
    dev[POLITENESS].push(("politeness-dev".into(), pol_dev));

    // --- incivility: Unhealthy Comments Corpus -------------------------------------------------------
    let p = data.join("ucc/val.csv");
    let rows = parse_csv(&read(&p)?);
    let uid = column(&rows[0], "_unit_id", &p)?;
    let text = column(&rows[0], "comment", &p)?;
    let cols: Vec<usize> = HEADS[INCIVILITY]
        .labels
        .iter()
        .map(|l| column(&rows[0], l, &p))
        .collect::<Result<_, _>>()?;
    let mut unc_dev = Vec::new();
    for r in rows.iter().skip(1).filter(|r| r.len() == rows[0].len()) {
        let Ok(key) = r[uid].parse::<u64>() else { continue };
        let target: Vec<f32> = cols
            .iter()
            .map(|&c| if r[c].trim().starts_with('1') { 1.0 } else { 0.0 })
            .collect();
        let ex = Example { text: r[text].clone(), target };
        if is_dev(key) {
            unc_dev.push(ex);
        } else {
            train[INCIVILITY].push(ex);
        }
    }
    dev[INCIVILITY].push(("ucc-dev".into(), unc_dev));

    // --- negative emotion: GoEmotions negative group ------------------------------------------------
    let emo = |path: PathBuf| -> Result<Vec<Example>, ModelError> {
        Ok(read(&path)?
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f.len() >= 2).then(|| Example {
                    text: f[0].to_string(),
                    target: vec![if f[1].split(',').any(|x| x == "1") { 1.0 } else { 0.0 }],
                })
            })
            .collect())
    };
    train[EMOTION] = emo(data.join("goemotions/group/train.tsv"))?;
    dev[EMOTION].push(("goemotions-negative-dev".into(), emo(data.join("goemotions/group/dev.tsv"))?));

    // --- request: email intent ------------------------------------------------------------------------
    let p = data.join("email-intent/train.tsv");
    let mut req_dev = Vec::new();
    for (i, line) in read(&p)?.lines().enumerate() {
        let Some((label, text)) = line.split_once('\t') else { continue };
        let y = match label.trim() {
            "Yes" => 1.0,
            "No" => 0.0,
            _ => continue,
        };
        let ex = Example { text: text.to_string(), target: vec![y] };
        if is_dev(i as u64) {
            req_dev.push(ex);
        } else {
            train[REQUEST].push(ex);
        }
    }
    dev[REQUEST].push(("email-intent-dev".into(), req_dev));
    Ok(Corpora { train, dev })
}

/// Encoder features of many texts, cached on disk by content.
pub fn cached_features(
    encoder: &Encoder,
    cache_dir: &Path,
    name: &str,
    rows: &[Example],
    progress: bool,
) -> Result<Tensor, ModelError> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(ENCODER_ID.as_bytes());
    h.update(format!("{POOLED_LAYERS:?}/{}", encoder.max_tokens).as_bytes());
    // Features computed in bf16 are cached apart (f32 keys are unchanged from before bf16).
    if encoder.precision() != super::Precision::F32 {
        h.update(encoder.precision().as_str().as_bytes());
    }
    for r in rows {
        h.update(r.text.as_bytes());
        h.update([0u8]);
    }
    let key: String = h.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect();
    let path = cache_dir.join(format!("{name}-{key}.safetensors"));
    if let Ok(mut t) = Tensor::read_safetensors(&path) {
        if let Some((_, x)) = t.pop() {
            if x.size() == [rows.len() as i64, FEATURES] {
                return Ok(x);
            }
        }
    }
    std::fs::create_dir_all(cache_dir).map_err(|e| ModelError::Load {
        path: cache_dir.to_path_buf(),
        message: e.to_string(),
    })?;
    let bar = if progress {
        indicatif::ProgressBar::new(rows.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:>24} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(name.to_string());
    let mut parts = Vec::new();
    let t0 = std::time::Instant::now();
    for chunk in rows.chunks(2048) {
        let texts: Vec<&str> = chunk.iter().map(|r| r.text.as_str()).collect();
        parts.push(encoder.encode(&texts, 8192)?);
        bar.inc(chunk.len() as u64);
        if progress && bar.is_hidden() {
            let done = bar.position();
            eprintln!("{name}: {done}/{} texts encoded, {:.0}/s", rows.len(), done as f64 / t0.elapsed().as_secs_f64());
        }
    }
    bar.finish_and_clear();
    let x = if parts.is_empty() {
        Tensor::zeros([0, FEATURES], (Kind::Float, Device::Cpu))
    } else {
        Tensor::cat(&parts, 0)
    };
    Tensor::write_safetensors(&[("x", &x)], &path).map_err(|e| ModelError::Load {
        path: path.clone(),
        message: e.to_string(),
    })?;
    Ok(x)
}

fn targets(rows: &[Example], act: Activation) -> Tensor {
    match act {
        Activation::Softmax => Tensor::from_slice(&rows.iter().map(|r| r.target[0] as i64).collect::<Vec<_>>()),
        Activation::Sigmoid => {
            let w = rows.first().map(|r| r.target.len()).unwrap_or(1) as i64;
            let flat: Vec<f32> = rows.iter().flat_map(|r| r.target.iter().copied()).collect();
            Tensor::from_slice(&flat).view([rows.len() as i64, w])
        }
    }
}

fn loss(logits: &Tensor, y: &Tensor, act: Activation) -> Tensor {
    match act {
        Activation::Softmax => logits.cross_entropy_for_logits(y),
        Activation::Sigmoid => logits.binary_cross_entropy_with_logits::<Tensor>(y, None, None, Reduction::Mean),
    }
}

/// Options of `rapport train`.
pub struct TrainOptions {
    pub data: PathBuf,
    pub cache_dir: PathBuf,
    pub out: PathBuf,
    pub seed: i64,
    pub epochs: usize,
    /// At most this many training rows per head (0 = all), taken evenly across the corpus.
    pub limit: usize,
    pub progress: bool,
}

/// Train every head on frozen features; keep, per head, the epoch with the lowest loss on a 10%
/// hold-out of its training rows (the official dev splits are only used by `eval`).
pub fn train(encoder: &Encoder, opts: &TrainOptions) -> Result<Heads, ModelError> {
    tch::manual_seed(opts.seed);
    let mut corpora = load_corpora(&opts.data)?;
    if opts.limit > 0 {
        for rows in &mut corpora.train {
            let step = rows.len().div_ceil(opts.limit).max(1);
            *rows = rows.iter().step_by(step).cloned().collect();
        }
    }
    let mut feats = Vec::new();
    for (spec, rows) in HEADS.iter().zip(&corpora.train) {
        feats.push(cached_features(encoder, &opts.cache_dir, &format!("train-{}", spec.name), rows, opts.progress)?);
    }
    let heads = Heads::new(Device::Cpu);
    // Standardise with statistics over all training features.
    let all = Tensor::cat(&feats, 0);
    tch::no_grad(|| {
        let mut mean = heads.norm.mean.shallow_clone();
        let mut std = heads.norm.std.shallow_clone();
        mean.copy_(&all.mean_dim([0i64].as_slice(), false, Kind::Float));
        std.copy_(&all.std_dim([0i64].as_slice(), true, false).clamp_min(1e-6));
    });
    for (h, spec) in HEADS.iter().enumerate() {
        let rows = &corpora.train[h];
        let x = heads.norm.apply(&feats[h]).detach();
        let y = targets(rows, spec.activation);
        let n = rows.len() as i64;
        // Deterministic shuffle, then 10% hold-out.
        let perm = Tensor::randperm(n, (Kind::Int64, Device::Cpu));
        let n_val = (n / 10).max(1);
        let (val_idx, tr_idx) = (perm.narrow(0, 0, n_val), perm.narrow(0, n_val, n - n_val));
        let (xv, yv) = (x.index_select(0, &val_idx), y.index_select(0, &val_idx));
        let (xt, yt) = (x.index_select(0, &tr_idx), y.index_select(0, &tr_idx));
        // Only this head's variables are optimised.
        let vars: Vec<(String, Tensor)> = heads
            .vs
            .variables()
            .into_iter()
            .filter(|(k, _)| k.starts_with(&format!("{}.", spec.name)))
            .collect();
        let local = nn::VarStore::new(Device::Cpu);
        let head = super::heads::Head::new(&(&local.root() / spec.name), spec.labels.len() as i64);
        let mut opt = nn::AdamW::default().wd(1e-4).build(&local, 1e-3).map_err(|e| ModelError::Runtime(e.to_string()))?;
        let mut best = (f64::INFINITY, 0usize, Vec::<(String, Tensor)>::new());
        for epoch in 0..opts.epochs {
            let ntr = xt.size()[0];
            let order = Tensor::randperm(ntr, (Kind::Int64, Device::Cpu));
            let mut i = 0;
            while i < ntr {
                let b = (ntr - i).min(256);
                let idx = order.narrow(0, i, b);
                let l = loss(&head.forward_t(&xt.index_select(0, &idx), true), &yt.index_select(0, &idx), spec.activation);
                opt.backward_step(&l);
                i += b;
            }
            let vl = tch::no_grad(|| loss(&head.forward_t(&xv, false), &yv, spec.activation).double_value(&[]));
            if vl < best.0 {
                let snap = local.variables().into_iter().map(|(k, v)| (k, v.detach().copy())).collect();
                best = (vl, epoch, snap);
            }
        }
        if opts.progress {
            eprintln!("{:>12}: {} rows, best hold-out loss {:.4} at epoch {}", spec.name, n, best.0, best.1 + 1);
        }
        tch::no_grad(|| {
            for (name, dst) in &vars {
                if let Some((_, v)) = best.2.iter().find(|(k, _)| k == name) {
                    dst.shallow_clone().copy_(v);
                }
            }
        });
    }
    Ok(heads)
}

/// One metric of `rapport eval`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Metric {
    pub dataset: String,
    pub metric: String,
    pub rows: usize,
    pub value: f64,
    /// The same metric for VADER (the lexicon scorer users would otherwise pick) on the same rows.
    pub vader: Option<f64>,
    pub target: Option<f64>,
}

/// VADER's scores for rows: (negative, neutral, positive, compound).
fn vader_scores(rows: &[Example]) -> Vec<[f64; 4]> {
    let analyzer = vader_sentiment::SentimentIntensityAnalyzer::new();
    rows.iter()
        .map(|r| {
            let s = analyzer.polarity_scores(&r.text);
            let g = |k: &str| s.get(k).copied().unwrap_or(0.0);
            [g("neg"), g("neu"), g("pos"), g("compound")]
        })
        .collect()
}

/// VADER's usual 3-class reading of the compound score.
fn vader_class(v: &[f64; 4]) -> usize {
    if v[3] >= 0.05 {
        2
    } else if v[3] <= -0.05 {
        0
    } else {
        1
    }
}

/// Area under the ROC curve (ties counted half).
pub fn auc(scores: &[f32], labels: &[bool]) -> f64 {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut rank_sum, mut pos) = (0f64, 0f64);
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            if labels[k] {
                rank_sum += avg_rank;
                pos += 1.0;
            }
        }
        i = j + 1;
    }
    let neg = scores.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return f64::NAN;
    }
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

pub fn f1(pred: &[bool], gold: &[bool]) -> f64 {
    let tp = pred.iter().zip(gold).filter(|(p, g)| **p && **g).count() as f64;
    let fp = pred.iter().zip(gold).filter(|(p, g)| **p && !**g).count() as f64;
    let fnn = pred.iter().zip(gold).filter(|(p, g)| !**p && **g).count() as f64;
    if tp == 0.0 {
        return 0.0;
    }
    2.0 * tp / (2.0 * tp + fp + fnn)
}

/// Per-row probabilities of one head on a dev set.
fn dev_probs(encoder: &Encoder, heads: &Heads, cache: &Path, name: &str, head: usize, rows: &[Example]) -> Result<Vec<Vec<f32>>, ModelError> {
    let x = cached_features(encoder, cache, name, rows, false)?;
    let p = heads.probabilities(&x)[head].contiguous();
    let w = HEADS[head].labels.len();
    let mut flat = vec![0f32; rows.len() * w];
    p.copy_data(&mut flat, rows.len() * w);
    Ok(flat.chunks(w).map(|c| c.to_vec()).collect())
}

/// Reproduce the model card's metrics on the dev splits.
pub fn evaluate(encoder: &Encoder, heads: &Heads, data: &Path, cache: &Path) -> Result<Vec<Metric>, ModelError> {
    let corpora = load_corpora(data)?;
    let mut out = Vec::new();
    let mut push = |dataset: &str, metric: &str, rows: usize, value: f64, vader: Option<f64>, target: Option<f64>| {
        out.push(Metric { dataset: dataset.into(), metric: metric.into(), rows, value, vader, target })
    };
    let accuracy = |hits: usize, n: usize| hits as f64 / n.max(1) as f64;
    for (h, sets) in corpora.dev.iter().enumerate() {
        for (name, rows) in sets {
            let probs = dev_probs(encoder, heads, cache, name, h, rows)?;
            let vader = vader_scores(rows);
            let n = rows.len();
            match (h, name.as_str()) {
                (SENTIMENT, "sst2-dev") => {
                    let ok = probs.iter().zip(rows).filter(|(p, r)| (if p[2] > p[0] { 2.0 } else { 0.0 }) == r.target[0]).count();
                    let v = vader.iter().zip(rows).filter(|(v, r)| (if v[3] >= 0.0 { 2.0 } else { 0.0 }) == r.target[0]).count();
                    push(name, "accuracy (negative vs positive)", n, accuracy(ok, n), Some(accuracy(v, n)), Some(0.90));
                }
                (SENTIMENT, _) => {
                    let ok = probs
                        .iter()
                        .zip(rows)
                        .filter(|(p, r)| {
                            let k = (0..3).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap_or(1);
                            k as f32 == r.target[0]
                        })
                        .count();
                    let v = vader.iter().zip(rows).filter(|(v, r)| vader_class(v) as f32 == r.target[0]).count();
                    push(name, "accuracy (3 classes)", n, accuracy(ok, n), Some(accuracy(v, n)), Some(0.72));
                }
                (POLITENESS, _) | (REQUEST, _) => {
                    let ok = probs.iter().zip(rows).filter(|(p, r)| (p[0] >= 0.5) == (r.target[0] >= 0.5)).count();
                    // VADER has no notion of politeness or requests: its positive-vs-not reading.
                    let v = (h == POLITENESS).then(|| {
                        accuracy(vader.iter().zip(rows).filter(|(v, r)| (v[3] >= 0.05) == (r.target[0] >= 0.5)).count(), n)
                    });
                    let target = (h == POLITENESS).then_some(0.85);
                    push(name, "accuracy", n, accuracy(ok, n), v, target);
                }
                (INCIVILITY, _) => {
                    let mut aucs = BTreeMap::new();
                    let vader_neg: Vec<f32> = vader.iter().map(|v| v[0] as f32 - v[3] as f32).collect();
                    for (k, label) in HEADS[INCIVILITY].labels.iter().enumerate() {
                        let s: Vec<f32> = probs.iter().map(|p| p[k]).collect();
                        let g: Vec<bool> = rows.iter().map(|r| r.target[k] >= 0.5).collect();
                        aucs.insert(*label, (auc(&s, &g), auc(&vader_neg, &g)));
                    }
                    let mean = |f: fn(&(f64, f64)) -> f64| {
                        let vals: Vec<f64> = aucs.values().map(f).filter(|v| !v.is_nan()).collect();
                        vals.iter().sum::<f64>() / vals.len().max(1) as f64
                    };
                    push(name, "AUC (mean of 6 attributes)", n, mean(|a| a.0), Some(mean(|a| a.1)), Some(0.80));
                    for (label, (ours, v)) in aucs {
                        push(name, &format!("AUC {label}"), n, ours, Some(v), None);
                    }
                    let s: Vec<f32> = probs.iter().map(|p| p.iter().copied().fold(0.0, f32::max)).collect();
                    let g: Vec<bool> = rows.iter().map(|r| r.target.iter().any(|&t| t >= 0.5)).collect();
                    push(name, "AUC (any attribute)", n, auc(&s, &g), Some(auc(&vader_neg, &g)), None);
                }
                (EMOTION, _) => {
                    let pred: Vec<bool> = probs.iter().map(|p| p[0] >= 0.5).collect();
                    let gold: Vec<bool> = rows.iter().map(|r| r.target[0] >= 0.5).collect();
                    let v: Vec<bool> = vader.iter().map(|v| v[3] <= -0.05).collect();
                    push(name, "F1 (negative group)", n, f1(&pred, &gold), Some(f1(&v, &gold)), None);
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_handles_quotes_commas_and_newlines() {
        let rows = parse_csv("a,b\n\"x, \"\"y\"\"\",\"two\nlines\"\n");
        assert_eq!(rows, vec![vec!["a", "b"], vec!["x, \"y\"", "two\nlines"]]);
    }

    #[test]
    fn auc_matches_hand_computation() {
        // Positives at 0.9 and 0.4, negatives at 0.5 and 0.1: 3 of 4 pairs ordered right.
        assert!((auc(&[0.9, 0.4, 0.5, 0.1], &[true, true, false, false]) - 0.75).abs() < 1e-9);
        assert!((auc(&[0.5, 0.5], &[true, false]) - 0.5).abs() < 1e-9);
    }

    #[test]
    fn f1_counts() {
        assert!((f1(&[true, true, false, false], &[true, false, true, false]) - 0.5).abs() < 1e-9);
    }

    #[test]
    fn dev_split_is_about_a_fifth_and_stable() {
        let n = (0..10_000u64).filter(|&k| is_dev(k)).count();
        assert!((1800..2200).contains(&n), "{n}");
        assert_eq!(is_dev(12345), is_dev(12345));
    }
}
