//! An event model mixed with the song cache ([`crate::learn::models::song_cache`]), as a scorer
//! like any other, and the fitting set its weights are fitted on.

use super::event_eval::{code_songs, EventScorer};
use crate::learn::data::coding::Coding;
use crate::learn::models::song_cache::{CacheWeights, FitToken, SongCache};
use crate::score::Frame;
use std::collections::HashMap;
use std::sync::Mutex;

/// `inner` mixed with the song cache by `weights`.
pub struct CachedScorer<'a> {
    pub inner: &'a dyn EventScorer,
    pub weights: &'a CacheWeights,
}

impl EventScorer for CachedScorer<'_> {
    fn log_probs(&self, tokens: &[u16]) -> Vec<f64> {
        let mut cache = SongCache::new();
        let model = self.inner.log_probs(tokens);
        model
            .iter()
            .zip(tokens.windows(2))
            .map(|(&lp, w)| {
                cache.push(w[0]);
                self.weights
                    .mix_log_prob(lp, cache.predict().as_ref(), w[1])
            })
            .collect()
    }
}

/// `inner`, remembering each song's scores: the same model is scored with and without its
/// cache for the cost of one pass.
pub struct MemoScorer<'a> {
    inner: &'a dyn EventScorer,
    memo: Mutex<HashMap<Vec<u16>, Vec<f64>>>,
}

impl<'a> MemoScorer<'a> {
    pub fn new(inner: &'a dyn EventScorer) -> MemoScorer<'a> {
        MemoScorer {
            inner,
            memo: Mutex::new(HashMap::new()),
        }
    }
}

impl EventScorer for MemoScorer<'_> {
    fn log_probs(&self, tokens: &[u16]) -> Vec<f64> {
        if let Some(v) = self.memo.lock().expect("memo").get(tokens) {
            return v.clone();
        }
        let v = self.inner.log_probs(tokens);
        self.memo
            .lock()
            .expect("memo")
            .insert(tokens.to_vec(), v.clone());
        v
    }
}

/// Every token of `songs` (coded by [`code_songs`]) with a cache
/// prediction: the model's probability, the cache's and its class. Tokens the cache has no
/// prediction for are left out (their mixture is the model alone).
pub fn fit_tokens(
    scorer: &dyn EventScorer,
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
                    let mut out = Vec::new();
                    for tokens in coded.iter().skip(k).step_by(threads) {
                        let mut cache = SongCache::new();
                        for (lp, w) in scorer.log_probs(tokens).iter().zip(tokens.windows(2)) {
                            cache.push(w[0]);
                            if let Some(p) = cache.predict() {
                                out.push(FitToken {
                                    model: lp.exp(),
                                    cache: p.probs(w[1]),
                                    class: p.class(),
                                });
                            }
                        }
                    }
                    out
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
    use crate::learn::eval::event_eval::{evaluate, UniformScorer};

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
