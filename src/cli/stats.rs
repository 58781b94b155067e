//! `nesmm stats`: statistics of generated songs next to a real split's.

use clap::Args;
use nesmm::formats::nesmdb::Split;
use nesmm::learn::data::default_data_path;
use nesmm::learn::generate::{bundled_model_dir, GenerateOptions, Model};
use nesmm::learn::report::sample_stats;
use nesmm::learn::stats::markdown_table;
use std::path::PathBuf;

/// Compare songs sampled from a model and from a bigram with an NES-MDB split.
#[derive(Args)]
#[command(
    long_about = "Sample songs from a model and from a bigram baseline and compare their \
                  statistics (note changes per second, rest share per voice, repetition at 1-8 s \
                  lags, pitch-class histogram) with an NES-MDB split. The last column is the \
                  mean distance to the split (lower is closer).",
    after_help = "Example: nesmm stats --songs 20 --seconds 30"
)]
pub struct StatsArgs {
    /// Model folder [default: the bundled models/lstm-full].
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// NES-MDB archive (.tar.gz) or folder [default: the seprsco archive in NESMDB_DIR].
    #[arg(long)]
    pub data: Option<PathBuf>,
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Use only the first N songs of each split.
    #[arg(long)]
    pub max_songs: Option<usize>,
    /// Songs to sample from each generator.
    #[arg(long, default_value_t = 20)]
    pub songs: usize,
    #[arg(long, default_value_t = 30.0)]
    pub seconds: f64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// LSTM sampling temperature.
    #[arg(long, default_value_t = 1.0)]
    pub temperature: f32,
    /// LSTM state refresh period in frames (0 = carry the state over whole songs) [default:
    /// the model's own: 0 (whole songs), or half its training window if trained with
    /// --reset-state]
    #[arg(long)]
    pub refresh: Option<usize>,
    /// LSTM restart after this many silent frames (0 = never).
    #[arg(long, default_value_t = nesmm::learn::generate::RESTART_AFTER_SILENCE)]
    pub restart_after_silence: usize,
    /// LSTM top-k (0 = all).
    #[arg(long, default_value_t = 0)]
    pub top_k: usize,
}

pub fn run(a: StatsArgs) -> anyhow::Result<()> {
    let split = Split::from_dir_name(&a.split).ok_or_else(|| {
        anyhow::anyhow!(
            "unknown split '{}'\nhint: use train, valid or test",
            a.split
        )
    })?;
    let dir = match a.model {
        Some(d) => nesmm::learn::vae_decode::resolve_model_dir(&d)?,
        None => bundled_model_dir("lstm-full")?,
    };
    let data = match a.data {
        Some(p) => p,
        None => default_data_path()?,
    };
    if nesmm::learn::vae_decode::is_vae_dir(&dir)? {
        let model = nesmm::learn::vae_decode::VaeModel::load(&dir)?;
        let opts = nesmm::learn::vae_decode::VaeOptions {
            seed: a.seed,
            temperature: a.temperature,
            top_k: a.top_k,
            ..Default::default()
        };
        let (reference, rows) = nesmm::learn::vae_eval::sample_stats(
            &data,
            &model,
            split,
            a.max_songs,
            a.songs,
            a.seconds,
            &opts,
        )?;
        print!("{}", markdown_table(&rows, &reference));
        return Ok(());
    }
    let model = Model::load(&dir)?;
    let (reference, rows) = sample_stats(
        &data,
        &model,
        split,
        a.max_songs,
        a.songs,
        a.seconds,
        &GenerateOptions {
            seed: a.seed,
            temperature: a.temperature,
            top_k: a.top_k,
            refresh: a.refresh,
            restart_after_silence: a.restart_after_silence,
            ..Default::default()
        },
    )?;
    print!("{}", markdown_table(&rows, &reference));
    Ok(())
}
