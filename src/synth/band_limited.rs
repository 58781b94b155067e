//! Band-limited step synthesis (the "blip buffer" technique).
//!
//! The APU's output is piecewise constant, changing at exact CPU cycles. Sampling it directly
//! folds every harmonic above the Nyquist frequency back into the audible band (aliasing). Here
//! each change of level is added as a band-limited impulse (a windowed sinc centred on the change's
//! exact fractional sample time) into a delta buffer; the running sum of that buffer is the
//! signal made of band-limited steps. See the nesdev wiki page "APU Mixer" (emulation notes) and
//! Shay Green's blip_buf for the idea.

use std::sync::OnceLock;

/// Kernel length in output samples.
pub const TAPS: usize = 32;
/// Sub-sample positions the kernel is tabulated at (1/1024 sample resolution).
pub const PHASES: usize = 1024;
/// Half width of the kernel: a change at sample position p affects samples p - HALF + 1 ..= p + HALF.
const HALF: usize = TAPS / 2;
/// Cutoff as a fraction of the sample rate: the Kaiser window's transition band (about 0.16 fs for
/// 32 taps at 80 dB) ends at the Nyquist frequency, so whatever would alias is 80 dB down.
const CUTOFF: f64 = 0.42;
/// Kaiser window shape for about 80 dB of stop-band attenuation.
const KAISER_BETA: f64 = 7.86;

/// Zeroth-order modified Bessel function of the first kind (series).
fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    let q = x * x / 4.0;
    for k in 1..64 {
        term *= q / (k * k) as f64;
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    sum
}

/// `PHASES + 1` rows of `TAPS` coefficients; row p is the impulse for a change at fraction
/// p / PHASES of a sample. Every row sums to 1, so a step settles at exactly its height.
fn kernel() -> &'static [[f32; TAPS]] {
    static KERNEL: OnceLock<Vec<[f32; TAPS]>> = OnceLock::new();
    KERNEL.get_or_init(|| {
        let i0_beta = bessel_i0(KAISER_BETA);
        (0..=PHASES)
            .map(|p| {
                let frac = p as f64 / PHASES as f64;
                let mut row = [0f64; TAPS];
                for (k, c) in row.iter_mut().enumerate() {
                    // Distance from the change to sample k of the window.
                    let x = k as f64 - (HALF as f64 - 1.0) - frac;
                    let r = x / HALF as f64;
                    let window = if r.abs() >= 1.0 {
                        0.0
                    } else {
                        bessel_i0(KAISER_BETA * (1.0 - r * r).sqrt()) / i0_beta
                    };
                    let arg = std::f64::consts::PI * 2.0 * CUTOFF * x;
                    let sinc = if arg.abs() < 1e-12 {
                        1.0
                    } else {
                        arg.sin() / arg
                    };
                    *c = sinc * window;
                }
                let sum: f64 = row.iter().sum();
                row.map(|c| (c / sum) as f32)
            })
            .collect()
    })
}

/// Accumulates band-limited level changes placed at CPU-cycle times.
#[derive(Debug, Clone)]
pub struct BlipBuffer {
    /// Output samples per CPU cycle.
    samples_per_cycle: f64,
    /// The shared kernel table.
    kernel: &'static [[f32; TAPS]],
    /// Band-limited impulses, offset by `HALF` samples so the kernel's left half fits.
    deltas: Vec<f32>,
}

impl BlipBuffer {
    /// A buffer for `cycles` CPU cycles at `cpu_hz`, producing `sample_rate` samples a second.
    pub fn new(cpu_hz: f64, sample_rate: u32, cycles: u64) -> BlipBuffer {
        let samples_per_cycle = f64::from(sample_rate) / cpu_hz;
        let samples = (cycles as f64 * samples_per_cycle).ceil() as usize;
        BlipBuffer {
            samples_per_cycle,
            kernel: kernel(),
            deltas: vec![0.0; samples + TAPS + 1],
        }
    }

    /// Number of output samples [`BlipBuffer::finish`] returns.
    pub fn len(&self) -> usize {
        self.deltas.len() - TAPS - 1
    }

    /// Whether the buffer holds no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds a step of height `delta` at CPU cycle `cycle`. Changes past the end are dropped.
    #[inline]
    pub fn add_delta(&mut self, cycle: u64, delta: f32) {
        // The running sum of a sampled impulse centred at q equals the band-limited step at
        // q - 0.5 (sample n sums the impulse up to n + 0.5), hence the half-sample shift.
        let pos = cycle as f64 * self.samples_per_cycle + 0.5;
        // In 1/PHASES of a sample, rounded; positions are never negative, so `as` truncates.
        let fine = (pos * PHASES as f64 + 0.5) as usize;
        let (index, phase) = (fine / PHASES, fine % PHASES);
        let row = &self.kernel[phase];
        if let Some(dst) = self.deltas.get_mut(index..index + TAPS) {
            let dst: &mut [f32; TAPS] = dst.try_into().expect("slice of TAPS");
            for k in 0..TAPS {
                dst[k] += delta * row[k];
            }
        }
    }

    /// The signal: the running sum of the deltas, aligned so sample n is time n / rate.
    pub fn finish(self) -> Vec<f32> {
        let len = self.len();
        let mut out = Vec::with_capacity(len);
        if len == 0 {
            return out;
        }
        // Kernel centre for a change at sample position p sits at index p + HALF - 1.
        let mut level = 0f64;
        for (i, &d) in self.deltas.iter().enumerate() {
            level += f64::from(d);
            if i + 1 >= HALF {
                out.push(level as f32);
                if out.len() == len {
                    break;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_rows_sum_to_one_and_are_symmetric() {
        let k = kernel();
        for row in k {
            let s: f32 = row.iter().sum();
            assert!((s - 1.0).abs() < 1e-5);
        }
        // Half a sample: symmetric about the gap between taps HALF - 1 and HALF.
        let mid = &k[PHASES / 2];
        for i in 0..HALF {
            assert!((mid[i] - mid[TAPS - 1 - i]).abs() < 1e-6);
        }
    }

    #[test]
    fn empty_buffer_gives_no_samples() {
        let mut b = BlipBuffer::new(1_789_773.0, 44_100, 0);
        b.add_delta(0, 1.0);
        assert!(b.is_empty());
        assert!(b.finish().is_empty());
    }

    #[test]
    fn step_settles_at_its_height_at_its_time() {
        // 1000 cycles per sample for easy arithmetic.
        let mut b = BlipBuffer::new(44_100_000.0, 44_100, 200_000);
        b.add_delta(100_500, 1.0); // at sample 100.5
        let out = b.finish();
        assert_eq!(out.len(), 200);
        assert!(out[80].abs() < 1e-3, "before the step: {}", out[80]);
        assert!((out[120] - 1.0).abs() < 1e-3, "after: {}", out[120]);
        assert!(
            (out[100] + out[101] - 1.0).abs() < 1e-3,
            "halfway at 100.5: {:?}",
            &out[98..104]
        );
    }
}
