//! `nesmm convert`: rewrite a score in another format.

use super::import_args::ImportArgs;
use super::info::with_hint;
use clap::{Args, ValueEnum};
use nesmm::formats::midi::MidiLayout;
use nesmm::formats::{self, FileFormat, TrackerText};
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
    #[command(flatten)]
    pub import: ImportArgs,
    /// MIDI output: write the noise as General MIDI drum notes for a DAW [default when the
    /// input is not in one of NES-MDB's forms: an NSF, an ordinary MIDI].
    #[arg(long, conflicts_with = "nesmdb_layout")]
    pub gm_drums: bool,
    /// MIDI output: NES-MDB's layout (noise values 1..16 on channel 10), for exact round
    /// trips [default for NES-MDB pickles, VGM logs and MIDIs in that layout].
    #[arg(long)]
    pub nesmdb_layout: bool,
}

pub fn run(args: ConvertArgs) -> anyhow::Result<()> {
    // An output name nesmm cannot write is refused before the input is read.
    if args.to.is_none() {
        FileFormat::from_path(&args.output)?;
    }
    super::output_path::refuse_input_as_output(std::slice::from_ref(&args.input), &args.output)?;
    // A FamiTracker text's dropped effects come back as the loader's notes (printed there).
    let loaded = super::info::load_song_full(&args.input, &args.import)?;
    let score = loaded.score;
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
        let layout = if args.gm_drums || (!args.nesmdb_layout && !loaded.nesmdb_form) {
            MidiLayout::GmDrums
        } else {
            MidiLayout::NesMdb
        };
        formats::save_score_as(&score, &args.output, layout)
            .map_err(|e| with_hint(e, out_format))?;
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
