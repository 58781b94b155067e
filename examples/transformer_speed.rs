//! Training speed of the event Transformer on fixed tokens: tokens per second of forward,
//! backward and AdamW step, after one untimed warm-up step, per wall second and per CPU-second
//! of the process (the last line is JSON, read by `benches/transformer_torch.py`).
//! `cargo run --release --example transformer_speed -- D L H FF CTX B STEPS`
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use nesmm::learn::models::transformer::{init_from_seed, Transformer, TransformerConfig};
use nesmm::learn::train::optim::{AdamW, AdamWParams};
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let a: Vec<usize> = std::env::args()
        .skip(1)
        .map(|s| s.parse().unwrap())
        .collect();
    let arg = |i: usize, d: usize| a.get(i).copied().unwrap_or(d);
    let cfg = TransformerConfig {
        coding: nesmm::learn::data::coding::Coding::Notes,
        vocab: 360,
        d_model: arg(0, 256),
        layers: arg(1, 4),
        heads: arg(2, 4),
        d_ff: arg(3, 1024),
        dropout: 0.1,
        context: arg(4, 1024),
        rope_base: 10000.0,
    };
    let (b, steps) = (arg(5, 4), arg(6, 3));
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let model = Transformer::new(cfg.clone(), vb)?;
    init_from_seed(&varmap, &cfg, 1)?;
    let mut opt = AdamW::new(&varmap, AdamWParams::default())?;
    let t = cfg.context;
    let ids: Vec<u32> = (0..b * t).map(|i| (i * 7919 % 360) as u32).collect();
    let x = Tensor::from_vec(ids.clone(), (b, t), &Device::Cpu)?;
    let y = Tensor::from_vec(
        ids.iter().map(|v| (v + 1) % 360).collect::<Vec<_>>(),
        (b, t),
        &Device::Cpu,
    )?;
    let m = Tensor::ones((b, t), DType::F32, &Device::Cpu)?;
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(1);
    let mut train_step = || -> anyhow::Result<()> {
        let loss = (model.nll(&x, &y, &m, Some(&mut rng))? / (b * t) as f64)?;
        let g = loss.backward()?;
        opt.step(&g, 1e-3)?;
        Ok(())
    };
    train_step()?;
    let c0 = process_cpu_s();
    let start = Instant::now();
    for _ in 0..steps {
        train_step()?;
    }
    let s = start.elapsed().as_secs_f64();
    let tokens = (b * t * steps) as f64;
    let cpu = (process_cpu_s() - c0).max(1e-9);
    println!(
        "params {} tokens/s {:.0} ({:.2} s/step), tokens per CPU-second {:.0}",
        cfg.parameters(),
        tokens / s,
        s / steps as f64,
        tokens / cpu
    );
    println!(
        "{{\"train_tokens_per_s\": {:.1}, \"train_tokens_per_cpu_s\": {:.1}, \"s_per_step\": {:.3}}}",
        tokens / s,
        tokens / cpu,
        s / steps as f64
    );
    Ok(())
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
