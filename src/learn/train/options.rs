//! The options of a training run: hyper-parameters, limits and where it runs. Those that shape
//! the run are stored in the model's `config.json` (`training`), so `--resume` continues it.

use super::device::TrainDevice;
use crate::learn::data::vocab::Vocab;
use crate::learn::models::{ModelConfig, ModelKind, VaeConfig};
use serde::{Deserialize, Serialize};

/// Hyper-parameters and limits of a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    pub kind: ModelKind,
    pub epochs: usize,
    pub batch: usize,
    pub seq: usize,
    pub embed: usize,
    pub hidden: usize,
    pub layers: usize,
    pub head_hidden: usize,
    pub dropout: f32,
    pub lr: f64,
    /// Final learning rate as a fraction of `lr`.
    pub lr_floor: f64,
    pub warmup: usize,
    pub weight_decay: f64,
    pub clip: f64,
    pub seed: u64,
    /// Largest transposition in semitones (0 = no augmentation).
    pub augment: i32,
    /// Stop (after saving) once this many optimizer steps are done in total.
    pub max_steps: Option<usize>,
    /// Stop (after saving) after this many minutes of this invocation.
    pub max_minutes: Option<f64>,
    /// Save `last/` at least this often (minutes).
    pub checkpoint_minutes: f64,
    /// Show a progress bar.
    pub progress: bool,
    /// LSTMs: carry the state from each window to the next window of the same song (songs
    /// dealt to batch lanes) instead of resetting it per shuffled window. Sampling then runs
    /// the state over the whole song.
    #[serde(default)]
    pub carry_state: bool,
    /// VAE only: latent size, encoder LSTM size, free bits (nats per latent dimension) and KL
    /// warmup steps (see the `vae` module); `seq` is the VAE's window.
    #[serde(default)]
    pub vae: VaeConfig,
    /// Where the model trains (not stored: a run may resume on another device).
    #[serde(skip)]
    pub device: TrainDevice,
    /// `--resume` of a VAE only: a new free-bits floor from here on (written to config.json).
    #[serde(skip)]
    pub free_bits_on_resume: Option<f32>,
}

impl TrainOptions {
    /// Defaults for `kind`, sized for a 2-core CPU: the bundled models were trained with them
    /// (and `epochs` 6 / 3). Dropout is off because a few epochs of 3.5 M frames leave a model
    /// of this size underfitted, not overfitted. LSTMs carry their state across windows (see
    /// the `dataset` module); a VAE encodes one window at a time.
    pub fn new(kind: ModelKind) -> TrainOptions {
        TrainOptions {
            kind,
            epochs: 2,
            batch: 32,
            seq: 64,
            embed: 32,
            hidden: 128,
            layers: 2,
            head_hidden: 64,
            dropout: 0.0,
            lr: 3e-3,
            lr_floor: 0.05,
            warmup: 200,
            weight_decay: 0.01,
            clip: 1.0,
            seed: 1,
            augment: 0,
            max_steps: None,
            max_minutes: None,
            checkpoint_minutes: 5.0,
            progress: true,
            carry_state: !kind.is_vae(),
            vae: VaeConfig::default(),
            device: TrainDevice::Cpu,
            free_bits_on_resume: None,
        }
        .with_vae_defaults()
    }

    pub(super) fn model_config(&self, vocab: Vocab) -> ModelConfig {
        ModelConfig {
            kind: self.kind,
            vocab,
            embed: self.embed,
            hidden: self.hidden,
            layers: self.layers,
            head_hidden: self.head_hidden,
            dropout: self.dropout,
            vae: self.kind.is_vae().then(|| VaeConfig {
                window: self.seq,
                ..self.vae.clone()
            }),
        }
    }

    /// The VAE kinds' defaults (one decoder layer, a lower learning rate); others unchanged.
    pub fn with_vae_defaults(self) -> TrainOptions {
        if !self.kind.is_vae() {
            return self;
        }
        TrainOptions {
            seq: 64,
            embed: 16,
            hidden: 192,
            layers: 1,
            head_hidden: 96,
            dropout: 0.1,
            lr: 2e-3,
            ..self
        }
    }
}
