//! The command line (clap derive). Each subcommand has its own `*Args` struct.
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use rapport_core::findings::Severity;
use rapport_core::report::Format as ReportFormat;

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
    /// A language server on stdio for the editor you write mail in: findings as you type, hover
    /// explains, code actions apply rewrites (docs/editor.md).
    Lsp(LspArgs),
    /// Keep the tone model warm for `rapport check` and the others: a per-user scorer on a Unix
    /// socket ($XDG_RUNTIME_DIR/rapport/scorer.sock), exiting after an idle time.
    Serve(ServeArgs),
    /// Every dev metric of the tone model beside VADER and the v1 model (runs `rapport-model eval`;
    /// `rapport eval --help` lists its options).
    #[command(disable_help_flag = true)]
    Eval(PassThrough),
    /// Fit the misread-risk model on the email tone corpus (runs `rapport-model calibrate`).
    #[command(disable_help_flag = true)]
    Calibrate(PassThrough),
}

/// Arguments handed to `rapport-model` as they are.
#[derive(Debug, clap::Args)]
pub struct PassThrough {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "ARGS")]
    pub args: Vec<std::ffi::OsString>,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Exit after this many seconds without a request.
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    pub idle_timeout: u64,
    /// The socket (default: $RAPPORT_SOCKET, else $XDG_RUNTIME_DIR/rapport/scorer.sock).
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Stop the resident scorer that is running, if any, and exit.
    #[arg(long)]
    pub stop: bool,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: findings with the sentence highlighted in context.
    Text,
    /// For tools: one JSON document.
    Json,
}

#[derive(Debug, Clone, clap::Args)]
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
    /// Score in a process of this run's own even when a resident scorer (`rapport serve`) runs.
    #[arg(long)]
    pub no_resident: bool,
}

impl ModelArgs {
    pub fn options(&self) -> rapport_core::scoring::ModelOptions {
        rapport_core::scoring::ModelOptions {
            model_dir: self.model_dir.clone(),
            device: self.device.clone(),
            threads: self.threads,
            precision: self.precision.clone(),
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The draft: an .eml file, or `-` for standard input.
    #[arg(value_name = "FILE")]
    pub input: PathBuf,
    /// The input is plain text (the draft's body), not a mail message.
    #[arg(long)]
    pub text: bool,
    /// Exit 1 when a finding is at or above this severity (default: the config's `[check]
    /// fail-on`, else warning).
    #[arg(long, value_enum)]
    pub fail_on: Option<Severity>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// The audit state to read the draft's context from (its account, the message it answers)
    /// and to record --accept in. Default: the config's `state`, else
    /// $XDG_STATE_HOME/rapport/state.sqlite3, when it exists.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// The config file (its `[check]` section tunes the findings). Default:
    /// $XDG_CONFIG_HOME/rapport/config.toml (RAPPORT_CONFIG overrides).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Accept this finding (code or name) for the draft's account: it is recorded in the state,
    /// and from then on it is a note for that account. Repeatable.
    #[arg(long, value_name = "CODE")]
    pub accept: Vec<String>,
    /// Print nothing; only the exit code tells.
    #[arg(long, short)]
    pub quiet: bool,
    /// Colour: auto (when stdout is a terminal), always or never.
    #[arg(long, default_value = "auto")]
    pub color: ColorChoice,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, clap::Args)]
pub struct LspArgs {
    /// The audit state for context (default: the config's `state`, else
    /// $XDG_STATE_HOME/rapport/state.sqlite3, when it exists); re-read when it changes.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// The config file (its `[check]` section tunes the findings).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Accepted for editors that pass it; the server always speaks on standard input and output.
    #[arg(long, hide = true)]
    pub stdio: bool,
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
    /// Add each sentence's text, span and scores to the output.
    #[arg(long)]
    pub sentences: bool,
    #[command(flatten)]
    pub model: ModelArgs,
}

pub use rapport_core::audit::DEFAULT_BATCH;

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Sent mail: maildirs, mbox files, .eml files or directories of messages. Default: the
    /// sample mailbox shipped with rapport (examples/sample-sent).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Received mail (an inbox: maildir, mbox, .eml files or a directory), read as strictly as the
    /// sent mail, for the accounts report's replies and complaints. Repeatable.
    #[arg(long, value_name = "PATH")]
    pub received: Vec<PathBuf>,
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
    #[arg(long, default_value_t = rapport_core::source::DEFAULT_MAX_MESSAGE_BYTES)]
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
    /// Sent mail to audit into the state first (maildirs, mbox files, .eml files or
    /// directories). Without PATH and --state: the sample mailbox, in its own sample state.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Received mail to audit into the state first. Repeatable.
    #[arg(long, value_name = "PATH")]
    pub received: Vec<PathBuf>,
    /// SQLite state file written by `rapport audit`. Default: the config's `state`, else
    /// $XDG_STATE_HOME/rapport/state.sqlite3.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// The report's day (inclusive, UTC): YYYY-MM-DD, `today`, or `latest` (the date of the
    /// newest audited message). Default: `latest` when PATHs (or the sample) are read, since mail
    /// files are a snapshot; `today` for a --state alone.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
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
    /// Accounts the table lists under "most need a call or a visit" (JSON, CSV and HTML list all),
    /// and the accounts the --plan file holds.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// Also write an iCalendar file with one event for each of the top N accounts to call or
    /// visit, on the business days after the report's day, with the reasons; ready to import.
    #[arg(long, value_name = "FILE.ics")]
    pub plan: Option<PathBuf>,
    /// A message to more than this many external recipients is mass mail: it creates no account.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub mass_mail: u32,
    /// A customer needs at least this many messages (either way), or a call or meeting that
    /// happened; accounts with less are listed as excluded.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub min_messages: u32,
    /// A customer message with no answer after this many business days is listed as unanswered.
    #[arg(long, value_name = "DAYS", default_value_t = 2)]
    pub unanswered_days: u32,
    /// "Known for a long time but not seen": no call or meeting in this many days.
    #[arg(long, value_name = "DAYS", default_value_t = 180)]
    pub unseen_days: u32,
    /// Messages over this size are reported as errors, not read (when auditing PATHs).
    #[arg(long, default_value_t = rapport_core::source::DEFAULT_MAX_MESSAGE_BYTES)]
    pub max_message_bytes: u64,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// A code (R104) or name (passive-aggressive). Without one, list every code.
    pub code: Option<String>,
}
