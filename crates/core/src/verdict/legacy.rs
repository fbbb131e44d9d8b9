//! The v1 verdict (rapport 0.1): kept so that `rapport eval` can show the model this release
//! replaced beside the new one, and used when a build has no v2 risk model. It combines the v1
//! model's sentence scores with the rules into findings and a **misread risk** per sentence and
//! per message.
//!
//! Risk of one sentence (a logistic model over the signals; weights in [`RiskWeights`], fitted
//! by `rapport calibrate` where labelled mail is available, see `models/README.md`):
//!
//! ```text
//! z = bias + w_neg·negative + w_impolite·request·(1−politeness) + w_uncivil·incivility
//!       + w_sarcasm·sarcastic + w_emotion·negative_emotion + w_rule·Σ rule severities
//! risk = 1 / (1 + e^−z)
//! ```
//!
//! The message's risk is the highest sentence risk; at [`FLAG_THRESHOLD`] or above it adds the
//! warning `M206 misread-risk`. A message is **flagged** when it has any finding of severity
//! warning or above: exactly when `rapport check` at its default `--fail-on warning` exits 1, and
//! the `flagged` that `rapport score` and `rapport audit` report.
use crate::clean::CleanText;
use crate::findings::{Finding, Severity};

use super::SentenceScores;

/// Message risk at or above this adds the warning `M206 misread-risk` (and so flags the message).
/// Chosen on 300 Enron sent bodies labelled twice against `models/calibration/RUBRIC.md`: the
/// best F1 of `flagged` against the agreed labels among 0.5-0.9 (see `models/README.md`).
pub const FLAG_THRESHOLD: f32 = 0.9;

/// Weights of the risk model.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct RiskWeights {
    pub bias: f32,
    pub negative: f32,
    pub impolite: f32,
    pub uncivil: f32,
    pub sarcasm: f32,
    pub emotion: f32,
    pub rule: f32,
}

/// Hand-set starting weights: any one strong signal (an uncivil or sarcastic sentence, a
/// shouted demand) crosses the threshold on its own; plain bad news does not. Used until
/// `rapport calibrate` has written `models/calibration/risk-weights.json`.
pub const HAND_SET_WEIGHTS: RiskWeights = RiskWeights {
    bias: -4.0,
    negative: 1.5,
    impolite: 2.5,
    uncivil: 5.0,
    sarcasm: 4.5,
    emotion: 2.0,
    rule: 2.2,
};

/// The weights fitted by `rapport calibrate` on labelled real mail, compiled in.
#[cfg(rapport_calibrated)]
const CALIBRATED: Option<&str> = Some(include_str!("../../../../models/calibration/risk-weights.json"));
#[cfg(not(rapport_calibrated))]
const CALIBRATED: Option<&str> = None;

/// The weights in use: the calibrated ones when present, else [`HAND_SET_WEIGHTS`].
pub static DEFAULT_WEIGHTS: once_cell::sync::Lazy<RiskWeights> = once_cell::sync::Lazy::new(|| {
    CALIBRATED
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or(HAND_SET_WEIGHTS)
});

fn severity_weight(s: Severity) -> f32 {
    match s {
        Severity::Info => 0.3,
        Severity::Warning => 1.0,
        Severity::Error => 2.0,
    }
}

/// The signals of one sentence, in the order of the weights: negative, impolite request,
/// incivility, sarcasm, negative emotion, and the rules' severities (info 0.3, warning 1,
/// error 2; summed, at most 3).
pub fn sentence_signals(s: &SentenceScores, rules: &[&Finding]) -> [f32; 6] {
    let rule: f32 = rules.iter().map(|f| severity_weight(f.severity)).sum::<f32>().min(3.0);
    [
        s.negative,
        s.request * (1.0 - s.politeness),
        s.incivility.max(),
        s.incivility.sarcastic,
        s.negative_emotion,
        rule,
    ]
}

/// Risk of one sentence.
pub fn sentence_risk(s: &SentenceScores, rules: &[&Finding], w: &RiskWeights) -> f32 {
    let x = sentence_signals(s, rules);
    let z = w.bias
        + w.negative * x[0]
        + w.impolite * x[1]
        + w.uncivil * x[2]
        + w.sarcasm * x[3]
        + w.emotion * x[4]
        + w.rule * x[5];
    1.0 / (1.0 + (-z).exp())
}

use super::{Assessment, Tone};

/// Thresholds at which a head's score becomes a finding. The model's own findings are notes
/// (severity info): on labelled real business mail none of them separated misreadable messages
/// well enough to block a send on its own (precision under 0.2 at every threshold tried); they
/// count toward the risk, and the risk flags through `M206`.
pub mod thresholds {
    pub const NEGATIVE_INFO: f32 = 0.75;
    pub const IMPOLITE_REQUEST: f32 = 0.60;
    pub const POLITENESS_LOW: f32 = 0.25;
    pub const UNCIVIL: f32 = 0.50;
    pub const SARCASTIC: f32 = 0.50;
    pub const EMOTION: f32 = 0.70;
}

fn model_findings(clean: &CleanText, i: usize, s: &SentenceScores) -> Vec<Finding> {
    use thresholds::*;
    let span = clean.sentences[i].clone();
    let mut out = Vec::new();
    let mut push = |code, name, severity, message: String, suggestion: &str| {
        out.push(Finding {
            code,
            name,
            severity,
            message,
            suggestion: Some(suggestion.to_string()),
            span: span.clone(),
            sentence: i,
        })
    };
    if s.negative >= NEGATIVE_INFO {
        push(
            "M201",
            "negative-tone",
            Severity::Info,
            format!("reads as negative ({:.0}% negative)", s.negative * 100.0),
            "say what you will do next, not only what went wrong",
        );
    }
    if s.request >= IMPOLITE_REQUEST && s.politeness <= POLITENESS_LOW {
        push(
            "M202",
            "impolite-request",
            Severity::Info,
            format!("a request that reads as impolite ({:.0}% polite)", s.politeness * 100.0),
            "ask rather than tell: \"Could you ...?\", and say why it matters",
        );
    }
    let uncivil = [
        ("condescending", s.incivility.condescending),
        ("dismissive", s.incivility.dismissive),
        ("hostile", s.incivility.hostile),
        ("antagonizing", s.incivility.antagonize),
    ];
    if let Some((what, p)) = uncivil
        .iter()
        .copied()
        .filter(|(_, p)| *p >= UNCIVIL)
        .max_by(|a, b| a.1.total_cmp(&b.1))
    {
        push(
            "M203",
            "uncivil",
            Severity::Info,
            format!("may read as {what} ({:.0}%)", p * 100.0),
            "state the facts and the next step; drop judgements about the reader",
        );
    }
    if s.incivility.sarcastic >= SARCASTIC {
        push(
            "M204",
            "sarcastic",
            Severity::Info,
            format!("may read as sarcastic ({:.0}%)", s.incivility.sarcastic * 100.0),
            "say it plainly: irony does not survive email",
        );
    }
    if s.negative_emotion >= EMOTION {
        push(
            "M205",
            "negative-emotion",
            Severity::Info,
            format!("carries anger or annoyance ({:.0}%)", s.negative_emotion * 100.0),
            "let it sit for an hour, or call instead",
        );
    }
    out
}

/// Combine scores and rule findings into the verdict on one message.
/// Combine one message's sentence scores and rule findings into its verdict. Callers go through
/// [`super::Assessor`], which scores the sentences and runs the rules first.
pub fn combine(clean: &CleanText, scores: Vec<SentenceScores>, mut rules: Vec<Finding>, w: &RiskWeights) -> Assessment {
    let mut risks = Vec::with_capacity(scores.len());
    let mut tone = Tone::default();
    let mut total = 0f32;
    let mut findings = Vec::new();
    for (i, s) in scores.iter().enumerate() {
        let in_sentence: Vec<&Finding> = rules.iter().filter(|f| f.sentence == i).collect();
        risks.push(sentence_risk(s, &in_sentence, w));
        let len = clean.sentences[i].len().max(1) as f32;
        tone.negative += s.negative * len;
        tone.neutral += s.neutral * len;
        tone.positive += s.positive * len;
        total += len;
        findings.extend(model_findings(clean, i, s));
    }
    // Rules about the whole message (greeting, sign-off, curt reply) count toward its risk too.
    let message_rules: Vec<&Finding> = rules.iter().filter(|f| f.sentence >= scores.len()).collect();
    let mut risk = risks.iter().copied().fold(0.0, f32::max);
    if !message_rules.is_empty() {
        risk = risk.max(sentence_risk(&SentenceScores::default(), &message_rules, w));
    }
    if total > 0.0 {
        tone.negative /= total;
        tone.neutral /= total;
        tone.positive /= total;
    }
    if risk >= FLAG_THRESHOLD {
        if let Some((i, r)) = risks
            .iter()
            .copied()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(&b.1))
        {
            findings.push(Finding {
                code: "M206",
                name: "misread-risk",
                severity: Severity::Warning,
                message: format!("this message could be misread (risk {:.0}%); this is its riskiest sentence", r * 100.0),
                suggestion: Some("reread it as the customer would; if in doubt, call".into()),
                span: clean.sentences[i].clone(),
                sentence: i,
            });
        }
    }
    findings.append(&mut rules);
    let flagged = findings.iter().any(|f| f.severity >= Severity::Warning);
    findings.sort_by(|a, b| {
        a.span
            .start
            .cmp(&b.span.start)
            .then(b.severity.cmp(&a.severity))
            .then(a.code.cmp(b.code))
    });
    Assessment {
        findings,
        tone,
        tones: Default::default(),
        sentence_risk: risks,
        risk,
        flagged,
        scores,
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    fn text(sentences: &[&str]) -> CleanText {
        CleanText::from_sentences(sentences)
    }

    fn calm() -> SentenceScores {
        SentenceScores { neutral: 0.8, positive: 0.15, negative: 0.05, politeness: 0.7, ..Default::default() }
    }

    #[test]
    fn calm_text_is_not_flagged_and_tone_is_a_distribution() {
        let c = text(&["Thanks for the drawings.", "They look good."]);
        let a = combine(&c, vec![calm(), calm()], vec![], &DEFAULT_WEIGHTS);
        assert!(!a.flagged && a.findings.is_empty());
        assert!(a.risk < 0.1, "{}", a.risk);
        assert!((a.tone.negative + a.tone.neutral + a.tone.positive - 1.0).abs() < 1e-5);
    }

    #[test]
    fn a_hostile_sentence_gets_a_model_finding_and_high_risk() {
        let c = text(&["Hello.", "This is the stupidest thing I have read."]);
        let hostile = SentenceScores {
            negative: 0.97,
            incivility: super::super::Incivility { hostile: 0.9, condescending: 0.6, ..Default::default() },
            negative_emotion: 0.8,
            ..Default::default()
        };
        let a = combine(&c, vec![calm(), hostile], vec![], &DEFAULT_WEIGHTS);
        let codes: Vec<&str> = a.findings.iter().map(|f| f.code).collect();
        assert!(codes.contains(&"M203") && codes.contains(&"M206") && codes.contains(&"M201"), "{codes:?}");
        assert!(a.flagged);
        assert!(a.sentence_risk[1] > 0.9 && a.sentence_risk[0] < 0.1);
        let m206 = a.findings.iter().find(|f| f.code == "M206").unwrap();
        assert_eq!(m206.sentence, 1);
        assert!(a.findings.iter().find(|f| f.code == "M203").unwrap().message.contains("hostile"));
    }

    #[test]
    fn a_warning_rule_flags_the_message_and_raises_its_sentence_risk() {
        let c = text(&["Fine."]);
        let rule = Finding {
            code: "R103",
            name: "curt-reply",
            severity: Severity::Warning,
            message: "curt".into(),
            suggestion: None,
            span: 0..5,
            sentence: 0,
        };
        let without = combine(&c, vec![calm()], vec![], &DEFAULT_WEIGHTS);
        let with = combine(&c, vec![calm()], vec![rule], &DEFAULT_WEIGHTS);
        assert!(!without.flagged && with.flagged);
        assert!(with.risk > without.risk);
    }

    #[test]
    fn findings_are_sorted_by_position() {
        let c = text(&["One.", "Two."]);
        let f = |code: &'static str, span: std::ops::Range<usize>, sentence| Finding {
            code,
            name: "x",
            severity: Severity::Info,
            message: String::new(),
            suggestion: None,
            span,
            sentence,
        };
        let a = combine(&c, vec![calm(), calm()], vec![f("R108", 5..9, 1), f("R107", 0..4, 0)], &DEFAULT_WEIGHTS);
        let codes: Vec<&str> = a.findings.iter().map(|f| f.code).collect();
        assert_eq!(codes, ["R107", "R108"]);
    }
}
