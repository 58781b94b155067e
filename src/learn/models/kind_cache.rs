//! The song cache's per-kind n-grams: for each kind of token (each voice's note-ons, the
//! note-offs, the waits, ...: [`kind`]), the song's own stream of tokens of that kind so far,
//! and what followed each context of the last 0 to 3 of them. A voice's line, the rhythm of the
//! waits and a drum pattern repeat within a song even when the four voices together do not,
//! which the whole-stream matches of [`super::song_cache`] miss.
//!
//! Part `n` predicts a token `x` of kind `k` as `P_model(k) * c(x) / c`: the model's share of
//! kind `k` at this point, spread over the kind's tokens as they followed the kind's last `n`
//! tokens earlier in the song (the next shorter context when that one never occurred before).
//! A kind the song has not played yet keeps the model's own spread. Each part sums to 1 over
//! the vocabulary, so mixing it in keeps a distribution.

use crate::learn::data::coding::{kind, KINDS};
use std::collections::HashMap;

/// The contexts: the last 0, 1, 2 and 3 tokens of the kind.
pub const KIND_ORDERS: usize = 4;

/// Counts of the tokens that followed one context.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Followers {
    pub counts: Vec<(u16, u32)>,
    pub total: u32,
}

impl Followers {
    /// Counts one more `t`.
    pub fn add(&mut self, t: u16) {
        match self.counts.iter_mut().find(|(u, _)| *u == t) {
            Some((_, c)) => *c += 1,
            None => self.counts.push((t, 1)),
        }
        self.total += 1;
    }

    /// The share of `t`.
    pub fn share(&self, t: u16) -> f64 {
        self.counts
            .iter()
            .find(|(u, _)| *u == t)
            .map_or(0.0, |&(_, c)| c as f64 / self.total as f64)
    }
}

/// A context: the kind, its length and its tokens (unused ones 0).
type Context = (u8, u8, [u16; KIND_ORDERS - 1]);

/// Each kind's stream and the followers of its contexts.
#[derive(Debug, Clone, Default)]
pub struct KindCache {
    streams: [Vec<u16>; KINDS],
    followers: HashMap<Context, Followers>,
}

impl KindCache {
    /// The context of the last `n` tokens of kind `k`, if the kind has that many.
    fn context(&self, k: usize, n: usize) -> Option<Context> {
        let s = &self.streams[k];
        if s.len() < n {
            return None;
        }
        let mut c = [0u16; KIND_ORDERS - 1];
        c[..n].copy_from_slice(&s[s.len() - n..]);
        Some((k as u8, n as u8, c))
    }

    /// Appends a token.
    pub fn push(&mut self, t: u16) {
        let k = kind(t);
        for n in 0..KIND_ORDERS {
            if let Some(c) = self.context(k, n) {
                self.followers.entry(c).or_default().add(t);
            }
        }
        self.streams[k].push(t);
    }

    /// For each kind and part, the followers it predicts from (the longest context up to the
    /// part's that occurred before), or `None` for a kind not played yet.
    pub fn tables(&self) -> [[Option<&Followers>; KIND_ORDERS]; KINDS] {
        std::array::from_fn(|k| {
            let mut best = None;
            std::array::from_fn(|n| {
                if let Some(f) = self.context(k, n).and_then(|c| self.followers.get(&c)) {
                    best = Some(f);
                }
                best
            })
        })
    }

    /// Each part's probability of `t`, given the model's probability of `t` and its share of
    /// each kind here.
    pub fn probs(&self, t: u16, model: f64, kind_mass: &[f64; KINDS]) -> [f64; KIND_ORDERS] {
        Self::probs_from(&self.tables(), t, model, kind_mass)
    }

    /// [`KindCache::probs`] from tables already built.
    pub fn probs_from(
        tables: &[[Option<&Followers>; KIND_ORDERS]; KINDS],
        t: u16,
        model: f64,
        kind_mass: &[f64; KINDS],
    ) -> [f64; KIND_ORDERS] {
        let k = kind(t);
        tables[k].map(|f| f.map_or(model, |f| kind_mass[k] * f.share(t)))
    }
}

/// Adds `weights[n]` times part `n`'s distribution over the whole vocabulary to `out`:
/// [`KindCache::probs_from`] for every token at once, in one pass over the vocabulary and the
/// followers (sampling needs every token's probability).
pub fn add_parts(
    tables: &[[Option<&Followers>; KIND_ORDERS]; KINDS],
    weights: &[f64; KIND_ORDERS],
    probs: &[f64],
    kind_mass: &[f64; KINDS],
    out: &mut [f64],
) {
    for (t, (o, &p)) in out.iter_mut().zip(probs).enumerate() {
        let k = kind(t as u16);
        let missing: f64 = (0..KIND_ORDERS)
            .filter(|&n| tables[k][n].is_none())
            .map(|n| weights[n])
            .sum();
        *o += missing * p;
    }
    for (k, parts) in tables.iter().enumerate() {
        for (f, w) in parts.iter().zip(weights) {
            if let Some(f) = f {
                for &(t, c) in &f.counts {
                    out[t as usize] += w * kind_mass[k] * c as f64 / f.total as f64;
                }
            }
        }
    }
}

/// The model's probability of each kind, from its probabilities of the tokens.
pub fn kind_masses(probs: &[f64]) -> [f64; KINDS] {
    let mut m = [0.0; KINDS];
    for (t, p) in probs.iter().enumerate() {
        m[kind(t as u16)] += p;
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::data::coding::Coding;
    use crate::learn::data::events::{Event, EventVocab};
    use crate::score::Voice;

    fn on(v: Voice, p: u8) -> u16 {
        EventVocab::id(Event::NoteOn(v, p)).unwrap()
    }

    fn wait(n: u16) -> u16 {
        EventVocab::id(Event::Wait(n)).unwrap()
    }

    #[test]
    fn each_kind_is_predicted_from_its_own_stream() {
        // P1 plays 60 62 64 60 62 while the triangle and the waits change in between.
        let mut c = KindCache::default();
        let song = [
            on(Voice::Pulse1, 60),
            wait(6),
            on(Voice::Pulse1, 62),
            on(Voice::Triangle, 40),
            wait(3),
            on(Voice::Pulse1, 64),
            wait(6),
            on(Voice::Pulse1, 60),
            on(Voice::Triangle, 45),
            wait(3),
            on(Voice::Pulse1, 62),
        ];
        song.iter().for_each(|&t| c.push(t));
        let mass = [0.5, 0.0, 0.1, 0.0, 0.0, 0.4, 0.0, 0.0];
        let next = on(Voice::Pulse1, 64);
        let p = c.probs(next, 0.01, &mass);
        // Unigram: 64 is 1 of P1's 5 notes; after 62: 64 once of once; after 60 62: 64 always.
        assert!((p[0] - 0.5 / 5.0).abs() < 1e-12, "{p:?}");
        assert!(
            (p[1] - 0.5).abs() < 1e-12 && (p[2] - 0.5).abs() < 1e-12,
            "{p:?}"
        );
        // "64 60 62" never occurred: the 3-token part falls back to the 2-token one.
        assert!((p[3] - 0.5).abs() < 1e-12, "{p:?}");
        // The noise never played: the model's own probability.
        assert_eq!(
            c.probs(on(Voice::Noise, 3), 0.02, &mass),
            [0.02; KIND_ORDERS]
        );
        // The waits went 6 3 6 3: after a 3 came a 6.
        assert!((c.probs(wait(6), 0.0, &mass)[1] - 0.4).abs() < 1e-12);
        assert_eq!(c.probs(wait(3), 0.0, &mass)[1], 0.0);
    }

    #[test]
    fn every_part_sums_to_one_over_the_vocabulary() {
        let mut c = KindCache::default();
        let mut x = 3u32;
        let vocab = Coding::Notes.vocab();
        for _ in 0..300 {
            x = x.wrapping_mul(1103515245).wrapping_add(12345);
            c.push(2 + ((x >> 16) % 40) as u16 * 7 % (vocab as u16 - 2));
        }
        // Any model distribution over the tokens after START.
        let model: Vec<f64> = (0..vocab)
            .map(|t| if t == 0 { 0.0 } else { 1.0 + (t % 5) as f64 })
            .collect();
        let z: f64 = model.iter().sum();
        let model: Vec<f64> = model.iter().map(|p| p / z).collect();
        let mass = kind_masses(&model);
        let tables = c.tables();
        let mut sums = [0.0; KIND_ORDERS];
        for (t, &p) in model.iter().enumerate() {
            let parts = KindCache::probs_from(&tables, t as u16, p, &mass);
            (0..KIND_ORDERS).for_each(|n| sums[n] += parts[n]);
        }
        for s in sums {
            assert!((s - 1.0).abs() < 1e-9, "{sums:?}");
        }
    }
}
