//! NSF and NSFe import: one track is played on a 6502 and its APU writes become a score.
//!
//! nesdev wiki "NSF", "NSFe", "NSF2". The track's INIT routine runs once (A = track, X = 0 for
//! NTSC, 1 for PAL) after the APU reset the specification asks for, then PLAY once per frame;
//! the writes to $4000-$4017 of each call are captured ([`machine`]). The calls are laid on the
//! 24 Hz grid ([`super::frame_grid`]: whole PLAY calls per score frame, 3, 2, 3, 2 on NTSC)
//! when the play rate is the console's, or at real time for a custom rate, and the resulting
//! log goes through NES-MDB's conversion exactly as a VGM does ([`super::vgm_score`]).
//!
//! The length: at most `--seconds` (default [`DEFAULT_MAX_SECONDS`]), cut where the track falls
//! silent for good ([`song_end`]), or after one pass of the loop when the writes repeat; the
//! loop point becomes [`Score::loop_frame`]. Expansion audio (VRC6, VRC7, FDS, MMC5, N163, S5B)
//! is refused by name: a score has the 2A03's four voices only.

mod machine;
mod song_end;

use super::frame_grid::{clocks_are_harmless, grid_writes, FrameGrid};
use super::nsf_file::{Nsf, NsfHeader, HEADER_SIZE};
use super::nsfe::Nsfe;
use super::vgm::{VgmLog, NTSC_CLOCK, PAL_CLOCK};
use super::{ImportOptions, Loaded};
use crate::compile::timing::FrameMap;
use crate::error::{Error, Result};
use crate::region::Region;
use crate::score::NESMDB_RATE;
use machine::{CallError, Machine};
use std::path::Path;

pub use song_end::{SongEnd, SILENCE_SECONDS};

/// Longest play when `--seconds` is not given.
pub const DEFAULT_MAX_SECONDS: f64 = 300.0;
/// Longest `--seconds`: two hours, the longest score a file may hold.
pub const MAX_SECONDS: f64 = 7200.0;
/// CPU cycles INIT may take (about 11 s of console time; some drivers unpack data there).
const INIT_CYCLES: u64 = 20_000_000;
/// CPU cycles one PLAY call may take (about 30 frames).
const PLAY_CYCLES: u64 = 1_000_000;
/// Expansion chips by header bit ($7B).
const EXPANSION: [&str; 6] = ["VRC6", "VRC7", "FDS", "MMC5", "N163", "S5B"];

/// An NSF or NSFe file: the program and what the file says about its tracks.
#[derive(Debug, Clone)]
pub struct NsfFile {
    pub nsf: Nsf,
    /// "NSF", "NSF2" or "NSFe".
    pub kind: &'static str,
    /// Track titles (NSFe `tlbl`, NSF2 metadata), possibly fewer than the tracks.
    pub titles: Vec<String>,
    /// Track lengths in milliseconds (NSFe `time`; negative: unknown).
    pub times_ms: Vec<i32>,
}

/// Chunks of NSFe form after an NSF2 program: titles and times.
fn nsf2_metadata(meta: &[u8]) -> (Vec<String>, Vec<i32>) {
    let (mut titles, mut times) = (Vec::new(), Vec::new());
    let mut at = 0;
    while let Some(head) = meta.get(at..at + 8) {
        let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let Some(body) = meta.get(at + 8..(at + 8).saturating_add(len)) else {
            break;
        };
        match &head[4..8] {
            b"tlbl" => {
                titles = body
                    .split(|&b| b == 0)
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect();
                titles.pop_if(|t| t.is_empty());
            }
            b"time" => {
                times = body
                    .chunks_exact(4)
                    .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect()
            }
            _ => {}
        }
        at += 8 + len;
    }
    (titles, times)
}

/// Reads an NSF (version 1 or 2) or NSFe and refuses expansion audio by name.
pub fn read_nsf_file(bytes: &[u8], origin: &Path) -> Result<NsfFile> {
    let file = if bytes.starts_with(b"NSFE") {
        let e = Nsfe::parse(bytes, origin)?;
        NsfFile {
            nsf: e.nsf,
            kind: "NSFe",
            titles: e.track_titles,
            times_ms: e.track_ms,
        }
    } else {
        let mut head = bytes.get(..HEADER_SIZE).unwrap_or(bytes).to_vec();
        // Dual-region files ($7A bit 1) are played at their preferred rate (bit 0).
        if let Some(r) = head.get_mut(0x7A) {
            *r &= 1;
        }
        let header = NsfHeader::parse(&head, origin)?;
        let rest = &bytes[HEADER_SIZE..];
        let program_len = u32::from_le_bytes([bytes[0x7D], bytes[0x7E], bytes[0x7F], 0]) as usize;
        let (data, meta) = if header.version >= 2 && program_len > 0 && program_len < rest.len() {
            rest.split_at(program_len)
        } else {
            (rest, &[][..])
        };
        let mut whole = head;
        whole.extend_from_slice(data);
        let nsf = Nsf::parse(&whole, origin)?;
        let (titles, times_ms) = nsf2_metadata(meta);
        NsfFile {
            nsf,
            kind: if header.version >= 2 { "NSF2" } else { "NSF" },
            titles,
            times_ms,
        }
    };
    let h = &file.nsf.header;
    let chips: Vec<&str> = EXPANSION
        .iter()
        .enumerate()
        .filter(|(bit, _)| h.expansion & (1 << bit) != 0)
        .map(|(_, name)| *name)
        .collect();
    if !chips.is_empty() {
        return Err(Error::Unsupported(format!(
            "{}: a valid {} that uses {} expansion audio; nesmm imports the 2A03's own five \
             voices only (pulse, pulse, triangle, noise; DMC ignored)",
            origin.display(),
            file.kind,
            chips.join(" and ")
        )));
    }
    if h.expansion & 0xC0 != 0 {
        return Err(Error::Unsupported(format!(
            "{}: the header's expansion byte ${:02X} names a chip beyond the six nesmm knows",
            origin.display(),
            h.expansion
        )));
    }
    if h.init_addr < 0x8000 || h.play_addr < 0x8000 {
        return Err(Error::format(
            origin,
            format!(
                "INIT ${:04X} or PLAY ${:04X} is outside the program ($8000-$FFFF)",
                h.init_addr, h.play_addr
            ),
        ));
    }
    Ok(file)
}

impl NsfFile {
    /// One line per track: number, title and time when the file gives them.
    pub fn track_lines(&self) -> Vec<String> {
        let h = &self.nsf.header;
        (0..h.song_count as usize)
            .map(|i| {
                let mut line = format!("{:3}", i + 1);
                if i + 1 == h.first_song as usize {
                    line.push_str(" *");
                } else {
                    line.push_str("  ");
                }
                if let Some(t) = self.titles.get(i).filter(|t| !t.is_empty()) {
                    line.push_str(&format!(" {t}"));
                }
                if let Some(&ms) = self.times_ms.get(i).filter(|&&ms| ms >= 0) {
                    line.push_str(&format!(" ({}:{:02})", ms / 60_000, ms / 1000 % 60));
                }
                line
            })
            .collect()
    }

    /// The play rate in Hz for the header's region.
    fn play_hz(&self) -> f64 {
        let h = &self.nsf.header;
        let us = match h.region {
            Region::Ntsc => h.ntsc_speed_us,
            Region::Pal => h.pal_speed_us,
        };
        if us == 0 {
            h.region.frame_hz()
        } else {
            1e6 / us as f64
        }
    }
}

/// What playing a track gave: the writes of INIT and of each PLAY call.
#[derive(Debug, Clone)]
pub struct PlayedTrack {
    /// The player's APU reset before INIT (nesdev wiki "NSF": $4000-$4013 = 0, $4015, $4017).
    pub reset: Vec<(u8, u8)>,
    pub init: Vec<(u8, u8)>,
    pub frames: Vec<Vec<(u8, u8)>>,
}

/// Plays track `track` (0-based) for `frames` PLAY calls. `origin` names the file in errors.
pub fn play(file: &NsfFile, track: u8, frames: usize, origin: &Path) -> Result<PlayedTrack> {
    let h = &file.nsf.header;
    let mut m = Machine::new(&file.nsf.data, h.load_addr, h.banks);
    m.reset_apu();
    let reset = m.take_writes();
    let x = u8::from(h.region == Region::Pal);
    let fail = |what: &str, e: CallError| {
        Error::Unsupported(format!(
            "{}: track {}: the {what} routine {e}; nesmm cannot play this NSF",
            origin.display(),
            track as u16 + 1
        ))
    };
    m.call(h.init_addr, track, x, INIT_CYCLES)
        .map_err(|e| fail("INIT", e))?;
    let init = m.take_writes();
    let mut out = Vec::with_capacity(frames);
    for _ in 0..frames {
        m.call(h.play_addr, 0, 0, PLAY_CYCLES)
            .map_err(|e| fail("PLAY", e))?;
        out.push(m.take_writes());
    }
    Ok(PlayedTrack {
        reset,
        init,
        frames: out,
    })
}

/// When each PLAY call plays: on the 24 Hz grid when the rate is within 0.5% of the region's
/// NMI rate (60 Hz drivers on NTSC, 50 Hz on PAL), else at real time.
struct CallTiming {
    grid: Option<FrameGrid>,
    hz: f64,
}

impl CallTiming {
    fn of(file: &NsfFile) -> CallTiming {
        let region = file.nsf.header.region;
        let hz = file.play_hz();
        let on_grid = (hz / region.frame_hz() - 1.0).abs() < 0.005;
        CallTiming {
            grid: on_grid.then(|| FrameGrid::new(FrameMap::new(NESMDB_RATE, region), NESMDB_RATE)),
            hz,
        }
    }

    /// The 44.1 kHz sample call `j` starts at.
    fn sample(&self, j: u64) -> u64 {
        match &self.grid {
            Some(g) => g.sample(j),
            None => (j as f64 * 44100.0 / self.hz) as u64,
        }
    }

    /// The 24 Hz frame call `j` plays in.
    fn score_frame(&self, j: u64) -> usize {
        match &self.grid {
            Some(g) => g.score_frame(j),
            None => (j as f64 * NESMDB_RATE / self.hz) as usize,
        }
    }
}

/// The played writes as a VGM log on `timing`, `frames` PLAY calls long. The triangle is
/// synchronised to the PLAY calls where the track's writes let it be
/// ([`super::frame_grid::grid_writes`]).
fn to_log(
    file: &NsfFile,
    played: &PlayedTrack,
    frames: usize,
    timing: &dyn Fn(u64) -> u64,
) -> VgmLog {
    let calls = &played.frames[..frames.min(played.frames.len())];
    // The reset's zeros are overwritten before any voice sounds: only the program's writes
    // decide.
    let sync = clocks_are_harmless(played.init.iter().chain(calls.iter().flatten()));
    let init = [played.reset.as_slice(), &played.init].concat();
    let (writes, _) = grid_writes(&init, calls.iter().map(Vec::as_slice), timing, sync, None);
    VgmLog {
        clock: match file.nsf.header.region {
            Region::Ntsc => NTSC_CLOCK,
            Region::Pal => PAL_CLOCK,
        },
        total_samples: timing(frames as u64),
        loop_start: None,
        loop_samples: 0,
        writes,
        gd3: None,
        skipped_commands: 0,
    }
}

/// Imports one track of an NSF or NSFe (see the module documentation).
pub fn import_file(bytes: &[u8], origin: &Path, opts: &ImportOptions) -> Result<Loaded> {
    let file = read_nsf_file(bytes, origin)?;
    let h = &file.nsf.header;
    let track = opts.track.unwrap_or(h.first_song.max(1) as u16);
    if track == 0 || track > h.song_count as u16 {
        return Err(Error::Unsupported(format!(
            "{}: there is no track {track}; the {} holds tracks 1 to {} (see `nesmm info`)",
            origin.display(),
            file.kind,
            h.song_count
        )));
    }
    let seconds = opts.seconds.unwrap_or(DEFAULT_MAX_SECONDS);
    if !(seconds > 0.0 && seconds <= MAX_SECONDS) {
        return Err(Error::Unsupported(format!(
            "--seconds {seconds}: give a length above 0 and at most {MAX_SECONDS}"
        )));
    }
    let max_frames = (seconds * file.play_hz()).ceil() as usize;
    let played = play(&file, (track - 1) as u8, max_frames, origin)?;
    let timing = CallTiming::of(&file);
    let log = to_log(&file, &played, max_frames, &|j| timing.sample(j));
    let stem = origin.file_stem().unwrap_or_default().to_string_lossy();
    let name = match file
        .titles
        .get(track as usize - 1)
        .filter(|t| !t.is_empty())
    {
        Some(t) => format!("{stem} - {track:02} {t}"),
        None => format!("{stem} - {track:02}"),
    };
    let full = super::vgm_score::vgm_to_score(&log, &name);
    let end = song_end::find_end(&played.frames, &full, |j| timing.score_frame(j));
    let mut notes = vec![format!(
        "{} track {track} of {}: {}",
        file.kind,
        h.song_count,
        end.describe(max_frames as f64 / file.play_hz())
    )];
    notes.extend(super::vgm::dmc_note(&log));
    let score = end.apply(full).ok_or_else(|| {
        Error::Unsupported(format!(
            "{}: track {track} makes no sound in its first {seconds} s",
            origin.display()
        ))
    })?;
    Ok(Loaded {
        score,
        notes,
        nesmdb_form: false,
    })
}

#[cfg(test)]
mod tests;
