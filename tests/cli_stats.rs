//! `nesmm stats --folder` and `--json`, run as the built binary: the musical statistics of a
//! folder of songs against NES-MDB test excerpts, and clear errors for a bad folder.

#[path = "common/skip.rs"]
mod skip;

use nesmm::formats::nesmdb::{self, ScoreKind};
use nesmm::Score;
use std::process::{Command, Output};

fn nesmm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nesmm"))
        .args(args)
        .output()
        .unwrap()
}

/// A 30 s song: an 8-frame pulse on P1 over a held triangle, drums every 6 frames.
fn pulse_song(name: &str) -> Score {
    let notes: Vec<[u8; 4]> = (0..720)
        .map(|t| {
            [
                if t % 8 < 4 {
                    60 + (t / 8 % 2) as u8 * 7
                } else {
                    0
                },
                0,
                45,
                if t % 6 == 0 { 4 } else { 0 },
            ]
        })
        .collect();
    Score::from_notes(name, 24.0, &notes)
}

#[test]
fn a_folder_of_songs_gets_the_musical_statistics_table_and_json() {
    let Some(archive) = nesmdb::archive_path(ScoreKind::Seprsco) else {
        skip::skip("NES-MDB not found (set NESMDB_DIR)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let songs = dir.path().join("songs");
    std::fs::create_dir(&songs).unwrap();
    for name in ["a", "b"] {
        let path = songs.join(format!("{name}.seprsco.pkl"));
        nesmm::formats::save_score(&pulse_song(name), &path).unwrap();
    }
    nesmm::formats::save_score(&pulse_song("c"), &songs.join("c.mid")).unwrap();
    std::fs::write(songs.join("notes.txt.bak"), "not a score").unwrap();
    let json = dir.path().join("stats.json");
    let o = nesmm(&[
        "stats",
        "--data",
        archive.to_str().unwrap(),
        "--folder",
        songs.to_str().unwrap(),
        "--songs",
        "10",
        "--json",
        json.to_str().unwrap(),
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        out.contains("| statistic | test split, 30 s excerpts (10 songs) |"),
        "{out}"
    );
    assert!(out.contains("(3 songs) |"), "{out}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let sets = v["sets"].as_array().unwrap();
    assert_eq!(sets.len(), 2);
    let folder = &sets[1]["stats"];
    assert_eq!(folder["songs"], 3);
    // The same song three times (two pickles and a MIDI file): a strict 8-frame beat in C...
    let beat = folder["beat_strength"]["mean"].as_f64().unwrap();
    assert!(beat > 0.9, "{beat}");
    assert_eq!(folder["key_fit"]["mean"].as_f64(), Some(1.0));
    // ...but the triangle holds one pitch for the whole 30 s.
    assert_eq!(folder["held_note_songs"]["mean"].as_f64(), Some(1.0));
}

#[test]
fn a_bad_folder_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let o = nesmm(&["stats", "--folder", dir.path().to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains(dir.path().to_str().unwrap()) && err.contains("no score files"),
        "{err}"
    );
    let bad = dir.path().join("broken.mid");
    std::fs::write(&bad, b"MThd garbage").unwrap();
    let o = nesmm(&["stats", "--folder", dir.path().to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && !err.contains("panicked"), "{err}");
    assert!(err.contains("broken.mid"), "{err}");
    let missing = dir.path().join("absent");
    let o = nesmm(&["stats", "--folder", missing.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("absent"), "{err}");
}
