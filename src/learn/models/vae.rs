//! The sequence VAE note models over fixed windows (`vae-reduced`: pulse 1; `vae-full`: all
//! four voices).
//!
//! A window is `window` consecutive frames cut from a song exactly as the LSTMs' training
//! windows are ([`crate::learn::data::dataset::TokenSet::windows`]): the targets of the window are its frames,
//! the decoder's inputs are the same frames shifted by one, so the first input is BOS at a song's
//! start and the previous window's last frame otherwise.
//!
//! - **Encoder**: per-voice embeddings of the window's frames (padding zeroed), a forward and a
//!   backward LSTM (the fused op of [`super::fused_lstm`], the backward one run on the
//!   time-reversed window), their final hidden states concatenated and mapped to the mean and
//!   log-variance of a diagonal Gaussian `q(z|x)`.
//! - **Decoder**: an autoregressive LSTM (teacher forcing in training) whose initial `[h, c]`
//!   of every layer is `tanh(W z + b)` and whose every step sees `z` concatenated to the
//!   embeddings of the previous frame; its output heads are the chained heads of the full LSTM
//!   ([`super::lstm::voice_heads`]): P1, then P2 given P1, TR given both, NO given all three.
//!
//! The loss per frame is `(sum of frame NLLs + beta(step) * KL_fb) / frames`. Posterior collapse
//! is fought twice: `beta` rises linearly from 0 to 1 over `kl_warmup` steps (KL annealing),
//! and free bits (Kingma et al. 2016, per dimension): the batch-mean KL of each latent dimension
//! is clamped below at `free_bits` nats, so a dimension that carries less information costs the
//! same as one that carries `free_bits`, and the encoder gets no reward for shutting it off.
//! Reported KL and ELBO always use the plain KL with `beta = 1`.
//!
//! Window: 64 frames (2.67 s at 24 Hz), measured on NES-MDB: 12.1% of test songs are shorter
//! than 64 frames against 24.9% for 128 (vary and interpolate need one full window), the padded
//! tail of each song's last window is 5.4% of the frames against 12.0%, and training ran at
//! 1495 against 1392 frames/s (30-song run, same machine).

use super::fused_lstm::FusedLstm;
use super::lstm::{
    apply_dropout, chain_logits, embedding, linear, voice_heads, ModelConfig, VoiceHead,
};
use super::seeded_init::redraw_in_name_order;
use crate::learn::data::dataset::{make_batch, TokenSet};
use candle_core::{DType, Module, Result, Tensor, D};
use candle_nn::{Embedding, Linear, VarBuilder};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub use super::config::VaeConfig;

/// A sequence VAE (reduced or full).
#[derive(Debug, Clone)]
pub struct NoteVae {
    pub config: ModelConfig,
    pub vae: VaeConfig,
    pub enc_embeds: Vec<Embedding>,
    pub enc_fwd: FusedLstm,
    pub enc_bwd: FusedLstm,
    pub to_mu: Linear,
    pub to_logvar: Linear,
    pub embeds: Vec<Embedding>,
    /// `z -> [h0, c0]` of every decoder layer.
    pub init: Linear,
    pub layers: Vec<FusedLstm>,
    pub heads: Vec<VoiceHead>,
}

/// What one forward pass over a batch of windows gives.
pub struct VaeOutput {
    /// Per voice: summed NLL over the batch's real frames (scalar).
    pub recon_sum: Vec<Tensor>,
    /// KL of each window and latent dimension `(B, L)`.
    pub kl: Tensor,
    pub mu: Tensor,
    pub logvar: Tensor,
    /// Number of real frames (scalar, at least 1).
    pub frames: Tensor,
}

/// `KL(N(mu, exp(logvar)) || N(0, 1))` per element: `0.5 (mu^2 + exp(logvar) - 1 - logvar)`.
pub fn kl_per_dim(mu: &Tensor, logvar: &Tensor) -> Result<Tensor> {
    ((mu.sqr()? + logvar.exp()?)? - logvar)?.affine(0.5, -0.5)
}

/// Free-bits KL of a batch `(B, L)`: `B * sum_d max(free_bits, mean_b kl[b, d])`. A dimension
/// below the floor gets no gradient.
pub fn free_bits_kl(kl: &Tensor, free_bits: f32) -> Result<Tensor> {
    let b = kl.dim(0)? as f64;
    let per_dim = kl.mean(0)?;
    let above = per_dim.ge(free_bits as f64)?.to_dtype(DType::F32)?;
    let below = above.affine(-1.0, 1.0)?;
    let clamped = (per_dim.mul(&above)? + below.affine(free_bits as f64, 0.0)?)?;
    clamped.sum_all()?.affine(b, 0.0)
}

/// `n` standard normal draws (Box-Muller) from `rng`.
pub fn standard_normal(n: usize, rng: &mut StdRng) -> Vec<f32> {
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        let u1: f64 = 1.0 - rng.random::<f64>();
        let u2: f64 = rng.random::<f64>();
        let r = (-2.0 * u1.ln()).sqrt();
        let a = 2.0 * std::f64::consts::PI * u2;
        out.push((r * a.cos()) as f32);
        out.push((r * a.sin()) as f32);
    }
    out.truncate(n);
    out
}

pub(crate) fn embed_rows(embeds: &[Embedding], tokens: &Tensor) -> Result<Tensor> {
    let parts = (0..embeds.len())
        .map(|v| embeds[v].forward(&tokens.narrow(2, v, 1)?.squeeze(2)?))
        .collect::<Result<Vec<_>>>()?;
    Tensor::cat(&parts, D::Minus1)
}

impl NoteVae {
    /// Creates (or, from a loaded `VarBuilder`, loads) the model's variables.
    pub fn new(config: ModelConfig, vb: VarBuilder) -> Result<NoteVae> {
        let vae = config.vae.clone().ok_or_else(|| {
            candle_core::Error::Msg(format!("{} has no 'vae' section", config.kind.name()))
        })?;
        let nv = config.vocab.len();
        let sizes: Vec<usize> = config.vocab.ranges.iter().map(|r| r.size()).collect();
        let enc = vb.pp("enc");
        let enc_embeds = (0..nv)
            .map(|v| embedding(sizes[v], config.embed, enc.pp(format!("embed.{v}"))))
            .collect::<Result<Vec<_>>>()?;
        let enc_fwd = FusedLstm::new(nv * config.embed, vae.enc_hidden, enc.pp("fwd"))?;
        let enc_bwd = FusedLstm::new(nv * config.embed, vae.enc_hidden, enc.pp("bwd"))?;
        let to_mu = linear(2 * vae.enc_hidden, vae.latent, enc.pp("mu"))?;
        let to_logvar = linear(2 * vae.enc_hidden, vae.latent, enc.pp("logvar"))?;
        let embeds = (0..nv)
            .map(|v| embedding(sizes[v], config.embed, vb.pp(format!("embed.{v}"))))
            .collect::<Result<Vec<_>>>()?;
        let init = linear(
            vae.latent,
            config.layers * 2 * config.hidden,
            vb.pp("dec_init"),
        )?;
        let input = nv * config.embed + vae.latent;
        let layers = FusedLstm::stack(input, config.hidden, config.layers, &vb)?;
        let heads = voice_heads(&config, vb)?;
        Ok(NoteVae {
            config,
            vae,
            enc_embeds,
            enc_fwd,
            enc_bwd,
            to_mu,
            to_logvar,
            embeds,
            init,
            layers,
            heads,
        })
    }

    /// Mean and log-variance `(B, L)` of `q(z | window)` for windows `targets (B,T,W)` whose
    /// real frames are marked by `mask (B,T)`.
    pub fn encode(&self, targets: &Tensor, mask: &Tensor) -> Result<(Tensor, Tensor)> {
        let (b, t, _) = targets.dims3()?;
        let x = embed_rows(&self.enc_embeds, targets)?.broadcast_mul(&mask.unsqueeze(2)?)?;
        let he = self.vae.enc_hidden;
        let fwd = self
            .enc_fwd
            .forward(&x, &self.enc_fwd.zero_state(b, x.device())?)?;
        let rev: Vec<u32> = (0..t as u32).rev().collect();
        let rev = Tensor::from_vec(rev, t, x.device())?;
        let xr = x.index_select(&rev, 1)?;
        let bwd = self
            .enc_bwd
            .forward(&xr, &self.enc_bwd.zero_state(b, x.device())?)?;
        let last = |o: &Tensor| o.narrow(1, t - 1, 1)?.squeeze(1)?.narrow(1, 0, he);
        let summary = Tensor::cat(&[last(&fwd)?, last(&bwd)?], 1)?;
        Ok((
            self.to_mu.forward(&summary)?,
            self.to_logvar.forward(&summary)?,
        ))
    }

    /// Initial `[h, c]` `(B, 2H)` of each decoder layer for latents `z (B, L)`.
    pub fn initial_states(&self, z: &Tensor) -> Result<Vec<Tensor>> {
        let all = self.init.forward(z)?.tanh()?;
        let h2 = 2 * self.config.hidden;
        (0..self.layers.len())
            .map(|l| all.narrow(1, l * h2, h2)?.contiguous())
            .collect()
    }

    /// Decoder input of every step: the embeddings of `inputs (B,T,W)` with `z` appended.
    pub(crate) fn decoder_inputs(&self, inputs: &Tensor, z: &Tensor) -> Result<Tensor> {
        let (b, t, _) = inputs.dims3()?;
        let e = embed_rows(&self.embeds, inputs)?;
        let zs = z
            .unsqueeze(1)?
            .broadcast_as((b, t, self.vae.latent))?
            .contiguous()?;
        Tensor::cat(&[e, zs], D::Minus1)
    }

    /// Top decoder hidden states `(B,T,H)` under teacher forcing.
    pub fn decoder_hidden(
        &self,
        inputs: &Tensor,
        z: &Tensor,
        mut dropout: Option<&mut StdRng>,
    ) -> Result<Tensor> {
        let mut x = self.decoder_inputs(inputs, z)?;
        let states = self.initial_states(z)?;
        for (layer, s0) in self.layers.iter().zip(&states) {
            x = layer.forward(&x, s0)?.narrow(2, 0, self.config.hidden)?;
            if let Some(rng) = dropout.as_deref_mut() {
                x = apply_dropout(&x, self.config.dropout, rng)?;
            }
        }
        Ok(x)
    }

    /// Encodes `targets`, draws `z = mu + exp(logvar / 2) * eps` (`eps (B, L)`; `None` takes
    /// `z = mu`), and scores the window under teacher forcing.
    pub fn forward(
        &self,
        inputs: &Tensor,
        targets: &Tensor,
        mask: &Tensor,
        eps: Option<&Tensor>,
        dropout: Option<&mut StdRng>,
    ) -> Result<VaeOutput> {
        let (mu, logvar) = self.encode(targets, mask)?;
        let z = match eps {
            Some(e) => (&mu + logvar.affine(0.5, 0.0)?.exp()?.mul(e)?)?,
            None => mu.clone(),
        };
        let hidden = self.decoder_hidden(inputs, &z, dropout)?;
        let logits = chain_logits(&self.heads, &hidden, targets)?;
        let (b, t, w) = targets.dims3()?;
        let flat = targets.reshape((b * t, w))?;
        let m = mask.reshape(b * t)?;
        let recon_sum = logits
            .iter()
            .enumerate()
            .map(|(v, l)| {
                let lp = candle_nn::ops::log_softmax(l, D::Minus1)?;
                let tgt = flat.narrow(1, v, 1)?.contiguous()?;
                lp.gather(&tgt, 1)?.squeeze(1)?.mul(&m)?.sum_all()?.neg()
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(VaeOutput {
            recon_sum,
            kl: kl_per_dim(&mu, &logvar)?,
            mu,
            logvar,
            frames: m.sum_all()?.maximum(1f32)?,
        })
    }

    /// The training loss of step `step`, split in parts that sum to it: each voice's NLL per
    /// frame, then `beta(step) * KL_fb / frames`. `rng` draws `eps` and the dropout masks.
    pub fn training_loss(
        &self,
        inputs: &Tensor,
        targets: &Tensor,
        mask: &Tensor,
        rng: &mut StdRng,
        step: usize,
    ) -> Result<Vec<Tensor>> {
        let b = targets.dim(0)?;
        let eps = Tensor::from_vec(
            standard_normal(b * self.vae.latent, rng),
            (b, self.vae.latent),
            targets.device(),
        )?;
        let out = self.forward(inputs, targets, mask, Some(&eps), Some(rng))?;
        let mut parts = out
            .recon_sum
            .iter()
            .map(|r| r.div(&out.frames))
            .collect::<Result<Vec<_>>>()?;
        let kl = free_bits_kl(&out.kl, self.vae.free_bits)?.affine(self.vae.beta(step), 0.0)?;
        parts.push(kl.div(&out.frames)?);
        Ok(parts)
    }
}

/// Re-draws every variable of `varmap` from `seed`, in name order (as
/// [`super::lstm::init_from_seed`] does for the LSTMs). LSTM weights `U(-1/sqrt(H), 1/sqrt(H))`
/// with forget-gate bias +1; linear layers `U(-1/sqrt(fan_in), ..)`; embeddings unit variance.
pub fn init_from_seed(varmap: &candle_nn::VarMap, seed: u64) -> Result<()> {
    redraw_in_name_order(varmap, seed, |all, name, var, rng| {
        let dims = var.dims();
        let prefix = name.rsplit_once('.').map(|p| p.0).unwrap_or("");
        let is_lstm = all.contains_key(&format!("{prefix}.weight_hh"));
        let mut forget = None;
        let bound = if name.contains("embed") || name.contains("from_voice") {
            3f32.sqrt()
        } else if is_lstm {
            let h = dims[0] / 4;
            if name.ends_with(".bias") {
                forget = Some(h);
            }
            1.0 / (h as f32).sqrt()
        } else if dims.len() == 2 {
            1.0 / (dims[1] as f32).sqrt()
        } else {
            let fan_in = all
                .get(&format!("{prefix}.weight"))
                .and_then(|w| w.dims().get(1).copied())
                .unwrap_or(1);
            1.0 / (fan_in as f32).sqrt()
        };
        let mut vals: Vec<f32> = (0..var.elem_count())
            .map(|_| rng.random_range(-bound..bound))
            .collect();
        if let Some(h) = forget {
            for v in &mut vals[h..2 * h] {
                *v += 1.0;
            }
        }
        vals
    })
}

/// Sums of a pass over windows of a token set (see [`score_windows`]).
#[derive(Debug, Clone, Default)]
pub struct WindowScores {
    pub windows: usize,
    pub frames: f64,
    /// Per voice: summed NLL over all real frames.
    pub recon: Vec<f64>,
    /// Summed KL over windows.
    pub kl: f64,
    /// Posterior means of every window, `latent` values each.
    pub mus: Vec<f32>,
}

impl WindowScores {
    /// Negative ELBO in nats per frame.
    pub fn neg_elbo_per_frame(&self) -> f64 {
        (self.recon.iter().sum::<f64>() + self.kl) / self.frames.max(1.0)
    }

    /// Reconstruction NLL per frame of each voice.
    pub fn recon_per_frame(&self) -> Vec<f64> {
        self.recon
            .iter()
            .map(|r| r / self.frames.max(1.0))
            .collect()
    }
}

/// Scores every window of `set` (cut as in training, `model.vae.window` frames): reconstruction
/// NLL with one posterior sample per window (drawn from `seed` and the batch index, so the
/// estimate is reproducible), KL, and the posterior means.
pub fn score_windows(
    model: &NoteVae,
    set: &TokenSet,
    batch: usize,
    seed: u64,
) -> Result<WindowScores> {
    let seq = model.vae.window;
    let windows = set.windows(seq);
    let order: Vec<u32> = (0..windows.len() as u32).collect();
    let nv = set.width();
    let dev = model.to_mu.weight().device().clone();
    let mut s = WindowScores {
        recon: vec![0.0; nv],
        windows: windows.len(),
        ..Default::default()
    };
    for i in 0..windows.len().div_ceil(batch.max(1)) {
        let b = make_batch(set, &windows, &order, i, batch.max(1), seq, None);
        let x = Tensor::from_vec(b.inputs.clone(), (b.batch, seq, nv), &dev)?;
        let y = Tensor::from_vec(b.targets.clone(), (b.batch, seq, nv), &dev)?;
        let m = Tensor::from_vec(b.mask.clone(), (b.batch, seq), &dev)?;
        let mut rng = StdRng::seed_from_u64(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let eps = Tensor::from_vec(
            standard_normal(b.batch * model.vae.latent, &mut rng),
            (b.batch, model.vae.latent),
            &dev,
        )?;
        let out = model.forward(&x, &y, &m, Some(&eps), None)?;
        for (acc, r) in s.recon.iter_mut().zip(&out.recon_sum) {
            *acc += r.to_scalar::<f32>()? as f64;
        }
        s.kl += out.kl.sum_all()?.to_scalar::<f32>()? as f64;
        s.frames += b.frames() as f64;
        s.mus.extend(out.mu.flatten_all()?.to_vec1::<f32>()?);
    }
    Ok(s)
}

/// Validation score used by training: negative ELBO per frame and the reconstruction NLL per
/// frame of each voice.
pub fn window_elbo(
    model: &NoteVae,
    set: &TokenSet,
    batch: usize,
) -> crate::Result<(f64, Vec<f64>)> {
    let s = score_windows(model, set, batch, 0).map_err(crate::Error::model("validation"))?;
    Ok((s.neg_elbo_per_frame(), s.recon_per_frame()))
}

/// Number of active latent dimensions: those whose posterior mean varies across windows,
/// `Var_x(E[z|x]) > threshold` (Burda et al. 2016 use 0.01), given `mus` (`latent` per window).
pub fn active_dims(mus: &[f32], latent: usize, threshold: f64) -> (usize, Vec<f64>) {
    let n = mus.len() / latent.max(1);
    let mut var = vec![0f64; latent];
    if n < 2 {
        return (0, var);
    }
    for (d, v) in var.iter_mut().enumerate() {
        let mean = (0..n).map(|i| mus[i * latent + d] as f64).sum::<f64>() / n as f64;
        *v = (0..n)
            .map(|i| (mus[i * latent + d] as f64 - mean).powi(2))
            .sum::<f64>()
            / (n - 1) as f64;
    }
    (var.iter().filter(|&&v| v > threshold).count(), var)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn kl_matches_hand_computation() {
        let mu = Tensor::new(&[[0f32, 1.0, -2.0]], &Device::Cpu).unwrap();
        let lv = Tensor::new(&[[0f32, 0.5, -1.0]], &Device::Cpu).unwrap();
        let kl = kl_per_dim(&mu, &lv).unwrap().to_vec2::<f32>().unwrap();
        let hand = |m: f32, l: f32| 0.5 * (m * m + l.exp() - 1.0 - l);
        assert_eq!(kl[0][0], 0.0);
        assert!((kl[0][1] - hand(1.0, 0.5)).abs() < 1e-6);
        assert!((kl[0][2] - hand(-2.0, -1.0)).abs() < 1e-6);
        assert!((kl[0][2] - 0.5 * (4.0 + (-1f32).exp())).abs() < 1e-6);
    }

    #[test]
    fn free_bits_clamp_floors_each_dimension_and_stops_its_gradient() {
        let v = candle_core::Var::new(&[[0.01f32, 2.0], [0.03, 4.0]], &Device::Cpu).unwrap();
        let fb = free_bits_kl(v.as_tensor(), 0.5).unwrap();
        // dim 0: mean 0.02 -> floor 0.5; dim 1: mean 3.0 kept; times B = 2.
        assert!((fb.to_scalar::<f32>().unwrap() - 2.0 * 3.5).abs() < 1e-5);
        let g = fb.backward().unwrap();
        let g = g.get(&v).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(g, vec![vec![0.0, 1.0], vec![0.0, 1.0]]);
        let plain = free_bits_kl(v.as_tensor(), 0.0)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!((plain - 6.04).abs() < 1e-5);
    }

    #[test]
    fn beta_anneals_linearly() {
        let c = VaeConfig {
            kl_warmup: 4,
            ..Default::default()
        };
        assert_eq!([0, 1, 3, 10].map(|s| c.beta(s)), [0.25, 0.5, 1.0, 1.0]);
        assert_eq!(VaeConfig { kl_warmup: 0, ..c }.beta(0), 1.0);
    }

    #[test]
    fn normal_draws_have_unit_moments() {
        let x = standard_normal(20001, &mut StdRng::seed_from_u64(3));
        assert_eq!(x.len(), 20001);
        let m = x.iter().map(|&v| v as f64).sum::<f64>() / x.len() as f64;
        let v = x.iter().map(|&v| (v as f64 - m).powi(2)).sum::<f64>() / x.len() as f64;
        assert!(m.abs() < 0.03 && (v - 1.0).abs() < 0.05, "{m} {v}");
    }

    #[test]
    fn active_dims_counts_varying_means() {
        // Two windows; dim 0 varies (var 2), dim 1 nearly constant.
        let (n, var) = active_dims(&[1.0, 0.0, -1.0, 0.001], 2, 0.01);
        assert_eq!(n, 1);
        assert!((var[0] - 2.0).abs() < 1e-9 && var[1] < 1e-5);
    }
}
