//! The console's output filters: first-order high-passes at 90 Hz and 440 Hz and a first-order
//! low-pass at 14 kHz, applied at the output sample rate.
//!
//! See the nesdev wiki page "APU Mixer" (section "Emulation", output filters).

use std::f64::consts::TAU;

/// First-order high-pass (an RC differentiator).
#[derive(Debug, Clone)]
pub struct HighPass {
    alpha: f32,
    last_in: f32,
    last_out: f32,
}

impl HighPass {
    pub fn new(sample_rate: f64, cutoff_hz: f64) -> HighPass {
        // The pole of the analog RC filter, mapped exactly (impulse invariance).
        HighPass {
            alpha: (-TAU * cutoff_hz / sample_rate).exp() as f32,
            last_in: 0.0,
            last_out: 0.0,
        }
    }

    pub fn process(&mut self, x: f32) -> f32 {
        let y = self.alpha * (self.last_out + x - self.last_in);
        self.last_in = x;
        // Flush denormals once the signal has died away.
        self.last_out = if y.abs() < 1e-20 { 0.0 } else { y };
        y
    }
}

/// First-order low-pass (an RC integrator).
#[derive(Debug, Clone)]
pub struct LowPass {
    alpha: f32,
    last_out: f32,
}

impl LowPass {
    pub fn new(sample_rate: f64, cutoff_hz: f64) -> LowPass {
        LowPass {
            alpha: 1.0 - (-TAU * cutoff_hz / sample_rate).exp() as f32,
            last_out: 0.0,
        }
    }

    pub fn process(&mut self, x: f32) -> f32 {
        let y = self.last_out + self.alpha * (x - self.last_out);
        self.last_out = if y.abs() < 1e-20 { 0.0 } else { y };
        y
    }
}

/// The NES (front-loader) chain: high-pass 90 Hz, high-pass 440 Hz, low-pass 14 kHz.
#[derive(Debug, Clone)]
pub struct FilterChain {
    high_90: HighPass,
    high_440: HighPass,
    low_14k: LowPass,
}

impl FilterChain {
    pub fn nes(sample_rate: f64) -> FilterChain {
        FilterChain {
            high_90: HighPass::new(sample_rate, 90.0),
            high_440: HighPass::new(sample_rate, 440.0),
            low_14k: LowPass::new(sample_rate, 14_000.0),
        }
    }

    /// Filters `samples` in place.
    pub fn process(&mut self, samples: &mut [f32]) {
        for s in samples {
            *s = self
                .low_14k
                .process(self.high_440.process(self.high_90.process(*s)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gain of the chain for a sine at `hz`, measured after the transient.
    fn gain(hz: f64) -> f64 {
        let rate = 44_100.0;
        let mut chain = FilterChain::nes(rate);
        let mut x: Vec<f32> = (0..44_100)
            .map(|i| (TAU * hz * i as f64 / rate).sin() as f32)
            .collect();
        chain.process(&mut x);
        let tail = &x[22_050..];
        let rms =
            (tail.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / tail.len() as f64).sqrt();
        rms * 2f64.sqrt()
    }

    #[test]
    fn corner_frequencies() {
        let g3k = gain(3000.0);
        assert!(g3k > 0.9, "mid band passes: {g3k}");
        // At 440 Hz the 440 Hz stage gives -3 dB and the 90 Hz stage a little more.
        let g440 = gain(440.0);
        assert!(g440 > 0.63 && g440 < 0.71, "{g440}");
        assert!(gain(30.0) < 0.03, "bass is cut");
        // About -3 dB; a one-pole filter this close to the Nyquist frequency is a little flatter.
        let g14k = gain(14_000.0);
        assert!(g14k > 0.6 && g14k < 0.85, "{g14k}");
        let mut dc = vec![0.5f32; 44_100];
        FilterChain::nes(44_100.0).process(&mut dc);
        assert!(dc[44_099].abs() < 1e-4, "DC is removed");
    }
}
