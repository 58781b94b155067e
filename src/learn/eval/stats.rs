//! Statistics that compare generated songs with real ones: pitch-class histogram, note changes
//! per second, rest share per voice, and repetition (how often a frame equals the frame 1..8
//! seconds earlier). [`distance`] folds the differences into one number so samplers can be
//! ranked against a reference split.

use crate::formats::nesmdb::Split;
use crate::learn::data::dataset::TokenSet;
use crate::learn::data::SplitNotes;
use crate::learn::models::ngram::Predictor;
use crate::score::{Score, Voice, NESMDB_RATE};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Named sets of songs (for example a model's samples), as the `stats` reports take them.
pub type NamedSongs = Vec<(String, Vec<Score>)>;

/// What a comparison of a model's samples with NES-MDB reads and draws: the split's songs,
/// and `songs` samples of `seconds` each.
#[derive(Debug, Clone, Copy)]
pub struct SampleRequest<'a> {
    /// The NES-MDB archive or folder.
    pub data: &'a Path,
    pub split: Split,
    /// Only the first N songs of each split.
    pub max_songs: Option<usize>,
    pub songs: usize,
    pub seconds: f64,
}

/// Lags (seconds) of the repetition statistic.
pub const LAGS: [usize; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

/// Statistics of a set of songs (frame-weighted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorpusStats {
    pub songs: usize,
    pub frames: u64,
    /// Share of sounding pulse/triangle frames in each pitch class (C = 0).
    pub pitch_classes: [f64; 12],
    /// Note changes per second, per voice.
    pub changes_per_sec: [f64; 4],
    /// Share of frames resting, per voice.
    pub rest_share: [f64; 4],
    /// For each lag of [`LAGS`]: share of frames (all four notes) equal to the frame one lag
    /// earlier.
    pub repetition: Vec<f64>,
}

/// Computes the statistics of `songs`.
pub fn corpus_stats<'a>(songs: impl IntoIterator<Item = &'a Score>) -> CorpusStats {
    let mut pcs = [0u64; 12];
    let mut changes = [0u64; 4];
    let mut rests = [0u64; 4];
    let mut rep = vec![(0u64, 0u64); LAGS.len()];
    let mut frames = 0u64;
    let mut n = 0;
    for s in songs {
        n += 1;
        let notes = s.note_matrix();
        for (t, f) in notes.iter().enumerate() {
            for v in Voice::ALL {
                let x = f[v.index()];
                if x == 0 {
                    rests[v.index()] += 1;
                } else if v != Voice::Noise {
                    pcs[x as usize % 12] += 1;
                }
                let prev = if t > 0 { notes[t - 1][v.index()] } else { 0 };
                changes[v.index()] += (x != prev) as u64;
            }
            for (k, lag) in LAGS.iter().enumerate() {
                let l = lag * NESMDB_RATE as usize;
                if t >= l {
                    rep[k].0 += (notes[t - l] == *f) as u64;
                    rep[k].1 += 1;
                }
            }
        }
        frames += notes.len() as u64;
    }
    let pc_total = pcs.iter().sum::<u64>().max(1) as f64;
    let f = frames.max(1) as f64;
    CorpusStats {
        songs: n,
        frames,
        pitch_classes: pcs.map(|c| c as f64 / pc_total),
        changes_per_sec: changes.map(|c| c as f64 / f * NESMDB_RATE),
        rest_share: rests.map(|c| c as f64 / f),
        repetition: rep
            .iter()
            .map(|(a, b)| *a as f64 / (*b).max(1) as f64)
            .collect(),
    }
}

/// The statistics of the songs of `split` (the reference and first row) and of each named set.
pub fn corpus_rows(
    split: &SplitNotes,
    sets: &[(String, Vec<Score>)],
) -> (CorpusStats, Vec<(String, CorpusStats)>) {
    let reference: Vec<Score> = split
        .songs
        .iter()
        .map(|(n, f)| Score::from_notes(n.clone(), 24.0, f))
        .collect();
    let ref_stats = corpus_stats(&reference);
    let mut rows = vec![(
        format!("{} split", split.split.dir_name()),
        ref_stats.clone(),
    )];
    rows.extend(sets.iter().map(|(n, s)| (n.clone(), corpus_stats(s))));
    (ref_stats, rows)
}

/// Differences between two corpora, each in 0..~1, and their mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsDistance {
    /// Total variation distance of the pitch-class histograms.
    pub pitch_class: f64,
    /// Mean over voices of `|a - b| / max(a, b)` of changes per second.
    pub changes: f64,
    /// Mean over voices of the rest-share difference.
    pub rest: f64,
    /// Mean over lags of the repetition difference.
    pub repetition: f64,
    /// Mean of the four.
    pub total: f64,
}

/// How far `a` is from `reference`.
pub fn distance(a: &CorpusStats, reference: &CorpusStats) -> StatsDistance {
    let pitch_class = 0.5
        * a.pitch_classes
            .iter()
            .zip(&reference.pitch_classes)
            .map(|(x, y)| (x - y).abs())
            .sum::<f64>();
    let changes = a
        .changes_per_sec
        .iter()
        .zip(&reference.changes_per_sec)
        .map(|(x, y)| (x - y).abs() / x.max(*y).max(1e-9))
        .sum::<f64>()
        / 4.0;
    let rest = a
        .rest_share
        .iter()
        .zip(&reference.rest_share)
        .map(|(x, y)| (x - y).abs())
        .sum::<f64>()
        / 4.0;
    let repetition = a
        .repetition
        .iter()
        .zip(&reference.repetition)
        .map(|(x, y)| (x - y).abs())
        .sum::<f64>()
        / a.repetition.len().max(1) as f64;
    StatsDistance {
        pitch_class,
        changes,
        rest,
        repetition,
        total: (pitch_class + changes + rest + repetition) / 4.0,
    }
}

/// Samples a song of `frames` frames from any [`Predictor`] over `set`'s vocabulary (used to
/// draw songs from the n-gram baselines).
pub fn sample_predictor(
    p: &mut dyn Predictor,
    set: &TokenSet,
    frames: usize,
    seed: u64,
    name: &str,
) -> Score {
    let vocab = &set.vocab;
    let w = vocab.len();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut history = vocab.boundary_row();
    let mut out = Vec::new();
    let mut chosen = vec![0u8; w];
    p.start_song();
    for _ in 0..frames {
        p.advance(&history);
        for v in 0..w {
            out.clear();
            out.resize(vocab.ranges[v].size(), 0.0);
            p.log_probs(&history, v, &chosen, &mut out);
            let notes = vocab.ranges[v].notes();
            let mut r = rng.random::<f64>();
            chosen[v] = 0;
            for (i, lp) in out[..notes].iter().enumerate() {
                r -= (*lp as f64).exp();
                if r <= 0.0 {
                    chosen[v] = i as u8;
                    break;
                }
            }
        }
        history.extend_from_slice(&chosen);
    }
    let notes = vocab.decode_rows(&history[w..]);
    Score::from_notes(name, NESMDB_RATE, &notes)
}

/// A markdown table of statistics, one row per corpus, with the distance to `reference`, and
/// a second table with the four distances apart.
pub fn markdown_table(rows: &[(String, CorpusStats)], reference: &CorpusStats) -> String {
    let mut s = String::from(
        "| songs | changes/s P1 P2 TR NO | rest share P1 P2 TR NO | repetition 1 s / 4 s / 8 s | pitch-class TV | distance |\n|---|---|---|---|---:|---:|\n",
    );
    for (name, c) in rows {
        let d = distance(c, reference);
        s += &format!(
            "| {name} | {:.2} {:.2} {:.2} {:.2} | {:.2} {:.2} {:.2} {:.2} | {:.2} / {:.2} / {:.2} | {:.3} | {:.3} |\n",
            c.changes_per_sec[0], c.changes_per_sec[1], c.changes_per_sec[2], c.changes_per_sec[3],
            c.rest_share[0], c.rest_share[1], c.rest_share[2], c.rest_share[3],
            c.repetition[0], c.repetition[3], c.repetition[7], d.pitch_class, d.total
        );
    }
    s += "\nDistance to the reference, per statistic (lower is closer):\n\n\
          | songs | changes/s | rest share | repetition | pitch classes | mean |\n\
          |---|---:|---:|---:|---:|---:|\n";
    for (name, c) in rows {
        let d = distance(c, reference);
        s += &format!(
            "| {name} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} |\n",
            d.changes, d.rest, d.repetition, d.pitch_class, d.total
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::data::vocab::Vocab;
    use crate::learn::models::ngram::NGram;

    #[test]
    fn statistics_of_a_known_song() {
        // 8 s of a C held for 1 s, then D for 1 s, ... repeating every 2 s; noise silent.
        let notes: Vec<[u8; 4]> = (0..192)
            .map(|f| [if (f / 24) % 2 == 0 { 60 } else { 62 }, 0, 48, 0])
            .collect();
        let s = Score::from_notes("k", 24.0, &notes);
        let c = corpus_stats([&s]);
        assert_eq!(c.frames, 192);
        assert!((c.rest_share[1] - 1.0).abs() < 1e-12 && c.rest_share[0] == 0.0);
        // P1: 1 + 7 changes in 8 s.
        assert!(
            (c.changes_per_sec[0] - 1.0).abs() < 1e-9,
            "{:?}",
            c.changes_per_sec
        );
        assert_eq!(c.repetition[1], 1.0); // 2 s lag: always equal
        assert_eq!(c.repetition[0], 0.0); // 1 s lag: never
        assert!((c.pitch_classes[0] - 0.75).abs() < 1e-9); // C on P1 half the time + TR C always
        let d = distance(&c, &c);
        assert_eq!(d.total, 0.0);
    }

    #[test]
    fn sampled_bigram_songs_resemble_their_training_data_more_than_noise() {
        let notes: Vec<[u8; 4]> = (0..400)
            .map(|f| [60 + ((f / 6) % 4) as u8 * 2, 0, 48, (f % 2) as u8 * 3])
            .collect();
        let s = Score::from_notes("k", 24.0, &notes);
        let set = TokenSet::from_scores(Vocab::from_scores(&Voice::ALL, [&s]).unwrap(), [&s]);
        let reference = corpus_stats([&s]);
        let bi = sample_predictor(&mut NGram::fit(&set, 2, 0.75), &set, 400, 1, "bi");
        let uni = sample_predictor(
            &mut crate::learn::models::ngram::Uniform::new(&set),
            &set,
            400,
            1,
            "uni",
        );
        bi.validate().unwrap();
        let db = distance(&corpus_stats([&bi]), &reference).total;
        let du = distance(&corpus_stats([&uni]), &reference).total;
        assert!(db < du, "{db} {du}");
    }
}
