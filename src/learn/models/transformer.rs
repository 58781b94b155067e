//! A decoder-only Transformer over event tokens ([`crate::learn::data::events`]), in candle.
//!
//! Pre-norm blocks (RMS norm, causal multi-head self-attention, GELU MLP), rotary position
//! embeddings (RoPE) so that attention sees only the distance between two tokens and the model
//! runs past its training length with a sliding window, and a linear head over the vocabulary.
//! As in candle's mnist-training example, the model is a struct of layers with `forward`;
//! [`super::transformer_decoder`] runs the same weights token by token with a KV cache for sampling.

use crate::learn::data::coding::Coding;
use crate::learn::models::causal_softmax::causal_softmax;
use crate::learn::models::seeded_init::redraw_in_name_order;
use crate::learn::models::transformer_ops;
use candle_core::{Device, Module, Result, Tensor, D};
use candle_nn::{Embedding, Linear, VarBuilder, VarMap};
use rand::rngs::StdRng;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// The shape of a Transformer; stored as `config.json` beside its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransformerConfig {
    /// The event coding it reads and writes (absent in folders written before there were two).
    #[serde(default)]
    pub coding: Coding,
    /// Token ids ([`Coding::vocab`] for a trained model).
    pub vocab: usize,
    pub d_model: usize,
    pub layers: usize,
    pub heads: usize,
    /// Width of the MLP's hidden layer.
    pub d_ff: usize,
    pub dropout: f32,
    /// Tokens per training window: the longest context the model was trained to use.
    pub context: usize,
    /// RoPE frequency base.
    pub rope_base: f32,
}

impl TransformerConfig {
    /// Width of one attention head.
    pub fn head_dim(&self) -> usize {
        self.d_model / self.heads
    }

    /// Checks the shape is buildable; the message names the offending field.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.d_model == 0 || self.heads == 0 || self.layers == 0 || self.d_ff == 0 {
            return Err("d_model, heads, layers and d_ff must be at least 1".into());
        }
        if !self.d_model.is_multiple_of(self.heads) || !self.head_dim().is_multiple_of(2) {
            return Err(format!(
                "d_model {} must split into {} heads of an even width",
                self.d_model, self.heads
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!("dropout {} must be in 0..1", self.dropout));
        }
        if self.context < 2 {
            return Err(format!("context {} must be at least 2", self.context));
        }
        Ok(())
    }

    /// Number of weights.
    pub fn parameters(&self) -> usize {
        let d = self.d_model;
        let block = 2 * d + 4 * d * d + 2 * d * self.d_ff + self.d_ff + d;
        self.vocab * d + self.layers * block + d + d * self.vocab + self.vocab
    }
}

/// RMS normalisation with a learned gain ([`transformer_ops::rms_norm`]).
pub struct RmsNorm {
    pub gain: Tensor,
}

/// The RMS norm's epsilon, shared with the token-by-token path.
pub const NORM_EPS: f64 = 1e-5;

impl RmsNorm {
    fn new(d: usize, vb: VarBuilder) -> Result<RmsNorm> {
        Ok(RmsNorm {
            gain: vb.get_with_hints(d, "gain", candle_nn::Init::Const(1.0))?,
        })
    }
}

impl Module for RmsNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        transformer_ops::rms_norm(x, &self.gain)
    }
}

/// One pre-norm block: `x + attn(norm(x))`, then `x + mlp(norm(x))`.
pub struct Block {
    pub attn_norm: RmsNorm,
    /// Queries, keys and values in one matrix (`d_model` -> `3 d_model`).
    pub qkv: Linear,
    pub out: Linear,
    pub mlp_norm: RmsNorm,
    pub up: Linear,
    pub down: Linear,
}

/// Per-call inputs shared by every block: RoPE tables and dropout.
pub struct Pass<'a> {
    pub cos: Tensor,
    pub sin: Tensor,
    pub dropout: Option<(f32, &'a mut StdRng)>,
}

/// RoPE tables `[len, head_dim / 2]` for positions `offset..offset + len`.
pub fn rope_tables(
    cfg: &TransformerConfig,
    offset: usize,
    len: usize,
    dev: &Device,
) -> Result<(Tensor, Tensor)> {
    let half = cfg.head_dim() / 2;
    let mut cos = Vec::with_capacity(len * half);
    let mut sin = Vec::with_capacity(len * half);
    for p in offset..offset + len {
        for i in 0..half {
            let (s, c) = (p as f32 * rope_frequency(cfg, i)).sin_cos();
            cos.push(c);
            sin.push(s);
        }
    }
    Ok((
        Tensor::from_vec(cos, (len, half), dev)?,
        Tensor::from_vec(sin, (len, half), dev)?,
    ))
}

/// The angle per position of rotary pair `i`.
pub fn rope_frequency(cfg: &TransformerConfig, i: usize) -> f32 {
    cfg.rope_base.powf(-2.0 * i as f32 / cfg.head_dim() as f32)
}

fn dropout(x: Tensor, pass: &mut Pass) -> Result<Tensor> {
    let Some((p, rng)) = pass.dropout.as_mut() else {
        return Ok(x);
    };
    if *p <= 0.0 {
        return Ok(x);
    }
    let keep = 1.0 - *p;
    let mask: Vec<f32> = (0..x.elem_count())
        .map(|_| {
            if rng.random::<f32>() < keep {
                1.0 / keep
            } else {
                0.0
            }
        })
        .collect();
    x.mul(&Tensor::from_vec(mask, x.shape(), x.device())?)
}

impl Block {
    fn new(cfg: &TransformerConfig, vb: VarBuilder) -> Result<Block> {
        let d = cfg.d_model;
        Ok(Block {
            attn_norm: RmsNorm::new(d, vb.pp("attn_norm"))?,
            qkv: candle_nn::linear_no_bias(d, 3 * d, vb.pp("qkv"))?,
            out: candle_nn::linear_no_bias(d, d, vb.pp("out"))?,
            mlp_norm: RmsNorm::new(d, vb.pp("mlp_norm"))?,
            up: candle_nn::linear(d, cfg.d_ff, vb.pp("up"))?,
            down: candle_nn::linear(cfg.d_ff, d, vb.pp("down"))?,
        })
    }

    fn forward(&self, cfg: &TransformerConfig, x: &Tensor, pass: &mut Pass) -> Result<Tensor> {
        let (b, t, d) = x.dims3()?;
        let (h, hd) = (cfg.heads, cfg.head_dim());
        let qkv = self.qkv.forward(&self.attn_norm.forward(x)?)?;
        let split = |i: usize| -> Result<Tensor> {
            qkv.narrow(D::Minus1, i * d, d)?
                .reshape((b, t, h, hd))?
                .transpose(1, 2)?
                .contiguous()
        };
        let q = transformer_ops::rope(&split(0)?, &pass.cos, &pass.sin)?;
        let k = transformer_ops::rope(&split(1)?, &pass.cos, &pass.sin)?;
        let v = split(2)?;
        // No dropout on the attention weights: on the CPU a mask of batch x heads x t x t
        // draws cost more than the products it would regularise.
        let weights = causal_softmax(&q.matmul(&k.t()?)?, 1.0 / (hd as f32).sqrt())?;
        let ctx = weights.matmul(&v)?.transpose(1, 2)?.reshape((b, t, d))?;
        let x = (x + dropout(self.out.forward(&ctx)?, pass)?)?;
        let hidden = transformer_ops::gelu(&self.up.forward(&self.mlp_norm.forward(&x)?)?)?;
        let y = dropout(self.down.forward(&hidden)?, pass)?;
        x + y
    }
}

/// The whole model.
pub struct Transformer {
    pub config: TransformerConfig,
    pub embed: Embedding,
    pub blocks: Vec<Block>,
    pub norm: RmsNorm,
    pub head: Linear,
}

impl Transformer {
    /// Builds the layers from `vb` (new weights from a `VarMap`, or loaded ones).
    pub fn new(config: TransformerConfig, vb: VarBuilder) -> Result<Transformer> {
        let d = config.d_model;
        let blocks = (0..config.layers)
            .map(|i| Block::new(&config, vb.pp(format!("block{i}"))))
            .collect::<Result<Vec<_>>>()?;
        Ok(Transformer {
            embed: candle_nn::embedding(config.vocab, d, vb.pp("embed"))?,
            norm: RmsNorm::new(d, vb.pp("norm"))?,
            head: candle_nn::linear(d, config.vocab, vb.pp("head"))?,
            blocks,
            config,
        })
    }

    pub fn device(&self) -> Device {
        self.norm.gain.device().clone()
    }

    /// Logits `[batch, t, vocab]` for token ids `[batch, t]` (u32) at positions `offset..`.
    pub fn forward(
        &self,
        tokens: &Tensor,
        offset: usize,
        rng: Option<&mut StdRng>,
    ) -> Result<Tensor> {
        let (_, t) = tokens.dims2()?;
        let dev = tokens.device();
        let (cos, sin) = rope_tables(&self.config, offset, t, dev)?;
        let mut pass = Pass {
            cos,
            sin,
            dropout: rng.map(|r| (self.config.dropout, r)),
        };
        let mut x = self.embed.forward(tokens)?;
        x = dropout(x, &mut pass)?;
        for block in &self.blocks {
            x = block.forward(&self.config, &x, &mut pass)?;
        }
        self.head.forward(&self.norm.forward(&x)?)
    }

    /// Summed NLL (nats) of `targets` over the positions where `mask` is 1, and the number of
    /// such positions. `inputs`, `targets`: `[batch, t]` u32; `mask`: `[batch, t]` f32.
    pub fn nll(
        &self,
        inputs: &Tensor,
        targets: &Tensor,
        mask: &Tensor,
        rng: Option<&mut StdRng>,
    ) -> Result<Tensor> {
        let logits = self.forward(inputs, 0, rng)?;
        let logp = candle_nn::ops::log_softmax(&logits, D::Minus1)?;
        let picked = logp
            .gather(&targets.unsqueeze(D::Minus1)?, D::Minus1)?
            .squeeze(D::Minus1)?;
        (picked * mask)?.sum_all()?.neg()
    }
}

/// Re-draws every weight of `varmap` from `seed`: normal(0, 0.02) for matrices (the residual
/// outputs scaled by `1/sqrt(2 layers)`, as GPT-2), ones for norm gains, zeros for biases.
/// Variables are visited in name order, so the draw is a pure function of the seed.
pub fn init_from_seed(varmap: &VarMap, cfg: &TransformerConfig, seed: u64) -> Result<()> {
    let resid = 1.0 / (2.0 * cfg.layers as f32).sqrt();
    redraw_in_name_order(varmap, seed, |_, name, var, rng| {
        let n = var.elem_count();
        if name.ends_with("gain") {
            vec![1.0; n]
        } else if name.ends_with("bias") {
            vec![0.0; n]
        } else {
            let scale = if name.ends_with("out.weight") || name.ends_with("down.weight") {
                0.02 * resid
            } else {
                0.02
            };
            (0..n).map(|_| normal(rng) * scale).collect()
        }
    })
}

/// One standard normal draw (Box-Muller).
fn normal(rng: &mut StdRng) -> f32 {
    let u1 = rng.random::<f32>().max(1e-12);
    let u2 = rng.random::<f32>();
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::DType;

    fn tiny() -> TransformerConfig {
        TransformerConfig {
            coding: Coding::Notes,
            vocab: 11,
            d_model: 16,
            layers: 2,
            heads: 2,
            d_ff: 32,
            dropout: 0.0,
            context: 8,
            rope_base: 10000.0,
        }
    }

    fn build(cfg: &TransformerConfig) -> (VarMap, Transformer) {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let m = Transformer::new(cfg.clone(), vb).unwrap();
        init_from_seed(&varmap, cfg, 3).unwrap();
        (varmap, m)
    }

    #[test]
    fn a_token_never_sees_the_future() {
        let cfg = tiny();
        let (_, m) = build(&cfg);
        let a = Tensor::new(&[[1u32, 2, 3, 4, 5]], &Device::Cpu).unwrap();
        let b = Tensor::new(&[[1u32, 2, 3, 9, 10]], &Device::Cpu).unwrap();
        let la = m.forward(&a, 0, None).unwrap().to_vec3::<f32>().unwrap();
        let lb = m.forward(&b, 0, None).unwrap().to_vec3::<f32>().unwrap();
        assert_eq!(la[0][..3], lb[0][..3]);
        assert_ne!(la[0][3], lb[0][3]);
    }

    #[test]
    fn attention_depends_on_distance_only() {
        // RoPE: the same tokens at another offset give the same logits.
        let cfg = tiny();
        let (_, m) = build(&cfg);
        let a = Tensor::new(&[[1u32, 2, 3, 4]], &Device::Cpu).unwrap();
        let l0 = m
            .forward(&a, 0, None)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let l9 = m
            .forward(&a, 900, None)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        for (x, y) in l0.iter().zip(&l9) {
            assert!((x - y).abs() < 1e-3, "{x} {y}");
        }
    }

    #[test]
    fn training_lowers_the_loss_and_the_parameter_count_is_right() {
        let cfg = tiny();
        let (varmap, m) = build(&cfg);
        let stored: usize = varmap.all_vars().iter().map(|v| v.elem_count()).sum();
        assert_eq!(stored, cfg.parameters());
        let x = Tensor::new(&[[1u32, 2, 3, 1, 2, 3, 1, 2]], &Device::Cpu).unwrap();
        let y = Tensor::new(&[[2u32, 3, 1, 2, 3, 1, 2, 3]], &Device::Cpu).unwrap();
        let mask = Tensor::ones((1, 8), DType::F32, &Device::Cpu).unwrap();
        let mut opt = candle_nn::AdamW::new_lr(varmap.all_vars(), 1e-2).unwrap();
        let first = m
            .nll(&x, &y, &mask, None)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        for _ in 0..30 {
            let loss = m.nll(&x, &y, &mask, None).unwrap();
            candle_nn::Optimizer::backward_step(&mut opt, &loss).unwrap();
        }
        let last = m
            .nll(&x, &y, &mask, None)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(last < first * 0.3, "{first} -> {last}");
    }

    #[test]
    fn bad_shapes_are_named() {
        let mut cfg = tiny();
        cfg.heads = 3;
        assert!(cfg.check().unwrap_err().contains("heads"));
    }
}
