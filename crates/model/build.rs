//! Bakes where libtorch and the encoder live into `rapport-model`, so that users never set
//! LD_LIBRARY_PATH or RAPPORT_MODEL_DIR (both paths come from `setup/setup.sh`), and compiles in
//! the trained heads that are present under models/.
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=RAPPORT_TORCH_LIB");
    println!("cargo:rerun-if-env-changed=RAPPORT_BAKED_MODEL_DIR");
    match std::env::var("RAPPORT_TORCH_LIB") {
        Ok(dir) if !dir.is_empty() => {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
            println!("cargo:rustc-env=RAPPORT_TORCH_LIB={dir}");
        }
        _ => println!(
            "cargo:warning=RAPPORT_TORCH_LIB is not set: rapport-model will need LD_LIBRARY_PATH to find libtorch. Build through `make` (it runs setup/setup.sh)."
        ),
    }
    let model = std::env::var("RAPPORT_BAKED_MODEL_DIR").unwrap_or_default();
    println!("cargo:rustc-env=RAPPORT_BAKED_MODEL_DIR={model}");
    let models = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../models");
    for (cfg, file) in [
        ("rapport_heads_v1", "tone-heads.safetensors"),
        ("rapport_v2", "v2/heads.safetensors"),
        ("rapport_v2_layers", "v2/encoder-layers.safetensors"),
    ] {
        println!("cargo:rustc-check-cfg=cfg({cfg})");
        let path = models.join(file);
        println!("cargo:rerun-if-changed={}", path.display());
        let v2_complete = cfg != "rapport_v2" || models.join("v2/heads.json").exists();
        if path.exists() && v2_complete {
            println!("cargo:rustc-cfg={cfg}");
        }
    }
    println!("cargo:rerun-if-changed={}", models.join("v2/heads.json").display());
}
