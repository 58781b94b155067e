//! Tests of the Transformer's training run: exact resume, falling loss.
use super::*;
use crate::learn::models::model_dir::varmap_tensors;

fn set(n: usize, salt: usize) -> EventSet {
    let songs = (0..n)
        .map(|s| {
            let notes: Vec<[u8; 4]> = (0..150 + 40 * s)
                .map(|i| {
                    let k = i + s * salt;
                    [
                        40 + (k / 3 % 12) as u8,
                        50 + (k / 5 % 7) as u8,
                        30 + (k / 7 % 5) as u8,
                        (k % 3) as u8,
                    ]
                })
                .collect();
            (
                format!("song{s}"),
                crate::learn::data::coding::frames_of_notes(&notes),
            )
        })
        .collect();
    EventSet::new(Coding::Notes, songs).unwrap()
}

fn opts() -> RunOptions {
    let mut o = RunOptions::cpu_default(Coding::Notes);
    o.model.d_model = 16;
    o.model.layers = 1;
    o.model.heads = 2;
    o.model.d_ff = 32;
    o.model.context = 48;
    o.batch = 3;
    o.warmup = 2;
    o.epochs = 2;
    o.valid_every = 2;
    o.valid_sample = 2;
    o
}

fn weights(run: &Run) -> Vec<(String, Vec<f32>)> {
    let mut w: Vec<(String, Vec<f32>)> = varmap_tensors(&run.varmap)
        .into_iter()
        .map(|(k, t)| (k, t.flatten_all().unwrap().to_vec1::<f32>().unwrap()))
        .collect();
    w.sort_by(|a, b| a.0.cmp(&b.0));
    w
}

#[test]
fn a_resumed_run_ends_with_the_same_weights_bit_for_bit() {
    let (train_set, valid_set) = (set(4, 1), set(2, 5));
    let dir = tempfile::tempdir().unwrap();
    let limits = |steps| RunLimits {
        max_steps: Some(steps),
        checkpoint_minutes: 1e9,
        ..RunLimits::default()
    };
    let straight_dir = dir.path().join("straight");
    let mut straight = Run::open(
        opts(),
        &train_set,
        &valid_set,
        &Device::Cpu,
        &straight_dir,
        false,
    )
    .unwrap();
    train(&mut straight, &straight_dir, &limits(20)).unwrap();
    assert_eq!(straight.state.step, 20);
    assert!(straight.steps_per_epoch() < 20, "the run crosses an epoch");

    let broken_dir = dir.path().join("broken");
    for stop in [5, 13, 20] {
        let mut run = Run::open(
            opts(),
            &train_set,
            &valid_set,
            &Device::Cpu,
            &broken_dir,
            stop > 5,
        )
        .unwrap();
        train(&mut run, &broken_dir, &limits(stop)).unwrap();
        assert_eq!(run.state.step, stop);
        if stop == 20 {
            assert_eq!(weights(&run), weights(&straight));
            let key = |r: &Run| -> Vec<(usize, u64, String)> {
                let c = &r.state.curve;
                c.iter()
                    .map(|p| {
                        (
                            p.step,
                            p.tokens_seen,
                            format!("{:.9}", p.valid_nats_per_token),
                        )
                    })
                    .collect()
            };
            assert_eq!(key(&run), key(&straight));
        }
    }
    // One complete generation is kept; a half-written one is ignored and removed.
    let last = broken_dir.join("last");
    std::fs::create_dir_all(last.join(".tmp-gen-000000029-1")).unwrap();
    let gen = store::newest_generation(&broken_dir).unwrap().unwrap();
    assert!(gen.ends_with("gen-000000020"), "{gen:?}");
    assert_eq!(std::fs::read_dir(&last).unwrap().count(), 1);
}

#[test]
fn the_loss_falls_on_real_structure() {
    let (train_set, valid_set) = (set(4, 1), set(2, 1));
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts();
    o.lr = 3e-3;
    o.epochs = 30;
    o.augment = Augment::none();
    o.model.dropout = 0.0;
    let mut run = Run::open(o, &train_set, &valid_set, &Device::Cpu, dir.path(), false).unwrap();
    let first = run.validate(false).unwrap();
    assert!(first);
    let before = run.state.curve[0].valid_nats_per_token;
    train(
        &mut run,
        dir.path(),
        &RunLimits {
            max_steps: Some(60),
            checkpoint_minutes: 1e9,
            ..RunLimits::default()
        },
    )
    .unwrap();
    let after = run.state.curve.last().unwrap().valid_nats_per_token;
    assert!(after < before * 0.6, "{before} -> {after}");
}
