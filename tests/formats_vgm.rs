//! VGM logs: NES-MDB agreement on the five real Lawn Mower logs, write-back round trips,
//! ApuStream export timing, and bad input of every kind.

#[path = "common/skip.rs"]
mod skip;

use flate2::read::GzDecoder;
use nesmm::formats::nesmdb::{self, ScoreKind};
use nesmm::formats::pickle::read_pickle;
use nesmm::formats::vgm::{
    frame_start_sample, read_vgm, stream_to_vgm, Gd3, LoopStart, VgmLog, VgmWrite,
};
use nesmm::formats::vgm_score::vgm_to_score;
use nesmm::{ApuStream, RegWrite, Region, Score};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

fn vgm_dir() -> Option<PathBuf> {
    let d = nesmdb::data_dir()
        .map(|d| d.join("vgm"))
        .filter(|d| d.is_dir());
    if d.is_none() {
        skip::skip(format_args!(
            "NES-MDB not found at {:?} (set NESMDB_DIR)",
            nesmdb::data_dir().unwrap_or_else(|| PathBuf::from("../shared/data/nesmdb"))
        ));
    }
    d
}

/// The real logs, sorted by name: (song name, path, bytes).
fn real_logs() -> Vec<(String, PathBuf, Vec<u8>)> {
    let Some(dir) = vgm_dir() else {
        return Vec::new();
    };
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "vgm"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&p).unwrap();
            (name, p, bytes)
        })
        .collect();
    out.sort();
    out
}

/// The scores of `names` from an NES-MDB archive (train split), read with our pickle reader.
fn archive_scores(kind: ScoreKind, names: &[String]) -> Option<HashMap<String, Score>> {
    let Some(archive) = nesmdb::archive_path(kind) else {
        skip::skip(format_args!(
            "NES-MDB archive {kind:?} not found (set NESMDB_DIR)"
        ));
        return None;
    };
    let mut tar = tar::Archive::new(GzDecoder::new(std::fs::File::open(&archive).unwrap()));
    let mut out = HashMap::new();
    for e in tar.entries().unwrap() {
        let mut e = e.unwrap();
        let p = e.path().unwrap().to_string_lossy().into_owned();
        let Some(name) = names
            .iter()
            .find(|n| p.contains("/train/") && p.contains(n.as_str()))
        else {
            continue;
        };
        let mut b = Vec::new();
        e.read_to_end(&mut b).unwrap();
        out.insert(name.clone(), read_pickle(&b, Path::new(&p)).unwrap());
    }
    Some(out)
}

#[test]
fn real_logs_agree_with_nesmdb_seprsco_and_exprsco() {
    let logs = real_logs();
    if logs.is_empty() {
        return;
    }
    assert_eq!(logs.len(), 5, "expected the five Lawn Mower logs");
    let names: Vec<String> = logs.iter().map(|l| l.0.clone()).collect();
    let (Some(ex), Some(sep)) = (
        archive_scores(ScoreKind::Exprsco, &names),
        archive_scores(ScoreKind::Seprsco, &names),
    ) else {
        return;
    };
    for (name, path, bytes) in &logs {
        let log = read_vgm(bytes, path).unwrap();
        let ours = vgm_to_score(&log, name);
        let (ex, sep) = (&ex[name], &sep[name]);
        assert!(ours.expressive && ex.expressive && !sep.expressive);
        assert_eq!(ours.source_samples, ex.source_samples, "{name}: nsamps");
        assert_eq!(ours.len(), ex.len(), "{name}: frame count");
        assert_eq!(ours.len(), sep.len(), "{name}: frame count");
        let cells = (ours.len() * 4) as f64;
        let mut notes_sep = 0usize;
        let mut triples = 0usize;
        for i in 0..ours.len() {
            for v in 0..4 {
                notes_sep += (ours.frames[i][v].note == sep.frames[i][v].note) as usize;
                triples += (ours.frames[i][v] == ex.frames[i][v]) as usize;
            }
        }
        let (n, t) = (notes_sep as f64 / cells, triples as f64 / cells);
        println!(
            "{name}: {} frames, notes vs seprsco {:.4}%, (note, velocity, timbre) vs exprsco {:.4}%",
            ours.len(),
            n * 100.0,
            t * 100.0
        );
        assert!(n >= 0.99 && t >= 0.99, "{name}: notes {n}, triples {t}");
    }
}

#[test]
fn real_logs_parse_and_round_trip() {
    for (name, path, bytes) in real_logs() {
        let log = read_vgm(&bytes, &path).unwrap();
        assert_eq!(log.clock, 1_789_773);
        assert_eq!(
            log.writes.first().map(|w| (w.reg, w.sample)),
            Some((0x0B, 0))
        );
        assert!(log.writes.iter().all(|w| w.sample <= log.total_samples));
        let back = read_vgm(&log.to_bytes(), Path::new("again.vgm")).unwrap();
        assert_eq!(back, log, "{name}");
        // The score of the rewritten log is the same score.
        assert_eq!(vgm_to_score(&back, &name), vgm_to_score(&log, &name));
    }
}

fn small_log() -> VgmLog {
    VgmLog {
        clock: 1_789_773,
        total_samples: 100_000,
        loop_start: Some(LoopStart {
            sample: 735,
            write_index: 2,
        }),
        loop_samples: 100_000 - 735,
        writes: vec![
            VgmWrite {
                sample: 0,
                reg: 0x15,
                value: 0x0F,
            },
            VgmWrite {
                sample: 0,
                reg: 0x00,
                value: 0xBF,
            },
            VgmWrite {
                sample: 735,
                reg: 0x02,
                value: 0xFD,
            },
            VgmWrite {
                sample: 70_000,
                reg: 0x03,
                value: 0x08,
            },
        ],
        gd3: Some(Gd3 {
            track_en: "Título ♪".into(),
            game_en: "Game".into(),
            notes: "n".into(),
            ..Gd3::default()
        }),
        skipped_commands: 0,
    }
}

#[test]
fn synthetic_log_round_trips_with_loop_long_waits_and_unicode_gd3() {
    let log = small_log();
    let bytes = log.to_bytes();
    assert_eq!(&bytes[..4], b"Vgm ");
    assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 0x161);
    assert_eq!(read_vgm(&bytes, Path::new("s.vgm")).unwrap(), log);
}

#[test]
fn other_chips_commands_are_skipped_by_length() {
    let mut bytes = small_log().to_bytes();
    // Insert, before the first command, a PSG write (2 bytes), a YM2413 write (3), a
    // 0xC0 write (4), a 0xE0 seek (5), a data block of 3 bytes, and 0x81 (wait 1).
    let data = 0xC0;
    let extra: Vec<u8> = vec![
        0x50, 0x12, 0x51, 0x01, 0x02, 0xC0, 0, 0, 0, 0xE0, 1, 2, 3, 4, 0x67, 0x66, 0x00, 3, 0, 0,
        0, 9, 9, 9, 0x81,
    ];
    bytes.splice(data..data, extra.iter().copied());
    // Fix EOF, GD3 and loop offsets, and the total (one more sample from 0x81).
    for at in [0x04usize, 0x14, 0x1C] {
        let v = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) + extra.len() as u32;
        bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }
    bytes[0x18..0x1C].copy_from_slice(&100_001u32.to_le_bytes());
    let log = read_vgm(&bytes, Path::new("mixed.vgm")).unwrap();
    assert_eq!(log.skipped_commands, 6);
    assert_eq!(log.total_samples, 100_001);
    assert_eq!(log.writes[0].sample, 1);
}

#[test]
fn stream_to_vgm_waits_one_frame_each_without_drift() {
    for region in [Region::Ntsc, Region::Pal] {
        let mut s = ApuStream::new("drift test", region);
        s.init = vec![RegWrite::new(0x4015, 0x0F), RegWrite::new(0x4001, 0x08)];
        let frames = 36_000; // ten minutes NTSC
        for i in 0..frames {
            s.push_frame(&[RegWrite::new(0x4002, (i % 256) as u8)]);
        }
        s.loop_frame = Some(1000);
        let bytes = stream_to_vgm(&s, &Gd3::default());
        let log = read_vgm(&bytes, Path::new("out.vgm")).unwrap();
        let hz = region.frame_hz();
        let expect_total = (frames as f64 * 44_100.0 / hz).floor() as u64;
        assert!(log.total_samples.abs_diff(expect_total) <= 1, "{region:?}");
        assert_eq!(log.total_samples, frame_start_sample(region, frames as u64));
        assert_eq!(
            log.clock,
            if region == Region::Ntsc {
                1_789_773
            } else {
                1_662_607
            }
        );
        // Init writes at 0, then frame i's write at the start of frame i.
        assert_eq!(log.writes.len(), 2 + frames);
        for (i, w) in log.writes[2..].iter().enumerate() {
            assert_eq!(w.sample, frame_start_sample(region, i as u64));
            assert_eq!((w.reg, w.value), (0x02, (i % 256) as u8));
            let exact = i as f64 * 44_100.0 / hz;
            assert!((w.sample as f64 - exact).abs() < 1.0, "frame {i} drifted");
        }
        let l = log.loop_start.unwrap();
        assert_eq!(l.write_index, 2 + 1000);
        assert_eq!(l.sample, frame_start_sample(region, 1000));
        assert_eq!(log.loop_samples, log.total_samples - l.sample);
        assert_eq!(log.gd3.unwrap().track_en, "drift test");
    }
    assert_eq!(frame_start_sample(Region::Ntsc, 1), 733);
    assert_eq!(frame_start_sample(Region::Pal, 1), 881);
}

#[test]
fn stream_to_vgm_then_vgm_to_score_hears_the_note() {
    let mut s = ApuStream::new("a440", Region::Ntsc);
    s.init = vec![RegWrite::new(0x4015, 0x0F), RegWrite::new(0x4001, 0x08)];
    // Pulse 1: duty 2, constant volume 12, A440 (timer 253) for one second.
    s.push_frame(&[
        RegWrite::new(0x4000, 0xBC),
        RegWrite::new(0x4002, 253),
        RegWrite::new(0x4003, 0x08),
    ]);
    for _ in 0..59 {
        s.push_frame(&[]);
    }
    let log = read_vgm(
        &stream_to_vgm(&s, &Gd3::for_song("a440")),
        Path::new("a.vgm"),
    )
    .unwrap();
    let score = vgm_to_score(&log, "a440");
    assert_eq!(score.len(), 23);
    for f in &score.frames {
        assert_eq!((f[0].note, f[0].velocity, f[0].timbre), (69, 12, 2));
        assert!(f[1].is_rest() && f[2].is_rest() && f[3].is_rest());
    }
}

/// Reads `bytes` as `bad.vgm` and checks the error names the file and contains `what`.
fn expect_err(bytes: &[u8], what: &str) {
    let e = read_vgm(bytes, Path::new("dir/bad.vgm"))
        .expect_err(what)
        .to_string();
    assert!(
        e.contains("bad.vgm") && e.contains(what),
        "wanted '{what}' in: {e}"
    );
}

fn patch32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn bad_vgm_input_names_file_and_problem() {
    let good = small_log().to_bytes();
    let data_end = good.len() - small_log().gd3.unwrap().to_bytes().len(); // GD3 start
    expect_err(b"", "no \"Vgm \" magic");
    expect_err(b"RIFF0000", "no \"Vgm \" magic");
    expect_err(&good[..0x30], "header truncated");
    expect_err(&good[..0x100], "file truncated");
    let mut b = good.clone();
    patch32(&mut b, 0x08, 0x150);
    expect_err(&b, "valid VGM 1.50");
    patch32(&mut b, 0x08, 0x1A9);
    expect_err(&b, "not a VGM version");
    let mut b = good.clone();
    patch32(&mut b, 0x34, 0x10_0000);
    expect_err(&b, "data offset");
    let mut b = good.clone();
    patch32(&mut b, 0x84, 0);
    expect_err(&b, "without the NES APU");
    patch32(&mut b, 0x84, 0x8000_0000 | 1_789_773);
    expect_err(&b, "Famicom Disk System");
    let mut b = good.clone();
    b[0xC0] = 0x20; // undefined opcode
    expect_err(&b, "unknown VGM command 0x20 at offset 0xC0");
    let mut b = good.clone();
    b[0xC0 + 1] = 0x20; // B4 20 xx: FDS register
    expect_err(&b, "not an NES APU register");
    let mut b = good.clone();
    b[0xC0 + 1] = 0x14; // $4014 OAM DMA
    expect_err(&b, "$4014");
    let mut b = good.clone();
    patch32(&mut b, 0x18, 99_999);
    expect_err(&b, "waits add up to 100000");
    let mut b = good.clone();
    b[data_end - 1] = 0x62; // the 0x66 becomes a wait: no end command
    expect_err(&b, "without the 0x66 end command");
    let mut b = good.clone();
    b[data_end] = b'X'; // GD3 magic
    expect_err(&b, "\"Gd3 \" tag");
    let mut b = good.clone();
    patch32(&mut b, data_end + 8, 10_000); // GD3 length
    expect_err(&b, "GD3 tag claims 10000 bytes");
    let mut b = good.clone();
    let n = b.len();
    b[n - 2] = 0x41; // last string's terminator
    expect_err(&b, "not NUL-terminated");
    let mut b = good.clone();
    patch32(&mut b, 0x1C, 0x0F00_0000);
    expect_err(&b, "loop offset");
    let mut b = good.clone();
    patch32(&mut b, 0x1C, 0xC1 - 0x1C); // inside the first B4 command
    expect_err(&b, "loop offset does not point at the start of a command");
    // A data block longer than the data.
    let mut b = good.clone();
    b.splice(0xC0..0xC0, [0x67, 0x66, 0x00, 0xFF, 0xFF, 0, 0]);
    let eof = (b.len() - 4) as u32;
    patch32(&mut b, 0x04, eof);
    expect_err(&b, "data block at offset 0xC0 claims 65535 bytes");
    // A truncated wait at the very end of the data.
    let mut b = good[..data_end - 1].to_vec();
    b.push(0x61);
    let eof = (b.len() - 4) as u32;
    patch32(&mut b, 0x04, eof);
    patch32(&mut b, 0x14, 0);
    expect_err(&b, "is truncated (needs 2 argument bytes)");
}

/// A tiny deterministic generator for the fuzz-style loops.
fn lcg(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    *state >> 33
}

#[test]
fn truncations_and_byte_flips_never_panic() {
    let mut files = vec![small_log().to_bytes()];
    if let Some((_, _, b)) = real_logs().into_iter().min_by_key(|l| l.2.len()) {
        files.push(b);
    }
    let mut seed = 7u64;
    let mut errors = 0usize;
    let mut total = 0usize;
    for f in &files {
        for cut in 0..f.len() {
            total += 1;
            errors += read_vgm(&f[..cut], Path::new("t.vgm")).is_err() as usize;
        }
        for _ in 0..3000 {
            let mut b = f.clone();
            for _ in 0..1 + lcg(&mut seed) % 4 {
                let at = (lcg(&mut seed) as usize) % b.len();
                b[at] ^= 1 << (lcg(&mut seed) % 8);
            }
            total += 1;
            if let Ok(log) = read_vgm(&b, Path::new("t.vgm")) {
                let _ = vgm_to_score(&log, "t");
                let _ = log.to_bytes();
            } else {
                errors += 1;
            }
        }
    }
    // Every strict prefix is an error (the 0x66 or the GD3 is always cut).
    assert!(
        errors >= files.iter().map(|f| f.len()).sum::<usize>(),
        "{errors} of {total}"
    );
}
