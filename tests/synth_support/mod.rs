//! Signal analysis and stream building shared by the synth tests.
#![allow(dead_code)]

use nesmm::{ApuStream, RegWrite, Region};

/// Builds a stream frame by frame.
pub struct StreamBuilder {
    pub region: Region,
    pub init: Vec<RegWrite>,
    pub frames: Vec<Vec<RegWrite>>,
}

impl StreamBuilder {
    pub fn new(region: Region, frames: usize) -> StreamBuilder {
        StreamBuilder {
            region,
            init: Vec::new(),
            frames: vec![Vec::new(); frames],
        }
    }

    pub fn init(&mut self, addr: u16, value: u8) {
        self.init.push(RegWrite::new(addr, value));
    }

    pub fn at(&mut self, frame: usize, addr: u16, value: u8) {
        self.frames[frame].push(RegWrite::new(addr, value));
    }

    pub fn build(&self, name: &str) -> ApuStream {
        let mut s = ApuStream::new(name, self.region);
        s.init = self.init.clone();
        for f in &self.frames {
            s.push_frame(f);
        }
        s
    }
}

/// Pulse timer for MIDI note `m` (as NES-MDB computes it).
pub fn pulse_timer(region: Region, m: f64) -> u16 {
    let f = 440.0 * 2f64.powf((m - 69.0) / 12.0);
    (region.cpu_hz() / (16.0 * f) - 1.0).round() as u16
}

/// Triangle timer for MIDI note `m`.
pub fn triangle_timer(region: Region, m: f64) -> u16 {
    let f = 440.0 * 2f64.powf((m - 69.0) / 12.0);
    (region.cpu_hz() / (32.0 * f) - 1.0).round() as u16
}

/// Frequency from rising crossings: each time the signal, having been below 30 % of its lowest
/// value, rises through 30 % of its highest, the crossing time (interpolated between samples) is
/// one period mark. The hysteresis ignores the ringing and droop the output filters add near zero.
pub fn zero_crossing_hz(x: &[f32], rate: f64) -> Option<f64> {
    let high = x.iter().fold(0f32, |m, &v| m.max(v)) * 0.3;
    let low = x.iter().fold(0f32, |m, &v| m.min(v)) * 0.3;
    if high <= 0.0 || low >= 0.0 {
        return None;
    }
    let mut armed = false;
    let mut crossings = Vec::new();
    for i in 1..x.len() {
        if x[i] < low {
            armed = true;
        }
        if armed && x[i] > high {
            let frac = (high - x[i - 1]) / (x[i] - x[i - 1]);
            crossings.push((i - 1) as f64 + f64::from(frac));
            armed = false;
        }
    }
    if crossings.len() < 3 {
        return None;
    }
    // A decaying note can drop a mark: count each gap as the whole number of median periods it
    // spans, then divide the total span by the periods counted.
    let mut gaps: Vec<f64> = crossings.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.sort_by(f64::total_cmp);
    let median = gaps[gaps.len() / 2];
    let periods: f64 = gaps.iter().map(|g| (g / median).round()).sum();
    let span = crossings[crossings.len() - 1] - crossings[0];
    Some(periods * rate / span)
}

/// RMS per window of `window` samples.
pub fn rms_envelope(x: &[f32], window: usize) -> Vec<f64> {
    x.chunks(window)
        .filter(|c| c.len() == window)
        .map(|c| (c.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / window as f64).sqrt())
        .collect()
}

/// Pearson correlation.
pub fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let ma = a.iter().sum::<f64>() / n as f64;
    let mb = b.iter().sum::<f64>() / n as f64;
    let mut sab = 0.0;
    let mut saa = 0.0;
    let mut sbb = 0.0;
    for i in 0..n {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma).powi(2);
        sbb += (b[i] - mb).powi(2);
    }
    sab / (saa * sbb).sqrt()
}

/// In-place iterative radix-2 FFT on (re, im); `re.len()` must be a power of two.
pub fn fft(re: &mut [f64], im: &mut [f64]) {
    let n = re.len();
    let mut j = 0;
    for i in 1..n {
        let mut bit = n >> 1;
        while j & bit != 0 {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
        if i < j {
            re.swap(i, j);
            im.swap(i, j);
        }
    }
    let mut len = 2;
    while len <= n {
        let ang = -2.0 * std::f64::consts::PI / len as f64;
        for start in (0..n).step_by(len) {
            for k in 0..len / 2 {
                let (s, c) = (ang * k as f64).sin_cos();
                let (a, b) = (start + k, start + k + len / 2);
                let tr = re[b] * c - im[b] * s;
                let ti = re[b] * s + im[b] * c;
                re[b] = re[a] - tr;
                im[b] = im[a] - ti;
                re[a] += tr;
                im[a] += ti;
            }
        }
        len <<= 1;
    }
}

/// Magnitude spectrum in dB (relative to its maximum) of `x` under a 4-term Blackman-Harris
/// window (sidelobes below -92 dB).
pub fn spectrum_db(x: &[f32]) -> Vec<f64> {
    let n = x.len();
    let mut re: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let t = 2.0 * std::f64::consts::PI * i as f64 / n as f64;
            let w =
                0.35875 - 0.48829 * t.cos() + 0.14128 * (2.0 * t).cos() - 0.01168 * (3.0 * t).cos();
            f64::from(v) * w
        })
        .collect();
    let mut im = vec![0.0; n];
    fft(&mut re, &mut im);
    let mag: Vec<f64> = (0..n / 2)
        .map(|i| (re[i].powi(2) + im[i].powi(2)).sqrt())
        .collect();
    let max = mag.iter().cloned().fold(1e-300, f64::max);
    mag.iter()
        .map(|&m| 20.0 * (m.max(1e-300) / max).log10())
        .collect()
}

/// Highest spectrum level (dB relative to the strongest peak) away from DC and from every harmonic
/// of `f0`: the aliasing (and any other spurious content) of a periodic tone.
pub fn worst_non_harmonic_db(x: &[f32], rate: f64, f0: f64) -> f64 {
    let db = spectrum_db(x);
    let bin_hz = rate / x.len() as f64;
    let guard = 8.0; // bins: the window's main lobe is +-4
    let mut worst = f64::NEG_INFINITY;
    for (i, &d) in db.iter().enumerate() {
        let f = i as f64 * bin_hz;
        if f < 100.0 {
            continue;
        }
        let k = (f / f0).round();
        if k >= 1.0 && (f - k * f0).abs() <= guard * bin_hz {
            continue;
        }
        worst = worst.max(d);
    }
    worst
}
