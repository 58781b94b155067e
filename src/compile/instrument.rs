//! How loud and with which timbre each voice plays: the default instruments and the dynamics
//! choice.
//!
//! A seprsco score (`Score::expressive == false`) holds notes only. Played with a constant
//! volume every voice sounds like an organ and repeated notes run together, so by default
//! ([`Dynamics::Instruments`]) each voice gets an instrument in the style of NES game drivers:
//!
//! | voice | duty / mode | volume envelope (one value per output frame from the note's start) |
//! |---|---|---|
//! | pulse 1 | 2 (50%, the full square) | 15 13 11 10 9 9 then 8 held |
//! | pulse 2 | 1 (25%, thinner) | 15 13 11 10 9 9 then 8 held |
//! | triangle | - (no volume on this channel) | - |
//! | noise | mode 0 (white noise) | 15 12 9 7 5 4 3 then 2 held |
//!
//! Why: the quick fall from 15 to a sustain of 8 (about half the amplitude, the DAC is nearly
//! linear at these levels) over six frames (100 ms) is the attack-decay most NES soundtracks use;
//! it marks every note start even when the next note is near, and keeps sustained chords from
//! swamping the triangle, which has no volume control. The two pulses get different duties so
//! that two lines in the same register stay distinguishable (50% is hollow, 25% nasal). The noise
//! carries drums in NES-MDB, so it decays to near silence like a hit, with a short tail kept
//! (2) so that held noise (wind, engines) still sounds.
//!
//! A note starts (the envelope restarts) when a voice goes from a rest to a note or changes note.
//! Identical consecutive notes cannot be told from a held note in a seprsco score, so they hold.
//!
//! The other choices: [`Dynamics::Flat`] plays every note at volume 15 with the score's timbre
//! (a seprsco score's timbre is 0, 12.5% duty: exactly NES-MDB's own seprsco -> exprsco default),
//! and [`Dynamics::Score`] uses each cell's velocity and timbre as written (the default for
//! expressive scores).

use crate::score::{Cell, Voice};

/// How the compiler sets volume and timbre.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Dynamics {
    /// The default instruments of the module doc (default for seprsco scores).
    #[default]
    Instruments,
    /// Volume 15 on every sounding pulse and noise note, the score's timbre.
    Flat,
    /// The score's velocity and timbre per frame (default for expressive scores).
    Score,
}

impl Dynamics {
    /// The dynamics used when the user chose none: the score's own for expressive scores, the
    /// instruments otherwise.
    pub fn auto(expressive: bool) -> Dynamics {
        if expressive {
            Dynamics::Score
        } else {
            Dynamics::Instruments
        }
    }
}

/// A voice's default instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instrument {
    /// Pulse duty (0..=3) or noise mode (0..=1); 0 on the triangle.
    pub timbre: u8,
    /// Volume per output frame since the note started; the last value is held.
    pub envelope: &'static [u8],
}

/// Pulse attack-decay: 15 falling to a sustain of 8.
pub const PULSE_ENVELOPE: [u8; 7] = [15, 13, 11, 10, 9, 9, 8];
/// Noise attack-decay: a drum hit with a quiet tail of 2.
pub const NOISE_ENVELOPE: [u8; 8] = [15, 12, 9, 7, 5, 4, 3, 2];

impl Instrument {
    /// The default instrument of `voice`.
    pub fn default_for(voice: Voice) -> Instrument {
        match voice {
            Voice::Pulse1 => Instrument {
                timbre: 2,
                envelope: &PULSE_ENVELOPE,
            },
            Voice::Pulse2 => Instrument {
                timbre: 1,
                envelope: &PULSE_ENVELOPE,
            },
            Voice::Triangle => Instrument {
                timbre: 0,
                envelope: &[],
            },
            Voice::Noise => Instrument {
                timbre: 0,
                envelope: &NOISE_ENVELOPE,
            },
        }
    }

    /// Volume `frames_since_start` output frames after the note started.
    pub fn volume_at(&self, frames_since_start: usize) -> u8 {
        match self.envelope {
            [] => 0,
            env => env[frames_since_start.min(env.len() - 1)],
        }
    }
}

/// The (volume, timbre) a sounding `cell` of `voice` plays with, `frames_since_start` output
/// frames after its note started. The triangle's volume is always 0 (it has none).
pub fn voice_sound(
    dynamics: Dynamics,
    voice: Voice,
    cell: &Cell,
    frames_since_start: usize,
) -> (u8, u8) {
    if !voice.has_velocity() {
        return (0, 0);
    }
    match dynamics {
        Dynamics::Instruments => {
            let inst = Instrument::default_for(voice);
            (inst.volume_at(frames_since_start), inst.timbre)
        }
        Dynamics::Flat => (15, cell.timbre),
        Dynamics::Score => (cell.velocity, cell.timbre),
    }
}

/// The timbre a voice is set to at init, before any note: the instrument's for
/// [`Dynamics::Instruments`], 0 otherwise.
pub fn initial_timbre(dynamics: Dynamics, voice: Voice) -> u8 {
    match dynamics {
        Dynamics::Instruments => Instrument::default_for(voice).timbre,
        Dynamics::Flat | Dynamics::Score => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_decay_then_hold() {
        let p1 = Instrument::default_for(Voice::Pulse1);
        let got: Vec<u8> = (0..10).map(|k| p1.volume_at(k)).collect();
        assert_eq!(got, [15, 13, 11, 10, 9, 9, 8, 8, 8, 8]);
        let no = Instrument::default_for(Voice::Noise);
        assert_eq!(no.volume_at(0), 15);
        assert_eq!(no.volume_at(1000), 2);
        for env in [&PULSE_ENVELOPE[..], &NOISE_ENVELOPE[..]] {
            assert!(
                env.windows(2).all(|w| w[0] >= w[1]),
                "{env:?} must not rise"
            );
        }
        assert_ne!(
            Instrument::default_for(Voice::Pulse1).timbre,
            Instrument::default_for(Voice::Pulse2).timbre
        );
    }

    #[test]
    fn dynamics_choices() {
        let c = Cell {
            note: 60,
            velocity: 6,
            timbre: 3,
        };
        assert_eq!(voice_sound(Dynamics::Score, Voice::Pulse2, &c, 9), (6, 3));
        assert_eq!(voice_sound(Dynamics::Flat, Voice::Pulse2, &c, 9), (15, 3));
        assert_eq!(
            voice_sound(Dynamics::Instruments, Voice::Pulse2, &c, 0),
            (15, 1)
        );
        assert_eq!(
            voice_sound(Dynamics::Instruments, Voice::Pulse1, &c, 9),
            (8, 2)
        );
        assert_eq!(voice_sound(Dynamics::Score, Voice::Triangle, &c, 0), (0, 0));
        assert_eq!(Dynamics::auto(true), Dynamics::Score);
        assert_eq!(Dynamics::auto(false), Dynamics::Instruments);
    }
}
