//! The thin binary: parse the command line, run, map the outcome to an exit code.
use clap::Parser;

/// libtorch allocates and frees large buffers (attention scores, activations) on every forward
/// pass. glibc serves blocks over its mmap threshold with fresh mmap/munmap calls, so each pass
/// page-faults its memory in again: measured, a fifth of an audit's time went to the kernel.
/// Serving them from the heap and keeping freed memory (up to the limits below) removes that:
/// a 1,000-message audit went from 12.7 s to 9.9 s at the same peak RSS (bench/README.md).
fn tune_allocator() {
    // A user's own glibc tuning wins.
    if ["GLIBC_TUNABLES", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_ARENA_MAX"]
        .iter()
        .any(|v| std::env::var_os(v).is_some())
    {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes glibc's allocation thresholds; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 512 << 20);
    }
}

/// oneDNN (libtorch's CPU matmul backend) keeps a JIT-compiled kernel for every input shape it
/// has seen, up to 1,024 of them. Length-sorted batches come in many shapes, so an audit's memory
/// grew with its size (peak RSS 478 MB at 1k messages, 797 MB at 10k) until the cache filled.
/// Eight kernels keep it flat (478 MB at 3k messages) at no measurable cost in time.
fn bound_kernel_cache() {
    const VAR: &str = "ONEDNN_PRIMITIVE_CACHE_CAPACITY";
    if std::env::var_os(VAR).is_none() {
        // Before any thread starts and before oneDNN reads it (at its first kernel).
        std::env::set_var(VAR, "8");
    }
}

fn main() {
    tune_allocator();
    bound_kernel_cache();
    let cli = rapport::cli::Cli::parse();
    let code = match rapport::run(cli) {
        Ok(code) => code,
        Err(e) => {
            if rapport::is_broken_pipe(&e) {
                0
            } else {
                eprintln!("rapport: error: {e:#}");
                2
            }
        }
    };
    std::process::exit(code);
}
