//! Model directories: `config.json` (architecture with vocabularies, and the training
//! hyper-parameters) and `model.safetensors` (the best weights by validation NLL), with the
//! safetensors reading and writing that training's checkpoints
//! ([`crate::learn::train::checkpoint`]) use too. Every file is written to a temporary name
//! and renamed into place.

use super::lstm::{ModelConfig, NoteLstm};
use crate::error::{Error, Result};
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Everything `config.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelFile {
    pub model: ModelConfig,
    /// Training hyper-parameters and data the weights came from (informative).
    #[serde(default)]
    pub training: serde_json::Value,
}

/// Writes named tensors as safetensors, atomically.
pub fn save_tensors(tensors: &HashMap<String, Tensor>, path: &Path) -> Result<()> {
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = parent.join(format!(".{name}.{}.tmp", std::process::id()));
    candle_core::safetensors::save(tensors, &tmp)
        .map_err(|e| Error::format(&tmp, format!("cannot write safetensors: {e}")))?;
    // On disk before the rename, so a crash leaves the old file or the new one, never half.
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::io(path, e)
        })
}

/// Reads named tensors from a safetensors file (errors name the file).
pub fn load_tensors(path: &Path) -> Result<HashMap<String, Tensor>> {
    if !path.exists() {
        return Err(Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        ));
    }
    candle_core::safetensors::load(path, &Device::Cpu)
        .map_err(|e| Error::format(path, format!("not a readable safetensors file: {e}")))
}

/// The variables of a `VarMap` as named tensors.
pub fn varmap_tensors(varmap: &VarMap) -> HashMap<String, Tensor> {
    let data = varmap.data().lock().expect("varmap lock");
    data.iter()
        .map(|(k, v)| (k.clone(), v.as_tensor().clone()))
        .collect()
}

/// Copies saved tensors into a `VarMap`'s variables; every variable must be present with its
/// shape.
pub fn set_varmap(varmap: &VarMap, tensors: &HashMap<String, Tensor>, path: &Path) -> Result<()> {
    let data = varmap.data().lock().expect("varmap lock");
    for (name, var) in data.iter() {
        let t = tensors
            .get(name)
            .ok_or_else(|| Error::format(path, format!("tensor '{name}' is missing")))?;
        if t.dims() != var.dims() {
            return Err(Error::format(
                path,
                format!(
                    "tensor '{name}' has shape {:?}, the config implies {:?}",
                    t.dims(),
                    var.dims()
                ),
            ));
        }
        t.to_device(var.device())
            .and_then(|t| var.set(&t))
            .map_err(|e| Error::format(path, e.to_string()))?;
    }
    Ok(())
}

/// Reads `dir/config.json`.
pub fn read_config(dir: &Path) -> Result<ModelFile> {
    let path = dir.join("config.json");
    let bytes = crate::io::read_file(&path)?;
    let file: ModelFile = serde_json::from_slice(&bytes)
        .map_err(|e| Error::format(&path, format!("not a model config: {e}")))?;
    file.model.check(&path)?;
    Ok(file)
}

/// Writes `dir/config.json` atomically.
pub fn write_config(dir: &Path, file: &ModelFile) -> Result<()> {
    let path = dir.join("config.json");
    let text =
        serde_json::to_string_pretty(file).map_err(|e| Error::format(&path, e.to_string()))?;
    crate::io::write_atomic(&path, text.as_bytes())
}

/// A loaded model with its variables.
pub struct LoadedModel {
    pub dir: PathBuf,
    pub file: ModelFile,
    pub varmap: VarMap,
    pub model: NoteLstm,
}

/// Loads `dir/config.json` and `dir/<weights>` (normally `model.safetensors`).
pub fn load_model_weights(dir: &Path, weights: &Path) -> Result<LoadedModel> {
    let file = read_config(dir)?;
    if file.model.kind.is_vae() {
        return Err(Error::Unsupported(format!(
            "{} holds a {} model, not an LSTM; the VAE commands load it (nesmm generate/eval/vary/interpolate --model {})",
            dir.display(),
            file.model.kind.name(),
            dir.display()
        )));
    }
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let model = NoteLstm::new(file.model.clone(), vb)
        .map_err(|e| Error::format(dir.join("config.json"), e.to_string()))?;
    if !weights.exists() {
        return Err(Error::format(
            weights,
            "no trained weights yet: a training run writes them after its first validation \
             (continue it with `nesmm train --resume --out <folder>`)",
        ));
    }
    let tensors = load_tensors(weights)?;
    set_varmap(&varmap, &tensors, weights)?;
    Ok(LoadedModel {
        dir: dir.to_path_buf(),
        file,
        varmap,
        model,
    })
}

/// Loads the best weights of a model directory.
pub fn load_model(dir: &Path) -> Result<LoadedModel> {
    load_model_weights(dir, &dir.join("model.safetensors"))
}

/// Largest absolute element difference of two tensors of one shape: how tests (and resume
/// checks) tell whether two sets of weights are the same.
pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> candle_core::Result<f32> {
    a.sub(b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()
}
