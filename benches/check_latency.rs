//! What a mail-client hook waits for, process start to exit, before and after in one run:
//! `rapport check` on a 200-word draft, `rapport --version` and `rapport explain R101`.
//!
//! * after: this build. `rapport check` warm is answered by a resident scorer (`rapport serve`);
//!   cold has none, so it starts its own `rapport-model`, with the programs, libtorch and the
//!   encoder evicted from the page cache first (posix_fadvise; pages another process maps stay,
//!   and the share that stayed is printed).
//! * before: the previous release, which loads libtorch in every `rapport` process: the binary at
//!   `$RAPPORT_BASELINE`, else `~/.cache/rapport/baseline/rapport-v1-d9481fd` (the column is left
//!   out when there is none). Its warm check has the files in the page cache.
//!
//! Targets (issue 14): check p50 under 100 ms warm and 600 ms cold; commands that need no model
//! under 50 ms.
//!
//! `cargo bench --bench check_latency` (add `-- --runs N` for more runs; cold runs are at most 10).
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
proud of the result. Our quality team also asked me to thank your receiving staff for their
careful inspection reports. We would love to show you the line when you visit Columbus in December. If
the timing works, we could also walk through next year's forecast together and agree on a
schedule that gives your planners more notice.

Could you let me know by Wednesday whether the payment is on its way? If something is blocking
it on your side, tell me and I will do what I can to help. Going forward, please send purchase
orders to orders@northwind-supply.com rather than to me directly, so nothing gets lost while I am
travelling.

Best regards,
Dana
";


/// Drop a file's pages from the page cache (no root needed): the next read comes from disk.
fn evict(path: &Path) {
    if let Ok(f) = std::fs::File::open(path) {
        use std::os::fd::AsRawFd;
        // SAFETY: an advisory call on a file descriptor this function owns.
        unsafe {
            libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED);
        }
    }
}

/// Pages of `path` in the page cache, and its pages in all (mincore).
fn cached_pages(path: &Path) -> (usize, usize) {
    use std::os::fd::AsRawFd;
    let Ok(f) = std::fs::File::open(path) else { return (0, 0) };
    let len = f.metadata().map(|m| m.len() as usize).unwrap_or(0);
    if len == 0 {
        return (0, 0);
    }
    // SAFETY: a read-only shared mapping of a file we hold open, unmapped before returning; mincore
    // writes one byte per page into a vector of exactly that many bytes.
    unsafe {
        let page = libc::sysconf(libc::_SC_PAGESIZE) as usize;
        let ptr = libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_SHARED, f.as_raw_fd(), 0);
        if ptr == libc::MAP_FAILED {
            return (0, 0);
        }
        let pages = len.div_ceil(page);
        let mut vec = vec![0u8; pages];
        let ok = libc::mincore(ptr, len, vec.as_mut_ptr()) == 0;
        libc::munmap(ptr, len);
        if !ok {
            return (0, 0);
        }
        (vec.iter().filter(|b| *b & 1 == 1).count(), pages)
    }
}

/// A program and every shared library it loads (`ldd`).
fn with_libraries(program: &Path) -> Vec<PathBuf> {
    let mut files = vec![program.to_path_buf()];
    if let Ok(out) = Command::new("ldd").arg(program).output() {
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if let Some((_, rest)) = line.split_once("=> ") {
                if let Some(path) = rest.split_whitespace().next().filter(|p| p.starts_with('/')) {
                    files.push(PathBuf::from(path));
                }
            }
        }
    }
    files
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir).map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect()).unwrap_or_default()
}

/// Evict `files`; the share of their pages still cached afterwards.
fn evict_all(files: &[PathBuf]) -> f64 {
    files.iter().for_each(|p| evict(p));
    let (cached, total) = files.iter().map(|p| cached_pages(p)).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    if total == 0 { 0.0 } else { cached as f64 / total as f64 }
}

/// One run of `program args`, start to exit, in milliseconds.
fn time_once(program: &Path, args: &[&str], socket: &Path) -> f64 {
    let t = Instant::now();
    let out = Command::new(program).args(args).env("RAPPORT_SOCKET", socket).stdin(Stdio::null()).output().expect("run rapport");
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{} {}: {:?}\n{}",
        program.display(),
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    ms
}

#[derive(Clone, Copy)]
struct Stats {
    p50: f64,
    p95: f64,
    n: usize,
}

fn stats(mut v: Vec<f64>) -> Stats {
    v.sort_by(|a, b| a.total_cmp(b));
    let at = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    Stats { p50: at(0.5), p95: at(0.95), n: v.len() }
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_else(|_| "?".into())
}

/// CPU seconds (user + system) of this process's finished children and their descendants.
fn children_cpu() -> f64 {
    // SAFETY: getrusage writes one rusage struct, which we own.
    let mut r: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut r) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(r.ru_utime) + tv(r.ru_stime)
}

/// CPU seconds (user + system) a running process has used so far.
fn process_cpu(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, f)| f.split_whitespace().collect()).unwrap_or_default();
    // SAFETY: sysconf has no preconditions.
    let tick = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let field = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (field(11) + field(12)) / tick
}

/// `runs` timings of `f`, and the CPU milliseconds per run its processes used (plus `extra_pid`'s).
fn measure(runs: usize, extra_pid: Option<u32>, mut f: impl FnMut() -> f64) -> (Stats, f64) {
    let (c0, p0) = (children_cpu(), extra_pid.map(process_cpu).unwrap_or(0.0));
    let v: Vec<f64> = (0..runs).map(|_| f()).collect();
    let cpu = children_cpu() - c0 + extra_pid.map(process_cpu).unwrap_or(0.0) - p0;
    (stats(v), cpu * 1000.0 / runs as f64)
}

/// `rapport serve` on `socket`, ready (one check answered).
fn start_resident(rapport: &Path, socket: &Path, draft: &Path) -> Child {
    let child = Command::new(rapport)
        .args(["serve", "--idle-timeout", "300", "--socket"])
        .arg(socket)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start rapport serve");
    let start = Instant::now();
    while std::os::unix::net::UnixStream::connect(socket).is_err() {
        assert!(start.elapsed() < Duration::from_secs(300), "rapport serve did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    time_once(rapport, &["check", "--quiet", draft.to_str().unwrap()], socket);
    child
}

fn main() {
    let runs: usize = std::env::args().skip_while(|a| a != "--runs").nth(1).and_then(|n| n.parse().ok()).unwrap_or(15);
    let cold_runs = runs.clamp(3, 10);
    let after = PathBuf::from(env!("CARGO_BIN_EXE_rapport"));
    let model_bin = after.with_file_name("rapport-model");
    assert!(model_bin.is_file(), "{} is missing: cargo build --release --workspace --bins", model_bin.display());
    let before = std::env::var_os("RAPPORT_BASELINE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/rapport/baseline/rapport-v1-d9481fd")))
        .filter(|p| p.is_file());

    let dir = tempfile::tempdir().unwrap();
    let draft = dir.path().join("draft.eml");
    std::fs::write(&draft, DRAFT).unwrap();
    let draft_arg = draft.to_str().unwrap();
    let words = DRAFT.split_once("\n\n").unwrap().1.split_whitespace().count();
    let nobody = dir.path().join("no-scorer.sock");
    let socket = dir.path().join("scorer.sock");
    let check = ["check", "--quiet", draft_arg];

    let model_files = files_in(&rapport_model::default_model_dir(None));
    let mut cold_after = with_libraries(&model_bin);
    cold_after.push(after.clone());
    cold_after.extend(model_files.iter().cloned());
    let cold_before: Vec<PathBuf> = before.iter().flat_map(|b| with_libraries(b)).chain(model_files.iter().cloned()).collect();
    let load_start = load();

    // Commands that need no model, page cache warm.
    let small = |bin: &Path, args: &[&str]| {
        time_once(bin, args, &nobody);
        measure(runs, None, || time_once(bin, args, &nobody))
    };
    let version = (before.as_deref().map(|b| small(b, &["--version"])), small(&after, &["--version"]));
    let explain = (before.as_deref().map(|b| small(b, &["explain", "R101"])), small(&after, &["explain", "R101"]));

    // Cold checks, before and after taking turns; nothing resident.
    let (mut cold_b, mut cold_a, mut left_b, mut left_a) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut cpu_b, mut cpu_a) = (0.0, 0.0);
    for _ in 0..cold_runs {
        if let Some(b) = &before {
            left_b.push(evict_all(&cold_before));
            let c = children_cpu();
            cold_b.push(time_once(b, &check, &nobody));
            cpu_b += children_cpu() - c;
        }
        left_a.push(evict_all(&cold_after));
        let c = children_cpu();
        cold_a.push(time_once(&after, &check, &nobody));
        cpu_a += children_cpu() - c;
    }
    let per_run = |cpu: f64| cpu * 1000.0 / cold_runs as f64;
    let cold = (if before.is_some() { Some((stats(cold_b), per_run(cpu_b))) } else { None }, (stats(cold_a), per_run(cpu_a)));
    let mean = |v: &[f64]| if v.is_empty() { 0.0 } else { v.iter().sum::<f64>() / v.len() as f64 };

    // Warm page cache, nothing resident: the old in-process check, and this build's fallback.
    let warm_files = |bin: &Path| {
        time_once(bin, &check, &nobody);
        measure(runs, None, || time_once(bin, &check, &nobody))
    };
    let warm_before = before.as_deref().map(warm_files);
    let fallback = warm_files(&after);

    // The resident scorer; its CPU time counts too.
    let mut resident = start_resident(&after, &socket, &draft);
    let warm_after = measure(runs, Some(resident.id()), || time_once(&after, &check, &socket));
    let _ = resident.kill();
    let _ = resident.wait();

    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let verdict = |s: Stats, target: f64| if s.p50 < target { "met" } else { "MISSED" };
    println!("What a mail-client hook waits for, process start to exit ({cores} cores; load average {load_start} at the start, {} at the end)", load());
    match &before {
        Some(b) => println!("before: {} (libtorch loaded by every rapport process)", b.display()),
        None => println!("before: no baseline binary (set RAPPORT_BASELINE, or put it at ~/.cache/rapport/baseline/rapport-v1-d9481fd)"),
    }
    println!("after:  {} (+ rapport-model)", after.display());
    println!("draft:  {words} words; cpu = CPU time per run of every process involved (the resident scorer's included)\n");
    println!("{:<54} {:>30} {:>30}  target (after p50)", "", "before (ms)", "after (ms)");
    println!("{:<54} {:>7} {:>7} {:>7} {:>3}  {:>7} {:>7} {:>7} {:>3}", "", "p50", "p95", "cpu", "n", "p50", "p95", "cpu", "n");
    let cell = |m: Option<(Stats, f64)>| match m {
        Some((s, cpu)) => format!("{:>7.1} {:>7.1} {:>7.1} {:>3}", s.p50, s.p95, cpu, s.n),
        None => format!("{:>7} {:>7} {:>7} {:>3}", "-", "-", "-", ""),
    };
    let row = |what: &str, b: Option<(Stats, f64)>, a: (Stats, f64), target: Option<f64>| {
        let t = target.map(|t| format!("< {t:.0} ms: {}", verdict(a.0, t))).unwrap_or_default();
        println!("{what:<54} {}  {}  {t}", cell(b), cell(Some(a)));
    };
    row("rapport check, warm (after: resident scorer)", warm_before, warm_after, Some(100.0));
    row("rapport check, cold (evicted; after: no resident)", cold.0, cold.1, Some(600.0));
    row("rapport check, no resident scorer, files cached", warm_before, fallback, None);
    row("rapport --version", version.0, version.1, Some(50.0));
    row("rapport explain R101", explain.0, explain.1, Some(50.0));
    println!(
        "\ncold runs: after eviction {:.0}% (before) and {:.0}% (after) of the evicted files' pages were still cached (mapped by other processes)",
        mean(&left_b) * 100.0,
        mean(&left_a) * 100.0
    );
}
