//! ROM builder speed: encoding and building NES-MDB songs (Lawn Mower's album, and one song of
//! every 50). `cargo bench --bench rom`. Size and cycle figures: tests/rom_figures.rs.

use criterion::{criterion_group, criterion_main, Criterion};
use nesmm::compile::{compile, CompileOptions};
use nesmm::formats::nesmdb::{self, ScoreKind, Split};
use nesmm::rom::{build_rom, encode_stream, BuildOptions};
use nesmm::ApuStream;
use std::hint::black_box;

fn songs() -> Option<Vec<ApuStream>> {
    let path = nesmdb::archive_path(ScoreKind::Exprsco)?;
    let mut out = Vec::new();
    let mut i = 0;
    nesmdb::for_each_song(&path, &Split::ALL, |song| {
        if i % 50 == 0 || song.score.name.starts_with("202_LawnMower") {
            out.push(compile(&song.score, &CompileOptions::default())?);
        }
        i += 1;
        Ok(())
    })
    .ok()?;
    Some(out)
}

fn bench(c: &mut Criterion) {
    let Some(songs) = songs() else {
        eprintln!("skipping: NES-MDB not found");
        return;
    };
    let lawn: Vec<ApuStream> = songs
        .iter()
        .filter(|s| s.name.starts_with("202_LawnMower"))
        .cloned()
        .collect();
    let sample: Vec<ApuStream> = songs
        .iter()
        .filter(|s| !s.name.starts_with("202_LawnMower"))
        .cloned()
        .collect();
    let mut g = c.benchmark_group("rom");
    g.sample_size(10);
    g.bench_function("build_rom Lawn Mower album (5 songs)", |b| {
        b.iter(|| build_rom(black_box(&lawn), &BuildOptions::default()).unwrap())
    });
    g.bench_function("encode_stream every 50th NES-MDB song", |b| {
        b.iter(|| {
            sample
                .iter()
                .map(|s| encode_stream(black_box(s)).stream_bytes())
                .sum::<usize>()
        })
    });
    g.bench_function("build_rom every 50th NES-MDB song, one ROM each", |b| {
        b.iter(|| {
            for s in &sample {
                build_rom(std::slice::from_ref(black_box(s)), &BuildOptions::default()).unwrap();
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
