//! A fast single-step inference path on raw `f32` for sampling and evaluation.
//!
//! One frame at batch size 1 costs candle a few dozen tiny ops whose overhead dwarfs the
//! arithmetic. Here the weights are copied out once into row-major vectors and a step is a
//! handful of matrix-vector products. The first layer's input projection is precomputed per
//! input token (`W_ih[:, voice block] * E_voice[token]`), so it becomes four table lookups; the
//! heads' voice embeddings are tables too. The dot products use eight accumulators so the
//! compiler vectorises them, with an AVX2+FMA build chosen at run time where the CPU has it.

use super::lstm::{ModelConfig, NoteLstm};
use super::lstm_cell::sigmoid;
use candle_core::{Result, Tensor};

fn to_vec2(t: &Tensor) -> Result<(Vec<f32>, usize, usize)> {
    let (r, c) = t.dims2()?;
    Ok((t.flatten_all()?.to_vec1::<f32>()?, r, c))
}

#[inline(always)]
fn dot_generic(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] = x[k].mul_add(y[k], acc[k]);
        }
    }
    let mut s = (acc[0] + acc[4]) + (acc[1] + acc[5]) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// `y += W x`, four rows at a time so four independent accumulator chains hide the FMA latency
/// and each chunk of `x` is loaded once per four rows.
#[inline(always)]
fn matvec_generic(w: &[f32], cols: usize, x: &[f32], y: &mut [f32]) {
    let full = cols / 8 * 8;
    let mut quads = w.chunks_exact(4 * cols);
    let mut y4 = y.chunks_exact_mut(4);
    for (rows, out) in (&mut quads).zip(&mut y4) {
        let (r0, rest) = rows.split_at(cols);
        let (r1, rest) = rest.split_at(cols);
        let (r2, r3) = rest.split_at(cols);
        let mut acc = [[0f32; 8]; 4];
        let mut k = 0;
        while k < full {
            let xs = &x[k..k + 8];
            for (a, r) in acc.iter_mut().zip([r0, r1, r2, r3]) {
                let rs = &r[k..k + 8];
                for j in 0..8 {
                    a[j] = rs[j].mul_add(xs[j], a[j]);
                }
            }
            k += 8;
        }
        for (i, (a, r)) in acc.iter().zip([r0, r1, r2, r3]).enumerate() {
            let mut s = (a[0] + a[4]) + (a[1] + a[5]) + ((a[2] + a[6]) + (a[3] + a[7]));
            for j in full..cols {
                s += r[j] * x[j];
            }
            out[i] += s;
        }
    }
    let done = y.len() / 4 * 4;
    for (row, out) in w[done * cols..]
        .chunks_exact(cols)
        .zip(y[done..].iter_mut())
    {
        *out += dot_generic(row, x);
    }
}

/// AVX2 `y += W x`: four rows per pass, one 8-lane FMA chain per row.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn matvec_avx2(w: &[f32], cols: usize, x: &[f32], y: &mut [f32]) {
    use std::arch::x86_64::*;
    unsafe fn hsum(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
        _mm_cvtss_f32(s)
    }
    let rows = y.len();
    assert!(w.len() >= rows * cols && x.len() >= cols);
    let full = cols / 8 * 8;
    let wp = w.as_ptr();
    let xp = x.as_ptr();
    let mut r = 0;
    while r + 4 <= rows {
        let (p0, p1, p2, p3) = (
            wp.add(r * cols),
            wp.add((r + 1) * cols),
            wp.add((r + 2) * cols),
            wp.add((r + 3) * cols),
        );
        let (mut a0, mut a1, mut a2, mut a3) = (
            _mm256_setzero_ps(),
            _mm256_setzero_ps(),
            _mm256_setzero_ps(),
            _mm256_setzero_ps(),
        );
        let mut k = 0;
        while k < full {
            let xv = _mm256_loadu_ps(xp.add(k));
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(p0.add(k)), xv, a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(p1.add(k)), xv, a1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(p2.add(k)), xv, a2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(p3.add(k)), xv, a3);
            k += 8;
        }
        let mut s = [hsum(a0), hsum(a1), hsum(a2), hsum(a3)];
        for (j, xj) in x.iter().enumerate().take(cols).skip(full) {
            s[0] += *p0.add(j) * xj;
            s[1] += *p1.add(j) * xj;
            s[2] += *p2.add(j) * xj;
            s[3] += *p3.add(j) * xj;
        }
        for (i, v) in s.iter().enumerate() {
            y[r + i] += v;
        }
        r += 4;
    }
    for (row, out) in w[r * cols..rows * cols]
        .chunks_exact(cols)
        .zip(y[r..].iter_mut())
    {
        *out += dot_generic(row, x);
    }
}

/// `y += W x` for row-major `W (y.len(), cols)`.
fn matvec(w: &[f32], cols: usize, x: &[f32], y: &mut [f32], avx2: bool) {
    debug_assert_eq!(w.len(), cols * y.len());
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        // SAFETY: `avx2` is only true when the CPU reports AVX2 and FMA.
        unsafe { matvec_avx2(w, cols, x, y) };
        return;
    }
    let _ = avx2;
    matvec_generic(w, cols, x, y)
}

// `fast_exp` and `sigmoid` are the training kernels' own (`lstm_cell`), so sampling and training
// compute the gates with the same arithmetic.
#[inline(always)]
fn tanh(x: f32) -> f32 {
    2.0 * sigmoid(2.0 * x) - 1.0
}

/// One LSTM cell update from pre-activation gates `g` (i, f, g, o blocks of `h.len()`).
#[inline(always)]
fn cell_generic(g: &[f32], hs: &mut [f32], cs: &mut [f32]) {
    let n = hs.len();
    let (gi, rest) = g.split_at(n);
    let (gf, rest) = rest.split_at(n);
    let (gg, go) = rest.split_at(n);
    for j in 0..n {
        let i = sigmoid(gi[j]);
        let f = sigmoid(gf[j]);
        let c = f * cs[j] + i * tanh(gg[j]);
        cs[j] = c;
        hs[j] = sigmoid(go[j]) * tanh(c);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn cell_avx2(g: &[f32], hs: &mut [f32], cs: &mut [f32]) {
    cell_generic(g, hs, cs)
}

fn cell(g: &[f32], hs: &mut [f32], cs: &mut [f32], avx2: bool) {
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        // SAFETY: `avx2` is only true when the CPU reports AVX2 and FMA.
        unsafe { cell_avx2(g, hs, cs) };
        return;
    }
    let _ = avx2;
    cell_generic(g, hs, cs)
}

struct Layer {
    /// `None` for the first layer (its input projection is in the token tables).
    w_ih: Option<Vec<f32>>,
    w_hh: Vec<f32>,
    bias: Vec<f32>,
}

struct Head {
    from_hidden: Vec<f32>,
    from_hidden_bias: Vec<f32>,
    /// Per earlier voice: `(V_u, D)` table.
    voice_tables: Vec<Vec<f32>>,
    out: Vec<f32>,
    out_bias: Vec<f32>,
}

/// The model's weights laid out for single-step inference.
pub struct FastLstm {
    pub config: ModelConfig,
    /// Per voice: `(V_v, 4H)` first-layer input projection of each input token.
    in_tables: Vec<Vec<f32>>,
    layers: Vec<Layer>,
    heads: Vec<Head>,
    avx2: bool,
}

/// The recurrent state of one sequence and scratch space.
#[derive(Clone)]
pub struct FastState {
    h: Vec<Vec<f32>>,
    c: Vec<Vec<f32>>,
    gates: Vec<f32>,
    z: Vec<f32>,
}

impl FastLstm {
    /// Copies the weights of `model` out of candle.
    pub fn new(model: &NoteLstm) -> Result<FastLstm> {
        let cfg = model.config.clone();
        let h4 = 4 * cfg.hidden;
        let l0 = &model.layers[0];
        let (w_ih0, _, in0) = to_vec2(&l0.weight_ih)?;
        let mut in_tables = Vec::new();
        for (v, emb) in model.embeds.iter().enumerate() {
            let (table, n, e) = to_vec2(emb.embeddings())?;
            // Columns v*E..(v+1)*E of W_ih0, as a (4H, E) block.
            let block: Vec<f32> = (0..h4)
                .flat_map(|r| {
                    w_ih0[r * in0 + v * e..r * in0 + (v + 1) * e]
                        .iter()
                        .copied()
                })
                .collect();
            let mut t = vec![0f32; n * h4];
            for tok in 0..n {
                matvec_generic(
                    &block,
                    e,
                    &table[tok * e..(tok + 1) * e],
                    &mut t[tok * h4..(tok + 1) * h4],
                );
            }
            in_tables.push(t);
        }
        let mut layers = Vec::new();
        for (l, layer) in model.layers.iter().enumerate() {
            layers.push(Layer {
                w_ih: if l == 0 {
                    None
                } else {
                    Some(to_vec2(&layer.weight_ih)?.0)
                },
                w_hh: to_vec2(&layer.weight_hh)?.0,
                bias: layer.bias.to_vec1::<f32>()?,
            });
        }
        let mut heads = Vec::new();
        for head in &model.heads {
            let bias = |l: &candle_nn::Linear| -> Result<Vec<f32>> {
                match l.bias() {
                    Some(b) => b.to_vec1::<f32>(),
                    None => Ok(vec![0f32; l.weight().dims2()?.0]),
                }
            };
            heads.push(Head {
                from_hidden: to_vec2(head.from_hidden.weight())?.0,
                from_hidden_bias: bias(&head.from_hidden)?,
                voice_tables: head
                    .from_voices
                    .iter()
                    .map(|e| Ok(to_vec2(e.embeddings())?.0))
                    .collect::<Result<Vec<_>>>()?,
                out: to_vec2(head.out.weight())?.0,
                out_bias: bias(&head.out)?,
            });
        }
        #[cfg(target_arch = "x86_64")]
        let avx2 = std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
        #[cfg(not(target_arch = "x86_64"))]
        let avx2 = false;
        Ok(FastLstm {
            config: cfg,
            in_tables,
            layers,
            heads,
            avx2,
        })
    }

    /// A zero state (what every song and every training window starts from).
    pub fn state(&self) -> FastState {
        let h = self.config.hidden;
        FastState {
            h: vec![vec![0f32; h]; self.layers.len()],
            c: vec![vec![0f32; h]; self.layers.len()],
            gates: vec![0f32; 4 * h],
            z: vec![0f32; self.config.head_hidden],
        }
    }

    /// Advances the state by one frame whose input tokens are `row` (one per voice; the
    /// boundary row for BOS). Returns the top layer's hidden state.
    pub fn step<'s>(&self, state: &'s mut FastState, row: &[u8]) -> &'s [f32] {
        let h = self.config.hidden;
        let h4 = 4 * h;
        for l in 0..self.layers.len() {
            let layer = &self.layers[l];
            let g = &mut state.gates;
            g.copy_from_slice(&layer.bias);
            match &layer.w_ih {
                None => {
                    for (v, &tok) in row.iter().enumerate() {
                        let t = &self.in_tables[v][tok as usize * h4..(tok as usize + 1) * h4];
                        for (a, b) in g.iter_mut().zip(t) {
                            *a += b;
                        }
                    }
                }
                Some(w) => {
                    let (below, _) = state.h.split_at(l);
                    matvec(w, h, &below[l - 1], g, self.avx2);
                }
            }
            matvec(&layer.w_hh, h, &state.h[l], g, self.avx2);
            cell(g, &mut state.h[l], &mut state.c[l], self.avx2);
        }
        &state.h[self.layers.len() - 1]
    }

    /// Logits of voice `v` given the top hidden state and the tokens already chosen for the
    /// voices before `v` in this frame (`chosen.len() >= v`). Writes `out` (`V_v` values).
    pub fn head_logits(&self, state: &mut FastState, v: usize, chosen: &[u8], out: &mut [f32]) {
        let head = &self.heads[v];
        let d = self.config.head_hidden;
        let top = &state.h[self.layers.len() - 1];
        let z = &mut state.z;
        z.copy_from_slice(&head.from_hidden_bias);
        matvec(&head.from_hidden, self.config.hidden, top, z, self.avx2);
        for (u, table) in head.voice_tables.iter().enumerate() {
            let t = chosen[u] as usize;
            for (a, b) in z.iter_mut().zip(&table[t * d..(t + 1) * d]) {
                *a += b;
            }
        }
        for a in z.iter_mut() {
            *a = a.max(0.0);
        }
        out.copy_from_slice(&head.out_bias);
        matvec(&head.out, d, z, out, self.avx2);
    }

    /// Number of output tokens of voice `v`.
    pub fn vocab_size(&self, v: usize) -> usize {
        self.config.vocab.ranges[v].size()
    }

    /// Number of voices.
    pub fn voices(&self) -> usize {
        self.heads.len()
    }
}

/// Runs a model over a song with its state rebuilt from zero every `refresh` frames over the
/// last `refresh` input rows, so the state always holds between `refresh` and `2 refresh - 1`
/// frames of context. Training resets the state at every window of `seq` frames, so a state
/// carried over thousands of frames drifts into regions training never visited (samples fall
/// silent); with `refresh = seq / 2` the context stays inside what training saw, at twice the
/// cost per frame. `refresh = 0` carries the state over the whole song.
pub struct Stepper<'a> {
    pub model: &'a FastLstm,
    pub state: FastState,
    refresh: usize,
    history: Vec<u8>,
    steps: usize,
}

impl<'a> Stepper<'a> {
    pub fn new(model: &'a FastLstm, refresh: usize) -> Stepper<'a> {
        Stepper {
            model,
            state: model.state(),
            refresh,
            history: Vec::new(),
            steps: 0,
        }
    }

    /// Back to the song start.
    pub fn reset(&mut self) {
        self.state = self.model.state();
        self.history.clear();
        self.steps = 0;
    }

    /// Feeds one input row.
    pub fn advance(&mut self, row: &[u8]) {
        let w = row.len();
        self.steps += 1;
        if self.refresh == 0 {
            self.model.step(&mut self.state, row);
            return;
        }
        self.history.extend_from_slice(row);
        if self.history.len() > 4 * self.refresh * w {
            self.history.drain(..self.history.len() - self.refresh * w);
        }
        if self.steps > self.refresh && (self.steps - 1).is_multiple_of(self.refresh) {
            self.state = self.model.state();
            let from = self.history.len() - self.refresh * w;
            for k in 0..self.refresh {
                let r = &self.history[from + k * w..from + (k + 1) * w];
                self.model.step(&mut self.state, r);
            }
        } else {
            self.model.step(&mut self.state, row);
        }
    }
}

/// Log-softmax in place.
pub fn log_softmax(x: &mut [f32]) {
    let m = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let s: f32 = x.iter().map(|v| (v - m).exp()).sum();
    let ls = m + s.ln();
    for v in x.iter_mut() {
        *v -= ls;
    }
}

/// Reference: logits of the candle model for one song prefix, for tests of the fast path.
pub fn candle_logits(model: &NoteLstm, inputs: &Tensor, targets: &Tensor) -> Result<Vec<Tensor>> {
    let hidden = model.hidden_states(inputs, None)?;
    model.logits(&hidden, targets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::data::dataset::{make_batch, TokenSet};
    use crate::learn::data::vocab::Vocab;
    use crate::learn::models::lstm::small_seeded_lstm;
    use crate::learn::models::lstm_cell::fast_exp;
    use crate::score::{Score, Voice};
    use candle_core::Device;

    #[test]
    fn fast_exp_is_accurate() {
        let mut x = -30f32;
        while x < 30.0 {
            let (a, b) = (fast_exp(x), x.exp());
            assert!(((a - b) / b).abs() < 1e-6, "{x}: {a} vs {b}");
            assert!((tanh(x) - x.tanh()).abs() < 1e-6, "tanh {x}");
            x += 0.0137;
        }
    }

    #[test]
    fn fast_path_matches_candle() {
        let s = Score::from_notes(
            "a",
            24.0,
            &[
                [60, 64, 48, 3],
                [62, 65, 50, 0],
                [0, 0, 0, 5],
                [64, 67, 52, 9],
            ],
        );
        let vocab = Vocab::from_scores(&Voice::ALL, [&s]).unwrap();
        let set = TokenSet::from_scores(vocab.clone(), [&s]);
        let (_varmap, model) = small_seeded_lstm(vocab, 0.0);
        let wins = set.windows(8);
        let b = make_batch(&set, &wins, &[0], 0, 1, 8, None);
        let x = Tensor::from_vec(b.inputs.clone(), (1, 8, 4), &Device::Cpu).unwrap();
        let y = Tensor::from_vec(b.targets.clone(), (1, 8, 4), &Device::Cpu).unwrap();
        let reference = candle_logits(&model, &x, &y).unwrap();
        let fast = FastLstm::new(&model).unwrap();
        let mut st = fast.state();
        for t in 0..5 {
            let row: Vec<u8> = b.inputs[t * 4..t * 4 + 4]
                .iter()
                .map(|&v| v as u8)
                .collect();
            let tgt: Vec<u8> = b.targets[t * 4..t * 4 + 4]
                .iter()
                .map(|&v| v as u8)
                .collect();
            fast.step(&mut st, &row);
            for (v, reference) in reference.iter().enumerate() {
                let mut out = vec![0f32; fast.vocab_size(v)];
                fast.head_logits(&mut st, v, &tgt, &mut out);
                let r = reference.get(t).unwrap().to_vec1::<f32>().unwrap();
                for (a, b) in out.iter().zip(&r) {
                    assert!((a - b).abs() < 1e-4, "t {t} v {v}: {a} vs {b}");
                }
            }
        }
    }
}
