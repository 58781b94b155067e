//! The synth against the hardware's numbers and against tetanes-core's APU.

mod synth_support;

use nesmm::synth::apu::{Apu, LevelSink};
use nesmm::synth::pulse::DUTY_TABLE;
use nesmm::synth::{render, render_voices, write_wav, RenderOptions};
use nesmm::{ApuStream, Region};
use synth_support::*;

/// A stream holding one pulse-1 note at timer `t`, constant volume 15, for `frames` frames.
fn pulse_note(region: Region, t: u16, duty: u8, frames: usize) -> ApuStream {
    let mut b = StreamBuilder::new(region, frames);
    b.init(0x4015, 0x01);
    b.init(0x4001, 0x08);
    b.init(0x4000, duty << 6 | 0x3F);
    b.init(0x4002, (t & 0xFF) as u8);
    b.init(0x4003, (t >> 8) as u8 | 0x08);
    b.build("pulse note")
}

#[test]
fn known_note_frequencies() {
    for region in [Region::Ntsc, Region::Pal] {
        for rate in [44_100u32, 48_000] {
            let opts = RenderOptions { sample_rate: rate };
            // A4 on pulse 1.
            let t = pulse_timer(region, 69.0);
            let expect = region.cpu_hz() / (16.0 * (f64::from(t) + 1.0));
            let v = render_voices(&pulse_note(region, t, 2, 60), &opts);
            let got = zero_crossing_hz(&v[0][rate as usize / 10..], f64::from(rate)).unwrap();
            println!("{region:?} {rate} pulse A4 t={t}: expected {expect:.3} Hz, got {got:.3} Hz");
            assert!((got / expect - 1.0).abs() < 2e-4, "pulse {got} vs {expect}");
            assert!((got - 440.0).abs() < 2.0, "A4 is near 440 Hz: {got}");
            // A3 on the triangle.
            let t = triangle_timer(region, 57.0);
            let mut b = StreamBuilder::new(region, 60);
            b.init(0x4015, 0x04);
            b.init(0x4008, 0xFF);
            b.init(0x400A, (t & 0xFF) as u8);
            b.init(0x400B, (t >> 8) as u8 | 0x08);
            let v = render_voices(&b.build("tri"), &opts);
            let expect = region.cpu_hz() / (32.0 * (f64::from(t) + 1.0));
            let got = zero_crossing_hz(&v[2][rate as usize / 10..], f64::from(rate)).unwrap();
            println!(
                "{region:?} {rate} triangle A3 t={t}: expected {expect:.3} Hz, got {got:.3} Hz"
            );
            assert!(
                (got / expect - 1.0).abs() < 2e-4,
                "triangle {got} vs {expect}"
            );
        }
    }
}

/// The pulse wave sampled at the output rate with no band limiting: what aliasing looks like.
fn naive_pulse(t: u16, duty: u8, rate: f64, n: usize) -> Vec<f32> {
    let cpu = Region::Ntsc.cpu_hz();
    (0..n)
        .map(|i| {
            let cycle = (i as f64 / rate * cpu) as u64;
            let step = cycle / (2 * (u64::from(t) + 1));
            let seq = ((8 - step % 8) % 8) as usize;
            f32::from(DUTY_TABLE[usize::from(duty)][seq]) * 0.15
        })
        .collect()
}

#[test]
fn no_audible_aliasing() {
    // A 4 kHz pulse (t = 27: 3995.0 Hz), 25 % duty so every harmonic is present.
    let t = 27;
    let f0 = Region::Ntsc.cpu_hz() / (16.0 * 28.0);
    for rate in [44_100u32, 48_000] {
        let out = render(
            &pulse_note(Region::Ntsc, t, 1, 120),
            &RenderOptions { sample_rate: rate },
        );
        let seg = &out[rate as usize / 5..rate as usize / 5 + 32_768];
        let worst = worst_non_harmonic_db(seg, f64::from(rate), f0);
        let naive = naive_pulse(t, 1, f64::from(rate), 32_768);
        let naive_worst = worst_non_harmonic_db(&naive, f64::from(rate), f0);
        println!(
            "{rate} Hz: strongest non-harmonic component {worst:.1} dB (point-sampled: {naive_worst:.1} dB)"
        );
        assert!(worst < -60.0, "aliasing at {worst:.1} dB");
        assert!(
            naive_worst > -60.0,
            "the measure sees aliasing when it is there"
        );
    }
}

#[test]
fn triangle_linear_counter_silences() {
    let region = Region::Ntsc;
    let t = triangle_timer(region, 60.0);
    let mut b = StreamBuilder::new(region, 60);
    b.init(0x4015, 0x04);
    // Control clear, reload 24 quarter frames (about 0.1 s).
    b.init(0x4008, 0x18);
    b.init(0x400A, (t & 0xFF) as u8);
    b.init(0x400B, (t >> 8) as u8 | 0x08);
    // $80 then a $400B write: silent at once (next quarter frame).
    b.at(30, 0x4008, 0xFF);
    b.at(30, 0x400B, (t >> 8) as u8 | 0x08);
    b.at(45, 0x4008, 0x80);
    b.at(45, 0x400B, (t >> 8) as u8 | 0x08);
    let rate = 44_100;
    let v = render_voices(&b.build("tri"), &RenderOptions { sample_rate: rate });
    let env = rms_envelope(&v[2], 441);
    let loud = env.iter().cloned().fold(0.0, f64::max);
    let sounding = |ms: usize| env[ms / 10] > loud * 0.3;
    let silent = |ms: usize| env[ms / 10] < loud * 0.01;
    assert!(sounding(50), "sounds at 50 ms");
    // 24 quarter frames = 24 * 7457.5 cycles = 100 ms (+ up to one quarter frame to start).
    assert!(
        silent(125) && silent(400),
        "linear counter stopped it: {:?}",
        &env[8..16]
    );
    assert!(sounding(600) && sounding(700), "$FF keeps it sounding");
    assert!(silent(770) && silent(950), "$80 + $400B silences it");
}

#[test]
fn envelope_decay_timing() {
    let region = Region::Ntsc;
    let rate = 48_000;
    for period in [0u8, 2, 5] {
        let t = pulse_timer(region, 72.0);
        let mut b = StreamBuilder::new(region, 80);
        b.init(0x4015, 0x01);
        b.init(0x4001, 0x08);
        b.init(0x4000, 0x80 | period); // duty 2, decay
        b.init(0x4002, (t & 0xFF) as u8);
        b.init(0x4003, (t >> 8) as u8 | 0x08);
        let v = render_voices(&b.build("env"), &RenderOptions { sample_rate: rate });
        let env = rms_envelope(&v[0], 480);
        let last = env.iter().rposition(|&r| r > 1e-4).unwrap();
        // Restart at the first quarter frame, then 15 steps of period + 1 quarter frames.
        let quarter = 29_830.0 / 4.0 / region.cpu_hz();
        let expect = (1.0 + 15.0 * (f64::from(period) + 1.0)) * quarter;
        let got = (last + 1) as f64 * 0.01;
        println!("envelope period {period}: silent after {got:.3} s, expected {expect:.3} s");
        assert!((got - expect).abs() <= 0.015, "{got} vs {expect}");
        // Loudness falls: the first 50 ms is louder than a later slice.
        assert!(env[1] > env[last / 2 + 1] * 1.5);
    }
}

struct Edges(Vec<u64>);
impl LevelSink for Edges {
    fn level(&mut self, voice: usize, cycle: u64, _level: f32) {
        if voice == 3 {
            self.0.push(cycle);
        }
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

#[test]
fn noise_period_in_both_modes_and_regions() {
    for (region, index, expect) in [
        (Region::Ntsc, 4u8, 64u64),
        (Region::Ntsc, 15, 4068),
        (Region::Pal, 2, 14),
        (Region::Pal, 13, 944),
    ] {
        for mode in [0u8, 0x80] {
            let mut apu = Apu::new(region);
            let mut edges = Edges(Vec::new());
            for (a, v) in [
                (0x4015, 0x08),
                (0x400C, 0x3F),
                (0x400E, mode | index),
                (0x400F, 0x08),
            ] {
                apu.write(a, v, &mut edges);
            }
            apu.run_to(expect * 2000, &mut edges);
            assert!(edges.0.len() > 100, "{region:?} {index} {mode}");
            let g = edges.0.windows(2).fold(0, |g, w| gcd(g, w[1] - w[0]));
            assert_eq!(g, expect, "{region:?} index {index} mode {mode:#x}");
        }
    }
}

#[test]
fn wav_file_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out/note.wav");
    let stream = pulse_note(Region::Pal, 200, 2, 25);
    for rate in [44_100u32, 48_000] {
        let samples = render(&stream, &RenderOptions { sample_rate: rate });
        write_wav(&path, &samples, rate).unwrap();
        let r = hound::WavReader::open(&path).unwrap();
        let spec = r.spec();
        assert_eq!(
            (spec.channels, spec.sample_rate, spec.bits_per_sample),
            (1, rate, 16)
        );
        assert_eq!(r.duration() as usize, samples.len());
        // 25 PAL frames = 0.49993 s.
        let secs = samples.len() as f64 / f64::from(rate);
        assert!((secs - 25.0 / Region::Pal.frame_hz()).abs() < 1.0 / f64::from(rate) * 2.0);
        let back: Vec<i16> = r.into_samples::<i16>().map(|s| s.unwrap()).collect();
        let i = samples.len() / 2;
        assert!((f32::from(back[i]) / 32767.0 - samples[i]).abs() < 1e-4);
    }
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
    assert_eq!(names.len(), 1, "no temporary file left behind");
    // A directory where the file should go is an error naming the path.
    let e = write_wav(dir.path(), &[0.0; 10], 44_100)
        .unwrap_err()
        .to_string();
    assert!(e.contains(&dir.path().display().to_string()), "{e}");
}
