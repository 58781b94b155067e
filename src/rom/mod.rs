//! The ROM builder, in rooms that import only downward:
//!
//! - [`codec`]: the song data format the player reads ([`codec::format`]), its encoder
//!   ([`codec::encode`], [`codec::lz`]), reference decoder ([`mod@codec::decode`]) and tick rule;
//! - [`board`]: the cartridge: mapper, vectors, linker configurations and the iNES header;
//! - [`build`]: the 6502 player sources (`asm/`), their assembly and caching, the generated song
//!   source, the on-screen player and its font, and the NROM / UxROM build;
//! - [`nsf`]: the same player and data as an NSF (the file format is
//!   [`crate::formats::nsf_file`]);
//! - [`export`]: the ROM as a ca65 project.
//!
//! `board` reads nothing of the others; `build` reads `codec` and `board`; `nsf` and `export`
//! read `build` too. The test `tests/layering.rs` keeps it so.

pub mod board;
pub mod build;
pub mod codec;
pub mod export;
pub mod nsf;

// The module paths of the flat layout, kept for callers outside rom/ (the CLI, tests, benches
// and examples).
pub use board::ines;
pub use build::{chr, emit, pipeline, player, player_cache, ui};
pub use codec::{decode, encode, lz, tick};

pub use board::Mapper;
pub use build::rom::{build_rom, build_rom_with, BuildOptions, Rom, SongSize};
pub use codec::decode::{decode, decode_census, decode_cycles, decode_frames, Census};
pub use codec::encode::{encode_stream, encode_stream_with};
pub use codec::format::{EncodeOptions, EncodedSong};
