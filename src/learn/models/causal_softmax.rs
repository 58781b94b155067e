//! The attention weights in one pass: `softmax(scale * scores)` over the keys a query may see
//! (key `j` for query `i` when `j <= i + keys - queries`), zero elsewhere, with its backward.
//!
//! Written out as tensor ops this is seven passes over a `[batch, heads, t, t]` tensor forward
//! and as many backward (scale, mask, max, subtract, exp, sum, divide); on the CPU those passes,
//! not the matrix products, were most of a training step.

use super::cpu_kernel::{F32Kernel, OnCpu};
use candle_core::{Layout, Result, Shape, Tensor};

/// `softmax(scale * x)` over the causally visible keys of the last dimension.
pub fn causal_softmax(scores: &Tensor, scale: f32) -> Result<Tensor> {
    scores
        .contiguous()?
        .apply_op1(OnCpu(CausalSoftmax { scale }))
}

struct CausalSoftmax {
    scale: f32,
}

/// Queries and keys of the last two dimensions of `layout`.
fn dims(layout: &Layout) -> Result<(usize, usize)> {
    let d = layout.dims();
    if d.len() < 2 {
        candle_core::bail!("causal softmax needs at least two dimensions, got {d:?}")
    }
    Ok((d[d.len() - 2], d[d.len() - 1]))
}

impl F32Kernel<1> for CausalSoftmax {
    const NAME: &'static str = "causal-softmax";

    fn forward(&self, [x]: [&[f32]; 1], [l]: [&Layout; 1]) -> Result<(Vec<f32>, Shape)> {
        let (q, k) = dims(l)?;
        let mut out = vec![0f32; x.len()];
        for (r, (row, o)) in x.chunks_exact(k).zip(out.chunks_exact_mut(k)).enumerate() {
            let visible = (r % q + 1 + k - q.min(k)).min(k);
            let row = &row[..visible];
            let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) * self.scale;
            let mut sum = 0f32;
            for (o, &v) in o.iter_mut().zip(row) {
                *o = (v * self.scale - max).exp();
                sum += *o;
            }
            let inv = 1.0 / sum;
            for o in &mut o[..visible] {
                *o *= inv;
            }
        }
        Ok((out, l.shape().clone()))
    }

    fn backward(&self, _: [&Tensor; 1], p: &Tensor, dp: &Tensor) -> Result<[Option<Tensor>; 1]> {
        let grad = OnCpu(SoftmaxGrad { scale: self.scale });
        Ok([Some(p.apply_op2_no_bwd(&dp.contiguous()?, &grad)?)])
    }
}

/// `scale * p * (dp - sum(dp * p))` row by row: the gradient of the scores.
struct SoftmaxGrad {
    scale: f32,
}

impl F32Kernel<2> for SoftmaxGrad {
    const NAME: &'static str = "causal-softmax-grad";

    fn forward(&self, [p, dp]: [&[f32]; 2], [l, _]: [&Layout; 2]) -> Result<(Vec<f32>, Shape)> {
        let (_, k) = dims(l)?;
        let mut out = vec![0f32; p.len()];
        for ((p, dp), o) in p
            .chunks_exact(k)
            .zip(dp.chunks_exact(k))
            .zip(out.chunks_exact_mut(k))
        {
            let dot: f32 = p.iter().zip(dp).map(|(a, b)| a * b).sum();
            for ((o, &p), &dp) in o.iter_mut().zip(p).zip(dp) {
                *o = self.scale * p * (dp - dot);
            }
        }
        Ok((out, l.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::models::grad_check::assert_matches_with_gradients;
    use candle_core::{Device, Var, D};

    fn reference(x: &Tensor, scale: f64) -> Tensor {
        let (q, k) = (x.dim(D::Minus2).unwrap(), x.dim(D::Minus1).unwrap());
        let m: Vec<f32> = (0..q * k)
            .map(|i| if i % k > i / k + k - q { -1e9 } else { 0.0 })
            .collect();
        let m = Tensor::from_vec(m, (q, k), x.device()).unwrap();
        candle_nn::ops::softmax(&(x * scale).unwrap().broadcast_add(&m).unwrap(), D::Minus1)
            .unwrap()
    }

    #[test]
    fn matches_the_tensor_op_softmax_and_its_gradient() {
        let dev = Device::Cpu;
        let x = Var::from_tensor(&Tensor::randn(0f32, 2.0, (2, 3, 5, 7), &dev).unwrap()).unwrap();
        let ours = causal_softmax(x.as_tensor(), 0.5).unwrap();
        let theirs = reference(x.as_tensor(), 0.5);
        assert_matches_with_gradients(&ours, &theirs, &[("x", x.as_tensor())], 1e-6, 1e-5);
    }
}
