//! An event model mixed with the song cache ([`crate::learn::models::song_cache`]), as a scorer
//! like any other, and the fitting set its weights are fitted on.

use super::event_eval::{code_songs, EventScorer, TransformerScorer, UniformScorer};
use crate::learn::data::coding::{kind, Coding, KINDS};
use crate::learn::models::cache_weights::{CacheWeights, FitToken};
use crate::learn::models::kind_cache::kind_masses;
use crate::learn::models::song_cache::SongCache;
use crate::learn::models::transformer_decoder::softmax;
use crate::score::Frame;
use std::collections::HashMap;
use std::sync::Mutex;

/// A token's score: the model's log-probability of it, and its share of each kind of token
/// there (the cache's per-kind parts are scaled by it).
pub type TokenScore = (f64, [f64; KINDS]);

/// A model that gives, beside each token's log-probability, its share of each kind.
pub trait KindScorer: EventScorer {
    /// For `i` in `1..len`: `ln p(tokens[i] | tokens[..i])` and the kind shares there.
    fn scores(&self, tokens: &[u16]) -> Vec<TokenScore>;
}

// The Transformer's one pass over a song: its log-probabilities are the first half of its
// scores (here rather than in event_eval, which this module builds on).
impl EventScorer for TransformerScorer<'_> {
    fn log_probs(&self, tokens: &[u16]) -> Vec<f64> {
        self.scores(tokens).iter().map(|s| s.0).collect()
    }
}

impl KindScorer for TransformerScorer<'_> {
    fn scores(&self, tokens: &[u16]) -> Vec<TokenScore> {
        let mut state = self.decoder.start(self.window);
        let mut logits = Vec::new();
        let mut out = Vec::with_capacity(tokens.len());
        for w in tokens.windows(2) {
            self.decoder.step(&mut state, w[0], &mut logits);
            let probs = softmax(&logits);
            out.push((probs[w[1] as usize].ln(), kind_masses(&probs)));
        }
        out
    }
}

impl KindScorer for UniformScorer {
    fn scores(&self, tokens: &[u16]) -> Vec<TokenScore> {
        let n = self.0.vocab() - 1;
        let mut mass = [0.0; KINDS];
        (1..=n).for_each(|t| mass[kind(t as u16)] += 1.0 / n as f64);
        self.log_probs(tokens)
            .into_iter()
            .map(|lp| (lp, mass))
            .collect()
    }
}

/// `inner` mixed with the song cache by `weights`.
pub struct CachedScorer<'a> {
    pub inner: &'a dyn KindScorer,
    pub weights: &'a CacheWeights,
}

impl EventScorer for CachedScorer<'_> {
    fn log_probs(&self, tokens: &[u16]) -> Vec<f64> {
        fit_set(self.inner, tokens)
            .iter()
            .map(|t| self.weights.mix(t).ln())
            .collect()
    }
}

/// Each token of a song after START as the model and the cache see it.
fn fit_set(scorer: &dyn KindScorer, tokens: &[u16]) -> Vec<FitToken> {
    let mut cache = SongCache::new();
    scorer
        .scores(tokens)
        .iter()
        .zip(tokens.windows(2))
        .map(|(&(lp, mass), w)| {
            cache.push(w[0]);
            FitToken::new(&cache.view(), w[1], lp.exp(), &mass)
        })
        .collect()
}

/// `inner`, remembering each song's scores: the same model is scored with and without its
/// cache for the cost of one pass.
pub struct MemoScorer<'a> {
    inner: &'a dyn KindScorer,
    memo: Mutex<HashMap<Vec<u16>, Vec<TokenScore>>>,
}

impl<'a> MemoScorer<'a> {
    pub fn new(inner: &'a dyn KindScorer) -> MemoScorer<'a> {
        MemoScorer {
            inner,
            memo: Mutex::new(HashMap::new()),
        }
    }
}

impl EventScorer for MemoScorer<'_> {
    fn log_probs(&self, tokens: &[u16]) -> Vec<f64> {
        self.scores(tokens).iter().map(|s| s.0).collect()
    }
}

impl KindScorer for MemoScorer<'_> {
    fn scores(&self, tokens: &[u16]) -> Vec<TokenScore> {
        if let Some(v) = self.memo.lock().expect("memo").get(tokens) {
            return v.clone();
        }
        let v = self.inner.scores(tokens);
        self.memo
            .lock()
            .expect("memo")
            .insert(tokens.to_vec(), v.clone());
        v
    }
}

/// Every token of `songs` (coded by [`code_songs`]) as the model and the cache see it.
pub fn fit_tokens(
    scorer: &dyn KindScorer,
    coding: Coding,
    songs: &[Vec<Frame>],
    threads: usize,
) -> Vec<FitToken> {
    let coded = code_songs(coding, songs);
    let threads = threads.max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                let coded = &coded;
                scope.spawn(move || {
                    coded
                        .iter()
                        .skip(k)
                        .step_by(threads)
                        .flat_map(|tokens| fit_set(scorer, tokens))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("scoring thread"))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::data::coding;
    use crate::learn::eval::event_eval::evaluate;

    #[test]
    fn a_fitted_cache_halves_the_cost_of_a_looping_song_under_a_uniform_model() {
        // A 2-bar riff played 8 times: after its first pass the cache knows every token.
        let bar: Vec<[u8; 4]> = [60u8, 0, 64, 0, 67, 67, 0, 72]
            .iter()
            .flat_map(|&p| [[p, 40, 0, if p == 0 { 0 } else { 5 }]; 3])
            .collect();
        let song = coding::frames_of_notes(&bar.repeat(8));
        let songs = vec![song];
        let uniform = UniformScorer(Coding::Notes);
        let tokens = fit_tokens(&uniform, Coding::Notes, &songs, 1);
        assert!(!tokens.is_empty());
        let w = CacheWeights::fit(&tokens, 30);
        let plain = evaluate("u", &uniform, Coding::Notes, &songs, 1);
        let cached = evaluate(
            "u+cache",
            &CachedScorer {
                inner: &uniform,
                weights: &w,
            },
            Coding::Notes,
            &songs,
            1,
        );
        assert_eq!(plain.tokens, cached.tokens);
        assert!(
            cached.nats_per_second < 0.5 * plain.nats_per_second,
            "{} against {}",
            cached.nats_per_second,
            plain.nats_per_second
        );
        // No weights: exactly the model.
        let none = CacheWeights::none();
        let same = evaluate(
            "u",
            &CachedScorer {
                inner: &uniform,
                weights: &none,
            },
            Coding::Notes,
            &songs,
            1,
        );
        assert!((same.nats_per_second - plain.nats_per_second).abs() < 1e-9);
    }
}
