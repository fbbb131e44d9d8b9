//! The only module that knows about models: the rust-bert encoder ([`encoder`]) and rapport's
//! trained heads ([`heads`]), run sentence by sentence in length-sorted batches.
//!
//! The scorer owns the model on one thread (rust-bert models are `Send`, not `Sync`); callers feed
//! it sentences. libtorch's intra-op thread count is set on purpose ([`set_threads`]) so that it
//! does not fight rayon for the same cores.
pub mod calibrate;
pub mod cuda;
pub mod encoder;
pub mod heads;
pub mod train;

use std::path::Path;

use tch::{Device, Kind, Tensor};

use crate::error::ModelError;
pub use encoder::{default_model_dir, Encoder, ENCODER_ID};
pub use heads::Heads;
pub use crate::tone::SentenceScores;

/// The libtorch rapport is built against (torch-sys checks it at build time).
pub const LIBTORCH_VERSION: &str = "libtorch 2.4.0 (PyPI torch==2.4.0 wheel, tch 0.17)";

/// Identifies what produced a verdict: the encoder, the heads, and a fingerprint of the
/// cleaning, rules and risk code of this build. Verdicts cached under another id are recomputed.
/// Computed once per process (it hashes the embedded heads, 3.9 MB).
pub fn model_id() -> String {
    static ID: once_cell::sync::Lazy<String> = once_cell::sync::Lazy::new(|| {
        let heads = heads::EMBEDDED.map(crate::parse::sha256_hex).unwrap_or_else(|| "none".into());
        format!(
            "{ENCODER_ID}+heads-{}+verdict-{}",
            &heads[..12.min(heads.len())],
            env!("RAPPORT_VERDICT_FINGERPRINT")
        )
    });
    ID.clone()
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

pub struct Scorer {
    pub encoder: Encoder,
    pub heads: Heads,
    /// Padded tokens per forward pass.
    pub batch_tokens: usize,
}

impl Scorer {
    pub fn load(model_dir: &Path, device: Device, precision: Precision) -> Result<Self, ModelError> {
        let encoder = Encoder::load(model_dir, device, precision)?;
        let heads = Heads::embedded(device)?;
        let batch_tokens = if device == Device::Cpu { 4096 } else { 65536 };
        Ok(Self {
            encoder,
            heads,
            batch_tokens,
        })
    }

    /// Encoder features for sentences, `[n, FEATURES]`.
    pub fn features(&self, sentences: &[&str]) -> Result<Tensor, ModelError> {
        self.encoder.encode(sentences, self.batch_tokens)
    }

    /// Scores for features computed by [`Scorer::features`].
    pub fn scores_from_features(&self, feats: &Tensor) -> Vec<SentenceScores> {
        let n = feats.size()[0];
        if n == 0 {
            return Vec::new();
        }
        let probs = self.heads.probabilities(&feats.to(self.encoder.device()));
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
        let w = |head: usize| heads::HEADS[head].labels.len();
        (0..n as usize)
            .map(|i| {
                let at = |head: usize, k: usize| rows[head][i * w(head) + k];
                SentenceScores {
                    negative: at(heads::SENTIMENT, 0),
                    neutral: at(heads::SENTIMENT, 1),
                    positive: at(heads::SENTIMENT, 2),
                    politeness: at(heads::POLITENESS, 0),
                    antagonize: at(heads::INCIVILITY, 0),
                    condescending: at(heads::INCIVILITY, 1),
                    dismissive: at(heads::INCIVILITY, 2),
                    generalisation: at(heads::INCIVILITY, 3),
                    hostile: at(heads::INCIVILITY, 4),
                    sarcastic: at(heads::INCIVILITY, 5),
                    negative_emotion: at(heads::EMOTION, 0),
                    request: at(heads::REQUEST, 0),
                }
            })
            .collect()
    }

    /// Score sentences (one encoder pass per sentence, batched).
    pub fn score(&self, sentences: &[&str]) -> Result<Vec<SentenceScores>, ModelError> {
        Ok(self.scores_from_features(&self.features(sentences)?))
    }
}
