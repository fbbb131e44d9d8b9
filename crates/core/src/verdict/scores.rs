//! What the tone model says about one sentence.

/// The Unhealthy Comments Corpus attributes (the v1 model's incivility head; v2 keeps it).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Incivility {
    pub antagonize: f32,
    pub condescending: f32,
    pub dismissive: f32,
    pub generalisation: f32,
    pub hostile: f32,
    pub sarcastic: f32,
}

impl Incivility {
    /// The strongest attribute that reads as an attack on the reader (generalisation is about
    /// groups, rare in business mail).
    pub fn max(&self) -> f32 {
        self.antagonize.max(self.condescending).max(self.dismissive).max(self.hostile)
    }
}

/// The rubric's tones (models/calibration/RUBRIC.md), learnt from the email tone corpus.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Tones {
    pub curt: f32,
    pub demanding: f32,
    pub passive_aggressive: f32,
    pub condescending: f32,
    pub sarcastic: f32,
    pub blame: f32,
    pub hostile: f32,
    pub shouting: f32,
}

impl Tones {
    /// The tones in the rubric's order, with their names.
    pub fn named(&self) -> [(&'static str, f32); 8] {
        [
            ("curt", self.curt),
            ("demanding", self.demanding),
            ("passive_aggressive", self.passive_aggressive),
            ("condescending", self.condescending),
            ("sarcastic", self.sarcastic),
            ("blame", self.blame),
            ("hostile", self.hostile),
            ("shouting", self.shouting),
        ]
    }

    pub fn from_slice(v: &[f32]) -> Self {
        let g = |i: usize| v.get(i).copied().unwrap_or(0.0);
        Tones { curt: g(0), demanding: g(1), passive_aggressive: g(2), condescending: g(3), sarcastic: g(4), blame: g(5), hostile: g(6), shouting: g(7) }
    }

    /// Element-wise maximum.
    pub fn max(&self, o: &Tones) -> Tones {
        Tones {
            curt: self.curt.max(o.curt),
            demanding: self.demanding.max(o.demanding),
            passive_aggressive: self.passive_aggressive.max(o.passive_aggressive),
            condescending: self.condescending.max(o.condescending),
            sarcastic: self.sarcastic.max(o.sarcastic),
            blame: self.blame.max(o.blame),
            hostile: self.hostile.max(o.hostile),
            shouting: self.shouting.max(o.shouting),
        }
    }
}

/// What the heads say about one sentence. All values are probabilities in [0, 1]. The v1 model
/// leaves the fields it has no head for at 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SentenceScores {
    pub negative: f32,
    pub neutral: f32,
    pub positive: f32,
    /// How polite the sentence reads if it is a request (Stanford Politeness).
    pub politeness: f32,
    /// Whether the sentence is a request (email intent).
    pub request: f32,
    /// Unhealthy Comments Corpus attributes.
    pub incivility: Incivility,
    /// Irony (TweetEval).
    pub irony: f32,
    /// Offensive language (TweetEval / OffensEval).
    pub offensive: f32,
    /// Anger, annoyance, disapproval and the like (GoEmotions negative group, TweetEval emotion).
    pub negative_emotion: f32,
    /// The rubric's tones.
    pub tones: Tones,
    /// Not a sentence the sender wrote to the reader: a contact card, a table, an attachment
    /// marker, a forwarded banner. Never scored as tone.
    pub not_prose: f32,
}
