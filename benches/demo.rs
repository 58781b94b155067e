//! `nesmm demo`'s pipeline after the model is loaded: generate a 40-second song, write the
//! MIDI, ROM, NSF, WAV, piano roll and page. Target: well under a minute (the bound for
//! the whole command after the build). Uses a tiny untrained model (tests/demo_support) when the
//! bundled models/lstm-full is absent, so generation time here is a lower bound.

#[path = "../tests/demo_support/mod.rs"]
mod demo_support;

use criterion::{criterion_group, criterion_main, Criterion};
use nesmm::demo::{make_demo, DemoOptions};
use nesmm::learn::generate::bundled_model_dir;

fn demo(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let model = bundled_model_dir("lstm-full").unwrap_or_else(|_| {
        let m = dir.path().join("tiny-model");
        demo_support::write_tiny_model(&m);
        m
    });
    println!("model: {}", model.display());
    let mut opts = DemoOptions::new(dir.path().join("out"), 7);
    opts.model = Some(model);
    let mut g = c.benchmark_group("demo");
    g.sample_size(10);
    g.bench_function("make_demo_40s", |b| {
        b.iter(|| make_demo(&opts, &mut |_| {}).unwrap())
    });
    g.finish();
}

criterion_group!(benches, demo);
criterion_main!(benches);
