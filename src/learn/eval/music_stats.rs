//! Musical statistics of four-voice scores: beat strength, phrase recurrence, key fit, held
//! notes, noise hiss, register, sounding share, onset rate and note length, each computed per
//! song on 24 Hz note matrices (`[P1, P2, TR, NO]`, 0 = rest) and reported as the mean over a
//! set of songs with its standard error. Definitions: `../shared/docs/music-metrics.md`; the
//! recurrence statistics live in [`super::music_stats_recurrence`].
//!
//! Plugging in a model: sample its songs as note matrices, call [`music_stats`] on them and
//! [`markdown_table`] on the named sets, the first being the reference (for example
//! [`excerpts`] of the test split).

use super::music_stats_recurrence::{recurrence, Recurrence};
use crate::score::{Frame, Score, NESMDB_RATE};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// Frames per second of the note matrices the statistics read.
const RATE: usize = NESMDB_RATE as usize;
/// Lags (frames) over which the beat strength looks for its autocorrelation peak.
pub const BEAT_LAGS: std::ops::RangeInclusive<usize> = 4..=48;
/// A pitched voice holding one pitch this long (4 s) makes a held-note song.
pub const HELD_NOTE_FRAMES: usize = 4 * RATE;
/// Noise runs of one value at least this long (0.5 s) count as hiss.
pub const HISS_FRAMES: usize = RATE / 2;

/// Onsets of one voice: a sounding value that differs from the frame before (frame -1 rests).
pub fn onsets(notes: &[[u8; 4]], voice: usize) -> Vec<bool> {
    let mut prev = 0;
    notes
        .iter()
        .map(|f| {
            let x = f[voice];
            let on = x != 0 && x != prev;
            prev = x;
            on
        })
        .collect()
}

/// Beat strength: the autocorrelation of the combined onset count minus its mean, normalised
/// by its variance, at lags [`BEAT_LAGS`]; the largest value minus the mean over those lags.
/// Each lag's products are averaged over its `N - lag` overlapping frames (the unbiased
/// estimate, so a strict pulse scores 1 at its period at every lag): over all 112 test-split
/// excerpts this gives 0.650 like the reference, dividing by `N` 0.625. 0 for a song too short
/// or without any variation in its onsets.
pub fn beat_strength(notes: &[[u8; 4]]) -> f64 {
    let n = notes.len();
    if n <= *BEAT_LAGS.end() {
        return 0.0;
    }
    let per_voice: Vec<Vec<bool>> = (0..4).map(|v| onsets(notes, v)).collect();
    let count: Vec<f64> = (0..n)
        .map(|t| per_voice.iter().filter(|o| o[t]).count() as f64)
        .collect();
    let mean = count.iter().sum::<f64>() / n as f64;
    let x: Vec<f64> = count.iter().map(|c| c - mean).collect();
    let variance = x.iter().map(|a| a * a).sum::<f64>() / n as f64;
    if variance <= 1e-12 {
        return 0.0;
    }
    let ac: Vec<f64> = BEAT_LAGS
        .map(|lag| {
            let products: f64 = x[..n - lag].iter().zip(&x[lag..]).map(|(a, b)| a * b).sum();
            products / (n - lag) as f64 / variance
        })
        .collect();
    let peak = ac.iter().cloned().fold(f64::MIN, f64::max);
    peak - ac.iter().sum::<f64>() / ac.len() as f64
}

/// Key fit: the share of the pitched voices' onsets whose pitch class lies in the best of the
/// twelve major scales (the relative minors are the same sets). `None` without onsets.
pub fn key_fit(notes: &[[u8; 4]]) -> Option<f64> {
    const MAJOR: [usize; 7] = [0, 2, 4, 5, 7, 9, 11];
    let mut classes = [0usize; 12];
    for v in 0..3 {
        for (t, on) in onsets(notes, v).into_iter().enumerate() {
            if on {
                classes[notes[t][v] as usize % 12] += 1;
            }
        }
    }
    let total: usize = classes.iter().sum();
    if total == 0 {
        return None;
    }
    let best = (0..12)
        .map(|tonic| {
            MAJOR
                .iter()
                .map(|d| classes[(tonic + d) % 12])
                .sum::<usize>()
        })
        .max()
        .unwrap_or(0);
    Some(best as f64 / total as f64)
}

/// Runs of one sounding value of voice `voice`: `(start, length, value)`.
fn runs(notes: &[[u8; 4]], voice: usize) -> Vec<(usize, usize, u8)> {
    let mut out: Vec<(usize, usize, u8)> = Vec::new();
    for (t, f) in notes.iter().enumerate() {
        let x = f[voice];
        match out.last_mut() {
            Some(r) if x != 0 && r.2 == x && r.0 + r.1 == t => r.1 += 1,
            _ if x != 0 => out.push((t, 1, x)),
            _ => {}
        }
    }
    out
}

/// Whether a pitched voice holds one pitch for [`HELD_NOTE_FRAMES`] or more.
pub fn holds_a_note(notes: &[[u8; 4]]) -> bool {
    (0..3).any(|v| runs(notes, v).iter().any(|r| r.1 >= HELD_NOTE_FRAMES))
}

/// Noise hiss: the share of the sounding noise frames that lie in runs of one value of
/// [`HISS_FRAMES`] or more; 0 when the noise never sounds (a song without drums has no hiss).
/// Checked against the reference's three columns (test 0.01, lstm-full 0.21, bigram 0.03),
/// this reading gives 0.020 / 0.204 / 0.022 on 40 songs each; leaving drumless songs out
/// gives 0.032 / 0.226 / 0.022, and dividing by all frames 0.015 / 0.142 / 0.009.
pub fn noise_hiss(notes: &[[u8; 4]]) -> f64 {
    let r = runs(notes, 3);
    let sounding: usize = r.iter().map(|r| r.1).sum();
    let hiss: usize = r.iter().filter(|r| r.1 >= HISS_FRAMES).map(|r| r.1).sum();
    hiss as f64 / sounding.max(1) as f64
}

/// Linear-interpolated percentile `p` (0..=100) of sorted values (numpy's default).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let pos = p / 100.0 * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// P1 register: 5th to 95th percentile range of P1's sounding pitches (frame-weighted), in
/// semitones. `None` when P1 never sounds.
pub fn p1_register(notes: &[[u8; 4]]) -> Option<f64> {
    let mut p: Vec<f64> = notes
        .iter()
        .filter(|f| f[0] != 0)
        .map(|f| f[0] as f64)
        .collect();
    if p.is_empty() {
        return None;
    }
    p.sort_by(f64::total_cmp);
    Some(percentile(&p, 95.0) - percentile(&p, 5.0))
}

/// Median of a non-empty list.
fn median(mut x: Vec<f64>) -> f64 {
    x.sort_by(f64::total_cmp);
    let m = x.len() / 2;
    if x.len() % 2 == 1 {
        x[m]
    } else {
        (x[m - 1] + x[m]) / 2.0
    }
}

/// Median length in frames of `voice`'s notes (runs of one sounding value) that touch neither
/// edge of the song. `None` without such a note.
pub fn median_note_frames(notes: &[[u8; 4]], voice: usize) -> Option<f64> {
    let inner: Vec<f64> = runs(notes, voice)
        .into_iter()
        .filter(|r| r.0 > 0 && r.0 + r.1 < notes.len())
        .map(|r| r.1 as f64)
        .collect();
    (!inner.is_empty()).then(|| median(inner))
}

/// The statistics of one song; `None` where a statistic is undefined for it (no window with an
/// onset, no pitched onset, a silent voice), which leaves the song out of that mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SongStats {
    pub beat_strength: f64,
    pub recurrence: Recurrence,
    pub key_fit: Option<f64>,
    pub held_note: bool,
    pub noise_hiss: f64,
    pub p1_register: Option<f64>,
    pub sounding_share: [f64; 4],
    pub onsets_per_second: [f64; 4],
    pub median_note_frames: [Option<f64>; 4],
}

/// Computes every statistic of one song.
pub fn song_stats(notes: &[[u8; 4]]) -> SongStats {
    let seconds = notes.len().max(1) as f64 / RATE as f64;
    let frames = notes.len().max(1) as f64;
    SongStats {
        beat_strength: beat_strength(notes),
        recurrence: recurrence(notes),
        key_fit: key_fit(notes),
        held_note: holds_a_note(notes),
        noise_hiss: noise_hiss(notes),
        p1_register: p1_register(notes),
        sounding_share: std::array::from_fn(|v| {
            notes.iter().filter(|f| f[v] != 0).count() as f64 / frames
        }),
        onsets_per_second: std::array::from_fn(|v| {
            onsets(notes, v).iter().filter(|&&o| o).count() as f64 / seconds
        }),
        median_note_frames: std::array::from_fn(|v| median_note_frames(notes, v)),
    }
}

/// Mean over the songs where a statistic is defined, its standard error (sample standard
/// deviation over `sqrt(n)`; 0 for fewer than two songs) and that number of songs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanSe {
    pub mean: f64,
    pub se: f64,
    pub n: usize,
}

impl MeanSe {
    /// The mean and standard error of the defined values; NaN mean when none is.
    pub fn of(values: impl IntoIterator<Item = Option<f64>>) -> MeanSe {
        let x: Vec<f64> = values.into_iter().flatten().collect();
        let n = x.len();
        if n == 0 {
            return MeanSe {
                mean: f64::NAN,
                se: f64::NAN,
                n,
            };
        }
        let mean = x.iter().sum::<f64>() / n as f64;
        let se = if n > 1 {
            let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            (var / n as f64).sqrt()
        } else {
            0.0
        };
        MeanSe { mean, se, n }
    }
}

/// The statistics of a set of songs, each the mean over songs with its standard error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MusicStats {
    pub songs: usize,
    pub beat_strength: MeanSe,
    /// Per voice P1, P2, TR, NO.
    pub line_recurrence: [MeanSe; 4],
    /// Per song, the mean over the voices that have a window with an onset.
    pub line_recurrence_voices_mean: MeanSe,
    pub rhythm_recurrence: MeanSe,
    pub drum_recurrence_1s: MeanSe,
    pub drum_recurrence_2s: MeanSe,
    pub block_recurrence: MeanSe,
    pub key_fit: MeanSe,
    /// Share of songs with a held note (a mean of 0/1).
    pub held_note_songs: MeanSe,
    pub noise_hiss: MeanSe,
    /// Semitones.
    pub p1_register: MeanSe,
    pub sounding_share: [MeanSe; 4],
    pub onsets_per_second: [MeanSe; 4],
    /// 24 Hz frames.
    pub median_note_frames: [MeanSe; 4],
}

/// The statistics of `songs` (24 Hz note matrices, `[P1, P2, TR, NO]`, 0 = rest). Songs are
/// measured on two threads at most.
pub fn music_stats(songs: &[Vec<[u8; 4]>]) -> MusicStats {
    let half = songs.len().div_ceil(2);
    let per: Vec<SongStats> = std::thread::scope(|s| {
        let later = s.spawn(|| {
            songs[half..]
                .iter()
                .map(|n| song_stats(n))
                .collect::<Vec<_>>()
        });
        let mut first: Vec<SongStats> = songs[..half].iter().map(|n| song_stats(n)).collect();
        // A panic in the helper thread is a bug in this module: re-raise it.
        first.extend(
            later
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e)),
        );
        first
    });
    let of = |f: &dyn Fn(&SongStats) -> Option<f64>| MeanSe::of(per.iter().map(f));
    MusicStats {
        songs: songs.len(),
        beat_strength: of(&|s| Some(s.beat_strength)),
        line_recurrence: std::array::from_fn(|v| of(&|s| s.recurrence.line[v])),
        line_recurrence_voices_mean: of(&|s| {
            let defined: Vec<f64> = s.recurrence.line.iter().flatten().copied().collect();
            (!defined.is_empty()).then(|| defined.iter().sum::<f64>() / defined.len() as f64)
        }),
        rhythm_recurrence: of(&|s| s.recurrence.rhythm),
        drum_recurrence_1s: of(&|s| s.recurrence.drum_1s),
        drum_recurrence_2s: of(&|s| s.recurrence.drum_2s),
        block_recurrence: of(&|s| s.recurrence.block),
        key_fit: of(&|s| s.key_fit),
        held_note_songs: of(&|s| Some(s.held_note as u8 as f64)),
        noise_hiss: of(&|s| Some(s.noise_hiss)),
        p1_register: of(&|s| s.p1_register),
        sounding_share: std::array::from_fn(|v| of(&|s| Some(s.sounding_share[v]))),
        onsets_per_second: std::array::from_fn(|v| of(&|s| Some(s.onsets_per_second[v]))),
        median_note_frames: std::array::from_fn(|v| of(&|s| s.median_note_frames[v])),
    }
}

const VOICES: [&str; 4] = ["P1", "P2", "TR", "NO"];

/// A set's statistics as table rows.
pub trait StatRows {
    /// Songs measured.
    fn songs(&self) -> usize;
    /// Every statistic as `(label, value, decimals)`, in table order.
    fn rows(&self) -> Vec<(String, MeanSe, usize)>;
}

impl StatRows for MusicStats {
    fn songs(&self) -> usize {
        self.songs
    }

    fn rows(&self) -> Vec<(String, MeanSe, usize)> {
        let mut r = vec![("beat strength".to_string(), self.beat_strength, 3)];
        for (v, x) in VOICES.iter().zip(self.line_recurrence) {
            r.push((format!("line recurrence {v}"), x, 3));
        }
        r.extend([
            (
                "line recurrence, mean of voices".to_string(),
                self.line_recurrence_voices_mean,
                3,
            ),
            ("rhythm recurrence".to_string(), self.rhythm_recurrence, 3),
            (
                "drum pattern recurrence 1 s".to_string(),
                self.drum_recurrence_1s,
                3,
            ),
            (
                "drum pattern recurrence 2 s".to_string(),
                self.drum_recurrence_2s,
                3,
            ),
            ("block recurrence".to_string(), self.block_recurrence, 3),
            ("key fit".to_string(), self.key_fit, 3),
            (
                "songs with a held note".to_string(),
                self.held_note_songs,
                3,
            ),
            ("noise hiss".to_string(), self.noise_hiss, 3),
            ("P1 register (semitones)".to_string(), self.p1_register, 1),
        ]);
        for (v, x) in VOICES.iter().zip(self.sounding_share) {
            r.push((format!("sounding share {v}"), x, 3));
        }
        for (v, x) in VOICES.iter().zip(self.onsets_per_second) {
            r.push((format!("onsets/s {v}"), x, 2));
        }
        for (v, x) in VOICES.iter().zip(self.median_note_frames) {
            r.push((format!("median note length {v} (frames)"), x, 1));
        }
        r
    }
}

/// A markdown table: one row per statistic, one column per named set (`mean ± SE`). A value
/// more than two combined standard errors from the first set's is marked with `*`.
pub fn markdown_table<S: StatRows>(sets: &[(String, S)]) -> String {
    let mut s = String::from("| statistic |");
    for (name, st) in sets {
        s += &format!(" {name} ({} songs) |", st.songs());
    }
    s += "\n|---|";
    s += &"---:|".repeat(sets.len());
    s += "\n";
    let rows: Vec<Vec<(String, MeanSe, usize)>> = sets.iter().map(|(_, st)| st.rows()).collect();
    for (i, (label, _, _)) in rows
        .first()
        .map(|r| r.as_slice())
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        s += &format!("| {label} |");
        let reference = rows[0][i].1;
        for (k, set_rows) in rows.iter().enumerate() {
            let (_, x, dec) = set_rows[i];
            if x.n == 0 {
                s += " - |";
                continue;
            }
            let far = k > 0
                && (x.mean - reference.mean).abs()
                    > 2.0 * (x.se.powi(2) + reference.se.powi(2)).sqrt();
            s += &format!(
                " {:.dec$} ± {:.dec$}{} |",
                x.mean,
                x.se,
                if far { " *" } else { "" }
            );
        }
        s += "\n";
    }
    s
}

/// `count` random excerpts of `frames` frames from distinct songs at least that long (all
/// of them when fewer are), chosen and placed by a generator seeded with `seed`.
pub fn excerpts<T: Clone>(songs: &[Vec<T>], frames: usize, count: usize, seed: u64) -> Vec<Vec<T>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut long: Vec<&Vec<T>> = songs.iter().filter(|s| s.len() >= frames).collect();
    long.shuffle(&mut rng);
    long.truncate(count);
    long.into_iter()
        .map(|s| {
            let start = rng.random_range(0..=s.len() - frames);
            s[start..start + frames].to_vec()
        })
        .collect()
}

/// The frames of `score` at 24 Hz: each 24 Hz frame takes the score frame sounding at its
/// start, so scores read from MIDI or VGM at other rates are measured on the same grid.
pub fn frames_at_24hz(score: &Score) -> Vec<Frame> {
    if (score.rate - NESMDB_RATE).abs() < 1e-9 {
        return score.frames.clone();
    }
    let frames = (score.duration_secs() * NESMDB_RATE).floor() as usize;
    (0..frames)
        .filter_map(|t| {
            score
                .frames
                .get((t as f64 * score.rate / NESMDB_RATE).floor() as usize)
        })
        .copied()
        .collect()
}

/// The notes of [`frames_at_24hz`].
pub fn notes_at_24hz(score: &Score) -> Vec<[u8; 4]> {
    crate::learn::data::coding::note_matrix(&frames_at_24hz(score))
}
