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
    fn gme_track_info(emu: *const MusicEmu, out: *mut *mut GmeInfo, track: c_int) -> *const c_char;
    fn gme_free_info(info: *mut GmeInfo);
    fn gme_delete(emu: *mut MusicEmu);
}

/// `gme_info_t` (gme.h): times in milliseconds (-1 unknown), then strings ("" unknown).
#[repr(C)]
struct GmeInfo {
    length: c_int,
    intro_length: c_int,
    loop_length: c_int,
    play_length: c_int,
    reserved_ints: [c_int; 12],
    system: *const c_char,
    game: *const c_char,
    song: *const c_char,
    author: *const c_char,
    copyright: *const c_char,
    comment: *const c_char,
    dumper: *const c_char,
    reserved_strings: [*const c_char; 9],
}

/// What gme reads of a track's metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackInfo {
    /// Length in ms, -1 when the file gives none.
    pub length_ms: i32,
    pub game: String,
    pub song: String,
    pub author: String,
    pub copyright: String,
}

fn gme_string(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: gme's info strings are NUL-terminated and live as long as the info.
    unsafe { std::ffi::CStr::from_ptr(p) }
        .to_string_lossy()
        .into_owned()
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

    /// Track `track`'s metadata as gme reads it (NSFe: `tlbl`, `time`, `auth`).
    pub fn track_info(&self, track: usize) -> Result<TrackInfo, String> {
        let mut info = std::ptr::null_mut();
        // SAFETY: `emu` is open; gme allocates `info`, freed below.
        check(unsafe { gme_track_info(self.emu, &mut info, track as c_int) })?;
        // SAFETY: gme returned a valid info.
        let i = unsafe { &*info };
        let out = TrackInfo {
            length_ms: i.length,
            game: gme_string(i.game),
            song: gme_string(i.song),
            author: gme_string(i.author),
            copyright: gme_string(i.copyright),
        };
        // SAFETY: allocated by gme_track_info.
        unsafe { gme_free_info(info) };
        Ok(out)
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

/// RMS envelope: one value every `hop` samples, the RMS of the `3 * hop` samples centred
/// there (a window of three hops keeps a low note's waveform period from showing as ripple).
pub fn rms_envelope(x: &[f32], hop: usize) -> Vec<f64> {
    let mut sq = vec![0.0f64; x.len() + 1];
    for (i, &v) in x.iter().enumerate() {
        sq[i + 1] = sq[i] + f64::from(v).powi(2);
    }
    (0..x.len() / hop)
        .map(|k| {
            let c = k * hop + hop / 2;
            let lo = c.saturating_sub(3 * hop / 2);
            let hi = (c + 3 * hop / 2).min(x.len());
            ((sq[hi] - sq[lo]) / (hi - lo).max(1) as f64).sqrt()
        })
        .collect()
}

/// RMS of consecutive windows of `win` samples (the last, partial one left out).
pub fn frame_rms(x: &[f32], win: usize) -> Vec<f64> {
    x.chunks_exact(win)
        .map(|c| (c.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / win as f64).sqrt())
        .collect()
}

/// The lag in samples (within `max` either way) that best lines `b` up with `a`, from the
/// cross-correlation of their 1 ms RMS envelopes.
pub fn sample_lag(a: &[f32], b: &[f32], rate: u32, max_ms: usize) -> isize {
    let ms = rate as usize / 1000;
    let (ea, eb) = (rms_envelope(a, ms), rms_envelope(b, ms));
    best_correlation(&ea, &eb, max_ms).1 * ms as isize
}

/// `b` shifted left by `lag` samples (right for a negative lag), zero-filled.
pub fn shifted(b: &[f32], lag: isize) -> Vec<f32> {
    if lag >= 0 {
        b.get(lag as usize..).unwrap_or(&[]).to_vec()
    } else {
        let mut v = vec![0.0; (-lag) as usize];
        v.extend_from_slice(b);
        v
    }
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

/// Fundamental frequency of each window of `win` samples, by YIN (de Cheveigne & Kawahara
/// 2002): the first lag between `rate / max_hz` and `rate / min_hz` where the cumulative mean
/// normalized difference falls under 0.15, refined to its local minimum and interpolated.
/// `None` for quiet or aperiodic windows.
pub fn pitch_track(x: &[f32], rate: u32, win: usize, min_hz: f64, max_hz: f64) -> Vec<Option<f64>> {
    let lo = ((f64::from(rate) / max_hz) as usize).max(2);
    let hi = (f64::from(rate) / min_hz) as usize;
    x.chunks(win)
        .filter(|c| c.len() == win && win > 2 * hi)
        .map(|c| {
            let v: Vec<f64> = c.iter().map(|&s| f64::from(s)).collect();
            let energy = v.iter().map(|s| s * s).sum::<f64>() / win as f64;
            if energy < 1e-7 {
                return None;
            }
            let n = win - hi;
            let mut d = vec![0.0f64; hi + 1];
            for (tau, slot) in d.iter_mut().enumerate().skip(1) {
                *slot = (0..n).map(|i| (v[i] - v[i + tau]).powi(2)).sum();
            }
            let mut cmnd = vec![1.0f64; hi + 1];
            let mut running = 0.0;
            for tau in 1..=hi {
                running += d[tau];
                cmnd[tau] = if running > 0.0 {
                    d[tau] * tau as f64 / running
                } else {
                    1.0
                };
            }
            let mut tau = (lo..hi).find(|&t| cmnd[t] < 0.15)?;
            while tau + 1 < hi && cmnd[tau + 1] < cmnd[tau] {
                tau += 1;
            }
            let (a, b, c) = (cmnd[tau - 1], cmnd[tau], cmnd[tau + 1]);
            let den = a - 2.0 * b + c;
            let shift = if den.abs() > 1e-12 {
                0.5 * (a - c) / den
            } else {
                0.0
            };
            Some(f64::from(rate) / (tau as f64 + shift))
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
