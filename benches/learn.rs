//! Throughput of the LSTMs: one training step of the default full model (frames/s as
//! criterion's elements/s), the fused LSTM layer against `candle_nn::lstm` (forward +
//! backward), and batch-1 sampling with the fast path. `benches/lstm_torch.py` compares with
//! PyTorch.

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap, RNN};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use nesmm::learn::fused_lstm::FusedLstm;
use nesmm::learn::generate::{generate, GenerateOptions, Model};
use nesmm::learn::lstm::{init_from_seed, ModelConfig, ModelKind, NoteLstm};
use nesmm::learn::optim::{AdamW, AdamWParams};
use nesmm::learn::vocab::{Vocab, VoiceName, VoiceVocab};
use rand::{Rng, SeedableRng};

const B: usize = 32;
const T: usize = 64;

fn config() -> ModelConfig {
    let r = |lo, hi| VoiceVocab { lo, hi };
    ModelConfig {
        kind: ModelKind::LstmFull,
        vocab: Vocab {
            voices: vec![VoiceName::P1, VoiceName::P2, VoiceName::Tr, VoiceName::No],
            ranges: vec![r(33, 108), r(33, 108), r(21, 108), r(1, 16)],
        },
        embed: 32,
        hidden: 128,
        layers: 2,
        head_hidden: 64,
        dropout: 0.0,
        vae: None,
    }
}

fn learn(c: &mut Criterion) {
    let cfg = config();
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let model = NoteLstm::new(cfg.clone(), vb).unwrap();
    init_from_seed(&varmap, &cfg, 1).unwrap();
    let mut opt = AdamW::new(&varmap, AdamWParams::default()).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let toks: Vec<u32> = (0..B * T * 4)
        .map(|i| rng.random_range(0..[77, 77, 89, 17][i % 4]))
        .collect();
    let x = Tensor::from_vec(toks.clone(), (B, T, 4), &Device::Cpu).unwrap();
    let y = Tensor::from_vec(
        toks[4..]
            .iter()
            .chain(&toks[..4])
            .copied()
            .collect::<Vec<u32>>(),
        (B, T, 4),
        &Device::Cpu,
    )
    .unwrap();
    let m = Tensor::ones((B, T), DType::F32, &Device::Cpu).unwrap();

    let mut g = c.benchmark_group("learn");
    g.sample_size(10);
    g.throughput(Throughput::Elements((B * T) as u64));
    g.bench_function("train_step_full_h128_b32_t64", |b| {
        b.iter(|| {
            let (_nll, grads) = model.nll_grads(&x, &y, &m, None).unwrap();
            opt.step(&grads, 1e-3).unwrap();
        })
    });
    // The same step through candle's autograd (what training used before `nll_grads`).
    g.bench_function("train_step_full_h128_b32_t64_autograd", |b| {
        b.iter(|| {
            let nll = model.nll(&x, &y, &m, None).unwrap();
            let loss = nll
                .iter()
                .skip(1)
                .fold(nll[0].clone(), |a, b| a.add(b).unwrap());
            let grads = loss.backward().unwrap();
            opt.step(&grads, 1e-3).unwrap();
        })
    });

    // One LSTM layer, forward + backward: fused op vs candle_nn::lstm.
    let input = Tensor::randn(0f32, 1.0, (B, T, 128), &Device::Cpu).unwrap();
    let vm2 = VarMap::new();
    let fused = FusedLstm::new(
        128,
        128,
        VarBuilder::from_varmap(&vm2, DType::F32, &Device::Cpu).pp("f"),
    )
    .unwrap();
    let reference = candle_nn::lstm(
        128,
        128,
        Default::default(),
        VarBuilder::from_varmap(&vm2, DType::F32, &Device::Cpu).pp("r"),
    )
    .unwrap();
    g.bench_function("lstm_layer_fused_fwd_bwd", |b| {
        b.iter(|| {
            let s = fused.zero_state(B, &Device::Cpu).unwrap();
            let out = fused.forward(&input, &s).unwrap();
            out.sum_all().unwrap().backward().unwrap()
        })
    });
    g.bench_function("lstm_layer_candle_nn_fwd_bwd", |b| {
        b.iter(|| {
            let states = reference.seq(&input).unwrap();
            let out = reference.states_to_tensor(&states).unwrap();
            out.sum_all().unwrap().backward().unwrap()
        })
    });

    // Sampling: batch 1, the bundled model when present.
    let sampler = Model::bundled_or(&model).unwrap();
    let opts = GenerateOptions {
        seconds: 60.0,
        ..Default::default()
    };
    g.throughput(Throughput::Elements(60 * 24));
    g.bench_function("sample_full_60s", |b| {
        b.iter(|| generate(&sampler, &opts).unwrap())
    });
    g.finish();
}

criterion_group!(benches, learn);
criterion_main!(benches);
