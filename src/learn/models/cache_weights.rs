//! The song cache's mixing weights ([`super::song_cache`]): one set per class of prediction,
//! fitted by EM on the valid split, kept in a model folder as `song_cache.json`.

use super::song_cache::{CacheView, CLASSES, COMPONENTS};
use crate::error::{Error, Result};
use crate::learn::data::coding::KINDS;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The file a model folder keeps its fitted weights in.
pub const FILE_NAME: &str = "song_cache.json";

/// The mixing weights of the model and the cache's parts for each class of prediction
/// ([`CacheView::class`]): `weights[class][0]` the model's, then the stream parts', then the
/// per-kind parts', summing to 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheWeights {
    pub weights: Vec<[f64; COMPONENTS]>,
    /// How the weights were fitted (the data and the model's NLL with and without the cache).
    #[serde(default)]
    pub fitted_on: String,
}

/// One token of a fitting set: each part's probability of it (the model's first) and its
/// class.
#[derive(Debug, Clone, Copy)]
pub struct FitToken {
    pub parts: [f64; COMPONENTS],
    pub class: usize,
}

impl FitToken {
    /// The token `token` as the model (its probability of it and share of each kind) and the
    /// cache see it.
    pub fn new(view: &CacheView, token: u16, model: f64, kind_mass: &[f64; KINDS]) -> FitToken {
        let mut parts = [model; COMPONENTS];
        parts[1..].copy_from_slice(&view.parts(token, model, kind_mass));
        FitToken {
            parts,
            class: view.class(),
        }
    }
}

impl CacheWeights {
    /// No cache (the model alone in every class).
    pub fn none() -> CacheWeights {
        let mut alone = [0.0; COMPONENTS];
        alone[0] = 1.0;
        CacheWeights {
            weights: vec![alone; CLASSES],
            fitted_on: String::new(),
        }
    }

    /// The mixture's probability of a token.
    pub fn mix(&self, t: &FitToken) -> f64 {
        t.parts
            .iter()
            .zip(&self.weights[t.class])
            .map(|(p, w)| p * w)
            .sum()
    }

    /// The weights maximising the mixture's likelihood of `tokens` under a weak prior (EM,
    /// `rounds` rounds from equal weights). The prior, one pseudo-token per part and class,
    /// keeps a class seen a few times near equal weights and every weight above 0: the model
    /// always keeps a share for what the song has not played. A class never seen is the
    /// model alone.
    pub fn fit(tokens: &[FitToken], rounds: usize) -> CacheWeights {
        let mut w = vec![[1.0 / COMPONENTS as f64; COMPONENTS]; CLASSES];
        let mut seen = [0usize; CLASSES];
        tokens.iter().for_each(|t| seen[t.class] += 1);
        for _ in 0..rounds {
            let mut resp = vec![[1.0; COMPONENTS]; CLASSES];
            for t in tokens {
                let wk = &w[t.class];
                let total: f64 = t.parts.iter().zip(wk).map(|(p, w)| p * w).sum();
                if total > 0.0 {
                    for i in 0..COMPONENTS {
                        resp[t.class][i] += wk[i] * t.parts[i] / total;
                    }
                }
            }
            for k in 0..CLASSES {
                let sum: f64 = resp[k].iter().sum();
                w[k] = resp[k].map(|r| r / sum);
            }
        }
        let alone = Self::none().weights[0];
        for k in (0..CLASSES).filter(|&k| seen[k] == 0) {
            w[k] = alone;
        }
        CacheWeights {
            weights: w,
            fitted_on: String::new(),
        }
    }

    /// Mean NLL per token of the mixture on `tokens`.
    pub fn mean_nll(&self, tokens: &[FitToken]) -> f64 {
        let total: f64 = tokens.iter().map(|t| -self.mix(t).ln()).sum();
        total / tokens.len().max(1) as f64
    }

    /// `dir/song_cache.json` if the folder has one.
    pub fn load(dir: &Path) -> Result<Option<CacheWeights>> {
        let path = dir.join(FILE_NAME);
        if !path.exists() {
            return Ok(None);
        }
        let refit = |what: String| {
            Error::format(
                &path,
                format!(
                    "{what}; refit it with `nesmm fit-cache --model {}`",
                    dir.display()
                ),
            )
        };
        let bytes = crate::io::read_file(&path)?;
        let w: CacheWeights = serde_json::from_slice(&bytes)
            .map_err(|e| refit(format!("not song cache weights ({e})")))?;
        let valid = |w: &[f64; COMPONENTS]| {
            w.iter().all(|x| (0.0..=1.0).contains(x)) && (w.iter().sum::<f64>() - 1.0).abs() < 1e-6
        };
        if w.weights.len() != CLASSES || !w.weights.iter().all(valid) {
            return Err(refit(format!(
                "needs {CLASSES} classes of {COMPONENTS} weights in [0, 1] summing to 1"
            )));
        }
        Ok(Some(w))
    }

    /// Writes `dir/song_cache.json` (atomically).
    pub fn save(&self, dir: &Path) -> Result<()> {
        let json = serde_json::to_string_pretty(self).expect("plain data");
        crate::io::write_atomic(dir.join(FILE_NAME), json.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::models::song_cache::{SongCache, NO_MATCH, PARTS};

    #[test]
    fn em_trusts_the_parts_that_are_right_and_the_mixture_never_loses() {
        // Class 23 (long unanimous matches): the longest match is right 90% of the time, the
        // others never; the model gives the token 0.1. Class 0: only the model is ever right.
        let mut tokens = Vec::new();
        for i in 0..1000 {
            let hit = if i % 10 == 0 { 0.0 } else { 1.0 };
            let mut parts = [0.0; COMPONENTS];
            parts[0] = 0.1;
            (parts[1], parts[2]) = (hit, hit);
            tokens.push(FitToken { parts, class: 23 });
            let mut parts = [0.0; COMPONENTS];
            parts[0] = 0.2;
            tokens.push(FitToken { parts, class: 0 });
        }
        let w = CacheWeights::fit(&tokens, 50);
        let long = w.weights[23];
        assert!(long[1] + long[2] > 0.85, "{long:?}");
        assert!(long[3] < 0.01 && long[COMPONENTS - 1] < 0.01, "{long:?}");
        assert!(w.weights[0][0] > 0.99, "{:?}", w.weights[0]);
        assert_eq!(w.weights[5], CacheWeights::none().weights[5]);
        assert_eq!(w.weights[NO_MATCH], CacheWeights::none().weights[NO_MATCH]);
        for k in 0..CLASSES {
            assert!((w.weights[k].iter().sum::<f64>() - 1.0).abs() < 1e-9);
        }
        assert!(w.mean_nll(&tokens) < CacheWeights::none().mean_nll(&tokens) - 0.5);
    }

    #[test]
    fn a_token_of_a_song_mixes_the_model_with_every_part() {
        let mut c = SongCache::new();
        [4u16, 9, 9, 4, 9, 9, 4, 9].iter().for_each(|&t| c.push(t));
        let view = c.view();
        assert_eq!(view.prediction.as_ref().unwrap().order(), 5);
        let mass = [1.0 / KINDS as f64; KINDS];
        let t = FitToken::new(&view, 9, 0.1, &mass);
        assert_eq!(t.class, view.class());
        assert_eq!(t.parts[0], 0.1);
        // The stream parts: "9 9 4 9" then 9 every time.
        assert_eq!(t.parts[1], 1.0);
        let mut w = CacheWeights::none();
        w.weights[t.class] = [1.0 / COMPONENTS as f64; COMPONENTS];
        let want: f64 = t.parts.iter().sum::<f64>() / COMPONENTS as f64;
        assert!((w.mix(&t) - want).abs() < 1e-12);
        assert_eq!(PARTS + 5, COMPONENTS);
    }

    #[test]
    fn the_whole_vocabulary_mix_of_sampling_is_every_tokens_mix_of_scoring() {
        use crate::learn::data::coding::Coding;
        use crate::learn::models::kind_cache::kind_masses;
        let vocab = Coding::Notes.vocab();
        let (mut c, mut x) = (SongCache::new(), 11u32);
        let mut next = || {
            x = x.wrapping_mul(1103515245).wrapping_add(12345);
            x >> 16
        };
        for i in 0..200 {
            // A riff over a few tokens of several kinds, now and then another token.
            let t = match next() % 5 {
                0 => 1 + (next() as usize % (vocab - 1)) as u16,
                _ => [40u16, 7, 300, 7, 41, 355, 120][i % 7],
            };
            c.push(t);
        }
        let view = c.view();
        let model: Vec<f64> = (0..vocab).map(|_| 1.0 + (next() % 9) as f64).collect();
        let z: f64 = model.iter().sum();
        let model: Vec<f64> = model.iter().map(|p| p / z).collect();
        let mass = kind_masses(&model);
        let mut w = CacheWeights::none();
        let mut draw = [0.0; COMPONENTS];
        draw.iter_mut().for_each(|d| *d = 1.0 + (next() % 5) as f64);
        let s: f64 = draw.iter().sum();
        w.weights[view.class()] = draw.map(|d| d / s);
        let mixed = view.mix(&w.weights[view.class()], &model, &mass);
        for (t, &got) in mixed.iter().enumerate() {
            let want = w.mix(&FitToken::new(&view, t as u16, model[t], &mass));
            assert!(
                (got - want).abs() < 1e-12,
                "token {t}: {got} against {want}"
            );
        }
        assert!((mixed.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }
}
