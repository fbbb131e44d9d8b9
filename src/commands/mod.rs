//! One small file per command; each only gathers its inputs, calls the library and renders.
//! Each returns the exit code (0, 1) or an error (exit 2).
mod accounts;
mod audit;
mod check;
mod explain;
mod lsp;
mod model;
mod output;
mod score;
mod serve;

use std::path::{Path, PathBuf};

use crate::cli::{Cli, Command, ModelArgs};
use rapport_core::scoring::{self, ScorerInfo};
use rapport_core::verdict::{Assessor, ScoreError, SentenceScorer};

pub fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Check(a) => check::check(a),
        Command::Score(a) => score::score(a),
        Command::Audit(a) => audit::audit(a),
        Command::Accounts(a) => accounts::accounts(a),
        Command::Explain(a) => explain::explain(a),
        Command::Lsp(a) => lsp::lsp(a),
        Command::Serve(a) => serve::serve(a),
        Command::Eval(a) => model::pass_through("eval", a),
        Command::Calibrate(a) => model::pass_through("calibrate", a),
    }
}

/// True when the error is a closed stdout (`rapport check ... | head`): exit quietly.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}

/// The sample mailbox shipped with rapport.
pub fn sample_mailbox() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sample-sent")
}

/// An assessor that reaches the model only when a sentence needs scoring: the resident scorer
/// when one runs (unless --no-resident or other model options), else a child `rapport-model`.
/// `info` hears which one answered.
pub fn lazy_assessor(m: &ModelArgs, threads_if_unset: usize, info: std::rc::Rc<std::cell::RefCell<Option<ScorerInfo>>>) -> Assessor<'static> {
    let mut opts = m.options();
    if opts.threads == 0 {
        opts.threads = threads_if_unset;
    }
    let resident = !m.no_resident;
    Assessor::lazy(move || -> Result<Box<dyn SentenceScorer>, ScoreError> {
        let (s, i) = scoring::connect(&opts, resident)?;
        *info.borrow_mut() = Some(i);
        Ok(s)
    })
}

/// A progress display on standard error, shown only when it is a terminal.
pub struct Bar(indicatif::ProgressBar);

impl Bar {
    pub fn new() -> Self {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            return Bar(indicatif::ProgressBar::hidden());
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} {pos} messages, {per_sec}, {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        Bar(bar)
    }
}

impl rapport_core::audit::Progress for Bar {
    fn source(&self, name: &str) {
        self.0.set_message(name.to_string());
    }
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}
