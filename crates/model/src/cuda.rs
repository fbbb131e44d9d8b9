//! CUDA on demand. rapport links libtorch's CPU library only, so that `rapport check` starts in a
//! fraction of a second (setup/setup.sh explains the CPU view of the wheel). `--device cuda` loads
//! the wheel's `libtorch_cuda.so` (which registers libtorch's CUDA backend as it loads) from the
//! same folder as the linked libtorch, once, before the first CUDA call.
use std::path::PathBuf;
use std::sync::OnceLock;

static LOADED: OnceLock<Result<(), String>> = OnceLock::new();

/// The folder of the libtorch the binary was built against (baked in by build.rs).
fn torch_lib_dir() -> Option<PathBuf> {
    option_env!("RAPPORT_TORCH_LIB").filter(|s| !s.is_empty()).map(PathBuf::from)
}

/// Load libtorch's CUDA backend. Errors say what is missing.
pub fn ensure_loaded() -> Result<(), String> {
    LOADED
        .get_or_init(|| {
            let dir = torch_lib_dir().ok_or("this build does not know where libtorch is; rebuild with `make build`")?;
            let lib = dir.join("libtorch_cuda.so");
            if !lib.exists() {
                return Err(format!("{} does not exist: this libtorch has no CUDA support", lib.display()));
            }
            // SAFETY: loading libtorch's own CUDA library; its initialisers only register the CUDA
            // backend with the already loaded libtorch_cpu. The handle is kept for the process.
            let handle = unsafe {
                libloading::os::unix::Library::open(
                    Some(&lib),
                    libloading::os::unix::RTLD_NOW | libloading::os::unix::RTLD_GLOBAL,
                )
            }
            .map_err(|e| format!("cannot load {}: {e}", lib.display()))?;
            std::mem::forget(handle);
            Ok(())
        })
        .clone()
}
