//! `nesmm compile` from the command line: the dump it writes is the library's stream, and bad
//! input gives a message and a failing exit status.

use nesmm::compile::{compile, CompileOptions, Dynamics};
use nesmm::{ApuStream, Region, Score};
use std::process::Command;

fn nesmm() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nesmm"))
}

fn song() -> Score {
    let mut notes = Vec::new();
    for k in 0..96u8 {
        notes.push([
            if k % 8 < 6 { 60 + k % 12 } else { 0 },
            if k % 3 == 0 { 0 } else { 48 + k % 7 },
            40 + k % 5,
            if k % 4 == 0 { 3 } else { 0 },
        ]);
    }
    Score::from_notes("cli_song", 24.0, &notes)
}

#[test]
fn writes_the_stream_and_reports_figures() {
    let dir = tempfile::tempdir().unwrap();
    let score = song();
    let src = dir.path().join("cli_song.seprsco.pkl");
    nesmm::formats::save_score(&score, &src).unwrap();
    for (extra, region, dynamics) in [
        (vec![], Region::Ntsc, Dynamics::Instruments),
        (vec!["--pal", "--flat"], Region::Pal, Dynamics::Flat),
    ] {
        let out = dir.path().join("out/stream.txt");
        let run = nesmm()
            .arg("compile")
            .arg(&src)
            .arg("--stream-out")
            .arg(&out)
            .args(&extra)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(
            run.status.success(),
            "{stdout} {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let text = std::fs::read_to_string(&out).unwrap();
        let got = ApuStream::from_text(&text, "out").unwrap();
        let loaded = nesmm::formats::load_score(&src).unwrap();
        let opts = CompileOptions {
            region,
            dynamics: Some(dynamics),
        };
        let want = compile(&loaded, &opts).unwrap();
        assert_eq!(got, want);
        let max = want.frames().map(<[_]>::len).max().unwrap();
        assert!(
            stdout.contains(&format!("{} frames", want.len()))
                && stdout.contains(&format!("{} writes", want.write_count()))
                && stdout.contains(&format!("{max} max"))
                && stdout.contains("writes/frame mean"),
            "{stdout}"
        );
    }
}

#[test]
fn missing_song_fails_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.txt");
    let run = nesmm()
        .args(["compile", "no/such/song.seprsco.pkl", "--stream-out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("no/such/song.seprsco.pkl") && err.contains("check that the path exists"),
        "{err}"
    );
    assert!(!out.exists());
}
