//! `nesmm stats`: statistics of generated songs next to a real split's.

use super::dataset_args::DatasetArgs;
use super::model_arg::model_dir;
use clap::Args;
use nesmm::formats::nesmdb::Split;
use nesmm::learn::data::{expressive_data_path, load_frames, load_notes, SplitNotes};
use nesmm::learn::eval::dynamics_stats::{
    distribution_distances, dynamics_stats, DynamicsStats, ENVELOPE_FRAMES,
};
use nesmm::learn::generate::{GenerateOptions, Model};
use nesmm::learn::music_stats::{
    self, excerpts, frames_at_24hz, music_stats, notes_at_24hz, MusicStats,
};
use nesmm::learn::report::sample_songs;
use nesmm::learn::stats::{corpus_rows, markdown_table, NamedSongs, SampleRequest};
use nesmm::score::{Frame, Score};
use std::path::{Path, PathBuf};

/// Compare songs sampled from a model and from a bigram with an NES-MDB split.
#[derive(Args)]
#[command(
    long_about = "Sample songs from a model and from a bigram baseline (or read every score of \
                  --folder) and compare their statistics (note changes per second, rest share \
                  per voice, repetition at 1-8 s lags, pitch-class histogram) with an NES-MDB \
                  split; the last column of that table is the mean distance to the split (lower \
                  is closer). A second table gives the musical statistics of \
                  ../shared/docs/music-metrics.md (beat strength, phrase recurrence, key fit, \
                  held notes, noise hiss, ...), each the mean over songs +- its standard error, \
                  against random excerpts of --seconds from the split's songs that long (one \
                  per song, drawn with --seed); * marks a mean more than two combined standard \
                  errors from the excerpts'. Songs with dynamics (an expressive model's, a \
                  folder of .exprsco.pkl) get a third table against the split's exprsco \
                  excerpts: velocity, duty and noise mode shares and each note's first frames' \
                  volume envelope.",
    after_help = "Examples:\n  nesmm stats --songs 40 --seconds 30 --json stats.json\n  \
                  nesmm stats --folder my_songs/"
)]
pub struct StatsArgs {
    /// Model folder [default: the bundled models/lstm-full].
    #[arg(long)]
    pub model: Option<PathBuf>,
    #[command(flatten)]
    pub dataset: DatasetArgs,
    /// Songs to sample from each generator, and split excerpts to compare with.
    #[arg(long, default_value_t = 40)]
    pub songs: usize,
    #[arg(long, default_value_t = 30.0)]
    pub seconds: f64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Sampling temperature [default: 1 for the LSTMs and VAEs, the model's own for the
    /// Transformer].
    #[arg(long)]
    pub temperature: Option<f32>,
    /// LSTM state refresh period in frames (0 = carry the state over whole songs) [default:
    /// the model's own: 0 (whole songs), or half its training window if trained with
    /// --reset-state]
    #[arg(long)]
    pub refresh: Option<usize>,
    /// LSTM restart after this many silent frames (0 = never).
    #[arg(long, default_value_t = nesmm::learn::generate::RESTART_AFTER_SILENCE)]
    pub restart_after_silence: usize,
    /// Top-k (0 = all) [default: 0 for the LSTMs and VAEs, the model's own for the
    /// Transformer].
    #[arg(long)]
    pub top_k: Option<usize>,
    /// Transformer: nucleus sampling mass (1 = all).
    #[arg(long, default_value_t = 1.0)]
    pub top_p: f32,
    /// Transformer: where top-k and top-p cut: `global` (over all tokens, as LakhNES) or
    /// `per-kind` (within each voice's note-ons, the note-offs, the waits: every kind keeps its
    /// share, so no voice is starved).
    #[arg(long, default_value = "global")]
    pub truncation: nesmm::learn::sample::draw::Truncation,
    /// Transformer: sample from the model alone, without the song cache of its folder.
    #[arg(long)]
    pub no_cache: bool,
    /// Measure every score file in this folder (.seprsco.pkl, .exprsco.pkl, .mid, .vgm; whole
    /// songs, at 24 Hz) instead of sampling a model.
    #[arg(long, conflicts_with = "model")]
    pub folder: Option<PathBuf>,
    /// Also write the musical statistics of every set as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

pub fn run(a: StatsArgs) -> anyhow::Result<()> {
    let split = a.dataset.split()?;
    let data = || a.dataset.data_path();
    let (split_notes, sets) = match &a.folder {
        Some(folder) => {
            // The folder is read first: a bad file is reported before NES-MDB is looked for.
            let songs = read_folder(folder)?;
            let split_notes = load_notes(&data()?, &[split], a.dataset.max_songs)?.remove(0);
            (split_notes, vec![(folder.display().to_string(), songs)])
        }
        None => sample_model(&a, &data()?, split)?,
    };
    let (reference, rows) = corpus_rows(&split_notes, &sets);
    print!("{}", markdown_table(&rows, &reference));
    let split_songs: Vec<Vec<[u8; 4]>> = split_notes.songs.into_iter().map(|s| s.1).collect();
    let frames = (a.seconds * nesmm::score::NESMDB_RATE).round() as usize;
    let mut named = vec![(
        format!("{} split, {} s excerpts", split.dir_name(), a.seconds),
        music_stats(&excerpts(&split_songs, frames, a.songs, a.seed)),
    )];
    for (name, songs) in &sets {
        let notes: Vec<Vec<[u8; 4]>> = songs.iter().map(notes_at_24hz).collect();
        named.push((name.clone(), music_stats(&notes)));
    }
    println!("\nMusical statistics (mean over songs ± standard error):\n");
    print!("{}", music_stats::markdown_table(&named));
    let dynamics = dynamics_sets(&a, split, &sets)?;
    if dynamics.len() > 1 {
        println!("\nDynamics (mean over songs ± standard error; the pulses' and the noise's first {ENVELOPE_FRAMES} frames of each note that long):\n");
        print!("{}", music_stats::markdown_table(&dynamics));
        println!("\nVelocity and duty distributions, pooled over sounding frames (total variation distance from the split's; 0 = the same):\n");
        print!("{}", distribution_distances(&dynamics));
    }
    if let Some(path) = &a.json {
        write_json(path, &named, &dynamics)?;
    }
    Ok(())
}

/// The dynamics of the sets whose songs are all expressive, after those of the split's
/// exprsco excerpts (the same songs and places as the notes' excerpts); empty when no set is.
fn dynamics_sets(
    a: &StatsArgs,
    split: Split,
    sets: &NamedSongs,
) -> anyhow::Result<Vec<(String, DynamicsStats)>> {
    let expressive: Vec<&(String, Vec<Score>)> = sets
        .iter()
        .filter(|(_, songs)| !songs.is_empty() && songs.iter().all(|s| s.expressive))
        .collect();
    if expressive.is_empty() {
        return Ok(Vec::new());
    }
    let data = expressive_data_path(a.dataset.data.as_deref())?;
    let split_frames: Vec<Vec<Frame>> = load_frames(&data, &[split], a.dataset.max_songs)?
        .remove(0)
        .songs
        .into_iter()
        .map(|s| s.1)
        .collect();
    let frames = (a.seconds * nesmm::score::NESMDB_RATE).round() as usize;
    let mut out = vec![(
        format!(
            "{} split (exprsco), {} s excerpts",
            split.dir_name(),
            a.seconds
        ),
        dynamics_stats(&excerpts(&split_frames, frames, a.songs, a.seed)),
    )];
    for (name, songs) in expressive {
        let frames: Vec<Vec<Frame>> = songs.iter().map(frames_at_24hz).collect();
        out.push((name.clone(), dynamics_stats(&frames)));
    }
    Ok(out)
}

/// The split's songs and the named sets sampled from the model of `a` (and a bigram for the
/// LSTMs).
fn sample_model(
    a: &StatsArgs,
    data: &Path,
    split: Split,
) -> anyhow::Result<(SplitNotes, NamedSongs)> {
    let dir = model_dir(a.model.as_deref(), "lstm-full")?;
    nesmm::learn::models::transformer_dir::check_architecture(&dir)?;
    if nesmm::learn::models::transformer_dir::is_transformer(&dir) {
        return sample_transformer(a, data, split, &dir);
    }
    let req = SampleRequest {
        data,
        split,
        max_songs: a.dataset.max_songs,
        songs: a.songs,
        seconds: a.seconds,
    };
    if nesmm::learn::vae_decode::is_vae_dir(&dir)? {
        let model = nesmm::learn::vae_decode::VaeModel::load(&dir)?;
        let opts = nesmm::learn::vae_decode::VaeOptions {
            seed: a.seed,
            temperature: a.temperature.unwrap_or(1.0),
            top_k: a.top_k.unwrap_or(0),
            ..Default::default()
        };
        return Ok(nesmm::learn::vae_eval::sample_songs(&req, &model, &opts)?);
    }
    let model = Model::load(&dir)?;
    Ok(sample_songs(
        &req,
        &model,
        &GenerateOptions {
            seed: a.seed,
            temperature: a.temperature.unwrap_or(1.0),
            top_k: a.top_k.unwrap_or(0),
            refresh: a.refresh,
            restart_after_silence: a.restart_after_silence,
            ..Default::default()
        },
    )?)
}

/// `a.songs` songs of `a.seconds` from the Transformer in `dir` (seeds `a.seed`,
/// `a.seed + 1`, ...), with the split's songs.
fn sample_transformer(
    a: &StatsArgs,
    data: &Path,
    split: Split,
    dir: &Path,
) -> anyhow::Result<(SplitNotes, NamedSongs)> {
    use nesmm::learn::models::transformer_decoder::Decoder;
    use nesmm::learn::sample::transformer_sample::{sample, SampleOptions};
    let model = nesmm::learn::models::transformer_dir::load(dir)?;
    let decoder = Decoder::new(&model).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    let split_notes = load_notes(data, &[split], a.dataset.max_songs)?.remove(0);
    let cache = match a.no_cache {
        true => None,
        false => nesmm::learn::models::cache_weights::CacheWeights::load(dir)?,
    };
    let mut songs = Vec::with_capacity(a.songs);
    for i in 0..a.songs as u64 {
        let mut o = SampleOptions::new(a.seconds, a.seed + i);
        o.cache = cache.clone();
        o.temperature = a.temperature.unwrap_or(o.temperature);
        o.top_k = a.top_k.unwrap_or(o.top_k);
        o.top_p = a.top_p;
        o.truncation = a.truncation;
        songs.push(sample(&decoder, &o)?.score);
    }
    let name = format!(
        "{}{} (T {}, top-k {}, top-p {}, {:?})",
        dir.display(),
        if cache.is_some() { " + song cache" } else { "" },
        a.temperature
            .unwrap_or(SampleOptions::new(1.0, 0).temperature),
        a.top_k.unwrap_or(SampleOptions::new(1.0, 0).top_k),
        a.top_p,
        a.truncation
    );
    Ok((split_notes, vec![(name, songs)]))
}

/// Every score file of `folder`, in name order; a file that does not read is an error naming
/// it, an empty folder too.
fn read_folder(folder: &Path) -> anyhow::Result<Vec<Score>> {
    let entries = std::fs::read_dir(folder)
        .map_err(|e| anyhow::anyhow!("{}: cannot list the folder: {e}", folder.display()))?;
    let mut paths = Vec::new();
    for e in entries {
        let path = e
            .map_err(|e| anyhow::anyhow!("{}: cannot list the folder: {e}", folder.display()))?
            .path();
        let name = path.to_string_lossy().to_ascii_lowercase();
        let is_score = [".pkl", ".mid", ".midi", ".vgm"]
            .iter()
            .any(|x| name.ends_with(x));
        if path.is_file() && is_score {
            paths.push(path);
        }
    }
    paths.sort();
    if paths.is_empty() {
        anyhow::bail!(
            "{}: no score files (.seprsco.pkl, .exprsco.pkl, .mid, .vgm) in the folder",
            folder.display()
        );
    }
    paths
        .iter()
        .map(|p| Ok(nesmm::formats::load_score(p)?))
        .collect()
}

/// Writes the named sets' statistics as `{"sets": [{"name", "stats"}], "dynamics": [{"name",
/// "stats"}]}` (dynamics only for expressive sets, the split's first).
fn write_json(
    path: &Path,
    sets: &[(String, MusicStats)],
    dynamics: &[(String, DynamicsStats)],
) -> anyhow::Result<()> {
    fn named<S: serde::Serialize>(sets: &[(String, S)]) -> Vec<serde_json::Value> {
        sets.iter()
            .map(|(name, stats)| serde_json::json!({ "name": name, "stats": stats }))
            .collect()
    }
    let json = serde_json::json!({ "sets": named(sets), "dynamics": named(dynamics) });
    let text = serde_json::to_string_pretty(&json)?;
    nesmm::io::write_atomic(path, text.as_bytes())?;
    Ok(())
}
