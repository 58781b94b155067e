//! The training dataset: every song's tokens in one compact `u8` buffer, cut into windows that
//! batches index into, so no batch ever copies more than itself.
//!
//! Layout: each song is stored as a BOS row (every voice's boundary token), its frames, and an
//! EOS row (boundary tokens again); a row is one token per modelled voice. A song of `N` frames
//! gives `N + 1` (input, target) pairs: BOS -> frame 0, ..., frame N-1 -> EOS. Windows of `seq`
//! pairs are cut from each song's start; the last window of a song is shorter and its padding is
//! masked out of the loss. The LSTM state is reset to zero at every window (truncated BPTT with
//! reset): windows are shuffled across songs, which decorrelates a batch, and a window that does
//! not start at BOS teaches the model to pick up a song mid-way, which is what generation from a
//! primer needs.
//!
//! Shuffling is a permutation drawn from `(seed, epoch)`, and a batch is a pure function of
//! `(order, batch index)`, so a resumed run sees exactly the batches of an uninterrupted one.
//! Transposition augmentation shifts the pulses and the triangle of a window together by a
//! random number of semitones that keeps every note inside its range (noise is unpitched).

use super::vocab::Vocab;
use crate::score::Score;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// Songs as token rows in one buffer.
#[derive(Debug, Clone)]
pub struct TokenSet {
    /// Vocabulary the tokens are in.
    pub vocab: Vocab,
    /// Row-major tokens, `vocab.len()` per row.
    pub tokens: Vec<u8>,
    /// One entry per song.
    pub songs: Vec<SongSpan>,
}

/// Where one song lies in [`TokenSet::tokens`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SongSpan {
    /// Song name.
    pub name: String,
    /// Row of the song's BOS row; frames follow, then the EOS row.
    pub start: usize,
    /// Number of frames (rows between BOS and EOS).
    pub frames: usize,
}

impl TokenSet {
    /// An empty set in `vocab`.
    pub fn new(vocab: Vocab) -> TokenSet {
        TokenSet {
            vocab,
            tokens: Vec::new(),
            songs: Vec::new(),
        }
    }

    /// Appends a song (its notes encoded in the set's vocabulary).
    pub fn push(&mut self, score: &Score) {
        self.push_notes(&score.name, &score.note_matrix());
    }

    /// Appends a song given as per-frame notes `[p1, p2, tr, no]`.
    pub fn push_notes(&mut self, name: &str, notes: &[[u8; 4]]) {
        let w = self.vocab.len();
        let start = self.tokens.len() / w;
        let boundary = self.vocab.boundary_row();
        self.tokens.extend_from_slice(&boundary);
        for n in notes {
            for (v, r) in self.vocab.voices.iter().zip(&self.vocab.ranges) {
                self.tokens.push(r.encode(n[v.voice().index()]));
            }
        }
        self.tokens.extend_from_slice(&boundary);
        self.songs.push(SongSpan {
            name: name.to_string(),
            start,
            frames: notes.len(),
        });
    }

    /// Builds a set from scores.
    pub fn from_scores<'a>(vocab: Vocab, scores: impl IntoIterator<Item = &'a Score>) -> TokenSet {
        let mut set = TokenSet::new(vocab);
        for s in scores {
            set.push(s);
        }
        set
    }

    /// Row width (number of modelled voices).
    pub fn width(&self) -> usize {
        self.vocab.len()
    }

    /// Total frames of all songs.
    pub fn frames(&self) -> usize {
        self.songs.iter().map(|s| s.frames).sum()
    }

    /// Rows `start..start + len` of the buffer.
    pub fn rows(&self, start: usize, len: usize) -> &[u8] {
        let w = self.width();
        &self.tokens[start * w..(start + len) * w]
    }

    /// The frames of song `i` (without BOS/EOS rows).
    pub fn song_rows(&self, i: usize) -> &[u8] {
        let s = &self.songs[i];
        self.rows(s.start + 1, s.frames)
    }

    /// Training windows of at most `seq` (input, target) pairs, in song order.
    pub fn windows(&self, seq: usize) -> Vec<Window> {
        let seq = seq.max(1);
        let mut out = Vec::new();
        for s in &self.songs {
            let pairs = s.frames + 1;
            let mut off = 0;
            while off < pairs {
                let len = seq.min(pairs - off);
                out.push(Window {
                    start: (s.start + off) as u32,
                    len: len as u32,
                });
                off += len;
            }
        }
        out
    }
}

/// A run of `len` (input, target) pairs: inputs are rows `start..start+len`, targets the rows
/// one later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: u32,
    pub len: u32,
}

/// The window order of one epoch: a permutation drawn from `(seed, epoch)`.
pub fn epoch_order(windows: usize, seed: u64, epoch: usize) -> Vec<u32> {
    let mut order: Vec<u32> = (0..windows as u32).collect();
    let mut rng = StdRng::seed_from_u64(seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    order.shuffle(&mut rng);
    order
}

/// One batch: `(B, T, W)` inputs and targets (token ids as `u32`), and a `(B, T)` mask that is 1
/// on real pairs and 0 on padding.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub batch: usize,
    pub seq: usize,
    pub width: usize,
    pub inputs: Vec<u32>,
    pub targets: Vec<u32>,
    pub mask: Vec<f32>,
}

impl Batch {
    /// Number of real (unmasked) pairs.
    pub fn frames(&self) -> usize {
        self.mask.iter().filter(|&&m| m > 0.0).count()
    }
}

/// Assembles batch `index` of `order` (windows `order[index*B..]`, fewer in the last batch).
/// With `augment = Some((max_shift, seed))` each window is transposed by a shift drawn from
/// `(seed, window id)` within `-max_shift..=max_shift` and the window's room.
pub fn make_batch(
    set: &TokenSet,
    windows: &[Window],
    order: &[u32],
    index: usize,
    batch: usize,
    seq: usize,
    augment: Option<(i32, u64)>,
) -> Batch {
    let w = set.width();
    let ids = &order[(index * batch).min(order.len())..((index + 1) * batch).min(order.len())];
    let b = ids.len();
    let mut inputs = vec![0u32; b * seq * w];
    let mut targets = vec![0u32; b * seq * w];
    let mut mask = vec![0f32; b * seq];
    let mut rows = Vec::with_capacity((seq + 1) * w);
    for (bi, &id) in ids.iter().enumerate() {
        let win = windows[id as usize];
        let len = (win.len as usize).min(seq);
        rows.clear();
        rows.extend_from_slice(set.rows(win.start as usize, len + 1));
        if let Some((max_shift, seed)) = augment {
            let (down, up) = set.vocab.transpose_room(&rows);
            let lo = -(down.min(max_shift));
            let hi = up.min(max_shift);
            if lo < hi {
                let mut rng =
                    StdRng::seed_from_u64(seed ^ (id as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
                let shift = rng.random_range(lo..=hi);
                set.vocab.transpose(&mut rows, shift);
            }
        }
        for t in 0..len {
            let o = (bi * seq + t) * w;
            for k in 0..w {
                inputs[o + k] = rows[t * w + k] as u32;
                targets[o + k] = rows[(t + 1) * w + k] as u32;
            }
            mask[bi * seq + t] = 1.0;
        }
    }
    Batch {
        batch: b,
        seq,
        width: w,
        inputs,
        targets,
        mask,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::Voice;

    fn set() -> TokenSet {
        let a = Score::from_notes("a", 24.0, &[[60, 64, 48, 3], [62, 65, 50, 0], [0, 0, 0, 5]]);
        let b = Score::from_notes("b", 24.0, &[[40, 0, 30, 1]]);
        let vocab = Vocab::from_scores(&Voice::ALL, [&a, &b]).unwrap();
        TokenSet::from_scores(vocab, [&a, &b])
    }

    #[test]
    fn layout_marks_song_boundaries() {
        let s = set();
        assert_eq!(s.tokens.len(), (3 + 2 + 1 + 2) * 4);
        let bnd = s.vocab.boundary_row();
        assert_eq!(s.rows(0, 1), &bnd[..]);
        assert_eq!(s.rows(4, 1), &bnd[..]); // EOS of a
        assert_eq!(s.rows(5, 1), &bnd[..]); // BOS of b
        assert_eq!(s.songs[1].start, 5);
        assert_eq!(s.song_rows(1)[0], s.vocab.ranges[0].encode(40));
        assert_eq!(s.frames(), 4);
    }

    #[test]
    fn windows_cover_every_pair_once_and_mask_padding() {
        let s = set();
        let wins = s.windows(3);
        // a: 4 pairs -> 3 + 1; b: 2 pairs -> 2.
        assert_eq!(
            wins.iter().map(|w| w.len).collect::<Vec<_>>(),
            vec![3, 1, 2]
        );
        let order: Vec<u32> = (0..wins.len() as u32).collect();
        let b = make_batch(&s, &wins, &order, 0, 3, 3, None);
        assert_eq!(b.frames(), 6);
        assert_eq!(b.mask, vec![1., 1., 1., 1., 0., 0., 1., 1., 0.]);
        // Window 1 of song a: input is its last frame, target is EOS.
        let bnd = s.vocab.boundary_row();
        assert_eq!(b.targets[3 * 4] as u8, bnd[0]);
        assert_eq!(b.inputs[3 * 4 + 3] as u8, s.vocab.ranges[3].encode(5));
        // Targets are inputs shifted by one within a window.
        assert_eq!(b.inputs[4..8], b.targets[0..4]);
    }

    #[test]
    fn order_is_deterministic_per_seed_and_epoch() {
        let a = epoch_order(100, 7, 0);
        assert_eq!(a, epoch_order(100, 7, 0));
        assert_ne!(a, epoch_order(100, 7, 1));
        assert_ne!(a, epoch_order(100, 8, 0));
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..100).collect::<Vec<u32>>());
    }

    #[test]
    fn augmentation_shifts_pitched_voices_together() {
        let mut s = set();
        let wide = Vocab {
            voices: s.vocab.voices.clone(),
            ranges: Voice::ALL
                .iter()
                .map(|v| {
                    let (lo, hi) = v.note_range();
                    crate::learn::vocab::VoiceVocab { lo, hi }
                })
                .collect(),
        };
        let songs: Vec<Score> = vec![
            Score::from_notes("a", 24.0, &[[60, 64, 48, 3], [62, 65, 50, 0], [0, 0, 0, 5]]),
            Score::from_notes("b", 24.0, &[[100, 0, 30, 1]]),
        ];
        s = TokenSet::from_scores(wide, &songs);
        let wins = s.windows(8);
        let order: Vec<u32> = (0..wins.len() as u32).collect();
        let plain = make_batch(&s, &wins, &order, 0, 2, 8, None);
        let mut shifted_any = false;
        for seed in 0..20 {
            let aug = make_batch(&s, &wins, &order, 0, 2, 8, Some((6, seed)));
            assert_eq!(aug, make_batch(&s, &wins, &order, 0, 2, 8, Some((6, seed))));
            for (p, a) in plain.inputs.chunks(4).zip(aug.inputs.chunks(4)) {
                let bnd = s.vocab.boundary_row();
                if p[0] == 0 || p[0] == bnd[0] as u32 {
                    assert_eq!(p, a);
                    continue;
                }
                let d = a[0] as i32 - p[0] as i32;
                shifted_any |= d != 0;
                assert_eq!(a[2] as i32 - p[2] as i32, d, "triangle moves with pulse 1");
                assert_eq!(a[3], p[3], "noise is never transposed");
            }
        }
        assert!(shifted_any);
        // Song b's P1 (100) leaves 8 semitones of room upwards: never more.
        for seed in 0..50 {
            let aug = make_batch(&s, &wins, &order, 1, 1, 8, Some((12, seed)));
            let note = s.vocab.ranges[0].decode(aug.targets[0] as u8);
            assert!((88..=108).contains(&note), "{note}");
        }
    }
}
