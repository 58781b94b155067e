//! The command line on real-world input: NSF tracks, the input never overwritten, messages that
//! say what is wrong first, and a closed stdout.

use nesmm::compile::{compile, CompileOptions};
use nesmm::rom::nsf::{build_nsf, NsfOptions};
use nesmm::Score;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn nesmm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nesmm"))
        .args(args)
        .output()
        .unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

fn song(base: u8) -> Score {
    let notes: Vec<[u8; 4]> = (0..96u32)
        .map(|f| [base + (f / 8 % 5) as u8, 0, 40, 0])
        .collect();
    Score::from_notes("s", 24.0, &notes)
}

/// A two-track NSFe with titles.
fn two_track_nsfe(path: &Path) {
    let streams: Vec<_> = [song(60), song(72)]
        .iter()
        .map(|s| compile(s, &CompileOptions::default()).unwrap())
        .collect();
    let mut built = build_nsf(&streams, &NsfOptions::default()).unwrap();
    built.track_titles = vec!["Intro".into(), "Castle".into()];
    std::fs::write(path, built.nsfe().to_bytes().unwrap()).unwrap();
}

#[test]
fn nsf_tracks_listed_and_converted() {
    let dir = tempfile::tempdir().unwrap();
    let nsfe = dir.path().join("album.nsfe");
    two_track_nsfe(&nsfe);
    let o = nesmm(&["info", s(&nsfe)]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("NSFe") && t.contains("2 tracks"), "{t}");
    assert!(
        t.contains("  1 * Intro (0:04)") && t.contains("  2   Castle"),
        "{t}"
    );
    let mid = dir.path().join("castle.mid");
    let o = nesmm(&[
        "convert",
        s(&nsfe),
        s(&mid),
        "--track",
        "2",
        "--seconds",
        "8",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("track 2 of 2: ends in silence at 4.0 s"),
        "{}",
        text(&o)
    );
    let back = nesmm::formats::load_score(&mid).unwrap();
    assert_eq!(back.note_matrix(), song(72).note_matrix());
    for cmd in [
        vec!["render", s(&nsfe), "-o", "x.wav", "--track", "2"],
        vec!["plot", s(&nsfe), "-o", "x.png"],
        vec!["build", s(&nsfe), "-o", "x.nes", "--no-preview"],
    ] {
        let mut args = cmd.clone();
        let out = dir.path().join(args[3]);
        args[3] = s(&out);
        let o = nesmm(&args);
        assert!(o.status.success() && out.exists(), "{args:?}: {}", text(&o));
    }
    let o = nesmm(&["convert", s(&nsfe), "y.mid", "--track", "3"]);
    assert!(
        !o.status.success() && text(&o).contains("no track 3"),
        "{}",
        text(&o)
    );
}

#[test]
fn the_input_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let mid = dir.path().join("a.mid");
    nesmm::formats::save_score(&song(60), &mid).unwrap();
    let before = std::fs::read(&mid).unwrap();
    let other = dir.path().join("sub/../a.mid");
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    for out in [s(&mid), s(&other)] {
        let o = nesmm(&["convert", s(&mid), out]);
        let t = text(&o);
        assert!(!o.status.success() && t.contains("also the input"), "{t}");
        assert!(!t.contains("wrote"), "{t}");
    }
    assert_eq!(std::fs::read(&mid).unwrap(), before);
}

#[test]
fn messages_say_the_first_thing_wrong() {
    let dir = tempfile::tempdir().unwrap();
    // Missing, with an extension nesmm does not know: "missing" comes first.
    let o = nesmm(&["info", s(&dir.path().join("nothere.xyz"))]);
    let t = text(&o);
    assert!(
        t.contains("nothere.xyz") && t.contains("No such file"),
        "{t}"
    );
    assert!(!t.contains("unknown file type"), "{t}");
    // A stream dump given to build: the message lists the score formats, no "minus".
    let txt = dir.path().join("empty.txt");
    std::fs::write(&txt, b"").unwrap();
    let o = nesmm(&["build", s(&txt), "-o", s(&dir.path().join("e.nes"))]);
    let t = text(&o);
    assert!(
        t.contains("not a score") && t.contains(".nsf") && !t.contains("minus"),
        "{t}"
    );
    // Valid but unsupported: said so, with no advice to re-download.
    let mut t2 = b"MThd\0\0\0\x06\0\x02\0\x01\0\x60".to_vec();
    t2.extend_from_slice(b"MTrk\0\0\0\x04\0\xFF\x2F\0");
    let mid = dir.path().join("seq.mid");
    std::fs::write(&mid, t2).unwrap();
    let t = text(&nesmm(&["info", s(&mid)]));
    assert!(
        t.contains("valid MIDI type 2") && !t.contains("re-download"),
        "{t}"
    );
    // Damaged: says where, and to check the file.
    std::fs::write(
        &mid,
        b"MThd\0\0\0\x06\0\x01\0\x01\0\x60MTrk\0\0\0\x03\0\x90\x3C",
    )
    .unwrap();
    let t = text(&nesmm(&["info", s(&mid)]));
    assert!(t.contains("offset") && t.contains("damaged"), "{t}");
    // A newer NSFe with a mandatory chunk nesmm does not know: valid, so "not supported".
    let nsfe = dir.path().join("newer.nsfe");
    two_track_nsfe(&nsfe);
    let mut bytes = std::fs::read(&nsfe).unwrap();
    let end = bytes.len() - 8; // before NEND
    bytes.splice(end..end, *b"\x01\0\0\0RATE\x07");
    std::fs::write(&nsfe, bytes).unwrap();
    let o = nesmm(&["info", s(&nsfe)]);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(
        t.contains("newer.nsfe") && t.contains("'RATE'") && t.contains("mandatory"),
        "{t}"
    );
    assert!(
        t.contains("nothing is wrong with the file") && !t.contains("damaged"),
        "{t}"
    );
    // A file without a known extension is read by its content.
    let anon = dir.path().join("song_without_extension");
    nesmm::formats::save_score(&song(60), &dir.path().join("x.mid")).unwrap();
    std::fs::copy(dir.path().join("x.mid"), &anon).unwrap();
    let o = nesmm(&["info", s(&anon)]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let nsfe = dir.path().join("album.nsfe");
    two_track_nsfe(&nsfe);
    let mut child = Command::new(env!("CARGO_BIN_EXE_nesmm"))
        .args(["info", s(&nsfe)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end before the program writes: every println! meets a closed pipe.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{err}"
    );
}
