//! The song data the player reads, from the bottom up: the format ([`format`]), the tick rule
//! ([`tick`]), back-references ([`lz`], with its search in `lz_refs`), the reference decoder
//! ([`mod@decode`]) and the encoder ([`encode`]), which checks its output with the decoder.

pub(crate) mod cost;
pub mod decode;
pub mod encode;
pub mod format;
pub mod lz;
mod lz_refs;
mod stream_state;
pub mod tick;

#[cfg(test)]
mod encode_tests;
