//! The APU synth: renders an [`ApuStream`](crate::ApuStream) to audio as the console would play it,
//! and writes WAV files.
//!
//! One file per hardware unit, as on the nesdev wiki: [`pulse`], [`triangle`], [`noise`],
//! [`envelope`], [`length_counter`], [`frame_counter`], [`mixer`], [`filter`]; [`apu`] routes
//! register writes to them and advances the channels from one output change to the next;
//! [`band_limited`] turns those changes into alias-free samples; [`mod@render`] times a stream's
//! frames; [`wav`] writes the result.

pub mod apu;
pub mod band_limited;
pub mod envelope;
pub mod filter;
pub mod frame_counter;
pub mod length_counter;
pub mod mixer;
pub mod noise;
pub mod pulse;
pub mod render;
pub mod triangle;
pub mod wav;

pub use render::{render, render_voices, RenderOptions};
pub use wav::{wav_bytes, write_wav};
