//! FamiTracker text export (format version 0.4.2, as FamiTracker 0.4.6 writes it): a score
//! written as a tracker module and read back.
//!
//! Facts about the format are in `shared/docs/tracker-formats.md` (written from FamiTracker's,
//! 0CC/Dn-FamiTracker's and FamiStudio's sources); the help page is
//! <http://famitracker.com/wiki/index.php?title=Text_export>.
//!
//! How a score maps onto a module:
//! - One row per score frame. A 24 Hz score is written with speed 1 and tempo 60: FamiTracker
//!   plays `24 * tempo / speed` rows a minute, so 1440 rows/min = 24 rows/s, each row lasting
//!   2 or 3 engine ticks (2.5 on average at 60 Hz). Other rates use tempo = 2.5 x rate.
//! - Notes: pulse MIDI m is FamiTracker note m - 24 (`A-3` = MIDI 69); the triangle is written an
//!   octave up (FamiTracker plays it from the pulse period table, an octave below its name); the
//!   noise value v (1..16) is the hex digit v - 1 followed by `-#`.
//! - Velocity: instrument volume macro x volume column ([`channel_volume`]). Timbre: the
//!   instrument's duty macro, or a `Vxx` effect when the instrument has none.
//! - Macros run once per engine tick, rows last 2 or 3 ticks: row k of a note reads its macros at
//!   tick [`RowClock::tick_of_row`]`(k)`, the rule both the writer and the reader use.
//! - Every pattern starts from a known state (its first row names the note, instrument, volume
//!   and duty of every sounding channel), so equal patterns are equal music and are reused.
//! - The loop point is a `Bxx` on the song's last row in every channel; a song that does not loop
//!   ends with `C00`. A frame cut short before the loop point ends with `D00`.

mod fields;
mod instruments;
mod patterns;
mod play;
mod read;
mod write;

pub use patterns::{arrange, Arrangement, ChannelTrack};
pub use read::{read_famitracker, FamiTrackerImport};
pub use write::write_famitracker;

use crate::score::Voice;

/// Line 1 of every file we write (format version 0.4.2, not the program's version: section 1.9
/// of the formats doc; FamiStudio refuses any other).
pub const HEADER: &str = "# FamiTracker text export 0.4.2";

/// Whether `bytes` look like a FamiTracker (or 0CC/Dn-FamiTracker) text export: the first
/// non-blank line is one of their header comments.
pub fn is_famitracker_text(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(256)]);
    let first = text.lines().map(str::trim).find(|l| !l.is_empty());
    first.is_some_and(|l| {
        [
            "# FamiTracker text export",
            "# 0CC-FamiTracker text export",
            "# Dn-FamiTracker text export",
        ]
        .iter()
        .any(|h| l.starts_with(h))
    })
}

/// Whether the file at `path` is a FamiTracker text export ([`is_famitracker_text`] on its
/// first bytes); false when it cannot be read (the caller's own read reports that).
pub fn is_famitracker_file(path: &std::path::Path) -> bool {
    use std::io::Read;
    let mut head = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(256).read_to_end(&mut head))
        .is_ok_and(|_| is_famitracker_text(&head))
}

/// Engine ticks per second on NTSC (FamiTracker's default `FRAMERATE 0`).
pub const NTSC_TICKS_PER_SECOND: f64 = 60.0;
/// Engine ticks per second on PAL (`MACHINE 1`).
pub const PAL_TICKS_PER_SECOND: f64 = 50.0;

/// Speed and tempo that play `rate` rows a second: speed 1 and tempo `2.5 * rate` (rows per
/// minute = 24 x tempo / speed), when that tempo is a whole number FamiStudio accepts (32..255).
pub fn speed_tempo_for(rate: f64) -> Option<(u8, u16)> {
    let tempo = rate * 2.5;
    (tempo.fract() == 0.0 && (32.0..=255.0).contains(&tempo)).then_some((1, tempo as u16))
}

/// Rows per second that a speed and tempo give: 24 x tempo / speed rows a minute.
pub fn rows_per_second(speed: u8, tempo: u16) -> f64 {
    24.0 * f64::from(tempo) / f64::from(speed) / 60.0
}

/// When each row starts, in engine ticks after the row a note started on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowClock {
    /// 2.5 x ticks per second x speed / tempo (FamiTracker's `SetupSpeed`).
    pub ticks_per_row: f64,
}

impl RowClock {
    /// The clock of a module with `speed`, `tempo` and engine rate `ticks_per_second`.
    pub fn new(speed: u8, tempo: u16, ticks_per_second: f64) -> RowClock {
        RowClock {
            ticks_per_row: 2.5 * ticks_per_second * f64::from(speed) / f64::from(tempo),
        }
    }

    /// Tick at which row `k` of a note reads its macros: floor(k x ticks per row). At 2.5 ticks a
    /// row this is 0, 2, 5, 7, 10 ...; a note starting on an odd row sees rows start at ticks
    /// 0, 3, 5, 8, 10 ..., each inside the same span [tick(k), tick(k+1)), so a macro written
    /// with [`RowClock::expand`] gives the same value at a row whichever the phase.
    pub fn tick_of_row(self, k: usize) -> usize {
        (k as f64 * self.ticks_per_row + 1e-9).floor() as usize
    }

    /// A per-tick macro that holds `per_row[k]` over the ticks [tick(k), tick(k+1)).
    pub fn expand(self, per_row: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for (k, &v) in per_row.iter().enumerate() {
            let span = self.tick_of_row(k + 1) - self.tick_of_row(k);
            out.extend(std::iter::repeat_n(v, span.max(1)));
        }
        out
    }
}

/// A FamiTracker macro (sequence): one value per engine tick.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Macro {
    pub values: Vec<u8>,
    /// Index of the first value repeated forever, if any.
    pub loop_point: Option<usize>,
    /// Index where the sequence waits for a note release (`===`), if any.
    pub release: Option<usize>,
}

impl Macro {
    /// A macro without loop or release (it keeps its last value).
    pub fn once(values: Vec<u8>) -> Macro {
        Macro {
            values,
            loop_point: None,
            release: None,
        }
    }

    /// The value at `tick` ticks after the note started, `released_at` the tick of a `===` if
    /// there was one (FamiTracker's sequence rules: play to the release point, loop between the
    /// loop and release points or hold there until released, then continue; after the end,
    /// loop or keep the last value).
    pub fn value_at(&self, tick: usize, released_at: Option<usize>) -> u8 {
        let n = self.values.len();
        if n == 0 {
            return 0;
        }
        let index = match (self.release, released_at) {
            (Some(r), Some(at)) if tick >= at => self.after_end(r + 1 + (tick - at)),
            (Some(r), _) if tick > r => match self.loop_point {
                Some(l) if l <= r => l + (tick - l) % (r - l + 1),
                _ => r,
            },
            _ => self.after_end(tick),
        };
        self.values[index.min(n - 1)]
    }

    /// The index reached at step `i`, looping or holding once past the end.
    fn after_end(&self, i: usize) -> usize {
        let n = self.values.len();
        match self.loop_point {
            Some(l) if i >= n && l < n => l + (i - l) % (n - l),
            _ => i.min(n - 1),
        }
    }
}

/// Which voices an instrument was designed for (the flat one serves all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InstrumentUse {
    Any,
    Pulse,
    Noise,
}

/// A 2A03 instrument: a volume macro and, when it sets the timbre itself, a duty macro.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Instrument {
    pub name: String,
    pub volume: Macro,
    pub duty: Option<Macro>,
    pub used_for: InstrumentUse,
}

impl Instrument {
    /// Volume at row `k` of a note (no release).
    pub fn volume_at_row(&self, clock: RowClock, k: usize) -> u8 {
        self.volume.value_at(clock.tick_of_row(k), None)
    }

    /// Duty at row `k` of a note, when the instrument has a duty macro.
    pub fn duty_at_row(&self, clock: RowClock, k: usize) -> Option<u8> {
        self.duty
            .as_ref()
            .map(|d| d.value_at(clock.tick_of_row(k), None))
    }
}

/// The channel volume FamiTracker outputs: floor(macro x column / 15), raised to 1 when both
/// are non-zero (`CChannelHandler::CalculateVolume`). Every value 0..=macro is reachable.
pub fn channel_volume(macro_volume: u8, column: u8) -> u8 {
    let v = u16::from(macro_volume) * u16::from(column) / 15;
    if v == 0 && macro_volume > 0 && column > 0 {
        1
    } else {
        v as u8
    }
}

/// The note field of a row cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoteField {
    /// `...`: no change.
    Empty,
    /// A note: FamiTracker note index 0..95 (C-0..B-7) on the pulses and triangle, the hex digit
    /// 0..15 on the noise.
    Note(u8),
    /// `---`: note cut.
    Cut,
    /// `===`: note release.
    Release,
}

/// A flow effect ending a frame; written in every channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flow {
    /// `Bxx`: continue at frame xx (the loop).
    Jump(u8),
    /// `C00`: stop.
    Halt,
    /// `D00`: end this frame here.
    Skip,
}

/// One channel's fields on one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TrackerCell {
    pub note: NoteField,
    pub instrument: Option<u8>,
    pub volume: Option<u8>,
    /// `Vxx`: duty (pulse) or mode (noise).
    pub duty: Option<u8>,
    pub flow: Option<Flow>,
}

impl TrackerCell {
    /// A cell with nothing in it.
    pub const EMPTY: TrackerCell = TrackerCell {
        note: NoteField::Empty,
        instrument: None,
        volume: None,
        duty: None,
        flow: None,
    };
}

const NOTE_NAMES: [&str; 12] = [
    "C-", "C#", "D-", "D#", "E-", "F-", "F#", "G-", "G#", "A-", "A#", "B-",
];

/// The three characters FamiTracker writes for a note on `voice` (upper-case sharps only).
pub fn note_text(voice: Voice, field: NoteField) -> String {
    match field {
        NoteField::Empty => "...".into(),
        NoteField::Cut => "---".into(),
        NoteField::Release => "===".into(),
        NoteField::Note(h) if voice == Voice::Noise => format!("{h:X}-#"),
        NoteField::Note(n) => format!("{}{}", NOTE_NAMES[n as usize % 12], n / 12),
    }
}

/// The note index of a letter, accidental and octave as FamiTracker reads them (`.`/`-`
/// natural, `#`/`+` sharp, `b`/`f` flat, either case), or `None`.
pub fn parse_note_name(text: &str) -> Option<u8> {
    let b = text.as_bytes();
    if b.len() != 3 {
        return None;
    }
    let base: i32 = match b[0].to_ascii_uppercase() {
        b'C' => 0,
        b'D' => 2,
        b'E' => 4,
        b'F' => 5,
        b'G' => 7,
        b'A' => 9,
        b'B' => 11,
        _ => return None,
    };
    let shift = match b[1] {
        b'-' | b'.' => 0,
        b'#' | b'+' => 1,
        b'b' | b'f' => -1,
        _ => return None,
    };
    let octave = (b[2] as char).to_digit(10)? as i32;
    let n = octave * 12 + base + shift;
    (0..96).contains(&n).then_some(n as u8)
}

/// FamiStudio's note name for a FamiTracker note index: the same name without the dash.
pub fn famistudio_note_name(n: u8) -> String {
    format!(
        "{}{}",
        NOTE_NAMES[n as usize % 12].trim_end_matches('-'),
        n / 12
    )
}
