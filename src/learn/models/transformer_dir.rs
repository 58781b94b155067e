//! A Transformer's model folder as `generate`, `eval` and `stats` read it: `config.json`
//! (`"architecture": "transformer"` and the shape) and `model.safetensors`. Training writes
//! it ([`crate::learn::train::transformer_checkpoint`]).

use super::transformer::{Transformer, TransformerConfig};
use crate::error::{Error, Result};
use crate::learn::models::model_dir::{load_tensors, set_varmap};
use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The architecture name in `config.json`.
pub const ARCHITECTURE: &str = "transformer";

/// What `config.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TransformerFile {
    pub architecture: String,
    pub transformer: TransformerConfig,
}

pub(crate) fn json_read<T: for<'de> Deserialize<'de>>(path: &Path, what: &str) -> Result<T> {
    let bytes = crate::io::read_file(path)?;
    serde_json::from_slice(&bytes).map_err(|e| Error::format(path, format!("not {what}: {e}")))
}

/// Whether `dir/config.json` names the Transformer architecture.
pub fn is_transformer(dir: &Path) -> bool {
    let Ok(bytes) = std::fs::read(dir.join("config.json")) else {
        return false;
    };
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("architecture")?.as_str().map(|s| s == ARCHITECTURE))
        .unwrap_or(false)
}

/// An error naming `dir/config.json` when it describes no architecture this nesmm knows
/// (an LSTM or VAE `model`, or `architecture: transformer`).
pub fn check_architecture(dir: &Path) -> Result<()> {
    let path = dir.join("config.json");
    let bytes = crate::io::read_file(&path)?;
    let v: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::format(&path, format!("not a model config (bad JSON: {e})")))?;
    match (v.get("architecture"), v.get("model")) {
        (Some(a), _) if a.as_str() == Some(ARCHITECTURE) => Ok(()),
        (Some(a), _) => Err(Error::format(
            &path,
            format!("unknown architecture {a}: this nesmm reads transformer, lstm-* and vae-* models"),
        )),
        (None, Some(_)) => Ok(()),
        (None, None) => Err(Error::format(
            &path,
            "names no architecture (neither `architecture` nor `model`): not a folder written by `nesmm train`",
        )),
    }
}

/// Loads `dir/config.json` and `dir/model.safetensors` (CPU).
pub fn load(dir: &Path) -> Result<Transformer> {
    let cfg_path = dir.join("config.json");
    let file: TransformerFile = json_read(&cfg_path, "a Transformer config")?;
    if file.architecture != ARCHITECTURE {
        return Err(Error::format(
            &cfg_path,
            format!(
                "architecture '{}' is not '{ARCHITECTURE}'",
                file.architecture
            ),
        ));
    }
    file.transformer
        .check()
        .map_err(|e| Error::format(&cfg_path, e))?;
    let coding = file.transformer.coding;
    if file.transformer.vocab != coding.vocab() {
        return Err(Error::format(
            &cfg_path,
            format!(
                "vocabulary of {} tokens; this nesmm's {} coding has {}",
                file.transformer.vocab,
                coding.name(),
                coding.vocab()
            ),
        ));
    }
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let model = Transformer::new(file.transformer, vb)
        .map_err(|e| Error::format(&cfg_path, e.to_string()))?;
    let weights = dir.join("model.safetensors");
    set_varmap(&varmap, &load_tensors(&weights)?, &weights)?;
    Ok(model)
}
