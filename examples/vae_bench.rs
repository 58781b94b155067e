//! Training and sampling throughput of the VAEs with their default sizes, printed as JSON lines
//! in the format of `learn_bench` (the LSTMs' rows), so the two tables sit side by side.
//! Threads follow `RAYON_NUM_THREADS`.
//!
//! `cargo run --release --example vae_bench -- [steps]`

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use nesmm::learn::lstm::ModelKind;
use nesmm::learn::optim::{AdamW, AdamWParams};
use nesmm::learn::train::TrainOptions;
use nesmm::learn::vae::{init_from_seed, NoteVae};
use nesmm::learn::vae_decode::{generate, VaeModel, VaeOptions};
use nesmm::learn::vocab::{Vocab, VoiceName, VoiceVocab};
use rand::{Rng, SeedableRng};
use std::time::Instant;

fn main() {
    let steps: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10);
    for kind in [ModelKind::VaeReduced, ModelKind::VaeFull] {
        bench(kind, steps);
    }
}

fn bench(kind: ModelKind, steps: usize) {
    let all = [
        (VoiceName::P1, VoiceVocab { lo: 33, hi: 108 }),
        (VoiceName::P2, VoiceVocab { lo: 33, hi: 108 }),
        (VoiceName::Tr, VoiceVocab { lo: 21, hi: 108 }),
        (VoiceName::No, VoiceVocab { lo: 1, hi: 16 }),
    ];
    let n = kind.voices().len();
    let vocab = Vocab {
        voices: all[..n].iter().map(|a| a.0).collect(),
        ranges: all[..n].iter().map(|a| a.1).collect(),
    };
    let opts = TrainOptions::new(kind);
    let cfg = nesmm::learn::lstm::ModelConfig {
        kind,
        vocab,
        embed: opts.embed,
        hidden: opts.hidden,
        layers: opts.layers,
        head_hidden: opts.head_hidden,
        dropout: opts.dropout,
        vae: Some(nesmm::learn::vae::VaeConfig {
            window: opts.seq,
            ..opts.vae.clone()
        }),
    };
    let (batch, seq) = (opts.batch, opts.seq);
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let model = NoteVae::new(cfg.clone(), vb).unwrap();
    init_from_seed(&varmap, 1).unwrap();
    let mut opt = AdamW::new(&varmap, AdamWParams::default()).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let sizes: Vec<u32> = cfg.vocab.ranges.iter().map(|r| r.notes() as u32).collect();
    let toks: Vec<u32> = (0..batch * (seq + 1) * n)
        .map(|i| rng.random_range(0..sizes[i % n]))
        .collect();
    let x: Vec<u32> = (0..batch)
        .flat_map(|b| toks[b * (seq + 1) * n..(b * (seq + 1) + seq) * n].to_vec())
        .collect();
    let y: Vec<u32> = (0..batch)
        .flat_map(|b| toks[(b * (seq + 1) + 1) * n..(b * (seq + 1) + seq + 1) * n].to_vec())
        .collect();
    let x = Tensor::from_vec(x, (batch, seq, n), &Device::Cpu).unwrap();
    let y = Tensor::from_vec(y, (batch, seq, n), &Device::Cpu).unwrap();
    let m = Tensor::ones((batch, seq), DType::F32, &Device::Cpu).unwrap();
    let mut s = 0;
    let mut step = || {
        let parts = model.training_loss(&x, &y, &m, &mut rng, s).unwrap();
        let loss = parts
            .iter()
            .skip(1)
            .fold(parts[0].clone(), |a, b| a.add(b).unwrap());
        let g = loss.backward().unwrap();
        opt.step(&g, 1e-3).unwrap();
        s += 1;
    };
    step();
    let t0 = Instant::now();
    for _ in 0..steps {
        step();
    }
    let train_fps = (steps * batch * seq) as f64 / t0.elapsed().as_secs_f64();
    // Sampling from the prior: the bundled model when present, else this one.
    let sampler = match nesmm::learn::generate::bundled_model_dir(kind.name())
        .and_then(|d| VaeModel::load(&d))
    {
        Ok(m) => m,
        Err(_) => VaeModel {
            dir: "random".into(),
            net: model.clone(),
            varmap: varmap.clone(),
        },
    };
    let o = VaeOptions::default();
    generate(&sampler, 10.0, "warm", &o).unwrap();
    let c1 = thread_cpu_ns();
    let t1 = Instant::now();
    let mut frames = 0;
    for seed in 0..3 {
        frames += generate(&sampler, 60.0, "b", &VaeOptions { seed, ..o.clone() })
            .unwrap()
            .len();
    }
    let sample_fps = frames as f64 / t1.elapsed().as_secs_f64();
    let sample_fps_cpu = frames as f64 / ((thread_cpu_ns() - c1) as f64 * 1e-9).max(1e-9);
    println!(
        "{{\"impl\": \"nesmm {} (candle + fused LSTM)\", \"threads\": {}, \"hidden\": {}, \"batch\": {batch}, \"seq\": {seq}, \"train_frames_per_s\": {train_fps:.0}, \"sample_frames_per_s\": {sample_fps:.0}, \"sample_frames_per_cpu_s\": {sample_fps_cpu:.0}, \"sample_model\": \"{}\"}}",
        kind.name(),
        candle_core::utils::get_num_threads(),
        cfg.hidden,
        sampler.dir.display(),
    );
}

/// Nanoseconds this thread has run on a CPU (Linux `/proc/thread-self/schedstat`; 0 elsewhere).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok()))
        .unwrap_or(0)
}
