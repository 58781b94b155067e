//! How far a run has come: the progress a checkpoint stores with the weights, and the history
//! of validation scores.

use serde::{Deserialize, Serialize};

/// Validation NLL of one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    pub step: usize,
    pub train_loss: f64,
    pub valid_nll: f64,
    pub valid_nll_voices: Vec<f64>,
}

/// Progress saved in `last/state.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    pub epoch: usize,
    pub batch_in_epoch: usize,
    pub step: usize,
    pub best_valid: Option<f64>,
    pub history: Vec<EpochRecord>,
    pub train_seconds: f64,
    pub frames_seen: u64,
}
