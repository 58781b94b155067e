//! The training dataset: every song's tokens in one compact `u8` buffer, cut into windows that
//! batches index into, so no batch ever copies more than itself.
//!
//! Layout: each song is stored as a BOS row (every voice's boundary token), its frames, and an
//! EOS row (boundary tokens again); a row is one token per modelled voice. A song of `N` frames
//! gives `N + 1` (input, target) pairs: BOS -> frame 0, ..., frame N-1 -> EOS. Windows of `seq`
//! pairs are cut from each song's start; the last window of a song is shorter and its padding is
//! masked out of the loss. Two ways to batch them:
//!
//! - **State reset per window** ([`epoch_order`], [`make_batch`]): windows are shuffled across
//!   songs, which decorrelates a batch, and the LSTM state starts from zero at every window, so
//!   the model never sees more than `seq` frames of context.
//! - **State carried across windows** ([`LanePlan`], [`make_lane_batch`]): each of the `B` batch
//!   rows (lanes) plays whole songs, window after window, and training hands the state at the end
//!   of one window to the next window of the same lane (truncated BPTT in the classic sense:
//!   gradients stop at the window edge, context does not). Songs are shuffled and dealt to
//!   lanes; the state is reset only at a song's first window. A model trained so keeps its key
//!   and groove over a whole song instead of the last `seq` frames.
//!
//! Shuffling is a permutation drawn from `(seed, epoch)`, and a batch is a pure function of
//! `(order or plan, batch index)`, so a resumed run sees exactly the batches of an uninterrupted
//! one. Transposition augmentation shifts the pulses and the triangle together by a random
//! number of semitones that keeps every note inside its range (noise is unpitched): per window
//! when the state is reset, per song when it is carried.

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
        for (song, s) in self.songs.iter().enumerate() {
            let pairs = s.frames + 1;
            let mut off = 0;
            while off < pairs {
                let len = seq.min(pairs - off);
                out.push(Window {
                    start: (s.start + off) as u32,
                    len: len as u32,
                    song: song as u32,
                    first: off == 0,
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
    /// Index of the song in [`TokenSet::songs`].
    pub song: u32,
    /// Whether the window starts at the song's BOS row.
    pub first: bool,
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
    let ids = &order[(index * batch).min(order.len())..((index + 1) * batch).min(order.len())];
    let mut b = Batch::empty(ids.len(), seq, set.width());
    let mut rows = Vec::with_capacity((seq + 1) * set.width());
    for (bi, &id) in ids.iter().enumerate() {
        let win = windows[id as usize];
        let len = (win.len as usize).min(seq);
        rows.clear();
        rows.extend_from_slice(set.rows(win.start as usize, len + 1));
        if let Some((max_shift, seed)) = augment {
            let (down, up) = set.vocab.transpose_room(&rows);
            set.vocab
                .transpose(&mut rows, draw_shift(down, up, max_shift, seed, id as u64));
        }
        b.fill_row(bi, &rows, len);
    }
    b
}

/// A shift in `-min(down, max)..=min(up, max)` drawn from `(seed, key)` (0 when there is no
/// room).
fn draw_shift(down: i32, up: i32, max_shift: i32, seed: u64, key: u64) -> i32 {
    let lo = -(down.min(max_shift));
    let hi = up.min(max_shift);
    if lo >= hi {
        return 0;
    }
    let mut rng = StdRng::seed_from_u64(seed ^ key.wrapping_mul(0xD1B5_4A32_D192_ED03));
    rng.random_range(lo..=hi)
}

impl Batch {
    fn empty(batch: usize, seq: usize, width: usize) -> Batch {
        Batch {
            batch,
            seq,
            width,
            inputs: vec![0; batch * seq * width],
            targets: vec![0; batch * seq * width],
            mask: vec![0.0; batch * seq],
        }
    }

    /// Row `bi` from `len + 1` token rows: pair `t` is rows `t -> t + 1`.
    fn fill_row(&mut self, bi: usize, rows: &[u8], len: usize) {
        let (w, seq) = (self.width, self.seq);
        for t in 0..len {
            let o = (bi * seq + t) * w;
            for k in 0..w {
                self.inputs[o + k] = rows[t * w + k] as u32;
                self.targets[o + k] = rows[(t + 1) * w + k] as u32;
            }
            self.mask[bi * seq + t] = 1.0;
        }
    }
}

/// The longest run of windows a lane plays with its state carried: longer songs are cut into
/// runs of this many windows (the state is reset at each cut). 32 windows of 64 frames is 85 s
/// of music at 24 Hz, more context than a song's key and groove need, and short enough that
/// runs can be dealt evenly to the lanes: a lane that ran on alone for hundreds of steps at
/// the end of an epoch would train the model on one song (it did, before the cut, and the
/// validation NLL doubled).
pub const MAX_RUN_WINDOWS: usize = 32;

/// One lane's window at one step of a [`LanePlan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaneWindow {
    /// Index into the windows the plan was made from.
    pub id: u32,
    /// The state starts from zero here (a song's first window or a cut of a long song).
    pub reset: bool,
}

/// Songs dealt to `lanes` batch rows for training with the state carried across windows:
/// `steps[i][lane]` is the window that lane plays at batch `i` (`None` once the lane has run
/// out of songs; such rows are fully masked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanePlan {
    pub steps: Vec<Vec<Option<LaneWindow>>>,
}

impl LanePlan {
    /// Cuts every song into runs of at most `max_run` windows, deals the runs to the lanes
    /// longest first, each to the lane with the fewest windows so far (so lanes end within a
    /// run of each other), then orders each lane's runs by a permutation drawn from
    /// `(seed, epoch)` (`seed = None`: runs in set order, no shuffling, for validation).
    pub fn new(
        windows: &[Window],
        lanes: usize,
        max_run: usize,
        seed: Option<u64>,
        epoch: usize,
    ) -> LanePlan {
        let lanes = lanes.max(1);
        let max_run = max_run.max(1);
        // Windows are in song order; a run is a range of them within one song.
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for (i, w) in windows.iter().enumerate() {
            match runs.last_mut() {
                Some((start, end)) if !w.first && *end - *start < max_run => *end = i + 1,
                _ => runs.push((i, i + 1)),
            }
        }
        let mut dealt: Vec<usize> = (0..runs.len()).collect();
        if seed.is_none() {
            // Validation: whole songs in order, dealt round-robin by length.
            dealt.sort_by_key(|&r| std::cmp::Reverse(runs[r].1 - runs[r].0));
        } else {
            dealt.sort_by_key(|&r| (std::cmp::Reverse(runs[r].1 - runs[r].0), r));
        }
        let mut lane_runs: Vec<Vec<usize>> = vec![Vec::new(); lanes];
        let mut load = vec![0usize; lanes];
        for r in dealt {
            let lane = (0..lanes).min_by_key(|&l| (load[l], l)).unwrap_or(0);
            load[lane] += runs[r].1 - runs[r].0;
            lane_runs[lane].push(r);
        }
        for (lane, list) in lane_runs.iter_mut().enumerate() {
            match seed {
                Some(seed) => {
                    let key = seed ^ (lane as u64 + 1).wrapping_mul(0x6C61_6E65_0000_0001);
                    let order = epoch_order(list.len(), key, epoch);
                    *list = order.iter().map(|&k| list[k as usize]).collect();
                }
                None => list.sort_unstable(),
            }
        }
        let lane_windows: Vec<Vec<LaneWindow>> = lane_runs
            .iter()
            .map(|list| {
                list.iter()
                    .flat_map(|&r| {
                        let (a, b) = runs[r];
                        (a..b).map(move |i| LaneWindow {
                            id: i as u32,
                            reset: i == a,
                        })
                    })
                    .collect()
            })
            .collect();
        let n = lane_windows.iter().map(Vec::len).max().unwrap_or(0);
        let steps = (0..n)
            .map(|i| lane_windows.iter().map(|l| l.get(i).copied()).collect())
            .collect();
        LanePlan { steps }
    }
}

/// Batch `index` of `plan`: one row per lane. With `augment = Some((max_shift, seed))` every
/// window of a song is transposed by the same shift, drawn from `(seed, song)` within the whole
/// song's room.
pub fn make_lane_batch(
    set: &TokenSet,
    windows: &[Window],
    plan: &LanePlan,
    index: usize,
    seq: usize,
    augment: Option<(i32, u64)>,
) -> Batch {
    let lanes = &plan.steps[index];
    let mut b = Batch::empty(lanes.len(), seq, set.width());
    let mut rows = Vec::with_capacity((seq + 1) * set.width());
    for (bi, lw) in lanes.iter().enumerate() {
        let Some(lw) = lw else { continue };
        let win = windows[lw.id as usize];
        let len = (win.len as usize).min(seq);
        rows.clear();
        rows.extend_from_slice(set.rows(win.start as usize, len + 1));
        if let Some((max_shift, seed)) = augment {
            let song = &set.songs[win.song as usize];
            let (down, up) = set
                .vocab
                .transpose_room(set.rows(song.start, song.frames + 2));
            set.vocab.transpose(
                &mut rows,
                draw_shift(down, up, max_shift, seed, win.song as u64),
            );
        }
        b.fill_row(bi, &rows, len);
    }
    b
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

    /// Lanes: every window once, each run of a song in order in one lane, resets exactly at
    /// song starts and every `max_run` windows, lanes balanced within one run, the deal a pure
    /// function of (seed, epoch).
    #[test]
    fn lane_plan_deals_runs_of_songs() {
        let songs: Vec<Score> = (0..23)
            .map(|i| {
                let notes: Vec<[u8; 4]> = (0..(3 + (i * 7) % 40))
                    .map(|f| [60 + (f % 5) as u8, 0, 48, 1])
                    .collect();
                Score::from_notes(format!("s{i}"), 24.0, &notes)
            })
            .collect();
        let vocab = Vocab::from_scores(&Voice::ALL, &songs).unwrap();
        let set = TokenSet::from_scores(vocab, &songs);
        let wins = set.windows(4);
        let max_run = 3;
        let plan = LanePlan::new(&wins, 5, max_run, Some(9), 0);
        assert_eq!(plan, LanePlan::new(&wins, 5, max_run, Some(9), 0));
        assert_ne!(plan, LanePlan::new(&wins, 5, max_run, Some(9), 1));
        let mut seen = vec![0; wins.len()];
        let mut lane_len = vec![0usize; 5];
        for lane in 0..5 {
            let got: Vec<LaneWindow> = plan.steps.iter().filter_map(|s| s[lane]).collect();
            // Nones only at the end of a lane.
            assert!(plan.steps[..got.len()].iter().all(|s| s[lane].is_some()));
            lane_len[lane] = got.len();
            let mut run = 0;
            for (k, lw) in got.iter().enumerate() {
                seen[lw.id as usize] += 1;
                let w = wins[lw.id as usize];
                run = if lw.reset { 1 } else { run + 1 };
                assert!(run <= max_run);
                if w.first {
                    assert!(lw.reset, "a song starts from a zero state");
                    assert_eq!(w.start as usize, set.songs[w.song as usize].start);
                }
                if !lw.reset {
                    // A run's later window follows its predecessor in the same lane.
                    assert_eq!(got[k - 1].id, lw.id - 1);
                    assert_eq!(wins[lw.id as usize - 1].song, w.song);
                } else if !w.first {
                    // A cut: the previous window of the song filled a whole run.
                    let before = wins[..lw.id as usize]
                        .iter()
                        .rev()
                        .take_while(|v| v.song == w.song)
                        .count();
                    assert_eq!(before % max_run, 0);
                }
            }
        }
        assert!(seen.iter().all(|&n| n == 1), "every window exactly once");
        let spread = lane_len.iter().max().unwrap() - lane_len.iter().min().unwrap();
        assert!(spread <= max_run, "{lane_len:?}");
        // Validation: whole songs, never cut, in set order within a lane.
        let whole = LanePlan::new(&wins, 5, usize::MAX, None, 0);
        let resets: usize = whole
            .steps
            .iter()
            .flatten()
            .flatten()
            .filter(|l| l.reset)
            .count();
        assert_eq!(resets, set.songs.len());
        // A lane batch puts each lane's window in its own row.
        let b = make_lane_batch(&set, &wins, &plan, 0, 4, None);
        assert_eq!(b.batch, 5);
        for (lane, lw) in plan.steps[0].iter().enumerate() {
            let w = wins[lw.unwrap().id as usize];
            let want = set.rows(w.start as usize, 1);
            let got: Vec<u8> = b.inputs[lane * 16..lane * 16 + 4]
                .iter()
                .map(|&t| t as u8)
                .collect();
            assert_eq!(got, want);
        }
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
                    crate::learn::data::vocab::VoiceVocab { lo, hi }
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
