//! Score frames -> output (NMI) frames, exactly and without drift.
//!
//! nesdev wiki page "Cycle reference chart" (frame rates).
//!
//! A score at `r` frames per second is played by a routine called once per NMI. The ratio
//! R = output rate / r is held as an exact fraction and score frame i starts at output frame
//! `ceil(i * R)`, computed from the index alone (never by accumulating a float), so a song of any
//! length lands on the right frame: frame i lasts `ceil((i + 1) R) - ceil(i R)` output frames.
//! (The ceiling is the floor form shifted so the long frame comes first: 24 Hz on NTSC gives
//! 3, 2, 3, 2, ....)
//!
//! * NTSC: the ratio uses 60 Hz, not the true 60.0988 Hz NMI rate, so 24 Hz becomes exactly
//!   3, 2, 3, 2, ...; the music then plays 0.16% fast (about 6 s per hour), as with every NES
//!   driver, which counts NMIs.
//! * PAL: the true 50.007 Hz (1,662,607 / 33,247.5 = 3,325,214 / 66,495 Hz): 24 Hz gives 2.0836
//!   output frames per score frame, mostly 2 with a 3 every 12th frame or so.
//!
//! The score rate is taken to 1 uHz (`round(r * 1e6) / 1e6`), which makes R a fraction of
//! integers; a score frame shorter than an output frame (r > output rate) can get 0 frames.

use crate::region::Region;

/// The exact mapping from score frames to output frames for one score rate and region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameMap {
    /// R = num / den output frames per score frame.
    num: u128,
    den: u128,
}

impl FrameMap {
    /// The map for a score at `score_rate` Hz (must be finite and > 0; [`crate::Score::validate`]
    /// checks it) played in `region`.
    pub fn new(score_rate: f64, region: Region) -> FrameMap {
        // Output rate as a fraction out_num / out_den.
        let (out_num, out_den): (u128, u128) = match region {
            Region::Ntsc => (60, 1),
            Region::Pal => (3_325_214, 66_495),
        };
        let r_micro = (score_rate * 1e6).round().max(1.0) as u128;
        // R = (out_num / out_den) / (r_micro / 1e6)
        let num = out_num * 1_000_000;
        let den = out_den * r_micro;
        let g = gcd(num, den);
        FrameMap {
            num: num / g,
            den: den / g,
        }
    }

    /// Output frames per score frame, R.
    pub fn ratio(&self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// First output frame of score frame `i`: `ceil(i * R)`. For `i` = the score length this is
    /// the total number of output frames.
    pub fn start(&self, i: usize) -> usize {
        let i = i as u128;
        ((i * self.num).div_ceil(self.den)) as usize
    }

    /// Number of output frames score frame `i` lasts.
    pub fn frames_of(&self, i: usize) -> usize {
        self.start(i + 1) - self.start(i)
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntsc_24hz_is_3_2_3_2() {
        let m = FrameMap::new(24.0, Region::Ntsc);
        assert_eq!(m.ratio(), 2.5);
        let counts: Vec<usize> = (0..8).map(|i| m.frames_of(i)).collect();
        assert_eq!(counts, [3, 2, 3, 2, 3, 2, 3, 2]);
        // Ten hours of 24 Hz frames: exactly 2.5 each.
        let n = 24 * 3600 * 10;
        assert_eq!(m.start(n), n * 5 / 2);
        assert_eq!(m.start(n + 1), n * 5 / 2 + 3);
    }

    #[test]
    fn pal_24hz_no_drift() {
        let m = FrameMap::new(24.0, Region::Pal);
        assert!((m.ratio() - 2.0836).abs() < 1e-4, "{}", m.ratio());
        let exact = Region::Pal.frame_hz() / 24.0;
        let mut total = 0usize;
        for i in 0..200_000 {
            let c = m.frames_of(i);
            assert!(c == 2 || c == 3, "frame {i}: {c}");
            total += c;
            assert_eq!(total, m.start(i + 1));
        }
        // After 10 hours the start is still within one output frame of the true time.
        let n = 24 * 3600 * 10usize;
        let ideal = n as f64 * exact;
        assert!(
            (m.start(n) as f64 - ideal).abs() < 1.0,
            "{} vs {ideal}",
            m.start(n)
        );
        assert_eq!(m.start(n), ideal.ceil() as usize);
    }

    #[test]
    fn other_rates() {
        let m = FrameMap::new(60.0, Region::Ntsc);
        assert!((0..100).all(|i| m.frames_of(i) == 1));
        let m = FrameMap::new(120.0, Region::Ntsc);
        assert_eq!(m.start(10), 5);
        let m = FrameMap::new(23.976, Region::Ntsc);
        let n = 1_000_000usize;
        let ideal = n as f64 * 60.0 / 23.976;
        assert!((m.start(n) as f64 - ideal).abs() < 1.0);
    }
}
