//! Pulse channels: duty sequencer, sweep unit (with its muting), timer, envelope, length counter.
//!
//! See the nesdev wiki pages "APU Pulse" and "APU Sweep".
//!
//! Timing is kept in CPU cycles: the timer is clocked every second CPU cycle (one APU cycle), so a
//! sequencer step lasts `2 (t + 1)` CPU cycles and a full period `16 (t + 1)`.

use crate::synth::envelope::Envelope;
use crate::synth::length_counter::LengthCounter;

/// Output of the 8-step sequencer for each duty (`$4000` bits 7-6), indexed by sequencer value.
/// The sequencer counts down (0, 7, 6, ... 1), so the high part is heard after the first step.
pub const DUTY_TABLE: [[u8; 8]; 4] = [
    [0, 0, 0, 0, 0, 0, 0, 1], // 12.5 %
    [0, 0, 0, 0, 0, 0, 1, 1], // 25 %
    [0, 0, 0, 0, 1, 1, 1, 1], // 50 %
    [1, 1, 1, 1, 1, 1, 0, 0], // 25 % negated
];

/// The sweep unit (`$4001/$4005` EPPP NSSS).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sweep {
    /// E: enabled.
    pub enabled: bool,
    /// PPP: divider period minus one, in half frames.
    pub period: u8,
    /// N: subtract instead of add.
    pub negate: bool,
    /// SSS: shift count.
    pub shift: u8,
    /// Divider counter.
    pub divider: u8,
    /// Set by a `$4001/$4005` write: reload the divider at the next half frame.
    pub reload: bool,
}

/// One pulse channel.
#[derive(Debug, Clone)]
pub struct Pulse {
    /// Pulse 1 negates with ones' complement (t - c - 1), pulse 2 with two's complement (t - c).
    pub ones_complement: bool,
    /// 11-bit timer period t (`$4002` low, `$4003` bits 2-0 high).
    pub timer: u16,
    /// Duty 0..3.
    pub duty: u8,
    /// Sequencer value 0..7.
    pub sequence: u8,
    /// CPU cycle of the next timer expiry (sequencer step).
    pub next_step: u64,
    pub envelope: Envelope,
    pub length: LengthCounter,
    pub sweep: Sweep,
}

impl Pulse {
    /// A powered-up pulse channel; `first` selects pulse 1's sweep negation.
    pub fn new(first: bool) -> Pulse {
        Pulse {
            ones_complement: first,
            timer: 0,
            duty: 0,
            sequence: 0,
            next_step: 2,
            envelope: Envelope::default(),
            length: LengthCounter::default(),
            sweep: Sweep::default(),
        }
    }

    /// `$4000/$4004` DDLC VVVV: duty, length halt / envelope loop, constant volume, volume.
    pub fn write_ctrl(&mut self, value: u8) {
        self.duty = value >> 6;
        self.length.halt = value & 0x20 != 0;
        self.envelope.write_ctrl(value);
    }

    /// `$4001/$4005` EPPP NSSS: sweep.
    pub fn write_sweep(&mut self, value: u8) {
        self.sweep.enabled = value & 0x80 != 0;
        self.sweep.period = (value >> 4) & 0x07;
        self.sweep.negate = value & 0x08 != 0;
        self.sweep.shift = value & 0x07;
        self.sweep.reload = true;
    }

    /// `$4002/$4006` timer low 8 bits.
    pub fn write_timer_lo(&mut self, value: u8) {
        self.timer = (self.timer & 0x700) | u16::from(value);
    }

    /// `$4003/$4007` LLLL LHHH: length index and timer high 3 bits; restarts the sequencer and the
    /// envelope (the divider keeps running, so the phase restarts within one step).
    pub fn write_timer_hi(&mut self, value: u8) {
        self.timer = (self.timer & 0xFF) | (u16::from(value & 0x07) << 8);
        self.length.load(value >> 3);
        self.sequence = 0;
        self.envelope.restart();
    }

    /// The period the sweep unit would set: t + (t >> s), or minus with pulse 1's extra - 1.
    pub fn sweep_target(&self) -> u16 {
        let change = self.timer >> self.sweep.shift;
        if self.sweep.negate {
            let t = self.timer.saturating_sub(change);
            if self.ones_complement {
                t.saturating_sub(1)
            } else {
                t
            }
        } else {
            self.timer + change
        }
    }

    /// Sweep muting: silent when t < 8 or the target exceeds $7FF, whether or not the sweep is
    /// enabled (so with shift 0 and negate 0 every t >= $400 is silent).
    pub fn muted(&self) -> bool {
        self.timer < 8 || self.sweep_target() > 0x7FF
    }

    /// Half-frame clock: sweep unit and length counter.
    pub fn clock_half_frame(&mut self) {
        if self.sweep.divider == 0 && self.sweep.enabled && self.sweep.shift > 0 && !self.muted() {
            self.timer = self.sweep_target();
        }
        if self.sweep.divider == 0 || self.sweep.reload {
            self.sweep.divider = self.sweep.period;
            self.sweep.reload = false;
        } else {
            self.sweep.divider -= 1;
        }
        self.length.clock();
    }

    /// Quarter-frame clock: envelope.
    pub fn clock_quarter_frame(&mut self) {
        self.envelope.clock();
    }

    /// CPU cycles per sequencer step.
    pub fn step_cycles(&self) -> u64 {
        2 * (u64::from(self.timer) + 1)
    }

    /// Whether the output is pinned (muted, silenced or at volume 0) until the next register
    /// write or frame-counter clock.
    fn frozen(&self) -> bool {
        self.muted() || !self.length.active() || self.envelope.volume() == 0
    }

    /// Output level 0..15.
    pub fn level(&self) -> u8 {
        if self.frozen() {
            0
        } else {
            DUTY_TABLE[usize::from(self.duty)][usize::from(self.sequence)] * self.envelope.volume()
        }
    }

    /// CPU cycle at which the output may next change by itself, `u64::MAX` when it cannot.
    pub fn next_change(&self) -> u64 {
        if self.frozen() {
            u64::MAX
        } else {
            self.next_step
        }
    }

    /// One timer expiry: the sequencer steps down.
    pub fn step(&mut self) {
        self.sequence = (self.sequence + 7) & 7;
        self.next_step += self.step_cycles();
    }

    /// Runs the timer through every expiry at or before `cycle` without looking at the output.
    pub fn skip_to(&mut self, cycle: u64) {
        if self.next_step <= cycle {
            let period = self.step_cycles();
            let steps = (cycle - self.next_step) / period + 1;
            self.sequence = ((u64::from(self.sequence) + 7 * steps) & 7) as u8;
            self.next_step += steps * period;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sounding(timer: u16) -> Pulse {
        let mut p = Pulse::new(true);
        p.length.set_enabled(true);
        p.write_ctrl(0xBF); // duty 2, halt, constant volume 15
        p.write_sweep(0x08);
        p.write_timer_lo((timer & 0xFF) as u8);
        p.write_timer_hi((timer >> 8) as u8 | 0x08);
        p
    }

    #[test]
    fn duty_ratios() {
        for (duty, high) in [(0u8, 1usize), (1, 2), (2, 4), (3, 6)] {
            let mut p = sounding(100);
            p.write_ctrl(duty << 6 | 0x3F);
            let mut n = 0;
            for _ in 0..64 {
                n += usize::from(p.level() > 0);
                p.step();
            }
            assert_eq!(n, high * 8, "duty {duty}");
        }
    }

    #[test]
    fn sweep_muting() {
        assert!(sounding(7).muted(), "t < 8 mutes");
        assert!(!sounding(8).muted());
        assert!(
            !sounding(0x7FF).muted(),
            "with $4001 = $08 the whole range plays"
        );
        let mut p = sounding(0x400);
        p.write_sweep(0x00); // shift 0, negate 0: target = 2t
        assert!(p.muted(), "t >= $400 mutes with shift 0 negate 0");
        assert_eq!(p.level(), 0);
        assert_eq!(p.next_change(), u64::MAX);
        p.write_timer_hi(0x06 | 0x08); // t = $600
        p.write_sweep(0x08);
        assert!(!p.muted());
        p.write_sweep(0x09);
        assert!(!p.muted(), "negate never mutes by target");
        p.write_sweep(0x01); // target = $600 + $300 > $7FF
        assert!(
            p.muted(),
            "target above $7FF mutes even with the sweep disabled"
        );
    }

    #[test]
    fn sweep_moves_the_period() {
        let mut p = sounding(0x100);
        p.write_sweep(0x91); // enabled, period 1 (every 2 half frames), shift 1, up
        p.clock_half_frame(); // divider 0: t += t >> 1, then reload to 1
        assert_eq!(p.timer, 0x180);
        p.clock_half_frame(); // divider 1 -> 0
        assert_eq!(p.timer, 0x180);
        p.clock_half_frame();
        assert_eq!(p.timer, 0x240);
        p.write_sweep(0x89); // period 0, down, pulse 1: t - (t >> 1) - 1
        p.clock_half_frame(); // divider 1: no change, reload to 0
        assert_eq!(p.timer, 0x240);
        p.clock_half_frame();
        assert_eq!(p.timer, 0x240 - 0x120 - 1);
        let mut p2 = sounding(0x100);
        p2.ones_complement = false;
        p2.write_sweep(0x89);
        p2.clock_half_frame();
        assert_eq!(p2.timer, 0x80, "pulse 2 negates without the extra 1");
    }

    #[test]
    fn skip_matches_stepping() {
        let mut a = sounding(37);
        let mut b = a.clone();
        let end = 100_000;
        while a.next_step <= end {
            a.step();
        }
        b.skip_to(end);
        assert_eq!((a.sequence, a.next_step), (b.sequence, b.next_step));
    }
}
