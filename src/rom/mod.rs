//! The ROM builder: the song data format ([`encode`]), its reference decoder ([`decode`]),
//! the 6502 player sources (`asm/`, embedded by [`player`]), the NES 2.0 header ([`ines`]),
//! the NROM / UxROM layout and build ([`build`], [`emit`]) and `nesmm build`'s pipeline
//! ([`pipeline`]).
//!
//! The player (`asm/rom.s` includes the rest):
//! * `reset.s`: nesdev init, then `music_init` and `music_start_song` with A = 0, then NMI on;
//! * `nmi.s`: `jsr music_update` first (label `nmi_music_done` after it), then `nmi_count`;
//! * `music.s`: `music_start_song` (A = song index; performs the song's init writes; safe to
//!   call from the main loop), `music_update` (one frame), `music_song` (playing index);
//! * `main.s`: the main loop (controller: Right / Left change songs; the UI goes there);
//! * generated `songs.inc` (`MAPPER_UXROM`, `MUSIC_SONG_COUNT`) and `songs.s` (stream data via
//!   `.incbin`, `music_song_lo/hi`, `music_name_lo/hi` + zero-terminated names, `music_title`).
//!
//! On UxROM the NMI switches banks for the music and restores `bank_current` before it
//! returns: main-loop code that switches banks sets `bank_current` first.

pub mod build;
pub mod chr;
pub mod export;
pub mod decode;
pub mod emit;
pub mod encode;
pub mod ines;
pub mod nsf;
pub mod nsfe;
pub mod pipeline;
pub mod player;
pub mod ui;

#[cfg(test)]
mod encode_tests;

pub use build::{build_rom, build_rom_with, BuildOptions, Mapper, Rom, SongSize};
pub use decode::{decode, decode_frames};
pub use encode::{encode_stream, encode_stream_with, EncodeOptions, EncodedSong};
