//! The v2 heads: one small head per task over the fine-tuned encoder's mean-pooled last layer,
//! trained by `scripts/train-model.sh` (crates/model/python/train_tone.py) and compiled in from
//! `models/v2/heads.safetensors`, with `models/v2/heads.json` naming each task's outputs.
use tch::{Device, Kind, Tensor};

use rapport_core::verdict::{Incivility, SentenceScores, Tones};

use crate::ModelError;

/// One task of the manifest.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct TaskSpec {
    pub name: String,
    pub outputs: Vec<String>,
    /// `softmax` or `sigmoid`.
    pub activation: String,
    /// Hidden units (0: a linear head).
    #[serde(default)]
    pub hidden: i64,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct Manifest {
    pub pooling: String,
    /// 1-based layers mean-pooled and concatenated into the features (default: the last).
    #[serde(default = "last_layer")]
    pub pooled_layers: Vec<usize>,
    pub tasks: Vec<TaskSpec>,
    #[serde(default)]
    pub fine_tuned_layers: Vec<usize>,
    /// Which half of the email corpus's train users the heads were trained without ("a", "b"),
    /// for cross-fitting the risk; "none" for the heads that ship.
    #[serde(default)]
    pub holdout_half: String,
}

fn last_layer() -> Vec<usize> {
    vec![6]
}

/// The v2 model's files: compiled in, or read from a folder (`--v2-dir`, for trying a freshly
/// trained variant without a rebuild).
pub struct Files {
    pub label: String,
    pub manifest: String,
    pub heads: Vec<u8>,
    pub layers: Option<Vec<u8>>,
}

impl Files {
    pub fn embedded() -> Result<Self, ModelError> {
        let (manifest, heads) = EMBEDDED.ok_or_else(|| ModelError::Load {
            path: "models/v2/heads.safetensors".into(),
            message: "this build has no v2 heads; run scripts/train-model.sh and rebuild".into(),
        })?;
        Ok(Files { label: "models/v2".into(), manifest: manifest.into(), heads: heads.to_vec(), layers: EMBEDDED_LAYERS.map(<[u8]>::to_vec) })
    }

    pub fn from_dir(dir: &std::path::Path) -> Result<Self, ModelError> {
        let read = |name: &str| std::fs::read(dir.join(name)).map_err(|e| ModelError::Load { path: dir.join(name), message: e.to_string() });
        let layers = dir.join("encoder-layers.safetensors");
        Ok(Files {
            label: dir.display().to_string(),
            manifest: String::from_utf8_lossy(&read("heads.json")?).into_owned(),
            heads: read("heads.safetensors")?,
            layers: if layers.exists() { Some(read("encoder-layers.safetensors")?) } else { None },
        })
    }

    /// The pooling the heads were trained on.
    pub fn pooling(&self) -> Result<crate::Pooling, ModelError> {
        pooling_of(&self.manifest)
    }

    pub fn manifest(&self) -> Result<Manifest, ModelError> {
        serde_json::from_str(&self.manifest).map_err(|e| ModelError::Load { path: format!("{}/heads.json", self.label).into(), message: e.to_string() })
    }
}

fn pooling_of(manifest: &str) -> Result<crate::Pooling, ModelError> {
    let m: Manifest = serde_json::from_str(manifest).map_err(|e| ModelError::Load { path: "models/v2/heads.json".into(), message: e.to_string() })?;
    match m.pooled_layers.as_slice() {
        [6] => Ok(crate::Pooling::Last),
        [3, 6] => Ok(crate::Pooling::Layers3And6),
        other => Err(ModelError::Load { path: "models/v2/heads.json".into(), message: format!("pooled layers {other:?} are not supported") }),
    }
}

#[cfg(rapport_v2)]
pub const EMBEDDED: Option<(&str, &[u8])> = Some((include_str!("../../../models/v2/heads.json"), include_bytes!("../../../models/v2/heads.safetensors")));
#[cfg(not(rapport_v2))]
pub const EMBEDDED: Option<(&str, &[u8])> = None;

#[cfg(rapport_v2_layers)]
pub const EMBEDDED_LAYERS: Option<&[u8]> = Some(include_bytes!("../../../models/v2/encoder-layers.safetensors"));
#[cfg(not(rapport_v2_layers))]
pub const EMBEDDED_LAYERS: Option<&[u8]> = None;

struct Head {
    spec: TaskSpec,
    l1: Option<(Tensor, Tensor)>,
    l2: (Tensor, Tensor),
}

/// The v2 heads, ready to run.
pub struct Heads {
    heads: Vec<Head>,
}

impl Heads {
    pub fn load(manifest: &str, bytes: &[u8], device: Device) -> Result<Self, ModelError> {
        let bad = |m: String| ModelError::Load { path: "models/v2/heads.safetensors".into(), message: m };
        let manifest: Manifest = serde_json::from_str(manifest).map_err(|e| bad(format!("models/v2/heads.json: {e}")))?;
        if manifest.pooling != "mean" {
            return Err(bad(format!("pooling {:?} is not supported", manifest.pooling)));
        }
        let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| bad(e.to_string()))?;
        let get = |name: &str| -> Result<Tensor, ModelError> {
            let view = st.tensor(name).map_err(|_| bad(format!("no tensor {name}")))?;
            let t: Tensor = view.try_into().map_err(|e: tch::TchError| bad(e.to_string()))?;
            Ok(t.to_kind(Kind::Float).to(device))
        };
        let mut heads = Vec::new();
        for spec in manifest.tasks {
            let n = &spec.name;
            let l1 = if spec.hidden > 0 { Some((get(&format!("{n}.l1.weight"))?, get(&format!("{n}.l1.bias"))?)) } else { None };
            // A linear head is `l2` (older trainer runs saved it without the prefix).
            let l2 = match get(&format!("{n}.l2.weight")) {
                Ok(w) => (w, get(&format!("{n}.l2.bias"))?),
                Err(_) if spec.hidden == 0 => (get(&format!("{n}.weight"))?, get(&format!("{n}.bias"))?),
                Err(e) => return Err(e),
            };
            if l2.0.size()[0] != spec.outputs.len() as i64 {
                return Err(bad(format!("{n}: {} outputs in the file, {} in the manifest", l2.0.size()[0], spec.outputs.len())));
            }
            heads.push(Head { spec, l1, l2 });
        }
        Ok(Self { heads })
    }

    pub fn embedded(device: Device) -> Result<Self, ModelError> {
        match EMBEDDED {
            Some((m, b)) => Self::load(m, b, device),
            None => Err(ModelError::Load {
                path: "models/v2/heads.safetensors".into(),
                message: "this build has no v2 heads; run scripts/train-model.sh and rebuild".into(),
            }),
        }
    }

    /// Every head's probabilities for features `[n, width]` (the pooling of the manifest): a row per sentence.
    pub fn scores(&self, feats: &Tensor) -> Vec<SentenceScores> {
        let n = feats.size()[0] as usize;
        let mut out = vec![SentenceScores::default(); n];
        tch::no_grad(|| {
            for h in &self.heads {
                let mut x = feats.to_kind(Kind::Float);
                if let Some((w, b)) = &h.l1 {
                    x = x.linear(w, Some(b)).gelu("none");
                }
                let logits = x.linear(&h.l2.0, Some(&h.l2.1));
                let p = if h.spec.activation == "softmax" { logits.softmax(-1, Kind::Float) } else { logits.sigmoid() };
                let p = p.to(Device::Cpu).contiguous();
                let k = h.spec.outputs.len();
                let mut v = vec![0f32; n * k];
                p.copy_data(&mut v, n * k);
                for (i, row) in v.chunks(k).enumerate() {
                    assign(&mut out[i], &h.spec, row);
                }
            }
        });
        out
    }
}

fn assign(s: &mut SentenceScores, spec: &TaskSpec, row: &[f32]) {
    let at = |name: &str| spec.outputs.iter().position(|o| o == name).map(|k| row[k]).unwrap_or(0.0);
    match spec.name.as_str() {
        "sentiment" => {
            s.negative = at("negative");
            s.neutral = at("neutral");
            s.positive = at("positive");
        }
        "politeness" => s.politeness = at("polite"),
        "request" => s.request = at("request"),
        "ucc" => {
            s.incivility = Incivility {
                antagonize: at("antagonize"),
                condescending: at("condescending"),
                dismissive: at("dismissive"),
                generalisation: at("generalisation"),
                hostile: at("hostile"),
                sarcastic: at("sarcastic"),
            }
        }
        "irony" => s.irony = at("irony"),
        "offensive" => s.offensive = at("offensive"),
        "emotion" => s.negative_emotion = at("negative_emotion"),
        "email" => {
            s.tones = Tones {
                curt: at("curt"),
                demanding: at("demanding"),
                passive_aggressive: at("passive_aggressive"),
                condescending: at("condescending"),
                sarcastic: at("sarcastic"),
                blame: at("blame"),
                hostile: at("hostile"),
                shouting: at("shouting"),
            };
            s.not_prose = at("not_prose");
        }
        _ => {}
    }
}
