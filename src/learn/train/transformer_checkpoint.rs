//! What training writes into a Transformer's folder (see
//! [`crate::learn::models::transformer_dir`]): `config.json` and `model.safetensors` (the
//! best weights), `training.json` (the run's options and curve) and `last/gen-STEP/`
//! checkpoint generations.
//!
//! A generation is written whole into `last/.tmp-gen-STEP-PID/` (weights, optimizer moments,
//! `state.json`, each synced) and renamed to `last/gen-STEP/` in one step; older generations are
//! removed after. A kill at any moment leaves a complete generation to resume from.

use crate::error::{Error, Result};
use crate::learn::models::model_dir::{load_tensors, save_tensors, set_varmap, varmap_tensors};
use crate::learn::models::transformer_dir::{json_read, TransformerFile, ARCHITECTURE};
use crate::learn::train::optim::AdamW;
use crate::learn::train::transformer_run::{RunOptions, RunState};
use candle_nn::VarMap;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

fn json_write<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| Error::format(path, e.to_string()))?;
    crate::io::write_atomic(path, text.as_bytes())
}

/// Writes `config.json`, `training.json` and the best weights.
pub fn save_best(out: &Path, opts: &RunOptions, varmap: &VarMap) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    json_write(
        &out.join("config.json"),
        &TransformerFile {
            architecture: ARCHITECTURE.into(),
            transformer: opts.model.clone(),
        },
    )?;
    save_tensors(&varmap_tensors(varmap), &out.join("model.safetensors"))
}

/// What `training.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainingFile {
    pub options: RunOptions,
    pub state: RunState,
}

/// Writes `training.json` (options and curve so far).
pub fn write_run(out: &Path, opts: &RunOptions, state: &RunState) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    json_write(
        &out.join("training.json"),
        &TrainingFile {
            options: opts.clone(),
            state: state.clone(),
        },
    )
}

/// The options a run in `out` was started with, if any.
pub fn stored_options(out: &Path) -> Result<Option<RunOptions>> {
    let path = out.join("training.json");
    if !path.exists() {
        return Ok(None);
    }
    Ok(Some(
        json_read::<TrainingFile>(&path, "a Transformer training.json")?.options,
    ))
}

fn generations(out: &Path) -> Result<Vec<(usize, PathBuf)>> {
    let last = out.join("last");
    let Ok(entries) = std::fs::read_dir(&last) else {
        return Ok(Vec::new());
    };
    let mut gens = Vec::new();
    for e in entries {
        let e = e.map_err(|e| Error::io(&last, e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(step) = name
            .strip_prefix("gen-")
            .and_then(|s| s.parse::<usize>().ok())
        {
            gens.push((step, e.path()));
        } else if name.starts_with(".tmp-gen-") {
            // A generation a killed run did not finish: never read, removed.
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    gens.sort();
    Ok(gens)
}

/// The newest complete generation in `out/last/`, if any (unfinished ones are removed).
pub fn newest_generation(out: &Path) -> Result<Option<PathBuf>> {
    Ok(generations(out)?.pop().map(|g| g.1))
}

/// Writes generation `state.step` and removes the older ones; also rewrites `training.json`.
pub fn save_generation(
    out: &Path,
    opts: &RunOptions,
    state: &RunState,
    varmap: &VarMap,
    optim: &AdamW,
) -> Result<()> {
    let last = out.join("last");
    std::fs::create_dir_all(&last).map_err(|e| Error::io(&last, e))?;
    let name = format!("gen-{:09}", state.step);
    let tmp = last.join(format!(".tmp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let result = (|| {
        std::fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        save_tensors(&varmap_tensors(varmap), &tmp.join("model.safetensors"))?;
        save_tensors(&optim.state(), &tmp.join("optimizer.safetensors"))?;
        json_write(&tmp.join("state.json"), state)?;
        let dest = last.join(&name);
        let _ = std::fs::remove_dir_all(&dest);
        std::fs::rename(&tmp, &dest).map_err(|e| Error::io(&dest, e))?;
        if let Ok(d) = std::fs::File::open(&last) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result?;
    for (step, path) in generations(out)? {
        if step < state.step {
            let _ = std::fs::remove_dir_all(path);
        }
    }
    write_run(out, opts, state)
}

/// Loads generation `gen` into `varmap` and `optim`; returns its progress.
pub fn load_generation(gen: &Path, varmap: &VarMap, optim: &mut AdamW) -> Result<RunState> {
    let state: RunState = json_read(&gen.join("state.json"), "a Transformer checkpoint state")?;
    let weights = gen.join("model.safetensors");
    set_varmap(varmap, &load_tensors(&weights)?, &weights)?;
    let opt_path = gen.join("optimizer.safetensors");
    optim
        .load_state(&load_tensors(&opt_path)?, state.step)
        .map_err(|e| {
            Error::format(
                &opt_path,
                format!("optimizer state does not fit the model: {e}"),
            )
        })?;
    Ok(state)
}
