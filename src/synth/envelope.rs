//! Envelope generator: constant volume or a 15..0 decay, optionally looping.
//!
//! See the nesdev wiki page "APU Envelope".

/// The envelope of a pulse or the noise channel (`$4000/$4004/$400C` --LC VVVV).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Envelope {
    /// Set by the channel's last register write; the next quarter frame restarts the decay.
    pub start: bool,
    /// Divider counting quarter frames down from `period`.
    pub divider: u8,
    /// Decay level 15..0.
    pub decay: u8,
    /// VVVV: the constant volume, or the divider period minus one.
    pub period: u8,
    /// C: output `period` as a constant volume instead of the decay level.
    pub constant: bool,
    /// L: restart at 15 after reaching 0 (the same bit halts the length counter).
    pub looping: bool,
}

impl Envelope {
    /// `$4000/$4004/$400C` write.
    pub fn write_ctrl(&mut self, value: u8) {
        self.looping = value & 0x20 != 0;
        self.constant = value & 0x10 != 0;
        self.period = value & 0x0F;
    }

    /// `$4003/$4007/$400F` write: restart the decay at the next quarter frame.
    pub fn restart(&mut self) {
        self.start = true;
    }

    /// Quarter-frame clock from the frame counter.
    pub fn clock(&mut self) {
        if self.start {
            self.start = false;
            self.decay = 15;
            self.divider = self.period;
        } else if self.divider == 0 {
            self.divider = self.period;
            if self.decay > 0 {
                self.decay -= 1;
            } else if self.looping {
                self.decay = 15;
            }
        } else {
            self.divider -= 1;
        }
    }

    /// Current volume 0..15.
    pub fn volume(&self) -> u8 {
        if self.constant {
            self.period
        } else {
            self.decay
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decays_one_step_per_period_plus_one_quarter_frames() {
        let mut e = Envelope::default();
        e.write_ctrl(0x03); // decay, period 3 -> one step every 4 quarter frames
        e.restart();
        e.clock();
        assert_eq!(e.volume(), 15);
        let mut clocks = 0;
        while e.volume() > 0 {
            e.clock();
            clocks += 1;
        }
        assert_eq!(clocks, 15 * 4);
        for _ in 0..100 {
            e.clock();
        }
        assert_eq!(e.volume(), 0, "without loop it stays at 0");
        e.write_ctrl(0x20 | 0x03);
        for _ in 0..4 {
            e.clock();
        }
        assert_eq!(e.volume(), 15, "loop restarts at 15");
        e.write_ctrl(0x19);
        assert_eq!(e.volume(), 9, "constant volume");
    }
}
