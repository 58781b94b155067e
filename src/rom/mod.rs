//! The ROM builder: the song data format ([`encode`]), its reference decoder ([`decode`]),
//! the 6502 player sources (`asm/`), the iNES header ([`ines`]) and the NROM / UxROM build
//! ([`build`]).

pub mod build;
pub mod emit;
pub mod decode;
pub mod encode;
pub mod ines;
pub mod pipeline;
pub mod player;

#[cfg(test)]
mod encode_tests;

pub use build::{build_rom, BuildOptions, Mapper, Rom};
pub use decode::{decode, decode_frames};
pub use encode::{encode_stream, encode_stream_with, EncodeOptions, EncodedSong};
