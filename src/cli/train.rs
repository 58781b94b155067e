//! `nesmm train`: train an LSTM on NES-MDB.

use clap::Args;
use nesmm::formats::nesmdb::Split;
use nesmm::learn::data::{count_vocab, default_data_path, load_notes};
use nesmm::learn::lstm::ModelKind;
use nesmm::learn::train::{train, TrainDevice, TrainOptions};
use std::path::PathBuf;

/// Train the reduced (pulse 1) or full (four-voice) LSTM or VAE on NES-MDB.
#[derive(Args)]
#[command(
    long_about = "Train an LSTM on the NES-MDB train split, validating on the valid split after \
                  each epoch. Writes <out>/config.json, <out>/model.safetensors (best validation \
                  NLL) and <out>/last/ (latest weights + optimizer state, for --resume). Unset \
                  options take the model's defaults, sized for a 2-core CPU.",
    after_help = "Example: nesmm train --model lstm-full --epochs 2 --out models/lstm-full\n         \
                  nesmm train --model lstm-reduced --max-songs 50 --max-minutes 2 --out /tmp/quick"
)]
pub struct TrainArgs {
    /// Which model.
    #[arg(long, value_enum, default_value = "lstm-full")]
    pub model: TrainModel,
    /// NES-MDB archive (.tar.gz) or folder [default: the seprsco archive in NESMDB_DIR].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Output folder [default: models/<model>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run saved in --out exactly where it stopped.
    #[arg(long)]
    pub resume: bool,
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
    /// Transformer: validate on a fixed sample of valid windows every N steps.
    #[arg(long)]
    pub valid_every: Option<usize>,
    /// Transformer: save a checkpoint generation at least this often (minutes).
    #[arg(long, default_value_t = 10.0)]
    pub checkpoint_minutes: f64,
    /// Start over in a folder that already holds a model (its files are replaced).
    #[arg(long)]
    pub force: bool,
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
    #[arg(long)]
    pub dropout: Option<f32>,
    /// Peak learning rate (warmup, then cosine decay).
    #[arg(long)]
    pub lr: Option<f64>,
    /// Warmup steps.
    #[arg(long)]
    pub warmup: Option<usize>,
    /// Global gradient-norm clip (0 = off).
    #[arg(long)]
    pub clip: Option<f64>,
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Largest random transposition of a window, in semitones (0 = off).
    #[arg(long)]
    pub augment: Option<i32>,
    /// LSTMs: reset the state at every window of shuffled windows (context of at most --seq
    /// frames), instead of the default: songs dealt to the batch rows with the state carried
    /// from each window to the next (context over the whole song; sampling then never resets
    /// the state).
    #[arg(long)]
    pub reset_state: bool,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Use only the first N songs of each split (quick runs).
    #[arg(long)]
    pub max_songs: Option<usize>,
    /// Stop (saving everything) after this many minutes.
    #[arg(long)]
    pub max_minutes: Option<f64>,
    /// Stop (saving everything) after this many optimizer steps in total.
    #[arg(long)]
    pub max_steps: Option<usize>,
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
    #[arg(long)]
    pub free_bits: Option<f32>,
    /// VAE: steps over which the KL weight rises from 0 to 1.
    #[arg(long)]
    pub kl_warmup: Option<usize>,
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
    let Some(kind) = a.model.kind() else {
        return super::train_transformer::run(a);
    };
    let d = TrainOptions::new(kind);
    let opts = TrainOptions {
        epochs: a.epochs.unwrap_or(d.epochs),
        batch: a.batch.unwrap_or(d.batch),
        seq: a.seq.unwrap_or(d.seq),
        hidden: a.hidden.unwrap_or(d.hidden),
        layers: a.layers.unwrap_or(d.layers),
        embed: a.embed.unwrap_or(d.embed),
        head_hidden: a.head_hidden.unwrap_or(d.head_hidden),
        dropout: a.dropout.unwrap_or(d.dropout),
        lr: a.lr.unwrap_or(d.lr),
        warmup: a.warmup.unwrap_or(d.warmup),
        clip: a.clip.unwrap_or(d.clip),
        weight_decay: a.weight_decay.unwrap_or(d.weight_decay),
        augment: a.augment.unwrap_or(d.augment),
        seed: a.seed,
        carry_state: d.carry_state && !a.reset_state,
        max_minutes: a.max_minutes,
        max_steps: a.max_steps,
        progress: !a.quiet,
        device: a.device,
        free_bits_on_resume: if a.resume { a.free_bits } else { None },
        vae: nesmm::learn::vae::VaeConfig {
            latent: a.latent.unwrap_or(d.vae.latent),
            enc_hidden: a.enc_hidden.unwrap_or(d.vae.enc_hidden),
            free_bits: a.free_bits.unwrap_or(d.vae.free_bits),
            kl_warmup: a.kl_warmup.unwrap_or(d.vae.kl_warmup),
            ..d.vae.clone()
        },
        ..d
    };
    let data = match a.data {
        Some(p) => p,
        None => default_data_path()?,
    };
    let out = a
        .out
        .unwrap_or_else(|| PathBuf::from("models").join(kind.name()));
    if !data.exists() {
        anyhow::bail!(
            "{}: no such file or folder (expected an NES-MDB .tar.gz, or a folder of \
             train/valid/test)\nhint: give --data the nesmdb24_seprsco.tar.gz you downloaded, or \
             leave --data out to use NESMDB_DIR",
            data.display()
        );
    }
    eprintln!("reading {} ...", data.display());
    let notes = load_notes(&data, &[Split::Train, Split::Valid], a.max_songs)?;
    let vocab = if a.resume {
        nesmm::learn::models::model_dir::read_config(&out)
            .map_err(|e| {
                anyhow::anyhow!("{e}\nhint: --resume needs the folder of an earlier run (--out)")
            })?
            .model
            .vocab
    } else {
        count_vocab(&kind.voices(), &notes[0])?
    };
    let train_set = notes[0].encode(&vocab);
    let valid_set = notes[1].encode(&vocab);
    // Training reads the token sets only: no second copy of the dataset stays in memory.
    drop(notes);
    eprintln!(
        "{}: {} train songs ({} frames), {} valid songs; writing {}",
        kind.name(),
        train_set.songs.len(),
        train_set.frames(),
        valid_set.songs.len(),
        out.display()
    );
    let report = train(&train_set, &valid_set, &opts, &out, a.resume)?;
    eprintln!(
        "done: {} steps, {:.0} frames/s, best valid NLL (VAE: -ELBO) {:.4} nats/frame",
        report.state.step,
        report.frames_per_sec,
        report.state.best_valid.unwrap_or(f64::NAN)
    );
    Ok(())
}
