//! rapport-bench links rapport-model (for its constants): give it the rpath to libtorch.
fn main() {
    println!("cargo:rerun-if-env-changed=RAPPORT_TORCH_LIB");
    if let Ok(dir) = std::env::var("RAPPORT_TORCH_LIB") {
        if !dir.is_empty() {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        }
    }
}
