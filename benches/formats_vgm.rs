//! VGM parsing and NES-MDB's VGM -> score conversion on the real Lawn Mower logs (skipped when
//! NES-MDB is absent). Target: the five logs (6.3 M samples) convert in well under a second.

use criterion::{criterion_group, criterion_main, Criterion};
use nesmm::formats::vgm::read_vgm;
use nesmm::formats::vgm_score::vgm_to_score;
use std::hint::black_box;

fn logs() -> Vec<(String, Vec<u8>)> {
    let Some(dir) = nesmm::formats::nesmdb::data_dir().map(|d| d.join("vgm")) else {
        println!("skipping: NES-MDB not found (set NESMDB_DIR)");
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("skipping: NES-MDB not found at {}", dir.display());
        return Vec::new();
    };
    let mut out: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "vgm"))
        .filter_map(|p| {
            Some((
                p.file_stem()?.to_string_lossy().into_owned(),
                std::fs::read(&p).ok()?,
            ))
        })
        .collect();
    out.sort();
    out
}

fn bench(c: &mut Criterion) {
    let logs = logs();
    if logs.is_empty() {
        return;
    }
    let parsed: Vec<_> = logs
        .iter()
        .map(|(n, b)| (n.clone(), read_vgm(b, std::path::Path::new(n)).unwrap()))
        .collect();
    c.bench_function("read_vgm 5 Lawn Mower logs", |b| {
        b.iter(|| {
            for (n, bytes) in &logs {
                black_box(read_vgm(black_box(bytes), std::path::Path::new(n)).unwrap());
            }
        })
    });
    c.bench_function("vgm_to_score 5 Lawn Mower logs", |b| {
        b.iter(|| {
            for (n, log) in &parsed {
                black_box(vgm_to_score(black_box(log), n));
            }
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
