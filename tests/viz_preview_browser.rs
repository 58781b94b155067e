//! The preview page in headless Chromium: it loads with no script error, its audio element
//! reports the WAV's duration, and its piano roll holds exactly one mark per note of the score.
//! Skipped (with a message) where `/usr/bin/chromium` is absent; `.ci/run` installs it.
//! A screenshot of each page is kept under `target/tmp/` for people to look at.

#[path = "common/skip.rs"]
mod skip;

use nesmm::viz::note_spans;
use nesmm::viz::preview::{
    render_album_page, render_preview_page, Audio, Download, EmbedMode, TrackPreview,
};
use nesmm::Score;
use std::path::{Path, PathBuf};
use std::process::Command;

const CHROMIUM: &str = "/usr/bin/chromium";

fn chromium_present() -> bool {
    if Path::new(CHROMIUM).is_file() {
        true
    } else {
        skip::skip(format_args!(
            "{CHROMIUM} not found (apt-get install chromium; .ci/run does)"
        ));
        false
    }
}

/// Runs headless Chromium on `page` with `extra` arguments; returns (stdout, stderr).
fn chromium(page: &Path, extra: &[String]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            "--mute-audio",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The value of attribute `name` of the `<div id="selftest">` in a dumped DOM.
fn selftest_attr(dom: &str, name: &str) -> String {
    let start = dom
        .find("id=\"selftest\"")
        .unwrap_or_else(|| panic!("no selftest div in:\n{dom}"));
    let tag = &dom[start..start + dom[start..].find('>').unwrap()];
    let key = format!("{name}=\"");
    let at = tag
        .find(&key)
        .unwrap_or_else(|| panic!("no {name} in {tag}"))
        + key.len();
    tag[at..at + tag[at..].find('"').unwrap()].to_string()
}

/// A mono 16-bit WAV of `secs` seconds of a 440 Hz tone.
fn wav(path: &Path, secs: f64) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 22050,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..(secs * 22050.0) as usize {
        let v = (i as f64 * 440.0 * std::f64::consts::TAU / 22050.0).sin() * 8000.0;
        w.write_sample(v as i16).unwrap();
    }
    w.finalize().unwrap();
}

/// A score with melody, bass and drums: 6 s, one second shorter per `shift`.
fn song(name: &str, shift: u8) -> Score {
    let notes: Vec<[u8; 4]> = (0..144 - 24 * shift as usize)
        .map(|f| {
            let p1 = if f % 12 < 9 {
                60 + shift + (f / 12 % 5) as u8
            } else {
                0
            };
            let p2 = if f >= 48 { 67 } else { 0 };
            let tr = 36 + (f / 24 % 3) as u8 * 5;
            let no = if f % 6 == 0 { 12 } else { 0 };
            [p1, p2, tr, no]
        })
        .collect();
    Score::from_notes(name, 24.0, &notes)
}

fn screenshot_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

fn check_page(page: &Path, want_marks: &[usize], want_secs: &[f64], shot: &str) {
    let (dom, log) = chromium(
        page,
        &["--dump-dom".into(), "--virtual-time-budget=5000".into()],
    );
    assert_eq!(
        selftest_attr(&dom, "data-state"),
        "ran",
        "the page's script did not run"
    );
    assert_eq!(selftest_attr(&dom, "data-errors"), "", "script errors");
    assert!(!log.contains("Uncaught"), "console error:\n{log}");
    let marks: Vec<usize> = selftest_attr(&dom, "data-marks")
        .split(',')
        .map(|m| m.parse().unwrap())
        .collect();
    assert_eq!(marks, want_marks, "note marks per track");
    assert_eq!(
        dom.matches("<rect class=\"note ").count(),
        want_marks.iter().sum::<usize>()
    );
    let durations = selftest_attr(&dom, "data-durations");
    let got: Vec<f64> = durations
        .split(',')
        .map(|d| {
            d.parse()
                .unwrap_or_else(|_| panic!("audio duration not loaded: {durations}"))
        })
        .collect();
    assert_eq!(got.len(), want_secs.len());
    for (g, w) in got.iter().zip(want_secs) {
        assert!((g - w).abs() < 0.01, "audio duration {g} s, want {w} s");
    }
    // Keep a screenshot for people (not checked).
    let shot = screenshot_path(shot);
    let _ = std::fs::remove_file(&shot);
    chromium(
        page,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1200,800".into(),
        ],
    );
    println!("screenshot: {}", shot.display());
}

#[test]
fn single_track_page_with_embedded_audio() {
    if !chromium_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("song.wav");
    wav(&w, 2.5);
    let score = song("browser song", 0);
    let track = TrackPreview {
        title: "browser song".into(),
        audio: Audio::from_wav_file(&w, dir.path(), EmbedMode::Always).unwrap(),
        downloads: ["song.nes", "song.nsf", "song.mid"]
            .iter()
            .map(|f| Download::to_file(&dir.path().join(f), dir.path()))
            .collect(),
        score: score.clone(),
    };
    assert!(matches!(track.audio, Audio::Embedded(_)));
    let page = dir.path().join("index.html");
    let html = render_preview_page(&track);
    assert!(html.contains("data:audio/wav;base64,UklGR"), "WAV embedded");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no network references"
    );
    for f in ["song.nes", "song.nsf", "song.mid"] {
        assert!(html.contains(&format!("href=\"{f}\"")), "{f} link");
    }
    nesmm::io::write_atomic(&page, html.as_bytes()).unwrap();
    check_page(
        &page,
        &[note_spans(&score).len()],
        &[2.5],
        "preview-single.png",
    );
}

#[test]
fn album_page_with_linked_audio() {
    if !chromium_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut tracks = Vec::new();
    for (i, secs) in [1.5, 3.0].iter().enumerate() {
        let w = dir.path().join(format!("track {i}.wav"));
        wav(&w, *secs);
        let audio = Audio::from_wav_file(&w, dir.path(), EmbedMode::Never).unwrap();
        assert_eq!(audio, Audio::Linked(format!("track%20{i}.wav")));
        tracks.push(TrackPreview {
            title: format!("track {i}"),
            score: song(&format!("t{i}"), i as u8 * 2),
            audio,
            downloads: vec![],
        });
    }
    let page = dir.path().join("album.html");
    let html = render_album_page(&tracks);
    assert!(html.contains("<title>track 0 and 1 more</title>"));
    nesmm::io::write_atomic(&page, html.as_bytes()).unwrap();
    let marks: Vec<usize> = tracks.iter().map(|t| note_spans(&t.score).len()).collect();
    assert_ne!(marks[0], marks[1]);
    check_page(&page, &marks, &[1.5, 3.0], "preview-album.png");
}

#[test]
fn a_script_error_would_be_reported() {
    // The check above can fail: a page whose script throws shows the message in the selftest div.
    if !chromium_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let html = render_preview_page(&TrackPreview {
        title: "x".into(),
        score: song("x", 0),
        audio: Audio::None,
        downloads: vec![],
    })
    .replace(
        "</body>",
        "<script>setTimeout(function () { null.boom(); }, 10);</script></body>",
    );
    let page = dir.path().join("broken.html");
    std::fs::write(&page, html).unwrap();
    let (dom, _) = chromium(
        &page,
        &["--dump-dom".into(), "--virtual-time-budget=2000".into()],
    );
    assert!(selftest_attr(&dom, "data-errors").contains("null"), "{dom}");
    assert_eq!(selftest_attr(&dom, "data-durations"), "none");
}

#[test]
fn playhead_follows_the_audio() {
    // Put the audio at 1.25 s from a test script; the page's own timeupdate handler must move
    // the playhead to plot_x + 1.25 s * px_per_sec.
    if !chromium_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("s.wav");
    wav(&w, 2.0);
    let html = render_preview_page(&TrackPreview {
        title: "seek".into(),
        score: song("seek", 0),
        audio: Audio::from_wav_file(&w, dir.path(), EmbedMode::Always).unwrap(),
        downloads: vec![],
    })
    .replace(
        "</body>",
        r#"<script>
var a = document.querySelector("audio");
function go() {
  // Media events do not run under headless virtual time: set the position and send the
  // timeupdate the browser would send, so the page's own handler moves the playhead.
  a.currentTime = 1.25;
  a.dispatchEvent(new Event("timeupdate"));
  var h = document.querySelector(".playhead");
  document.getElementById("selftest").setAttribute("data-playhead", h.getAttribute("x1"));
}
if (a.readyState >= 1) { go(); } else { a.addEventListener("loadedmetadata", go); }
</script></body>"#,
    );
    let page = dir.path().join("seek.html");
    std::fs::write(&page, &html).unwrap();
    let (dom, _) = chromium(
        &page,
        &["--dump-dom".into(), "--virtual-time-budget=5000".into()],
    );
    let svg_attr = |name: &str| -> f64 {
        let key = format!("{name}=\"");
        let at = html.find(&key).unwrap() + key.len();
        html[at..at + html[at..].find('"').unwrap()]
            .parse()
            .unwrap()
    };
    let want = svg_attr("data-plot-x") + 1.25 * svg_attr("data-px-per-sec");
    let got: f64 = selftest_attr(&dom, "data-playhead").parse().unwrap();
    assert!((got - want).abs() < 0.01, "playhead at {got}, want {want}");
    assert_eq!(selftest_attr(&dom, "data-errors"), "");
}

#[test]
fn auto_embedding_follows_the_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.wav");
    wav(&small, 1.0);
    assert!(matches!(
        Audio::from_wav_file(&small, dir.path(), EmbedMode::Auto).unwrap(),
        Audio::Embedded(_)
    ));
    let big = dir.path().join("big.wav");
    wav(&big, 100.0); // 4.4 MB > 4 MiB
    assert_eq!(
        Audio::from_wav_file(&big, dir.path(), EmbedMode::Auto).unwrap(),
        Audio::Linked("big.wav".into())
    );
    let not_wav = dir.path().join("fake.wav");
    std::fs::write(&not_wav, b"hello").unwrap();
    let e = Audio::from_wav_file(&not_wav, dir.path(), EmbedMode::Always)
        .unwrap_err()
        .to_string();
    assert!(e.contains("fake.wav") && e.contains("WAVE"), "{e}");
    let e = Audio::from_wav_file(&dir.path().join("none.wav"), dir.path(), EmbedMode::Auto)
        .unwrap_err()
        .to_string();
    assert!(e.contains("none.wav"), "{e}");
}

#[test]
fn interpolate_writes_an_album_page_that_loads() {
    // `nesmm interpolate` (bundled VAE) writes index.html: one track per step, WAVs linked.
    if !chromium_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (
        dir.path().join("a.seprsco.pkl"),
        dir.path().join("b.seprsco.pkl"),
    );
    nesmm::formats::save_score(&song("a", 0), &a).unwrap();
    nesmm::formats::save_score(&song("b", 1), &b).unwrap();
    let out = dir.path().join("interp");
    let st = Command::new(env!("CARGO_BIN_EXE_nesmm"))
        .arg("interpolate")
        .arg(&a)
        .arg(&b)
        .args(["--steps", "3", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let mut marks = Vec::new();
    let mut secs = Vec::new();
    for i in 0..3 {
        let score =
            nesmm::formats::load_score(&out.join(format!("interp-{i:02}.seprsco.pkl"))).unwrap();
        marks.push(note_spans(&score).len());
        let r = hound::WavReader::open(out.join(format!("interp-{i:02}.wav"))).unwrap();
        secs.push(r.duration() as f64 / r.spec().sample_rate as f64);
    }
    check_page(
        &out.join("index.html"),
        &marks,
        &secs,
        "preview-interpolation.png",
    );
}

#[test]
fn build_writes_an_album_page_that_loads() {
    // `nesmm build a.mid b.mid c.seprsco.pkl -o x.nes` writes x.html beside the ROM: one track per
    // song, audio rendered for the ROM's region (embedded by default for short songs; linked
    // x-01.wav, ... with --embed never), and a link to the ROM.
    if !chromium_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let songs = [
        dir.path().join("intro.mid"),
        dir.path().join("level 1.mid"),
        dir.path().join("boss.seprsco.pkl"),
    ];
    for (i, p) in songs.iter().enumerate() {
        nesmm::formats::save_score(&song(&format!("s{i}"), i as u8), p).unwrap();
    }
    let scores: Vec<Score> = songs
        .iter()
        .map(|p| nesmm::formats::load_score(p).unwrap())
        .collect();
    let marks: Vec<usize> = scores.iter().map(|s| note_spans(s).len()).collect();
    assert!(marks.windows(2).all(|w| w[0] != w[1]), "{marks:?}");
    for (pal, embed, shot) in [
        (false, "auto", "preview-build-album.png"),
        (true, "never", "preview-build-album-pal-linked.png"),
    ] {
        let rom = dir.path().join(format!("out/album-{embed}.nes"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_nesmm"));
        cmd.arg("build").args(&songs).arg("-o").arg(&rom);
        cmd.args(["--title", "My Album", "--embed", embed]);
        if pal {
            cmd.arg("--pal");
        }
        let st = cmd.output().unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
        let page = rom.with_extension("html");
        let html = std::fs::read_to_string(&page).unwrap();
        assert!(html.contains("<title>My Album</title>"));
        assert_eq!(
            html.matches(&format!("href=\"album-{embed}.nes\"")).count(),
            3,
            "ROM link on every track"
        );
        let linked: Vec<PathBuf> = (1..=3)
            .map(|i| dir.path().join(format!("out/album-{embed}-{i:02}.wav")))
            .collect();
        assert_eq!(
            html.matches("data:audio/wav;base64,").count(),
            if embed == "auto" { 3 } else { 0 }
        );
        assert_eq!(linked.iter().all(|w| w.is_file()), embed == "never");
        let region = if pal {
            nesmm::Region::Pal
        } else {
            nesmm::Region::Ntsc
        };
        let secs: Vec<f64> = scores
            .iter()
            .map(|s| {
                let opts = nesmm::compile::CompileOptions {
                    region,
                    ..Default::default()
                };
                nesmm::compile::compile(s, &opts).unwrap().duration_secs()
            })
            .collect();
        check_page(&page, &marks, &secs, shot);
    }
}
