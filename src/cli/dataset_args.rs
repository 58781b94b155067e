//! `--data`, `--split`, `--max-songs`: which NES-MDB songs `eval` and `stats` read.

use clap::Args;
use nesmm::formats::nesmdb::Split;
use nesmm::learn::data::default_data_path;
use std::path::PathBuf;

/// The NES-MDB songs a command scores or compares with.
#[derive(Args, Debug, Clone)]
pub struct DatasetArgs {
    /// NES-MDB archive (.tar.gz) or folder [default: the seprsco archive in NESMDB_DIR].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Split to read: train, valid or test.
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Use only the first N songs of each split.
    #[arg(long)]
    pub max_songs: Option<usize>,
}

impl DatasetArgs {
    /// The split named by `--split`.
    pub fn split(&self) -> anyhow::Result<Split> {
        Split::from_dir_name(&self.split).ok_or_else(|| {
            anyhow::anyhow!(
                "unknown split '{}'\nhint: use train, valid or test",
                self.split
            )
        })
    }

    /// The archive or folder: `--data`, else the one in NESMDB_DIR (or ../shared).
    pub fn data_path(&self) -> anyhow::Result<PathBuf> {
        match &self.data {
            Some(p) => Ok(p.clone()),
            None => Ok(default_data_path()?),
        }
    }
}
