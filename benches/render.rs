//! Rendering speed: 60 s of a busy four-voice stream. Prints the multiple of real time.
//!
//! `cargo bench --bench render`

use criterion::{criterion_group, criterion_main, Criterion};
use nesmm::synth::{render, render_voices, RenderOptions};
use nesmm::{ApuStream, RegWrite, Region};
use std::hint::black_box;
use std::time::Instant;

/// 60 s of all four voices busy: a pulse-1 arpeggio changing every 3 frames, pulse 2 with
/// per-frame vibrato and retriggered decays, a triangle bass line every 8 frames, noise hits every
/// 4 frames across all 16 periods (the fastest clocks the register every 4 CPU cycles) in both
/// modes.
fn busy_stream(region: Region) -> ApuStream {
    let frames = (60.0 * region.frame_hz()).ceil() as usize;
    let mut s = ApuStream::new("busy", region);
    s.init = [
        (0x4015, 0x0F),
        (0x4017, 0x40),
        (0x4001, 0x08),
        (0x4005, 0x08),
        (0x4008, 0xFF),
    ]
    .iter()
    .map(|&(a, v)| RegWrite::new(a, v))
    .collect();
    let timer = |m: f64, div: f64| {
        let f = 440.0 * 2f64.powf((m - 69.0) / 12.0);
        (region.cpu_hz() / (div * f) - 1.0).round() as u16
    };
    let arp = [60.0, 64.0, 67.0, 72.0, 76.0, 79.0, 84.0, 88.0];
    let bass = [36.0, 43.0, 41.0, 38.0, 45.0, 40.0];
    for f in 0..frames {
        let mut w = Vec::new();
        if f % 3 == 0 {
            let t = timer(arp[(f / 3) % arp.len()], 16.0);
            w.push(RegWrite::new(0x4000, ((f / 3 % 4) as u8) << 6 | 0x3C));
            w.push(RegWrite::new(0x4002, (t & 0xFF) as u8));
            w.push(RegWrite::new(0x4003, (t >> 8) as u8 | 0x08));
        }
        let t2 = timer(55.0 + ((f / 24) % 12) as f64, 16.0);
        let wobble = [0i32, 1, 2, 1, 0, -1, -2, -1][f % 8];
        if f % 24 == 0 {
            w.push(RegWrite::new(0x4004, 0x84));
            w.push(RegWrite::new(0x4007, (t2 >> 8) as u8 | 0x08));
        }
        w.push(RegWrite::new(
            0x4006,
            (i32::from(t2 & 0xFF) + wobble).clamp(0, 255) as u8,
        ));
        if f % 8 == 0 {
            let t = timer(bass[(f / 8) % bass.len()], 32.0);
            w.push(RegWrite::new(0x400A, (t & 0xFF) as u8));
            w.push(RegWrite::new(0x400B, (t >> 8) as u8 | 0x08));
        }
        if f % 4 == 0 {
            let k = f / 4;
            let mode = if k % 7 == 0 { 0x80 } else { 0 };
            w.push(RegWrite::new(0x400C, 0x02));
            w.push(RegWrite::new(0x400E, mode | (k % 16) as u8));
            w.push(RegWrite::new(0x400F, 0x08));
        }
        s.push_frame(&w);
    }
    s
}

/// CPU time this thread has run, from Linux's `/proc/thread-self/schedstat` (first field, ns).
fn thread_cpu_secs() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns * 1e-9)
}

fn bench_render(c: &mut Criterion) {
    let stream = busy_stream(Region::Ntsc);
    let secs = stream.duration_secs();
    for rate in [44_100u32, 48_000] {
        let opts = RenderOptions { sample_rate: rate };
        // Headline figures: the fastest of 5 runs by wall clock and by this thread's CPU time
        // (which other load on a shared machine does not inflate), then criterion's statistics.
        let mut wall = f64::INFINITY;
        let mut cpu = f64::INFINITY;
        let mut out = Vec::new();
        for _ in 0..5 {
            let (start, cpu_start) = (Instant::now(), thread_cpu_secs());
            out = render(&stream, &opts);
            wall = wall.min(start.elapsed().as_secs_f64());
            if let (Some(a), Some(b)) = (cpu_start, thread_cpu_secs()) {
                cpu = cpu.min(b - a);
            }
        }
        println!(
            "render {secs:.1} s at {rate} Hz ({} samples): wall {:.1} ms = {:.0}x real time; \
             CPU {:.1} ms = {:.0}x real time",
            out.len(),
            wall * 1e3,
            secs / wall,
            cpu * 1e3,
            secs / cpu
        );
        c.bench_function(&format!("render_60s_busy_{rate}"), |b| {
            b.iter(|| render(black_box(&stream), black_box(&opts)))
        });
    }
    let opts = RenderOptions::default();
    c.bench_function("render_voices_60s_busy_44100", |b| {
        b.iter(|| render_voices(black_box(&stream), black_box(&opts)))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench_render
}
criterion_main!(benches);
