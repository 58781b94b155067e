//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod audio;
pub mod emu;
pub mod songs;
pub mod stepper;
