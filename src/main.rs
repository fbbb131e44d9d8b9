//! The thin binary: parse the command line, run, map the outcome to an exit code.
use clap::Parser;

/// libtorch allocates and frees large buffers (attention scores, activations) on every forward
/// pass. glibc serves blocks over its mmap threshold with fresh mmap/munmap calls, so each pass
/// page-faults its memory in again: measured, a fifth of an audit's time went to the kernel.
/// Serving them from the heap and keeping freed memory (up to the limits below) removes that:
/// a 1,000-message audit went from 12.7 s to 9.9 s at the same peak RSS (bench/README.md).
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes glibc's allocation thresholds; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 512 << 20);
    }
}

fn main() {
    tune_allocator();
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
