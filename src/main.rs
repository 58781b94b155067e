//! `nesmm`: the command line, a thin layer over the nesmm library. Each subcommand lives in
//! its own file under `src/cli/`.

mod cli;

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
    if let Err(e) = cli::run(args) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
