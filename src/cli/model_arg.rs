//! `--model`: a model folder or a bundled model's name, for the commands that load one
//! (`eval`, `stats`, `generate`, `interpolate`, `vary`).

use clap::Args;
use nesmm::learn::generate::bundled_model_dir;
use nesmm::learn::vae_decode::{resolve_model_dir, VaeModel, VaeOptions};
use std::path::{Path, PathBuf};

/// The folder `arg` names: a folder as is, a bundled name (`transformer`, `lstm-full`, ...)
/// looked up in models/; without `arg`, the bundled `default`.
pub fn model_dir(arg: Option<&Path>, default: &str) -> anyhow::Result<PathBuf> {
    Ok(match arg {
        Some(d) => resolve_model_dir(d)?,
        None => bundled_model_dir(default)?,
    })
}

/// The VAE and decoding of `interpolate` and `vary`.
#[derive(Args, Debug, Clone)]
pub struct VaeArgs {
    /// VAE folder or bundled name [default: the bundled models/vae-full].
    #[arg(long)]
    pub model: Option<PathBuf>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Softmax temperature of decoding (0 = most likely note).
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f32,
}

impl VaeArgs {
    /// The VAE `--model` names, and its folder.
    pub fn load(&self) -> anyhow::Result<(VaeModel, PathBuf)> {
        let dir = model_dir(self.model.as_deref(), "vae-full")?;
        let model = VaeModel::load(&dir).map_err(|e| vae_hint(e, &dir))?;
        Ok((model, dir))
    }

    /// Decoding options: `--seed` and `--temperature`, all else the defaults.
    pub fn options(&self) -> VaeOptions {
        VaeOptions {
            seed: self.seed,
            temperature: self.temperature,
            ..Default::default()
        }
    }
}

/// A VAE that did not load, with what `--model` must be.
fn vae_hint(e: nesmm::Error, dir: &Path) -> anyhow::Error {
    let what = if dir.join("config.json").is_file() {
        "is not a VAE nesmm can load"
    } else {
        "holds no model (config.json is missing)"
    };
    anyhow::anyhow!(
        "{e}\nhint: {} {what}; --model takes a VAE folder written by `nesmm train --model \
         vae-full --out DIR`, or a bundled name (vae-full, vae-reduced)",
        dir.display()
    )
}
