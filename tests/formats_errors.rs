//! Bad input for the pickle reader and the dataset loader: every case must be an error that
//! names the file and the problem, never a panic.

#[path = "common/skip.rs"]
mod skip;

use flate2::write::GzEncoder;
use nesmm::formats::nesmdb::{self, ScoreKind, Split};
use nesmm::formats::pickle::{read_pickle, write_pickle, PickleKind};
use nesmm::formats::{load_score, save_score};
use nesmm::Score;
use std::io::Write;
use std::path::{Path, PathBuf};

const ORIGIN: &str = "bad/song_01.seprsco.pkl";

/// A valid pickle with quotes, backslashes and escapes in its data.
fn good(kind: PickleKind) -> Vec<u8> {
    let notes: Vec<[u8; 4]> = (0..48u8)
        .map(|i| [33 + i, [39, 92, 34, 60][usize::from(i % 4)], 21 + i, i % 17])
        .collect();
    write_pickle(&Score::from_notes("song_01", 24.0, &notes), kind)
}

/// Replaces the first occurrence of `from` in `bytes` by `to`.
fn patch(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .unwrap_or_else(|| panic!("{:?} not in pickle", String::from_utf8_lossy(from)));
    [&bytes[..at], to, &bytes[at + from.len()..]].concat()
}

/// Reads `bytes` and checks the error names the file and contains every `words`.
fn expect_error(bytes: &[u8], words: &[&str]) {
    let e = read_pickle(bytes, Path::new(ORIGIN))
        .expect_err("bad pickle was accepted")
        .to_string();
    assert!(e.contains(ORIGIN), "error does not name the file: {e}");
    for w in words {
        assert!(e.contains(w), "error lacks '{w}': {e}");
    }
}

#[test]
fn the_good_pickles_read() {
    for kind in [PickleKind::Seprsco, PickleKind::Exprsco] {
        let s = read_pickle(&good(kind), Path::new(ORIGIN)).unwrap();
        assert_eq!(s.len(), 48);
        assert_eq!(s.name, "song_01");
    }
}

#[test]
fn empty_file() {
    expect_error(b"", &["empty file"]);
}

#[test]
fn wrong_magic_gzip_and_binary_protocol() {
    expect_error(&[0x1f, 0x8b, 8, 0, 0], &["gzip"]);
    expect_error(&[0x80, 2, b'(', b'.'], &["protocol 2", "byte 0"]);
    expect_error(b"hello world", &["opcode", "'h'", "byte 0"]);
}

#[test]
fn wrong_opcode() {
    // The REDUCE after the dtype arguments becomes an unknown opcode 'Z'.
    let bad = patch(&good(PickleKind::Seprsco), b"I1\ntR", b"I1\ntZ");
    let at = bad.iter().position(|&b| b == b'Z').unwrap();
    expect_error(
        &bad,
        &["unsupported pickle opcode", "'Z'", &format!("byte {at}:")],
    );
}

#[test]
fn bad_escapes() {
    let g = good(PickleKind::Seprsco);
    expect_error(&patch(&g, b"\\x00", b"\\xZ0"), &["\\x escape"]);
    expect_error(&patch(&g, b"\\x00", b"\\q00"), &["unknown escape", "\\q"]);
    expect_error(&patch(&g, b"S'u1'", b"S'u1"), &["not a quoted literal"]);
}

#[test]
fn wrong_dtype() {
    let bad = patch(&good(PickleKind::Seprsco), b"S'u1'", b"S'i8'");
    expect_error(&bad, &["dtype 'i8'", "uint8"]);
}

#[test]
fn wrong_shape() {
    // (48, 4) -> (12, 16): same bytes, wrong layout.
    let bad = patch(&good(PickleKind::Seprsco), b"(I48\nI4\nt", b"(I12\nI16\nt");
    expect_error(&bad, &["shape [12, 16]", "neither (N, 4)"]);
    let bad = patch(&good(PickleKind::Exprsco), b"I4\nI3\nt", b"I4\nI2\nt");
    expect_error(&bad, &["shape [48, 4, 2]"]);
}

#[test]
fn shape_and_data_size_mismatch() {
    let bad = patch(&good(PickleKind::Seprsco), b"(I48\n", b"(I49\n");
    expect_error(&bad, &["needs 196 bytes", "holds 192"]);
}

#[test]
fn huge_claimed_sizes_allocate_nothing() {
    let g = good(PickleKind::Seprsco);
    let bad = patch(&g, b"(I48\n", b"(I9223372036854775807\n");
    expect_error(&bad, &["needs more than usize"]);
    let bad = patch(&g, b"(I48\n", b"(I99999999999999\n");
    expect_error(&bad, &["needs 399999999999996 bytes"]);
    let bad = patch(&g, b"(I48\n", b"(I999999999999999999999999\n");
    expect_error(&bad, &["not an integer"]);
    let bad = patch(&g, b"p6\n", b"p184467440737095516150\n");
    expect_error(&bad, &["memo key"]);
}

#[test]
fn out_of_range_notes() {
    let mut s = Score::from_notes("song_01", 24.0, &[[60, 0, 0, 0], [0, 0, 0, 0]]);
    s.frames[1][2].note = 120;
    let bytes = write_pickle(&s, PickleKind::Seprsco);
    expect_error(&bytes, &["frame 1", "TR", "note 120"]);
    s.frames[1][2].note = 0;
    s.frames[0][3].velocity = 3; // a velocity on a rest
    s.frames[0][3].note = 0;
    expect_error(
        &write_pickle(&s, PickleKind::Exprsco),
        &["frame 0", "NO", "rest"],
    );
}

#[test]
fn nsamps_disagreeing_with_frames() {
    let mut s = Score::from_notes("song_01", 24.0, &[[60, 0, 0, 0]; 48]);
    s.source_samples = Some(44100 * 10);
    expect_error(
        &write_pickle(&s, PickleKind::Seprsco),
        &["48 frames", "implies 240"],
    );
}

#[test]
fn foreign_globals_and_structure() {
    let g = good(PickleKind::Seprsco);
    expect_error(
        &patch(&g, b"cnumpy\ndtype\n", b"cos\nsystem\n"),
        &["global os.system"],
    );
    expect_error(b"I5\n.", &["holds a int"]);
    expect_error(b"(I5\nI6\nt.", &["tuple of 2 items"]);
    expect_error(b"(F24\nI5\nS'x'\nt.", &["score is a string"]);
    expect_error(b"g7\n.", &["GET of memo 7"]);
    expect_error(b"t.", &["TUPLE without a MARK"]);
    expect_error(b"R.", &["REDUCE finds an empty stack"]);
    expect_error(b"I1\nI2\n.", &["STOP leaves values"]);
    expect_error(b"I1\n", &["before the STOP"]);
    expect_error(b"I12", &["no end of line"]);
    let deep = [vec![b'('; 40], vec![b't'; 40], b".".to_vec()].concat();
    expect_error(&deep, &["nest deeper"]);
}

/// Every prefix of a real pickle (and of an exprsco) is an error naming the file, never a panic.
#[test]
fn every_truncation_is_an_error() {
    let mut samples = vec![good(PickleKind::Seprsco), good(PickleKind::Exprsco)];
    if let Some(p) = nesmdb::archive_path(ScoreKind::Seprsco) {
        let song = nesmdb::load(&p, &[Split::Test]).unwrap().swap_remove(0);
        samples.push(write_pickle(&song.score, PickleKind::Seprsco));
    } else {
        skip::skip("the archive sample: NES-MDB not found");
    }
    for bytes in samples {
        for cut in 0..bytes.len() {
            let e = read_pickle(&bytes[..cut], Path::new(ORIGIN))
                .expect_err("a truncated pickle was accepted")
                .to_string();
            assert!(e.contains(ORIGIN), "cut {cut}: {e}");
        }
        assert!(read_pickle(&bytes, Path::new(ORIGIN)).is_ok());
    }
}

/// Flipping any single byte of a pickle never panics (it may still read, e.g. a changed note).
#[test]
fn every_byte_flip_is_handled() {
    let bytes = good(PickleKind::Exprsco);
    for i in 0..bytes.len() {
        for flip in [0x01u8, 0x20, 0x80] {
            let mut b = bytes.clone();
            b[i] ^= flip;
            if let Err(e) = read_pickle(&b, Path::new(ORIGIN)) {
                assert!(e.to_string().contains(ORIGIN), "{e}");
            }
        }
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn tar_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

#[test]
fn gzip_that_is_not_a_tar() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("fake.tar.gz");
    std::fs::write(&p, gzip(&[7u8; 3000])).unwrap();
    let e = nesmdb::load(&p, &Split::ALL).unwrap_err().to_string();
    assert!(
        e.contains("fake.tar.gz") && e.contains("tar archive"),
        "{e}"
    );
    std::fs::write(&p, b"not gzip at all").unwrap();
    let e = nesmdb::load(&p, &Split::ALL).unwrap_err().to_string();
    assert!(e.contains("fake.tar.gz") && e.contains("gzip"), "{e}");
}

#[test]
fn archive_with_a_corrupt_member_and_sorted_order() {
    let dir = tempfile::tempdir().unwrap();
    let g = good(PickleKind::Seprsco);
    // Members out of order: the loader still yields train b, train c, test a.
    let ok = tar_of(&[
        ("ds/test/a.seprsco.pkl", &g),
        ("ds/train/c.seprsco.pkl", &g),
        ("ds/README", b"not a song"),
        ("ds/train/b.seprsco.pkl", &g),
    ]);
    let p = dir.path().join("ok.tar.gz");
    std::fs::write(&p, gzip(&ok)).unwrap();
    let songs = nesmdb::load(&p, &Split::ALL).unwrap();
    let got: Vec<_> = songs
        .iter()
        .map(|s| (s.split, s.score.name.as_str()))
        .collect();
    assert_eq!(
        got,
        [(Split::Train, "b"), (Split::Train, "c"), (Split::Test, "a")]
    );
    assert_eq!(nesmdb::load(&p, &[Split::Test]).unwrap().len(), 1);

    let bad = tar_of(&[
        ("ds/train/b.seprsco.pkl", &g),
        ("ds/train/x.seprsco.pkl", &g[..g.len() / 2]),
    ]);
    let p = dir.path().join("bad.tar.gz");
    std::fs::write(&p, gzip(&bad)).unwrap();
    let e = nesmdb::load(&p, &Split::ALL).unwrap_err().to_string();
    assert!(e.contains("bad.tar.gz/ds/train/x.seprsco.pkl"), "{e}");
    // A member header claiming a terabyte is refused before anything is read into memory.
    let mut h = tar::Header::new_gnu();
    h.set_path("ds/train/huge.seprsco.pkl").unwrap();
    h.set_size(1 << 40);
    h.set_mode(0o644);
    h.set_cksum();
    let huge = [h.as_bytes().as_slice(), &[0u8; 4096]].concat();
    let p = dir.path().join("huge.tar.gz");
    std::fs::write(&p, gzip(&huge)).unwrap();
    let e = nesmdb::load(&p, &Split::ALL).unwrap_err().to_string();
    assert!(
        e.contains("huge.seprsco.pkl") && e.contains("1099511627776 bytes"),
        "{e}"
    );
    // A tar cut in the middle of a member.
    let p = dir.path().join("cut.tar.gz");
    std::fs::write(&p, gzip(&ok[..ok.len() - 1500])).unwrap();
    let e = nesmdb::load(&p, &Split::ALL).unwrap_err().to_string();
    assert!(e.contains("cut.tar.gz"), "{e}");
}

#[test]
fn folders_root_split_and_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let g = good(PickleKind::Seprsco);
    for (split, name) in [("valid", "z"), ("train", "y"), ("train", "x")] {
        let d = dir.path().join(split);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(format!("{name}.seprsco.pkl")), &g).unwrap();
    }
    let songs = nesmdb::load(dir.path(), &Split::ALL).unwrap();
    let got: Vec<_> = songs
        .iter()
        .map(|s| (s.split, s.score.name.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (Split::Train, "x"),
            (Split::Train, "y"),
            (Split::Valid, "z")
        ]
    );
    assert_eq!(
        nesmdb::load(&dir.path().join("train"), &[Split::Train])
            .unwrap()
            .len(),
        2
    );
    let e = nesmdb::load(&dir.path().join("train"), &[Split::Test])
        .unwrap_err()
        .to_string();
    assert!(e.contains("train") && e.contains("not asked for"), "{e}");
    let e = nesmdb::load(&dir.path().join("train/x.seprsco.pkl"), &Split::ALL)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("x.seprsco.pkl") && e.contains("not an NES-MDB dataset"),
        "{e}"
    );
    // An error from the callback stops the walk and comes back unchanged.
    let mut calls = 0;
    let e = nesmdb::for_each_song(dir.path(), &Split::ALL, |song| {
        calls += 1;
        Err(nesmm::Error::Unsupported(format!(
            "stop at {}",
            song.score.name
        )))
    })
    .unwrap_err();
    assert_eq!((calls, e.to_string()), (1, "stop at x".to_string()));
    std::fs::write(dir.path().join("valid/z.seprsco.pkl"), b"(I1\n").unwrap();
    let e = nesmdb::load(dir.path(), &Split::ALL)
        .unwrap_err()
        .to_string();
    assert!(e.contains("z.seprsco.pkl") && e.contains("STOP"), "{e}");
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let e = nesmdb::load(&empty, &Split::ALL).unwrap_err().to_string();
    assert!(e.contains("empty") && e.contains("no train/"), "{e}");
}

#[test]
fn missing_paths_are_named() {
    let missing = PathBuf::from("/nonexistent/nesmdb24_seprsco.tar.gz");
    let e = nesmdb::load(&missing, &Split::ALL).unwrap_err().to_string();
    assert!(e.contains("/nonexistent/nesmdb24_seprsco.tar.gz"), "{e}");
    let e = load_score(Path::new("/nonexistent/x.seprsco.pkl"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/x.seprsco.pkl"), "{e}");
    let e = load_score(Path::new("/nonexistent/x.flac"))
        .unwrap_err()
        .to_string();
    // Missing comes first, whatever the extension.
    assert!(e.contains("x.flac") && e.contains("No such file"), "{e}");
    let s = Score::from_notes("s", 24.0, &[[60, 0, 0, 0]]);
    let e = save_score(&s, Path::new("/proc/forbidden/x.seprsco.pkl"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("/proc/forbidden"), "{e}");
}
