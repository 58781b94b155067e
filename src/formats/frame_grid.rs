//! APU frames laid on a score's time grid, for exact round trips through sample-timed logs.
//!
//! A score frame at `r` Hz is played as whole NMI frames ([`FrameMap`]: 3, 2, 3, 2, ... at
//! 24 Hz on NTSC), but a VGM or NES-MDB reader measures time in 44.1 kHz samples and cuts it
//! into windows `[floor(i * 44100 / r), floor((i + 1) * 44100 / r))`. Placing NMI frame `j` at
//! real time drifts 0.16% against those windows (the player counts 60 Hz, the console runs
//! 60.0988 Hz) and lets an NMI frame straddle two windows. Here the NMI frames of score frame
//! `i` instead share window `i` evenly, so each window holds exactly the frames that played
//! score frame `i`. The same map is used both ways: writing a score's VGM, and reading an NSF's
//! PLAY calls back into 24 Hz frames ([`super::nsf_import`]).

use super::vgm::{Gd3, LoopStart, VgmLog, VgmWrite, NTSC_CLOCK, PAL_CLOCK};
use crate::apu_stream::ApuStream;
use crate::compile::timing::FrameMap;
use crate::region::Region;
use crate::score::Score;

/// First 44.1 kHz sample of window `i` at `rate` Hz, as NES-MDB computes it at 24 Hz
/// (`int(i / 24 * 44100.)`).
pub fn window_start(rate: f64, i: usize) -> u64 {
    (i as f64 / rate * 44100.0) as u64
}

/// NMI frames laid on the windows of a score at `rate` Hz.
#[derive(Debug, Clone, Copy)]
pub struct FrameGrid {
    map: FrameMap,
    rate: f64,
}

impl FrameGrid {
    pub fn new(map: FrameMap, rate: f64) -> FrameGrid {
        FrameGrid { map, rate }
    }

    /// The score frame NMI frame `j` belongs to: the last `i` with `map.start(i) <= j`.
    pub fn score_frame(&self, j: u64) -> usize {
        let mut i = (j as f64 / self.map.ratio()) as usize;
        while i > 0 && self.map.start(i) as u64 > j {
            i -= 1;
        }
        while self.map.start(i + 1) as u64 <= j {
            i += 1;
        }
        i
    }

    /// The sample NMI frame `j` starts at: its share of its score frame's window.
    pub fn sample(&self, j: u64) -> u64 {
        let i = self.score_frame(j);
        let (w0, w1) = (window_start(self.rate, i), window_start(self.rate, i + 1));
        let first = self.map.start(i) as u64;
        let count = self.map.frames_of(i).max(1) as u64;
        w0 + (j - first) * (w1 - w0) / count
    }
}

/// One APU register write: offset from $4000 and value.
pub type ApuWrite = (u8, u8);

/// Whether extra frame-counter clocks leave every voice as it is: the pulses and the noise at
/// constant volume with their length counters halted, the sweeps off. Then a `$4017` write,
/// which clocks the envelopes, length counters and sweeps at once, only moves the triangle's
/// linear-counter clock.
pub fn clocks_are_harmless<'a>(writes: impl IntoIterator<Item = &'a ApuWrite>) -> bool {
    writes.into_iter().all(|&(reg, v)| match reg {
        0x00 | 0x04 | 0x0C => v & 0x30 == 0x30,
        0x01 | 0x05 => v & 0x80 == 0,
        _ => true,
    })
}

/// The init writes (at sample 0) and each NMI frame's writes at `sample(j)`, as a log's
/// writes; also the index of frame `loop_frame`'s first write.
///
/// With `sync_triangle`, a frame's triangle writes (`$4008-$400B`) go one sample early, followed
/// by `$4017 = $C0`, which clocks the frame counter at once (nesdev wiki "APU Frame Counter"):
/// the triangle then starts and stops on the frame's first sample, as the pulses and noise do,
/// instead of at the next quarter frame up to 4 ms later. NES-MDB's rule makes a 24 Hz frame
/// sound when any of its samples sounds, so without this a triangle rest would read back as a
/// note. Use it only where [`clocks_are_harmless`].
pub fn grid_writes<'a>(
    init: &[ApuWrite],
    frames: impl IntoIterator<Item = &'a [ApuWrite]>,
    sample: impl Fn(u64) -> u64,
    sync_triangle: bool,
    loop_frame: Option<usize>,
) -> (Vec<VgmWrite>, Option<LoopStart>) {
    let at = |sample: u64| move |&(reg, value): &ApuWrite| VgmWrite { sample, reg, value };
    let mut out: Vec<VgmWrite> = init.iter().map(at(0)).collect();
    let mut loop_start = None;
    for (j, frame) in frames.into_iter().enumerate() {
        let s = sample(j as u64);
        let early = s.saturating_sub(1).max(out.last().map_or(0, |w| w.sample));
        if loop_frame == Some(j) {
            let first = if sync_triangle { early } else { s };
            loop_start = Some(LoopStart {
                sample: first,
                write_index: out.len(),
            });
        }
        let triangle = |w: &&ApuWrite| (0x08..=0x0B).contains(&w.0);
        if sync_triangle && frame.iter().any(|w| triangle(&w)) {
            out.extend(frame.iter().filter(triangle).map(at(early)));
            out.push(VgmWrite {
                sample: early,
                reg: 0x17,
                value: 0xC0,
            });
            out.extend(frame.iter().filter(|w| !triangle(w)).map(at(s)));
        } else {
            out.extend(frame.iter().map(at(s)));
        }
    }
    (out, loop_start)
}

/// Writes the compiled `stream` of `score` as a VGM on the score's grid: reading it back with
/// [`super::vgm_score::vgm_to_score`] gives the score's frames. The log is
/// `score.source_samples` long when the score came from a log (so it keeps its length), else
/// `ceil(N * 44100 / rate)` samples, the shortest length that still holds N windows. The
/// compiler plays every voice at constant volume with halted length counters, so the triangle
/// is synchronised ([`grid_writes`]).
pub fn score_stream_to_vgm(score: &Score, stream: &ApuStream) -> Vec<u8> {
    let grid = FrameGrid::new(FrameMap::new(score.rate, stream.region), score.rate);
    let n = score.len();
    let total = score
        .source_samples
        .filter(|&s| super::vgm_score::frame_count(s) == n && score.rate == 24.0)
        .unwrap_or_else(|| (n as f64 * 44100.0 / score.rate).ceil() as u64);
    let pairs = |ws: &[crate::apu_stream::RegWrite]| -> Vec<ApuWrite> {
        ws.iter()
            .map(|w| (w.addr.wrapping_sub(0x4000) as u8, w.value))
            .collect()
    };
    let init = pairs(&stream.init);
    let frames: Vec<Vec<ApuWrite>> = stream.frames().map(pairs).collect();
    let sync = clocks_are_harmless(init.iter().chain(frames.iter().flatten()));
    // Frames past the score's end (the compiler's closing silence) fall outside the log.
    let (writes, loop_start) = grid_writes(
        &init,
        frames.iter().map(Vec::as_slice),
        |j| grid.sample(j).min(total),
        sync,
        score.loop_frame.map(|l| grid_frame(&grid, l)),
    );
    let writes: Vec<VgmWrite> = writes.into_iter().filter(|w| w.sample < total).collect();
    let loop_start = loop_start.filter(|l| l.write_index < writes.len());
    let log = VgmLog {
        clock: match stream.region {
            Region::Ntsc => NTSC_CLOCK,
            Region::Pal => PAL_CLOCK,
        },
        total_samples: total,
        loop_samples: loop_start.map_or(0, |l| total - l.sample),
        loop_start,
        writes,
        gd3: Some(Gd3::for_song(&score.name)),
        skipped_commands: 0,
    };
    log.to_bytes()
}

/// The first NMI frame of score frame `i`.
fn grid_frame(grid: &FrameGrid, i: usize) -> usize {
    grid.map.start(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntsc_24hz_frames_share_their_windows() {
        let grid = FrameGrid::new(FrameMap::new(24.0, Region::Ntsc), 24.0);
        // 3, 2, 3, 2 NMI frames per score frame; windows of 1837 and 1838 samples.
        let starts: Vec<u64> = (0..6).map(|j| grid.sample(j)).collect();
        assert_eq!(starts, [0, 612, 1224, 1837, 2756, 3675]);
        assert_eq!(grid.score_frame(4), 1);
        assert_eq!(grid.score_frame(5), 2);
        // No drift after an hour: NMI frame 216,000 starts window 86,400 exactly.
        assert_eq!(grid.score_frame(216_000), 86_400);
        assert_eq!(grid.sample(216_000), window_start(24.0, 86_400));
    }

    #[test]
    fn pal_frames_follow_the_map() {
        let map = FrameMap::new(24.0, Region::Pal);
        let grid = FrameGrid::new(map, 24.0);
        for i in [0usize, 1, 11, 12, 1000] {
            let j = map.start(i) as u64;
            assert_eq!(grid.score_frame(j), i);
            assert_eq!(grid.sample(j), window_start(24.0, i));
        }
    }
}
