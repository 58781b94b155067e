//! Triangle channel: 32-step sequencer, linear counter, length counter.
//!
//! See the nesdev wiki pages "APU Triangle" and "APU Linear Counter" (the latter is on the
//! triangle page). The timer is clocked every CPU cycle, so a step lasts `t + 1` cycles and a full
//! period `32 (t + 1)`.

use crate::synth::length_counter::LengthCounter;

/// The 32-step sequence: 15 down to 0, then 0 up to 15.
pub const TRIANGLE_SEQUENCE: [u8; 32] = [
    15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, //
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
];

/// Level heard for an ultrasonic triangle (t < 2): the sequencer then runs at 600 kHz or more,
/// which the output filters reduce to its average. Emulators output the same value rather than
/// synthesize a tone nobody can hear.
pub const ULTRASONIC_LEVEL: f32 = 7.5;

/// The linear counter (`$4008` CRRR RRRR): a finer-grained, quarter-frame note length.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinearCounter {
    /// Quarter frames left; the sequencer stops at 0.
    pub counter: u8,
    /// RRRR RRR: value reloaded.
    pub reload_value: u8,
    /// Set by a `$400B` write: reload at the next quarter frame.
    pub reload: bool,
    /// C: keep the reload flag set (and halt the length counter).
    pub control: bool,
}

impl LinearCounter {
    /// Quarter-frame clock.
    pub fn clock(&mut self) {
        if self.reload {
            self.counter = self.reload_value;
        } else if self.counter > 0 {
            self.counter -= 1;
        }
        if !self.control {
            self.reload = false;
        }
    }
}

/// The triangle channel.
#[derive(Debug, Clone)]
pub struct Triangle {
    /// 11-bit timer period t (`$400A` low, `$400B` bits 2-0 high).
    pub timer: u16,
    /// Sequencer position 0..31.
    pub sequence: u8,
    /// CPU cycle of the next timer expiry.
    pub next_step: u64,
    pub linear: LinearCounter,
    pub length: LengthCounter,
}

impl Default for Triangle {
    fn default() -> Self {
        Triangle {
            timer: 0,
            sequence: 0,
            next_step: 1,
            linear: LinearCounter::default(),
            length: LengthCounter::default(),
        }
    }
}

impl Triangle {
    /// `$4008` CRRR RRRR: control (length halt) and linear-counter reload value.
    pub fn write_linear(&mut self, value: u8) {
        self.linear.control = value & 0x80 != 0;
        self.length.halt = self.linear.control;
        self.linear.reload_value = value & 0x7F;
    }

    /// `$400A` timer low 8 bits.
    pub fn write_timer_lo(&mut self, value: u8) {
        self.timer = (self.timer & 0x700) | u16::from(value);
    }

    /// `$400B` LLLL LHHH: length index, timer high; sets the linear reload flag. The sequencer
    /// phase is not reset.
    pub fn write_timer_hi(&mut self, value: u8) {
        self.timer = (self.timer & 0xFF) | (u16::from(value & 0x07) << 8);
        self.length.load(value >> 3);
        self.linear.reload = true;
    }

    /// Quarter-frame clock: linear counter.
    pub fn clock_quarter_frame(&mut self) {
        self.linear.clock();
    }

    /// Half-frame clock: length counter.
    pub fn clock_half_frame(&mut self) {
        self.length.clock();
    }

    /// Whether the sequencer advances (both counters non-zero).
    pub fn running(&self) -> bool {
        self.linear.counter > 0 && self.length.active()
    }

    fn ultrasonic(&self) -> bool {
        self.timer < 2
    }

    /// Output level 0..15 (7.5 when ultrasonic).
    pub fn level(&self) -> f32 {
        if self.running() && self.ultrasonic() {
            ULTRASONIC_LEVEL
        } else {
            f32::from(TRIANGLE_SEQUENCE[usize::from(self.sequence)])
        }
    }

    /// CPU cycle at which the output may next change by itself, `u64::MAX` when it cannot.
    pub fn next_change(&self) -> u64 {
        if self.running() && !self.ultrasonic() {
            self.next_step
        } else {
            u64::MAX
        }
    }

    /// One timer expiry.
    pub fn step(&mut self) {
        if self.running() {
            self.sequence = (self.sequence + 1) & 31;
        }
        self.next_step += u64::from(self.timer) + 1;
    }

    /// Runs the timer through every expiry at or before `cycle`.
    pub fn skip_to(&mut self, cycle: u64) {
        if self.next_step <= cycle {
            let period = u64::from(self.timer) + 1;
            let steps = (cycle - self.next_step) / period + 1;
            if self.running() {
                self.sequence = ((u64::from(self.sequence) + steps) & 31) as u8;
            }
            self.next_step += steps * period;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_counter_silences_after_reload_value_quarter_frames() {
        let mut t = Triangle::default();
        t.length.set_enabled(true);
        t.write_linear(0x05); // control clear, reload 5
        t.write_timer_lo(100);
        t.write_timer_hi(0x08);
        t.clock_quarter_frame(); // reload -> 5
        assert!(t.running());
        for _ in 0..5 {
            t.clock_quarter_frame();
        }
        assert!(!t.running(), "stops after 5 quarter frames");
        assert_eq!(t.next_change(), u64::MAX);
        let s = t.sequence;
        t.skip_to(1_000_000);
        assert_eq!(t.sequence, s, "the sequencer holds its level");
    }

    #[test]
    fn control_80_then_400b_silences_and_ff_keeps_sounding() {
        let mut t = Triangle::default();
        t.length.set_enabled(true);
        t.write_linear(0x80);
        t.write_timer_hi(0x08);
        for _ in 0..10 {
            t.clock_quarter_frame();
        }
        assert!(!t.running(), "$4008 = $80 reloads 0: silent");
        t.write_linear(0xFF);
        t.write_timer_hi(0x08);
        for _ in 0..1000 {
            t.clock_quarter_frame();
            t.clock_half_frame();
        }
        assert!(t.running(), "$4008 = $FF keeps it sounding");
    }

    #[test]
    fn ultrasonic_periods_give_the_average_level() {
        let mut t = Triangle::default();
        t.length.set_enabled(true);
        t.write_linear(0xFF);
        t.write_timer_lo(1);
        t.write_timer_hi(0x08);
        t.clock_quarter_frame();
        assert_eq!(t.level(), ULTRASONIC_LEVEL);
        assert_eq!(t.next_change(), u64::MAX, "no per-step output changes");
        t.skip_to(1000); // the sequencer still runs: 1000 / 2 steps
        assert_eq!(t.sequence, (1000 / 2 % 32) as u8);
    }

    #[test]
    fn steps_through_32_levels() {
        let mut t = Triangle::default();
        t.length.set_enabled(true);
        t.write_linear(0xFF);
        t.write_timer_lo(10);
        t.write_timer_hi(0x08);
        t.clock_quarter_frame();
        let levels: Vec<f32> = (0..32)
            .map(|_| {
                let l = t.level();
                t.step();
                l
            })
            .collect();
        assert_eq!(levels[0], 15.0);
        assert_eq!(levels[15], 0.0);
        assert_eq!(levels[31], 15.0);
        assert_eq!(t.sequence, 0);
    }
}
