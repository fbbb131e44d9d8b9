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
    let model = std::env::var("RAPPORT_BAKED_MODEL_DIR").unwrap_or_default();
    println!("cargo:rustc-env=RAPPORT_BAKED_MODEL_DIR={model}");
}
