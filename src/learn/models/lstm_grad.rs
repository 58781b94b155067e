//! The training step of the LSTM note models without candle's autograd: the loss and the
//! gradient of every variable, by hand on raw `f32` buffers.
//!
//! Under candle's autograd a step builds a few hundred tensors, and the backward adds each
//! gradient into a fresh zero tensor (`zeros_like` + `add`), pads every `narrow` with zeros
//! and reduces every broadcast; on the CPU that bookkeeping cost as much as the arithmetic.
//! Here the same maths runs as a fixed sequence of GEMMs and row loops: embeddings, the
//! layers of `lstm_recurrence` (input projection plus bias as one GEMM each),
//! dropout with the masks [`super::lstm::apply_dropout`] draws, the chained voice heads,
//! log-softmax and the masked mean NLL; then the same backwards. `tests` check the loss and
//! every gradient against candle's autograd on [`NoteLstm::nll`].

use super::lstm::NoteLstm;
use super::lstm_cell::{exp_shifted, simd_available};
use super::lstm_recurrence::{self as recurrence, matmul, RecurrenceCache};
use candle_core::{bail, DType, Device, Result, Tensor, TensorId};
use rand::rngs::StdRng;
use rand::Rng;
use std::collections::HashMap;

/// Gradients of a model's variables, by tensor id (see [`ParamGrads::get`]).
#[derive(Debug, Default)]
pub struct ParamGrads {
    grads: HashMap<TensorId, Vec<f32>>,
}

impl ParamGrads {
    /// The gradient of `var` (row-major, the variable's shape), if it has one.
    pub fn get(&self, var: &Tensor) -> Option<&[f32]> {
        self.grads.get(&var.id()).map(|g| g.as_slice())
    }

    /// Sets the gradient of `var` (row-major, the variable's shape).
    pub fn insert(&mut self, var: &Tensor, grad: Vec<f32>) {
        self.grads.insert(var.id(), grad);
    }
}

fn flat(t: &Tensor) -> Result<Vec<f32>> {
    t.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()
}

/// `acc[j] += sum over rows of x[row][j]` for `x` with rows of `acc.len()`.
fn add_column_sums(acc: &mut [f32], x: &[f32]) {
    for row in x.chunks_exact(acc.len()) {
        for (a, v) in acc.iter_mut().zip(row) {
            *a += v;
        }
    }
}

/// Rows of `rows.len() / width` copies of `bias`.
fn repeat_rows(bias: &[f32], rows: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(rows * bias.len());
    for _ in 0..rows {
        out.extend_from_slice(bias);
    }
    out
}

/// Token `k` of row `r` (of `width`) as an index below `size`.
fn token(ids: &[u32], r: usize, width: usize, k: usize, size: usize) -> Result<usize> {
    let tok = ids[r * width + k] as usize;
    if tok >= size {
        bail!("token {tok} of voice {k} is outside the vocabulary (size {size})");
    }
    Ok(tok)
}

/// What [`NoteLstm::nll_carried`] computed.
pub struct CarriedRun {
    /// Masked mean NLL per frame of each voice.
    pub nll: Vec<f32>,
    /// Gradients of their sum, when asked for.
    pub grads: Option<ParamGrads>,
    /// Per layer, `[h, c]` (`2H` per batch row) after the window's last step.
    pub state: Vec<Vec<f32>>,
}

/// One LSTM layer's forward state kept for the backward.
struct LayerRun {
    input: Vec<f32>,
    w_ih: Vec<f32>,
    w_hh: Vec<f32>,
    rec: RecurrenceCache,
    /// Dropout mask applied to the layer's output (already scaled by `1 / (1 - p)`).
    mask: Option<Vec<f32>>,
}

/// One voice head's forward state kept for the backward.
struct HeadRun {
    a: Vec<f32>,
    b: Vec<f32>,
    pre: Vec<f32>,
    z: Vec<f32>,
    /// Softmax probabilities of each row.
    prob: Vec<f32>,
}

impl NoteLstm {
    /// The per-voice masked mean NLL of [`NoteLstm::nll`] (same inputs, same dropout draws
    /// from `dropout`) and the gradients of their sum with respect to every variable.
    /// CPU only (the variables are read into host memory).
    pub fn nll_grads(
        &self,
        inputs: &Tensor,
        targets: &Tensor,
        mask: &Tensor,
        dropout: Option<&mut StdRng>,
    ) -> Result<(Vec<f32>, ParamGrads)> {
        let run = self.nll_carried(inputs, targets, mask, dropout, None, true)?;
        Ok((run.nll, run.grads.unwrap_or_default()))
    }

    /// [`NoteLstm::nll_grads`] with each layer starting from `state0[layer]` (`[h0, c0]`, `2H`
    /// per batch row; `None` = zeros), returning each layer's state after the window's last
    /// step (the next window's `state0` when the state is carried) and, with `want_grads`, the
    /// gradients (which stop at `state0`: truncated BPTT).
    pub fn nll_carried(
        &self,
        inputs: &Tensor,
        targets: &Tensor,
        mask: &Tensor,
        mut dropout: Option<&mut StdRng>,
        state0: Option<&[Vec<f32>]>,
        want_grads: bool,
    ) -> Result<CarriedRun> {
        let cfg = &self.config;
        let (b, t, w) = inputs.dims3()?;
        if targets.dims3()? != (b, t, w) || mask.dims2()? != (b, t) || w != self.embeds.len() {
            bail!(
                "nll_grads: shapes {:?} {:?} {:?}",
                inputs.shape(),
                targets.shape(),
                mask.shape()
            );
        }
        if b == 0 || t == 0 {
            bail!("nll_grads: empty batch {:?}", inputs.shape());
        }
        if let Some(s0) = state0 {
            let h = cfg.hidden;
            if s0.len() != self.layers.len() || s0.iter().any(|s| s.len() != b * 2 * h) {
                bail!(
                    "nll_carried: expected {} layer states of {} values",
                    self.layers.len(),
                    b * 2 * h
                );
            }
        }
        let ids = inputs
            .flatten_all()?
            .to_dtype(DType::U32)?
            .to_vec1::<u32>()?;
        let tgt = targets
            .flatten_all()?
            .to_dtype(DType::U32)?
            .to_vec1::<u32>()?;
        let m = flat(mask)?;
        let n = b * t;
        let (e, h, hh) = (cfg.embed, cfg.hidden, cfg.head_hidden);
        let sizes: Vec<usize> = cfg.vocab.ranges.iter().map(|r| r.size()).collect();
        let threads = candle_core::utils::get_num_threads();
        let simd = simd_available();

        // Embeddings of the previous frame's notes, concatenated per row.
        let tables = self
            .embeds
            .iter()
            .map(|em| flat(em.embeddings()))
            .collect::<Result<Vec<_>>>()?;
        let mut x = vec![0f32; n * w * e];
        for r in 0..n {
            for v in 0..w {
                let tok = token(&ids, r, w, v, sizes[v])?;
                x[(r * w + v) * e..(r * w + v + 1) * e]
                    .copy_from_slice(&tables[v][tok * e..(tok + 1) * e]);
            }
        }

        // LSTM layers.
        let mut runs = Vec::with_capacity(self.layers.len());
        let mut final_state = Vec::with_capacity(self.layers.len());
        for (l, layer) in self.layers.iter().enumerate() {
            let input_dim = x.len() / n;
            let w_ih = flat(&layer.weight_ih)?;
            let w_hh = flat(&layer.weight_hh)?;
            let mut gx = repeat_rows(&flat(&layer.bias)?, n);
            let lhs = (&x[..], input_dim, 1);
            matmul(
                (n, 4 * h, input_dim),
                &mut gx,
                4 * h,
                true,
                lhs,
                (&w_ih, 1, input_dim),
                threads,
            );
            let s0 = state0.map(|s| &s[l][..]);
            let rec = recurrence::forward((b, t, h), gx, &w_hh, s0, threads);
            let mut last = vec![0f32; b * 2 * h];
            for bi in 0..b {
                let row = (bi * t + t - 1) * h;
                last[bi * 2 * h..bi * 2 * h + h].copy_from_slice(&rec.h[row..row + h]);
                last[bi * 2 * h + h..(bi + 1) * 2 * h].copy_from_slice(&rec.c[row..row + h]);
            }
            final_state.push(last);
            let mut out = rec.h.clone();
            let mut drop_mask = None;
            if let Some(rng) = dropout.as_deref_mut() {
                let p = cfg.dropout;
                if p > 0.0 {
                    let keep = 1.0 / (1.0 - p);
                    let mk: Vec<f32> = (0..out.len())
                        .map(|_| if rng.random::<f32>() < p { 0.0 } else { keep })
                        .collect();
                    for (o, k) in out.iter_mut().zip(&mk) {
                        *o *= k;
                    }
                    drop_mask = Some(mk);
                }
            }
            runs.push(LayerRun {
                input: std::mem::replace(&mut x, out),
                w_ih,
                w_hh,
                rec,
                mask: drop_mask,
            });
        }
        let top = x;

        // Voice heads, log-softmax and the masked mean NLL.
        let count = m.iter().sum::<f32>().max(1.0);
        let mut nll = Vec::with_capacity(w);
        let mut heads = Vec::with_capacity(w);
        for (v, head) in self.heads.iter().enumerate() {
            let a = flat(head.from_hidden.weight())?;
            let Some(a_bias) = head.from_hidden.bias() else {
                bail!("head {v}: from_hidden has no bias")
            };
            let mut pre = repeat_rows(&flat(a_bias)?, n);
            matmul(
                (n, hh, h),
                &mut pre,
                hh,
                true,
                (&top, h, 1),
                (&a, 1, h),
                threads,
            );
            for (u, em) in head.from_voices.iter().enumerate() {
                let table = flat(em.embeddings())?;
                for r in 0..n {
                    let tok = token(&tgt, r, w, u, sizes[u])?;
                    let row = &mut pre[r * hh..(r + 1) * hh];
                    for (p, x) in row.iter_mut().zip(&table[tok * hh..(tok + 1) * hh]) {
                        *p += x;
                    }
                }
            }
            let z: Vec<f32> = pre.iter().map(|x| x.max(0.0)).collect();
            let bw = flat(head.out.weight())?;
            let Some(b_bias) = head.out.bias() else {
                bail!("head {v}: out has no bias")
            };
            let vs = sizes[v];
            let mut prob = repeat_rows(&flat(b_bias)?, n);
            matmul(
                (n, vs, hh),
                &mut prob,
                vs,
                true,
                (&z, hh, 1),
                (&bw, 1, hh),
                threads,
            );
            let mut sum = 0f64;
            for r in 0..n {
                let row = &mut prob[r * vs..(r + 1) * vs];
                let tok = token(&tgt, r, w, v, vs)?;
                let max = row.iter().fold(f32::NEG_INFINITY, |a, x| a.max(*x));
                let picked = row[tok] - max;
                let total = exp_shifted(simd, row, max);
                sum += ((picked - total.ln()) * m[r]) as f64;
                let inv = 1.0 / total;
                row.iter_mut().for_each(|p| *p *= inv);
            }
            nll.push(-(sum as f32) / count);
            if !want_grads {
                continue;
            }
            heads.push(HeadRun {
                a,
                b: bw,
                pre,
                z,
                prob,
            });
        }

        if !want_grads {
            return Ok(CarriedRun {
                nll,
                grads: None,
                state: final_state,
            });
        }

        // Backward of the heads.
        let mut grads = ParamGrads::default();
        let mut dtop = vec![0f32; n * h];
        for (v, (head, run)) in self.heads.iter().zip(heads).enumerate() {
            let vs = sizes[v];
            let mut dl = run.prob;
            for r in 0..n {
                let tok = token(&tgt, r, w, v, vs)?;
                let row = &mut dl[r * vs..(r + 1) * vs];
                row[tok] -= 1.0;
                let s = m[r] / count;
                row.iter_mut().for_each(|x| *x *= s);
            }
            let mut db = vec![0f32; vs * hh];
            matmul(
                (vs, hh, n),
                &mut db,
                hh,
                false,
                (&dl, 1, vs),
                (&run.z, hh, 1),
                threads,
            );
            let mut dbb = vec![0f32; vs];
            add_column_sums(&mut dbb, &dl);
            let mut dpre = vec![0f32; n * hh];
            matmul(
                (n, hh, vs),
                &mut dpre,
                hh,
                false,
                (&dl, vs, 1),
                (&run.b, hh, 1),
                threads,
            );
            for (d, p) in dpre.iter_mut().zip(&run.pre) {
                // candle's relu backward passes the gradient where the input is >= 0.
                if *p < 0.0 {
                    *d = 0.0;
                }
            }
            let mut da = vec![0f32; hh * h];
            matmul(
                (hh, h, n),
                &mut da,
                h,
                false,
                (&dpre, 1, hh),
                (&top, h, 1),
                threads,
            );
            let mut dab = vec![0f32; hh];
            add_column_sums(&mut dab, &dpre);
            for (u, em) in head.from_voices.iter().enumerate() {
                let mut de = vec![0f32; sizes[u] * hh];
                for r in 0..n {
                    let tok = token(&tgt, r, w, u, sizes[u])?;
                    let row = &mut de[tok * hh..(tok + 1) * hh];
                    for (g, d) in row.iter_mut().zip(&dpre[r * hh..(r + 1) * hh]) {
                        *g += d;
                    }
                }
                grads.insert(em.embeddings(), de);
            }
            matmul(
                (n, h, hh),
                &mut dtop,
                h,
                true,
                (&dpre, hh, 1),
                (&run.a, h, 1),
                threads,
            );
            grads.insert(head.from_hidden.weight(), da);
            if let Some(bias) = head.from_hidden.bias() {
                grads.insert(bias, dab);
            }
            grads.insert(head.out.weight(), db);
            if let Some(bias) = head.out.bias() {
                grads.insert(bias, dbb);
            }
        }

        // Backward of the layers, top first.
        let mut dh = dtop;
        for (l, (layer, run)) in self.layers.iter().zip(runs).enumerate().rev() {
            if let Some(mk) = &run.mask {
                for (d, k) in dh.iter_mut().zip(mk) {
                    *d *= k;
                }
            }
            let s0 = state0.map(|s| &s[l][..]);
            let g = recurrence::backward(&run.rec, &run.w_hh, s0, &mut dh, None, threads);
            let input_dim = run.input.len() / n;
            let mut dw_ih = vec![0f32; 4 * h * input_dim];
            let gates = (&g.gates[..], 1, 4 * h);
            let x_view = (&run.input[..], input_dim, 1);
            matmul(
                (4 * h, input_dim, n),
                &mut dw_ih,
                input_dim,
                false,
                gates,
                x_view,
                threads,
            );
            let mut dbias = vec![0f32; 4 * h];
            add_column_sums(&mut dbias, &g.gates);
            let mut dx = vec![0f32; n * input_dim];
            let gates = (&g.gates[..], 4 * h, 1);
            let w_view = (&run.w_ih[..], input_dim, 1);
            matmul(
                (n, input_dim, 4 * h),
                &mut dx,
                input_dim,
                false,
                gates,
                w_view,
                threads,
            );
            grads.insert(&layer.weight_ih, dw_ih);
            grads.insert(&layer.weight_hh, g.w_hh);
            grads.insert(&layer.bias, dbias);
            dh = dx;
        }

        // Backward of the embeddings.
        for (v, em) in self.embeds.iter().enumerate() {
            let mut de = vec![0f32; sizes[v] * e];
            for r in 0..n {
                let tok = token(&ids, r, w, v, sizes[v])?;
                let src = &dh[(r * w + v) * e..(r * w + v + 1) * e];
                for (g, d) in de[tok * e..(tok + 1) * e].iter_mut().zip(src) {
                    *g += d;
                }
            }
            grads.insert(em.embeddings(), de);
        }
        Ok(CarriedRun {
            nll,
            grads: Some(grads),
            state: final_state,
        })
    }

    /// Whether [`NoteLstm::nll_grads`] can train this model (its variables live on the CPU).
    pub fn hand_gradients_available(&self) -> bool {
        self.layers
            .first()
            .is_some_and(|l| matches!(l.weight_ih.device(), Device::Cpu))
    }
}

#[cfg(test)]
mod tests;
