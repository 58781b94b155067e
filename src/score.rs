//! The score: what every format reads into and every later stage starts from.
//!
//! A [`Score`] is four voices (pulse 1, pulse 2, triangle, noise) sampled at a fixed frame rate
//! (24 Hz in NES-MDB). Each frame of each voice is a [`Cell`]: a note, a velocity and a timbre,
//! exactly the triple of NES-MDB's exprsco format. A seprsco song is a score whose velocities and
//! timbres are the defaults ([`Score::expressive`] is false).

use crate::error::{Error, Result};

/// The four NES voices a score holds, in NES-MDB's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Voice {
    Pulse1 = 0,
    Pulse2 = 1,
    Triangle = 2,
    Noise = 3,
}

impl Voice {
    /// All voices in score order.
    pub const ALL: [Voice; 4] = [Voice::Pulse1, Voice::Pulse2, Voice::Triangle, Voice::Noise];

    /// Short name as NES-MDB writes it (`p1`, `p2`, `tr`, `no`).
    pub fn short_name(self) -> &'static str {
        ["p1", "p2", "tr", "no"][self as usize]
    }

    /// Upper-case label used in messages (`P1`, `P2`, `TR`, `NO`).
    pub fn label(self) -> &'static str {
        ["P1", "P2", "TR", "NO"][self as usize]
    }

    /// Index 0..4 in score order.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Lowest and highest sounding note value (0 is always the rest).
    ///
    /// Pulses: MIDI 32..108 (below 33 the NTSC timer exceeds $7FF only by rounding; NES-MDB holds
    /// 33..108). Triangle: MIDI 21..108. Noise: 1..16, which is `16 - period index`.
    pub fn note_range(self) -> (u8, u8) {
        match self {
            Voice::Pulse1 | Voice::Pulse2 => (32, 108),
            Voice::Triangle => (21, 108),
            Voice::Noise => (1, 16),
        }
    }

    /// Highest timbre value: pulse duty 0..3, noise mode 0..1, triangle none.
    pub fn max_timbre(self) -> u8 {
        match self {
            Voice::Pulse1 | Voice::Pulse2 => 3,
            Voice::Triangle => 0,
            Voice::Noise => 1,
        }
    }

    /// Whether the voice has a volume (the triangle has none).
    pub fn has_velocity(self) -> bool {
        self != Voice::Triangle
    }
}

/// One voice in one frame: NES-MDB's (note, velocity, timbre) triple.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Cell {
    /// 0 = rest; MIDI note for pulses and triangle; 1..16 for noise.
    pub note: u8,
    /// 0..15; 0 whenever the note is 0; always 0 on the triangle.
    pub velocity: u8,
    /// Pulse duty 0..3, noise mode 0..1, 0 on the triangle.
    pub timbre: u8,
}

impl Cell {
    /// A silent cell.
    pub const REST: Cell = Cell {
        note: 0,
        velocity: 0,
        timbre: 0,
    };

    /// The cell (note, velocity, timbre).
    pub const fn new(note: u8, velocity: u8, timbre: u8) -> Cell {
        Cell {
            note,
            velocity,
            timbre,
        }
    }

    /// A cell as a seprsco note implies it: velocity 15 on P1, P2 and NO when sounding (the
    /// NES-MDB default), timbre 0.
    pub fn from_note(voice: Voice, note: u8) -> Cell {
        let velocity = if note != 0 && voice.has_velocity() {
            15
        } else {
            0
        };
        Cell {
            note,
            velocity,
            timbre: 0,
        }
    }

    /// Whether the cell sounds.
    pub fn is_rest(&self) -> bool {
        self.note == 0
    }
}

/// One frame of all four voices, in score order.
pub type Frame = [Cell; 4];

/// A four-voice NES score at a fixed frame rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// Song name (NES-MDB file stem for dataset songs).
    pub name: String,
    /// Frames per second (24.0 for NES-MDB).
    pub rate: f64,
    /// Whether velocities and timbres carry information (exprsco, MIDI with CC11/CC12). When
    /// false, the compiler gives each voice a default instrument instead.
    pub expressive: bool,
    /// Frames in time order.
    pub frames: Vec<Frame>,
    /// Length of the source recording in 44.1 kHz samples, when known (the pickle's `nsamps`).
    pub source_samples: Option<u64>,
    /// Frame the song loops back to after its end; `None` plays it once and stops.
    pub loop_frame: Option<usize>,
}

/// NES-MDB's frame rate.
pub const NESMDB_RATE: f64 = 24.0;

impl Score {
    /// An empty score at `rate` frames per second.
    pub fn new(name: impl Into<String>, rate: f64) -> Score {
        Score {
            name: name.into(),
            rate,
            expressive: false,
            frames: Vec::new(),
            source_samples: None,
            loop_frame: None,
        }
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether the score has no frames.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Duration in seconds.
    pub fn duration_secs(&self) -> f64 {
        self.frames.len() as f64 / self.rate
    }

    /// The notes of one voice, frame by frame.
    pub fn notes(&self, voice: Voice) -> impl Iterator<Item = u8> + '_ {
        self.frames.iter().map(move |f| f[voice.index()].note)
    }

    /// Checks every cell against its voice's ranges. The error names song, frame, voice and value.
    pub fn validate(&self) -> Result<()> {
        if !(self.rate.is_finite() && self.rate > 0.0 && self.rate <= 1000.0) {
            return Err(Error::Unsupported(format!(
                "song '{}': frame rate {} Hz is not in 0..1000",
                self.name, self.rate
            )));
        }
        if let Some(l) = self.loop_frame {
            if l >= self.frames.len().max(1) {
                return Err(Error::Unsupported(format!(
                    "song '{}': loop frame {l} is past the end ({} frames)",
                    self.name,
                    self.frames.len()
                )));
            }
        }
        for (i, frame) in self.frames.iter().enumerate() {
            for voice in Voice::ALL {
                let c = frame[voice.index()];
                let bad = |what: String| Error::Invalid {
                    song: self.name.clone(),
                    frame: i,
                    voice: voice.label(),
                    what,
                };
                let (lo, hi) = voice.note_range();
                if c.note != 0 && !(lo..=hi).contains(&c.note) {
                    return Err(bad(format!(
                        "note {} is outside {lo}..{hi} (0 = rest)",
                        c.note
                    )));
                }
                if c.velocity > 15 {
                    return Err(bad(format!("velocity {} is outside 0..15", c.velocity)));
                }
                if !voice.has_velocity() && c.velocity != 0 {
                    return Err(bad(format!(
                        "velocity {} on the triangle, which has no volume (must be 0)",
                        c.velocity
                    )));
                }
                if c.note == 0 && c.velocity != 0 {
                    return Err(bad(format!(
                        "velocity {} on a rest (must be 0)",
                        c.velocity
                    )));
                }
                if c.timbre > voice.max_timbre() {
                    return Err(bad(format!(
                        "timbre {} is outside 0..{}",
                        c.timbre,
                        voice.max_timbre()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Builds a seprsco-style score from per-frame notes `[p1, p2, tr, no]`.
    pub fn from_notes(name: impl Into<String>, rate: f64, notes: &[[u8; 4]]) -> Score {
        let mut s = Score::new(name, rate);
        s.frames = notes
            .iter()
            .map(|n| {
                let mut f = [Cell::REST; 4];
                for v in Voice::ALL {
                    f[v.index()] = Cell::from_note(v, n[v.index()]);
                }
                f
            })
            .collect();
        s
    }

    /// The notes of every frame (the seprsco view of the score).
    pub fn note_matrix(&self) -> Vec<[u8; 4]> {
        self.frames
            .iter()
            .map(|f| [f[0].note, f[1].note, f[2].note, f[3].note])
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_names_song_frame_voice_value() {
        let mut s = Score::from_notes("t", 24.0, &[[60, 0, 40, 3], [60, 0, 120, 3]]);
        let e = s.validate().unwrap_err().to_string();
        assert!(
            e.contains("'t'") && e.contains("frame 1") && e.contains("TR") && e.contains("120"),
            "{e}"
        );
        s.frames[1][2].note = 40;
        s.validate().unwrap();
        s.frames[0][3].timbre = 2;
        assert!(s.validate().unwrap_err().to_string().contains("timbre 2"));
    }

    #[test]
    fn seprsco_defaults() {
        let s = Score::from_notes("t", 24.0, &[[60, 0, 40, 3]]);
        assert_eq!(s.frames[0][0].velocity, 15);
        assert_eq!(s.frames[0][1].velocity, 0);
        assert_eq!(s.frames[0][2].velocity, 0);
        assert_eq!(s.frames[0][3].velocity, 15);
    }
}
