//! Learning NES music from NES-MDB: the token dataset, the LSTM models (a reduced one for
//! pulse 1 and a full four-voice one), training, evaluation against n-gram baselines,
//! generation and statistics of generated songs.
//!
//! The models follow candle's mnist-training example: a model is a struct of layers with a
//! `forward`; training uses a `VarMap`, AdamW, `backward` and safetensors checkpoints.

pub mod checkpoint;
pub mod data;
pub mod dataset;
pub mod device;
pub mod eval;
pub mod fused_lstm;
pub mod generate;
pub mod infer;
pub mod lstm;
pub(crate) mod lstm_cell;
pub mod lstm_grad;
pub(crate) mod lstm_recurrence;
pub mod music_stats;
pub mod music_stats_recurrence;
pub mod net;
pub mod ngram;
pub mod optim;
pub mod report;
pub mod stats;
pub mod train;
pub mod transformer;
pub mod vae;
pub mod vae_decode;
pub mod vae_eval;
pub mod vocab;
