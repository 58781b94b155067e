//! Training the event Transformer: AdamW with warmup + cosine decay and global-norm clipping
//! (the LSTM trainer's [`crate::learn::optim`]), windows of event tokens in an order drawn from
//! `(seed, epoch)`, augmentation and dropout drawn from `(seed, step)`, validation on a fixed
//! sample of valid-split windows every `valid_every` steps and on all of them after each epoch.
//!
//! Checkpoints are generations: `last/gen-STEP/` (weights, optimizer moments, progress) is
//! written complete under a temporary name and renamed into place, so a kill leaves the old
//! generation or the new one, never a mix; `--resume` continues from the newest one exactly.

use super::transformer_checkpoint as store;
use crate::error::{Error, Result};
use crate::learn::data::coding::Coding;
use crate::learn::data::event_windows::{
    epoch_order, make_batch, Augment, EventSet, TokenBatch, Window,
};
use crate::learn::models::transformer::{init_from_seed, Transformer, TransformerConfig};
use crate::learn::train::optim::{learning_rate, AdamW, AdamWParams};
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;

/// Everything that shapes a run; stored in `training.json` and compared on `--resume`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOptions {
    pub model: TransformerConfig,
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
    pub lr_floor: f64,
    pub warmup: usize,
    pub weight_decay: f64,
    pub clip: f64,
    pub seed: u64,
    pub augment: Augment,
    /// Songs per split used (None = all).
    pub max_songs: Option<usize>,
    /// Validate on the fixed sample every this many steps.
    pub valid_every: usize,
    /// Windows in the fixed validation sample.
    pub valid_sample: usize,
    /// A trained Transformer whose weights the run starts from ([`super::warm_start`]);
    /// None = the seeded draw.
    #[serde(default)]
    pub init_from: Option<std::path::PathBuf>,
}

impl RunOptions {
    /// The CPU recipe: the model this 2-core machine trains in about 8 hours.
    pub fn cpu_default(coding: Coding) -> RunOptions {
        RunOptions {
            model: TransformerConfig {
                coding,
                vocab: coding.vocab(),
                d_model: 256,
                layers: 4,
                heads: 4,
                d_ff: 1024,
                dropout: 0.1,
                context: 1024,
                rope_base: 10000.0,
            },
            epochs: 4,
            batch: 8,
            lr: 1e-3,
            lr_floor: 0.05,
            warmup: 300,
            weight_decay: 0.01,
            clip: 1.0,
            seed: 1,
            augment: Augment::lakhnes(),
            max_songs: None,
            valid_every: 250,
            valid_sample: 64,
            init_from: None,
        }
    }

    /// Every option checked before any work; the message names the option and its range.
    pub fn check(&self) -> std::result::Result<(), String> {
        self.model.check()?;
        if self.model.vocab != self.model.coding.vocab() {
            return Err(format!(
                "a vocabulary of {} tokens; the {} coding has {}",
                self.model.vocab,
                self.model.coding.name(),
                self.model.coding.vocab()
            ));
        }
        let positive = [
            ("--epochs", self.epochs),
            ("--batch", self.batch),
            ("--valid-every", self.valid_every),
            ("--valid-sample", self.valid_sample),
        ];
        for (name, v) in positive {
            if v == 0 {
                return Err(format!("{name} 0 must be at least 1"));
            }
        }
        if !(self.lr.is_finite() && self.lr > 0.0 && self.lr <= 1.0) {
            return Err(format!("--lr {} must be in (0, 1]", self.lr));
        }
        if !(0.0..=1.0).contains(&self.lr_floor) || !(0.0..1.0).contains(&self.weight_decay) {
            return Err("lr floor must be in 0..=1 and --weight-decay in 0..1".into());
        }
        if !(self.clip >= 0.0 && self.clip.is_finite()) {
            return Err(format!("--clip {} must be 0 (off) or positive", self.clip));
        }
        if !(0.0..=1.0).contains(&self.augment.drop) {
            return Err(format!(
                "--voice-drop {} must be a probability in 0..=1",
                self.augment.drop
            ));
        }
        if !(0..=12).contains(&self.augment.transpose) {
            return Err(format!(
                "--augment {} must be in 0..=12 semitones",
                self.augment.transpose
            ));
        }
        Ok(())
    }
}

/// One point of the training curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    pub step: usize,
    pub epoch: usize,
    pub seconds: f64,
    pub tokens_seen: u64,
    /// Mean training NLL per token since the previous point.
    pub train_nats_per_token: f64,
    /// NLL per token and per second of music on the validation windows (the fixed sample, or
    /// all windows when `full`).
    pub valid_nats_per_token: f64,
    pub valid_nats_per_second: f64,
    pub full: bool,
}

/// Progress, saved in every checkpoint generation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    pub epoch: usize,
    pub batch_in_epoch: usize,
    pub step: usize,
    pub best_valid: Option<f64>,
    pub curve: Vec<CurvePoint>,
    pub train_seconds: f64,
    pub tokens_seen: u64,
    /// Loss summed since the last curve point, and its token count.
    pub pending_loss: f64,
    pub pending_tokens: u64,
}

/// Limits of one invocation.
#[derive(Debug, Clone, Default)]
pub struct RunLimits {
    pub max_steps: Option<usize>,
    pub max_minutes: Option<f64>,
    pub checkpoint_minutes: f64,
    pub progress: bool,
}

/// Token NLL of `set`'s windows (no augmentation, no dropout): (nats per token, nats per
/// second of music counted by the windows' frames).
pub fn window_nll(
    model: &Transformer,
    set: &EventSet,
    windows: &[Window],
    batch: usize,
) -> Result<(f64, f64)> {
    let ctx = model.config.context;
    let mut rng = StdRng::seed_from_u64(0);
    let (mut nll, mut tokens, mut frames) = (0f64, 0usize, 0usize);
    for chunk in windows.chunks(batch.max(1)) {
        let rows: Vec<Vec<u16>> = chunk
            .iter()
            .map(|w| set.window_tokens(w, ctx, &Augment::none(), &mut rng))
            .collect();
        for row in &rows {
            frames += row
                .iter()
                .skip(1)
                .map(|&t| Coding::frames(t))
                .sum::<usize>();
        }
        let b = make_batch(&rows, ctx);
        let (x, y, m) = tensors(&b, &model.device()).map_err(Error::model("validation batch"))?;
        let loss = model
            .nll(&x, &y, &m, None)
            .map_err(Error::model("validation"))?;
        nll += loss
            .to_scalar::<f32>()
            .map_err(Error::model("validation"))? as f64;
        tokens += b.count();
    }
    let seconds = frames as f64 / crate::score::NESMDB_RATE;
    Ok((nll / tokens.max(1) as f64, nll / seconds.max(1e-9)))
}

fn tensors(b: &TokenBatch, dev: &Device) -> candle_core::Result<(Tensor, Tensor, Tensor)> {
    let shape = (b.batch, b.context);
    Ok((
        Tensor::from_vec(b.inputs.clone(), shape, dev)?,
        Tensor::from_vec(b.targets.clone(), shape, dev)?,
        Tensor::from_vec(b.mask.clone(), shape, dev)?,
    ))
}

/// A run in progress: the model, its optimizer, data and progress.
pub struct Run<'a> {
    pub opts: RunOptions,
    pub state: RunState,
    pub varmap: VarMap,
    pub model: Transformer,
    pub optim: AdamW,
    train: &'a EventSet,
    valid: &'a EventSet,
    windows: Vec<Window>,
    valid_windows: Vec<Window>,
    valid_sample: Vec<Window>,
    /// The window order of the epoch it was drawn for (drawn once per epoch, not per step).
    order: Option<(usize, Vec<u32>)>,
}

impl<'a> Run<'a> {
    /// A new run, or the newest checkpoint generation in `out` when `resume`.
    pub fn open(
        opts: RunOptions,
        train: &'a EventSet,
        valid: &'a EventSet,
        dev: &Device,
        out: &Path,
        resume: bool,
    ) -> Result<Run<'a>> {
        opts.check().map_err(Error::Unsupported)?;
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, dev);
        let model =
            Transformer::new(opts.model.clone(), vb).map_err(Error::model("building the model"))?;
        init_from_seed(&varmap, &opts.model, opts.seed).map_err(Error::model("initialising"))?;
        let params = AdamWParams {
            weight_decay: opts.weight_decay,
            clip_norm: opts.clip,
            ..AdamWParams::default()
        };
        let mut optim = AdamW::new(&varmap, params).map_err(Error::model("optimizer"))?;
        let mut state = RunState::default();
        let generation = match resume {
            true => store::newest_generation(out)?,
            false => None,
        };
        match generation {
            Some(gen) => {
                state = store::load_generation(&gen, &varmap, &mut optim)?;
                eprintln!("resuming from {} (step {})", gen.display(), state.step);
            }
            None => {
                if resume {
                    eprintln!(
                        "{}: no checkpoint yet; starting the run from the beginning",
                        out.display()
                    );
                }
                if let Some(dir) = &opts.init_from {
                    let n = super::warm_start::warm_start(&varmap, dir)?;
                    eprintln!("starting from the {n} weights of {}", dir.display());
                }
            }
        }
        let ctx = opts.model.context;
        let windows = train.windows(ctx);
        let valid_windows = valid.windows(ctx);
        let n = opts.valid_sample.min(valid_windows.len()).max(1);
        let valid_sample = (0..n)
            .map(|i| valid_windows[i * valid_windows.len() / n].clone())
            .collect();
        Ok(Run {
            order: None,
            opts,
            state,
            varmap,
            model,
            optim,
            train,
            valid,
            windows,
            valid_windows,
            valid_sample,
        })
    }

    /// Optimizer steps per epoch.
    pub fn steps_per_epoch(&self) -> usize {
        self.windows.len().div_ceil(self.opts.batch)
    }

    /// Optimizer steps of the whole run.
    pub fn total_steps(&self) -> usize {
        self.steps_per_epoch() * self.opts.epochs
    }

    /// Whether every epoch is done.
    pub fn finished(&self) -> bool {
        self.state.epoch >= self.opts.epochs
    }

    /// One optimizer step on the next batch; returns its mean NLL per token.
    pub fn step(&mut self) -> Result<f64> {
        let o = &self.opts;
        let epoch = self.state.epoch;
        if self.order.as_ref().is_none_or(|(e, _)| *e != epoch) {
            self.order = Some((epoch, epoch_order(self.windows.len(), o.seed, epoch)));
        }
        let order = &self.order.as_ref().expect("drawn above").1;
        let from = self.state.batch_in_epoch * o.batch;
        let mut rng = StdRng::seed_from_u64(
            o.seed ^ (self.state.step as u64).wrapping_mul(0xA076_1D64_78BD_642F),
        );
        let rows: Vec<Vec<u16>> = order[from..(from + o.batch).min(order.len())]
            .iter()
            .map(|&i| {
                self.train.window_tokens(
                    &self.windows[i as usize],
                    o.model.context,
                    &o.augment,
                    &mut rng,
                )
            })
            .collect();
        let b = make_batch(&rows, o.model.context);
        let (x, y, m) = tensors(&b, &self.model.device()).map_err(Error::model("batch"))?;
        let count = b.count().max(1);
        let loss = (self
            .model
            .nll(&x, &y, &m, Some(&mut rng))
            .map_err(Error::model("forward"))?
            / count as f64)
            .map_err(Error::model("forward"))?;
        let value = loss.to_scalar::<f32>().map_err(Error::model("loss"))? as f64;
        let grads = loss.backward().map_err(Error::model("backward"))?;
        let lr = learning_rate(
            self.state.step,
            self.total_steps(),
            o.warmup,
            o.lr,
            o.lr_floor,
        );
        self.optim
            .step(&grads, lr)
            .map_err(Error::model("optimizer step"))?;
        self.state.step += 1;
        self.state.batch_in_epoch += 1;
        self.state.tokens_seen += count as u64;
        self.state.pending_loss += value * count as f64;
        self.state.pending_tokens += count as u64;
        if self.state.batch_in_epoch >= self.steps_per_epoch() {
            self.state.epoch += 1;
            self.state.batch_in_epoch = 0;
        }
        Ok(value)
    }

    /// Validates (the fixed sample, or every valid window when `full`) and adds a curve
    /// point; returns whether the weights are the best so far.
    pub fn validate(&mut self, full: bool) -> Result<bool> {
        let windows = if full {
            &self.valid_windows
        } else {
            &self.valid_sample
        };
        let (per_token, per_second) =
            window_nll(&self.model, self.valid, windows, self.opts.batch)?;
        let s = &mut self.state;
        let train = match (full, s.curve.last()) {
            // The full pass follows the sampled one at the epoch's end: the same training figure.
            (true, Some(p)) if p.step == s.step => p.train_nats_per_token,
            _ => s.pending_loss / s.pending_tokens.max(1) as f64,
        };
        s.curve.push(CurvePoint {
            step: s.step,
            epoch: s.epoch,
            seconds: s.train_seconds,
            tokens_seen: s.tokens_seen,
            train_nats_per_token: train,
            valid_nats_per_token: per_token,
            valid_nats_per_second: per_second,
            full,
        });
        s.pending_loss = 0.0;
        s.pending_tokens = 0;
        // Best is judged on the fixed sample, the one measure taken throughout the run.
        let best = !full && s.best_valid.is_none_or(|b| per_token < b);
        if best {
            s.best_valid = Some(per_token);
        }
        Ok(best)
    }
}

/// Trains until the run is finished, a limit is reached or SIGINT / SIGTERM arrives (after
/// [`super::stop::catch_signals`]), checkpointing into `out`. Returns the signal that stopped
/// the run, if one did.
pub fn train(run: &mut Run, out: &Path, limits: &RunLimits) -> Result<Option<i32>> {
    let started = Instant::now();
    let mut last_save = Instant::now();
    let mut tick = Instant::now();
    let bar = limits.progress.then(|| {
        let bar = indicatif::ProgressBar::new(run.total_steps() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] {pos}/{len} steps {msg}",
            )
            .expect("valid template"),
        );
        bar.set_position(run.state.step as u64);
        bar
    });
    store::write_run(out, &run.opts, &run.state)?;
    let mut stopped = None;
    while !run.finished() {
        if limits.max_steps.is_some_and(|m| run.state.step >= m)
            || limits
                .max_minutes
                .is_some_and(|m| started.elapsed().as_secs_f64() >= m * 60.0)
        {
            break;
        }
        let epoch = run.state.epoch;
        let loss = run.step()?;
        run.state.train_seconds += tick.elapsed().as_secs_f64();
        if let Some(bar) = &bar {
            bar.set_position(run.state.step as u64);
            bar.set_message(format!("epoch {} loss {loss:.3} nats/token", epoch + 1));
        }
        let epoch_done = run.state.epoch != epoch;
        if run.state.step.is_multiple_of(run.opts.valid_every) || epoch_done {
            if run.validate(false)? {
                store::save_best(out, &run.opts, &run.varmap)?;
            }
            if epoch_done {
                run.validate(true)?;
            }
            let p = run.state.curve.last().expect("just pushed");
            let line = format!(
                "step {} epoch {}: train {:.4} valid {:.4} nats/token ({:.2} nats/s)",
                p.step,
                p.epoch,
                p.train_nats_per_token,
                p.valid_nats_per_token,
                p.valid_nats_per_second
            );
            match &bar {
                Some(bar) => bar.println(line),
                None => eprintln!("{line}"),
            }
        }
        if epoch_done || last_save.elapsed().as_secs_f64() >= limits.checkpoint_minutes * 60.0 {
            store::save_generation(out, &run.opts, &run.state, &run.varmap, &run.optim)?;
            last_save = Instant::now();
        }
        if let Some(sig) = super::stop::pending() {
            // The step is done: the checkpoint below holds it, and the run resumes after it.
            eprintln!(
                "{}: stopping after step {}",
                super::stop::signal_name(sig),
                run.state.step
            );
            stopped = Some(sig);
            break;
        }
        tick = Instant::now();
    }
    store::save_generation(out, &run.opts, &run.state, &run.varmap, &run.optim)?;
    if !out.join("model.safetensors").exists() {
        store::save_best(out, &run.opts, &run.varmap)?;
    }
    if let Some(bar) = bar {
        bar.finish();
    }
    Ok(stopped)
}

#[cfg(test)]
mod tests;
