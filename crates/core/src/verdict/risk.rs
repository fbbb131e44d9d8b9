//! The v2 verdict: the rubric's tones per sentence, the rules' findings, and a message-level
//! **misread risk** learnt on real business mail that people labelled (models/email-tone).
//!
//! **Features** of a message (of one sentence, for its sentence risk) are, in [`FEATURES`] order:
//! for each tone, the highest probability over the prose sentences; the highest negative sentiment,
//! offensive, irony, incivility and negative-emotion scores and impolite request
//! (`request × (1 − politeness)`); one indicator per rule code (R101-R108) that fired; and
//! `ln(1 + prose sentences)`. A sentence counts as prose in proportion to `1 − not_prose`, and a
//! fragment (under three words: "Director", "testing", "Deposit") counts a quarter: on its own it
//! cannot reach a high risk from the model; the rules still see it.
//!
//! **Risk** is a logistic model over the features, `σ(bias + w·x)`, fitted by `rapport calibrate`
//! on the corpus's train split and calibrated (its dev expected calibration error is in the model
//! card). `M206 misread-risk` fires at the threshold chosen on the train split. Each code's
//! severity (rules and model alike) comes from the same fit: a code is a warning when, on the train
//! split, the messages it fires on were judged misreadable often enough (precision ≥ 0.6), and a
//! note otherwise. A message is **flagged** when it has any finding at warning or above.
use std::collections::BTreeMap;

use super::{Assessment, SentenceScores, Tone, Tones};
use crate::clean::CleanText;
use crate::findings::{Finding, Severity};

/// The rule codes that are features.
pub const RULE_CODES: [&str; 8] = ["R101", "R102", "R103", "R104", "R105", "R106", "R107", "R108"];

/// Feature names, in order.
pub const FEATURES: [&str; 23] = [
    "tone:curt",
    "tone:demanding",
    "tone:passive_aggressive",
    "tone:condescending",
    "tone:sarcastic",
    "tone:blame",
    "tone:hostile",
    "tone:shouting",
    "negative",
    "offensive",
    "irony",
    "incivility",
    "negative_emotion",
    "impolite_request",
    "rule:R101",
    "rule:R102",
    "rule:R103",
    "rule:R104",
    "rule:R105",
    "rule:R106",
    "rule:R107",
    "rule:R108",
    "sentences",
];

/// The model's tone findings: which tone reports under which code.
pub const TONE_FINDINGS: [(&str, &str); 7] = [
    ("curt", "M207"),
    ("demanding", "M208"),
    ("passive_aggressive", "M209"),
    ("condescending", "M203"),
    ("hostile", "M203"),
    ("sarcastic", "M204"),
    ("blame", "M210"),
];

/// The fitted risk model (`models/v2/risk.json`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RiskModel {
    /// Feature names, in the order of `weights` (must equal [`FEATURES`]).
    pub features: Vec<String>,
    pub weights: Vec<f32>,
    pub bias: f32,
    /// `M206 misread-risk` fires at or above this message risk.
    pub threshold: f32,
    /// A tone finding fires at or above its threshold (tone name -> probability).
    pub tone_thresholds: BTreeMap<String, f32>,
    /// Severity per code; codes not listed keep their catalogue severity.
    pub severity: BTreeMap<String, Severity>,
}

/// The risk model compiled into this build, when `rapport calibrate` has written one.
#[cfg(rapport_risk_v2)]
const EMBEDDED: Option<&str> = Some(include_str!("../../../../models/v2/risk.json"));
#[cfg(not(rapport_risk_v2))]
const EMBEDDED: Option<&str> = None;

impl RiskModel {
    /// The compiled-in model (None in a build without one).
    pub fn embedded() -> Option<&'static RiskModel> {
        static MODEL: once_cell::sync::Lazy<Option<RiskModel>> = once_cell::sync::Lazy::new(|| {
            EMBEDDED.map(|json| {
                let m: RiskModel = serde_json::from_str(json).expect("models/v2/risk.json is checked at build time by the tests");
                assert_eq!(m.features, FEATURES, "models/v2/risk.json was fitted on other features; run `rapport calibrate`");
                m
            })
        });
        MODEL.as_ref()
    }

    pub fn probability(&self, x: &[f32; FEATURES.len()]) -> f32 {
        let z = self.bias + self.weights.iter().zip(x).map(|(w, x)| w * x).sum::<f32>();
        1.0 / (1.0 + (-z).exp())
    }

    fn severity(&self, code: &str, default: Severity) -> Severity {
        self.severity.get(code).copied().unwrap_or(default)
    }
}

/// How much a sentence counts as prose: `1 − not_prose`, a quarter for a fragment.
pub fn prose_weight(text: &str, s: &SentenceScores) -> f32 {
    let words = text.split_whitespace().filter(|w| w.chars().any(char::is_alphanumeric)).count();
    let fragment = if words < 3 { 0.25 } else { 1.0 };
    (1.0 - s.not_prose).clamp(0.0, 1.0) * fragment
}

/// The features of the sentences `which` (all of them for the message) and the rule findings given.
pub fn features<'a>(clean: &CleanText, scores: &[SentenceScores], which: impl Iterator<Item = usize>, rules: impl Iterator<Item = &'a Finding>) -> [f32; FEATURES.len()] {
    let mut x = [0f32; FEATURES.len()];
    let mut prose = 0f32;
    for i in which {
        let s = &scores[i];
        let w = prose_weight(clean.sentence(i), s);
        prose += w;
        let t = &s.tones;
        let tones = [t.curt, t.demanding, t.passive_aggressive, t.condescending, t.sarcastic, t.blame, t.hostile, t.shouting];
        for (k, v) in tones.iter().enumerate() {
            x[k] = x[k].max(v * w);
        }
        let other = [s.negative, s.offensive, s.irony, s.incivility.max(), s.negative_emotion, s.request * (1.0 - s.politeness)];
        for (k, v) in other.iter().enumerate() {
            x[8 + k] = x[8 + k].max(v * w);
        }
    }
    for f in rules.filter(|f| at_full_strength(f)) {
        if let Some(k) = RULE_CODES.iter().position(|c| *c == f.code) {
            x[14 + k] = 1.0;
        }
    }
    x[22] = (1.0 + prose).ln();
    x
}

/// Whether a rule finding was reported at its code's catalogue severity or above. A rule reports
/// its milder variants below it ("please advise" is an R104 note, many exclamation marks an R102
/// note); those neither count as the code in the risk's features nor take the severity that
/// calibration gave the code.
pub fn at_full_strength(f: &Finding) -> bool {
    crate::rules::explain(f.code).is_none_or(|r| f.severity >= r.default_severity)
}

fn tone_value(t: &Tones, name: &str) -> f32 {
    t.named().iter().find(|(n, _)| *n == name).map(|(_, v)| *v).unwrap_or(0.0)
}

fn tone_label(name: &str) -> String {
    name.replace('_', "-")
}

/// Combine one message's sentence scores and rule findings into its verdict.
pub fn combine(clean: &CleanText, scores: Vec<SentenceScores>, mut rules: Vec<Finding>, model: &RiskModel) -> Assessment {
    let n = scores.len();
    let mut findings = Vec::new();
    let mut tone = Tone::default();
    let mut tones = Tones::default();
    let mut total = 0f32;
    let mut sentence_risk = Vec::with_capacity(n);
    for (i, s) in scores.iter().enumerate() {
        let text = clean.sentence(i);
        let len = clean.sentences[i].len().max(1) as f32;
        tone.negative += s.negative * len;
        tone.neutral += s.neutral * len;
        tone.positive += s.positive * len;
        total += len;
        let w = prose_weight(text, s);
        let weighted = Tones::from_slice(&s.tones.named().map(|(_, v)| v * w));
        tones = tones.max(&weighted);
        let x = features(clean, &scores, std::iter::once(i), rules.iter().filter(|f| f.sentence == i));
        sentence_risk.push(model.probability(&x));
        // Tone findings: the strongest tone per code, on prose that is not a fragment.
        let mut by_code: BTreeMap<&str, (&str, f32)> = BTreeMap::new();
        for (tone_name, code) in TONE_FINDINGS {
            let p = tone_value(&weighted, tone_name);
            let at = model.tone_thresholds.get(tone_name).copied().unwrap_or(f32::INFINITY);
            if w > 0.3 && p >= at && by_code.get(code).is_none_or(|e| p > e.1) {
                by_code.insert(code, (tone_name, p));
            }
        }
        for (code, (tone_name, p)) in by_code {
            let rule = crate::rules::explain(code).expect("tone codes are in the catalogue");
            findings.push(Finding {
                code: rule.code,
                name: rule.name,
                severity: model.severity(code, rule.default_severity),
                message: format!("may read as {} ({:.0}%)", tone_label(tone_name), p * 100.0),
                suggestion: Some(tone_suggestion(tone_name).into()),
                span: clean.sentences[i].clone(),
                sentence: i,
            });
        }
        let mut note = |code: &'static str, p: f32, at: f32, message: String, suggestion: &str| {
            if p * w >= at && w > 0.3 {
                let rule = crate::rules::explain(code).expect("model codes are in the catalogue");
                findings.push(Finding {
                    code: rule.code,
                    name: rule.name,
                    severity: model.severity(code, rule.default_severity),
                    message,
                    suggestion: Some(suggestion.into()),
                    span: clean.sentences[i].clone(),
                    sentence: i,
                });
            }
        };
        note("M201", s.negative, 0.75, format!("reads as negative ({:.0}% negative)", s.negative * 100.0), "say what you will do next, not only what went wrong");
        let impolite = s.request * (1.0 - s.politeness);
        note("M202", impolite, 0.6, format!("a request that reads as impolite ({:.0}% polite)", s.politeness * 100.0), "ask rather than tell: \"Could you ...?\", and say why it matters");
        note("M205", s.negative_emotion, 0.7, format!("carries anger or annoyance ({:.0}%)", s.negative_emotion * 100.0), "let it sit for an hour, or call instead");
    }
    if total > 0.0 {
        tone.negative /= total;
        tone.neutral /= total;
        tone.positive /= total;
    }
    let x = features(clean, &scores, 0..n, rules.iter());
    let risk = if n == 0 && rules.is_empty() { 0.0 } else { model.probability(&x) };
    if risk >= model.threshold {
        if let Some((i, r)) = sentence_risk.iter().copied().enumerate().max_by(|a, b| a.1.total_cmp(&b.1)) {
            let rule = crate::rules::explain("M206").expect("M206 is in the catalogue");
            findings.push(Finding {
                code: rule.code,
                name: rule.name,
                severity: model.severity("M206", rule.default_severity),
                message: format!("this message could be misread (risk {:.0}%); this is its riskiest sentence ({:.0}%)", risk * 100.0, r * 100.0),
                suggestion: Some("reread it as the customer would; if in doubt, call".into()),
                span: clean.sentences[i].clone(),
                sentence: i,
            });
        }
    }
    for f in rules.iter_mut().filter(|f| at_full_strength(f)) {
        f.severity = model.severity(f.code, f.severity);
    }
    findings.append(&mut rules);
    let flagged = findings.iter().any(|f| f.severity >= Severity::Warning);
    findings.sort_by(|a, b| a.span.start.cmp(&b.span.start).then(b.severity.cmp(&a.severity)).then(a.code.cmp(b.code)));
    Assessment { findings, tone, tones, sentence_risk, risk, flagged, scores }
}

fn tone_suggestion(tone: &str) -> &'static str {
    match tone {
        "curt" => "add a line of context and warmth; a bare answer reads as annoyed",
        "demanding" => "ask rather than order, give the reason, and say thanks",
        "passive_aggressive" => "drop the reminder of what they missed; restate what you need, kindly",
        "condescending" | "hostile" => "state the facts and the next step; drop judgements about the reader",
        "sarcastic" => "say it plainly: irony does not survive email",
        "blame" => "describe what happened and what you will do, not whose fault it was",
        _ => "reread it as the customer would",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> RiskModel {
        let mut weights = vec![0.0; FEATURES.len()];
        weights[1] = 6.0; // tone:demanding
        weights[14] = 1.0; // rule:R101
        RiskModel {
            features: FEATURES.iter().map(|s| s.to_string()).collect(),
            weights,
            bias: -3.0,
            threshold: 0.5,
            tone_thresholds: [("demanding".to_string(), 0.5)].into_iter().collect(),
            severity: [("M208".to_string(), Severity::Warning), ("R101".to_string(), Severity::Info)].into_iter().collect(),
        }
    }

    fn text(sentences: &[&str]) -> CleanText {
        CleanText::from_sentences(sentences)
    }

    fn demanding(p: f32) -> SentenceScores {
        SentenceScores { tones: Tones { demanding: p, ..Default::default() }, ..Default::default() }
    }

    #[test]
    fn a_demanding_sentence_is_named_and_flags_the_message() {
        let c = text(&["Hello Sam, thanks for the call.", "Send me the signed contract today."]);
        let a = combine(&c, vec![demanding(0.05), demanding(0.95)], vec![], &model());
        let m208 = a.findings.iter().find(|f| f.code == "M208").expect("a demanding finding");
        assert_eq!((m208.sentence, m208.severity), (1, Severity::Warning));
        assert!(m208.message.contains("demanding"));
        assert!(a.findings.iter().any(|f| f.code == "M206"), "risk {}", a.risk);
        assert!(a.flagged && a.sentence_risk[1] > a.sentence_risk[0]);
        assert!((a.tones.demanding - 0.95).abs() < 1e-6);
    }

    #[test]
    fn non_prose_and_fragments_cannot_reach_a_high_risk_from_the_model_alone() {
        let c = text(&["Director"]);
        let a = combine(&c, vec![demanding(0.99)], vec![], &model());
        assert!(!a.flagged && a.risk < 0.5, "a one-word fragment: risk {}", a.risk);
        let c = text(&["Jeff Dasovich, Director, Government Affairs, 713-853-1234"]);
        let s = SentenceScores { not_prose: 0.98, ..demanding(0.99) };
        let a = combine(&c, vec![s], vec![], &model());
        assert!(!a.flagged && a.findings.is_empty(), "{:?}", a.findings);
    }

    #[test]
    fn the_model_sets_rule_severities() {
        let c = text(&["Please READ this."]);
        let r = Finding { code: "R101", name: "shouting", severity: Severity::Warning, message: "caps".into(), suggestion: None, span: 7..11, sentence: 0 };
        let a = combine(&c, vec![demanding(0.0)], vec![r], &model());
        assert_eq!(a.findings.iter().find(|f| f.code == "R101").unwrap().severity, Severity::Info);
        assert!(!a.flagged);
    }

    #[test]
    fn feature_names_match_the_vector() {
        assert_eq!(FEATURES.len(), 14 + RULE_CODES.len() + 1);
        for (k, code) in RULE_CODES.iter().enumerate() {
            assert_eq!(FEATURES[14 + k], format!("rule:{code}"));
        }
    }
}
