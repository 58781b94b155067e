//! The errors a new user meets first, run as the built binary: each gives one clear message
//! that names the file or thing at fault and says what to do, and a non-zero exit status.

mod demo_support;

use nesmm::Score;
use std::path::Path;
use std::process::{Command, Output};

fn nesmm(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nesmm"));
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// Runs a command that must fail; returns its stderr after checking the message is one
/// `error:` line plus at most a hint, with no panic or backtrace.
fn fails(args: &[&str], env: &[(&str, &str)]) -> String {
    let o = nesmm(args, env);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!o.status.success(), "{args:?} succeeded:\n{err}");
    assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
    assert!(err.starts_with("error: "), "{args:?}: {err}");
    assert_eq!(err.matches("error: ").count(), 1, "one message: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
    err
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn wrong_file_types() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("song.wav");
    std::fs::write(&wav, b"RIFF....WAVE").unwrap();
    // An extension nesmm does not read: the message lists the ones it does.
    for cmd in ["info", "plot"] {
        let e = fails(&[cmd, s(&wav)], &[]);
        assert!(
            e.contains("song.wav") && e.contains("unknown file type") && e.contains(".exprsco.pkl"),
            "{e}"
        );
    }
    // The right extension on the wrong contents: named, with what to check.
    let fake_mid = dir.path().join("notes.mid");
    std::fs::write(&fake_mid, b"these are not notes").unwrap();
    let e = fails(&["info", s(&fake_mid)], &[]);
    assert!(
        e.contains("notes.mid") && e.contains("hint: check that the file really is a MIDI file"),
        "{e}"
    );
    let fake_pkl = dir.path().join("x.seprsco.pkl");
    std::fs::write(&fake_pkl, b"\x80\x02garbage").unwrap();
    let e = fails(
        &["plot", s(&fake_pkl), "-o", s(&dir.path().join("r.png"))],
        &[],
    );
    assert!(
        e.contains("x.seprsco.pkl") && e.contains("NES-MDB seprsco pickle"),
        "{e}"
    );
    assert!(!dir.path().join("r.png").exists());
    // A stream dump is not a score.
    let txt = dir.path().join("dump.txt");
    std::fs::write(&txt, b"x").unwrap();
    let e = fails(&["plot", s(&txt)], &[]);
    assert!(e.contains("dump.txt") && e.contains("not a score"), "{e}");
}

#[test]
fn missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.exprsco.pkl");
    for args in [
        vec!["info", s(&missing)],
        vec!["plot", s(&missing)],
        vec!["convert", s(&missing), "out.mid"],
        vec!["build", s(&missing), "-o", "x.nes"],
    ] {
        let e = fails(&args, &[]);
        assert!(
            e.contains("missing.exprsco.pkl") && e.contains("No such file"),
            "{args:?}: {e}"
        );
    }
    let e = fails(&["info", s(&missing)], &[]);
    assert!(e.contains("hint: check that the path exists"), "{e}");
}

#[test]
fn no_model_found() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty model");
    std::fs::create_dir(&empty).unwrap();
    let e = fails(
        &["demo", "-o", s(&dir.path().join("o")), "--model", s(&empty)],
        &[],
    );
    assert!(
        e.contains("empty model") && e.contains("config.json") && e.contains("nesmm train"),
        "{e}"
    );
    let e = fails(
        &[
            "generate",
            "--model",
            s(&empty),
            "-o",
            s(&dir.path().join("g.mid")),
        ],
        &[],
    );
    assert!(
        e.contains("empty model") && e.contains("config.json"),
        "{e}"
    );
    // A model folder with a broken weights file.
    let broken = dir.path().join("broken");
    demo_support::write_tiny_model(&broken);
    std::fs::write(broken.join("model.safetensors"), b"not tensors").unwrap();
    let e = fails(
        &[
            "demo",
            "-o",
            s(&dir.path().join("o")),
            "--model",
            s(&broken),
        ],
        &[],
    );
    assert!(e.contains("model.safetensors"), "{e}");
    assert!(!dir.path().join("o").join("index.html").exists());
}

#[test]
fn no_dataset_found() {
    let dir = tempfile::tempdir().unwrap();
    let nowhere = dir.path().join("no-nesmdb-here");
    let e = fails(
        &["train", "--out", s(&dir.path().join("m"))],
        &[("NESMDB_DIR", s(&nowhere))],
    );
    for want in [
        "NES-MDB not found",
        "no-nesmdb-here",
        "https://github.com/chrisdonahue/nesmdb",
        "NESMDB_DIR=",
        "--data",
    ] {
        assert!(e.contains(want), "missing '{want}' in: {e}");
    }
}

#[test]
fn song_too_long_for_the_rom() {
    // An hour of a new note in every voice every frame: far beyond UxROM's 256 KiB.
    let frames: Vec<[u8; 4]> = (0..24 * 3600u32)
        .map(|i| {
            let h = i.wrapping_mul(2_654_435_761);
            [
                33 + (h % 70) as u8,
                33 + (h >> 8) as u8 % 70,
                21 + (h >> 16) as u8 % 80,
                1 + (h >> 24) as u8 % 16,
            ]
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let song = dir.path().join("endless.seprsco.pkl");
    nesmm::formats::save_score(&Score::from_notes("endless", 24.0, &frames), &song).unwrap();
    let rom = dir.path().join("endless.nes");
    let e = fails(&["build", s(&song), "-o", s(&rom)], &[]);
    assert!(
        e.contains("UxROM") && e.contains("KiB") && e.contains("split"),
        "{e}"
    );
    assert!(!rom.exists());
}
