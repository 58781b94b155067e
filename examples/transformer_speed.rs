//! Training speed of the event Transformer on random tokens: tokens per second of forward,
//! backward and AdamW step. `cargo run --release --example transformer_speed -- D L H FF CTX B STEPS`
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
    let start = Instant::now();
    for _ in 0..steps {
        let loss = (model.nll(&x, &y, &m, Some(&mut rng))? / (b * t) as f64)?;
        let g = loss.backward()?;
        opt.step(&g, 1e-3)?;
    }
    let s = start.elapsed().as_secs_f64();
    println!(
        "params {} tokens/s {:.0} ({:.2} s/step)",
        cfg.parameters(),
        (b * t * steps) as f64 / s,
        s / steps as f64
    );
    Ok(())
}
