//! Audio comparison for the NSF tests: Game Music Emu (the `gme` crate's C++ build, reached
//! through its C API so single voices can be muted) and envelope / pitch measures.

use std::os::raw::{c_char, c_int, c_long, c_short, c_void};

// The gme crate compiles Game Music Emu and links it; these are its C entry points (gme.h).
use gme as _;

#[repr(C)]
pub struct MusicEmu {
    _private: [u8; 0],
}

extern "C" {
    fn gme_open_data(
        data: *const c_void,
        size: c_long,
        out: *mut *mut MusicEmu,
        sample_rate: c_int,
    ) -> *const c_char;
    fn gme_start_track(emu: *mut MusicEmu, index: c_int) -> *const c_char;
    fn gme_play(emu: *mut MusicEmu, count: c_int, out: *mut c_short) -> *const c_char;
    fn gme_mute_voices(emu: *mut MusicEmu, mask: c_int);
    fn gme_track_count(emu: *const MusicEmu) -> c_int;
    fn gme_delete(emu: *mut MusicEmu);
}

fn check(err: *const c_char) -> Result<(), String> {
    if err.is_null() {
        Ok(())
    } else {
        // SAFETY: gme returns a static NUL-terminated message.
        Err(unsafe { std::ffi::CStr::from_ptr(err) }
            .to_string_lossy()
            .into_owned())
    }
}

/// An NSF or NSFe file opened in Game Music Emu.
pub struct Gme {
    emu: *mut MusicEmu,
    sample_rate: u32,
}

impl Gme {
    pub fn open(file: &[u8], sample_rate: u32) -> Result<Gme, String> {
        let mut emu = std::ptr::null_mut();
        // SAFETY: gme copies what it needs from `file` before returning.
        check(unsafe {
            gme_open_data(
                file.as_ptr().cast(),
                file.len() as c_long,
                &mut emu,
                sample_rate as c_int,
            )
        })?;
        Ok(Gme { emu, sample_rate })
    }

    pub fn track_count(&self) -> usize {
        // SAFETY: `emu` is open.
        unsafe { gme_track_count(self.emu) as usize }
    }

    /// Renders `seconds` of track `track` (mono: the left channel) with only the voices in
    /// `voices` (bit 0 pulse 1 .. bit 3 noise, bit 4 DMC) sounding.
    pub fn render(&mut self, track: usize, voices: u32, seconds: f64) -> Result<Vec<f32>, String> {
        let frames = (seconds * f64::from(self.sample_rate)) as usize;
        let mut stereo = vec![0i16; frames * 2];
        // SAFETY: `emu` is open; gme writes exactly `count` samples.
        unsafe {
            gme_mute_voices(self.emu, !(voices as c_int));
            check(gme_start_track(self.emu, track as c_int))?;
            for chunk in stereo.chunks_mut(2048) {
                check(gme_play(self.emu, chunk.len() as c_int, chunk.as_mut_ptr()))?;
            }
        }
        Ok(stereo
            .chunks(2)
            .map(|s| f32::from(s[0]) / 32768.0)
            .collect())
    }
}

impl Drop for Gme {
    fn drop(&mut self) {
        // SAFETY: `emu` came from gme_open_data and is deleted once.
        unsafe { gme_delete(self.emu) }
    }
}

/// RMS per window of `win` samples.
pub fn rms_envelope(x: &[f32], win: usize) -> Vec<f64> {
    x.chunks(win)
        .filter(|c| c.len() == win)
        .map(|c| (c.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / win as f64).sqrt())
        .collect()
}

/// Pearson correlation of the common prefix of `a` and `b`.
pub fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    if n < 2 {
        return 0.0;
    }
    let (a, b) = (&a[..n], &b[..n]);
    let ma = a.iter().sum::<f64>() / n as f64;
    let mb = b.iter().sum::<f64>() / n as f64;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma).powi(2);
        sbb += (y - mb).powi(2);
    }
    if saa == 0.0 || sbb == 0.0 {
        return if saa == sbb { 1.0 } else { 0.0 };
    }
    sab / (saa * sbb).sqrt()
}

/// The best correlation of `a` against `b` shifted by up to `max_lag` windows either way, and
/// that lag (positive: `b` lags `a`).
pub fn best_correlation(a: &[f64], b: &[f64], max_lag: usize) -> (f64, isize) {
    let mut best = (f64::MIN, 0);
    for lag in -(max_lag as isize)..=max_lag as isize {
        let (x, y) = if lag >= 0 {
            (a, b.get(lag as usize..).unwrap_or(&[]))
        } else {
            (a.get((-lag) as usize..).unwrap_or(&[]), b)
        };
        let c = correlation(x, y);
        if c > best.0 {
            best = (c, lag);
        }
    }
    best
}

/// Fundamental frequency of each window of `win` samples (hop `win`), by normalized
/// autocorrelation: the first lag whose value comes within 10% of the best one between
/// `rate / max_hz` and `rate / min_hz`. `None` for quiet or unpitched windows.
pub fn pitch_track(x: &[f32], rate: u32, win: usize, min_hz: f64, max_hz: f64) -> Vec<Option<f64>> {
    let lo = (f64::from(rate) / max_hz) as usize;
    let hi = (f64::from(rate) / min_hz) as usize;
    x.chunks(win)
        .filter(|c| c.len() == win && win > hi)
        .map(|c| {
            let mean = c.iter().map(|&v| f64::from(v)).sum::<f64>() / win as f64;
            let v: Vec<f64> = c.iter().map(|&s| f64::from(s) - mean).collect();
            let energy: f64 = v.iter().map(|s| s * s).sum();
            if energy / (win as f64) < 1e-6 {
                return None;
            }
            let ac: Vec<f64> = (lo..=hi)
                .map(|lag| {
                    let n = win - lag;
                    v[..n].iter().zip(&v[lag..]).map(|(a, b)| a * b).sum::<f64>() / n as f64
                })
                .collect();
            let best = ac.iter().cloned().fold(f64::MIN, f64::max);
            if best <= 0.3 * energy / win as f64 {
                return None;
            }
            // First local peak near the best: avoids octave-down errors.
            let i = (1..ac.len() - 1).find(|&i| {
                ac[i] >= 0.9 * best && ac[i] >= ac[i - 1] && ac[i] >= ac[i + 1]
            })?;
            // Parabolic interpolation around the peak.
            let (a, b, c) = (ac[i - 1], ac[i], ac[i + 1]);
            let d = a - 2.0 * b + c;
            let shift = if d != 0.0 { 0.5 * (a - c) / d } else { 0.0 };
            Some(f64::from(rate) / ((lo + i) as f64 + shift))
        })
        .collect()
}

/// Compares two pitch tracks (after shifting `b` by `lag` windows): the correlation of log2
/// pitch over the windows both found a pitch in, and how many windows that was.
pub fn pitch_agreement(a: &[Option<f64>], b: &[Option<f64>], lag: isize) -> (f64, usize) {
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for (i, pa) in a.iter().enumerate() {
        let j = i as isize + lag;
        if j < 0 {
            continue;
        }
        if let (Some(x), Some(Some(y))) = (pa, b.get(j as usize)) {
            xs.push(x.log2());
            ys.push(y.log2());
        }
    }
    (correlation(&xs, &ys), xs.len())
}
