//! One writer per output: `build` and `generate` lock their set of outputs (`NAME.nes.lock`
//! beside the ROM covers the ROM, its page and its WAVs; `generate` locks each -o file). A held
//! lock refuses a second writer naming its PID and writing nothing; a stale one (dead PID) is
//! taken over; two racing builds leave the outputs of one song.

use nesmm::formats::save_score;
use nesmm::score::{Cell, Score, Voice};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn nesmm() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nesmm"))
}

fn score(name: &str, frames: usize, pitch: u8) -> Score {
    let mut s = Score::new(name, 24.0);
    for i in 0..frames {
        let mut f = [Cell::REST; 4];
        f[0] = Cell::from_note(Voice::Pulse1, pitch + (i % 7) as u8);
        f[2] = Cell::from_note(Voice::Triangle, 40 + (i % 5) as u8);
        s.frames.push(f);
    }
    s
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn build(song: &Path, rom: &Path) -> Output {
    nesmm()
        .arg("build")
        .arg(song)
        .arg("-o")
        .arg(rom)
        .args(["--embed", "never"])
        .output()
        .unwrap()
}

/// A PID that ran and has exited.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[test]
fn a_held_build_lock_refuses_a_second_build_naming_the_pid_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let song = dir.path().join("a.seprsco.pkl");
    save_score(&score("a", 48, 60), &song).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let lock = out.join("x.nes.lock");
    // This test's own PID: a live holder.
    std::fs::write(&lock, format!("{}\n", std::process::id())).unwrap();
    let o = build(&song, &out.join("x.nes"));
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains(&format!("PID {}", std::process::id())),
        "{err}"
    );
    assert!(err.contains("x.nes"), "{err}");
    assert_eq!(
        files_in(&out),
        ["x.nes.lock"],
        "nothing written, the lock kept"
    );

    // The holder is gone: its lock is taken over, and removed when the build ends.
    std::fs::write(&lock, format!("{}\n", dead_pid())).unwrap();
    let o = build(&song, &out.join("x.nes"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(files_in(&out), ["x-01.wav", "x.html", "x.nes"]);
}

#[test]
fn a_held_generate_lock_refuses_naming_the_pid_and_a_stale_one_is_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let outs = [dir.path().join("g.seprsco.pkl"), dir.path().join("g.mid")];
    let generate = || {
        let mut c = nesmm();
        c.args(["generate", "--seconds", "1", "--model", "lstm-reduced"]);
        for o in &outs {
            c.arg("-o").arg(o);
        }
        c.current_dir(env!("CARGO_MANIFEST_DIR")).output().unwrap()
    };
    // A live holder of the second file's lock: neither file is written.
    let lock = dir.path().join("g.mid.lock");
    std::fs::write(&lock, format!("{}\n", std::process::id())).unwrap();
    let o = generate();
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains(&format!("PID {}", std::process::id())),
        "{err}"
    );
    assert_eq!(files_in(dir.path()), ["g.mid.lock"]);

    std::fs::write(&lock, format!("{}\n", dead_pid())).unwrap();
    let o = generate();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(files_in(dir.path()), ["g.mid", "g.seprsco.pkl"]);
}

/// The bytes of a build's three outputs.
fn outputs(dir: &Path) -> Vec<Vec<u8>> {
    ["x.nes", "x.html", "x-01.wav"]
        .iter()
        .map(|n| std::fs::read(dir.join(n)).unwrap())
        .collect()
}

#[test]
fn outputs_of_two_racing_builds_belong_to_one_song() {
    let dir = tempfile::tempdir().unwrap();
    let songs: Vec<PathBuf> = [("a", 60), ("b", 67)]
        .iter()
        .map(|&(name, pitch)| {
            let p = dir.path().join(format!("{name}.seprsco.pkl"));
            save_score(&score(name, 240, pitch), &p).unwrap();
            p
        })
        .collect();
    // Each song built alone: the reference outputs.
    let alone: Vec<Vec<Vec<u8>>> = songs
        .iter()
        .enumerate()
        .map(|(i, song)| {
            let d = dir.path().join(format!("alone-{i}"));
            let o = build(song, &d.join("x.nes"));
            assert!(o.status.success(), "{}", stderr(&o));
            outputs(&d)
        })
        .collect();
    assert_ne!(alone[0], alone[1]);
    for round in 0..4 {
        let d = dir.path().join(format!("race-{round}"));
        let rom = d.join("x.nes");
        let racers: Vec<std::process::Child> = songs
            .iter()
            .map(|song| {
                nesmm()
                    .arg("build")
                    .arg(song)
                    .arg("-o")
                    .arg(&rom)
                    .args(["--embed", "never"])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let results: Vec<Output> = racers
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let ok = results.iter().filter(|o| o.status.success()).count();
        assert!(ok >= 1, "round {round}: no build finished");
        for o in results.iter().filter(|o| !o.status.success()) {
            assert!(stderr(o).contains("another process (PID"), "{}", stderr(o));
        }
        let got = outputs(&d);
        assert!(
            got == alone[0] || got == alone[1],
            "round {round}: the ROM, page and WAV are not of one song"
        );
        assert!(!d.join("x.nes.lock").exists(), "round {round}: lock left");
    }
}
