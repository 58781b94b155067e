//! The `eval` and `stats` reports on NES-MDB: models and baselines scored on one split, and
//! statistics of sampled songs next to the split's.

use super::predict::{evaluate, EvalResult, LstmPredictor};
use super::stats::{corpus_rows, sample_predictor, CorpusStats, NamedSongs, SampleRequest};
use crate::error::{Error, Result};
use crate::formats::nesmdb::Split;
use crate::learn::data::{load_notes, SplitNotes};
use crate::learn::models::ngram::{NGram, Predictor, RepeatPrevious, Uniform};
use crate::learn::sample::generate::{generate, GenerateOptions, Model};
use crate::score::Score;
use std::path::Path;

/// Baselines fitted on the train split, in table order.
pub fn baselines(train: &crate::learn::data::dataset::TokenSet) -> Vec<Box<dyn Predictor>> {
    vec![
        Box::new(Uniform::new(train)),
        Box::new(RepeatPrevious::fit(train)),
        Box::new(NGram::fit(train, 1, 0.75)),
        Box::new(NGram::fit(train, 2, 0.75)),
        Box::new(NGram::fit(train, 4, 0.75)),
    ]
}

/// Scores `models` (which must share one vocabulary) and, with `with_baselines`, the
/// baselines on `split` of the data at `data` (at most `max_songs` songs per split). The LSTMs
/// run with the state refresh period `refresh` (see [`crate::learn::models::infer::Stepper`]; `None` = each
/// model's own, [`Model::refresh`]).
pub fn evaluate_models(
    data: &Path,
    models: &[Model],
    split: Split,
    max_songs: Option<usize>,
    with_baselines: bool,
    refresh: Option<usize>,
) -> Result<Vec<EvalResult>> {
    let first = models
        .first()
        .ok_or_else(|| Error::Unsupported("no model to evaluate: pass --model <dir>".into()))?;
    let vocab = first.fast.config.vocab.clone();
    for m in models {
        if m.fast.config.vocab != vocab {
            return Err(Error::Unsupported(format!(
                "{} models another set of voices or ranges than {}; evaluate them separately",
                m.dir.display(),
                first.dir.display()
            )));
        }
    }
    let splits: Vec<Split> = if with_baselines && split != Split::Train {
        vec![Split::Train, split]
    } else {
        vec![split]
    };
    let notes = load_notes(data, &splits, max_songs)?;
    let target = notes
        .last()
        .map(|n| n.encode(&vocab))
        .ok_or_else(|| Error::format(data, "no songs"))?;
    let mut out = Vec::new();
    if with_baselines {
        let train = notes[0].encode(&vocab);
        for mut b in baselines(&train) {
            out.push(evaluate(b.as_mut(), &target));
        }
    }
    for m in models {
        let mut p = LstmPredictor::new(&m.fast, m.kind().name(), refresh.unwrap_or(m.refresh));
        out.push(evaluate(&mut p, &target));
    }
    Ok(out)
}

/// Songs of the request's split and the named sets of its `songs` songs sampled from `model`
/// and from a bigram fitted on the train split, each `seconds` long; `sampling` gives the LSTM's temperature,
/// top-k, refresh and first seed. Returns `(split, [(model samples), (bigram samples)])`.
pub fn sample_songs(
    req: &SampleRequest,
    model: &Model,
    sampling: &GenerateOptions,
) -> Result<(SplitNotes, NamedSongs)> {
    let SampleRequest {
        data,
        split,
        max_songs,
        songs,
        seconds,
    } = *req;
    let seed = sampling.seed;
    let mut notes: Vec<SplitNotes> = load_notes(data, &[Split::Train, split], max_songs)?;
    // Sample i depends only on seed + i: the samples are drawn on every core, in order.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(songs.max(1));
    let parts: Vec<Result<Vec<Score>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    (songs * t / threads..songs * (t + 1) / threads)
                        .map(|i| {
                            let opts = GenerateOptions {
                                seconds,
                                seed: seed + i as u64,
                                name: format!("lstm{i}"),
                                ..sampling.clone()
                            };
                            generate(model, &opts)
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(Error::Unsupported("a sampling thread panicked".into()))
                })
            })
            .collect()
    });
    let mut lstm = Vec::with_capacity(songs);
    for p in parts {
        lstm.extend(p?);
    }
    let vocab = crate::learn::data::vocab::Vocab::from_notes(
        &crate::score::Voice::ALL,
        notes[0].songs.iter().flat_map(|s| s.1.iter().copied()),
    )?;
    let train = notes[0].encode(&vocab);
    let mut bigram = NGram::fit(&train, 2, 0.75);
    let frames = (seconds * 24.0).round() as usize;
    let bi: Vec<Score> = (0..songs)
        .map(|i| sample_predictor(&mut bigram, &train, frames, seed + i as u64, "bigram"))
        .collect();
    let name = format!("{} samples", model.kind().name());
    let target = notes.remove(1);
    Ok((
        target,
        vec![(name, lstm), ("bigram samples".to_string(), bi)],
    ))
}

/// Statistics of the request's split, of songs sampled from `model` and from a bigram (see
/// [`sample_songs`]). Returns `(reference, rows)`.
pub fn sample_stats(
    req: &SampleRequest,
    model: &Model,
    sampling: &GenerateOptions,
) -> Result<(CorpusStats, Vec<(String, CorpusStats)>)> {
    let (target, sets) = sample_songs(req, model, sampling)?;
    Ok(corpus_rows(&target, &sets))
}
