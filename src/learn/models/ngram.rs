//! Baselines for the note models, scored by the same evaluation: uniform, repeat-previous-frame
//! (smoothed) and per-voice n-grams.
//!
//! The n-gram of order `n` predicts a voice's note from that voice's previous `n-1` notes (the
//! song start is padded with the boundary token) with interpolated absolute discounting
//! (Ney, Essen & Kneser 1994): `p_k(x|h) = max(c(h,x) - D, 0) / c(h) + D N1+(h·) / c(h) p_{k-1}(x|h')`,
//! down to a discounted unigram interpolated with the uniform distribution. Every level sums to
//! one over the note tokens, so the result is a proper distribution (the boundary token gets no
//! mass: evaluation never asks for it).

use crate::learn::data::dataset::TokenSet;
use std::collections::HashMap;

/// Something that assigns each voice of each frame a distribution, given the song so far.
pub trait Predictor {
    /// Name for tables.
    fn name(&self) -> String;
    /// Called at every song start.
    fn start_song(&mut self);
    /// Called once per frame before [`Predictor::log_probs`]; `history` is the song's rows so
    /// far, starting with the BOS row (width = number of voices).
    fn advance(&mut self, history: &[u8]);
    /// Log-probabilities of voice `v`'s token in the current frame given the tokens chosen for
    /// the voices before it (`chosen[..v]`). `out` has the voice's vocabulary size.
    fn log_probs(&mut self, history: &[u8], v: usize, chosen: &[u8], out: &mut [f32]);
}

/// The uniform distribution over each voice's note tokens.
pub struct Uniform {
    notes: Vec<usize>,
}

impl Uniform {
    pub fn new(set: &TokenSet) -> Uniform {
        Uniform {
            notes: set.vocab.ranges.iter().map(|r| r.notes()).collect(),
        }
    }
}

impl Predictor for Uniform {
    fn name(&self) -> String {
        "uniform".into()
    }
    fn start_song(&mut self) {}
    fn advance(&mut self, _: &[u8]) {}
    fn log_probs(&mut self, _: &[u8], v: usize, _: &[u8], out: &mut [f32]) {
        let lp = -(self.notes[v] as f32).ln();
        for (i, o) in out.iter_mut().enumerate() {
            *o = if i < self.notes[v] {
                lp
            } else {
                f32::NEG_INFINITY
            };
        }
    }
}

/// Repeats the previous frame's note with probability `1 - a`, spreads `a` uniformly; `a` is
/// each voice's change rate on the training data.
pub struct RepeatPrevious {
    notes: Vec<usize>,
    change_rate: Vec<f64>,
}

impl RepeatPrevious {
    pub fn fit(train: &TokenSet) -> RepeatPrevious {
        let w = train.width();
        let mut changes = vec![0u64; w];
        let mut frames = 0u64;
        for i in 0..train.songs.len() {
            let rows = train.song_rows(i);
            let mut prev = vec![0u8; w];
            for row in rows.chunks_exact(w) {
                for v in 0..w {
                    changes[v] += (row[v] != prev[v]) as u64;
                }
                prev.copy_from_slice(row);
                frames += 1;
            }
        }
        RepeatPrevious {
            notes: train.vocab.ranges.iter().map(|r| r.notes()).collect(),
            change_rate: changes
                .iter()
                .map(|&c| ((c as f64 + 1.0) / (frames as f64 + 2.0)).clamp(1e-4, 1.0))
                .collect(),
        }
    }
}

impl Predictor for RepeatPrevious {
    fn name(&self) -> String {
        "repeat previous".into()
    }
    fn start_song(&mut self) {}
    fn advance(&mut self, _: &[u8]) {}
    fn log_probs(&mut self, history: &[u8], v: usize, _: &[u8], out: &mut [f32]) {
        let w = self.notes.len();
        let last = &history[history.len() - w..];
        let n = self.notes[v];
        // At the song start (boundary row) the previous note counts as a rest.
        let prev = if last[v] as usize >= n {
            0
        } else {
            last[v] as usize
        };
        let a = self.change_rate[v];
        for (i, o) in out.iter_mut().enumerate() {
            let p = if i >= n {
                0.0
            } else {
                a / n as f64 + if i == prev { 1.0 - a } else { 0.0 }
            };
            *o = (p as f32).ln();
        }
    }
}

#[derive(Default, Clone)]
struct Context {
    total: u32,
    counts: Vec<(u8, u32)>,
}

/// A per-voice n-gram with interpolated absolute discounting.
pub struct NGram {
    order: usize,
    discount: f64,
    notes: Vec<usize>,
    /// `tables[v][k]`: contexts of length `k` (0..order) of voice `v`.
    tables: Vec<Vec<HashMap<u64, Context>>>,
    boundary: Vec<u8>,
    scratch: Vec<f64>,
}

fn context_key(history: &[u8], w: usize, v: usize, k: usize, boundary: u8) -> u64 {
    let rows = history.len() / w;
    let mut key = k as u64;
    for j in 0..k {
        let tok = if j < rows {
            history[(rows - 1 - j) * w + v]
        } else {
            boundary
        };
        key = key << 8 | tok as u64;
    }
    key
}

impl NGram {
    /// Counts an n-gram of `order` (1 = unigram) on `train`.
    pub fn fit(train: &TokenSet, order: usize, discount: f64) -> NGram {
        let order = order.clamp(1, 7);
        let w = train.width();
        let boundary = train.vocab.boundary_row();
        let mut tables = vec![vec![HashMap::<u64, Context>::new(); order]; w];
        for i in 0..train.songs.len() {
            let s = &train.songs[i];
            let all = train.rows(s.start, s.frames + 1);
            for t in 0..s.frames {
                let history = &all[..(t + 1) * w];
                let row = &all[(t + 1) * w..(t + 2) * w];
                for v in 0..w {
                    for (k, table) in tables[v].iter_mut().enumerate() {
                        let ctx = table
                            .entry(context_key(history, w, v, k, boundary[v]))
                            .or_default();
                        ctx.total += 1;
                        match ctx.counts.iter_mut().find(|(tok, _)| *tok == row[v]) {
                            Some((_, c)) => *c += 1,
                            None => ctx.counts.push((row[v], 1)),
                        }
                    }
                }
            }
        }
        NGram {
            order,
            discount,
            notes: train.vocab.ranges.iter().map(|r| r.notes()).collect(),
            tables,
            boundary,
            scratch: Vec::new(),
        }
    }
}

impl Predictor for NGram {
    fn name(&self) -> String {
        match self.order {
            1 => "unigram".into(),
            2 => "bigram".into(),
            n => format!("{n}-gram"),
        }
    }
    fn start_song(&mut self) {}
    fn advance(&mut self, _: &[u8]) {}
    fn log_probs(&mut self, history: &[u8], v: usize, _: &[u8], out: &mut [f32]) {
        let w = self.notes.len();
        let n = self.notes[v];
        let p = &mut self.scratch;
        p.clear();
        p.resize(n, 1.0 / n as f64);
        for k in 0..self.order {
            let Some(ctx) = self.tables[v][k].get(&context_key(history, w, v, k, self.boundary[v]))
            else {
                break; // longer contexts are unseen too
            };
            let total = ctx.total as f64;
            let lower = self.discount * ctx.counts.len() as f64 / total;
            for x in p.iter_mut() {
                *x *= lower;
            }
            for &(tok, c) in &ctx.counts {
                if (tok as usize) < n {
                    p[tok as usize] += (c as f64 - self.discount).max(0.0) / total;
                }
            }
        }
        for (i, o) in out.iter_mut().enumerate() {
            *o = if i < n {
                (p[i] as f32).ln()
            } else {
                f32::NEG_INFINITY
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::data::vocab::Vocab;
    use crate::score::{Score, Voice};

    fn set() -> TokenSet {
        let songs: Vec<Score> = (0..3)
            .map(|s| {
                let notes: Vec<[u8; 4]> = (0..50)
                    .map(|f| [60 + (f % 3) as u8 * 2, 0, 40 + s, (f % 2) as u8 * 4])
                    .collect();
                Score::from_notes("s", 24.0, &notes)
            })
            .collect();
        TokenSet::from_scores(Vocab::from_scores(&Voice::ALL, &songs).unwrap(), &songs)
    }

    fn sums_to_one(p: &mut dyn Predictor, set: &TokenSet) {
        let w = set.width();
        let s = &set.songs[0];
        let all = set.rows(s.start, s.frames + 1);
        p.start_song();
        for t in [0, 1, 5] {
            let hist = &all[..(t + 1) * w];
            p.advance(hist);
            for v in 0..w {
                let mut out = vec![0f32; set.vocab.ranges[v].size()];
                p.log_probs(hist, v, &all[(t + 1) * w..], &mut out);
                let total: f64 = out.iter().map(|x| (*x as f64).exp()).sum();
                assert!(
                    (total - 1.0).abs() < 1e-4,
                    "{} voice {v}: {total}",
                    p.name()
                );
            }
        }
    }

    #[test]
    fn baselines_are_distributions() {
        let s = set();
        sums_to_one(&mut Uniform::new(&s), &s);
        sums_to_one(&mut RepeatPrevious::fit(&s), &s);
        for order in [1, 2, 4] {
            sums_to_one(&mut NGram::fit(&s, order, 0.75), &s);
        }
    }

    #[test]
    fn trigram_learns_a_cycle_that_a_unigram_cannot() {
        let s = set();
        let w = 4;
        let all = s.rows(s.songs[0].start, 11);
        let hist = &all[..10 * w];
        let target = all[10 * w] as usize;
        let mut out = vec![0f32; s.vocab.ranges[0].size()];
        let mut tri = NGram::fit(&s, 3, 0.75);
        tri.log_probs(hist, 0, &[], &mut out);
        let p3 = out[target].exp();
        let mut uni = NGram::fit(&s, 1, 0.75);
        uni.log_probs(hist, 0, &[], &mut out);
        let p1 = out[target].exp();
        assert!(p3 > 0.9 && p1 < 0.4, "{p3} {p1}");
    }
}
