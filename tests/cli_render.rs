//! `nesmm render` from the command line: scores and stream dumps to WAV, and its errors.

use nesmm::compile::{compile, CompileOptions};
use nesmm::synth::{render, wav_bytes, RenderOptions};
use nesmm::{Region, Score};
use std::process::Command;

fn nesmm() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nesmm"))
}

fn song() -> Score {
    let notes: Vec<[u8; 4]> = (0..72u8)
        .map(|k| {
            [
                if k % 6 < 5 { 64 + k % 12 } else { 0 },
                52 + k % 5,
                if k % 4 == 0 { 0 } else { 40 + k % 7 },
                if k % 3 == 0 { 5 } else { 0 },
            ]
        })
        .collect();
    Score::from_notes("render_song", 24.0, &notes)
}

#[test]
fn renders_scores_and_stream_dumps() {
    let dir = tempfile::tempdir().unwrap();
    let score = song();
    let src = dir.path().join("render_song.seprsco.pkl");
    nesmm::formats::save_score(&score, &src).unwrap();
    for (extra, region, rate) in [
        (vec![], Region::Ntsc, 44_100u32),
        (vec!["--pal", "--rate", "48000"], Region::Pal, 48_000),
    ] {
        let wav = dir.path().join("out/song.wav");
        let run = nesmm()
            .arg("render")
            .arg(&src)
            .arg("-o")
            .arg(&wav)
            .args(&extra)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(stdout.contains(&format!("{rate} Hz")), "{stdout}");
        // Exactly the library's render of the library's compile.
        let stream = compile(
            &score,
            &CompileOptions {
                region,
                ..Default::default()
            },
        )
        .unwrap();
        let expect =
            wav_bytes(&render(&stream, &RenderOptions { sample_rate: rate }), rate).unwrap();
        let got = std::fs::read(&wav).unwrap();
        assert_eq!(got, expect, "{extra:?}");
        let r = hound::WavReader::open(&wav).unwrap();
        assert_eq!(r.spec().sample_rate, rate);
        let secs = f64::from(r.duration()) / f64::from(rate);
        assert!((secs - stream.duration_secs()).abs() < 0.001, "{secs}");

        // The stream dump renders to the same file.
        let dump = dir.path().join("stream.txt");
        std::fs::write(&dump, stream.to_text()).unwrap();
        let wav2 = dir.path().join("from_dump.wav");
        let run = nesmm()
            .arg("render")
            .arg(&dump)
            .arg("--output")
            .arg(&wav2)
            .args(&extra)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert_eq!(std::fs::read(&wav2).unwrap(), expect);
    }
}

#[test]
fn errors_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("x.wav");
    let fail = |args: &[&std::ffi::OsStr]| {
        let run = nesmm().arg("render").args(args).output().unwrap();
        assert!(!run.status.success());
        assert!(!wav.exists(), "no output on failure");
        String::from_utf8_lossy(&run.stderr).into_owned()
    };
    let missing = dir.path().join("missing.seprsco.pkl");
    let e = fail(&[missing.as_os_str(), "-o".as_ref(), wav.as_os_str()]);
    assert!(e.contains("missing.seprsco.pkl"), "{e}");

    let e = fail(&[
        missing.as_os_str(),
        "-o".as_ref(),
        wav.as_os_str(),
        "--rate".as_ref(),
        "22050".as_ref(),
    ]);
    assert!(e.contains("44100 or 48000"), "{e}");

    let bad = dir.path().join("bad.txt");
    std::fs::write(
        &bad,
        "# nesmm apu stream: s ntsc frames 1 loop none\ninit\n0 $5000=$01\n",
    )
    .unwrap();
    let e = fail(&[bad.as_os_str(), "-o".as_ref(), wav.as_os_str()]);
    assert!(e.contains("bad.txt") && e.contains("line 3"), "{e}");

    let ntsc = dir.path().join("ntsc.txt");
    std::fs::write(
        &ntsc,
        "# nesmm apu stream: s ntsc frames 1 loop none\ninit\n0\n",
    )
    .unwrap();
    let e = fail(&[
        ntsc.as_os_str(),
        "-o".as_ref(),
        wav.as_os_str(),
        "--pal".as_ref(),
    ]);
    assert!(
        e.contains("compiled for NTSC") && e.contains("--pal"),
        "{e}"
    );

    let odd = dir.path().join("song.xyz");
    std::fs::write(&odd, b"???").unwrap();
    let e = fail(&[odd.as_os_str(), "-o".as_ref(), wav.as_os_str()]);
    assert!(e.contains("song.xyz"), "{e}");
}
