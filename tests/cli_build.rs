//! `nesmm build` as a user runs it.

#[path = "common/skip.rs"]
mod skip;

use nesmm::formats::save_score;
use nesmm::score::{Cell, Score, Voice};
use std::process::Command;

fn nesmm() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nesmm"))
}

fn score(name: &str, frames: usize) -> Score {
    let mut s = Score::new(name, 24.0);
    s.expressive = true;
    for i in 0..frames {
        let mut f = [Cell::REST; 4];
        f[0] = Cell {
            note: 60 + (i % 12) as u8,
            velocity: 15 - (i % 8) as u8,
            timbre: 2,
        };
        f[2] = Cell::from_note(Voice::Triangle, 48 + (i % 5) as u8);
        s.frames.push(f);
    }
    s
}

#[test]
fn build_writes_a_rom_and_reports_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.exprsco.pkl");
    let b = dir.path().join("b.exprsco.pkl");
    save_score(&score("a", 200), &a).unwrap();
    save_score(&score("b", 90), &b).unwrap();
    let out = dir.path().join("roms/x.nes");
    let o = nesmm()
        .args(["build", a.to_str().unwrap(), b.to_str().unwrap(), "-o"])
        .arg(&out)
        .args(["--pal", "--loop", "--title", "Album"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        text.contains("NROM (mapper 0)") && text.contains("PAL"),
        "{text}"
    );
    assert!(text.contains("bytes of song data"), "{text}");
    // Each song's line gives its worst music_update frame, which stays under the 750 goal.
    let worst: Vec<u32> = text
        .lines()
        .filter_map(|l| l.split("music_update worst ").nth(1))
        .map(|r| r.split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(worst.len(), 2, "{text}");
    assert!(worst.iter().all(|&w| (100..=750).contains(&w)), "{text}");
    let rom = std::fs::read(&out).unwrap();
    assert_eq!(&rom[0..4], b"NES\x1A");
    assert_eq!(rom[12], 1, "PAL timing byte");
    assert_eq!(rom.len(), 16 + 32768 + 8192, "header, PRG, CHR-ROM (font)");
    let title = b"Album\0";
    assert!(rom.windows(title.len()).any(|w| w == title), "title stored");
}

#[test]
fn build_errors_name_the_file_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.nes");
    let missing = dir.path().join("missing.exprsco.pkl");
    let o = nesmm()
        .args(["build", missing.to_str().unwrap(), "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("missing.exprsco.pkl"), "{err}");
    assert!(!out.exists(), "no ROM left behind");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no temp file"
    );
}

fn run_ok(args: &[&std::ffi::OsStr]) {
    let o = nesmm().args(args).output().unwrap();
    assert!(
        o.status.success(),
        "nesmm {args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn loop_flags_reach_build_nsf_and_export_alike() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    save_score(&score("a", 120), &p("a.exprsco.pkl")).unwrap();
    let song = p("a.exprsco.pkl");
    for (flag, tag) in [("--loop", "l"), ("--no-loop", "n")] {
        let rom = p(&format!("{tag}.nes"));
        let nsf = p(&format!("{tag}.nsf"));
        run_ok(&[
            "build".as_ref(),
            song.as_os_str(),
            flag.as_ref(),
            "--no-preview".as_ref(),
            "-o".as_ref(),
            rom.as_os_str(),
        ]);
        run_ok(&[
            "nsf".as_ref(),
            song.as_os_str(),
            flag.as_ref(),
            "-o".as_ref(),
            nsf.as_os_str(),
        ]);
        let project = p(&format!("{tag}-project"));
        run_ok(&[
            "export-ca65".as_ref(),
            song.as_os_str(),
            flag.as_ref(),
            "-o".as_ref(),
            project.as_os_str(),
        ]);
        // The exported project, built by cc65, is the ROM `build` wrote with the same flag.
        let have_make = ["ca65", "ld65", "make"]
            .iter()
            .all(|t| Command::new(t).arg("--version").output().is_ok());
        if have_make {
            let o = Command::new("make")
                .arg("-C")
                .arg(&project)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let made = std::fs::read(project.join(nesmm::rom::export::EXPORT_ROM_NAME)).unwrap();
            assert!(
                made == std::fs::read(&rom).unwrap(),
                "{flag}: export-ca65 + make != build"
            );
        } else {
            skip::skip("the make step: ca65, ld65 or make not installed");
        }
    }
    let read = |n: &str| std::fs::read(p(n)).unwrap();
    assert_ne!(
        read("l.nes"),
        read("n.nes"),
        "--loop and --no-loop differ in the ROM"
    );
    assert_ne!(
        read("l.nsf"),
        read("n.nsf"),
        "--loop and --no-loop differ in the NSF"
    );
    // A stream dump ends as it was compiled: the flags are refused for it, naming the file.
    let dump = p("a.txt");
    run_ok(&[
        "compile".as_ref(),
        song.as_os_str(),
        "--stream-out".as_ref(),
        dump.as_os_str(),
    ]);
    let o = nesmm()
        .args([
            "nsf".as_ref(),
            dump.as_os_str(),
            "--loop".as_ref(),
            "-o".as_ref(),
        ])
        .arg(p("d.nsf"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("a.txt") && err.contains("stream dump"),
        "{err}"
    );
    assert!(!p("d.nsf").exists());
}

#[test]
fn build_takes_stream_dumps_as_nsf_does() {
    use nesmm::rom::{build_rom, BuildOptions};
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    save_score(&score("a", 96), &p("a.exprsco.pkl")).unwrap();
    run_ok(&[
        "compile".as_ref(),
        p("a.exprsco.pkl").as_os_str(),
        "--pal".as_ref(),
        "--stream-out".as_ref(),
        p("a.txt").as_os_str(),
    ]);
    run_ok(&[
        "build".as_ref(),
        p("a.txt").as_os_str(),
        "--pal".as_ref(),
        "--embed".as_ref(),
        "never".as_ref(),
        "-o".as_ref(),
        p("d.nes").as_os_str(),
    ]);
    let text = std::fs::read_to_string(p("a.txt")).unwrap();
    let stream = nesmm::ApuStream::from_text(&text, "a.txt").unwrap();
    let opts = BuildOptions {
        region: nesmm::Region::Pal,
        ..Default::default()
    };
    let want = build_rom(std::slice::from_ref(&stream), &opts).unwrap();
    assert!(
        std::fs::read(p("d.nes")).unwrap() == want.bytes,
        "the dump's ROM"
    );
    assert!(p("d.html").is_file() && p("d-01.wav").is_file());

    // A dump plays as it was compiled: no --loop, and its own region.
    for flag in ["--loop", "--no-loop"] {
        let o = nesmm()
            .arg("build")
            .arg(p("a.txt"))
            .args(["--pal", flag, "-o"])
            .arg(p("e.nes"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        let says = "loops or stops as it was compiled";
        assert!(!o.status.success() && err.contains(says), "{flag}: {err}");
    }
    let o = nesmm()
        .arg("build")
        .arg(p("a.txt"))
        .arg("-o")
        .arg(p("e.nes"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("compiled for PAL"),
        "{err}"
    );
    assert!(!p("e.nes").exists());
}

#[test]
fn the_page_plays_the_roms_streams_in_loop_mode() {
    use nesmm::compile::{compile_songs, LoopMode};
    use nesmm::rom::{build_rom, BuildOptions};
    use nesmm::synth::{render, wav_bytes, RenderOptions};
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    let scores = [score("a", 100), score("b", 60)];
    for s in &scores {
        save_score(s, &p(&format!("{}.exprsco.pkl", s.name))).unwrap();
    }
    run_ok(&[
        "build".as_ref(),
        p("a.exprsco.pkl").as_os_str(),
        p("b.exprsco.pkl").as_os_str(),
        "--loop".as_ref(),
        "--embed".as_ref(),
        "never".as_ref(),
        "-o".as_ref(),
        p("x.nes").as_os_str(),
    ]);
    let region = nesmm::Region::Ntsc;
    let looped = compile_songs(&scores, region, LoopMode::Loop).unwrap();
    let plain = compile_songs(&scores, region, LoopMode::AsScore).unwrap();
    let rom = build_rom(&looped, &BuildOptions::default()).unwrap();
    assert!(
        std::fs::read(p("x.nes")).unwrap() == rom.bytes,
        "the ROM plays the looped streams"
    );
    let wav = |s: &nesmm::ApuStream| {
        let samples = render(
            s,
            &RenderOptions {
                sample_rate: 44_100,
            },
        );
        wav_bytes(&samples, 44_100).unwrap()
    };
    for (i, (l, a)) in looped.iter().zip(&plain).enumerate() {
        let page_wav = std::fs::read(p(&format!("x-{:02}.wav", i + 1))).unwrap();
        assert!(
            page_wav == wav(l),
            "track {i}: the page plays the ROM's stream"
        );
        assert!(
            page_wav != wav(a),
            "track {i}: the loop mode reaches the page"
        );
    }
}

#[test]
fn preview_audio_past_its_limit_is_skipped_and_the_printed_command_renders_it() {
    let dir = tempfile::tempdir().unwrap();
    // 240 frames at 24 Hz: 10 s, over a 4 s limit; 48 frames (2 s) under it.
    let long = dir.path().join("long song.exprsco.pkl");
    let short = dir.path().join("short.exprsco.pkl");
    save_score(&score("long", 240), &long).unwrap();
    save_score(&score("short", 48), &short).unwrap();
    let out = dir.path().join("x.nes");
    let o = nesmm()
        .arg("build")
        .args([&long, &short])
        .arg("-o")
        .arg(&out)
        .args(["--embed", "never", "--preview-audio-max-seconds", "4"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!dir.path().join("x-01.wav").exists(), "the long song's WAV");
    assert!(
        dir.path().join("x-02.wav").is_file(),
        "the short song's WAV"
    );
    let html = std::fs::read_to_string(dir.path().join("x.html")).unwrap();
    assert!(html.contains("Audio not rendered: 10 s"), "{html}");
    // The command the output prints for song 1, run as printed (through a shell), writes
    // the WAV the page would have linked.
    let line = text
        .lines()
        .find(|l| l.contains("song 1 (10 s)"))
        .unwrap_or_else(|| panic!("{text}"));
    let command = &line[line.find("nesmm render").unwrap()..];
    // As askama escapes HTML text.
    let escaped = command.replace('&', "&#38;").replace('\'', "&#39;");
    assert!(html.contains(&escaped), "{command} not on the page");
    let args = command.strip_prefix("nesmm ").unwrap();
    let sh = Command::new("sh")
        .arg("-c")
        .arg(format!("\"$NESMM\" {args}"))
        .env("NESMM", env!("CARGO_BIN_EXE_nesmm"))
        .output()
        .unwrap();
    assert!(
        sh.status.success(),
        "{}",
        String::from_utf8_lossy(&sh.stderr)
    );
    let wav = std::fs::read(dir.path().join("x-01.wav")).unwrap();
    // 10 s of 16-bit mono at 44.1 kHz, plus the header.
    assert!((875_000..890_000).contains(&wav.len()), "{}", wav.len());

    // Asked for: a higher limit renders it; an out-of-range limit is refused with the range.
    let o = nesmm()
        .arg("build")
        .arg(&long)
        .arg("-o")
        .arg(dir.path().join("y.nes"))
        .args(["--embed", "never", "--preview-audio-max-seconds", "11"])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(dir.path().join("y-01.wav").is_file());
    let o = nesmm()
        .arg("build")
        .arg(&long)
        .arg("-o")
        .arg(dir.path().join("z.nes"))
        .args(["--preview-audio-max-seconds", "0"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("1..=86400"), "{err}");
    assert!(!dir.path().join("z.nes").exists());
}

#[test]
fn no_advance_reaches_the_rom() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.exprsco.pkl");
    let b = dir.path().join("b.exprsco.pkl");
    save_score(&score("a", 48), &a).unwrap();
    save_score(&score("b", 30), &b).unwrap();
    let build = |name: &str, flags: &[&str]| {
        let out = dir.path().join(name);
        let o = nesmm()
            .arg("build")
            .args([&a, &b])
            .arg("-o")
            .arg(&out)
            .arg("--no-preview")
            .args(flags)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(out).unwrap()
    };
    let advance = build("advance.nes", &[]);
    let stay = build("stay.nes", &["--no-advance"]);
    // The player's code is the same size either way: only UI_ADVANCE's operand differs.
    assert_eq!(advance.len(), stay.len());
    let differ: Vec<(u8, u8)> = advance
        .iter()
        .zip(&stay)
        .filter(|(x, y)| x != y)
        .map(|(&x, &y)| (x, y))
        .collect();
    assert_eq!(differ, [(1, 0)]);
}
