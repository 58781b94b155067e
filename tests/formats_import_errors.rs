//! Real-world input the importers must read or refuse clearly: lenient MIDI repairs with
//! warnings, RIFF RMID, VGZ, and bad NSF / NSFe / VGZ / RMID / MIDI files, each an error that
//! names the file and the problem ("damaged" apart from "valid but not supported"), never a
//! panic.

use nesmm::compile::{compile, CompileOptions};
use nesmm::formats::vgz::deflate;
use nesmm::formats::{load_score_with, save_score, ImportOptions, Loaded};
use nesmm::rom::nsf::{build_nsf, NsfOptions};
use nesmm::{Error, Score};
use std::path::Path;

fn load(dir: &Path, name: &str, bytes: &[u8], track: Option<u16>) -> nesmm::Result<Loaded> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let opts = ImportOptions {
        track,
        seconds: Some(6.0),
    };
    load_score_with(&path, &opts)
}

/// Loading must fail with every one of `words` in a message naming the file; `unsupported`
/// says which kind of error it must be.
fn refused(name: &str, bytes: &[u8], track: Option<u16>, unsupported: bool, words: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let e = load(dir.path(), name, bytes, track).expect_err(name);
    assert_eq!(
        matches!(e, Error::Unsupported(_)),
        unsupported,
        "{name}: {e:?}"
    );
    let text = e.to_string();
    assert!(text.contains(name), "{name}: not named: {text}");
    for w in words {
        assert!(text.contains(w), "{name}: lacks '{w}': {text}");
    }
}

fn song() -> Score {
    let notes: Vec<[u8; 4]> = (0..72u32)
        .map(|f| {
            [
                60 + (f / 6 % 5) as u8,
                0,
                40,
                if f % 4 == 0 { 9 } else { 0 },
            ]
        })
        .collect();
    Score::from_notes("s", 24.0, &notes)
}

fn nsf() -> Vec<u8> {
    let stream = compile(&song(), &CompileOptions::default()).unwrap();
    let built = build_nsf(&[stream], &NsfOptions::default()).unwrap();
    built.nsf.to_bytes().unwrap()
}

fn nsfe() -> Vec<u8> {
    let stream = compile(&song(), &CompileOptions::default()).unwrap();
    let built = build_nsf(&[stream], &NsfOptions::default()).unwrap();
    built.nsfe().to_bytes().unwrap()
}

fn patched(mut bytes: Vec<u8>, at: usize, with: &[u8]) -> Vec<u8> {
    bytes[at..at + with.len()].copy_from_slice(with);
    bytes
}

#[test]
fn our_nsf_and_nsfe_read() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("a.nsf", nsf()),
        ("a.nsfe", nsfe()),
        ("no_extension", nsf()),
    ] {
        let l = load(dir.path(), name, &bytes, None).unwrap();
        assert_eq!(l.score.note_matrix(), song().note_matrix(), "{name}");
    }
}

#[test]
fn bad_nsf() {
    let good = nsf();
    refused("a.nsf", &good[..50], None, false, &["NSF truncated"]);
    refused(
        "b.nsf",
        &patched(good.clone(), 0, b"NESN"),
        None,
        false,
        &["not an NSF"],
    );
    refused(
        "c.nsf",
        &patched(good.clone(), 6, &[0]),
        None,
        false,
        &["no songs"],
    );
    refused("d.nsf", &good[..0x80], None, false, &["no program data"]);
    refused(
        "e.nsf",
        &patched(good.clone(), 8, &[0, 0x60]),
        None,
        false,
        &["below $8000"],
    );
    let mut big = good.clone();
    big.resize(0x80 + 0x9000, 0);
    refused("f.nsf", &big, None, false, &["only"]);
    refused(
        "g.nsf",
        &patched(good.clone(), 0x0A, &[0, 0x70]),
        None,
        false,
        &["outside"],
    );
    refused(
        "h.nsf",
        &patched(good.clone(), 0x7B, &[2]),
        None,
        true,
        &["VRC7"],
    );
    refused(
        "i.nsf",
        &patched(good.clone(), 0x7B, &[4]),
        None,
        true,
        &["FDS"],
    );
    refused(
        "j.nsf",
        &patched(good.clone(), 0x7B, &[0x40]),
        None,
        true,
        &["beyond the six"],
    );
    refused("k.nsf", &good, Some(2), true, &["no track 2", "1 to 1"]);
    refused("l.nsf", &good, Some(0), true, &["no track 0"]);
    let init = u16::from_le_bytes([good[0x0A], good[0x0B]]);
    let play = u16::from_le_bytes([good[0x0C], good[0x0D]]);
    let at = |a: u16| 0x80 + (a - 0x8000) as usize;
    let jam_init = patched(
        good.clone(),
        at(init),
        &[0x4C, init as u8, (init >> 8) as u8],
    );
    refused(
        "m.nsf",
        &jam_init,
        None,
        true,
        &["INIT routine did not return"],
    );
    refused(
        "n.nsf",
        &patched(good.clone(), at(play), &[0x02]),
        None,
        true,
        &["PLAY routine"],
    );
}

#[test]
fn silent_nsf_and_bad_lengths() {
    let quiet = Score::from_notes("q", 24.0, &[[0, 0, 0, 0]; 24]);
    let stream = compile(&quiet, &CompileOptions::default()).unwrap();
    let bytes = build_nsf(&[stream], &NsfOptions::default())
        .unwrap()
        .nsf
        .to_bytes()
        .unwrap();
    refused("quiet.nsf", &bytes, None, true, &["makes no sound"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.nsf");
    std::fs::write(&path, nsf()).unwrap();
    for seconds in [-1.0, 0.0, f64::NAN, 1e9] {
        let opts = ImportOptions {
            track: None,
            seconds: Some(seconds),
        };
        let e = load_score_with(&path, &opts).unwrap_err().to_string();
        assert!(e.contains("--seconds"), "{e}");
    }
}

/// An NSFe made of `chunks` (id, body) after the magic.
fn nsfe_of(chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
    let mut out = b"NSFE".to_vec();
    for (id, body) in chunks {
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(*id);
        out.extend_from_slice(body);
    }
    out
}

#[test]
fn bad_nsfe() {
    let info = vec![0, 0x80, 0, 0x80, 3, 0x80, 0, 0, 1, 0];
    let data = vec![0x60; 16];
    refused("a.nsfe", b"NSFE", None, false, &["no NEND"]);
    let mut cut = nsfe_of(&[(b"INFO", info.clone())]);
    cut.truncate(cut.len() - 3);
    refused("b.nsfe", &cut, None, false, &["claims"]);
    refused(
        "c.nsfe",
        &nsfe_of(&[(b"INFO", vec![0; 4]), (b"NEND", vec![])]),
        None,
        false,
        &["INFO chunk is"],
    );
    refused(
        "d.nsfe",
        &nsfe_of(&[(b"DATA", data.clone()), (b"NEND", vec![])]),
        None,
        false,
        &["before INFO"],
    );
    refused(
        "e.nsfe",
        &nsfe_of(&[(b"INFO", info.clone()), (b"NEND", vec![])]),
        None,
        false,
        &["no DATA"],
    );
    refused(
        "f.nsfe",
        &nsfe_of(&[
            (b"INFO", info.clone()),
            (b"ZZZZ", vec![]),
            (b"NEND", vec![]),
        ]),
        None,
        // A mandatory chunk this reader does not know: a valid, newer file, not a damaged one.
        true,
        &["'ZZZZ'", "mandatory"],
    );
    let mut n163 = info.clone();
    n163[7] = 0x10;
    refused(
        "g.nsfe",
        &nsfe_of(&[(b"INFO", n163), (b"DATA", data.clone()), (b"NEND", vec![])]),
        None,
        true,
        &["N163"],
    );
    let mut none = info.clone();
    none[8] = 0;
    refused(
        "h.nsfe",
        &nsfe_of(&[(b"INFO", none), (b"DATA", data.clone()), (b"NEND", vec![])]),
        None,
        false,
        &["0 songs"],
    );
    // INIT and PLAY are RTS: a valid program that never makes a sound.
    refused(
        "i.nsfe",
        &nsfe_of(&[(b"INFO", info), (b"DATA", data), (b"NEND", vec![])]),
        None,
        true,
        &["makes no sound"],
    );
}

fn vgm() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.vgm");
    save_score(&song(), &p).unwrap();
    std::fs::read(p).unwrap()
}

#[test]
fn vgz_reads_in_place_and_bad_vgz() {
    let dir = tempfile::tempdir().unwrap();
    let l = load(dir.path(), "ok.vgz", &deflate(&vgm()), None).unwrap();
    assert_eq!(l.score.note_matrix(), song().note_matrix());
    // gzip named .vgm also reads.
    load(dir.path(), "ok.vgm", &deflate(&vgm()), None).unwrap();
    refused(
        "a.vgz",
        &deflate(b"MThd not a vgm"),
        None,
        true,
        &["not a VGM"],
    );
    let z = deflate(&vgm());
    refused("b.vgz", &z[..z.len() / 2], None, false, &["damaged gzip"]);
    refused("c.vgz", b"PK\x03\x04", None, false, &["not a VGZ"]);
    refused(
        "d.vgz",
        &deflate(&vgm()[..40]),
        None,
        false,
        &["VGM header truncated"],
    );
    let mut old = vgm();
    old[8..12].copy_from_slice(&0x150u32.to_le_bytes());
    refused(
        "e.vgz",
        &deflate(&old),
        None,
        true,
        &["valid VGM 1.50", "1.61"],
    );
    refused(
        "f.vgz",
        &deflate(&vec![0u8; (64 << 20) + 1]),
        None,
        false,
        &["more than 64 MiB"],
    );
}

fn chunk(id: &[u8], body: &[u8]) -> Vec<u8> {
    let mut v = id.to_vec();
    v.extend_from_slice(&(body.len() as u32).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// A MIDI file of `format` declaring `declared` tracks, holding `tracks`.
fn midi(format: u16, declared: u16, tracks: &[&[u8]]) -> Vec<u8> {
    let mut head = format.to_be_bytes().to_vec();
    head.extend_from_slice(&declared.to_be_bytes());
    head.extend_from_slice(&96u16.to_be_bytes());
    let mut f = chunk(b"MThd", &head);
    for t in tracks {
        f.extend(chunk(b"MTrk", t));
    }
    f
}

const NOTE: &[u8] = &[
    0x00, 0x90, 60, 100, 0x60, 0x80, 60, 0, 0x00, 0xFF, 0x2F, 0x00,
];

fn rmid(inner: &[u8]) -> Vec<u8> {
    let mut body = b"RMID".to_vec();
    body.extend_from_slice(b"data");
    body.extend_from_slice(&(inner.len() as u32).to_le_bytes());
    body.extend_from_slice(inner);
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend(body);
    out
}

#[test]
fn rmid_reads_and_bad_rmid() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.rmi", "a.mid"] {
        let l = load(dir.path(), name, &rmid(&midi(1, 1, &[NOTE])), None).unwrap();
        assert_eq!(l.score.frames[0][0].note, 60, "{name}");
    }
    refused(
        "w.mid",
        b"RIFF\x04\0\0\0WAVE",
        None,
        true,
        &["'WAVE'", "not a RIFF MIDI"],
    );
    refused(
        "x.rmi",
        b"RIFF\x04\0\0\0RMID",
        None,
        false,
        &["without a 'data' chunk"],
    );
    let mut cut = rmid(&midi(1, 1, &[NOTE]));
    cut.truncate(cut.len() - 4);
    refused("y.rmi", &cut, None, false, &["'data' chunk", "claims"]);
    refused("z.rmi", &rmid(b"garbage"), None, false, &["no \"MThd\""]);
}

#[test]
fn lenient_midi_repairs_with_warnings() {
    let dir = tempfile::tempdir().unwrap();
    // A controller value 0xFF and a program 0xD1: clipped, the warning names track and offset.
    let track = [
        0x00, 0xB0, 7, 0xFF, 0x00, 0xC0, 0xD1, 0x00, 0x90, 60, 100, 0x60, 0x80, 60, 0, 0x00, 0xFF,
        0x2F, 0x00,
    ];
    let l = load(dir.path(), "cc.mid", &midi(1, 1, &[&track]), None).unwrap();
    assert!(
        l.notes[0].contains("track 0: data byte 0xFF at offset 25"),
        "{:?}",
        l.notes
    );
    assert!(l.notes[1].contains("0xD1 at offset 28"), "{:?}", l.notes);
    assert_eq!(l.score.frames[0][0].note, 60);
    // Format 0 declaring 17 tracks: merged.
    let tracks: Vec<&[u8]> = vec![NOTE; 17];
    let l = load(dir.path(), "f0.mid", &midi(0, 17, &tracks), None).unwrap();
    assert!(
        l.notes
            .iter()
            .any(|n| n.contains("type-0 file with 17 tracks")),
        "{:?}",
        l.notes
    );
    // Running status across a meta event.
    let rs = [
        0x00, 0x90, 60, 100, 0x00, 0xFF, 0x01, 0x01, b'x', 0x60, 60, 0, 0x00, 0xFF, 0x2F, 0x00,
    ];
    let l = load(dir.path(), "rs.mid", &midi(1, 1, &[&rs]), None).unwrap();
    assert!(
        l.notes[0].contains("running status 0x90 carried across"),
        "{:?}",
        l.notes
    );
    assert_eq!(l.score.len(), 12);
    // Fewer tracks than declared.
    let l = load(dir.path(), "few.mid", &midi(1, 3, &[NOTE, NOTE]), None).unwrap();
    assert!(
        l.notes[0].contains("declares 3 tracks but the file holds 2"),
        "{:?}",
        l.notes
    );
}

#[test]
fn bad_midi_that_cannot_be_repaired() {
    // A note-on cut short by the end of its track.
    refused(
        "a.mid",
        &midi(1, 1, &[&[0x00, 0x90, 60]]),
        None,
        false,
        &["track 0", "offset"],
    );
    // A data byte with no status before it.
    refused(
        "b.mid",
        &midi(1, 1, &[&[0x00, 60, 100, 0x00, 0xFF, 0x2F, 0x00]]),
        None,
        false,
        &["track 0"],
    );
    // Valid files nesmm does not read: said so, not "damaged".
    refused(
        "c.mid",
        &midi(2, 1, &[NOTE]),
        None,
        true,
        &["valid MIDI type 2"],
    );
    let mut smpte = midi(1, 1, &[NOTE]);
    smpte[12..14].copy_from_slice(&0xE728u16.to_be_bytes());
    refused("d.mid", &smpte, None, true, &["SMPTE"]);
    refused(
        "e.mid",
        &midi(1, 0, &[]),
        None,
        false,
        &["declares 0 tracks"],
    );
}
