//! Compiling the whole NES-MDB seprsco set (5,278 songs) to NTSC streams; goal <= 2 s.
//!
//! `cargo bench --bench compile`. The songs load once, outside the timing. Prints the writes per
//! frame over the dataset (mean and max).

use criterion::{criterion_group, criterion_main, Criterion};
use nesmm::compile::{compile, CompileOptions, Dynamics};
use nesmm::formats::nesmdb::{self, ScoreKind, Split};
use std::hint::black_box;
use std::time::Duration;

fn compile_dataset(c: &mut Criterion) {
    let Some(path) = nesmdb::archive_path(ScoreKind::Seprsco) else {
        eprintln!(
            "skipping: NES-MDB not found at {:?} (set NESMDB_DIR)",
            nesmdb::data_dir()
        );
        return;
    };
    let songs: Vec<_> = nesmdb::load(&path, &Split::ALL)
        .expect("load NES-MDB seprsco")
        .into_iter()
        .map(|s| s.score)
        .collect();
    let opts = CompileOptions::default();

    for dynamics in [Dynamics::Instruments, Dynamics::Flat] {
        let opts = CompileOptions {
            dynamics: Some(dynamics),
            ..opts
        };
        let (mut frames, mut writes, mut max, mut max_song) =
            (0usize, 0usize, 0usize, String::new());
        for score in &songs {
            let s = compile(score, &opts).expect("compile");
            frames += s.len();
            writes += s.write_count();
            let m = s.frames().map(<[_]>::len).max().unwrap_or(0);
            if m > max {
                max = m;
                max_song = score.name.clone();
            }
        }
        eprintln!(
            "{dynamics:?}: {} songs, {} score frames -> {frames} NTSC frames, {writes} writes: \
             {:.3} writes/frame mean, {max} max ({max_song})",
            songs.len(),
            songs.iter().map(|s| s.len()).sum::<usize>(),
            writes as f64 / frames as f64,
        );
    }

    let mut group = c.benchmark_group("compile");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("nesmdb_seprsco_all_ntsc", |b| {
        b.iter(|| {
            let mut total = 0usize;
            for score in &songs {
                total += compile(black_box(score), &opts)
                    .expect("compile")
                    .write_count();
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, compile_dataset);
criterion_main!(benches);
