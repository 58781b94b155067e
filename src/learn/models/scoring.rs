//! How a model scores a token set: the mean NLL per frame of an LSTM over every window with
//! the state reset per window ([`window_nll`], as shuffled-window training sees them), or over
//! whole songs with the state carried from window to window ([`carried_nll`], as a model
//! trained with `carry_state` is used). Training validates with these, and evaluation scores
//! with them.

use super::lstm::NoteLstm;
use crate::error::{Error, Result};
use crate::learn::data::dataset::{
    make_batch, make_lane_batch, Batch, LanePlan, LaneWindow, TokenSet,
};
use candle_core::{Device, Tensor};

/// The inputs, targets and mask of a batch as tensors on `dev`.
pub fn batch_tensors(b: &Batch, dev: &Device) -> candle_core::Result<(Tensor, Tensor, Tensor)> {
    Ok((
        Tensor::from_vec(b.inputs.clone(), (b.batch, b.seq, b.width), dev)?,
        Tensor::from_vec(b.targets.clone(), (b.batch, b.seq, b.width), dev)?,
        Tensor::from_vec(b.mask.clone(), (b.batch, b.seq), dev)?,
    ))
}

/// Mean NLL per frame (summed over voices) and per voice over every window of `set`, state
/// reset per window as in training.
pub fn window_nll(
    model: &NoteLstm,
    set: &TokenSet,
    seq: usize,
    batch: usize,
) -> Result<(f64, Vec<f64>)> {
    let windows = set.windows(seq);
    let order: Vec<u32> = (0..windows.len() as u32).collect();
    let nv = set.width();
    let mut sums = vec![0f64; nv];
    let mut frames = 0f64;
    let dev = model.device();
    for i in 0..windows.len().div_ceil(batch.max(1)) {
        let b = make_batch(set, &windows, &order, i, batch, seq, None);
        let n = b.frames() as f64;
        let (x, y, m) = batch_tensors(&b, &dev).map_err(Error::model("validation batch"))?;
        let nll = model
            .nll(&x, &y, &m, None)
            .map_err(Error::model("validation"))?;
        for (s, t) in sums.iter_mut().zip(&nll) {
            *s += t.to_scalar::<f32>().map_err(Error::model("validation"))? as f64 * n;
        }
        frames += n;
    }
    let per: Vec<f64> = sums.iter().map(|s| s / frames.max(1.0)).collect();
    Ok((per.iter().sum(), per))
}

/// Zeroes the carried state of every lane whose window at this step starts a run (or that
/// has no window left).
pub fn reset_lanes(carry: &mut [Vec<f32>], lanes: &[Option<LaneWindow>]) {
    for layer in carry.iter_mut() {
        let per = layer.len() / lanes.len().max(1);
        for (bi, lw) in lanes.iter().enumerate() {
            if lw.is_none_or(|lw| lw.reset) {
                layer[bi * per..(bi + 1) * per].fill(0.0);
            }
        }
    }
}

/// Mean NLL per frame (summed over voices) and per voice over every song of `set`, each played
/// whole with the state carried from window to window (`lanes` songs at a time), as a model
/// trained with `carry_state` is used.
pub fn carried_nll(
    model: &NoteLstm,
    set: &TokenSet,
    seq: usize,
    lanes: usize,
) -> Result<(f64, Vec<f64>)> {
    let windows = set.windows(seq);
    let plan = LanePlan::new(&windows, lanes, usize::MAX, None, 0);
    let nv = set.width();
    let mut sums = vec![0f64; nv];
    let mut frames = 0f64;
    let dev = model.device();
    let width = 2 * model.config.hidden * lanes.max(1);
    let mut carry = vec![vec![0f32; width]; model.config.layers];
    for (i, step) in plan.steps.iter().enumerate() {
        reset_lanes(&mut carry, step);
        let b = make_lane_batch(set, &windows, &plan, i, seq, None);
        let n = b.frames() as f64;
        let (x, y, m) = batch_tensors(&b, &dev).map_err(Error::model("validation batch"))?;
        let run = model
            .nll_carried(&x, &y, &m, None, Some(&carry), false)
            .map_err(Error::model("validation"))?;
        for (s, t) in sums.iter_mut().zip(&run.nll) {
            *s += *t as f64 * n;
        }
        frames += n;
        carry = run.state;
    }
    let per: Vec<f64> = sums.iter().map(|s| s / frames.max(1.0)).collect();
    Ok((per.iter().sum(), per))
}
