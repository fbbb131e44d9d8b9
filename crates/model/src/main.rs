//! `rapport-model`: the process that runs rapport's tone model (rust-bert over libtorch). The
//! `rapport` binary starts it, or talks to a resident one, so that only commands that score text
//! pay for libtorch. `rapport eval` and `rapport calibrate` are this program's `eval` and
//! `calibrate`.
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

use rapport_core::verdict::{Combiner, RiskModel};
use rapport_model::{calibrate, eval, parse_device, set_threads, Precision, Scorer, Version};

#[derive(Debug, Parser)]
#[command(name = "rapport-model", version, about = "rapport's tone model process: serve, evaluate, calibrate")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct ModelArgs {
    /// Folder with the encoder (model.safetensors, config.json, tokenizer.json). Default: the one
    /// set up by `make setup`; RAPPORT_MODEL_DIR overrides.
    #[arg(long, value_name = "DIR")]
    model_dir: Option<PathBuf>,
    /// Where the model runs: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// libtorch threads (0 = one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// The encoder's arithmetic: auto (bf16 on a CPU with native bfloat16 instructions), f32 or bf16.
    #[arg(long, default_value = "auto", value_parser = ["auto", "f32", "bf16"])]
    precision: String,
}

impl ModelArgs {
    fn load(&self, version: Version) -> anyhow::Result<Scorer> {
        self.load_from(version, None)
    }

    /// v2 from a variant's folder when given, else the compiled-in model.
    fn load_from(&self, version: Version, v2_dir: Option<&std::path::Path>) -> anyhow::Result<Scorer> {
        set_threads(self.threads);
        let device = parse_device(&self.device).map_err(anyhow::Error::msg)?;
        let precision = Precision::resolve(&self.precision, device).map_err(anyhow::Error::msg)?;
        let dir = rapport_model::default_model_dir(self.model_dir.as_deref());
        Ok(match (version, v2_dir) {
            (Version::V2, Some(d)) => Scorer::load_v2(&dir, device, precision, &rapport_model::heads::Files::from_dir(d)?)?,
            _ => Scorer::load(&dir, device, precision, version)?,
        })
    }
}

/// A variant's risk model (`DIR/risk.json`), else this build's.
fn combiner(v2_dir: Option<&std::path::Path>) -> anyhow::Result<Combiner> {
    if let Some(path) = v2_dir.map(|d| d.join("risk.json")).filter(|p| p.exists()) {
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let model: RiskModel = serde_json::from_str(&text).with_context(|| format!("{} is not a risk model", path.display()))?;
        return Ok(Combiner::V2(Box::leak(Box::new(model))));
    }
    Ok(Combiner::current())
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Answer score requests: on standard input and output (--stdio), or on a Unix socket.
    Serve {
        /// One client on standard input and output; exit when the input closes.
        #[arg(long, conflicts_with = "socket")]
        stdio: bool,
        /// The socket to listen on (default: $XDG_RUNTIME_DIR/rapport/scorer.sock).
        #[arg(long, value_name = "PATH")]
        socket: Option<PathBuf>,
        /// Exit after this many seconds without a request.
        #[arg(long, value_name = "SECONDS", default_value_t = 900)]
        idle_timeout: u64,
        /// Serve a trained variant from this folder instead of the compiled-in v2 (for trying it
        /// with `RAPPORT_MODEL_ARGS`; the verdict still uses this build's risk model).
        #[arg(long, value_name = "DIR", env = "RAPPORT_V2_DIR")]
        v2_dir: Option<PathBuf>,
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Every dev metric of the tone model, beside VADER and the v1 model.
    Eval {
        #[arg(long, default_value = "../shared/datasets")]
        data: PathBuf,
        /// The email tone corpus (ids and labels).
        #[arg(long, default_value = "models/email-tone")]
        corpus: PathBuf,
        /// Leave the v1 model out (faster).
        #[arg(long)]
        no_v1: bool,
        /// Evaluate a trained variant from this folder (heads.json, heads.safetensors, optional
        /// encoder-layers.safetensors and risk.json) instead of the compiled-in v2.
        #[arg(long, value_name = "DIR")]
        v2_dir: Option<PathBuf>,
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Fit the v2 misread-risk model on the email tone corpus's train split.
    Calibrate {
        #[arg(long, default_value = "../shared/datasets")]
        data: PathBuf,
        #[arg(long, default_value = "models/email-tone")]
        corpus: PathBuf,
        /// Where the fitted model goes (compiled in at the next build).
        #[arg(long, default_value = "models/v2/risk.json")]
        out: PathBuf,
        /// Where the calibration report goes.
        #[arg(long, default_value = "models/v2/calibration.json")]
        report: PathBuf,
        /// Calibrate a trained variant from this folder instead of the compiled-in v2.
        #[arg(long, value_name = "DIR")]
        v2_dir: Option<PathBuf>,
        /// The heads trained without half a of the train users (`train_tone.py --holdout-half a`).
        #[arg(long, value_name = "DIR", default_value = "~/.cache/rapport/train-runs/v2-without-a")]
        without_a: String,
        /// The heads trained without half b.
        #[arg(long, value_name = "DIR", default_value = "~/.cache/rapport/train-runs/v2-without-b")]
        without_b: String,
        #[command(flatten)]
        model: ModelArgs,
    },
}

/// libtorch allocates and frees large buffers on every forward pass; glibc serves blocks over its
/// mmap threshold with fresh mmap/munmap calls, so each pass page-faults its memory in again
/// (measured: a fifth of an audit's time). Keep them on the heap.
/// `~/x` with the home folder.
fn expand_home(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(p),
    }
}

fn tune_allocator() {
    if ["GLIBC_TUNABLES", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_ARENA_MAX"].iter().any(|v| std::env::var_os(v).is_some()) {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes glibc's allocation thresholds; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 512 << 20);
    }
    // oneDNN keeps a JIT kernel for every input shape it has seen; eight keep memory flat.
    if std::env::var_os("ONEDNN_PRIMITIVE_CACHE_CAPACITY").is_none() {
        std::env::set_var("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "8");
    }
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { stdio, socket, idle_timeout, v2_dir, model } => {
            let scorer = match &v2_dir {
                Some(d) => model.load_from(Version::V2, Some(d))?,
                None => model.load(Version::current())?,
            };
            if stdio {
                rapport_model::server::serve_stdio(scorer)?;
            } else {
                let path = socket.unwrap_or_else(rapport_core::paths::scorer_socket);
                rapport_model::server::serve_socket(scorer, &path, Duration::from_secs(idle_timeout))
                    .with_context(|| format!("serving on {}", path.display()))?;
            }
        }
        Command::Eval { data, corpus, no_v1, v2_dir, format, model } => {
            let data = eval::datasets(&data).with_context(|| "rapport eval reads the labelled corpora in ../shared/datasets (pass --data DIR)")?;
            let mut models = vec![(Version::V2, model.load_from(Version::V2, v2_dir.as_deref())?)];
            if !no_v1 {
                models.push((Version::V1, model.load(Version::V1)?));
            }
            let v2_combiner = combiner(v2_dir.as_deref())?;
            let metrics = eval::evaluate(&mut models, &eval::Options { data, corpus, v2_combiner })?;
            let mut out = std::io::stdout().lock();
            if format == "json" {
                serde_json::to_writer_pretty(&mut out, &metrics)?;
                writeln!(out)?;
            } else {
                eval::render_text(&mut out, &metrics)?;
            }
        }
        Command::Calibrate { data, corpus, out, report, v2_dir, without_a, without_b, model } => {
            let data = eval::datasets(&data).with_context(|| "rapport calibrate reads ../shared/datasets (pass --data DIR)")?;
            let mut shipped = model.load_from(Version::V2, v2_dir.as_deref())?;
            let mut held_out = Vec::new();
            for (dir, half) in [(&without_a, "a"), (&without_b, "b")] {
                let dir = expand_home(dir);
                let files = rapport_model::heads::Files::from_dir(&dir)
                    .with_context(|| format!("the heads trained without half {half} of the train users (scripts/train-model.sh trains them)"))?;
                let m = files.manifest()?;
                let saw_no_email = !m.tasks.iter().any(|t| t.name == "email");
                anyhow::ensure!(m.holdout_half == half || saw_no_email, "{}: these heads were not trained with --holdout-half {half}", dir.display());
                held_out.push(model.load_from(Version::V2, Some(&dir))?);
            }
            let (mut a, mut b) = (held_out.remove(0), held_out.remove(0));
            let (fitted, rep) = calibrate::calibrate(&mut shipped, &mut a, &mut b, &calibrate::Options { data, corpus, out: out.clone() })?;
            if let Some(dir) = out.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&out, serde_json::to_string_pretty(&fitted)? + "\n").with_context(|| format!("writing {}", out.display()))?;
            std::fs::write(&report, serde_json::to_string_pretty(&rep)? + "\n").with_context(|| format!("writing {}", report.display()))?;
            println!("{}", serde_json::to_string_pretty(&rep)?);
            eprintln!("wrote {} and {}; rebuild (make build) to compile the risk model in", out.display(), report.display());
        }
    }
    Ok(())
}

fn main() {
    tune_allocator();
    if let Err(e) = run() {
        if e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)) {
            std::process::exit(0);
        }
        eprintln!("rapport-model: error: {e:#}");
        std::process::exit(2);
    }
}
