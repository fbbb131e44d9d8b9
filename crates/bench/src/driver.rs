//! `rapport-bench`: what an audit costs on large inboxes, measured end to end.
//!
//! For each size it builds (or reuses) a synthetic-but-real inbox ([`crate::synth`]) as a maildir
//! and an mbox, then runs `rapport audit` on it as a child process (so time and peak RSS are the
//! audit's own, read from `wait4`):
//!
//! * `fresh`: a new state: every message read, parsed, cleaned and scored, except bodies the run
//!   has already scored (an inbox larger than the body file repeats bodies: those are answered by
//!   the score cache, and the row says how many);
//! * `rerun`: the same command again with no new mail (the nightly case);
//! * `cache`: the mbox holding the same messages, audited into the state of the maildir run: every
//!   verdict comes from the score cache, so this is reading, parsing, cleaning and SQLite alone.
//!
//! Then per-message latency (one message at a time through parse, clean, rules, model, verdict,
//! the model loaded), and the peers over the same rows: a Python transformers text-classification
//! pipeline over the same encoder, a length-sorted torch loop over it, and VADER.
//!
//! With `--baseline RAPPORT`, another build (the previous release, with its model) audits the same
//! maildirs, fresh and re-run, in its own state, and a target compares the two fresh audits.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;

use crate::args::{BenchArgs, InboxFormat};
use crate::synth::{self, Inbox};
use rapport_core::audit::RunStats;

/// One measured child process.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Measured {
    pub seconds: f64,
    pub peak_rss_mb: f64,
    pub exit: i32,
}

/// Run `cmd` to its end; wall time and the child's peak resident set size (`ru_maxrss`).
pub fn run_measured(cmd: &mut std::process::Command) -> anyhow::Result<Measured> {
    let t0 = Instant::now();
    let child = cmd.spawn().with_context(|| format!("cannot start {:?}", cmd.get_program()))?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child, which we never wait on
    // elsewhere (the `Child` handle is forgotten below so that it does not try to reap it).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = loop {
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if rc == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        break rc;
    };
    let seconds = t0.elapsed().as_secs_f64();
    std::mem::forget(child);
    anyhow::ensure!(rc == pid, "waiting for {:?} failed: {}", cmd.get_program(), std::io::Error::last_os_error());
    let exit = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { 128 + libc::WTERMSIG(status) };
    Ok(Measured { seconds, peak_rss_mb: usage.ru_maxrss as f64 / 1024.0, exit })
}

/// One audit run of the table.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditRun {
    /// Which build ran it: `current`, or `baseline` (`--baseline`).
    pub build: &'static str,
    /// The verdict model id its report gives (the model and rules that made the verdicts).
    pub model_id: String,
    pub messages: usize,
    pub format: &'static str,
    /// fresh, rerun or cache (see the module docs).
    pub scenario: &'static str,
    /// The audit's own counts (its JSON report's `run`): read (0 for a re-run with no new mail),
    /// scored (distinct cleaned texts the model scored), cached (verdicts from the score cache),
    /// duplicates (the same cleaned text as another message of the batch), sentences (of the
    /// scored texts) and encoded (new to the run, so run through the encoder).
    #[serde(flatten)]
    pub run: RunStats,
    pub seconds: f64,
    /// Messages of the inbox per second of wall time (read / seconds; for a re-run, the inbox's
    /// messages checked as already seen).
    pub messages_per_s: f64,
    pub mb_per_s: f64,
    pub peak_rss_mb: f64,
    pub state_mb: f64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Latency {
    pub messages: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
    pub mean_sentences: f64,
    pub what: &'static str,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Peer {
    pub tool: String,
    pub rows: usize,
    /// What the peer's figure covers.
    pub timed: String,
    pub seconds: f64,
    pub messages_per_s: f64,
    pub peak_rss_mb: f64,
    /// rapport's messages/s (fresh maildir audit of the same rows) over the peer's.
    pub rapport_ratio: f64,
    pub details: serde_json::Value,
}

impl Peer {
    /// A peer's row from its process measurement and the JSON it printed (its own timing).
    fn new(tool: String, rows: usize, timed: &str, m: Measured, details: serde_json::Value, rapport_mps: f64) -> Self {
        let messages_per_s = details["messages_per_s"].as_f64().unwrap_or(f64::NAN);
        Self {
            tool,
            rows,
            timed: timed.into(),
            seconds: details["seconds"].as_f64().unwrap_or(m.seconds),
            messages_per_s,
            peak_rss_mb: m.peak_rss_mb,
            rapport_ratio: rapport_mps / messages_per_s,
            details,
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchReport {
    pub schema: u32,
    pub meta: serde_json::Map<String, serde_json::Value>,
    pub runs: Vec<AuditRun>,
    pub latency: Option<Latency>,
    pub peers: Vec<Peer>,
    pub peers_skipped: Option<String>,
    pub targets: Vec<Target>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Target {
    pub what: String,
    pub goal: String,
    pub measured: String,
    pub met: Option<bool>,
}

fn file_mb(path: &Path) -> f64 {
    let mut total = 0u64;
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        total += std::fs::metadata(PathBuf::from(p)).map(|m| m.len()).unwrap_or(0);
    }
    total as f64 / 1e6
}

fn remove_state(path: &Path) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm", ".lock"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let p = PathBuf::from(p);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot remove the old benchmark state {}", p.display())),
        }
    }
    Ok(())
}

struct Ctx<'a> {
    a: &'a BenchArgs,
    exe: PathBuf,
    work: PathBuf,
}

impl Ctx<'_> {
    /// `rapport audit SOURCE --state STATE` by this build, measured.
    fn audit(&self, inbox: &Inbox, source: &Path, format: &'static str, scenario: &'static str, state: &Path) -> anyhow::Result<AuditRun> {
        self.audit_by(&self.exe, "current", inbox, source, format, scenario, state)
    }

    /// The same, by the build `exe`. Only the current build is asked not to use a resident scorer
    /// (`--no-resident`; older builds have none).
    #[allow(clippy::too_many_arguments)]
    fn audit_by(
        &self,
        exe: &Path,
        build: &'static str,
        inbox: &Inbox,
        source: &Path,
        format: &'static str,
        scenario: &'static str,
        state: &Path,
    ) -> anyhow::Result<AuditRun> {
        let report = self.work.join("last-report.json");
        let log = self.work.join("last-audit.log");
        let mut cmd = std::process::Command::new(exe);
        cmd.arg("audit")
            .arg(source)
            .arg("--state")
            .arg(state)
            .args(["--format", "json", "--output"])
            .arg(&report)
            .args(["--device", &self.a.model.device, "--threads", &self.a.model.threads.to_string()])
            .args(["--precision", &self.a.model.precision])
            .args(if build == "current" { &["--no-resident"][..] } else { &[] })
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).with_context(|| format!("cannot write {}", log.display()))?);
        if let Some(d) = &self.a.model.model_dir {
            cmd.arg("--model-dir").arg(d);
        }
        let m = run_measured(&mut cmd)?;
        if m.exit != 0 {
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(8).collect();
            anyhow::bail!(
                "{} audit of {} exited with {} ({scenario} run):\n{}",
                exe.display(),
                source.display(),
                m.exit,
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        let rep: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).with_context(|| format!("cannot read {}", report.display()))?)
            .with_context(|| format!("{} is not the audit's JSON report", report.display()))?;
        let run: RunStats = serde_json::from_value(rep["run"].clone()).with_context(|| format!("{} has no run counts", report.display()))?;
        let read = run.read;
        let counted = if scenario == "rerun" { inbox.n } else { read };
        let bytes = if scenario == "rerun" { 0 } else { inbox.bytes };
        Ok(AuditRun {
            build,
            model_id: rep["model_id"].as_str().unwrap_or("-").to_string(),
            messages: inbox.n,
            format,
            scenario,
            run,
            seconds: m.seconds,
            messages_per_s: counted as f64 / m.seconds,
            mb_per_s: bytes as f64 / 1e6 / m.seconds,
            peak_rss_mb: m.peak_rss_mb,
            state_mb: file_mb(state),
        })
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// One message at a time through the whole pipeline, the model loaded (what a mail-client hook
/// or a new-mail trigger pays per message, less process start-up).
fn latency(a: &BenchArgs, inbox: &Inbox, n: usize) -> anyhow::Result<Latency> {
    use rapport_core::source::MailSource;
    let (scorer, _) = rapport_core::scoring::connect(&a.model.options(), false)?;
    let mut assessor = rapport_core::verdict::Assessor::new(scorer);
    let mut src = rapport_core::source::MaildirSource::new(&inbox.maildir, rapport_core::source::DEFAULT_MAX_MESSAGE_BYTES);
    let raws: Vec<_> = src.mails().take(n + 1).collect::<Result<_, _>>()?;
    let mut times = Vec::with_capacity(n);
    let mut sentences = 0usize;
    for (k, raw) in raws.iter().enumerate() {
        let t0 = Instant::now();
        let mail = rapport_core::parse::parse(raw)?;
        let c = rapport_core::clean::clean(&mail.body);
        let v = assessor.assess_one(&c)?;
        std::hint::black_box(v);
        // The first message warms libtorch's allocator and thread pool: not counted.
        if k > 0 {
            times.push(t0.elapsed().as_secs_f64() * 1000.0);
            sentences += c.sentences.len();
        }
    }
    let count = times.len();
    times.sort_by(f64::total_cmp);
    Ok(Latency {
        messages: count,
        p50_ms: percentile(&times, 50.0),
        p95_ms: percentile(&times, 95.0),
        max_ms: times.last().copied().unwrap_or(f64::NAN),
        mean_sentences: sentences as f64 / count.max(1) as f64,
        what: "one message at a time: parse, clean, rules, model (a rapport-model process, already started), verdict; no SQLite",
    })
}

fn peer_scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/python")
}

fn run_peer(python: &Path, script: &str, args: &[String], work: &Path) -> anyhow::Result<(Measured, serde_json::Value)> {
    let out = work.join(format!("{script}.json"));
    let log = work.join(format!("{script}.log"));
    let mut cmd = std::process::Command::new(python);
    cmd.arg(peer_scripts().join(script))
        .args(args)
        .env("HF_HUB_OFFLINE", "1")
        .env("TRANSFORMERS_OFFLINE", "1")
        .env("TOKENIZERS_PARALLELISM", "false")
        .env_remove("OMP_NUM_THREADS")
        .env_remove("MKL_NUM_THREADS")
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&out)?)
        .stderr(std::fs::File::create(&log)?);
    let m = run_measured(&mut cmd)?;
    if m.exit != 0 {
        let tail = std::fs::read_to_string(&log).unwrap_or_default();
        anyhow::bail!(
            "the peer {script} ({}) exited with {}: {}",
            python.display(),
            m.exit,
            tail.lines().rev().take(5).collect::<Vec<_>>().join(" | ")
        );
    }
    let v = serde_json::from_slice(&std::fs::read(&out)?).with_context(|| format!("{script} printed no JSON (see {})", log.display()))?;
    Ok((m, v))
}

fn threads_used(a: &BenchArgs) -> usize {
    if a.model.threads > 0 {
        a.model.threads
    } else {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    }
}

fn peers(a: &BenchArgs, python: &Path, bodies: &[synth::Body], rows: usize, work: &Path, rapport_mps: f64) -> anyhow::Result<Vec<Peer>> {
    // The same rows: the bodies of the inbox's first `rows` messages, as the audit reads them.
    let input = work.join(format!("peer-rows-{rows}.jsonl"));
    let mut f = std::io::BufWriter::new(std::fs::File::create(&input)?);
    for i in 0..rows {
        let b = &bodies[i % bodies.len()];
        serde_json::to_writer(&mut f, &serde_json::json!({"id": b.id, "text": b.body}))?;
        f.write_all(b"\n")?;
    }
    f.flush()?;
    let input_s = input.display().to_string();
    let model_dir = rapport_model::default_model_dir(a.model.model_dir.as_deref()).display().to_string();
    let threads = threads_used(a).to_string();
    let mut out = Vec::new();
    let (m, v) = run_peer(
        python,
        "pipeline_bench.py",
        &[
            "--model-dir".into(),
            model_dir.clone(),
            "--input".into(),
            input_s.clone(),
            "--threads".into(),
            threads,
            "--batch-size".into(),
            "32".into(),
            "--max-length".into(),
            "256".into(),
            "--device".into(),
            a.model.device.clone(),
        ],
        work,
    )?;
    let tool = format!("Python transformers {} pipeline (same encoder, batch 32, truncation 256)", v["versions"]["transformers"].as_str().unwrap_or("?"));
    out.push(Peer::new(tool, rows, "inference only (import and model load excluded)", m, v, rapport_mps));
    let (m, v) = run_peer(
        python,
        "torch_loop_bench.py",
        &["--model-dir".into(), model_dir.clone(), "--input".into(), input_s.clone(), "--threads".into(), threads_used(a).to_string(), "--max-length".into(), "256".into(), "--device".into(), a.model.device.clone()],
        work,
    )?;
    let tool = format!("Python torch {} loop (same encoder, length-sorted, bf16 autocast, truncation 256)", v["versions"]["torch"].as_str().unwrap_or("?"));
    out.push(Peer::new(tool, rows, "tokenize + inference (import and model load excluded)", m, v, rapport_mps));
    let (m, v) = run_peer(python, "vader_bench.py", &["--input".into(), input_s], work)?;
    let tool = format!("VADER (vaderSentiment {}, whole message)", v["versions"]["vaderSentiment"].as_str().unwrap_or("?"));
    out.push(Peer::new(tool, rows, "scoring only (import excluded)", m, v, rapport_mps));
    Ok(out)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).map(|s| s.trim().to_string()))
        .unwrap_or_else(|| "unknown".into())
}

fn meta(a: &BenchArgs, bodies: &[synth::Body], data: &Path) -> serde_json::Map<String, serde_json::Value> {
    let distinct: std::collections::HashSet<&str> = bodies.iter().map(|b| b.body.as_str()).collect();
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().next().map(|l| l.split_whitespace().nth(1).unwrap_or("0").parse::<f64>().unwrap_or(0.0) / 1024.0 / 1024.0));
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut m = serde_json::Map::new();
    let mut put = |k: &str, v: serde_json::Value| {
        m.insert(k.into(), v);
    };
    put("date", rapport_core::time::iso_date(rapport_core::time::now()).into());
    put("cpu", cpu_model().into());
    put("cpu_native_bf16", rapport_model::cpu_has_native_bf16().into());
    put("cores", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).into());
    put("memory_gib", mem.map(|g| (g * 10.0).round() / 10.0).into());
    put("loadavg_at_start", load.trim().into());
    put("device", a.model.device.clone().into());
    put("torch_threads", threads_used(a).into());
    if let Ok(device) = rapport_model::parse_device(&a.model.device) {
        if let Ok(p) = rapport_model::Precision::resolve(&a.model.precision, device) {
            put("precision", p.as_str().into());
        }
    }
    put("rapport", format!("rapport {} ({}, model {})", env!("CARGO_PKG_VERSION"), rapport_core::model_id(), rapport_model::Version::current().as_str()).into());
    put("libtorch", rapport_model::LIBTORCH_VERSION.into());
    put(
        "inbox",
        format!(
            "synthetic: {} AESLC bodies with text ({} distinct) from {}, wrapped in RFC 5322 headers modelled on ../shared/datasets/enron/maildir (senders, recipients at 144 customer domains, dates over 2000-2001, Message-IDs varied per message); message i takes body i mod {}",
            bodies.len(),
            distinct.len(),
            data.display(),
            bodies.len()
        )
        .into(),
    );
    m
}

fn fmt_size(n: usize) -> String {
    if n >= 1000 && n % 1000 == 0 {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

pub fn render_text(out: &mut dyn Write, r: &BenchReport) -> std::io::Result<()> {
    writeln!(out, "rapport bench")?;
    for (k, v) in &r.meta {
        writeln!(out, "  {k}: {}", v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))?;
    }
    writeln!(out)?;
    writeln!(out, "Audit (rapport audit as a child process; time and peak RSS of that process)")?;
    writeln!(
        out,
        "{:<8} {:>6} {:<8} {:<7} {:>7} {:>7} {:>7} {:>5} {:>9} {:>8} {:>9} {:>8} {:>7} {:>8} {:>8}",
        "build", "inbox", "format", "run", "read", "scored", "cached", "dup", "sentences", "encoded", "seconds", "msg/s", "MB/s", "RSS MB", "state MB"
    )?;
    for x in &r.runs {
        writeln!(
            out,
            "{:<8} {:>6} {:<8} {:<7} {:>7} {:>7} {:>7} {:>5} {:>9} {:>8} {:>9.2} {:>8.1} {:>7.2} {:>8.1} {:>8.1}",
            x.build,
            fmt_size(x.messages),
            x.format,
            x.scenario,
            x.run.read,
            x.run.scored,
            x.run.cached,
            x.run.duplicates,
            x.run.sentences,
            x.run.encoded,
            x.seconds,
            x.messages_per_s,
            x.mb_per_s,
            x.peak_rss_mb,
            x.state_mb
        )?;
    }
    writeln!(
        out,
        "  fresh: new state (scored + cached + dup = read; cached: a body an earlier batch had scored; dup: one of the same batch). rerun: no new mail.\n  cache: the same messages as an mbox into the maildir run's state (every verdict cached). sentences: of the scored texts; encoded: new to the run."
    )?;
    let mut builds: Vec<(&str, &str)> = r.runs.iter().map(|x| (x.build, x.model_id.as_str())).collect();
    builds.dedup();
    for (build, model) in builds {
        writeln!(out, "  {build}: model {model}")?;
    }
    let fresh: Vec<&AuditRun> = r.runs.iter().filter(|x| x.build == "current" && x.scenario == "fresh" && x.format == "maildir").collect();
    if fresh.len() > 1 {
        writeln!(out, "\nScaling (maildir, fresh): per 1,000 messages")?;
        for x in &fresh {
            writeln!(
                out,
                "  {:>6}: {:>8.2} s per 1k messages ({} scored by the model, {} from the cache), peak RSS {:.0} MB",
                fmt_size(x.messages),
                x.seconds / x.messages as f64 * 1000.0,
                x.run.scored,
                x.run.cached,
                x.peak_rss_mb
            )?;
        }
    }
    if let Some(l) = &r.latency {
        writeln!(out, "\nPer-message latency, {} messages, {}", l.messages, l.what)?;
        writeln!(out, "  p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms ({:.1} sentences per message on average)", l.p50_ms, l.p95_ms, l.max_ms, l.mean_sentences)?;
    }
    writeln!(out)?;
    match &r.peers_skipped {
        Some(why) => writeln!(out, "Peers: skipped: {why}")?,
        None => {
            writeln!(out, "rapport and its peers over the same rows")?;
            writeln!(out, "{:<78} {:>6} {:>9} {:>8} {:>8} {:>14}", "tool", "rows", "seconds", "msg/s", "RSS MB", "rapport is")?;
            let rows = r.peers.first().map(|p| p.rows).unwrap_or(0);
            if let Some(x) = r.runs.iter().find(|x| x.build == "current" && x.scenario == "fresh" && x.messages == rows) {
                writeln!(
                    out,
                    "{:<78} {:>6} {:>9.2} {:>8.1} {:>8.1} {:>14}",
                    format!("rapport audit ({}, fresh state)", x.format),
                    x.messages, x.seconds, x.messages_per_s, x.peak_rss_mb, "-"
                )?;
                writeln!(out, "  timed: the whole process (start-up, reading, parsing, cleaning, model, SQLite, report)")?;
            }
            for p in &r.peers {
                writeln!(
                    out,
                    "{:<78} {:>6} {:>9.2} {:>8.1} {:>8.1} {:>13.2}x",
                    p.tool, p.rows, p.seconds, p.messages_per_s, p.peak_rss_mb, p.rapport_ratio
                )?;
                writeln!(out, "  timed: {}", p.timed)?;
            }
        }
    }
    if !r.targets.is_empty() {
        writeln!(out, "\nTargets")?;
        for t in &r.targets {
            let verdict = match t.met {
                Some(true) => "met",
                Some(false) => "NOT met",
                None if t.measured == "-" => "not measured",
                None => "judged at 100k only",
            };
            writeln!(out, "  {:<52} goal {:<12} measured {:<28} {verdict}", t.what, t.goal, t.measured)?;
        }
    }
    Ok(())
}

fn targets(r: &BenchReport) -> Vec<Target> {
    let mut t = Vec::new();
    let fresh = |build: &str| r.runs.iter().find(|x| x.build == build && x.scenario == "fresh" && x.format == "maildir");
    if let (Some(new), Some(old)) = (fresh("current"), fresh("baseline")) {
        let ratio = new.messages_per_s / old.messages_per_s;
        t.push(Target {
            what: format!("fresh audit, {} maildir, vs the baseline build", fmt_size(new.messages)),
            goal: ">= 1.00x".into(),
            measured: format!("{ratio:.2}x ({:.1} vs {:.1} msg/s)", new.messages_per_s, old.messages_per_s),
            met: Some(ratio >= 1.0),
        });
    }
    let python = r.peers.iter().find(|p| p.tool.starts_with("Python transformers"));
    t.push(Target {
        what: "audit throughput vs the Python pipeline".into(),
        goal: ">= 3x".into(),
        measured: python.map(|p| format!("{:.2}x ({} rows)", p.rapport_ratio, p.rows)).unwrap_or_else(|| "-".into()),
        met: python.map(|p| p.rapport_ratio >= 3.0),
    });
    let current: Vec<&AuditRun> = r.runs.iter().filter(|x| x.build == "current").collect();
    let largest = current.iter().map(|x| x.messages).max().unwrap_or(0);
    let rerun = current.iter().filter(|x| x.scenario == "rerun" && x.messages == largest).map(|x| x.seconds).fold(None, |m: Option<f64>, s| Some(m.map_or(s, |m| m.max(s))));
    t.push(Target {
        what: format!("incremental re-run, {} unchanged messages", fmt_size(largest)),
        goal: "< 5 s".into(),
        measured: rerun.map(|s| format!("{s:.2} s (slowest format)")).unwrap_or_else(|| "-".into()),
        met: rerun.filter(|_| largest >= 100_000).map(|s| s < 5.0),
    });
    let rss = current.iter().filter(|x| x.messages == largest).map(|x| x.peak_rss_mb).fold(None, |m: Option<f64>, s| Some(m.map_or(s, |m| m.max(s))));
    t.push(Target {
        what: format!("peak RSS, {} messages", fmt_size(largest)),
        goal: "< 1 GB".into(),
        measured: rss.map(|s| format!("{s:.0} MB")).unwrap_or_else(|| "-".into()),
        met: rss.filter(|_| largest >= 100_000).map(|s| s < 1000.0),
    });
    t
}

pub fn bench(a: BenchArgs) -> anyhow::Result<i32> {
    let exe = rapport_exe()?;
    let work = a.work.clone().unwrap_or_else(|| rapport_core::paths::cache_dir().join("bench"));
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create the benchmark folder {}", work.display()))?;
    let mut sizes = a.sizes.clone();
    sizes.sort_unstable();
    sizes.dedup();
    anyhow::ensure!(!sizes.is_empty() && sizes[0] > 0, "--sizes needs at least one size above 0");
    let peer_rows = a.peer_rows.unwrap_or(sizes[0]);
    let bodies = synth::load_bodies(&a.data)?;
    let has = |f: InboxFormat| a.formats.contains(&f);
    let steps = sizes.len() as u64 * (2 + if has(InboxFormat::Mbox) { 2 } else { 0 } + if a.baseline.is_some() { 2 } else { 0 }) + 2;
    let bar = progress(steps);
    let ctx = Ctx { a: &a, exe, work: work.clone() };
    let mut runs = Vec::new();
    let mut smallest: Option<Inbox> = None;
    for &n in &sizes {
        bar.set_message(format!("building the {} inbox", fmt_size(n)));
        let inbox = synth::ensure_inbox(&work, &a.data, &bodies, n, &|k| bar.set_message(format!("building the {} inbox: {k} messages", fmt_size(n))))?;
        let state = work.join(format!("state-{n}.sqlite3"));
        remove_state(&state)?;
        if has(InboxFormat::Maildir) {
            for scenario in ["fresh", "rerun"] {
                bar.set_message(format!("{} maildir, {scenario}", fmt_size(n)));
                runs.push(ctx.audit(&inbox, &inbox.maildir, "maildir", scenario, &state)?);
                bar.inc(1);
            }
        }
        if has(InboxFormat::Mbox) {
            // With the maildir done, the mbox run finds every verdict in the score cache; without
            // it, the mbox run is the fresh one.
            let first = if has(InboxFormat::Maildir) { "cache" } else { "fresh" };
            for scenario in [first, "rerun"] {
                bar.set_message(format!("{} mbox, {scenario}", fmt_size(n)));
                runs.push(ctx.audit(&inbox, &inbox.mbox, "mbox", scenario, &state)?);
                bar.inc(1);
            }
        }
        if let Some(old) = &a.baseline {
            let state = work.join(format!("state-{n}-baseline.sqlite3"));
            remove_state(&state)?;
            for scenario in ["fresh", "rerun"] {
                bar.set_message(format!("{} maildir, {scenario}, baseline build", fmt_size(n)));
                runs.push(ctx.audit_by(old, "baseline", &inbox, &inbox.maildir, "maildir", scenario, &state)?);
                bar.inc(1);
            }
        }
        smallest.get_or_insert(inbox);
    }
    let smallest = smallest.expect("at least one size");
    let latency = if a.latency_sample > 0 {
        bar.set_message(format!("per-message latency, {} messages", a.latency_sample));
        Some(latency(&a, &smallest, a.latency_sample.min(smallest.n.saturating_sub(1)).max(1))?)
    } else {
        None
    };
    bar.inc(1);
    // rapport's figure for the ratio: the fresh audit of an inbox of exactly the peers' rows.
    let rapport_mps = runs
        .iter()
        .find(|x| x.build == "current" && x.scenario == "fresh" && x.messages == peer_rows)
        .map(|x| x.messages_per_s);
    let (peers, peers_skipped) = match (&a.python, rapport_mps) {
        (None, _) => (Vec::new(), Some("no --python given (scripts/bench.sh sets up a Python with the peers and passes it)".to_string())),
        (Some(_), None) => (
            Vec::new(),
            Some(format!("--peer-rows {peer_rows} is not one of --sizes (rapport's figure is the fresh audit of that inbox)")),
        ),
        (Some(py), Some(mps)) => {
            bar.set_message(format!("peers over {peer_rows} rows"));
            (peers(&a, py, &bodies, peer_rows, &work, mps)?, None)
        }
    };
    bar.inc(1);
    bar.finish_and_clear();
    let mut report = BenchReport {
        schema: 1,
        meta: meta(&a, &bodies, &a.data),
        runs,
        latency,
        peers,
        peers_skipped,
        targets: Vec::new(),
    };
    report.targets = targets(&report);
    if let Some(path) = &a.json {
        let f = std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
        serde_json::to_writer_pretty(std::io::BufWriter::new(f), &report)?;
    }
    let mut out = std::io::stdout().lock();
    render_text(&mut out, &report)?;
    Ok(0)
}

/// The `rapport` binary the audits run: `$RAPPORT_BIN`, else beside this program.
fn rapport_exe() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("RAPPORT_BIN").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let me = std::env::current_exe().context("cannot find rapport-bench's own executable")?;
    let beside = me.with_file_name("rapport");
    anyhow::ensure!(beside.is_file(), "no rapport binary beside {} (build the workspace: make build), or set RAPPORT_BIN", me.display());
    Ok(beside)
}

/// A progress bar over `len` steps on standard error (hidden when it is not a terminal).
fn progress(len: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} ({elapsed})").unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(250));
    bar
}
