//! Playing a parsed FamiTracker module frame by frame into a score: the order list with its
//! flow effects, and per channel the note, instrument macros, volume column and `Vxx` state.

use super::{channel_volume, Instrument, NoteField, RowClock};
use crate::error::{Error, Result};
use crate::score::{Cell, Score, Voice};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// One channel's fields on one row, as read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    pub note: NoteField,
    pub instrument: Option<u8>,
    pub volume: Option<u8>,
    pub duty: Option<u8>,
    pub jump: Option<u8>,
    pub halt: bool,
    pub skip: Option<u8>,
}

impl Default for Row {
    fn default() -> Row {
        Row {
            note: NoteField::Empty,
            instrument: None,
            volume: None,
            duty: None,
            jump: None,
            halt: false,
            skip: None,
        }
    }
}

/// The first song of a module, as parsed.
#[derive(Debug, Clone)]
pub struct Module {
    pub title: String,
    pub pal: bool,
    pub framerate: u16,
    pub ticks_per_second: f64,
    pub rows: usize,
    pub speed: u8,
    pub tempo: u16,
    pub columns: [usize; 5],
    /// Per frame, the pattern of each of the five channels.
    pub orders: Vec<[usize; 5]>,
    pub instruments: HashMap<u8, Instrument>,
    /// (pattern, row) -> the five channels' fields and the line they were read from.
    pub cells: HashMap<(usize, usize), ([Row; 5], usize)>,
}

impl Default for Module {
    fn default() -> Module {
        Module {
            title: String::new(),
            pal: false,
            framerate: 0,
            ticks_per_second: super::NTSC_TICKS_PER_SECOND,
            rows: 64,
            speed: 6,
            tempo: 150,
            columns: [1; 5],
            orders: Vec::new(),
            instruments: HashMap::new(),
            cells: HashMap::new(),
        }
    }
}

/// The score a module plays (name and rate left to the caller) and what it dropped.
pub struct Played {
    pub score: Score,
    pub dropped: BTreeMap<String, usize>,
}

/// One channel's state between rows.
#[derive(Default)]
struct Channel {
    /// FamiTracker note index (or noise digit) of the sounding note.
    note: Option<u8>,
    instrument: Option<u8>,
    column: u8,
    duty: u8,
    /// Rows since the note started.
    row_in_note: usize,
    released_at: Option<usize>,
}

/// A FamiTracker note on `voice` as a score note, moved by octaves into the voice's range.
fn score_note(voice: Voice, n: u8, moved: &mut usize) -> u8 {
    let mut m = match voice {
        Voice::Noise => return n + 1,
        Voice::Triangle => n + 12,
        _ => n + 24,
    };
    let (lo, hi) = voice.note_range();
    while m < lo {
        m += 12;
        *moved += 1;
    }
    while m > hi {
        m -= 12;
        *moved += 1;
    }
    m
}

impl Channel {
    /// Applies a row's fields and returns the score cell the channel sounds on that row.
    fn step(
        &mut self,
        voice: Voice,
        row: &Row,
        module: &Module,
        clock: RowClock,
        dropped: &mut BTreeMap<String, usize>,
    ) -> Cell {
        if let Some(i) = row.instrument {
            self.instrument = Some(i);
        }
        match row.note {
            NoteField::Note(n) => {
                self.note = Some(n);
                self.row_in_note = 0;
                self.released_at = None;
            }
            NoteField::Cut => self.note = None,
            NoteField::Release if self.note.is_some() && self.released_at.is_none() => {
                self.released_at = Some(clock.tick_of_row(self.row_in_note));
            }
            _ => {}
        }
        if let Some(v) = row.volume {
            self.column = v;
        }
        if let Some(d) = row.duty {
            if d > voice.max_timbre() {
                *dropped
                    .entry("Vxx values above the voice's duty range (clamped)".into())
                    .or_default() += 1;
            }
            self.duty = d.min(voice.max_timbre());
        }
        let Some(n) = self.note else {
            // A rest keeps the Vxx state as its timbre (NES-MDB holds a duty on rests).
            return Cell {
                timbre: self.duty,
                ..Cell::REST
            };
        };
        let instrument = self.instrument.and_then(|i| module.instruments.get(&i));
        if instrument.is_none() {
            *dropped
                .entry(
                    "rows playing a note without a defined instrument (played at volume 15)".into(),
                )
                .or_default() += 1;
        }
        let tick = clock.tick_of_row(self.row_in_note);
        self.row_in_note += 1;
        let macro_volume = instrument.map_or(15, |i| i.volume.value_at(tick, self.released_at));
        let timbre = instrument
            .and_then(|i| i.duty.as_ref())
            .map_or(self.duty, |d| d.value_at(tick, self.released_at))
            .min(voice.max_timbre());
        let mut moved = 0;
        let note = score_note(voice, n, &mut moved);
        if moved > 0 {
            *dropped
                .entry(format!(
                    "{} rows with notes outside the voice's range (moved by octaves)",
                    voice.label()
                ))
                .or_default() += 1;
        }
        match voice {
            Voice::Triangle if macro_volume == 0 || self.column == 0 => Cell::REST,
            Voice::Triangle => Cell {
                note,
                velocity: 0,
                timbre: 0,
            },
            _ => Cell {
                note,
                velocity: channel_volume(macro_volume, self.column),
                timbre,
            },
        }
    }
}

/// Plays `module` from frame 0 until a `Cxx`, or until a jump (or the end of the order list)
/// comes back to a frame already played: that frame is the score's loop point.
pub fn play(module: &Module, origin: &Path) -> Result<Played> {
    let clock = RowClock::new(module.speed, module.tempo, module.ticks_per_second);
    let mut channels: [Channel; 4] = Default::default();
    for c in &mut channels {
        c.column = 15;
    }
    let mut dropped = BTreeMap::new();
    let mut score = Score::new("", 24.0);
    score.expressive = true;
    let frames = module.orders.len();
    let mut started: Vec<Option<usize>> = vec![None; frames];
    let (mut frame, mut first_row) = (0, 0);
    let empty = [Row::default(); 5];
    let limit = frames * module.rows * 2;
    loop {
        if frame >= frames {
            frame = 0; // FamiTracker starts over after the last frame
            first_row = 0;
        }
        if first_row == 0 {
            if let Some(start) = started[frame] {
                score.loop_frame = Some(start);
                break;
            }
            started[frame] = Some(score.len());
        }
        let mut next = (frame + 1, 0);
        let mut halted = false;
        for r in first_row..module.rows {
            if score.len() >= limit {
                return Err(Error::format(origin, "the order list's jumps never come back to a frame start: the song does not end"));
            }
            let mut f = [Cell::REST; 4];
            let mut flow = None;
            for ch in 0..5 {
                let (rows, line) = module
                    .cells
                    .get(&(module.orders[frame][ch], r))
                    .map_or((&empty, 0), |(rows, line)| (rows, *line));
                let row = &rows[ch];
                if ch < 4 {
                    f[ch] = channels[ch].step(Voice::ALL[ch], row, module, clock, &mut dropped);
                }
                if flow.is_none() {
                    if let Some(target) = row.jump {
                        if usize::from(target) >= frames {
                            return Err(Error::format(
                                origin,
                                format!(
                                    "line {line}: B{target:02X} jumps past the last frame ({:02X})",
                                    frames - 1
                                ),
                            ));
                        }
                        flow = Some((usize::from(target), 0, false));
                    } else if row.halt {
                        flow = Some((0, 0, true));
                    } else if let Some(to_row) = row.skip {
                        flow = Some((frame + 1, usize::from(to_row).min(module.rows - 1), false));
                    }
                }
            }
            score.frames.push(f);
            if let Some((to_frame, to_row, halt)) = flow {
                halted = halt;
                next = (to_frame, to_row);
                break;
            }
        }
        if halted {
            break;
        }
        (frame, first_row) = next;
    }
    Ok(Played { score, dropped })
}
