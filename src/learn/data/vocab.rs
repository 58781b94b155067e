//! Per-voice token vocabularies.
//!
//! Each voice's notes are mapped to a contiguous token range counted from the training data:
//! token 0 is the rest, tokens `1..=hi-lo+1` are the notes `lo..=hi` that the training split
//! holds (NES-MDB: P1/P2 33..108 = 77 values with the rest, TR 21..108 = 89, NO 1..16 = 17), and
//! one more token, [`VoiceVocab::boundary`], marks a song boundary: it is the input of the first step
//! (BOS) and the target after the last frame (EOS). The ranges are stored in the model's
//! `config.json`, so a model always decodes with the vocabulary it was trained with.
//!
//! A note outside the trained range (a test song may hold one the train split never does) is
//! moved by octaves into the range, so every song can be encoded; pitch class is kept.

use crate::error::{Error, Result};
use crate::score::{Score, Voice};
use serde::{Deserialize, Serialize};

/// Note range of one voice, as counted from data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoiceVocab {
    /// Lowest sounding note seen.
    pub lo: u8,
    /// Highest sounding note seen.
    pub hi: u8,
}

impl VoiceVocab {
    /// Number of note tokens including the rest (not counting the boundary token).
    pub fn notes(&self) -> usize {
        (self.hi - self.lo) as usize + 2
    }

    /// Number of tokens including the boundary token.
    pub fn size(&self) -> usize {
        self.notes() + 1
    }

    /// The boundary (BOS/EOS) token.
    pub fn boundary(&self) -> u8 {
        (self.notes()) as u8
    }

    /// Token of a note (0 = rest); notes outside `lo..=hi` move by octaves into the range.
    pub fn encode(&self, note: u8) -> u8 {
        if note == 0 {
            return 0;
        }
        let mut n = note as i32;
        while n < self.lo as i32 {
            n += 12;
        }
        while n > self.hi as i32 {
            n -= 12;
        }
        // A range narrower than an octave can still miss; clamp then.
        let n = n.clamp(self.lo as i32, self.hi as i32);
        (n - self.lo as i32 + 1) as u8
    }

    /// Note of a token; the boundary token and anything past it decode as a rest.
    pub fn decode(&self, token: u8) -> u8 {
        if token == 0 || token as usize >= self.notes() {
            0
        } else {
            self.lo + token - 1
        }
    }
}

/// The vocabularies of the voices a model sees, in score order (one voice for the reduced
/// model, four for the full one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vocab {
    /// Voices modelled, in the order they are predicted within a frame.
    pub voices: Vec<VoiceName>,
    /// One range per modelled voice.
    pub ranges: Vec<VoiceVocab>,
}

/// A voice as written in JSON (`"p1"`, `"p2"`, `"tr"`, `"no"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VoiceName {
    P1,
    P2,
    Tr,
    No,
}

impl VoiceName {
    /// The score voice.
    pub fn voice(self) -> Voice {
        match self {
            VoiceName::P1 => Voice::Pulse1,
            VoiceName::P2 => Voice::Pulse2,
            VoiceName::Tr => Voice::Triangle,
            VoiceName::No => Voice::Noise,
        }
    }

    /// From a score voice.
    pub fn of(voice: Voice) -> VoiceName {
        [VoiceName::P1, VoiceName::P2, VoiceName::Tr, VoiceName::No][voice.index()]
    }
}

impl Vocab {
    /// Counts the note range of each of `voices` over `scores`. A voice that never sounds gets
    /// its hardware range, so the vocabulary is never empty.
    pub fn from_scores<'a>(
        voices: &[Voice],
        scores: impl IntoIterator<Item = &'a Score>,
    ) -> Result<Vocab> {
        Vocab::from_notes(
            voices,
            scores.into_iter().flat_map(|s| s.note_matrix().into_iter()),
        )
    }

    /// Counts the note range of each of `voices` over frames of notes `[p1, p2, tr, no]`.
    pub fn from_notes(
        voices: &[Voice],
        frames: impl IntoIterator<Item = [u8; 4]>,
    ) -> Result<Vocab> {
        if voices.is_empty() {
            return Err(Error::Unsupported(
                "a vocabulary needs at least one voice".into(),
            ));
        }
        let mut lo = [u8::MAX; 4];
        let mut hi = [0u8; 4];
        for frame in frames {
            for v in voices {
                let n = frame[v.index()];
                if n != 0 {
                    lo[v.index()] = lo[v.index()].min(n);
                    hi[v.index()] = hi[v.index()].max(n);
                }
            }
        }
        let ranges = voices
            .iter()
            .map(|v| {
                let i = v.index();
                let (l, h) = v.note_range();
                if lo[i] > hi[i] {
                    VoiceVocab { lo: l, hi: h }
                } else {
                    // Clamped to the hardware range so a checked vocabulary always loads.
                    VoiceVocab {
                        lo: lo[i].clamp(l, h),
                        hi: hi[i].clamp(l, h),
                    }
                }
            })
            .collect();
        Ok(Vocab {
            voices: voices.iter().map(|v| VoiceName::of(*v)).collect(),
            ranges,
        })
    }

    /// Number of modelled voices.
    pub fn len(&self) -> usize {
        self.voices.len()
    }

    /// Whether no voice is modelled (never true for a checked vocabulary).
    pub fn is_empty(&self) -> bool {
        self.voices.is_empty()
    }

    /// Checks a vocabulary read from a file: voices distinct, ranges inside the hardware's.
    pub fn check(&self, path: &std::path::Path) -> Result<()> {
        if self.voices.is_empty() || self.voices.len() != self.ranges.len() {
            return Err(Error::format(
                path,
                "vocabulary: voices and ranges differ in count",
            ));
        }
        for (i, (v, r)) in self.voices.iter().zip(&self.ranges).enumerate() {
            if self.voices[..i].contains(v) {
                return Err(Error::format(
                    path,
                    format!("vocabulary: voice {v:?} twice"),
                ));
            }
            let (lo, hi) = v.voice().note_range();
            if r.lo < lo || r.hi > hi || r.lo > r.hi {
                return Err(Error::format(
                    path,
                    format!(
                        "vocabulary: {} range {}..{} is outside {lo}..{hi}",
                        v.voice().label(),
                        r.lo,
                        r.hi
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Tokens of one frame for the modelled voices.
    pub fn encode_frame(&self, frame: &crate::score::Frame) -> Vec<u8> {
        self.voices
            .iter()
            .zip(&self.ranges)
            .map(|(v, r)| r.encode(frame[v.voice().index()].note))
            .collect()
    }

    /// Boundary tokens of all modelled voices.
    pub fn boundary_row(&self) -> Vec<u8> {
        self.ranges.iter().map(|r| r.boundary()).collect()
    }

    /// Notes of the frames of token `rows` (width [`Vocab::len`]), each in its voice's slot of
    /// the score's four; voices the vocabulary does not model rest.
    pub fn decode_rows(&self, rows: &[u8]) -> Vec<[u8; 4]> {
        rows.chunks_exact(self.len())
            .map(|row| {
                let mut notes = [0u8; 4];
                for ((&token, name), range) in row.iter().zip(&self.voices).zip(&self.ranges) {
                    notes[name.voice().index()] = range.decode(token);
                }
                notes
            })
            .collect()
    }

    /// Largest transposition (semitones, down and up) that keeps every sounding pitched token
    /// of `rows` (width [`Vocab::len`]) inside its range. Noise is never transposed.
    pub fn transpose_room(&self, rows: &[u8]) -> (i32, i32) {
        let w = self.len();
        let mut down = i32::MAX;
        let mut up = i32::MAX;
        for row in rows.chunks_exact(w) {
            for (k, (&t, r)) in row.iter().zip(&self.ranges).enumerate() {
                if self.voices[k] == VoiceName::No || t == 0 || t >= r.boundary() {
                    continue;
                }
                down = down.min(t as i32 - 1);
                up = up.min(r.notes() as i32 - 1 - t as i32);
            }
        }
        (down, up)
    }

    /// Transposes pitched tokens of `rows` by `shift` semitones (callers check the room first).
    pub fn transpose(&self, rows: &mut [u8], shift: i32) {
        let w = self.len();
        for row in rows.chunks_exact_mut(w) {
            for (k, t) in row.iter_mut().enumerate() {
                let r = self.ranges[k];
                if self.voices[k] == VoiceName::No || *t == 0 || *t >= r.boundary() {
                    continue;
                }
                *t = (*t as i32 + shift) as u8;
            }
        }
    }
}

#[cfg(test)]
impl Vocab {
    /// The four voices in score order with these `(lo, hi)` note ranges.
    pub(crate) fn four_voices(ranges: [(u8, u8); 4]) -> Vocab {
        Vocab {
            voices: Voice::ALL.iter().map(|v| VoiceName::of(*v)).collect(),
            ranges: ranges.map(|(lo, hi)| VoiceVocab { lo, hi }).to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_ranges_and_round_trips() {
        let s = Score::from_notes("t", 24.0, &[[33, 0, 21, 1], [108, 60, 108, 16]]);
        let v = Vocab::from_scores(&Voice::ALL, [&s]).unwrap();
        assert_eq!(v.ranges[0], VoiceVocab { lo: 33, hi: 108 });
        assert_eq!(v.ranges[0].notes(), 77);
        assert_eq!(v.ranges[1], VoiceVocab { lo: 60, hi: 60 });
        assert_eq!(v.ranges[2].notes(), 89);
        assert_eq!(v.ranges[3].notes(), 17);
        assert_eq!(v.ranges[3].boundary(), 17);
        for n in [0u8, 33, 70, 108] {
            assert_eq!(v.ranges[0].decode(v.ranges[0].encode(n)), n);
        }
        // Outside the range: moved by octaves, pitch class kept.
        assert_eq!(v.ranges[0].decode(v.ranges[0].encode(32)), 44);
        assert_eq!(v.ranges[0].decode(v.ranges[0].boundary()), 0);
    }

    #[test]
    fn transposition_stays_in_range() {
        let s = Score::from_notes("t", 24.0, &[[40, 50, 30, 5], [100, 60, 90, 5]]);
        let v = Vocab::four_voices([(33, 108), (33, 108), (21, 108), (1, 16)]);
        let mut rows: Vec<u8> = s.frames.iter().flat_map(|f| v.encode_frame(f)).collect();
        assert_eq!(v.transpose_room(&rows), (7, 8));
        v.transpose(&mut rows, -7);
        let notes: Vec<u8> = rows
            .chunks(4)
            .flat_map(|r| (0..4).map(move |k| (k, r[k])))
            .map(|(k, t)| v.ranges[k].decode(t))
            .collect();
        assert_eq!(notes, vec![33, 43, 23, 5, 93, 53, 83, 5]);
    }
}
