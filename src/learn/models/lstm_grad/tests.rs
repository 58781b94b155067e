//! The hand-written gradients against candle's autograd.

use super::*;
use crate::learn::data::vocab::Vocab;
use crate::learn::models::lstm::small_seeded_lstm;
use candle_nn::VarMap;
use rand::SeedableRng;

fn model(dropout: f32) -> (VarMap, NoteLstm) {
    let vocab = Vocab::four_voices([(60, 66), (50, 60), (40, 44), (1, 6)]);
    small_seeded_lstm(vocab, dropout)
}

fn batch(model: &NoteLstm, b: usize, t: usize, seed: u64) -> (Tensor, Tensor, Tensor) {
    let mut rng = StdRng::seed_from_u64(seed);
    let sizes: Vec<u32> = model
        .config
        .vocab
        .ranges
        .iter()
        .map(|r| r.size() as u32)
        .collect();
    let mut tok = |k: usize| rng.random_range(0..sizes[k % 4]);
    let x: Vec<u32> = (0..b * t * 4).map(&mut tok).collect();
    let y: Vec<u32> = (0..b * t * 4).map(&mut tok).collect();
    let m: Vec<f32> = (0..b * t)
        .map(|k| if k % 7 == 3 { 0.0 } else { 1.0 })
        .collect();
    let dev = Device::Cpu;
    (
        Tensor::from_vec(x, (b, t, 4), &dev).unwrap(),
        Tensor::from_vec(y, (b, t, 4), &dev).unwrap(),
        Tensor::from_vec(m, (b, t), &dev).unwrap(),
    )
}

/// Loss and the gradient of every variable match candle's autograd on `NoteLstm::nll`,
/// with dropout (same mask draws) and a partly masked batch.
#[test]
fn matches_candle_autograd() {
    for dropout in [0.0, 0.3] {
        let (varmap, model) = model(dropout);
        let (x, y, m) = batch(&model, 3, 9, 5);
        let mut r1 = StdRng::seed_from_u64(11);
        let mut r2 = StdRng::seed_from_u64(11);
        let (nll, grads) = model.nll_grads(&x, &y, &m, Some(&mut r1)).unwrap();
        let parts = model.nll(&x, &y, &m, Some(&mut r2)).unwrap();
        assert_eq!(
            r1.random::<u64>(),
            r2.random::<u64>(),
            "same number of draws"
        );
        let mut loss = parts[0].clone();
        for p in &parts[1..] {
            loss = loss.add(p).unwrap();
        }
        for (a, p) in nll.iter().zip(&parts) {
            let want = p.to_scalar::<f32>().unwrap();
            assert!(
                (a - want).abs() < 1e-5 * want.abs().max(1.0),
                "{a} vs {want}"
            );
        }
        let reference = loss.backward().unwrap();
        let vars = varmap.all_vars();
        assert_eq!(vars.len(), 32);
        for var in vars {
            let want = flat(reference.get(var.as_tensor()).unwrap()).unwrap();
            let got = grads
                .get(var.as_tensor())
                .expect("every variable has a gradient");
            assert_eq!(got.len(), want.len());
            let scale = want.iter().fold(0f32, |a, x| a.max(x.abs()));
            let diff = got
                .iter()
                .zip(&want)
                .fold(0f32, |a, (g, w)| a.max((g - w).abs()));
            assert!(scale > 0.0, "zero gradient");
            assert!(
                diff < 1e-5 * scale.max(1e-2),
                "dropout {dropout}: {diff} vs {scale}"
            );
        }
    }
}

/// Carried-state training: from a non-zero state, the loss, the final state and the
/// gradient of every variable match candle's autograd (the state itself a constant).
#[test]
fn carried_state_matches_candle_autograd() {
    let (varmap, model) = model(0.3);
    let (x, y, m) = batch(&model, 3, 7, 8);
    let mut srng = StdRng::seed_from_u64(4);
    let state0: Vec<Vec<f32>> = (0..2)
        .map(|_| {
            (0..3 * 24)
                .map(|_| srng.random_range(-0.8f32..0.8))
                .collect()
        })
        .collect();
    let tensors: Vec<Tensor> = state0
        .iter()
        .map(|s| Tensor::from_slice(s, (3, 24), &Device::Cpu).unwrap())
        .collect();
    let mut r1 = StdRng::seed_from_u64(2);
    let mut r2 = StdRng::seed_from_u64(2);
    let run = model
        .nll_carried(&x, &y, &m, Some(&mut r1), Some(&state0), true)
        .unwrap();
    let (parts, last) = model
        .nll_from(&x, &y, &m, Some(&mut r2), Some(&tensors))
        .unwrap();
    for (a, p) in run.nll.iter().zip(&parts) {
        let want = p.to_scalar::<f32>().unwrap();
        assert!((a - want).abs() < 1e-5 * want.max(1.0), "{a} vs {want}");
    }
    for (got, want) in run.state.iter().zip(&last) {
        let want = flat(want).unwrap();
        let diff = got
            .iter()
            .zip(&want)
            .fold(0f32, |a, (g, w)| a.max((g - w).abs()));
        assert!(diff < 1e-5, "final state differs by {diff}");
    }
    let mut loss = parts[0].clone();
    for p in &parts[1..] {
        loss = loss.add(p).unwrap();
    }
    let reference = loss.backward().unwrap();
    let grads = run.grads.unwrap();
    for var in varmap.all_vars() {
        let want = flat(reference.get(var.as_tensor()).unwrap()).unwrap();
        let got = grads.get(var.as_tensor()).unwrap();
        let scale = want.iter().fold(0f32, |a, x| a.max(x.abs()));
        let diff = got
            .iter()
            .zip(&want)
            .fold(0f32, |a, (g, w)| a.max((g - w).abs()));
        assert!(diff < 1e-5 * scale.max(1e-2), "{diff} vs {scale}");
    }
}

/// Two windows with the state handed from the first to the second score exactly what one
/// window of both does: the state carries the whole context.
#[test]
fn carried_state_continues_a_window() {
    let (_varmap, model) = model(0.0);
    let (x, y, _) = batch(&model, 2, 12, 6);
    let ones = Tensor::ones((2, 12), DType::F32, &Device::Cpu).unwrap();
    let whole = model.nll_carried(&x, &y, &ones, None, None, false).unwrap();
    let half = |t: &Tensor, from| t.narrow(1, from, 6).unwrap();
    let a = model
        .nll_carried(
            &half(&x, 0),
            &half(&y, 0),
            &half(&ones, 0),
            None,
            None,
            false,
        )
        .unwrap();
    let b = model
        .nll_carried(
            &half(&x, 6),
            &half(&y, 6),
            &half(&ones, 6),
            None,
            Some(&a.state),
            false,
        )
        .unwrap();
    let fresh = model
        .nll_carried(
            &half(&x, 6),
            &half(&y, 6),
            &half(&ones, 6),
            None,
            None,
            false,
        )
        .unwrap();
    for v in 0..4 {
        let joined = (a.nll[v] + b.nll[v]) / 2.0;
        assert!((joined - whole.nll[v]).abs() < 1e-5, "voice {v}");
    }
    assert!(
        (0..4).any(|v| (fresh.nll[v] - b.nll[v]).abs() > 1e-4),
        "the carried state changes the second window's scores"
    );
    for (s, w) in b.state.iter().zip(&whole.state) {
        let diff = s.iter().zip(w).fold(0f32, |a, (p, q)| a.max((p - q).abs()));
        assert!(diff < 1e-5, "final state differs by {diff}");
    }
    // Only the loss when no gradients are asked for, and a state of the wrong size is an
    // error.
    assert!(whole.grads.is_none());
    assert!(model
        .nll_carried(&x, &y, &ones, None, Some(&a.state[..1]), false)
        .is_err());
}

/// A token outside a voice's vocabulary, mismatched shapes and an empty batch are errors,
/// not panics.
#[test]
fn rejects_out_of_range_tokens() {
    let (_varmap, model) = model(0.0);
    let (x, y, m) = batch(&model, 2, 3, 1);
    let mut bad = y.flatten_all().unwrap().to_vec1::<u32>().unwrap();
    bad[5] = 1000;
    let bad = Tensor::from_vec(bad, (2, 3, 4), &Device::Cpu).unwrap();
    let err = model.nll_grads(&x, &bad, &m, None).unwrap_err();
    assert!(err.to_string().contains("outside the vocabulary"), "{err}");
    assert!(model
        .nll_grads(&x, &y, &m.narrow(1, 0, 2).unwrap(), None)
        .is_err());
    let empty = x.narrow(1, 0, 0).unwrap();
    let m0 = m.narrow(1, 0, 0).unwrap();
    let err = model.nll_grads(&empty, &empty, &m0, None).unwrap_err();
    assert!(err.to_string().contains("empty batch"), "{err}");
}
