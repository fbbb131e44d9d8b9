//! Tuning, as linters do it: the `[check]` section of the config file and the findings accepted
//! for an account, applied to an assessment's findings after the fact (the verdict itself, the
//! risk and the model are untouched).
//!
//! ```toml
//! [check]
//! ignore = ["R107", "missing-sign-off"]     # codes or names that are never reported
//! fail-on = "error"                         # info, warning, error or never (--fail-on wins)
//! language = "auto"                         # or "en", "de", ... (see crate::language)
//! max-findings-per-sentence = 2             # keep the most severe ones
//!
//! [check.severity]                          # per code or name: info, warning, error or off
//! R105 = "error"
//! M201 = "off"
//! ```
//!
//! The order is fixed: ignored and `off` codes go, configured severities apply, a code accepted
//! for the draft's account (`rapport check --accept CODE`) becomes a note, and the cap per sentence
//! keeps the most severe findings of each sentence.
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::findings::{Finding, Severity};
use crate::language;

/// The `[check]` section as written.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CheckConfig {
    /// Codes or names never reported.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Code or name → `info`, `warning`, `error` or `off`.
    #[serde(default)]
    pub severity: BTreeMap<String, String>,
    /// `info`, `warning`, `error` or `never`.
    pub fail_on: Option<String>,
    /// `auto`, or the language of all your mail.
    pub language: Option<String>,
    /// At most this many findings per sentence (the most severe).
    pub max_findings_per_sentence: Option<usize>,
}

/// When `rapport check` exits 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    At(Severity),
    Never,
}

impl FailOn {
    pub fn fails(self, findings: &[Finding]) -> bool {
        match self {
            FailOn::At(level) => findings.iter().any(|f| f.severity >= level),
            FailOn::Never => false,
        }
    }
}

/// The `[check]` section, validated: every code is in the catalogue.
#[derive(Debug, Clone, Default)]
pub struct Tuning {
    ignore: HashSet<&'static str>,
    /// None: off.
    severity: HashMap<&'static str, Option<Severity>>,
    pub fail_on: Option<FailOn>,
    pub language: language::Setting,
    pub max_per_sentence: Option<usize>,
}

/// The catalogue code of a code or name.
fn code_of(s: &str) -> Option<&'static str> {
    crate::rules::explain(s).map(|r| r.code)
}

fn unknown(key: &str, value: &str) -> String {
    format!("[check] {key}: no finding has the code or name {value:?}; `rapport explain` lists them")
}

fn level(s: &str) -> Option<Option<Severity>> {
    match s.trim().to_ascii_lowercase().as_str() {
        "info" | "note" => Some(Some(Severity::Info)),
        "warning" | "warn" => Some(Some(Severity::Warning)),
        "error" => Some(Some(Severity::Error)),
        "off" | "ignore" | "none" => Some(None),
        _ => None,
    }
}

impl Tuning {
    /// Validate the section; the error names the key and the value, for the config's error message.
    pub fn from_config(c: &CheckConfig) -> Result<Self, String> {
        let mut t = Tuning::default();
        for v in &c.ignore {
            t.ignore.insert(code_of(v).ok_or_else(|| unknown("ignore", v))?);
        }
        for (k, v) in &c.severity {
            let code = code_of(k).ok_or_else(|| unknown("severity", k))?;
            let lvl = level(v).ok_or_else(|| format!("[check] severity: {k} = {v:?}; write \"info\", \"warning\", \"error\" or \"off\""))?;
            t.severity.insert(code, lvl);
        }
        if let Some(f) = &c.fail_on {
            t.fail_on = Some(match level(f) {
                Some(Some(s)) => FailOn::At(s),
                _ if f.trim().eq_ignore_ascii_case("never") => FailOn::Never,
                _ => return Err(format!("[check] fail-on = {f:?}; write \"info\", \"warning\", \"error\" or \"never\"")),
            });
        }
        if let Some(l) = &c.language {
            t.language = language::Setting::parse(l).map_err(|e| format!("[check] language: {e}"))?;
        }
        if c.max_findings_per_sentence == Some(0) {
            return Err("[check] max-findings-per-sentence = 0 would hide every finding; use 1 or more, or leave it out".into());
        }
        t.max_per_sentence = c.max_findings_per_sentence;
        Ok(t)
    }

    /// Apply the tuning to `findings`: [`Tuning::adjust`], then [`Tuning::cap`].
    pub fn apply(&self, findings: Vec<Finding>, accepted: Option<(&str, &BTreeSet<String>)>) -> Vec<Finding> {
        self.cap(self.adjust(findings, accepted))
    }

    /// Drop ignored and `off` codes, set configured severities, and make the codes accepted for the
    /// draft's account (`accepted`: its name and codes) notes that say so.
    pub fn adjust(&self, findings: Vec<Finding>, accepted: Option<(&str, &BTreeSet<String>)>) -> Vec<Finding> {
        let mut out: Vec<Finding> = findings
            .into_iter()
            .filter(|f| !self.ignore.contains(f.code))
            .filter_map(|mut f| {
                if let Some(&lvl) = self.severity.get(f.code) {
                    f.severity = lvl?;
                }
                Some(f)
            })
            .collect();
        if let Some((account, codes)) = accepted {
            for f in out.iter_mut().filter(|f| codes.contains(f.code)) {
                accept(f, account);
            }
        }
        out
    }

    /// Keep the most severe findings of each sentence (the earlier ones among equals) up to the
    /// configured maximum, and sort by position, then code.
    pub fn cap(&self, mut out: Vec<Finding>) -> Vec<Finding> {
        if let Some(max) = self.max_per_sentence {
            let mut by_sentence: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
            for (i, f) in out.iter().enumerate() {
                by_sentence.entry(f.sentence).or_default().push(i);
            }
            let mut keep = vec![false; out.len()];
            for idx in by_sentence.values_mut() {
                idx.sort_by(|&a, &b| out[b].severity.cmp(&out[a].severity).then(a.cmp(&b)));
                for &i in idx.iter().take(max) {
                    keep[i] = true;
                }
            }
            let mut k = keep.into_iter();
            out.retain(|_| k.next().unwrap_or(false));
        }
        out.sort_by(|a, b| a.span.start.cmp(&b.span.start).then_with(|| a.code.cmp(b.code)));
        out
    }
}

/// Turn a finding into a note accepted for `account`.
pub fn accept(f: &mut Finding, account: &str) {
    f.severity = Severity::Info;
    f.message = format!("{} (accepted for {account})", f.message);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(code: &'static str, severity: Severity, sentence: usize, start: usize) -> Finding {
        let rule = crate::rules::explain(code).unwrap();
        Finding { code, name: rule.name, severity, message: format!("{code} here"), suggestion: None, span: start..start + 3, sentence }
    }

    fn cfg(toml_text: &str) -> Result<Tuning, String> {
        #[derive(serde::Deserialize)]
        struct Wrap {
            check: CheckConfig,
        }
        let w: Wrap = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        Tuning::from_config(&w.check)
    }

    #[test]
    fn ignore_severity_and_off_by_code_or_name() {
        let t = cfg("[check]\nignore = [\"missing-greeting\"]\n[check.severity]\nR105 = \"error\"\nnegative-tone = \"off\"\n").unwrap();
        let out = t.apply(
            vec![f("R107", Severity::Info, 0, 0), f("R105", Severity::Warning, 1, 10), f("M201", Severity::Info, 1, 12), f("R104", Severity::Warning, 2, 20)],
            None,
        );
        let got: Vec<(&str, Severity)> = out.iter().map(|f| (f.code, f.severity)).collect();
        assert_eq!(got, [("R105", Severity::Error), ("R104", Severity::Warning)]);
    }

    #[test]
    fn accepted_codes_become_notes_for_that_account_only() {
        let t = Tuning::default();
        let codes: BTreeSet<String> = ["R104".to_string()].into();
        let out = t.apply(vec![f("R104", Severity::Warning, 0, 0), f("R105", Severity::Warning, 0, 5)], Some(("fabrikam.com", &codes)));
        assert_eq!(out[0].severity, Severity::Info);
        assert!(out[0].message.ends_with("(accepted for fabrikam.com)"));
        assert_eq!(out[1].severity, Severity::Warning);
        let elsewhere = t.apply(vec![f("R104", Severity::Warning, 0, 0)], None);
        assert_eq!(elsewhere[0].severity, Severity::Warning);
    }

    #[test]
    fn the_cap_keeps_the_most_severe_findings_of_each_sentence() {
        let t = cfg("[check]\nmax-findings-per-sentence = 1\n").unwrap();
        let out = t.apply(
            vec![f("R107", Severity::Info, 0, 0), f("R101", Severity::Warning, 0, 4), f("R102", Severity::Warning, 0, 8), f("M201", Severity::Info, 1, 20)],
            None,
        );
        let got: Vec<&str> = out.iter().map(|f| f.code).collect();
        assert_eq!(got, ["R101", "M201"]);
    }

    #[test]
    fn fail_on_and_language() {
        let t = cfg("[check]\nfail-on = \"never\"\nlanguage = \"de\"\n").unwrap();
        assert_eq!(t.fail_on, Some(FailOn::Never));
        assert!(!FailOn::Never.fails(&[f("R101", Severity::Error, 0, 0)]));
        assert!(FailOn::At(Severity::Warning).fails(&[f("R101", Severity::Warning, 0, 0)]));
        assert_eq!(t.language, language::Setting::Fixed(whatlang::Lang::Deu));
        assert_eq!(cfg("[check]\nfail-on = \"error\"\n").unwrap().fail_on, Some(FailOn::At(Severity::Error)));
    }

    #[test]
    fn mistakes_name_the_key_and_the_value() {
        for (text, want) in [
            ("[check]\nignore = [\"R999\"]\n", "ignore: no finding has the code or name \"R999\""),
            ("[check.severity]\nR101 = \"loud\"\n", "R101 = \"loud\""),
            ("[check.severity]\nX1 = \"info\"\n", "severity: no finding has the code or name \"X1\""),
            ("[check]\nfail-on = \"sometimes\"\n", "fail-on = \"sometimes\""),
            ("[check]\nlanguage = \"elvish\"\n", "language: \"elvish\""),
            ("[check]\nmax-findings-per-sentence = 0\n", "max-findings-per-sentence = 0"),
            ("[check]\nignores = []\n", "unknown field `ignores`"),
        ] {
            let err = cfg(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
    }
}
