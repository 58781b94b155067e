//! The model-kind switch of training: the LSTMs of [`crate::learn::models::lstm`] and the VAEs
//! of [`crate::learn::models::vae`] behind one type, so [`super::train`] (options, batches,
//! optimizer, checkpoints, resume, progress) is shared by every kind.

use super::optim::Gradients;
use crate::learn::data::dataset::TokenSet;
use crate::learn::models::lstm::{self, NoteLstm};
use crate::learn::models::scoring::{carried_nll, window_nll};
use crate::learn::models::vae::{self, NoteVae};
use crate::learn::models::ModelConfig;
use candle_core::backprop::GradStore;
use candle_core::{Result, Tensor};
use candle_nn::{VarBuilder, VarMap};
use rand::rngs::StdRng;

/// What one carried-state training step returns: the summed loss, the gradients and, per
/// layer, the state after the window (`[h, c]` per batch row).
pub type CarriedStep = (f64, Box<dyn Gradients>, Vec<Vec<f32>>);

/// The sum of the loss `parts` (added first to last), its value and candle's gradients of it.
fn summed_with_gradients(parts: Vec<Tensor>) -> Result<(f64, GradStore)> {
    let mut parts = parts.into_iter();
    let Some(mut loss) = parts.next() else {
        candle_core::bail!("the model has no loss terms")
    };
    for t in parts {
        loss = loss.add(&t)?;
    }
    Ok((loss.to_scalar::<f32>()? as f64, loss.backward()?))
}

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
            Net::Lstm(m) => lstm::init_from_seed(varmap, &m.config, seed),
            Net::Vae(_) => vae::init_from_seed(varmap, seed),
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
        let (value, grads) = summed_with_gradients(self.training_loss(x, y, m, rng, step)?)?;
        Ok((value, Box::new(grads)))
    }

    /// [`Net::training_grads`] with the LSTM state carried in from the previous window
    /// (`state0`, per layer `[h, c]` per batch row; see [`NoteLstm::nll_carried`]); also
    /// returns the state after this window. LSTMs on the CPU only.
    pub fn training_grads_carried(
        &self,
        x: &Tensor,
        y: &Tensor,
        m: &Tensor,
        rng: &mut StdRng,
        state0: &[Vec<f32>],
    ) -> Result<CarriedStep> {
        match self {
            Net::Lstm(model) if model.hand_gradients_available() => {
                let run = model.nll_carried(x, y, m, Some(rng), Some(state0), true)?;
                let loss = run.nll.iter().map(|v| *v as f64).sum();
                Ok((loss, Box::new(run.grads.unwrap_or_default()), run.state))
            }
            Net::Lstm(model) => {
                // Other devices: candle's autograd over the same loss, the state detached.
                let dev = x.device();
                let b = x.dim(0)?;
                let s0 = state0
                    .iter()
                    .map(|s| Tensor::from_slice(s, (b, s.len() / b.max(1)), dev))
                    .collect::<Result<Vec<_>>>()?;
                let (parts, last) = model.nll_from(x, y, m, Some(rng), Some(&s0))?;
                let (value, grads) = summed_with_gradients(parts)?;
                let state = last
                    .iter()
                    .map(|t| t.detach().flatten_all()?.to_vec1::<f32>())
                    .collect::<Result<Vec<_>>>()?;
                Ok((value, Box::new(grads), state))
            }
            Net::Vae(_) => candle_core::bail!(
                "carried-state training is for the LSTMs only (a VAE encodes one window at a time)"
            ),
        }
    }

    /// Validation score (lower is better; LSTM: NLL per frame, VAE: negative ELBO per frame)
    /// and per-voice NLL per frame.
    /// With `carry_state`, an LSTM is scored over whole songs with its state carried from
    /// window to window, as it was trained.
    pub fn validate(
        &self,
        set: &TokenSet,
        seq: usize,
        batch: usize,
        carry_state: bool,
    ) -> crate::Result<(f64, Vec<f64>)> {
        match self {
            Net::Lstm(model) if carry_state => carried_nll(model, set, seq, batch),
            Net::Lstm(model) => window_nll(model, set, seq, batch),
            Net::Vae(model) => vae::window_elbo(model, set, batch),
        }
    }
}
