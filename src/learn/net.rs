//! The model-kind switch of training: the LSTMs of [`super::lstm`] and the VAEs of
//! [`super::vae`] behind one type, so [`super::train::train`] (options, batches, optimizer,
//! checkpoints, resume, progress) is shared by every kind.

use super::dataset::TokenSet;
use super::lstm::{ModelConfig, NoteLstm};
use super::vae::NoteVae;
use candle_core::{Result, Tensor};
use candle_nn::{VarBuilder, VarMap};
use rand::rngs::StdRng;

/// A trainable model of any kind.
pub enum Net {
    Lstm(NoteLstm),
    Vae(NoteVae),
}

impl Net {
    /// Builds (or loads) the model `config.kind` names.
    pub fn new(config: ModelConfig, vb: VarBuilder) -> Result<Net> {
        if config.kind.is_vae() {
            Ok(Net::Vae(NoteVae::new(config, vb)?))
        } else {
            Ok(Net::Lstm(NoteLstm::new(config, vb)?))
        }
    }

    /// Re-draws the weights from `seed`.
    pub fn init_from_seed(&self, varmap: &VarMap, seed: u64) -> Result<()> {
        match self {
            Net::Lstm(m) => super::lstm::init_from_seed(varmap, &m.config, seed),
            Net::Vae(_) => super::vae::init_from_seed(varmap, seed),
        }
    }

    /// Loss parts of optimizer step `step` (their sum is minimised): per-voice NLL per frame,
    /// and for the VAE the annealed free-bits KL per frame.
    pub fn training_loss(
        &self,
        x: &Tensor,
        y: &Tensor,
        m: &Tensor,
        rng: &mut StdRng,
        step: usize,
    ) -> Result<Vec<Tensor>> {
        match self {
            Net::Lstm(model) => model.nll(x, y, m, Some(rng)),
            Net::Vae(model) => model.training_loss(x, y, m, rng, step),
        }
    }

    /// Validation score (lower is better; LSTM: NLL per frame, VAE: negative ELBO per frame)
    /// and per-voice NLL per frame.
    pub fn validate(
        &self,
        set: &TokenSet,
        seq: usize,
        batch: usize,
    ) -> crate::Result<(f64, Vec<f64>)> {
        match self {
            Net::Lstm(model) => super::train::window_nll(model, set, seq, batch),
            Net::Vae(model) => super::vae::window_elbo(model, set, batch),
        }
    }
}
