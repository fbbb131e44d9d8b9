//! A fingerprint of everything that decides a verdict (cleaning, rules, the risk model, the
//! heads and how the encoder pools): cached verdicts made by another build are recomputed, not
//! reused. The binary that talks to the model and the model process compute the same id, and the
//! client checks that they agree.
use std::path::PathBuf;

fn main() {
    let here = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).canonicalize().expect("the crate's folder");
    // Names are hashed relative to the workspace root, so that two checkouts of the same code
    // agree (and rapport and rapport-model agree whichever built first).
    let root = here.join("../..").canonicalize().expect("the workspace root");
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in ["src/clean", "src/rules", "src/verdict"] {
        let dir = here.join(dir);
        println!("cargo:rerun-if-changed={}", dir.display());
        if let Ok(entries) = std::fs::read_dir(&dir) {
            files.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()));
        }
    }
    let models = root.join("models");
    println!("cargo:rerun-if-changed={}", models.display());
    for f in ["tone-heads.safetensors", "calibration/risk-weights.json", "v2/encoder-layers.safetensors", "v2/heads.safetensors", "v2/risk.json"] {
        files.push(models.join(f));
    }
    files.push(root.join("crates/model/src/encoder.rs"));
    files.sort();
    let mut h: u64 = 0xcbf29ce484222325; // FNV-1a over names and contents
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.strip_prefix(&root).unwrap_or(f).to_string_lossy().into_owned();
        for b in name.bytes().chain(std::fs::read(f).unwrap_or_default()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
        }
    }
    println!("cargo:rustc-env=RAPPORT_VERDICT_FINGERPRINT={h:016x}");
    // The v2 risk model fitted by `rapport calibrate` is compiled in when present.
    println!("cargo:rustc-check-cfg=cfg(rapport_risk_v2)");
    if models.join("v2/risk.json").exists() {
        println!("cargo:rustc-cfg=rapport_risk_v2");
    }
    // v1 risk weights fitted by the old `rapport calibrate`, when present.
    println!("cargo:rustc-check-cfg=cfg(rapport_calibrated)");
    if models.join("calibration/risk-weights.json").exists() {
        println!("cargo:rustc-cfg=rapport_calibrated");
    }
}
