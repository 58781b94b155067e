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
use super::vgm_apu::{Apu, NoteTables};
use crate::score::{Cell, Frame, Score, NESMDB_RATE};

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
    use crate::formats::vgm_apu::timer_to_note;

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
    fn pulse_notes_below_the_pulse_range_are_rests_at_any_clock() {
        // 85,837 Hz: the clock of a fuzzer-found log whose pulse 1 came out as MIDI 30.
        for clock in [85_837, 1_789_773, 3_000_000] {
            let t = NoteTables::new(clock);
            for (timer, &n) in t.pulse.iter().enumerate() {
                assert!(
                    n == 0 || (32..=108).contains(&n),
                    "clock {clock} timer {timer}: {n}"
                );
            }
        }
        assert_ne!(
            NoteTables::new(85_837)
                .pulse
                .iter()
                .filter(|&&n| n != 0)
                .count(),
            0
        );
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
