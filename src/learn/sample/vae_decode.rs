//! Using a trained VAE: load it, encode songs window by window, decode latents back to notes,
//! and the three ways of making music with it: sampling from the prior ([`generate`]),
//! varying a song ([`vary`]) and interpolating between two songs ([`interpolate`]).
//!
//! Decoding runs the decoder one frame at a time, each frame voice by voice in the order
//! P1, P2, TR, NO with each head seeing the voices already chosen (as in training). A song
//! longer than one window is a chain of windows: window `k` is decoded from its own latent
//! with the previous window's last decoded frame as its first input (BOS for the first
//! window), exactly the context the training windows had. For [`generate`], the latents of
//! successive windows follow a random walk that keeps the prior: `z_0 ~ N(0, I)`,
//! `z_k = rho z_{k-1} + sqrt(1 - rho^2) e_k`, so every `z_k` is a prior sample while
//! neighbouring windows stay related (`rho = 0` gives independent windows).
//!
//! Every random draw comes from a generator seeded from the caller's seed, so the same model,
//! input and options always give the same notes.

use super::generate::sample;
use crate::error::{Error, Result};
use crate::learn::data::dataset::{make_batch, TokenSet};
use crate::learn::data::vocab::Vocab;
use crate::learn::models::lstm::ModelKind;
use crate::learn::models::model_dir;
use crate::learn::models::vae::{embed_rows, standard_normal, NoteVae};
use crate::score::{Score, NESMDB_RATE};
use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{VarBuilder, VarMap};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::path::{Path, PathBuf};

fn cerr(what: &'static str) -> impl Fn(candle_core::Error) -> Error {
    move |e| Error::Unsupported(format!("{what}: {e}"))
}

/// A loaded VAE.
pub struct VaeModel {
    pub dir: PathBuf,
    pub net: NoteVae,
    pub varmap: VarMap,
}

impl VaeModel {
    /// Loads `dir/config.json` and `dir/model.safetensors`.
    pub fn load(dir: &Path) -> Result<VaeModel> {
        VaeModel::load_weights(dir, &dir.join("model.safetensors"))
    }

    /// Loads `dir/config.json` and the weights file `weights`.
    pub fn load_weights(dir: &Path, weights: &Path) -> Result<VaeModel> {
        if !dir.is_dir() {
            return Err(Error::io(
                dir,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such model folder"),
            ));
        }
        let file = model_dir::read_config(dir)?;
        if !file.model.kind.is_vae() {
            return Err(Error::Unsupported(format!(
                "{} holds an {} model; this command needs a VAE (vae-reduced or vae-full)",
                dir.display(),
                file.model.kind.name()
            )));
        }
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let net = NoteVae::new(file.model, vb)
            .map_err(|e| Error::format(dir.join("config.json"), e.to_string()))?;
        model_dir::set_varmap(&varmap, &model_dir::load_tensors(weights)?, weights)?;
        Ok(VaeModel {
            dir: dir.to_path_buf(),
            net,
            varmap,
        })
    }

    pub fn kind(&self) -> ModelKind {
        self.net.config.kind
    }

    /// Frames per window.
    pub fn window(&self) -> usize {
        self.net.vae.window
    }

    pub fn vocab(&self) -> &Vocab {
        &self.net.config.vocab
    }
}

/// A `--model` argument: an existing folder as is, otherwise the name of a bundled model
/// (`lstm-full`, `lstm-reduced`, `vae-full`, `vae-reduced`, `transformer`) looked up with
/// [`super::generate::bundled_model_dir`].
pub fn resolve_model_dir(arg: &Path) -> Result<PathBuf> {
    if arg.is_dir() {
        return Ok(arg.to_path_buf());
    }
    let name = arg.to_string_lossy();
    if [
        "lstm-full",
        "lstm-reduced",
        "vae-full",
        "vae-reduced",
        "transformer",
    ]
    .contains(&name.as_ref())
    {
        return super::generate::bundled_model_dir(&name);
    }
    Err(Error::io(arg, std::io::Error::new(std::io::ErrorKind::NotFound, "no such model folder (nor a bundled model name: lstm-full, lstm-reduced, vae-full, vae-reduced, transformer)")))
}

/// Whether the model folder `dir` holds a VAE (reads its `config.json`).
pub fn is_vae_dir(dir: &Path) -> Result<bool> {
    Ok(model_dir::read_config(dir)?.model.kind.is_vae())
}

/// How each note is chosen from the decoder's distribution.
pub enum Choice<'a> {
    /// The most likely note.
    Greedy,
    /// A draw with temperature and top-k (0 = all), never the boundary token.
    Sample {
        temperature: f32,
        top_k: usize,
        rng: &'a mut StdRng,
    },
}

/// Decodes `steps` frames for each of `B` windows from latents `z (B, L)`, the first input of
/// window `b` being the row `context[b*W..(b+1)*W]`. Returns `B * steps * W` tokens.
pub fn decode(
    net: &NoteVae,
    z: &Tensor,
    context: &[u8],
    steps: usize,
    choice: &mut Choice,
) -> candle_core::Result<Vec<u8>> {
    let (b, _) = z.dims2()?;
    let w = net.heads.len();
    let dev = z.device();
    let mut states = net.initial_states(z)?;
    let mut row: Vec<u32> = context.iter().map(|&t| t as u32).collect();
    let mut out = vec![0u8; b * steps * w];
    let zs = z.unsqueeze(1)?;
    let mut logits_row = Vec::new();
    for t in 0..steps {
        let tokens = Tensor::from_vec(row.clone(), (b, 1, w), dev)?;
        let mut x = Tensor::cat(&[embed_rows(&net.embeds, &tokens)?, zs.clone()], 2)?;
        for (layer, s) in net.layers.iter().zip(states.iter_mut()) {
            let hc = layer.forward(&x, s)?;
            *s = hc.squeeze(1)?;
            x = hc.narrow(2, 0, net.config.hidden)?;
        }
        let h = x.squeeze(1)?;
        let mut chosen: Vec<Tensor> = Vec::with_capacity(w);
        for (v, head) in net.heads.iter().enumerate() {
            let mut zv = head.from_hidden.forward(&h)?;
            for (u, e) in head.from_voices.iter().enumerate() {
                zv = zv.add(&e.forward(&chosen[u])?)?;
            }
            let logits = head.out.forward(&zv.relu()?)?.to_vec2::<f32>()?;
            let notes = net.config.vocab.ranges[v].notes();
            let mut picks = Vec::with_capacity(b);
            for (bi, l) in logits.into_iter().enumerate() {
                let tok = match choice {
                    Choice::Greedy => {
                        l[..notes]
                            .iter()
                            .enumerate()
                            .fold((0usize, f32::NEG_INFINITY), |m, (i, &x)| {
                                if x > m.1 {
                                    (i, x)
                                } else {
                                    m
                                }
                            })
                            .0 as u8
                    }
                    Choice::Sample {
                        temperature,
                        top_k,
                        rng,
                    } => {
                        logits_row.clear();
                        logits_row.extend_from_slice(&l);
                        sample(&mut logits_row, notes, *temperature, *top_k, rng)
                    }
                };
                out[(bi * steps + t) * w + v] = tok;
                row[bi * w + v] = tok as u32;
                picks.push(tok as u32);
            }
            chosen.push(Tensor::from_vec(picks, b, dev)?);
        }
    }
    Ok(out)
}

/// Decodes a chain of windows, one latent (`latent` values) per window, `lens[k]` frames for
/// window `k`, each window starting from the previous one's last frame (BOS for the first).
pub fn decode_chain(
    net: &NoteVae,
    latents: &[Vec<f32>],
    lens: &[usize],
    choice: &mut Choice,
) -> Result<Vec<u8>> {
    let w = net.heads.len();
    let mut context = net.config.vocab.boundary_row();
    let mut rows = Vec::new();
    for (z, &len) in latents.iter().zip(lens) {
        let zt = Tensor::from_vec(z.clone(), (1, z.len()), &Device::Cpu).map_err(cerr("latent"))?;
        let part = decode(net, &zt, &context, len, choice).map_err(cerr("decoding"))?;
        if part.len() >= w {
            context.copy_from_slice(&part[part.len() - w..]);
        }
        rows.extend(part);
    }
    Ok(rows)
}

/// A score from token rows of `vocab` (voices the model does not have stay silent).
pub fn rows_to_score(vocab: &Vocab, rows: &[u8], name: &str) -> Result<Score> {
    let notes = vocab.decode_rows(rows);
    let score = Score::from_notes(name, NESMDB_RATE, &notes);
    score.validate()?;
    Ok(score)
}

/// A song cut into windows and encoded: one posterior mean and log-variance per window, and the
/// number of the song's frames in each window.
pub struct EncodedSong {
    pub mu: Vec<Vec<f32>>,
    pub logvar: Vec<Vec<f32>>,
    pub lens: Vec<usize>,
}

/// Encodes `score` window by window. Errors when the song is shorter than one window or not
/// at 24 Hz.
pub fn encode_song(model: &VaeModel, score: &Score) -> Result<EncodedSong> {
    let win = model.window();
    if (score.rate - NESMDB_RATE).abs() > 1e-6 {
        return Err(Error::Unsupported(format!(
            "song '{}' runs at {} Hz; the models work at {NESMDB_RATE} Hz (NES-MDB scores)",
            score.name, score.rate
        )));
    }
    if score.len() < win {
        return Err(Error::Unsupported(format!(
            "song '{}' has {} frames, shorter than one VAE window ({win} frames = {:.1} s at 24 Hz); use a longer song",
            score.name,
            score.len(),
            win as f64 / NESMDB_RATE
        )));
    }
    let set = TokenSet::from_scores(model.vocab().clone(), [score]);
    let windows = set.windows(win);
    let order: Vec<u32> = (0..windows.len() as u32).collect();
    let b = make_batch(&set, &windows, &order, 0, windows.len(), win, None);
    let dev = Device::Cpu;
    let w = set.width();
    let y =
        Tensor::from_vec(b.targets.clone(), (b.batch, win, w), &dev).map_err(cerr("encoding"))?;
    let m = Tensor::from_vec(b.mask.clone(), (b.batch, win), &dev).map_err(cerr("encoding"))?;
    let (mu, lv) = model.net.encode(&y, &m).map_err(cerr("encoding"))?;
    // The last pair of a song targets EOS: not a frame of the song.
    let mut left = score.len();
    let lens = windows
        .iter()
        .map(|wi| {
            let n = (wi.len as usize).min(left);
            left -= n;
            n
        })
        .collect();
    Ok(EncodedSong {
        mu: mu.to_vec2::<f32>().map_err(cerr("encoding"))?,
        logvar: lv.to_vec2::<f32>().map_err(cerr("encoding"))?,
        lens,
    })
}

/// Options shared by [`generate`], [`vary`] and [`interpolate`].
#[derive(Debug, Clone, PartialEq)]
pub struct VaeOptions {
    pub seed: u64,
    /// Softmax temperature; 0 decodes greedily (most likely note).
    pub temperature: f32,
    /// Sample among the `top_k` most likely notes only (0 = all).
    pub top_k: usize,
    /// [`generate`]: correlation `rho` of successive windows' latents (0..1).
    pub walk: f32,
}

impl Default for VaeOptions {
    fn default() -> Self {
        VaeOptions {
            seed: 0,
            temperature: 1.0,
            top_k: 0,
            walk: 0.8,
        }
    }
}

impl VaeOptions {
    fn check(&self) -> Result<()> {
        if !(self.temperature.is_finite() && self.temperature >= 0.0) {
            return Err(Error::Unsupported(format!(
                "temperature {} must be 0 (greedy) or above",
                self.temperature
            )));
        }
        if !(0.0..=1.0).contains(&self.walk) {
            return Err(Error::Unsupported(format!(
                "--walk {} must be in 0..1",
                self.walk
            )));
        }
        Ok(())
    }
}

fn decode_with(
    model: &VaeModel,
    latents: &[Vec<f32>],
    lens: &[usize],
    opts: &VaeOptions,
    rng: &mut StdRng,
) -> Result<Vec<u8>> {
    if opts.temperature == 0.0 {
        decode_chain(&model.net, latents, lens, &mut Choice::Greedy)
    } else {
        let mut c = Choice::Sample {
            temperature: opts.temperature,
            top_k: opts.top_k,
            rng,
        };
        decode_chain(&model.net, latents, lens, &mut c)
    }
}

/// Samples a song of `seconds` from the prior (latent random walk, see the module docs).
pub fn generate(model: &VaeModel, seconds: f64, name: &str, opts: &VaeOptions) -> Result<Score> {
    opts.check()?;
    if !(seconds.is_finite() && seconds > 0.0 && seconds <= 3600.0) {
        return Err(Error::Unsupported(format!(
            "--seconds {seconds} is out of range (accepted: more than 0, at most 3600)"
        )));
    }
    let total = (seconds * NESMDB_RATE).round().max(1.0) as usize;
    let win = model.window();
    let l = model.net.vae.latent;
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let rho = opts.walk;
    let keep = (1.0 - rho * rho).max(0.0).sqrt();
    let mut latents: Vec<Vec<f32>> = Vec::new();
    let mut lens = Vec::new();
    let mut done = 0;
    while done < total {
        let e = standard_normal(l, &mut rng);
        let z = match latents.last() {
            None => e,
            Some(prev) => prev
                .iter()
                .zip(&e)
                .map(|(p, e)| rho * p + keep * e)
                .collect(),
        };
        latents.push(z);
        let n = win.min(total - done);
        lens.push(n);
        done += n;
    }
    let rows = decode_with(model, &latents, &lens, opts, &mut rng)?;
    rows_to_score(model.vocab(), &rows, name)
}

/// Re-decodes `score` from its posterior means moved by `amount * N(0, I)` noise per window
/// (`amount = 0` with greedy decoding is the model's reconstruction).
pub fn vary(model: &VaeModel, score: &Score, amount: f32, opts: &VaeOptions) -> Result<Score> {
    opts.check()?;
    if !(amount.is_finite() && amount >= 0.0) {
        return Err(Error::Unsupported(format!(
            "--amount {amount} must be 0 or above"
        )));
    }
    let enc = encode_song(model, score)?;
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let latents: Vec<Vec<f32>> = enc
        .mu
        .iter()
        .map(|mu| {
            let e = standard_normal(mu.len(), &mut rng);
            mu.iter().zip(&e).map(|(m, e)| m + amount * e).collect()
        })
        .collect();
    let rows = decode_with(model, &latents, &enc.lens, opts, &mut rng)?;
    rows_to_score(model.vocab(), &rows, &format!("{}-vary", score.name))
}

/// Spherical linear interpolation from `a` (t = 0) to `b` (t = 1); falls back to linear
/// interpolation when the two are (anti)parallel within rounding.
pub fn slerp(a: &[f32], b: &[f32], t: f32) -> Vec<f32> {
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    let lerp = || {
        a.iter()
            .zip(b)
            .map(|(x, y)| (1.0 - t) * x + t * y)
            .collect()
    };
    if na < 1e-12 || nb < 1e-12 {
        return lerp();
    }
    let cos = (a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>() / (na * nb)).clamp(-1.0, 1.0);
    let omega = cos.acos();
    let s = omega.sin();
    if s.abs() < 1e-6 {
        return lerp();
    }
    let (ka, kb) = (((1.0 - t) * omega).sin() / s, (t * omega).sin() / s);
    a.iter().zip(b).map(|(x, y)| ka * x + kb * y).collect()
}

/// `steps` scores going from song `a` to song `b`: window `k` of step `i` is decoded from
/// `slerp(mean_a[k], mean_b[k], i / (steps - 1))`, over the full windows both songs have.
/// Step 0 is the model's rendering of `a`, the last step its rendering of `b`.
pub fn interpolate(
    model: &VaeModel,
    a: &Score,
    b: &Score,
    steps: usize,
    opts: &VaeOptions,
) -> Result<Vec<Score>> {
    opts.check()?;
    if !(2..=256).contains(&steps) {
        return Err(Error::Unsupported(format!(
            "--steps {steps} must be in 2..256"
        )));
    }
    let ea = encode_song(model, a)?;
    let eb = encode_song(model, b)?;
    let win = model.window();
    let n = (a.len().min(b.len()) / win).max(1);
    let lens = vec![win; n];
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let mut out = Vec::with_capacity(steps);
    for i in 0..steps {
        let t = i as f32 / (steps - 1) as f32;
        let latents: Vec<Vec<f32>> = (0..n).map(|k| slerp(&ea.mu[k], &eb.mu[k], t)).collect();
        let rows = decode_with(model, &latents, &lens, opts, &mut rng)?;
        out.push(rows_to_score(
            model.vocab(),
            &rows,
            &format!("interp-{i:02}"),
        )?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(x: &[f32]) -> f32 {
        x.iter().map(|v| v * v).sum::<f32>().sqrt()
    }

    #[test]
    fn slerp_hits_its_ends_keeps_norm_and_bisects_the_angle() {
        let a = [1.0f32, 0.0, 0.0];
        let b = [0.0f32, 1.0, 0.0];
        assert_eq!(slerp(&a, &b, 0.0), a.to_vec());
        let end = slerp(&a, &b, 1.0);
        assert!(
            end.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-6),
            "{end:?}"
        );
        for t in [0.1f32, 0.3, 0.5, 0.9] {
            assert!((norm(&slerp(&a, &b, t)) - 1.0).abs() < 1e-5);
        }
        let mid = slerp(&a, &b, 0.5);
        assert!((mid[0] - mid[1]).abs() < 1e-6 && (mid[0] - 0.5f32.sqrt()).abs() < 1e-6);
        // Parallel vectors fall back to linear interpolation.
        assert_eq!(slerp(&[2.0, 0.0], &[4.0, 0.0], 0.5), vec![3.0, 0.0]);
    }
}
