//! Noise channel: 15-bit linear-feedback shift register in its two modes, NTSC/PAL period tables.
//!
//! See the nesdev wiki page "APU Noise".

use crate::region::Region;
use crate::synth::envelope::Envelope;
use crate::synth::length_counter::LengthCounter;

/// Timer periods in CPU cycles for `$400E` bits 3-0, NTSC.
pub const NOISE_PERIODS_NTSC: [u16; 16] = [
    4, 8, 16, 32, 64, 96, 128, 160, 202, 254, 380, 508, 762, 1016, 2034, 4068,
];

/// Timer periods in CPU cycles for `$400E` bits 3-0, PAL.
pub const NOISE_PERIODS_PAL: [u16; 16] = [
    4, 8, 14, 30, 60, 88, 118, 148, 188, 236, 354, 472, 708, 944, 1890, 3778,
];

/// The noise channel.
#[derive(Debug, Clone)]
pub struct Noise {
    /// Selects the period table.
    pub region: Region,
    /// The shift register; 1 at power-up. Output is silent while bit 0 is set.
    pub lfsr: u16,
    /// `$400E` bit 7: feedback from bit 6 (93-step "metallic" sequence) instead of bit 1.
    pub short_mode: bool,
    /// `$400E` bits 3-0.
    pub period_index: u8,
    /// CPU cycle of the next timer expiry.
    pub next_step: u64,
    pub envelope: Envelope,
    pub length: LengthCounter,
}

impl Noise {
    /// A powered-up noise channel timed for `region`.
    pub fn new(region: Region) -> Noise {
        Noise {
            region,
            lfsr: 1,
            short_mode: false,
            period_index: 0,
            next_step: 4,
            envelope: Envelope::default(),
            length: LengthCounter::default(),
        }
    }

    /// `$400C` --LC VVVV: length halt / envelope loop, constant volume, volume.
    pub fn write_ctrl(&mut self, value: u8) {
        self.length.halt = value & 0x20 != 0;
        self.envelope.write_ctrl(value);
    }

    /// `$400E` M--- PPPP: mode and period index.
    pub fn write_period(&mut self, value: u8) {
        self.short_mode = value & 0x80 != 0;
        self.period_index = value & 0x0F;
    }

    /// `$400F` LLLL L---: length index; restarts the envelope.
    pub fn write_length(&mut self, value: u8) {
        self.length.load(value >> 3);
        self.envelope.restart();
    }

    /// Timer period in CPU cycles.
    pub fn period_cycles(&self) -> u64 {
        let table = match self.region {
            Region::Ntsc => &NOISE_PERIODS_NTSC,
            Region::Pal => &NOISE_PERIODS_PAL,
        };
        u64::from(table[usize::from(self.period_index & 0x0F)])
    }

    /// Quarter-frame clock: envelope.
    pub fn clock_quarter_frame(&mut self) {
        self.envelope.clock();
    }

    /// Half-frame clock: length counter.
    pub fn clock_half_frame(&mut self) {
        self.length.clock();
    }

    fn volume(&self) -> u8 {
        if self.length.active() {
            self.envelope.volume()
        } else {
            0
        }
    }

    /// Output level 0..15.
    pub fn level(&self) -> u8 {
        if self.lfsr & 1 == 0 {
            self.volume()
        } else {
            0
        }
    }

    /// CPU cycle at which the output may next change by itself, `u64::MAX` when it cannot.
    pub fn next_change(&self) -> u64 {
        if self.volume() == 0 {
            u64::MAX
        } else {
            self.next_step
        }
    }

    fn shift(&mut self) {
        let tap = if self.short_mode { 6 } else { 1 };
        let feedback = (self.lfsr ^ (self.lfsr >> tap)) & 1;
        self.lfsr = (self.lfsr >> 1) | (feedback << 14);
    }

    /// One timer expiry: the register shifts.
    pub fn step(&mut self) {
        self.shift();
        self.next_step += self.period_cycles();
    }

    /// Runs the timer through every expiry at or before `cycle`.
    pub fn skip_to(&mut self, cycle: u64) {
        if self.next_step <= cycle {
            let period = self.period_cycles();
            let mut steps = (cycle - self.next_step) / period + 1;
            self.next_step += steps * period;
            if !self.short_mode {
                // Feedback from bits 0 and 1 is a maximal-length register: every non-zero state
                // lies on one cycle of 32767.
                steps %= 32767;
            }
            for _ in 0..steps {
                self.shift();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sequence_period(short_mode: bool) -> usize {
        let mut n = Noise::new(Region::Ntsc);
        n.short_mode = short_mode;
        for _ in 0..100 {
            n.shift(); // leave the start state behind
        }
        let start = n.lfsr;
        let mut k = 0;
        loop {
            n.shift();
            k += 1;
            if n.lfsr == start {
                return k;
            }
        }
    }

    #[test]
    fn lfsr_periods() {
        assert_eq!(sequence_period(false), 32767);
        assert_eq!(sequence_period(true), 93);
    }

    #[test]
    fn period_tables() {
        let mut n = Noise::new(Region::Ntsc);
        n.write_period(0x0F);
        assert_eq!(n.period_cycles(), 4068);
        n.write_period(0x82);
        assert!(n.short_mode);
        assert_eq!(n.period_cycles(), 16);
        let mut p = Noise::new(Region::Pal);
        p.write_period(0x0F);
        assert_eq!(p.period_cycles(), 3778);
        p.write_period(0x02);
        assert_eq!(p.period_cycles(), 14);
    }

    #[test]
    fn skip_matches_stepping() {
        for short in [false, true] {
            let mut a = Noise::new(Region::Pal);
            a.write_period(if short { 0x83 } else { 0x03 });
            let mut b = a.clone();
            let end = 3_000_000;
            while a.next_step <= end {
                a.step();
            }
            b.skip_to(end);
            assert_eq!((a.lfsr, a.next_step), (b.lfsr, b.next_step));
        }
    }
}
