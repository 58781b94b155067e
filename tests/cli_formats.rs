//! `nesmm info` and `nesmm convert`, run as the built binary.

#[path = "common/skip.rs"]
mod skip;

use nesmm::formats::nesmdb::{self, ScoreKind};
use nesmm::formats::pickle::{write_pickle, PickleKind};
use nesmm::Score;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Output};

fn nesmm(args: &[&Path]) -> Output {
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

/// The first member of `archive` whose path contains `part`.
fn member(archive: &Path, part: &str) -> Vec<u8> {
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(archive).unwrap());
    let mut tar = tar::Archive::new(gz);
    for e in tar.entries().unwrap() {
        let mut e = e.unwrap();
        if e.path().unwrap().to_string_lossy().contains(part) {
            let mut b = Vec::new();
            e.read_to_end(&mut b).unwrap();
            return b;
        }
    }
    panic!("{part} not in {archive:?}");
}

#[test]
fn info_and_convert_on_dataset_songs() {
    let (Some(sep), Some(exp)) = (
        nesmdb::archive_path(ScoreKind::Seprsco),
        nesmdb::archive_path(ScoreKind::Exprsco),
    ) else {
        skip::skip("NES-MDB not found (set NESMDB_DIR)");
        return;
    };
    let song = "002_1943_TheBattleofMidway_00_01Title";
    let dir = tempfile::tempdir().unwrap();
    let sep_file = dir.path().join(format!("{song}.seprsco.pkl"));
    let exp_file = dir.path().join(format!("{song}.exprsco.pkl"));
    let sep_bytes = member(&sep, song);
    std::fs::write(&sep_file, &sep_bytes).unwrap();
    std::fs::write(&exp_file, member(&exp, song)).unwrap();

    let o = nesmm(&[Path::new("info"), &exp_file]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    for want in [
        song,
        "NES-MDB exprsco pickle",
        "frames    460",
        "rate      24 Hz",
        "duration  19.17 s",
        "P1     60..77        62.0%  2..10     3..3",
        "NO     13..13        51.5%  3..12     0..0",
    ] {
        assert!(t.contains(want), "missing '{want}' in:\n{t}");
    }
    let t = text(&nesmm(&[Path::new("info"), &sep_file]));
    assert!(
        t.contains("seprsco") && t.contains("TR     50..62        60.9%"),
        "{t}"
    );
    assert!(!t.contains("velocity"), "{t}");

    // exprsco -> seprsco gives NES-MDB's own seprsco file, byte for byte.
    let out = dir.path().join("out.seprsco.pkl");
    let o = nesmm(&[Path::new("convert"), &exp_file, &out]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read(&out).unwrap(), sep_bytes);
}

#[test]
fn convert_synthetic_between_pickle_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Score::from_notes("tune", 24.0, &[[60, 64, 48, 5], [0, 64, 48, 0]]);
    s.expressive = true;
    s.frames[0][0].velocity = 6;
    s.frames[0][0].timbre = 2;
    let input = dir.path().join("tune.exprsco.pkl");
    std::fs::write(&input, write_pickle(&s, PickleKind::Exprsco)).unwrap();
    let out = dir.path().join("sub/tune.pkl");
    let o = nesmm(&[Path::new("convert"), &input, &out]);
    assert!(o.status.success(), "{}", text(&o));
    let back = nesmm::formats::load_score(&out).unwrap();
    assert!(!back.expressive);
    assert_eq!(back.note_matrix(), s.note_matrix());
    let t = text(&nesmm(&[Path::new("info"), &input]));
    assert!(
        t.contains("P1     60..60        50.0%  6..6      2..2"),
        "{t}"
    );
}

#[test]
fn missing_and_bad_files_fail_with_the_name() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.seprsco.pkl");
    for args in [
        vec![Path::new("info"), &missing],
        vec![Path::new("convert"), &missing, Path::new("x.exprsco.pkl")],
    ] {
        let o = nesmm(&args);
        let t = text(&o);
        assert!(!o.status.success());
        assert!(
            t.contains("missing.seprsco.pkl") && t.contains("hint:"),
            "{t}"
        );
    }
    let broken = dir.path().join("broken.seprsco.pkl");
    std::fs::write(&broken, b"(F24\nI88200\n").unwrap();
    let o = nesmm(&[Path::new("info"), &broken]);
    let t = text(&o);
    assert!(!o.status.success());
    assert!(
        t.contains("broken.seprsco.pkl") && t.contains("STOP"),
        "{t}"
    );
    let o = nesmm(&[Path::new("convert"), &broken, Path::new("out.wav")]);
    let t = text(&o);
    assert!(!o.status.success());
    assert!(t.contains("out.wav") && t.contains(".mid"), "{t}");
    let o = nesmm(&[Path::new("info"), Path::new("--help")]);
    assert!(text(&o).contains("sounding"));
}
