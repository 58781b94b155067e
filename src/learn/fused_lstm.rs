//! A fused LSTM layer for the CPU: the recurrence of a whole window runs as one candle custom
//! op whose forward and BPTT backward are a few large matrix products on raw `f32` slices.
//!
//! `candle_nn::lstm` builds a graph of a dozen small ops per timestep; on the CPU their overhead
//! makes it 2-2.6x slower than PyTorch. Here the input projection of all timesteps is one GEMM
//! (ordinary candle ops, so autograd handles it), and [`Recurrence`] does, per step, one
//! `(B,H)x(H,4H)` GEMM plus the gate nonlinearities by hand; its backward runs one
//! `(B,4H)x(4H,H)` GEMM per step and accumulates `dW_hh` in a single GEMM over the window.
//!
//! Gate order is PyTorch's: input, forget, cell (g), output. The op's output packs `h` and `c`
//! of every step, `(B, T, 2H)`, so callers can carry the final cell state to the next window.
//! On a non-CPU device the layer falls back to the same formulation written with candle ops.

use candle_core::{CpuStorage, CustomOp3, DType, Device, Layout, Result, Shape, Tensor, D};
use candle_nn::{Init, VarBuilder};
use gemm::Parallelism;
use std::sync::Mutex;

/// `dst = (read_dst ? dst : 0) + lhs * rhs` on strided row-major views.
#[allow(clippy::too_many_arguments)]
fn matmul(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    dst_rs: usize,
    read_dst: bool,
    lhs: &[f32],
    lhs_rs: usize,
    lhs_cs: usize,
    rhs: &[f32],
    rhs_rs: usize,
    rhs_cs: usize,
    threads: usize,
) {
    // Bounds of the strided views, checked once so the unsafe call below stays in bounds.
    assert!(m == 0 || n == 0 || (m - 1) * dst_rs + n <= dst.len());
    assert!(m == 0 || k == 0 || (m - 1) * lhs_rs + (k - 1) * lhs_cs < lhs.len());
    assert!(k == 0 || n == 0 || (k - 1) * rhs_rs + (n - 1) * rhs_cs < rhs.len());
    let par = if threads > 1 {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    };
    // SAFETY: the asserts above keep every element the strides address inside its slice.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_rs as isize,
            read_dst,
            lhs.as_ptr(),
            lhs_cs as isize,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            par,
        )
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

fn f32_slice<'a>(s: &'a CpuStorage, l: &Layout, what: &str) -> Result<&'a [f32]> {
    let data = match s {
        CpuStorage::F32(v) => v.as_slice(),
        _ => candle_core::bail!("fused lstm: {what} must be f32"),
    };
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&data[a..b]),
        None => candle_core::bail!("fused lstm: {what} must be contiguous"),
    }
}

/// The LSTM recurrence over one window: `(gx (B,T,4H), w_hh (4H,H), state0 (B,2H)) ->
/// hc (B,T,2H)`. Keeps the gate activations of its forward for its backward.
pub struct Recurrence {
    gates: Mutex<Vec<f32>>,
    threads: usize,
}

impl Recurrence {
    fn new() -> Self {
        Recurrence {
            gates: Mutex::new(Vec::new()),
            threads: candle_core::utils::get_num_threads(),
        }
    }
}

impl CustomOp3 for Recurrence {
    fn name(&self) -> &'static str {
        "fused-lstm-recurrence"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let gx = f32_slice(s1, l1, "input projection")?;
        let w_hh = f32_slice(s2, l2, "w_hh")?;
        let state0 = f32_slice(s3, l3, "initial state")?;
        let (b, t, g4) = l1.shape().dims3()?;
        let h = g4 / 4;
        if l2.shape().dims2()? != (g4, h) || l3.shape().dims2()? != (b, 2 * h) {
            candle_core::bail!(
                "fused lstm: shapes {:?} {:?} {:?}",
                l1.shape(),
                l2.shape(),
                l3.shape()
            );
        }
        let mut out = vec![0f32; b * t * 2 * h];
        let mut cache = vec![0f32; b * t * g4];
        let mut hprev = vec![0f32; b * h];
        let mut cprev = vec![0f32; b * h];
        for bi in 0..b {
            hprev[bi * h..(bi + 1) * h].copy_from_slice(&state0[bi * 2 * h..bi * 2 * h + h]);
            cprev[bi * h..(bi + 1) * h].copy_from_slice(&state0[bi * 2 * h + h..(bi + 1) * 2 * h]);
        }
        let mut gates = vec![0f32; b * g4];
        for step in 0..t {
            for bi in 0..b {
                let src = (bi * t + step) * g4;
                gates[bi * g4..(bi + 1) * g4].copy_from_slice(&gx[src..src + g4]);
            }
            // gates += h_{t-1} W_hh^T
            matmul(b, g4, h, &mut gates, g4, true, &hprev, h, 1, w_hh, 1, h, 1);
            for bi in 0..b {
                let row = bi * t + step;
                let g = &gates[bi * g4..(bi + 1) * g4];
                let act = &mut cache[row * g4..(row + 1) * g4];
                let o_hc = &mut out[row * 2 * h..(row + 1) * 2 * h];
                for j in 0..h {
                    let i = sigmoid(g[j]);
                    let f = sigmoid(g[h + j]);
                    let gg = g[2 * h + j].tanh();
                    let o = sigmoid(g[3 * h + j]);
                    let c = f * cprev[bi * h + j] + i * gg;
                    let hh = o * c.tanh();
                    act[j] = i;
                    act[h + j] = f;
                    act[2 * h + j] = gg;
                    act[3 * h + j] = o;
                    o_hc[j] = hh;
                    o_hc[h + j] = c;
                    hprev[bi * h + j] = hh;
                    cprev[bi * h + j] = c;
                }
            }
        }
        *self
            .gates
            .lock()
            .map_err(|_| candle_core::Error::Msg("poisoned".into()))? = cache;
        Ok((CpuStorage::F32(out), Shape::from((b, t, 2 * h))))
    }

    fn bwd(
        &self,
        _gx: &Tensor,
        w_hh: &Tensor,
        state0: &Tensor,
        res: &Tensor,
        grad_res: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (b, t, h2) = res.dims3()?;
        let h = h2 / 2;
        let g4 = 4 * h;
        let cache = self
            .gates
            .lock()
            .map_err(|_| candle_core::Error::Msg("poisoned".into()))?;
        if cache.len() != b * t * g4 {
            candle_core::bail!("fused lstm: backward without forward");
        }
        let w = w_hh.flatten_all()?.to_vec1::<f32>()?;
        let s0 = state0.flatten_all()?.to_vec1::<f32>()?;
        let out = res.flatten_all()?.to_vec1::<f32>()?;
        let grad = grad_res.flatten_all()?.to_vec1::<f32>()?;
        let mut dgx = vec![0f32; b * t * g4];
        let mut dh_next = vec![0f32; b * h];
        let mut dc_next = vec![0f32; b * h];
        for step in (0..t).rev() {
            for bi in 0..b {
                let row = bi * t + step;
                let act = &cache[row * g4..(row + 1) * g4];
                let d = &mut dgx[row * g4..(row + 1) * g4];
                for j in 0..h {
                    let (i, f, g, o) = (act[j], act[h + j], act[2 * h + j], act[3 * h + j]);
                    let c = out[row * h2 + h + j];
                    let cp = if step > 0 {
                        out[(row - 1) * h2 + h + j]
                    } else {
                        s0[bi * h2 + h + j]
                    };
                    let tc = c.tanh();
                    let dh = grad[row * h2 + j] + dh_next[bi * h + j];
                    let dc =
                        grad[row * h2 + h + j] + dc_next[bi * h + j] + dh * o * (1.0 - tc * tc);
                    d[j] = dc * g * i * (1.0 - i);
                    d[h + j] = dc * cp * f * (1.0 - f);
                    d[2 * h + j] = dc * i * (1.0 - g * g);
                    d[3 * h + j] = dh * tc * o * (1.0 - o);
                    dc_next[bi * h + j] = dc * f;
                }
            }
            // dh_{t-1} = dgates_t W_hh
            matmul(
                b,
                h,
                g4,
                &mut dh_next,
                h,
                false,
                &dgx[step * g4..],
                t * g4,
                1,
                &w,
                h,
                1,
                1,
            );
        }
        // dW_hh = sum over (b, t) of dgates^T h_{t-1}: one GEMM over the window.
        let mut hprev = vec![0f32; b * t * h];
        for bi in 0..b {
            for step in 0..t {
                let row = bi * t + step;
                let src = if step > 0 {
                    &out[(row - 1) * h2..(row - 1) * h2 + h]
                } else {
                    &s0[bi * h2..bi * h2 + h]
                };
                hprev[row * h..(row + 1) * h].copy_from_slice(src);
            }
        }
        let mut dw = vec![0f32; g4 * h];
        matmul(
            g4,
            h,
            b * t,
            &mut dw,
            h,
            false,
            &dgx,
            1,
            g4,
            &hprev,
            h,
            1,
            self.threads,
        );
        let mut ds0 = vec![0f32; b * h2];
        for bi in 0..b {
            ds0[bi * h2..bi * h2 + h].copy_from_slice(&dh_next[bi * h..(bi + 1) * h]);
            ds0[bi * h2 + h..(bi + 1) * h2].copy_from_slice(&dc_next[bi * h..(bi + 1) * h]);
        }
        let dev = res.device();
        Ok((
            Some(Tensor::from_vec(dgx, (b, t, g4), dev)?),
            Some(Tensor::from_vec(dw, (g4, h), dev)?),
            Some(Tensor::from_vec(ds0, (b, h2), dev)?),
        ))
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
                Recurrence::new(),
            )
        } else {
            self.recurrence_unfused(&gx, state0)
        }
    }

    /// The same recurrence written with candle ops (autograd reference and non-CPU path).
    pub fn recurrence_unfused(&self, gx: &Tensor, state0: &Tensor) -> Result<Tensor> {
        let (_b, t, _) = gx.dims3()?;
        let h = self.hidden;
        let mut hs = state0.narrow(1, 0, h)?;
        let mut cs = state0.narrow(1, h, h)?;
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
    use candle_nn::VarMap;

    fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
        crate::learn::checkpoint::max_abs_diff(a, b).unwrap()
    }

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
        // A loss that weights every h and c differently so each gradient path matters.
        let wts = Tensor::randn(0f32, 1.0, (b, t, 2 * h), &dev).unwrap();
        let fused = layer.forward(x.as_tensor(), s0.as_tensor()).unwrap();
        let gx = layer.project(x.as_tensor()).unwrap();
        let reference = layer.recurrence_unfused(&gx, s0.as_tensor()).unwrap();
        assert!(max_diff(&fused, &reference) < 1e-5);
        let g1 = fused
            .mul(&wts)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let g2 = reference
            .mul(&wts)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        for (name, v) in [
            ("x", x.as_tensor()),
            ("state0", s0.as_tensor()),
            ("w_ih", &layer.weight_ih),
            ("w_hh", &layer.weight_hh),
            ("bias", &layer.bias),
        ] {
            let a = g1.get(v).unwrap();
            let r = g2.get(v).unwrap();
            let d = max_diff(a, r);
            let scale = r
                .abs()
                .unwrap()
                .flatten_all()
                .unwrap()
                .max(0)
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert!(d < 1e-4 * scale.max(1.0), "{name}: {d} (scale {scale})");
            assert!(scale > 0.0, "{name}: zero gradient");
        }
    }
}
