//! Where an NSF track ends: NSF has no length field (NSFe and NSF2 may give one, as a hint),
//! so the end is found by playing.
//!
//! * **Silence**: the score's voices all rest from some frame on, for at least
//!   [`SILENCE_SECONDS`] up to the end of what was played: the song ends at that frame.
//! * **Loop**: the PLAY calls' writes repeat with period `p` (at least [`MIN_LOOP_SECONDS`])
//!   from call `s` to the end of what was played, seen at least twice: the song is one pass,
//!   `s + p` calls, and loops back to `s`. Of all periods the earliest `s` wins, then the
//!   shortest `p`.
//! * Otherwise the track is cut at the length asked for.

use crate::score::Score;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

/// Trailing silence that ends a song.
pub const SILENCE_SECONDS: f64 = 2.0;
/// Shortest loop recognised, so a held chord (no writes) is not a loop of one frame.
const MIN_LOOP_SECONDS: f64 = 1.0;

/// How a played track ends, in score frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SongEnd {
    /// Every voice rests from `end` on.
    Silence { end: usize },
    /// One pass is `end` frames; the loop goes back to `start`.
    Loop { start: usize, end: usize },
    /// Neither within the time played: cut there.
    Cap,
    /// Not one sounding frame.
    Silent,
}

impl SongEnd {
    /// A phrase for the import notes; `seconds` is the time played.
    pub fn describe(&self, seconds: f64) -> String {
        let at = |f: usize| f as f64 / crate::score::NESMDB_RATE;
        match *self {
            SongEnd::Silence { end } => format!("ends in silence at {:.1} s", at(end)),
            SongEnd::Loop { start, end } => format!(
                "loops: one pass is {:.1} s, the loop goes back to {:.1} s",
                at(end),
                at(start)
            ),
            SongEnd::Cap => {
                format!("neither ends nor repeats within {seconds:.1} s; cut there (see --seconds)")
            }
            SongEnd::Silent => "makes no sound".into(),
        }
    }

    /// The score cut to its end (and its loop set), or `None` for a silent track.
    pub fn apply(&self, mut score: Score) -> Option<Score> {
        match *self {
            SongEnd::Silent => return None,
            SongEnd::Silence { end } => score.frames.truncate(end),
            SongEnd::Loop { start, end } => {
                score.frames.truncate(end);
                score.loop_frame = Some(start).filter(|&s| s < score.frames.len());
            }
            SongEnd::Cap => {}
        }
        score.source_samples = None;
        Some(score)
    }
}

/// The end of a track whose PLAY calls wrote `calls` and whose score is `score`;
/// `frame_of(j)` is the score frame PLAY call `j` falls in.
pub fn find_end(
    calls: &[Vec<(u8, u8)>],
    score: &Score,
    frame_of: impl Fn(u64) -> usize,
) -> SongEnd {
    let Some(last) = score
        .frames
        .iter()
        .rposition(|f| f.iter().any(|c| !c.is_rest()))
    else {
        return SongEnd::Silent;
    };
    let rate = crate::score::NESMDB_RATE;
    if (score.len() - last - 1) as f64 >= SILENCE_SECONDS * rate {
        return SongEnd::Silence { end: last + 1 };
    }
    let calls_per_second = calls.len() as f64 / (score.len().max(1) as f64 / rate);
    let min_period = (MIN_LOOP_SECONDS * calls_per_second).ceil().max(1.0) as usize;
    match find_loop(calls, min_period) {
        Some((s, p)) => {
            // The loop starts at a score frame: the next one when `s` is inside a frame (the
            // calls after it repeat too).
            let within = s > 0 && frame_of(s as u64 - 1) == frame_of(s as u64);
            let start = frame_of(s as u64) + usize::from(within);
            let end = start + frame_of((s + p) as u64) - frame_of(s as u64);
            if end > start && end <= score.len() {
                SongEnd::Loop { start, end }
            } else {
                SongEnd::Cap
            }
        }
        None => SongEnd::Cap,
    }
}

/// The earliest start `s` and then shortest period `p >= min_period` with which `calls`
/// repeat from `s` to the end, seen at least twice.
fn find_loop(calls: &[Vec<(u8, u8)>], min_period: usize) -> Option<(usize, usize)> {
    let hashes: Vec<u64> = calls
        .iter()
        .map(|c| {
            let mut h = DefaultHasher::new();
            c.hash(&mut h);
            h.finish()
        })
        .collect();
    let n = hashes.len();
    let mut best: Option<(usize, usize)> = None;
    for p in min_period..=n / 2 {
        let mut s = n - p;
        while s > 0 && hashes[s - 1] == hashes[s - 1 + p] {
            s -= 1;
        }
        if n - s >= 2 * p && best.is_none_or(|(bs, _)| s < bs) {
            best = Some((s, p));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loops_are_found_from_their_earliest_start() {
        // An intro of 3 distinct calls, then a 4-call pattern repeated 5 times.
        let mut calls: Vec<Vec<(u8, u8)>> = (0..3).map(|i| vec![(0, 100 + i)]).collect();
        for _ in 0..5 {
            calls.extend((0..4).map(|i| vec![(2, i)]));
        }
        assert_eq!(find_loop(&calls, 2), Some((3, 4)));
        // Seen only once: no loop.
        assert_eq!(find_loop(&calls[..9], 4), None);
        // The minimum period keeps a static tail from being a one-call loop.
        let still = vec![Vec::new(); 40];
        assert_eq!(find_loop(&still, 10), Some((0, 10)));
    }

    #[test]
    fn trailing_silence_ends_the_song() {
        let mut notes = vec![[60, 0, 0, 0]; 10];
        notes.extend(vec![[0, 0, 0, 0]; 60]);
        let s = Score::from_notes("t", 24.0, &notes);
        let calls = vec![Vec::new(); 175];
        assert_eq!(
            find_end(&calls, &s, |j| j as usize * 2 / 5),
            SongEnd::Silence { end: 10 }
        );
        let cut = SongEnd::Silence { end: 10 }.apply(s.clone()).unwrap();
        assert_eq!(cut.len(), 10);
        let silent = Score::from_notes("t", 24.0, &[[0, 0, 0, 0]; 5]);
        assert_eq!(find_end(&calls, &silent, |j| j as usize), SongEnd::Silent);
        assert!(SongEnd::Silent.apply(silent).is_none());
    }
}
