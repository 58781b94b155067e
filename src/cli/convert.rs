//! `nesmm convert`: rewrite a score in another format.

use super::import_args::ImportArgs;
use super::info::with_hint;
use clap::Args;
use nesmm::formats::midi::MidiLayout;
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
    let out_format = FileFormat::from_path(&args.output)?;
    super::output_path::refuse_input_as_output(std::slice::from_ref(&args.input), &args.output)?;
    let loaded = super::info::load_song_full(&args.input, &args.import)?;
    let score = loaded.score;
    let layout = if args.gm_drums || (!args.nesmdb_layout && !loaded.nesmdb_form) {
        MidiLayout::GmDrums
    } else {
        MidiLayout::NesMdb
    };
    formats::save_score_as(&score, &args.output, layout).map_err(|e| with_hint(e, out_format))?;
    eprintln!(
        "wrote {} ({}, {} frames, {:.1} s)",
        args.output.display(),
        out_format.description(),
        score.len(),
        score.duration_secs()
    );
    Ok(())
}
