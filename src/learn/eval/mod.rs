//! Evaluation: next-frame NLL of the models against the n-gram baselines ([`predict`]), the
//! statistics of generated songs against the data's ([`stats`]), the reports that combine
//! them ([`report`]), the VAE's evaluation ([`vae_eval`]), event models' likelihood
//! ([`event_eval`]) and the dynamics of expressive songs ([`dynamics_stats`]).

pub mod cached_scorer;
pub mod dynamics_stats;
pub mod event_eval;
pub mod music_stats;
pub mod music_stats_recurrence;
pub mod predict;
pub mod report;
pub mod stats;
pub mod vae_eval;

pub use predict::{evaluate, markdown_table, EvalResult, LstmPredictor};
