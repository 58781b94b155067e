//! Evaluation of a VAE on an NES-MDB split, window by window: ELBO, reconstruction NLL per
//! frame and voice, KL per window, active latent dimensions, the LSTM's NLL on the same windows,
//! reconstruction accuracy of windows decoded greedily from their posterior means, and
//! statistics of sampled songs.
//!
//! The windows are those training uses ([`crate::learn::data::dataset::TokenSet::windows`]); the LSTM is
//! scored on them with its state reset per window ([`crate::learn::models::scoring::window_nll`]), so both
//! numbers are nats per frame of the same frames with the same context (none before the
//! window). A latent dimension is active when its posterior mean varies across windows:
//! `Var_x(E[z_d | x]) > 0.01` (Burda et al. 2016).

use super::stats::{corpus_rows, CorpusStats, NamedSongs, SampleRequest};
use crate::error::{Error, Result};
use crate::formats::nesmdb::Split;
use crate::learn::data::dataset::{make_batch, TokenSet};
use crate::learn::data::{load_notes, SplitNotes};
use crate::learn::models::model_dir;
use crate::learn::models::vae::{active_dims, score_windows};
use crate::learn::sample::vae_decode::{decode, generate, Choice, VaeModel, VaeOptions};
use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The LSTM's score on the VAE's windows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LstmOnWindows {
    pub model: String,
    pub nll: f64,
    pub nll_voices: Vec<f64>,
}

/// A VAE's evaluation (all NLL/KL in nats).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VaeEval {
    pub model: String,
    pub split: String,
    pub songs: usize,
    pub windows: usize,
    pub frames: u64,
    pub window: usize,
    pub voices: Vec<String>,
    /// Negative ELBO per frame (reconstruction + KL spread over the window's frames).
    pub neg_elbo_per_frame: f64,
    /// Reconstruction NLL per frame, summed over voices and per voice.
    pub recon_nll: f64,
    pub recon_nll_voices: Vec<f64>,
    /// Mean KL per window and per frame.
    pub kl_per_window: f64,
    pub kl_per_frame: f64,
    pub latent: usize,
    pub active_dims: usize,
    /// `Var_x(E[z_d|x])` of each dimension.
    pub mean_variance: Vec<f64>,
    /// Greedy decoding from the posterior mean: share of frames right per voice, and with all
    /// voices right.
    pub recon_accuracy_voices: Vec<f64>,
    pub recon_frame_accuracy: f64,
    pub lstm: Option<LstmOnWindows>,
}

/// Share of frames (per voice, and all voices at once) that greedy decoding from each window's
/// posterior mean gets right; the decoder's first input is the window's true context.
pub fn reconstruction_accuracy(
    model: &VaeModel,
    set: &TokenSet,
    batch: usize,
) -> Result<(Vec<f64>, f64)> {
    let win = model.window();
    let w = set.width();
    let windows = set.windows(win);
    let order: Vec<u32> = (0..windows.len() as u32).collect();
    let dev = Device::Cpu;
    let cerr = |e: candle_core::Error| Error::Unsupported(format!("reconstruction: {e}"));
    let mut right = vec![0u64; w];
    let mut all = 0u64;
    let mut frames = 0u64;
    let boundary = set.vocab.boundary_row();
    for i in 0..windows.len().div_ceil(batch.max(1)) {
        let b = make_batch(set, &windows, &order, i, batch.max(1), win, None);
        let y = Tensor::from_vec(b.targets.clone(), (b.batch, win, w), &dev).map_err(cerr)?;
        let m = Tensor::from_vec(b.mask.clone(), (b.batch, win), &dev).map_err(cerr)?;
        let (mu, _) = model.net.encode(&y, &m).map_err(cerr)?;
        let context: Vec<u8> = (0..b.batch)
            .flat_map(|bi| {
                b.inputs[bi * win * w..bi * win * w + w]
                    .iter()
                    .map(|&t| t as u8)
            })
            .collect();
        let out = decode(&model.net, &mu, &context, win, &mut Choice::Greedy).map_err(cerr)?;
        for bi in 0..b.batch {
            for t in 0..win {
                let o = (bi * win + t) * w;
                if b.mask[bi * win + t] == 0.0 || b.targets[o] as u8 == boundary[0] {
                    continue;
                }
                let mut ok = true;
                for v in 0..w {
                    if out[o + v] as u32 == b.targets[o + v] {
                        right[v] += 1;
                    } else {
                        ok = false;
                    }
                }
                all += ok as u64;
                frames += 1;
            }
        }
    }
    let f = frames.max(1) as f64;
    Ok((
        right.iter().map(|&r| r as f64 / f).collect(),
        all as f64 / f,
    ))
}

/// Evaluates `model` on `set` (in the model's vocabulary); `lstm` is an LSTM folder to score on
/// the same windows, with the same songs encoded in its own vocabulary (`lstm_set`).
pub fn evaluate_vae(
    model: &VaeModel,
    set: &TokenSet,
    split: &str,
    lstm: Option<(&model_dir::LoadedModel, &TokenSet)>,
    batch: usize,
) -> Result<VaeEval> {
    let s = score_windows(&model.net, set, batch, 0)
        .map_err(|e| Error::Unsupported(format!("evaluation: {e}")))?;
    let latent = model.net.vae.latent;
    let (active, var) = active_dims(&s.mus, latent, 0.01);
    let (acc, frame_acc) = reconstruction_accuracy(model, set, batch)?;
    let lstm = match lstm {
        Some((l, lset)) => {
            let (nll, per) =
                crate::learn::models::scoring::window_nll(&l.model, lset, model.window(), batch)?;
            Some(LstmOnWindows {
                model: l.dir.display().to_string(),
                nll,
                nll_voices: per,
            })
        }
        None => None,
    };
    let recon = s.recon_per_frame();
    Ok(VaeEval {
        model: model.kind().name().to_string(),
        split: split.to_string(),
        songs: set.songs.len(),
        windows: s.windows,
        frames: s.frames as u64,
        window: model.window(),
        voices: set
            .vocab
            .voices
            .iter()
            .map(|v| v.voice().label().to_string())
            .collect(),
        neg_elbo_per_frame: s.neg_elbo_per_frame(),
        recon_nll: recon.iter().sum(),
        recon_nll_voices: recon,
        kl_per_window: s.kl / s.windows.max(1) as f64,
        kl_per_frame: s.kl / s.frames.max(1.0),
        latent,
        active_dims: active,
        mean_variance: var,
        recon_accuracy_voices: acc,
        recon_frame_accuracy: frame_acc,
        lstm,
    })
}

/// Loads `split` from `data` and evaluates `model` on it (at most `max_songs` songs), with
/// the LSTM at `lstm_dir` on the same windows when given.
pub fn evaluate_vae_on(
    model: &VaeModel,
    data: &Path,
    split: Split,
    max_songs: Option<usize>,
    lstm_dir: Option<&Path>,
) -> Result<VaeEval> {
    let notes = load_notes(data, &[split], max_songs)?;
    let set = notes[0].encode(model.vocab());
    let lstm = match lstm_dir {
        Some(d) => {
            let l = model_dir::load_model(d)?;
            if l.model.config.vocab.voices != model.vocab().voices {
                return Err(Error::Unsupported(format!(
                    "{} models other voices than the VAE; compare vae-full with lstm-full and vae-reduced with lstm-reduced",
                    d.display()
                )));
            }
            let lset = notes[0].encode(&l.model.config.vocab);
            Some((l, lset))
        }
        None => None,
    };
    evaluate_vae(
        model,
        &set,
        split.dir_name(),
        lstm.as_ref().map(|(l, s)| (l, s)),
        32,
    )
}

/// A markdown report of an evaluation.
pub fn markdown(e: &VaeEval) -> String {
    let mut s = format!(
        "{} on {} ({} songs, {} windows of {} frames, {} frames)\n\n| model | -ELBO/frame | recon NLL/frame |",
        e.model, e.split, e.songs, e.windows, e.window, e.frames
    );
    for v in &e.voices {
        s += &format!(" NLL {v} |");
    }
    s += " KL/window | active dims | recon acc. (frame) |\n|---|---:|---:|";
    s += &"---:|".repeat(e.voices.len() + 3);
    s += &format!(
        "\n| {} | {:.3} | {:.3} |",
        e.model, e.neg_elbo_per_frame, e.recon_nll
    );
    for x in &e.recon_nll_voices {
        s += &format!(" {x:.3} |");
    }
    s += &format!(
        " {:.2} | {}/{} | {:.1}% |\n",
        e.kl_per_window,
        e.active_dims,
        e.latent,
        100.0 * e.recon_frame_accuracy
    );
    if let Some(l) = &e.lstm {
        s += &format!("| LSTM ({}) | {:.3} (NLL) | |", l.model, l.nll);
        for x in &l.nll_voices {
            s += &format!(" {x:.3} |");
        }
        s += " | | |\n";
    }
    s
}

/// Songs of the request's split and the set of its `songs` songs of `seconds` sampled from
/// `model` (seeds `seed..seed+songs`), named after the model.
pub fn sample_songs(
    req: &SampleRequest,
    model: &VaeModel,
    opts: &VaeOptions,
) -> Result<(SplitNotes, NamedSongs)> {
    let notes = load_notes(req.data, &[req.split], req.max_songs)?.remove(0);
    let seconds = req.seconds;
    let mut samples = Vec::new();
    for i in 0..req.songs {
        let o = VaeOptions {
            seed: opts.seed + i as u64,
            ..opts.clone()
        };
        samples.push(generate(model, seconds, &format!("vae{i}"), &o)?);
    }
    Ok((
        notes,
        vec![(format!("{} samples", model.kind().name()), samples)],
    ))
}

/// Statistics of `split` and of the songs [`sample_songs`] draws from `model`, as rows for
/// [`super::stats::markdown_table`]; the first is the split.
pub fn sample_stats(
    req: &SampleRequest,
    model: &VaeModel,
    opts: &VaeOptions,
) -> Result<(CorpusStats, Vec<(String, CorpusStats)>)> {
    let (notes, sets) = sample_songs(req, model, opts)?;
    Ok(corpus_rows(&notes, &sets))
}
