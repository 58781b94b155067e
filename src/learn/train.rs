//! Training: AdamW with warmup + cosine learning rate, global-norm gradient clipping,
//! truncated BPTT over windows, either shuffled with the state reset per window or played
//! song after song in batch lanes with the state carried across windows (`carry_state`; see
//! [`super::dataset`]), validation NLL after each epoch, best and last checkpoints, and exact
//! resume.
//!
//! A run is a pure function of its options and data: weights are drawn from `seed`, the window
//! (or song) order of epoch `e` from `(seed, e)`, the dropout masks and transpositions of step
//! `s` from `(seed, s)`. The `last/` checkpoint stores weights, optimizer moments, `(epoch,
//! batch, step)` and the carried state, so `--resume` continues with exactly the batches and
//! states an uninterrupted run would see.

use super::checkpoint::{self, ModelFile};
use super::dataset::{
    epoch_order, make_batch, make_lane_batch, Batch, LanePlan, LaneWindow, TokenSet,
    MAX_RUN_WINDOWS,
};
pub use super::device::TrainDevice;
use super::lstm::{ModelConfig, ModelKind, NoteLstm};
use super::net::Net;
use super::optim::{learning_rate, AdamW, AdamWParams};
use crate::error::{Error, Result};
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;

/// Hyper-parameters and limits of a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    pub kind: ModelKind,
    pub epochs: usize,
    pub batch: usize,
    pub seq: usize,
    pub embed: usize,
    pub hidden: usize,
    pub layers: usize,
    pub head_hidden: usize,
    pub dropout: f32,
    pub lr: f64,
    /// Final learning rate as a fraction of `lr`.
    pub lr_floor: f64,
    pub warmup: usize,
    pub weight_decay: f64,
    pub clip: f64,
    pub seed: u64,
    /// Largest transposition in semitones (0 = no augmentation).
    pub augment: i32,
    /// Stop (after saving) once this many optimizer steps are done in total.
    pub max_steps: Option<usize>,
    /// Stop (after saving) after this many minutes of this invocation.
    pub max_minutes: Option<f64>,
    /// Save `last/` at least this often (minutes).
    pub checkpoint_minutes: f64,
    /// Show a progress bar.
    pub progress: bool,
    /// LSTMs: carry the state from each window to the next window of the same song (songs
    /// dealt to batch lanes) instead of resetting it per shuffled window. Sampling then runs
    /// the state over the whole song.
    #[serde(default)]
    pub carry_state: bool,
    /// VAE only: latent size, encoder LSTM size, free bits (nats per latent dimension) and KL
    /// warmup steps (see [`super::vae`]); `seq` is the VAE's window.
    #[serde(default)]
    pub vae: super::vae::VaeConfig,
    /// Where the model trains (not stored: a run may resume on another device).
    #[serde(skip)]
    pub device: TrainDevice,
    /// `--resume` of a VAE only: a new free-bits floor from here on (written to config.json).
    #[serde(skip)]
    pub free_bits_on_resume: Option<f32>,
}

impl TrainOptions {
    /// Defaults for `kind`, sized for a 2-core CPU: the bundled models were trained with them
    /// (and `epochs` 6 / 3). Dropout is off because a few epochs of 3.5 M frames leave a model
    /// of this size underfitted, not overfitted. LSTMs carry their state across windows (see
    /// [`super::dataset`]); a VAE encodes one window at a time.
    pub fn new(kind: ModelKind) -> TrainOptions {
        TrainOptions {
            kind,
            epochs: 2,
            batch: 32,
            seq: 64,
            embed: 32,
            hidden: 128,
            layers: 2,
            head_hidden: 64,
            dropout: 0.0,
            lr: 3e-3,
            lr_floor: 0.05,
            warmup: 200,
            weight_decay: 0.01,
            clip: 1.0,
            seed: 1,
            augment: 0,
            max_steps: None,
            max_minutes: None,
            checkpoint_minutes: 5.0,
            progress: true,
            carry_state: !kind.is_vae(),
            vae: super::vae::VaeConfig::default(),
            device: TrainDevice::Cpu,
            free_bits_on_resume: None,
        }
        .with_vae_defaults()
    }

    fn model_config(&self, vocab: super::vocab::Vocab) -> ModelConfig {
        ModelConfig {
            kind: self.kind,
            vocab,
            embed: self.embed,
            hidden: self.hidden,
            layers: self.layers,
            head_hidden: self.head_hidden,
            dropout: self.dropout,
            vae: self.kind.is_vae().then(|| super::vae::VaeConfig {
                window: self.seq,
                ..self.vae.clone()
            }),
        }
    }
}

/// Validation NLL of one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    pub step: usize,
    pub train_loss: f64,
    pub valid_nll: f64,
    pub valid_nll_voices: Vec<f64>,
}

/// Progress saved in `last/state.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    pub epoch: usize,
    pub batch_in_epoch: usize,
    pub step: usize,
    pub best_valid: Option<f64>,
    pub history: Vec<EpochRecord>,
    pub train_seconds: f64,
    pub frames_seen: u64,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct TrainReport {
    pub state: TrainState,
    /// Training frames per second of this invocation.
    pub frames_per_sec: f64,
    pub last_valid_nll: Option<f64>,
}

fn tensors(b: &Batch, dev: &Device) -> candle_core::Result<(Tensor, Tensor, Tensor)> {
    Ok((
        Tensor::from_vec(b.inputs.clone(), (b.batch, b.seq, b.width), dev)?,
        Tensor::from_vec(b.targets.clone(), (b.batch, b.seq, b.width), dev)?,
        Tensor::from_vec(b.mask.clone(), (b.batch, b.seq), dev)?,
    ))
}

fn cerr(what: &str) -> impl Fn(candle_core::Error) -> Error + '_ {
    move |e| Error::Unsupported(format!("{what}: {e}"))
}

/// Mean NLL per frame (summed over voices) and per voice over every window of `set`, state
/// reset per window as in training.
pub fn window_nll(
    model: &NoteLstm,
    set: &TokenSet,
    seq: usize,
    batch: usize,
) -> Result<(f64, Vec<f64>)> {
    let windows = set.windows(seq);
    let order: Vec<u32> = (0..windows.len() as u32).collect();
    let nv = set.width();
    let mut sums = vec![0f64; nv];
    let mut frames = 0f64;
    let dev = model.device();
    for i in 0..windows.len().div_ceil(batch.max(1)) {
        let b = make_batch(set, &windows, &order, i, batch, seq, None);
        let n = b.frames() as f64;
        let (x, y, m) = tensors(&b, &dev).map_err(cerr("validation batch"))?;
        let nll = model.nll(&x, &y, &m, None).map_err(cerr("validation"))?;
        for (s, t) in sums.iter_mut().zip(&nll) {
            *s += t.to_scalar::<f32>().map_err(cerr("validation"))? as f64 * n;
        }
        frames += n;
    }
    let per: Vec<f64> = sums.iter().map(|s| s / frames.max(1.0)).collect();
    Ok((per.iter().sum(), per))
}

/// Zeroes the carried state of every lane whose window at this step starts a run (or that
/// has no window left).
fn reset_lanes(carry: &mut [Vec<f32>], lanes: &[Option<LaneWindow>]) {
    for layer in carry.iter_mut() {
        let per = layer.len() / lanes.len().max(1);
        for (bi, lw) in lanes.iter().enumerate() {
            if lw.is_none_or(|lw| lw.reset) {
                layer[bi * per..(bi + 1) * per].fill(0.0);
            }
        }
    }
}

/// Mean NLL per frame (summed over voices) and per voice over every song of `set`, each played
/// whole with the state carried from window to window (`lanes` songs at a time), as a model
/// trained with `carry_state` is used.
pub fn carried_nll(
    model: &NoteLstm,
    set: &TokenSet,
    seq: usize,
    lanes: usize,
) -> Result<(f64, Vec<f64>)> {
    let windows = set.windows(seq);
    let plan = LanePlan::new(&windows, lanes, usize::MAX, None, 0);
    let nv = set.width();
    let mut sums = vec![0f64; nv];
    let mut frames = 0f64;
    let dev = model.device();
    let width = 2 * model.config.hidden * lanes.max(1);
    let mut carry = vec![vec![0f32; width]; model.config.layers];
    for (i, step) in plan.steps.iter().enumerate() {
        reset_lanes(&mut carry, step);
        let b = make_lane_batch(set, &windows, &plan, i, seq, None);
        let n = b.frames() as f64;
        let (x, y, m) = tensors(&b, &dev).map_err(cerr("validation batch"))?;
        let run = model
            .nll_carried(&x, &y, &m, None, Some(&carry), false)
            .map_err(cerr("validation"))?;
        for (s, t) in sums.iter_mut().zip(&run.nll) {
            *s += *t as f64 * n;
        }
        frames += n;
        carry = run.state;
    }
    let per: Vec<f64> = sums.iter().map(|s| s / frames.max(1.0)).collect();
    Ok((per.iter().sum(), per))
}

fn carry_tensors(
    carry: &[Vec<f32>],
) -> candle_core::Result<std::collections::HashMap<String, Tensor>> {
    carry
        .iter()
        .enumerate()
        .map(|(l, c)| {
            Ok((
                format!("carry.{l}"),
                Tensor::from_slice(c, c.len(), &Device::Cpu)?,
            ))
        })
        .collect()
}

fn save_last(
    out: &Path,
    varmap: &VarMap,
    opt: &AdamW,
    state: &TrainState,
    carry: Option<&[Vec<f32>]>,
) -> Result<()> {
    let last = out.join("last");
    checkpoint::save_tensors(
        &checkpoint::varmap_tensors(varmap),
        &last.join("model.safetensors"),
    )?;
    checkpoint::save_tensors(&opt.state(), &last.join("optimizer.safetensors"))?;
    if let Some(carry) = carry {
        let t = carry_tensors(carry).map_err(cerr("carried state"))?;
        checkpoint::save_tensors(&t, &last.join("carry.safetensors"))?;
    }
    let text =
        serde_json::to_string_pretty(state).map_err(|e| Error::format(&last, e.to_string()))?;
    crate::io::write_atomic(last.join("state.json"), text.as_bytes())
}

/// Trains on `train`, validating on `valid` (both in the same vocabulary), writing checkpoints
/// under `out`. With `resume`, continues the run saved in `out` (its `config.json` and `last/`
/// fix the architecture and hyper-parameters; `opts` only supplies the new limits).
pub fn train(
    train: &TokenSet,
    valid: &TokenSet,
    opts: &TrainOptions,
    out: &Path,
    resume: bool,
) -> Result<TrainReport> {
    if train.songs.is_empty() {
        return Err(Error::Unsupported(
            "no training songs: check --data and --max-songs".into(),
        ));
    }
    if opts.batch == 0 || opts.seq == 0 || opts.epochs == 0 {
        return Err(Error::Unsupported(
            "--batch, --seq and --epochs must be at least 1".into(),
        ));
    }
    let dev = opts.device.open()?;
    let (opts, config, mut state) = if resume {
        let mut file = checkpoint::read_config(out)?;
        if let Some(fb) = opts.free_bits_on_resume {
            let Some(v) = file.model.vae.as_mut() else {
                return Err(Error::Unsupported(
                    "--free-bits on --resume is for the VAE models".into(),
                ));
            };
            v.free_bits = fb;
            v.check(&out.join("config.json"))?;
            file.training["vae"]["free_bits"] = serde_json::json!(fb);
        }
        let mut stored: TrainOptions =
            serde_json::from_value(file.training.clone()).map_err(|e| {
                Error::format(out.join("config.json"), format!("training options: {e}"))
            })?;
        stored.max_steps = opts.max_steps;
        stored.max_minutes = opts.max_minutes;
        stored.progress = opts.progress;
        stored.device = opts.device;
        stored.epochs = opts.epochs.max(stored.epochs);
        let sp = out.join("last/state.json");
        let st: TrainState = serde_json::from_slice(&crate::io::read_file(&sp)?)
            .map_err(|e| Error::format(&sp, e.to_string()))?;
        // Written only once the run is known to resume: a failed resume changes nothing.
        if opts.free_bits_on_resume.is_some() {
            checkpoint::write_config(out, &file)?;
        }
        (stored, file.model, st)
    } else {
        let config = opts.model_config(train.vocab.clone());
        config.check_sizes().map_err(|(field, e)| {
            Error::Unsupported(format!(
                "training options: {e} (--{})",
                field.replace('_', "-")
            ))
        })?;
        (opts.clone(), config, TrainState::default())
    };
    if config.vocab != train.vocab || valid.vocab != train.vocab {
        return Err(Error::Unsupported(
            "the data was encoded with a different vocabulary than the model's".into(),
        ));
    }
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &dev);
    let model = Net::new(config.clone(), vb).map_err(cerr("building the model"))?;
    let mut opt = AdamW::new(
        &varmap,
        AdamWParams {
            weight_decay: opts.weight_decay,
            clip_norm: opts.clip,
            ..Default::default()
        },
    )
    .map_err(cerr("optimizer"))?;
    if resume {
        let mp = out.join("last/model.safetensors");
        checkpoint::set_varmap(&varmap, &checkpoint::load_tensors(&mp)?, &mp)?;
        let op = out.join("last/optimizer.safetensors");
        opt.load_state(&checkpoint::load_tensors(&op)?, state.step)
            .map_err(|e| Error::format(&op, e.to_string()))?;
    } else {
        model
            .init_from_seed(&varmap, opts.seed)
            .map_err(cerr("initialising"))?;
        let file = ModelFile {
            model: config.clone(),
            training: serde_json::to_value(&opts).map_err(|e| Error::Unsupported(e.to_string()))?,
        };
        checkpoint::write_config(out, &file)?;
    }

    let windows = train.windows(opts.seq);
    let lanes = opts
        .carry_state
        .then(|| LanePlan::new(&windows, opts.batch, MAX_RUN_WINDOWS, Some(opts.seed), 0));
    let per_epoch_0 = match &lanes {
        Some(plan) => plan.steps.len(),
        None => windows.len().div_ceil(opts.batch),
    };
    let total = per_epoch_0 * opts.epochs;
    // The state each lane carries into its next window (carry_state only).
    let mut carry = vec![vec![0f32; 2 * config.hidden * opts.batch]; config.layers];
    if opts.carry_state && resume {
        let cp = out.join("last/carry.safetensors");
        let t = checkpoint::load_tensors(&cp)?;
        for (l, c) in carry.iter_mut().enumerate() {
            let v = t
                .get(&format!("carry.{l}"))
                .and_then(|t| t.to_vec1::<f32>().ok())
                .filter(|v| v.len() == c.len())
                .ok_or_else(|| Error::format(&cp, format!("carry.{l} missing or wrong size")))?;
            *c = v;
        }
    }
    let save_carry =
        |carry: &[Vec<f32>]| -> Option<Vec<Vec<f32>>> { opts.carry_state.then(|| carry.to_vec()) };
    let bar = if opts.progress {
        indicatif::ProgressBar::new(total as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} epoch {prefix} {msg} [{elapsed_precise}, ETA {eta_precise}]",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_position(state.step as u64);
    let started = Instant::now();
    let mut last_save = Instant::now();
    let mut frames_now = 0u64;
    let mut loss_avg = f64::NAN;
    let mut last_valid = None;
    let mut stop = false;
    while state.epoch < opts.epochs && !stop {
        let (order, plan) = if opts.carry_state {
            let plan = LanePlan::new(
                &windows,
                opts.batch,
                MAX_RUN_WINDOWS,
                Some(opts.seed),
                state.epoch,
            );
            (Vec::new(), Some(plan))
        } else {
            (epoch_order(windows.len(), opts.seed, state.epoch), None)
        };
        let per_epoch = match &plan {
            Some(p) => p.steps.len(),
            None => windows.len().div_ceil(opts.batch),
        };
        bar.set_prefix(format!("{}", state.epoch + 1));
        while state.batch_in_epoch < per_epoch {
            let step = state.step;
            let aug = (opts.augment > 0).then(|| {
                (
                    opts.augment,
                    opts.seed ^ (step as u64).wrapping_mul(0xA24B_AED4_963E_E407),
                )
            });
            let b = match &plan {
                Some(plan) => {
                    // Per song, not per step: every window of a song gets the same shift.
                    let aug = (opts.augment > 0).then(|| {
                        (
                            opts.augment,
                            opts.seed ^ (state.epoch as u64).wrapping_mul(0xA24B_AED4_963E_E407),
                        )
                    });
                    reset_lanes(&mut carry, &plan.steps[state.batch_in_epoch]);
                    make_lane_batch(train, &windows, plan, state.batch_in_epoch, opts.seq, aug)
                }
                None => make_batch(
                    train,
                    &windows,
                    &order,
                    state.batch_in_epoch,
                    opts.batch,
                    opts.seq,
                    aug,
                ),
            };
            let (x, y, m) = tensors(&b, &dev).map_err(cerr("batch"))?;
            let mut drng = StdRng::seed_from_u64(
                opts.seed ^ (step as u64).wrapping_mul(0x9FB2_1C65_1E98_DF25) ^ 0x5555,
            );
            let (lv, grads) = if opts.carry_state {
                let (lv, grads, next) = model
                    .training_grads_carried(&x, &y, &m, &mut drng, &carry)
                    .map_err(cerr("forward and backward"))?;
                carry = next;
                (lv, grads)
            } else {
                model
                    .training_grads(&x, &y, &m, &mut drng, step)
                    .map_err(cerr("forward and backward"))?
            };
            if !lv.is_finite() {
                return Err(Error::Unsupported(format!(
                    "training diverged at step {step} (loss {lv}); lower --lr"
                )));
            }
            let lr = learning_rate(step, total, opts.warmup, opts.lr, opts.lr_floor);
            opt.step(&*grads, lr).map_err(cerr("optimizer step"))?;
            state.step += 1;
            state.batch_in_epoch += 1;
            let n = b.frames() as u64;
            frames_now += n;
            state.frames_seen += n;
            loss_avg = if loss_avg.is_nan() {
                lv
            } else {
                0.98 * loss_avg + 0.02 * lv
            };
            let secs = started.elapsed().as_secs_f64();
            bar.set_position(state.step as u64);
            bar.set_message(format!(
                "loss {loss_avg:.3} lr {lr:.1e} {:.0} frames/s",
                frames_now as f64 / secs.max(1e-9)
            ));
            if opts.max_steps.is_some_and(|s| state.step >= s)
                || opts.max_minutes.is_some_and(|mm| secs >= mm * 60.0)
            {
                stop = true;
                break;
            }
            if last_save.elapsed().as_secs_f64() >= opts.checkpoint_minutes * 60.0 {
                state.train_seconds += last_save.elapsed().as_secs_f64();
                save_last(out, &varmap, &opt, &state, save_carry(&carry).as_deref())?;
                last_save = Instant::now();
            }
        }
        if !stop {
            state.epoch += 1;
            state.batch_in_epoch = 0;
        }
        // Validate after each epoch and when stopping early.
        let (vn, per) = model.validate(valid, opts.seq, opts.batch.max(32), opts.carry_state)?;
        last_valid = Some(vn);
        bar.println(format!(
            "epoch {} step {}: train loss {loss_avg:.4}, valid NLL {vn:.4} nats/frame",
            state.epoch, state.step
        ));
        state.history.push(EpochRecord {
            epoch: state.epoch,
            step: state.step,
            train_loss: loss_avg,
            valid_nll: vn,
            valid_nll_voices: per,
        });
        if state.best_valid.is_none_or(|b| vn < b) {
            state.best_valid = Some(vn);
            checkpoint::save_tensors(
                &checkpoint::varmap_tensors(&varmap),
                &out.join("model.safetensors"),
            )?;
        }
        state.train_seconds += last_save.elapsed().as_secs_f64();
        save_last(out, &varmap, &opt, &state, save_carry(&carry).as_deref())?;
        last_save = Instant::now();
    }
    bar.finish_and_clear();
    Ok(TrainReport {
        frames_per_sec: frames_now as f64 / started.elapsed().as_secs_f64().max(1e-9),
        state,
        last_valid_nll: last_valid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::vocab::Vocab;
    use crate::score::Score;

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
        for f in [
            "config.json",
            "model.safetensors",
            "last/model.safetensors",
            "last/optimizer.safetensors",
            "last/state.json",
        ] {
            assert!(dir.path().join(f).exists(), "{f}");
        }
        let loaded = checkpoint::load_model(dir.path()).unwrap();
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
        assert!(dir.path().join("last/carry.safetensors").exists());
        let loaded = checkpoint::load_model(dir.path()).unwrap();
        let (best, _) = carried_nll(&loaded.model, &va, opts.seq, 3).unwrap();
        assert!((best - rep.state.best_valid.unwrap()).abs() < 1e-4);
        let (reset, _) = window_nll(&loaded.model, &va, opts.seq, 8).unwrap();
        assert!(
            (best - reset).abs() > 1e-4,
            "windows of 16 frames: the state matters"
        );
        let file = checkpoint::read_config(dir.path()).unwrap();
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
        let ta = checkpoint::load_tensors(&a.path().join("last/model.safetensors")).unwrap();
        let tb = checkpoint::load_tensors(&b.path().join("last/model.safetensors")).unwrap();
        assert_eq!(ta.len(), tb.len());
        for (k, x) in &ta {
            let d = checkpoint::max_abs_diff(x, &tb[k]).unwrap();
            assert!(d <= 1e-6, "{k}: {d}");
        }
        // And differs from a 2-step model, so the comparison has teeth.
        let two = tempfile::tempdir().unwrap();
        o.max_steps = Some(2);
        train(&tr, &va, &o, two.path(), false).unwrap();
        let t2 = checkpoint::load_tensors(&two.path().join("last/model.safetensors")).unwrap();
        assert!(ta
            .iter()
            .any(|(k, x)| checkpoint::max_abs_diff(x, &t2[k]).unwrap() > 1e-6));
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
            vae: super::super::vae::VaeConfig {
                latent: 4,
                enc_hidden: 8,
                ..Default::default()
            },
            ..tiny(kind)
        };
        train(&tr, &va, &o, d.path(), false).unwrap();
        let before = checkpoint::read_config(d.path()).unwrap();
        assert_eq!(before.model.vae.as_ref().unwrap().free_bits, 0.125);
        let again = TrainOptions {
            max_steps: Some(2),
            free_bits_on_resume: Some(0.5),
            ..o.clone()
        };
        let r = train(&tr, &va, &again, d.path(), true).unwrap();
        assert_eq!(r.state.step, 2);
        let after = checkpoint::read_config(d.path()).unwrap();
        assert_eq!(after.model.vae.as_ref().unwrap().free_bits, 0.5);
        assert_eq!(after.training["vae"]["free_bits"], 0.5);
        let bad = TrainOptions {
            free_bits_on_resume: Some(-1.0),
            ..again.clone()
        };
        let e = train(&tr, &va, &bad, d.path(), true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("free_bits"), "{e}");

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
}
