//! The ROM builder: the song data format ([`encode`]), its reference decoder ([`mod@decode`]),
//! the 6502 player sources (`asm/`), the iNES header ([`ines`]) and the NROM / UxROM build
//! ([`build`]).

pub mod build;
pub mod chr;
pub(crate) mod cost;
pub mod decode;
pub mod emit;
pub mod encode;
pub mod export;
pub mod ines;
pub mod lz;
mod lz_refs;
pub mod nsf;
pub mod nsfe;
pub mod pipeline;
pub mod player;
pub mod player_cache;
mod stream_state;
pub mod tick;
pub mod ui;

#[cfg(test)]
mod cycles_tests;
#[cfg(test)]
mod encode_tests;

pub use build::{build_rom, build_rom_with, BuildOptions, Mapper, Rom, SongSize};
pub use decode::{decode, decode_census, decode_cycles, decode_frames, Census};
pub use encode::{encode_stream, encode_stream_with, EncodeOptions, EncodedSong};
