//! The `last/` checkpoint of a training run: the latest weights, the optimizer's moments, the
//! progress ([`TrainState`]) and, with `carry_state`, the state each batch lane carries into
//! its next window; everything `--resume` needs to continue exactly.

use super::optim::AdamW;
use super::progress::TrainState;
use crate::error::{Error, Result};
use crate::learn::models::model_dir::{load_tensors, save_tensors, set_varmap, varmap_tensors};
use candle_core::{Device, Tensor};
use candle_nn::VarMap;
use std::collections::HashMap;
use std::path::Path;

fn carry_tensors(carry: &[Vec<f32>]) -> candle_core::Result<HashMap<String, Tensor>> {
    carry
        .iter()
        .enumerate()
        .map(|(l, c)| {
            Ok((
                format!("carry.{l}"),
                Tensor::from_slice(c, c.len(), &Device::Cpu)?,
            ))
        })
        .collect()
}

/// Writes `out/last/`.
pub fn save_last(
    out: &Path,
    varmap: &VarMap,
    opt: &AdamW,
    state: &TrainState,
    carry: Option<&[Vec<f32>]>,
) -> Result<()> {
    let last = out.join("last");
    save_tensors(&varmap_tensors(varmap), &last.join("model.safetensors"))?;
    save_tensors(&opt.state(), &last.join("optimizer.safetensors"))?;
    if let Some(carry) = carry {
        let t = carry_tensors(carry).map_err(Error::model("carried state"))?;
        save_tensors(&t, &last.join("carry.safetensors"))?;
    }
    let text =
        serde_json::to_string_pretty(state).map_err(|e| Error::format(&last, e.to_string()))?;
    crate::io::write_atomic(last.join("state.json"), text.as_bytes())
}

/// Reads the progress of `out/last/`.
pub fn read_state(out: &Path) -> Result<TrainState> {
    let sp = out.join("last/state.json");
    serde_json::from_slice(&crate::io::read_file(&sp)?)
        .map_err(|e| Error::format(&sp, e.to_string()))
}

/// Loads the weights and optimizer moments of `out/last/` (saved at optimizer step `step`).
pub fn load_weights(out: &Path, varmap: &VarMap, opt: &mut AdamW, step: usize) -> Result<()> {
    let mp = out.join("last/model.safetensors");
    set_varmap(varmap, &load_tensors(&mp)?, &mp)?;
    let op = out.join("last/optimizer.safetensors");
    opt.load_state(&load_tensors(&op)?, step)
        .map_err(|e| Error::format(&op, e.to_string()))
}

/// Loads the carried lane states of `out/last/` into `carry` (one row per layer, sizes fixed).
pub fn load_carry(out: &Path, carry: &mut [Vec<f32>]) -> Result<()> {
    let cp = out.join("last/carry.safetensors");
    let t = load_tensors(&cp)?;
    for (l, c) in carry.iter_mut().enumerate() {
        let v = t
            .get(&format!("carry.{l}"))
            .and_then(|t| t.to_vec1::<f32>().ok())
            .filter(|v| v.len() == c.len())
            .ok_or_else(|| Error::format(&cp, format!("carry.{l} missing or wrong size")))?;
        *c = v;
    }
    Ok(())
}
