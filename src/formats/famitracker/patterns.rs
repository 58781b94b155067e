//! A score laid out as a tracker song: frames of equal length (the one before the loop point
//! may be cut short with `D00`), each channel's patterns, equal ones stored once and reused in
//! the order list.

use super::instruments::{design_instruments, plan_note, split_notes};
use super::{
    speed_tempo_for, Flow, Instrument, NoteField, RowClock, TrackerCell, NTSC_TICKS_PER_SECOND,
};
use crate::error::{Error, Result};
use crate::score::{Cell, Score, Voice};
use std::collections::HashMap;

/// Frames (order rows) FamiTracker 0.4.6 holds per song.
pub const MAX_FRAMES: usize = 128;
/// Longest pattern.
pub const MAX_ROWS: usize = 256;
/// Pattern lengths tried; the one that stores the fewest rows wins.
const PATTERN_LENGTHS: [usize; 9] = [16, 24, 32, 48, 64, 96, 128, 192, 256];

/// One channel: its distinct patterns and which one each frame plays.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelTrack {
    pub patterns: Vec<Vec<TrackerCell>>,
    pub order: Vec<usize>,
}

/// A score laid out for a tracker.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrangement {
    pub name: String,
    pub speed: u8,
    pub tempo: u16,
    /// Rows of every pattern.
    pub rows: usize,
    /// Rows each frame plays (all `rows` but a frame cut short by `D00` and the last one).
    pub frame_rows: Vec<usize>,
    pub instruments: Vec<Instrument>,
    /// Pulse 1, pulse 2, triangle, noise.
    pub channels: [ChannelTrack; 4],
    /// Frame the song jumps back to at its end (`Bxx`), or `None` (`C00`).
    pub loop_frame: Option<usize>,
    /// What the score holds that the module cannot (one line each).
    pub warnings: Vec<String>,
}

/// Frame boundaries for pattern length `rows`: `(start, length)` of each frame.
fn frame_spans(len: usize, loop_frame: Option<usize>, rows: usize) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut sections = vec![(0, len)];
    if let Some(l) = loop_frame.filter(|&l| l > 0 && l < len) {
        sections = vec![(0, l), (l, len)];
    }
    for (a, b) in sections {
        let mut s = a;
        while s < b {
            spans.push((s, rows.min(b - s)));
            s += rows;
        }
    }
    spans
}

/// The FamiTracker note for a sounding score cell, and whether it had to move an octave.
fn note_index(voice: Voice, note: u8) -> (u8, bool) {
    match voice {
        Voice::Noise => (note - 1, false),
        Voice::Triangle if note + 12 - 24 > 95 => (note - 24, true),
        Voice::Triangle => (note + 12 - 24, false),
        _ => (note - 24, false),
    }
}

/// The cells of one channel over one frame (context-free: the first row restates the state).
fn render(
    voice: Voice,
    cells: &[Cell],
    instruments: &[Instrument],
    clock: RowClock,
    octave_moves: &mut usize,
) -> Vec<TrackerCell> {
    let mut out = vec![TrackerCell::EMPTY; cells.len()];
    for (i, c) in cells.iter().enumerate() {
        if c.is_rest() && (i == 0 || !cells[i - 1].is_rest()) {
            out[i].note = NoteField::Cut;
        }
    }
    for (s, e) in split_notes(cells) {
        let plan = plan_note(voice, &cells[s..e], instruments, clock);
        let (n, moved) = note_index(voice, cells[s].note);
        out[s].note = NoteField::Note(n);
        out[s].instrument = Some(plan.instrument);
        for k in 0..e - s {
            out[s + k].volume = plan.volumes[k];
            out[s + k].duty = plan.duties[k];
        }
        if moved {
            *octave_moves += e - s;
        }
    }
    // NES-MDB keeps a duty on rests: carry it with Vxx where it differs from the last Vxx of
    // this pattern (a reader keeps the Vxx state through a rest).
    if voice != Voice::Triangle {
        let mut duty_state = None;
        for (cell, score_cell) in out.iter_mut().zip(cells) {
            if score_cell.is_rest() && duty_state != Some(score_cell.timbre) {
                cell.duty = Some(score_cell.timbre);
            }
            duty_state = cell.duty.or(duty_state);
        }
    }
    out
}

/// Lays out `score` as a tracker song (NTSC timing).
pub fn arrange(score: &Score) -> Result<Arrangement> {
    score.validate()?;
    let (speed, tempo) = speed_tempo_for(score.rate).ok_or_else(|| {
        Error::Unsupported(format!(
            "song '{}': a tracker row rate of {} Hz needs a whole tempo 2.5 x rate in 32..255 \
             (24 Hz, as NES-MDB, is tempo 60); resample the score",
            score.name, score.rate
        ))
    })?;
    if score.is_empty() {
        return Err(Error::Unsupported(format!(
            "song '{}' has no frames: nothing to write",
            score.name
        )));
    }
    let clock = RowClock::new(speed, tempo, NTSC_TICKS_PER_SECOND);
    let loop_frame = score.loop_frame.filter(|&l| l < score.len());
    let voice_cells: Vec<Vec<Cell>> = Voice::ALL
        .iter()
        .map(|v| score.frames.iter().map(|f| f[v.index()]).collect())
        .collect();
    // The pattern length that stores the fewest rows (distinct chunks of the score).
    let rows = PATTERN_LENGTHS
        .iter()
        .copied()
        .filter(|&r| frame_spans(score.len(), loop_frame, r).len() <= MAX_FRAMES)
        .min_by_key(|&r| {
            let spans = frame_spans(score.len(), loop_frame, r);
            let distinct: usize = voice_cells
                .iter()
                .map(|cells| {
                    let mut seen = std::collections::HashSet::new();
                    spans
                        .iter()
                        .filter(|&&(s, n)| seen.insert(&cells[s..s + n]))
                        .count()
                })
                .sum();
            distinct * r + spans.len() * 8
        })
        .ok_or_else(|| {
            Error::Unsupported(format!(
                "song '{}' has {} frames: FamiTracker holds at most {MAX_FRAMES} frames of \
                 {MAX_ROWS} rows ({} score frames); cut the song",
                score.name,
                score.len(),
                MAX_FRAMES * MAX_ROWS
            ))
        })?;
    let spans = frame_spans(score.len(), loop_frame, rows);
    let loop_index = loop_frame.map(|l| spans.iter().position(|s| s.0 == l).unwrap_or(0));
    let instruments = design_instruments(score, clock);
    let mut octave_moves = 0;
    let channels = Voice::ALL.map(|voice| {
        let mut track = ChannelTrack {
            patterns: Vec::new(),
            order: Vec::new(),
        };
        let mut index: HashMap<Vec<TrackerCell>, usize> = HashMap::new();
        for (f, &(s, n)) in spans.iter().enumerate() {
            let cells = &voice_cells[voice.index()][s..s + n];
            let mut pattern = render(voice, cells, &instruments, clock, &mut octave_moves);
            let flow = if f + 1 == spans.len() {
                Some(loop_index.map_or(Flow::Halt, |l| Flow::Jump(l as u8)))
            } else if n < rows {
                Some(Flow::Skip)
            } else {
                None
            };
            if let Some(flow) = flow {
                pattern[n - 1].flow = Some(flow);
            }
            pattern.resize(rows, TrackerCell::EMPTY);
            let next = track.patterns.len();
            let p = *index.entry(pattern.clone()).or_insert_with(|| {
                track.patterns.push(pattern);
                next
            });
            track.order.push(p);
        }
        track
    });
    let mut warnings = Vec::new();
    if octave_moves > 0 {
        warnings.push(format!(
            "triangle: {octave_moves} frames of C8 (MIDI 108) written an octave lower \
             (FamiTracker has no note above B-7)"
        ));
    }
    Ok(Arrangement {
        name: score.name.clone(),
        speed,
        tempo,
        rows,
        frame_rows: spans.iter().map(|s| s.1).collect(),
        instruments,
        channels,
        loop_frame: loop_index,
        warnings,
    })
}
