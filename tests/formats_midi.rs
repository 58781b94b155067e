//! MIDI: NES-MDB's layout round trip (exact ticks), import of ordinary multi-track files by the
//! documented rule, and bad input.

#[path = "common/skip.rs"]
mod skip;

use midly::num::{u15, u24, u28, u4, u7};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};
use nesmm::formats::midi::{read_midi, write_midi};
use nesmm::formats::vgm::read_vgm;
use nesmm::formats::vgm_score::vgm_to_score;
use nesmm::formats::{drum_to_noise, nesmdb};
use nesmm::{Cell, Score};
use std::path::Path;

fn cell(note: u8, velocity: u8, timbre: u8) -> Cell {
    Cell {
        note,
        velocity,
        timbre,
    }
}

/// A score exercising every case the layout has to carry.
fn edge_score() -> Score {
    let mut s = Score::new("edge", 24.0);
    s.expressive = true;
    s.source_samples = Some(9 * 1837 + 1000); // 9 frames, odd, not at a frame boundary
    let rows: [[Cell; 4]; 9] = [
        [
            cell(60, 15, 2),
            cell(0, 0, 1),
            cell(40, 0, 0),
            cell(16, 9, 0),
        ],
        [
            cell(60, 7, 2),
            cell(0, 0, 3),
            cell(40, 0, 0),
            cell(16, 9, 1),
        ], // CC11 while held
        [
            cell(60, 7, 0),
            cell(72, 1, 3),
            cell(41, 0, 0),
            cell(1, 3, 1),
        ], // CC12 while held
        [cell(61, 7, 0), cell(72, 1, 3), cell(0, 0, 0), cell(0, 0, 1)],
        [
            cell(0, 0, 1),
            cell(108, 15, 3),
            cell(21, 0, 0),
            cell(0, 0, 0),
        ], // timbre on a rest
        [
            cell(32, 0, 1),
            cell(108, 14, 3),
            cell(108, 0, 0),
            cell(5, 15, 0),
        ], // velocity 0
        [
            cell(32, 4, 1),
            cell(33, 14, 3),
            cell(108, 0, 0),
            cell(5, 14, 0),
        ],
        [cell(0, 0, 1), cell(0, 0, 0), cell(0, 0, 0), cell(0, 0, 0)],
        [
            cell(50, 15, 0),
            cell(0, 0, 0),
            cell(50, 0, 0),
            cell(12, 15, 1),
        ], // sounds to the end
    ];
    s.frames = rows.to_vec();
    s.loop_frame = Some(3);
    s.validate().unwrap();
    s
}

#[test]
fn nesmdb_layout_round_trips_edge_cases_exactly() {
    let s = edge_score();
    let bytes = write_midi(&s).unwrap();
    let (back, import) = read_midi(&bytes, Path::new("dir/edge.mid")).unwrap();
    assert!(import.nesmdb_layout, "{:?}", import.notes);
    assert_eq!(back, s);
    // Without a source length the end tick becomes it: ceil(9 * 1837.5) = 16538.
    let mut s2 = s.clone();
    s2.source_samples = None;
    let (back, _) = read_midi(&write_midi(&s2).unwrap(), Path::new("edge.mid")).unwrap();
    assert_eq!(back.source_samples, Some(16_538));
    assert_eq!(back.frames, s2.frames);
}

#[test]
fn seprsco_reads_back_as_not_expressive() {
    let s = Score::from_notes(
        "sep",
        24.0,
        &[[60, 0, 40, 3], [60, 64, 40, 0], [0, 64, 0, 3]],
    );
    let (back, _) = read_midi(&write_midi(&s).unwrap(), Path::new("sep.mid")).unwrap();
    assert!(!back.expressive);
    assert_eq!(back.frames, s.frames);
}

/// Absolute ticks of every event of every track.
fn absolute<'a>(smf: &'a Smf<'a>) -> Vec<Vec<(u64, TrackEventKind<'a>)>> {
    smf.tracks
        .iter()
        .map(|t| {
            let mut tick = 0u64;
            t.iter()
                .map(|e| {
                    tick += u32::from(e.delta) as u64;
                    (tick, e.kind)
                })
                .collect()
        })
        .collect()
}

#[test]
fn written_layout_is_nesmdbs_with_exact_ticks() {
    let s = edge_score();
    let bytes = write_midi(&s).unwrap();
    let smf = Smf::parse(&bytes).unwrap();
    assert_eq!(smf.header.format, Format::Parallel);
    assert_eq!(smf.header.timing, Timing::Metrical(u15::new(22_050)));
    let tracks = absolute(&smf);
    assert_eq!(tracks.len(), 5);
    assert!(tracks[0].contains(&(
        0,
        TrackEventKind::Meta(MetaMessage::Tempo(u24::new(500_000)))
    )));
    assert!(tracks[0].contains(&(
        9 * 1837 + 1000,
        TrackEventKind::Meta(MetaMessage::TimeSignature(1, 0, 24, 8))
    )));
    for (t, (name, channel)) in [("p1", 0u8), ("p2", 1), ("tr", 2), ("no", 9)]
        .iter()
        .enumerate()
    {
        let tr = &tracks[t + 1];
        assert_eq!(
            tr[0].1,
            TrackEventKind::Meta(MetaMessage::TrackName(name.as_bytes()))
        );
        for (tick, kind) in tr {
            if let TrackEventKind::Midi {
                channel: c,
                message,
            } = kind
            {
                assert_eq!(u8::from(c.to_owned()), *channel);
                if let MidiMessage::NoteOn { .. } = message {
                    // Every note starts at floor(i * 44100 / 24) for some frame i.
                    let i = (tick * 24).div_ceil(44_100);
                    assert_eq!(*tick, i * 44_100 / 24, "{name} note at tick {tick}");
                }
            }
        }
    }
    // p1: note 60 at 0, CC11 7 at frame 1 (tick 1837), off at frame 3 (tick 5512).
    let p1 = &tracks[1];
    let on = |k: u8, v: u8| MidiMessage::NoteOn {
        key: u7::new(k),
        vel: u7::new(v),
    };
    let midi = |m| TrackEventKind::Midi {
        channel: u4::new(0),
        message: m,
    };
    assert!(p1.contains(&(0, midi(on(60, 15)))));
    assert!(p1.contains(&(
        1837,
        midi(MidiMessage::Controller {
            controller: u7::new(11),
            value: u7::new(7)
        })
    )));
    assert!(p1.contains(&(
        5512,
        midi(MidiMessage::NoteOff {
            key: u7::new(60),
            vel: u7::new(0)
        })
    )));
    assert!(p1.contains(&(5512, midi(on(61, 7)))));
}

/// NES-MDB's VGM folder, or `None` after printing why the test skips.
fn vgm_dir() -> Option<std::path::PathBuf> {
    let dir = nesmdb::data_dir()
        .map(|d| d.join("vgm"))
        .filter(|d| d.is_dir());
    if dir.is_none() {
        skip::skip(format_args!(
            "NES-MDB not found at {} (set NESMDB_DIR)",
            std::env::var("NESMDB_DIR").unwrap_or_else(|_| "../shared/data/nesmdb".into())
        ));
    }
    dir
}

#[test]
fn real_songs_round_trip_through_the_layout() {
    let Some(dir) = vgm_dir() else {
        return;
    };
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        let score = vgm_to_score(&read_vgm(&std::fs::read(&p).unwrap(), &p).unwrap(), &name);
        let bytes = write_midi(&score).unwrap();
        let (back, import) = read_midi(&bytes, Path::new(&format!("{name}.mid"))).unwrap();
        assert!(import.nesmdb_layout);
        assert_eq!(back, score, "{name}");
    }
}

// ---------- ordinary MIDI ----------

fn ev(delta: u32, kind: TrackEventKind<'static>) -> TrackEvent<'static> {
    TrackEvent {
        delta: u28::new(delta),
        kind,
    }
}

fn on(ch: u8, key: u8, vel: u8) -> TrackEventKind<'static> {
    TrackEventKind::Midi {
        channel: u4::new(ch),
        message: MidiMessage::NoteOn {
            key: u7::new(key),
            vel: u7::new(vel),
        },
    }
}

fn off(ch: u8, key: u8) -> TrackEventKind<'static> {
    TrackEventKind::Midi {
        channel: u4::new(ch),
        message: MidiMessage::NoteOff {
            key: u7::new(key),
            vel: u7::new(64),
        },
    }
}

fn name(n: &'static str) -> TrackEventKind<'static> {
    TrackEventKind::Meta(MetaMessage::TrackName(n.as_bytes()))
}

fn tempo(us: u32) -> TrackEventKind<'static> {
    TrackEventKind::Meta(MetaMessage::Tempo(u24::new(us)))
}

fn encode(format: Format, ppq: u16, tracks: Vec<Vec<TrackEvent<'static>>>) -> Vec<u8> {
    let smf = Smf {
        header: Header::new(format, Timing::Metrical(u15::new(ppq))),
        tracks,
    };
    let mut out = Vec::new();
    smf.write_std(&mut out).unwrap();
    out
}

/// Ppq 480; 120 BPM until tick 1920 (2 s = frame 48), then 240 BPM.
fn band() -> Vec<u8> {
    let conductor = vec![ev(0, tempo(500_000)), ev(1920, tempo(250_000))];
    // Lead, channel 1: a C major chord (60, 64, 67) for a beat, then 72 for a beat, then, after
    // the tempo change, 74 at tick 2400 (2.25 s = frame 54) for 240 ticks (0.125 s, to frame 57).
    let lead = vec![
        ev(0, name("Lead")),
        ev(0, on(0, 60, 127)),
        ev(0, on(0, 64, 100)),
        ev(0, on(0, 67, 64)),
        ev(480, off(0, 60)),
        ev(0, off(0, 64)),
        ev(0, off(0, 67)),
        ev(0, on(0, 72, 64)),
        ev(480, off(0, 72)),
        ev(1440, on(0, 74, 127)),
        ev(240, off(0, 74)),
    ];
    // Bass, channel 2: note 12 (below the triangle: shifted to 24) and a chord 40 + 47.
    let bass = vec![
        ev(0, name("Bass")),
        ev(0, on(1, 12, 90)),
        ev(960, off(1, 12)),
        ev(0, on(1, 40, 90)),
        ev(0, on(1, 47, 90)),
        ev(480, off(1, 40)),
        ev(0, off(1, 47)),
    ];
    // Counter, channel 4: three notes (fewer than the lead's five), one above the pulse range.
    let counter = vec![
        ev(0, name("Counter")),
        ev(0, on(3, 55, 30)),
        ev(240, off(3, 55)),
        ev(0, on(3, 57, 30)),
        ev(240, off(3, 57)),
        ev(0, on(3, 120, 30)),
        ev(240, off(3, 120)),
    ];
    // Pad, channel 5: two notes, dropped.
    let pad = vec![
        ev(0, name("Pad")),
        ev(0, on(4, 70, 50)),
        ev(0, on(4, 71, 50)),
        ev(100, off(4, 70)),
        ev(0, off(4, 71)),
    ];
    // Drums, channel 10: kick at 0, snare at tick 480 (frame 12), 10 ticks long (one frame).
    let drums = vec![
        ev(0, name("Drums")),
        ev(0, on(9, 36, 127)),
        ev(240, off(9, 36)),
        ev(240, on(9, 38, 127)),
        ev(10, off(9, 38)),
    ];
    encode(
        Format::Parallel,
        480,
        vec![conductor, lead, bass, counter, pad, drums],
    )
}

#[test]
fn ordinary_midi_import_follows_the_documented_rule() {
    let (s, import) = read_midi(&band(), Path::new("band.mid")).unwrap();
    let text = import.notes.join("\n");
    println!("{text}");
    assert!(!import.nesmdb_layout);
    assert!(
        text.contains("p1 <- track 1 'Lead' channel 1 (5 notes)"),
        "{text}"
    );
    assert!(
        text.contains("p2 <- track 3 'Counter' channel 4 (3 notes)"),
        "{text}"
    );
    assert!(
        text.contains("tr <- track 2 'Bass' channel 2 (3 notes)"),
        "{text}"
    );
    assert!(
        text.contains("no <- track 5 'Drums' channel 10 (2 notes): drums, GM drum channel 10"),
        "{text}"
    );
    assert!(
        text.contains("dropped track 4 'Pad' channel 5 (2 notes): less salient"),
        "{text}"
    );
    assert!(
        text.contains("p1: 2 notes hidden by polyphony (highest note wins)"),
        "{text}"
    );
    assert!(text.contains("p2: 1 notes octave-shifted"), "{text}");
    assert!(text.contains("tr: 1 notes octave-shifted"), "{text}");
    assert!(
        text.contains("tr: 1 notes hidden by polyphony (lowest note wins)"),
        "{text}"
    );
    assert_eq!(s.rate, 24.0);
    assert!(s.expressive);
    s.validate().unwrap();
    // 74 ends at 2.375 s = frame 57.
    assert_eq!(s.len(), 57);
    let p1: Vec<u8> = s.notes(nesmm::Voice::Pulse1).collect();
    assert!(
        p1[..12].iter().all(|&n| n == 67),
        "top note of the chord: {p1:?}"
    );
    assert!(p1[12..24].iter().all(|&n| n == 72));
    assert!(p1[24..54].iter().all(|&n| n == 0));
    assert!(p1[54..57].iter().all(|&n| n == 74), "tempo change: {p1:?}");
    assert_eq!(
        s.frames[0][0].velocity, 8,
        "velocity 64 of the top note -> 8"
    );
    assert_eq!(s.frames[54][0].velocity, 15);
    assert_eq!(s.frames[0][0].timbre, 2);
    let tr: Vec<u8> = s.notes(nesmm::Voice::Triangle).collect();
    assert!(
        tr[..24].iter().all(|&n| n == 24),
        "12 moved up an octave: {tr:?}"
    );
    assert!(tr[24..36].iter().all(|&n| n == 40), "lowest of 40 + 47");
    assert!(s.frames.iter().all(|f| f[2].velocity == 0));
    let p2: Vec<u8> = s.notes(nesmm::Voice::Pulse2).collect();
    assert_eq!(
        &p2[..19],
        &[55, 55, 55, 55, 55, 55, 57, 57, 57, 57, 57, 57, 108, 108, 108, 108, 108, 108, 0]
    );
    assert_eq!(
        s.frames[0][1].velocity, 4,
        "velocity 30 -> ceil(30 * 15 / 127) = 4"
    );
    let no: Vec<u8> = s.notes(nesmm::Voice::Noise).collect();
    // A drum hit lasts at most 3 frames, fading: full, two thirds, one third.
    assert!(no[..3].iter().all(|&n| n == drum_to_noise(36)), "{no:?}");
    let fade: Vec<u8> = s.frames[..3].iter().map(|f| f[3].velocity).collect();
    assert!(fade[0] > fade[1] && fade[1] > fade[2], "{fade:?}");
    assert!(no[3..12].iter().all(|&n| n == 0));
    assert_eq!(
        no[12],
        drum_to_noise(38),
        "a 10-tick hit still sounds one frame"
    );
    assert_eq!(no[13], 0);
}

#[test]
fn type_0_file_splits_parts_by_channel() {
    let track = vec![
        ev(0, tempo(600_000)),
        ev(0, on(0, 72, 100)),
        ev(0, on(1, 36, 100)),
        ev(0, on(9, 42, 100)),
        ev(96, off(9, 42)),
        ev(0, on(0, 74, 100)), // second lead note, legato over the first
        ev(0, off(0, 72)),
        ev(96, off(0, 74)),
        ev(0, off(1, 36)),
    ];
    // ppq 96 at 600,000 us per beat: 96 ticks = 0.6 s = 14.4 frames -> frame 14.
    let (s, import) = read_midi(
        &encode(Format::SingleTrack, 96, vec![track]),
        Path::new("t0.mid"),
    )
    .unwrap();
    assert!(!import.nesmdb_layout);
    assert_eq!(s.len(), 29);
    assert_eq!(s.frames[0][0].note, 72);
    assert_eq!(s.frames[13][0].note, 72);
    assert_eq!(s.frames[14][0].note, 74);
    assert_eq!(s.frames[0][2].note, 36);
    assert_eq!(s.frames[0][3].note, drum_to_noise(42));
    assert_eq!(s.frames[14][3].note, 0);
}

// ---------- bad input ----------

fn chunk(id: &[u8], body: &[u8]) -> Vec<u8> {
    let mut v = id.to_vec();
    v.extend_from_slice(&(body.len() as u32).to_be_bytes());
    v.extend_from_slice(body);
    v
}

fn header(format: u16, ntracks: u16, division: u16) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&format.to_be_bytes());
    b.extend_from_slice(&ntracks.to_be_bytes());
    b.extend_from_slice(&division.to_be_bytes());
    chunk(b"MThd", &b)
}

fn file(format: u16, ntracks: u16, division: u16, tracks: &[&[u8]]) -> Vec<u8> {
    let mut f = header(format, ntracks, division);
    for t in tracks {
        f.extend(chunk(b"MTrk", t));
    }
    f
}

const GOOD_TRACK: &[u8] = &[
    0x00, 0x90, 60, 100, 0x60, 0x80, 60, 0, 0x00, 0xFF, 0x2F, 0x00,
];

fn expect_err(bytes: &[u8], what: &str) {
    let e = read_midi(bytes, Path::new("songs/bad.mid"))
        .expect_err(what)
        .to_string();
    assert!(
        e.contains("bad.mid") && e.contains(what),
        "wanted '{what}' in: {e}"
    );
}

#[test]
fn bad_midi_input_names_file_and_problem() {
    // The good file reads.
    read_midi(&file(1, 1, 96, &[GOOD_TRACK]), Path::new("ok.mid")).unwrap();
    expect_err(b"", "no \"MThd\"");
    expect_err(b"RIFF\0\0\0\x06\0\x01\0\x01\0\x60", "not a RIFF MIDI");
    expect_err(&header(1, 1, 96)[..10], "header truncated");
    let mut short = header(1, 1, 96);
    short[7] = 4;
    expect_err(&short, "at least 6");
    let mut long = header(1, 1, 96);
    long[4] = 0x7F;
    expect_err(&long, "MIDI header chunk claims");
    expect_err(&file(2, 1, 96, &[GOOD_TRACK]), "type 2");
    expect_err(&file(5, 1, 96, &[GOOD_TRACK]), "unknown MIDI file type 5");
    expect_err(&file(1, 1, 0xE728, &[GOOD_TRACK]), "SMPTE");
    expect_err(&file(1, 1, 0, &[GOOD_TRACK]), "ticks per beat is 0");
    expect_err(&file(1, 0, 96, &[]), "declares 0 tracks");
    // A type-0 file with two tracks is read leniently, the tracks merged, with a warning.
    let (_, import) = read_midi(
        &file(0, 2, 96, &[GOOD_TRACK, GOOD_TRACK]),
        Path::new("t0.mid"),
    )
    .unwrap();
    assert!(
        import.notes[0].contains("type-0 file with 2 tracks"),
        "{:?}",
        import.notes
    );
    // Fewer tracks than declared: those present are read, with a warning.
    let (_, import) = read_midi(
        &file(1, 3, 96, &[GOOD_TRACK, GOOD_TRACK]),
        Path::new("t3.mid"),
    )
    .unwrap();
    assert!(import.notes[0].contains("declares 3 tracks but the file holds 2"));
    let f = file(1, 1, 96, &[GOOD_TRACK]);
    expect_err(&f[..f.len() - 3], "claims 12 bytes but only 9 remain");
    expect_err(&f[..18], "file truncated at offset 14");
    // A data byte where a status byte must be (no running status yet).
    expect_err(
        &file(1, 1, 96, &[&[0x00, 60, 100, 0x00, 0xFF, 0x2F, 0x00]]),
        "track 0: ",
    );
    // A note-on cut after its key.
    expect_err(&file(1, 1, 96, &[&[0x00, 0x90, 60]]), "offset 22");
    // A running-status note cut after its key.
    expect_err(
        &file(1, 1, 96, &[&[0x00, 0x90, 60, 100, 0x10, 62]]),
        "truncated event at offset 26",
    );
    // A delta time of five continuation bytes.
    expect_err(
        &file(1, 1, 96, &[&[0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x90, 60, 1]]),
        "track 0",
    );
    // Absurd length: ppq 1, 16.7 s per beat, a note 2^28 - 1 beats long.
    expect_err(
        &file(
            1,
            1,
            1,
            &[&[
                0x00, 0xFF, 0x51, 0x03, 0xFF, 0xFF, 0xFF, 0x00, 0x90, 60, 1, 0xFF, 0xFF, 0xFF,
                0x7F, 0x80, 60, 0,
            ]],
        ),
        "more than the 172800 (two hours)",
    );
    // No notes at all.
    expect_err(&file(1, 1, 96, &[&[0x00, 0xFF, 0x2F, 0x00]]), "no notes");
    // NES-MDB layout with a noise note outside 1..16.
    let mut s = Score::from_notes("x", 24.0, &[[0, 0, 0, 3]]);
    s.expressive = true;
    let mut b = write_midi(&s).unwrap();
    let at = b.windows(3).position(|w| w == [0x99, 3, 15]).unwrap();
    b[at + 1] = 40;
    expect_err(&b, "track 'no' at tick 0: note 40 is outside 1..16");
}

fn lcg(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    *state >> 33
}

#[test]
fn truncations_and_byte_flips_never_panic() {
    let files = [write_midi(&edge_score()).unwrap(), band()];
    let mut seed = 11u64;
    let mut errors = 0;
    for f in &files {
        for cut in 0..f.len() {
            match read_midi(&f[..cut], Path::new("t.mid")) {
                Err(_) => errors += 1,
                // Read leniently: only with every declared track that is there, and said so.
                Ok((_, import)) => assert!(
                    import.notes[0].contains("the file holds"),
                    "{:?}",
                    import.notes
                ),
            }
        }
        for _ in 0..3000 {
            let mut b = f.clone();
            for _ in 0..1 + lcg(&mut seed) % 4 {
                let at = (lcg(&mut seed) as usize) % b.len();
                b[at] ^= 1 << (lcg(&mut seed) % 8);
            }
            if let Ok((s, _)) = read_midi(&b, Path::new("t.mid")) {
                let _ = write_midi(&s);
            }
        }
    }
    // Most strict prefixes cut a track short and are refused.
    assert!(errors > files.iter().map(|f| f.len()).sum::<usize>() * 3 / 4);
}

#[test]
fn load_and_save_score_use_midi_and_vgm_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let s = edge_score();
    let path = dir.path().join("edge.mid");
    nesmm::formats::save_score(&s, &path).unwrap();
    assert_eq!(nesmm::formats::load_score(&path).unwrap(), s);
    std::fs::write(dir.path().join("broken.midi"), b"MThd").unwrap();
    let e = nesmm::formats::load_score(&dir.path().join("broken.midi"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("broken.midi") && e.contains("header truncated"),
        "{e}"
    );
    let Some(vgm) = vgm_dir().map(|d| d.join("202_LawnMower_02_03LevelClear.vgm")) else {
        return;
    };
    let score = nesmm::formats::load_score(&vgm).unwrap();
    assert_eq!(score.name, "202_LawnMower_02_03LevelClear");
    assert_eq!(score.len(), 63);
}

#[test]
fn nesmdb_midi_at_sample_resolution_is_downsampled_like_nesmdb() {
    // NES-MDB's own MIDI files place events at 44.1 kHz samples (one tick each), not at frame
    // starts; reading takes each 24 Hz window's mode over sounding samples, as NES-MDB does.
    let conductor = vec![
        ev(0, tempo(500_000)),
        ev(
            0,
            TrackEventKind::Meta(MetaMessage::TimeSignature(4, 2, 24, 8)),
        ),
        ev(
            3 * 1837 + 100,
            TrackEventKind::Meta(MetaMessage::TimeSignature(1, 0, 24, 8)),
        ),
    ];
    let p1 = vec![
        ev(0, name("p1")),
        ev(100, on(0, 60, 9)), // 60 over samples 100..1000 (900 samples of window 0)
        ev(900, off(0, 60)),
        ev(0, on(0, 62, 4)), // 62 over 1000..3000: 837 samples of window 0, 1163 of window 1
        ev(
            1500,
            TrackEventKind::Midi {
                channel: u4::new(0),
                message: MidiMessage::Controller {
                    controller: u7::new(11),
                    value: u7::new(6),
                },
            },
        ), // velocity 6 from 2500: 500 samples of window 1 (4 has 663)
        ev(500, off(0, 62)),
        ev(
            0,
            TrackEventKind::Midi {
                channel: u4::new(0),
                message: MidiMessage::Controller {
                    controller: u7::new(12),
                    value: u7::new(3),
                },
            },
        ), // timbre 3 from 3000 while resting: most of window 1's rest, all of 2
    ];
    let bytes = encode(Format::Parallel, 22_050, vec![conductor, p1]);
    let (s, import) = read_midi(&bytes, Path::new("nesmdb.mid")).unwrap();
    assert!(import.nesmdb_layout);
    assert_eq!(s.len(), 3);
    assert_eq!(s.source_samples, Some(3 * 1837 + 100));
    assert_eq!(
        s.frames[0][0],
        cell(60, 9, 0),
        "60 has 900 of the window's 1737 sounding samples"
    );
    assert_eq!(
        s.frames[1][0],
        cell(62, 4, 0),
        "timbre is the mode over sounding samples only"
    );
    assert_eq!(
        s.frames[2][0],
        cell(0, 0, 3),
        "a silent window takes its timbre over all samples"
    );
    assert!(s.expressive);
}
