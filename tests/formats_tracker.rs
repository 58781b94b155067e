//! FamiTracker and FamiStudio text: score -> text -> score exactly (synthetic songs and an
//! NES-MDB sample; the whole archive is an ignored test), every export read by the independent
//! reader in `tracker_check`, bad input named by line and column, dropped content listed, and
//! the CLI path from a pickle to a tracker text and back to a ROM.

#[path = "common/skip.rs"]
mod skip;

mod tracker_check;

use nesmm::formats::famistudio::write_famistudio;
use nesmm::formats::famitracker::{arrange, read_famitracker, write_famitracker};
use nesmm::formats::nesmdb::{self, ScoreKind};
use nesmm::formats::pickle::{read_pickle, write_pickle, PickleKind};
use nesmm::score::{Cell, Score};
use std::io::Read;
use std::path::Path;
use std::process::Command;

fn cell(note: u8, velocity: u8, timbre: u8) -> Cell {
    Cell {
        note,
        velocity,
        timbre,
    }
}

/// A song with every feature: decaying and flat notes, duty sweeps, noise modes, velocity 0,
/// repeats (patterns to reuse), a loop point inside a pattern.
fn synthetic(frames: usize, loop_frame: Option<usize>) -> Score {
    let mut s = Score::new("synthetic \"test\"", 24.0);
    s.expressive = true;
    s.loop_frame = loop_frame;
    let env = [15u8, 13, 11, 10, 9, 9, 8, 8];
    for i in 0..frames {
        let bar = (i / 16) % 4;
        let k = i % 8;
        let mut f = [Cell::REST; 4];
        if k < 6 {
            f[0] = cell(60 + [0, 4, 7, 4][bar] as u8, env[k], [2, 2, 1, 0][k % 4]);
        }
        f[1] = cell(
            48 + (i / 8 % 3) as u8,
            if i % 16 == 5 { 0 } else { 9 - (k as u8) },
            1,
        );
        if i % 32 < 24 {
            f[2] = cell(36 + (i / 32 % 2) as u8 * 5, 0, 0);
        }
        if k < 3 {
            f[3] = cell([3, 12, 16][k], [12, 6, 2][k], (i / 8 % 2) as u8);
        }
        s.frames.push(f);
    }
    s
}

fn roundtrip(score: &Score) -> Score {
    let (text, warnings) = write_famitracker(score).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let back = read_famitracker(text.as_bytes(), Path::new("t.txt")).unwrap();
    assert!(back.dropped.is_empty(), "{:?}", back.dropped);
    back.score
}

/// Score triples of a song.
fn triples(s: &Score) -> Vec<tracker_check::Triple> {
    s.frames
        .iter()
        .map(|f| f.map(|c| (c.note, c.velocity, c.timbre)))
        .collect()
}

/// Checks one song through both texts; `Err` says what differed.
fn check_song(score: &Score) -> Result<bool, String> {
    let (text, warnings) = write_famitracker(score).map_err(|e| e.to_string())?;
    let back =
        read_famitracker(text.as_bytes(), Path::new("song.txt")).map_err(|e| e.to_string())?;
    let (independent, independent_loop) = tracker_check::read_famitracker(&text)?;
    let (fs_text, _) = write_famistudio(score).map_err(|e| e.to_string())?;
    let (fs_notes, fs_loop) = tracker_check::read_famistudio(&fs_text)?;
    if !warnings.is_empty() {
        // Octave moves on the triangle: not exact by design; the texts must still parse.
        return Ok(false);
    }
    let frame = |a: &[tracker_check::Triple], b: &[tracker_check::Triple]| {
        a.iter()
            .zip(b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len()))
    };
    if back.score.frames != score.frames {
        let i = frame(&triples(&back.score), &triples(score));
        return Err(format!(
            "our reader differs at frame {i} of {}: {:?} != {:?} (len {})",
            score.len(),
            triples(&back.score).get(i),
            triples(score).get(i),
            back.score.len()
        ));
    }
    if independent != triples(score) {
        return Err(format!(
            "independent reader differs at frame {}",
            frame(&independent, &triples(score))
        ));
    }
    if fs_notes != score.note_matrix() {
        return Err("FamiStudio notes differ".into());
    }
    let want_loop = score.loop_frame;
    if back.score.loop_frame != want_loop || independent_loop != want_loop || fs_loop != want_loop {
        return Err(format!(
            "loop {:?} / {independent_loop:?} / {fs_loop:?}, want {want_loop:?}",
            back.score.loop_frame
        ));
    }
    Ok(true)
}

#[test]
fn synthetic_songs_round_trip_exactly_through_both_readers() {
    for (frames, loop_frame) in [
        (200, None),
        (200, Some(37)),
        (1000, Some(0)),
        (5, None),
        (64, Some(63)),
    ] {
        let s = synthetic(frames, loop_frame);
        assert_eq!(check_song(&s), Ok(true), "{frames} {loop_frame:?}");
        let back = roundtrip(&s);
        assert_eq!(back.name, s.name);
        assert_eq!(back.rate, 24.0);
        assert!(back.expressive);
    }
}

#[test]
fn the_export_has_shaped_instruments_reused_patterns_and_the_loop_as_bxx() {
    let s = synthetic(512, Some(64));
    let a = arrange(&s).unwrap();
    // Instruments beyond the flat one, with volume macros that move (found by clustering).
    assert!(a.instruments.len() >= 3, "{:?}", a.instruments);
    assert!(a
        .instruments
        .iter()
        .any(|i| i.volume.values.windows(2).any(|w| w[0] != w[1])));
    assert!(a.instruments.iter().any(|i| i.duty.is_some()));
    // The 64-frame figure repeats: far fewer patterns than frames.
    for ch in &a.channels {
        assert!(
            ch.patterns.len() * 2 <= ch.order.len(),
            "{} patterns for {} frames",
            ch.patterns.len(),
            ch.order.len()
        );
    }
    let (text, _) = write_famitracker(&s).unwrap();
    let loop_target = a.loop_frame.unwrap();
    assert!(
        text.contains(&format!("B{loop_target:02X}")),
        "no Bxx to the loop frame"
    );
    assert!(
        text.contains("TRACK 64 1 60 ") || text.contains(" 1 60 \""),
        "speed 1 tempo 60"
    );
    // No-loop songs stop with C00.
    let (text, _) = write_famitracker(&synthetic(100, None)).unwrap();
    let is_jump =
        |t: &str| t.len() == 3 && t.starts_with('B') && t.as_bytes()[1].is_ascii_hexdigit();
    assert!(text.contains(" C00") && !text.split([' ', '\n']).any(is_jump));
}

#[test]
fn triangle_c8_is_written_an_octave_down_with_a_warning() {
    let mut s = synthetic(40, None);
    s.frames[3][2] = cell(108, 0, 0);
    let (text, warnings) = write_famitracker(&s).unwrap();
    assert!(warnings.iter().any(|w| w.contains("C8")), "{warnings:?}");
    assert!(text.contains("C-7 00"), "triangle C8 as FamiTracker C-7");
    tracker_check::read_famitracker(&text).unwrap();
}

/// NES-MDB exprsco songs whose archive index passes `keep`.
fn nesmdb_songs(mut keep: impl FnMut(usize) -> bool) -> Option<Vec<Score>> {
    let Some(archive) = nesmdb::archive_path(ScoreKind::Exprsco) else {
        skip::skip("NES-MDB exprsco archive not found (set NESMDB_DIR)");
        return None;
    };
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(&archive).unwrap());
    let mut tar = tar::Archive::new(gz);
    let mut out = Vec::new();
    let mut index = 0;
    for e in tar.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e.path().unwrap().to_string_lossy().into_owned();
        if !path.ends_with(".pkl") {
            continue;
        }
        if keep(index) {
            let mut b = Vec::new();
            e.read_to_end(&mut b).unwrap();
            let mut score = read_pickle(&b, Path::new(&path)).unwrap();
            score.name = path.rsplit('/').next().unwrap().to_string();
            out.push(score);
        }
        index += 1;
    }
    Some(out)
}

/// Songs exact, exact but for a moved triangle C8, refused as longer than FamiTracker 0.4.6
/// holds, and failures.
fn check_all(songs: &[Score]) -> (usize, usize, usize, Vec<String>) {
    let (mut exact, mut moved, mut too_long, mut failed) = (0, 0, 0, Vec::new());
    for s in songs {
        match check_song(s) {
            Ok(true) => exact += 1,
            Ok(false) => moved += 1,
            Err(e) if e.contains("FamiTracker holds at most 128 frames") => too_long += 1,
            Err(e) => failed.push(format!("{}: {e}", s.name)),
        }
    }
    (exact, moved, too_long, failed)
}

#[test]
fn nesmdb_sample_round_trips_exactly() {
    let Some(songs) = nesmdb_songs(|i| i % 260 == 3) else {
        return;
    };
    assert!(songs.len() >= 20, "{}", songs.len());
    let (exact, moved, too_long, failed) = check_all(&songs);
    println!(
        "{exact} exact, {moved} with triangle C8 moved, of {}",
        songs.len()
    );
    assert!(failed.is_empty(), "{failed:#?}");
    assert_eq!(exact, songs.len(), "{moved} moved, {too_long} too long");
    // What a musician gets: notes on shaped instruments, volume writes, pattern reuse.
    let (mut notes, mut shaped, mut volume_writes, mut patterns, mut frames) = (0, 0, 0, 0, 0);
    for s in &songs {
        let a = arrange(s).unwrap();
        for ch in [0, 1, 3].map(|v| &a.channels[v]) {
            patterns += ch.patterns.len();
            frames += ch.order.len();
            for &p in &ch.order {
                for c in &ch.patterns[p] {
                    notes += usize::from(c.instrument.is_some());
                    shaped += usize::from(c.instrument.is_some_and(|i| i != 0));
                    volume_writes += usize::from(c.volume.is_some());
                }
            }
        }
    }
    println!(
        "pulse/noise: {shaped} of {notes} notes on a shaped instrument, {:.2} volume column \
         writes per note, {patterns} patterns for {frames} frames",
        volume_writes as f64 / notes as f64
    );
    assert!(shaped * 2 > notes && patterns < frames);
}

#[test]
#[ignore = "reads all 5,278 songs: about 2 minutes"]
fn nesmdb_whole_archive_round_trips() {
    let Some(songs) = nesmdb_songs(|_| true) else {
        return;
    };
    let (exact, moved, too_long, failed) = check_all(&songs);
    println!(
        "NES-MDB exprsco: {exact} exact, {moved} with triangle C8 moved an octave, {too_long} \
         refused as longer than 128 x 256 rows, {} failed, of {}",
        failed.len(),
        songs.len()
    );
    for f in failed.iter().take(20) {
        println!("  {f}");
    }
    assert!(failed.is_empty());
    assert!(exact + moved + too_long == songs.len() && too_long <= 1 && moved <= 7);
}

fn read_error(text: &str) -> String {
    read_famitracker(text.as_bytes(), Path::new("bad.txt"))
        .unwrap_err()
        .to_string()
}

/// A valid export to break in one place.
fn good_text() -> String {
    write_famitracker(&synthetic(40, Some(8))).unwrap().0
}

#[test]
fn bad_input_is_named_by_line_and_column() {
    let good = good_text();
    let line_of = |needle: &str| good.lines().position(|l| l.starts_with(needle)).unwrap() + 1;
    let cases: Vec<(String, usize, usize, &str)> = vec![
        (
            good.replace("EXPANSION 0", "EXPANSION 1"),
            line_of("EXPANSION"),
            11,
            "expansion chip",
        ),
        (
            good.replace("VIBRATO 1", "GROOVE 0 2 : 6 6"),
            line_of("VIBRATO"),
            1,
            "unknown command 'GROOVE'",
        ),
        (
            good.replace("VIBRATO 1", "INSTVRC6 0 -1 -1 -1 -1 -1 \"x\""),
            line_of("VIBRATO"),
            1,
            "expansion chip",
        ),
    ];
    for (text, line, column, what) in cases {
        let e = read_error(&text);
        assert!(
            e.contains("bad.txt")
                && e.contains(&format!("line {line}, column {column}"))
                && e.contains(what),
            "{e}"
        );
    }
    // Bad row syntax, each in the first row of the first pattern.
    let row = good.lines().position(|l| l.starts_with("ROW 00")).unwrap();
    let original = good.lines().nth(row).unwrap().to_string();
    let first_cell_end = original[9..].find(" : ").unwrap() + 9;
    let mut first_cell: Vec<&str> = original[9..first_cell_end].split(' ').collect();
    first_cell.remove(2);
    let without_volume = format!(
        "{}{}{}",
        &original[..9],
        first_cell.join(" "),
        &original[first_cell_end..]
    );
    for (bad, column, what) in [
        (
            format!("{}X{}", &original[..9], &original[10..]),
            10,
            "note 'X",
        ),
        (
            format!("{}C-9{}", &original[..9], &original[12..]),
            10,
            "note 'C-9",
        ),
        (without_volume, 0, "found"),
        (original.replacen(" ... ", " Q1 ", 1), 0, "effect 'Q1'"),
        (format!("{original} : ... .. . ..."), 1, "5 channels"),
        (
            original.replacen("ROW 00", "ROW FF", 1),
            5,
            "past the pattern length",
        ),
        (original.replacen("ROW 00 :", "ROW 00", 1), 8, "':'"),
    ] {
        let text: Vec<String> = good
            .lines()
            .enumerate()
            .map(|(i, l)| if i == row { bad.clone() } else { l.to_string() })
            .collect();
        let e = read_error(&(text.join("\n") + "\n"));
        assert!(
            e.contains(&format!("line {}, column", row + 1)) && e.contains(what),
            "{bad}\n{e}"
        );
        if column > 0 {
            assert!(e.contains(&format!("column {column}:")), "{e}");
        }
    }
    let e =
        read_error("# FamiTracker text export 0.4.2\nTRACK 64 1 60 \"x\"\nCOLUMNS : 1 1 1 1 1\n");
    assert!(e.contains("no ORDER"), "{e}");
}

#[test]
fn what_a_score_cannot_hold_is_listed_as_dropped() {
    let good = good_text();
    let row = good.lines().position(|l| l.starts_with("ROW 01")).unwrap();
    let text: Vec<String> = good
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i != row {
                return l.to_string();
            }
            // pulse 1: a vibrato in its duty column; DPCM: a note.
            let mut cells: Vec<String> = l.split(" : ").map(String::from).collect();
            cells[1] = format!("{} 443 ...", &cells[1][..8]);
            cells[5] = "C-3 00 . ...".into();
            cells.join(" : ")
        })
        .collect();
    let text = text
        .join("\n")
        .replace("# DPCM samples", "# DPCM samples\nDPCMDEF 0 16 \"kick\"");
    let import = read_famitracker(text.as_bytes(), Path::new("x.txt")).unwrap();
    let d = import.dropped.join("; ");
    assert!(
        d.contains("1 4xy vibrato") && d.contains("1 DPCM notes") && d.contains("DPCM sample"),
        "{d}"
    );
}

#[test]
fn cli_converts_to_tracker_text_and_builds_the_edited_song() {
    let dir = tempfile::tempdir().unwrap();
    let pkl = dir.path().join("song.exprsco.pkl");
    std::fs::write(
        &pkl,
        write_pickle(&synthetic(300, Some(40)), PickleKind::Exprsco),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_nesmm"))
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        (
            o.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        )
    };
    let (ok, out) = run(&[
        "convert",
        "song.exprsco.pkl",
        "song.txt",
        "--to",
        "famitracker",
    ]);
    assert!(ok, "{out}");
    let (ok, out) = run(&[
        "convert",
        "song.exprsco.pkl",
        "song.fms.txt",
        "--to",
        "famistudio",
    ]);
    assert!(ok, "{out}");
    assert!(std::fs::read_to_string(dir.path().join("song.fms.txt"))
        .unwrap()
        .starts_with("Project "));
    // "Edit" the song in a tracker: change the first pulse note, then read it back and build it.
    let text = std::fs::read_to_string(dir.path().join("song.txt")).unwrap();
    let edited = text.replacen("ROW 00 : C-3", "ROW 00 : D-3", 1);
    assert_ne!(edited, text);
    std::fs::write(dir.path().join("edited.txt"), edited).unwrap();
    let (ok, out) = run(&["convert", "edited.txt", "back.exprsco.pkl"]);
    assert!(ok, "{out}");
    let back = read_pickle(
        &std::fs::read(dir.path().join("back.exprsco.pkl")).unwrap(),
        Path::new("b"),
    )
    .unwrap();
    assert_eq!(back.frames[0][0].note, 62);
    let original = synthetic(300, Some(40));
    assert_eq!(back.len(), original.len());
    for (b, o) in back.frames.iter().zip(&original.frames) {
        // Pattern 00 may be reused: each use now plays D-3 where it played C-3.
        let moved = Cell { note: 62, ..o[0] };
        assert!(
            b[0] == o[0] || (o[0].note == 60 && b[0] == moved),
            "{b:?} {o:?}"
        );
        assert_eq!(b[1..], o[1..]);
    }
    let (ok, out) = run(&["info", "edited.txt"]);
    assert!(
        ok && out.contains("300") && out.contains("FamiTracker text"),
        "{out}"
    );
    let (ok, out) = run(&["render", "edited.txt", "-o", "edited.wav"]);
    assert!(ok && dir.path().join("edited.wav").exists(), "{out}");
    let (ok, out) = run(&["build", "edited.txt", "-o", "edited.nes", "--no-preview"]);
    assert!(ok, "{out}");
    assert!(
        std::fs::metadata(dir.path().join("edited.nes"))
            .unwrap()
            .len()
            > 16_000
    );
    // A stream dump is still not a score; a FamiTracker file with a bad line names it.
    std::fs::write(
        dir.path().join("bad.txt"),
        text.replacen("ROW 00 : C-3", "ROW 00 : C-9", 1),
    )
    .unwrap();
    let (ok, out) = run(&["convert", "bad.txt", "x.exprsco.pkl"]);
    assert!(
        !ok && out.contains("bad.txt") && out.contains("line ") && out.contains("column 10"),
        "{out}"
    );
    assert!(!dir.path().join("x.exprsco.pkl").exists());
}

#[test]
fn songs_a_module_cannot_hold_are_refused_with_the_reason() {
    let mut long = Score::new("long", 24.0);
    long.frames = vec![[Cell::REST; 4]; 128 * 256 + 1];
    let e = write_famitracker(&long).unwrap_err().to_string();
    assert!(
        e.contains("'long'") && e.contains("at most 128 frames"),
        "{e}"
    );
    long.frames.truncate(128 * 256);
    assert!(write_famitracker(&long).is_ok());
    let mut odd_rate = synthetic(10, None);
    odd_rate.rate = 25.0; // tempo 62.5: no whole tempo plays it
    let e = write_famistudio(&odd_rate).unwrap_err().to_string();
    assert!(e.contains("25 Hz") && e.contains("tempo"), "{e}");
    odd_rate.rate = 30.0; // tempo 75
    let (text, _) = write_famitracker(&odd_rate).unwrap();
    let back = read_famitracker(text.as_bytes(), Path::new("x.txt")).unwrap();
    assert_eq!(
        (back.score.rate, back.score.frames),
        (30.0, odd_rate.frames)
    );
}
