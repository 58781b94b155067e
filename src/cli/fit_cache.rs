//! `nesmm fit-cache`: fits a Transformer's song-cache weights on the valid split and writes
//! them into its folder, where `eval`, `stats` and `generate` find them.

use super::dataset_args::DatasetArgs;
use clap::Args;
use nesmm::formats::nesmdb::Split;
use nesmm::learn::data::{coding_data_path, load_coded};
use nesmm::learn::eval::cached_scorer::{fit_tokens, CachedScorer, MemoScorer};
use nesmm::learn::eval::event_eval::{evaluate, TransformerScorer};
use nesmm::learn::models::cache_weights::{CacheWeights, FILE_NAME};
use nesmm::learn::models::transformer_decoder::Decoder;
use nesmm::learn::models::transformer_dir as store;
use std::path::PathBuf;

/// Fit the song cache of a Transformer (how much to trust the song's own past).
#[derive(Args)]
#[command(
    long_about = "Fit how much a Transformer trusts the song cache: the prediction of the next \
                  token from what followed the same run of tokens earlier in the song, and of \
                  each kind of token (each voice's note-ons, the note-offs, the waits) from the \
                  song's earlier tokens of that kind. The weights (a set per match length and \
                  agreement) are fitted by EM on NES-MDB's \
                  valid split and written to the model folder as song_cache.json; eval, stats \
                  and generate then use them. Prints the valid split's nats per second with and \
                  without the cache.",
    after_help = "Example: nesmm fit-cache --model ~/runs/transformer-cpu1"
)]
pub struct FitCacheArgs {
    /// The Transformer's folder.
    #[arg(long)]
    pub model: PathBuf,
    /// NES-MDB archive or folder [default: the model's coding's archive in NESMDB_DIR].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Use only the first N valid songs.
    #[arg(long)]
    pub max_songs: Option<usize>,
    /// Tokens the model attends to [default: its training context].
    #[arg(long)]
    pub window: Option<usize>,
    /// Threads for scoring [default: all cores].
    #[arg(long)]
    pub threads: Option<usize>,
}

pub fn run(a: FitCacheArgs) -> anyhow::Result<()> {
    let dir = &a.model;
    store::check_architecture(dir)?;
    if !store::is_transformer(dir) {
        anyhow::bail!(
            "{}: the song cache is for event models; this folder holds an LSTM or VAE\nhint: pass a folder written by `nesmm train --model transformer`",
            dir.display()
        );
    }
    let model = store::load(dir)?;
    let coding = model.config.coding;
    let window = super::eval_transformer::scoring_window(a.window, model.config.context, dir)?;
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let dataset = DatasetArgs {
        data: a.data.clone(),
        split: "valid".into(),
        max_songs: a.max_songs,
    };
    let path = coding_data_path(coding, dataset.data.as_deref())?;
    eprintln!("reading {} ...", path.display());
    let songs: Vec<_> = load_coded(&path, &[Split::Valid], a.max_songs, coding)?
        .remove(0)
        .songs
        .into_iter()
        .map(|s| s.1)
        .collect();
    let decoder = Decoder::new(&model).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    let transformer = TransformerScorer {
        decoder: &decoder,
        window,
    };
    let memo = MemoScorer::new(&transformer);
    eprintln!(
        "scoring {} valid songs ({threads} threads) ...",
        songs.len()
    );
    let tokens = fit_tokens(&memo, coding, &songs, threads);
    let mut weights = CacheWeights::fit(&tokens, 100);
    let plain = evaluate("model", &memo, coding, &songs, threads);
    let cached = evaluate(
        "model + song cache",
        &CachedScorer {
            inner: &memo,
            weights: &weights,
        },
        coding,
        &songs,
        threads,
    );
    weights.fitted_on = format!(
        "valid split, {} songs, {} tokens: {:.2} nats/s without the cache, {:.2} with it",
        plain.songs, plain.tokens, plain.nats_per_second, cached.nats_per_second
    );
    weights.save(dir)?;
    println!("{}", weights.fitted_on);
    println!("| longest match up to | its occurrences agree | model | L | L/2 | L/4 | L/8 | 1 token | kind 1-gram | 2-gram | 3-gram | 4-gram |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (k, w) in weights.weights.iter().enumerate() {
        let w: Vec<String> = w.iter().map(|x| format!("{x:.3}")).collect();
        println!(
            "| {} | {} | {} |",
            nesmm::learn::models::song_cache::class_max_order(k),
            if k % 2 == 1 { "yes" } else { "no" },
            w.join(" | ")
        );
    }
    eprintln!("wrote {}", dir.join(FILE_NAME).display());
    Ok(())
}
