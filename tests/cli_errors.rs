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

/// A valid 4-second song with all four voices.
fn song() -> Score {
    let frames: Vec<[u8; 4]> = (0..96u32)
        .map(|f| {
            [
                60 + (f / 6 % 7) as u8,
                67,
                40 + (f / 12 % 3) as u8,
                if f % 6 == 0 { 9 } else { 0 },
            ]
        })
        .collect();
    Score::from_notes("ok", 24.0, &frames)
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
        e.contains("notes.mid")
            && e.contains("hint: the file looks damaged or is not a MIDI file: check that it is"),
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
    let ok = dir.path().join("ok.seprsco.pkl");
    nesmm::formats::save_score(&song(), &ok).unwrap();
    let out = |name: &str| dir.path().join(name).display().to_string();
    // Every command that reads a song, the missing one in each place it can be.
    for args in [
        vec!["info", s(&missing)],
        vec!["plot", s(&missing)],
        vec!["convert", s(&missing), "out.mid"],
        vec!["build", s(&missing), "-o", "x.nes"],
        vec!["build", s(&ok), s(&missing), "-o", &out("y.nes")],
        vec!["render", s(&missing), "-o", &out("x.wav")],
        vec!["compile", s(&missing), "--stream-out", &out("x.txt")],
        vec!["nsf", s(&ok), s(&missing), "-o", &out("x.nsf")],
        vec!["export-ca65", s(&missing), "-o", &out("project")],
        vec!["vary", s(&missing), "-o", &out("v.mid")],
        vec!["interpolate", s(&ok), s(&missing), "-o", &out("morph")],
        vec!["generate", "--primer", s(&missing), "-o", &out("g.mid")],
    ] {
        let e = fails(&args, &[]);
        assert!(
            e.contains("missing.exprsco.pkl") && e.contains("No such file"),
            "{args:?}: {e}"
        );
        assert!(
            e.contains("hint: check that the path exists") || e.contains("check the path"),
            "{args:?}: says what to do: {e}"
        );
    }
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["ok.seprsco.pkl"], "nothing written");
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
    assert!(
        !dir.path().join("endless.html").exists(),
        "no preview page either"
    );
    let out = |name: &str| dir.path().join(name).display().to_string();
    for (args, gone) in [
        (vec!["nsf", s(&song), "-o", &out("e.nsf")], "e.nsf"),
        (vec!["export-ca65", s(&song), "-o", &out("proj")], "proj"),
    ] {
        let e = fails(&args, &[]);
        assert!(
            e.contains("KiB") && e.contains("split") && !e.contains("writable"),
            "{args:?}: {e}"
        );
        assert!(!dir.path().join(gone).exists());
    }
}

#[test]
fn wrong_file_types_in_every_command() {
    // An extension nesmm does not read, and a .mid that is no MIDI, given to every command that
    // reads songs: one message naming the file, nothing written.
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("song.wav");
    std::fs::write(&wav, b"RIFF....WAVE").unwrap();
    let fake = dir.path().join("fake.mid");
    std::fs::write(&fake, b"not midi").unwrap();
    let ok = dir.path().join("ok.mid");
    nesmm::formats::save_score(&song(), &ok).unwrap();
    let out = |name: &str| dir.path().join(name).display().to_string();
    for (bad, want) in [(&wav, "unknown file type"), (&fake, "not a MIDI file")] {
        for args in [
            vec!["build", s(&ok), s(bad), "-o", &out("x.nes")],
            vec!["render", s(bad), "-o", &out("x.wav")],
            vec!["compile", s(bad), "--stream-out", &out("x.txt")],
            vec!["nsf", s(bad), "-o", &out("x.nsf")],
            vec!["export-ca65", s(bad), "-o", &out("project")],
            vec!["convert", s(bad), &out("x.mid")],
            vec!["vary", s(bad), "-o", &out("v.mid")],
            vec!["interpolate", s(&ok), s(bad), "-o", &out("morph")],
            vec!["generate", "--primer", s(bad), "-o", &out("g.mid")],
        ] {
            let e = fails(&args, &[]);
            let name = bad.file_name().unwrap().to_str().unwrap();
            assert!(e.contains(name) && e.contains(want), "{args:?}: {e}");
        }
    }
    let mut left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, ["fake.mid", "ok.mid", "song.wav"], "nothing written");
}

#[test]
fn outputs_must_be_named_for_what_is_written() {
    // `render song.mid -o song.mid` would have replaced the song with audio: each command that
    // writes one kind of file refuses a name that promises another, before writing anything.
    let dir = tempfile::tempdir().unwrap();
    let mid = dir.path().join("song.mid");
    nesmm::formats::save_score(&song(), &mid).unwrap();
    let before = std::fs::read(&mid).unwrap();
    let p = |name: &str| dir.path().join(name).display().to_string();
    for (args, bad, want) in [
        (vec!["render", s(&mid), "-o", s(&mid)], "song.mid", ".wav"),
        (
            vec!["build", s(&mid), "-o", &p("rom.mid")],
            "rom.mid",
            ".nes",
        ),
        (
            vec!["nsf", s(&mid), "-o", &p("a.mid")],
            "a.mid",
            ".nsf or .nsfe",
        ),
        (
            vec!["plot", s(&mid), "-o", &p("roll.wav")],
            "roll.wav",
            ".png",
        ),
        (
            vec!["compile", s(&mid), "--stream-out", &p("s.mid")],
            "s.mid",
            ".txt",
        ),
    ] {
        let e = fails(&args, &[]);
        assert!(
            e.contains(bad) && e.contains(&format!("must end in {want}")) && e.contains("hint:"),
            "{args:?}: {e}"
        );
    }
    assert_eq!(
        std::fs::read(&mid).unwrap(),
        before,
        "the song is untouched"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn no_vae_found() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.mid");
    nesmm::formats::save_score(&song(), &a).unwrap();
    let v = dir.path().join("v.mid").display().to_string();
    let g = dir.path().join("g.mid").display().to_string();
    let empty = dir.path().join("empty model");
    std::fs::create_dir(&empty).unwrap();
    let morph = dir.path().join("morph");
    for args in [
        vec!["vary", s(&a), "--model", s(&empty), "-o", &v],
        vec![
            "interpolate",
            s(&a),
            s(&a),
            "--model",
            s(&empty),
            "-o",
            s(&morph),
        ],
    ] {
        let e = fails(&args, &[]);
        assert!(
            e.contains("empty model") && e.contains("config.json") && e.contains("nesmm train"),
            "{args:?}: {e}"
        );
    }
    // An LSTM where a VAE is needed, and a name that is neither a folder nor a bundled model.
    let e = fails(&["vary", s(&a), "--model", "lstm-full", "-o", &v], &[]);
    assert!(e.contains("needs a VAE") && e.contains("vae-full"), "{e}");
    let e = fails(&["generate", "--model", "lstm-fool", "-o", &g], &[]);
    assert!(
        e.contains("lstm-fool") && e.contains("bundled model name") && e.contains("lstm-full"),
        "{e}"
    );
    assert!(!morph.exists() && !Path::new(&v).exists() && !Path::new(&g).exists());
}

#[test]
fn no_dataset_found_in_any_dataset_command() {
    let dir = tempfile::tempdir().unwrap();
    let nowhere = dir.path().join("no-nesmdb-here");
    let env = [("NESMDB_DIR", s(&nowhere))];
    for args in [vec!["eval", "--model", "lstm-full"], vec!["stats"]] {
        let e = fails(&args, &env);
        for want in [
            "NES-MDB not found",
            "no-nesmdb-here",
            "https://github.com/chrisdonahue/nesmdb",
            "--data",
        ] {
            assert!(e.contains(want), "{args:?}: missing '{want}' in: {e}");
        }
    }
    // --data naming nothing: the path and what is expected there.
    let e = fails(
        &[
            "train",
            "--data",
            s(&nowhere),
            "--out",
            s(&dir.path().join("m")),
        ],
        &[],
    );
    assert!(
        e.contains("no-nesmdb-here") && e.contains("NES-MDB .tar.gz"),
        "{e}"
    );
    assert!(!dir.path().join("m").exists());
}

#[test]
fn lengths_out_of_range() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("o");
    let v = dir.path().join("v.mid").display().to_string();
    let g = dir.path().join("g.mid").display().to_string();
    for args in [
        vec!["demo", "--seconds", "4000", "-o", s(&o)],
        vec!["generate", "--seconds", "100000", "-o", &g],
        vec![
            "generate",
            "--model",
            "vae-full",
            "--seconds",
            "0",
            "-o",
            &g,
        ],
    ] {
        let e = fails(&args, &[]);
        assert!(
            e.contains("--seconds") && e.contains("accepted: more than 0, at most 3600"),
            "{args:?}: {e}"
        );
    }
    // Too short for the VAE's 64-frame window.
    let short = dir.path().join("short.mid");
    let notes: Vec<[u8; 4]> = (0..24).map(|i| [60 + i % 5, 0, 40, 0]).collect();
    nesmm::formats::save_score(&Score::from_notes("short", 24.0, &notes), &short).unwrap();
    let e = fails(&["vary", s(&short), "-o", &v], &[]);
    assert!(e.contains("64 frames"), "{e}");
    assert!(!o.exists() && !Path::new(&g).exists() && !Path::new(&v).exists());
}
