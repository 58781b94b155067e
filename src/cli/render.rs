//! `nesmm render`: a song (any score format, or a stream dump) -> a WAV file.

use anyhow::{bail, Context};
use clap::Args;
use nesmm::compile::{compile_song, LoopMode};
use nesmm::formats::FileFormat;
use nesmm::synth::{render, write_wav, RenderOptions};
use nesmm::{ApuStream, Region};
use std::path::PathBuf;

/// Render a song to a mono 16-bit WAV as the console's APU plays it.
#[derive(Args)]
pub struct RenderArgs {
    /// The song: a score (.seprsco.pkl, .exprsco.pkl, .mid, .vgm, .vgz, .nsf) or an APU stream
    /// dump (.txt, from `nesmm compile --stream-out`).
    pub song: PathBuf,
    /// The WAV file to write.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Play on a PAL console (50.007 Hz frames, PAL CPU clock and periods); NTSC otherwise.
    #[arg(long)]
    pub pal: bool,
    /// Sample rate in Hz.
    #[arg(long, default_value_t = 44_100, value_parser = parse_rate)]
    pub rate: u32,
    #[command(flatten)]
    pub import: super::import_args::ImportArgs,
}

/// `--rate`: 44100 or 48000.
fn parse_rate(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(r @ (44_100 | 48_000)) => Ok(r),
        _ => Err(format!("'{s}' is not a supported rate; use 44100 or 48000")),
    }
}

/// The stream to play: a dump as it is, or a score compiled for `region`.
fn load_stream(args: &RenderArgs, region: Region) -> anyhow::Result<ApuStream> {
    let song = &args.song;
    let format = FileFormat::of_input(song)
        .map_err(|e| super::info::with_hint(e, FileFormat::Seprsco))
        .with_context(|| format!("cannot tell what {} is", song.display()))?;
    // A FamiTracker text export is a score; any other .txt a stream dump.
    if format == FileFormat::StreamText && !nesmm::formats::famitracker::is_famitracker_file(song) {
        let bytes = nesmm::io::read_file(song).with_context(|| {
            format!(
                "cannot read the stream dump {}; check the path",
                song.display()
            )
        })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            anyhow::anyhow!(
                "{}: not UTF-8 text; give a stream dump from `nesmm compile --stream-out`",
                song.display()
            )
        })?;
        let stream = ApuStream::from_text(&text, &song.to_string_lossy())
            .with_context(|| format!("cannot read the stream dump {}", song.display()))?;
        if stream.region != region {
            bail!(
                "{} was compiled for {} but {} was asked for; drop or add --pal to match, or \
                 compile the score again for the other region",
                song.display(),
                stream.region.name().to_uppercase(),
                region.name().to_uppercase()
            );
        }
        return Ok(stream);
    }
    let score = super::info::load_song_with(song, &args.import)?;
    compile_song(&score, region, LoopMode::AsScore).with_context(|| {
        format!(
            "cannot compile {}; fix the value named below in the score",
            song.display()
        )
    })
}

pub fn run(args: RenderArgs) -> anyhow::Result<()> {
    super::output_path::expect_extension(&args.output, "render", "WAV audio", &["wav"])?;
    let region = if args.pal { Region::Pal } else { Region::Ntsc };
    let stream = load_stream(&args, region)?;
    let opts = RenderOptions {
        sample_rate: args.rate,
    };
    let samples = render(&stream, &opts);
    write_wav(&args.output, &samples, args.rate).with_context(|| {
        format!(
            "cannot write {}; check that its folder is writable",
            args.output.display()
        )
    })?;
    let peak = samples.iter().fold(0f32, |m, &s| m.max(s.abs()));
    println!(
        "{}: {} {} frames ({:.1} s) -> {} ({} samples at {} Hz, peak {:.1} dBFS)",
        stream.name,
        stream.region.name(),
        stream.len(),
        stream.duration_secs(),
        args.output.display(),
        samples.len(),
        args.rate,
        20.0 * f64::from(peak.max(1e-6)).log10()
    );
    Ok(())
}
