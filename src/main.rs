//! `nesmm`: the command line, a thin layer over the nesmm library. Each subcommand lives in
//! its own file under `src/cli/`.

mod cli;

use clap::Parser;

fn main() {
    restore_sigpipe();
    let args = cli::Cli::parse();
    if let Err(e) = cli::run(args) {
        eprintln!("error: {}", message(&e));
        std::process::exit(1);
    }
}

/// A closed stdout (`nesmm build ... | head -1`) ends the program quietly, as it ends `cat`:
/// Rust ignores SIGPIPE, which turns the closed pipe into a panic in `println!`.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// The error and its causes, skipping a cause whose text the message already holds (our
/// `Error::Io` prints its I/O error after the path, and anyhow would print it again).
fn message(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str("\n  because: ");
            text.push_str(&c);
        }
    }
    text
}
