//! The Transformer's element-wise layers, tanh-GELU, RMS norm and RoPE, each one pass forward
//! and one backward on the CPU.
//!
//! From candle's tensor ops, GELU's backward is ten passes over the `[batch, t, d_ff]` hidden
//! layer (two of them `powf`, one `tanh`) and the RMS norm six forward and more backward, each
//! pass a fresh buffer whose pages the kernel must fault in; RoPE is eight. Profiled, these and
//! not the matrix products were the larger part of a training step. Other devices keep the
//! tensor-op form.

use crate::learn::models::cpu_kernel::{F32Kernel, OnCpu};
use crate::learn::models::transformer::NORM_EPS;
use candle_core::{Layout, Result, Shape, Tensor, D};

const SQRT_2_OVER_PI: f32 = 0.797_884_6;
const CUBIC: f32 = 0.044_715;

/// `tanh(u)` as `1 - 2 / (exp(2u) + 1)`: the same function (within a few ulps) at a third of
/// the cost of glibc's `tanhf`, which profiled as the GELU's largest part. Saturates to +-1
/// without NaN: `exp` goes to infinity or zero.
#[inline(always)]
fn tanh(u: f32) -> f32 {
    1.0 - 2.0 / ((2.0 * u).exp() + 1.0)
}

/// GELU in its tanh form (candle's `gelu`): `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
#[inline(always)]
pub fn gelu_scalar(x: f32) -> f32 {
    0.5 * x * (1.0 + tanh(SQRT_2_OVER_PI * (x + CUBIC * x * x * x)))
}

/// The derivative of [`gelu_scalar`] (the formula of candle's backward).
#[inline(always)]
fn gelu_derivative(x: f32) -> f32 {
    let t = tanh(SQRT_2_OVER_PI * (x + CUBIC * x * x * x));
    0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * SQRT_2_OVER_PI * (1.0 + 3.0 * CUBIC * x * x)
}

/// tanh-GELU of every element, differentiable.
pub fn gelu(x: &Tensor) -> Result<Tensor> {
    if !x.device().is_cpu() {
        return x.gelu();
    }
    x.contiguous()?.apply_op1(OnCpu(Gelu))
}

/// RMS normalisation of the last dimension with a learned gain, differentiable in both:
/// `x / sqrt(mean(x^2) + eps) * gain`.
pub fn rms_norm(x: &Tensor, gain: &Tensor) -> Result<Tensor> {
    if !x.device().is_cpu() {
        let ms = x.sqr()?.mean_keepdim(D::Minus1)?;
        return x
            .broadcast_div(&(ms + NORM_EPS)?.sqrt()?)?
            .broadcast_mul(gain);
    }
    x.contiguous()?
        .apply_op2(&gain.contiguous()?, OnCpu(RmsNorm))
}

/// Rotates the pairs `(x[i], x[i + half])` of the last dimension of `x` (`[.., t, head_dim]`)
/// by the angles whose cosines and sines are `cos`, `sin` (`[t, head_dim / 2]`); differentiable
/// in `x`.
pub fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
    if !x.device().is_cpu() {
        let half = x.dim(D::Minus1)? / 2;
        let x1 = x.narrow(D::Minus1, 0, half)?;
        let x2 = x.narrow(D::Minus1, half, half)?;
        let r1 = (x1.broadcast_mul(cos)? - x2.broadcast_mul(sin)?)?;
        let r2 = (x2.broadcast_mul(cos)? + x1.broadcast_mul(sin)?)?;
        return Tensor::cat(&[r1, r2], D::Minus1);
    }
    x.contiguous()?.apply_op3(
        &cos.contiguous()?,
        &sin.contiguous()?,
        OnCpu(Rope { inverse: false }),
    )
}

struct Gelu;

impl F32Kernel<1> for Gelu {
    const NAME: &'static str = "gelu-tanh";

    fn forward(&self, [x]: [&[f32]; 1], [l]: [&Layout; 1]) -> Result<(Vec<f32>, Shape)> {
        Ok((
            x.iter().map(|&v| gelu_scalar(v)).collect(),
            l.shape().clone(),
        ))
    }

    fn backward(&self, [x]: [&Tensor; 1], _: &Tensor, dy: &Tensor) -> Result<[Option<Tensor>; 1]> {
        Ok([Some(
            x.apply_op2_no_bwd(&dy.contiguous()?, &OnCpu(GeluGrad))?,
        )])
    }
}

/// `dy * gelu'(x)`.
struct GeluGrad;

impl F32Kernel<2> for GeluGrad {
    const NAME: &'static str = "gelu-tanh-grad";

    fn forward(&self, [x, dy]: [&[f32]; 2], [l, _]: [&Layout; 2]) -> Result<(Vec<f32>, Shape)> {
        let out = x
            .iter()
            .zip(dy)
            .map(|(&x, &dy)| dy * gelu_derivative(x))
            .collect();
        Ok((out, l.shape().clone()))
    }
}

/// The rotation of [`rope`]; `inverse` turns the other way, which is the rotation's gradient.
struct Rope {
    inverse: bool,
}

impl F32Kernel<3> for Rope {
    const NAME: &'static str = "rope";

    fn forward(
        &self,
        [x, cos, sin]: [&[f32]; 3],
        [l, ..]: [&Layout; 3],
    ) -> Result<(Vec<f32>, Shape)> {
        let dims = l.dims();
        let (t, width) = match dims {
            [.., t, w] if w % 2 == 0 && cos.len() == t * w / 2 && sin.len() == cos.len() => {
                (*t, *w)
            }
            _ => candle_core::bail!("rope of {dims:?} with tables of {}", cos.len()),
        };
        let half = width / 2;
        let turn = if self.inverse { -1.0 } else { 1.0 };
        let mut out = vec![0f32; x.len()];
        for (r, (row, o)) in x
            .chunks_exact(width)
            .zip(out.chunks_exact_mut(width))
            .enumerate()
        {
            let p = (r % t) * half;
            let (cos, sin) = (&cos[p..p + half], &sin[p..p + half]);
            let (x1, x2) = row.split_at(half);
            let (o1, o2) = o.split_at_mut(half);
            for i in 0..half {
                let s = turn * sin[i];
                o1[i] = x1[i] * cos[i] - x2[i] * s;
                o2[i] = x2[i] * cos[i] + x1[i] * s;
            }
        }
        Ok((out, l.shape().clone()))
    }

    fn backward(
        &self,
        [_, cos, sin]: [&Tensor; 3],
        _: &Tensor,
        dy: &Tensor,
    ) -> Result<[Option<Tensor>; 3]> {
        let back = OnCpu(Rope {
            inverse: !self.inverse,
        });
        let dx = dy.contiguous()?.apply_op3_no_bwd(cos, sin, &back)?;
        Ok([Some(dx), None, None])
    }
}

/// `1 / sqrt(mean(row^2) + eps)`.
#[inline(always)]
fn inverse_rms(row: &[f32]) -> f32 {
    let ms = row.iter().map(|v| v * v).sum::<f32>() / row.len() as f32;
    1.0 / (ms + NORM_EPS as f32).sqrt()
}

struct RmsNorm;

impl F32Kernel<2> for RmsNorm {
    const NAME: &'static str = "rms-norm";

    fn forward(&self, [x, gain]: [&[f32]; 2], [l, _]: [&Layout; 2]) -> Result<(Vec<f32>, Shape)> {
        let d = gain.len();
        if l.dims().last() != Some(&d) {
            candle_core::bail!("rms norm of {:?} with a gain of {d}", l.dims())
        }
        let mut out = vec![0f32; x.len()];
        for (row, o) in x.chunks_exact(d).zip(out.chunks_exact_mut(d)) {
            let inv = inverse_rms(row);
            for ((o, &v), &g) in o.iter_mut().zip(row).zip(gain) {
                *o = v * inv * g;
            }
        }
        Ok((out, l.shape().clone()))
    }

    fn backward(
        &self,
        [x, gain]: [&Tensor; 2],
        _: &Tensor,
        dy: &Tensor,
    ) -> Result<[Option<Tensor>; 2]> {
        let dy = dy.contiguous()?;
        let dx = x.apply_op3_no_bwd(gain, &dy, &OnCpu(RmsNormGradX))?;
        let dgain = x.apply_op2_no_bwd(&dy, &OnCpu(RmsNormGradGain))?;
        Ok([Some(dx), Some(dgain)])
    }
}

/// With `n = x * inv` and `dn = dy * gain`: `dx = inv * (dn - n * mean(dn * n))`.
struct RmsNormGradX;

impl F32Kernel<3> for RmsNormGradX {
    const NAME: &'static str = "rms-norm-grad-x";

    fn forward(
        &self,
        [x, gain, dy]: [&[f32]; 3],
        [l, ..]: [&Layout; 3],
    ) -> Result<(Vec<f32>, Shape)> {
        let d = gain.len();
        let mut out = vec![0f32; x.len()];
        for ((row, dy), o) in x
            .chunks_exact(d)
            .zip(dy.chunks_exact(d))
            .zip(out.chunks_exact_mut(d))
        {
            let inv = inverse_rms(row);
            let dot: f32 = row
                .iter()
                .zip(dy)
                .zip(gain)
                .map(|((&x, &dy), &g)| dy * g * x * inv)
                .sum();
            let mean = dot / d as f32;
            for (((o, &x), &dy), &g) in o.iter_mut().zip(row).zip(dy).zip(gain) {
                *o = inv * (dy * g - x * inv * mean);
            }
        }
        Ok((out, l.shape().clone()))
    }
}

/// `dgain = sum over rows of dy * x * inv`.
struct RmsNormGradGain;

impl F32Kernel<2> for RmsNormGradGain {
    const NAME: &'static str = "rms-norm-grad-gain";

    fn forward(&self, [x, dy]: [&[f32]; 2], [l, _]: [&Layout; 2]) -> Result<(Vec<f32>, Shape)> {
        let d = *l.dims().last().unwrap_or(&1);
        let mut out = vec![0f32; d];
        for (row, dy) in x.chunks_exact(d).zip(dy.chunks_exact(d)) {
            let inv = inverse_rms(row);
            for ((o, &x), &dy) in out.iter_mut().zip(row).zip(dy) {
                *o += dy * x * inv;
            }
        }
        Ok((out, Shape::from(d)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::models::grad_check::assert_matches_with_gradients;
    use candle_core::{Device, Var};

    #[test]
    fn tanh_matches_the_library_one_and_saturates() {
        for i in -2000..=2000 {
            let u = i as f32 * 0.01;
            assert!((tanh(u) - u.tanh()).abs() < 1e-6, "{u}");
        }
        assert_eq!((tanh(1e4), tanh(-1e4)), (1.0, -1.0));
    }

    #[test]
    fn gelu_matches_candle_and_its_gradient() {
        let dev = Device::Cpu;
        let x = Var::from_tensor(&Tensor::randn(0f32, 3.0, (3, 4, 5), &dev).unwrap()).unwrap();
        let ours = gelu(x.as_tensor()).unwrap();
        let theirs = x.as_tensor().gelu().unwrap();
        assert_matches_with_gradients(&ours, &theirs, &[("x", x.as_tensor())], 1e-5, 1e-4);
    }

    #[test]
    fn rope_matches_the_tensor_ops_and_their_gradient() {
        let dev = Device::Cpu;
        let x = Var::from_tensor(&Tensor::randn(0f32, 1.0, (2, 3, 5, 8), &dev).unwrap()).unwrap();
        let cos = Tensor::randn(0f32, 1.0, (5, 4), &dev).unwrap();
        let sin = Tensor::randn(0f32, 1.0, (5, 4), &dev).unwrap();
        let ours = rope(x.as_tensor(), &cos, &sin).unwrap();
        let x1 = x.narrow(D::Minus1, 0, 4).unwrap();
        let x2 = x.narrow(D::Minus1, 4, 4).unwrap();
        let (c, s) = (
            |a: &Tensor| a.broadcast_mul(&cos).unwrap(),
            |a: &Tensor| a.broadcast_mul(&sin).unwrap(),
        );
        let theirs = Tensor::cat(
            &[(c(&x1) - s(&x2)).unwrap(), (c(&x2) + s(&x1)).unwrap()],
            D::Minus1,
        )
        .unwrap();
        assert_matches_with_gradients(&ours, &theirs, &[("x", x.as_tensor())], 1e-5, 1e-5);
    }

    #[test]
    fn rms_norm_matches_the_tensor_ops_and_their_gradients() {
        let dev = Device::Cpu;
        let x = Var::from_tensor(&Tensor::randn(0f32, 2.0, (2, 3, 8), &dev).unwrap()).unwrap();
        let gain = Var::from_tensor(&Tensor::randn(1f32, 0.5, 8, &dev).unwrap()).unwrap();
        let ours = rms_norm(x.as_tensor(), gain.as_tensor()).unwrap();
        let ms = x.sqr().unwrap().mean_keepdim(D::Minus1).unwrap();
        let theirs = x
            .broadcast_div(&(ms + NORM_EPS).unwrap().sqrt().unwrap())
            .unwrap()
            .broadcast_mul(gain.as_tensor())
            .unwrap();
        let vars = [("x", x.as_tensor()), ("gain", gain.as_tensor())];
        assert_matches_with_gradients(&ours, &theirs, &vars, 1e-5, 1e-4);
    }
}
