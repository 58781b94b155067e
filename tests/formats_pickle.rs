//! NES-MDB pickles and the dataset loader against the real archives (skipped when absent),
//! Python's own reading of what we write, and bad input of every kind.

#[path = "common/skip.rs"]
mod skip;

use flate2::read::GzDecoder;
use nesmm::formats::nesmdb::{self, ScoreKind, Split};
use nesmm::formats::pickle::{read_pickle, write_pickle, PickleKind};
use nesmm::Score;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

fn archive(kind: ScoreKind) -> Option<PathBuf> {
    let p = nesmdb::archive_path(kind);
    if p.is_none() {
        let looked = std::env::var_os("NESMDB_DIR")
            .map(PathBuf::from)
            .or_else(nesmdb::data_dir)
            .unwrap_or_else(|| PathBuf::from("../shared/data/nesmdb"));
        skip::skip(format_args!(
            "NES-MDB not found at {looked:?} (set NESMDB_DIR)"
        ));
    }
    p
}

/// Raw bytes of the archive members whose path passes `keep`, in archive order.
fn raw_members(archive: &Path, mut keep: impl FnMut(&str) -> bool) -> Vec<(String, Vec<u8>)> {
    let gz = GzDecoder::new(std::fs::File::open(archive).unwrap());
    let mut tar = tar::Archive::new(gz);
    let mut out = Vec::new();
    for e in tar.entries().unwrap() {
        let mut e = e.unwrap();
        let p = e.path().unwrap().to_string_lossy().into_owned();
        if p.ends_with(".pkl") && keep(&p) {
            let mut b = Vec::new();
            e.read_to_end(&mut b).unwrap();
            out.push((p, b));
        }
    }
    out
}

fn counts(songs: &[nesmdb::Song]) -> [usize; 3] {
    let mut c = [0; 3];
    for s in songs {
        c[s.split as usize] += 1;
    }
    c
}

fn check_both_archives() {
    let (Some(sep), Some(exp)) = (archive(ScoreKind::Seprsco), archive(ScoreKind::Exprsco)) else {
        return;
    };
    let sep_songs = nesmdb::load(&sep, &Split::ALL).unwrap();
    assert_eq!(counts(&sep_songs), [4502, 403, 373]);
    // Sorted by split, then name.
    for w in sep_songs.windows(2) {
        assert!((w[0].split, &w[0].score.name) < (w[1].split, &w[1].score.name));
    }
    let frames: usize = sep_songs.iter().map(|s| s.score.len()).sum();
    assert_eq!(frames, 3_980_931);
    let mut by_name: HashMap<String, Vec<[u8; 4]>> = HashMap::new();
    for s in &sep_songs {
        assert!(!s.score.expressive && s.score.rate == 24.0);
        assert_eq!(s.score.source_samples.map(|n| n > 0), Some(true));
        by_name.insert(s.score.name.clone(), s.score.note_matrix());
    }
    assert_eq!(by_name.len(), 5278);
    drop(sep_songs);
    let mut seen = 0;
    let mut c = [0; 3];
    let mut last: Option<(Split, String)> = None;
    nesmdb::for_each_song(&exp, &Split::ALL, |song| {
        let key = (song.split, song.score.name.clone());
        assert!(last.as_ref() < Some(&key), "{key:?} out of order");
        last = Some(key);
        c[song.split as usize] += 1;
        assert!(song.score.expressive);
        if let Some(notes) = by_name.get(&song.score.name) {
            assert_eq!(&song.score.note_matrix(), notes, "{}", song.score.name);
            seen += 1;
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(c, [4502, 403, 373]);
    assert_eq!(seen, by_name.len());
}

/// Every song of both archives: split counts, sorted order, frame total, and
/// seprsco == exprsco[:, :, 0] for every song (about 1.5 s in the test profile).
#[test]
fn whole_archives_load_and_agree() {
    check_both_archives();
}

/// Unmodified songs written back are byte-identical to NES-MDB's files.
#[test]
fn write_back_is_byte_identical() {
    for kind in [ScoreKind::Seprsco, ScoreKind::Exprsco] {
        let Some(path) = archive(kind) else { return };
        let mut n = 0;
        let members = raw_members(&path, |_| {
            n += 1;
            n % 97 == 1
        });
        assert!(members.len() > 50);
        let mut quote_dq = 0;
        for (member, bytes) in &members {
            let score = read_pickle(bytes, Path::new(member)).unwrap();
            let again = write_pickle(&score, kind);
            assert!(again == *bytes, "{member} differs when written back");
            quote_dq += usize::from(bytes.windows(3).any(|w| w == b"\nS\""));
        }
        println!(
            "{kind:?}: {} songs identical ({quote_dq} with \"-quoted data)",
            members.len()
        );
    }
}

#[test]
fn synthetic_score_without_source_samples_round_trips() {
    let notes: Vec<[u8; 4]> = (0..1000u32)
        .map(|i| [33 + (i % 76) as u8, 0, 21 + (i % 88) as u8, (i % 17) as u8])
        .collect();
    let s = Score::from_notes("synthetic", 24.0, &notes);
    let bytes = write_pickle(&s, PickleKind::Seprsco);
    let back = read_pickle(&bytes, Path::new("synthetic.seprsco.pkl")).unwrap();
    assert_eq!(back.note_matrix(), notes);
    let nsamps = back.source_samples.unwrap();
    assert_eq!((nsamps as f64 / 44100.0 * 24.0) as usize, 1000);
}

/// Python (numpy, `pickle.load(f, encoding='latin1')`) reads what `write_pickle` writes: the
/// same rate, nsamps, shape and bytes.
#[test]
fn python_reads_written_pickles() {
    let python = Path::new("/usr/bin/python3");
    let has_numpy = python.exists()
        && std::process::Command::new(python)
            .args(["-c", "import numpy"])
            .status()
            .is_ok_and(|s| s.success());
    if !has_numpy {
        skip::skip("/usr/bin/python3 with numpy not found (apt install python3-numpy)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut written: Vec<(PathBuf, Score, PickleKind)> = Vec::new();
    // Synthetic scores with no recorded source length, odd rates, quotes and backslashes.
    let mut s = Score::from_notes(
        "synthetic",
        60.0988,
        &[
            [39, 34, 92, 7],
            [92, 39, 34, 8],
            [0, 0, 0, 0],
            [108, 33, 21, 16],
        ],
    );
    s.expressive = true;
    s.frames[0][0].timbre = 3;
    s.frames[1][3].velocity = 4;
    written.push((
        dir.path().join("a.seprsco.pkl"),
        s.clone(),
        PickleKind::Seprsco,
    ));
    written.push((dir.path().join("a.exprsco.pkl"), s, PickleKind::Exprsco));
    written.push((
        dir.path().join("empty.seprsco.pkl"),
        Score::new("empty", 24.0),
        PickleKind::Seprsco,
    ));
    for kind in [ScoreKind::Seprsco, ScoreKind::Exprsco] {
        if let Some(path) = archive(kind) {
            let mut n = 0;
            for (member, bytes) in raw_members(&path, |_| {
                n += 1;
                n % 500 == 3
            }) {
                let score = read_pickle(&bytes, Path::new(&member)).unwrap();
                let file = dir.path().join(Path::new(&member).file_name().unwrap());
                written.push((file, score, kind));
            }
        }
    }
    for (file, score, kind) in &written {
        std::fs::write(file, write_pickle(score, *kind)).unwrap();
    }
    let script = r#"
import pickle, sys, json
out = []
for name in sys.argv[1:]:
    with open(name, 'rb') as f:
        rate, nsamps, a = pickle.load(f, encoding='latin1')
    out.append({'rate': rate, 'nsamps': nsamps, 'shape': list(a.shape),
                'dtype': str(a.dtype), 'hex': a.tobytes().hex()})
print(json.dumps(out))
"#;
    let output = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .args(written.iter().map(|w| &w.0))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(seen.len(), written.len());
    let with_data = nesmdb::archive_path(ScoreKind::Seprsco).is_some();
    assert!(written.len() >= if with_data { 10 } else { 3 });
    for ((file, score, kind), py) in written.iter().zip(&seen) {
        let mut expect = String::new();
        for f in &score.frames {
            for c in f {
                expect.push_str(&format!("{:02x}", c.note));
                if *kind == PickleKind::Exprsco {
                    expect.push_str(&format!("{:02x}{:02x}", c.velocity, c.timbre));
                }
            }
        }
        let mut shape = vec![score.len() as u64, 4];
        if *kind == PickleKind::Exprsco {
            shape.push(3);
        }
        let nsamps = py["nsamps"].as_u64().unwrap();
        assert_eq!(py["rate"].as_f64(), Some(score.rate), "{file:?}");
        assert_eq!(py["dtype"], "uint8", "{file:?}");
        assert_eq!(py["shape"], serde_json::json!(shape), "{file:?}");
        assert_eq!(py["hex"].as_str(), Some(expect.as_str()), "{file:?}");
        assert_eq!((nsamps as f64 / 44100.0 * score.rate) as usize, score.len());
        if let Some(n) = score.source_samples {
            assert_eq!(nsamps, n, "{file:?}");
        }
    }
}
