//! Import of ordinary MIDI files into a four-voice score, by the rule documented in
//! [`super::midi`]: drums to the noise, the lowest part to the triangle, the two most active
//! remaining parts to the pulses, each reduced to one note at a time and sampled at 24 Hz.

use super::midi::{EventKind, MidiImport, Parsed, TempoMap};
use crate::error::{Error, Result};
use crate::score::{Cell, Score, Voice, NESMDB_RATE};
use std::collections::BTreeMap;
use std::path::Path;

/// The General MIDI drum channel (10, index 9).
const DRUM_CHANNEL: u8 = 9;

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

/// A note with its frames: sounding over `start..end`.
#[derive(Debug, Clone, Copy)]
struct Note {
    start: usize,
    end: usize,
    key: u8,
    vel: u8,
}

/// A (track, channel) pair's notes.
struct Part {
    track: usize,
    channel: u8,
    notes: Vec<Note>,
}

impl Part {
    fn mean_pitch(&self) -> f64 {
        self.notes.iter().map(|n| n.key as f64).sum::<f64>() / self.notes.len().max(1) as f64
    }

    fn describe(&self, names: &[String]) -> String {
        let name = names.get(self.track).map(String::as_str).unwrap_or("");
        format!(
            "track {} '{}' channel {} ({} notes)",
            self.track,
            name,
            self.channel + 1,
            self.notes.len()
        )
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
    let mut open: BTreeMap<(usize, u8, u8), Vec<(usize, u8)>> = BTreeMap::new();
    let last_frame = p.events.last().map(|e| frame_of(e.tick)).unwrap_or(0);
    for e in &p.events {
        match e.kind {
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

/// Renders notes into one voice of `frames`; returns (octave-shifted notes, hidden notes).
fn render(
    frames: &mut [[Cell; 4]],
    voice: Voice,
    notes: &[Note],
    priority: Priority,
    map_key: impl Fn(u8) -> u8,
) -> (usize, usize) {
    let (lo, hi) = voice.note_range();
    let mut shifted = 0;
    let mut heard = vec![false; notes.len()];
    let mut active: Vec<usize> = Vec::new();
    let mut next = 0;
    let timbre = if voice == Voice::Noise { 0 } else { 2 };
    for (f, frame) in frames.iter_mut().enumerate() {
        active.retain(|&i| notes[i].end > f);
        while next < notes.len() && notes[next].start <= f {
            if notes[next].end > f {
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
        };
        let cell = &mut frame[voice.index()];
        cell.timbre = if voice == Voice::Triangle { 0 } else { timbre };
        if let Some(&i) = pick {
            heard[i] = true;
            let n = notes[i];
            cell.note = into_range(map_key(n.key), lo, hi).0;
            cell.velocity = if voice.has_velocity() {
                scale_velocity(n.vel)
            } else {
                0
            };
        }
    }
    for n in notes {
        if into_range(map_key(n.key), lo, hi).1 {
            shifted += 1;
        }
    }
    (shifted, heard.iter().filter(|h| !**h).count())
}

/// Imports an ordinary MIDI file (see [`super::midi`] for the rule).
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
    if nframes > super::midi::MAX_FRAMES {
        return Err(super::midi::too_long(origin, nframes as u64));
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

    let (drums, mut melodic): (Vec<&Part>, Vec<&Part>) =
        parts.iter().partition(|pt| pt.channel == DRUM_CHANNEL);
    // Noise: every drum part merged.
    if !drums.is_empty() {
        let mut hits: Vec<Note> = drums.iter().flat_map(|d| d.notes.iter().copied()).collect();
        hits.sort_by_key(|n| (n.start, n.key));
        let tracks: Vec<String> = drums.iter().map(|d| d.track.to_string()).collect();
        import.notes.push(format!(
            "no <- channel 10 drums from track(s) {}: {} hits",
            tracks.join(", "),
            hits.len()
        ));
        let (_, hidden) = render(
            &mut score.frames,
            Voice::Noise,
            &hits,
            Priority::Latest,
            drum_to_noise,
        );
        if hidden > 0 {
            import.notes.push(format!(
                "no: {hidden} hits hidden by a later hit in the same frame"
            ));
        }
    }
    // Triangle: the lowest part, when there are at least two.
    let mut assigned: Vec<(Voice, &Part)> = Vec::new();
    if melodic.len() >= 2 {
        let lowest = (0..melodic.len())
            .min_by(|&a, &b| melodic[a].mean_pitch().total_cmp(&melodic[b].mean_pitch()))
            .unwrap_or(0);
        assigned.push((Voice::Triangle, melodic.remove(lowest)));
    }
    // Pulses: the two most active of the rest (stable: file order on ties).
    melodic.sort_by_key(|pt| std::cmp::Reverse(pt.notes.len()));
    for (voice, part) in [Voice::Pulse1, Voice::Pulse2]
        .into_iter()
        .zip(melodic.iter())
    {
        assigned.push((voice, part));
    }
    assigned.sort_by_key(|(v, _)| v.index());
    for (voice, part) in &assigned {
        let priority = if *voice == Voice::Triangle {
            Priority::Lowest
        } else {
            Priority::Highest
        };
        import.notes.push(format!(
            "{} <- {}",
            voice.short_name(),
            part.describe(&p.names)
        ));
        let (shifted, hidden) = render(&mut score.frames, *voice, &part.notes, priority, |k| k);
        let (lo, hi) = voice.note_range();
        if shifted > 0 {
            import.notes.push(format!(
                "{}: {shifted} notes octave-shifted into {lo}..{hi}",
                voice.short_name()
            ));
        }
        if hidden > 0 {
            let rule = if *voice == Voice::Triangle {
                "lowest"
            } else {
                "highest"
            };
            import.notes.push(format!(
                "{}: {hidden} notes hidden by polyphony ({rule} note wins)",
                voice.short_name()
            ));
        }
    }
    for part in melodic.iter().skip(2) {
        import
            .notes
            .push(format!("dropped {}", part.describe(&p.names)));
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
