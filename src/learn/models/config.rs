//! The configuration of a note model as `config.json` stores it: which model
//! ([`ModelKind`]), its layer sizes and vocabulary ([`ModelConfig`]) and, for the VAE kinds,
//! the encoder and latent sizes ([`VaeConfig`]). The LSTMs, the VAEs, training and sampling
//! all read these types, so they live below all of them.

use crate::learn::data::vocab::Vocab;
use serde::{Deserialize, Serialize};

/// Which model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// Pulse 1 only.
    LstmReduced,
    /// All four voices, chained within a frame.
    LstmFull,
    /// Sequence VAE over fixed windows, pulse 1 only.
    VaeReduced,
    /// Sequence VAE over fixed windows, all four voices chained as in `lstm-full`.
    VaeFull,
}

impl ModelKind {
    /// Voices the model predicts.
    pub fn voices(self) -> Vec<crate::score::Voice> {
        match self {
            ModelKind::LstmReduced | ModelKind::VaeReduced => vec![crate::score::Voice::Pulse1],
            ModelKind::LstmFull | ModelKind::VaeFull => crate::score::Voice::ALL.to_vec(),
        }
    }

    /// Whether the model is one of the VAEs of [`super::vae`].
    pub fn is_vae(self) -> bool {
        matches!(self, ModelKind::VaeReduced | ModelKind::VaeFull)
    }

    /// Name as the CLI and `config.json` write it.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::LstmReduced => "lstm-reduced",
            ModelKind::LstmFull => "lstm-full",
            ModelKind::VaeReduced => "vae-reduced",
            ModelKind::VaeFull => "vae-full",
        }
    }
}

/// Architecture of a model (stored in `config.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub kind: ModelKind,
    pub vocab: Vocab,
    /// Embedding size of each voice's input note.
    pub embed: usize,
    /// LSTM hidden size.
    pub hidden: usize,
    /// Number of stacked LSTM layers.
    pub layers: usize,
    /// Hidden size of each voice's head.
    pub head_hidden: usize,
    /// Dropout after each LSTM layer (training only).
    pub dropout: f32,
    /// Encoder and latent sizes of the VAE kinds (absent for the LSTMs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vae: Option<VaeConfig>,
}

impl ModelConfig {
    /// Checks the layer sizes and dropout; an error is the field at fault and what is wrong.
    pub fn check_sizes(&self) -> std::result::Result<(), (&'static str, String)> {
        for (name, v, max) in [
            ("embed", self.embed, 4096),
            ("hidden", self.hidden, 8192),
            ("layers", self.layers, 16),
            ("head_hidden", self.head_hidden, 8192),
        ] {
            if v == 0 || v > max {
                return Err((name, format!("{name} = {v} is outside 1..{max}")));
            }
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err((
                "dropout",
                format!("dropout {} is outside 0..1", self.dropout),
            ));
        }
        Ok(())
    }

    /// Checks sizes read from a file.
    pub fn check(&self, path: &std::path::Path) -> crate::Result<()> {
        self.vocab.check(path)?;
        let bad = |w: &str| Err(crate::Error::format(path, w.to_string()));
        if self.vocab.voices.len() != self.kind.voices().len() {
            return bad("vocabulary voices do not match the model kind");
        }
        if let Err((_, e)) = self.check_sizes() {
            return bad(&e);
        }
        match (&self.vae, self.kind.is_vae()) {
            (Some(v), true) => v.check(path),
            (None, false) => Ok(()),
            _ => bad("the 'vae' section must be present exactly for the vae-* kinds"),
        }
    }
}

/// The VAE-specific part of a model's configuration (`config.json` -> `model.vae`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VaeConfig {
    /// Frames per window (at 24 Hz).
    pub window: usize,
    /// Latent dimensions.
    pub latent: usize,
    /// Hidden size of each encoder direction.
    pub enc_hidden: usize,
    /// Free bits: the least KL (nats) charged per latent dimension (batch mean).
    pub free_bits: f32,
    /// Optimizer steps over which the KL weight rises from 0 to 1.
    pub kl_warmup: usize,
}

impl Default for VaeConfig {
    fn default() -> Self {
        VaeConfig {
            window: 64,
            latent: 32,
            enc_hidden: 128,
            free_bits: 0.125,
            kl_warmup: 1000,
        }
    }
}

impl VaeConfig {
    /// Checks sizes read from a file.
    pub fn check(&self, path: &std::path::Path) -> crate::Result<()> {
        for (name, v, max) in [
            ("window", self.window, 4096),
            ("latent", self.latent, 1024),
            ("enc_hidden", self.enc_hidden, 8192),
        ] {
            if v == 0 || v > max {
                return Err(crate::Error::format(
                    path,
                    format!("vae.{name} = {v} is outside 1..{max}"),
                ));
            }
        }
        if !(self.free_bits.is_finite() && self.free_bits >= 0.0) {
            return Err(crate::Error::format(
                path,
                format!("vae.free_bits {} must be >= 0", self.free_bits),
            ));
        }
        Ok(())
    }

    /// KL weight at optimizer step `step`: linear from `1/kl_warmup` to 1.
    pub fn beta(&self, step: usize) -> f64 {
        if self.kl_warmup == 0 {
            1.0
        } else {
            ((step + 1) as f64 / self.kl_warmup as f64).min(1.0)
        }
    }
}
