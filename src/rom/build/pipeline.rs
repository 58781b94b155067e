//! Scores to a ROM as a library call: the scores go through the one compile path
//! ([`compile_songs`]) and the streams to [`build_rom`].

use crate::compile::{compile_songs, LoopMode};
use crate::error::Result;
use crate::region::Region;
use crate::rom::build::rom::{build_rom, BuildOptions, Rom};
use crate::score::Score;

/// Options of [`build_rom_from_scores`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RomRequest {
    pub region: Region,
    pub loop_mode: LoopMode,
    pub title: String,
    /// [`BuildOptions::advance`].
    pub advance: bool,
}

impl Default for RomRequest {
    fn default() -> Self {
        RomRequest {
            region: Region::default(),
            loop_mode: LoopMode::default(),
            title: String::new(),
            advance: BuildOptions::default().advance,
        }
    }
}

/// Compiles the scores for the request's region and loop mode and builds one ROM of them.
pub fn build_rom_from_scores(scores: &[Score], req: &RomRequest) -> Result<Rom> {
    let streams = compile_songs(scores, req.region, req.loop_mode)?;
    build_rom(
        &streams,
        &BuildOptions {
            region: req.region,
            title: req.title.clone(),
            force_uxrom: false,
            advance: req.advance,
        },
    )
}
