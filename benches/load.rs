//! Loading NES-MDB: every seprsco song from the official .tar.gz, read in place
//! (gzip inflate + tar + pickle parse). Goal: <= 2 s for all 5,278 songs.

use criterion::{criterion_group, criterion_main, Criterion};
use nesmm::formats::nesmdb::{self, ScoreKind, Split};
use std::time::Duration;

fn load_all_seprsco(c: &mut Criterion) {
    let Some(archive) = nesmdb::archive_path(ScoreKind::Seprsco) else {
        println!("skipping: NES-MDB not found (set NESMDB_DIR)");
        return;
    };
    let mut g = c.benchmark_group("nesmdb");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    g.bench_function("load_all_seprsco_tar_gz", |b| {
        b.iter(|| {
            let songs = nesmdb::load(&archive, &Split::ALL).unwrap();
            assert_eq!(songs.len(), 5278);
            songs
        })
    });
    g.bench_function("for_each_all_seprsco_tar_gz", |b| {
        b.iter(|| {
            let mut frames = 0;
            nesmdb::for_each_song(&archive, &Split::ALL, |s| {
                frames += s.score.len();
                Ok(())
            })
            .unwrap();
            frames
        })
    });
    g.finish();
}

criterion_group!(benches, load_all_seprsco);
criterion_main!(benches);
