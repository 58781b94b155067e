//! Length counter: silences a channel after a programmed number of half frames.
//!
//! See the nesdev wiki page "APU Length Counter".

/// Half-frame counts loaded by `$4003/$4007/$400B/$400F` bits 7-3 (LLLL L---).
pub const LENGTH_TABLE: [u8; 32] = [
    10, 254, 20, 2, 40, 4, 80, 6, 160, 8, 60, 10, 14, 12, 26, 14, //
    12, 16, 24, 18, 48, 20, 96, 22, 192, 24, 72, 26, 16, 28, 32, 30,
];

/// One channel's length counter, gated by its `$4015` enable bit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LengthCounter {
    /// Half frames left; the channel is silent at 0.
    pub counter: u8,
    /// Halt flag (pulse/noise `$4000/$4004/$400C` bit 5, triangle `$4008` bit 7): stops counting.
    pub halt: bool,
    /// `$4015` enable bit; while clear the counter is held at 0 and loads are ignored.
    pub enabled: bool,
}

impl LengthCounter {
    /// Loads the counter from a length index (0..32), as the channel's last register does.
    pub fn load(&mut self, index: u8) {
        if self.enabled {
            self.counter = LENGTH_TABLE[usize::from(index & 0x1F)];
        }
    }

    /// `$4015` write: clearing the enable bit zeroes the counter at once.
    pub fn set_enabled(&mut self, enabled: bool) {
        self.enabled = enabled;
        if !enabled {
            self.counter = 0;
        }
    }

    /// Half-frame clock from the frame counter.
    pub fn clock(&mut self) {
        if self.counter > 0 && !self.halt {
            self.counter -= 1;
        }
    }

    /// Whether the channel may sound.
    pub fn active(&self) -> bool {
        self.counter > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_down_to_silence_unless_halted() {
        let mut l = LengthCounter::default();
        l.load(3);
        assert_eq!(l.counter, 0, "a disabled channel ignores loads");
        l.set_enabled(true);
        l.load(3); // index 3 = 2 half frames
        assert_eq!(l.counter, 2);
        l.clock();
        assert!(l.active());
        l.clock();
        assert!(!l.active());
        l.load(1); // 254
        l.halt = true;
        for _ in 0..1000 {
            l.clock();
        }
        assert_eq!(l.counter, 254, "halt freezes the counter");
        l.set_enabled(false);
        assert_eq!(l.counter, 0, "disabling zeroes it");
    }
}
