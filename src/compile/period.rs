//! Note -> timer period tables for the pulse, triangle and noise channels, NTSC and PAL.
//!
//! nesdev wiki pages "APU Pulse", "APU Triangle", "APU Noise" and "APU Period table".
//!
//! Pitches follow NES-MDB exactly: f = 440 * 2^((m - 69) / 12), pulse timer
//! t = round(CPU / (16 f) - 1), triangle timer t = round(CPU / (32 f) - 1). The NTSC table is the
//! same whether the clock is taken as 1,789,773 Hz (NES-MDB, the VGM header) or 21.477272 MHz / 12
//! (checked by a test), so [`Region::cpu_hz`] is used for both regions.
//!
//! A pulse is only audible for t in 8..=$7FF (below 8 the sweep unit mutes it; above $7FF the
//! timer has no more bits). The score admits pulse notes 32..=108; on NTSC MIDI 32 needs
//! t = 2154 > $7FF, so such notes are **folded up one octave** (the pitch class, and so the harmony,
//! is kept; a clamp to $7FF would sound 95 cents flat and decode as MIDI 33). PAL plays 32..=108
//! directly. Triangle notes 21..=108 always fit (t 12..=2033 NTSC).
//!
//! Noise: a score note n in 1..=16 is period index `16 - n` (NES-MDB); the period tables below are
//! the CPU-cycle periods of the 16 indices.

use crate::region::Region;

/// Lowest and highest pulse timer that sounds (sweep muting below 8; 11 timer bits).
pub const PULSE_TIMER_RANGE: (u16, u16) = (8, 0x7FF);

/// Noise period in CPU cycles for each index of `$400E` bits 0-3, NTSC.
pub const NOISE_PERIODS_NTSC: [u16; 16] = [
    4, 8, 16, 32, 64, 96, 128, 160, 202, 254, 380, 508, 762, 1016, 2034, 4068,
];

/// Noise period in CPU cycles for each index of `$400E` bits 0-3, PAL.
pub const NOISE_PERIODS_PAL: [u16; 16] = [
    4, 8, 14, 30, 60, 88, 118, 148, 188, 236, 354, 472, 708, 944, 1890, 3778,
];

/// Frequency of MIDI note `m` in Hz (A4 = MIDI 69 = 440 Hz).
pub fn note_hz(m: u8) -> f64 {
    440.0 * 2f64.powf((f64::from(m) - 69.0) / 12.0)
}

/// Timer values for every MIDI note 0..=127 in one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodTable {
    pub region: Region,
    /// Raw pulse timer `round(CPU / (16 f) - 1)` per MIDI note (may exceed $7FF at the bottom).
    pub pulse: [u32; 128],
    /// Raw triangle timer `round(CPU / (32 f) - 1)` per MIDI note.
    pub triangle: [u32; 128],
}

impl PeriodTable {
    /// Computes the table for `region` from the formula.
    pub fn new(region: Region) -> PeriodTable {
        let cpu = region.cpu_hz();
        let mut pulse = [0u32; 128];
        let mut triangle = [0u32; 128];
        for m in 0..128u8 {
            let f = note_hz(m);
            pulse[m as usize] = (cpu / (16.0 * f) - 1.0).round() as u32;
            triangle[m as usize] = (cpu / (32.0 * f) - 1.0).round() as u32;
        }
        PeriodTable {
            region,
            pulse,
            triangle,
        }
    }

    /// The note a pulse actually plays for score note `m`: `m` itself when its timer fits in
    /// 8..=$7FF, else `m` raised by octaves until it does (only the lowest notes; see the module
    /// doc). Notes too high to fit are lowered by octaves the same way.
    pub fn pulse_playable_note(&self, m: u8) -> u8 {
        let (lo, hi) = PULSE_TIMER_RANGE;
        let mut n = m.min(127);
        while self.pulse[n as usize] > u32::from(hi) && n + 12 <= 127 {
            n += 12;
        }
        while self.pulse[n as usize] < u32::from(lo) && n >= 12 {
            n -= 12;
        }
        n
    }

    /// The 11-bit pulse timer for score note `m` (after the octave fold), always in 8..=$7FF.
    pub fn pulse_timer(&self, m: u8) -> u16 {
        self.pulse[self.pulse_playable_note(m) as usize] as u16
    }

    /// The 11-bit triangle timer for MIDI note `m`, clamped to $7FF (the score's triangle range
    /// 21..=108 never needs the clamp).
    pub fn triangle_timer(&self, m: u8) -> u16 {
        self.triangle[m.min(127) as usize].min(0x7FF) as u16
    }

    /// Noise period index (`$400E` bits 0-3) of score noise note `n` in 1..=16: `16 - n`.
    pub fn noise_index(n: u8) -> u8 {
        16u8.saturating_sub(n.clamp(1, 16))
    }

    /// Noise period table (CPU cycles per index) of this region.
    pub fn noise_periods(&self) -> &'static [u16; 16] {
        match self.region {
            Region::Ntsc => &NOISE_PERIODS_NTSC,
            Region::Pal => &NOISE_PERIODS_PAL,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a4_and_known_values() {
        let ntsc = PeriodTable::new(Region::Ntsc);
        assert_eq!(ntsc.pulse[69], 253);
        assert_eq!(ntsc.triangle[69], 126);
        assert_eq!(ntsc.pulse[33], 2033);
        assert_eq!(ntsc.pulse[108], 26);
        assert_eq!(ntsc.triangle[21], 2033);
        assert_eq!(ntsc.triangle[108], 12);
        let pal = PeriodTable::new(Region::Pal);
        assert_eq!(pal.pulse[69], 235);
        assert_eq!(pal.pulse[32], 2001);
    }

    #[test]
    fn nesmdb_clock_gives_the_same_ntsc_table() {
        let t = PeriodTable::new(Region::Ntsc);
        for m in 0..128u8 {
            let f = note_hz(m);
            assert_eq!(
                t.pulse[m as usize],
                (1_789_773.0 / (16.0 * f) - 1.0).round() as u32
            );
            assert_eq!(
                t.triangle[m as usize],
                (1_789_773.0 / (32.0 * f) - 1.0).round() as u32
            );
        }
    }

    #[test]
    fn low_pulse_notes_fold_up_an_octave_on_ntsc_only() {
        let ntsc = PeriodTable::new(Region::Ntsc);
        assert_eq!(ntsc.pulse[32], 2154);
        assert_eq!(ntsc.pulse_playable_note(32), 44);
        assert_eq!(ntsc.pulse_timer(32), ntsc.pulse[44] as u16);
        assert_eq!(ntsc.pulse_playable_note(33), 33);
        let pal = PeriodTable::new(Region::Pal);
        assert_eq!(pal.pulse_playable_note(32), 32);
        for t in [&ntsc, &pal] {
            for m in 32..=108u8 {
                let timer = t.pulse_timer(m);
                assert!((8..=0x7FF).contains(&timer), "{m} -> {timer}");
            }
            for m in 21..=108u8 {
                assert!(t.triangle_timer(m) <= 0x7FF);
            }
        }
    }

    #[test]
    fn noise_index_and_tables() {
        assert_eq!(PeriodTable::noise_index(16), 0);
        assert_eq!(PeriodTable::noise_index(1), 15);
        assert_eq!(PeriodTable::new(Region::Ntsc).noise_periods()[15], 4068);
        assert_eq!(PeriodTable::new(Region::Pal).noise_periods()[15], 3778);
        // Periods grow with the index: a higher score note is a higher-pitched noise.
        for w in NOISE_PERIODS_NTSC
            .windows(2)
            .chain(NOISE_PERIODS_PAL.windows(2))
        {
            assert!(w[0] < w[1]);
        }
    }
}
