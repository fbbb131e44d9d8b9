//! One function per subcommand. Each returns the process exit code (0, 1) or an error (exit 2).
pub mod accounts;
pub mod audit;
pub mod bench;
pub mod check;
pub mod model;
pub mod score;

use std::path::PathBuf;

use crate::cli::{Cli, Command};

/// `$RAPPORT_CACHE`, else `$XDG_CACHE_HOME/rapport`, else `~/.cache/rapport`.
pub fn cache_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("RAPPORT_CACHE").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    xdg("XDG_CACHE_HOME", ".cache").join("rapport")
}

/// `$XDG_STATE_HOME/rapport`, else `~/.local/state/rapport`.
pub fn state_dir() -> PathBuf {
    xdg("XDG_STATE_HOME", ".local/state").join("rapport")
}

fn xdg(var: &str, fallback: &str) -> PathBuf {
    std::env::var_os(var)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(fallback)))
        .unwrap_or_else(|| PathBuf::from(fallback))
}

pub fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Train(a) => model::train(a),
        Command::Eval(a) => model::eval(a),
        Command::Calibrate(a) => model::calibrate(a),
        Command::Check(a) => check::check(a),
        Command::Score(a) => score::score(a),
        Command::Audit(a) => audit::audit(a),
        Command::Accounts(a) => accounts::accounts(a),
        Command::Explain(a) => explain(a),
        Command::Bench(a) => bench::bench(a),
    }
}

/// A progress bar over `len` steps on standard error (hidden when it is not a terminal).
pub fn progress(len: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(250));
    bar
}

fn explain(a: crate::cli::ExplainArgs) -> anyhow::Result<i32> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match a.code {
        Some(code) => match crate::rules::explain(&code) {
            Some(r) => writeln!(out, "{} {} ({})\n\n{}", r.code, r.name, r.default_severity.as_str(), r.explanation)?,
            None => anyhow::bail!("no finding has the code or name {code:?}; `rapport explain` lists them all"),
        },
        None => {
            for r in crate::rules::RULES {
                writeln!(out, "{:<5} {:<22} {}", r.code, r.name, r.default_severity.as_str())?;
            }
        }
    }
    Ok(0)
}
