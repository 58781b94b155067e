//! `nesmm convert`: rewrite a score in another format.

use super::info::with_hint;
use clap::{Args, ValueEnum};
use nesmm::formats::{self, famitracker, FileFormat, TrackerText};
use std::path::PathBuf;

/// Tracker text formats `--to` writes.
#[derive(Clone, Copy, ValueEnum)]
pub enum TrackerTarget {
    /// FamiTracker 0.4.6 text export (also imported by FamiStudio)
    Famitracker,
    /// FamiStudio text (FamiStudio 3.3 and later)
    Famistudio,
}

/// Convert a score between formats, chosen by the file names.
#[derive(Args)]
#[command(
    long_about = "Convert a score between formats. Both formats are chosen by the file names: \
                  .seprsco.pkl, .exprsco.pkl (NES-MDB pickles; a plain .pkl is written as \
                  seprsco), .mid/.midi, .vgm; a .txt input that is a FamiTracker text export is \
                  read as a score. With --to, the output is tracker text instead: one row per \
                  24 Hz frame, instruments found in the song, repeated patterns reused, the loop \
                  as Bxx. The output is written atomically: an error never leaves a \
                  half-written file.",
    after_help = "Examples: nesmm convert song.exprsco.pkl song.mid\n          \
                  nesmm convert song.exprsco.pkl song.txt --to famitracker\n          \
                  nesmm convert edited.txt edited.exprsco.pkl"
)]
pub struct ConvertArgs {
    /// The score to read.
    pub input: PathBuf,
    /// The file to write; its extension picks the format unless --to is given.
    pub output: PathBuf,
    /// Write tracker text in this format, whatever the output's extension.
    #[arg(long, value_enum)]
    pub to: Option<TrackerTarget>,
}

pub fn run(args: ConvertArgs) -> anyhow::Result<()> {
    // An output name nesmm cannot write is refused before the input is read.
    if args.to.is_none() {
        FileFormat::from_path(&args.output)?;
    }
    let in_format = FileFormat::from_path(&args.input)?;
    let score = if in_format == FileFormat::StreamText {
        // A FamiTracker text: read it here to report what the score could not hold.
        let bytes = nesmm::io::read_file(&args.input)?;
        if famitracker::is_famitracker_text(&bytes) {
            let import = famitracker::read_famitracker(&bytes, &args.input).map_err(|e| {
                anyhow::anyhow!(
                    "{e}\nhint: fix that line, or export the module again from FamiTracker 0.4.6"
                )
            })?;
            if !import.dropped.is_empty() {
                eprintln!(
                    "warning: {}: dropped what a score cannot hold: {}",
                    args.input.display(),
                    import.dropped.join("; ")
                );
            }
            import.score
        } else {
            formats::load_score(&args.input).map_err(|e| with_hint(e, in_format))?
        }
    } else {
        formats::load_score(&args.input).map_err(|e| with_hint(e, in_format))?
    };
    let description = if let Some(to) = args.to {
        let (format, name) = match to {
            TrackerTarget::Famitracker => (TrackerText::FamiTracker, "FamiTracker 0.4.6 text"),
            TrackerTarget::Famistudio => (TrackerText::FamiStudio, "FamiStudio text"),
        };
        for w in formats::save_tracker_text(&score, &args.output, format)? {
            eprintln!("warning: {}: {w}", args.output.display());
        }
        name
    } else {
        let out_format = FileFormat::from_path(&args.output)?;
        formats::save_score(&score, &args.output).map_err(|e| with_hint(e, out_format))?;
        out_format.description()
    };
    eprintln!(
        "wrote {} ({}, {} frames, {:.1} s)",
        args.output.display(),
        description,
        score.len(),
        score.duration_secs()
    );
    Ok(())
}
