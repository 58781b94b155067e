//! `nesmm eval --model transformer`: nats per second of music for event models, beside the
//! event n-grams, uniform, the frame models (lstm-full and the frame n-grams) and LakhNES.
//! A Transformer with a fitted song cache is reported twice: with its cache and alone.

use super::eval::EvalArgs;
use nesmm::formats::nesmdb::Split;
use nesmm::learn::data::coding::{note_matrix, Coding};
use nesmm::learn::data::{coding_data_path, load_coded};
use nesmm::learn::eval::cached_scorer::{CachedScorer, MemoScorer};
use nesmm::learn::eval::event_eval::{
    evaluate, markdown, EventEval, TransformerScorer, UniformScorer,
};
use nesmm::learn::generate::{bundled_model_dir, Model};
use nesmm::learn::models::cache_weights::CacheWeights;
use nesmm::learn::models::event_ngram::EventNGram;
use nesmm::learn::models::transformer_decoder::Decoder;
use nesmm::learn::models::transformer_dir as store;
use nesmm::learn::report::evaluate_models;
use nesmm::score::Frame;
use std::path::PathBuf;

/// The sliding window a Transformer is scored with: `--window`, else its training context;
/// at most 4 x that.
pub fn scoring_window(
    window: Option<usize>,
    context: usize,
    dir: &std::path::Path,
) -> anyhow::Result<usize> {
    let window = window.unwrap_or(context);
    if window == 0 || window > 4 * context {
        anyhow::bail!(
            "--window {window} must be in 1..={} for {} (4 x its training context)",
            4 * context,
            dir.display()
        );
    }
    Ok(window)
}

/// What `--json` holds.
#[derive(serde::Serialize)]
struct Report {
    split: String,
    event_models: Vec<EventEval>,
    /// Frame models as (model, nats per 24 Hz frame, nats per second).
    frame_models: Vec<(String, f64, f64)>,
    lakhnes_published_nats_per_second: Vec<(String, f64)>,
}

pub fn run(a: &EvalArgs, split: Split, dirs: &[PathBuf]) -> anyhow::Result<()> {
    let data = a.dataset.data_path()?;
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let splits = if a.no_baselines {
        vec![split]
    } else {
        vec![split, Split::Train]
    };
    // Expressive models are scored on exprsco songs, whose notes are seprsco's: every model
    // then reads the same songs.
    let mut models = Vec::new();
    let mut lstms = Vec::new();
    for dir in dirs {
        if store::is_transformer(dir) {
            models.push((dir, store::load(dir)?));
        } else {
            lstms.push(Model::load(dir)?);
        }
    }
    let coding = match models.iter().any(|(_, m)| m.config.coding.is_expressive()) {
        true => Coding::Expressive,
        false => Coding::Notes,
    };
    let songs_path = coding_data_path(coding, a.dataset.data.as_deref())?;
    eprintln!("reading {} ...", songs_path.display());
    let split_songs: Vec<Vec<Vec<Frame>>> =
        load_coded(&songs_path, &splits, a.dataset.max_songs, coding)?
            .into_iter()
            .map(|s| s.songs.into_iter().map(|x| x.1).collect())
            .collect();
    let songs = &split_songs[0];
    let mut results = Vec::new();
    let mut frame_models = Vec::new();
    for (dir, model) in &models {
        let window = scoring_window(a.window, model.config.context, dir)?;
        let decoder = Decoder::new(model).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
        eprintln!(
            "scoring {} on {} songs ({threads} threads) ...",
            dir.display(),
            songs.len()
        );
        let scorer = TransformerScorer {
            decoder: &decoder,
            window,
        };
        // With a fitted song cache: the model with it, then alone (from the same scores).
        let memo = MemoScorer::new(&scorer);
        if let Some(weights) = CacheWeights::load(dir)? {
            let cached = CachedScorer {
                inner: &memo,
                weights: &weights,
            };
            let label = format!("{} + song cache", dir.display());
            results.push(evaluate(
                &label,
                &cached,
                model.config.coding,
                songs,
                threads,
            ));
        }
        results.push(evaluate(
            &dir.display().to_string(),
            &memo,
            model.config.coding,
            songs,
            threads,
        ));
    }
    if !a.no_baselines {
        let train: Vec<Vec<[u8; 4]>> = split_songs[1].iter().map(|s| note_matrix(s)).collect();
        for order in [3, 5] {
            let g = EventNGram::train(&train, order);
            results.push(evaluate(
                &format!("event {order}-gram"),
                &g,
                Coding::Notes,
                songs,
                threads,
            ));
        }
        let uniform = UniformScorer(Coding::Notes);
        results.push(evaluate(
            "uniform over events",
            &uniform,
            Coding::Notes,
            songs,
            1,
        ));
        if lstms.is_empty() {
            if let Ok(d) = bundled_model_dir("lstm-full") {
                lstms.push(Model::load(&d)?);
            }
        }
    }
    if !lstms.is_empty() || !a.no_baselines {
        eprintln!("scoring the frame models ...");
        for r in evaluate_models(
            &data,
            &lstms,
            split,
            a.dataset.max_songs,
            !a.no_baselines,
            a.refresh,
        )? {
            frame_models.push((r.model.clone(), r.nll_total));
        }
    }
    print!("{}", markdown(&results, &frame_models));
    if let Some(p) = &a.json {
        let report = Report {
            split: split.dir_name().to_string(),
            event_models: results,
            frame_models: frame_models
                .iter()
                .map(|(m, f)| (m.clone(), *f, f * nesmm::score::NESMDB_RATE))
                .collect(),
            lakhnes_published_nats_per_second: nesmm::learn::eval::event_eval::LAKHNES
                .iter()
                .map(|(l, v)| (l.to_string(), *v))
                .collect(),
        };
        nesmm::io::write_atomic(p, serde_json::to_string_pretty(&report)?.as_bytes())?;
        eprintln!("wrote {}", p.display());
    }
    Ok(())
}
