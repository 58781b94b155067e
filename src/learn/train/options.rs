//! The options of a training run: hyper-parameters, limits and where it runs. Those that shape
//! the run are stored in the model's `config.json` (`training`), so `--resume` continues it.

use super::device::TrainDevice;
use crate::error::{Error, Result};
use crate::learn::data::vocab::Vocab;
use crate::learn::models::{ModelConfig, ModelKind, VaeConfig};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    /// The data: at most this many songs of each split (stored, so a resume reads the same
    /// songs).
    #[serde(default)]
    pub max_songs: Option<usize>,
    /// Replace the model already in the output folder (not stored).
    #[serde(skip)]
    pub force: bool,
}

/// Options that limit or show a run without changing what it computes: a resume may change
/// them. Every other stored option shapes the run. (`epochs` may be raised on resume: that
/// stretches the learning-rate schedule from there on, as the README says.)
const NOT_SHAPING: [&str; 5] = [
    "max_steps",
    "max_minutes",
    "checkpoint_minutes",
    "progress",
    "epochs",
];

/// The CLI flag of a stored option.
fn flag(key: &str) -> String {
    match key {
        "kind" => "--model".into(),
        "carry_state" => "--reset-state".into(),
        "vae.window" => "--seq".into(),
        _ => format!("--{}", key.trim_start_matches("vae.").replace('_', "-")),
    }
}

fn check_range<T: PartialOrd + std::fmt::Display>(
    name: &str,
    v: T,
    lo: T,
    hi: T,
    accepted: &str,
) -> Result<()> {
    // NaN fails both comparisons and is refused too.
    if v >= lo && v <= hi {
        Ok(())
    } else {
        Err(Error::Unsupported(format!(
            "{} {v} is out of range (accepted: {accepted})",
            flag(name)
        )))
    }
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
            max_songs: None,
            force: false,
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

    /// Checks every number before any work is done; an error names the flag and the accepted
    /// range.
    pub fn check(&self) -> Result<()> {
        let pos = |name: &str, v: usize, hi: usize| {
            let accepted = if hi == usize::MAX {
                "at least 1".to_string()
            } else {
                format!("1 to {hi}")
            };
            check_range(name, v, 1, hi, &accepted)
        };
        pos("epochs", self.epochs, 1_000_000)?;
        pos("batch", self.batch, 4096)?;
        pos("seq", self.seq, 4096)?;
        pos("embed", self.embed, 4096)?;
        pos("hidden", self.hidden, 8192)?;
        pos("layers", self.layers, 16)?;
        pos("head_hidden", self.head_hidden, 8192)?;
        check_range("dropout", self.dropout, 0.0, 0.999, "0 to 0.999")?;
        check_range("lr", self.lr, 1e-9, 10.0, "1e-9 to 10")?;
        check_range("lr_floor", self.lr_floor, 0.0, 1.0, "0 to 1")?;
        check_range("weight_decay", self.weight_decay, 0.0, 10.0, "0 to 10")?;
        check_range("clip", self.clip, 0.0, 1e6, "0 (off) to 1e6")?;
        check_range("augment", self.augment, 0, 24, "0 (off) to 24 semitones")?;
        if let Some(s) = self.max_steps {
            pos("max_steps", s, usize::MAX)?;
        }
        if let Some(m) = self.max_minutes {
            check_range("max_minutes", m, 1e-3, 1e7, "0.001 to 1e7")?;
        }
        check_range(
            "checkpoint_minutes",
            self.checkpoint_minutes,
            0.0,
            1e7,
            "0 to 1e7",
        )?;
        if let Some(n) = self.max_songs {
            pos("max_songs", n, usize::MAX)?;
        }
        if self.kind.is_vae() {
            pos("vae.latent", self.vae.latent, 1024)?;
            pos("vae.enc_hidden", self.vae.enc_hidden, 8192)?;
            check_range("vae.free_bits", self.vae.free_bits, 0.0, 100.0, "0 to 100")?;
        }
        if let Some(fb) = self.free_bits_on_resume {
            check_range("vae.free_bits", fb, 0.0, 100.0, "0 to 100")?;
        }
        Ok(())
    }

    /// Refuses to resume the run stored in `config` (its `config.json`) with these options
    /// when any option that shapes the run differs, naming each.
    pub fn check_resume(&self, stored: &TrainOptions, config: &std::path::Path) -> Result<()> {
        let differ = self.shaping_differences(stored);
        if differ.is_empty() {
            return Ok(());
        }
        Err(Error::Unsupported(format!(
            "--resume: {} from the run stored in {}: {}\nhint: leave them out to continue \
             that run, or start a new one with --force or another --out",
            if differ.len() == 1 {
                "an option differs"
            } else {
                "options differ"
            },
            config.display(),
            differ.join(", ")
        )))
    }

    /// The options that shape the run and differ from `stored` (the run's `config.json`), as
    /// `--flag new (stored: old)`.
    pub fn shaping_differences(&self, stored: &TrainOptions) -> Vec<String> {
        let flat = |o: &TrainOptions| {
            let mut map = BTreeMap::new();
            if let Ok(serde_json::Value::Object(m)) = serde_json::to_value(o) {
                for (k, v) in m {
                    match v {
                        serde_json::Value::Object(inner) => {
                            for (ik, iv) in inner {
                                map.insert(format!("{k}.{ik}"), iv);
                            }
                        }
                        v => {
                            map.insert(k, v);
                        }
                    }
                }
            }
            map
        };
        let (mine, theirs) = (flat(self), flat(stored));
        let free_bits_changes = self.free_bits_on_resume.is_some();
        mine.iter()
            .filter(|(k, _)| !NOT_SHAPING.contains(&k.as_str()))
            .filter(|(k, _)| !(free_bits_changes && k.as_str() == "vae.free_bits"))
            .filter(|(k, v)| theirs.get(*k) != Some(v))
            .map(|(k, v)| {
                let old = theirs.get(k).map_or("none".to_string(), |o| o.to_string());
                format!("{} {v} (stored: {old})", flag(k))
            })
            .collect()
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
