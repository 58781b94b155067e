//! Training windows of event tokens, with LakhNES's augmentation done on the note matrix
//! before coding (so every augmented window is a well-formed event stream).
//!
//! Each song's token stream is cut into windows of `context + 1` tokens; a window remembers
//! the frame its first token falls on. An epoch visits every window once in an order drawn from
//! `(seed, epoch)`; a window is re-coded from its frame on after the augmentation of its step
//! (drawn from `(seed, step)`), so a resumed run sees exactly the batches of an unbroken one.

use crate::learn::data::coding::{self, Coding};
use crate::learn::data::events::EventVocab;
use crate::score::{Cell, Frame, Voice};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// LakhNES's augmentation (transpose, P1/P2 swap, tempo stretch, voice dropping).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Augment {
    /// Largest transposition in semitones (kept inside every voice's range).
    pub transpose: i32,
    /// Probability of swapping pulse 1 and pulse 2.
    pub swap: f32,
    /// Largest tempo stretch: the window's frames are resampled by a factor in `1 +- stretch`.
    pub stretch: f32,
    /// Probability of keeping only a random 1-3 of the four voices.
    pub drop: f32,
}

impl Augment {
    /// No augmentation.
    pub fn none() -> Augment {
        Augment {
            transpose: 0,
            swap: 0.0,
            stretch: 0.0,
            drop: 0.0,
        }
    }

    /// LakhNES's settings: +-6 semitones, swap p 0.5, stretch 0.95-1.05, drop p 0.5.
    pub fn lakhnes() -> Augment {
        Augment {
            transpose: 6,
            swap: 0.5,
            stretch: 0.05,
            drop: 0.5,
        }
    }

    /// Applies one draw of the augmentation to `frames` (a cell moves with its note: the
    /// swap exchanges the pulses' dynamics too, a dropped voice rests).
    pub fn apply(&self, frames: &[Frame], rng: &mut StdRng) -> Vec<Frame> {
        let mut out: Vec<Frame> = if self.stretch > 0.0 {
            let f = 1.0 + rng.random_range(-self.stretch..=self.stretch);
            let n = ((frames.len() as f32) * f).round() as usize;
            (0..n)
                .map(|i| frames[((i as f32 / f) as usize).min(frames.len() - 1)])
                .collect()
        } else {
            frames.to_vec()
        };
        if self.transpose > 0 {
            let (down, up) = transpose_room(&out);
            let lo = -(self.transpose.min(down));
            let hi = self.transpose.min(up);
            let shift = if lo < hi {
                rng.random_range(lo..=hi)
            } else {
                0
            };
            if shift != 0 {
                for f in &mut out {
                    for v in [Voice::Pulse1, Voice::Pulse2, Voice::Triangle] {
                        let n = &mut f[v.index()].note;
                        if *n != 0 {
                            *n = (*n as i32 + shift) as u8;
                        }
                    }
                }
            }
        }
        if self.swap > 0.0 && rng.random::<f32>() < self.swap {
            for f in &mut out {
                f.swap(0, 1);
            }
        }
        if self.drop > 0.0 && rng.random::<f32>() < self.drop {
            let keep_n = rng.random_range(1..=3);
            let mut order = [0usize, 1, 2, 3];
            order.shuffle(rng);
            let mut keep = [false; 4];
            for &v in &order[..keep_n] {
                keep[v] = true;
            }
            for f in &mut out {
                for v in 0..4 {
                    if !keep[v] {
                        f[v] = Cell::REST;
                    }
                }
            }
        }
        out
    }
}

/// Semitones the pitched voices of `frames` can move down and up and stay in range.
fn transpose_room(frames: &[Frame]) -> (i32, i32) {
    let (mut down, mut up) = (i32::MAX, i32::MAX);
    for f in frames {
        for v in [Voice::Pulse1, Voice::Pulse2, Voice::Triangle] {
            let n = f[v.index()].note;
            if n != 0 {
                let (lo, hi) = v.note_range();
                down = down.min(n as i32 - lo as i32);
                up = up.min(hi as i32 - n as i32);
            }
        }
    }
    (down, up)
}

/// A piece of one song: frames `frame..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    pub song: u32,
    pub frame: u32,
    pub end: u32,
}

/// One training window: pieces of consecutive songs whose codings together fill
/// `context + 1` tokens. Songs are packed back to back (each from its START) as in LakhNES's
/// token stream, so no window is mostly padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub pieces: Vec<Piece>,
}

/// Songs as frames of cells (leading and trailing silence trimmed), coded in one coding, and
/// their windows.
pub struct EventSet {
    pub coding: Coding,
    pub names: Vec<String>,
    pub songs: Vec<Vec<Frame>>,
    pub tokens: usize,
    pub frames: usize,
}

impl EventSet {
    /// The songs, coded once to count tokens. A song the coding cannot hold (a note outside
    /// its voice's range, a velocity on a rest) is an error naming the song.
    pub fn new(coding: Coding, songs: Vec<(String, Vec<Frame>)>) -> Result<EventSet, String> {
        let mut set = EventSet {
            coding,
            names: Vec::new(),
            songs: Vec::new(),
            tokens: 0,
            frames: 0,
        };
        for (name, notes) in songs {
            let notes = coding::trim_silence(&notes).to_vec();
            if notes.is_empty() {
                continue;
            }
            let tokens = coding
                .encode(&notes, true)
                .map_err(|e| format!("{name}: {e}"))?;
            set.tokens += tokens.len() - 1;
            set.frames += notes.len();
            set.names.push(name);
            set.songs.push(notes);
        }
        Ok(set)
    }

    /// Tokens per second of music (24 Hz frames), START not counted.
    pub fn tokens_per_second(&self) -> f64 {
        self.tokens as f64 / (self.frames as f64 / crate::score::NESMDB_RATE).max(1e-9)
    }

    /// The songs in order as one stream cut into windows of `context + 1` tokens, each window
    /// starting where the last one's targets ended (so every token but the first START is a
    /// target once per epoch). A piece that ends inside a song ends after the frame of the
    /// window's last token.
    pub fn windows(&self, context: usize) -> Vec<Window> {
        let mut out = Vec::new();
        let mut pieces = Vec::new();
        let mut room = context + 1;
        for (s, notes) in self.songs.iter().enumerate() {
            let tokens = self.coding.encode(notes, true).expect("checked in new");
            // before[i]: frames elapsed before token i.
            let mut before = Vec::with_capacity(tokens.len() + 1);
            let mut frame = 0usize;
            for &t in &tokens {
                before.push(frame);
                frame += Coding::frames(t);
            }
            before.push(frame);
            let mut i = 0;
            while i < tokens.len() {
                let take = room.min(tokens.len() - i);
                pieces.push(Piece {
                    song: s as u32,
                    frame: before[i] as u32,
                    end: (before[i + take] + 1).min(notes.len()) as u32,
                });
                room -= take;
                if room == 0 {
                    out.push(Window {
                        pieces: std::mem::take(&mut pieces),
                    });
                    // The next window starts with the last token of this one (its input).
                    i += take - 1;
                    room = context + 1;
                } else {
                    i += take;
                }
            }
        }
        if !pieces.is_empty() {
            out.push(Window { pieces });
        }
        out
    }

    /// The tokens of window `w` after augmentation (each piece drawn on its own): at most
    /// `context + 1`; a piece at frame 0 begins with its song's START.
    pub fn window_tokens(
        &self,
        w: &Window,
        context: usize,
        aug: &Augment,
        rng: &mut StdRng,
    ) -> Vec<u16> {
        let mut tokens = Vec::with_capacity(context + 1);
        for p in &w.pieces {
            let notes = &self.songs[p.song as usize];
            let (start, end) = (p.frame as usize, p.end as usize);
            let frames = aug.apply(&notes[start..end], rng);
            let whole = start == 0;
            let mut piece = self.coding.encode(&frames, whole).unwrap_or_else(|_| {
                // Augmentation keeps notes in range; should it not, the plain piece.
                self.coding
                    .encode(&notes[start..end], whole)
                    .expect("checked in new")
            });
            if !whole && tokens.is_empty() && piece.first().is_some_and(|&t| Coding::frames(t) > 0)
            {
                // A window that starts inside a song starts at an event, not mid-wait.
                piece.remove(0);
            }
            if end < notes.len() {
                // The piece's closing wait is cut short by the piece's end, not the song's:
                // drop it so no target lies about time. (Whole songs keep waits and END.)
                while piece.last().is_some_and(|&t| Coding::frames(t) > 0) {
                    piece.pop();
                }
            } else if !whole {
                // The tail of a song, coded as an excerpt: close it as the song closes.
                piece.push(EventVocab::END);
            }
            tokens.extend(piece);
        }
        tokens.truncate(context + 1);
        tokens
    }
}

/// A batch: inputs and targets `[batch, context]` and the mask of real targets.
pub struct TokenBatch {
    pub batch: usize,
    pub context: usize,
    pub inputs: Vec<u32>,
    pub targets: Vec<u32>,
    pub mask: Vec<f32>,
}

impl TokenBatch {
    /// Targets that count.
    pub fn count(&self) -> usize {
        self.mask.iter().filter(|&&m| m > 0.0).count()
    }
}

/// Rows padded to `context` (pad id 0 = START, masked out).
pub fn make_batch(rows: &[Vec<u16>], context: usize) -> TokenBatch {
    let mut b = TokenBatch {
        batch: rows.len(),
        context,
        inputs: vec![0; rows.len() * context],
        targets: vec![0; rows.len() * context],
        mask: vec![0.0; rows.len() * context],
    };
    for (r, row) in rows.iter().enumerate() {
        for i in 0..row.len().saturating_sub(1).min(context) {
            b.inputs[r * context + i] = row[i] as u32;
            b.targets[r * context + i] = row[i + 1] as u32;
            b.mask[r * context + i] = 1.0;
        }
    }
    b
}

/// The window order of `epoch`.
pub fn epoch_order(windows: usize, seed: u64, epoch: usize) -> Vec<u32> {
    let mut order: Vec<u32> = (0..windows as u32).collect();
    let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ epoch as u64);
    order.shuffle(&mut rng);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn song(n: usize) -> Vec<Frame> {
        let notes: Vec<[u8; 4]> = (0..n)
            .map(|i| {
                [
                    40 + (i / 3 % 12) as u8,
                    0,
                    30 + (i / 7 % 5) as u8,
                    (i % 2 * 3) as u8,
                ]
            })
            .collect();
        coding::frames_of_notes(&notes)
    }

    fn encode(frames: &[Frame]) -> Vec<u16> {
        Coding::Notes.encode(frames, true).unwrap()
    }

    #[test]
    fn windows_cover_every_token_once() {
        let set = EventSet::new(
            Coding::Notes,
            vec![("a".into(), song(500)), ("b".into(), song(90))],
        )
        .unwrap();
        let context = 64;
        let windows = set.windows(context);
        let mut rng = StdRng::seed_from_u64(1);
        let mut targets = 0;
        for w in &windows {
            let t = set.window_tokens(w, context, &Augment::none(), &mut rng);
            assert!(t.len() <= context + 1);
            targets += t.len() - 1;
        }
        // Every target of the stream, give or take the waits cut at window edges.
        let slack = 3 * windows.len();
        assert!(
            targets <= set.tokens + slack && targets + slack >= set.tokens,
            "{targets} {}",
            set.tokens
        );
        // The first window is the first song's coding's first context + 1 tokens.
        let first = set.window_tokens(&windows[0], context, &Augment::none(), &mut rng);
        let whole = encode(&set.songs[0]);
        assert_eq!(first, whole[..context + 1]);
        // Short songs are packed whole, back to back.
        let set = EventSet::new(
            Coding::Notes,
            vec![("a".into(), song(10)), ("b".into(), song(12))],
        )
        .unwrap();
        let windows = set.windows(200);
        assert_eq!(windows.len(), 1);
        let mut both = encode(&set.songs[0]);
        both.extend(encode(&set.songs[1]));
        assert_eq!(
            set.window_tokens(&windows[0], 200, &Augment::none(), &mut rng),
            both
        );
    }

    #[test]
    fn augmentation_keeps_voices_in_range_and_changes_something() {
        let aug = Augment::lakhnes();
        let notes = song(300);
        let mut changed = 0;
        for seed in 0..20 {
            let mut rng = StdRng::seed_from_u64(seed);
            let out = aug.apply(&notes, &mut rng);
            assert!(Coding::Notes.encode(&out, true).is_ok());
            let ratio = out.len() as f32 / notes.len() as f32;
            assert!((0.94..=1.06).contains(&ratio), "{ratio}");
            changed += (out != notes) as usize;
        }
        assert!(changed >= 15, "{changed}");
    }

    #[test]
    fn batches_mask_padding() {
        let b = make_batch(&[vec![0, 5, 6, 7], vec![0, 9]], 4);
        assert_eq!(b.inputs, vec![0, 5, 6, 0, 0, 0, 0, 0]);
        assert_eq!(b.targets, vec![5, 6, 7, 0, 9, 0, 0, 0]);
        assert_eq!(b.count(), 4);
    }
}
