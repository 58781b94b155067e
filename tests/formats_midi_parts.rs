//! Ordinary MIDI import on the cases real files showed: a hi-hat of repeated hits, drums off
//! channel 10, a lead among guitars, an echo of an arpeggio; and MIDI export with GM drums.
//! Every file is made here.

use midly::num::{u28, u4, u7};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};
use nesmm::formats::midi::{gm_drum_note, read_midi, write_midi_as, MidiLayout};
use nesmm::{Score, Voice};
use std::path::Path;

/// A part: (channel, program, name, notes as (start tick, length ticks, key)).
struct PartSpec {
    channel: u8,
    program: Option<u8>,
    name: &'static str,
    notes: Vec<(u32, u32, u8)>,
}

/// A type-1 file at 96 ticks per beat, 120 BPM (one beat = 12 frames), one track per part.
fn midi(parts: &[PartSpec]) -> Vec<u8> {
    let mut tracks = Vec::new();
    for p in parts {
        let ch = u4::new(p.channel);
        let mut timed: Vec<(u32, TrackEventKind<'static>)> = Vec::new();
        timed.push((
            0,
            TrackEventKind::Meta(MetaMessage::TrackName(p.name.as_bytes())),
        ));
        if let Some(program) = p.program {
            let message = MidiMessage::ProgramChange {
                program: u7::new(program),
            };
            timed.push((
                0,
                TrackEventKind::Midi {
                    channel: ch,
                    message,
                },
            ));
        }
        for &(start, len, key) in &p.notes {
            let on = MidiMessage::NoteOn {
                key: u7::new(key),
                vel: u7::new(100),
            };
            let off = MidiMessage::NoteOff {
                key: u7::new(key),
                vel: u7::new(0),
            };
            timed.push((
                start,
                TrackEventKind::Midi {
                    channel: ch,
                    message: on,
                },
            ));
            timed.push((
                start + len,
                TrackEventKind::Midi {
                    channel: ch,
                    message: off,
                },
            ));
        }
        // Offs before ons at the same tick.
        timed.sort_by_key(|(t, k)| {
            let on = matches!(
                k,
                TrackEventKind::Midi {
                    message: MidiMessage::NoteOn { .. },
                    ..
                }
            );
            (*t, on)
        });
        let mut last = 0;
        let mut track: Vec<TrackEvent<'static>> = timed
            .into_iter()
            .map(|(t, kind)| {
                let delta = u28::new(t - last);
                last = t;
                TrackEvent { delta, kind }
            })
            .collect();
        track.push(TrackEvent {
            delta: u28::new(0),
            kind: TrackEventKind::Meta(MetaMessage::EndOfTrack),
        });
        tracks.push(track);
    }
    let smf = Smf {
        header: Header::new(Format::Parallel, Timing::Metrical(96.into())),
        tracks,
    };
    let mut out = Vec::new();
    smf.write(&mut out).unwrap();
    out
}

fn import(bytes: &[u8]) -> (Score, String) {
    let (s, import) = read_midi(bytes, Path::new("case.mid")).unwrap();
    (s, import.notes.join("\n"))
}

/// Onsets of the noise: frames where it starts sounding or its velocity jumps back up.
fn noise_hits(s: &Score) -> usize {
    let mut hits = 0;
    let mut prev = (0, 0);
    for f in &s.frames {
        let c = f[Voice::Noise.index()];
        if c.note != 0 && (prev.0 == 0 || c.velocity > prev.1) {
            hits += 1;
        }
        prev = (c.note, c.velocity);
    }
    hits
}

/// A sixteenth-note hi-hat of 192 hits, each held until the next (as sequencers often write).
fn hihat(channel: u8) -> PartSpec {
    PartSpec {
        channel,
        program: None,
        name: "",
        notes: (0..192).map(|i| (i * 24, 24, 42)).collect(),
    }
}

#[test]
fn repeated_hits_stay_hits() {
    let (s, notes) = import(&midi(&[hihat(9)]));
    assert_eq!(noise_hits(&s), 192, "{notes}");
    let sounding = s.frames.iter().filter(|f| f[3].note != 0).count();
    assert!(sounding < s.len() * 9 / 10, "{sounding} of {}", s.len());
    // A melody of repeated quarter notes: a rest frame before each repeat.
    let melody = PartSpec {
        channel: 0,
        program: Some(80),
        name: "Lead",
        notes: (0..8).map(|i| (i * 96, 96, 72)).collect(),
    };
    let (s, notes) = import(&midi(&[melody]));
    let p1: Vec<u8> = s.notes(Voice::Pulse1).collect();
    let onsets = p1.windows(2).filter(|w| w[0] == 0 && w[1] == 72).count() + 1;
    assert_eq!(onsets, 8, "{p1:?}");
    assert!(
        notes.contains("7 repeated notes kept apart by a rest frame"),
        "{notes}"
    );
}

#[test]
fn drums_are_found_on_any_channel() {
    let melody = PartSpec {
        channel: 0,
        program: Some(0),
        name: "Piano",
        notes: (0..16).map(|i| (i * 48, 48, 60 + (i % 5) as u8)).collect(),
    };
    // A kit on channel 4 with no name or program: found by its keys.
    let (s, notes) = import(&midi(&[melody, hihat(3)]));
    assert!(
        notes.contains(
            "no <- track 1 '' channel 4 (192 notes): drums, plays the GM drum-kit keys only"
        ),
        "{notes}"
    );
    assert_eq!(noise_hits(&s), 192);
    assert!(
        s.notes(Voice::Pulse1).all(|n| n < 70),
        "the hi-hat is not a melody"
    );
    // Named, or by a percussive program.
    let mut named = hihat(5);
    named.name = "Drums";
    named.notes.truncate(8);
    let (_, notes) = import(&midi(&[named]));
    assert!(notes.contains("drums, named as drums"), "{notes}");
    let taiko = PartSpec {
        channel: 2,
        program: Some(116),
        name: "",
        notes: vec![(0, 48, 50), (96, 48, 52)],
    };
    let (_, notes) = import(&midi(&[taiko]));
    assert!(notes.contains("drums, a percussive GM program"), "{notes}");
}

#[test]
fn a_lead_wins_over_guitars_and_echoes_are_set_aside() {
    let guitar = |channel, base: u8| PartSpec {
        channel,
        program: Some(25),
        name: "Guitar",
        // Chords on every beat: many notes, sounding all the time.
        notes: (0..32)
            .flat_map(|i| {
                [
                    (i * 48, 48, base),
                    (i * 48, 48, base + 4),
                    (i * 48, 48, base + 7),
                ]
            })
            .collect(),
    };
    let lead = PartSpec {
        channel: 2,
        program: Some(81),
        name: "Lead",
        notes: (0..16).map(|i| (i * 96, 48, 72 + (i % 7) as u8)).collect(),
    };
    let bass = PartSpec {
        channel: 3,
        program: Some(33),
        name: "",
        notes: (0..16).map(|i| (i * 96, 96, 36 + (i % 3) as u8)).collect(),
    };
    let (_, notes) = import(&midi(&[guitar(0, 60), guitar(1, 55), lead, bass]));
    assert!(
        notes.contains("p1 <- track 2 'Lead' channel 3, program 82 (synth lead)"),
        "{notes}"
    );
    assert!(
        notes.contains("tr <- track 3 '' channel 4, program 34 (bass)"),
        "{notes}"
    );
    assert!(notes.contains("dropped track 1 'Guitar'"), "{notes}");
    // An arpeggio and its echo an octave up, 8 ticks (one frame) later, and a second melody.
    let arp: Vec<(u32, u32, u8)> = (0..64)
        .map(|i| (i * 24, 24, 60 + [0, 4, 7, 12][i as usize % 4]))
        .collect();
    let echo: Vec<(u32, u32, u8)> = arp.iter().map(|&(t, l, k)| (t + 16, l, k + 12)).collect();
    let parts = [
        PartSpec {
            channel: 0,
            program: None,
            name: "Arp",
            notes: arp,
        },
        PartSpec {
            channel: 1,
            program: None,
            name: "Echo",
            notes: echo,
        },
        PartSpec {
            channel: 2,
            program: None,
            name: "Tune",
            notes: (0..16).map(|i| (i * 96, 96, 67 + (i % 4) as u8)).collect(),
        },
        PartSpec {
            channel: 3,
            program: None,
            name: "Low",
            notes: (0..16).map(|i| (i * 96, 96, 40)).collect(),
        },
    ];
    let (s, notes) = import(&midi(&parts));
    assert!(
        notes
            .contains("dropped track 1 'Echo' channel 2 (64 notes): echoes track 0 2 frames later"),
        "{notes}"
    );
    assert!(notes.contains("tr <- track 3 'Low'"), "{notes}");
    assert!(s.notes(Voice::Pulse2).any(|n| n != 0), "P2 plays: {notes}");
}

#[test]
fn gm_drums_export_for_daws() {
    let mut s = Score::from_notes(
        "d",
        24.0,
        &(0..48u32)
            .map(|f| {
                [
                    60,
                    0,
                    0,
                    if f % 4 == 0 {
                        15
                    } else if f % 4 == 2 {
                        3
                    } else {
                        0
                    },
                ]
            })
            .collect::<Vec<_>>(),
    );
    s.expressive = true;
    for f in &mut s.frames {
        f[0].velocity = 15;
        f[3].velocity = if f[3].note != 0 { 12 } else { 0 };
    }
    let bytes = write_midi_as(&s, MidiLayout::GmDrums).unwrap();
    let smf = Smf::parse(&bytes).unwrap();
    let mut drum_keys = Vec::new();
    for track in &smf.tracks {
        for e in track {
            if let TrackEventKind::Midi {
                channel,
                message: MidiMessage::NoteOn { key, .. },
            } = e.kind
            {
                if channel == 9 {
                    drum_keys.push(u8::from(key));
                }
            }
        }
    }
    assert_eq!(drum_keys.len(), 24);
    assert!(
        drum_keys.iter().all(|&k| (35..=81).contains(&k)),
        "{drum_keys:?}"
    );
    assert!(drum_keys.contains(&gm_drum_note(15)) && drum_keys.contains(&gm_drum_note(3)));
    // Read back by the ordinary import: the drums come back as noise hits.
    let (back, notes) = import(&bytes);
    assert!(notes.contains("no <- "), "{notes}");
    assert_eq!(noise_hits(&back), 24);
    // The NES-MDB layout keeps the noise values, for exact round trips.
    let exact = write_midi_as(&s, MidiLayout::NesMdb).unwrap();
    let (again, _) = read_midi(&exact, Path::new("x.mid")).unwrap();
    assert_eq!(again.frames, s.frames);
}
