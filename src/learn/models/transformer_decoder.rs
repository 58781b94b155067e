//! The Transformer token by token, for sampling and scoring: the weights of
//! [`crate::learn::models::transformer::Transformer`] copied into plain vectors, a KV cache per layer, and a
//! sliding window: once the cache holds `window` positions the oldest is dropped. RoPE makes
//! attention depend on the distance between positions only, so a dropped position changes
//! nothing for the ones kept and a song can run for any length.

use crate::learn::models::transformer::{rope_frequency, Transformer, TransformerConfig, NORM_EPS};
use crate::learn::models::transformer_ops::gelu_scalar;
use candle_core::{Result, Tensor};
use std::collections::VecDeque;

/// A row-major matrix `[rows, cols]` with an optional bias, applied as `y = W x + b`.
struct Dense {
    w: Vec<f32>,
    b: Option<Vec<f32>>,
    rows: usize,
    cols: usize,
}

fn flat(t: &Tensor) -> Result<Vec<f32>> {
    t.flatten_all()?.to_vec1::<f32>()
}

impl Dense {
    fn of(l: &candle_nn::Linear) -> Result<Dense> {
        let (rows, cols) = l.weight().dims2()?;
        Ok(Dense {
            w: flat(l.weight())?,
            b: l.bias().map(flat).transpose()?,
            rows,
            cols,
        })
    }

    #[inline(always)]
    fn apply(&self, x: &[f32], y: &mut [f32]) {
        for (r, out) in y.iter_mut().enumerate().take(self.rows) {
            *out = dot(&self.w[r * self.cols..(r + 1) * self.cols], x)
                + self.b.as_ref().map_or(0.0, |b| b[r]);
        }
    }
}

/// Dot product in eight lanes (the compiler vectorises the lanes).
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[inline(always)]
fn rms_norm(x: &[f32], gain: &[f32], out: &mut [f32]) {
    let ms = x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32;
    let inv = 1.0 / (ms + NORM_EPS as f32).sqrt();
    for ((o, v), g) in out.iter_mut().zip(x).zip(gain) {
        *o = v * inv * g;
    }
}

struct Layer {
    attn_gain: Vec<f32>,
    qkv: Dense,
    out: Dense,
    mlp_gain: Vec<f32>,
    up: Dense,
    down: Dense,
}

/// The weights, ready for token-by-token use.
pub struct Decoder {
    pub config: TransformerConfig,
    embed: Vec<f32>,
    layers: Vec<Layer>,
    norm_gain: Vec<f32>,
    head: Dense,
    /// Per rotary pair, the angle per position.
    freqs: Vec<f32>,
}

/// Keys and values of the positions a layer can still see, newest last.
#[derive(Clone)]
struct LayerCache {
    keys: VecDeque<Vec<f32>>,
    values: VecDeque<Vec<f32>>,
}

/// The running state of one sequence.
#[derive(Clone)]
pub struct DecodeState {
    layers: Vec<LayerCache>,
    /// Position of the next token.
    pub position: usize,
    /// Most positions kept.
    pub window: usize,
}

impl Decoder {
    /// Copies `model`'s weights.
    pub fn new(model: &Transformer) -> Result<Decoder> {
        let cfg = model.config.clone();
        let embed = flat(model.embed.embeddings())?;
        let layers = model
            .blocks
            .iter()
            .map(|b| {
                Ok(Layer {
                    attn_gain: flat(&b.attn_norm.gain)?,
                    qkv: Dense::of(&b.qkv)?,
                    out: Dense::of(&b.out)?,
                    mlp_gain: flat(&b.mlp_norm.gain)?,
                    up: Dense::of(&b.up)?,
                    down: Dense::of(&b.down)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let freqs = (0..cfg.head_dim() / 2)
            .map(|i| rope_frequency(&cfg, i))
            .collect();
        Ok(Decoder {
            embed,
            layers,
            norm_gain: flat(&model.norm.gain)?,
            head: Dense::of(&model.head)?,
            freqs,
            config: cfg,
        })
    }

    /// A fresh state keeping at most `window` positions (at least 1).
    pub fn start(&self, window: usize) -> DecodeState {
        DecodeState {
            layers: vec![
                LayerCache {
                    keys: VecDeque::new(),
                    values: VecDeque::new(),
                };
                self.layers.len()
            ],
            position: 0,
            window: window.max(1),
        }
    }

    #[inline(always)]
    fn rope(&self, x: &mut [f32], position: usize) {
        let hd = self.config.head_dim();
        let half = hd / 2;
        for head in x.chunks_exact_mut(hd) {
            for (i, f) in self.freqs.iter().enumerate() {
                let (s, c) = (position as f32 * f).sin_cos();
                let (a, b) = (head[i], head[i + half]);
                head[i] = a * c - b * s;
                head[i + half] = b * c + a * s;
            }
        }
    }

    /// Feeds `token` at the state's position and writes the next token's logits.
    pub fn step(&self, state: &mut DecodeState, token: u16, logits: &mut Vec<f32>) {
        #[cfg(target_arch = "x86_64")]
        if super::lstm_cell::simd_available() {
            // SAFETY: the CPU has AVX2 and FMA (checked just above).
            unsafe { self.step_avx2(state, token, logits) };
            return;
        }
        self.step_generic(state, token, logits)
    }

    /// [`Decoder::step`] compiled for AVX2 and FMA: the same code, wider vectors.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn step_avx2(&self, state: &mut DecodeState, token: u16, logits: &mut Vec<f32>) {
        self.step_generic(state, token, logits)
    }

    #[inline(always)]
    fn step_generic(&self, state: &mut DecodeState, token: u16, logits: &mut Vec<f32>) {
        let cfg = &self.config;
        let (d, hd) = (cfg.d_model, cfg.head_dim());
        let t = (token as usize).min(cfg.vocab - 1);
        let mut x = self.embed[t * d..(t + 1) * d].to_vec();
        let mut h = vec![0f32; d];
        let mut qkv = vec![0f32; 3 * d];
        let mut ctx = vec![0f32; d];
        let mut proj = vec![0f32; d];
        let mut hidden = vec![0f32; cfg.d_ff];
        let scale = 1.0 / (hd as f32).sqrt();
        for (layer, cache) in self.layers.iter().zip(&mut state.layers) {
            rms_norm(&x, &layer.attn_gain, &mut h);
            layer.qkv.apply(&h, &mut qkv);
            let (q, kv) = qkv.split_at_mut(d);
            let (k, v) = kv.split_at_mut(d);
            self.rope(q, state.position);
            self.rope(k, state.position);
            if cache.keys.len() == state.window {
                cache.keys.pop_front();
                cache.values.pop_front();
            }
            cache.keys.push_back(k.to_vec());
            cache.values.push_back(v.to_vec());
            let mut weights = vec![0f32; cache.keys.len()];
            for head in 0..cfg.heads {
                let r = head * hd..(head + 1) * hd;
                let qh = &q[r.clone()];
                let mut max = f32::NEG_INFINITY;
                for (w, key) in weights.iter_mut().zip(&cache.keys) {
                    *w = dot(qh, &key[r.clone()]) * scale;
                    max = max.max(*w);
                }
                let mut sum = 0.0;
                for w in &mut weights {
                    *w = (*w - max).exp();
                    sum += *w;
                }
                let out = &mut ctx[r.clone()];
                out.fill(0.0);
                for (w, value) in weights.iter().zip(&cache.values) {
                    let w = w / sum;
                    for (o, v) in out.iter_mut().zip(&value[r.clone()]) {
                        *o += w * v;
                    }
                }
            }
            layer.out.apply(&ctx, &mut proj);
            for (x, p) in x.iter_mut().zip(&proj) {
                *x += p;
            }
            rms_norm(&x, &layer.mlp_gain, &mut h);
            layer.up.apply(&h, &mut hidden);
            for u in &mut hidden {
                *u = gelu_scalar(*u);
            }
            layer.down.apply(&hidden, &mut proj);
            for (x, p) in x.iter_mut().zip(&proj) {
                *x += p;
            }
        }
        rms_norm(&x, &self.norm_gain, &mut h);
        logits.resize(cfg.vocab, 0.0);
        self.head.apply(&h, logits);
        state.position += 1;
    }
}

/// The probabilities of `logits` (a softmax, in f64).
pub fn softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let mut probs: Vec<f64> = logits.iter().map(|&v| ((v - max) as f64).exp()).collect();
    let sum: f64 = probs.iter().sum();
    probs.iter_mut().for_each(|p| *p /= sum);
    probs
}

/// Natural-log softmax of `logits` at `target`.
pub fn log_prob(logits: &[f32], target: usize) -> f64 {
    let max = logits.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let sum: f64 = logits.iter().map(|&v| ((v - max) as f64).exp()).sum();
    (logits[target] - max) as f64 - sum.ln()
}

/// Logits of every position of `tokens` by the batch path (for tests and checks).
pub fn batch_logits(model: &Transformer, tokens: &[u16]) -> Result<Vec<Vec<f32>>> {
    let ids: Vec<u32> = tokens.iter().map(|&t| t as u32).collect();
    let x = Tensor::from_vec(ids, (1, tokens.len()), &model.device())?;
    let logits = model.forward(&x, 0, None)?;
    logits.squeeze(0)?.to_vec2::<f32>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};
    use candle_nn::{VarBuilder, VarMap};

    fn model(layers: usize) -> Transformer {
        let cfg = TransformerConfig {
            coding: crate::learn::data::coding::Coding::Notes,
            vocab: 13,
            d_model: 24,
            layers,
            heads: 3,
            d_ff: 40,
            dropout: 0.0,
            context: 16,
            rope_base: 10000.0,
        };
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let m = Transformer::new(cfg.clone(), vb).unwrap();
        crate::learn::models::transformer::init_from_seed(&varmap, &cfg, 9).unwrap();
        // Larger weights than the initial 0.02 so that attention is far from uniform.
        for v in varmap.all_vars() {
            let t = (v.as_tensor() * 20.0).unwrap();
            v.set(&t).unwrap();
        }
        m
    }

    #[test]
    fn token_by_token_matches_the_batch_forward() {
        let m = model(2);
        let dec = Decoder::new(&m).unwrap();
        let tokens = [0u16, 3, 7, 1, 12, 5, 5, 9, 2, 11];
        let want = batch_logits(&m, &tokens).unwrap();
        let mut state = dec.start(64);
        let mut logits = Vec::new();
        for (i, &t) in tokens.iter().enumerate() {
            dec.step(&mut state, t, &mut logits);
            for (a, b) in logits.iter().zip(&want[i]) {
                assert!(
                    (a - b).abs() < 1e-3 * (1.0 + b.abs()),
                    "position {i}: {a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn a_sliding_window_sees_only_its_last_positions() {
        // A window of 4 at position 9 gives what the batch path gives for the last 4 tokens
        // alone: RoPE makes their absolute positions irrelevant.
        let m = model(1);
        let dec = Decoder::new(&m).unwrap();
        let tokens = [0u16, 3, 7, 1, 12, 5, 5, 9, 2, 11];
        let mut state = dec.start(4);
        let mut logits = Vec::new();
        for &t in &tokens {
            dec.step(&mut state, t, &mut logits);
        }
        let want = batch_logits(&m, &tokens[6..]).unwrap();
        for (a, b) in logits.iter().zip(&want[3]) {
            assert!((a - b).abs() < 1e-3 * (1.0 + b.abs()), "{a} vs {b}");
        }
        assert!((log_prob(&[0.0, 0.0], 1) - (0.5f64).ln()).abs() < 1e-9);
    }
}
