//! The LSTM note models.
//!
//! - **Reduced** (`lstm-reduced`): pulse 1 only; an embedding of the previous note, an LSTM
//!   stack, one softmax head.
//! - **Full** (`lstm-full`): all four voices. The input of a step is the concatenated
//!   embeddings of the previous frame's four notes. Within a frame the voices are predicted in
//!   the fixed order P1, P2, TR, NO, and each voice's head sees the hidden state *and* the notes
//!   already chosen for the same frame: `z_v = relu(A_v h + sum_{u<v} E_{v,u}[note_u])`,
//!   `logits_v = B_v z_v`. The joint distribution of a frame is thus the chain
//!   `p(p1|h) p(p2|h,p1) p(tr|h,p1,p2) p(no|h,p1,p2,tr)`, so a sample is a coherent chord, not
//!   four independent draws. Training feeds the true notes of the frame (teacher forcing).
//!
//! Every head also has the boundary token (EOS) as an outcome.

use super::fused_lstm::FusedLstm;
use super::seeded_init::redraw_in_name_order;
use candle_core::{Device, Module, Result, Tensor, D};
use candle_nn::{Embedding, Init, Linear, VarBuilder};
use rand::rngs::StdRng;
use rand::Rng;

pub use super::config::{ModelConfig, ModelKind};

/// One voice's output head.
#[derive(Debug, Clone)]
pub struct VoiceHead {
    /// `A_v`: hidden state to head space.
    pub from_hidden: Linear,
    /// `E_{v,u}` for each earlier voice `u` of the frame.
    pub from_voices: Vec<Embedding>,
    /// `B_v`: head space to logits.
    pub out: Linear,
}

/// The reduced or full LSTM.
#[derive(Debug, Clone)]
pub struct NoteLstm {
    pub config: ModelConfig,
    pub embeds: Vec<Embedding>,
    pub layers: Vec<FusedLstm>,
    pub heads: Vec<VoiceHead>,
}

impl NoteLstm {
    /// The device the weights live on.
    pub fn device(&self) -> Device {
        self.heads[0].out.weight().device().clone()
    }
}

pub(crate) fn linear(i: usize, o: usize, vb: VarBuilder) -> Result<Linear> {
    let k = 1.0 / (i as f64).sqrt();
    let w = vb.get_with_hints((o, i), "weight", Init::Uniform { lo: -k, up: k })?;
    let b = vb.get_with_hints(o, "bias", Init::Uniform { lo: -k, up: k })?;
    Ok(Linear::new(w, Some(b)))
}

pub(crate) fn embedding(n: usize, d: usize, vb: VarBuilder) -> Result<Embedding> {
    let w = vb.get_with_hints(
        (n, d),
        "weight",
        Init::Randn {
            mean: 0.0,
            stdev: 1.0,
        },
    )?;
    Ok(Embedding::new(w, d))
}

impl NoteLstm {
    /// Creates (or, from a loaded `VarBuilder`, loads) the model's variables.
    pub fn new(config: ModelConfig, vb: VarBuilder) -> Result<NoteLstm> {
        let nv = config.vocab.len();
        let sizes: Vec<usize> = config.vocab.ranges.iter().map(|r| r.size()).collect();
        let embeds = (0..nv)
            .map(|v| embedding(sizes[v], config.embed, vb.pp(format!("embed.{v}"))))
            .collect::<Result<Vec<_>>>()?;
        let layers = FusedLstm::stack(nv * config.embed, config.hidden, config.layers, &vb)?;
        let heads = voice_heads(&config, vb)?;
        Ok(NoteLstm {
            config,
            embeds,
            layers,
            heads,
        })
    }

    /// Hidden states of the top layer for `inputs (B,T,W)` (token ids), every layer starting
    /// from a zero state. With `dropout = Some(rng)`, dropout is applied after each layer with
    /// masks drawn from `rng` (so training is reproducible from its seed).
    pub fn hidden_states(&self, inputs: &Tensor, dropout: Option<&mut StdRng>) -> Result<Tensor> {
        Ok(self.hidden_states_from(inputs, dropout, None)?.0)
    }

    /// [`NoteLstm::hidden_states`] with layer `l` starting from `state0[l]` (`(B, 2H)`,
    /// `[h0, c0]`; `None` = zeros); also returns each layer's `(B, 2H)` state after the last
    /// step.
    pub fn hidden_states_from(
        &self,
        inputs: &Tensor,
        mut dropout: Option<&mut StdRng>,
        state0: Option<&[Tensor]>,
    ) -> Result<(Tensor, Vec<Tensor>)> {
        let (b, t, w) = inputs.dims3()?;
        let parts = (0..w)
            .map(|v| self.embeds[v].forward(&inputs.narrow(2, v, 1)?.squeeze(2)?))
            .collect::<Result<Vec<_>>>()?;
        let mut x = Tensor::cat(&parts, D::Minus1)?;
        let mut last = Vec::with_capacity(self.layers.len());
        for (l, layer) in self.layers.iter().enumerate() {
            let state = match state0 {
                Some(s) => s[l].clone(),
                None => layer.zero_state(b, inputs.device())?,
            };
            let out = layer.forward(&x, &state)?;
            last.push(out.narrow(1, t - 1, 1)?.squeeze(1)?);
            x = out.narrow(2, 0, self.config.hidden)?;
            if let Some(rng) = dropout.as_deref_mut() {
                x = apply_dropout(&x, self.config.dropout, rng)?;
            }
        }
        Ok((x, last))
    }

    /// Logits of each voice, `(B*T, V_v)`, given the top hidden states `(B,T,H)` and the
    /// frame's notes `targets (B,T,W)` (the heads of later voices see earlier voices' notes).
    pub fn logits(&self, hidden: &Tensor, targets: &Tensor) -> Result<Vec<Tensor>> {
        chain_logits(&self.heads, hidden, targets)
    }

    /// Masked mean negative log-likelihood (nats per frame) of each voice; their sum is the
    /// training loss.
    pub fn nll(
        &self,
        inputs: &Tensor,
        targets: &Tensor,
        mask: &Tensor,
        dropout: Option<&mut StdRng>,
    ) -> Result<Vec<Tensor>> {
        Ok(self.nll_from(inputs, targets, mask, dropout, None)?.0)
    }

    /// [`NoteLstm::nll`] from the layer states `state0` (see
    /// [`NoteLstm::hidden_states_from`]); also returns the states after the last step.
    pub fn nll_from(
        &self,
        inputs: &Tensor,
        targets: &Tensor,
        mask: &Tensor,
        dropout: Option<&mut StdRng>,
        state0: Option<&[Tensor]>,
    ) -> Result<(Vec<Tensor>, Vec<Tensor>)> {
        let (hidden, last) = self.hidden_states_from(inputs, dropout, state0)?;
        let logits = self.logits(&hidden, targets)?;
        let (b, t, w) = targets.dims3()?;
        let flat = targets.reshape((b * t, w))?;
        let m = mask.reshape(b * t)?;
        let count = m.sum_all()?.maximum(1f32)?;
        let nll = logits
            .iter()
            .enumerate()
            .map(|(v, l)| {
                let lp = candle_nn::ops::log_softmax(l, D::Minus1)?;
                let tgt = flat.narrow(1, v, 1)?.contiguous()?;
                let picked = lp.gather(&tgt, 1)?.squeeze(1)?;
                picked.mul(&m)?.sum_all()?.neg()?.div(&count)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((nll, last))
    }
}

/// The chained voice heads of `config` under `vb` (`head.<v>.*`), shared by the LSTMs and the
/// VAE decoders.
pub fn voice_heads(config: &ModelConfig, vb: VarBuilder) -> Result<Vec<VoiceHead>> {
    let sizes: Vec<usize> = config.vocab.ranges.iter().map(|r| r.size()).collect();
    let mut heads = Vec::new();
    for v in 0..sizes.len() {
        let vbh = vb.pp(format!("head.{v}"));
        let from_voices = (0..v)
            .map(|u| {
                embedding(
                    sizes[u],
                    config.head_hidden,
                    vbh.pp(format!("from_voice.{u}")),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        heads.push(VoiceHead {
            from_hidden: linear(config.hidden, config.head_hidden, vbh.pp("from_hidden"))?,
            from_voices,
            out: linear(config.head_hidden, sizes[v], vbh.pp("out"))?,
        });
    }
    Ok(heads)
}

/// Logits of each voice, `(B*T, V_v)`, of `heads` given hidden states `(B,T,H)` and the
/// frame's notes `targets (B,T,W)` (see [`NoteLstm::logits`]).
pub fn chain_logits(heads: &[VoiceHead], hidden: &Tensor, targets: &Tensor) -> Result<Vec<Tensor>> {
    let (b, t, h) = hidden.dims3()?;
    let hs = hidden.reshape((b * t, h))?;
    let w = heads.len();
    let flat = targets.reshape((b * t, w))?;
    let cols = (0..w)
        .map(|u| flat.narrow(1, u, 1)?.squeeze(1)?.contiguous())
        .collect::<Result<Vec<_>>>()?;
    let mut out = Vec::with_capacity(w);
    for head in heads {
        let mut z = head.from_hidden.forward(&hs)?;
        for (u, e) in head.from_voices.iter().enumerate() {
            z = z.add(&e.forward(&cols[u])?)?;
        }
        out.push(head.out.forward(&z.relu()?)?);
    }
    Ok(out)
}

/// Inverted dropout with a mask drawn from `rng`.
pub fn apply_dropout(x: &Tensor, p: f32, rng: &mut StdRng) -> Result<Tensor> {
    if p <= 0.0 {
        return Ok(x.clone());
    }
    let n = x.elem_count();
    let keep = 1.0 / (1.0 - p);
    let mask: Vec<f32> = (0..n)
        .map(|_| if rng.random::<f32>() < p { 0.0 } else { keep })
        .collect();
    x.mul(&Tensor::from_vec(mask, x.shape(), x.device())?)
}

/// Re-draws every variable of `varmap` from `seed`, in name order, so a run is reproducible
/// (candle's CPU random generator cannot be seeded). Weights and biases: `U(-1/sqrt(fan_in),
/// 1/sqrt(fan_in))` (LSTM: `1/sqrt(H)`, forget-gate bias +1); embeddings: unit variance.
pub fn init_from_seed(varmap: &candle_nn::VarMap, config: &ModelConfig, seed: u64) -> Result<()> {
    redraw_in_name_order(varmap, seed, |_, name, var, rng| {
        let dims = var.dims();
        let bound = if name.contains("embed") || name.contains("from_voice") {
            3f32.sqrt()
        } else if name.contains("lstm") {
            1.0 / (config.hidden as f32).sqrt()
        } else {
            let fan_in = if dims.len() == 2 {
                dims[1]
            } else if name.contains("from_hidden") {
                config.hidden
            } else {
                config.head_hidden
            };
            1.0 / (fan_in as f32).sqrt()
        };
        let mut vals: Vec<f32> = (0..var.elem_count())
            .map(|_| rng.random_range(-bound..bound))
            .collect();
        if name.ends_with("lstm.0.bias") || (name.contains("lstm.") && name.ends_with(".bias")) {
            let h = config.hidden;
            for v in &mut vals[h..2 * h] {
                *v += 1.0;
            }
        }
        vals
    })
}

/// A small two-layer full LSTM over `vocab` with its weights drawn from seed 3, for the tests
/// that compute one model two ways.
#[cfg(test)]
pub(crate) fn small_seeded_lstm(
    vocab: crate::learn::data::vocab::Vocab,
    dropout: f32,
) -> (candle_nn::VarMap, NoteLstm) {
    let config = ModelConfig {
        kind: ModelKind::LstmFull,
        vocab,
        embed: 5,
        hidden: 12,
        layers: 2,
        head_hidden: 7,
        dropout,
        vae: None,
    };
    let varmap = candle_nn::VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, candle_core::DType::F32, &Device::Cpu);
    let model = NoteLstm::new(config, vb).unwrap();
    init_from_seed(&varmap, &model.config, 3).unwrap();
    (varmap, model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::data::dataset::{make_batch, TokenSet};
    use crate::learn::data::vocab::Vocab;
    use crate::score::Score;
    use candle_core::DType;
    use candle_nn::VarMap;

    pub(crate) fn tiny_config(kind: ModelKind, vocab: Vocab) -> ModelConfig {
        ModelConfig {
            kind,
            vocab,
            embed: 4,
            hidden: 8,
            layers: 2,
            head_hidden: 6,
            dropout: 0.1,
            vae: None,
        }
    }

    /// The head of a later voice depends on the notes chosen earlier in the same frame, and an
    /// earlier voice's head does not depend on later ones (the within-frame chain).
    #[test]
    fn full_model_chains_voices_within_a_frame() {
        let s = Score::from_notes("a", 24.0, &[[60, 64, 48, 3], [62, 65, 50, 0], [0, 0, 0, 5]]);
        let vocab = Vocab::from_scores(&crate::score::Voice::ALL, [&s]).unwrap();
        let set = TokenSet::from_scores(vocab.clone(), [&s]);
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let model = NoteLstm::new(tiny_config(ModelKind::LstmFull, vocab), vb).unwrap();
        init_from_seed(&varmap, &model.config, 1).unwrap();
        let wins = set.windows(8);
        let b = make_batch(&set, &wins, &[0], 0, 1, 8, None);
        let inputs = Tensor::from_vec(b.inputs.clone(), (1, 8, 4), &Device::Cpu).unwrap();
        let mut t2 = b.targets.clone();
        t2[0] = if t2[0] == 1 { 2 } else { 1 }; // change P1 of frame 0
        let hidden = model.hidden_states(&inputs, None).unwrap();
        let l1 = model
            .logits(
                &hidden,
                &Tensor::from_vec(b.targets.clone(), (1, 8, 4), &Device::Cpu).unwrap(),
            )
            .unwrap();
        let l2 = model
            .logits(
                &hidden,
                &Tensor::from_vec(t2, (1, 8, 4), &Device::Cpu).unwrap(),
            )
            .unwrap();
        let row0 = |t: &Tensor| t.get(0).unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(
            row0(&l1[0]),
            row0(&l2[0]),
            "P1 head must not see P1's own target"
        );
        for v in 1..4 {
            assert_ne!(
                row0(&l1[v]),
                row0(&l2[v]),
                "voice {v} must see P1 of its frame"
            );
        }
        let nll = model
            .nll(
                &inputs,
                &Tensor::from_vec(b.targets.clone(), (1, 8, 4), &Device::Cpu).unwrap(),
                &Tensor::from_vec(b.mask.clone(), (1, 8), &Device::Cpu).unwrap(),
                None,
            )
            .unwrap();
        assert_eq!(nll.len(), 4);
        for (v, n) in nll.iter().enumerate() {
            let x = n.to_scalar::<f32>().unwrap();
            let uniform = (vocab_size(&model, v) as f32).ln();
            assert!(x > 0.0 && x < 3.0 * uniform, "voice {v}: {x}");
        }
    }

    fn vocab_size(m: &NoteLstm, v: usize) -> usize {
        m.config.vocab.ranges[v].size()
    }
}
