//! `nesmm plot`: the piano roll of a score as a PNG.

use super::import_args::ImportArgs;
use clap::Args;
use nesmm::viz::pianoroll::{write_piano_roll, PianoRollOptions};
use std::path::PathBuf;

/// Draw a score's four voices as a piano-roll PNG.
#[derive(Args)]
#[command(
    long_about = "Draw a score as a piano roll: the melodic voices on one pitch axis (P1 red, \
                  P2 green, TR blue), the noise in its own lane (purple), time in seconds \
                  along the bottom, a grey line under every C. The picture is 24 pixels per \
                  second (one per NES-MDB frame) up to --max-width pixels; longer songs are \
                  squeezed. Reads .seprsco.pkl, .exprsco.pkl, .pkl, .mid, .rmi, .vgm, .vgz, .nsf, .nsfe.",
    after_help = "Example: nesmm plot song.exprsco.pkl -o roll.png"
)]
pub struct PlotArgs {
    /// The score to draw.
    pub song: PathBuf,
    /// The PNG to write.
    #[arg(short, long, default_value = "roll.png")]
    pub output: PathBuf,
    /// Widest picture in pixels.
    #[arg(long, default_value_t = 8192, value_parser = clap::value_parser!(u32).range(600..=32768))]
    pub max_width: u32,
    #[command(flatten)]
    pub import: ImportArgs,
}

pub fn run(args: PlotArgs) -> anyhow::Result<()> {
    super::output_path::expect_extension(&args.output, "plot", "a PNG picture", &["png"])?;
    let score = super::info::load_song_with(&args.song, &args.import)?;
    let opts = PianoRollOptions {
        max_width: args.max_width,
        ..PianoRollOptions::default()
    };
    write_piano_roll(&score, &args.output, &opts)?;
    eprintln!(
        "wrote {} ({:.1} s of {})",
        args.output.display(),
        score.duration_secs(),
        score.name
    );
    Ok(())
}
