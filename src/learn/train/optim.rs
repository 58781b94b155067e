//! AdamW with global-norm gradient clipping and a warmup + cosine learning-rate schedule.
//!
//! candle_nn's `AdamW` keeps its moment estimates private, so a checkpoint could not resume it
//! exactly; this one is the same update (decoupled weight decay, bias-corrected moments) with
//! its state saved next to the model.

use crate::learn::models::lstm_grad::ParamGrads;
use candle_core::backprop::GradStore;
use candle_core::{Result, Tensor, Var};
use std::borrow::Cow;
use std::collections::HashMap;

/// Hyper-parameters of the optimiser.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWParams {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    /// Largest global gradient norm; larger gradients are scaled down to it (0 = no clipping).
    pub clip_norm: f64,
}

impl Default for AdamWParams {
    fn default() -> Self {
        AdamWParams {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
            clip_norm: 1.0,
        }
    }
}

/// Where [`AdamW::step`] reads gradients: candle's autograd ([`GradStore`]) or the LSTM's
/// hand-written backward ([`ParamGrads`]).
pub trait Gradients {
    /// The gradient of `var`, row-major, if it has one.
    fn gradient(&self, var: &Var) -> Result<Option<Cow<'_, [f32]>>>;
}

impl Gradients for GradStore {
    fn gradient(&self, var: &Var) -> Result<Option<Cow<'_, [f32]>>> {
        match self.get(var) {
            Some(g) => Ok(Some(Cow::Owned(g.flatten_all()?.to_vec1::<f32>()?))),
            None => Ok(None),
        }
    }
}

impl Gradients for ParamGrads {
    fn gradient(&self, var: &Var) -> Result<Option<Cow<'_, [f32]>>> {
        Ok(self.get(var.as_tensor()).map(Cow::Borrowed))
    }
}

/// AdamW over named variables. The moment estimates are plain vectors and one step updates
/// each variable in a single pass over its elements.
pub struct AdamW {
    vars: Vec<(String, Var)>,
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    /// Number of updates done.
    pub step: usize,
    pub params: AdamWParams,
}

impl AdamW {
    /// Optimises every variable of `varmap`, in name order.
    pub fn new(varmap: &candle_nn::VarMap, params: AdamWParams) -> Result<AdamW> {
        let data = varmap
            .data()
            .lock()
            .map_err(|_| candle_core::Error::Msg("poisoned".into()))?;
        let mut vars: Vec<(String, Var)> =
            data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        let zeros = || -> Vec<Vec<f32>> {
            vars.iter()
                .map(|(_, v)| vec![0f32; v.elem_count()])
                .collect()
        };
        Ok(AdamW {
            m: zeros(),
            v: zeros(),
            vars,
            step: 0,
            params,
        })
    }

    /// The gradient of each variable, checked against its size.
    fn gradients<'g, G: Gradients + ?Sized>(
        &self,
        grads: &'g G,
    ) -> Result<Vec<Option<Cow<'g, [f32]>>>> {
        let mut out = Vec::with_capacity(self.vars.len());
        for (name, var) in &self.vars {
            let g = grads.gradient(var)?;
            if let Some(g) = &g {
                if g.len() != var.elem_count() {
                    candle_core::bail!("gradient of {name} has {} values", g.len());
                }
            }
            out.push(g);
        }
        Ok(out)
    }

    /// Global L2 norm of the gradients.
    pub fn grad_norm<G: Gradients + ?Sized>(&self, grads: &G) -> Result<f64> {
        Ok(norm(&self.gradients(grads)?))
    }

    /// One update at learning rate `lr`; returns the gradient norm before clipping.
    pub fn step<G: Gradients + ?Sized>(&mut self, grads: &G, lr: f64) -> Result<f64> {
        let grads = self.gradients(grads)?;
        let norm = norm(&grads);
        let scale = if self.params.clip_norm > 0.0 && norm > self.params.clip_norm {
            self.params.clip_norm / norm
        } else {
            1.0
        };
        self.step += 1;
        let p = self.params;
        let t = self.step as i32;
        let c1 = 1.0 - p.beta1.powi(t);
        let c2 = 1.0 - p.beta2.powi(t);
        let (b1, b2, scale) = (p.beta1 as f32, p.beta2 as f32, scale as f32);
        let (inv_c1, inv_c2) = ((1.0 / c1) as f32, (1.0 / c2) as f32);
        let (eps, lr32) = (p.eps as f32, lr as f32);
        let decay = (1.0 - lr * p.weight_decay) as f32;
        for (i, (_, var)) in self.vars.iter().enumerate() {
            let Some(g) = &grads[i] else { continue };
            let mut w = var.as_tensor().flatten_all()?.to_vec1::<f32>()?;
            let (m, v) = (&mut self.m[i], &mut self.v[i]);
            for (((w, m), v), g) in w
                .iter_mut()
                .zip(m.iter_mut())
                .zip(v.iter_mut())
                .zip(g.iter())
            {
                let g = g * scale;
                *m = *m * b1 + g * (1.0 - b1);
                *v = *v * b2 + g * g * (1.0 - b2);
                let update = (*m * inv_c1) / ((*v * inv_c2).sqrt() + eps);
                *w = *w * decay - update * lr32;
            }
            var.set(&Tensor::from_vec(w, var.shape(), var.device())?)?;
        }
        Ok(norm)
    }

    /// The moment estimates as named tensors (`m.<var>`, `v.<var>`).
    pub fn state(&self) -> HashMap<String, Tensor> {
        let mut out = HashMap::new();
        for (i, (name, var)) in self.vars.iter().enumerate() {
            for (prefix, data) in [("m", &self.m[i]), ("v", &self.v[i])] {
                // Same shape and device as the variable, so the sizes always agree.
                if let Ok(t) = Tensor::from_slice(data, var.shape(), var.device()) {
                    out.insert(format!("{prefix}.{name}"), t);
                }
            }
        }
        out
    }

    /// Restores moment estimates saved by [`AdamW::state`] and the step count.
    pub fn load_state(&mut self, state: &HashMap<String, Tensor>, step: usize) -> Result<()> {
        for (i, (name, var)) in self.vars.iter().enumerate() {
            for (prefix, slot) in [("m", &mut self.m[i]), ("v", &mut self.v[i])] {
                let key = format!("{prefix}.{name}");
                let t = state.get(&key).ok_or_else(|| {
                    candle_core::Error::Msg(format!("optimizer state lacks {key}"))
                })?;
                if t.dims() != var.dims() {
                    candle_core::bail!(
                        "optimizer state {key} has shape {:?}, the variable {:?}",
                        t.dims(),
                        var.dims()
                    );
                }
                *slot = t
                    .flatten_all()?
                    .to_dtype(candle_core::DType::F32)?
                    .to_vec1()?;
            }
        }
        self.step = step;
        Ok(())
    }
}

/// L2 norm over every gradient.
fn norm(grads: &[Option<Cow<'_, [f32]>>]) -> f64 {
    let sq: f64 = grads
        .iter()
        .flatten()
        .map(|g| g.iter().map(|x| (*x as f64) * (*x as f64)).sum::<f64>())
        .sum();
    sq.sqrt()
}

/// Learning rate at `step` (0-based) of `total`: linear warmup over `warmup` steps to `peak`,
/// then cosine decay to `peak * floor` at `total`.
pub fn learning_rate(step: usize, total: usize, warmup: usize, peak: f64, floor: f64) -> f64 {
    if step < warmup {
        return peak * (step + 1) as f64 / warmup as f64;
    }
    let span = total.saturating_sub(warmup).max(1);
    let progress = ((step - warmup) as f64 / span as f64).min(1.0);
    let cos = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
    peak * (floor + (1.0 - floor) * cos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};

    #[test]
    fn schedule_warms_up_then_decays() {
        assert!((learning_rate(0, 100, 10, 1.0, 0.1) - 0.1).abs() < 1e-12);
        assert!((learning_rate(9, 100, 10, 1.0, 0.1) - 1.0).abs() < 1e-12);
        assert!((learning_rate(10, 100, 10, 1.0, 0.1) - 1.0).abs() < 1e-12);
        assert!((learning_rate(100, 100, 10, 1.0, 0.1) - 0.1).abs() < 1e-12);
        let mid = learning_rate(55, 100, 10, 1.0, 0.1);
        assert!((mid - 0.55).abs() < 1e-9, "{mid}");
    }

    /// Three steps with weight decay and clipping match AdamW written out in `f64`, and
    /// gradients from candle's autograd and from `ParamGrads` give the same update.
    #[test]
    fn fused_update_matches_reference() {
        let params = AdamWParams {
            weight_decay: 0.1,
            clip_norm: 0.5,
            ..Default::default()
        };
        let w0 = [0.3f32, -1.2, 2.0];
        let make = || {
            let varmap = candle_nn::VarMap::new();
            let vb = candle_nn::VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
            let w = vb
                .get_with_hints(3, "w", candle_nn::Init::Const(0.0))
                .unwrap();
            varmap.data().lock().unwrap()["w"]
                .set(&Tensor::new(&w0, &Device::Cpu).unwrap())
                .unwrap();
            let opt = AdamW::new(&varmap, params).unwrap();
            (varmap, w, opt)
        };
        let (vm_a, w_a, mut opt_a) = make();
        let (vm_b, w_b, mut opt_b) = make();
        let (mut w, mut m, mut v) = (w0.map(|x| x as f64), [0f64; 3], [0f64; 3]);
        for step in 1..=3 {
            let lr = 0.1 / step as f64;
            // loss = sum(w^3): gradient 3 w^2.
            let grads = w_a
                .powf(3.0)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            opt_a.step(&grads, lr).unwrap();
            let mut pg = ParamGrads::default();
            let g_b = w_b
                .to_vec1::<f32>()
                .unwrap()
                .iter()
                .map(|x| 3.0 * x * x)
                .collect();
            pg.insert(&w_b, g_b);
            opt_b.step(&pg, lr).unwrap();
            let g: Vec<f64> = w.iter().map(|x| 3.0 * x * x).collect();
            let norm = g.iter().map(|x| x * x).sum::<f64>().sqrt();
            let scale = if norm > 0.5 { 0.5 / norm } else { 1.0 };
            for j in 0..3 {
                let gj = g[j] * scale;
                m[j] = 0.9 * m[j] + 0.1 * gj;
                v[j] = 0.999 * v[j] + 0.001 * gj * gj;
                let mh = m[j] / (1.0 - 0.9f64.powi(step));
                let vh = v[j] / (1.0 - 0.999f64.powi(step));
                w[j] = w[j] * (1.0 - lr * 0.1) - lr * mh / (vh.sqrt() + 1e-8);
            }
        }
        let a = vm_a.data().lock().unwrap()["w"].to_vec1::<f32>().unwrap();
        let b = vm_b.data().lock().unwrap()["w"].to_vec1::<f32>().unwrap();
        assert_eq!(a, b);
        for j in 0..3 {
            assert!((a[j] as f64 - w[j]).abs() < 1e-5, "{a:?} vs {w:?}");
            assert!((a[j] - w0[j]).abs() > 0.05, "the weights moved");
        }
        let st = opt_a.state();
        let mut other = AdamW::new(&vm_b, params).unwrap();
        other.load_state(&st, 3).unwrap();
        assert_eq!(other.m, opt_a.m);
        assert_eq!(other.v, opt_a.v);
        let mut bad = st.clone();
        bad.insert(
            "m.w".into(),
            Tensor::zeros(4, DType::F32, &Device::Cpu).unwrap(),
        );
        assert!(other.load_state(&bad, 3).is_err());
    }

    /// Minimises a quadratic, clips a huge gradient to the clip norm, and matches a hand-computed
    /// first AdamW step.
    #[test]
    fn adamw_step_and_clipping() {
        let varmap = candle_nn::VarMap::new();
        let vb = candle_nn::VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let w = vb
            .get_with_hints(2, "w", candle_nn::Init::Const(1.0))
            .unwrap();
        let mut opt = AdamW::new(
            &varmap,
            AdamWParams {
                weight_decay: 0.0,
                clip_norm: 1.0,
                ..Default::default()
            },
        )
        .unwrap();
        let loss = (w.sqr().unwrap().sum_all().unwrap() * 1000.0).unwrap();
        let grads = loss.backward().unwrap();
        let norm = opt.step(&grads, 0.1).unwrap();
        assert!((norm - (2000f64 * 2f64.sqrt())).abs() < 1e-2, "{norm}");
        // First Adam step moves each coordinate by lr * sign(g) regardless of scale.
        let after = varmap.data().lock().unwrap()["w"].to_vec1::<f32>().unwrap();
        assert!(after.iter().all(|x| (x - 0.9).abs() < 1e-5), "{after:?}");
        for _ in 0..200 {
            let w = varmap.data().lock().unwrap()["w"].as_tensor().clone();
            let grads = w.sqr().unwrap().sum_all().unwrap().backward().unwrap();
            opt.step(&grads, 0.05).unwrap();
        }
        let end = varmap.data().lock().unwrap()["w"].to_vec1::<f32>().unwrap();
        assert!(end.iter().all(|x| x.abs() < 0.1), "{end:?}");
        let st = opt.state();
        assert_eq!(st.len(), 2);
        let mut other = AdamW::new(&varmap, opt.params).unwrap();
        other.load_state(&st, opt.step).unwrap();
        assert_eq!(other.step, 201);
    }
}
