#![allow(dead_code)]
pub mod audio;
pub mod emu;
pub mod songs;
