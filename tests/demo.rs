//! `nesmm demo` run as the built binary into a temporary folder: every file exists and is what
//! it claims to be (iNES header, RIFF/WAVE header, MIDI header, PNG that decodes, HTML holding
//! the track), and the same seed gives the same song.

mod demo_support;

use std::path::Path;
use std::process::{Command, Output};

fn nesmm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nesmm"))
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn demo_writes_every_file_and_they_are_valid() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    demo_support::write_tiny_model(&model);
    let out = dir.path().join("demo out");
    let o = nesmm(&[
        "demo",
        "-o",
        out.to_str().unwrap(),
        "--seed",
        "7",
        "--seconds",
        "6",
        "--model",
        model.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    let f = |ext: &str| out.join(format!("nesmm-demo-7.{ext}"));
    // The report names every file and how to open them.
    for want in [
        "nesmm-demo-7.nes",
        "nesmm-demo-7.nsf",
        "nesmm-demo-7.wav",
        "nesmm-demo-7.mid",
        "nesmm-demo-7.png",
        "index.html",
        "Mesen",
        "FCEUX",
        "EverDrive",
        "--seed 7",
    ] {
        assert!(t.contains(want), "missing {want} in:\n{t}");
    }

    let nes = std::fs::read(f("nes")).unwrap();
    assert_eq!(&nes[..4], b"NES\x1a", "iNES header");
    assert!(nes.len() >= 16 + 16 * 1024);

    let nsf = std::fs::read(f("nsf")).unwrap();
    assert_eq!(&nsf[..5], b"NESM\x1a", "NSF header");
    assert_eq!(nsf[6], 1, "one song");
    assert!(html_has_link(&out, "nesmm-demo-7.nsf"));

    let wav = std::fs::read(f("wav")).unwrap();
    assert_eq!((&wav[..4], &wav[8..12]), (&b"RIFF"[..], &b"WAVE"[..]));
    let reader = hound::WavReader::open(f("wav")).unwrap();
    let secs = reader.duration() as f64 / reader.spec().sample_rate as f64;
    assert!((secs - 6.0).abs() < 0.2, "{secs} s of audio");

    let mid = std::fs::read(f("mid")).unwrap();
    assert_eq!(&mid[..4], b"MThd");
    let back = nesmm::formats::load_score(&f("mid")).unwrap();
    assert!(back.len() > 100, "{} frames", back.len());

    let png = std::fs::read(f("png")).unwrap();
    let mut reader = png::Decoder::new(std::io::Cursor::new(&png))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert!(info.width >= 480 && info.height > 100);

    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("<title>nesmm-demo-7</title>"));
    assert!(
        html.contains("data:audio/wav;base64,UklGR"),
        "6 s of WAV is embedded"
    );
    assert!(
        html.contains("href=\"nesmm-demo-7.nes\"") && html.contains("href=\"nesmm-demo-7.mid\"")
    );
    assert!(html.matches("<rect class=\"note ").count() > 0);

    // No temporary files are left behind.
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 6, "{names:?}");

    // The same seed gives the same song; --embed never links the WAV instead.
    let out2 = dir.path().join("again");
    let o = nesmm(&[
        "demo",
        "-o",
        out2.to_str().unwrap(),
        "--seed",
        "7",
        "--seconds",
        "6",
        "--model",
        model.to_str().unwrap(),
        "--embed",
        "never",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read(out2.join("nesmm-demo-7.mid")).unwrap(), mid);
    assert_eq!(std::fs::read(out2.join("nesmm-demo-7.nes")).unwrap(), nes);
    let html2 = std::fs::read_to_string(out2.join("index.html")).unwrap();
    assert!(html2.contains("src=\"nesmm-demo-7.wav\"") && !html2.contains("data:audio"));
}

#[test]
fn demo_with_the_bundled_model() {
    // No --model: the bundled models/lstm-full is found from the built binary's folder.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let o = nesmm(&[
        "demo",
        "-o",
        out.to_str().unwrap(),
        "--seed",
        "11",
        "--seconds",
        "12",
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("lstm-full") && t.contains("seed 11"), "{t}");
    let score = nesmm::formats::load_score(&out.join("nesmm-demo-11.mid")).unwrap();
    assert!(
        (score.duration_secs() - 12.0).abs() < 0.5,
        "{} s",
        score.duration_secs()
    );
    // A trained model makes music, not silence: at least the lead voice plays notes.
    let sounding = score
        .notes(nesmm::Voice::Pulse1)
        .filter(|n| *n != 0)
        .count();
    assert!(sounding > 0, "P1 never sounds");
    for ext in ["nes", "nsf", "wav", "png"] {
        assert!(out.join(format!("nesmm-demo-11.{ext}")).is_file(), "{ext}");
    }
    assert!(std::fs::read_to_string(out.join("index.html"))
        .unwrap()
        .contains("nesmm-demo-11"));
}

/// `--model` takes the bundled names as `generate` does.
#[test]
fn demo_takes_a_bundled_model_name() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let args = [
        "demo",
        "--model",
        "lstm-reduced",
        "--seed",
        "3",
        "--seconds",
        "4",
        "-o",
    ];
    let o = nesmm(&[&args[..], &[out.to_str().unwrap()]].concat());
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    let score = nesmm::formats::load_score(&out.join("nesmm-demo-3.mid")).unwrap();
    // The reduced model plays pulse 1 only.
    assert_eq!(
        score
            .notes(nesmm::Voice::Triangle)
            .filter(|n| *n != 0)
            .count(),
        0
    );
}

#[test]
fn demo_with_a_folder_that_is_not_a_model_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let o = nesmm(&[
        "demo",
        "-o",
        dir.path().join("o").to_str().unwrap(),
        "--model",
        dir.path().to_str().unwrap(),
    ]);
    let t = text(&o);
    assert!(!o.status.success());
    assert!(
        t.contains("config.json") && t.contains("nesmm train"),
        "{t}"
    );
    assert!(!Path::new(&dir.path().join("o").join("index.html")).exists());
}

fn html_has_link(dir: &Path, file: &str) -> bool {
    std::fs::read_to_string(dir.join("index.html"))
        .unwrap()
        .contains(&format!("href=\"{file}\""))
}
