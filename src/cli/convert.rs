//! `nesmm convert`: rewrite a score in another format.

use super::info::with_hint;
use clap::Args;
use nesmm::formats::{self, FileFormat};
use std::path::PathBuf;

/// Convert a score between formats, chosen by the file names.
#[derive(Args)]
#[command(
    long_about = "Convert a score between formats. Both formats are chosen by the file names: \
                  .seprsco.pkl, .exprsco.pkl (NES-MDB pickles; a plain .pkl is written as \
                  seprsco), .mid/.midi, .vgm. The output is written atomically: an error never \
                  leaves a half-written file.",
    after_help = "Example: nesmm convert song.exprsco.pkl song.mid"
)]
pub struct ConvertArgs {
    /// The score to read.
    pub input: PathBuf,
    /// The file to write; its extension picks the format.
    pub output: PathBuf,
}

pub fn run(args: ConvertArgs) -> anyhow::Result<()> {
    let out_format = FileFormat::from_path(&args.output)?;
    let in_format = FileFormat::from_path(&args.input)?;
    let score = formats::load_score(&args.input).map_err(|e| with_hint(e, in_format))?;
    formats::save_score(&score, &args.output).map_err(|e| with_hint(e, out_format))?;
    eprintln!(
        "wrote {} ({}, {} frames, {:.1} s)",
        args.output.display(),
        out_format.description(),
        score.len(),
        score.duration_secs()
    );
    Ok(())
}
