//! Generation: sample a song frame by frame from a trained model, from nothing or from the
//! first seconds of a primer song.
//!
//! Each frame is sampled voice by voice in the model's order (P1, P2, TR, NO), each voice
//! conditioned on the voices already drawn for the frame, with temperature and top-k. The
//! boundary token (end of song) is never drawn: the length is fixed by `seconds`. Sampling uses
//! [`crate::learn::models::infer::FastLstm`] and a generator seeded from `seed`, so the same model, options and
//! seed always give the same song.

use crate::error::{Error, Result};
use crate::learn::models::infer::{FastLstm, Stepper};
use crate::learn::models::lstm::{ModelKind, NoteLstm};
use crate::learn::models::model_dir;
use crate::score::{Score, NESMDB_RATE};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};

/// How often (frames) the sampling state of a model trained with the state reset per window
/// (`--reset-state`) is rebuilt over recent frames; see [`crate::learn::models::infer::Stepper`]. Half the
/// default training window; such a model trained on other windows refreshes at half of its
/// own, and a model trained with the state carried never does ([`Model::refresh`]).
pub const REFRESH: usize = 32;

/// Frames of silence after which sampling starts a new phrase from BOS. NES-MDB songs end in
/// silence (the tail of the recording), so the models learn that a long silence means the song
/// is over; with the end-of-song token masked, a sample that "ended" would otherwise stay
/// silent. One second of silence is kept, then the model starts again as at a song start.
pub const RESTART_AFTER_SILENCE: usize = 24;

/// A model ready to sample.
pub struct Model {
    pub dir: PathBuf,
    pub fast: FastLstm,
    /// The model's own state refresh period: half its training window (`training.seq` in
    /// `config.json`), so the state never holds more context than training showed it; 0 (the
    /// state runs over the whole song) for a model trained with `carry_state`.
    pub refresh: usize,
}

impl Model {
    /// The bundled full LSTM, or (without it) a sampler over `model`'s weights that uses its
    /// state as the bundled model does: never refreshed. For benchmarks, which must run in a
    /// checkout without `models/`.
    pub fn bundled_or(model: &NoteLstm) -> Result<Model> {
        match bundled_model_dir("lstm-full").and_then(|d| Model::load(&d)) {
            Ok(m) => Ok(m),
            Err(_) => Ok(Model {
                dir: "random".into(),
                fast: FastLstm::new(model).map_err(|e| Error::Unsupported(e.to_string()))?,
                refresh: 0,
            }),
        }
    }

    /// Loads `dir` (`config.json` + `model.safetensors`).
    pub fn load(dir: &Path) -> Result<Model> {
        let loaded = model_dir::load_model(dir)?;
        let fast = FastLstm::new(&loaded.model)
            .map_err(|e| Error::format(dir.join("model.safetensors"), e.to_string()))?;
        let training = &loaded.file.training;
        let carried = training.get("carry_state").and_then(|c| c.as_bool()) == Some(true);
        let refresh = if carried {
            0
        } else {
            training
                .get("seq")
                .and_then(|s| s.as_u64())
                .map_or(REFRESH, |seq| (seq as usize / 2).max(1))
        };
        Ok(Model {
            dir: dir.to_path_buf(),
            fast,
            refresh,
        })
    }

    /// Which model it is.
    pub fn kind(&self) -> ModelKind {
        self.fast.config.kind
    }
}

/// Where the bundled model `name` (`lstm-full`, `lstm-reduced`) is looked for: beside the
/// executable and up to three folders above it (`target/release/nesmm` -> the repository),
/// the crate's source folder, and the current folder, each under `models/<name>`.
pub fn bundled_model_candidates(name: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        let mut dir = exe.parent().map(Path::to_path_buf);
        for _ in 0..4 {
            let Some(d) = dir else { break };
            out.push(d.join("models").join(name));
            dir = d.parent().map(Path::to_path_buf);
        }
    }
    out.push(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models")
            .join(name),
    );
    if let Ok(cwd) = std::env::current_dir() {
        out.push(cwd.join("models").join(name));
    }
    out
}

/// The first folder of [`bundled_model_candidates`] holding a `config.json`.
pub fn bundled_model_dir(name: &str) -> Result<PathBuf> {
    let c = bundled_model_candidates(name);
    c.iter().find(|d| d.join("config.json").is_file()).cloned().ok_or_else(|| {
        Error::Unsupported(format!(
            "the bundled model '{name}' was not found (looked in {}); pass --model <dir> or train one with `nesmm train --out models/{name}`",
            c.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        ))
    })
}

/// Sampling options.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOptions {
    /// Length of the song in seconds (primer included).
    pub seconds: f64,
    pub seed: u64,
    /// Softmax temperature (> 0; 1 = the model's distribution).
    pub temperature: f32,
    /// Sample only among the `top_k` most likely tokens (0 = all).
    pub top_k: usize,
    /// A song whose first `primer_seconds` start the generated one.
    pub primer: Option<Score>,
    pub primer_seconds: f64,
    /// Name of the generated score.
    pub name: String,
    /// State refresh period in frames (0 = carry the state over the whole song; `None` = the
    /// model's own, [`Model::refresh`]).
    pub refresh: Option<usize>,
    /// After this many frames of complete silence, start afresh from BOS (0 = never).
    pub restart_after_silence: usize,
}

impl GenerateOptions {
    /// Checks the numbers before any work; an error names the flag and the accepted range.
    pub fn check(&self) -> Result<()> {
        let bad = |flag: &str, v: f64, accepted: &str| {
            Err(Error::Unsupported(format!(
                "{flag} {v} is out of range (accepted: {accepted})"
            )))
        };
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return bad("--temperature", self.temperature as f64, "more than 0");
        }
        if !(self.seconds > 0.0 && self.seconds <= 3600.0) {
            return bad("--seconds", self.seconds, "more than 0, at most 3600");
        }
        if !(self.primer_seconds >= 0.0 && self.primer_seconds <= 3600.0) {
            return bad("--primer-seconds", self.primer_seconds, "0 to 3600");
        }
        Ok(())
    }
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            seconds: 30.0,
            seed: 0,
            temperature: 1.0,
            top_k: 0,
            primer: None,
            primer_seconds: 4.0,
            name: "generated".into(),
            refresh: None,
            restart_after_silence: RESTART_AFTER_SILENCE,
        }
    }
}

/// Draws a token from logits with temperature and top-k, never the boundary token.
pub(crate) fn sample(
    logits: &mut [f32],
    notes: usize,
    temperature: f32,
    top_k: usize,
    rng: &mut StdRng,
) -> u8 {
    let logits = &mut logits[..notes];
    if top_k > 0 && top_k < notes {
        let mut sorted: Vec<f32> = logits.to_vec();
        sorted.sort_by(|a, b| b.total_cmp(a));
        let cut = sorted[top_k - 1];
        for l in logits.iter_mut() {
            if *l < cut {
                *l = f32::NEG_INFINITY;
            }
        }
    }
    let m = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut total = 0f32;
    for l in logits.iter_mut() {
        *l = ((*l - m) / temperature).exp();
        total += *l;
    }
    let mut r = rng.random::<f32>() * total;
    for (i, p) in logits.iter().enumerate() {
        r -= p;
        if r <= 0.0 && *p > 0.0 {
            return i as u8;
        }
    }
    logits.iter().rposition(|p| *p > 0.0).unwrap_or(0) as u8
}

/// Samples a score from `model`.
pub fn generate(model: &Model, opts: &GenerateOptions) -> Result<Score> {
    opts.check()?;
    let fast = &model.fast;
    let vocab = &fast.config.vocab;
    let w = fast.voices();
    let total = (opts.seconds * NESMDB_RATE).round().max(1.0) as usize;
    let mut rows: Vec<u8> = Vec::with_capacity(total * w);
    if let Some(p) = &opts.primer {
        if (p.rate - NESMDB_RATE).abs() > 1e-6 {
            return Err(Error::Unsupported(format!(
                "primer '{}' runs at {} Hz; the models work at {NESMDB_RATE} Hz",
                p.name, p.rate
            )));
        }
        let n = ((opts.primer_seconds * NESMDB_RATE).round().max(0.0) as usize)
            .min(p.len())
            .min(total);
        for f in &p.frames[..n] {
            rows.extend(vocab.encode_frame(f));
        }
    }
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let mut stepper = Stepper::new(fast, opts.refresh.unwrap_or(model.refresh));
    let mut input = vocab.boundary_row();
    let mut logits = Vec::new();
    let mut chosen = vec![0u8; w];
    let mut silent = 0;
    for t in 0..total {
        stepper.advance(&input);
        if t * w < rows.len() {
            input.copy_from_slice(&rows[t * w..(t + 1) * w]);
            continue;
        }
        for v in 0..w {
            logits.clear();
            logits.resize(fast.vocab_size(v), 0.0);
            fast.head_logits(&mut stepper.state, v, &chosen, &mut logits);
            chosen[v] = sample(
                &mut logits,
                vocab.ranges[v].notes(),
                opts.temperature,
                opts.top_k,
                &mut rng,
            );
        }
        rows.extend_from_slice(&chosen);
        input.copy_from_slice(&chosen);
        if chosen.iter().all(|&c| c == 0) {
            silent += 1;
        } else {
            silent = 0;
        }
        if opts.restart_after_silence > 0 && silent >= opts.restart_after_silence {
            stepper.reset();
            input = vocab.boundary_row();
            silent = 0;
        }
    }
    let notes = vocab.decode_rows(&rows);
    let score = Score::from_notes(opts.name.clone(), NESMDB_RATE, &notes);
    score.validate()?;
    Ok(score)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_respects_top_k_and_never_draws_the_boundary() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..200 {
            let mut l = vec![0.0, 5.0, 4.9, -1.0, 100.0];
            let t = sample(&mut l, 4, 1.0, 2, &mut rng);
            assert!(t == 1 || t == 2, "{t}");
        }
        let mut l = vec![0.0, 0.0, 10.0, 100.0];
        assert_eq!(sample(&mut l, 3, 0.01, 0, &mut rng), 2);
    }
}
