//! Import of ordinary MIDI files into a four-voice score, by the rule documented in
//! [`super::midi`]: parts chosen for the voices by [`super::midi_parts`], each reduced to one
//! note at a time and sampled at 24 Hz.
//!
//! A score cannot restart a note that is already sounding, so a note followed at once by a new
//! note of the same pitch ends one frame early (a rest frame) when it lasts two frames or more.
//! Drum hits on the noise last at most [`DRUM_FRAMES`] frames and fade (full, two thirds, one
//! third of their velocity), so a hit is heard as a hit, never as a drone.

use super::midi_parse::{EventKind, Parsed};
use super::midi_parts::{choose, Note, Part};
use super::midi_timing::{too_long, TempoMap, MAX_FRAMES};
use crate::error::{Error, Result};
use crate::score::{Cell, Score, Voice, NESMDB_RATE};
use std::collections::BTreeMap;
use std::path::Path;

/// Longest drum hit on the noise, in frames (125 ms).
pub const DRUM_FRAMES: usize = 3;

/// Noise value (1..16, higher is brighter) for a General MIDI drum note.
pub fn drum_to_noise(key: u8) -> u8 {
    match key {
        35 | 36 => 3,            // bass drums
        41 | 43 => 5,            // low toms
        45 | 47 => 6,            // mid toms
        48 | 50 => 7,            // high toms
        38 | 40 => 9,            // snares
        39 => 10,                // hand clap
        37 => 11,                // side stick
        49 | 52 | 55 | 57 => 12, // crash, china, splash
        51 | 53 | 59 => 13,      // rides
        46 => 14,                // open hi-hat
        42 | 44 => 15,           // closed and pedal hi-hat
        0..=34 => 8,
        _ => 12,
    }
}

/// MIDI velocity 1..127 to NES 1..15: ceil(v * 15 / 127).
pub fn scale_velocity(v: u8) -> u8 {
    ((v.min(127) as u32 * 15).div_ceil(127)).clamp(1, 15) as u8
}

/// Moves `key` by octaves into `lo..=hi`; returns the note and whether it moved.
fn into_range(key: u8, lo: u8, hi: u8) -> (u8, bool) {
    let mut k = key as i32;
    while k < lo as i32 {
        k += 12;
    }
    while k > hi as i32 {
        k -= 12;
    }
    (k as u8, k != key as i32)
}

/// Pairs note-ons with note-offs per (track, channel, key), first on first off, in frames.
fn collect_parts(p: &Parsed, frame_of: impl Fn(u64) -> usize) -> Vec<Part> {
    let mut parts: BTreeMap<(usize, u8), Vec<Note>> = BTreeMap::new();
    let mut programs: BTreeMap<(usize, u8), u8> = BTreeMap::new();
    let mut open: BTreeMap<(usize, u8, u8), Vec<(usize, u8)>> = BTreeMap::new();
    let last_frame = p.events.last().map(|e| frame_of(e.tick)).unwrap_or(0);
    for e in &p.events {
        match e.kind {
            EventKind::Program { channel, program } => {
                let started = open
                    .range((e.track, channel, 0)..=(e.track, channel, 127))
                    .next();
                if started.is_none() && !parts.contains_key(&(e.track, channel)) {
                    programs.insert((e.track, channel), program);
                } else {
                    programs.entry((e.track, channel)).or_insert(program);
                }
            }
            EventKind::NoteOn { channel, key, vel } => {
                open.entry((e.track, channel, key))
                    .or_default()
                    .push((frame_of(e.tick), vel));
            }
            EventKind::NoteOff { channel, key } => {
                if let Some(stack) = open.get_mut(&(e.track, channel, key)) {
                    if !stack.is_empty() {
                        let (start, vel) = stack.remove(0);
                        let end = frame_of(e.tick).max(start + 1);
                        parts.entry((e.track, channel)).or_default().push(Note {
                            start,
                            end,
                            key,
                            vel,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    // Notes never switched off end with the file.
    for ((track, channel, key), stack) in open {
        for (start, vel) in stack {
            parts.entry((track, channel)).or_default().push(Note {
                start,
                end: last_frame.max(start + 1),
                key,
                vel,
            });
        }
    }
    parts
        .into_iter()
        .map(|((track, channel), mut notes)| {
            notes.sort_by_key(|n| (n.start, n.key));
            Part {
                track,
                channel,
                program: programs.get(&(track, channel)).copied(),
                notes,
            }
        })
        .collect()
}

/// Which sounding note a voice plays.
#[derive(Clone, Copy)]
enum Priority {
    Highest,
    Lowest,
    Latest,
}

/// What rendering a voice did, for the notes.
#[derive(Default)]
struct Rendered {
    /// Notes moved by octaves into the voice's range.
    shifted: usize,
    /// Notes never heard (polyphony).
    hidden: usize,
    /// Repeated notes kept apart by a rest frame.
    separated: usize,
    /// Repeated notes of one frame, which merge with the next (no room for a rest).
    merged: usize,
}

/// Renders notes into one voice of `frames` (see the module documentation).
fn render(
    frames: &mut [[Cell; 4]],
    voice: Voice,
    notes: &[Note],
    priority: Priority,
    map_key: impl Fn(u8) -> u8,
) -> Rendered {
    let (lo, hi) = voice.note_range();
    let drums = voice == Voice::Noise;
    let mut out = Rendered::default();
    let mut heard = vec![false; notes.len()];
    let mut active: Vec<usize> = Vec::new();
    let mut next = 0;
    // The note heard in the previous frame and for how many frames it had sounded.
    let mut previous: Option<(usize, usize)> = None;
    let timbre = if voice == Voice::Pulse1 || voice == Voice::Pulse2 {
        2
    } else {
        0
    };
    let end = |n: &Note| {
        if drums {
            n.end.min(n.start + DRUM_FRAMES)
        } else {
            n.end
        }
    };
    for f in 0..frames.len() {
        active.retain(|&i| end(&notes[i]) > f);
        while next < notes.len() && notes[next].start <= f {
            if end(&notes[next]) > f {
                active.push(next);
            }
            next += 1;
        }
        let pick = match priority {
            Priority::Highest => active
                .iter()
                .max_by_key(|&&i| (notes[i].key, notes[i].start)),
            Priority::Lowest => active
                .iter()
                .min_by_key(|&&i| (notes[i].key, std::cmp::Reverse(notes[i].start))),
            Priority::Latest => active.iter().max_by_key(|&&i| (notes[i].start, i)),
        }
        .copied();
        frames[f][voice.index()].timbre = timbre;
        let Some(i) = pick else {
            previous = None;
            continue;
        };
        heard[i] = true;
        let n = notes[i];
        let note = into_range(map_key(n.key), lo, hi).0;
        let velocity = if !voice.has_velocity() {
            0
        } else if drums {
            // Full, two thirds, one third: each hit fades.
            let age = (f - n.start) as u32;
            ((scale_velocity(n.vel) as u32 * (3 - age.min(2))).div_ceil(3)).max(1) as u8
        } else {
            scale_velocity(n.vel)
        };
        match previous {
            Some((p, run)) if p != i && frames[f - 1][voice.index()].note == note => {
                if run >= 2 {
                    frames[f - 1][voice.index()] = Cell {
                        timbre,
                        ..Cell::REST
                    };
                    out.separated += 1;
                } else if !drums {
                    out.merged += 1;
                }
                previous = Some((i, 1));
            }
            Some((p, run)) if p == i => previous = Some((i, run + 1)),
            _ => previous = Some((i, 1)),
        }
        frames[f][voice.index()] = Cell {
            note,
            velocity,
            timbre,
        };
    }
    out.shifted = notes
        .iter()
        .filter(|n| into_range(map_key(n.key), lo, hi).1)
        .count();
    out.hidden = heard.iter().filter(|h| !**h).count();
    out
}

/// What an import did: the layout it recognised and which parts went where.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MidiImport {
    /// The file is in NES-MDB's four-track layout and was read exactly.
    pub nesmdb_layout: bool,
    /// One line per decision: voice assignments, dropped parts, clamped and hidden notes.
    pub notes: Vec<String>,
}

pub(crate) fn import(p: &Parsed, name: String, origin: &Path) -> Result<(Score, MidiImport)> {
    let tempo = TempoMap::new(p);
    let frame_of = |tick: u64| {
        let s = tempo.sample(tick) as u128;
        // Saturate far below usize::MAX: such lengths are refused below.
        ((s * 24 + 22_050) / 44_100).min(u32::MAX as u128) as usize
    };
    let parts = collect_parts(p, frame_of);
    let nframes = parts
        .iter()
        .flat_map(|pt| pt.notes.iter().map(|n| n.end))
        .max()
        .unwrap_or(0);
    if nframes > MAX_FRAMES {
        return Err(too_long(origin, nframes as u64));
    }
    if nframes == 0 {
        return Err(Error::format(
            origin,
            "the MIDI file has no notes to import",
        ));
    }
    let mut import = MidiImport::default();
    let mut score = Score::new(name, NESMDB_RATE);
    score.expressive = true;
    score.frames = vec![[Cell::REST; 4]; nframes];

    let choice = choose(&parts, &p.names);
    // Noise: every drum part merged.
    if !choice.drums.is_empty() {
        let mut hits: Vec<Note> = Vec::new();
        for &(i, why) in &choice.drums {
            hits.extend(parts[i].notes.iter().copied());
            import.notes.push(format!(
                "no <- {}: drums, {why}",
                parts[i].describe(&p.names)
            ));
        }
        hits.sort_by_key(|n| (n.start, n.key));
        let r = render(
            &mut score.frames,
            Voice::Noise,
            &hits,
            Priority::Latest,
            drum_to_noise,
        );
        if r.hidden > 0 {
            import.notes.push(format!(
                "no: {} hits hidden by a later hit in the same frame",
                r.hidden
            ));
        }
    }
    for (voice, i, why) in &choice.voices {
        let part = &parts[*i];
        let priority = if *voice == Voice::Triangle {
            Priority::Lowest
        } else {
            Priority::Highest
        };
        import.notes.push(format!(
            "{} <- {}: {why}",
            voice.short_name(),
            part.describe(&p.names)
        ));
        let r = render(&mut score.frames, *voice, &part.notes, priority, |k| k);
        let (lo, hi) = voice.note_range();
        let v = voice.short_name();
        if r.shifted > 0 {
            import.notes.push(format!(
                "{v}: {} notes octave-shifted into {lo}..{hi}",
                r.shifted
            ));
        }
        if r.hidden > 0 {
            let rule = if *voice == Voice::Triangle {
                "lowest"
            } else {
                "highest"
            };
            import.notes.push(format!(
                "{v}: {} notes hidden by polyphony ({rule} note wins)",
                r.hidden
            ));
        }
        if r.separated + r.merged > 0 {
            import.notes.push(format!(
                "{v}: {} repeated notes kept apart by a rest frame, {} too short to separate",
                r.separated, r.merged
            ));
        }
    }
    for (i, why) in &choice.dropped {
        import
            .notes
            .push(format!("dropped {}: {why}", parts[*i].describe(&p.names)));
    }
    Ok((score, import))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn velocity_and_range_mapping() {
        assert_eq!(scale_velocity(1), 1);
        assert_eq!(scale_velocity(127), 15);
        assert_eq!(scale_velocity(64), 8);
        assert_eq!(into_range(12, 21, 108), (24, true));
        assert_eq!(into_range(120, 32, 108), (108, true));
        assert_eq!(into_range(60, 32, 108), (60, false));
        assert!(drum_to_noise(36) < drum_to_noise(38) && drum_to_noise(38) < drum_to_noise(42));
    }
}
