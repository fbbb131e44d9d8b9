//! `rapport check` end to end: the real binary, the real model.
use std::process::Command;

use crate::{bin, repo};

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(bin()).current_dir(repo()).args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_rude_draft_is_flagged_with_its_spans() {
    let (code, out, err) = run(&["check", "--format", "json", "examples/drafts/rude.eml"]);
    assert_eq!(code, Some(1), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["flagged"], true);
    let findings = v["findings"].as_array().unwrap();
    let codes: Vec<&str> = findings.iter().map(|f| f["code"].as_str().unwrap()).collect();
    for want in ["R101", "R104", "R105", "R106"] {
        assert!(codes.contains(&want), "{want} missing from {codes:?}");
    }
    let body = "Marc,\n\nAs per my last email, the invoice is overdue. You failed to pay it on time\nAGAIN. Send the payment immediately!!\n\nDana\n";
    for f in findings {
        // Every finding carries the documented fields, and its span points into its sentence.
        for key in ["code", "name", "severity", "message", "span", "sentence"] {
            assert!(!f[key].is_null(), "{key} missing in {f}");
        }
        let [s, e] = [f["body_span"][0].as_u64().unwrap() as usize, f["body_span"][1].as_u64().unwrap() as usize];
        assert!(e <= body.len() && s < e, "{f}");
    }
    let r104 = findings.iter().find(|f| f["code"] == "R104").unwrap();
    let [s, e] = [r104["body_span"][0].as_u64().unwrap() as usize, r104["body_span"][1].as_u64().unwrap() as usize];
    assert_eq!(body[s..e].to_lowercase(), "as per my last email");
    let tone = &v["tone"];
    let sum = tone["negative"].as_f64().unwrap() + tone["neutral"].as_f64().unwrap() + tone["positive"].as_f64().unwrap();
    assert!((sum - 1.0).abs() < 1e-3, "{tone}");
}

#[test]
fn the_friendly_draft_passes() {
    let (code, out, err) = run(&["check", "--format", "json", "examples/drafts/friendly.eml"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["flagged"], false, "{out}");
    assert!(v["tone"]["negative"].as_f64().unwrap() < 0.3, "{out}");
}

#[test]
fn text_output_highlights_the_span_in_its_sentence() {
    let (code, out, _) = run(&["check", "--color", "never", "examples/drafts/rude.eml"]);
    assert_eq!(code, Some(1));
    // The phrase is a note (its precision on labelled mail is low); the message as a whole is
    // flagged by its misread risk.
    assert!(out.contains("info[R104] passive-aggressive"), "{out}");
    assert!(out.contains("warning[M206] misread-risk"), "{out}");
    assert!(out.contains("--> examples/drafts/rude.eml:3:1"), "{out}");
    // The caret line underlines exactly the phrase.
    let lines: Vec<&str> = out.lines().collect();
    let i = lines.iter().position(|l| l.contains("As per my last email, the invoice is overdue.")).unwrap();
    assert!(lines[i + 1].ends_with(&"^".repeat("As per my last email".len())), "{}", lines[i + 1]);
}

#[test]
fn fail_on_sets_the_threshold() {
    let (code, _, _) = run(&["check", "--fail-on", "error", "--quiet", "examples/drafts/friendly.eml"]);
    assert_eq!(code, Some(0));
    let (code, out, _) = run(&["check", "--fail-on", "info", "--quiet", "examples/drafts/rude.eml"]);
    assert_eq!(code, Some(1));
    assert!(out.is_empty(), "--quiet prints nothing");
}

#[test]
fn stdin_and_plain_text() {
    let mut child = Command::new(bin())
        .args(["check", "--text", "--format", "json", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"Fine.\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["findings"].as_array().unwrap().iter().any(|f| f["code"] == "R103"), "{v}");
}

#[test]
fn a_missing_or_corrupt_model_names_the_file_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .env("RAPPORT_MODEL_DIR", dir.path())
        .args(["check", "examples/drafts/friendly.eml"])
        .current_dir(repo())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("model.safetensors") && err.contains("make setup"), "{err}");

    // A copy of the real encoder with one byte changed in the weights.
    let real = rapport_model::default_model_dir(None);
    for f in ["config.json", "tokenizer.json", "model.safetensors"] {
        std::fs::copy(real.join(f), dir.path().join(f)).unwrap();
    }
    let weights = dir.path().join("model.safetensors");
    let mut bytes = std::fs::read(&weights).unwrap();
    let n = bytes.len();
    bytes[n - 10] ^= 0x55;
    std::fs::write(&weights, bytes).unwrap();
    let out = Command::new(bin())
        .env("RAPPORT_MODEL_DIR", dir.path())
        .args(["check", "examples/drafts/friendly.eml"])
        .current_dir(repo())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("model.safetensors") && err.contains("sha256"), "{err}");
}

#[test]
fn bf16_and_f32_agree_on_the_example_drafts() {
    // `--precision auto` picks bf16 on CPUs with native bfloat16; it must not change verdicts.
    for draft in ["examples/drafts/rude.eml", "examples/drafts/friendly.eml"] {
        let v: Vec<serde_json::Value> = ["f32", "bf16"]
            .iter()
            .map(|p| {
                let (_, out, err) = run(&["check", "--format", "json", "--precision", p, draft]);
                serde_json::from_str(&out).unwrap_or_else(|e| panic!("{draft} --precision {p}: {e}\n{err}"))
            })
            .collect();
        let risk = |j: &serde_json::Value| j["risk"].as_f64().unwrap();
        assert!((risk(&v[0]) - risk(&v[1])).abs() < 0.02, "{draft}: risk f32 {} vs bf16 {}", risk(&v[0]), risk(&v[1]));
        assert_eq!(v[0]["flagged"], v[1]["flagged"], "{draft}");
        let warnings = |j: &serde_json::Value| -> Vec<String> {
            j["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["severity"] != "info")
                .map(|f| format!("{} {}", f["code"], f["span"]))
                .collect()
        };
        assert_eq!(warnings(&v[0]), warnings(&v[1]), "{draft}: findings above info differ");
    }
}
