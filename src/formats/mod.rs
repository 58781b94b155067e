pub mod midi;
mod midi_import;
pub mod vgm;
pub mod vgm_score;

pub use midi_import::{drum_to_noise, scale_velocity};
