//! The one path from scores to the streams a ROM, an NSF, a WAV, a VGM and a preview page
//! play: every score compiled for one region, its ending set by one [`LoopMode`]. `nesmm build`,
//! `nsf`, `render`, the preview page and the writers of [`crate::output`] all come here, so
//! two outputs of the same songs cannot differ in what they play.

use super::{compile, CompileOptions};
use crate::apu_stream::ApuStream;
use crate::error::Result;
use crate::region::Region;
use crate::score::Score;

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

/// Compiles `score` for `region` (default dynamics) with its loop point as `loop_mode` says.
pub fn compile_song(score: &Score, region: Region, loop_mode: LoopMode) -> Result<ApuStream> {
    let opts = CompileOptions {
        region,
        ..Default::default()
    };
    let looped = loop_mode.apply(score.loop_frame);
    if looped == score.loop_frame {
        return compile(score, &opts);
    }
    let mut score = score.clone();
    score.loop_frame = looped;
    compile(&score, &opts)
}

/// [`compile_song`] for every score, in order; the first error stops it.
pub fn compile_songs(
    scores: &[Score],
    region: Region,
    loop_mode: LoopMode,
) -> Result<Vec<ApuStream>> {
    scores
        .iter()
        .map(|s| compile_song(s, region, loop_mode))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn song() -> Score {
        let notes: Vec<[u8; 4]> = (0..24).map(|i| [60 + (i % 5) as u8, 0, 45, 0]).collect();
        Score::from_notes("t", 24.0, &notes)
    }

    #[test]
    fn the_loop_mode_sets_the_streams_ending() {
        let score = song();
        let plain = compile(&score, &CompileOptions::default()).unwrap();
        assert_eq!(plain.loop_frame, None);
        let as_score = compile_song(&score, Region::Ntsc, LoopMode::AsScore).unwrap();
        assert_eq!(as_score, plain);
        let looped =
            compile_songs(std::slice::from_ref(&score), Region::Ntsc, LoopMode::Loop).unwrap();
        assert_eq!(looped[0].loop_frame, Some(0));
        assert_ne!(
            looped[0], plain,
            "a looping song has no silencing end frame"
        );
        let mut with_loop = score.clone();
        with_loop.loop_frame = Some(12);
        let stopped = compile_song(&with_loop, Region::Pal, LoopMode::NoLoop).unwrap();
        assert_eq!((stopped.loop_frame, stopped.region), (None, Region::Pal));
    }
}
