//! `nesmm demo`: a new song and every file to hear, see and play it.

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use nesmm::demo::{make_demo, DemoOptions, DEMO_STEPS};
use nesmm::viz::preview::EmbedMode;
use std::path::PathBuf;

/// Generate a new song with the bundled model and write it as ROM, NSF, WAV, MIDI, picture and
/// page.
#[derive(Args)]
#[command(
    long_about = "Generate a new song with the bundled LSTM (models/lstm-full) and write, in one \
                  folder: NAME.nes (an iNES ROM that plays it, looping), NAME.nsf (the same \
                  player as an NSF music file), NAME.wav (rendered \
                  with nesmm's APU synth), NAME.mid, NAME.png (the piano roll) and index.html \
                  (a self-contained preview page: player, piano roll with playhead, per-voice \
                  statistics, download links). NAME is nesmm-demo-SEED. Without --seed a new \
                  seed is drawn and printed, so any demo can be made again.",
    after_help = "Example: nesmm demo -o roms/demo --seed 7"
)]
pub struct DemoArgs {
    /// Folder to write to.
    #[arg(short, long, default_value = "roms/demo")]
    pub output: PathBuf,
    /// Seed of the song [default: a new one, printed].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Length of the song in seconds.
    #[arg(long, default_value_t = 40.0)]
    pub seconds: f64,
    /// Model folder [default: the bundled models/lstm-full].
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Put the WAV inside index.html: auto (when at most 4 MiB), always, never (link the .wav).
    #[arg(long, default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub embed: String,
}

pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_secs() % 100_000)
    });
    let mut opts = DemoOptions::new(&args.output, seed);
    opts.seconds = args.seconds;
    opts.model = args.model;
    opts.embed = args
        .embed
        .parse::<EmbedMode>()
        .map_err(anyhow::Error::msg)?;

    let bar = ProgressBar::new(DEMO_STEPS.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:28} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let files = make_demo(&opts, &mut |i| {
        bar.set_position(i as u64);
        bar.set_message(DEMO_STEPS[i]);
    });
    bar.finish_and_clear();
    let files = files.map_err(|e| {
        let hint = match e {
            nesmm::Error::Io { .. } => "check that the output folder is writable (-o DIR)",
            _ => "see `nesmm demo --help`",
        };
        anyhow::anyhow!("{e}\nhint: {hint}")
    })?;

    let secs = files.score.duration_secs();
    println!(
        "Made a {:.0}-second song (seed {seed}, model {}) in {}:",
        secs,
        files.model_dir.display(),
        args.output.display()
    );
    for f in files.all() {
        println!("  {}", f.display());
    }
    println!(
        "\nListen and look: open {} in a web browser.\n\
         Play the NSF in an NSF player (NSFPlay, foobar2000 with foo_gep, or any Game Music \
         Emu player): {}\n\
         Play the ROM in an emulator: Mesen (https://www.mesen.ca) or FCEUX: `fceux {}`.\n\
         On a real NES: copy the .nes to a flash cart's SD card (EverDrive N8, PowerPak) and \
         start it from the cart's menu.\n\
         Same song again: nesmm demo --seed {seed}",
        files.html.display(),
        files.nsf.display(),
        files.nes.display()
    );
    Ok(())
}
