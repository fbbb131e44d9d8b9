//! The `rapport` binary links no libtorch. Its tests and benches do (through rapport-model, a
//! dev-dependency): give them the rpath to the libtorch that `setup/setup.sh` installed, so that
//! nobody sets LD_LIBRARY_PATH.
fn main() {
    println!("cargo:rerun-if-env-changed=RAPPORT_TORCH_LIB");
    if let Ok(dir) = std::env::var("RAPPORT_TORCH_LIB") {
        if !dir.is_empty() {
            println!("cargo:rustc-link-arg-tests=-Wl,-rpath,{dir}");
            println!("cargo:rustc-link-arg-benches=-Wl,-rpath,{dir}");
        }
    }
}
