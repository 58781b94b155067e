//! Frame counter (frame sequencer): clocks envelopes and the linear counter every quarter frame,
//! length counters and sweeps every half frame, in the 4-step or 5-step mode set by `$4017`.
//!
//! See the nesdev wiki page "APU Frame Counter". It runs on its own schedule (a 4-step sequence is
//! 29,830 CPU cycles on NTSC, not the 29,780.5 of a video frame), so it drifts against the NMI.

use crate::region::Region;

/// What one sequencer step clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameClock {
    /// Envelopes and the triangle's linear counter.
    pub quarter: bool,
    /// Length counters and sweep units.
    pub half: bool,
}

const QUARTER: FrameClock = FrameClock {
    quarter: true,
    half: false,
};
const HALF: FrameClock = FrameClock {
    quarter: true,
    half: true,
};

/// Steps of one sequence, as CPU cycles after the sequencer was reset, and the sequence length.
struct Schedule {
    steps: [(u64, FrameClock); 4],
    length: u64,
}

const NTSC_4: Schedule = Schedule {
    steps: [
        (7457, QUARTER),
        (14913, HALF),
        (22371, QUARTER),
        (29829, HALF),
    ],
    length: 29830,
};
const NTSC_5: Schedule = Schedule {
    steps: [
        (7457, QUARTER),
        (14913, HALF),
        (22371, QUARTER),
        (37281, HALF),
    ],
    length: 37282,
};
const PAL_4: Schedule = Schedule {
    steps: [
        (8313, QUARTER),
        (16627, HALF),
        (24939, QUARTER),
        (33253, HALF),
    ],
    length: 33254,
};
const PAL_5: Schedule = Schedule {
    steps: [
        (8313, QUARTER),
        (16627, HALF),
        (24939, QUARTER),
        (41565, HALF),
    ],
    length: 41566,
};

/// The frame counter.
#[derive(Debug, Clone)]
pub struct FrameCounter {
    pub region: Region,
    /// `$4017` bit 7: 5-step sequence.
    pub five_step: bool,
    /// CPU cycle the current sequence started on.
    pub sequence_start: u64,
    /// Index of the next step, 0..4.
    pub next: usize,
    /// A `$4017` write waiting for its 3-4 cycle delay: (cycle it takes effect, value).
    pub pending_write: Option<(u64, u8)>,
}

impl FrameCounter {
    /// Power-up state: 4-step mode, sequence starting at cycle 0.
    pub fn new(region: Region) -> FrameCounter {
        FrameCounter {
            region,
            five_step: false,
            sequence_start: 0,
            next: 0,
            pending_write: None,
        }
    }

    fn schedule(&self) -> &'static Schedule {
        match (self.region, self.five_step) {
            (Region::Ntsc, false) => &NTSC_4,
            (Region::Ntsc, true) => &NTSC_5,
            (Region::Pal, false) => &PAL_4,
            (Region::Pal, true) => &PAL_5,
        }
    }

    /// `$4017` MI-- ----: mode (bit 7); IRQ inhibit (bit 6) has no effect on sound. The sequencer
    /// resets 3 CPU cycles after a write on an even cycle, 4 after an odd one.
    pub fn write(&mut self, value: u8, cycle: u64) {
        let delay = if cycle & 1 == 1 { 4 } else { 3 };
        self.pending_write = Some((cycle + delay, value));
    }

    /// CPU cycle of the next event ([`FrameCounter::fire`] must be called there).
    pub fn next_event(&self) -> u64 {
        let step = self.sequence_start + self.schedule().steps[self.next].0;
        match self.pending_write {
            Some((at, _)) if at <= step => at,
            _ => step,
        }
    }

    /// Performs the event at [`FrameCounter::next_event`] and says what it clocks.
    pub fn fire(&mut self) -> FrameClock {
        let at = self.next_event();
        if let Some((when, value)) = self.pending_write {
            if when == at {
                self.pending_write = None;
                self.five_step = value & 0x80 != 0;
                self.sequence_start = at;
                self.next = 0;
                // Entering 5-step mode clocks everything at once.
                return if self.five_step {
                    HALF
                } else {
                    FrameClock::default()
                };
            }
        }
        let schedule = self.schedule();
        let clock = schedule.steps[self.next].1;
        self.next += 1;
        if self.next == schedule.steps.len() {
            self.next = 0;
            self.sequence_start += schedule.length;
        }
        clock
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(fc: &mut FrameCounter, until: u64) -> Vec<(u64, FrameClock)> {
        let mut v = Vec::new();
        while fc.next_event() <= until {
            let at = fc.next_event();
            v.push((at, fc.fire()));
        }
        v
    }

    #[test]
    fn four_step_ntsc() {
        let mut fc = FrameCounter::new(Region::Ntsc);
        let e = events(&mut fc, 60_000);
        let halves: Vec<u64> = e.iter().filter(|x| x.1.half).map(|x| x.0).collect();
        assert_eq!(halves, vec![14913, 29829, 29830 + 14913, 29830 + 29829]);
        assert_eq!(e.iter().filter(|x| x.1.quarter).count(), 8);
    }

    #[test]
    fn five_step_pal_after_4017_write() {
        let mut fc = FrameCounter::new(Region::Pal);
        fc.write(0x80, 100); // even cycle: effective at 103
        let e = events(&mut fc, 103 + 41566);
        assert_eq!(e[0], (103, HALF), "entering 5-step clocks at once");
        let halves: Vec<u64> = e.iter().filter(|x| x.1.half).map(|x| x.0).collect();
        assert_eq!(halves, vec![103, 103 + 16627, 103 + 41565]);
        // The write's clock, then two quarter-only steps and two half steps (the fourth step of
        // the 5-step sequence clocks nothing).
        assert_eq!(e.len(), 5);
    }
}
