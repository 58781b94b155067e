//! `nesmm generate`: sample a song from a trained model.

use super::model_arg::model_dir;
use clap::Args;
use nesmm::learn::generate::{generate, GenerateOptions, Model};
use nesmm::learn::vae_decode;
use nesmm::output::{write_songs, OutputOptions};
use nesmm::output_lock::OutputLock;
use nesmm::Region;
use std::path::PathBuf;

/// Generate a song with an LSTM (the bundled four-voice model by default).
#[derive(Args)]
#[command(
    long_about = "Sample a song frame by frame from a trained model, from nothing or from the \
                  first seconds of a primer song. The same model, options and seed always give \
                  the same song. The output format follows the file name (.seprsco.pkl, \
                  .exprsco.pkl, ...).",
    after_help = "Example: nesmm generate --seed 7 --seconds 45 -o song.seprsco.pkl\n         \
                  nesmm generate --seed 7 -o song.mid -o song.nes -o song.wav\n         \
                  nesmm generate --primer theme.seprsco.pkl --primer-seconds 4 -o more.seprsco.pkl"
)]
pub struct GenerateArgs {
    /// Model folder or bundled model name (lstm-full, lstm-reduced, vae-full, vae-reduced)
    /// [default: the bundled models/lstm-full].
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Song whose beginning starts the generated one.
    #[arg(long)]
    pub primer: Option<PathBuf>,
    /// How much of the primer to keep.
    #[arg(long, default_value_t = 4.0, allow_negative_numbers = true)]
    pub primer_seconds: f64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Softmax temperature (lower = safer, higher = wilder) [default: 1 for the LSTMs and
    /// VAEs, the model's own for the Transformer].
    #[arg(long)]
    pub temperature: Option<f32>,
    /// Sample among the K most likely notes (Transformer: tokens) only (0 = all) [default: 0
    /// for the LSTMs and VAEs, the model's own for the Transformer].
    #[arg(long)]
    pub top_k: Option<usize>,
    /// Transformer: sample among the most likely tokens whose probabilities sum to P (1 = all).
    #[arg(long, default_value_t = 1.0)]
    pub top_p: f32,
    /// Transformer: where top-k and top-p cut: `global` (over all tokens, as LakhNES) or
    /// `per-kind` (within each voice's note-ons, the note-offs, the waits: every kind keeps its
    /// share, so no voice is starved).
    #[arg(long, default_value = "global")]
    pub truncation: nesmm::learn::sample::draw::Truncation,
    /// Transformer: tokens the model attends to (a sliding window) [default: its training
    /// context].
    #[arg(long)]
    pub window: Option<usize>,
    /// Transformer: write an intro and a loop body whose end flows back into the loop start
    /// (the loop point that `build` and `nsf` honour), chosen where the model finds the jump
    /// back most likely.
    #[arg(long = "loop")]
    pub looped: bool,
    /// Transformer: sample from the model alone, without the song cache of its folder
    /// (song_cache.json, written by `nesmm fit-cache`).
    #[arg(long)]
    pub no_cache: bool,
    /// Length in seconds (primer included).
    #[arg(long, default_value_t = 30.0, allow_negative_numbers = true)]
    pub seconds: f64,
    /// VAE: correlation of successive windows' latents (0 = independent windows).
    #[arg(long, default_value_t = 0.8)]
    pub walk: f32,
    /// LSTM state refresh period in frames (0 = carry the state over whole songs) [default:
    /// the model's own: 0 (whole songs), or half its training window if trained with
    /// --reset-state]
    #[arg(long)]
    pub refresh: Option<usize>,
    /// Frames of complete silence after which sampling starts a new phrase (0 = never).
    #[arg(long, default_value_t = nesmm::learn::generate::RESTART_AFTER_SILENCE)]
    pub restart_after_silence: usize,
    /// Output file: a score (.seprsco.pkl, .exprsco.pkl, .mid, .vgm), or .wav, .nes, .nsf,
    /// .nsfe to go straight through the compiler and builder. Give it again for more files of
    /// the same song (`-o a.mid -o a.seprsco.pkl -o a.nes`).
    #[arg(short, long, required = true)]
    pub output: Vec<PathBuf>,
    /// Build .wav/.nes/.nsf outputs for PAL consoles (50 Hz).
    #[arg(long)]
    pub pal: bool,
}

pub fn run(a: GenerateArgs) -> anyhow::Result<()> {
    GenerateOptions {
        seconds: a.seconds,
        primer_seconds: a.primer_seconds,
        temperature: a.temperature.unwrap_or(1.0),
        ..Default::default()
    }
    .check()?;
    let _locks = lock_outputs(&a.output)?;
    let dir = model_dir(a.model.as_deref(), "lstm-full")?;
    nesmm::learn::models::transformer_dir::check_architecture(&dir)?;
    if nesmm::learn::models::transformer_dir::is_transformer(&dir) {
        return super::generate_transformer::run(&a, &dir);
    }
    if a.looped || a.window.is_some() || a.top_p != 1.0 {
        anyhow::bail!(
            "--loop, --window and --top-p work with the Transformer only (--model transformer)"
        );
    }
    if vae_decode::is_vae_dir(&dir)? {
        return run_vae(&a, &dir);
    }
    let model = Model::load(&dir).map_err(|e| {
        anyhow::anyhow!("{e}\nhint: --model must be a folder written by `nesmm train`")
    })?;
    let primer = match &a.primer {
        Some(p) => Some(super::info::load_song(p)?),
        None => None,
    };
    let name = output_name(&a);
    let opts = GenerateOptions {
        seconds: a.seconds,
        seed: a.seed,
        temperature: a.temperature.unwrap_or(1.0),
        top_k: a.top_k.unwrap_or(0),
        primer,
        primer_seconds: a.primer_seconds,
        name,
        refresh: a.refresh,
        restart_after_silence: a.restart_after_silence,
    };
    let score = generate(&model, &opts)?;
    let out = OutputOptions {
        region: if a.pal { Region::Pal } else { Region::Ntsc },
        title: score.name.clone(),
        ..Default::default()
    };
    write_all(&a, &score, &out, &dir)
}

/// Takes `FILE.lock` beside each output file, before any work: one `generate` at a time writes
/// a set of files, so they all hold one song. A second writer is refused naming the holder.
fn lock_outputs(outputs: &[PathBuf]) -> anyhow::Result<Vec<OutputLock>> {
    let mut paths: Vec<&PathBuf> = outputs.iter().collect();
    paths.sort();
    paths.dedup();
    Ok(paths
        .into_iter()
        .map(|p| OutputLock::beside(p, ""))
        .collect::<nesmm::Result<Vec<_>>>()?)
}

/// The song's name: the first output file's name up to its first dot.
pub(crate) fn output_name(a: &GenerateArgs) -> String {
    a.output
        .first()
        .and_then(|p| p.file_name())
        .map(|n| {
            n.to_string_lossy()
                .split('.')
                .next()
                .unwrap_or("generated")
                .to_string()
        })
        .unwrap_or_else(|| "generated".into())
}

/// A VAE samples latents from the prior (a random walk over windows) and decodes them.
fn run_vae(a: &GenerateArgs, dir: &std::path::Path) -> anyhow::Result<()> {
    if a.primer.is_some() {
        anyhow::bail!("--primer works with the LSTMs only\nhint: to re-imagine a song with a VAE use `nesmm vary <song> --model {}`", dir.display());
    }
    let model = vae_decode::VaeModel::load(dir)?;
    let opts = vae_decode::VaeOptions {
        seed: a.seed,
        temperature: a.temperature.unwrap_or(1.0),
        top_k: a.top_k.unwrap_or(0),
        walk: a.walk,
    };
    let score = vae_decode::generate(&model, a.seconds, &output_name(a), &opts)?;
    let out = OutputOptions {
        region: if a.pal { Region::Pal } else { Region::Ntsc },
        title: score.name.clone(),
        ..Default::default()
    };
    write_all(a, &score, &out, dir)
}

/// Writes the song to every output file, in order (each one atomically).
pub(crate) fn write_all(
    a: &GenerateArgs,
    score: &nesmm::score::Score,
    out: &OutputOptions,
    dir: &std::path::Path,
) -> anyhow::Result<()> {
    for path in &a.output {
        write_songs(std::slice::from_ref(score), path, out)?;
        eprintln!(
            "wrote {} ({} frames, {:.1} s, model {})",
            path.display(),
            score.len(),
            score.duration_secs(),
            dir.display()
        );
    }
    Ok(())
}
