//! The song cache: a prediction of a song's next token from the song's own past, mixed into an
//! event model's prediction. NES music repeats itself (bars, drum patterns, whole loops), and
//! an event model of this machine's size barely learns to copy: the cache copies exactly.
//!
//! The cache finds the longest run of tokens ending the song so far that also occurred earlier
//! in the song (`L` tokens, at most [`MAX_ORDER`]), and predicts what followed its earlier
//! occurrences, in proportion to how often each token followed; it predicts the same from the
//! shorter runs of `L/2`, `L/4`, `L/8` and 1 tokens (more occurrences, less context). The
//! mixture is `p = w_0 p_model + w_1 p_L + ... + w_5 p_1`, where the weights depend on how long
//! the match is and on whether its occurrences agree ([`CacheWeights`], fitted by EM on the
//! valid split). Every part is a distribution over the vocabulary and the weights sum to 1, so
//! the mixture is one too: its NLL is a likelihood like any model's. This is Grave, Joulin and Usunier's continuous cache ("Improving neural
//! language models with a continuous cache", ICLR 2017) with exact-match contexts in place of
//! hidden-state similarity.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// The longest match the cache tracks, in tokens (about 2 s of music).
pub const MAX_ORDER: usize = 64;

/// Upper ends of the match-length classes that get a weight of their own.
const ORDER_CLASSES: [usize; 12] = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, MAX_ORDER];

/// The cache's predictions: from the longest match and from shorter ones.
pub const PARTS: usize = 5;

/// The file a model folder keeps its fitted weights in.
pub const FILE_NAME: &str = "song_cache.json";

/// The longest match length of class `class` ([`CachePrediction::class`]).
pub fn class_max_order(class: usize) -> usize {
    ORDER_CLASSES[(class / 2).min(ORDER_CLASSES.len() - 1)]
}

/// What followed earlier occurrences of one run of tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct Continuations {
    /// The run's length.
    pub order: usize,
    /// Each token that followed it, and how often.
    pub counts: Vec<(u16, u32)>,
    pub total: u32,
}

impl Continuations {
    /// The probability of `token`.
    pub fn prob(&self, token: u16) -> f64 {
        self.counts
            .iter()
            .find(|(t, _)| *t == token)
            .map_or(0.0, |&(_, c)| c as f64 / self.total as f64)
    }
}

/// What the cache predicts for the next token.
#[derive(Debug, Clone, PartialEq)]
pub struct CachePrediction {
    /// From the longest match (`parts[0]`, `L` tokens), then `L/2`, `L/4`, `L/8` (rounded up)
    /// and 1 token.
    pub parts: [Continuations; PARTS],
}

impl CachePrediction {
    /// Length of the longest earlier match (1..=[`MAX_ORDER`]).
    pub fn order(&self) -> usize {
        self.parts[0].order
    }

    /// Each part's probability of `token`.
    pub fn probs(&self, token: u16) -> [f64; PARTS] {
        std::array::from_fn(|i| self.parts[i].prob(token))
    }

    /// Whether every earlier occurrence of the longest match was followed by the same token.
    pub fn unanimous(&self) -> bool {
        self.parts[0].counts.len() == 1
    }

    /// The index of its weights in [`CacheWeights::weights`].
    pub fn class(&self) -> usize {
        let order = ORDER_CLASSES
            .iter()
            .position(|&o| self.order() <= o)
            .unwrap_or(ORDER_CLASSES.len() - 1);
        2 * order + usize::from(self.unanimous())
    }
}

/// A song's tokens so far and the positions that continue its matches.
#[derive(Debug, Clone, Default)]
pub struct SongCache {
    tokens: Vec<u16>,
    /// For each token, the positions right after each of its occurrences.
    after: HashMap<u16, Vec<u32>>,
    /// `matches[k - 1]`: positions `j` whose `k` tokens before equal the song's last `k`.
    matches: Vec<Vec<u32>>,
}

impl SongCache {
    pub fn new() -> SongCache {
        SongCache::default()
    }

    /// Appends a token.
    pub fn push(&mut self, token: u16) {
        let mut next = Vec::with_capacity(self.matches.len() + 1);
        let once = self.after.get(&token).cloned().unwrap_or_default();
        if !once.is_empty() {
            next.push(once);
            for m in self.matches.iter().take(MAX_ORDER - 1) {
                let longer: Vec<u32> = m
                    .iter()
                    .filter(|&&j| self.tokens[j as usize] == token)
                    .map(|&j| j + 1)
                    .collect();
                if longer.is_empty() {
                    break;
                }
                next.push(longer);
            }
        }
        self.matches = next;
        self.tokens.push(token);
        self.after
            .entry(token)
            .or_default()
            .push(self.tokens.len() as u32);
    }

    /// The prediction for the next token, or `None` when the last token never occurred before.
    pub fn predict(&self) -> Option<CachePrediction> {
        let longest = self.matches.iter().take_while(|m| !m.is_empty()).count();
        if longest == 0 {
            return None;
        }
        let orders = [
            longest,
            longest.div_ceil(2),
            longest.div_ceil(4),
            longest.div_ceil(8),
            1,
        ];
        Some(CachePrediction {
            parts: orders.map(|order| self.continuations(order)),
        })
    }

    /// What followed the earlier occurrences of the song's last `order` tokens.
    fn continuations(&self, order: usize) -> Continuations {
        let positions = &self.matches[order - 1];
        let mut counts: Vec<(u16, u32)> = Vec::new();
        for &j in positions {
            let t = self.tokens[j as usize];
            match counts.iter_mut().find(|(u, _)| *u == t) {
                Some((_, c)) => *c += 1,
                None => counts.push((t, 1)),
            }
        }
        Continuations {
            order,
            total: positions.len() as u32,
            counts,
        }
    }
}

/// The mixing weights of the model and the cache's parts for each class of prediction
/// ([`CachePrediction::class`]): `weights[class][0]` the model's, `[1..]` the parts', summing
/// to 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheWeights {
    pub weights: Vec<[f64; PARTS + 1]>,
    /// How the weights were fitted (the data and the model's NLL with and without the cache).
    #[serde(default)]
    pub fitted_on: String,
}

/// One token of a fitting set: the model's probability, the cache parts', and the class.
#[derive(Debug, Clone, Copy)]
pub struct FitToken {
    pub model: f64,
    pub cache: [f64; PARTS],
    pub class: usize,
}

impl FitToken {
    fn parts(&self) -> [f64; PARTS + 1] {
        let mut p = [self.model; PARTS + 1];
        p[1..].copy_from_slice(&self.cache);
        p
    }
}

impl CacheWeights {
    /// The number of classes.
    pub fn classes() -> usize {
        2 * ORDER_CLASSES.len()
    }

    /// No cache (the model alone in every class).
    pub fn none() -> CacheWeights {
        let mut alone = [0.0; PARTS + 1];
        alone[0] = 1.0;
        CacheWeights {
            weights: vec![alone; Self::classes()],
            fitted_on: String::new(),
        }
    }

    /// `ln p(token)` of the mixture, given the model's `ln p(token)`.
    pub fn mix_log_prob(
        &self,
        model_log_prob: f64,
        p: Option<&CachePrediction>,
        token: u16,
    ) -> f64 {
        let Some(p) = p else {
            return model_log_prob;
        };
        let w = &self.weights[p.class()];
        let cache: f64 = p.probs(token).iter().zip(&w[1..]).map(|(p, w)| p * w).sum();
        (w[0] * model_log_prob.exp() + cache).ln()
    }

    /// The weights maximising the mixture's likelihood of `tokens` under a weak prior (EM,
    /// `rounds` rounds from equal weights). The prior, one pseudo-token per part and class,
    /// keeps a class seen a few times near equal weights and every weight above 0: the model
    /// always keeps a share for what the song has not played. A class never seen is the
    /// model alone.
    pub fn fit(tokens: &[FitToken], rounds: usize) -> CacheWeights {
        let n = Self::classes();
        let mut w = vec![[1.0 / (PARTS + 1) as f64; PARTS + 1]; n];
        let mut seen = vec![0usize; n];
        tokens.iter().for_each(|t| seen[t.class] += 1);
        for _ in 0..rounds {
            let mut resp = vec![[1.0; PARTS + 1]; n];
            for t in tokens {
                let parts = t.parts();
                let wk = &w[t.class];
                let total: f64 = parts.iter().zip(wk).map(|(p, w)| p * w).sum();
                if total > 0.0 {
                    for i in 0..=PARTS {
                        resp[t.class][i] += wk[i] * parts[i] / total;
                    }
                }
            }
            for k in 0..n {
                let sum: f64 = resp[k].iter().sum();
                w[k] = resp[k].map(|r| r / sum);
            }
        }
        for k in (0..n).filter(|&k| seen[k] == 0) {
            w[k] = Self::none().weights[k];
        }
        CacheWeights {
            weights: w,
            fitted_on: String::new(),
        }
    }

    /// Mean NLL per token of the mixture on `tokens`.
    pub fn mean_nll(&self, tokens: &[FitToken]) -> f64 {
        let total: f64 = tokens
            .iter()
            .map(|t| {
                let p: f64 = t
                    .parts()
                    .iter()
                    .zip(&self.weights[t.class])
                    .map(|(p, w)| p * w)
                    .sum();
                -p.ln()
            })
            .sum();
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
        let valid = |w: &[f64; PARTS + 1]| {
            w.iter().all(|x| (0.0..=1.0).contains(x)) && (w.iter().sum::<f64>() - 1.0).abs() < 1e-6
        };
        if w.weights.len() != Self::classes() || !w.weights.iter().all(valid) {
            return Err(refit(format!(
                "needs {} classes of {} weights in [0, 1] summing to 1",
                Self::classes(),
                PARTS + 1
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

    fn cache_of(tokens: &[u16]) -> SongCache {
        let mut c = SongCache::new();
        tokens.iter().for_each(|&t| c.push(t));
        c
    }

    /// What followed earlier occurrences of the song's last `k` tokens, by brute force, sorted.
    fn followers(tokens: &[u16], k: usize) -> Vec<(u16, u32)> {
        let n = tokens.len();
        let mut counts: Vec<(u16, u32)> = Vec::new();
        for j in k..n {
            if tokens[j - k..j] == tokens[n - k..] {
                match counts.iter_mut().find(|(u, _)| *u == tokens[j]) {
                    Some((_, c)) => *c += 1,
                    None => counts.push((tokens[j], 1)),
                }
            }
        }
        counts.sort();
        counts
    }

    #[test]
    fn the_cache_finds_the_longest_earlier_match_and_what_followed() {
        let c = cache_of(&[5, 1, 2, 3, 9, 1, 2, 3, 7, 2, 3]);
        let p = c.predict().unwrap();
        // "2 3" ended the song; "1 2 3" does not (it is "7 2 3"); "2 3" was followed by 9 and 7.
        assert_eq!(p.order(), 2);
        assert_eq!(p.parts[0].total, 2);
        let probs = p.probs(9);
        assert!((probs[0] - 0.5).abs() < 1e-12 && (p.probs(7)[0] - 0.5).abs() < 1e-12);
        assert_eq!(p.probs(3), [0.0; PARTS]);
        assert!(!p.unanimous());
        assert_eq!(p.parts.map(|c| c.order), [2, 1, 1, 1, 1]);
        assert!(cache_of(&[1, 2, 3]).predict().is_none());
    }

    #[test]
    fn the_cache_agrees_with_brute_force_on_a_repetitive_song() {
        let mut tokens = Vec::new();
        let mut x = 7u32;
        for i in 0..400 {
            x = x.wrapping_mul(1103515245).wrapping_add(12345);
            // A 12-token riff, now and then varied, over a small alphabet.
            let t = if (x >> 16).is_multiple_of(7) {
                ((x >> 8) % 6) as u16
            } else {
                [1, 2, 3, 1, 4, 1, 2, 5, 0, 3, 2, 1][i % 12]
            };
            tokens.push(t);
        }
        let mut c = SongCache::new();
        let mut long_matches = 0;
        for (i, &t) in tokens.iter().enumerate() {
            c.push(t);
            let song = &tokens[..=i];
            let longest = (1..=MAX_ORDER.min(i))
                .rev()
                .find(|&k| !followers(song, k).is_empty());
            let Some(p) = c.predict() else {
                assert_eq!(longest, None, "after token {i}");
                continue;
            };
            assert_eq!(Some(p.order()), longest, "after token {i}");
            long_matches += usize::from(p.order() > 16);
            for part in &p.parts {
                let mut got = part.counts.clone();
                got.sort();
                assert_eq!(got, followers(song, part.order), "after token {i}");
                assert_eq!(part.total, got.iter().map(|c| c.1).sum::<u32>());
            }
        }
        assert!(long_matches > 20, "{long_matches}");
    }

    #[test]
    fn em_trusts_the_cache_where_it_is_right_and_the_mixture_never_loses() {
        // Class 23 (long unanimous matches): the longest match is right 90% of the time, the
        // one-token part never; the model gives the token 0.1. Class 0: the cache never right.
        let mut tokens = Vec::new();
        for i in 0..1000 {
            let hit = if i % 10 == 0 { 0.0 } else { 1.0 };
            tokens.push(FitToken {
                model: 0.1,
                cache: [hit, hit, 0.0, 0.0, 0.0],
                class: 23,
            });
            tokens.push(FitToken {
                model: 0.2,
                cache: [0.0; PARTS],
                class: 0,
            });
        }
        let w = CacheWeights::fit(&tokens, 50);
        let long = w.weights[23];
        assert!(long[1] + long[2] > 0.85, "{long:?}");
        assert!(long[3] < 0.01 && long[5] < 0.01, "{long:?}");
        assert!(w.weights[0][0] > 0.99, "{:?}", w.weights[0]);
        assert_eq!(w.weights[5], CacheWeights::none().weights[5]);
        for k in 0..CacheWeights::classes() {
            assert!((w.weights[k].iter().sum::<f64>() - 1.0).abs() < 1e-9);
        }
        assert!(w.mean_nll(&tokens) < CacheWeights::none().mean_nll(&tokens) - 0.5);
        // The mixture of one prediction, from its parts.
        let c = cache_of(&[4, 9, 9, 4, 9, 9, 4, 9]);
        let p = c.predict().unwrap();
        assert_eq!(p.order(), 5);
        let mixed = w.mix_log_prob(0.1f64.ln(), Some(&p), 9).exp();
        let wk = w.weights[p.class()];
        let want = wk[0] * 0.1 + (1..=PARTS).map(|i| wk[i] * p.probs(9)[i - 1]).sum::<f64>();
        assert!((mixed - want).abs() < 1e-12);
    }
}
