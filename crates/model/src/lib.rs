//! rapport's tone model: the rust-bert encoder ([`encoder`]) and the trained heads ([`heads`] for
//! v2, [`heads_v1`] for the model v2 replaced), the [`Scorer`] that runs them sentence by sentence in
//! length-sorted batches, the scorer process `rapport-model serve` ([`server`]), and the model's
//! evaluation ([`eval`]) and risk calibration ([`calibrate`]) on the labelled corpora. Training is
//! `crates/model/python/train_tone.py` (see `scripts/train-model.sh`); inference is all here.
//!
//! The scorer owns the model on one thread (rust-bert models are `Send`, not `Sync`); callers feed
//! it sentences. libtorch's intra-op thread count is set on purpose ([`set_threads`]) so that it
//! does not fight rayon for the same cores.
pub mod calibrate;
pub mod cuda;
pub mod data;
pub mod encoder;
pub mod eval;
pub mod heads;
pub mod heads_v1;
pub mod server;

use std::path::{Path, PathBuf};

use tch::{Device, Kind, Tensor};

pub use encoder::{default_model_dir, Encoder, Pooling};
use rapport_core::verdict::{Incivility, ScoreError, SentenceScorer, SentenceScores};

/// The libtorch rapport is built against (torch-sys checks it at build time).
pub const LIBTORCH_VERSION: &str = "libtorch 2.4.0 (PyPI torch==2.4.0 wheel, tch 0.17)";

/// Loading or running the tone model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("the tone model's encoder is missing: {path} does not exist. Run `make setup` (or `setup/setup.sh`), or point RAPPORT_MODEL_DIR at a folder with model.safetensors, config.json and tokenizer.json")]
    Missing { path: PathBuf },
    #[error("the encoder file {path} is corrupt or not the pinned one (sha256 {actual}, expected {expected}). Delete it and run `make setup` again")]
    Checksum { path: PathBuf, actual: String, expected: String },
    #[error("cannot load {path}: {message}. Delete it and run `make setup` again")]
    Load { path: PathBuf, message: String },
    #[error("cannot read the data {path}: {message}. Evaluation and calibration read ../shared/datasets (pass --data DIR)")]
    Data { path: PathBuf, message: String },
    #[error("the tone model failed: {0}")]
    Runtime(String),
}

impl From<ModelError> for ScoreError {
    fn from(e: ModelError) -> Self {
        ScoreError::Model(e.to_string())
    }
}

/// Which model: v2 (this release) or v1 (kept for the comparison).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Version {
    V1,
    V2,
}

impl Version {
    /// The model this build scores with: v2 when its heads are compiled in.
    pub fn current() -> Self {
        if heads::EMBEDDED.is_some() {
            Version::V2
        } else {
            Version::V1
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Version::V1 => "v1",
            Version::V2 => "v2",
        }
    }
}

/// Parse `cpu`, `cuda` or `cuda:N`.
pub fn parse_device(s: &str) -> Result<Device, String> {
    match s {
        "cpu" => Ok(Device::Cpu),
        "cuda" => Ok(Device::Cuda(0)),
        other => other
            .strip_prefix("cuda:")
            .and_then(|n| n.parse().ok())
            .map(Device::Cuda)
            .ok_or_else(|| format!("unknown device {other:?}: use cpu, cuda or cuda:N")),
    }
}

/// Make `device` usable: for CUDA, load libtorch's CUDA backend and check the device exists.
pub fn prepare_device(device: Device) -> Result<(), ModelError> {
    if let Device::Cuda(i) = device {
        cuda::ensure_loaded().map_err(ModelError::Runtime)?;
        if !tch::Cuda::is_available() || i >= tch::Cuda::device_count() as usize {
            return Err(ModelError::Runtime(format!(
                "CUDA device {i} is not available to libtorch here (no GPU or driver); use --device cpu"
            )));
        }
    }
    Ok(())
}

/// The arithmetic the encoder runs in. `Bf16` halves the encoder's time on CPUs with native
/// bfloat16 dot products (AVX-512 BF16, AMX) at a cost measured by `rapport eval` (see
/// models/README.md); the heads always run in float32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    F32,
    Bf16,
}

impl Precision {
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::Bf16 => "bf16",
        }
    }

    /// `f32`, `bf16`, or `auto`: bf16 on a CPU with native bfloat16 instructions, else f32 (on
    /// CUDA, f32 until bf16 has been measured there).
    pub fn resolve(arg: &str, device: Device) -> Result<Self, String> {
        match arg {
            "f32" => Ok(Precision::F32),
            "bf16" => Ok(Precision::Bf16),
            "auto" => Ok(if device == Device::Cpu && cpu_has_native_bf16() { Precision::Bf16 } else { Precision::F32 }),
            other => Err(format!("unknown precision {other:?}: use auto, f32 or bf16")),
        }
    }
}

/// Whether this CPU computes bfloat16 dot products natively (Linux: `avx512_bf16` or `amx_bf16`
/// in /proc/cpuinfo). Without them libtorch emulates bf16 and it is slower than f32.
pub fn cpu_has_native_bf16() -> bool {
    std::fs::read_to_string("/proc/cpuinfo")
        .map(|s| {
            s.lines()
                .filter(|l| l.starts_with("flags"))
                .take(1)
                .any(|l| l.split_whitespace().any(|f| f == "avx512_bf16" || f == "amx_bf16"))
        })
        .unwrap_or(false)
}

/// Set libtorch's intra-op threads (0 = leave libtorch's default).
pub fn set_threads(n: usize) {
    if n > 0 {
        tch::set_num_threads(n as i32);
    }
}

enum HeadSet {
    V1(heads_v1::Heads),
    V2(heads::Heads),
}

pub struct Scorer {
    pub encoder: Encoder,
    heads: HeadSet,
    pub version: Version,
    /// Padded tokens per forward pass.
    pub batch_tokens: usize,
}

impl Scorer {
    pub fn load(model_dir: &Path, device: Device, precision: Precision, version: Version) -> Result<Self, ModelError> {
        match version {
            Version::V1 => Self::load_v1(model_dir, device, precision),
            Version::V2 => Self::load_v2(model_dir, device, precision, &heads::Files::embedded()?),
        }
    }

    pub fn load_v1(model_dir: &Path, device: Device, precision: Precision) -> Result<Self, ModelError> {
        prepare_device(device)?;
        let encoder = Encoder::load(model_dir, device, precision, Pooling::Layers3And6, None)?;
        let heads = HeadSet::V1(heads_v1::Heads::embedded(device)?);
        let batch_tokens = if device == Device::Cpu { 4096 } else { 65536 };
        Ok(Self { encoder, heads, version: Version::V1, batch_tokens })
    }

    /// The v2 model from `files` (compiled in, or a folder of a trained variant).
    pub fn load_v2(model_dir: &Path, device: Device, precision: Precision, files: &heads::Files) -> Result<Self, ModelError> {
        prepare_device(device)?;
        let layers_label = format!("{}/encoder-layers.safetensors", files.label);
        let layers = files.layers.as_deref().map(|b| (layers_label.as_str(), b));
        let encoder = Encoder::load(model_dir, device, precision, files.pooling()?, layers)?;
        let heads = HeadSet::V2(heads::Heads::load(&files.manifest, &files.heads, device)?);
        let version = Version::V2;
        let batch_tokens = if device == Device::Cpu { 4096 } else { 65536 };
        Ok(Self { encoder, heads, version, batch_tokens })
    }

    /// Encoder features for sentences.
    pub fn features(&self, sentences: &[&str]) -> Result<Tensor, ModelError> {
        self.encoder.encode(sentences, self.batch_tokens)
    }

    /// Scores for features computed by [`Scorer::features`].
    pub fn scores_from_features(&self, feats: &Tensor) -> Vec<SentenceScores> {
        if feats.size()[0] == 0 {
            return Vec::new();
        }
        let feats = feats.to(self.encoder.device());
        match &self.heads {
            HeadSet::V2(h) => h.scores(&feats),
            HeadSet::V1(h) => v1_scores(h, &feats),
        }
    }

    /// Score sentences (one encoder pass per sentence, batched).
    pub fn score(&self, sentences: &[&str]) -> Result<Vec<SentenceScores>, ModelError> {
        Ok(self.scores_from_features(&self.features(sentences)?))
    }
}

impl SentenceScorer for Scorer {
    fn score(&mut self, sentences: &[&str]) -> Result<Vec<SentenceScores>, ScoreError> {
        Ok(Scorer::score(self, sentences)?)
    }
}

fn v1_scores(h: &heads_v1::Heads, feats: &Tensor) -> Vec<SentenceScores> {
    use heads_v1::{EMOTION, HEADS, INCIVILITY, POLITENESS, REQUEST, SENTIMENT};
    let n = feats.size()[0] as usize;
    let probs = h.probabilities(feats);
    let rows: Vec<Vec<f32>> = probs
        .iter()
        .map(|p| {
            let p = p.to(Device::Cpu).to_kind(Kind::Float).contiguous();
            let len = p.numel();
            let mut v = vec![0f32; len];
            p.copy_data(&mut v, len);
            v
        })
        .collect();
    let w = |head: usize| HEADS[head].labels.len();
    (0..n)
        .map(|i| {
            let at = |head: usize, k: usize| rows[head][i * w(head) + k];
            SentenceScores {
                negative: at(SENTIMENT, 0),
                neutral: at(SENTIMENT, 1),
                positive: at(SENTIMENT, 2),
                politeness: at(POLITENESS, 0),
                request: at(REQUEST, 0),
                incivility: Incivility {
                    antagonize: at(INCIVILITY, 0),
                    condescending: at(INCIVILITY, 1),
                    dismissive: at(INCIVILITY, 2),
                    generalisation: at(INCIVILITY, 3),
                    hostile: at(INCIVILITY, 4),
                    sarcastic: at(INCIVILITY, 5),
                },
                negative_emotion: at(EMOTION, 0),
                ..Default::default()
            }
        })
        .collect()
}
