//! `rapport-bench`: a developer tool, not part of the product. It builds synthetic-but-real inboxes
//! (real Enron bodies in Enron-style headers) and measures `rapport audit` on them end to end,
//! beside Python peers over the same rows (bench/README.md).
mod args;
mod driver;

use rapport_bench::synth;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(name = "rapport-bench", version, about = "Measure rapport audits on large synthetic inboxes (1k, 10k, 100k messages of real Enron text), beside Python peers")]
struct Cli {
    #[command(flatten)]
    args: args::BenchArgs,
}

fn main() {
    let cli = Cli::parse();
    match driver::bench(cli.args) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("rapport-bench: error: {e:#}");
            std::process::exit(2);
        }
    }
}
