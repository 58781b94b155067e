//! `nesmm vary`: re-imagine a song with a VAE.

use super::model_arg::VaeArgs;
use clap::Args;
use nesmm::formats;
use nesmm::learn::vae_decode::{vary, VaeOptions};
use std::path::PathBuf;

/// Encode a song window by window with a VAE, move each latent by noise, decode.
#[derive(Args)]
#[command(
    long_about = "Encode a song window by window with a VAE (its posterior means), add \
                  amount * N(0, I) noise to each window's latent and decode the windows in a \
                  chain (each starts from the previous one's last frame). --amount 0 with \
                  --temperature 0 is the model's reconstruction. The same song, model, options \
                  and seed always give the same result.",
    after_help = "Example: nesmm vary theme.seprsco.pkl --amount 0.3 -o theme-vary.seprsco.pkl"
)]
pub struct VaryArgs {
    /// Song to vary (any format nesmm reads).
    pub song: PathBuf,
    /// Size of the latent noise (0 = none; 1 = as large as the prior).
    #[arg(long, default_value_t = 0.3)]
    pub amount: f32,
    #[command(flatten)]
    pub vae: VaeArgs,
    /// Sample among the K most likely notes only (0 = all).
    #[arg(long, default_value_t = 0)]
    pub top_k: usize,
    /// Output file [default: <song name>-vary.seprsco.pkl in the current folder].
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

pub fn run(a: VaryArgs) -> anyhow::Result<()> {
    let (model, dir) = a.vae.load()?;
    let song = super::info::load_song(&a.song)?;
    let opts = VaeOptions {
        top_k: a.top_k,
        ..a.vae.options()
    };
    let out = vary(&model, &song, a.amount, &opts).map_err(|e| {
        anyhow::anyhow!(
            "{e}\nhint: vary needs a 24 Hz song of at least {} frames",
            model.window()
        )
    })?;
    let path = a
        .output
        .unwrap_or_else(|| PathBuf::from(format!("{}.seprsco.pkl", out.name)));
    formats::save_score(&out, &path)?;
    eprintln!(
        "wrote {} ({} frames, model {})",
        path.display(),
        out.len(),
        dir.display()
    );
    Ok(())
}
