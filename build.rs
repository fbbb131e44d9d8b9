//! Bakes where libtorch and the encoder live into the binary, so that users never set
//! LD_LIBRARY_PATH or RAPPORT_MODEL_DIR. Both paths come from `setup/setup.sh`.
fn main() {
    println!("cargo:rerun-if-env-changed=RAPPORT_TORCH_LIB");
    println!("cargo:rerun-if-env-changed=RAPPORT_BAKED_MODEL_DIR");
    match std::env::var("RAPPORT_TORCH_LIB") {
        Ok(dir) if !dir.is_empty() => {
            // rpath for every binary, test and bench this package links.
            println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
            println!("cargo:rustc-env=RAPPORT_TORCH_LIB={dir}");
        }
        _ => println!(
            "cargo:warning=RAPPORT_TORCH_LIB is not set: the binary will need LD_LIBRARY_PATH to find libtorch. Build through `make` (it runs setup/setup.sh)."
        ),
    }
    // The trained heads are compiled in when present (they are committed under models/).
    println!("cargo:rustc-check-cfg=cfg(rapport_heads)");
    println!("cargo:rerun-if-changed=models/tone-heads.safetensors");
    if std::path::Path::new("models/tone-heads.safetensors").exists() {
        println!("cargo:rustc-cfg=rapport_heads");
    }
    println!("cargo:rustc-check-cfg=cfg(rapport_calibrated)");
    println!("cargo:rerun-if-changed=models/calibration/risk-weights.json");
    if std::path::Path::new("models/calibration/risk-weights.json").exists() {
        println!("cargo:rustc-cfg=rapport_calibrated");
    }
    // A fingerprint of everything that decides a verdict (cleaning, rules, the risk model, the
    // heads): cached verdicts made by another build are recomputed, not reused.
    let mut files = Vec::new();
    for dir in ["src/clean", "src/rules"] {
        println!("cargo:rerun-if-changed={dir}");
        if let Ok(entries) = std::fs::read_dir(dir) {
            files.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()));
        }
    }
    files.extend(["src/tone.rs", "src/score/encoder.rs", "models/tone-heads.safetensors", "models/calibration/risk-weights.json"].map(std::path::PathBuf::from));
    files.sort();
    let mut h: u64 = 0xcbf29ce484222325; // FNV-1a
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        for b in f.to_string_lossy().bytes().chain(std::fs::read(f).unwrap_or_default()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
        }
    }
    println!("cargo:rustc-env=RAPPORT_VERDICT_FINGERPRINT={h:016x}");
    let model = std::env::var("RAPPORT_BAKED_MODEL_DIR").unwrap_or_default();
    println!("cargo:rustc-env=RAPPORT_BAKED_MODEL_DIR={model}");
}
