//! AdamW with global-norm gradient clipping and a warmup + cosine learning-rate schedule.
//!
//! candle_nn's `AdamW` keeps its moment estimates private, so a checkpoint could not resume it
//! exactly; this one is the same update (decoupled weight decay, bias-corrected moments) with
//! its state saved next to the model.

use candle_core::backprop::GradStore;
use candle_core::{Result, Tensor, Var};
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

/// AdamW over named variables.
pub struct AdamW {
    vars: Vec<(String, Var)>,
    m: Vec<Var>,
    v: Vec<Var>,
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
        let zeros = |v: &Var| Var::zeros(v.shape(), v.dtype(), v.device());
        let m = vars
            .iter()
            .map(|(_, v)| zeros(v))
            .collect::<Result<Vec<_>>>()?;
        let v = vars
            .iter()
            .map(|(_, v)| zeros(v))
            .collect::<Result<Vec<_>>>()?;
        Ok(AdamW {
            vars,
            m,
            v,
            step: 0,
            params,
        })
    }

    /// Global L2 norm of the gradients.
    pub fn grad_norm(&self, grads: &GradStore) -> Result<f64> {
        let mut sq = 0f64;
        for (_, var) in &self.vars {
            if let Some(g) = grads.get(var) {
                sq += g.sqr()?.sum_all()?.to_scalar::<f32>()? as f64;
            }
        }
        Ok(sq.sqrt())
    }

    /// One update at learning rate `lr`; returns the gradient norm before clipping.
    pub fn step(&mut self, grads: &GradStore, lr: f64) -> Result<f64> {
        let norm = self.grad_norm(grads)?;
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
        for (i, (_, var)) in self.vars.iter().enumerate() {
            let Some(g) = grads.get(var) else { continue };
            let g = (g * scale)?;
            let m = ((self.m[i].as_tensor() * p.beta1)? + (&g * (1.0 - p.beta1))?)?;
            let v = ((self.v[i].as_tensor() * p.beta2)? + (g.sqr()? * (1.0 - p.beta2))?)?;
            let update = ((&m / c1)? / ((&v / c2)?.sqrt()? + p.eps)?)?;
            let decayed = (var.as_tensor() * (1.0 - lr * p.weight_decay))?;
            var.set(&(decayed - (update * lr)?)?)?;
            self.m[i].set(&m)?;
            self.v[i].set(&v)?;
        }
        Ok(norm)
    }

    /// The moment estimates as named tensors (`m.<var>`, `v.<var>`).
    pub fn state(&self) -> HashMap<String, Tensor> {
        let mut out = HashMap::new();
        for (i, (name, _)) in self.vars.iter().enumerate() {
            out.insert(format!("m.{name}"), self.m[i].as_tensor().clone());
            out.insert(format!("v.{name}"), self.v[i].as_tensor().clone());
        }
        out
    }

    /// Restores moment estimates saved by [`AdamW::state`] and the step count.
    pub fn load_state(&mut self, state: &HashMap<String, Tensor>, step: usize) -> Result<()> {
        for (i, (name, _)) in self.vars.iter().enumerate() {
            for (prefix, slot) in [("m", &self.m[i]), ("v", &self.v[i])] {
                let key = format!("{prefix}.{name}");
                let t = state.get(&key).ok_or_else(|| {
                    candle_core::Error::Msg(format!("optimizer state lacks {key}"))
                })?;
                slot.set(t)?;
            }
        }
        self.step = step;
        Ok(())
    }
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
