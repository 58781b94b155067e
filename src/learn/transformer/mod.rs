//! The event-based Transformer: event tokens, the model, its training windows and run.

pub mod data;
pub mod events;
pub mod model;
pub mod softmax;
pub mod store;
pub mod train;
pub mod infer;
pub mod sample;
pub mod eval;
pub mod ngram;
