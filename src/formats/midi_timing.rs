//! Time and length limits shared by the MIDI reader ([`super::midi`]) and the importer of
//! other layouts (`midi_import`): the tempo map from ticks to samples, and the longest score.

use super::midi_parse::{EventKind, Parsed};
use crate::error::Error;
use std::path::Path;

/// Microseconds per beat of the NES-MDB layout (120 BPM).
pub(crate) const NESMDB_TEMPO: u32 = 500_000;
/// Longest score a MIDI file may produce: two hours at 24 Hz (NES-MDB's longest is 25 minutes).
pub const MAX_FRAMES: usize = 24 * 60 * 60 * 2;

/// The error for a file whose notes run past [`MAX_FRAMES`].
pub(crate) fn too_long(origin: &Path, frames: u64) -> Error {
    Error::format(
        origin,
        format!(
            "the song would be {frames} frames at 24 Hz, more than the {MAX_FRAMES} (two hours) \
             a score may hold; check the tempo and the end-of-song marker"
        ),
    )
}

/// Converts ticks to 44.1 kHz samples through the tempo map, exactly (floor at the end).
pub(crate) struct TempoMap {
    ppq: u128,
    /// (tick, accumulated tick x microseconds at that tick, tempo from there on)
    segments: Vec<(u64, u128, u32)>,
}

impl TempoMap {
    pub(crate) fn new(p: &Parsed) -> TempoMap {
        let mut segments = vec![(0u64, 0u128, NESMDB_TEMPO)];
        for e in &p.events {
            if let EventKind::Tempo(t) = e.kind {
                let &(t0, acc, tempo) = segments.last().unwrap_or(&(0, 0, NESMDB_TEMPO));
                let acc = acc + (e.tick - t0) as u128 * tempo as u128;
                if t0 == e.tick {
                    segments.pop();
                }
                segments.push((e.tick, acc, t.max(1)));
            }
        }
        TempoMap {
            ppq: p.ppq as u128,
            segments,
        }
    }

    pub(crate) fn sample(&self, tick: u64) -> u64 {
        let i = self.segments.partition_point(|s| s.0 <= tick).max(1) - 1;
        let (t0, acc, tempo) = self.segments[i];
        let us_ticks = acc + (tick - t0) as u128 * tempo as u128;
        (us_ticks * 44_100 / (1_000_000 * self.ppq)).min(u64::MAX as u128) as u64
    }
}
