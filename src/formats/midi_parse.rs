//! The strict event reader of Standard MIDI files (types 0 and 1): chunks, tracks and the
//! events the importers of [`super::midi`] need, in time order. Real-world damage is repaired
//! first by [`super::midi_lenient`].

use crate::error::{Error, Result};
use midly::{EventIter, MetaMessage, MidiMessage, TrackEventKind};
use std::path::Path;

/// One timed event of a track, with the fields the importers need.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub tick: u64,
    pub track: usize,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum EventKind {
    NoteOn { channel: u8, key: u8, vel: u8 },
    NoteOff { channel: u8, key: u8 },
    Controller { channel: u8, number: u8, value: u8 },
    Program { channel: u8, program: u8 },
    Tempo(u32),
    TimeSignature,
    Marker(String),
}

/// A parsed file: header fields, track names and events in time order.
pub(crate) struct Parsed {
    pub format: u16,
    pub ppq: u16,
    pub names: Vec<String>,
    pub events: Vec<Event>,
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Splits the chunks strictly (every declared track present and complete) and decodes events.
/// A channel event cut short, a data byte without running status or a bad delta time is an
/// error naming the track and offset; a meta or SysEx event whose length runs past its track is
/// cut at the track's end (midly's lenient reading), since only its text would be lost.
pub(crate) fn parse(bytes: &[u8], origin: &Path) -> Result<Parsed> {
    let bad = |what: String| Error::format(origin, what);
    if bytes.len() < 4 || &bytes[..4] != b"MThd" {
        return Err(bad(
            "not a MIDI file (no \"MThd\" header at offset 0)".into()
        ));
    }
    if bytes.len() < 14 {
        return Err(bad(format!(
            "MIDI header truncated: {} bytes where it needs 14",
            bytes.len()
        )));
    }
    let hlen = u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    if hlen < 6 {
        return Err(bad(format!(
            "MIDI header chunk is {hlen} bytes, it must be at least 6"
        )));
    }
    if hlen > bytes.len() - 8 {
        return Err(bad(format!(
            "MIDI header chunk claims {hlen} bytes but the file has {}",
            bytes.len() - 8
        )));
    }
    let format = be16(bytes, 8);
    let ntracks = be16(bytes, 10) as usize;
    let division = be16(bytes, 12);
    match format {
        0 | 1 => {}
        2 => {
            return Err(Error::Unsupported(format!(
                "{}: a valid MIDI type 2 file (independent sequences); nesmm reads MIDI types \
                 0 and 1",
                origin.display()
            )))
        }
        f => return Err(bad(format!("unknown MIDI file type {f} (expected 0 or 1)"))),
    }
    if division & 0x8000 != 0 {
        return Err(Error::Unsupported(format!(
            "{}: a valid MIDI file with SMPTE (frames per second) timing, which nesmm does not \
             read; re-save it with ticks per beat",
            origin.display()
        )));
    }
    if division == 0 {
        return Err(bad("ticks per beat is 0".into()));
    }
    if ntracks == 0 {
        return Err(bad("the header declares 0 tracks".into()));
    }
    if format == 0 && ntracks != 1 {
        return Err(bad(format!(
            "MIDI type 0 must have 1 track, the header declares {ntracks}"
        )));
    }
    let mut pos = 8 + hlen;
    let mut tracks: Vec<(usize, &[u8])> = Vec::with_capacity(ntracks);
    while tracks.len() < ntracks {
        let Some(head) = bytes.get(pos..pos + 8) else {
            return Err(bad(format!(
                "file truncated at offset {pos}: the header declares {ntracks} tracks, found {}",
                tracks.len()
            )));
        };
        let len = u32::from_be_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let body = bytes.get(pos + 8..).unwrap_or_default();
        if len > body.len() {
            return Err(bad(format!(
                "chunk at offset {pos} claims {len} bytes but only {} remain",
                body.len()
            )));
        }
        if &head[..4] == b"MTrk" {
            tracks.push((pos + 8, &body[..len]));
        }
        pos += 8 + len;
    }

    let mut names = vec![String::new(); ntracks];
    let mut events = Vec::new();
    for (ti, (start, data)) in tracks.iter().enumerate() {
        let mut it = EventIter::new(data);
        let mut tick = 0u64;
        loop {
            let remaining = it.unread().len();
            let at = start + data.len() - remaining;
            let ev = match it.next() {
                Some(Ok(ev)) => ev,
                Some(Err(e)) => {
                    return Err(bad(format!("track {ti}: bad event at offset {at}: {e}")))
                }
                None if remaining > 0 => {
                    return Err(bad(format!(
                        "track {ti}: malformed or truncated event at offset {at} (bad running \
                         status, length or data byte)"
                    )))
                }
                None => break,
            };
            tick += u32::from(ev.delta) as u64;
            let kind = match ev.kind {
                TrackEventKind::Midi { channel, message } => {
                    let channel = u8::from(channel);
                    match message {
                        MidiMessage::NoteOn { key, vel } if u8::from(vel) > 0 => {
                            EventKind::NoteOn {
                                channel,
                                key: key.into(),
                                vel: vel.into(),
                            }
                        }
                        MidiMessage::NoteOn { key, .. } | MidiMessage::NoteOff { key, .. } => {
                            EventKind::NoteOff {
                                channel,
                                key: key.into(),
                            }
                        }
                        MidiMessage::Controller { controller, value } => EventKind::Controller {
                            channel,
                            number: controller.into(),
                            value: value.into(),
                        },
                        MidiMessage::ProgramChange { program } => EventKind::Program {
                            channel,
                            program: program.into(),
                        },
                        _ => continue,
                    }
                }
                TrackEventKind::Meta(MetaMessage::Tempo(t)) => EventKind::Tempo(t.into()),
                TrackEventKind::Meta(MetaMessage::TimeSignature(..)) => EventKind::TimeSignature,
                TrackEventKind::Meta(MetaMessage::Marker(m)) => {
                    EventKind::Marker(String::from_utf8_lossy(m).into_owned())
                }
                TrackEventKind::Meta(MetaMessage::TrackName(n)) => {
                    if names[ti].is_empty() {
                        names[ti] = String::from_utf8_lossy(n).trim().to_string();
                    }
                    continue;
                }
                _ => continue,
            };
            events.push(Event {
                tick,
                track: ti,
                kind,
            });
        }
    }
    // Stable: equal ticks keep track order, then file order.
    events.sort_by_key(|e| (e.tick, e.track));
    Ok(Parsed {
        format,
        ppq: division,
        names,
        events,
    })
}
