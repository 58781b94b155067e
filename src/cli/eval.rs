//! `nesmm eval`: score models and baselines on an NES-MDB split.

use super::dataset_args::DatasetArgs;
use super::model_arg::model_dir;
use clap::Args;
use nesmm::learn::eval::markdown_table;
use nesmm::learn::generate::{bundled_model_dir, Model};
use nesmm::learn::report::evaluate_models;
use nesmm::learn::vae_decode;
use nesmm::learn::vae_eval;
use std::path::PathBuf;

/// Negative log-likelihood, accuracy and change-frame NLL of models and baselines.
#[derive(Args)]
#[command(
    long_about = "Score trained models and the baselines (uniform, repeat-previous, unigram, \
                  bigram, 4-gram) on an NES-MDB split: NLL in nats per frame for each voice and \
                  summed, frame accuracy, and NLL on the frames where a voice changes. Prints a \
                  markdown table.",
    after_help = "Example: nesmm eval --model models/lstm-full --json models/lstm-full/eval.json"
)]
pub struct EvalArgs {
    /// Model folders (all with the same voices) [default: the bundled models/lstm-full].
    #[arg(long)]
    pub model: Vec<PathBuf>,
    #[command(flatten)]
    pub dataset: DatasetArgs,
    /// Skip the baselines.
    #[arg(long)]
    pub no_baselines: bool,
    /// LSTM state refresh period in frames (0 = carry the state over whole songs) [default:
    /// the model's own: 0 (whole songs), or half its training window if trained with
    /// --reset-state]
    #[arg(long)]
    pub refresh: Option<usize>,
    /// Also write the results as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// VAE: the LSTM to score on the same windows [default: the bundled lstm-full or
    /// lstm-reduced matching the VAE, when present].
    #[arg(long)]
    pub lstm: Option<PathBuf>,
    /// Transformer: tokens it attends to (a sliding window) [default: its training context].
    #[arg(long)]
    pub window: Option<usize>,
    /// Threads for scoring the Transformer [default: all cores].
    #[arg(long)]
    pub threads: Option<usize>,
}

pub fn run(a: EvalArgs) -> anyhow::Result<()> {
    let split = a.dataset.split()?;
    let dirs = if a.model.is_empty() {
        vec![bundled_model_dir("lstm-full")?]
    } else {
        a.model
            .iter()
            .map(|d| model_dir(Some(d), "lstm-full"))
            .collect::<anyhow::Result<Vec<_>>>()?
    };
    for d in &dirs {
        nesmm::learn::models::transformer_dir::check_architecture(d)?;
    }
    if dirs
        .iter()
        .any(|d| nesmm::learn::models::transformer_dir::is_transformer(d))
    {
        return super::eval_transformer::run(&a, split, &dirs);
    }
    if dirs.len() == 1 && vae_decode::is_vae_dir(&dirs[0])? {
        return run_vae(&a.dataset, &dirs[0], a.lstm.as_deref(), a.json.as_deref());
    }
    let models = dirs
        .iter()
        .map(|d| Model::load(d))
        .collect::<Result<Vec<_>, _>>()?;
    let data = a.dataset.data_path()?;
    let results = evaluate_models(
        &data,
        &models,
        split,
        a.dataset.max_songs,
        !a.no_baselines,
        a.refresh,
    )?;
    print!("{}", markdown_table(&results));
    if let Some(p) = a.json {
        let text = serde_json::to_string_pretty(&results)?;
        nesmm::io::write_atomic(&p, text.as_bytes())?;
        eprintln!("wrote {}", p.display());
    }
    Ok(())
}

/// A VAE: ELBO, reconstruction and KL on the split's windows, beside the LSTM's NLL.
fn run_vae(
    dataset: &DatasetArgs,
    dir: &std::path::Path,
    lstm: Option<&std::path::Path>,
    json: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let model = vae_decode::VaeModel::load(dir)?;
    let (data, split, max_songs) = (dataset.data_path()?, dataset.split()?, dataset.max_songs);
    let lstm = match lstm {
        Some(p) => Some(p.to_path_buf()),
        None => {
            let name = if model.vocab().len() == 1 {
                "lstm-reduced"
            } else {
                "lstm-full"
            };
            let found = bundled_model_dir(name).ok();
            if found.is_none() {
                eprintln!(
                    "note: no bundled {name} found; pass --lstm <dir> to compare with an LSTM"
                );
            }
            found
        }
    };
    let e = vae_eval::evaluate_vae_on(&model, &data, split, max_songs, lstm.as_deref())?;
    print!("{}", vae_eval::markdown(&e));
    if let Some(p) = json {
        nesmm::io::write_atomic(p, serde_json::to_string_pretty(&e)?.as_bytes())?;
        eprintln!("wrote {}", p.display());
    }
    Ok(())
}
