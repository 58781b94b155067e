//! The APU: register writes `$4000-$4017` routed to the units, and the channels advanced from one
//! output change to the next (never cycle by cycle).
//!
//! See the nesdev wiki page "APU" (register map) and "APU Frame Counter".

use crate::region::Region;
use crate::synth::frame_counter::FrameCounter;
use crate::synth::noise::Noise;
use crate::synth::pulse::Pulse;
use crate::synth::triangle::Triangle;

/// Receives each voice's level changes, in time order.
pub trait LevelSink {
    /// Voice `voice` (0 pulse 1, 1 pulse 2, 2 triangle, 3 noise) outputs `level` (0..15) from CPU
    /// cycle `cycle` on.
    fn level(&mut self, voice: usize, cycle: u64, level: f32);
}

/// The four tone channels and the frame counter. (The DMC is not used by this project's music
/// and its registers are ignored.)
#[derive(Debug, Clone)]
pub struct Apu {
    pub pulse1: Pulse,
    pub pulse2: Pulse,
    pub triangle: Triangle,
    pub noise: Noise,
    pub frame_counter: FrameCounter,
    /// CPU cycle the channels have been advanced to.
    pub cycle: u64,
    /// Last level reported per voice.
    levels: [f32; 4],
}

impl Apu {
    /// The APU at power-up.
    pub fn new(region: Region) -> Apu {
        let mut apu = Apu {
            pulse1: Pulse::new(true),
            pulse2: Pulse::new(false),
            triangle: Triangle::default(),
            noise: Noise::new(region),
            frame_counter: FrameCounter::new(region),
            cycle: 0,
            levels: [0.0; 4],
        };
        // The triangle rests at level 15 from power-up: a constant the high-pass filters remove,
        // so the synth starts from it rather than adding a step at cycle 0.
        apu.levels = apu.voice_levels();
        apu
    }

    /// Current output level of each voice.
    pub fn voice_levels(&self) -> [f32; 4] {
        [
            f32::from(self.pulse1.level()),
            f32::from(self.pulse2.level()),
            self.triangle.level(),
            f32::from(self.noise.level()),
        ]
    }

    /// Reports the voices whose level differs from the last report.
    fn report(&mut self, cycle: u64, sink: &mut impl LevelSink) {
        let now = self.voice_levels();
        for (v, (&new, old)) in now.iter().zip(self.levels.iter_mut()).enumerate() {
            if new != *old {
                *old = new;
                sink.level(v, cycle, new);
            }
        }
    }

    /// Runs every channel's timer through the expiries at or before `target`, reporting each
    /// change of output. Register state is constant over the span.
    fn advance_channels(&mut self, target: u64, sink: &mut impl LevelSink) {
        // Which channels can change by themselves is fixed over the span: only register writes
        // and frame-counter clocks (the span's ends) change volume, length and muting.
        let live = [
            self.pulse1.next_change() != u64::MAX,
            self.pulse2.next_change() != u64::MAX,
            self.triangle.next_change() != u64::MAX,
            self.noise.next_change() != u64::MAX,
        ];
        let at = |live: bool, next: u64| if live { next } else { u64::MAX };
        loop {
            let n0 = at(live[0], self.pulse1.next_step);
            let n1 = at(live[1], self.pulse2.next_step);
            let n2 = at(live[2], self.triangle.next_step);
            let n3 = at(live[3], self.noise.next_step);
            let next = n0.min(n1).min(n2).min(n3);
            if next > target {
                break;
            }
            if n0 == next {
                self.pulse1.step();
                let l = f32::from(self.pulse1.level());
                if l != self.levels[0] {
                    self.levels[0] = l;
                    sink.level(0, next, l);
                }
            }
            if n1 == next {
                self.pulse2.step();
                let l = f32::from(self.pulse2.level());
                if l != self.levels[1] {
                    self.levels[1] = l;
                    sink.level(1, next, l);
                }
            }
            if n2 == next {
                self.triangle.step();
                let l = self.triangle.level();
                if l != self.levels[2] {
                    self.levels[2] = l;
                    sink.level(2, next, l);
                }
            }
            if n3 == next {
                self.noise.step();
                let l = f32::from(self.noise.level());
                if l != self.levels[3] {
                    self.levels[3] = l;
                    sink.level(3, next, l);
                }
            }
        }
        // Channels whose output is pinned still run their timers (the phase matters later).
        self.pulse1.skip_to(target);
        self.pulse2.skip_to(target);
        self.triangle.skip_to(target);
        self.noise.skip_to(target);
    }

    /// Advances to CPU cycle `target`, running the frame counter's clocks on the way.
    pub fn run_to(&mut self, target: u64, sink: &mut impl LevelSink) {
        while self.frame_counter.next_event() <= target {
            let at = self.frame_counter.next_event();
            self.advance_channels(at, sink);
            let clock = self.frame_counter.fire();
            if clock.quarter {
                self.pulse1.clock_quarter_frame();
                self.pulse2.clock_quarter_frame();
                self.triangle.clock_quarter_frame();
                self.noise.clock_quarter_frame();
            }
            if clock.half {
                self.pulse1.clock_half_frame();
                self.pulse2.clock_half_frame();
                self.triangle.clock_half_frame();
                self.noise.clock_half_frame();
            }
            self.report(at, sink);
        }
        self.advance_channels(target, sink);
        self.cycle = self.cycle.max(target);
    }

    /// Writes `value` to APU register `addr` at the current cycle. Addresses outside the four
    /// tone channels, `$4015` and `$4017` (the DMC, `$4009`, `$400D`) are ignored.
    pub fn write(&mut self, addr: u16, value: u8, sink: &mut impl LevelSink) {
        match addr {
            0x4000 => self.pulse1.write_ctrl(value),
            0x4001 => self.pulse1.write_sweep(value),
            0x4002 => self.pulse1.write_timer_lo(value),
            0x4003 => self.pulse1.write_timer_hi(value),
            0x4004 => self.pulse2.write_ctrl(value),
            0x4005 => self.pulse2.write_sweep(value),
            0x4006 => self.pulse2.write_timer_lo(value),
            0x4007 => self.pulse2.write_timer_hi(value),
            0x4008 => self.triangle.write_linear(value),
            0x400A => self.triangle.write_timer_lo(value),
            0x400B => self.triangle.write_timer_hi(value),
            0x400C => self.noise.write_ctrl(value),
            0x400E => self.noise.write_period(value),
            0x400F => self.noise.write_length(value),
            // $4015 ---D NT21: channel enables.
            0x4015 => {
                self.pulse1.length.set_enabled(value & 0x01 != 0);
                self.pulse2.length.set_enabled(value & 0x02 != 0);
                self.triangle.length.set_enabled(value & 0x04 != 0);
                self.noise.length.set_enabled(value & 0x08 != 0);
            }
            // $4017 MI-- ----: frame counter mode.
            0x4017 => self.frame_counter.write(value, self.cycle),
            _ => {}
        }
        self.report(self.cycle, sink);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records every change.
    #[derive(Default)]
    struct Log(Vec<(usize, u64, f32)>);
    impl LevelSink for Log {
        fn level(&mut self, voice: usize, cycle: u64, level: f32) {
            self.0.push((voice, cycle, level));
        }
    }

    #[test]
    fn pulse_edges_every_half_period() {
        let mut apu = Apu::new(Region::Ntsc);
        let mut log = Log::default();
        for (a, v) in [
            (0x4015, 0x01),
            (0x4000, 0xBF),
            (0x4001, 0x08),
            (0x4002, 99),
            (0x4003, 0x08),
        ] {
            apu.write(a, v, &mut log);
        }
        apu.run_to(100_000, &mut log);
        let rises: Vec<u64> = log
            .0
            .iter()
            .filter(|e| e.0 == 0 && e.2 > 0.0)
            .map(|e| e.1)
            .collect();
        // 50 % duty at t = 99: a period of 16 * 100 = 1600 cycles.
        assert!(rises.len() > 50);
        for w in rises.windows(2) {
            assert_eq!(w[1] - w[0], 1600);
        }
    }

    #[test]
    fn length_counter_halts_the_note() {
        let mut apu = Apu::new(Region::Ntsc);
        let mut log = Log::default();
        // Constant volume 15, no halt, length index 3 (2 half frames).
        for (a, v) in [
            (0x4015, 0x01),
            (0x4000, 0x9F),
            (0x4001, 0x08),
            (0x4002, 99),
            (0x4003, 0x18),
        ] {
            apu.write(a, v, &mut log);
        }
        apu.run_to(100_000, &mut log);
        let edges: Vec<u64> = log.0.iter().filter(|e| e.0 == 0).map(|e| e.1).collect();
        // The second half-frame clock is at cycle 29829: edges up to then, none after.
        assert!(edges.iter().any(|&c| c > 28_000), "it sounded until then");
        assert!(edges.iter().all(|&c| c <= 29829), "{edges:?}");
        assert_eq!(apu.pulse1.length.counter, 0);
        assert_eq!(apu.pulse1.level(), 0);
    }
}
