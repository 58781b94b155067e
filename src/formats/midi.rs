//! Standard MIDI files: NES-MDB's four-track layout both ways, and import of ordinary MIDI.
//!
//! # NES-MDB layout (nesmdb `exprsco_to_midi` / `midi_to_exprsco`)
//! Type 1, 22,050 ticks per beat at 120 BPM, so one tick is one 44.1 kHz sample. Track 0 holds the
//! tempo, a 4/4 time signature at tick 0 and a 1/1 time signature at the song's length in samples
//! (NES-MDB's end-of-song marker). Tracks `p1`, `p2`, `tr`, `no` (channels 0, 1, 2 and 9) hold one
//! note-on/note-off pair per note: the pitch is the MIDI note (the noise value 1..16 on `no`), the
//! note-on velocity is the NES velocity 1..15 (1 on the triangle, which has none), CC11 changes the
//! velocity of a held note and CC12 sets the timbre (duty, noise mode). Writing puts frame i of a
//! 24 Hz score at tick floor(i * 44100 / 24) (integer arithmetic). Reading replays the events
//! sample by sample (a tick is a sample) and downsamples each 24 Hz window exactly as NES-MDB's
//! `exprsco_downsample` does (see [`super::vgm_score`]: the mode of each field over the sounding
//! samples), so NES-MDB's own sample-resolution MIDI files give its 24 Hz scores and a score
//! written here round-trips exactly. Consecutive equal notes in a score are one held note
//! (the score cannot express a re-articulation), and that is how they are written. A `loop`
//! marker in track 0 carries [`Score::loop_frame`]. A score without `source_samples` reads back
//! with `source_samples` = the end tick, ceil(N * 44100 / 24). On reading, the score is
//! `expressive` when any CC11/CC12 appears or a non-triangle note has a velocity other than 15.
//!
//! # Ordinary MIDI (type 0 or 1, any PPQ, tempo changes)
//! Times go through the tempo map exactly (integer ticks x microseconds) to 44.1 kHz samples, then
//! to 24 Hz frames by rounding to the nearest frame start. A note shorter than a frame after that
//! rounding still sounds for one frame. Parts are (track, channel) pairs holding notes; which
//! part plays which voice is decided by [`super::midi_parts`] (drums on any channel to the noise,
//! copies and echoes set aside, a bass to the triangle, the two most salient parts to the pulses;
//! a line in [`MidiImport::notes`] for every part). Then:
//! 1. Polyphony: a pulse part plays its highest sounding note, the triangle its lowest, the noise
//!    its latest hit (drum notes map to noise values by [`crate::formats::drum_to_noise`]);
//!    notes that never sound because of that are counted.
//! 2. Notes outside a voice's range are moved by octaves into it (counted). Velocities 1..127 become
//!    1..15 as ceil(v * 15 / 127); the triangle has none. Pulses get timbre 2 (50% duty), the noise
//!    mode 0. The score is `expressive` (the velocities carry the dynamics).
//! 3. Repeated notes stay separate, drum hits short ([`super::midi_import`]).
//!
//! A file the strict reader refuses is repaired where it can be by [`super::midi_lenient`].

use super::vgm_score::{frame_count, window_frame, window_start, Run};
use crate::error::{Error, Result};
use crate::score::{Cell, Score, Voice, NESMDB_RATE};
use midly::num::{u15, u24, u28, u4, u7};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};
use std::path::Path;

pub use super::midi_import::MidiImport;
pub(crate) use super::midi_parse::{parse, EventKind, Parsed};
pub use super::midi_timing::MAX_FRAMES;
use super::midi_timing::{too_long, NESMDB_TEMPO};

/// Ticks per beat of the NES-MDB layout.
pub const NESMDB_PPQ: u16 = 22_050;
/// General MIDI programs NES-MDB gives its tracks (square lead, saw lead, synth bass, breath noise).
const PROGRAMS: [u8; 4] = [80, 81, 38, 121];
/// Track names of [`MidiLayout::GmDrums`].
const GM_TRACK_NAMES: [&str; 4] = ["pulse 1", "pulse 2", "triangle", "drums"];

/// MIDI channels of the four voices.
const CHANNELS: [u8; 4] = [0, 1, 2, 9];

/// First tick of frame `i`: floor(i * 44100 / 24).
fn frame_tick(i: u64) -> u64 {
    i * 3675 / 2
}

/// Frame nearest to sample `s`: round(s * 24 / 44100).
fn sample_frame(s: u64) -> u64 {
    (s as u128 * 24 + 22_050).div_euclid(44_100) as u64
}

/// How [`write_midi_as`] lays out the voices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MidiLayout {
    /// NES-MDB's: exact round trips; the noise is written as its values 1..16 on channel 10.
    NesMdb,
    /// For DAWs: the noise as General MIDI drum notes ([`gm_drum_note`]), velocities on
    /// MIDI's 1..127 scale, tracks named "pulse 1", "pulse 2", "triangle", "drums" (so the file
    /// is read back by the ordinary import, not as NES-MDB's layout).
    GmDrums,
}

/// The General MIDI drum note for a noise value 1..16 (low values are the deep, rumbling
/// periods: kicks and toms; high values the hiss: snares, cymbals, hi-hats). It is the inverse
/// of [`super::drum_to_noise`] where that one is defined.
pub fn gm_drum_note(noise: u8) -> u8 {
    const NOTES: [u8; 16] = [
        35, 35, 36, 36, 41, 45, 48, 40, 38, 39, 37, 49, 51, 46, 42, 42,
    ];
    NOTES[(noise.clamp(1, 16) - 1) as usize]
}

/// Writes `score` in NES-MDB's MIDI layout. Frames map to ticks exactly at 24 Hz; other rates are
/// placed at floor(i * 44100 / rate) ticks.
pub fn write_midi(score: &Score) -> Result<Vec<u8>> {
    write_midi_as(score, MidiLayout::NesMdb)
}

/// [`write_midi`] in either [`MidiLayout`].
pub fn write_midi_as(score: &Score, layout: MidiLayout) -> Result<Vec<u8>> {
    let gm = layout == MidiLayout::GmDrums;
    score.validate()?;
    let n = score.len() as u64;
    let tick_of = |i: u64| -> u64 {
        if score.rate == NESMDB_RATE {
            frame_tick(i)
        } else {
            (i as f64 * 44_100.0 / score.rate).floor() as u64
        }
    };
    let end_tick = match score.source_samples {
        Some(ns) if score.rate == NESMDB_RATE && frame_count(ns) as u64 == n => ns,
        _ if score.rate == NESMDB_RATE => (n * 3675).div_ceil(2),
        _ => tick_of(n),
    };
    let too_long = || {
        Error::Unsupported(format!(
            "song '{}': {} frames are too long for a MIDI file at 44,100 ticks per second",
            score.name, n
        ))
    };
    let delta = |t: u64, last: &mut u64| -> Result<u28> {
        let d = t - *last;
        *last = t;
        u32::try_from(d)
            .ok()
            .and_then(u28::try_from)
            .ok_or_else(too_long)
    };

    let mut tracks: Vec<Vec<TrackEvent<'static>>> = Vec::with_capacity(5);
    let mut conductor = Vec::new();
    let mut last = 0u64;
    conductor.push(TrackEvent {
        delta: 0.into(),
        kind: TrackEventKind::Meta(MetaMessage::Tempo(u24::new(NESMDB_TEMPO))),
    });
    conductor.push(TrackEvent {
        delta: 0.into(),
        kind: TrackEventKind::Meta(MetaMessage::TimeSignature(4, 2, 24, 8)),
    });
    if let Some(l) = score.loop_frame {
        conductor.push(TrackEvent {
            delta: delta(tick_of(l as u64), &mut last)?,
            kind: TrackEventKind::Meta(MetaMessage::Marker(b"loop")),
        });
    }
    conductor.push(TrackEvent {
        delta: delta(end_tick, &mut last)?,
        kind: TrackEventKind::Meta(MetaMessage::TimeSignature(1, 0, 24, 8)),
    });
    conductor.push(TrackEvent {
        delta: 0.into(),
        kind: TrackEventKind::Meta(MetaMessage::EndOfTrack),
    });
    tracks.push(conductor);

    for voice in Voice::ALL {
        let v = voice.index();
        let channel = u4::new(CHANNELS[v]);
        let mut ev = vec![
            TrackEvent {
                delta: 0.into(),
                kind: TrackEventKind::Meta(MetaMessage::TrackName(if gm {
                    GM_TRACK_NAMES[v].as_bytes()
                } else {
                    voice.short_name().as_bytes()
                })),
            },
            TrackEvent {
                delta: 0.into(),
                kind: TrackEventKind::Midi {
                    channel,
                    message: MidiMessage::ProgramChange {
                        program: u7::new(PROGRAMS[v]),
                    },
                },
            },
        ];
        let mut last = 0u64;
        let mut push = |ev: &mut Vec<TrackEvent<'static>>, t: u64, message| -> Result<()> {
            ev.push(TrackEvent {
                delta: delta(t, &mut last)?,
                kind: TrackEventKind::Midi { channel, message },
            });
            Ok(())
        };
        let midi_velocity = |c: &Cell| match (voice.has_velocity(), gm) {
            (true, false) => c.velocity,
            (true, true) => (c.velocity as u32 * 127 / 15) as u8,
            (false, false) => 1,
            (false, true) => 100,
        };
        let key = |note: u8| {
            if gm && voice == Voice::Noise {
                gm_drum_note(note)
            } else {
                note
            }
        };
        let mut prev = Cell {
            velocity: if voice.has_velocity() { 0 } else { 1 },
            ..Cell::REST
        };
        for (i, frame) in score.frames.iter().enumerate() {
            let c = frame[v];
            let t = tick_of(i as u64);
            let vel = midi_velocity(&c);
            if c.note != prev.note {
                if prev.note != 0 {
                    push(&mut ev, t, note_off(key(prev.note)))?;
                }
                if c.note != 0 {
                    // MIDI has no velocity-0 note-on: start at 1 and set 0 with CC11.
                    push(&mut ev, t, note_on(key(c.note), vel.max(1)))?;
                    if vel == 0 {
                        push(&mut ev, t, controller(11, 0))?;
                    }
                }
            } else if c.note != 0 && vel != prev.velocity {
                push(&mut ev, t, controller(11, vel))?;
            }
            if c.timbre != prev.timbre {
                push(&mut ev, t, controller(12, c.timbre))?;
            }
            prev = Cell {
                note: c.note,
                velocity: vel,
                timbre: c.timbre,
            };
        }
        if prev.note != 0 {
            push(&mut ev, tick_of(n), note_off(key(prev.note)))?;
        }
        ev.push(TrackEvent {
            delta: 0.into(),
            kind: TrackEventKind::Meta(MetaMessage::EndOfTrack),
        });
        tracks.push(ev);
    }
    let smf = Smf {
        header: Header::new(Format::Parallel, Timing::Metrical(u15::new(NESMDB_PPQ))),
        tracks,
    };
    let mut out = Vec::new();
    smf.write_std(&mut out).map_err(|e| {
        Error::Unsupported(format!("song '{}': MIDI encoding failed: {e}", score.name))
    })?;
    Ok(out)
}

fn note_on(key: u8, vel: u8) -> MidiMessage {
    MidiMessage::NoteOn {
        key: u7::new(key & 0x7F),
        vel: u7::new(vel & 0x7F),
    }
}

fn note_off(key: u8) -> MidiMessage {
    MidiMessage::NoteOff {
        key: u7::new(key & 0x7F),
        vel: u7::new(0),
    }
}

fn controller(number: u8, value: u8) -> MidiMessage {
    MidiMessage::Controller {
        controller: u7::new(number),
        value: u7::new(value & 0x7F),
    }
}

/// Reads a MIDI file: exactly when it is in NES-MDB's layout, else by the import rule of the
/// module documentation. `origin` names the file in errors.
///
/// A file the strict parser refuses is read again after [`super::midi_lenient::repair`]; its
/// warnings open [`MidiImport::notes`]. When that fails too, the strict parser's error stands
/// (the RMID wrapper's, for a RIFF file).
pub fn read_midi(bytes: &[u8], origin: &Path) -> Result<(Score, MidiImport)> {
    let (parsed, warnings) = match parse(bytes, origin) {
        Ok(p) => (p, Vec::new()),
        Err(strict) => {
            let repaired = super::midi_lenient::repair(bytes, origin)?;
            match parse(&repaired.smf, origin) {
                Ok(p) => (p, repaired.warnings),
                Err(e) if bytes.starts_with(b"RIFF") => return Err(e),
                Err(_) => return Err(strict),
            }
        }
    };
    let name = origin
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = name.strip_suffix(".exprsco").unwrap_or(&name).to_string();
    let (score, mut import) = if is_nesmdb_layout(&parsed) {
        read_nesmdb(&parsed, name, origin)?
    } else {
        super::midi_import::import(&parsed, name, origin)?
    };
    import.notes.splice(0..0, warnings);
    Ok((score, import))
}

fn voice_of_name(name: &str) -> Option<Voice> {
    Voice::ALL.into_iter().find(|v| v.short_name() == name)
}

fn is_nesmdb_layout(p: &Parsed) -> bool {
    let named = p
        .names
        .iter()
        .filter(|n| voice_of_name(n).is_some())
        .count();
    let note_tracks_named = p.events.iter().all(|e| match e.kind {
        EventKind::NoteOn { .. } | EventKind::NoteOff { .. } | EventKind::Controller { .. } => {
            voice_of_name(&p.names[e.track]).is_some()
        }
        EventKind::Tempo(t) => t == NESMDB_TEMPO,
        _ => true,
    });
    p.format == 1 && p.ppq == NESMDB_PPQ && named > 0 && note_tracks_named
}

fn read_nesmdb(p: &Parsed, name: String, origin: &Path) -> Result<(Score, MidiImport)> {
    // Ticks are samples here (120 BPM at 22,050 ticks per beat).
    let end = p
        .events
        .iter()
        .filter(|e| e.kind == EventKind::TimeSignature && e.tick > 0)
        .map(|e| e.tick)
        .next_back();
    let last_event = p.events.iter().map(|e| e.tick).max().unwrap_or(0);
    let nframes = match end {
        Some(t) => frame_count(t) as u64,
        None => sample_frame(last_event),
    };
    if nframes > MAX_FRAMES as u64 {
        return Err(too_long(origin, nframes));
    }
    let nframes = nframes as usize;
    let mut score = Score::new(name, NESMDB_RATE);
    score.source_samples = end;
    score.frames = vec![[Cell::REST; 4]; nframes];
    let mut expressive = false;
    let mut state: [Cell; 4] = [Cell::REST; 4];
    let mut it = p.events.iter().peekable();
    let mut seen = [false; 4];
    let mut runs: Vec<Run> = Vec::with_capacity(16);
    for frame in 0..nframes {
        // NES-MDB's downsampling: the window's runs of constant state, then the mode per field.
        let (mut cursor, hi) = (window_start(frame), window_start(frame + 1));
        while let Some(e) = it.next_if(|e| e.tick < hi) {
            if e.tick > cursor {
                runs.push((state, (e.tick - cursor) as u32));
                cursor = e.tick;
            }
            let voice = voice_of_name(&p.names[e.track]);
            let Some(voice) = voice else {
                if let EventKind::Marker(m) = &e.kind {
                    if m.trim().eq_ignore_ascii_case("loop") {
                        score.loop_frame =
                            Some(sample_frame(e.tick).min(nframes as u64 - 1) as usize);
                    }
                }
                continue;
            };
            let v = voice.index();
            seen[v] = true;
            let c = &mut state[v];
            let bad = |what: String| {
                Error::format(
                    origin,
                    format!("track '{}' at tick {}: {what}", voice.short_name(), e.tick),
                )
            };
            match e.kind {
                EventKind::NoteOn { key, vel, .. } => {
                    let (lo, hi) = voice.note_range();
                    if !(lo..=hi).contains(&key) {
                        return Err(bad(format!("note {key} is outside {lo}..{hi}")));
                    }
                    c.note = key;
                    c.velocity = if voice.has_velocity() { vel } else { 0 };
                    if voice.has_velocity() && vel != 15 {
                        expressive = true;
                    }
                }
                EventKind::NoteOff { key, .. } if key == c.note => {
                    c.note = 0;
                    c.velocity = 0;
                }
                EventKind::Controller {
                    number: 11, value, ..
                } => {
                    expressive = true;
                    if voice.has_velocity() && c.note != 0 {
                        c.velocity = value;
                    }
                }
                EventKind::Controller {
                    number: 12, value, ..
                } => {
                    expressive = true;
                    c.timbre = value.min(voice.max_timbre());
                }
                _ => {}
            }
            if c.velocity > 15 {
                return Err(bad(format!("velocity {} is outside 1..15", c.velocity)));
            }
        }
        runs.push((state, hi.saturating_sub(cursor) as u32));
        score.frames[frame] = window_frame(&runs);
        runs.clear();
    }
    score.expressive = expressive;
    let tracks: Vec<&str> = Voice::ALL
        .iter()
        .filter(|v| seen[v.index()])
        .map(|v| v.short_name())
        .collect();
    let notes = vec![format!(
        "NES-MDB layout: tracks {}; {} frames at 24 Hz",
        if tracks.is_empty() {
            "none with events".to_string()
        } else {
            tracks.join(", ")
        },
        nframes
    )];
    Ok((
        score,
        MidiImport {
            nesmdb_layout: true,
            notes,
        },
    ))
}
