//! The frame loop: score cells -> register targets -> the writes that reach them.
//!
//! nesdev wiki pages "APU", "APU Pulse", "APU Triangle", "APU Noise", "APU Length Counter",
//! "APU Sweep".

use super::instrument::{initial_timbre, voice_sound, Dynamics};
use super::period::PeriodTable;
use super::shadow::ApuShadow;
use super::timing::FrameMap;
use crate::apu_stream::{ApuStream, RegWrite};
use crate::error::{Error, Result};
use crate::score::{Cell, Score, Voice};

/// Length index 1 (254 half-frames, the longest) in bits 3-7 of the fourth register: the counter
/// is halted anyway, but a player that forgot the halt would still hold notes for 2 s.
const LENGTH_LOAD: u8 = 0x08;
/// `$4000/$4004/$400C` bits 4-5: length-counter halt and constant volume.
const HALT_CONST: u8 = 0x30;
/// `$4001/$4005`: sweep disabled, negate set, shift 0. Negate keeps the sweep target at or below
/// the period, so no period up to $7FF is muted by the (disabled) sweep unit.
const SWEEP_OFF: u8 = 0x08;
/// `$4008` while the triangle sounds: control (length halt, reload flag kept) + reload 127.
const TRI_ON: u8 = 0xFF;
/// `$4008` while it rests: control set, reload 0: the linear counter reloads to 0 each quarter
/// frame and the sequencer stops where it is (no pop).
const TRI_OFF: u8 = 0x80;
/// `$4015` bit of the triangle, kept set from init to the end.
const TRI_ENABLE: u8 = 0x04;

/// Pulse base registers.
const PULSE_BASE: [u16; 2] = [0x4000, 0x4004];

/// Builds the stream for a validated score. `dynamics` is already resolved.
pub(super) fn compile_score(
    score: &Score,
    region: crate::region::Region,
    dynamics: Dynamics,
) -> Result<ApuStream> {
    let map = FrameMap::new(score.rate, region);
    let periods = PeriodTable::new(region);
    let n = score.len();
    let total = map.start(n);
    let ctx = Ctx {
        score,
        map,
        periods,
        dynamics,
    };
    let Some(loop_score_frame) = score.loop_frame else {
        let (mut stream, _) = ctx.pass(None);
        stream.loop_frame = None;
        return Ok(stream);
    };
    let loop_out = map.start(loop_score_frame);
    if loop_out >= total {
        return Err(Error::Unsupported(format!(
            "song '{}': the loop from frame {loop_score_frame} to the end ({n} frames) is shorter \
             than one output frame",
            score.name
        )));
    }
    // Fixed point: the loop target frame is compiled against the merge of the state before it
    // and the state at the end; the end state depends on that frame's writes, so repeat until
    // the end state adds nothing. Each round makes at least one more register unknown, so this
    // ends within the 28 registers and flags of the shadow.
    let (_, mut end) = ctx.pass(Some(ApuShadow::unknown()));
    for _ in 0..32 {
        let (mut stream, new_end) = ctx.pass(Some(end));
        let widened = end.merge(&new_end);
        if widened == end {
            stream.loop_frame = Some(loop_out);
            return Ok(stream);
        }
        end = widened;
    }
    let (mut stream, _) = ctx.pass(Some(ApuShadow::unknown()));
    stream.loop_frame = Some(loop_out);
    Ok(stream)
}

struct Ctx<'a> {
    score: &'a Score,
    map: FrameMap,
    periods: PeriodTable,
    dynamics: Dynamics,
}

/// The writes of one frame, filtered through the shadow.
struct Emitter<'s> {
    shadow: ApuShadow,
    stream: &'s mut ApuStream,
}

impl Emitter<'_> {
    /// Writes `value` unless the register already holds it.
    fn set(&mut self, addr: u16, value: u8) {
        if self.shadow.get(addr) != Some(value) {
            self.force(addr, value);
        }
    }

    /// Writes `value` even if the register holds it (note starts).
    fn force(&mut self, addr: u16, value: u8) {
        let w = RegWrite::new(addr, value);
        self.shadow.apply(w);
        self.stream.push_write(w);
    }
}

impl Ctx<'_> {
    /// The init block, applied to `shadow`.
    fn init(&self, shadow: &mut ApuShadow) -> Vec<RegWrite> {
        let duty = |v: Voice| initial_timbre(self.dynamics, v) << 6;
        let init = vec![
            // Frame counter: 4-step sequence, frame IRQ inhibited.
            RegWrite::new(0x4017, 0x40),
            // Pulses, noise and DMC off (their length counters zeroed: silent); the triangle
            // enabled so that its length counter can be loaded below. It stays silent through
            // its linear counter.
            RegWrite::new(0x4015, TRI_ENABLE),
            // DMC: no IRQ, no loop; output level 0 (the mixer as NES-MDB assumes it).
            RegWrite::new(0x4010, 0x00),
            RegWrite::new(0x4011, 0x00),
            // Pulses: duty, length halt, constant volume 0; sweep off with negate set.
            RegWrite::new(0x4000, HALT_CONST | duty(Voice::Pulse1)),
            RegWrite::new(0x4001, SWEEP_OFF),
            RegWrite::new(0x4004, HALT_CONST | duty(Voice::Pulse2)),
            RegWrite::new(0x4005, SWEEP_OFF),
            // Triangle: control set, reload 0; the $400B write loads the (halted) length
            // counter and sets the linear-counter reload flag, which the control bit then keeps
            // set: from the next quarter frame the linear counter holds $4008's reload value,
            // 0 (silent) or 127 (sounding), with no further $400B write.
            RegWrite::new(0x4008, TRI_OFF),
            RegWrite::new(0x400B, LENGTH_LOAD),
            // Noise: length halt, constant volume 0.
            RegWrite::new(0x400C, HALT_CONST),
        ];
        for &w in &init {
            shadow.apply(w);
        }
        init
    }

    /// Whether the note of `cell` (voice `v`, score frame `i`) starts a note for the envelope:
    /// after a rest or a different note; on the loop target, after either predecessor.
    fn articulates(&self, i: usize, v: Voice, cell: &Cell) -> bool {
        if cell.is_rest() {
            return false;
        }
        let differs = |p: Option<&crate::score::Frame>| {
            p.is_none_or(|f| f[v.index()].is_rest() || f[v.index()].note != cell.note)
        };
        let frames = &self.score.frames;
        let prev = i.checked_sub(1).and_then(|p| frames.get(p));
        differs(prev) || (self.score.loop_frame == Some(i) && differs(frames.last()))
    }

    /// One compile pass. `loop_end`: for a looping score, the (widened) state at the end of the
    /// stream, merged in before the loop target frame. Returns the stream and the end state.
    fn pass(&self, loop_end: Option<ApuShadow>) -> (ApuStream, ApuShadow) {
        let score = self.score;
        let n = score.len();
        let mut stream = ApuStream::new(score.name.clone(), self.periods.region);
        let mut shadow = ApuShadow::unknown();
        stream.init = self.init(&mut shadow);
        let mut em = Emitter {
            shadow,
            stream: &mut stream,
        };
        let loop_out = score.loop_frame.map(|l| self.map.start(l));
        let mut note_start = [0usize; 4];
        for (i, frame) in score.frames.iter().enumerate() {
            let first = self.map.start(i);
            for v in Voice::ALL {
                if self.articulates(i, v, &frame[v.index()]) {
                    note_start[v.index()] = first;
                }
            }
            for j in first..self.map.start(i + 1) {
                if loop_out == Some(j) {
                    if let Some(end) = loop_end {
                        em.shadow = em.shadow.merge(&end);
                    }
                }
                em.stream.begin_frame();
                self.frame(&mut em, frame, j, &note_start);
            }
        }
        if score.loop_frame.is_none() || n == 0 {
            // End: silence every voice. Pulses and noise by their enable bits, the triangle by
            // its linear counter.
            em.stream.begin_frame();
            em.set(0x4015, TRI_ENABLE);
            em.set(0x4008, TRI_OFF);
        }
        let end = em.shadow;
        (stream, end)
    }

    /// The writes of output frame `j`, playing score `frame`; `note_start[v]` is the output frame
    /// where voice v's current note began. Order: `$4015`, pulse 1 `$4000 $4002 $4003`, pulse 2
    /// `$4004 $4006 $4007`, triangle `$4008 $400A $400B`, noise `$400C $400E $400F`.
    fn frame(
        &self,
        em: &mut Emitter,
        frame: &crate::score::Frame,
        j: usize,
        note_start: &[usize; 4],
    ) {
        // $4015: a pulse or noise bit is set while the voice sounds and cleared while it rests
        // (clearing zeroes the length counter: output 0 at once, like volume 0, so no click of
        // its own). It is written first so that a starting voice is enabled before its fourth
        // register loads the length counter.
        let mut enable = TRI_ENABLE;
        for v in [Voice::Pulse1, Voice::Pulse2, Voice::Noise] {
            if !frame[v.index()].is_rest() {
                enable |= 1 << v.index();
            }
        }
        em.set(0x4015, enable);
        let since = |v: Voice| j.saturating_sub(note_start[v.index()]);

        for (k, &base) in PULSE_BASE.iter().enumerate() {
            let v = Voice::ALL[k];
            let cell = &frame[k];
            if cell.is_rest() {
                continue; // silent through $4015; the other registers keep their values
            }
            let (volume, duty) = voice_sound(self.dynamics, v, cell, since(v));
            let timer = self.periods.pulse_timer(cell.note);
            // $4000/$4004 duty, halt, constant volume.
            em.set(base, (duty & 3) << 6 | HALT_CONST | (volume & 15));
            // $4002/$4006 timer low.
            em.set(base + 2, (timer & 0xFF) as u8);
            // $4003/$4007 length + timer high: only at a note start (loads the length counter)
            // or when the high bits change, as the write restarts the duty sequence (a click).
            let high = LENGTH_LOAD | (timer >> 8) as u8;
            if em.shadow.loaded(k) != Some(true) {
                em.force(base + 3, high);
            } else {
                em.set(base + 3, high);
            }
        }

        let tri = &frame[Voice::Triangle.index()];
        // $4008 linear counter: 127 sounds, 0 silences (the sequencer then holds its level).
        em.set(0x4008, if tri.is_rest() { TRI_OFF } else { TRI_ON });
        if !tri.is_rest() {
            let timer = self.periods.triangle_timer(tri.note);
            // $400A timer low; $400B length + timer high (no phase reset on the triangle).
            em.set(0x400A, (timer & 0xFF) as u8);
            let high = LENGTH_LOAD | (timer >> 8) as u8;
            if em.shadow.loaded(2) != Some(true) {
                em.force(0x400B, high);
            } else {
                em.set(0x400B, high);
            }
        }

        let noise = &frame[Voice::Noise.index()];
        if !noise.is_rest() {
            let (volume, mode) =
                voice_sound(self.dynamics, Voice::Noise, noise, since(Voice::Noise));
            // $400C halt, constant volume; $400E mode and period index.
            em.set(0x400C, HALT_CONST | (volume & 15));
            em.set(
                0x400E,
                (mode & 1) << 7 | PeriodTable::noise_index(noise.note),
            );
            // $400F length load: only at a note start.
            if em.shadow.loaded(3) != Some(true) {
                em.force(0x400F, LENGTH_LOAD);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{compile, CompileOptions};
    use super::*;
    use crate::region::Region;

    fn frames_text(s: &ApuStream) -> Vec<String> {
        s.frames()
            .map(|f| {
                f.iter()
                    .map(|w| format!("{:04X}={:02X}", w.addr, w.value))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    #[test]
    fn a4_on_pulse1_with_the_default_instrument() {
        let score = Score::from_notes("a4", 24.0, &[[69, 0, 0, 0], [69, 0, 0, 0], [0; 4]]);
        let s = compile(&score, &CompileOptions::default()).unwrap();
        assert_eq!(
            frames_text(&s),
            [
                "4015=05 4000=BF 4002=FD 4003=08",
                "4000=BD",
                "4000=BB",
                "4000=BA",
                "4000=B9",
                "4015=04",
                "",
                "",
                "",
            ]
        );
        assert_eq!(s.loop_frame, None);
        assert_eq!(s.init[0], RegWrite::new(0x4017, 0x40));
    }

    #[test]
    fn triangle_by_linear_counter_and_flat_noise() {
        // MIDI 45 on the triangle: t = 507, high bits 1, so $400B changes from its init $08.
        let score = Score::from_notes("t", 60.0, &[[0, 0, 45, 16], [0, 0, 45, 15], [0, 0, 0, 0]]);
        let opts = CompileOptions {
            region: Region::Ntsc,
            dynamics: Some(Dynamics::Flat),
        };
        let s = compile(&score, &opts).unwrap();
        let t = PeriodTable::new(Region::Ntsc).triangle_timer(45);
        assert_eq!(t, 507);
        let tri = format!("4008=FF 400A={:02X} 400B={:02X}", t & 0xFF, 0x08 | (t >> 8));
        assert_eq!(
            frames_text(&s),
            [
                format!("4015=0C {tri} 400C=3F 400E=00 400F=08"),
                "400E=01".to_string(),
                "4015=04 4008=80".to_string(),
                String::new(),
            ]
        );
    }

    #[test]
    fn loop_target_starts_voices_silent_at_the_end() {
        let mut score = Score::from_notes("l", 60.0, &[[0; 4], [60, 0, 0, 0], [60, 0, 0, 0]]);
        score.loop_frame = Some(1);
        let s = compile(&score, &CompileOptions::default()).unwrap();
        assert_eq!(s.loop_frame, Some(1));
        assert_eq!(s.len(), 3, "a looping stream has no end frame");
        let f1 = frames_text(&s)[1].clone();
        assert!(f1.starts_with("4015=05 4000=BF"), "{f1}");
        // A note held over the loop point: after init it starts, after the last frame it is
        // held; the loop target writes the full note start, which is right after either.
        let mut score2 = Score::from_notes("l", 60.0, &[[60, 0, 0, 0]; 10]);
        score2.loop_frame = Some(0);
        let s2 = compile(&score2, &CompileOptions::default()).unwrap();
        let f0 = frames_text(&s2)[0].clone();
        assert!(f0.contains("4000=BF"), "{f0}");
        assert!(f0.contains("4003=09"), "{f0}");
    }

    #[test]
    fn bad_note_is_named() {
        let score = Score::from_notes("bad", 24.0, &[[60, 0, 0, 0], [60, 0, 0, 17]]);
        let e = compile(&score, &CompileOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("'bad'") && e.contains("frame 1") && e.contains("NO") && e.contains("17"),
            "{e}"
        );
    }
}
