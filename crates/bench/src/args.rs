//! The command line of `rapport-bench`.
use std::path::PathBuf;

use clap::ValueEnum;

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
    /// Another rapport build (say the previous release, with its own model) to audit the same
    /// maildir inboxes beside this one, fresh and re-run, in its own state: old and new side by
    /// side in one run.
    #[arg(long, value_name = "RAPPORT")]
    pub baseline: Option<PathBuf>,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ModelArgs {
    /// Folder with the encoder (default: the one set up by `make setup`).
    #[arg(long, value_name = "DIR")]
    pub model_dir: Option<PathBuf>,
    /// Where the model runs: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// libtorch threads (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// auto, f32 or bf16.
    #[arg(long, default_value = "auto", value_parser = ["auto", "f32", "bf16"])]
    pub precision: String,
}

impl ModelArgs {
    pub fn options(&self) -> rapport_core::scoring::ModelOptions {
        rapport_core::scoring::ModelOptions { model_dir: self.model_dir.clone(), device: self.device.clone(), threads: self.threads, precision: self.precision.clone() }
    }
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
