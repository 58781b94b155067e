//! The non-linear mixer: the two resistor-ladder DACs that sum the channels.
//!
//! See the nesdev wiki page "APU Mixer". Output is in the console's units: 0 to about 1.0 at
//! every channel's maximum.

/// Pulse DAC: 95.88 / (8128 / (p1 + p2) + 100); 0 when both are 0. Levels 0..15 each.
pub fn pulse_out(p1: f32, p2: f32) -> f32 {
    let sum = p1 + p2;
    if sum <= 0.0 {
        0.0
    } else {
        95.88 / (8128.0 / sum + 100.0)
    }
}

/// Triangle/noise/DMC DAC: 159.79 / (1 / (tri / 8227 + noise / 12241 + dmc / 22638) + 100); 0
/// when all are 0. The DMC is not used here.
pub fn tnd_out(triangle: f32, noise: f32) -> f32 {
    let weighted = triangle / 8227.0 + noise / 12241.0;
    if weighted <= 0.0 {
        0.0
    } else {
        159.79 / (1.0 / weighted + 100.0)
    }
}

/// The two DACs tabulated, so rendering does no division per level change. Pulse levels are
/// whole numbers; the triangle's may be 7.5 (ultrasonic), so it is indexed in half steps.
#[derive(Debug, Clone)]
pub struct MixTable {
    pulse: [f32; 31],
    tnd: [[f32; 16]; 31],
}

impl Default for MixTable {
    fn default() -> Self {
        let mut t = MixTable {
            pulse: [0.0; 31],
            tnd: [[0.0; 16]; 31],
        };
        for (i, p) in t.pulse.iter_mut().enumerate() {
            *p = pulse_out(i as f32, 0.0);
        }
        for (half_tri, row) in t.tnd.iter_mut().enumerate() {
            for (noise, v) in row.iter_mut().enumerate() {
                *v = tnd_out(half_tri as f32 / 2.0, noise as f32);
            }
        }
        t
    }
}

impl MixTable {
    /// [`pulse_out`] for levels 0..15.
    #[inline]
    pub fn pulse(&self, p1: f32, p2: f32) -> f32 {
        match self.pulse.get((p1 + p2) as usize) {
            Some(&v) if (p1 + p2).fract() == 0.0 => v,
            _ => pulse_out(p1, p2),
        }
    }

    /// [`tnd_out`] for triangle levels in half steps 0..15 and noise levels 0..15.
    #[inline]
    pub fn tnd(&self, triangle: f32, noise: f32) -> f32 {
        let row = self.tnd.get((triangle * 2.0) as usize);
        match row.and_then(|r| r.get(noise as usize)) {
            Some(&v) if (triangle * 2.0).fract() == 0.0 && noise.fract() == 0.0 => v,
            _ => tnd_out(triangle, noise),
        }
    }
}

/// The whole mix of the four voices' levels (pulse 1, pulse 2, triangle, noise).
pub fn mix(levels: [f32; 4]) -> f32 {
    pulse_out(levels[0], levels[1]) + tnd_out(levels[2], levels[3])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_points() {
        assert_eq!(mix([0.0; 4]), 0.0);
        // Full pulses: 95.88 / (8128 / 30 + 100) = 0.25848
        assert!((pulse_out(15.0, 15.0) - 0.258_48).abs() < 1e-4);
        // One pulse at 15: 95.88 / (541.87 + 100) = 0.14938
        assert!((pulse_out(15.0, 0.0) - 0.149_38).abs() < 1e-4);
        // Triangle 15 alone: 159.79 / (8227 / 15 + 100) = 0.24642
        assert!((tnd_out(15.0, 0.0) - 0.246_42).abs() < 1e-4);
        // Noise 15 alone: 159.79 / (12241 / 15 + 100) = 0.17439
        assert!((tnd_out(0.0, 15.0) - 0.174_39).abs() < 1e-4);
        // Non-linear: two at once is less than the sum.
        assert!(pulse_out(15.0, 15.0) < 2.0 * pulse_out(15.0, 0.0));
        assert!(tnd_out(15.0, 15.0) < tnd_out(15.0, 0.0) + tnd_out(0.0, 15.0));
    }

    #[test]
    fn table_matches_formulas() {
        let t = MixTable::default();
        for a in 0..16 {
            for b in 0..16 {
                let (a, b) = (a as f32, b as f32);
                assert_eq!(t.pulse(a, b), pulse_out(a, b));
                assert_eq!(t.tnd(a, b), tnd_out(a, b));
                assert_eq!(t.tnd(a + 0.5, b), tnd_out(a + 0.5, b));
            }
        }
        assert_eq!(
            t.pulse(0.25, 0.0),
            pulse_out(0.25, 0.0),
            "off-grid falls back"
        );
    }
}
