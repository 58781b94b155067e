//! A fused LSTM layer for the CPU: the recurrence of a whole window runs as one candle custom
//! op whose forward and BPTT backward are a few large matrix products on raw `f32` slices.
//!
//! `candle_nn::lstm` builds a graph of a dozen small ops per timestep; on the CPU their overhead
//! makes it 2-2.6x slower than PyTorch. Here the input projection of all timesteps is one GEMM
//! (ordinary candle ops, so autograd handles it), and [`Recurrence`] runs the recurrence of
//! `lstm_recurrence` on raw slices: per step one `(B,H)x(H,4H)` GEMM plus the gate
//! nonlinearities; its backward one `(B,4H)x(4H,H)` GEMM per step and `dW_hh` in a single
//! GEMM over the window. (Training of the LSTM note models skips candle's autograd altogether,
//! see [`super::lstm_grad`]; this op serves the VAE and evaluation.)
//!
//! Gate order is PyTorch's: input, forget, cell (g), output. The op's output packs `h` and `c`
//! of every step, `(B, T, 2H)`, so callers can carry the final cell state to the next window.
//! On a non-CPU device the layer falls back to the same formulation written with candle ops.

use super::cpu_kernel::{F32Kernel, OnCpu};
use super::lstm_recurrence::{self as recurrence, RecurrenceCache};
use candle_core::{DType, Device, Layout, Result, Shape, Tensor, D};
use candle_nn::{Init, VarBuilder};
use std::sync::Mutex;

/// The LSTM recurrence over one window: `(gx (B,T,4H), w_hh (4H,H), state0 (B,2H)) ->
/// hc (B,T,2H)`. Keeps the gate activations of its forward for its backward.
pub struct Recurrence {
    cache: Mutex<Option<RecurrenceCache>>,
    threads: usize,
}

impl Recurrence {
    fn new() -> Self {
        Recurrence {
            cache: Mutex::new(None),
            threads: candle_core::utils::get_num_threads(),
        }
    }
}

impl F32Kernel<3> for Recurrence {
    const NAME: &'static str = "fused-lstm-recurrence";

    fn forward(
        &self,
        [gx, w_hh, state0]: [&[f32]; 3],
        [l1, l2, l3]: [&Layout; 3],
    ) -> Result<(Vec<f32>, Shape)> {
        let (b, t, g4) = l1.shape().dims3()?;
        let h = g4 / 4;
        if g4 % 4 != 0 || l2.shape().dims2()? != (g4, h) || l3.shape().dims2()? != (b, 2 * h) {
            candle_core::bail!(
                "fused lstm: shapes {:?} {:?} {:?}",
                l1.shape(),
                l2.shape(),
                l3.shape()
            );
        }
        let cache = recurrence::forward((b, t, h), gx.to_vec(), w_hh, Some(state0), self.threads);
        let mut out = vec![0f32; b * t * 2 * h];
        for (row, o) in out.chunks_exact_mut(2 * h).enumerate() {
            o[..h].copy_from_slice(&cache.h[row * h..(row + 1) * h]);
            o[h..].copy_from_slice(&cache.c[row * h..(row + 1) * h]);
        }
        *self
            .cache
            .lock()
            .map_err(|_| candle_core::Error::Msg("poisoned".into()))? = Some(cache);
        Ok((out, Shape::from((b, t, 2 * h))))
    }

    fn backward(
        &self,
        [_gx, w_hh, state0]: [&Tensor; 3],
        res: &Tensor,
        grad_res: &Tensor,
    ) -> Result<[Option<Tensor>; 3]> {
        let (b, t, h2) = res.dims3()?;
        let h = h2 / 2;
        let guard = self
            .cache
            .lock()
            .map_err(|_| candle_core::Error::Msg("poisoned".into()))?;
        let Some(cache) = guard
            .as_ref()
            .filter(|c| (c.batch, c.steps, c.hidden) == (b, t, h))
        else {
            candle_core::bail!("fused lstm: backward without forward");
        };
        let w = w_hh.flatten_all()?.to_vec1::<f32>()?;
        let s0 = state0.flatten_all()?.to_vec1::<f32>()?;
        let grad = grad_res.flatten_all()?.to_vec1::<f32>()?;
        let mut dh = vec![0f32; b * t * h];
        let mut dc = vec![0f32; b * t * h];
        for (row, g) in grad.chunks_exact(h2).enumerate() {
            dh[row * h..(row + 1) * h].copy_from_slice(&g[..h]);
            dc[row * h..(row + 1) * h].copy_from_slice(&g[h..]);
        }
        let g = recurrence::backward(cache, &w, Some(&s0), &mut dh, Some(&dc), self.threads);
        let dev = res.device();
        Ok([
            Some(Tensor::from_vec(g.gates, (b, t, 4 * h), dev)?),
            Some(Tensor::from_vec(g.w_hh, (4 * h, h), dev)?),
            Some(Tensor::from_vec(g.state0, (b, h2), dev)?),
        ])
    }
}

/// One LSTM layer with PyTorch's parameterisation (`weight_ih (4H,I)`, `weight_hh (4H,H)`,
/// one bias `(4H)`, gates i, f, g, o).
#[derive(Debug, Clone)]
pub struct FusedLstm {
    pub weight_ih: Tensor,
    pub weight_hh: Tensor,
    pub bias: Tensor,
    pub hidden: usize,
}

impl FusedLstm {
    /// Creates (or loads) the layer's variables under `vb`. Initialisation is PyTorch's
    /// `U(-1/sqrt(H), 1/sqrt(H))` (training re-draws it from the run's seed).
    pub fn new(input: usize, hidden: usize, vb: VarBuilder) -> Result<Self> {
        let k = 1.0 / (hidden as f64).sqrt();
        let init = Init::Uniform { lo: -k, up: k };
        Ok(FusedLstm {
            weight_ih: vb.get_with_hints((4 * hidden, input), "weight_ih", init)?,
            weight_hh: vb.get_with_hints((4 * hidden, hidden), "weight_hh", init)?,
            bias: vb.get_with_hints(4 * hidden, "bias", init)?,
            hidden,
        })
    }

    /// `layers` layers of `hidden` units under `vb`'s `lstm.{l}`, each reading the one below;
    /// the first reads `input` features.
    pub fn stack(input: usize, hidden: usize, layers: usize, vb: &VarBuilder) -> Result<Vec<Self>> {
        (0..layers)
            .map(|l| {
                let input = if l == 0 { input } else { hidden };
                FusedLstm::new(input, hidden, vb.pp(format!("lstm.{l}")))
            })
            .collect()
    }

    /// Input projection of every step at once: `x (B,T,I) -> (B,T,4H)`.
    fn project(&self, x: &Tensor) -> Result<Tensor> {
        let (b, t, i) = x.dims3()?;
        x.reshape((b * t, i))?
            .matmul(&self.weight_ih.t()?)?
            .broadcast_add(&self.bias)?
            .reshape((b, t, 4 * self.hidden))
    }

    /// Runs the layer over `x (B,T,I)` from `state0 (B,2H)` (`[h0, c0]`), returning
    /// `(B,T,2H)`: `h` of each step in the first `H` columns, `c` in the last `H`.
    pub fn forward(&self, x: &Tensor, state0: &Tensor) -> Result<Tensor> {
        let gx = self.project(x)?.contiguous()?;
        if matches!(x.device(), Device::Cpu) {
            gx.apply_op3(
                &self.weight_hh.contiguous()?,
                &state0.contiguous()?,
                OnCpu(Recurrence::new()),
            )
        } else {
            self.recurrence_unfused(&gx, state0)
        }
    }

    /// The same recurrence written with candle ops (autograd reference and non-CPU path).
    pub fn recurrence_unfused(&self, gx: &Tensor, state0: &Tensor) -> Result<Tensor> {
        let (_b, t, _) = gx.dims3()?;
        let h = self.hidden;
        // Contiguous copies: CUDA's matmul takes no row stride other than the row length.
        let mut hs = state0.narrow(1, 0, h)?.contiguous()?;
        let mut cs = state0.narrow(1, h, h)?.contiguous()?;
        let w_t = self.weight_hh.t()?;
        let mut steps = Vec::with_capacity(t);
        for step in 0..t {
            let g = gx.narrow(1, step, 1)?.squeeze(1)?.add(&hs.matmul(&w_t)?)?;
            let i = candle_nn::ops::sigmoid(&g.narrow(1, 0, h)?)?;
            let f = candle_nn::ops::sigmoid(&g.narrow(1, h, h)?)?;
            let gg = g.narrow(1, 2 * h, h)?.tanh()?;
            let o = candle_nn::ops::sigmoid(&g.narrow(1, 3 * h, h)?)?;
            cs = f.mul(&cs)?.add(&i.mul(&gg)?)?;
            hs = o.mul(&cs.tanh()?)?;
            steps.push(Tensor::cat(&[&hs, &cs], D::Minus1)?);
        }
        Tensor::stack(&steps, 1)
    }

    /// A zero state for `batch` sequences.
    pub fn zero_state(&self, batch: usize, device: &Device) -> Result<Tensor> {
        Tensor::zeros((batch, 2 * self.hidden), DType::F32, device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::models::grad_check::assert_matches_with_gradients;
    use candle_nn::VarMap;

    /// Forward and every gradient of the fused op match candle's autograd on the unfused
    /// formulation, including gradients flowing into the final `c` and the initial state.
    #[test]
    fn fused_matches_autograd_reference() {
        let dev = Device::Cpu;
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &dev);
        let (b, t, i, h) = (3, 7, 5, 6);
        let layer = FusedLstm::new(i, h, vb).unwrap();
        let x = candle_core::Var::from_tensor(&Tensor::randn(0f32, 1.0, (b, t, i), &dev).unwrap())
            .unwrap();
        let s0 =
            candle_core::Var::from_tensor(&Tensor::randn(0f32, 0.5, (b, 2 * h), &dev).unwrap())
                .unwrap();
        let fused = layer.forward(x.as_tensor(), s0.as_tensor()).unwrap();
        let gx = layer.project(x.as_tensor()).unwrap();
        let reference = layer.recurrence_unfused(&gx, s0.as_tensor()).unwrap();
        // The loss weights every h and c differently, so each gradient path matters.
        let vars = [
            ("x", x.as_tensor()),
            ("state0", s0.as_tensor()),
            ("w_ih", &layer.weight_ih),
            ("w_hh", &layer.weight_hh),
            ("bias", &layer.bias),
        ];
        assert_matches_with_gradients(&fused, &reference, &vars, 1e-5, 1e-4);
    }
}
