//! Reading a FamiTracker text export back into a score.
//!
//! Parsing follows FamiTracker's own importer (formats doc 1.1-1.4): one command per line,
//! fields split by spaces or tabs, quoted strings with `""`, command names in any case, lines
//! starting with `#` are comments. Anything a 2A03 score cannot be made from (an expansion
//! chip, a command FamiTracker 0.4.6 does not know, a malformed row, a row past its pattern's
//! length) is an error naming the line and column. Playback then follows the order list with
//! `Bxx` (loop), `Cxx` (stop) and `Dxx` (skip); what a score cannot hold (other effects, DPCM,
//! arpeggio and pitch macros, further songs) is listed in [`FamiTrackerImport::dropped`].

use super::fields::{fields, Field};
use super::play::{play, Module, Row};
use super::{
    parse_note_name, rows_per_second, Instrument, InstrumentUse, Macro, NoteField,
    NTSC_TICKS_PER_SECOND, PAL_TICKS_PER_SECOND,
};
use crate::error::{Error, Result};
use crate::score::Score;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// A score read from FamiTracker text, and what of the module it could not hold.
#[derive(Debug, Clone, PartialEq)]
pub struct FamiTrackerImport {
    pub score: Score,
    /// One line per kind of thing dropped, with its count (empty when nothing was).
    pub dropped: Vec<String>,
}

/// Commands only an expansion chip uses.
const EXPANSION_COMMANDS: [&str; 13] = [
    "MACROVRC6",
    "MACRON163",
    "MACROS5B",
    "INSTVRC6",
    "INSTVRC7",
    "INSTFDS",
    "INSTN163",
    "INSTS5B",
    "FDSWAVE",
    "FDSMOD",
    "FDSMACRO",
    "N163WAVE",
    "N163CHANNELS",
];

/// Effect letters FamiTracker 0.4.6 and its forks know, with what a score cannot hold of each.
fn effect_name(letter: char) -> Option<&'static str> {
    Some(match letter {
        '0' => "0xy arpeggio",
        '1' => "1xx slide up",
        '2' => "2xx slide down",
        '3' => "3xx portamento",
        '4' => "4xy vibrato",
        '7' => "7xy tremolo",
        'A' => "Axy volume slide",
        'B' => "Bxx jump",
        'C' => "Cxx halt",
        'D' => "Dxx skip",
        'E' => "Exx volume",
        'F' => "Fxx speed/tempo",
        'G' => "Gxx delay",
        'H' => "Hxy sweep up",
        'I' => "Ixy sweep down",
        'J' => "Jxx FDS modulation",
        'P' => "Pxx fine pitch",
        'Q' => "Qxy note slide up",
        'R' => "Rxy note slide down",
        'S' => "Sxx delayed cut",
        'V' => "Vxx duty",
        'W' => "Wxx DPCM pitch",
        'X' => "Xxx DPCM retrigger",
        'Y' => "Yxx DPCM offset",
        'Z' => "Zxx DPCM delta",
        _ => return None,
    })
}

/// The parser: one line at a time into a [`Module`].
struct Parser<'a> {
    origin: &'a Path,
    line: usize,
    module: Module,
    macros: HashMap<(u8, i64), Macro>,
    in_track: bool,
    later_tracks: usize,
    pattern: Option<usize>,
    dropped: BTreeMap<String, usize>,
}

impl Parser<'_> {
    fn err(&self, column: usize, what: impl Into<String>) -> Error {
        Error::format(
            self.origin,
            format!("line {}, column {column}: {}", self.line, what.into()),
        )
    }

    fn note_dropped(&mut self, what: &str) {
        *self.dropped.entry(what.to_string()).or_default() += 1;
    }

    fn int(&self, f: &Field, lo: i64, hi: i64, what: &str) -> Result<i64> {
        f.text
            .parse::<i64>()
            .ok()
            .filter(|v| (lo..=hi).contains(v))
            .ok_or_else(|| {
                self.err(
                    f.column,
                    format!("{what} '{}' is not a number in {lo}..{hi}", f.text),
                )
            })
    }

    fn hex(&self, f: &Field, digits: usize, hi: usize, what: &str) -> Result<usize> {
        (f.text.len() == digits && f.text.chars().all(|c| c.is_ascii_hexdigit()))
            .then(|| usize::from_str_radix(&f.text, 16).ok())
            .flatten()
            .filter(|&v| v <= hi)
            .ok_or_else(|| {
                self.err(
                    f.column,
                    format!(
                        "{what} '{}' is not {digits} hex digits up to {hi:X}",
                        f.text
                    ),
                )
            })
    }

    fn expect_fields(&self, f: &[Field], n: usize, usage: &str) -> Result<()> {
        if f.len() == n {
            return Ok(());
        }
        let column = f.get(n).or(f.last()).map_or(1, |x| x.column);
        Err(self.err(
            column,
            format!(
                "{} takes {} fields ({usage}), found {}",
                f[0].text,
                n - 1,
                f.len() - 1
            ),
        ))
    }

    fn command(&mut self, f: &[Field]) -> Result<()> {
        let name = f[0].text.to_ascii_uppercase();
        if self.later_tracks > 0 && matches!(name.as_str(), "COLUMNS" | "ORDER" | "PATTERN" | "ROW")
        {
            return Ok(()); // belongs to a song after the first, which is dropped
        }
        match name.as_str() {
            "TITLE" => {
                self.expect_fields(f, 2, "a quoted string")?;
                self.module.title = f[1].text.clone();
            }
            "AUTHOR" | "COPYRIGHT" | "COMMENT" => self.expect_fields(f, 2, "a quoted string")?,
            "MACHINE" => {
                self.expect_fields(f, 2, "0 NTSC or 1 PAL")?;
                self.module.pal = self.int(&f[1], 0, 1, "machine")? == 1;
            }
            "FRAMERATE" => {
                self.expect_fields(f, 2, "engine ticks per second, 0 = default")?;
                self.module.framerate = self.int(&f[1], 0, 800, "frame rate")? as u16;
            }
            "EXPANSION" => {
                self.expect_fields(f, 2, "expansion chip mask")?;
                if self.int(&f[1], 0, 255, "expansion mask")? != 0 {
                    return Err(self.err(
                        f[1].column,
                        format!(
                            "EXPANSION {} asks for an expansion chip (VRC6, VRC7, FDS, MMC5, N163, \
                             S5B); a nesmm score holds only the 2A03's four voices: export the \
                             module without expansion",
                            f[1].text
                        ),
                    ));
                }
            }
            "VIBRATO" | "SPLIT" => self.expect_fields(f, 2, "a number")?,
            "MACRO" => self.macro_line(f)?,
            "DPCMDEF" | "DPCM" | "KEYDPCM" => self.note_dropped("DPCM sample lines"),
            "INST2A03" => self.instrument_line(f)?,
            "TRACK" => {
                self.expect_fields(f, 5, "rows speed tempo \"name\"")?;
                if self.in_track || self.later_tracks > 0 {
                    self.later_tracks += 1;
                    self.note_dropped("songs after the first");
                    return Ok(());
                }
                self.in_track = true;
                self.module.rows = self.int(&f[1], 1, 256, "pattern length")? as usize;
                self.module.speed = self.int(&f[2], 1, 31, "speed")? as u8;
                self.module.tempo = self.int(&f[3], 32, 255, "tempo")? as u16;
            }
            "COLUMNS" => {
                let usage = ": and one effect column count (1..4) per channel";
                self.expect_fields(f, 7, usage)?;
                if f[1].text != ":" {
                    return Err(self.err(f[1].column, "COLUMNS needs ':' after its name"));
                }
                for (ch, field) in f[2..].iter().enumerate() {
                    self.module.columns[ch] = self.int(field, 1, 4, "effect columns")? as usize;
                }
            }
            "ORDER" => {
                self.track_needed(f)?;
                self.expect_fields(f, 8, "frame : one pattern per channel, hex")?;
                let frame = self.hex(&f[1], 2, 0xFF, "frame")?;
                if frame != self.module.orders.len() || f[2].text != ":" {
                    return Err(self.err(
                        f[1].column,
                        format!(
                            "ORDER {} is out of sequence or lacks ':' (expected frame {:02X})",
                            f[1].text,
                            self.module.orders.len()
                        ),
                    ));
                }
                let mut row = [0; 5];
                for (p, field) in row.iter_mut().zip(&f[3..]) {
                    *p = self.hex(field, 2, 0xFF, "pattern")?;
                }
                self.module.orders.push(row);
            }
            "PATTERN" => {
                self.track_needed(f)?;
                self.expect_fields(f, 2, "pattern number, hex")?;
                self.pattern = Some(self.hex(&f[1], 2, 0xFF, "pattern")?);
            }
            "ROW" => self.row_line(f)?,
            _ if EXPANSION_COMMANDS.contains(&name.as_str()) => {
                return Err(self.err(
                    f[0].column,
                    format!(
                        "{} belongs to an expansion chip; a nesmm score holds only the 2A03's four \
                         voices",
                        f[0].text
                    ),
                ))
            }
            _ => {
                return Err(self.err(
                    f[0].column,
                    format!(
                        "unknown command '{}' (not in FamiTracker 0.4.6's text export; a later \
                         fork's file? export it as FamiTracker 0.4.6 text)",
                        f[0].text
                    ),
                ))
            }
        }
        Ok(())
    }

    fn track_needed(&self, f: &[Field]) -> Result<()> {
        if self.in_track {
            Ok(())
        } else {
            Err(self.err(
                f[0].column,
                format!("{} comes before any TRACK line", f[0].text),
            ))
        }
    }

    fn macro_line(&mut self, f: &[Field]) -> Result<()> {
        if f.len() < 7 || f[6].text != ":" {
            let column = f.get(6).or(f.last()).map_or(1, |x| x.column);
            return Err(self.err(
                column,
                "MACRO needs: type index loop release setting : values",
            ));
        }
        let kind = self.int(&f[1], 0, 4, "macro type")? as u8;
        let index = self.int(&f[2], 0, 127, "macro index")?;
        let values: Vec<i64> = f[7..]
            .iter()
            .map(|v| self.int(v, -128, 127, "macro value"))
            .collect::<Result<_>>()?;
        if values.is_empty() || values.len() > 253 {
            return Err(self.err(f[6].column, "a macro holds 1..253 values"));
        }
        let n = values.len() as i64;
        let point = |p: &Field, what: &str| -> Result<Option<usize>> {
            let v = self.int(p, -1, n - 1, what)?;
            Ok((v >= 0).then_some(v as usize))
        };
        let loop_point = point(&f[3], "loop point")?;
        let release = point(&f[4], "release point")?;
        let hi = match kind {
            0 => 15,
            4 => 3,
            _ => 127,
        };
        let lo = if kind == 0 || kind == 4 { 0 } else { -128 };
        for (v, field) in values.iter().zip(&f[7..]) {
            if !(lo..=hi).contains(v) {
                return Err(self.err(
                    field.column,
                    format!("macro value {v} is outside {lo}..{hi}"),
                ));
            }
        }
        let values = values.iter().map(|&v| v as u8).collect();
        self.macros.insert(
            (kind, index),
            Macro {
                values,
                loop_point,
                release,
            },
        );
        Ok(())
    }

    fn instrument_line(&mut self, f: &[Field]) -> Result<()> {
        self.expect_fields(f, 8, "index volume arpeggio pitch hi-pitch duty \"name\"")?;
        let index = self.int(&f[1], 0, 63, "instrument")? as u8;
        let mut seq = [None, None, None, None, None];
        for (k, s) in seq.iter_mut().enumerate() {
            let i = self.int(&f[2 + k], -1, 127, "macro index")?;
            if i < 0 {
                continue;
            }
            let kind = k as u8;
            *s = Some(self.macros.get(&(kind, i)).cloned().ok_or_else(|| {
                self.err(
                    f[2 + k].column,
                    format!("macro {i} of type {kind} is not defined above"),
                )
            })?);
        }
        if seq[1..4].iter().any(Option::is_some) {
            self.note_dropped("arpeggio / pitch macros of instruments");
        }
        let [volume, _, _, _, duty] = seq;
        self.module.instruments.insert(
            index,
            Instrument {
                name: f[7].text.clone(),
                volume: volume.unwrap_or_else(|| Macro::once(vec![15])),
                duty,
                used_for: InstrumentUse::Any,
            },
        );
        Ok(())
    }

    fn row_line(&mut self, f: &[Field]) -> Result<()> {
        self.track_needed(f)?;
        let Some(pattern) = self.pattern else {
            return Err(self.err(f[0].column, "ROW comes before any PATTERN line"));
        };
        if f.len() < 2 {
            return Err(self.err(f[0].column, "ROW needs a row number"));
        }
        let row = self.hex(&f[1], 2, 0xFF, "row")?;
        if row >= self.module.rows {
            return Err(self.err(
                f[1].column,
                format!(
                    "row {row:02X} is past the pattern length of {} rows set by TRACK",
                    self.module.rows
                ),
            ));
        }
        let mut groups: Vec<&[Field]> = Vec::new();
        let rest = &f[2..];
        if rest.first().is_none_or(|x| x.text != ":") {
            let column = rest
                .first()
                .map_or(f[1].column + f[1].text.len(), |x| x.column);
            return Err(self.err(column, "expected ':' after the row number"));
        }
        let mut start = 1;
        for i in 1..=rest.len() {
            if i == rest.len() || rest[i].text == ":" {
                groups.push(&rest[start..i]);
                start = i + 1;
            }
        }
        if groups.len() != 5 {
            return Err(self.err(
                f[0].column,
                format!(
                    "a 2A03 row has 5 channels (pulse 1, pulse 2, triangle, noise, DPCM), found {}",
                    groups.len()
                ),
            ));
        }
        let end_column = f.last().map_or(1, |x| x.column + x.text.chars().count());
        let mut cells = [Row::default(); 5];
        for (ch, g) in groups.iter().enumerate() {
            let want = 3 + self.module.columns[ch];
            if g.len() != want {
                let column = g.get(want).or(g.first()).map_or(end_column, |x| x.column);
                return Err(self.err(
                    column,
                    format!(
                        "channel {} needs note, instrument, volume and {} effect field(s) \
                         (COLUMNS), found {} fields",
                        ch + 1,
                        want - 3,
                        g.len()
                    ),
                ));
            }
            cells[ch] = self.cell(ch, g)?;
        }
        self.module.cells.insert((pattern, row), (cells, self.line));
        Ok(())
    }

    fn cell(&mut self, ch: usize, g: &[Field]) -> Result<Row> {
        let mut cell = Row::default();
        let note = &g[0];
        cell.note = match note.text.as_str() {
            "..." => NoteField::Empty,
            "---" => NoteField::Cut,
            "===" => NoteField::Release,
            t if ch == 3 => {
                let b = t.as_bytes();
                let digit = (b.len() == 3 && &b[1..] == b"-#")
                    .then(|| (b[0] as char).to_digit(16))
                    .flatten();
                NoteField::Note(digit.ok_or_else(|| {
                    self.err(
                        note.column,
                        format!("noise note '{t}' is not a hex digit then '-#' (0-# .. F-#)"),
                    )
                })? as u8)
            }
            t => NoteField::Note(parse_note_name(t).ok_or_else(|| {
                self.err(
                    note.column,
                    format!("note '{t}' is not C-0..B-7, '...', '---' or '==='"),
                )
            })?),
        };
        if ch == 4 && matches!(cell.note, NoteField::Note(_)) {
            self.note_dropped("DPCM notes");
        }
        cell.instrument = match g[1].text.as_str() {
            ".." => None,
            _ => Some(self.hex(&g[1], 2, 63, "instrument")? as u8),
        };
        cell.volume = match g[2].text.as_str() {
            "." => None,
            _ => Some(self.hex(&g[2], 1, 15, "volume")? as u8),
        };
        for e in &g[3..] {
            if e.text == "..." {
                continue;
            }
            let mut chars = e.text.chars();
            let letter = chars.next().unwrap_or(' ').to_ascii_uppercase();
            let param = chars.as_str();
            let name = effect_name(letter)
                .filter(|_| param.len() == 2 && param.chars().all(|c| c.is_ascii_hexdigit()));
            let Some(name) = name else {
                return Err(self.err(
                    e.column,
                    format!(
                        "effect '{}' is not a known letter and two hex digits",
                        e.text
                    ),
                ));
            };
            let value = u8::from_str_radix(param, 16).unwrap_or(0);
            match letter {
                'B' => cell.jump = Some(value),
                'C' => cell.halt = true,
                'D' => cell.skip = Some(value),
                'V' if ch == 0 || ch == 1 || ch == 3 => cell.duty = Some(value),
                _ => self.note_dropped(&format!("{name} effects")),
            }
        }
        Ok(cell)
    }
}

/// Reads FamiTracker text (see the module documentation). `origin` names the file in errors.
pub fn read_famitracker(bytes: &[u8], origin: &Path) -> Result<FamiTrackerImport> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Error::format(
            origin,
            format!(
                "not UTF-8 text (byte {}); save it as UTF-8",
                e.valid_up_to()
            ),
        )
    })?;
    let mut p = Parser {
        origin,
        line: 0,
        module: Module::default(),
        macros: HashMap::new(),
        in_track: false,
        later_tracks: 0,
        pattern: None,
        dropped: BTreeMap::new(),
    };
    for (i, line) in text.lines().enumerate() {
        p.line = i + 1;
        let line = line.trim_end_matches('\r');
        if line.trim_start().starts_with('#') {
            continue;
        }
        let f = fields(line).map_err(|(column, what)| p.err(column, what))?;
        if !f.is_empty() {
            p.command(&f)?;
        }
    }
    if !p.in_track {
        return Err(Error::format(
            origin,
            "no TRACK line: the file holds no song",
        ));
    }
    if p.module.orders.is_empty() {
        return Err(Error::format(
            origin,
            "no ORDER lines: the song has no frames",
        ));
    }
    p.module.ticks_per_second = match (p.module.framerate, p.module.pal) {
        (0, false) => NTSC_TICKS_PER_SECOND,
        (0, true) => PAL_TICKS_PER_SECOND,
        (r, _) => f64::from(r),
    };
    let name = if p.module.title.is_empty() {
        origin
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    } else {
        p.module.title.clone()
    };
    let rate = rows_per_second(p.module.speed, p.module.tempo);
    let mut played = play(&p.module, origin)?;
    played.score.name = name;
    played.score.rate = rate;
    for (what, n) in played.dropped {
        *p.dropped.entry(what).or_default() += n;
    }
    played
        .score
        .validate()
        .map_err(|e| Error::format(origin, e.to_string()))?;
    Ok(FamiTrackerImport {
        score: played.score,
        dropped: p
            .dropped
            .into_iter()
            .map(|(w, n)| format!("{n} {w}"))
            .collect(),
    })
}
