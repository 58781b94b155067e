//! Recurrence statistics of [`super::music_stats`]: of every window of a song (any start `t`)
//! that holds an onset, the share whose exact contents start again at some frame `>= t +
//! width` of the same song. Each window's contents are hashed once and the last start of each
//! distinct content remembered, so a song of `N` frames costs `O(N * width)`, not `O(N²)`.

use super::music_stats::onsets;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::Hash;

/// Frames in a one-second window.
const SECOND: usize = crate::score::NESMDB_RATE as usize;

/// The recurrence statistics of one song; `None` where no window holds an onset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recurrence {
    /// 1 s windows of each voice's values (P1, P2, TR, NO).
    pub line: [Option<f64>; 4],
    /// 1 s windows of the four voices' onset pattern.
    pub rhythm: Option<f64>,
    /// 1 s windows of the noise onsets.
    pub drum_1s: Option<f64>,
    /// 2 s windows of the noise onsets.
    pub drum_2s: Option<f64>,
    /// 1 s windows of all four voices' values.
    pub block: Option<f64>,
}

/// Of the windows of `width` items of `seq` that contain an `onset`, the share whose exact
/// contents start again `width` or more items later. `None` when no window contains an onset.
pub fn recurring_share<T: Hash + Eq>(seq: &[T], width: usize, onset: &[bool]) -> Option<f64> {
    if width == 0 || seq.len() < width {
        return None;
    }
    let starts = seq.len() - width + 1;
    let mut last_start: HashMap<&[T], usize> = HashMap::with_capacity(starts);
    for t in 0..starts {
        last_start.insert(&seq[t..t + width], t);
    }
    // onsets_before[t] = onsets in 0..t, so a window's onset count is one subtraction.
    let mut onsets_before = Vec::with_capacity(onset.len() + 1);
    onsets_before.push(0usize);
    for &o in onset {
        onsets_before.push(onsets_before.last().copied().unwrap_or(0) + o as usize);
    }
    let (mut counted, mut recurring) = (0usize, 0usize);
    for t in 0..starts {
        if onsets_before[t + width] == onsets_before[t] {
            continue;
        }
        counted += 1;
        recurring += (last_start[&seq[t..t + width]] >= t + width) as usize;
    }
    (counted > 0).then(|| recurring as f64 / counted as f64)
}

/// Every recurrence statistic of one song.
pub fn recurrence(notes: &[[u8; 4]]) -> Recurrence {
    let per_voice: Vec<Vec<bool>> = (0..4).map(|v| onsets(notes, v)).collect();
    let any_onset: Vec<bool> = (0..notes.len())
        .map(|t| per_voice.iter().any(|o| o[t]))
        .collect();
    // The onset pattern of a frame as four bits, one per voice.
    let pattern: Vec<u8> = (0..notes.len())
        .map(|t| (0..4).map(|v| (per_voice[v][t] as u8) << v).sum())
        .collect();
    let drums = &per_voice[3];
    Recurrence {
        line: std::array::from_fn(|v| {
            let line: Vec<u8> = notes.iter().map(|f| f[v]).collect();
            recurring_share(&line, SECOND, &per_voice[v])
        }),
        rhythm: recurring_share(&pattern, SECOND, &any_onset),
        drum_1s: recurring_share(drums, SECOND, drums),
        drum_2s: recurring_share(drums, 2 * SECOND, drums),
        block: recurring_share(notes, SECOND, &any_onset),
    }
}
