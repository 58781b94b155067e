//! The song cache: a prediction of a song's next token from the song's own past, mixed into an
//! event model's prediction. NES music repeats itself (bars, drum patterns, whole loops), and
//! an event model of this machine's size barely learns to copy: the cache copies exactly.
//!
//! The cache finds the longest run of tokens ending the song so far that also occurred earlier
//! in the song (`L` tokens, at most [`MAX_ORDER`]), and predicts what followed its earlier
//! occurrences, in proportion to how often each token followed; it predicts the same from the
//! shorter runs of `L/2`, `L/4`, `L/8` and 1 tokens (more occurrences, less context). The
//! cache also predicts each kind of token from the song's earlier tokens of that kind
//! ([`super::kind_cache`]). The mixture is `p = w_0 p_model + w_1 p_L + ... + w_5 p_1 + w_6
//! p_kind0 + ... + w_9 p_kind3`, where the weights depend on how long the match is and on
//! whether its occurrences agree ([`super::cache_weights::CacheWeights`], fitted by EM on the
//! valid split). Every part is a distribution over the vocabulary and the weights sum to 1, so
//! the mixture is one too: its NLL is a likelihood like any model's.
//!
//! This is Grave, Joulin and Usunier's continuous cache ("Improving neural language models with
//! a continuous cache", ICLR 2017) with exact-match contexts in place of hidden-state
//! similarity, and per-kind n-grams in the manner of PPM.

use super::kind_cache::{self, Followers, KindCache, KIND_ORDERS};
use crate::learn::data::coding::KINDS;
use std::collections::HashMap;

/// The longest match the cache tracks, in tokens (about 2 s of music).
pub const MAX_ORDER: usize = 64;

/// Upper ends of the match-length classes that get a weight of their own.
const ORDER_CLASSES: [usize; 12] = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, MAX_ORDER];

/// The cache's predictions from the whole stream: from the longest match and from shorter ones.
pub const PARTS: usize = 5;

/// The parts of the mixture: the model, the stream parts, the per-kind parts.
pub const COMPONENTS: usize = 1 + PARTS + KIND_ORDERS;

/// The classes of predictions with weights of their own: by match length and agreement, and
/// one for no match at all ([`NO_MATCH`]).
pub const CLASSES: usize = 2 * ORDER_CLASSES.len() + 1;

/// The class of a token whose previous token never occurred before in the song.
pub const NO_MATCH: usize = CLASSES - 1;

/// The longest match length of class `class` ([`CachePrediction::class`]; 0 for
/// [`NO_MATCH`]).
pub fn class_max_order(class: usize) -> usize {
    match class {
        NO_MATCH => 0,
        c => ORDER_CLASSES[c / 2],
    }
}

/// What followed earlier occurrences of one run of tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct Continuations {
    /// The run's length.
    pub order: usize,
    /// Each token that followed it, and how often.
    pub followers: Followers,
}

impl Continuations {
    /// The probability of `token`.
    pub fn prob(&self, token: u16) -> f64 {
        self.followers.share(token)
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
        self.parts[0].followers.counts.len() == 1
    }

    /// The index of its weights in [`super::cache_weights::CacheWeights::weights`].
    pub fn class(&self) -> usize {
        let order = ORDER_CLASSES
            .iter()
            .position(|&o| self.order() <= o)
            .unwrap_or(ORDER_CLASSES.len() - 1);
        2 * order + usize::from(self.unanimous())
    }
}

/// A song's tokens so far, the positions that continue its matches, and its per-kind streams.
#[derive(Debug, Clone, Default)]
pub struct SongCache {
    tokens: Vec<u16>,
    kinds: KindCache,
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
        self.kinds.push(token);
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

    /// What the cache predicts for the next token, ready to give each token's parts.
    pub fn view(&self) -> CacheView<'_> {
        CacheView {
            prediction: self.predict(),
            tables: self.kinds.tables(),
        }
    }

    /// What followed the earlier occurrences of the song's last `order` tokens.
    fn continuations(&self, order: usize) -> Continuations {
        let mut followers = Followers::default();
        for &j in &self.matches[order - 1] {
            followers.add(self.tokens[j as usize]);
        }
        Continuations { order, followers }
    }
}

/// The cache's prediction of the next token: the stream parts and the per-kind tables.
pub struct CacheView<'a> {
    pub prediction: Option<CachePrediction>,
    tables: [[Option<&'a Followers>; KIND_ORDERS]; KINDS],
}

impl CacheView<'_> {
    /// The class of the prediction.
    pub fn class(&self) -> usize {
        self.prediction.as_ref().map_or(NO_MATCH, |p| p.class())
    }

    /// The probability of `token` under each part but the model's (`COMPONENTS - 1`), given
    /// the model's probability of it and its share of each kind.
    pub fn parts(&self, token: u16, model: f64, kind_mass: &[f64; KINDS]) -> [f64; COMPONENTS - 1] {
        let mut out = [0.0; COMPONENTS - 1];
        if let Some(p) = &self.prediction {
            out[..PARTS].copy_from_slice(&p.probs(token));
        }
        out[PARTS..].copy_from_slice(&KindCache::probs_from(
            &self.tables,
            token,
            model,
            kind_mass,
        ));
        out
    }

    /// The mixture by `weights` (this prediction's class's, [`Self::class`]) of the model's
    /// `probs` and the cache's parts, over the whole vocabulary: for each token the same sum
    /// as [`super::cache_weights::CacheWeights::mix`] of its [`Self::parts`], built from the
    /// parts' followers instead of token by token.
    pub fn mix(
        &self,
        weights: &[f64; COMPONENTS],
        probs: &[f64],
        kind_mass: &[f64; KINDS],
    ) -> Vec<f64> {
        let mut out: Vec<f64> = probs.iter().map(|p| weights[0] * p).collect();
        if let Some(p) = &self.prediction {
            for (part, w) in p.parts.iter().zip(&weights[1..]) {
                for &(t, c) in &part.followers.counts {
                    out[t as usize] += w * c as f64 / part.followers.total as f64;
                }
            }
        }
        let kind_weights: &[f64; KIND_ORDERS] = weights[1 + PARTS..].try_into().expect("sizes");
        kind_cache::add_parts(&self.tables, kind_weights, probs, kind_mass, &mut out);
        out
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
        assert_eq!(p.parts[0].followers.total, 2);
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
                let mut got = part.followers.counts.clone();
                got.sort();
                assert_eq!(got, followers(song, part.order), "after token {i}");
                assert_eq!(part.followers.total, got.iter().map(|c| c.1).sum::<u32>());
            }
        }
        assert!(long_matches > 20, "{long_matches}");
    }
}
