//! The model-kind switch of training: the LSTMs of [`super::lstm`] and the VAEs of
//! [`super::vae`] behind one type, so [`super::train::train`] (options, batches, optimizer,
//! checkpoints, resume, progress) is shared by every kind.

use super::dataset::TokenSet;
use super::lstm::{ModelConfig, NoteLstm};
use super::optim::Gradients;
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

    /// The summed training loss of step `step` (see [`Net::training_loss`]) and its gradients:
    /// by the hand-written backward of [`NoteLstm::nll_grads`] for an LSTM on the CPU (same
    /// loss, same dropout draws), else by candle's autograd.
    pub fn training_grads(
        &self,
        x: &Tensor,
        y: &Tensor,
        m: &Tensor,
        rng: &mut StdRng,
        step: usize,
    ) -> Result<(f64, Box<dyn Gradients>)> {
        if let Net::Lstm(model) = self {
            if model.hand_gradients_available() {
                let (nll, grads) = model.nll_grads(x, y, m, Some(rng))?;
                return Ok((nll.iter().map(|v| *v as f64).sum(), Box::new(grads)));
            }
        }
        let mut parts = self.training_loss(x, y, m, rng, step)?.into_iter();
        let Some(mut loss) = parts.next() else {
            candle_core::bail!("the model has no loss terms")
        };
        for t in parts {
            loss = loss.add(&t)?;
        }
        let value = loss.to_scalar::<f32>()? as f64;
        Ok((value, Box::new(loss.backward()?)))
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
