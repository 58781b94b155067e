//! Building a ROM: the 6502 player sources and their assemblers ([`player`]), the player linked
//! once per kind of ROM ([`player_cache`]), the generated song source ([`emit`]), the on-screen
//! player ([`ui`], [`chr`]), the NROM / UxROM build ([`rom`]) and score files to a ROM
//! ([`pipeline`]).

pub mod chr;
pub mod emit;
pub mod pipeline;
pub mod player;
pub mod player_cache;
pub mod rom;
pub mod ui;

#[cfg(test)]
mod cycles_tests;
