//! Round trips through our own NSF builder and the refusals of damaged or foreign NSFs.

use super::*;
use crate::compile::{compile, CompileOptions};
use crate::rom::nsf::{build_nsf, NsfOptions};
use crate::score::{Cell, Score};

/// An expressive score with every voice moving, repeated notes and rests.
fn song() -> Score {
    let mut s = Score::new("t", 24.0);
    s.expressive = true;
    for i in 0..240usize {
        let mut f = [Cell::REST; 4];
        if i % 7 != 6 {
            f[0] = Cell {
                note: 60 + (i / 4 % 12) as u8,
                velocity: 8 + (i % 8) as u8,
                timbre: (i / 16 % 4) as u8,
            };
        }
        if i % 3 != 0 {
            f[1] = Cell {
                note: 48 + (i / 2 % 24) as u8,
                velocity: 15,
                timbre: 1,
            };
        }
        f[2] = Cell {
            note: 36 + (i / 6 % 12) as u8,
            velocity: 0,
            timbre: 0,
        };
        if i % 2 == 0 {
            f[3] = Cell {
                note: 1 + (i % 16) as u8,
                velocity: 12,
                timbre: 0,
            };
        }
        s.frames.push(f);
    }
    s
}

/// Every note equal, and every sounding cell equal in full. (A rest's timbre is the duty its
/// registers were left at, which a score may set to anything.)
fn assert_same_music(got: &Score, want: &Score) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.frames.iter().zip(&want.frames).enumerate() {
        for v in 0..4 {
            let same = if w[v].is_rest() {
                g[v].is_rest()
            } else {
                g[v] == w[v]
            };
            assert!(same, "frame {i} voice {v}: {:?} for {:?}", g[v], w[v]);
        }
    }
}

fn nsf_of(scores: &[Score], region: Region) -> Vec<u8> {
    let copts = CompileOptions {
        region,
        ..Default::default()
    };
    let streams: Vec<_> = scores.iter().map(|s| compile(s, &copts).unwrap()).collect();
    let opts = NsfOptions {
        region,
        ..Default::default()
    };
    build_nsf(&streams, &opts).unwrap().nsf.to_bytes().unwrap()
}

fn import(bytes: &[u8], track: u16, seconds: f64) -> Result<Loaded> {
    let opts = ImportOptions {
        track: Some(track),
        seconds: Some(seconds),
    };
    import_file(bytes, Path::new("t.nsf"), &opts)
}

#[test]
fn our_nsf_imports_back_to_its_score_ntsc_and_pal() {
    for region in [Region::Ntsc, Region::Pal] {
        let s = song();
        let bytes = nsf_of(std::slice::from_ref(&s), region);
        let back = import(&bytes, 1, 14.0).unwrap();
        assert_eq!(back.score.len(), s.len(), "{region:?}: {:?}", back.notes);
        assert_same_music(&back.score, &s);
        assert!(
            back.notes[0].contains("ends in silence at 10.0 s"),
            "{:?}",
            back.notes
        );
    }
}

#[test]
fn tracks_and_loops() {
    let mut looped = song();
    looped.loop_frame = Some(48);
    // A frame of the intro unlike any later one, so the loop cannot start earlier.
    looped.frames[47][0].note = 100;
    let bytes = nsf_of(&[song(), looped.clone()], Region::Ntsc);
    let file = read_nsf_file(&bytes, Path::new("t.nsf")).unwrap();
    assert_eq!(file.track_lines().len(), 2);
    let back = import(&bytes, 2, 40.0).unwrap();
    assert_eq!(back.score.loop_frame, Some(48), "{:?}", back.notes);
    assert_eq!(back.score.len(), looped.len(), "{:?}", back.notes);
    assert_same_music(&back.score, &looped);
    let e = import(&bytes, 3, 5.0).unwrap_err().to_string();
    assert!(e.contains("no track 3") && e.contains("1 to 2"), "{e}");
    let e = import(&bytes, 1, 0.0).unwrap_err().to_string();
    assert!(e.contains("--seconds"), "{e}");
}

#[test]
fn expansion_audio_is_refused_by_name() {
    let mut bytes = nsf_of(&[song()], Region::Ntsc);
    bytes[0x7B] = 0b0001_0001;
    let e = import(&bytes, 1, 1.0).unwrap_err();
    assert!(matches!(e, Error::Unsupported(_)), "{e}");
    let e = e.to_string();
    assert!(e.contains("VRC6 and N163") && e.contains("t.nsf"), "{e}");
}

#[test]
fn code_that_never_returns_or_halts_is_named() {
    let mut bytes = nsf_of(&[song()], Region::Ntsc);
    let init = u16::from_le_bytes([bytes[0x0A], bytes[0x0B]]);
    let load = u16::from_le_bytes([bytes[0x08], bytes[0x09]]);
    let at = HEADER_SIZE + (init - load) as usize;
    // INIT becomes JMP to itself.
    bytes[at..at + 3].copy_from_slice(&[0x4C, init as u8, (init >> 8) as u8]);
    let e = import(&bytes, 1, 1.0).unwrap_err().to_string();
    assert!(e.contains("INIT routine did not return"), "{e}");
    bytes[at] = 0x02; // JAM
    let e = import(&bytes, 1, 1.0).unwrap_err().to_string();
    assert!(e.contains("INIT routine stopped the CPU"), "{e}");
}

#[test]
fn silent_tracks_are_refused() {
    let quiet = Score::from_notes("q", 24.0, &[[0, 0, 0, 0]; 48]);
    let bytes = nsf_of(&[quiet], Region::Ntsc);
    let e = import(&bytes, 1, 3.0).unwrap_err().to_string();
    assert!(e.contains("makes no sound"), "{e}");
}

#[test]
fn nsf2_metadata_gives_titles_and_times() {
    let mut meta = Vec::new();
    for (id, body) in [
        (b"tlbl", b"Intro\0Boss\0".to_vec()),
        (b"time", 61_000i32.to_le_bytes().to_vec()),
    ] {
        meta.extend_from_slice(&(body.len() as u32).to_le_bytes());
        meta.extend_from_slice(id);
        meta.extend_from_slice(&body);
    }
    let (titles, times) = nsf2_metadata(&meta);
    assert_eq!(titles, ["Intro", "Boss"]);
    assert_eq!(times, [61_000]);
}
