//! The thin binary: parse the command line, run, map the outcome to an exit code.
use clap::Parser;

fn main() {
    let cli = rapport::cli::Cli::parse();
    let code = match rapport::run(cli) {
        Ok(code) => code,
        Err(e) => {
            if rapport::is_broken_pipe(&e) {
                0
            } else {
                eprintln!("rapport: error: {e:#}");
                2
            }
        }
    };
    std::process::exit(code);
}
