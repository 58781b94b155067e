//! The piano-roll PNG: the four voices of a score on one time axis.
//!
//! Layout, top to bottom: the title (song name, duration, frame rate), a legend, the pitch lane
//! of the melodic voices (one row of [`ROW_H`] pixels per semitone, a grey line under every C with
//! its octave label on the left), the noise lane (16 rows of [`NOISE_ROW_H`] pixels, value 16 on
//! top), and the time axis in seconds. The width follows the duration at
//! [`PianoRollOptions::px_per_sec`] pixels per second (24 = one pixel per NES-MDB frame), at least
//! [`MIN_PLOT_W`] pixels and at most [`PianoRollOptions::max_width`] in all; a longer song is
//! squeezed to fit. Velocity and timbre are not drawn.
//!
//! Voice colours ([`voice_colour`]): P1 red `#d62728`, P2 green `#2ca02c`, TR blue `#1f77b4`,
//! NO purple `#9467bd`. Where voices overlap, P1 is drawn over P2 over TR.

use super::canvas::{Canvas, Rgb};
use super::{note_name, note_spans};
use crate::error::Result;
use crate::score::{Score, Voice};
use std::path::Path;

/// Pixels per semitone in the pitch lane.
pub const ROW_H: u32 = 4;
/// Pixels per noise value in the noise lane.
pub const NOISE_ROW_H: u32 = 3;
/// Narrowest plot area, so short songs still get a readable axis.
pub const MIN_PLOT_W: u32 = 480;
const MARGIN_LEFT: u32 = 40;
const MARGIN_RIGHT: u32 = 16;
const PLOT_TOP: u32 = 48;
const LANE_GAP: u32 = 14;
const AXIS_H: u32 = 28;
const TEXT_SCALE: u32 = 2;

const BACKGROUND: Rgb = [255, 255, 255];
const LANE_BACKGROUND: Rgb = [246, 246, 246];
const OCTAVE_LINE: Rgb = [190, 190, 190];
const TIME_LINE: Rgb = [222, 222, 222];
const INK: Rgb = [40, 40, 40];

/// The colour a voice is drawn in.
pub fn voice_colour(voice: Voice) -> Rgb {
    match voice {
        Voice::Pulse1 => [0xd6, 0x27, 0x28],
        Voice::Pulse2 => [0x2c, 0xa0, 0x2c],
        Voice::Triangle => [0x1f, 0x77, 0xb4],
        Voice::Noise => [0x94, 0x67, 0xbd],
    }
}

/// How wide the picture may get.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PianoRollOptions {
    /// Horizontal pixels per second of song.
    pub px_per_sec: f64,
    /// Widest image in pixels, margins included.
    pub max_width: u32,
}

impl Default for PianoRollOptions {
    fn default() -> Self {
        PianoRollOptions {
            px_per_sec: 24.0,
            max_width: 8192,
        }
    }
}

/// Where things are in the picture, for drawing and for tests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RollLayout {
    /// Left edge and width of the plot area.
    pub plot_x: u32,
    pub plot_w: u32,
    /// Horizontal pixels per second actually used.
    pub px_per_sec: f64,
    /// Lowest and highest note of the pitch lane (a C and a C).
    pub low_note: u8,
    pub high_note: u8,
    pub pitch_top: u32,
    pub noise_top: u32,
    pub width: u32,
    pub height: u32,
}

impl RollLayout {
    /// Lays out `score`.
    pub fn new(score: &Score, opts: &PianoRollOptions) -> RollLayout {
        let melodic = score
            .frames
            .iter()
            .flat_map(|f| f[..3].iter().map(|c| c.note));
        let (lo, hi) = melodic
            .filter(|&n| n != 0)
            .fold((u8::MAX, 0u8), |(lo, hi), n| (lo.min(n), hi.max(n)));
        let (low_note, high_note) = if lo > hi {
            (48, 84)
        } else {
            let low = lo - lo % 12;
            let high = (hi - hi % 12 + 12).min(120);
            // At least two octaves, so a one-note song still shows a scale.
            (low, high.max(low + 24))
        };
        let secs = score.duration_secs().max(0.0);
        let max_plot = opts
            .max_width
            .saturating_sub(MARGIN_LEFT + MARGIN_RIGHT)
            .max(MIN_PLOT_W);
        let wanted = (secs * opts.px_per_sec.max(0.01)).ceil();
        let plot_w = (wanted.min(max_plot as f64) as u32).max(MIN_PLOT_W);
        let px_per_sec = if secs > 0.0 {
            (plot_w as f64 / secs).min(opts.px_per_sec.max(0.01))
        } else {
            opts.px_per_sec
        };
        let pitch_top = PLOT_TOP;
        let noise_top = pitch_top + (high_note - low_note + 1) as u32 * ROW_H + LANE_GAP;
        RollLayout {
            plot_x: MARGIN_LEFT,
            plot_w,
            px_per_sec,
            low_note,
            high_note,
            pitch_top,
            noise_top,
            width: MARGIN_LEFT + plot_w + MARGIN_RIGHT,
            height: noise_top + 16 * NOISE_ROW_H + AXIS_H,
        }
    }

    /// The pixel column of time `secs`.
    pub fn x_of_secs(&self, secs: f64) -> i64 {
        self.plot_x as i64 + (secs * self.px_per_sec).floor() as i64
    }

    /// Top pixel row and height of `note` on `voice`'s lane.
    pub fn row_of(&self, voice: Voice, note: u8) -> (i64, i64) {
        if voice == Voice::Noise {
            let top = self.noise_top as i64 + (16 - note.min(16) as i64) * NOISE_ROW_H as i64;
            (top, NOISE_ROW_H as i64)
        } else {
            let n = note.clamp(self.low_note, self.high_note);
            let top = self.pitch_top as i64 + (self.high_note - n) as i64 * ROW_H as i64;
            (top, ROW_H as i64)
        }
    }
}

/// Seconds between time-axis ticks: the shortest of a fixed list leaving 60 px between ticks.
fn tick_step(px_per_sec: f64) -> f64 {
    const STEPS: [f64; 12] = [
        0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0,
    ];
    STEPS
        .iter()
        .copied()
        .find(|s| s * px_per_sec >= 60.0)
        .unwrap_or(600.0)
}

/// Draws the piano roll of `score`.
pub fn render_piano_roll(score: &Score, opts: &PianoRollOptions) -> (Canvas, RollLayout) {
    let l = RollLayout::new(score, opts);
    let mut c = Canvas::new(l.width, l.height, BACKGROUND);
    let (px, pw) = (l.plot_x as i64, l.plot_w as i64);
    let pitch_h = (l.high_note - l.low_note + 1) as i64 * ROW_H as i64;
    let noise_h = 16 * NOISE_ROW_H as i64;
    c.fill_rect(px, l.pitch_top as i64, pw, pitch_h, LANE_BACKGROUND);
    c.fill_rect(px, l.noise_top as i64, pw, noise_h, LANE_BACKGROUND);

    // Title and legend.
    let secs = score.duration_secs();
    let title = format!(
        "{}  {}:{:02}  {} HZ",
        score.name,
        (secs / 60.0).floor() as u64,
        (secs % 60.0).floor() as u64,
        score.rate
    );
    c.text(8, 8, &title, TEXT_SCALE, INK);
    let mut lx = 8i64;
    for (voice, name) in Voice::ALL
        .iter()
        .zip(["PULSE 1", "PULSE 2", "TRIANGLE", "NOISE"])
    {
        c.fill_rect(lx, 26, 10, 10, voice_colour(*voice));
        lx = c.text(
            lx + 14,
            26,
            &format!("{} {name}", voice.label()),
            TEXT_SCALE,
            INK,
        ) + 16;
    }

    // Time grid and axis labels.
    let step = tick_step(l.px_per_sec);
    let axis_y = l.noise_top as i64 + noise_h + 6;
    let mut k = 0u64;
    loop {
        let t = k as f64 * step;
        if t > secs + 1e-9 {
            break;
        }
        let x = l.x_of_secs(t);
        c.fill_rect(x, l.pitch_top as i64, 1, pitch_h, TIME_LINE);
        c.fill_rect(x, l.noise_top as i64, 1, noise_h, TIME_LINE);
        c.fill_rect(x, axis_y - 4, 1, 3, INK);
        let label = if step < 1.0 {
            format!("{t}S")
        } else {
            format!("{}S", t as u64)
        };
        c.text(
            x - Canvas::text_width(&label, TEXT_SCALE) / 2,
            axis_y,
            &label,
            TEXT_SCALE,
            INK,
        );
        k += 1;
    }

    // Octave lines under every C, labelled on the left; the noise lane's label.
    for note in (l.low_note..=l.high_note).filter(|n| n % 12 == 0) {
        let (top, h) = l.row_of(Voice::Pulse1, note);
        c.fill_rect(px, top + h - 1, pw, 1, OCTAVE_LINE);
        let label = note_name(Voice::Pulse1, note);
        let lw = Canvas::text_width(&label, TEXT_SCALE);
        c.text(
            px - 6 - lw,
            top + h - 1 - Canvas::text_height(TEXT_SCALE) / 2,
            &label,
            TEXT_SCALE,
            INK,
        );
    }
    c.text(
        8,
        l.noise_top as i64 + noise_h / 2 - 5,
        "NO",
        TEXT_SCALE,
        voice_colour(Voice::Noise),
    );

    // Notes: TR first, then P2, then P1 on top; noise in its own lane.
    let spans = note_spans(score);
    for voice in [Voice::Noise, Voice::Triangle, Voice::Pulse2, Voice::Pulse1] {
        for s in spans.iter().filter(|s| s.voice == voice) {
            let x0 = l.x_of_secs(s.start as f64 / score.rate);
            let x1 = l.x_of_secs(s.end as f64 / score.rate).max(x0 + 1);
            let (top, h) = l.row_of(voice, s.note);
            c.fill_rect(x0, top, x1 - x0, h, voice_colour(voice));
        }
    }
    (c, l)
}

/// Draws the piano roll of `score` and writes it to `path` as a PNG, atomically.
pub fn write_piano_roll(score: &Score, path: &Path, opts: &PianoRollOptions) -> Result<()> {
    render_piano_roll(score, opts).0.write_png(path)
}
