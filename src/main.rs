//! The thin binary: parse the command line, run the command, map the outcome to an exit code
//! (0 nothing at or above --fail-on, 1 findings at or above it, 2 rapport failed).
use clap::Parser;

mod cli;
mod commands;

fn main() {
    let cli = cli::Cli::parse();
    let code = match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            if commands::is_broken_pipe(&e) {
                0
            } else {
                eprintln!("rapport: error: {e:#}");
                2
            }
        }
    };
    std::process::exit(code);
}
