//! Training: AdamW with warmup + cosine learning rate, global-norm gradient clipping,
//! truncated BPTT over windows, either shuffled with the state reset per window or played
//! song after song in batch lanes with the state carried across windows (`carry_state`; see
//! [`crate::learn::data::dataset`]), validation NLL after each epoch, best and last
//! checkpoints, and exact resume.
//!
//! A run is a pure function of its options and data: weights are drawn from `seed`, the window
//! (or song) order of epoch `e` from `(seed, e)`, the dropout masks and transpositions of step
//! `s` from `(seed, s)`. Each checkpoint generation stores weights, optimizer moments, `(epoch,
//! batch, step)` and the carried state, so `--resume` continues with exactly the batches and
//! states an uninterrupted run would see.

use super::checkpoint::{self, Checkpoints};
use super::net::Net;
use super::optim::{learning_rate, AdamW, AdamWParams};
use super::options::TrainOptions;
use super::progress::{EpochRecord, TrainState};
use super::stop;
use crate::error::{Error, Result};
use crate::learn::data::dataset::{
    epoch_order, make_batch, make_lane_batch, Batch, LanePlan, TokenSet, Window, MAX_RUN_WINDOWS,
};
use crate::learn::models::model_dir::{self, ModelFile};
use crate::learn::models::scoring::{batch_tensors, reset_lanes};
use crate::learn::models::ModelConfig;
use crate::output_lock::FolderLock;
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

/// What a run did.
#[derive(Debug, Clone)]
pub struct TrainReport {
    pub state: TrainState,
    /// Training frames per second of this invocation.
    pub frames_per_sec: f64,
    pub last_valid_nll: Option<f64>,
    /// The signal (SIGINT, SIGTERM) that stopped the run after a checkpoint, if one did.
    pub interrupted: Option<i32>,
    /// The checkpoint generation the run resumed from (`None`: it started from the beginning).
    pub resumed_from: Option<u64>,
}

/// Trains on `train`, validating on `valid` (both in the same vocabulary), writing checkpoints
/// under `out`. With `resume`, continues the run saved in `out` (its `config.json` and newest
/// checkpoint fix the architecture and hyper-parameters; `opts` must agree with them and only supplies
/// the new limits). The folder is locked for the run; a folder that already holds a model is
/// refused unless `resume` or `opts.force`.
pub fn train(
    train: &TokenSet,
    valid: &TokenSet,
    opts: &TrainOptions,
    out: &Path,
    resume: bool,
) -> Result<TrainReport> {
    check_request(train, opts)?;
    let config = (!resume)
        .then(|| new_model_config(opts, train))
        .transpose()?;
    let dev = opts.device.open()?;
    let _lock = FolderLock::acquire_folder(out)?;
    checkpoint::remove_temp_files(out)?;
    let (opts, config) = match config {
        Some(config) => {
            replace_or_refuse(out, opts.force)?;
            (opts.clone(), config)
        }
        None => resumed_run(opts, out)?,
    };
    let checkpoints = Checkpoints::open(out)?;
    if config.vocab != train.vocab || valid.vocab != train.vocab {
        return Err(Error::Unsupported(
            "the data was encoded with a different vocabulary than the model's".into(),
        ));
    }
    Run::start(train, valid, opts, config, checkpoints, out, resume, dev)?.run()
}

/// Refuses to start a new run in a folder that holds a model, unless `force`, which removes
/// the model and its checkpoints first.
fn replace_or_refuse(out: &Path, force: bool) -> Result<()> {
    let held: Vec<&str> = [
        "config.json",
        "model.safetensors",
        checkpoint::CHECKPOINTS,
        "last",
    ]
    .into_iter()
    .filter(|f| out.join(f).exists())
    .collect();
    if held.is_empty() {
        return Ok(());
    }
    if !force {
        return Err(Error::Unsupported(format!(
            "{} already holds a model ({}); pass --resume to continue its run, --force to \
             replace it, or choose another --out",
            out.display(),
            held.join(", ")
        )));
    }
    Checkpoints::remove_all(out)?;
    for f in ["config.json", "model.safetensors"] {
        let p = out.join(f);
        if p.exists() {
            std::fs::remove_file(&p).map_err(|e| Error::io(&p, e))?;
        }
    }
    Ok(())
}

/// Refuses a run that could not train before anything is read or written.
fn check_request(train: &TokenSet, opts: &TrainOptions) -> Result<()> {
    if train.songs.is_empty() {
        return Err(Error::Unsupported(
            "no training songs: check --data and --max-songs".into(),
        ));
    }
    opts.check()
}

/// The architecture a new run builds, its sizes checked.
fn new_model_config(opts: &TrainOptions, train: &TokenSet) -> Result<ModelConfig> {
    let config = opts.model_config(train.vocab.clone());
    config.check_sizes().map_err(|(field, e)| {
        Error::Unsupported(format!(
            "training options: {e} (--{})",
            field.replace('_', "-")
        ))
    })?;
    Ok(config)
}

/// The stored options and architecture of the run in `out`, with the new limits of `opts`
/// (and a VAE's new free-bits floor, written to `config.json` once all is read). Options of
/// `opts` that shape the run and differ from the stored ones are refused.
fn resumed_run(opts: &TrainOptions, out: &Path) -> Result<(TrainOptions, ModelConfig)> {
    let mut file = model_dir::read_config(out)?;
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
    let mut stored: TrainOptions = serde_json::from_value(file.training.clone())
        .map_err(|e| Error::format(out.join("config.json"), format!("training options: {e}")))?;
    opts.check_resume(&stored, &out.join("config.json"))?;
    stored.max_steps = opts.max_steps;
    stored.max_minutes = opts.max_minutes;
    stored.checkpoint_minutes = opts.checkpoint_minutes;
    stored.progress = opts.progress;
    stored.device = opts.device;
    stored.epochs = opts.epochs.max(stored.epochs);
    // Written only once the run is known to resume: a failed resume changes nothing.
    if opts.free_bits_on_resume.is_some() {
        model_dir::write_config(out, &file)?;
    }
    Ok((stored, file.model))
}

/// How the batches of one epoch are drawn.
enum EpochPlan {
    /// Shuffled windows, the state reset per window: the window order.
    Shuffled(Vec<u32>),
    /// Songs dealt to batch lanes, the state carried.
    Lanes(LanePlan),
}

impl EpochPlan {
    fn steps(&self, windows: usize, batch: usize) -> usize {
        match self {
            EpochPlan::Shuffled(_) => windows.div_ceil(batch),
            EpochPlan::Lanes(plan) => plan.steps.len(),
        }
    }
}

/// A training run in progress: the model with its optimizer and progress, and the loop's
/// parts (step, validate, save) as short methods.
struct Run<'a> {
    train: &'a TokenSet,
    valid: &'a TokenSet,
    opts: TrainOptions,
    out: &'a Path,
    dev: Device,
    varmap: VarMap,
    model: Net,
    opt: AdamW,
    checkpoints: Checkpoints,
    state: TrainState,
    windows: Vec<Window>,
    /// Optimizer steps of the whole run (the learning-rate schedule's length).
    total: usize,
    /// The state each lane carries into its next window (`carry_state` only).
    carry: Vec<Vec<f32>>,
    bar: ProgressBar,
    started: Instant,
    last_save: Instant,
    frames_now: u64,
    loss_avg: f64,
    last_valid: Option<f64>,
    interrupted: Option<i32>,
    resumed_from: Option<u64>,
}

impl<'a> Run<'a> {
    /// Builds the model and optimizer, then loads the newest checkpoint of `out` (`resume`)
    /// or draws the weights from the seed (and, for a new run, writes `config.json`).
    #[allow(clippy::too_many_arguments)]
    fn start(
        train: &'a TokenSet,
        valid: &'a TokenSet,
        opts: TrainOptions,
        config: ModelConfig,
        checkpoints: Checkpoints,
        out: &'a Path,
        resume: bool,
        dev: Device,
    ) -> Result<Run<'a>> {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &dev);
        let model = Net::new(config.clone(), vb).map_err(Error::model("building the model"))?;
        let params = AdamWParams {
            weight_decay: opts.weight_decay,
            clip_norm: opts.clip,
            ..Default::default()
        };
        let mut opt = AdamW::new(&varmap, params).map_err(Error::model("optimizer"))?;
        let mut carry = vec![vec![0f32; 2 * config.hidden * opts.batch]; config.layers];
        let latest = checkpoints.latest().filter(|_| resume);
        let state = match latest {
            Some(g) => {
                let state = restore(g, &varmap, &mut opt, opts.carry_state, &mut carry)?;
                eprintln!(
                    "{}: resuming from checkpoint generation {} (step {}, epoch {})",
                    out.display(),
                    g.number(),
                    state.step,
                    state.epoch + 1
                );
                state
            }
            None => {
                if resume {
                    eprintln!(
                        "{}: no complete checkpoint yet: starting the run from the beginning",
                        out.display()
                    );
                }
                model
                    .init_from_seed(&varmap, opts.seed)
                    .map_err(Error::model("initialising"))?;
                TrainState::default()
            }
        };
        let resumed_from = latest.map(|g| g.number());
        if !resume {
            let training = serde_json::to_value(&opts)
                .map_err(|e| Error::format(out.join("config.json"), e.to_string()))?;
            model_dir::write_config(
                out,
                &ModelFile {
                    model: config,
                    training,
                },
            )?;
        }
        let windows = train.windows(opts.seq);
        let first = Self::plan_of(&opts, &windows, 0);
        let total = first.steps(windows.len(), opts.batch) * opts.epochs;
        let bar = progress_bar(opts.progress, total, state.step);
        Ok(Run {
            train,
            valid,
            opts,
            out,
            dev,
            varmap,
            model,
            opt,
            checkpoints,
            state,
            windows,
            total,
            carry,
            bar,
            started: Instant::now(),
            last_save: Instant::now(),
            frames_now: 0,
            loss_avg: f64::NAN,
            last_valid: None,
            interrupted: None,
            resumed_from,
        })
    }

    fn plan_of(opts: &TrainOptions, windows: &[Window], epoch: usize) -> EpochPlan {
        if opts.carry_state {
            let seed = Some(opts.seed);
            EpochPlan::Lanes(LanePlan::new(
                windows,
                opts.batch,
                MAX_RUN_WINDOWS,
                seed,
                epoch,
            ))
        } else {
            EpochPlan::Shuffled(epoch_order(windows.len(), opts.seed, epoch))
        }
    }

    /// Epochs until the last one or a limit; validates and saves after each.
    fn run(mut self) -> Result<TrainReport> {
        let mut stop = self.finished();
        'epochs: while self.state.epoch < self.opts.epochs && !stop {
            let plan = Self::plan_of(&self.opts, &self.windows, self.state.epoch);
            let per_epoch = plan.steps(self.windows.len(), self.opts.batch);
            self.bar.set_prefix(format!("{}", self.state.epoch + 1));
            while self.state.batch_in_epoch < per_epoch {
                // Checked before the step, so a run resumed at its limit takes no step more.
                if self.limit_reached() {
                    stop = true;
                    break;
                }
                self.step(&plan)?;
                if let Some(sig) = stop::pending() {
                    self.save()?;
                    self.interrupted = Some(sig);
                    break 'epochs;
                }
                if self.last_save.elapsed().as_secs_f64() >= self.opts.checkpoint_minutes * 60.0 {
                    self.save()?;
                }
            }
            if !stop {
                self.state.epoch += 1;
                self.state.batch_in_epoch = 0;
            }
            // Validate after each epoch and when stopping early.
            self.validate()?;
            self.save()?;
            stop = stop || self.limit_reached();
        }
        self.bar.finish_and_clear();
        let secs = self.started.elapsed().as_secs_f64().max(1e-9);
        Ok(TrainReport {
            frames_per_sec: self.frames_now as f64 / secs,
            state: self.state,
            last_valid_nll: self.last_valid,
            interrupted: self.interrupted,
            resumed_from: self.resumed_from,
        })
    }

    /// The batch of the current step of `plan`, transposed as the step's seed says.
    fn batch(&mut self, plan: &EpochPlan) -> Batch {
        let (opts, i) = (&self.opts, self.state.batch_in_epoch);
        let shift = |salt: u64| {
            let seed = opts.seed ^ salt.wrapping_mul(0xA24B_AED4_963E_E407);
            (opts.augment > 0).then_some((opts.augment, seed))
        };
        match plan {
            EpochPlan::Lanes(plan) => {
                // Per song, not per step: every window of a song gets the same shift.
                reset_lanes(&mut self.carry, &plan.steps[i]);
                let aug = shift(self.state.epoch as u64);
                make_lane_batch(self.train, &self.windows, plan, i, opts.seq, aug)
            }
            EpochPlan::Shuffled(order) => {
                let aug = shift(self.state.step as u64);
                let (batch, seq) = (opts.batch, opts.seq);
                make_batch(self.train, &self.windows, order, i, batch, seq, aug)
            }
        }
    }

    /// One optimizer step on the next batch of `plan`.
    fn step(&mut self, plan: &EpochPlan) -> Result<()> {
        let step = self.state.step;
        let b = self.batch(plan);
        let (x, y, m) = batch_tensors(&b, &self.dev).map_err(Error::model("batch"))?;
        let mut drng = StdRng::seed_from_u64(
            self.opts.seed ^ (step as u64).wrapping_mul(0x9FB2_1C65_1E98_DF25) ^ 0x5555,
        );
        let backward = Error::model("forward and backward");
        let (lv, grads) = if self.opts.carry_state {
            let (lv, grads, next) = self
                .model
                .training_grads_carried(&x, &y, &m, &mut drng, &self.carry)
                .map_err(backward)?;
            self.carry = next;
            (lv, grads)
        } else {
            let run = self.model.training_grads(&x, &y, &m, &mut drng, step);
            run.map_err(backward)?
        };
        if !lv.is_finite() {
            return Err(Error::Unsupported(format!(
                "training diverged at step {step} (loss {lv}); lower --lr"
            )));
        }
        let o = &self.opts;
        let lr = learning_rate(step, self.total, o.warmup, o.lr, o.lr_floor);
        self.opt
            .step(&*grads, lr)
            .map_err(Error::model("optimizer step"))?;
        self.state.step += 1;
        self.state.batch_in_epoch += 1;
        self.frames_now += b.frames() as u64;
        self.state.frames_seen += b.frames() as u64;
        self.loss_avg = if self.loss_avg.is_nan() {
            lv
        } else {
            0.98 * self.loss_avg + 0.02 * lv
        };
        self.bar.set_position(self.state.step as u64);
        self.bar.set_message(format!(
            "loss {:.3} lr {lr:.1e} {:.0} frames/s",
            self.loss_avg,
            self.frames_now as f64 / self.started.elapsed().as_secs_f64().max(1e-9)
        ));
        Ok(())
    }

    /// Whether a resumed run had already reached its limit and validated there.
    fn finished(&self) -> bool {
        let validated = self.state.history.last().map(|h| h.step);
        self.limit_reached() && validated == Some(self.state.step)
    }

    /// Whether `--max-steps` or `--max-minutes` is reached.
    fn limit_reached(&self) -> bool {
        let secs = self.started.elapsed().as_secs_f64();
        self.opts.max_steps.is_some_and(|s| self.state.step >= s)
            || self.opts.max_minutes.is_some_and(|mm| secs >= mm * 60.0)
    }

    /// Scores the validation set, records it, and saves the weights as the best when they are.
    fn validate(&mut self) -> Result<()> {
        let (o, state) = (&self.opts, &mut self.state);
        let (vn, per) = self
            .model
            .validate(self.valid, o.seq, o.batch.max(32), o.carry_state)?;
        self.last_valid = Some(vn);
        self.bar.println(format!(
            "epoch {} step {}: train loss {:.4}, valid NLL {vn:.4} nats/frame",
            state.epoch, state.step, self.loss_avg
        ));
        state.history.push(EpochRecord {
            epoch: state.epoch,
            step: state.step,
            train_loss: self.loss_avg,
            valid_nll: vn,
            valid_nll_voices: per,
        });
        if state.best_valid.is_none_or(|b| vn < b) {
            state.best_valid = Some(vn);
            let best = self.out.join("model.safetensors");
            checkpoint::file_op();
            model_dir::save_tensors(&model_dir::varmap_tensors(&self.varmap), &best)?;
        }
        Ok(())
    }

    /// Writes a checkpoint generation: weights, optimizer moments, carried state, progress.
    fn save(&mut self) -> Result<()> {
        self.state.train_seconds += self.last_save.elapsed().as_secs_f64();
        let model = model_dir::varmap_tensors(&self.varmap);
        let optimizer = self.opt.state();
        let carry = carry_tensors(&self.carry).map_err(Error::model("carried state"))?;
        let mut files = vec![("model", &model), ("optimizer", &optimizer)];
        if self.opts.carry_state {
            files.push(("carry", &carry));
        }
        let state = serde_json::to_value(&self.state)
            .map_err(|e| Error::format(self.out, format!("training state: {e}")))?;
        self.checkpoints.write(&files, &state)?;
        self.last_save = Instant::now();
        Ok(())
    }
}

/// Loads generation `g` into the variables, the optimizer and (`carry_state`) the lanes'
/// carried state, and returns its progress.
fn restore(
    g: &checkpoint::Generation,
    varmap: &VarMap,
    opt: &mut AdamW,
    carry_state: bool,
    carry: &mut [Vec<f32>],
) -> Result<TrainState> {
    let state: TrainState = g.state()?;
    let model = g.dir.join("model.safetensors");
    model_dir::set_varmap(varmap, &g.tensors("model")?, &model)?;
    let op = g.dir.join("optimizer.safetensors");
    opt.load_state(&g.tensors("optimizer")?, state.step)
        .map_err(|e| Error::format(&op, e.to_string()))?;
    if carry_state {
        let cp = g.dir.join("carry.safetensors");
        let t = g.tensors("carry")?;
        for (l, c) in carry.iter_mut().enumerate() {
            *c = t
                .get(&format!("carry.{l}"))
                .and_then(|t| t.to_vec1::<f32>().ok())
                .filter(|v| v.len() == c.len())
                .ok_or_else(|| Error::format(&cp, format!("carry.{l} missing or wrong size")))?;
        }
    }
    Ok(state)
}

fn carry_tensors(carry: &[Vec<f32>]) -> candle_core::Result<HashMap<String, Tensor>> {
    carry
        .iter()
        .enumerate()
        .map(|(l, c)| {
            let t = Tensor::from_slice(c, c.len(), &Device::Cpu)?;
            Ok((format!("carry.{l}"), t))
        })
        .collect()
}

fn progress_bar(shown: bool, total: usize, position: usize) -> ProgressBar {
    let bar = if shown {
        ProgressBar::new(total as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} {pos}/{len} epoch {prefix} {msg} [{elapsed_precise}, ETA {eta_precise}]",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_position(position as u64);
    bar
}
