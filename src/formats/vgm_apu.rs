//! The APU as NES-MDB models it for its VGM-to-score conversion ([`super::vgm_score`]):
//! length counters, envelopes, sweeps, the linear counter and a floating-point frame counter,
//! stepped once per 44.1 kHz sample, and the pitch mapping from timer values to MIDI notes.
//! See the nesdev wiki pages <https://www.nesdev.org/wiki/APU_Length_Counter>,
//! <https://www.nesdev.org/wiki/APU_Envelope> and <https://www.nesdev.org/wiki/APU_Sweep>.

use crate::score::{Cell, Frame, Voice};

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
pub(super) struct Apu {
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
    pub(super) fn new(pal: bool) -> Apu {
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
    pub(super) fn step_frame_counter(&mut self) -> bool {
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

    pub(super) fn write(&mut self, reg: u8, v: u8, pal: bool) {
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
    pub(super) fn output(&self, notes: &NoteTables) -> Frame {
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
pub(super) struct NoteTables {
    pub(super) pulse: [u8; 2048],
    pub(super) triangle: [u8; 2048],
}

/// NES-MDB's pitch mapping (`rawsco_to_exprsco`), computed in single precision as numpy does
/// for its `float32` arrays, rounding halves to even. Timer 0 (not sounding) maps out of range.
pub(super) fn timer_to_note(clock: u32, timer: u16, divisor: f32) -> u8 {
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
    pub(super) fn new(clock: u32) -> NoteTables {
        let mut t = NoteTables {
            pulse: [0; 2048],
            triangle: [0; 2048],
        };
        for timer in 0..2048u16 {
            // With the real clock a pulse never goes below MIDI 33; a log with another clock
            // can, and a score cannot hold such a pulse note: it becomes a rest like any other
            // note outside NES-MDB's range (found by the vgm fuzz target).
            let note = timer_to_note(clock, timer, 16.0);
            t.pulse[timer as usize] = if note < Voice::Pulse1.note_range().0 {
                0
            } else {
                note
            };
            t.triangle[timer as usize] = timer_to_note(clock, timer, 32.0);
        }
        t
    }
}
