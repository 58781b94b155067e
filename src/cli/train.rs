//! `nesmm train`: train an LSTM on NES-MDB.

use clap::Args;
use nesmm::formats::nesmdb::Split;
use nesmm::learn::data::{count_vocab, default_data_path, load_notes};
use nesmm::learn::models::model_dir::read_config;
use nesmm::learn::models::ModelKind;
use nesmm::learn::train::stop::{catch_signals, signal_name};
use nesmm::learn::train::{train, TrainDevice, TrainOptions};
use std::path::PathBuf;

/// Train the reduced (pulse 1) or full (four-voice) LSTM or VAE on NES-MDB.
#[derive(Args)]
#[command(
    long_about = "Train an LSTM on the NES-MDB train split, validating on the valid split after \
                  each epoch. Writes <out>/config.json, <out>/model.safetensors (best validation \
                  NLL) and <out>/checkpoints/ (whole checkpoints: weights, optimizer state and \
                  progress, for --resume). Ctrl-C (SIGINT) or SIGTERM finishes the step, writes \
                  a checkpoint and exits with 130 / 143. One run per folder at a time; a folder \
                  that holds a model is refused unless --resume or --force. Unset options take \
                  the model's defaults (sized for a 2-core CPU) or, with --resume, the stored \
                  run's.",
    after_help = "Example: nesmm train --model lstm-full --epochs 2 --out models/lstm-full\n         \
                  nesmm train --model lstm-reduced --max-songs 50 --max-minutes 2 --out /tmp/quick"
)]
pub struct TrainArgs {
    /// Which model [default: lstm-full; with --resume, the stored run's].
    #[arg(long, value_enum)]
    pub model: Option<TrainModel>,
    /// NES-MDB archive (.tar.gz) or folder [default: the seprsco archive in NESMDB_DIR].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Output folder [default: models/<model>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run saved in --out exactly where it stopped (options that shape the run
    /// must match the stored ones or be left out).
    #[arg(long, conflicts_with = "force")]
    pub resume: bool,
    /// Replace the model already in --out (its weights and checkpoints are removed).
    #[arg(long)]
    pub force: bool,
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Sequences per batch.
    #[arg(long)]
    pub batch: Option<usize>,
    /// Frames per training window (truncated BPTT length; the VAE's window).
    #[arg(long)]
    pub seq: Option<usize>,
    /// Transformer: tokens per training window (the context it learns to use).
    #[arg(long)]
    pub context: Option<usize>,
    /// Transformer: model width.
    #[arg(long)]
    pub d_model: Option<usize>,
    /// Transformer: attention heads.
    #[arg(long)]
    pub heads: Option<usize>,
    /// Transformer: width of each block's MLP.
    #[arg(long)]
    pub d_ff: Option<usize>,
    /// Transformer: the event coding, notes (seprsco) or expressive (exprsco: notes with
    /// velocity and timbre tokens; reads the exprsco archive) [default: notes].
    #[arg(long)]
    pub coding: Option<String>,
    /// Transformer: start from the weights of this trained Transformer (same width, layers
    /// and heads; a note model can start an expressive one) instead of a seeded draw.
    #[arg(long)]
    pub init_from: Option<PathBuf>,
    /// Transformer: validate on a fixed sample of valid windows every N steps.
    #[arg(long)]
    pub valid_every: Option<usize>,
    #[arg(long)]
    pub hidden: Option<usize>,
    #[arg(long)]
    pub layers: Option<usize>,
    /// Embedding size per voice.
    #[arg(long)]
    pub embed: Option<usize>,
    /// Hidden size of each voice's output head.
    #[arg(long)]
    pub head_hidden: Option<usize>,
    #[arg(long, allow_negative_numbers = true)]
    pub dropout: Option<f32>,
    /// Peak learning rate (warmup, then cosine decay).
    #[arg(long, allow_negative_numbers = true)]
    pub lr: Option<f64>,
    /// Warmup steps.
    #[arg(long)]
    pub warmup: Option<usize>,
    /// Global gradient-norm clip (0 = off).
    #[arg(long, allow_negative_numbers = true)]
    pub clip: Option<f64>,
    #[arg(long, allow_negative_numbers = true)]
    pub weight_decay: Option<f64>,
    /// Largest random transposition of a window, in semitones (0 = off).
    #[arg(long, allow_negative_numbers = true)]
    pub augment: Option<i32>,
    /// Transformer: probability that a training window keeps only 1-3 random voices (LakhNES's
    /// voice dropping) [default: 0.5].
    #[arg(long)]
    pub voice_drop: Option<f32>,
    /// LSTMs: reset the state at every window of shuffled windows (context of at most --seq
    /// frames), instead of the default: songs dealt to the batch rows with the state carried
    /// from each window to the next (context over the whole song; sampling then never resets
    /// the state).
    #[arg(long)]
    pub reset_state: bool,
    /// Seed of the weights, data order, dropout and transpositions [default: 1].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Use only the first N songs of each split (quick runs).
    #[arg(long)]
    pub max_songs: Option<usize>,
    /// Stop (saving everything) after this many minutes.
    #[arg(long, allow_negative_numbers = true)]
    pub max_minutes: Option<f64>,
    /// Stop (saving everything) after this many optimizer steps in total.
    #[arg(long)]
    pub max_steps: Option<usize>,
    /// Write a checkpoint at least this often, in minutes (0 = after every step) [default: 5].
    #[arg(long, allow_negative_numbers = true)]
    pub checkpoint_minutes: Option<f64>,
    /// Where to train: cpu, or cuda / cuda:N (a build with `--features cuda`). The CPU runs
    /// the hand-written LSTM gradients; a GPU runs candle's autograd.
    #[arg(long, default_value = "cpu", value_parser = TrainDevice::parse)]
    pub device: TrainDevice,
    /// Compute threads [default: all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// VAE: latent dimensions.
    #[arg(long)]
    pub latent: Option<usize>,
    /// VAE: hidden size of each encoder direction.
    #[arg(long)]
    pub enc_hidden: Option<usize>,
    /// VAE: free bits, the least KL charged per latent dimension (nats). With --resume it
    /// changes the floor from there on (and in config.json).
    #[arg(long, allow_negative_numbers = true)]
    pub free_bits: Option<f32>,
    /// VAE: steps over which the KL weight rises from 0 to 1.
    #[arg(long)]
    pub kl_warmup: Option<usize>,
}

/// The options of the run: `base` (the model's defaults, or the stored run's on --resume)
/// with the flags given.
fn options(a: &TrainArgs, base: TrainOptions) -> TrainOptions {
    let d = base;
    TrainOptions {
        kind: a.model.and_then(TrainModel::kind).unwrap_or(d.kind),
        epochs: a.epochs.unwrap_or(d.epochs),
        batch: a.batch.unwrap_or(d.batch),
        seq: a.seq.unwrap_or(d.seq),
        hidden: a.hidden.unwrap_or(d.hidden),
        layers: a.layers.unwrap_or(d.layers),
        embed: a.embed.unwrap_or(d.embed),
        head_hidden: a.head_hidden.unwrap_or(d.head_hidden),
        dropout: a.dropout.unwrap_or(d.dropout),
        lr: a.lr.unwrap_or(d.lr),
        lr_floor: d.lr_floor,
        warmup: a.warmup.unwrap_or(d.warmup),
        clip: a.clip.unwrap_or(d.clip),
        weight_decay: a.weight_decay.unwrap_or(d.weight_decay),
        augment: a.augment.unwrap_or(d.augment),
        seed: a.seed.unwrap_or(d.seed),
        carry_state: d.carry_state && !a.reset_state,
        max_minutes: a.max_minutes,
        max_steps: a.max_steps,
        checkpoint_minutes: a.checkpoint_minutes.unwrap_or(d.checkpoint_minutes),
        progress: !a.quiet,
        device: a.device,
        free_bits_on_resume: if a.resume { a.free_bits } else { None },
        max_songs: a.max_songs.or(d.max_songs),
        force: a.force,
        vae: nesmm::learn::models::VaeConfig {
            latent: a.latent.unwrap_or(d.vae.latent),
            enc_hidden: a.enc_hidden.unwrap_or(d.vae.enc_hidden),
            free_bits: match (a.resume, a.free_bits) {
                (false, Some(fb)) => fb,
                _ => d.vae.free_bits,
            },
            kl_warmup: a.kl_warmup.unwrap_or(d.vae.kl_warmup),
            ..d.vae.clone()
        },
    }
}

/// The models `train` knows: the LSTMs and VAEs, and the event Transformer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TrainModel {
    /// Pulse 1 only.
    LstmReduced,
    /// All four voices, chained within a frame.
    LstmFull,
    /// Sequence VAE over fixed windows, pulse 1 only.
    VaeReduced,
    /// Sequence VAE over fixed windows, all four voices.
    VaeFull,
    /// Decoder-only Transformer over note-on / note-off / wait events.
    Transformer,
}

impl TrainModel {
    fn kind(self) -> Option<ModelKind> {
        match self {
            TrainModel::LstmReduced => Some(ModelKind::LstmReduced),
            TrainModel::LstmFull => Some(ModelKind::LstmFull),
            TrainModel::VaeReduced => Some(ModelKind::VaeReduced),
            TrainModel::VaeFull => Some(ModelKind::VaeFull),
            TrainModel::Transformer => None,
        }
    }
}

pub fn run(a: TrainArgs) -> anyhow::Result<()> {
    if let Some(t) = a.threads {
        std::env::set_var("RAYON_NUM_THREADS", t.max(1).to_string());
    }
    let resumes_transformer = a.resume
        && a.out.as_ref().is_some_and(|o| {
            nesmm::learn::train::transformer_checkpoint::stored_options(o)
                .is_ok_and(|s| s.is_some())
        });
    if a.model == Some(TrainModel::Transformer) || (a.model.is_none() && resumes_transformer) {
        return super::train_transformer::run(a);
    }
    let kind = a
        .model
        .and_then(TrainModel::kind)
        .unwrap_or(ModelKind::LstmFull);
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("models").join(kind.name()));
    // The stored run, read before anything else: its options fill the flags left out.
    let stored = if a.resume {
        let file = read_config(&out).map_err(|e| {
            anyhow::anyhow!("{e}\nhint: --resume needs the folder of an earlier run (--out)")
        })?;
        let opts: TrainOptions = serde_json::from_value(file.training.clone()).map_err(|e| {
            anyhow::anyhow!(
                "{}: training options: {e}",
                out.join("config.json").display()
            )
        })?;
        Some((opts, file.model.vocab))
    } else {
        None
    };
    let base = match &stored {
        Some((o, _)) => o.clone(),
        None => TrainOptions::new(kind),
    };
    let opts = options(&a, base);
    opts.check()?;
    if let Some((s, _)) = &stored {
        opts.check_resume(s, &out.join("config.json"))?;
    }
    let data = match a.data {
        Some(p) => p,
        None => default_data_path()?,
    };
    if !data.exists() {
        anyhow::bail!(
            "{}: no such file or folder (expected an NES-MDB .tar.gz, or a folder of \
             train/valid/test)\nhint: give --data the nesmdb24_seprsco.tar.gz you downloaded, or \
             leave --data out to use NESMDB_DIR",
            data.display()
        );
    }
    eprintln!("reading {} ...", data.display());
    let notes = load_notes(&data, &[Split::Train, Split::Valid], opts.max_songs)?;
    let vocab = match stored {
        Some((_, vocab)) => vocab,
        None => count_vocab(&opts.kind.voices(), &notes[0])?,
    };
    let train_set = notes[0].encode(&vocab);
    let valid_set = notes[1].encode(&vocab);
    // Training reads the token sets only: no second copy of the dataset stays in memory.
    drop(notes);
    eprintln!(
        "{}: {} train songs ({} frames), {} valid songs; writing {}",
        opts.kind.name(),
        train_set.songs.len(),
        train_set.frames(),
        valid_set.songs.len(),
        out.display()
    );
    catch_signals()?;
    let report = train(&train_set, &valid_set, &opts, &out, a.resume)?;
    if let Some(sig) = report.interrupted {
        eprintln!(
            "stopped by {} at step {}: checkpoint written; continue with `nesmm train --resume \
             --out {}`",
            signal_name(sig),
            report.state.step,
            out.display()
        );
        std::process::exit(128 + sig);
    }
    eprintln!(
        "done: {} steps, {:.0} frames/s, best valid NLL (VAE: -ELBO) {:.4} nats/frame",
        report.state.step,
        report.frames_per_sec,
        report.state.best_valid.unwrap_or(f64::NAN)
    );
    Ok(())
}
