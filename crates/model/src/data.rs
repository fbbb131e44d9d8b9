//! The labelled data the model is judged on: the dev splits of the public corpora in
//! `../shared/datasets` (the same splits `crates/model/python/train_tone.py` holds out) and the
//! email tone corpus (`models/email-tone`, bodies from the AESLC file by id).
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rapport_core::text::splitmix64;

use crate::ModelError;

/// One dev split: texts with their labels. `labels[i]` holds one value per output (a class index
/// for 3-class sentiment, 0/1 otherwise).
#[derive(Debug, Clone, Default)]
pub struct DevSet {
    pub name: &'static str,
    pub texts: Vec<String>,
    pub labels: Vec<Vec<u8>>,
}

impl DevSet {
    fn push(&mut self, text: impl Into<String>, label: Vec<u8>) {
        self.texts.push(text.into());
        self.labels.push(label);
    }
}

fn read(path: &Path) -> Result<String, ModelError> {
    let bytes = std::fs::read(path).map_err(|e| ModelError::Data { path: path.to_path_buf(), message: e.to_string() })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Rows of a CSV file as header -> value maps.
fn csv_rows(path: &Path) -> Result<Vec<BTreeMap<String, String>>, ModelError> {
    let text = read(path)?;
    let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let header: Vec<String> = r
        .headers()
        .map_err(|e| ModelError::Data { path: path.to_path_buf(), message: e.to_string() })?
        .iter()
        .map(str::to_string)
        .collect();
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| ModelError::Data { path: path.to_path_buf(), message: e.to_string() })?;
        out.push(header.iter().cloned().zip(rec.iter().map(str::to_string)).collect());
    }
    Ok(out)
}

/// The deterministic dev split of corpora that have none: every fifth row by a stable key.
pub fn is_dev(key: u64) -> bool {
    splitmix64(key) % 5 == 0
}

fn sst3(label: u8) -> u8 {
    match label {
        0 | 1 => 0,
        2 => 1,
        _ => 2,
    }
}

/// Every public dev split.
pub fn public_dev(data: &Path) -> Result<Vec<DevSet>, ModelError> {
    let mut out = Vec::new();
    let mut sst2 = DevSet { name: "sst2-dev", ..Default::default() };
    for l in read(&data.join("sst/sst2_dev.tsv"))?.lines().skip(1) {
        if let Some((label, text)) = l.split_once('\t') {
            sst2.push(text, vec![u8::from(label.trim() == "1")]);
        }
    }
    out.push(sst2);
    let mut sst3_dev = DevSet { name: "sst3-dev", ..Default::default() };
    for l in read(&data.join("sst/stsa.fine.dev"))?.lines() {
        if let Some((label, text)) = l.split_once(' ') {
            if let Ok(k) = label.parse::<u8>() {
                sst3_dev.push(text, vec![sst3(k)]);
            }
        }
    }
    out.push(sst3_dev);
    // Politeness: top vs bottom quartile of the normalized score, dev by Id.
    let rows = csv_rows(&data.join("politeness/wikipedia.annotated.csv"))?;
    let scored: Vec<(u64, String, f64)> = rows
        .iter()
        .filter_map(|r| Some((r.get("Id")?.parse().ok()?, r.get("Request")?.clone(), r.get("Normalized Score")?.parse().ok()?)))
        .collect();
    let mut scores: Vec<f64> = scored.iter().map(|r| r.2).collect();
    scores.sort_by(|a, b| a.total_cmp(b));
    let (q1, q3) = (scores[scores.len() / 4], scores[scores.len() * 3 / 4]);
    let mut pol = DevSet { name: "politeness-dev", ..Default::default() };
    for (id, text, s) in scored {
        let y = if s >= q3 { 1 } else if s <= q1 { 0 } else { continue };
        if is_dev(id) {
            pol.push(text, vec![y]);
        }
    }
    out.push(pol);
    let mut req = DevSet { name: "email-intent-dev", ..Default::default() };
    for (i, l) in read(&data.join("email-intent/train.tsv"))?.lines().enumerate() {
        let Some((label, text)) = l.split_once('\t') else { continue };
        let y = match label.trim() {
            "Yes" => 1,
            "No" => 0,
            _ => continue,
        };
        if is_dev(i as u64) {
            req.push(text, vec![y]);
        }
    }
    out.push(req);
    let mut ucc = DevSet { name: "ucc-dev", ..Default::default() };
    const UCC: [&str; 6] = ["antagonize", "condescending", "dismissive", "generalisation", "hostile", "sarcastic"];
    for r in csv_rows(&data.join("ucc/val.csv"))? {
        let Some(key) = r.get("_unit_id").and_then(|k| k.parse::<u64>().ok()) else { continue };
        if is_dev(key) {
            let y = UCC.iter().map(|c| u8::from(r.get(*c).is_some_and(|v| v.trim().starts_with('1')))).collect();
            ucc.push(r.get("comment").cloned().unwrap_or_default(), y);
        }
    }
    out.push(ucc);
    for (name, task) in [("irony-val", "irony"), ("offensive-val", "offensive")] {
        let base = data.join("tweeteval").join(task);
        let mut set = DevSet { name, ..Default::default() };
        let texts = read(&base.join("val_text.txt"))?;
        let labels = read(&base.join("val_labels.txt"))?;
        for (t, l) in texts.lines().zip(labels.lines()) {
            set.push(t, vec![l.trim().parse().unwrap_or(0)]);
        }
        out.push(set);
    }
    let mut sent = DevSet { name: "tweeteval-sentiment-val", ..Default::default() };
    let base = data.join("tweeteval/sentiment");
    for (t, l) in read(&base.join("val_text.txt"))?.lines().zip(read(&base.join("val_labels.txt"))?.lines()) {
        sent.push(t, vec![l.trim().parse().unwrap_or(1)]);
    }
    out.push(sent);
    let mut emo = DevSet { name: "goemotions-negative-dev", ..Default::default() };
    for l in read(&data.join("goemotions/group/dev.tsv"))?.lines() {
        let f: Vec<&str> = l.split('\t').collect();
        if f.len() >= 2 {
            emo.push(f[0], vec![u8::from(f[1].split(',').any(|x| x == "1"))]);
        }
    }
    out.push(emo);
    Ok(out)
}

/// The rubric's sentence tags, in order.
pub const TAGS: [&str; 9] = ["curt", "demanding", "passive_aggressive", "condescending", "sarcastic", "blame", "hostile", "shouting", "not_prose"];

/// One labelled body of the email tone corpus.
#[derive(Debug, Clone)]
pub struct EmailBody {
    pub id: String,
    pub stratum: String,
    pub user: String,
    pub dev: bool,
    /// Received (inbox) rather than sent mail.
    pub received: bool,
    /// 0 none, 1 some, 2 high.
    pub label: u8,
    /// The body's rows (the corpus's sentence split) and each row's tags (indices into [`TAGS`]).
    pub rows: Vec<String>,
    pub tags: Vec<Vec<usize>>,
}

impl EmailBody {
    pub fn body(&self) -> String {
        self.rows.join("\n")
    }

    pub fn misreadable(&self) -> bool {
        self.label > 0
    }
}

/// Where the corpus is: `models/email-tone` beside the datasets' checkout.
pub fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/email-tone")
}

/// The email tone corpus with its gold labels (`gold.tsv`).
pub fn email_corpus(data: &Path, corpus: &Path) -> Result<Vec<EmailBody>, ModelError> {
    let aeslc = data.join("enron/aeslc_train.jsonl");
    let mut bodies: BTreeMap<String, String> = BTreeMap::new();
    for line in read(&aeslc)?.lines() {
        #[derive(serde::Deserialize)]
        struct Row {
            id: String,
            body: String,
        }
        let r: Row = serde_json::from_str(line).map_err(|e| ModelError::Data { path: aeslc.clone(), message: e.to_string() })?;
        bodies.insert(r.id, r.body);
    }
    let gold = corpus.join("gold.tsv");
    let mut out = Vec::new();
    for (n, line) in read(&gold)?.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let bad = |m: &str| ModelError::Data { path: gold.clone(), message: format!("line {}: {m}", n + 1) };
        if f.len() < 5 {
            return Err(bad("expected id, stratum, user, split, label, tags"));
        }
        let body = bodies.get(f[0]).ok_or_else(|| bad(&format!("{} is not in {}", f[0], aeslc.display())))?;
        let rows: Vec<String> = body.split('\n').map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect();
        let mut tags = vec![Vec::new(); rows.len()];
        for part in f.get(5).unwrap_or(&"").split(';').filter(|p| !p.is_empty()) {
            let (s, names) = part.split_once(':').ok_or_else(|| bad("a tag is not S<row>:<tags>"))?;
            let row: usize = s.trim_start_matches('S').parse().map_err(|_| bad("a row number"))?;
            for name in names.split(',') {
                let k = TAGS.iter().position(|t| *t == name).ok_or_else(|| bad(&format!("unknown tag {name}")))?;
                if let Some(t) = tags.get_mut(row.wrapping_sub(1)) {
                    t.push(k);
                }
            }
        }
        out.push(EmailBody {
            id: f[0].to_string(),
            stratum: f[1].to_string(),
            user: f[2].to_string(),
            dev: f[3] == "dev",
            received: f[0].contains("_inbox_"),
            label: match f[4] {
                "none" => 0,
                "some" => 1,
                "high" => 2,
                _ => return Err(bad("the label is none, some or high")),
            },
            rows,
            tags,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn dev_split_is_the_trainers() {
        // The Python trainer's is_dev gives these (crates/model/python/train_tone.py).
        let dev: Vec<u64> = (0..40).filter(|&k| super::is_dev(k)).collect();
        assert_eq!(dev, [0, 1, 2, 13, 16, 18, 29, 30, 31, 35]);
    }
}
