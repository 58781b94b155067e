//! Weights drawn from a seed. candle's CPU random generator cannot be seeded, so a training
//! run re-draws every variable itself to be reproducible; each model brings its own rule.

use candle_core::{DType, Device, Result, Tensor, Var};
use candle_nn::VarMap;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::collections::HashMap;

/// Sets every variable of `varmap` to the values `draw(all, name, var, rng)` returns for it,
/// visiting the variables in name order with one generator seeded from `seed`: the weights
/// are a pure function of the seed and of the rule. `all` is every variable by name, for
/// rules that look at a variable's neighbours (the weight beside a bias).
pub(crate) fn redraw_in_name_order(
    varmap: &VarMap,
    seed: u64,
    mut draw: impl FnMut(&HashMap<String, Var>, &str, &Var, &mut StdRng) -> Vec<f32>,
) -> Result<()> {
    let all = varmap
        .data()
        .lock()
        .map_err(|_| candle_core::Error::Msg("poisoned".into()))?;
    let mut names: Vec<&String> = all.keys().collect();
    names.sort();
    let mut rng = StdRng::seed_from_u64(seed);
    for name in names {
        let var = &all[name];
        let values = draw(&all, name, var, &mut rng);
        var.set(
            &Tensor::from_vec(values, var.shape(), &Device::Cpu)?
                .to_device(var.device())?
                .to_dtype(DType::F32)?,
        )?;
    }
    Ok(())
}
