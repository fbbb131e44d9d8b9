//! The v1 heads (rapport 0.1): small MLPs over the frozen encoder's features (layers 3 and 6), one
//! per task, trained by the 0.1 `rapport train` and kept in `models/tone-heads.safetensors` so that
//! `rapport eval` can show the model v2 replaced beside it.
use tch::{nn, nn::Module, nn::ModuleT, Device, Kind, Tensor};

use crate::ModelError;

/// v1 features: layers 3 and 6 of the frozen encoder.
const FEATURES: i64 = 768;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// One label out of several (cross-entropy).
    Softmax,
    /// Independent yes/no labels (binary cross-entropy).
    Sigmoid,
}

#[derive(Debug, Clone, Copy)]
pub struct HeadSpec {
    pub name: &'static str,
    pub labels: &'static [&'static str],
    pub activation: Activation,
}

pub const SENTIMENT: usize = 0;
pub const POLITENESS: usize = 1;
pub const INCIVILITY: usize = 2;
pub const EMOTION: usize = 3;
pub const REQUEST: usize = 4;

/// The heads, in the order of the constants above.
pub const HEADS: &[HeadSpec] = &[
    HeadSpec {
        name: "sentiment",
        labels: &["negative", "neutral", "positive"],
        activation: Activation::Softmax,
    },
    HeadSpec {
        name: "politeness",
        labels: &["polite"],
        activation: Activation::Sigmoid,
    },
    HeadSpec {
        name: "incivility",
        labels: &["antagonize", "condescending", "dismissive", "generalisation", "hostile", "sarcastic"],
        activation: Activation::Sigmoid,
    },
    HeadSpec {
        name: "emotion",
        labels: &["negative"],
        activation: Activation::Sigmoid,
    },
    HeadSpec {
        name: "request",
        labels: &["request"],
        activation: Activation::Sigmoid,
    },
];

pub const HIDDEN: i64 = 256;

/// One head: standardised features -> Linear -> GELU -> dropout -> Linear -> logits.
#[derive(Debug)]
pub struct Head {
    l1: nn::Linear,
    l2: nn::Linear,
}

impl Head {
    pub fn new(p: &nn::Path<'_>, outputs: i64) -> Self {
        Self {
            l1: nn::linear(p / "l1", FEATURES, HIDDEN, Default::default()),
            l2: nn::linear(p / "l2", HIDDEN, outputs, Default::default()),
        }
    }
}

impl ModuleT for Head {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        self.l2
            .forward(&self.l1.forward(xs).gelu("none").dropout(0.1, train))
    }
}

/// Feature standardisation, fitted on the training features.
#[derive(Debug)]
pub struct Norm {
    pub mean: Tensor,
    pub std: Tensor,
}

impl Norm {
    pub fn new(p: &nn::Path<'_>) -> Self {
        Self {
            mean: p.var("mean", &[FEATURES], nn::Init::Const(0.0)),
            std: p.var("std", &[FEATURES], nn::Init::Const(1.0)),
        }
    }
    pub fn apply(&self, xs: &Tensor) -> Tensor {
        (xs - &self.mean) / &self.std
    }
}

/// All heads in one var store.
pub struct Heads {
    pub vs: nn::VarStore,
    pub norm: Norm,
    pub heads: Vec<Head>,
}

/// The heads trained for this release, compiled in.
#[cfg(rapport_heads_v1)]
pub const EMBEDDED: Option<&[u8]> = Some(include_bytes!("../../../models/tone-heads.safetensors"));
#[cfg(not(rapport_heads_v1))]
pub const EMBEDDED: Option<&[u8]> = None;

impl Heads {
    /// Fresh, untrained heads (for training).
    pub fn new(device: Device) -> Self {
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let norm = Norm::new(&(&root / "norm"));
        let heads = HEADS
            .iter()
            .map(|h| Head::new(&(&root / h.name), h.labels.len() as i64))
            .collect();
        Self { vs, norm, heads }
    }

    /// Load weights from safetensors bytes.
    pub fn from_bytes(bytes: &[u8], device: Device) -> Result<Self, ModelError> {
        let bad = |m: String| ModelError::Load {
            path: "models/tone-heads.safetensors".into(),
            message: m,
        };
        let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| bad(e.to_string()))?;
        let heads = Self::new(device);
        let vars = heads.vs.variables();
        for (name, mut var) in vars {
            let view = st.tensor(&name).map_err(|_| bad(format!("no tensor {name}")))?;
            let t: Tensor = view.try_into().map_err(|e: tch::TchError| bad(e.to_string()))?;
            if t.size() != var.size() {
                return Err(bad(format!("{name}: shape {:?}, expected {:?}", t.size(), var.size())));
            }
            tch::no_grad(|| var.copy_(&t.to_kind(Kind::Float)));
        }
        Ok(heads)
    }

    /// The compiled-in heads.
    pub fn embedded(device: Device) -> Result<Self, ModelError> {
        match EMBEDDED {
            Some(b) => Self::from_bytes(b, device),
            None => Err(ModelError::Load {
                path: "models/tone-heads.safetensors".into(),
                message: "this build has no trained heads; run `rapport train` and rebuild".into(),
            }),
        }
    }

    pub fn save(&self, path: &std::path::Path) -> Result<(), ModelError> {
        let mut named: Vec<(String, Tensor)> = self.vs.variables().into_iter().collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        Tensor::write_safetensors(&named, path).map_err(|e| ModelError::Load {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// Probabilities of every head for features `[n, FEATURES]`: softmax or sigmoid per head.
    pub fn probabilities(&self, feats: &Tensor) -> Vec<Tensor> {
        tch::no_grad(|| {
            let x = self.norm.apply(feats);
            HEADS
                .iter()
                .zip(&self.heads)
                .map(|(spec, head)| {
                    let logits = head.forward_t(&x, false);
                    match spec.activation {
                        Activation::Softmax => logits.softmax(-1, Kind::Float),
                        Activation::Sigmoid => logits.sigmoid(),
                    }
                })
                .collect()
        })
    }
}
