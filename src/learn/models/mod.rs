//! The note models: their configuration ([`config`]), the LSTMs ([`lstm`] with its fused
//! recurrence, hand-written gradients and fast inference), the sequence VAEs ([`vae`]), the
//! n-gram baselines ([`ngram`]), how a model scores a token set ([`scoring`]) and model
//! directories on disk ([`model_dir`]), the event Transformer ([`transformer`]) and the song cache
//! mixed into its predictions ([`song_cache`], [`kind_cache`], [`cache_weights`]). Nothing here imports training, sampling or evaluation.

pub mod cache_weights;
pub mod causal_softmax;
pub mod config;
mod cpu_kernel;
pub mod event_ngram;
pub mod fused_lstm;
#[cfg(test)]
mod grad_check;
pub mod infer;
pub mod kind_cache;
pub mod lstm;
pub(crate) mod lstm_cell;
pub mod lstm_grad;
pub(crate) mod lstm_recurrence;
pub mod model_dir;
pub mod ngram;
pub mod scoring;
mod seeded_init;
pub mod song_cache;
pub mod transformer;
pub mod transformer_decoder;
pub mod transformer_dir;
pub mod transformer_ops;
pub mod vae;

pub use config::{ModelConfig, ModelKind, VaeConfig};
