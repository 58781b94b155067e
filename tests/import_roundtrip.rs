//! NES-MDB songs out and back in: score -> NSF (our builder) -> NSF import, and score -> VGM ->
//! VGM import, must give the same score. A sample runs always (when the data is present); every
//! song is an ignored test (`cargo test --test import_roundtrip -- --ignored`).

#[path = "common/skip.rs"]
mod skip;

use nesmm::compile::{compile, CompileOptions};
use nesmm::formats::nesmdb::{self, ScoreKind, Split};
use nesmm::formats::{load_score_with, save_score, ImportOptions};
use nesmm::rom::nsf::{build_nsf, NsfOptions};
use nesmm::{Region, Score};

/// The exprsco songs whose index passes `keep`, or None without the data.
fn songs(keep: impl Fn(usize) -> bool) -> Option<Vec<Score>> {
    let Some(path) = nesmdb::archive_path(ScoreKind::Exprsco) else {
        skip::skip("NES-MDB not found (set NESMDB_DIR)");
        return None;
    };
    let mut out = Vec::new();
    let mut i = 0;
    nesmdb::for_each_song(&path, &Split::ALL, |song| {
        if keep(i) {
            out.push(song.score);
        }
        i += 1;
        Ok(())
    })
    .expect("NES-MDB loads");
    Some(out)
}

/// The score without its trailing all-rest frames (an imported NSF ends at its last sound).
fn trimmed(s: &Score) -> Vec<[nesmm::Cell; 4]> {
    let end = s
        .frames
        .iter()
        .rposition(|f| f.iter().any(|c| !c.is_rest()))
        .map_or(0, |l| l + 1);
    s.frames[..end].to_vec()
}

/// Between the wanted `a` and the imported `b`, over `a`'s length: cells that agree as music
/// (a rest for a rest, a sounding cell equal in note, velocity and timbre; a rest's timbre is
/// only the duty its registers were left at), notes equal, and all cells.
fn agreement(a: &[[nesmm::Cell; 4]], b: &[[nesmm::Cell; 4]]) -> (usize, usize, usize) {
    let total = a.len() * 4;
    let (mut cells, mut notes) = (0, 0);
    for (fa, fb) in a.iter().zip(b) {
        for v in 0..4 {
            let same = if fa[v].is_rest() {
                fb[v].is_rest()
            } else {
                fa[v] == fb[v]
            };
            cells += usize::from(same);
            notes += usize::from(fa[v].note == fb[v].note);
        }
    }
    (cells, notes, total)
}

fn nsf_round_trip(songs: &[Score]) {
    let dir = tempfile::tempdir().unwrap();
    let (mut cells, mut notes, mut total) = (0, 0, 0);
    for s in songs {
        let stream = compile(s, &CompileOptions::default()).unwrap();
        let nsf = build_nsf(&[stream], &NsfOptions::default()).unwrap();
        let path = dir.path().join("song.nsf");
        std::fs::write(&path, nsf.nsf.to_bytes().unwrap()).unwrap();
        let opts = ImportOptions {
            track: Some(1),
            seconds: Some(s.duration_secs() + 3.0),
        };
        let want = trimmed(s);
        if want.is_empty() {
            // A song of rests only: the import refuses a silent track.
            let e = load_score_with(&path, &opts).unwrap_err().to_string();
            assert!(e.contains("makes no sound"), "{}: {e}", s.name);
            continue;
        }
        let back = load_score_with(&path, &opts).unwrap();
        assert_eq!(back.score.len(), want.len(), "{}: {:?}", s.name, back.notes);
        let (c, n, t) = agreement(&want, &back.score.frames);
        assert_eq!((c, n), (t, t), "{}: cells, notes equal of {t}", s.name);
        (cells, notes, total) = (cells + c, notes + n, total + t);
    }
    println!(
        "NSF round trip, {} songs: notes {notes}/{total}, cells {cells}/{total}",
        songs.len()
    );
}

fn vgm_round_trip(songs: &[Score]) {
    let dir = tempfile::tempdir().unwrap();
    let (mut cells, mut total) = (0, 0);
    for s in songs {
        for name in ["song.vgm", "song.vgz"] {
            let path = dir.path().join(name);
            save_score(s, &path).unwrap();
            let back = load_score_with(&path, &ImportOptions::default()).unwrap();
            assert_eq!(back.score.len(), s.len(), "{name} {}", s.name);
            let (c, _, t) = agreement(&s.frames, &back.score.frames);
            assert_eq!(c, t, "{name} {}: cells equal in {c} of {t}", s.name);
            (cells, total) = (cells + c, total + t);
        }
    }
    println!(
        "VGM round trip, {} songs: cells {cells}/{total}",
        songs.len()
    );
}

#[test]
fn nesmdb_sample_round_trips_through_nsf() {
    if let Some(songs) = songs(|i| i % 661 == 7) {
        nsf_round_trip(&songs);
    }
}

#[test]
fn nesmdb_sample_round_trips_through_vgm_exactly() {
    if let Some(songs) = songs(|i| i % 661 == 7) {
        vgm_round_trip(&songs);
    }
}

#[test]
#[ignore = "every NES-MDB song (5,278): minutes"]
fn nesmdb_all_round_trip_through_nsf() {
    if let Some(songs) = songs(|_| true) {
        nsf_round_trip(&songs);
    }
}

#[test]
#[ignore = "every NES-MDB song (5,278): minutes"]
fn nesmdb_all_round_trip_through_vgm_exactly() {
    if let Some(songs) = songs(|_| true) {
        vgm_round_trip(&songs);
    }
}

#[test]
fn pal_nsf_round_trips() {
    let Some(songs) = songs(|i| i == 100) else {
        return;
    };
    let s = &songs[0];
    let copts = CompileOptions {
        region: Region::Pal,
        ..Default::default()
    };
    let nsf = build_nsf(
        &[compile(s, &copts).unwrap()],
        &NsfOptions {
            region: Region::Pal,
            ..Default::default()
        },
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pal.nsfe");
    std::fs::write(&path, nsf.nsfe().to_bytes().unwrap()).unwrap();
    let back = load_score_with(&path, &ImportOptions::default()).unwrap();
    let want = trimmed(s);
    let (_, n, t) = agreement(&want, &back.score.frames);
    assert_eq!((back.score.len(), n), (want.len(), t), "{:?}", back.notes);
}
