//! `nesmm build` as a library function: score files -> scores -> compiled streams -> ROM.

use crate::compile::{compile, CompileOptions};
use crate::error::Result;
use crate::formats::load_score;
use crate::region::Region;
use crate::rom::build::{build_rom, BuildOptions, Rom};
use crate::score::Score;
use std::path::Path;

/// What a song does at its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoopMode {
    /// As the score says (its loop point, or stop).
    #[default]
    AsScore,
    /// Loop: to the score's loop point, or to the start when it has none.
    Loop,
    /// Stop after the last frame (the compiler ends with a silencing frame).
    NoLoop,
}

impl LoopMode {
    /// The loop point a score gets under this mode, from the one it has.
    pub fn apply(self, loop_frame: Option<usize>) -> Option<usize> {
        match self {
            LoopMode::AsScore => loop_frame,
            LoopMode::Loop => loop_frame.or(Some(0)),
            LoopMode::NoLoop => None,
        }
    }
}

/// Options of [`build_rom_from_scores`] / [`build_rom_from_files`].
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
    let copts = CompileOptions {
        region: req.region,
        ..Default::default()
    };
    let streams = scores
        .iter()
        .map(|s| {
            let mut s = s.clone();
            s.loop_frame = req.loop_mode.apply(s.loop_frame);
            compile(&s, &copts)
        })
        .collect::<Result<Vec<_>>>()?;
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

/// Loads score files of any format nesmm reads and builds one ROM of them, in order.
pub fn build_rom_from_files(paths: &[&Path], req: &RomRequest) -> Result<Rom> {
    let scores = paths
        .iter()
        .map(|p| load_score(p))
        .collect::<Result<Vec<_>>>()?;
    build_rom_from_scores(&scores, req)
}
