//! Training: the options of a run ([`options`]), the model-kind switch ([`net`]), AdamW
//! ([`optim`]), the device ([`device`]), the checkpoint generations ([`checkpoint`]) and
//! progress ([`progress`]) that make resume exact, the Transformer's run ([`transformer_run`], from
//! a trained model's weights with [`warm_start`]), one writer per folder
//! ([`crate::output_lock`]), a clean stop on SIGINT / SIGTERM ([`stop`]), and the run itself
//! ([`run`]).

pub mod checkpoint;
pub mod device;
pub mod net;
pub mod optim;
pub mod options;
pub mod progress;
pub mod run;
pub mod stop;
#[cfg(test)]
mod tests;
pub mod transformer_checkpoint;
pub mod transformer_run;
pub mod warm_start;

pub use device::TrainDevice;
pub use options::TrainOptions;
pub use progress::{EpochRecord, TrainState};
pub use run::{train, TrainReport};
