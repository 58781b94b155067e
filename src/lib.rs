//! nes-music-maker: learn NES music from NES-MDB, compile scores to APU register writes, and
//! build iNES ROMs and NSFs that play them.
//!
//! The pipeline hands typed values from stage to stage:
//! [`score::Score`] (formats, models) -> [`apu_stream::ApuStream`] (compiler) -> ROM / NSF
//! (builder), with the synth rendering any stream to WAV.

pub mod apu_stream;
pub mod assembler;
pub mod compile;
pub mod demo;
pub mod error;
pub mod formats;
pub mod io;
pub mod learn;
pub mod output;
pub mod output_lock;
pub mod region;
pub mod rom;
pub mod score;
pub mod synth;
pub mod viz;

pub use apu_stream::{ApuStream, RegWrite};
pub use error::{Error, Result};
pub use region::Region;
pub use score::{Cell, Frame, Score, Voice};
