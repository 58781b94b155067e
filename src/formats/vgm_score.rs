//! NES-MDB's conversion of an APU log into a 24 Hz expressive score, reproduced exactly.
//!
//! The rules are those of `/work/shared/docs/vgm-to-score.md` (NES-MDB's `ndf_to_rawsco`,
//! `rawsco_to_exprsco` and `exprsco_downsample`). The APU is stepped once per 44.1 kHz sample:
//! frame-counter clocks first (a floating-point accumulator, as NES-MDB keeps it), then that
//! sample's writes, then the output of each voice is read. Each 24 Hz window then takes, per
//! voice, the most common note, velocity and timbre over its sounding samples (ties to the
//! smallest value). Nothing is cycle-exact on purpose: the point is to agree with the dataset.
//!
//! Speed: per sample only the frame-counter accumulator is advanced; voice outputs are recomputed
//! only after a clock or a write changed the state, and each window keeps run lengths of equal
//! outputs, not one entry per sample.

use super::vgm::VgmLog;
use crate::score::{Cell, Frame, Score, NESMDB_RATE};

/// Length-counter load values, indexed by bits 7-3 of `$4003/$4007/$400B/$400F`.
const LENGTH_TABLE: [i64; 32] = [
    10, 254, 20, 2, 40, 4, 80, 6, 160, 8, 60, 10, 14, 12, 26, 14, 12, 16, 24, 18, 48, 20, 96, 22,
    192, 24, 72, 26, 16, 28, 32, 30,
];

/// Envelope unit (nesdev wiki "APU Envelope"), shared by the pulses and the noise.
#[derive(Default, Clone, Copy)]
struct Envelope {
    start: bool,
    divider: i32,
    level: i32,
}

impl Envelope {
    /// Quarter-frame clock. `period` is the volume field, `looping` the length-halt bit.
    fn clock(&mut self, period: u8, looping: bool) {
        if self.start {
            self.start = false;
            self.level = 15;
            self.divider = 0;
            return;
        }
        self.divider += 1;
        if self.divider > period as i32 {
            self.divider = 0;
            if looping && self.level == 0 {
                self.level = 15;
            } else if self.level > 0 {
                self.level -= 1;
            }
        }
    }
}

/// Pulse channel state (nesdev wiki "APU Pulse", "APU Sweep").
#[derive(Default, Clone, Copy)]
struct Pulse {
    /// Pulse 1 negates in ones' complement (target = t - (t >> s) - 1).
    ones_complement: bool,
    duty: u8,
    halt: bool,
    constant: bool,
    volume: u8,
    sweep_enabled: bool,
    sweep_period: u8,
    sweep_negate: bool,
    sweep_shift: u8,
    timer: i32,
    sweep_target: i32,
    length: i64,
    envelope: Envelope,
    sweep_divider: i32,
    sweep_reload: bool,
}

impl Pulse {
    fn recompute_target(&mut self) {
        let mut shifted = self.timer >> self.sweep_shift;
        if self.sweep_negate {
            if self.ones_complement {
                shifted += 1;
            }
            shifted = -shifted;
        }
        self.sweep_target = self.timer + shifted;
    }

    fn half_frame(&mut self) {
        if !self.halt {
            self.length -= 1;
        }
        if self.sweep_enabled {
            self.sweep_divider -= 1;
            if self.sweep_divider <= 0 {
                self.recompute_target();
                if self.timer >= 8 && self.sweep_target < 0x800 && self.sweep_shift > 0 {
                    self.timer = self.sweep_target.max(0);
                }
                self.sweep_divider = self.sweep_period as i32 + 1;
            }
            if self.sweep_reload {
                self.sweep_divider = self.sweep_period as i32 + 1;
                self.sweep_reload = false;
            }
        }
    }

    /// `$4000-$4003` (or `$4004-$4007`) by offset 0..3.
    fn write(&mut self, offset: u8, v: u8, enabled: bool) {
        match offset {
            // $4000/$4004 DDLC VVVV: duty, length halt / envelope loop, constant volume, volume
            0 => {
                self.duty = v >> 6;
                self.halt = v & 0x20 != 0;
                self.constant = v & 0x10 != 0;
                self.volume = v & 0x0F;
            }
            // $4001/$4005 EPPP NSSS sweep: the target is recomputed before shift and negate change.
            1 => {
                self.sweep_enabled = v & 0x80 != 0;
                self.sweep_reload = true;
                self.recompute_target();
                self.sweep_period = (v >> 4) & 7;
                self.sweep_negate = v & 0x08 != 0;
                self.sweep_shift = v & 7;
            }
            // $4002/$4006 timer low
            2 => {
                self.timer = (self.timer & 0x700) | v as i32;
                self.recompute_target();
            }
            // $4003/$4007 LLLL LHHH: length load, timer high; restarts the envelope
            _ => {
                if enabled {
                    self.length = LENGTH_TABLE[(v >> 3) as usize];
                }
                self.envelope.start = true;
                self.timer = (self.timer & 0xFF) | (((v & 7) as i32) << 8);
                self.recompute_target();
            }
        }
    }

    /// (timer, volume) while sounding, else `None`.
    fn output(&self) -> Option<(i32, u8)> {
        if self.length <= 0 {
            return None;
        }
        let vol = if self.constant {
            self.volume
        } else {
            self.envelope.level as u8
        };
        (vol > 0 && self.timer >= 8 && self.sweep_target < 0x800).then_some((self.timer, vol))
    }
}

/// The state of the whole APU as NES-MDB models it.
struct Apu {
    enabled: [bool; 4],
    pulses: [Pulse; 2],
    tri_halt: bool,
    tri_reload_value: i64,
    tri_timer: i32,
    tri_length: i64,
    tri_linear: i64,
    tri_reload: bool,
    noise_halt: bool,
    noise_constant: bool,
    noise_volume: u8,
    noise_mode: u8,
    noise_period: u8,
    noise_length: i64,
    noise_envelope: Envelope,
    /// Frame counter: seconds accumulated, period in seconds, quarter frames counted.
    fc_time: f64,
    fc_period: f64,
    fc_tick: u64,
    fc_reset: bool,
}

impl Apu {
    fn new(pal: bool) -> Apu {
        let mut pulses = [Pulse::default(); 2];
        pulses[0].ones_complement = true;
        for p in &mut pulses {
            p.sweep_divider = 1;
        }
        Apu {
            enabled: [true; 4],
            pulses,
            tri_halt: false,
            tri_reload_value: 0,
            tri_timer: 0,
            tri_length: 0,
            tri_linear: 0,
            tri_reload: false,
            noise_halt: false,
            noise_constant: false,
            noise_volume: 0,
            noise_mode: 0,
            noise_period: 0,
            noise_length: 0,
            noise_envelope: Envelope::default(),
            fc_time: 0.0,
            fc_period: 1.0 / if pal { 200.0 } else { 240.0 },
            fc_tick: 0,
            fc_reset: false,
        }
    }

    /// Advances the frame counter by one sample; returns whether anything was clocked.
    fn step_frame_counter(&mut self) -> bool {
        let mut quarter = false;
        let mut half = false;
        if self.fc_reset {
            quarter = true;
            half = true;
            self.fc_reset = false;
        }
        self.fc_time += 1.0 / 44100.0;
        if self.fc_time > self.fc_period {
            quarter = true;
            half = self.fc_tick % 2 == 1;
            self.fc_time -= self.fc_period;
            self.fc_tick += 1;
        }
        if quarter {
            if self.tri_reload {
                self.tri_linear = self.tri_reload_value;
            } else {
                self.tri_linear -= 1;
            }
            if !self.tri_halt {
                self.tri_reload = false;
            }
            for p in &mut self.pulses {
                p.envelope.clock(p.volume, p.halt);
            }
            self.noise_envelope
                .clock(self.noise_volume, self.noise_halt);
        }
        if half {
            for p in &mut self.pulses {
                p.half_frame();
            }
            if !self.tri_halt {
                self.tri_length -= 1;
            }
            if !self.noise_halt {
                self.noise_length -= 1;
            }
        }
        quarter
    }

    fn write(&mut self, reg: u8, v: u8, pal: bool) {
        match reg {
            0x00..=0x03 => self.pulses[0].write(reg, v, self.enabled[0]),
            0x04..=0x07 => self.pulses[1].write(reg - 4, v, self.enabled[1]),
            // $4008 CRRR RRRR: control (length halt) and linear-counter reload value
            0x08 => {
                self.tri_halt = v & 0x80 != 0;
                self.tri_reload_value = (v & 0x7F) as i64;
            }
            // $400A timer low
            0x0A => self.tri_timer = (self.tri_timer & 0x700) | v as i32,
            // $400B LLLL LHHH: length load, timer high, sets the linear-counter reload flag
            0x0B => {
                if self.enabled[2] {
                    self.tri_length = LENGTH_TABLE[(v >> 3) as usize];
                }
                self.tri_reload = true;
                self.tri_timer = (self.tri_timer & 0xFF) | (((v & 7) as i32) << 8);
            }
            // $400C --LC VVVV
            0x0C => {
                self.noise_halt = v & 0x20 != 0;
                self.noise_constant = v & 0x10 != 0;
                self.noise_volume = v & 0x0F;
            }
            // $400E M--- PPPP mode and period index
            0x0E => {
                self.noise_mode = v >> 7;
                self.noise_period = v & 0x0F;
            }
            // $400F LLLL L--- length load; restarts the envelope
            0x0F => {
                if self.enabled[3] {
                    self.noise_length = LENGTH_TABLE[(v >> 3) as usize];
                }
                self.noise_envelope.start = true;
            }
            // $4015 ---D NT21 enables; clearing a bit zeroes that length counter
            0x15 => {
                for ch in 0..4 {
                    let on = v & (1 << ch) != 0;
                    self.enabled[ch] = on;
                    if !on {
                        match ch {
                            0 | 1 => self.pulses[ch].length = 0,
                            2 => self.tri_length = 0,
                            _ => self.noise_length = 0,
                        }
                    }
                }
            }
            // $4017 MI-- ----: any write resets the counter and clocks everything next sample
            0x17 => {
                let five_step = v & 0x80 != 0;
                let rate = match (pal, five_step) {
                    (false, false) => 240.0,
                    (false, true) => 192.0,
                    (true, false) => 200.0,
                    (true, true) => 160.0,
                };
                self.fc_period = 1.0 / rate;
                self.fc_time = 0.0;
                self.fc_tick = 0;
                self.fc_reset = true;
            }
            // $4009, $400D unused; $4010-$4013 DMC is not part of the score.
            _ => {}
        }
    }

    /// Each voice's (note, velocity, timbre) at this sample, with notes as NES-MDB maps timers.
    fn output(&self, notes: &NoteTables) -> Frame {
        let mut f = [Cell::REST; 4];
        for (i, p) in self.pulses.iter().enumerate() {
            f[i].timbre = p.duty;
            if let Some((timer, vol)) = p.output() {
                let note = notes.pulse[timer as usize & 0x7FF];
                if note != 0 {
                    f[i].note = note;
                    f[i].velocity = vol;
                }
            }
        }
        if self.tri_length.min(self.tri_linear) > 0 {
            f[2].note = notes.triangle[self.tri_timer as usize & 0x7FF];
        }
        f[3].timbre = self.noise_mode;
        if self.noise_length > 0 {
            let vol = if self.noise_constant {
                self.noise_volume
            } else {
                self.noise_envelope.level as u8
            };
            if vol > 0 {
                f[3].note = 16 - self.noise_period;
                f[3].velocity = vol;
            }
        }
        f
    }
}

/// MIDI note for every 11-bit timer value, 0 outside 21..108.
struct NoteTables {
    pulse: [u8; 2048],
    triangle: [u8; 2048],
}

/// NES-MDB's pitch mapping (`rawsco_to_exprsco`), computed in single precision as numpy does
/// for its `float32` arrays, rounding halves to even. Timer 0 (not sounding) maps out of range.
fn timer_to_note(clock: u32, timer: u16, divisor: f32) -> u8 {
    let t = timer as f32;
    let f = clock as f32 / (divisor * (t + 1.0));
    let m = 69.0f32 + (12.0f32 * (f / 440.0f32).ln()) / 2.0f32.ln();
    let m = m.round_ties_even();
    if !(21.0..=108.0).contains(&m) {
        0
    } else {
        m as u8
    }
}

impl NoteTables {
    fn new(clock: u32) -> NoteTables {
        let mut t = NoteTables {
            pulse: [0; 2048],
            triangle: [0; 2048],
        };
        for timer in 0..2048u16 {
            t.pulse[timer as usize] = timer_to_note(clock, timer, 16.0);
            t.triangle[timer as usize] = timer_to_note(clock, timer, 32.0);
        }
        t
    }
}

/// One run of equal outputs inside a window.
pub(crate) type Run = (Frame, u32);

/// The most common value of `field` over runs where `keep` holds; ties go to the smallest.
fn mode(runs: &[Run], voice: usize, field: fn(&Cell) -> u8, keep: fn(&Cell) -> bool) -> u8 {
    let mut counts = [0u32; 256];
    for (f, n) in runs {
        let c = &f[voice];
        if keep(c) {
            counts[field(c) as usize] += n;
        }
    }
    let mut best = 0usize;
    for (v, &n) in counts.iter().enumerate() {
        if n > counts[best] {
            best = v;
        }
    }
    best as u8
}

/// The frame NES-MDB makes of one 24 Hz window.
pub(crate) fn window_frame(runs: &[Run]) -> Frame {
    let mut out = [Cell::REST; 4];
    for (v, cell) in out.iter_mut().enumerate() {
        let sounding = runs.iter().any(|(f, n)| *n > 0 && f[v].note != 0);
        if sounding {
            let on = |c: &Cell| c.note != 0;
            cell.note = mode(runs, v, |c| c.note, on);
            cell.velocity = mode(runs, v, |c| c.velocity, on);
            cell.timbre = mode(runs, v, |c| c.timbre, on);
        } else {
            cell.timbre = mode(runs, v, |c| c.timbre, |_| true);
        }
    }
    out
}

/// Whether a clock (header 0x84, masked) is NTSC as NES-MDB decides it.
pub fn is_ntsc_clock(clock: u32) -> bool {
    (clock as i64 - 1_789_773).abs() < 2
}

/// Number of 24 Hz frames NES-MDB makes of `samples` samples: floor(samples / 44100 * 24).
pub fn frame_count(samples: u64) -> usize {
    (samples as f64 / 44100.0 * NESMDB_RATE) as usize
}

/// First sample of window `i`, computed as NES-MDB computes it (`int(i / 24 * 44100.)`).
pub(crate) fn window_start(i: usize) -> u64 {
    (i as f64 / NESMDB_RATE * 44100.0) as u64
}

/// Converts an APU log into NES-MDB's exprsco score (24 Hz, expressive, `source_samples` set).
pub fn vgm_to_score(log: &VgmLog, name: &str) -> Score {
    let pal = !is_ntsc_clock(log.clock);
    let notes = NoteTables::new(log.clock);
    let nsamps = log.total_samples;
    let nframes = frame_count(nsamps);
    let mut score = Score::new(name, NESMDB_RATE);
    score.expressive = true;
    score.source_samples = Some(nsamps);
    score.frames.reserve(nframes);

    let mut apu = Apu::new(pal);
    let mut writes = log.writes.iter().peekable();
    let mut runs: Vec<Run> = Vec::with_capacity(64);
    let mut current = apu.output(&notes);
    let mut run_len = 0u32;
    let mut window = 0usize;
    let mut window_end = window_start(1);
    let end = window_start(nframes).min(nsamps);
    for sample in 0..end {
        if sample == window_end {
            runs.push((current, run_len));
            run_len = 0;
            score.frames.push(window_frame(&runs));
            runs.clear();
            window += 1;
            window_end = window_start(window + 1);
        }
        let mut changed = apu.step_frame_counter();
        while let Some(w) = writes.next_if(|w| w.sample <= sample) {
            if w.sample == sample {
                apu.write(w.reg, w.value, pal);
                changed = true;
            }
        }
        if changed {
            let out = apu.output(&notes);
            if out != current {
                if run_len > 0 {
                    runs.push((current, run_len));
                }
                current = out;
                run_len = 0;
            }
        }
        run_len += 1;
    }
    if score.frames.len() < nframes {
        runs.push((current, run_len));
        score.frames.push(window_frame(&runs));
    }
    score
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::vgm::VgmWrite;

    fn log(writes: &[(u64, u8, u8)], total: u64) -> VgmLog {
        VgmLog {
            clock: 1_789_773,
            total_samples: total,
            loop_start: None,
            loop_samples: 0,
            writes: writes
                .iter()
                .map(|&(sample, reg, value)| VgmWrite { sample, reg, value })
                .collect(),
            gd3: None,
            skipped_commands: 0,
        }
    }

    #[test]
    fn pitch_mapping_matches_known_timers() {
        // A440: pulse timer 253 (NTSC), triangle timer 126.
        assert_eq!(timer_to_note(1_789_773, 253, 16.0), 69);
        assert_eq!(timer_to_note(1_789_773, 126, 32.0), 69);
        assert_eq!(timer_to_note(1_789_773, 0, 16.0), 0);
        assert_eq!(timer_to_note(1_789_773, 2047, 16.0), 33);
        assert_eq!(timer_to_note(1_789_773, 2047, 32.0), 21);
        assert_eq!(timer_to_note(1_789_773, 7, 32.0), 0, "above 108 is a rest");
    }

    #[test]
    fn constant_volume_pulse_becomes_a_held_note() {
        // $4000 = $BF (duty 2, halt, constant 15), timer 253, length load.
        let l = log(
            &[
                (0, 0x00, 0xBF),
                (0, 0x01, 0x08),
                (0, 0x02, 253),
                (0, 0x03, 0x08),
            ],
            44_100,
        );
        let s = vgm_to_score(&l, "t");
        assert_eq!(s.len(), 24);
        assert!(s.expressive);
        for f in &s.frames {
            assert_eq!(
                f[0],
                Cell {
                    note: 69,
                    velocity: 15,
                    timbre: 2
                }
            );
            assert_eq!(f[1], Cell::REST);
        }
    }

    #[test]
    fn window_takes_the_mode_over_sounding_samples() {
        // Noise sounds in the first 100 samples of window 0 only: the frame still sounds.
        let l = log(
            &[
                (0, 0x0C, 0x3A),
                (0, 0x0E, 0x83),
                (0, 0x0F, 0x08),
                (100, 0x15, 0x07),
            ],
            1838 * 2,
        );
        let s = vgm_to_score(&l, "t");
        assert_eq!(
            s.frames[0][3],
            Cell {
                note: 13,
                velocity: 10,
                timbre: 1
            }
        );
        assert_eq!(
            s.frames[1][3],
            Cell {
                note: 0,
                velocity: 0,
                timbre: 1
            }
        );
    }

    #[test]
    fn frame_count_and_windows_follow_nesmdb() {
        assert_eq!(frame_count(117_465), 63);
        assert_eq!(window_start(1), 1837);
        assert_eq!(window_start(2), 3675);
    }
}
