//! The trainer's tests: learning, checkpoints, exact resume and refusals.

use super::*;
use crate::learn::data::dataset::TokenSet;
use crate::learn::data::vocab::Vocab;
use crate::learn::models::model_dir;
use crate::learn::models::scoring::{carried_nll, window_nll};
use crate::learn::models::{ModelKind, VaeConfig};
use crate::score::Score;

/// The newest checkpoint generation of `dir`.
pub(crate) fn latest(dir: &std::path::Path) -> checkpoint::Generation {
    let ck = checkpoint::Checkpoints::open(dir).unwrap();
    ck.latest().expect("a checkpoint").clone()
}

/// A small synthetic corpus: arpeggios with a bass line and a drum pattern.
pub(crate) fn corpus(songs: usize, frames: usize) -> Vec<Score> {
    (0..songs)
        .map(|s| {
            let notes: Vec<[u8; 4]> = (0..frames)
                .map(|f| {
                    let root = 48 + (s as u8 % 5) * 2;
                    let arp = [0u8, 4, 7, 12][(f / 2) % 4];
                    let bass = if (f / 8) % 2 == 0 {
                        root - 12
                    } else {
                        root - 5
                    };
                    let drum = if f % 4 == 0 {
                        12
                    } else if f % 4 == 2 {
                        3
                    } else {
                        0
                    };
                    [root + arp, root + 7, bass, drum]
                })
                .collect();
            Score::from_notes(format!("s{s}"), 24.0, &notes)
        })
        .collect()
}

fn tiny(kind: ModelKind) -> TrainOptions {
    TrainOptions {
        carry_state: false,
        epochs: 3,
        batch: 4,
        seq: 16,
        embed: 4,
        hidden: 16,
        layers: 1,
        head_hidden: 8,
        dropout: 0.1,
        lr: 1e-2,
        warmup: 2,
        progress: false,
        ..TrainOptions::new(kind)
    }
}

fn sets(kind: ModelKind) -> (TokenSet, TokenSet) {
    let songs = corpus(6, 60);
    let vocab = Vocab::from_scores(&kind.voices(), &songs).unwrap();
    (
        TokenSet::from_scores(vocab.clone(), &songs[..5]),
        TokenSet::from_scores(vocab, &songs[5..]),
    )
}

#[test]
fn training_lowers_validation_nll_and_writes_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let (tr, va) = sets(ModelKind::LstmFull);
    let opts = TrainOptions {
        epochs: 10,
        lr: 3e-2,
        ..tiny(ModelKind::LstmFull)
    };
    let rep = train(&tr, &va, &opts, dir.path(), false).unwrap();
    let h = &rep.state.history;
    assert_eq!(h.len(), 10);
    assert!(h[9].valid_nll < h[0].valid_nll * 0.7, "{h:?}");
    for f in ["config.json", "model.safetensors", "checkpoints"] {
        assert!(dir.path().join(f).exists(), "{f}");
    }
    let loaded = model_dir::load_model(dir.path()).unwrap();
    let (best, _) = window_nll(&loaded.model, &va, opts.seq, 8).unwrap();
    assert!((best - rep.state.best_valid.unwrap()).abs() < 1e-4);
}

/// Carried state: validation scores whole songs with the state carried, training lowers
/// it, and the run's config records the mode (which sampling reads).
#[test]
fn carried_state_training_lowers_validation_nll() {
    let dir = tempfile::tempdir().unwrap();
    let (tr, va) = sets(ModelKind::LstmFull);
    let opts = TrainOptions {
        epochs: 6,
        lr: 3e-2,
        carry_state: true,
        ..tiny(ModelKind::LstmFull)
    };
    let rep = train(&tr, &va, &opts, dir.path(), false).unwrap();
    let h = &rep.state.history;
    assert!(h[5].valid_nll < h[0].valid_nll * 0.7, "{h:?}");
    assert!(latest(dir.path()).has("carry"));
    let loaded = model_dir::load_model(dir.path()).unwrap();
    let (best, _) = carried_nll(&loaded.model, &va, opts.seq, 3).unwrap();
    assert!((best - rep.state.best_valid.unwrap()).abs() < 1e-4);
    let (reset, _) = window_nll(&loaded.model, &va, opts.seq, 8).unwrap();
    assert!(
        (best - reset).abs() > 1e-4,
        "windows of 16 frames: the state matters"
    );
    let file = model_dir::read_config(dir.path()).unwrap();
    assert_eq!(file.training["carry_state"], serde_json::json!(true));
}

/// Two steps, stop, resume for two more equals four uninterrupted steps (with the state
/// carried, the resumed run must also pick up the lanes' states mid-song).
#[test]
fn resume_continues_exactly() {
    for carry_state in [false, true] {
        resume_continues_exactly_with(carry_state);
    }
}

fn resume_continues_exactly_with(carry_state: bool) {
    let (tr, va) = sets(ModelKind::LstmReduced);
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let mut o = tiny(ModelKind::LstmReduced);
    o.carry_state = carry_state;
    o.augment = 3; // augmentation and dropout draws must resume exactly too
    o.max_steps = Some(4);
    train(&tr, &va, &o, a.path(), false).unwrap();
    o.max_steps = Some(2);
    train(&tr, &va, &o, b.path(), false).unwrap();
    o.max_steps = Some(4);
    let r = train(&tr, &va, &o, b.path(), true).unwrap();
    assert_eq!(r.state.step, 4);
    let ta = latest(a.path()).tensors("model").unwrap();
    let tb = latest(b.path()).tensors("model").unwrap();
    assert_eq!(ta.len(), tb.len());
    for (k, x) in &ta {
        let d = model_dir::max_abs_diff(x, &tb[k]).unwrap();
        assert!(d <= 1e-6, "{k}: {d}");
    }
    // And differs from a 2-step model, so the comparison has teeth.
    let two = tempfile::tempdir().unwrap();
    o.max_steps = Some(2);
    train(&tr, &va, &o, two.path(), false).unwrap();
    let t2 = latest(two.path()).tensors("model").unwrap();
    assert!(ta
        .iter()
        .any(|(k, x)| model_dir::max_abs_diff(x, &t2[k]).unwrap() > 1e-6));
}

#[test]
fn bad_sizes_are_refused_before_anything_is_written() {
    let (tr, va) = sets(ModelKind::LstmFull);
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("run");
    for (opts, flag) in [
        (
            TrainOptions {
                hidden: 0,
                ..tiny(ModelKind::LstmFull)
            },
            "--hidden",
        ),
        (
            TrainOptions {
                head_hidden: 0,
                ..tiny(ModelKind::LstmFull)
            },
            "--head-hidden",
        ),
        (
            TrainOptions {
                dropout: 1.5,
                ..tiny(ModelKind::LstmFull)
            },
            "--dropout",
        ),
    ] {
        let e = train(&tr, &va, &opts, &out, false).unwrap_err().to_string();
        assert!(e.contains(flag), "{e}");
        assert!(!out.exists(), "{e}: {} was written", out.display());
    }
}

#[test]
fn free_bits_change_on_resume_of_a_vae_only() {
    let kind = ModelKind::VaeReduced;
    let (tr, va) = sets(kind);
    let d = tempfile::tempdir().unwrap();
    let o = TrainOptions {
        max_steps: Some(1),
        vae: VaeConfig {
            latent: 4,
            enc_hidden: 8,
            ..Default::default()
        },
        ..tiny(kind)
    };
    train(&tr, &va, &o, d.path(), false).unwrap();
    let before = model_dir::read_config(d.path()).unwrap();
    assert_eq!(before.model.vae.as_ref().unwrap().free_bits, 0.125);
    let again = TrainOptions {
        max_steps: Some(2),
        free_bits_on_resume: Some(0.5),
        ..o.clone()
    };
    let r = train(&tr, &va, &again, d.path(), true).unwrap();
    assert_eq!(r.state.step, 2);
    let after = model_dir::read_config(d.path()).unwrap();
    assert_eq!(after.model.vae.as_ref().unwrap().free_bits, 0.5);
    assert_eq!(after.training["vae"]["free_bits"], 0.5);
    let bad = TrainOptions {
        free_bits_on_resume: Some(-1.0),
        ..again.clone()
    };
    let e = train(&tr, &va, &bad, d.path(), true)
        .unwrap_err()
        .to_string();
    assert!(e.contains("--free-bits -1"), "{e}");

    let (tr, va) = sets(ModelKind::LstmReduced);
    let l = tempfile::tempdir().unwrap();
    let o = TrainOptions {
        max_steps: Some(1),
        ..tiny(ModelKind::LstmReduced)
    };
    train(&tr, &va, &o, l.path(), false).unwrap();
    let e = train(
        &tr,
        &va,
        &TrainOptions {
            free_bits_on_resume: Some(0.5),
            ..o
        },
        l.path(),
        true,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("VAE"), "{e}");
}

#[test]
fn resume_without_checkpoint_names_the_file() {
    let (tr, va) = sets(ModelKind::LstmReduced);
    let d = tempfile::tempdir().unwrap();
    let e = train(
        &tr,
        &va,
        &tiny(ModelKind::LstmReduced),
        &d.path().join("none"),
        true,
    )
    .unwrap_err();
    assert!(e.to_string().contains("config.json"), "{e}");
}
