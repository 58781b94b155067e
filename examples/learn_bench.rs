//! Training and sampling throughput of the LSTMs, printed as JSON lines; `benches/lstm_torch.py`
//! runs it next to the same model in PyTorch. Threads follow `RAYON_NUM_THREADS`.
//!
//! `cargo run --release --example learn_bench -- [hidden] [batch] [seq] [steps]`

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use nesmm::learn::generate::{generate, GenerateOptions, Model};
use nesmm::learn::lstm::{init_from_seed, ModelConfig, ModelKind, NoteLstm};
use nesmm::learn::optim::{AdamW, AdamWParams};
use nesmm::learn::vocab::{Vocab, VoiceName, VoiceVocab};
use rand::{Rng, SeedableRng};
use std::time::Instant;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (hidden, batch, seq, steps) = (
        *args.first().unwrap_or(&128),
        *args.get(1).unwrap_or(&32),
        *args.get(2).unwrap_or(&64),
        *args.get(3).unwrap_or(&10),
    );
    let vocab = Vocab {
        voices: vec![VoiceName::P1, VoiceName::P2, VoiceName::Tr, VoiceName::No],
        ranges: vec![
            VoiceVocab { lo: 33, hi: 108 },
            VoiceVocab { lo: 33, hi: 108 },
            VoiceVocab { lo: 21, hi: 108 },
            VoiceVocab { lo: 1, hi: 16 },
        ],
    };
    let cfg = ModelConfig {
        kind: ModelKind::LstmFull,
        vocab,
        embed: 32,
        hidden,
        layers: 2,
        head_hidden: 64,
        dropout: 0.0,
        vae: None,
    };
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let model = NoteLstm::new(cfg.clone(), vb).unwrap();
    init_from_seed(&varmap, &cfg, 1).unwrap();
    let mut opt = AdamW::new(&varmap, AdamWParams::default()).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let sizes: Vec<u32> = cfg.vocab.ranges.iter().map(|r| r.notes() as u32).collect();
    let toks: Vec<u32> = (0..batch * (seq + 1) * 4)
        .map(|i| rng.random_range(0..sizes[i % 4]))
        .collect();
    let x: Vec<u32> = (0..batch)
        .flat_map(|b| toks[b * (seq + 1) * 4..(b * (seq + 1) + seq) * 4].to_vec())
        .collect();
    let y: Vec<u32> = (0..batch)
        .flat_map(|b| toks[(b * (seq + 1) + 1) * 4..(b * (seq + 1) + seq + 1) * 4].to_vec())
        .collect();
    let x = Tensor::from_vec(x, (batch, seq, 4), &Device::Cpu).unwrap();
    let y = Tensor::from_vec(y, (batch, seq, 4), &Device::Cpu).unwrap();
    let m = Tensor::ones((batch, seq), DType::F32, &Device::Cpu).unwrap();
    let mut step = || {
        // The training path of `nesmm train`: hand-written backward, fused AdamW.
        let (_nll, g) = model.nll_grads(&x, &y, &m, None).unwrap();
        opt.step(&g, 1e-3).unwrap();
    };
    step();
    let c0 = process_cpu_s();
    let t0 = Instant::now();
    for _ in 0..steps {
        step();
    }
    let train_fps = (steps * batch * seq) as f64 / t0.elapsed().as_secs_f64();
    // Per second of CPU time of all threads (the recurrence's and gemm's helpers included).
    let train_fps_cpu = (steps * batch * seq) as f64 / (process_cpu_s() - c0).max(1e-9);
    // Sampling: batch 1, one thread, the bundled model when present (else this one).
    let sampler = Model::bundled_or(&model).unwrap();
    let opts = GenerateOptions {
        seconds: 600.0,
        ..Default::default()
    };
    generate(&sampler, &opts).unwrap();
    let c1 = thread_cpu_ns();
    let t1 = Instant::now();
    let mut frames = 0;
    for seed in 0..3 {
        frames += generate(
            &sampler,
            &GenerateOptions {
                seed,
                ..opts.clone()
            },
        )
        .unwrap()
        .len();
    }
    let sample_fps = frames as f64 / t1.elapsed().as_secs_f64();
    // Per second of CPU time of this thread: what an idle core would give on a shared machine.
    let sample_fps_cpu = frames as f64 / ((thread_cpu_ns() - c1) as f64 * 1e-9).max(1e-9);
    println!(
        "{{\"impl\": \"nesmm (fused LSTM, hand-written backward)\", \"threads\": {}, \"hidden\": {hidden}, \"batch\": {batch}, \"seq\": {seq}, \"train_frames_per_s\": {train_fps:.0}, \"train_frames_per_cpu_s\": {train_fps_cpu:.0}, \"sample_frames_per_s\": {sample_fps:.0}, \"sample_frames_per_cpu_s\": {sample_fps_cpu:.0}, \"sample_model\": \"{}\", \"sample_hidden\": {}}}",
        candle_core::utils::get_num_threads(),
        sampler.dir.display(),
        sampler.fast.config.hidden
    );
}

/// CPU seconds (user + system) of this process so far, threads that have exited included
/// (Linux `/proc/self/stat`, in clock ticks of 1/100 s; 0 elsewhere).
fn process_cpu_s() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|x| x.parse().ok())
        .collect();
    f.iter().sum::<u64>() as f64 / 100.0
}

/// Nanoseconds this thread has run on a CPU (Linux `/proc/thread-self/schedstat`; 0 elsewhere).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok()))
        .unwrap_or(0)
}
