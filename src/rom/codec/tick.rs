//! The player's tick clock: which frames run the streams.
//!
//! NES-MDB scores are 24 Hz and the compiler starts score frame `i` at output frame
//! `ceil(i * R)` (`src/compile/timing.rs`, R = output rate / 24: 3, 2, 3, 2, ... on NTSC), so
//! every write of a compiled song falls on such a *tick* frame. Counting waits in ticks instead
//! of frames makes a pattern's bytes the same wherever it falls in the 3/2 cycle, which is what
//! lets back-references match. The player keeps a 16-bit accumulator: each frame it adds
//! `step`; when the sum reaches `modulus` it subtracts `modulus` and the frame is a tick, so
//! tick `k` falls on frame `ceil(k * modulus / step)`. `step = modulus = 1` ticks every frame
//! (waits counted in frames), which any song can use.

use crate::apu_stream::ApuStream;
use crate::region::Region;

/// Ticks per frame as `step / modulus` (`1 <= step <= modulus <= 32768`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TickRule {
    pub step: u16,
    pub modulus: u16,
}

impl Default for TickRule {
    fn default() -> Self {
        TickRule::EVERY_FRAME
    }
}

/// Largest modulus: the player tests the accumulator's sign.
pub const MAX_MODULUS: u16 = 0x8000;

impl TickRule {
    /// Every frame is a tick: waits count frames.
    pub const EVERY_FRAME: TickRule = TickRule {
        step: 1,
        modulus: 1,
    };

    /// Whether the player can run this rule.
    pub fn is_valid(self) -> bool {
        1 <= self.step && self.step <= self.modulus && self.modulus <= MAX_MODULUS
    }

    /// The accumulator before frame 0 (`modulus - step`, so frame 0 is a tick).
    pub fn start(self) -> u32 {
        u32::from(self.modulus - self.step)
    }

    /// One frame of the clock: true when the frame is a tick.
    pub fn advance(self, acc: &mut u32) -> bool {
        *acc += u32::from(self.step);
        if *acc >= u32::from(self.modulus) {
            *acc -= u32::from(self.modulus);
            true
        } else {
            false
        }
    }

    /// For each of the first `frames` frames, whether it is a tick; and the accumulator after
    /// each frame.
    pub fn ticks(self, frames: usize) -> (Vec<bool>, Vec<u32>) {
        let mut acc = self.start();
        let mut ticks = Vec::with_capacity(frames);
        let mut after = Vec::with_capacity(frames);
        for _ in 0..frames {
            ticks.push(self.advance(&mut acc));
            after.push(acc);
        }
        (ticks, after)
    }

    /// Rules that reproduce a 24 Hz score in `region`, most exact first: the continued-fraction
    /// convergents of 24 / output rate with a modulus the player takes.
    pub fn candidates_24hz(region: Region) -> Vec<TickRule> {
        // Ticks per frame = 24 / output rate, as a fraction (see src/compile/timing.rs).
        let (num, den): (u64, u64) = match region {
            Region::Ntsc => (24, 60),
            Region::Pal => (24 * 66_495, 3_325_214),
        };
        let (mut n, mut d) = (num, den);
        let (mut p0, mut q0, mut p1, mut q1) = (0u64, 1u64, 1u64, 0u64);
        let mut out = Vec::new();
        while d != 0 {
            let a = n / d;
            let (p2, q2) = (a * p1 + p0, a * q1 + q0);
            if q2 > u64::from(MAX_MODULUS) {
                break;
            }
            (p0, q0, p1, q1) = (p1, q1, p2, q2);
            if let (Ok(step), Ok(modulus)) = (u16::try_from(p2), u16::try_from(q2)) {
                let r = TickRule { step, modulus };
                if r.is_valid() {
                    out.push(r);
                }
            }
            (n, d) = (d, n - a * d);
        }
        out.reverse();
        out
    }

    /// Whether the player running `stream` on this rule writes exactly the song: every write
    /// is on a tick frame, and (for a looping song) the clock is in the same state at the end
    /// as at the loop frame, so every pass ticks alike.
    pub fn fits(self, stream: &ApuStream, loop_frame: Option<usize>) -> bool {
        if !self.is_valid() {
            return false;
        }
        let (ticks, after) = self.ticks(stream.len());
        if !stream.frames().zip(&ticks).all(|(f, &t)| t || f.is_empty()) {
            return false;
        }
        match loop_frame {
            // State before frame l = state after frame l - 1.
            Some(l) if l < stream.len() => {
                let before = |f: usize| if f == 0 { self.start() } else { after[f - 1] };
                before(l) == before(stream.len())
            }
            _ => true,
        }
    }

    /// The rule a song is encoded with: the most exact 24 Hz rule that fits it, else every
    /// frame.
    pub fn choose(stream: &ApuStream, loop_frame: Option<usize>) -> TickRule {
        TickRule::candidates_24hz(stream.region)
            .into_iter()
            .filter(|r| *r != TickRule::EVERY_FRAME)
            .find(|r| r.fits(stream, loop_frame))
            .unwrap_or(TickRule::EVERY_FRAME)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::timing::FrameMap;

    #[test]
    fn ntsc_rule_is_the_frame_map() {
        let r = TickRule::candidates_24hz(Region::Ntsc)[0];
        assert_eq!((r.step, r.modulus), (2, 5));
        let map = FrameMap::new(24.0, Region::Ntsc);
        let (ticks, _) = r.ticks(100_000);
        let want: Vec<usize> = (0..40_000).map(|k| map.start(k)).collect();
        let got: Vec<usize> = (0..ticks.len()).filter(|&f| ticks[f]).collect();
        assert_eq!(&got[..want.len()], &want[..]);
    }

    #[test]
    fn pal_rule_matches_the_frame_map_for_twenty_minutes() {
        let r = TickRule::candidates_24hz(Region::Pal)[0];
        assert!(r.modulus > 10_000 && r.is_valid(), "{r:?}");
        let map = FrameMap::new(24.0, Region::Pal);
        let frames = 50 * 60 * 20;
        let (ticks, _) = r.ticks(frames);
        let got: Vec<usize> = (0..frames).filter(|&f| ticks[f]).collect();
        let want: Vec<usize> = (0..got.len()).map(|k| map.start(k)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn fits_checks_writes_and_loop_phase() {
        use crate::apu_stream::RegWrite;
        let r = TickRule {
            step: 2,
            modulus: 5,
        };
        let mut s = ApuStream::new("t", Region::Ntsc);
        for f in 0..10 {
            let on_tick = [0, 3, 5, 8].contains(&f);
            let w = [RegWrite::new(0x4000, f as u8)];
            s.push_frame(if on_tick { &w } else { &[] });
        }
        assert!(r.fits(&s, None));
        // 10 frames = 4 ticks; looping to frame 5 (state 0 before it) matches the end (state 0).
        assert!(r.fits(&s, Some(5)));
        assert!(
            !r.fits(&s, Some(3)),
            "clock phase at 3 differs from the end"
        );
        assert_eq!(TickRule::choose(&s, Some(3)), TickRule::EVERY_FRAME);
        s.push_frame(&[RegWrite::new(0x4000, 1)]); // frame 10 is a tick
        s.push_frame(&[RegWrite::new(0x4000, 1)]); // frame 11 is not
        assert!(!r.fits(&s, None));
        assert!(!TickRule {
            step: 3,
            modulus: 2
        }
        .is_valid());
    }
}
