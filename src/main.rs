//! `nesmm`: the command line, a thin layer over the nesmm library. Each subcommand lives in
//! its own file under `src/cli/`.

mod cli;

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
    if let Err(e) = cli::run(args) {
        eprintln!("error: {}", message(&e));
        std::process::exit(1);
    }
}

/// The error and its causes, skipping a cause whose text the message already holds (our
/// `Error::Io` prints its I/O error after the path, and anyhow would print it again).
fn message(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
    }
    text
}
