//! `--loop` / `--no-loop`, shared by `build`, `nsf` and `export-ca65`.

use clap::Args;
use nesmm::compile::LoopMode;

/// What every song does at its end.
#[derive(Args, Debug, Clone, Copy)]
pub struct LoopArgs {
    /// Loop every song (to its loop point, or to its start).
    #[arg(long = "loop", conflicts_with = "no_loop")]
    pub loop_all: bool,
    /// Stop every song at its end.
    #[arg(long)]
    pub no_loop: bool,
}

impl LoopArgs {
    /// The mode; neither flag keeps each score's own loop point (or stop).
    pub fn mode(self) -> LoopMode {
        if self.loop_all {
            LoopMode::Loop
        } else if self.no_loop {
            LoopMode::NoLoop
        } else {
            LoopMode::AsScore
        }
    }
}
