//! The command line (clap derive). Each subcommand has its own `*Args` struct.
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::findings::Severity;

#[derive(Debug, Parser)]
#[command(name = "rapport", version, about = "Catch customer emails whose tone could be misread, and see which accounts get nothing but email", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check one draft before it is sent: which sentences could be misread, and why.
    Check(CheckArgs),
    /// Score JSON Lines `{"id", "text"}` from stdin, one JSON line out per input.
    Score(ScoreArgs),
    /// Audit outgoing mail (maildir, mbox, .eml files or a directory): score every new message,
    /// keep state in SQLite, write a report.
    Audit(AuditArgs),
    /// Customer accounts: who hears from us by email alone, volume and tone trends, and which
    /// accounts most need a call or a visit (reads the state `rapport audit` fills).
    Accounts(AccountsArgs),
    /// Explain a finding code (e.g. `rapport explain R104`), or list them all.
    Explain(ExplainArgs),
    /// Train rapport's tone heads on ../shared/datasets (fixed seed).
    Train(TrainArgs),
    /// Reproduce the model card's metrics on the dev splits.
    Eval(EvalArgs),
    /// Fit the misread-risk weights on Enron sent mail labelled by two independent passes.
    Calibrate(CalibrateArgs),
    /// Measure audits of large synthetic inboxes (1k, 10k, 100k messages of real Enron text):
    /// throughput, latency, peak memory, incremental re-runs, and peers over the same rows.
    Bench(BenchArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: findings with the sentence highlighted in context.
    Text,
    /// For tools: one JSON document.
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    /// Folder with the encoder (model.safetensors, config.json, tokenizer.json). Default: the one
    /// set up by `make setup`; RAPPORT_MODEL_DIR overrides.
    #[arg(long, value_name = "DIR")]
    pub model_dir: Option<PathBuf>,
    /// Where the model runs: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// libtorch threads (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// The encoder's arithmetic: auto (bf16 on a CPU with native bfloat16 instructions, else
    /// f32), f32 or bf16. `rapport eval` measures what bf16 costs in accuracy.
    #[arg(long, default_value = "auto", value_parser = ["auto", "f32", "bf16"])]
    pub precision: String,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The draft: an .eml file, or `-` for standard input.
    #[arg(value_name = "FILE")]
    pub input: PathBuf,
    /// The input is plain text (the draft's body), not a mail message.
    #[arg(long)]
    pub text: bool,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value = "warning")]
    pub fail_on: Severity,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Print nothing; only the exit code tells.
    #[arg(long, short)]
    pub quiet: bool,
    /// Colour: auto (when stdout is a terminal), always or never.
    #[arg(long, default_value = "auto")]
    pub color: ColorChoice,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, clap::Args)]
pub struct ScoreArgs {
    /// Sentences per model call (and per flush of the output): larger batches sort by length
    /// better; 500 Enron bodies took 10.3 s at 64, 6.3 s at 512, 5.0 s at 2048.
    #[arg(long, default_value_t = 2048)]
    pub batch: usize,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
    Csv,
    Html,
}

/// Messages per audit batch (`--batch`): one scorer call and one transaction each. Larger batches
/// give the encoder's length-sorting more to work with: on 1,000 messages, 512 per batch took
/// 8.3 s where 128 took 10.0 s (bench/README.md).
pub const DEFAULT_BATCH: usize = 512;

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Maildirs, mbox files, .eml files or directories of messages. Default: the sample mailbox
    /// shipped with rapport (examples/sample-sent).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// IMAP mailboxes from the config file to audit (repeatable): `[mailbox.NAME]` tables.
    #[arg(long = "mailbox", value_name = "NAME")]
    pub mailboxes: Vec<String>,
    /// The config file. Default: $XDG_CONFIG_HOME/rapport/config.toml (RAPPORT_CONFIG overrides).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// SQLite state file. Default: the config's `state`, else $XDG_STATE_HOME/rapport/state.sqlite3.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
    /// Write the report to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when a message has a finding at or above this severity (default: never).
    #[arg(long, value_enum)]
    pub fail_on: Option<Severity>,
    /// Messages over this size are reported as errors, not read.
    #[arg(long, default_value_t = crate::source::DEFAULT_MAX_MESSAGE_BYTES)]
    pub max_message_bytes: u64,
    /// Messages per batch: one scorer call and one transaction each (a killed audit loses at most
    /// the batch in flight). Larger is faster, up to a point, and holds more in memory.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_BATCH)]
    pub batch: usize,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, clap::Args)]
pub struct AccountsArgs {
    /// Maildirs, mbox files, .eml files or directories to audit into the state first. Without
    /// PATH and --state: the sample mailbox, in its own sample state.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// SQLite state file written by `rapport audit`. Default: the config's `state`, else
    /// $XDG_STATE_HOME/rapport/state.sqlite3.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// The report's day (inclusive, UTC): YYYY-MM-DD, `today` (the default) or `latest` (the
    /// date of the newest audited message).
    #[arg(long, value_name = "DATE", default_value = "today")]
    pub as_of: String,
    /// Days the verdicts look back over: an account is email-only when it had email and no call
    /// or meeting in them.
    #[arg(long, value_name = "DAYS", default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub window_days: u32,
    /// One of our own domains (or addresses): internal, not a customer. Repeatable. Default: the
    /// domains of the senders of the audited mail.
    #[arg(long = "our-domain", value_name = "DOMAIN")]
    pub our_domains: Vec<String>,
    /// Accounts from a CRM export: CSV `account,domain_or_address` rows, or TOML
    /// `[[account]] name, domains, addresses`. Overrides the grouping by domain.
    #[arg(long, value_name = "FILE")]
    pub map: Option<PathBuf>,
    /// A calendar export (.ics): events whose attendees are in an account count as meetings.
    /// Repeatable.
    #[arg(long, value_name = "FILE.ics")]
    pub calendar: Vec<PathBuf>,
    /// A call log (CSV `date,contact,duration`; contact is an address or an account name).
    /// Repeatable.
    #[arg(long, value_name = "FILE.csv")]
    pub calls: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
    /// Write the report to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Accounts the table lists under "most need a call or a visit" (JSON, CSV and HTML list all).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// Messages over this size are reported as errors, not read (when auditing PATHs).
    #[arg(long, default_value_t = crate::source::DEFAULT_MAX_MESSAGE_BYTES)]
    pub max_message_bytes: u64,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// A code (R104) or name (passive-aggressive). Without one, list every code.
    pub code: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// The datasets folder.
    #[arg(long, default_value = "../shared/datasets")]
    pub data: PathBuf,
    /// Where to write the heads.
    #[arg(long, default_value = "models/tone-heads.safetensors")]
    pub out: PathBuf,
    #[arg(long, default_value_t = 20251123)]
    pub seed: i64,
    #[arg(long, default_value_t = 30)]
    pub epochs: usize,
    /// Use at most this many training rows per head (0 = all): a quick check of the pipeline.
    #[arg(long, default_value_t = 0)]
    pub limit: usize,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    #[arg(long, default_value = "../shared/datasets")]
    pub data: PathBuf,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, clap::Args)]
pub struct CalibrateArgs {
    #[arg(long, default_value = "../shared/datasets")]
    pub data: PathBuf,
    /// A label pass (`id<TAB>label`, 0/1/2); give exactly two.
    #[arg(long = "labels", default_values = ["models/calibration/labels-pass1.tsv", "models/calibration/labels-pass2.tsv"])]
    pub labels: Vec<PathBuf>,
    #[arg(long, default_value = "models/calibration/risk-weights.json")]
    pub out: PathBuf,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InboxFormat {
    Maildir,
    Mbox,
}

/// `1000`, `1k`, `100k`, `1m`.
fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim().to_ascii_lowercase();
    let (num, mult) = match t.strip_suffix('k') {
        Some(n) => (n, 1_000),
        None => match t.strip_suffix('m') {
            Some(n) => (n, 1_000_000),
            None => (t.as_str(), 1),
        },
    };
    match num.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n * mult),
        _ => Err(format!("{s:?} is not a size: use a count like 1000, 1k or 100k")),
    }
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Inbox sizes in messages, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1k,10k,100k", value_parser = parse_size)]
    pub sizes: Vec<usize>,
    /// Formats to audit: the maildir (fresh, then a re-run) and the same messages as an mbox
    /// (into the maildir's state: every verdict from the score cache; then a re-run).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "maildir,mbox")]
    pub formats: Vec<InboxFormat>,
    /// The AESLC JSON Lines file whose bodies fill the inboxes.
    #[arg(long, value_name = "FILE", default_value = "../shared/datasets/enron/aeslc_train.jsonl")]
    pub data: PathBuf,
    /// Where the inboxes (kept and reused) and the benchmark states go. Default:
    /// ~/.cache/rapport/bench.
    #[arg(long, value_name = "DIR")]
    pub work: Option<PathBuf>,
    /// A Python with torch, transformers and vaderSentiment, for the peers (scripts/bench.sh
    /// installs them and passes it). Without it the peers are skipped.
    #[arg(long, value_name = "PYTHON")]
    pub python: Option<PathBuf>,
    /// Rows the peers score: the bodies of the inbox's first N messages. Must be one of --sizes
    /// (default: the smallest).
    #[arg(long, value_name = "N", value_parser = parse_size)]
    pub peer_rows: Option<usize>,
    /// Messages timed one at a time for the per-message latency (0: skip).
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub latency_sample: usize,
    /// Also write the results as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes() {
        assert_eq!(super::parse_size("1k"), Ok(1000));
        assert_eq!(super::parse_size("100K"), Ok(100_000));
        assert_eq!(super::parse_size("250"), Ok(250));
        assert!(super::parse_size("0").is_err());
        assert!(super::parse_size("lots").unwrap_err().contains("1k"));
    }
}
